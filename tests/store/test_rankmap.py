"""The embedded store's ranking map (id -> doc_id, lang) stays exactly what the shard holds.

Search candidates come back from Qdrant Edge without payload and take their
doc_id and lang from this map (xsearch/store/rankmap.py), so after every write
path (upserts, re-upserts that change a language, point deletes, document
deletes, a write that fails half-way, an indexing rollback) and after a reopen,
the map must agree with a scroll of the shard, and a lean query must return the
same payload keys as one that reads them from Qdrant.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.store.conftest import DIM, Corpus, make_corpus, spec
from xsearch.documents import point_id
from xsearch.store import rankmap
from xsearch.store.base import CENTERED, PointRecord
from xsearch.store.edge import EdgeStore
from xsearch.store.records import point_key

NAME = "rm"
RANK = ("doc_id", "lang")


def _store(root: Path, corpus: Corpus) -> EdgeStore:
    store = EdgeStore(root)
    store.create_collection(spec(NAME))
    store.upsert(NAME, corpus.points)
    return store


def assert_map_agrees(store: EdgeStore) -> rankmap.RankMap:
    """The map holds exactly the shard's points with their doc_id and lang."""
    rmap = store._rank_map(NAME)
    assert rmap is not None and rmap.ready
    want = {
        rankmap.key(p.id): {f: p.payload[f] for f in RANK if f in p.payload}
        for p in store.scroll(NAME, with_vectors=False)
    }
    assert rmap.snapshot() == want
    return rmap


def assert_queries_agree(store: EdgeStore, vectors: np.ndarray) -> None:
    """Lean hits (map) carry what Qdrant itself returns for the same selection."""
    for v in vectors[:5]:
        for fields in (RANK, ("lang",), ("doc_id",)):
            lean = store.query(NAME, v, k=40, fields=fields)
            full = store.query(NAME, v, k=40, fields=None)
            assert [p.id for p in lean] == [p.id for p in full]
            assert [p.payload for p in lean] == [
                {f: p.payload[f] for f in fields if f in p.payload} for p in full
            ]
        # rare terms of their own weight: no tied scores, whose order Qdrant may vary
        terms = ([5000 + 10 * d for d in range(0, 40, 2)], [1.0 + 0.1 * i for i in range(20)])
        lexical = store.query_lexical(NAME, terms, k=20, fields=RANK)
        plain = store.query_lexical(NAME, terms, k=20, fields=None)
        assert len(lexical) >= 5  # (some tests delete documents first)
        assert [(p.id, p.payload) for p in lexical] == [
            (p.id, {f: p.payload[f] for f in RANK}) for p in plain
        ]


def test_lean_queries_use_the_map_and_answer_like_qdrant(tmp_path: Path) -> None:
    corpus = make_corpus(n_docs=40)
    with _store(tmp_path, corpus) as store:
        assert NAME not in store._maps  # built on first use, not before
        assert_queries_agree(store, corpus.vectors)
        assert_map_agrees(store)
        # hits the map answered carry their key (no second UUID per hit), the id's own
        lean = store.query(NAME, corpus.vectors[0], k=40, fields=RANK)
        assert lean and all(p._key is not None for p in lean)  # type: ignore[attr-defined]
        assert [point_key(p) for p in lean] == [rankmap.key(p.id) for p in lean]
        # a selection the map cannot answer (text) still goes to Qdrant
        pts = store.query(NAME, corpus.vectors[0], k=5, fields=("doc_id", "text"))
        assert all(set(p.payload) == {"doc_id", "text"} for p in pts)


def _new_points(corpus: Corpus, n: int) -> list[PointRecord]:
    rng = np.random.default_rng(11)
    out = []
    for i in range(n):
        v = rng.normal(size=DIM).astype(np.float32)
        v /= np.linalg.norm(v)
        payload = {"doc_id": f"new-{i}", "passage": 0, "n_passages": 1, "lang": "fr",
                   "text": f"nouveau {i}", "content_hash": "n"}  # fmt: skip
        out.append(PointRecord(point_id(f"new-{i}", 0), {"dense": v}, payload))
    return out


