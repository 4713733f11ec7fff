"""bench/search_cost.py: the four variants on a small bench.scale collection, and its table."""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.scale import build
from bench.search_cost import measure
from bench.tables.search_cost import TABLES
from tests.bench.bases import random_base
from xsearch.provenance import write_result


def test_measure_compares_both_paths_and_renders(tiny_bundle: Path, tmp_path: Path) -> None:
    base = random_base(tiny_bundle, 0, "paragraph number {} about rivers and towns")
    home = tmp_path / "home"
    (home / "models").mkdir(parents=True)
    (home / "models" / tiny_bundle.name).symlink_to(tiny_bundle)
    build(home, tiny_bundle, base, 400, seed=1)
    ns = argparse.Namespace(queries=4, rounds=1, k=5, threads=1)
    res = measure(home, tiny_bundle, ns)
    assert {(v["ranking"], v["path"]) for v in res["variants"]} == {
        ("default", "lean"), ("default", "full"), ("dense", "lean"), ("dense", "full")
    }  # fmt: skip
    assert all(v["searches"] == 4 for v in res["variants"])
    assert res["identical_hits"] == {"default": "4/4", "dense": "4/4"}
    by = {(v["ranking"], v["path"]): v for v in res["variants"]}
    assert by[("default", "lean")]["store_ms_per_search"]["with_payloads"] > 0  # the page's
    assert "with_payloads" not in by[("default", "full")]["store_ms_per_search"]
    assert set(res["fair_pool_query_ms"]) == {"whole", "doc_id+lang", "none"}
    doc = {"passages": 400, **res, "load_at_start": 1.0, "load_at_end": 1.0}
    write_result(tmp_path / "bench/results/search_cost.json", doc, command="python -m bench.x")
    table = TABLES["search_cost"](tmp_path)
    assert "| default | now |" in table and "default 4/4, dense 4/4" in table
    lean = by[("default", "lean")]
    # every ms of a search is a store call or Python: the split adds up to the mean
    parts = sum(lean["store_ms_per_search"].values()) + lean["python_ms_per_search"]
    assert abs(parts - lean["mean_ms"]) < 0.01
    assert lean["store_calls_per_search"]["query"] >= 1.0  # the fair pool, every search
    assert "| **total** |" in table  # where the default's extra ms go
    assert set(res["fused_query_ms"]) == {"queries", "fused", "lexical_only"}
