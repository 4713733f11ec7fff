"""bench/scale.py: the collection it builds goes through the indexer's store code."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.common import DATA
from bench.scale import BUILD_RECORD, COLLECTION, build, load_query_recall, reused
from bench.tables.scale import TABLES
from tests.bench.bases import random_base
from xsearch.provenance import write_result
from xsearch.ranking.centering import LanguageMeans
from xsearch.settings import Settings
from xsearch.store import open_store


def test_build_writes_centred_and_lexical_points_with_language_means(
    tiny_bundle: Path, tmp_path: Path
) -> None:
    base = random_base(tiny_bundle, 0, "paragraph number {} about rivers and towns")
    got = build(tmp_path, tiny_bundle, base, 300, seed=1)
    assert got["points"] == 300 and got["build_s"] >= 0
    assert 0.0 <= got["recall10_dense"] <= 1.0 and 0.0 <= got["recall10_centered"] <= 1.0
    with open_store(Settings(_env_file=None, home=tmp_path, qdrant_url=None)) as store:
        (p,) = store.retrieve(COLLECTION, [store_id(store)], with_vectors=True)
        assert set(p.vectors or {}) == {"dense", "centered"} and "lexical" in (p.sparse or {})
        stats = store.stats(COLLECTION)
        assert set(stats.languages) == {"en", "de", "fr"}
        assert sum(stats.languages.values()) == 300
        # the per-language means the ranking centres with, as the indexer keeps them
        assert set(LanguageMeans.from_meta(stats.meta, len(p.vectors["dense"])).langs) == {
            "en",
            "de",
            "fr",
        }


def test_recall_for_real_queries_is_exact_below_the_index_threshold(
    tiny_bundle: Path, tmp_path: Path
) -> None:
    """A small collection is searched exactly (no graph yet): recall 1, no score gap;
    every case of the report is there for the load's Tatoeba queries."""
    if not (DATA / "tatoeba").is_dir():
        pytest.skip("../shared/data/tatoeba is absent")
    base = random_base(tiny_bundle, 3, "paragraph {} about rivers and towns")
    build(tmp_path, tiny_bundle, base, 300, seed=1)
    got = load_query_recall(tmp_path, tiny_bundle, base, DATA, n=12)
    assert "xquad_questions" not in got  # the base is not made of XQuAD paragraphs
    cases = got["tatoeba"]
    assert cases["queries"] == 12
    for name in ("dense_k10", "centered_k10", "pool_centered_k200"):
        assert cases[name] == {"recall10": 1.0, "tenth_score_gap": 0.0}, name


def store_id(store) -> str:  # noqa: ANN001
    return next(iter(store.scroll(COLLECTION))).id


def test_readme_table_renders(tmp_path: Path) -> None:
    level = {"ranking": "default", "concurrency": 8, "req_per_s": 50.0, "p50_ms": 12.3,
             "p99_ms": 40.0, "server_cpu_ms_per_req": 9.1, "search_ms": 4.2,
             "server_rss_mb": 800, "errors": 0}  # fmt: skip
    store = {"points": 1000, "build_s": 5, "optimize_s": 2, "disk_mb": 30, "indexed": True,
             "recall10_dense": 0.99, "recall10_centered": 0.98}  # fmt: skip
    results = {"levels": [level], "store": store, "base_paragraphs": 10, "languages": ["en"],
               "load_at_start": 1.0, "load_at_end": 2.0}  # fmt: skip
    write_result(tmp_path / "bench/results/scale.json", results, command="python -m bench.scale")
    table = TABLES["scale"](tmp_path)
    assert "| default | 8 | 50.0 | 12.3 | 40.0 | 9.1 | 4.2 | 800 | 0 |" in table
    assert "dense 0.990, centred 0.980" in table


def test_reuse_measures_the_recorded_collection_without_building(
    tiny_bundle: Path, tmp_path: Path
) -> None:
    base = random_base(tiny_bundle, 2, "paragraph {} about rivers")
    assert reused(tmp_path, base, 200, seed=1) is None  # nothing built yet
    built = build(tmp_path, tiny_bundle, base, 200, seed=1)
    assert (tmp_path / BUILD_RECORD).is_file()
    again = reused(tmp_path, base, 200, seed=1)
    assert again is not None and again["reused"] is True
    assert (again["build_s"], again["optimize_s"]) == (built["build_s"], built["optimize_s"])
    assert again["points"] == 200 and 0.0 <= again["recall10_dense"] <= 1.0
    assert reused(tmp_path, base, 300, seed=1) is None  # another size: built again


def test_the_rankings_take_turns_in_abba_order() -> None:
    from bench.scale import turns

    got = turns(["default", "dense"], 4)
    assert [m for _, m in got] == ["default", "dense", "dense", "default"] * 2
    assert [sl for sl, _ in got] == [0, 0, 1, 1, 2, 2, 3, 3]
