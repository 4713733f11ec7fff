"""Weighted reciprocal rank fusion, computed here exactly as Qdrant computes it.

The hybrid step fuses the dense order of the query-language candidates with their
lexical (sparse) order. It used to ask Qdrant for the fusion: a query with a dense
and a sparse prefetch. The dense prefetch searched the query's language again,
although the top of its dense order was already known: the search had just
fetched those passages, and inside one language the centred order is the dense
order (``xsearch/ranking/centering.py``). One sparse query and
``fuse_candidates`` give the same order of the candidates without that second
HNSW search, or say that they cannot (then the caller asks Qdrant).

Why it matters beyond the milliseconds: Qdrant Edge holds the GIL for the whole of
a query (``bench/experiments/edge_gil.py``: a pure-Python thread runs at about a
third of its speed while another thread queries), so under concurrency every store
call of every request runs one at a time; a store call saved is saved from the
server's serial part.

Qdrant's formula (checked against its own fused scores in
``tests/search/test_fusion.py``): a point at 0-based position ``pos`` of a list of
weight ``w`` scores ``1 / ((pos + 1) / w + k - 1)``, summed over the lists it is
in, in float32; with ``w = 1`` that is the classic ``1 / (k + rank)`` with ranks
counted from 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from xsearch.store.records import ScoredPoint, point_key


def rrf_contributions(n: int, weight: float, k: int) -> np.ndarray:
    """float32 scores of positions 0..n-1 of one list (Qdrant's arithmetic)."""
    pos = np.arange(1, n + 1, dtype=np.float32)
    return np.float32(1.0) / (pos / np.float32(weight) + np.float32(k) - np.float32(1.0))


def weighted_rrf(
    lists: Sequence[Sequence[ScoredPoint]], weights: Sequence[float], k: int, limit: int
) -> list[ScoredPoint]:
    """The union of ``lists`` in fused order (best first), at most ``limit`` points.

    Each point keeps its own score (the hybrid step only uses the order). Ties keep
    the order of first appearance (earlier list first), so the result is
    deterministic.
    """
    keys = [[point_key(p) for p in lst] for lst in lists]
    total: dict[Any, np.float32] = {}
    first: dict[Any, ScoredPoint] = {}
    for lst, ks, w in zip(lists, keys, weights, strict=True):
        for p, key, s in zip(lst, ks, rrf_contributions(len(lst), w, k), strict=True):
            if key in total:
                total[key] = total[key] + s  # float32 + float32 stays float32
            else:
                total[key] = s
                first[key] = p
    order = sorted(range(len(total)), key=list(total.values()).__getitem__, reverse=True)
    # sorted() is stable; reverse=True keeps equal keys in their first-seen order
    points = list(first.values())
    return [points[i] for i in order[:limit]]


def fuse_candidates(
    dense: Sequence[ScoredPoint],
    lexical: Sequence[ScoredPoint],
    weight: float,
    k: int,
    depth: int,
    limit: int,
    docs: set[Any],
    complete: bool = False,
) -> tuple[list[ScoredPoint], int] | None:
    """The order Qdrant's fusion of the two lists would give the documents ``docs``,
    and how many of them (best first) are surely in their places: None where no
    order can be known without the rest of the dense list.

    ``dense``: the top of the dense ranking of the language as far as it is known
    (every document of ``docs`` has a passage there); Qdrant's dense prefetch is
    its top ``depth``; ``complete``: ``dense`` holds every passage there is (the
    search found fewer than it asked for). ``lexical``: the sparse top ``depth``.
    ``limit``: Qdrant's fused list length; a document whose best passage falls past it is absent
    from Qdrant's list (and from the answer).

    When ``dense`` holds fewer than ``depth`` passages, a lexical passage outside
    it has an unknown dense position past its end: its fused score lies between
    its lexical part and that plus the score of the first unknown position. No
    answer when such a passage could be its document's best. A document that
    may or may not make Qdrant's top ``limit`` (present: placed by its score;
    absent: after all present ones) is uncertain; the documents surely in the
    top ``limit`` come before it in fused order, so they are the certain ones.
    The points returned are known dense ones, in fused order, without the
    documents surely outside the top ``limit``.
    """
    if complete or len(dense) >= depth:  # both lists wholly known: Qdrant's fusion itself
        return weighted_rrf([dense[:depth], lexical], (1.0, weight), k, limit), len(docs)
    keys = [point_key(p) for p in dense]
    lex_keys = [point_key(p) for p in lexical]
    lex_part = dict(zip(lex_keys, rrf_contributions(len(lexical), weight, k).tolist(), strict=True))
    exact = rrf_contributions(len(dense), 1.0, k) + np.fromiter(
        (lex_part.get(key, 0.0) for key in keys), dtype=np.float32, count=len(keys)
    )
    best: dict[Any, int] = {}  # document -> index in ``dense`` of its best passage
    for i, p in enumerate(dense):
        doc = p.payload.get("doc_id")
        if doc in docs and (doc not in best or exact[i] > exact[best[doc]]):
            best[doc] = i
    if len(best) < len(docs):
        return None
    # lexical passages not in ``dense``: [lo, hi] bounds of their fused scores
    unknown = float(rrf_contributions(depth, 1.0, k)[len(dense)])
    known = set(keys)
    outside = [(p.payload.get("doc_id"), lex_part[key]) for p, key in zip(lexical, lex_keys,
               strict=True) if key not in known]  # fmt: skip
    lo = np.asarray([s for _, s in outside], dtype=np.float32)
    hi = lo + np.float32(unknown)
    for (doc, _), h in zip(outside, hi.tolist(), strict=True):
        if doc in best and h >= float(exact[best[doc]]):
            return None  # such a passage may be its document's best
    b = exact[list(best.values())][:, None]  # each document's best fused score
    surely_above = (exact[None, :] > b).sum(1) + (lo[None, :] > b).sum(1)
    maybe_above = (exact[None, :] >= b).sum(1) - 1 + (hi[None, :] >= b).sum(1)
    unsure = (surely_above < limit) & (maybe_above >= limit)
    certain = int((maybe_above < limit).sum()) if unsure.any() else len(docs)
    absent = {doc for doc, n in zip(best, surely_above.tolist(), strict=True) if n >= limit}
    order = sorted(range(len(dense)), key=exact.tolist().__getitem__, reverse=True)
    return [dense[i] for i in order if dense[i].payload.get("doc_id") not in absent], certain
