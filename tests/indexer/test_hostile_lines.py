"""Issue 12: the CLI indexer gets the API's document checks (xsearch.documents).

A JSONL line with a lone surrogate, NaN, a boolean id, an id no URL can reach
or an integer past 64 bits is a reject with its file and line, never a crash,
and the good lines around it are indexed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.indexer.test_cli import make_home, xsearch
from xsearch.documents import Document
from xsearch.errors import InputError

# (raw JSONL line, what the reject reason must say); JSON escapes written by hand.
BAD_LINES = [
    ('{"id": "s1", "text": "\\ud800 cat"}', "surrogate"),
    ('{"id": "s2", "text": "cat", "title": "\\udfff"}', "surrogate"),
    ('{"id": "s3\\ud83d", "text": "cat"}', "surrogate"),
    ('{"id": "s4", "text": "cat", "metadata": {"k": "\\ud800"}}', "surrogate"),
    ('{"id": "n1", "text": "cat", "metadata": {"year": NaN}}', "finite"),
    ('{"id": "n2", "text": "cat", "score": Infinity}', "finite"),
    ('{"id": true, "text": "an impostor for document 1"}', "boolean"),
    ('{"id": "a\\nb", "text": "cat"}', "control character"),
    ('{"id": "big", "text": "cat", "metadata": {"n": 36893488147419103232}}', "64 bits"),
]


@pytest.mark.parametrize(("line", "reason"), BAD_LINES)
def test_document_from_dict_refuses_what_no_later_stage_can_take(line: str, reason: str) -> None:
    with pytest.raises(InputError, match=reason):
        Document.from_dict(json.loads(line))


def test_hostile_jsonl_lines_are_rejects_with_file_and_line(
    tmp_path: Path, tiny_bundle: Path
) -> None:
    home = make_home(tmp_path, tiny_bundle)
    lines = ['{"id": "1", "text": "the first good document"}']
    lines += [line for line, _ in BAD_LINES]
    lines += ['{"id": "last", "text": "the last good document \\ud83d\\ude00"}']
    src = tmp_path / "hostile.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rejects = tmp_path / "rejects.jsonl"
    out = xsearch(["index", str(src), "-c", "hostile", "--rejects", str(rejects)], home,
                  cwd=tmp_path)  # xsearch() asserts there is no traceback
    assert out.returncode == 1, out.stderr
    assert f"{len(BAD_LINES)} record(s) rejected" in out.stderr, out.stderr
    got = [json.loads(r) for r in rejects.read_text(encoding="utf-8").splitlines()]
    assert [r["line"] for r in got] == list(range(2, 2 + len(BAD_LINES)))
    for r, (_, reason) in zip(got, BAD_LINES, strict=True):
        assert reason in json.dumps(r), r
    stats = xsearch(["stats", "-c", "hostile", "--json"], home)
    assert json.loads(stats.stdout)["documents"] == 2, stats.stdout
