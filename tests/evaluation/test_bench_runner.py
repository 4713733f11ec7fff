"""`python -m bench`: runs each benchmark in a subprocess and gathers one report."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

runner = importlib.import_module("bench.__main__")


@pytest.fixture()
def fake_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    pkg = tmp_path / "bench"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "encoder.py").write_text(
        "from pathlib import Path\n"
        "import sys\n"
        "print('progress line')\n"
        "out = Path('bench/results'); out.mkdir(parents=True, exist_ok=True)\n"
        "(out / 'encoder.md').write_text('| engine | ratio |\\n|---|---|\\n| int8 | 3.1x |')\n"
        "print('args', sys.argv[1:])\n"
    )
    (pkg / "store.py").write_text("import sys\nprint('boom')\nsys.exit(3)\n")
    # A benchmark that writes its JSON result file, rendered by bench/tables/api_load.py.
    level = {"concurrency": 1, "rps": 50.0, "p50_ms": 12.0, "p99_ms": 20.0, "mean_batch": 1.0}
    level |= {"cpu_ms": 9.0, "errors": 0, "mode": "micro-batching"}
    results = {
        "passages": 1000, "bundle": "b", "variant": "int8", "balance": "none",
        "duration_s": 1.0, "queries_in_pool": 10, "query_source": "built-in list",
        "load_at_start": 0.5, "load_at_end": 0.7,
        "levels": [level, {**level, "concurrency": 8, "rps": 90.0}],
    }  # fmt: skip
    (pkg / "api_load.py").write_text(
        "from pathlib import Path\n"
        "from xsearch.provenance import write_result\n"
        f"write_result(Path('bench/results/api_load.json'), {results!r}, command='fake')\n"
    )
    (pkg / "indexing.py").write_text("import time\ntime.sleep(30)\n")
    monkeypatch.setattr(runner, "ROOT", tmp_path)
    monkeypatch.setattr(runner, "RESULTS", tmp_path / "bench" / "results")
    return tmp_path


def test_report_gathers_results_failures_and_timeouts(fake_repo: Path, capsys):
    rc = runner.main(
        ["encoder", "store", "indexing", "api_load", "--timeout", "3",
         "--args", "encoder=--sentences 5"]
    )  # fmt: skip
    assert rc == 1  # not every benchmark passed
    report = (fake_repo / "bench" / "results" / "REPORT.md").read_text()
    assert "- machine: " in report and "- date: " in report
    assert "| encoder | ok |" in report and "| int8 | 3.1x |" in report
    assert "| store | failed (exit 3) |" in report and "boom" in report
    assert "| indexing | timed out after 3s |" in report
    assert "| api_load | ok |" in report
    # rendered from the fresh JSON by the README's own table module
    assert "| micro-batching (default) | 8 | 90 | 12.0 ms |" in report
    assert "**1.80×** that at 1" in report and "`fake`" in report
    assert "args ['--sentences', '5']" in capsys.readouterr().out  # streamed live


def test_unknown_names_are_refused(fake_repo: Path):
    assert runner.main(["nope"]) == 2
    assert runner.main(["--args", "nope=1"]) == 2
