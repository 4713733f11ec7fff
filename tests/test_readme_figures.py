"""The README's tables are generated from committed result files (bench/report.py):
the README and the files cannot disagree."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import report
from xsearch.provenance import read_result, write_result

ROOT = Path(__file__).resolve().parents[1]


def test_readme_agrees_with_the_result_files():
    problems = report.check(ROOT / "README.md", ROOT)
    assert problems == [], "\n".join(problems)


def test_readme_holds_the_generated_tables():
    names = report.fill((ROOT / "README.md").read_text(encoding="utf-8"), {}, ROOT).names
    assert {"store", "indexing", "api_load", "bitext"} <= set(names)


def _figure(root: Path) -> str:
    r = read_result(root / "res.json")["results"]
    return f"| x | y |\n|---|---:|\n| a | {r['a']:.2f} |"


TABLES = {"fig": _figure}


def _readme(root: Path, body: str = "\nstale\n") -> Path:
    readme = root / "README.md"
    readme.write_text(f"# t\n\n<!-- BEGIN TABLE fig -->{body}<!-- END TABLE fig -->\n\nend\n")
    return readme


def test_check_names_a_table_that_differs_and_fill_mends_it(tmp_path: Path):
    write_result(tmp_path / "res.json", {"a": 1.234}, command="make it")
    readme = _readme(tmp_path)
    (problem,) = report.check(readme, tmp_path, TABLES)
    assert "'fig'" in problem and "--readme" in problem
    filled = report.fill(readme.read_text(), TABLES, tmp_path)
    assert filled.changed == ["fig"] and not filled.problems
    assert "| a | 1.23 |" in filled.text and filled.text.endswith("\n\nend\n")
    readme.write_text(filled.text)
    assert report.check(readme, tmp_path, TABLES) == []
    # a new run moves the figure: the check fails again
    write_result(tmp_path / "res.json", {"a": 2.5}, command="make it")
    assert len(report.check(readme, tmp_path, TABLES)) == 1


def test_check_reports_missing_renderer_missing_file_and_broken_markers(tmp_path: Path):
    readme = _readme(tmp_path)
    (no_renderer,) = report.check(readme, tmp_path, {"other": _figure})
    assert "'fig'" in no_renderer and "no module" in no_renderer
    (no_file,) = report.check(readme, tmp_path, TABLES)
    assert "'fig'" in no_file and "missing" in no_file and "res.json" in no_file
    (tmp_path / "res.json").write_text(json.dumps({"provenance": {}, "results": {}}))
    (bad_file,) = report.check(readme, tmp_path, TABLES)
    assert "'fig'" in bad_file and "KeyError" in bad_file
    readme.write_text("<!-- BEGIN TABLE fig -->\n| old |\n")
    (unclosed,) = report.check(readme, tmp_path, TABLES)
    assert "END TABLE fig" in unclosed


def test_cli_check_and_readme(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    # The real table modules against a repository without result files: named, exit 1.
    (tmp_path / "README.md").write_text(
        "<!-- BEGIN TABLE store -->\n<!-- END TABLE store -->\n"
        "<!-- BEGIN TABLE nope -->\n<!-- END TABLE nope -->\n"
    )
    assert report.main(["--check", "--root", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "table 'store'" in err and "store.json" in err and "table 'nope'" in err
    assert report.main(["--readme", "--root", str(tmp_path)]) == 1  # nothing to fill it with


def test_store_table_renders_what_bench_store_writes(tmp_path: Path):
    # The benchmark and its README renderer agree on the result file's shape.
    from bench import store as bench_store
    from bench.tables.store import store

    out = tmp_path / "bench" / "results" / "store.json"
    argv = ["--sizes", "2000", "--queries", "10", "--no-real", "--out", str(out)]
    assert bench_store.main(argv) == 0
    doc = read_result(out)
    assert doc["provenance"]["command"].startswith("python -m bench.store --sizes 2000")
    table = store(tmp_path)
    assert (
        "| 2k synthetic, exact |" in table and "| 2k synthetic, HNSW + language filter |" in table
    )
    assert "bench/results/store.json" in table
