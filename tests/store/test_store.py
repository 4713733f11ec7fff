"""One suite, every backend: Qdrant Edge, qdrant-client :memory:, a live server if set."""

from __future__ import annotations

import numpy as np
import pytest

from xsearch.documents import point_id
from xsearch.errors import BundleMismatch, CollectionNotFound, InputError
from xsearch.store.base import CENTERED, SearchFilter

from .conftest import DIM, LANGS, spec


def matches(payload: dict, flt: SearchFilter) -> bool:
    """Brute-force reference semantics of SearchFilter (see xsearch/store/filters.py)."""
    if flt.langs and payload["lang"] not in flt.langs:
        return False
    if flt.exclude_langs and payload["lang"] in flt.exclude_langs:
        return False
    if flt.doc_ids and payload["doc_id"] not in flt.doc_ids:
        return False
    meta = payload["meta"]
    for key, want in flt.metadata.items():
        wants = want if isinstance(want, list) else [want]
        if key not in meta or not any(_equal(meta[key], w) for w in wants):
            return False
    for key, (lo, hi) in flt.ranges.items():
        v = meta.get(key)
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            return False
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            return False
    return True


def _equal(have, want) -> bool:
    if isinstance(want, bool) or isinstance(have, bool):
        return type(have) is type(want) and have == want
    return have == want


FILTERS = [
    SearchFilter(langs=["de"]),
    SearchFilter(langs=["de", "zh"]),
    SearchFilter(exclude_langs=["en", "ar"]),
    SearchFilter(doc_ids=["doc-3", "doc-10", "doc-nope"]),
    SearchFilter(metadata={"source": "blog"}),
    SearchFilter(metadata={"source": ["blog", "paper"]}),
    SearchFilter(metadata={"year": 2003}),
    SearchFilter(metadata={"year": [2001, 2004, 2009]}),
    SearchFilter(metadata={"score": 0.3}),
    SearchFilter(metadata={"flag": True}),
    SearchFilter(metadata={"source": ["wire", 2005]}),
    SearchFilter(ranges={"year": (2002, 2005)}),
    SearchFilter(ranges={"score": (None, 0.2)}),
    SearchFilter(ranges={"year": (2007.5, None)}),
    SearchFilter(
        langs=["de", "zh", "ar"],
        exclude_langs=["zh"],
        metadata={"source": ["wire", "blog"], "flag": False},
        ranges={"year": (2001, 2008)},
    ),
    SearchFilter(metadata={"missing_key": "x"}),
]


def test_create_is_idempotent_and_refuses_another_bundle(store, name):
    store.create_collection(spec(name))
    store.create_collection(spec(name))  # same fingerprint: no-op
    assert name in store.list_collections()
    store.ensure_compatible(name, "fp-a" * 8, "bundle-a")
    with pytest.raises(BundleMismatch) as err:
        store.create_collection(spec(name, fingerprint="fp-b" * 8, bundle="bundle-b"))
    with pytest.raises(BundleMismatch) as err2:
        store.ensure_compatible(name, "fp-b" * 8, "bundle-b")
    for e in (err.value, err2.value):
        text = str(e)
        assert "bundle-a" in text and "bundle-b" in text
        assert "new collection" in text
    meta = store.get_meta(name)
    assert (meta["fingerprint"], meta["bundle"], meta["dimension"]) == ("fp-a" * 8, "bundle-a", DIM)


def test_missing_collection_and_bad_names(store, name):
    with pytest.raises(CollectionNotFound) as err:
        store.ensure_compatible(name, "fp", "b")
    assert "xsearch collections" in str(err.value)
    with pytest.raises(CollectionNotFound):
        store.count(name)
    with pytest.raises(CollectionNotFound):
        store.query(name, np.ones(DIM, np.float32))
    for bad in ("", "a/b", "..", "x" * 65, "has space"):
        with pytest.raises(InputError):
            store.create_collection(spec(bad))


