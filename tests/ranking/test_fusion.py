"""Fusion of the candidates' own dense order with one sparse query (ranking/fusion.py).

``fuse_candidates`` sees only the top of the dense list (the passages the search
already found) and must give the documents it is asked about exactly the order
that Qdrant's fusion of the whole lists gives them, or say that it cannot. The
whole lists are known here, so the truth is computed with ``weighted_rrf``
(itself checked against Qdrant's own fused scores in tests/store/test_store.py).
"""

from __future__ import annotations

import random
import uuid

import numpy as np
import pytest

from xsearch.ranking.fusion import fuse_candidates, rrf_contributions, weighted_rrf
from xsearch.search import place_in_slots
from xsearch.store.records import ScoredPoint


def _pid(i: int) -> str:
    return str(uuid.UUID(int=i + 1))  # point ids are UUIDs


def _point(i: int, doc: int) -> ScoredPoint:
    return ScoredPoint(_pid(i), 0.0, {"doc_id": f"d{doc}", "lang": "en"})


def _doc_order(pts: list[ScoredPoint], order: list[ScoredPoint]) -> list[str]:
    return [p.payload["doc_id"] for p in place_in_slots(pts, list(range(len(pts))), order)]


def test_contributions_are_qdrants_formula() -> None:
    got = rrf_contributions(4, 2.0, 5)
    want = [1.0 / ((pos + 1) / 2.0 + 5 - 1) for pos in range(4)]
    assert got.dtype == np.float32
    assert got.tolist() == pytest.approx(want, rel=1e-7)
    # weight 1: 1 / (k + pos), pos counted from 0 (Qdrant's k=2 default gives 1/2 to the top)
    assert rrf_contributions(3, 1.0, 60).tolist() == pytest.approx([1 / 60, 1 / 61, 1 / 62])


def test_ties_keep_the_order_of_first_appearance() -> None:
    a, b = _point(0, 0), _point(1, 1)
    # a is first of the dense list, b first of the lexical list, equal weights: a tie
    assert [p.id for p in weighted_rrf([[a], [b]], (1.0, 1.0), 5, 10)] == [_pid(0), _pid(1)]
    assert [p.id for p in weighted_rrf([[b], [a]], (1.0, 1.0), 5, 10)] == [_pid(1), _pid(0)]
    assert len(weighted_rrf([[a], [b]], (1.0, 1.0), 5, 1)) == 1


@pytest.mark.parametrize("seed", range(6))
def test_the_order_is_exact_or_refused(seed: int) -> None:
    """Random lists, several passages per document: whenever an answer comes, the
    places it calls certain are those of the whole fusion."""
    rng = random.Random(seed)
    answered = whole = 0
    for _ in range(150):
        n, depth = 300, rng.choice((20, 60, 100))
        docs_of = [rng.randrange(120) for _ in range(n)]
        points = [_point(i, docs_of[i]) for i in range(n)]  # the whole dense order
        lexical = rng.sample(points, rng.randrange(0, depth + 1))
        found = points[: rng.randrange(1, depth + 40)]
        # the documents whose places the hybrid step reorders: best passage per doc
        pts, seen = [], set()
        for p in found:
            if p.payload["doc_id"] not in seen:
                seen.add(p.payload["doc_id"])
                pts.append(p)
        limit = len(pts)
        weight = rng.choice((0.3, 1.0, 2.0))
        truth = weighted_rrf([points[:depth], lexical], (1.0, weight), 5, limit)
        got = fuse_candidates(found, lexical, weight, 5, depth, limit, seen)
        if got is None:
            continue
        order, certain = got
        answered += 1
        whole += certain == len(pts)
        assert 0 <= certain <= len(pts)
        assert _doc_order(pts, order)[:certain] == _doc_order(pts, truth)[:certain]
    # lexical lists drawn from anywhere in a dense list of 300 passages of 120
    # documents: many unfound passages of found documents; still many answer
    assert answered >= 60 and whole >= 40, (answered, whole)  # (of 150)


def test_a_document_whose_best_passage_may_be_unknown_is_refused() -> None:
    # doc d0: found at dense position 1; its other passage p9 is first lexically but
    # was not found: its dense position (>= 2) is unknown, it may be d0's best
    found = [_point(0, 1), _point(1, 0)]
    hidden = _point(9, 0)
    lexical = [hidden, _point(0, 1)]
    assert fuse_candidates(found, lexical, 1.0, 5, 100, 2, {"d0", "d1"}) is None
    # with the whole dense list known (depth reached), the fusion is Qdrant's own
    got = fuse_candidates(found, lexical, 1.0, 5, 2, 3, {"d0", "d1"})
    assert got is not None and [p.id for p in got[0]][:1] == [_pid(0)] and got[1] == 2
