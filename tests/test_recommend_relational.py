"""The relational steps written once (marketing.recommend.relational): on pandas they equal the
in-memory fast paths, and a DuckDB event log gives the pandas results (its events are collected,
the needed columns only). The same functions on Spark: tests/test_spark_recommend.py."""

import numpy as np
import pandas as pd
import pytest

from marketing import load_case_data
from marketing import recommend as rec
from marketing.engines import engine_of
from marketing.recommend import relational
from marketing.recommend.metrics import RANKING_METRICS, catalogue_coverage, novelty, ranking_metrics_per_user


def _long(lists):
    rows = [(u, r + 1, int(i)) for u, items in enumerate(lists) for r, i in enumerate(items) if i >= 0]
    return pd.DataFrame(rows, columns=["customer_id", "rank", "item_id"]).astype("int64")


def _truth(sets):
    rows = [(u, int(i)) for u, items in enumerate(sets) for i in sorted(items)]
    return pd.DataFrame(rows, columns=["customer_id", "item_id"]).astype("int64")


def test_relational_metrics_by_hand_and_at_their_limits():
    # customer 0: [4, 2, 7] vs {2, 7, 9}: hits at ranks 2 and 3; customer 1: nothing recommended
    got = relational.mean_ranking_metrics(_long([[4, 2, 7], [-1]]), _truth([{2, 7, 9}, {5}]), k=3)
    ndcg0 = (1 / np.log2(3) + 1 / np.log2(4)) / (1 + 1 / np.log2(3) + 1 / np.log2(4))
    assert got["ndcg"] == pytest.approx(ndcg0 / 2, abs=1e-12)
    assert got["map"] == pytest.approx((1 / 2 + 2 / 3) / 3 / 2, abs=1e-12)
    assert got["mrr"] == pytest.approx(1 / 4) and got["hit_rate"] == 0.5 and got["n_customers"] == 2
    perfect = relational.mean_ranking_metrics(_long([[1, 2]]), _truth([{1, 2}]), k=2)
    assert perfect == {**{name: 1.0 for name in RANKING_METRICS}, "n_customers": 1}
    empty = relational.mean_ranking_metrics(_long([[3, 4]]), _truth([{1}]), k=2)
    assert empty == {**{name: 0.0 for name in RANKING_METRICS}, "n_customers": 1}


def test_relational_metrics_equal_the_csr_metrics_on_random_lists():
    rng = np.random.default_rng(3)
    n_users, n_items, k = 200, 30, 5
    lists = np.full((n_users, k), -1)
    for u in range(n_users):  # test data, not a hot path
        length = rng.integers(0, k + 1)
        lists[u, :length] = rng.permutation(n_items)[:length]
    relevant = [set(rng.choice(n_items, size=rng.integers(1, 7), replace=False).tolist()) for _ in range(n_users)]
    per_user = ranking_metrics_per_user(lists, relevant, k)
    table = relational.ranking_metrics_table(_long(lists), _truth(relevant), k)
    for name in RANKING_METRICS:
        np.testing.assert_allclose(table[name].to_numpy(), per_user[name], rtol=0, atol=1e-12, err_msg=name)
    item_users = rng.integers(0, 40, size=n_items)
    popularity = pd.DataFrame({"item_id": np.arange(n_items), "n_customers": item_users})
    got = relational.coverage_and_novelty(_long(lists), popularity, n_users=50, n_items=n_items + 2)
    assert got["coverage"] == pytest.approx(catalogue_coverage(lists, n_items + 2), abs=1e-12)
    assert got["novelty"] == pytest.approx(novelty(lists, item_users, n_users=50), abs=1e-12)