def test_upsert_retrieve_count(store, filled, corpus):
    assert store.count(filled) == len(corpus.points)
    want = [corpus.points[5], corpus.points[0], corpus.points[17]]
    got = store.retrieve(filled, [p.id for p in want] + [point_id("nope", 0)], with_vectors=True)
    assert [g.id for g in got] == [p.id for p in want]  # request order, unknown id left out
    for g, p in zip(got, want, strict=True):
        assert g.payload == p.payload
        np.testing.assert_allclose(g.vectors["dense"], p.vectors["dense"], atol=1e-6)
        assert g.sparse["lexical"][0] == p.sparse["lexical"][0]
    # re-upserting the same ids replaces, never duplicates
    store.upsert(filled, corpus.points[:10])
    assert store.count(filled) == len(corpus.points)


def test_upsert_refuses_wrong_dimension(store, filled, corpus):
    bad = corpus.points[0]
    bad = type(bad)(bad.id, {"dense": np.ones(DIM + 1, np.float32)}, bad.payload)
    with pytest.raises(InputError):
        store.upsert(filled, [bad])


def test_document_state_and_delete_documents(store, filled, corpus):
    state = store.document_state(filled, ["doc-3", "doc-4", "doc-unknown"])
    assert state == {"doc-3": ("h3", 4), "doc-4": ("h4", 1)}
    n3 = sum(p.payload["doc_id"] == "doc-3" for p in corpus.points)
    n5 = sum(p.payload["doc_id"] == "doc-5" for p in corpus.points)
    assert store.delete_documents(filled, ["doc-3", "doc-5"]) == n3 + n5
    assert store.count(filled, SearchFilter(doc_ids=["doc-3", "doc-5"])) == 0
    assert store.count(filled) == len(corpus.points) - n3 - n5
    assert store.document_state(filled, ["doc-3"]) == {}
    assert store.delete_documents(filled, ["doc-3"]) == 0
    store.delete_points(filled, [point_id("doc-7", 0)])
    assert store.count(filled, SearchFilter(doc_ids=["doc-7"])) == 3


@pytest.mark.parametrize("flt", FILTERS, ids=lambda f: repr(f)[12:60])
def test_filters_exact_against_brute_force(ro, corpus, flt):
    store, filled = ro
    keep = np.array([matches(p.payload, flt) for p in corpus.points])
    assert store.count(filled, flt) == int(keep.sum())
    q = corpus.centers[2]
    res = store.query(filled, q, k=len(corpus.points), flt=flt, exact=True)
    assert {r.id for r in res} == {p.id for p, k in zip(corpus.points, keep, strict=True) if k}
    scores = corpus.vectors @ q
    order = [corpus.points[i].id for i in np.argsort(-scores) if keep[i]][:10]
    assert [r.id for r in res[:10]] == order
    best = np.sort(scores[keep])[::-1][:10]
    np.testing.assert_allclose([r.score for r in res[:10]], best, atol=1e-5)


def test_bad_filters_are_input_errors(ro):
    store, filled = ro
    for flt in (
        SearchFilter(ranges={"year": (None, None)}),
        SearchFilter(ranges={"year": ("a", 3)}),  # type: ignore[dict-item]
        SearchFilter(metadata={"a.b": 1}),
        SearchFilter(metadata={"x": []}),
        SearchFilter(metadata={"x": {"nested": 1}}),  # type: ignore[dict-item]
    ):
        with pytest.raises(InputError):
            store.query(filled, np.ones(DIM, np.float32), flt=flt)


def test_pagination_is_disjoint_and_ordered(ro, corpus):
    store, filled = ro
    q = corpus.centers[5]
    whole = [r.id for r in store.query(filled, q, k=30, exact=True)]
    pages = [store.query(filled, q, k=10, offset=o, exact=True) for o in (0, 10, 20)]
    ids = [r.id for page in pages for r in page]
    assert len(set(ids)) == 30
    assert ids == whole
    flt = SearchFilter(langs=["en", "zh"])
    a = store.query(filled, q, k=5, offset=0, flt=flt, exact=True)
    b = store.query(filled, q, k=5, offset=5, flt=flt, exact=True)
    assert not {r.id for r in a} & {r.id for r in b}
    assert all(r.payload["lang"] in ("en", "zh") for r in a + b)


