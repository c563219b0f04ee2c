"""Every regression figure draws with a title and labelled axes from the package's outputs."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from marketing.plots import regression as regplots
from marketing.plots import set_theme
from marketing.regression import (
    calibration_table,
    coefficient_table,
    fit_models,
    gains_table,
    partial_dependence_frame,
    permutation_importances,
    profit_curve,
    residual_frame,
    stratified_holdout,
)


@pytest.fixture(scope="module")
def fitted():
    set_theme()
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"x": rng.normal(size=300), "g": pd.Categorical(rng.choice(["a", "b"], 300), categories=["a", "b"])})
    y = pd.Series(((X["x"] + (X["g"] == "b")) + rng.logistic(size=300) > 0.5).astype(int), name="y")
    split = stratified_holdout(y, 0.3, random_state=0)
    return X, y, split, fit_models("binary", X, y, split, n_boot=20)


def _labelled(fig):
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert axes
    titles = [fig.axes[0].get_title(loc=loc) for loc in ("left", "center", "right")]
    assert any(titles) or (fig._suptitle is not None and fig._suptitle.get_text())
    for ax in axes:
        assert ax.get_xlabel() or ax.get_ylabel() or not ax.axison
    plt.close(fig)


def test_every_figure_is_titled_and_labelled(fitted):
    X, y, split, result = fitted
    y_test = y.iloc[split.test]
    p = result.predictions["logistic"]
    held_out = result.predictions
    _labelled(regplots.model_comparison(result.intervals, "roc_auc", chosen=result.best))
    _labelled(regplots.tree_diagram(result.models["tree"], target_label="y"))
    _labelled(regplots.calibration({"logistic": calibration_table(held_out, "y", "logistic")}))
    _labelled(regplots.coefficients(coefficient_table(X, y, "binary", scale="standardized"), xlabel="log-odds per sd"))
    _labelled(regplots.importances(permutation_importances(result.models, X.iloc[split.test], y_test, "binary", n_repeats=2), score_label="ROC AUC"))
    _labelled(regplots.partial_dependence(partial_dependence_frame(result.models["logistic"], X, ["x", "g"], "binary"), ylabel="probability"))
    _labelled(regplots.gains(gains_table(held_out, "y", "logistic")))
    curve = profit_curve(held_out, "y", "logistic", 1.0, 5.0)
    _labelled(regplots.profit(curve, n_rule=int((p > 0.2).sum())))
    _labelled(regplots.residual_diagnostics(residual_frame(y_test, p), unit="share"))


def test_the_profit_figure_names_the_cases_currency_or_none():
    curve = pd.DataFrame({"contacted": [0, 1, 2], "share_contacted": [0.0, 0.5, 1.0],
                          "expected_profit": [0.0, 3.0, 2.0], "realised_profit": [0.0, 3.0, 2.0]})
    plain = regplots.profit(curve, n_rule=1).axes[0]
    assert "EUR" not in plain.get_ylabel() + plain.get_title(loc="left") and plain.get_ylabel() == "campaign profit"
    marks = regplots.profit(curve, n_rule=1, currency="DM").axes[0]
    assert marks.get_ylabel() == "campaign profit [DM]" and marks.get_title(loc="left").endswith("earns 3 DM on held-out customers")


def test_the_comparison_title_names_the_chosen_model_not_the_best_on_the_test_part():
    intervals = pd.DataFrame({"model": ["baseline", "linear", "ridge"], "metric": "rmse",
                              "value": [10.0, 4.0, 5.0], "low": [9.0, 3.5, 4.5], "high": [11.0, 4.5, 5.5]})
    title = regplots.model_comparison(intervals, "rmse", chosen="ridge").axes[0].get_title(loc="left")
    assert title == "The chosen model, ridge, beats the baseline on held-out customers: rmse 5.000 vs 10.000"
    worse = intervals.assign(value=[10.0, 4.0, 12.0], low=[9.0, 3.5, 11.5], high=[11.0, 4.5, 12.5])
    title = regplots.model_comparison(worse, "rmse", chosen="ridge").axes[0].get_title(loc="left")
    assert "ridge, does not beat the baseline" in title
