"""`xsearch model build|list|info` run as a user runs them (a subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from xsearch.bundle import read_manifest


def _xsearch(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XSEARCH_HOME": str(home), "COLUMNS": "160"}
    return subprocess.run(
        [sys.executable, "-m", "xsearch.cli.main", *args],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def test_list_and_info(tiny_bundle: Path) -> None:
    home = tiny_bundle.parent.parent
    listed = _xsearch(home, "model", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [r["name"] for r in json.loads(listed.stdout)] == ["tiny"]
    info = _xsearch(home, "model", "info", "tiny", "--json", "--verify")
    assert info.returncode == 0, info.stderr
    assert json.loads(info.stdout)["fingerprint"] == read_manifest(tiny_bundle)["fingerprint"]
    table = _xsearch(home, "model", "info", "tiny")
    assert "parity" in table.stdout and "model.int8.onnx" in table.stdout


def test_info_of_a_missing_bundle_names_the_fix(tmp_path: Path) -> None:
    result = _xsearch(tmp_path, "model", "info", "nope")
    assert result.returncode != 0
    assert "no model bundle" in result.stderr and "xsearch model build" in result.stderr


def test_build_prints_progress_and_a_table(tiny_st_model_dir: Path, tmp_path: Path) -> None:
    result = _xsearch(tmp_path, "model", "build", str(tiny_st_model_dir), "--name", "cli")
    assert result.returncode == 0, result.stderr
    assert "parity gate on" in result.stderr and "exporting" in result.stderr
    assert "model.onnx" in result.stdout and "int8" in result.stdout
    assert (tmp_path / "models" / "cli" / "manifest.json").is_file()
    again = _xsearch(tmp_path, "model", "build", str(tiny_st_model_dir), "--name", "cli")
    assert again.returncode != 0 and "--force" in again.stderr
