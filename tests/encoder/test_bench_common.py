"""bench/common.py helpers that other benchmarks rely on."""

from __future__ import annotations

import sys

import numpy as np

from bench.common import machine_info, markdown_table, run_child


def test_child_peak_memory_is_the_childs_own() -> None:
    parent_ballast = np.ones(300_000_000 // 8)  # 300 MB held here must not count
    code = "import numpy as np; a = np.ones(150_000_000 // 8); a += 1; print('{\"ok\": 1}')"
    child = run_child([sys.executable, "-c", code])
    assert child.returncode == 0 and child.json() == {"ok": 1}
    assert 150 < child.peak_rss_mb < 290, child.peak_rss_mb
    assert parent_ballast[0] == 1


def test_markdown_table_right_aligns_numbers() -> None:
    table = markdown_table(["engine", "rate", "ratio"], [["a|b", 12.5, "2.10x"], ["c", 3, "1.00x"]])
    lines = table.splitlines()
    assert lines[1] == "|---|---:|---:|"
    assert lines[2] == "| a\\|b | 12.5 | 2.10x |"


def test_machine_info_names_cpu_cores_and_versions() -> None:
    info = machine_info(["numpy", "no-such-package-xyz"])
    assert info["cpu"] and "usable" in info["cores"]
    assert info["numpy"] == np.__version__ and info["no-such-package-xyz"] == "not installed"
