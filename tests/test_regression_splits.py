"""Validation splits: the time-based holdout tests on the latest sign-ups; folds are stratified."""

import numpy as np
import pandas as pd
import pytest

from marketing.regression.splits import holdout, stratified_folds, stratified_holdout, time_holdout
from marketing.validation import DataValidationError


def test_time_holdout_tests_on_the_latest():
    rng = np.random.default_rng(0)
    time = pd.Series(pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.permutation(100), unit="D"))
    split = time_holdout(time, test_size=0.25)
    assert len(split.test) == 25 and len(split.train) == 75
    assert time.iloc[split.train].max() < time.iloc[split.test].min()
    assert split.cutoff == time.iloc[split.test].min()
    assert split.method == "time" and "signed up before" in split.description
    assert sorted(np.r_[split.train, split.test].tolist()) == list(range(100))


def test_holdout_uses_time_when_there_is_time_and_strata_otherwise():
    y = pd.Series([0, 1] * 50)
    time = pd.Series(pd.date_range("2024-01-01", periods=100))
    assert holdout(y, time, 0.2).method == "time"
    split = holdout(y, None, 0.2, random_state=1)
    assert split.method == "stratified"
    assert y.iloc[split.test].mean() == pytest.approx(0.5)


def test_stratified_holdout_keeps_the_positive_rate():
    y = pd.Series(np.r_[np.ones(20), np.zeros(180)].astype(int))
    split = stratified_holdout(y, test_size=0.25, random_state=0)
    assert y.iloc[split.test].sum() == 5


def test_stratified_folds_partition_the_rows():
    y = pd.Series(np.r_[np.ones(10), np.zeros(40)].astype(int))
    folds = stratified_folds(y, n_splits=5, random_state=0)
    tests = np.concatenate([test for _, test in folds])
    assert sorted(tests.tolist()) == list(range(50))
    assert all(y.iloc[test].sum() == 2 for _, test in folds)


@pytest.mark.parametrize("test_size", [0.0, 1.0, -0.2, 1.5])
def test_bad_test_size(test_size):
    with pytest.raises(ValueError, match="test_size"):
        time_holdout(pd.Series(pd.date_range("2024-01-01", periods=10)), test_size)


def test_too_few_rows_for_the_split():
    with pytest.raises(DataValidationError, match="at least two"):
        time_holdout(pd.Series(pd.date_range("2024-01-01", periods=3)), 0.5)


def test_missing_dates_are_refused():
    time = pd.Series(pd.to_datetime(["2024-01-01", None, "2024-01-03", "2024-01-04"]), name="signup_date")
    with pytest.raises(DataValidationError, match="signup_date"):
        time_holdout(time, 0.5)
