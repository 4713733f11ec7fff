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
    assert "- cores: " in report and "- cpu: " in report and "- date: " in report
    assert "| encoder | ok |" in report and "| int8 | 3.1x |" in report
    assert "| store | failed (exit 3) |" in report and "boom" in report
    assert "| indexing | timed out after 3s |" in report
    assert "| api_load | missing |" in report
    assert "args ['--sentences', '5']" in capsys.readouterr().out  # streamed live


def test_unknown_names_are_refused(fake_repo: Path):
    assert runner.main(["nope"]) == 2
    assert runner.main(["--args", "nope=1"]) == 2
