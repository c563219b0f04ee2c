"""Interpretation: importances, partial dependence, residual diagnostics and plain-words effects."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from marketing.regression import (
    coefficient_table,
    coverage,
    design_matrix,
    model_suite,
    partial_dependence_frame,
    permutation_importances,
    residual_frame,
)
from marketing.regression.interpret import effect_sentences


@pytest.fixture(scope="module")
def planted():
    rng = np.random.default_rng(0)
    n = 600
    X = pd.DataFrame({
        "signal": rng.normal(size=n),
        "noise": rng.normal(size=n),
        "group": pd.Categorical(rng.choice(["a", "b"], n), categories=["a", "b"]),
    })
    y = pd.Series(3 * X["signal"] + 2 * (X["group"] == "b") + rng.normal(scale=0.5, size=n), name="y")
    models = {name: m.fit(X.iloc[:400], y.iloc[:400]) for name, m in model_suite("continuous", X, names=["linear", "tree"]).items()}
    return X, y, models


def test_permutation_importance_ranks_the_planted_signal_first(planted):
    X, y, models = planted
    table = permutation_importances(models, X.iloc[400:], y.iloc[400:], "continuous", n_repeats=3, random_state=0)
    assert table["model"].unique().tolist() == ["baseline", "linear", "tree"]
    linear = table.loc[table["model"] == "linear"].set_index("feature")
    assert linear.index.tolist() == ["signal", "group", "noise"]
    assert linear.loc["signal", "importance"] > 1.0
    assert abs(linear.loc["noise", "importance"]) < 0.02
    # shuffling cannot change a model that ignores its inputs
    assert table.loc[table["model"] == "baseline", "importance"].abs().max() == 0.0


def test_permutation_importance_is_reproducible(planted):
    X, y, models = planted
    a = permutation_importances(models, X.iloc[400:], y.iloc[400:], "continuous", n_repeats=2, random_state=3)
    b = permutation_importances(models, X.iloc[400:], y.iloc[400:], "continuous", n_repeats=2, random_state=3)
    pd.testing.assert_frame_equal(a, b)


def test_partial_dependence_follows_the_planted_shape(planted):
    X, _, models = planted
    pdp = partial_dependence_frame(models["linear"], X.iloc[:400], ["signal", "group"], "continuous", grid_resolution=5)
    signal = pdp.loc[pdp["feature"] == "signal"]
    slope = np.polyfit(signal["value"].astype(float), signal["average"], 1)[0]
    assert slope == pytest.approx(3.0, abs=0.1)
    group = pdp.loc[pdp["feature"] == "group"].set_index("value")["average"]
    assert group["b"] - group["a"] == pytest.approx(2.0, abs=0.2)
    assert pdp.loc[pdp["feature"] == "group", "categorical"].all()


def test_partial_dependence_accepts_integer_columns():
    X = pd.DataFrame({"visits": np.arange(50) % 7})
    y = pd.Series(1.5 * X["visits"], name="y")
    model = model_suite("continuous", X, names=["linear"])["linear"].fit(X, y)
    pdp = partial_dependence_frame(model, X, ["visits"], "continuous")
    assert np.allclose(pdp["average"], 1.5 * pdp["value"].astype(float))


def test_residual_frame_qq_of_normal_errors_is_near_the_diagonal():
    rng = np.random.default_rng(2)
    f = rng.normal(size=500)
    y = f + rng.normal(size=500)
    frame = residual_frame(y, f)
    assert frame["residual"].to_numpy() == pytest.approx(y - f)
    assert frame["fitted"].to_numpy() == pytest.approx(f)
    assert stats.pearsonr(frame["theoretical"], frame["sample"])[0] > 0.99
    # the largest residual gets the largest normal quantile
    assert frame["theoretical"].idxmax() == frame["residual"].idxmax()


def test_design_matrix_matches_the_truth_naming_and_imputes():
    X = pd.DataFrame({"age": [20.0, np.nan, 40.0], "region": pd.Categorical(["n", "e", None], categories=["n", "e", "s"])})
    design = design_matrix(X)
    assert design.columns.tolist() == ["intercept", "age", "region_e", "region_s"]
    assert design["age"].tolist() == [20.0, 30.0, 40.0]
    assert design["region_e"].tolist() == [0.0, 1.0, 0.0]   # missing -> most frequent level (n; ties by order)


def test_coefficients_of_a_constant_column_get_a_clear_error():
    X = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "k": [1.0] * 4})
    with pytest.raises(ValueError, match="rank-deficient: constant: k\\. Drop one column"):
        coefficient_table(X, pd.Series([1.0, 2.0, 2.5, 4.0], name="y"), "continuous")


def test_coverage_needs_every_planted_term():
    table = pd.DataFrame({"estimate": [1.0], "low": [0.0], "high": [2.0]}, index=["intercept"])
    with pytest.raises(ValueError, match="planted term"):
        coverage(table, pd.Series({"intercept": 1.0, "age": 0.1}))


def test_effect_sentences_in_plain_words():
    X = pd.DataFrame({"x": [1.0, 2.0], "g": pd.Categorical(["a", "b"], categories=["a", "b", "c"])})
    table = pd.DataFrame(
        {"estimate": [0.1, 0.5, -np.log(2), 0.1], "low": [0.0, 0.2, -1.0, -0.2], "high": [0.2, 0.8, -0.4, 0.4]},
        index=["intercept", "x", "g_b", "g_c"],
    )
    lines = effect_sentences(table, {"g": ["a", "b", "c"]}, outcome="responding", kind="binary")
    assert lines == [
        "g_b: being b rather than a (g) multiplies the odds of responding by 0.5 (95% CI 0.368 to 0.67).",
        "x: one standard deviation more multiplies the odds of responding by 1.65 (95% CI 1.22 to 2.23).",
        "Not distinguishable from no effect: g_c.",
    ]
    continuous = effect_sentences(table, {"g": ["a", "b", "c"]}, outcome="spend", kind="continuous")
    assert continuous[0] == "g_b: being b rather than a (g) lowers spend by 0.693 (95% CI -1 to -0.4)."


def test_collinear_terms_are_named_and_can_be_left_out():
    from marketing.regression.interpret import RankDeficientError, collinear_terms

    rng = np.random.default_rng(4)
    X = pd.DataFrame({"x": rng.normal(size=50), "z": rng.normal(size=50)})
    X["x_in_cents"] = 100 * X["x"]
    y = pd.Series(1 + 2 * X["x"] - X["z"] + rng.normal(scale=0.1, size=50), name="y")
    with pytest.raises(RankDeficientError, match="rank-deficient: collinear: x, x_in_cents"):
        coefficient_table(X, y, "continuous")
    assert collinear_terms(design_matrix(X)) == ["x_in_cents"]
    for scale in ("raw", "standardized"):
        table = coefficient_table(X, y, "continuous", scale=scale, collinear="drop")
        assert table.index.tolist() == ["intercept", "x", "z"]
    raw = coefficient_table(X, y, "continuous", collinear="drop")
    assert raw.loc["x", "estimate"] == pytest.approx(2.0, abs=0.05)


def test_a_separated_binary_outcome_is_refused_naming_the_term():
    from marketing.regression.interpret import SeparationError

    rng = np.random.default_rng(5)
    n = 300
    X = pd.DataFrame({"x": rng.normal(size=n), "score": rng.normal(size=n)})
    y = pd.Series((X["score"] > 0.3).astype(int), name="y")          # score alone separates y
    with pytest.raises(SeparationError, match="score: every customer with outcome 0 has a value of at most"):
        coefficient_table(X, y, "binary")
    # quasi-separation: every customer of a rare level responded
    X = pd.DataFrame({"x": rng.normal(size=n),
                      "plan": pd.Categorical(np.where(np.arange(n) < 10, "rare", "common"), categories=["common", "rare"])})
    y = pd.Series(np.where(np.arange(n) < 10, 1, (rng.random(n) < 0.3).astype(int)), name="y")
    with pytest.raises(SeparationError, match="level rare of plan: all 10 customers with it have outcome 1"):
        coefficient_table(X, y, "binary")
    # with both outcomes in every level the fit is as before
    y.iloc[0] = 0
    assert coefficient_table(X, y, "binary").index.tolist() == ["intercept", "x", "plan_rare"]


def test_partial_dependence_names_a_near_constant_feature():
    from marketing.regression.interpret import flat_features
    from marketing.validation import DataValidationError

    rng = np.random.default_rng(6)
    n = 1000
    X = pd.DataFrame({"x": rng.normal(size=n), "mostly_zero": np.r_[np.zeros(970), np.arange(1.0, 31.0)]})
    y = pd.Series(X["x"] + 0.1 * X["mostly_zero"], name="y")
    model = model_suite("continuous", X, names=["linear"])["linear"].fit(X, y)
    assert flat_features(X, ["x", "mostly_zero"]) == ["mostly_zero"]
    with pytest.raises(DataValidationError, match=r"feature\(s\) \['mostly_zero'\] are near-constant"):
        partial_dependence_frame(model, X, ["x", "mostly_zero"], "continuous")
    assert partial_dependence_frame(model, X, ["x"], "continuous")["feature"].unique().tolist() == ["x"]
