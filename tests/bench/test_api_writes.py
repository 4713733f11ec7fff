"""bench/api_writes.py: the three runs index every document; the README table renders."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.tables.api_writes import TABLES
from xsearch.provenance import read_result, write_result


def _run(key: str, dps: float, enc: float) -> dict:
    return {"indexed": 100, "errors": 0, "wall_s": 1.0, "documents_per_s": dps,
            "encoder_alone_docs_per_s": enc, "over_encoder_alone": round(dps / enc, 3),
            "commit": "0123456789abcdef", "cpu_ms_per_doc": 50.0,
            "encoder_cpu_over_run_cpu": 0.9}  # fmt: skip


def test_readme_table_renders(tmp_path: Path) -> None:
    runs = {"pipeline": _run("pipeline", 40.0, 42.0), "api": _run("api", 36.0, 41.0),
            "api_baseline": _run("api_baseline", 20.0, 40.0)}  # fmt: skip
    results = {"corpus": "c", "bundle": {"name": "m", "variant": "int8", "threads": 2},
               "documents": 100, "passages": 104, "writers": 20, "batch": 10, "runs": runs,
               "pipeline_over_encoder_alone": 0.952, "api_over_pipeline": 0.922,
               "api_baseline_over_pipeline": 0.525, "chunk_langid_cpu_ms_per_doc": 2.5,
               "chunk_langid_share_of_encoder": 0.08, "load_at_start": 9.0,
               "encoder_alone_cpu_ms_per_doc": 45.0,
               "machine": {"cores": "2 usable (2 online)"}}  # fmt: skip
    write_result(tmp_path / "bench/results/api_writes.json", results, command="x")
    table = TABLES["api_writes"](tmp_path)
    # passages per encoder call: '–' for a run that did not record it
    assert "| 40.0 | 42.0 | 0.95 | **0.95** (met, goal ≥ 0.95) | 50.0 | 0.90 | – | 0 |" in table
    runs["api"]["passages_per_encoder_call"] = 31.4
    write_result(tmp_path / "bench/results/api_writes.json", results, command="x")
    table = TABLES["api_writes"](tmp_path)
    assert "| 50.0 | 0.90 | 31 | 0 |" in table
    assert "**0.92** (met, goal ≥ 0.8)" in table
    assert "0.53 (commit `0123456789`)" in table
    assert "Overloaded machine" in table  # load 9 on 2 cores


@pytest.mark.slow
def test_bench_runs_end_to_end_with_the_tiny_bundle(tiny_bundle: Path, tmp_path: Path) -> None:
    from bench import api_writes

    out = tmp_path / "api_writes.json"
    argv = ["--docs", "40", "--writers", "4", "--batch", "5", "--bundle", str(tiny_bundle),
            "--data", str(tmp_path / "no-data"), "--out", str(out)]  # fmt: skip
    assert api_writes.main(argv) == 0
    r = read_result(out)["results"]
    assert r["documents"] == 40
    for run in ("pipeline", "api"):
        assert r["runs"][run]["indexed"] == 40 and r["runs"][run]["errors"] == 0
        assert r["runs"][run]["over_encoder_alone"] > 0
        assert r["runs"][run]["passages_per_encoder_call"] > 0  # /metrics for the API
    assert len(r["encoder_alone_docs_per_s"]) == 3
