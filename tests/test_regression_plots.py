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
