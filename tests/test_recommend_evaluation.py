"""Evaluation on the planted truth, reproducibility, cold start, ratings and the campaign list."""

import numpy as np
import pandas as pd
import pytest

from conftest import CASES
from marketing import get_case, load_case_data
from marketing.recommend import (
    BiasBaseline,
    ItemKNN,
    PopularityRecommender,
    build_interactions,
    campaign_list,
    compare_models,
    evaluate_ratings,
    explain_recommendations,
    make_split,
    sweep,
)


@pytest.fixture(scope="module")
def splits():
    out = {}
    for case in CASES:
        data = load_case_data(get_case(case), data_size="small", seed=42)
        out[case] = (data, make_split(data.events, "time", observation_end=data.observation_end, test_days=60))
    return out


@pytest.mark.parametrize("case", CASES)
def test_best_model_beats_popularity_by_20_percent(splits, case):
    data, split = splits[case]
    result = compare_models(split, k=10, items=data.items["item_id"])
    table = result.table
    assert result.best_model != "popularity"
    assert table.loc[result.best_model, "ndcg"] >= 1.2 * table.loc["popularity", "ndcg"]
    # the neighbourhood models all find the planted category structure
    for name in ("item_knn", "user_knn_cosine", "ease"):
        assert table.loc[name, "ndcg"] >= 1.2 * table.loc["popularity", "ndcg"], name
    # popularity recommends the same few items to everyone
    assert table.loc["popularity", "coverage"] < table.loc["item_knn", "coverage"]


def test_same_seed_same_metrics(splits):
    data, split = splits["health"]
    a = compare_models(split, k=5, items=data.items["item_id"], random_state=1).table
    b = compare_models(split, k=5, items=data.items["item_id"], random_state=1).table
    pd.testing.assert_frame_equal(a, b)


def test_cold_start_customers_are_reported_separately(splits):
    data, split = splits["health"]
    models = {"popularity": PopularityRecommender(), "item_knn": ItemKNN()}
    result = compare_models(split, k=5, models=models, items=data.items["item_id"])
    assert result.cold_start["n_customers"] == split.details["cold_start_customers"] > 0
    assert 0 <= result.cold_start["hit_rate"] <= 1
    assert result.table["n_customers"].iloc[0] == split.details["test_customers"] - result.cold_start["n_customers"]


def test_unseen_items_count_against_recall():
    train = pd.DataFrame({"customer_id": [1, 1, 2], "item_id": [10, 20, 10],
                          "timestamp": pd.to_datetime(["2025-01-01"] * 3)})
    test = pd.DataFrame({"customer_id": [2, 2], "item_id": [20, 99], "timestamp": pd.to_datetime(["2025-02-01"] * 2)})
    split = make_split(pd.concat([train, test]), "time", observation_end="2025-02-02", test_days=15)
    result = compare_models(split, k=1, models={"popularity": PopularityRecommender()})
    # customer 2 gets item 20 (a hit) but item 99 was never seen in training: recall 1/2
    assert result.table.loc["popularity", "recall"] == 0.5
    assert result.details["test_pairs_unseen_items"] == 1


def test_compare_requires_baseline_and_test_pairs(splits):
    data, split = splits["finance"]
    with pytest.raises(ValueError, match="baseline"):
        compare_models(split, models={"item_knn": ItemKNN()})
    empty = type(split)(split.train, split.test.iloc[:0], "time")
    with pytest.raises(ValueError, match="no test pairs"):
        compare_models(empty)


def test_sweep_returns_one_row_per_value(splits, capsys):
    data, split = splits["finance"]
    table = sweep(split, "item_knn", [5, 20], k=10, items=data.items["item_id"])
    assert table["value"].tolist() == [5, 20] and (table["parameter"] == "n_neighbors").all()
    # the baseline has nothing to tune: said, not raised, so a notebook needs no branch
    assert sweep(split, "popularity", [1]) is None
    assert capsys.readouterr().out == "Popularity won: nothing to tune.\n"
    with pytest.raises(ValueError, match="no hyper-parameter"):
        sweep(split, "random_forest", [1])


def test_bias_baseline_beats_global_mean_on_course_ratings(splits):
    data, split = splits["education"]
    errors = evaluate_ratings(split.train, split.test, rating_scale=(1, 5))
    assert errors.loc["bias_baseline", "rmse"] < errors.loc["global_mean", "rmse"]
    assert errors.loc["bias_baseline", "mae"] < errors.loc["global_mean", "mae"]