def test_the_map_follows_upserts_deletes_and_document_deletes(tmp_path: Path) -> None:
    corpus = make_corpus(n_docs=40)
    with _store(tmp_path, corpus) as store:
        assert_map_agrees(store)
        store.upsert(NAME, _new_points(corpus, 7))
        assert_map_agrees(store)
        # a re-upsert that changes a point's language (a document re-indexed)
        moved = corpus.points[3]
        payload = {**moved.payload, "lang": "sw"}
        store.upsert(NAME, [PointRecord(moved.id, moved.vectors, payload, moved.sparse)])
        rmap = assert_map_agrees(store)
        assert rmap.get(moved.id)["lang"] == "sw"
        # a point without a lang key is kept apart from one whose lang is null
        bare = {k: v for k, v in moved.payload.items() if k != "lang"}
        store.upsert(NAME, [PointRecord(moved.id, moved.vectors, bare, moved.sparse)])
        assert assert_map_agrees(store).get(moved.id) == {"doc_id": moved.payload["doc_id"]}
        store.delete_points(NAME, corpus.ids[:5])
        assert_map_agrees(store)
        removed = store.delete_documents(NAME, ["doc-10", "doc-11", "new-2"])
        assert removed == 3 + 4 + 1  # 1 + d % 4 passages each
        assert_map_agrees(store)
        assert_queries_agree(store, corpus.vectors)


@dataclass
class _FailingShard:
    """The real shard, whose ``update`` fails once ``budget`` updates went through."""

    shard: Any
    budget: int

    def update(self, op: Any) -> Any:
        if self.budget <= 0:
            raise RuntimeError("No space left on device (injected)")
        self.budget -= 1
        return self.shard.update(op)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.shard, name)


def test_a_failed_write_drops_the_map_and_the_next_query_rebuilds_it(tmp_path: Path) -> None:
    corpus = make_corpus(n_docs=20)
    with _store(tmp_path, corpus) as store:
        assert_map_agrees(store)
        real = store._shards[NAME]
        store._shards[NAME] = _FailingShard(real, budget=0)
        with pytest.raises(RuntimeError):
            store.upsert(NAME, _new_points(corpus, 3))
        assert NAME not in store._maps  # unsure after a failed write: dropped
        with pytest.raises(RuntimeError):
            store.delete_points(NAME, corpus.ids[:2])
        store._shards[NAME] = real
        assert_map_agrees(store)  # rebuilt from the shard, whatever the failure left
        assert_queries_agree(store, corpus.vectors)


def test_the_map_is_rebuilt_after_a_reopen(tmp_path: Path) -> None:
    corpus = make_corpus(n_docs=20)
    with _store(tmp_path, corpus) as store:
        assert_map_agrees(store)
        store.delete_documents(NAME, ["doc-1"])
    with EdgeStore(tmp_path) as store:
        store.warm(NAME)
        assert NAME in store._maps and store._maps[NAME].ready
        assert_map_agrees(store)
        assert store.count(NAME) == len(corpus.points) - 2


def test_a_hit_the_map_lost_is_read_from_the_store_and_learnt(tmp_path: Path) -> None:
    """The delete / re-upsert race of two threads leaves a point the map forgot."""
    corpus = make_corpus(n_docs=20)
    with _store(tmp_path, corpus) as store:
        rmap = assert_map_agrees(store)
        top = store.query(NAME, corpus.vectors[0], k=3, fields=None)
        lost = top[0].id
        rmap.forget(lost)
        assert rmap.get(lost) is None
        lean = store.query(NAME, corpus.vectors[0], k=3, fields=RANK)
        assert [p.payload for p in lean] == [{f: p.payload[f] for f in RANK} for p in top]
        assert rmap.get(lost) == {f: top[0].payload[f] for f in RANK}
        assert_map_agrees(store)


@dataclass
class _Rec:
    id: Any
    payload: dict


def test_writes_during_the_fill_win_over_what_the_scroll_read() -> None:
    rmap = rankmap.RankMap()
    a, b, c = (point_id("d", i) for i in range(3))
    rmap.put([(a, {"doc_id": "d", "lang": "de"})])  # written while the scroll runs
    rmap.drop([b])  # deleted while the scroll runs
    # the scroll read the older versions of a and b
    rmap.fill([_Rec(a, {"doc_id": "d", "lang": "en"}), _Rec(b, {"doc_id": "d", "lang": "en"}),
               _Rec(c, {"doc_id": "d", "lang": "en"})])  # fmt: skip
    rmap.finish()
    got, missing, keys = rmap.payloads([_Rec(a, {}), _Rec(b, {}), _Rec(c, {})], RANK)
    assert got == [{"doc_id": "d", "lang": "de"}, None, {"doc_id": "d", "lang": "en"}]
    assert missing == [1]
    assert keys == [rankmap.key(a), rankmap.key(b), rankmap.key(c)]  # unknown ones too


