"""Cold-start models: group and category popularity, content-based scoring, the hybrid.

Hand-worked examples on tiny logs, exactness of the grouped top k against dense scores, and
planted truths (a launch effect the newness bonus must find)."""

import numpy as np
import pandas as pd
import pytest

from marketing.recommend import build_interactions
from marketing.recommend.content import (
    CategoryPopularity, ContentRecommender, GroupPopularity, HybridRecommender,
)
from marketing.recommend.models import ItemKNN, PopularityRecommender, _top_k_dense
from marketing.validation import DataValidationError

ITEMS = pd.DataFrame({"item_id": [1, 2, 3, 4, 5], "category": ["a", "a", "b", "b", "b"],
                      "price": [1.0, 2.0, 3.0, 4.0, 5.0]})


def _log(pairs):
    return pd.DataFrame(pairs, columns=["customer_id", "item_id"])


def test_group_popularity_counts_within_group_and_small_groups_fall_back():
    # region N: customers 1, 2 bought item 1; region S: customer 3 bought 4 and 5, customer 4 bought 5
    events = _log([(1, 1), (2, 1), (3, 4), (3, 5), (4, 5), (5, 2), (5, 3), (6, 3)])
    customers = pd.DataFrame({"customer_id": [1, 2, 3, 4, 5, 6, 9, 10],
                              "region": ["N", "N", "S", "S", "W", "W", "S", "W"]})
    X = build_interactions(events, items=ITEMS)
    model = GroupPopularity(["region"], min_group_size=2).fit(X, customers=customers)
    # new customer 9 (S): counts in S are item 5: 2, item 4: 1
    assert model.recommend([9], k=2)["item_id"].tolist() == [5, 4]
    assert model.score([9, 9], [5, 4]).tolist() == [2.0, 1.0]
    small = GroupPopularity(["region"], min_group_size=3).fit(X, customers=customers)
    # every group has 2 training customers < 3: the global list (3: 2 buyers, 1: 2, 5: 2 ...)
    glob = PopularityRecommender().fit(X).recommend([99], k=3)["item_id"].tolist()
    assert small.recommend([9], k=3)["item_id"].tolist() == glob
    assert model.recommend([9], k=1)["cold_start"].tolist() == [True]


def test_group_popularity_names_missing_column_and_table():
    X = build_interactions(_log([(1, 1)]), items=ITEMS)
    with pytest.raises(DataValidationError, match=r"customers.*\['region'\]"):
        GroupPopularity(["region"]).fit(X, customers=pd.DataFrame({"customer_id": [1]}))
    with pytest.raises(DataValidationError, match="customers=<DataFrame>"):
        GroupPopularity(["region"]).fit(X)
    with pytest.raises(DataValidationError, match=r"items.*\['category'\]"):
        CategoryPopularity().fit(X, items=ITEMS[["item_id"]])


def test_category_popularity_favourite_category_first_then_global():
    # customer 1 mostly buys b (3, 4) and once a (1); item popularity: 1 (3 buyers), 2 (2), 5 (1)
    events = _log([(1, 3), (1, 4), (1, 1), (2, 1), (2, 2), (3, 1), (3, 2), (3, 5)])
    X = build_interactions(events, items=ITEMS)
    model = CategoryPopularity().fit(X, items=ITEMS)
    assert model.favourite_.tolist() == [1, 0, 0]  # categories sorted: a=0, b=1
    # customer 1: unseen b items first (5), then the rest by popularity (2)
    assert model.recommend([1], k=2)["item_id"].tolist() == [5, 2]
    # no history: the global list
    assert model.recommend([42], k=2)["item_id"].tolist() == [1, 2]


def test_content_scores_are_profile_dot_features_by_hand():
    # one-hot category only: customer 1 has a once, b twice -> profile (1, 2) / sqrt(5)
    events = _log([(1, 1), (1, 3), (1, 4), (2, 2)])
    X = build_interactions(events, items=ITEMS)
    model = ContentRecommender(item_columns=["category"], newness=0.0, popularity=0.0).fit(X, items=ITEMS)
    np.testing.assert_allclose(model.score([1, 1], [2, 5]), [1 / np.sqrt(5), 2 / np.sqrt(5)])
    # the unseen b item (5, never bought) comes before the unseen a item (2)
    assert model.recommend([1], k=2)["item_id"].tolist() == [5, 2]
    # global mean profile for an unknown customer: mean of (1,2)/sqrt5 and (1,0) -> a ahead
    mean = np.array([1 / np.sqrt(5) + 1, 2 / np.sqrt(5)]) / 2
    mean /= np.linalg.norm(mean)
    np.testing.assert_allclose(model.score([77, 77], [1, 3]), mean)


