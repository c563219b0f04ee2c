"""Leakage warnings: a planted leak is named with its score and the fix, on the training part only."""

import numpy as np
import pandas as pd
import pytest

from marketing.regression import Split, leakage_warnings, regression_warnings, single_feature_scores
from marketing.regression.problem import RegressionProblem

FIX = ("Drop it from regression_features, or list it under leakage in the case file if it is known only after "
       "the prediction moment.")


@pytest.fixture(scope="module")
def customers():
    rng = np.random.default_rng(0)
    n = 400
    y = pd.Series((rng.random(n) < 0.3).astype(int), name="responded")
    X = pd.DataFrame({
        "age": rng.normal(45, 12, n),
        "call_seconds": np.where(y == 1, 300, 60) + rng.normal(0, 20, n),   # planted: known after the call
        "region": pd.Categorical(rng.choice(["n", "s"], n)),
        "customer_code": pd.Categorical([f"c{i}" for i in range(n)]),    # one level per customer
    })
    return X, y


def test_a_planted_binary_leak_is_named_with_its_score_and_the_fix(customers):
    X, y = customers
    found = leakage_warnings(X, y, "binary")
    assert [(w.kind, w.column, w.value) for w in found] == [("leakage", "call_seconds", 1.0)]
    assert found[0].message == (
        "'call_seconds' alone predicts 'responded' almost perfectly on the training customers (ROC AUC 1.000): "
        f"it probably leaks the outcome. {FIX}")
    scores = single_feature_scores(X, y, "binary")
    # an identifier cannot score by memorising: its levels' rates are cross-fitted
    assert 0.4 < scores.loc["customer_code", "score"] < 0.6
    assert 0.4 < scores.loc["age", "score"] < 0.6


def test_reversed_leaks_categorical_leaks_and_informative_missing_values(customers):
    X, y = customers
    rng = np.random.default_rng(1)
    flips = rng.random(len(y)) < 0.01
    planted = X.assign(
        minus=-X["call_seconds"],                                                       # AUC near 0
        outcome_text=pd.Categorical(np.where((y == 1) ^ flips, "yes", "no")),           # a level per outcome
        filled_if_yes=X["age"].where(y == 1),                                           # missing for every no
    )[["age", "minus", "outcome_text", "filled_if_yes"]]
    found = {w.column: w for w in leakage_warnings(planted, y, "binary")}
    assert set(found) == {"minus", "outcome_text", "filled_if_yes"}
    assert found["minus"].value == 0.0 and "(ROC AUC 0.000 (high values mean the negative outcome))" in found["minus"].message
    assert found["outcome_text"].value >= 0.95 and found["filled_if_yes"].value == 1.0


def test_continuous_leaks_a_copy_up_to_scale_and_any_shape():
    rng = np.random.default_rng(2)
    n = 500
    spend = pd.Series(rng.gamma(2.0, 50.0, n), name="spend")
    X = pd.DataFrame({
        "spend_in_cents": 100 * spend + 3,              # an exact affine copy
        "log_spend": np.log(spend),                     # monotone, not a straight line
        "visits": rng.poisson(5, n).astype(float),
    })
    found = {w.column: w for w in leakage_warnings(X, spend, "continuous")}
    assert list(found) == ["spend_in_cents", "log_spend"]
    assert found["spend_in_cents"].message == (
        "'spend_in_cents' equals the target 'spend' up to scale and shift (correlation 1.000) on the training "
        f"customers: it is the target under another name. {FIX}")
    assert "(R² " in found["log_spend"].message and found["log_spend"].value >= 0.95
    assert single_feature_scores(X, spend, "continuous").loc["visits", "score"] < 0.05


def test_leakage_is_scored_on_the_training_part_only(customers):
    X, y = customers
    # a column that gives the outcome away on the test customers only: the warning must not see it
    train, test = np.arange(300), np.arange(300, 400)
    on_test = X["age"].to_numpy().copy()
    on_test[test] = 500 + y.iloc[test] * 1000.0
    problem = RegressionProblem(
        features=X[["age"]].assign(test_only=on_test, train_only=np.r_[500 + y.iloc[train] * 1000.0, X["age"].iloc[test]]),
        targets={"binary": y}, meanings={"binary": "responded"}, time=None, excluded=pd.DataFrame(),
    )
    splits = {"binary": Split(train, test, "stratified", "by hand")}
    found = regression_warnings(problem, splits)
    assert [(w.kind, w.column) for w in found] == [("leakage", "train_only")]


def test_regression_warnings_add_the_data_quality_checks(customers):
    X, y = customers
    features = X[["age", "region"]].assign(
        glucose=np.r_[[0.0] * 8, np.arange(392) % 100 + 60.0],
        job=pd.Categorical(["unknown"] * 40 + ["admin"] * 360),
    )
    problem = RegressionProblem(features, {"binary": y}, {"binary": "responded"}, None, pd.DataFrame())
    found = regression_warnings(problem, {"binary": Split(np.arange(300), np.arange(300, 400), "stratified", "")})
    assert [(w.kind, w.column, w.value) for w in found] == [
        ("missing_code", "job", 0.1), ("impossible_zeros", "glucose", 0.02)]
