"""Source readers: every format, gzip, stdin, and every kind of bad record."""

from __future__ import annotations

import gzip
import io
import json
import sys
from pathlib import Path

import pytest
from xsearch.indexer.rejects import RAW_KEEP_BYTES, Reject, RejectSink, StrictStop
from xsearch.indexer.shard import Shard, shard_of
from xsearch.indexer.sources import SourceOptions, plan_inputs, read_sources

from xsearch.errors import ConfigError, InputError


def read_all(paths: list[str], **opts: object) -> tuple[list, list[Reject]]:
    options = SourceOptions(**opts)  # type: ignore[arg-type]
    docs, rejects = [], []
    for _f, rec in read_sources(plan_inputs(paths, options), options):
        if rec.doc is not None:
            docs.append((rec.line, rec.doc))
        else:
            rejects.append(rec.reject)
    return docs, rejects


def jsonl(*objs: object) -> bytes:
    return b"".join(json.dumps(o, ensure_ascii=False).encode() + b"\n" for o in objs)


def test_jsonl_plain_and_gzip_read_the_same(tmp_path: Path) -> None:
    data = jsonl(
        {"id": "a", "text": "Hallo Welt", "lang": "DE", "source": "wiki"},
        {"id": 7, "text": "日本語の文", "title": "t", "metadata": {"year": 2020}},
        {"text": "no id: the id comes from the content"},
    )
    (tmp_path / "d.jsonl").write_bytes(data)
    (tmp_path / "d2.jsonl.gz").write_bytes(gzip.compress(data))
    plain, r1 = read_all([str(tmp_path / "d.jsonl")])
    zipped, r2 = read_all([str(tmp_path / "d2.jsonl.gz")])
    assert r1 == r2 == []
    assert [d for _, d in plain] == [d for _, d in zipped]
    (_, a), (_, b), (line, c) = plain
    assert (a.id, a.lang, a.metadata) == ("a", "de", {"source": "wiki"})
    assert (b.id, b.title, b.metadata) == ("7", "t", {"year": 2020})
    assert c.id.startswith("sha256:") and line == 3


def test_jsonl_on_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    stdin = io.TextIOWrapper(io.BytesIO(jsonl({"id": "s1", "text": "from stdin"})))
    monkeypatch.setattr(sys, "stdin", stdin)
    docs, rejects = read_all(["-"])
    assert [d.id for _, d in docs] == ["s1"] and rejects == []


def test_bad_jsonl_lines_are_rejected_with_their_line_numbers(tmp_path: Path) -> None:
    big = "x " * (5 * 1024 * 1024)  # a 10 MB document must pass
    lines = [
        json.dumps({"id": "ok1", "text": "good"}).encode(),
        b'{"id": "broken", "text": "unterminated',
        json.dumps({"id": "notext", "title": "only a title"}).encode(),
        b'{"id": "latin1", "text": "caf\xe9"}',
        b"",  # blank lines are not records
        json.dumps({"id": "big", "text": big}).encode(),
        b"[1, 2]",
        json.dumps({"id": "nested", "text": "t", "metadata": {"a": {"b": 1}}}).encode(),
        json.dumps({"id": "huge", "text": "y" * 3000}).encode(),
        json.dumps({"id": "ok2", "text": "good too"}).encode(),
    ]
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    # 11 MB lets the 10 MB document through; the size limit itself is checked below.
    docs, rejects = read_all([str(path)], max_doc_bytes=11 * 1024 * 1024)
    assert [d.id for _, d in docs] == ["ok1", "big", "huge", "ok2"]
    assert docs[1][1].text == big
    got = {r.line: r for r in rejects}
    assert sorted(got) == [2, 3, 4, 7, 8]
    assert "invalid JSON" in got[2].reason
    assert "missing text field 'text'" in got[3].reason and got[3].doc_id == "notext"
    assert "undecodable bytes for encoding utf-8" in got[4].reason and "--encoding" in got[4].reason
    assert "JSON object" in got[7].reason
    assert "flatten" in got[8].reason
    assert all(r.source == str(path) for r in rejects)

    _, small = read_all([str(path)], max_doc_bytes=2000)
    sizes = {r.line: r.reason for r in small if "above the limit" in r.reason}
    assert sorted(sizes) == [6, 9] and "2000 bytes" in sizes[9] and "--max-doc-bytes" in sizes[9]