def test_score_threshold_and_centered_vectors(ro, corpus):
    store, filled = ro
    q = corpus.centers[1]
    res = store.query(filled, q, k=100, score_threshold=0.5, exact=True)
    want = int((corpus.vectors @ q >= 0.5).sum())
    assert len(res) == want and all(r.score >= 0.5 for r in res)
    # only points with a centred vector answer on it, and it is the one stored (-v)
    res = store.query(filled, -q, using=CENTERED, k=500, exact=True, with_vectors=True)
    assert {r.id for r in res} == {p.id for p in corpus.points if "centered" in p.vectors}
    with pytest.raises(InputError):
        store.query(filled, q, using="lexical")


def test_query_hybrid_fuses_dense_and_lexical(ro, corpus):
    store, filled = ro
    q = corpus.centers[0]  # topic 0 dense neighbours
    rare = corpus.points[[p.payload["doc_id"] for p in corpus.points].index("doc-13")]
    # lexical: the rare term of doc-13 passage 0, a topic-5 document far from q
    sparse = ([5000 + 13 * 10 + 0], [1.0])
    dense_only = {r.id for r in store.query(filled, q, k=10, exact=True)}
    assert rare.id not in dense_only
    fused = store.query_hybrid(filled, q, sparse, k=10, prefetch_k=20)
    ids = [r.id for r in fused]
    assert rare.id in ids[:2]  # rank 1 on the lexical side -> near the top after RRF
    assert len(set(ids) & dense_only) >= 7
    assert all(a.score >= b.score for a, b in zip(fused, fused[1:], strict=False))
    flt = SearchFilter(langs=["de"])
    fused = store.query_hybrid(filled, q, sparse, k=10, flt=flt)
    assert fused and all(r.payload["lang"] == "de" for r in fused)
    weighted = store.query_hybrid(filled, q, sparse, k=10, weights=(1.0, 0.0001))
    assert rare.id not in [r.id for r in weighted[:5]]


def test_query_lexical_ranks_by_sparse_match_only(ro, corpus):
    store, filled = ro
    ids = [p.payload["doc_id"] for p in corpus.points]
    rare = corpus.points[ids.index("doc-13")]
    # the rare term of doc-13 passage 0 plus a term no passage has
    got = store.query_lexical(filled, ([5000 + 13 * 10 + 0, 999_999], [1.0, 1.0]), k=5)
    assert [r.id for r in got] == [rare.id]  # only passages that share a term answer
    assert got[0].score > 0 and got[0].payload["doc_id"] == "doc-13"
    other = rare.payload["lang"]
    flt = SearchFilter(exclude_langs=[other])
    assert store.query_lexical(filled, ([5000 + 13 * 10 + 0], [1.0]), k=5, flt=flt) == []
    assert store.query_lexical(filled, ([999_999], [1.0]), k=5) == []


def test_scroll_round_trip(ro, corpus):
    store, filled = ro
    got = list(store.scroll(filled, batch=7))
    assert sorted(g.id for g in got) == sorted(corpus.ids)
    by_id = {p.id: p for p in corpus.points}
    for g in got:
        p = by_id[g.id]
        assert g.score == 0 and g.payload == p.payload
        assert set(g.vectors) == set(p.vectors)
        for n, v in p.vectors.items():
            np.testing.assert_allclose(g.vectors[n], v, atol=1e-6)
        assert g.sparse["lexical"][0] == p.sparse["lexical"][0]
        np.testing.assert_allclose(g.sparse["lexical"][1], p.sparse["lexical"][1], rtol=1e-6)
    part = list(store.scroll(filled, flt=SearchFilter(langs=["zh"]), with_vectors=False))
    assert len(part) == sum(p.payload["lang"] == "zh" for p in corpus.points)
    assert all(g.vectors is None for g in part)


def test_meta_and_stats(store, filled, corpus):
    meta = store.get_meta(filled)
    means = {lang: [0.5] * DIM for lang in LANGS}
    store.set_meta(filled, {**meta, "lang_means": means, "tmp": 1})
    m2 = store.get_meta(filled)
    assert m2["lang_means"] == means and m2["fingerprint"] == meta["fingerprint"]
    m2.pop("tmp")
    store.set_meta(filled, m2)
    assert "tmp" not in store.get_meta(filled)
    st = store.stats(filled)
    assert st.points == len(corpus.points)
    assert st.documents == len({p.payload["doc_id"] for p in corpus.points})
    langs: dict[str, int] = {}
    for p in corpus.points:
        langs[p.payload["lang"]] = langs.get(p.payload["lang"], 0) + 1
    assert st.languages == langs
    assert (st.dimension, st.bundle, st.fingerprint) == (DIM, "bundle-a", "fp-a" * 8)
    assert st.meta["lang_means"] == means
    store.optimize(filled)
    assert store.count(filled) == len(corpus.points)


