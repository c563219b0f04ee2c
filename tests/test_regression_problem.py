"""The regression problem: features, targets, leakage exclusions and the errors for bad input."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from marketing import get_case, load_case_data
from marketing.regression import (
    check_features, check_target, feature_overview, fit_models, regression_problem, stratified_holdout, target_summary,
)
from marketing.validation import DataValidationError
from conftest import CASES


@pytest.fixture(scope="module")
def finance():
    return load_case_data("finance")


def test_constant_target_is_refused():
    with pytest.raises(DataValidationError, match="'spend' is constant"):
        check_target(pd.Series([5.0] * 10, name="spend"), "continuous")


def test_single_class_binary_target_is_refused():
    with pytest.raises(DataValidationError, match="single class"):
        check_target(pd.Series([0] * 10, name="churned"), "binary")


def test_binary_target_must_be_zero_one():
    with pytest.raises(DataValidationError, match="0/1"):
        check_target(pd.Series([1, 2, 2], name="churned"), "binary")


def test_non_numeric_target_is_refused_with_an_example():
    with pytest.raises(DataValidationError, match=r"must be numeric.*'12 EUR'"):
        check_target(pd.Series(["10", "12 EUR"], name="spend"), "continuous")


def test_missing_target_values_are_refused_not_dropped():
    with pytest.raises(DataValidationError, match="1 missing value"):
        check_target(pd.Series([1.0, np.nan, 3.0], name="spend"), "continuous")


def test_boolean_binary_target_becomes_zero_one():
    assert check_target(pd.Series([True, False], name="b"), "binary").tolist() == [1, 0]


def test_all_missing_feature_is_refused():
    X = pd.DataFrame({"age": [30.0, 40.0], "income": [np.nan, np.nan]})
    with pytest.raises(DataValidationError, match="'income' has no values at all"):
        check_features(X)


def test_date_feature_is_refused():
    X = pd.DataFrame({"signup": pd.to_datetime(["2024-01-01", "2024-02-01"])})
    with pytest.raises(DataValidationError, match="holds dates"):
        check_features(X)


def test_text_features_become_categories():
    X = check_features(pd.DataFrame({"region": ["n", "s", "n"], "vip": [True, False, True]}))
    assert isinstance(X["region"].dtype, pd.CategoricalDtype)
    assert X["vip"].tolist() == [1, 0, 1]


def test_bad_input_reaches_the_suite_as_a_clear_error():
    X = pd.DataFrame({"x": np.arange(20.0)})
    y = pd.Series([1] * 20, name="responded")
    with pytest.raises(DataValidationError, match="single class"):
        fit_models("binary", X, y, stratified_holdout(pd.Series(np.arange(20) % 2)), n_boot=5)


@pytest.mark.parametrize("case_name", CASES)
def test_leakage_columns_are_never_features(case_name):
    case = get_case(case_name)
    problem = regression_problem(load_case_data(case_name), case)
    assert list(problem.features.columns) == list(case.regression_features)
    assert not set(problem.features.columns) & set(case.leakage)
    assert set(problem.excluded.index) == set(case.leakage)
    assert problem.excluded["reason"].str.len().gt(0).all()
    assert problem.time is not None and problem.time.notna().all()
    assert problem.targets["binary"].isin([0, 1]).all()


def test_real_leaking_column_is_listed_with_its_reason(finance):
    problem = regression_problem(finance)
    assert "call_duration" in finance.customers.columns
    assert "call_duration" not in problem.features.columns
    assert problem.excluded.loc["call_duration", "in_data"]
    assert "nearly determines the response" in problem.excluded.loc["call_duration", "reason"]


def test_a_case_that_lists_a_leaking_feature_is_refused(finance):
    case = dataclasses.replace(get_case("finance"), regression_features=("age", "call_duration"))
    with pytest.raises(DataValidationError, match="call_duration.*leakage"):
        regression_problem(finance, case)


def test_a_missing_target_column_is_named(finance):
    data = dataclasses.replace(finance, customers=finance.customers.drop(columns="campaign_response"))
    with pytest.raises(DataValidationError, match="no target column 'campaign_response'"):
        regression_problem(data)


def test_feature_overview_describes_each_feature(finance):
    problem = regression_problem(finance)
    overview = feature_overview(problem)
    assert list(overview.index) == problem.feature_columns
    assert overview.loc["region", "type"] == "categorical"
    assert overview.loc["region", "summary"].startswith("north (reference)")
    assert overview.loc["income", "type"] == "numeric"


def test_feature_overview_and_target_summary_by_hand():
    from marketing.regression import RegressionProblem

    X = pd.DataFrame(
        {"age": [20.0, 40.0, None, 60.0], "mode": pd.Categorical(["a", "b", "a", None], categories=["a", "b"])},
        index=pd.Index([1, 2, 3, 4], name="customer_id"),
    )
    targets = {"continuous": pd.Series([1.0, 2.0, 3.0, 6.0], index=X.index, name="spend"),
               "binary": pd.Series([0, 1, 0, 0], index=X.index, name="left")}
    problem = RegressionProblem(X, targets, {}, None, pd.DataFrame())
    overview = feature_overview(problem)
    # age: mean 40 and sample sd 20 of the three values; mode: 2 of the 3 known are the reference level
    assert overview["summary"].tolist() == ["mean 40, sd 20", "a (reference) 67%, b 33%"]
    assert overview["missing_share"].tolist() == [0.25, 0.25]
    # spend: mean 3, sample variance (4 + 1 + 0 + 9) / 3; one positive in four
    assert target_summary(problem) == pytest.approx({"customers": 4, "mean": 3.0, "sd": np.sqrt(14 / 3), "positive_rate": 0.25})