def test_a_server_store_reads_payloads(tmp_path: Path) -> None:
    """Other processes may write to a server: no map there, the keys come from Qdrant."""
    from qdrant_client import QdrantClient

    from xsearch.store.server import ServerStore

    corpus = make_corpus(n_docs=10)
    with ServerStore(QdrantClient(location=":memory:")) as store:
        store.create_collection(spec(NAME))
        store.upsert(NAME, corpus.points)
        store.warm(NAME)
        assert store._rank_map(NAME) is None
        pts = store.query(NAME, corpus.vectors[0], k=5, fields=RANK)
        assert all(set(p.payload) == set(RANK) for p in pts)


def test_indexing_rollback_and_deletes_keep_the_map_in_step(
    tiny_bundle: Path, tmp_path: Path
) -> None:
    """Through the indexer: index, search (map built), re-index, a write that fails
    half-way and is rolled back, delete documents; the map agrees after each."""
    from tests.library.conftest import engine_settings
    from xsearch.documents import Document
    from xsearch.errors import StoreError
    from xsearch.runtime import Engine
    from xsearch.schemas import SearchRequest

    docs = [Document(id=f"d{i}", text=f"der Fluss und die Stadt {i} " * (1 + 30 * (i % 3)),
                     lang="de" if i % 2 else "en") for i in range(12)]  # fmt: skip
    with Engine(settings=engine_settings(tmp_path, tiny_bundle)) as engine:
        store = engine.searcher.store
        assert isinstance(store, EdgeStore)
        assert all(r.status == "indexed" for r in engine.indexer.index_documents(NAME, docs))
        engine.searcher.search(SearchRequest(query="der Fluss", collection=NAME))
        assert_map_agrees(store)
        changed = [Document(id="d1", text="a short new text", lang="fr"),
                   Document(id="new", text="ein neues Dokument", lang="de")]  # fmt: skip
        engine.indexer.index_documents(NAME, changed)
        assert store._rank_map(NAME).get(point_id("d1", 0))["lang"] == "fr"
        assert_map_agrees(store)
        # a write that fails half-way (its second upsert), rolled back by the indexer
        # through the store's write paths: the map is kept and must follow
        calls = {"n": 0}
        upsert = store.upsert

        def failing_upsert(*args: Any, **kwargs: Any) -> None:
            calls["n"] += 1
            if calls["n"] == 2:
                raise RuntimeError("No space left on device (injected)")
            upsert(*args, **kwargs)

        kept = store._maps[NAME]
        store.upsert = failing_upsert  # type: ignore[method-assign]
        again = [Document(id="d2", text="kurz", lang="fr"),
                 Document(id="d4", text="short " * 300, lang="fr")]  # fmt: skip
        batch = engine.indexer.prepare(NAME, again)
        engine.indexer.encode(batch.ready)
        with pytest.raises(StoreError, match="put back"):
            engine.indexer.write(NAME, batch.ready)
        del store.upsert
        assert calls["n"] >= 3  # the rollback wrote the old versions back
        rmap = assert_map_agrees(store)
        assert rmap is kept  # kept in step, not rebuilt
        assert rmap.get(point_id("d2", 0))["lang"] == "en"
        engine.indexer.delete_documents(NAME, ["d3", "d5", "new"])
        store._maps.clear()  # as after a restart: the server's warm-up fills it again
        engine.searcher.warm_up([])  # the collections named only (the demo: its own)
        assert NAME not in store._maps
        engine.searcher.warm_up()
        assert store._maps[NAME].ready
        assert_map_agrees(store)
        hits = engine.searcher.search(SearchRequest(query="der Fluss", collection=NAME, k=20))
        assert {"d3", "d5", "new"}.isdisjoint(h.doc_id for h in hits.hits)


def test_pool_query_without_payload_equals_centred_query(tmp_path: Path) -> None:
    """The centred vector (what the fair pool searches) goes through the map too."""
    corpus = make_corpus(n_docs=30)
    with _store(tmp_path, corpus) as store:
        v = corpus.vectors[4]
        lean = store.query(NAME, v, using=CENTERED, k=20, fields=RANK)
        full = store.query(NAME, v, using=CENTERED, k=20, fields=None)
        assert [(p.id, p.score, p.payload) for p in lean] == [
            (p.id, p.score, {f: p.payload[f] for f in RANK}) for p in full
        ]