def test_delete_collection(store, filled):
    store.delete_collection(filled)
    assert filled not in store.list_collections()
    with pytest.raises(CollectionNotFound):
        store.get_meta(filled)
    with pytest.raises(CollectionNotFound):
        store.delete_collection(filled)


def test_sparse_vectors_are_checked(ro, corpus):
    store, filled = ro
    q = corpus.centers[0]
    # no lexical terms at all (a query of stop words): the dense side alone ranks
    fused = store.query_hybrid(filled, q, ([], []), k=5)
    assert [r.id for r in fused] == [r.id for r in store.query(filled, q, k=5, exact=True)]
    for bad in (([3, 3], [1.0, 1.0]), ([1, 2], [1.0]), ([-1], [1.0]), ([1], [float("nan")])):
        with pytest.raises(InputError):
            store.query_hybrid(filled, q, bad, k=5)
    p = corpus.points[0]
    with pytest.raises(InputError):
        store.upsert(filled, [type(p)(p.id, p.vectors, p.payload, {"lexical": ([1, 1], [1, 1])})])
    with pytest.raises(InputError):
        store.upsert(filled, [type(p)(p.id, p.vectors, p.payload, {"other": ([1], [1.0])})])


@pytest.mark.parametrize("weight", [1.0, 0.37, 2.0])
def test_weighted_rrf_here_gives_qdrants_fused_scores(ro, corpus, weight):
    """The hybrid step fuses in Python (xsearch/ranking/fusion.py) what Qdrant would:
    same points, same order, same float32 scores, on every backend."""
    from xsearch.ranking.fusion import rrf_contributions, weighted_rrf

    store, filled = ro
    q = corpus.centers[2]
    # one rare term per passage (make_corpus: 5000 + 10 d + k), each its own weight: no
    # two lexical scores tie (tied points come in either order, differently in each
    # Qdrant query, so a list asked twice would not be the same list; a CI run saw it
    # with topic terms, which every passage of a topic shares)
    sparse = ([5000 + 10 * d for d in range(0, 60, 2)], [1.0 + 0.05 * i for i in range(30)])
    dense = store.query(filled, q, k=25, exact=True, fields=("doc_id",))
    lexical = store.query_lexical(filled, sparse, k=25, fields=("doc_id",))
    assert len(dense) == 25 and len(lexical) >= 10
    fused = store.query_hybrid(
        filled, q, sparse, k=30, prefetch_k=25, weights=(1.0, weight), rrf_k=5,
        fields=("doc_id",),
    )  # fmt: skip
    mine = weighted_rrf([dense, lexical], (1.0, weight), 5, 30)
    assert len(mine) == len(fused) == 30
    scores = {p.id: p.score for p in fused}
    # every point Qdrant kept, with the score computed here (the top 30 of the union)
    here: dict[str, np.float32] = {}  # float32 sums, as Qdrant's
    for lst, w in ((dense, 1.0), (lexical, weight)):
        for p, s in zip(lst, rrf_contributions(len(lst), w, 5), strict=True):
            here[p.id] = here.get(p.id, np.float32(0.0)) + s
    for pid, s in scores.items():
        assert here[pid] == pytest.approx(s, rel=1e-6, abs=1e-7), pid
    # the same points, except among those tied at the cut (with weight 1, rank r of
    # one list scores exactly as rank r of the other): either may be kept
    cut = min(here[p.id] for p in mine)
    assert cut == min(here[pid] for pid in scores)
    assert {p.id for p in mine if here[p.id] > cut} == {i for i in scores if here[i] > cut}
    # the same order wherever the scores differ (equal scores may come in any order)
    ranked = [here[p.id] for p in mine]
    assert ranked == sorted(ranked, reverse=True)