def test_content_price_bands_and_cold_customers_use_their_group():
    items = pd.DataFrame({"item_id": range(8), "category": ["a"] * 4 + ["b"] * 4,
                          "price": [1.0, 2, 3, 4, 1, 2, 3, 4]})
    # region N buys cheap b items, region S expensive a items
    events = _log([(1, 4), (1, 5), (2, 4), (3, 2), (3, 3), (4, 3)])
    customers = pd.DataFrame({"customer_id": [1, 2, 3, 4, 10, 11], "region": ["N", "N", "S", "S", "N", "S"]})
    X = build_interactions(events, items=items)
    model = ContentRecommender(customer_columns=["region"], min_group_size=2, newness=0.0)
    model.fit(X, items=items, customers=customers)
    assert model.recommend([10], k=1)["item_id"].tolist() in ([4], [5])
    assert model.recommend([11], k=1)["item_id"].tolist() in ([2], [3])
    assert model.recommend([10, 11], k=1)["cold_start"].tolist() == [True, True]
    # price is banded: items 0 and 4 (price 1) share the price feature, not the category one
    F = model.item_features_.toarray()
    assert F[0] @ F[4] == pytest.approx(0.5) and F[0] @ F[1] == pytest.approx(0.5)


def _random_case(seed, n_users=60, n_items=40):
    rng = np.random.default_rng(seed)
    items = pd.DataFrame({"item_id": np.arange(n_items), "category": rng.choice(list("abcd"), n_items),
                          "price": rng.choice([1.0, 2.0, 3.0], n_items)})
    pairs = pd.DataFrame({"customer_id": rng.integers(0, n_users, 400), "item_id": rng.integers(0, n_items - 5, 400)})
    customers = pd.DataFrame({"customer_id": np.arange(n_users + 10), "region": rng.choice(["N", "S"], n_users + 10)})
    return build_interactions(pairs.drop_duplicates(), items=items), items, customers


def _dense_top_k(model, ids, k):
    """Reference: every item scored densely, owned items removed, the model's tie-break."""
    rows = model.interactions_.user_positions(ids)
    scores = model._dense_scores(rows, model._groups_of(ids))
    X = model.interactions_.matrix
    for r, row in enumerate(rows):
        if row >= 0:
            scores[r, X[row].indices] = -np.inf
    return _top_k_dense(scores + model._tiebreak, k)


@pytest.mark.parametrize("seed, popularity", [(0, 0.0), (1, 0.0), (2, 0.0), (0, 0.3), (1, 1.0), (2, 0.05)])
def test_grouped_top_k_equals_dense_scores(seed, popularity):
    X, items, customers = _random_case(seed)
    ids = np.arange(70)  # the last 10 have no history
    content = ContentRecommender(customer_columns=["region"], min_group_size=5, newness=0.1, popularity=popularity)
    content.fit(X, items=items, customers=customers)
    hybrid = HybridRecommender(ItemKNN(n_neighbors=10), content, weight=0.7, shrinkage=2.0)
    hybrid.fit(X, items=items, customers=customers)
    for model in (content, hybrid):
        top, _ = model.recommend_positions(model.interactions_.user_positions(ids), 7, groups=model._groups_of(ids))
        np.testing.assert_array_equal(top, _dense_top_k(model, ids, 7))


def test_hybrid_leans_on_cf_with_history_and_content_without():
    X, items, customers = _random_case(3)
    content = ContentRecommender(customer_columns=["region"], min_group_size=5, newness=0.0, popularity=0.0)
    hybrid = HybridRecommender(ItemKNN(n_neighbors=10), content, weight=1.0, shrinkage=1.0)
    hybrid.fit(X, items=items, customers=customers)
    np.testing.assert_allclose(hybrid.cf_share([0, -1]), [np.diff(X.matrix.indptr)[0] / (np.diff(X.matrix.indptr)[0] + 1), 0])
    pure = ContentRecommender(customer_columns=["region"], min_group_size=5, newness=0.0, popularity=0.0)
    pure.fit(X, items=items, customers=customers)
    cold = np.arange(60, 70)
    assert hybrid.recommend(cold, k=5)["item_id"].tolist() == pure.recommend(cold, k=5)["item_id"].tolist()
    # hand-worked blend: a = w n / (n + s), scores rescaled by each part's maximum
    pure.popularity_ = hybrid.content_.popularity_ = 0.2  # with a popularity bonus: + 0.2 n_i / max n
    row, col = 0, 3
    cf = hybrid.collaborative_._score_rows(np.array([row]))[0]
    cn = pure._dense_scores(np.array([row]), np.array([-1]))[0]
    a = hybrid.cf_share([row])[0]
    expected = a * cf[col] / cf.max() + (1 - a) * cn[col] / cn.max()
    assert hybrid.score([X.user_ids[row]], [X.item_ids[col]])[0] == pytest.approx(expected)


