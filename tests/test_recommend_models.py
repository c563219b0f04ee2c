"""Recommenders on tiny matrices where the right answer is worked out by hand."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from marketing.recommend import (
    ALS,
    EASE,
    Interactions,
    ItemKNN,
    PopularityRecommender,
    UserKNN,
    build_interactions,
)

# Customers 1-4 like items a, b (block 1); customers 5-7 like c, d (block 2); item e is the
# most popular (customers 1, 5, 8, 9, 10). Customer 4 has only a and customer 7 only c: the right
# next item is b for 4 and d for 7, while popularity says e.
PAIRS = [
    (1, "a"), (1, "b"), (1, "e"), (2, "a"), (2, "b"), (3, "a"), (3, "b"),
    (4, "a"),
    (5, "c"), (5, "d"), (5, "e"), (6, "c"), (6, "d"),
    (7, "c"),
    (8, "e"), (9, "e"), (10, "e"),
]
ITEMS = {"a": 10, "b": 20, "c": 30, "d": 40, "e": 50}
EVENTS = pd.DataFrame({"customer_id": [u for u, _ in PAIRS], "item_id": [ITEMS[i] for _, i in PAIRS]})
X = build_interactions(EVENTS)

PERSONAL = [
    ItemKNN(n_neighbors=2),
    UserKNN(n_neighbors=2, similarity="cosine"),
    UserKNN(n_neighbors=2, similarity="pearson"),
    EASE(l2=0.5),
]


@pytest.mark.parametrize("model", PERSONAL, ids=lambda m: type(m).__name__ + getattr(m, "similarity", ""))
def test_personal_models_find_the_block_item(model):
    rec = model.fit(X).recommend([4, 7], k=1)
    assert rec["item_id"].tolist() == [ITEMS["b"], ITEMS["d"]]


def test_als_finds_the_block_item():
    # two factors for two blocks; confidence alpha = 10 so the few observed pairs outweigh the zeros
    rec = ALS(factors=2, regularization=0.01, alpha=10.0, iterations=30, random_state=0).fit(X).recommend([4, 7], k=1)
    assert rec["item_id"].tolist() == [ITEMS["b"], ITEMS["d"]]


def test_popularity_is_the_baseline_answer():
    rec = PopularityRecommender().fit(X).recommend([4], k=3)
    # e (5 customers) first; then b (3 customers, ties with c and wins on position); a is owned
    assert rec["item_id"].tolist()[:2] == [ITEMS["e"], ITEMS["b"]]
    assert rec["score"].tolist()[:2] == [5.0, 3.0]


@pytest.mark.parametrize("model", [*PERSONAL, PopularityRecommender()], ids=lambda m: type(m).__name__)
def test_seen_items_are_excluded(model):
    rec = model.fit(X).recommend([1, 4], k=2)
    owned = set(zip(EVENTS["customer_id"], EVENTS["item_id"]))
    assert not any((c, i) in owned for c, i in zip(rec["customer_id"], rec["item_id"]))
    assert rec.groupby("customer_id")["rank"].apply(list).tolist() == [[1, 2], [1, 2]]


def test_item_knn_similarity_is_cosine_by_hand():
    model = ItemKNN(n_neighbors=4).fit(X)
    S = model.similarity_.toarray()
    # a: customers {1,2,3,4}; b: {1,2,3}: cosine = 3 / sqrt(4 * 3)
    assert S[0, 1] == pytest.approx(3 / np.sqrt(12), rel=1e-6)
    # a and e share customer 1; e has 5 customers: 1 / sqrt(4 * 5)
    assert S[0, 4] == pytest.approx(1 / np.sqrt(20), rel=1e-6)
    assert np.all(np.diag(S) == 0)
    # score(4, b) = x_4a * s_ab: customer 4 only has a
    assert model.score([4], [ITEMS["b"]])[0] == pytest.approx(3 / np.sqrt(12), rel=1e-6)


def test_item_knn_matches_brute_force_on_random_data():
    rng = np.random.default_rng(0)
    dense = (rng.random((60, 25)) < 0.2).astype(np.float32)
    data = Interactions(sp.csr_matrix(dense), np.arange(60), np.arange(25))
    model = ItemKNN(n_neighbors=5, block_size=7).fit(data)
    norms = np.linalg.norm(dense, axis=0)
    cos = (dense.T @ dense) / np.outer(norms, norms).clip(min=1e-12)
    np.fill_diagonal(cos, 0)
    # row j keeps j's 5 largest similarities
    S = model.similarity_.toarray()
    for j in range(25):
        expected = np.sort(cos[j])[-5:]
        np.testing.assert_allclose(np.sort(S[j][S[j] > 0]), expected[expected > 0], rtol=1e-5)


def test_sparse_and_dense_top_k_agree():
    rng = np.random.default_rng(1)
    dense = (rng.random((200, 40)) < 0.1).astype(np.float32)
    data = Interactions(sp.csr_matrix(dense), np.arange(200), np.arange(40))
    model = ItemKNN(n_neighbors=5).fit(data)
    fast, fast_scores = model.recommend_positions(np.arange(200), 10)
    model._sparse_score_rows = lambda rows: None  # force the dense path
    slow, slow_scores = model.recommend_positions(np.arange(200), 10)
    np.testing.assert_array_equal(fast, slow)
    np.testing.assert_allclose(fast_scores, slow_scores)


def test_user_knn_pearson_by_hand():
    # rows over 3 items: u0 = [1, 1, 0], u1 = [1, 0, 0]; means 2/3 and 1/3;
    # centred: [1/3, 1/3, -2/3] and [2/3, -1/3, -1/3]; dot = 2/9 - 1/9 + 2/9 = 1/3;
    # norms sqrt(6)/3 each -> correlation 0.5
    data = Interactions(sp.csr_matrix(np.array([[1, 1, 0], [1, 0, 0]], dtype=np.float32)), np.arange(2), np.arange(3))
    model = UserKNN(n_neighbors=1, similarity="pearson").fit(data)
    # u1's only neighbour is u0 (corr 0.5): score(u1, item 1) = 0.5 * 1
    assert model.score([1], [1])[0] == pytest.approx(0.5)


def test_ease_closed_form_by_hand():
    # one customer with both of two items: G = [[1, 1], [1, 1]] + l2 I
    data = Interactions(sp.csr_matrix(np.ones((1, 2), dtype=np.float32)), np.arange(1), np.arange(2))
    model = EASE(l2=1.0).fit(data)
    # P = inv([[2, 1], [1, 2]]) = [[2, -1], [-1, 2]] / 3; B_01 = -P_01 / P_11 = 1/2
    np.testing.assert_allclose(model.weights_, [[0, 0.5], [0.5, 0]])


def test_cold_start_customers_get_popularity():
    model = ItemKNN(n_neighbors=2).fit(X)
    rec = model.recommend([999], k=2)
    assert rec["cold_start"].all()
    assert rec["item_id"].tolist() == [ITEMS["e"], ITEMS["a"]]
    assert model.score([999], [ITEMS["e"]])[0] == 5.0


def test_unknown_item_scores_nan_and_lengths_must_match():
    model = ItemKNN().fit(X)
    assert np.isnan(model.score([1], [12345])[0])
    with pytest.raises(ValueError, match="one item per customer"):
        model.score([1, 2], [10])


def test_customer_with_every_item_gets_an_empty_list():
    full = pd.concat([EVENTS, pd.DataFrame({"customer_id": 8, "item_id": list(ITEMS.values())})])
    model = ItemKNN().fit(build_interactions(full))
    rec = model.recommend([8, 4], k=2)
    assert (rec["customer_id"] == 8).sum() == 0
    assert (rec["customer_id"] == 4).sum() == 2
    # one item left: a list of one
    almost = full[~((full["customer_id"] == 8) & (full["item_id"] == ITEMS["d"]))]
    assert ItemKNN().fit(build_interactions(almost)).recommend([8], k=3)["item_id"].tolist() == [ITEMS["d"]]


def test_k_larger_than_catalogue_and_bad_k():
    model = PopularityRecommender().fit(X)
    with pytest.raises(ValueError, match="larger than the catalogue"):
        model.recommend([1], k=6)
    with pytest.raises(ValueError, match="positive integer"):
        model.recommend([1], k=0)


def test_fit_errors():
    with pytest.raises(TypeError, match="build_interactions"):
        ItemKNN().fit(sp.csr_matrix(np.ones((2, 2))))
    with pytest.raises(RuntimeError, match="not fitted"):
        ItemKNN().recommend([1])
    with pytest.raises(ValueError, match="max_items"):
        EASE(max_items=3).fit(X)
    with pytest.raises(ValueError, match="similarity"):
        UserKNN(similarity="jaccard").fit(X)
    empty = Interactions(sp.csr_matrix((2, 2), dtype=np.float32), np.arange(2), np.arange(2))
    with pytest.raises(ValueError, match="empty"):
        PopularityRecommender().fit(empty)


def test_item_knn_explanation_names_the_owned_items():
    model = ItemKNN(n_neighbors=4).fit(X)
    why = model.explain(4, ITEMS["b"])
    assert why["because_item_id"].tolist() == [ITEMS["a"]]
    with pytest.raises(ValueError, match="not in the training data"):
        model.explain(999, ITEMS["b"])


def test_als_is_reproducible():
    a = ALS(factors=4, random_state=3).fit(X).user_factors_
    b = ALS(factors=4, random_state=3).fit(X).user_factors_
    np.testing.assert_array_equal(a, b)


def test_als_gives_the_same_factors_on_any_number_of_threads():
    rng = np.random.default_rng(0)
    events = pd.DataFrame({"customer_id": rng.integers(0, 3000, 30000), "item_id": rng.integers(0, 400, 30000)})
    interactions = build_interactions(events, weighting="binary")
    fits = [ALS(random_state=7, n_jobs=n).fit(interactions) for n in (1, 2, -1)]
    for other in fits[1:]:
        np.testing.assert_array_equal(other.user_factors_, fits[0].user_factors_)
        np.testing.assert_array_equal(other.item_factors_, fits[0].item_factors_)
    with pytest.raises(ValueError, match="n_jobs=0"):
        ALS(n_jobs=0).fit(interactions)