# --- large collections: the map is filled in the background ----------------------------
def test_a_large_collection_is_mapped_in_the_background(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above RANK_MAP_SYNC_POINTS the first query does not wait for the map: it reads
    payloads (the same hits) while a thread fills the map; `warm` waits for it."""
    from xsearch.store import edge

    corpus = make_corpus(n_docs=40)
    monkeypatch.setattr(edge, "RANK_MAP_SYNC_POINTS", len(corpus.points) - 1)
    with _store(tmp_path, corpus) as store:
        v = corpus.vectors[0]
        lean = store.query(NAME, v, k=40, fields=RANK)  # starts the fill
        full = store.query(NAME, v, k=40, fields=None)
        assert [(p.id, p.payload) for p in lean] == [
            (p.id, {f: p.payload[f] for f in RANK}) for p in full
        ]
        assert NAME in store._maps  # one fill, started by the first query
        store.warm(NAME)
        assert store._maps[NAME].ready and NAME not in store._fills  # the thread ended
        assert_map_agrees(store)
        assert_queries_agree(store, corpus.vectors)
    # at the threshold: filled by the first query itself
    monkeypatch.setattr(edge, "RANK_MAP_SYNC_POINTS", len(corpus.points))
    with EdgeStore(tmp_path) as store:
        store.query(NAME, corpus.vectors[0], k=5, fields=RANK)
        assert store._maps[NAME].ready and not store._fills


@pytest.mark.parametrize("how", ["close", "delete", "failed write"])
def test_a_background_fill_stops_when_its_map_goes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """Closing the store, deleting the collection or a failed write during a
    background fill: the fill stops at its next page, nothing is left running or
    half-filled, and the store still answers (a new fill on next use)."""
    from xsearch.store import edge

    n = 3 * 4096 + 100  # several scroll pages
    rng = np.random.default_rng(5)
    vecs = rng.normal(size=(n, DIM)).astype(np.float32)
    points = [
        PointRecord(point_id(f"d{i}", 0), {"dense": vecs[i]}, {"doc_id": f"d{i}", "lang": "en"})
        for i in range(n)
    ]
    monkeypatch.setattr(edge, "RANK_MAP_SYNC_POINTS", 10)
    store = EdgeStore(tmp_path)
    store.create_collection(spec(NAME))
    store.upsert(NAME, points)
    pages = 0
    real_fill = rankmap.RankMap.fill
    helpers: list[threading.Thread] = []

    def fill(self: rankmap.RankMap, records: Any) -> None:  # the real fill, counted
        nonlocal pages
        pages += 1
        if pages == 1:  # the map goes while the fill is under way
            if how == "close":
                helpers.append(threading.Thread(target=store.close))
            elif how == "delete":
                helpers.append(threading.Thread(target=store.delete_collection, args=(NAME,)))
            else:
                store._maps.pop(NAME)  # what _map_kept does when a write fails
                # a search meanwhile reads payloads and starts no second fill
                assert store._rank_map(NAME) is None
                assert store._fills[NAME] is threading.current_thread()
            for h in helpers:
                h.start()
            time.sleep(0.2)  # the helper is now waiting for this fill
        real_fill(self, records)

    monkeypatch.setattr(rankmap.RankMap, "fill", fill)
    assert store._rank_map(NAME) is None
    fill_thread = store._fills[NAME]
    fill_thread.join(timeout=60)
    for h in helpers:
        h.join(timeout=60)
    assert not fill_thread.is_alive() and pages <= 2  # stopped at the next page
    monkeypatch.setattr(rankmap.RankMap, "fill", real_fill)
    if how == "close":
        assert not store._maps and not store._fills
        store = EdgeStore(tmp_path)  # reopens: nothing half-done on disk
        assert store.count(NAME) == n
    elif how == "delete":
        assert NAME not in store.list_collections() and not store._fills
        store.close()
        return
    assert NAME not in store._maps or not store._maps[NAME].ready or how == "close"
    store.warm(NAME)  # a new fill, whole
    assert len(store._maps[NAME]) == n
    store.close()
