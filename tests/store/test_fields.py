"""Queries with a payload selection (``fields``), on every backend: the search path's
candidates carry only the keys ranking reads, and ``with_payloads`` reads whole
payloads for the page. Same ids, order and scores as the whole-payload queries."""

from __future__ import annotations

import numpy as np

from xsearch.store.base import DENSE, Store

FIELDS = ("doc_id", "lang")


def _key(points: list) -> list[tuple[str, float]]:
    return [(p.id, round(p.score, 6)) for p in points]


def test_dense_query_with_fields_matches_the_whole_payload_query(ro, corpus) -> None:  # noqa: ANN001
    store, name = ro
    q = corpus.vectors[3]
    full = store.query(name, q, using=DENSE, k=20)
    lean = store.query(name, q, using=DENSE, k=20, fields=FIELDS)
    assert len(full) == 20
    assert _key(lean) == _key(full)
    assert all(set(p.payload) <= set(FIELDS) and "doc_id" in p.payload for p in lean)
    assert [p.payload for p in store.with_payloads(name, lean)] == [p.payload for p in full]
    bare = store.query(name, q, using=DENSE, k=20, fields=())
    assert _key(bare) == _key(full) and all(p.payload == {} for p in bare)


def test_lexical_and_hybrid_queries_with_fields(ro, corpus) -> None:  # noqa: ANN001
    store: Store = ro[0]
    name = ro[1]
    sparse = corpus.points[0].sparse["lexical"]
    assert _key(store.query_lexical(name, sparse, k=5, fields=FIELDS)) == _key(
        store.query_lexical(name, sparse, k=5)
    )
    q = np.asarray(corpus.vectors[0])
    kw = {"k": 15, "weights": (1.0, 0.5), "rrf_k": 60}
    lean = store.query_hybrid(name, q, sparse, fields=FIELDS, **kw)
    assert lean and _key(lean) == _key(store.query_hybrid(name, q, sparse, **kw))
    assert all("text" not in p.payload for p in lean)


def test_with_payloads_and_retrieve_read_only_the_fields_asked_for(ro, corpus) -> None:  # noqa: ANN001
    """The search page is read with the keys a hit is made of, not the whole payload."""
    store, name = ro
    lean = store.query(name, corpus.vectors[5], using=DENSE, k=8, fields=FIELDS)
    keys = ("doc_id", "text", "title")
    some = store.with_payloads(name, lean, fields=keys)
    whole = store.with_payloads(name, lean)
    assert _key(some) == _key(whole) == _key(lean)
    assert all(set(p.payload) == set(keys) for p in some)
    assert [{k: p.payload[k] for k in keys} for p in whole] == [p.payload for p in some]
    got = store.retrieve(name, [p.id for p in lean[:3]], fields=("lang",))
    assert [p.id for p in got] == [p.id for p in lean[:3]]
    assert all(set(p.payload) == {"lang"} for p in got)
