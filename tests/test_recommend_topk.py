"""The fast top-k paths of the recommenders (a bound from column-chunk maxima, then a small sort)
give exactly what a full sort gives, ties included."""

import numpy as np
import pytest

from marketing.recommend.models import _top_k_dense, _top_n_per_row


def _reference_top_k(ranked, k):
    # a full stable sort of every row: best first, ties by lower column
    return np.argsort(-ranked, axis=1, kind="stable")[:, :k]


def test_top_k_dense_hand_worked():
    ranked = np.array([[0.1, 0.9, 0.5, 0.9, -np.inf, 0.3, 0.2, 0.0, 0.4, 0.8]])
    # k = 1 takes the fast path (10 columns >= 8k): ties at 0.9 go to the lower column
    assert _top_k_dense(ranked, 1).tolist() == [[1]]
    assert _top_k_dense(ranked, 3).tolist() == [[1, 3, 9]]


@pytest.mark.parametrize("n_cols", [40, 500, 3000])
def test_top_k_dense_matches_a_full_sort(n_cols):
    rng = np.random.default_rng(n_cols)
    ranked = np.round(rng.random((60, n_cols)) * 20)  # many ties
    ranked[rng.random(ranked.shape) < 0.2] = -np.inf  # owned items
    ranked[0] = -np.inf  # a customer who owns everything
    ranked[1, :] = 3.0  # all tied
    top, expected = _top_k_dense(ranked, 10), _reference_top_k(ranked, 10)
    # the same scores in the same order everywhere
    np.testing.assert_array_equal(np.take_along_axis(ranked, top, axis=1),
                                  np.take_along_axis(ranked, expected, axis=1))
    # ties by the lower column on both paths (at least 8k columns: the fast one)
    np.testing.assert_array_equal(top, expected)


def test_top_k_dense_falls_back_on_nan():
    ranked = np.arange(100.0)[None, :].repeat(2, axis=0)
    ranked[0, :95] = np.nan
    top = _top_k_dense(ranked, 3)
    assert top[1].tolist() == [99, 98, 97]
    assert set(top[0]) <= set(range(95, 100)) | set(range(95))


def test_top_n_per_row_keeps_the_n_largest_positive_entries():
    M = np.zeros((2, 20))
    M[0, [3, 7, 11]] = [0.5, 0.9, 0.7]
    M[1, 5] = 0.2
    kept = _top_n_per_row(M, 2)
    assert kept[0].indices.tolist() == [7, 11] and kept[0].data.tolist() == [0.9, 0.7]
    assert kept[1].indices.tolist() == [5]  # fewer positive entries than n: only those


@pytest.mark.parametrize("n_cols", [60, 400])
@pytest.mark.parametrize("n", [5, 20])
def test_top_n_per_row_keeps_the_lower_columns_of_a_tie_across_the_cut(n, n_cols):
    # argpartition keeps an arbitrary one of tied entries, and which one differs between CPUs
    # (AVX-512 and AVX2 builds of numpy's sort): the kept set must be the stable sort's
    rng = np.random.default_rng(n)
    M = np.round(rng.random((80, n_cols)) * 10) / 10 - 0.2
    part = _reference_top_k(M, n)
    expected = np.zeros_like(M)
    np.put_along_axis(expected, part, np.take_along_axis(M, part, axis=1), axis=1)
    expected[expected < 0] = 0
    np.testing.assert_array_equal(_top_n_per_row(M, n).toarray(), expected)


def test_top_n_per_row_hand_worked_tie():
    M = np.zeros((1, 40))
    M[0, [30, 4, 17, 9]] = [0.5, 0.5, 0.9, 0.5]
    kept = _top_n_per_row(M, 2)
    assert kept.indices.tolist() == [4, 17] and kept.data.tolist() == [0.5, 0.9]  # of the three 0.5s, column 4


def _popularity_model(n_users, n_items, density, seed):
    import pandas as pd

    from marketing.recommend import PopularityRecommender, build_interactions

    rng = np.random.default_rng(seed)
    pairs = pd.DataFrame({"customer_id": rng.integers(0, n_users, int(n_users * n_items * density)),
                          # a skewed catalogue: popular items, many ties among the rare ones
                          "item_id": np.minimum(rng.geometric(4 / n_items, int(n_users * n_items * density)), n_items) - 1})
    heavy = pd.DataFrame({"customer_id": n_users, "item_id": np.arange(n_items - 2)})  # owns nearly everything
    X = build_interactions(pd.concat([pairs, heavy], ignore_index=True))
    return PopularityRecommender().fit(X), X


@pytest.mark.parametrize("exclude_seen", [True, False])
def test_popularity_top_k_equals_the_dense_scoring_of_every_item(exclude_seen):
    from marketing.recommend.models import Recommender

    model, X = _popularity_model(300, 80, 0.05, seed=3)
    rows = np.concatenate([np.arange(X.matrix.shape[0]), [-1, -1, 5]])  # cold-start rows, a repeat
    for k in (1, 10, 40):
        got = model.recommend_positions(rows, k, exclude_seen=exclude_seen)
        expected = Recommender.recommend_positions(model, rows, k, exclude_seen=exclude_seen)
        np.testing.assert_array_equal(got[0], expected[0])
        np.testing.assert_array_equal(got[1], expected[1])
    # the customer who owns all but two items gets those two, then unfilled slots
    heavy = model.recommend_positions(np.array([X.matrix.shape[0] - 1]), 5)
    assert (heavy[0][0, :2] >= 0).all() and (heavy[0][0, 2:] == -1).all() and np.isnan(heavy[1][0, 2:]).all()


