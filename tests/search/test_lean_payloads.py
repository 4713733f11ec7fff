"""The search path ranks with two payload keys and reads whole payloads for the page only.

It must answer exactly what the straightforward path answers (every store query
with whole payloads, ``Searcher.full_payloads = True``): the same hits, order,
scores, snippets and ``also_in`` for every balance x mode, with and without
translation grouping, filters and pages. Fast: the tiny random bundle on a
multilingual collection with several passages per document; slow: the real
bundle on XQuAD paragraphs in 12 languages.
"""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from xsearch.documents import Document
from xsearch.schemas import SearchRequest
from xsearch.store.base import CENTERED

BALANCES = ("none", "centered", "interleave", "fair")
MODES = ("dense", "hybrid")
XQUAD = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "xquad"

WORDS = {
    "en": "the river bank water bridge city north old market school train music".split(),
    "de": "der Fluss Ufer Wasser Brücke Stadt Norden alt Markt Schule Zug Musik".split(),
    "fr": "le fleuve rive eau pont ville nord vieux marché école train musique".split(),
    "es": "el río orilla agua puente ciudad norte viejo mercado escuela tren música".split(),
}


def _answers(engine: Any, req: SearchRequest) -> tuple[list[dict], list[dict]]:
    """(lean path's hits, full-payload path's hits), timings left out."""
    searcher = engine.searcher
    try:
        lean = [h.model_dump() for h in searcher.search(req).hits]
        searcher.full_payloads = True
        full = [h.model_dump() for h in searcher.search(req).hits]
    finally:
        searcher.full_payloads = False
    return lean, full


def _check_all(engine: Any, collection: str, queries: list[str], **extra: Any) -> int:
    """Compare both paths on every ranking; returns how many hits were compared."""
    compared = 0
    for q, balance, mode, group, offset in itertools.product(
        queries, BALANCES, MODES, (False, True), (0, 5)
    ):
        req = SearchRequest(
            query=q, collection=collection, k=5, offset=offset, balance=balance, mode=mode,
            group_translations=group, **extra,
        )  # fmt: skip
        lean, full = _answers(engine, req)
        assert lean == full, (q, balance, mode, group, offset)
        compared += len(full)
    return compared


