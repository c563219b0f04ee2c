"""Metric definitions against hand-worked examples, their limits, and the bootstrap."""

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from marketing.regression.metrics import (
    _resampled_binary,
    _resampled_continuous,
    binary_metrics,
    bootstrap_metrics,
    calibration_table,
    continuous_metrics,
    metric_table,
)


def test_continuous_metrics_by_hand():
    # errors 1, -1, 2, 0: squared 1, 1, 4, 0 -> mse 1.5; |e| mean 1; sst = 5 (mean 2.5)
    m = continuous_metrics([1.0, 2.0, 3.0, 4.0], [0.0, 3.0, 1.0, 4.0])
    assert m["rmse"] == pytest.approx(np.sqrt(1.5))
    assert m["mae"] == pytest.approx(1.0)
    assert m["r2"] == pytest.approx(1 - 6 / 5)


def test_continuous_metrics_limits():
    y = np.array([1.0, 5.0, 2.0])
    assert continuous_metrics(y, y) == {"r2": 1.0, "rmse": 0.0, "mae": 0.0}
    assert continuous_metrics(y, np.full(3, y.mean()))["r2"] == pytest.approx(0.0)


def test_binary_metrics_by_hand():
    y = [1, 0, 1, 0, 0]
    p = [0.9, 0.8, 0.4, 0.3, 0.1]
    m = binary_metrics(y, p)
    # positive-negative pairs ordered right: 0.9 beats all 3; 0.4 beats 0.3 and 0.1 -> 5 of 6
    assert m["roc_auc"] == pytest.approx(5 / 6)
    # ranked: 1 (P=1, R=.5), 0, 1 (P=2/3, R=1) -> AP = .5 * 1 + .5 * 2/3
    assert m["average_precision"] == pytest.approx(0.5 + 1 / 3)
    assert m["brier"] == pytest.approx((0.01 + 0.64 + 0.36 + 0.09 + 0.01) / 5)
    expected_ll = -np.mean(np.log([0.9, 0.2, 0.4, 0.7, 0.9]))
    assert m["log_loss"] == pytest.approx(expected_ll)
    assert m["log_loss"] == pytest.approx(skm.log_loss(y, p))


def test_binary_metrics_limits():
    y = np.array([0, 1, 0, 1])
    perfect = binary_metrics(y, [0.1, 0.9, 0.2, 0.8])
    assert perfect["roc_auc"] == 1.0 and perfect["average_precision"] == 1.0
    constant = binary_metrics(y, np.full(4, 0.5))
    assert constant["roc_auc"] == 0.5
    assert constant["average_precision"] == pytest.approx(0.5)   # the positive rate
    assert constant["brier"] == pytest.approx(0.25)


def test_vectorized_resamples_match_the_plain_definitions():
    rng = np.random.default_rng(3)
    y = (rng.random((40, 30)) < 0.3).astype(float)
    p = np.round(rng.random((40, 30)), 1)            # many ties, as trees and baselines produce
    vectorized = pd.DataFrame(_resampled_binary(y, p))
    plain = pd.DataFrame([binary_metrics(a, b) for a, b in zip(y, p)])
    pd.testing.assert_frame_equal(vectorized, plain, check_exact=False, rtol=1e-9)
    yc = rng.normal(size=(10, 25))
    fc = yc + rng.normal(size=(10, 25))
    pd.testing.assert_frame_equal(
        pd.DataFrame(_resampled_continuous(yc, fc)),
        pd.DataFrame([continuous_metrics(a, b) for a, b in zip(yc, fc)]),
        check_exact=False, rtol=1e-9,
    )


def test_bootstrap_is_reproducible_and_brackets_the_estimate():
    rng = np.random.default_rng(0)
    y = (rng.random(300) < 0.4).astype(int)
    p = np.clip(0.4 + 0.3 * (y - 0.4) + rng.normal(0, 0.2, 300), 0.01, 0.99)
    a = bootstrap_metrics(y, p, "binary", n_boot=100, random_state=1)
    b = bootstrap_metrics(y, p, "binary", n_boot=100, random_state=1)
    pd.testing.assert_frame_equal(a, b)
    assert list(a.index) == ["roc_auc", "average_precision", "log_loss", "brier"]
    assert ((a["low"] <= a["value"]) & (a["value"] <= a["high"])).all()
    assert (a["high"] - a["low"] > 0).all()


def test_bootstrap_rejects_an_unknown_kind():
    with pytest.raises(ValueError, match="continuous' or 'binary"):
        bootstrap_metrics([1.0, 2.0], [1.0, 2.0], "ordinal")


def test_calibration_table_by_hand():
    frame = pd.DataFrame({"customer_id": range(6), "y": [0, 1, 0, 1, 1, 1], "p": [0.1, 0.2, 0.3, 0.6, 0.7, 0.8]})
    table = calibration_table(frame, "y", "p", n_bins=3)
    assert table["predicted"].round(3).tolist() == [0.15, 0.45, 0.75]
    assert table["observed"].tolist() == [0.5, 0.5, 1.0]
    assert table["customers"].tolist() == [2, 2, 2]


def test_metric_table_equals_the_definitions_with_ties_and_limits():
    # many tied scores, 0 and 1 exactly: the frame implementation equals the array definitions
    rng = np.random.default_rng(0)
    y = (rng.random(3001) < 0.3).astype(int)
    p = np.round(np.clip(0.3 + 0.2 * (y - 0.3) + rng.normal(0, 0.2, 3001), 0, 1), 2)
    frame = pd.DataFrame({"y": y, "p": p, "f": p * 10})
    got = metric_table("binary", frame, "y", ["p"]).loc["p"]
    assert got.to_dict() == pytest.approx(binary_metrics(y, p), rel=1e-12)
    got = metric_table("continuous", frame, "f", ["p"]).loc["p"]
    assert got.to_dict() == pytest.approx(continuous_metrics(p * 10, p), rel=1e-12)
    # a single class ranks nothing; a constant target explains nothing
    single = pd.DataFrame({"y": [1, 1], "p": [0.2, 0.7]})
    assert np.isnan(metric_table("binary", single, "y", ["p"]).loc["p", "roc_auc"])
    assert np.isnan(metric_table("continuous", pd.DataFrame({"y": [2.0, 2.0], "f": [1.0, 3.0]}), "y", ["f"]).loc["f", "r2"])
    with pytest.raises(ValueError, match="kind must be"):
        metric_table("ordinal", frame, "y", ["p"])
