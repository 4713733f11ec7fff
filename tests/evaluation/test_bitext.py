"""Bitext: reading the formats, and the mechanics end to end with the tiny bundle."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from xsearch.errors import InputError
from xsearch.evaluation import bitext as B

SENTENCES = [
    "The cat sleeps on the sofa.",
    "Trains leave every ten minutes.",
    "She bought three red apples.",
    "The museum opens at nine.",
    "Rain is expected tomorrow.",
    "He plays the violin very well.",
    "Our office moved to Berlin.",
    "Water boils at one hundred degrees.",
]


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_tsv_folder_names_languages(tmp_path: Path):
    _write(tmp_path / "deu-eng.tsv", [f"{s}\t{s}" for s in SENTENCES[:3]])
    _write(tmp_path / "fra-eng.tsv", [f"{s}\t{s}" for s in SENTENCES[3:]])
    sets = B.load_bitext([tmp_path])
    assert [(s.name, s.src_lang, s.tgt_lang, len(s.src)) for s in sets] == [
        ("deu-eng", "deu", "eng", 3),
        ("fra-eng", "fra", "eng", 5),
    ]


def test_tsv_bad_line_is_named(tmp_path: Path):
    f = _write(tmp_path / "x-en.tsv", ["a\tb", "no tab here", "c\td"])
    with pytest.raises(InputError, match=r"x-en.tsv:2"):
        B.load_bitext([f])


def test_aligned_files_pair_up_and_must_match(tmp_path: Path):
    a = _write(tmp_path / "test.de", SENTENCES[:4])
    b = _write(tmp_path / "test.en", SENTENCES[:4])
    (s,) = B.load_bitext([a, b])
    assert (s.src_lang, s.tgt_lang, len(s.tgt)) == ("de", "en", 4)
    with pytest.raises(InputError, match="in pairs"):
        B.load_bitext([a])
    c = _write(tmp_path / "short.en", SENTENCES[:3])
    with pytest.raises(InputError, match="4 lines but"):
        B.load_bitext([a, c])


def test_reference_matching(tmp_path: Path):
    ref = tmp_path / "reference.json"
    ref.write_text(
        json.dumps(
            {
                "models": {
                    "mE5-small": {"per_language": {"deu": 98.0}, "mean": 98.0},
                    "para-mMiniLM-L12-v2": {"per_language": {"deu": 97.7}, "mean": 97.7},
                }
            }
        )
    )
    models = B.reference_models(ref)
    assert B.match_reference_model(models, "multilingual-e5-small") == "mE5-small"
    assert (
        B.match_reference_model(models, "paraphrase-multilingual-MiniLM-L12-v2")
        == "para-mMiniLM-L12-v2"
    )
    assert B.match_reference_model(models, "LaBSE") is None
    assert B.find_reference([tmp_path]) == ref
    assert B.read_reference(ref, "mE5-small") == {"deu": 98.0}


# --- with the tiny random bundle: mechanics, not quality -------------------------
def test_identical_sides_retrieve_themselves(tiny_bundle: Path):
    from xsearch.encoder import Encoder

    enc = Encoder.load(tiny_bundle)
    s = B.BitextSet("a-b", "a", "b", SENTENCES, list(SENTENCES), "mem")
    (r,) = B.evaluate_bitext([s], enc, kind="query", reference={"a": 50.0})
    assert (r.src_to_tgt, r.tgt_to_src, r.pairs, r.reference) == (100.0, 100.0, 8, 50.0)
    # reversed target: each sentence finds its identical twin at the wrong index
    rev = B.BitextSet("a-b", "a", "b", SENTENCES, SENTENCES[::-1], "mem")
    (r,) = B.evaluate_bitext([rev], enc)
    assert r.src_to_tgt == 0.0 and r.tgt_to_src == 0.0


def test_cli_bitext_json(tiny_bundle: Path, tmp_path: Path):
    from typer.testing import CliRunner

    from xsearch.cli.main import app

    _write(tmp_path / "aa-bb.tsv", [f"{s}\t{s}" for s in SENTENCES])
    (tmp_path / "reference.json").write_text(
        json.dumps({"models": {"other": {"per_language": {"aa": 1.0}, "mean": 1.0}}})
    )
    result = CliRunner().invoke(
        app,
        [
            "eval",
            "bitext",
            str(tmp_path),
            "--bundle",
            str(tiny_bundle),
            "--json",
            "--reference-model",
            "other",
            "-o",
            str(tmp_path / "result.json"),
        ],
    )
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    out = printed["results"]
    # The same figures on stdout and in the file, both with the provenance header
    # the README tables are generated from.
    from xsearch.provenance import read_result

    saved = read_result(tmp_path / "result.json")
    assert saved["results"] == out
    for doc in (printed, saved):
        assert {"command", "commit", "dirty", "machine"} <= set(doc["provenance"])
    assert out["pairs"][0]["src_to_tgt"] == 100.0
    assert out["pairs"][0]["reference"] == 1.0
    assert out["mean_src_to_tgt"] == 100.0
    assert out["reference_model"] == "other"