def test_hybrid_weight_chosen_on_training_hold_out_deterministically():
    X, items, customers = _random_case(4, n_users=200, n_items=40)
    make = lambda: HybridRecommender(ItemKNN(n_neighbors=10), ContentRecommender(newness=0.0), random_state=3)
    one, two = make().fit(X, items=items), make().fit(X, items=items)
    assert set(one.validation_) == {0.0, 0.25, 0.5, 0.75, 1.0}
    assert one.weight_ == max(one.validation_, key=lambda w: (one.validation_[w], -w))
    assert one.validation_ == two.validation_ and one.weight_ == two.weight_
    with pytest.raises(ValueError, match="shrinkage"):
        HybridRecommender(shrinkage=0).fit(X, items=items)
    # inner models on a sample of 120 customers (all 30 validation customers among them)
    sampled = HybridRecommender(ItemKNN(n_neighbors=10), ContentRecommender(newness=0.0), random_state=3,
                                max_validation_customers=30, max_fit_customers=120)
    first, again = sampled.fit(X, items=items).validation_, _clone_fit(sampled, X, items)
    assert first == again and set(first) == set(one.validation_) and first != one.validation_


def test_newness_bonus_learned_from_a_planted_launch_effect():
    # 30 old items bought all year; every month 2 new items launch and take most purchases
    rng = np.random.default_rng(0)
    n_items = 30 + 24
    launch = np.r_[np.full(30, 0), 30 + np.repeat(np.arange(12), 2) * 30]  # day of launch
    items = pd.DataFrame({"item_id": np.arange(n_items), "category": np.tile(list("ab"), n_items // 2),
                          "price": 1.0})
    rows = []
    for day in range(0, 390, 1):
        live = np.flatnonzero(launch <= day)
        fresh = live[launch[live] > day - 30]
        for c in rng.integers(0, 300, 6):
            pool = fresh if (len(fresh) and rng.random() < 0.7) else live
            rows.append((c, rng.choice(pool), pd.Timestamp("2025-01-01") + pd.Timedelta(days=day)))
    events = pd.DataFrame(rows, columns=["customer_id", "item_id", "timestamp"])
    train = events[events["timestamp"] < "2025-12-01"]
    X = build_interactions(train, items=items)
    model = ContentRecommender(item_columns=["category"]).fit(X, items=items, events=train)
    chosen = model.newness_validation_
    assert model.newness_ > 0 and chosen[(model.newness_, model.popularity_)] > chosen[(0.0, model.popularity_)]
    new_items = set(X.item_ids[X.item_users() == 0])
    listed = set(model.recommend(X.user_ids[:50], k=10)["item_id"])
    assert listed & new_items  # new items reach the lists
    off = ContentRecommender(item_columns=["category"], newness=0.0).fit(X, items=items)
    assert not set(off.recommend(X.user_ids[:50], k=10)["item_id"]) & new_items
    assert ContentRecommender(item_columns=["category"]).fit(X, items=items).newness_validation_ is None
    # no launches in the validation window: no evidence, no bonus
    old = train[train["item_id"] < 30]
    X_old = build_interactions(old, items=items)
    assert ContentRecommender(item_columns=["category"]).fit(X_old, items=items, events=old).newness_ == 0.0


def test_text_features_tfidf_link_items_by_their_words():
    items = pd.DataFrame({"item_id": [1, 2, 3, 4], "category": ["x"] * 4,
                          "name": ["green tea", "black tea", "blue mug", "red mug"]})
    X = build_interactions(_log([(1, 1), (2, 3)]), items=items)
    model = ContentRecommender(item_columns=(), text_column="name", newness=0.0, popularity=0.0).fit(X, items=items)
    # customer 1 bought green tea: black tea shares "tea"; the mugs share nothing
    assert model.recommend([1], k=1)["item_id"].tolist() == [2]
    assert model.recommend([2], k=1)["item_id"].tolist() == [4]
    assert model.score([1], [3])[0] == 0.0
    with pytest.raises(ValueError, match="item features"):
        ContentRecommender(item_columns=(), newness=0.0).fit(X, items=items)


def _clone_fit(model, X, items):
    from marketing.recommend.content import clone

    return clone(model).fit(X, items=items).validation_