def test_encoding_option_reads_latin1(tmp_path: Path) -> None:
    path = tmp_path / "l.jsonl"
    path.write_bytes('{"id": "x", "text": "café"}\n'.encode("latin-1"))
    docs, rejects = read_all([str(path)], encoding="latin-1")
    assert rejects == [] and docs[0][1].text == "café"
    with pytest.raises(ConfigError, match="line by line"):
        SourceOptions(encoding="utf-16")
    with pytest.raises(ConfigError, match="unknown encoding"):
        SourceOptions(encoding="nope-42")


def test_custom_field_names(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_bytes(jsonl({"key": "k1", "body": "the text", "headline": "H", "text": "other"}))
    docs, rejects = read_all([str(path)], id_field="key", text_field="body", title_field="headline")
    assert rejects == []
    doc = docs[0][1]
    # The input's own "text" field is not lost: it goes to the metadata.
    assert (doc.id, doc.text, doc.title, doc.metadata) == ("k1", "the text", "H", {"text": "other"})
    _, rejects = read_all([str(path)], text_field="missing")
    assert "missing text field 'missing'" in rejects[0].reason


def test_csv_fields_metadata_and_bad_rows(tmp_path: Path) -> None:
    raw = (
        b"doc,body,name,lang,year\n"
        b'1,"a text, with a comma\nand a newline",First,en,2001\n'
        b"2,short,Second,de\n"  # 4 fields, header has 5
        b"3,caf\xe9,Third,fr,2003\n"  # not UTF-8
        b"4,ok,,,\n"  # empty cells are absent values
    )
    (tmp_path / "a.csv").write_bytes(raw)
    (tmp_path / "b.csv.gz").write_bytes(gzip.compress(raw))
    for name in ("a.csv", "b.csv.gz"):
        docs, rejects = read_all(
            [str(tmp_path / name)], id_field="doc", text_field="body", title_field="name"
        )
        assert [(line, d.id) for line, d in docs] == [(2, "1"), (6, "4")]
        first = docs[0][1]
        assert first.text == "a text, with a comma\nand a newline"
        assert (first.title, first.lang, first.metadata) == ("First", "en", {"year": "2001"})
        assert docs[1][1].metadata == {} and docs[1][1].title is None
        assert [(r.line, r.reason.split(" (")[0]) for r in rejects] == [
            (4, "row has 4 fields, the header has 5"),
            (5, "undecodable bytes for encoding utf-8"),
        ]
        assert rejects[1].to_json()["raw"] == "3,caf\\xe9,Third,fr,2003"


def test_csv_without_the_text_column_is_one_clear_reject(tmp_path: Path) -> None:
    (tmp_path / "n.csv").write_text("id,content\n1,x\n")
    docs, rejects = read_all([str(tmp_path / "n.csv")])
    assert docs == []
    assert rejects[0].line == 1 and "no column 'text'" in rejects[0].reason
    assert "--text-field" in rejects[0].reason


def test_csv_over_long_line_is_rejected_and_the_rest_read(tmp_path: Path) -> None:
    (tmp_path / "l.csv").write_text("id,text\n1,short\n2," + "z" * 5000 + "\n3,fine\n")
    docs, rejects = read_all([str(tmp_path / "l.csv")], max_doc_bytes=1000)
    assert [d.id for _, d in docs] == ["1", "3"]
    assert rejects[0].line == 3 and "above the limit of 1000 bytes" in rejects[0].reason


def test_tsv_has_no_quoting(tmp_path: Path) -> None:
    (tmp_path / "s.tsv").write_text('id\ttext\n1\t"Quoted" start, a, b\n2\tplain\n')
    docs, rejects = read_all([str(tmp_path / "s.tsv")])
    assert rejects == []
    assert [d.text for _, d in docs] == ['"Quoted" start, a, b', "plain"]


def test_folders_txt_md_ids_glob_and_skipped_files(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    (root / "sub").mkdir(parents=True)
    (root / "a.txt").write_text("plain text file")
    (root / "sub" / "b.md").write_text("\n# The Title #\n\nBody of b.")
    (root / "sub" / "c.md.gz").write_bytes(gzip.compress(b"# Zipped\nbody"))
    (root / "bad.txt").write_bytes(b"line one\nline \xff two")
    (root / "empty.txt").write_text("   \n")
    (root / "image.png").write_bytes(b"\x89PNG")
    options = SourceOptions()
    plan = plan_inputs([str(root)], options)
    assert [p.name for p in plan.skipped] == ["image.png"]
    docs, rejects = read_all([str(root)])
    by_id = {d.id: d for _, d in docs}
    assert sorted(by_id) == ["a.txt", "sub/b.md", "sub/c.md"]
    assert by_id["sub/b.md"].title == "The Title"
    assert by_id["sub/b.md"].text == "\n# The Title #\n\nBody of b."  # kept whole: offsets exact
    assert by_id["a.txt"].title is None
    bad = {r.doc_id: r for r in rejects}
    assert bad["bad.txt"].line == 2 and "undecodable" in bad["bad.txt"].reason
    assert "empty" in bad["empty.txt"].reason
    only_md, _ = read_all([str(root)], glob="*.md")
    assert [d.id for _, d in only_md] == ["sub/b.md"]
    txt_as_is, _ = read_all([str(root / "a.txt")])
    assert txt_as_is[0][1].id == "a.txt"


def test_oversized_text_file_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "big.txt").write_text("w " * 2000)
    docs, rejects = read_all([str(tmp_path / "big.txt")], max_doc_bytes=1000)
    assert docs == [] and "document is 4000 bytes, above the limit of 1000" in rejects[0].reason


def test_truncated_gzip_is_a_reject_not_a_crash(tmp_path: Path) -> None:
    data = gzip.compress(jsonl(*({"id": str(i), "text": f"t {i}"} for i in range(2000))))
    (tmp_path / "cut.jsonl.gz").write_bytes(data[: len(data) // 2])
    (tmp_path / "next.jsonl").write_bytes(jsonl({"id": "after", "text": "still read"}))
    docs, rejects = read_all([str(tmp_path / "cut.jsonl.gz"), str(tmp_path / "next.jsonl")])
    assert "read error" in rejects[-1].reason
    assert docs[-1][1].id == "after" and len(docs) > 1


def test_plan_errors(tmp_path: Path) -> None:
    (tmp_path / "x.weird").write_text("?")
    with pytest.raises(InputError, match="--format"):
        plan_inputs([str(tmp_path / "x.weird")], SourceOptions())
    with pytest.raises(InputError, match="no such file"):
        plan_inputs([str(tmp_path / "missing.jsonl")], SourceOptions())
    forced = plan_inputs([str(tmp_path / "x.weird")], SourceOptions(format="txt"))
    assert forced.files[0].format == "txt" and forced.total_bytes == 1


def test_reject_sink_writes_lazily_truncates_raw_and_stops_when_strict(tmp_path: Path) -> None:
    path = tmp_path / "out" / "rejects.jsonl"
    with RejectSink(path) as sink:
        assert not path.exists()  # a clean run leaves no file
        sink.add(Reject("f.jsonl", 3, "bad", raw=b"\xff" + b"a" * 10_000, raw_size=10_001))
    row = json.loads(path.read_text())
    assert row["line"] == 3 and row["raw_truncated"] and row["raw_bytes"] == 10_001
    assert row["raw"].startswith("\\xff") and len(row["raw"]) == RAW_KEEP_BYTES + 3
    strict = RejectSink(None, strict=True)
    with pytest.raises(StrictStop, match="f.jsonl:9: broken") as info:
        strict.add(Reject("f.jsonl", 9, "broken"))
    assert info.value.exit_code == 2


def test_shards_are_stable_and_cover_everything() -> None:
    assert Shard.parse("1/3") == Shard(1, 3)
    for bad in ("3/3", "x", "1/0", "-1/2"):
        with pytest.raises(ConfigError):
            Shard.parse(bad)
    ids = [f"doc-{i}" for i in range(3000)]
    counts = [sum(Shard(i, 3).holds(d) for d in ids) for i in range(3)]
    assert sum(counts) == 3000 and min(counts) > 900  # a partition, roughly even
    # sha1-based, so fixed across processes and machines (Python's hash() is salted)
    assert [shard_of(d, 4) for d in ("a", "b", "c")] == [
        int.from_bytes(__import__("hashlib").sha1(d.encode()).digest()[:8], "big") % 4
        for d in ("a", "b", "c")
    ]