def test_popularity_top_k_in_batches_equals_one_pass():
    model, X = _popularity_model(500, 60, 0.05, seed=4)
    rows = np.arange(X.matrix.shape[0])
    whole = model.recommend_positions(rows, 10)
    pieces = model.recommend_positions(rows, 10, batch_size=1)  # 64 rows at a time
    np.testing.assert_array_equal(whole[0], pieces[0])


@pytest.mark.parametrize("n", [3, 20])
def test_top_n_per_row_of_a_sparse_matrix_keeps_what_its_dense_form_keeps(n):
    import scipy.sparse as sp

    # ties across the cut, negative entries, empty rows, rows with fewer than n entries, unsorted indices
    rng = np.random.default_rng(n)
    dense = np.round(rng.random((120, 500)) * 10) / 10 - 0.2
    dense[rng.random(dense.shape) < 0.9] = 0.0
    dense[:5] = 0.0
    dense[5, :2] = 0.7
    P = sp.csr_matrix(dense)
    shuffled = P.copy()
    for r in range(P.shape[0]):   # the same matrix with each row's entries out of order
        lo, hi = P.indptr[r], P.indptr[r + 1]
        order = rng.permutation(hi - lo)
        shuffled.indices[lo:hi], shuffled.data[lo:hi] = P.indices[lo:hi][order], P.data[lo:hi][order]
    shuffled.has_sorted_indices = False
    expected = _top_n_per_row(dense, n).toarray()
    np.testing.assert_array_equal(_top_n_per_row(P, n).toarray(), expected)
    np.testing.assert_array_equal(_top_n_per_row(shuffled, n).toarray(), expected)


def test_item_knn_keeps_each_items_most_similar_items_by_brute_force():
    import scipy.sparse as sp

    from marketing.recommend import Interactions, ItemKNN

    rng = np.random.default_rng(7)
    X = sp.csr_matrix((rng.random((300, 200)) < 0.05).astype(np.float32))
    model = ItemKNN(n_neighbors=5, block_size=64).fit(Interactions(X, np.arange(300), np.arange(200)))
    dense = X.toarray().astype(np.float64)
    norms = np.linalg.norm(dense, axis=0)
    cosine = (dense.T @ dense) / np.outer(np.where(norms > 0, norms, 1), np.where(norms > 0, norms, 1))
    np.fill_diagonal(cosine, 0.0)
    S = model.similarity_.toarray()
    for j in range(200):
        kept = np.flatnonzero(S[j])
        positive = np.flatnonzero(cosine[j] > 1e-9)
        assert len(kept) == min(5, len(positive)) and j not in kept
        if len(kept):
            # every kept neighbour is at least as similar as every neighbour left out
            left_out = np.setdiff1d(positive, kept)
            assert cosine[j, kept].min() >= (cosine[j, left_out].max() if len(left_out) else 0) - 1e-6
            np.testing.assert_allclose(S[j, kept], cosine[j, kept], rtol=1e-5)


@pytest.mark.parametrize("seed", [0, 1])
def test_als_top_k_screened_in_float32_equals_the_float64_dense_path(seed):
    import pandas as pd

    from marketing.recommend import ALS, build_interactions
    from marketing.recommend.models import Recommender

    rng = np.random.default_rng(seed)
    n_users, n_items = 400, 300
    events = pd.DataFrame({"customer_id": rng.integers(0, n_users, 6000),
                           "item_id": np.minimum(rng.geometric(5 / n_items, 6000), n_items) - 1})
    heavy = pd.DataFrame({"customer_id": n_users, "item_id": np.arange(n_items - 3)})  # owns nearly everything
    X = build_interactions(pd.concat([events, heavy], ignore_index=True))
    model = ALS(factors=8, iterations=3, random_state=seed).fit(X)
    V = model.item_factors_
    # exact ties in score: duplicated items, items of zero factors (and near-ties one float32 ulp apart)
    V[1::7] = V[0]
    V[2::11] = 0.0
    V[3::13] = np.nextafter(V[0], np.float32(np.inf))
    rows = np.arange(X.matrix.shape[0])
    for k in (1, 10, 30):
        for exclude_seen in (True, False):
            got = model.recommend_positions(rows, k, exclude_seen=exclude_seen)
            # the base class's block: the float64 scores of every item, their dense top k
            expected = Recommender._top_k_block(model, rows, k, exclude_seen)
            np.testing.assert_array_equal(got[0], expected[0])
            np.testing.assert_allclose(got[1], expected[1], rtol=1e-12, atol=1e-15)
    # the heavy customer: its few unseen items, then unfilled slots
    unseen = X.n_items - X.matrix[-1].nnz
    top, scores = model.recommend_positions(np.array([X.matrix.shape[0] - 1]), unseen + 2)
    assert (top[0, :unseen] >= 0).all() and (top[0, unseen:] == -1).all() and np.isnan(scores[0, unseen:]).all()
