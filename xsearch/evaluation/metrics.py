"""Retrieval metrics, pure numpy.

Most functions take a *relevance matrix*: ``rel[i, r]`` is True when the hit at
rank ``r`` (0-based) of query ``i`` is relevant. Rows may be padded with False
when a query returned fewer hits than the matrix is wide. ``n_relevant[i]`` is
the number of relevant items that exist for query ``i`` in the whole
collection (found or not): recall and average precision divide by it, so a
relevant item that was never retrieved counts as a miss, never as absent.

Every function returns a mean over queries unless its name says ``per_query``.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Sequence

import numpy as np

__all__ = [
    "accuracy_at_1",
    "relevance_matrix",
    "recall_at_k",
    "mrr_at_k",
    "average_precision_per_query",
    "mean_average_precision",
    "same_language_share",
    "language_bias",
]


def accuracy_at_1(scores: np.ndarray, gold: np.ndarray | None = None) -> float:
    """Share of rows whose highest score is in the gold column.

    ``scores`` is ``[n_queries, n_candidates]``; ``gold[i]`` is the column of the
    right candidate for row ``i`` (default: ``i``, the aligned-bitext case).
    Ties go to the lowest column (numpy ``argmax``), the rule LASER and MTEB use.
    """
    scores = np.asarray(scores)
    if scores.ndim != 2 or scores.shape[0] == 0:
        raise ValueError(f"scores must be a non-empty 2-D matrix, got shape {scores.shape}")
    if gold is None:
        gold = np.arange(scores.shape[0])
    return float(np.mean(np.argmax(scores, axis=1) == np.asarray(gold)))


def relevance_matrix(
    ranked: Sequence[Sequence[Hashable]],
    relevant: Sequence[Collection[Hashable]],
    depth: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Build ``(rel, n_relevant)`` from ranked ids and the sets of relevant ids.

    ``ranked[i]`` lists the ids returned for query ``i``, best first; only the first
    ``depth`` count. An id returned twice counts once (the first time), so a
    ranker cannot inflate precision by repeating a relevant item.
    """
    if len(ranked) != len(relevant):
        raise ValueError(f"{len(ranked)} rankings but {len(relevant)} relevance sets")
    rel = np.zeros((len(ranked), depth), dtype=bool)
    n_rel = np.zeros(len(ranked), dtype=np.int64)
    for i, (ids, good) in enumerate(zip(ranked, relevant, strict=True)):
        n_rel[i] = len(good)
        seen: set[Hashable] = set()
        for r, item in enumerate(ids[:depth]):
            if item in good and item not in seen:
                rel[i, r] = True
            seen.add(item)
    return rel, n_rel


def _check(rel: np.ndarray, k: int) -> np.ndarray:
    rel = np.asarray(rel, dtype=bool)
    if rel.ndim != 2:
        raise ValueError(f"rel must be [n_queries, depth], got shape {rel.shape}")
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if k > rel.shape[1]:
        # Asking for a cutoff deeper than what was retrieved would silently
        # under-count: refuse instead.
        raise ValueError(f"k={k} is deeper than the {rel.shape[1]} ranks retrieved")
    return rel


def recall_at_k(rel: np.ndarray, n_relevant: np.ndarray, k: int) -> float:
    """Mean over queries of (relevant items in the top k) / (relevant items that exist).

    With one relevant item per query this is the hit rate @k (recall@1 equals
    accuracy@1). Queries with no relevant item are an error, not a zero.
    """
    rel = _check(rel, k)
    n_rel = np.asarray(n_relevant)
    if np.any(n_rel <= 0):
        raise ValueError("every query needs at least one relevant item for recall")
    return float(np.mean(rel[:, :k].sum(axis=1) / n_rel))


def mrr_at_k(rel: np.ndarray, k: int) -> float:
    """Mean reciprocal rank @k: mean over queries of 1 / (1-based rank of the first
    relevant hit), or 0 when no relevant hit is in the top k."""
    rel = _check(rel, k)[:, :k]
    found = rel.any(axis=1)
    first = np.argmax(rel, axis=1)  # 0 for rows with no hit; masked by `found`
    return float(np.mean(np.where(found, 1.0 / (first + 1), 0.0)))


def average_precision_per_query(
    rel: np.ndarray, n_relevant: np.ndarray, k: int | None = None
) -> np.ndarray:
    """Average precision of each query: (1 / R) * sum over the ranks r <= k that hold a
    relevant hit of precision@r, where R is the number of relevant items that exist.

    This is the LAReQA definition (several relevant items: the same paragraph in
    every language). Relevant items not in the top k add nothing, so AP@k is a
    lower bound of the full-ranking AP.
    """
    rel = np.asarray(rel, dtype=bool)
    k = rel.shape[1] if k is None else k
    rel = _check(rel, k)[:, :k]
    n_rel = np.asarray(n_relevant, dtype=np.float64)
    if np.any(n_rel <= 0):
        raise ValueError("every query needs at least one relevant item for AP")
    hits_so_far = np.cumsum(rel, axis=1)
    precision = hits_so_far / np.arange(1, k + 1)
    return (precision * rel).sum(axis=1) / n_rel


def mean_average_precision(rel: np.ndarray, n_relevant: np.ndarray, k: int | None = None) -> float:
    """mAP@k: the mean over queries of :func:`average_precision_per_query`."""
    return float(np.mean(average_precision_per_query(rel, n_relevant, k)))


def same_language_share(
    hit_langs: Sequence[Sequence[str]], query_langs: Sequence[str], k: int = 10
) -> float:
    """Share of all top-k hits (pooled over queries) that are in the query's own language.

    Pooled, not averaged per query, so a query with fewer than k hits weighs
    what it returned. Returns 0.0 when there are no hits at all.
    """
    if len(hit_langs) != len(query_langs):
        raise ValueError(f"{len(hit_langs)} hit lists but {len(query_langs)} query languages")
    same = total = 0
    for langs, q in zip(hit_langs, query_langs, strict=True):
        top = langs[:k]
        total += len(top)
        same += sum(1 for lang in top if lang == q)
    return same / total if total else 0.0


def language_bias(
    hit_langs: Sequence[Sequence[str]], query_langs: Sequence[str], n_languages: int, k: int = 10
) -> dict[str, float]:
    """Language bias of a ranker in a pool holding the same content in ``n_languages``.

    Returns ``same_share`` (see :func:`same_language_share`), ``blind_share`` =
    1 / n_languages (what a ranker that ignores language would give when every
    item exists in every language) and ``ratio`` = same_share / blind_share
    (1.0 = no bias; 8 = the own language gets eight times its fair share).
    """
    if n_languages < 1:
        raise ValueError(f"n_languages must be >= 1, got {n_languages}")
    same = same_language_share(hit_langs, query_langs, k)
    blind = 1.0 / n_languages
    return {"same_share": same, "blind_share": blind, "ratio": same / blind}