def test_several_lists_per_customer_are_scored_in_one_query_as_each_alone():
    rng = np.random.default_rng(5)
    n_users, n_items, k = 50, 12, 4
    relevant = [set(rng.choice(n_items, size=rng.integers(1, 5), replace=False).tolist()) for _ in range(n_users)]
    lists = {name: np.array([rng.permutation(n_items)[:k] for _ in range(n_users)]) for name in ("b", "a")}
    lists["b"][:10, 2:] = -1  # short lists for some customers of one model
    popularity = pd.DataFrame({"item_id": np.arange(n_items), "n_customers": rng.integers(0, 30, size=n_items)})
    both = pd.concat([_long(top).assign(model=name) for name, top in lists.items()], ignore_index=True)
    metrics = relational.mean_ranking_metrics(both, _truth(relevant), k, by="model")
    spread = relational.coverage_and_novelty(both, popularity, n_users=30, n_items=n_items, by="model")
    assert metrics.index.tolist() == spread.index.tolist() == ["a", "b"]
    for name, top in lists.items():
        alone = relational.mean_ranking_metrics(_long(top), _truth(relevant), k)
        assert metrics.loc[name].to_dict() == pytest.approx(alone, abs=1e-12)
        assert metrics.loc[name, "ndcg"] == pytest.approx(ranking_metrics_per_user(top, relevant, k)["ndcg"].mean(), abs=1e-12)
        assert spread.loc[name].to_dict() == pytest.approx(
            relational.coverage_and_novelty(_long(top), popularity, n_users=30, n_items=n_items), abs=1e-12)
    assert relational.ranking_metrics_table(both, _truth(relevant), k, by="model").shape == (2 * n_users, 2 + len(RANKING_METRICS))


def test_pair_weights_equal_the_sparse_matrix():
    events = pd.DataFrame({"customer_id": [30, 10, 10, 10, 20], "item_id": [2, 1, 1, 3, 3], "rating": [4, 5, 3, 2, 1]})
    for weighting in rec.WEIGHTINGS:
        X = rec.build_interactions(events, weighting)
        coo = X.matrix.tocoo()
        table = relational.pair_weights(events, weighting)
        assert table["customer_id"].tolist() == X.user_ids[coo.row].tolist()
        assert table["item_id"].tolist() == X.item_ids[coo.col].tolist()
        np.testing.assert_allclose(table["weight"], coo.data, rtol=1e-6)


def test_round_half_even_as_numpy():
    values = pd.DataFrame({"x": [0.0, 0.5, 1.5, 2.5, 2.4, 2.6, 3.5]})
    got = relational.native(relational.lazy(values).select(relational.round_half_even(relational.nw.col("x"))))
    assert got["x"].tolist() == np.round(values["x"]).astype(int).tolist()


@pytest.fixture(scope="module")
def education():
    return load_case_data("education")


@pytest.mark.parametrize("method", ["time", "leave_last", "random"])
def test_duckdb_events_give_the_pandas_interactions_and_splits(education, method):
    import duckdb
    connection = duckdb.connect()
    relation = connection.from_df(education.events)
    assert engine_of(relation) == "duckdb"
    X, Y = rec.build_interactions(education.events), rec.build_interactions(relation)
    assert (X.matrix != Y.matrix).nnz == 0 and (X.user_ids == Y.user_ids).all() and (X.item_ids == Y.item_ids).all()
    kwargs = {"observation_end": education.observation_end, "random_state": 4}
    expected, got = rec.make_split(education.events, method, **kwargs), rec.make_split(relation, method, **kwargs)
    pd.testing.assert_frame_equal(got.test, expected.test)
    assert got.details == expected.details
    # only the columns the step needs come out of DuckDB (the time: the split ends at the observation end)
    needed = {"customer_id", "item_id", "rating", "timestamp"}
    assert set(got.train.columns) == needed < set(education.events.columns)


def test_row_positions_equal_a_stable_multi_column_sort_with_missing_values_and_ties():
    # the pandas shim sorts by integer codes: it must give pandas' own stable order, ties and
    # missing values (last, whatever the direction) included, customers given as strings
    rng = np.random.default_rng(5)
    n = 2_000
    frame = pd.DataFrame({
        "customer_id": rng.choice(["b", "a", "c", "dd"], n),
        "timestamp": pd.to_datetime("2025-01-01") + pd.to_timedelta(rng.integers(0, 5, n), unit="D"),
        "score": rng.integers(0, 3, n).astype(float),
        "_key": rng.random(n),
    })
    frame.loc[rng.random(n) < 0.1, "timestamp"] = pd.NaT
    frame.loc[rng.random(n) < 0.1, "score"] = np.nan
    for order, descending in [(["timestamp", "_key"], [True, False]), (["score", "timestamp", "_key"], [False, True, True])]:
        got = relational.native(relational._row_number(relational.lazy(frame), "customer_id", order, descending))
        expected = frame.sort_values(["customer_id", *order], ascending=[True, *[not d for d in descending]],
                                     kind="stable", na_position="last")
        expected["_position"] = expected.groupby("customer_id").cumcount() + 1
        merged = got.merge(expected[["_key", "_position"]], on="_key", suffixes=("", "_expected"))
        assert len(merged) == n
        assert (merged["_position"] == merged["_position_expected"]).all()