@pytest.fixture(scope="module")
def tiny_engine(tiny_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from tests.library.conftest import engine_settings
    from xsearch.runtime import Engine

    rng = random.Random(5)
    docs = []
    for i in range(80):
        lang = list(WORDS)[i % len(WORDS)]
        # several passages per document (long texts), shared words inside a language
        n_words = rng.choice((8, 40, 400))
        text = " ".join(rng.choice(WORDS[lang]) for _ in range(n_words)) + f" code{i % 13}"
        docs.append(Document(id=f"d{i}", text=text, lang=lang, title=f"T{i}",
                             metadata={"year": 2000 + i % 7}))  # fmt: skip
    home = tmp_path_factory.mktemp("lean")
    with Engine(settings=engine_settings(home, tiny_bundle)) as engine:
        results = engine.indexer.index_documents("lean", docs)
        assert all(r.status == "indexed" for r in results)
        yield engine


QUERIES = ["the river bridge code3", "der alte Markt", "école de musique code7", "agua"]


def test_lean_path_ranks_exactly_like_the_full_payload_path(tiny_engine: Any) -> None:
    assert _check_all(tiny_engine, "lean", QUERIES) > 100


@pytest.fixture(scope="module")
def wordy_engine(tiny_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Documents of several passages with a larger vocabulary (Zipf-distributed
    words), so that a query's words match some passages, not all of a language."""
    from tests.library.conftest import engine_settings
    from xsearch.runtime import Engine

    rng = random.Random(11)
    vocab = {lang: ws + [f"{ws[i % len(ws)]}{i}" for i in range(400)] for lang, ws in WORDS.items()}
    docs = []
    for i in range(120):
        lang = list(WORDS)[i % len(WORDS)]
        words = vocab[lang]
        n_words = rng.choice((12, 60, 500))
        text = " ".join(words[min(int(rng.paretovariate(0.9)) - 1, len(words) - 1)]
                        for _ in range(n_words))  # fmt: skip
        docs.append(Document(id=f"w{i}", text=text, lang=lang, title=f"W{i}"))
    home = tmp_path_factory.mktemp("wordy")
    with Engine(settings=engine_settings(home, tiny_bundle)) as engine:
        assert all(r.status == "indexed" for r in engine.indexer.index_documents("wordy", docs))
        # Passages of the same text (short tails like "agua") have the same vector:
        # their tied scores come in either order, differently in the two paths'
        # searches (and from one Qdrant search to the next). Keep one document of each.
        seen: dict[str, str] = {}
        twins = set()
        for p in engine.searcher.store.scroll("wordy"):
            doc = seen.setdefault(p.payload["text"], p.payload["doc_id"])
            if doc != p.payload["doc_id"]:
                twins.add(p.payload["doc_id"])
        engine.indexer.delete_documents("wordy", sorted(twins))
        assert engine.searcher.store.count("wordy") > 200
        yield engine


def test_fusion_here_ranks_like_qdrants_fusion(wordy_engine: Any) -> None:
    """The lean path fuses the candidates' dense order with one sparse query here
    (xsearch/ranking/fusion.py) where that is exact, else with one more dense
    query; the reference path always asks Qdrant for the fusion: identical hits
    compare the fusions. (Documents of many passages whose words recur: often
    another passage of a candidate document matches lexically, unfound, and the
    dense query is needed.)"""
    searcher = wordy_engine.searcher
    before = dict(searcher.fusions)
    queries = ["river12 bridge40", "Fluss7 Markt", "école3 pont55 train", "agua río9",
               "music31 school", "Brücke2 Zug18", "marché ville44", "tren9 música"]  # fmt: skip
    assert _check_all(wordy_engine, "wordy", queries) > 100
    here = searcher.fusions["here"] - before["here"]
    dense = searcher.fusions["dense_query"] - before["dense_query"]
    assert here >= 3 and dense >= 5, (here, dense)


def test_lean_path_is_identical_with_filters(tiny_engine: Any) -> None:
    assert _check_all(tiny_engine, "lean", QUERIES[:2], langs=["en", "de", "fr"]) > 0
    assert _check_all(tiny_engine, "lean", QUERIES[2:], metadata={"year": 2003}) > 0
    assert _check_all(tiny_engine, "lean", QUERIES[:1], min_score=0.0) > 0


def test_candidates_carry_only_the_ranking_fields(tiny_engine: Any) -> None:
    """What makes the lean path cheap: the pool comes back without the passage text."""
    store = tiny_engine.searcher.store
    vec = tiny_engine.searcher.encode_queries(["the river"])[0]
    pts = store.query("lean", vec, using=CENTERED, k=50, fields=("doc_id", "lang"))
    assert len(pts) == 50
    assert all(set(p.payload) == {"doc_id", "lang"} for p in pts)
    full = store.with_payloads("lean", pts)
    assert [(p.id, p.score) for p in full] == [(p.id, p.score) for p in pts]
    assert all(p.payload["text"] and p.payload["title"] for p in full)


def test_a_point_deleted_after_the_query_is_left_out(tiny_engine: Any) -> None:
    docs = [Document(id=f"x{i}", text=f"der Fluss {i}", lang="de") for i in range(3)]
    assert all(r.status == "indexed" for r in tiny_engine.indexer.index_documents("gone", docs))
    store = tiny_engine.searcher.store
    vec = tiny_engine.searcher.encode_queries(["der Fluss"])[0]
    pts = store.query("gone", vec, k=3, fields=("doc_id",))
    store.delete_points("gone", [pts[1].id])
    assert [p.id for p in store.with_payloads("gone", pts)] == [pts[0].id, pts[2].id]


@pytest.mark.slow
def test_lean_path_is_identical_on_xquad(
    real_bundle: Path, real_settings: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    if not (XQUAD / "parallel_paragraphs.jsonl").exists():
        pytest.skip("../shared/data/xquad is absent")
    from xsearch.runtime import Engine

    home = tmp_path_factory.mktemp("lean-xquad")
    (home / "models").mkdir()
    (home / "models" / real_bundle.name).symlink_to(real_bundle)
    settings = real_settings.model_copy(update={"home": home, "qdrant_url": None})
    lines = (XQUAD / "parallel_paragraphs.jsonl").read_text("utf-8").splitlines()[:8]
    docs = [
        Document(id=f"{p['pid']}:{lang}", text=text, title=p.get("title_en"), lang=lang)
        for p in map(json.loads, lines)
        for lang, text in p["context"].items()
    ]
    questions = [json.loads(x) for x in (XQUAD / "parallel_questions.jsonl").open(encoding="utf-8")]
    pids = {json.loads(x)["pid"] for x in lines}
    queries = [
        q["question"][lang]
        for q in questions[:400]
        if q["pid"] in pids
        for lang in ("en", "de", "zh")
    ][:6]
    with Engine(settings) as engine:
        assert all(r.status == "indexed" for r in engine.indexer.index_documents("xq", docs))
        assert _check_all(engine, "xq", queries) > 200


def test_the_lexical_step_is_skipped_only_where_it_cannot_change_the_page(
    tiny_engine: Any,
) -> None:
    """Hybrid queries whose page ends before the first query-language place (or with
    one query-language document) skip the peek and the fused query: same hits as
    the path that always runs them, fewer store queries."""
    searcher = tiny_engine.searcher
    store = searcher.store
    calls = {"lean": 0, "full": 0}
    original = store.query_lexical

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls["full" if searcher.full_payloads else "lean"] += 1
        return original(*args, **kwargs)

    store.query_lexical = counted
    try:
        compared = 0
        for q, k, langs in itertools.product(QUERIES, (1, 2, 5), (None, ["en", "de"])):
            req = SearchRequest(query=q, collection="lean", k=k, langs=langs, query_lang="en")
            lean, full = _answers(tiny_engine, req)
            assert lean == full, (q, k, langs)
            compared += len(full)
    finally:
        del store.query_lexical  # the instance attribute: the class method again
    assert compared > 0
    assert calls["lean"] < calls["full"], calls
