"""Reading XQuAD-shaped data, and rendering a QA report (tables, JSON, heatmap)."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
from rich.console import Console

from xsearch.errors import InputError
from xsearch.evaluation.qa import MixedMetrics, PairMetrics, QAReport, SettingResult
from xsearch.evaluation.qa_data import load_qa
from xsearch.evaluation.report import plot_qa_matrix, print_qa, qa_to_dict


def _folder(tmp_path: Path, n_par: int = 4, drop: tuple[int, str] | None = None) -> Path:
    langs = ["en", "de", "fr"]
    with (tmp_path / "parallel_paragraphs.jsonl").open("w") as fh:
        for pid in range(n_par):
            ctx = {lang: f"paragraph {pid} in {lang}" for lang in langs}
            if drop and drop[0] == pid:
                del ctx[drop[1]]
            fh.write(json.dumps({"pid": pid, "context": ctx}) + "\n")
    with (tmp_path / "parallel_questions.jsonl").open("w") as fh:
        for pid in range(n_par):
            for j in range(2):
                q = {lang: f"question {pid}.{j} in {lang}" for lang in langs}
                fh.write(json.dumps({"qid": f"{pid}.{j}", "pid": pid, "question": q}) + "\n")
    return tmp_path


def test_load_all_and_subsets(tmp_path: Path):
    d = load_qa(_folder(tmp_path))
    assert d.langs == ["en", "de", "fr"]
    assert (len(d.paragraphs), len(d.questions)) == (4, 8)
    d = load_qa(tmp_path, langs=["fr", "en"], max_paragraphs=2)
    assert d.langs == ["fr", "en"] and list(d.paragraphs) == ["0", "3"]  # evenly spread
    assert {q.pid for q in d.questions} == {"0", "3"}
    assert set(d.questions[0].text) == {"fr", "en"}
    d = load_qa(tmp_path, max_questions=3)
    assert [q.qid for q in d.questions] == ["0.0", "1.1", "3.1"]
    assert len(d.paragraphs) == 4  # every paragraph stays a candidate


def test_missing_language_is_an_error_not_a_hole(tmp_path: Path):
    _folder(tmp_path, drop=(2, "de"))
    assert load_qa(tmp_path).langs == ["en", "fr"]  # default: languages every record has
    with pytest.raises(InputError, match="'de' is missing from 1 paragraph"):
        load_qa(tmp_path, langs=["en", "de"])


def test_bad_pid_names_the_line(tmp_path: Path):
    _folder(tmp_path)
    with (tmp_path / "parallel_questions.jsonl").open("a") as fh:
        fh.write(json.dumps({"qid": "x", "pid": 99, "question": {"en": "?"}}) + "\n")
    with pytest.raises(InputError, match=r"parallel_questions.jsonl:9: pid 99"):
        load_qa(tmp_path)


def _report() -> QAReport:
    langs = ["en", "de"]
    matrix = {
        x: {y: PairMetrics(0.5 if x != y else 0.9, 0.8, 0.6 if x != y else 0.95) for y in langs}
        for x in langs
    }
    per_lang = {x: {"map": 0.4, "same_share": 0.7, "mrr_10": 0.8} for x in langs}
    mixed = MixedMetrics(0.4, 0.7, 0.5, 0.8, per_lang)
    return QAReport(
        bundle="b", variant="int8", fingerprint="f", langs=langs, n_paragraphs=3,
        n_questions=5, n_documents=6, n_passages=6, source="mem",
        settings=[
            SettingResult("dense", {}, True, matrix=matrix, mixed=mixed),
            SettingResult("centered", {"balance": "centered"}, False, "asked balance=centered"),
            SettingResult("plain", {}, True, matrix=matrix, mixed=mixed, same_as="dense"),
        ],
    )  # fmt: skip


def test_report_json_print_and_plot(tmp_path: Path):
    rep = _report()
    out = qa_to_dict(rep)
    json.dumps(out)  # serialisable
    s = out["settings"][0]["summary"]
    assert s["same_lang_mrr_10"] == pytest.approx(0.95)
    assert s["cross_lang_mrr_10"] == pytest.approx(0.6)
    assert s["mixed_map"] == pytest.approx(0.4)
    assert out["settings"][1]["supported"] is False
    console = Console(record=True, width=200)
    print_qa(rep, console)
    text = console.export_text()
    assert "mixed pool mAP@100" in text and "0.400" in text and "70.0%" in text
    assert "setting 'centered' not run" in text
    flat = " ".join(text.split())  # titles wrap to the width of narrow tables
    assert "(= dense)" in text and flat.count("MRR@10 (dense, × 100)") == 1  # printed once
    png = plot_qa_matrix(rep, tmp_path / "m.png")
    head = png.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", head[16:24])
    assert width > 300 and height > 100