def test_bias_baseline_by_hand():
    # without regularisation the biases fit an additive table exactly
    r = pd.DataFrame({"customer_id": [1, 1, 2, 2], "item_id": [1, 2, 1, 2], "rating": [5.0, 3.0, 4.0, 2.0]})
    model = BiasBaseline(reg_user=0, reg_item=0, n_iter=50).fit(r)
    np.testing.assert_allclose(model.predict(r), r["rating"], atol=1e-6)
    assert model.predict(pd.DataFrame({"customer_id": [9], "item_id": [9]}))[0] == pytest.approx(3.5)


def test_campaign_list_and_explanations(splits):
    data, _ = splits["ecommerce"]
    model = ItemKNN().fit(build_interactions(data.events, items=data.items["item_id"]))
    ids = [1, 2, 999_999]
    campaign = campaign_list(model, ids, data.items, k=3)
    assert campaign.columns.tolist() == ["customer_id", "rank", "item_id", "item_name", "score", "cold_start"]
    assert len(campaign) == 9 and campaign["item_name"].notna().all()
    assert campaign.loc[campaign["customer_id"] == 999_999, "cold_start"].all()
    explained = explain_recommendations(model, campaign, data.items)
    assert explained["because"].str.startswith("because you have").sum() == 6
    assert explained.loc[explained["cold_start"], "because"].str.contains("no history").all()


# --- the model is chosen inside the training events (issue 16) -----------------------------------
def test_the_model_is_chosen_on_the_validation_split_not_on_the_test_part(splits):
    from marketing.recommend import Split, validation_split
    from marketing.recommend.evaluation import best_by_ndcg

    data, split = splits["ecommerce"]
    models = {"popularity": PopularityRecommender(), "item_knn": ItemKNN()}
    result = compare_models(split, k=10, models=models, items=data.items["item_id"])
    inner = validation_split(split)
    # the validation window ends where the test window starts, and lies inside the training events
    assert pd.Timestamp(inner.details["cutoff"]) == pd.Timestamp(split.details["cutoff"]) - pd.Timedelta(days=60)
    assert len(inner.train) + inner.details["repeat_pairs_left_out"] <= len(split.train)
    assert result.best_model == best_by_ndcg(result.validation) == "item_knn"
    assert "Chosen on a validation split inside the training events" in result.note()
    # a test part that only popularity gets right: the test table changes, the choice does not
    top = split.train.groupby("item_id")["customer_id"].nunique().idxmax()
    rigged = Split(split.train, split.test.assign(item_id=top), split.method, split.details)
    models = {"popularity": PopularityRecommender(), "item_knn": ItemKNN()}
    again = compare_models(rigged, k=10, models=models, items=data.items["item_id"])
    assert best_by_ndcg(again.table) == "popularity"
    assert again.best_model == "item_knn"
    pd.testing.assert_frame_equal(again.validation, result.validation)


def test_the_sweep_runs_on_the_validation_split(splits):
    from marketing.recommend import validation_split

    data, split = splits["health"]
    tuning = sweep(split, "item_knn", [10], k=5, items=data.items["item_id"])
    inner = compare_models(validation_split(split), k=5, models={"popularity": PopularityRecommender(),
                           "item_knn": ItemKNN(n_neighbors=10)}, items=data.items["item_id"], validation=None)
    assert tuning["ndcg"].iloc[0] == pytest.approx(inner.table.loc["item_knn", "ndcg"])


def test_degenerate_data_say_so_and_write_no_campaign(tmp_path, capsys):
    from types import SimpleNamespace

    from marketing.recommend import show_campaign

    # every test pair is an item nobody had in training: no model can get one right
    events = pd.DataFrame({
        "customer_id": [1, 1, 2, 2, 3, 1, 2],
        "item_id": [10, 20, 10, 20, 10, 90, 91],
        "timestamp": pd.to_datetime(["2025-01-02", "2025-01-03", "2025-01-04", "2025-01-05", "2025-01-06",
                                     "2025-02-20", "2025-02-21"]),
    })
    split = make_split(events, "time", observation_end="2025-03-01", test_days=20)
    result = compare_models(split, k=2, models={"popularity": PopularityRecommender(), "item_knn": ItemKNN()})
    assert result.degenerate and np.isnan(result.gain)
    assert "No model recommends a single test pair correctly" in result.note() and "nan" not in result.note()
    data = SimpleNamespace(customers=pd.DataFrame({"customer_id": [1, 2, 3]}), items=None)
    assert show_campaign(result, build_interactions(events), data, k=2, export_dir=tmp_path) is None
    assert list(tmp_path.iterdir()) == []
    assert "No campaign list" in capsys.readouterr().out
