"""Ranking metrics against hand-worked examples and at their limits."""

import math

import numpy as np
import pytest
import scipy.sparse as sp

from marketing.recommend import (
    catalogue_coverage,
    hit_rate_at_k,
    mae,
    map_at_k,
    mrr_at_k,
    ndcg_at_k,
    novelty,
    precision_at_k,
    ranking_metrics,
    recall_at_k,
    rmse,
)
from marketing.recommend.metrics import ranking_metrics_per_user

# Two customers, k = 3.
# A: list [4, 2, 7], relevant {2, 7, 9}: hits at ranks 2 and 3.
# B: list [1, 5, 6], relevant {1}: hit at rank 1.
REC = [[4, 2, 7], [1, 5, 6]]
REL = [{2, 7, 9}, {1}]
LOG = math.log2


def test_precision_recall_hit_rate_by_hand():
    assert precision_at_k(REC, REL, 3) == pytest.approx((2 / 3 + 1 / 3) / 2)
    assert recall_at_k(REC, REL, 3) == pytest.approx((2 / 3 + 1) / 2)
    assert hit_rate_at_k(REC, REL, 3) == 1.0


def test_ndcg_by_hand():
    dcg_a = 1 / LOG(3) + 1 / LOG(4)
    idcg_a = 1 + 1 / LOG(3) + 1 / LOG(4)  # three relevant, three slots
    assert ndcg_at_k(REC, REL, 3) == pytest.approx((dcg_a / idcg_a + 1.0) / 2)


def test_map_and_mrr_by_hand():
    ap_a = (1 / 2 + 2 / 3) / 3  # precision at the hit ranks, over min(|R|, k) = 3
    assert map_at_k(REC, REL, 3) == pytest.approx((ap_a + 1.0) / 2)
    assert mrr_at_k(REC, REL, 3) == pytest.approx((1 / 2 + 1) / 2)


def test_cut_off_k_shortens_the_list():
    # at k = 1 customer A has no hit, B has one
    m = ranking_metrics(REC, REL, 1)
    assert m["precision"] == 0.5 and m["hit_rate"] == 0.5 and m["ndcg"] == 0.5
    assert m["recall"] == pytest.approx((0 + 1) / 2)


def test_perfect_and_empty_rankings():
    perfect = ranking_metrics([[1, 2, 3]], [{1, 2, 3}], 3)
    assert all(v == pytest.approx(1.0) for v in perfect.values())
    empty = ranking_metrics([[-1, -1, -1]], [{1, 2}], 3)
    assert all(v == 0.0 for v in empty.values())


def test_short_list_is_padded_and_precision_keeps_k_denominator():
    m = ranking_metrics([[1]], [{1}], 4)
    assert m["precision"] == 0.25
    assert m["recall"] == 1.0 and m["ndcg"] == 1.0


def test_customers_without_relevant_items_are_skipped():
    per_user = ranking_metrics_per_user([[1, 2], [3, 4]], [{1}, set()], 2)
    assert np.isnan(per_user["ndcg"][1])
    assert precision_at_k([[1, 2], [3, 4]], [{1}, set()], 2) == 0.5
    assert math.isnan(precision_at_k([[1, 2]], [set()], 2))


def test_sparse_relevance_matches_sets():
    rel = sp.csr_matrix(([1, 1, 1, 1], ([0, 0, 0, 1], [2, 7, 9, 1])), shape=(2, 10))
    assert ranking_metrics(np.array(REC), rel, 3) == pytest.approx(ranking_metrics(REC, REL, 3))


def test_duplicate_relevant_entries_count_once():
    rel = sp.csr_matrix(([1.0, 1.0], ([0, 0], [1, 1])), shape=(1, 3))
    assert recall_at_k([[1, 2]], rel, 2) == 1.0


def test_bad_shapes_and_k():
    with pytest.raises(ValueError, match="one row per customer"):
        ranking_metrics([[1, 2]], [{1}, {2}], 2)
    with pytest.raises(ValueError, match="at least 1"):
        ranking_metrics([[1, 2]], [{1}], 0)


def test_coverage_and_novelty_by_hand():
    assert catalogue_coverage([[0, 1], [1, 2]], n_items=6) == 0.5
    # item 0 is had by 8 of 8 customers (p = 1), item 1 by 2 of 8 (p = 1/4), item 2 by nobody (floored to 1/8)
    assert novelty([[0, 1, 2]], np.array([8, 2, 0]), n_users=8) == pytest.approx((0 + 2 + 3) / 3)
    with pytest.raises(ValueError, match="catalogue"):
        catalogue_coverage([[0]], n_items=0)


def test_rating_errors_by_hand():
    assert rmse([1, 2, 3], [2, 2, 5]) == pytest.approx(math.sqrt((1 + 0 + 4) / 3))
    assert mae([1, 2, 3], [2, 2, 5]) == pytest.approx(1.0)
