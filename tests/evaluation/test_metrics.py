"""Metric functions against values computed by hand."""

from __future__ import annotations

import numpy as np
import pytest

from xsearch.evaluation import metrics as M


def test_accuracy_at_1_diagonal_and_gold():
    scores = np.array([[0.9, 0.1, 0.0], [0.8, 0.7, 0.1], [0.0, 0.2, 0.5]])
    # row 0 -> 0 (right), row 1 -> 0 (wrong, gold 1), row 2 -> 2 (right)
    assert M.accuracy_at_1(scores) == pytest.approx(2 / 3)
    assert M.accuracy_at_1(scores, np.array([0, 0, 1])) == pytest.approx(2 / 3)


def test_accuracy_ties_go_to_the_lowest_column():
    scores = np.array([[0.5, 0.5], [0.5, 0.5]])
    assert M.accuracy_at_1(scores) == pytest.approx(0.5)


def test_relevance_matrix_counts_a_repeated_id_once():
    rel, n_rel = M.relevance_matrix([["a", "a", "b"], ["x"]], [{"a"}, {"y", "z"}], depth=3)
    assert rel.tolist() == [[True, False, False], [False, False, False]]
    assert n_rel.tolist() == [1, 2]


def test_recall_at_k_one_and_several_relevant():
    # q0: relevant at ranks 2 and 4 of 2 relevant; q1: relevant at rank 1 of 3 relevant.
    rel = np.array([[0, 1, 0, 1], [1, 0, 0, 0]], dtype=bool)
    n_rel = np.array([2, 3])
    assert M.recall_at_k(rel, n_rel, 1) == pytest.approx((0 / 2 + 1 / 3) / 2)
    assert M.recall_at_k(rel, n_rel, 2) == pytest.approx((1 / 2 + 1 / 3) / 2)
    assert M.recall_at_k(rel, n_rel, 4) == pytest.approx((2 / 2 + 1 / 3) / 2)


def test_mrr_at_k():
    rel = np.array([[0, 0, 1], [1, 0, 0], [0, 0, 0], [0, 1, 1]], dtype=bool)
    assert M.mrr_at_k(rel, 3) == pytest.approx((1 / 3 + 1 + 0 + 1 / 2) / 4)
    # at k=2 the first query's hit at rank 3 no longer counts
    assert M.mrr_at_k(rel, 2) == pytest.approx((0 + 1 + 0 + 1 / 2) / 4)


def test_average_precision_with_several_relevant_items():
    # 3 relevant items exist; found at ranks 1, 3 and 6:
    # AP = (1/1 + 2/3 + 3/6) / 3 = 0.7222...
    rel = np.array([[1, 0, 1, 0, 0, 1]], dtype=bool)
    assert M.average_precision_per_query(rel, np.array([3]))[0] == pytest.approx(
        (1 + 2 / 3 + 3 / 6) / 3
    )
    # 4 exist but only 3 were found: the missing one adds 0, denominator stays 4
    assert M.average_precision_per_query(rel, np.array([4]))[0] == pytest.approx(
        (1 + 2 / 3 + 3 / 6) / 4
    )
    # cut at k=3: only ranks 1 and 3 count
    assert M.mean_average_precision(rel, np.array([3]), k=3) == pytest.approx((1 + 2 / 3) / 3)


def test_map_is_the_mean_over_queries():
    rel = np.array([[1, 1, 0], [0, 0, 0], [0, 1, 0]], dtype=bool)
    n_rel = np.array([2, 1, 1])
    # q0: (1 + 1)/2 = 1 ; q1: 0 ; q2: (1/2)/1 = 0.5
    assert M.mean_average_precision(rel, n_rel) == pytest.approx(0.5)


def test_language_bias():
    hits = [["en", "en", "de", "fr"], ["de", "de"], ["fr"]]
    q = ["en", "de", "en"]
    # same: 2 + 2 + 0 = 4 of 4 + 2 + 1 = 7 hits (k=10 keeps all)
    bias = M.language_bias(hits, q, n_languages=4, k=10)
    assert bias["same_share"] == pytest.approx(4 / 7)
    assert bias["blind_share"] == pytest.approx(0.25)
    assert bias["ratio"] == pytest.approx((4 / 7) / 0.25)
    # k=1: en, de, fr -> 2 of 3 in the own language
    assert M.same_language_share(hits, q, k=1) == pytest.approx(2 / 3)


def test_errors_are_loud():
    rel = np.zeros((2, 3), dtype=bool)
    with pytest.raises(ValueError, match="deeper"):
        M.mrr_at_k(rel, 10)
    with pytest.raises(ValueError, match="relevant"):
        M.recall_at_k(rel, np.array([1, 0]), 1)
    with pytest.raises(ValueError):
        M.relevance_matrix([["a"]], [{"a"}, {"b"}], 2)
