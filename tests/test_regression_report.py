"""The notebook's steps: the capability sentence where an engine lacks a step, the contact rule in words."""

from types import SimpleNamespace

import pandas as pd

from marketing.regression import report
from marketing.regression.models import Selection


def test_a_step_the_engine_lacks_prints_the_capability_sentence(capsys):
    on_spark = SimpleNamespace(engine="spark", kind="binary", best="logistic")
    assert report.runs(report.TREE, on_spark) is False
    assert capsys.readouterr().out == "the decision tree diagram: not on engine spark (see the engine note at the top).\n"
    assert report.runs(report.TREE, pd.DataFrame()) is True and capsys.readouterr().out == ""
    report.show_tree(on_spark)
    report.show_partial_dependence(on_spark, on_spark, None, None)
    assert capsys.readouterr().out.splitlines() == [
        "the decision tree diagram: not on engine spark (see the engine note at the top).",
        "partial dependence: not on engine spark (see the engine note at the top).",
    ]
    metrics = pd.DataFrame({"roc_auc": [0.5, 0.8], "log_loss": [0.6, 0.5]}, index=["baseline", "logistic"])
    nan = float("nan")
    scores = pd.DataFrame({"log_loss": [0.61, 0.52], "log_loss_sd": [nan] * 2, "roc_auc": [0.5, 0.79],
                           "roc_auc_sd": [nan] * 2}, index=["baseline", "logistic"])
    selection = Selection("a validation split of 40 of the 200 training customers", scores, "log_loss", "logistic")
    on_spark = SimpleNamespace(engine="spark", kind="binary", best="logistic", label="y", primary_metric="log_loss",
                               metrics=metrics, intervals=None, selection=selection)
    assert report.suite_note(on_spark).splitlines() == [
        "chosen model: logistic (lowest log loss in a validation split of 40 of the 200 training customers: 0.520)",
        "logistic on the held-out customers: log_loss 0.500; roc_auc 0.800 (baseline 0.500)",
        "verdict: logistic ranks customers better than chance and gives better probabilities than the base rate on "
        "customers it never saw.",
        "ridge, penalised logistic regression, the tree, gradient boosting, the random forest, the neural network "
        "and the linear SVM: not on engine spark "
        "(see the engine note at the top).",
    ]


def test_contact_rule_by_hand():
    # value 4, cost 1: break-even 0.25, so the rule contacts the three scores above it;
    # realised profit in score order: 3, 3 - 1, 3 - 1 + 3, 3 - 1 + 3 - 1
    predictions = pd.DataFrame({"customer_id": [1, 2, 3, 4], "y": [1, 0, 1, 0], "best": [0.8, 0.6, 0.4, 0.2]})
    rule = report.contact_rule(SimpleNamespace(predictions=predictions, label="y", best="best"), 1.0, 4.0)
    assert rule.n_rule == 3 and rule.threshold == 0.25
    assert rule.profit_at.to_dict() == {0: 0.0, 1: 3.0, 2: 2.0, 3: 5.0, 4: 4.0}
    assert rule.summary().splitlines() == [
        "contact cost 1.00, response value 4.00: break-even probability 0.2500",
        "held-out customers: the rule contacts 3 of 4 (75.0%); realised profit 5.00 vs 4.00 contacting everyone; "
        "the best possible cut in hindsight was 3 customers (5.00)",
    ]


def test_a_case_with_one_target_runs_that_part_and_says_the_other_is_not_defined(capsys):
    import dataclasses

    from marketing.cases import get_case
    from marketing.datasets import load_case_data
    from marketing.regression import fit_suite, holdouts, regression_problem
    from marketing.regression.problem import NotDefined, target_summary

    finance = get_case("finance")
    case = dataclasses.replace(finance, targets={"binary": finance.targets["binary"]})
    data = dataclasses.replace(load_case_data("finance"), case=case)
    problem = regression_problem(data, case)
    assert list(problem.targets) == ["binary"] and set(target_summary(problem)) == {"customers", "positive_rate"}
    splits = holdouts(problem)
    assert list(splits) == ["binary"]
    continuous = fit_suite("continuous", problem, splits)
    binary = fit_suite("binary", problem, splits, n_boot=5, names=["logistic"])
    assert isinstance(continuous, NotDefined) and binary.best in ("baseline", "logistic")
    assert report.show_suite(continuous) is None
    assert capsys.readouterr().out == (
        "No continuous model: the case defines no continuous target (add targets.continuous to its case file to model one).\n")
    # every section of the missing target stays empty
    for step in (report.show_intervals(continuous, "rmse"), report.show_tree(continuous), report.show_residuals(continuous),
                 report.show_partial_dependence(continuous, problem, splits, {})):
        assert step is None
    assert capsys.readouterr().out == ""
    assert report.defined({"continuous": continuous, "binary": binary}) == {"binary": binary}
    gains = report.show_gains(binary)
    rule = report.contact_rule(binary, 1.0, 5.0)
    record = report.regression_record(case, data, splits, continuous, binary, gains=gains, rule=rule,
                                      listed={"contacted": 1, "expected_profit": 2.0}, coef_coverage={})
    assert record["continuous"] == {"target": None, "not_defined": continuous.reason}
    assert record["binary"]["target"] == problem.target_column("binary") and "targeting" in record


def test_a_case_without_targets_is_refused():
    import dataclasses

    import pytest

    from marketing.cases import get_case
    from marketing.datasets import load_case_data
    from marketing.regression import regression_problem
    from marketing.validation import DataValidationError

    case = dataclasses.replace(get_case("finance"), targets={})
    with pytest.raises(DataValidationError, match="defines no target under 'targets': give a continuous one, a binary one, or both"):
        regression_problem(load_case_data("finance"), case)


# --- honest model choice and results-driven words (issue 16) ---------------------------------------
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from marketing.regression.models import fit_models  # noqa: E402
from marketing.regression.splits import Split  # noqa: E402


def _signal(n=400, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"x": rng.normal(size=n), "z": rng.normal(size=n)}, index=pd.Index(np.arange(n), name="customer_id"))
    y = pd.Series((X["x"] + rng.logistic(size=n) * 0.5 > 0).astype(int), index=X.index, name="y")
    return X, y


def test_the_model_is_chosen_on_the_training_part_not_on_the_test_part():
    X, y = _signal()
    split = Split(np.arange(300), np.arange(300, 400), "time", "last 100")
    # a test part where the truth is reversed: the test set alone would crown the baseline
    y_rev = y.copy()
    y_rev.iloc[300:] = 1 - y.iloc[300:]
    honest = fit_models("binary", X, y, split, n_boot=5, names=["logistic"])
    rigged = fit_models("binary", X, y_rev, split, n_boot=5, names=["logistic"])
    assert rigged.metrics.loc["logistic", "log_loss"] > rigged.metrics.loc["baseline", "log_loss"]
    assert honest.best == rigged.best == "logistic"
    assert rigged.selection.method == "5-fold cross-validation on the 300 training customers"
    pd.testing.assert_frame_equal(honest.selection.scores, rigged.selection.scores)
    # and the words say the chosen model failed on the test customers
    assert not report.beats_baseline(rigged)
    assert "does not clearly beat the baseline" in report.verdict(rigged)


def test_cv_zero_chooses_on_one_validation_split_of_the_training_part():
    X, y = _signal()
    split = Split(np.arange(300), np.arange(300, 400), "time", "last 100")
    result = fit_models("binary", X, y, split, n_boot=5, names=["logistic"], cv=0)
    assert result.selection.method == "a validation split of 60 of the 300 training customers"
    assert result.selection.scores["log_loss_sd"].isna().all()
    with pytest.raises(ValueError, match="cv=1"):
        fit_models("binary", X, y, split, n_boot=5, names=["logistic"], cv=1)


def test_noise_gets_no_targeting_and_no_campaign_list(tmp_path, capsys):
    rng = np.random.default_rng(3)
    X = pd.DataFrame({"x": rng.normal(size=300)}, index=pd.Index(np.arange(300), name="customer_id"))
    y = pd.Series(rng.integers(0, 2, size=300), index=X.index, name="y")
    result = fit_models("binary", X, y, Split(np.arange(240), np.arange(240, 300), "time", ""), n_boot=20,
                        names=["logistic"])
    assert not report.beats_baseline(result)
    assert report.show_contact_rule(result, {"contact_cost": 1.0, "response_value": 4.0}) is None
    case = SimpleNamespace(targeting={"contact_cost": 1.0, "response_value": 4.0}, playbook={})
    problem = SimpleNamespace(table=X.reset_index().assign(y=y.to_numpy()))
    assert report.show_contact_list(result, problem, case, None, tmp_path) is None
    assert list(tmp_path.iterdir()) == []
    out = capsys.readouterr().out
    assert out.count("No targeting is recommended") == 2 and "No campaign list is written" in out
    text = report.conclusions(report.NotDefined("continuous", "none"), result)
    assert "no model ranks customers by `y` better than chance" in text and "no model-based targeting" in text
    assert "above chance" not in text.replace("better than chance", "")


def test_conclusions_quote_the_chosen_models_numbers():
    X, y = _signal()
    result = fit_models("binary", X, y, Split(np.arange(300), np.arange(300, 400), "time", ""), n_boot=20,
                        names=["logistic"])
    assert report.beats_baseline(result)
    text = report.conclusions(report.NotDefined("continuous", "none"), result)
    auc = result.metrics.loc["logistic", "roc_auc"]
    assert f"logistic ranks customers with roc_auc {auc:.3f}" in text
    assert "No targeting" not in text


def test_a_held_out_score_far_above_the_cross_validated_one_is_flagged():
    X, y = _signal(seed=5)
    split = Split(np.arange(300), np.arange(300, 400), "time", "last 100")
    assert report.selection_warnings(fit_models("binary", X, y, split, n_boot=5, names=["logistic"])) == []
    # the test customers are easier than the training ones: their outcome follows x without noise
    rng = np.random.default_rng(6)
    weak = ((0.5 * X["x"] + rng.logistic(size=len(X))) > 0).astype(int).rename("y")
    easy = weak.where(X.index < 300, (X["x"] > 0).astype(int))
    result = fit_models("binary", X, easy, split, n_boot=5, names=["logistic"])
    [warning] = report.selection_warnings(result)
    assert warning.startswith("logistic's held-out roc_auc 0.999 is far above its cross-validated 0.577")
    assert f"warning: {warning}" in report.suite_note(result).splitlines()


def _shown(monkeypatch):
    """What the steps display (markdown as text), collected instead of shown."""
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj, **kw: shown.append(getattr(obj, "data", obj)))
    return shown


def _planted_problem():
    import numpy as np

    from marketing.regression.problem import RegressionProblem

    rng = np.random.default_rng(0)
    n = 200
    y = pd.Series((np.arange(n) % 4 == 0).astype(int), name="responded")
    features = pd.DataFrame({
        "age": rng.normal(45, 10, n),
        "call_seconds": 60 + 240 * y + rng.normal(0, 10, n),        # a leak
        "bmi": np.r_[[0.0] * 4, rng.normal(30, 4, n - 4).round(1)],  # zeros for "not measured"
        "job": pd.Categorical(["?"] * 10 + ["admin", "technician"] * 95),
    })
    return RegressionProblem(features, {"binary": y}, {"binary": "responded"}, None, pd.DataFrame())


def test_show_warnings_lists_the_suspicious_columns_and_the_record_keeps_them(monkeypatch):
    import json

    import numpy as np

    from marketing.regression import Split
    from marketing.regression.problem import NotDefined

    shown = _shown(monkeypatch)
    problem = _planted_problem()
    from marketing.regression import holdouts

    found = report.show_warnings(problem, holdouts(problem, 0.25, random_state=0), random_state=0)
    assert [(w.kind, w.column) for w in found] == [
        ("leakage", "call_seconds"), ("missing_code", "job"), ("impossible_zeros", "bmi")]
    lines = shown[0].splitlines()
    assert len(lines) == 3 and lines[0].startswith("- **possible leakage**: 'call_seconds' alone predicts 'responded'")
    assert lines[1].startswith("- **missing-value code**: 'job': '?' in 10 of 200 rows (5.0%)")
    assert lines[2].startswith("- **impossible zeros**: 'bmi': 4 of 200 rows (2.0%) are exactly 0")
    # the record keeps the messages, JSON-serialisable; without warnings it says "not checked"
    arguments = (SimpleNamespace(name="planted"), pd.DataFrame(), {"binary": Split(np.arange(3), np.arange(3, 5), "stratified", "")},
                 NotDefined("continuous", "no target"), NotDefined("binary", "no target"))
    record = report.regression_record(*arguments, gains=None, rule=None, listed=None, coef_coverage={}, warnings=found)
    assert record["warnings"] == [w.message for w in found]
    json.dumps(record)
    assert report.regression_record(*arguments, gains=None, rule=None, listed=None, coef_coverage={})["warnings"] is None


def test_show_warnings_says_so_when_there_are_none_and_names_the_engine_that_lacks_it(monkeypatch, capsys):
    from marketing.datasets import load_case_data
    from marketing.regression import holdouts, regression_problem

    shown = _shown(monkeypatch)
    problem = regression_problem(load_case_data("finance"))
    assert report.show_warnings(problem, holdouts(problem)) == [] and shown == ["No warnings."]
    assert report.show_warnings(SimpleNamespace(engine="spark"), {}) is None
    assert capsys.readouterr().out == (
        "the data warnings (leakage, missing-value codes, impossible zeros, dominant values): not on engine spark "
        "(see the engine note at the top).\n")


def _suites(X, y_continuous, y_binary):
    """The linear and logistic suites of a hand-made table (a stratified holdout, no bootstrap to speak of)."""
    from marketing.regression import fit_models, stratified_holdout

    return {
        "continuous": fit_models("continuous", X, y_continuous, stratified_holdout(y_continuous), n_boot=2, names=["linear"]),
        "binary": fit_models("binary", X, y_binary, stratified_holdout(y_binary), n_boot=2, names=["logistic"]),
    }


def test_collinear_and_separating_columns_become_a_note_and_the_rest_is_kept(monkeypatch, capsys):
    import numpy as np

    _shown(monkeypatch)
    rng = np.random.default_rng(0)
    n = 300
    X = pd.DataFrame({"age": rng.normal(40, 10, n), "visits": rng.poisson(4, n).astype(float)})
    X["age_in_months"] = 12 * X["age"]                                    # a collinear pair
    spend = pd.Series(50 + 2 * X["age"] + 5 * X["visits"] + rng.normal(0, 5, n), name="spend")
    churned = pd.Series((X["visits"] < 3).astype(int), name="churned")   # visits separates churned
    results = _suites(X, spend, churned)
    coefs = report.show_effects(results, SimpleNamespace(levels={}))
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == ("spend: the coefficients leave out age_in_months (collinear: age, age_in_months); "
                          "the other terms are estimated without them.")
    assert printed[1].startswith("churned: no coefficients: the logistic coefficients cannot be estimated because "
                                 "the outcome is (quasi-)perfectly separated: visits: every customer with outcome 1")
    assert list(coefs) == ["continuous"] and coefs["continuous"].index.tolist() == ["intercept", "age", "visits"]
    # no coverage check where terms are missing; the record takes the gap
    truth = SimpleNamespace(coefficients=lambda label: pd.Series({"intercept": 50.0, "age": 2.0}))
    assert report.coefficient_coverage(results, truth) == {}
    assert capsys.readouterr().out.splitlines() == [
        "spend: no coverage check, because not every planted coefficient is estimated (see the effects above).",
        "churned: no coverage check, because not every planted coefficient is estimated (see the effects above).",
    ]
    assert report._covered({}, "continuous") is None
    # the metrics computed before are untouched
    assert results["continuous"].metrics.loc["linear", "r2"] > 0.9


def test_partial_dependence_skips_a_near_constant_feature_and_says_so(monkeypatch, capsys):
    import numpy as np

    from marketing.regression import fit_models, stratified_holdout

    rng = np.random.default_rng(1)
    n = 1200
    X = pd.DataFrame({"mostly_zero": np.where(rng.random(n) < 0.97, 0.0, rng.uniform(1, 50, n)),
                      "x": rng.normal(size=n), "z": rng.normal(size=n)})
    y = pd.Series(10 * X["mostly_zero"] + X["x"] + 0.5 * X["z"] + rng.normal(0, 0.1, n), name="y")
    split = stratified_holdout(y)
    result = fit_models("continuous", X, y, split, n_boot=2, names=["gradient_boosting"])
    # the near-constant feature is the most important one
    importance = pd.DataFrame({"model": "gradient_boosting", "feature": ["mostly_zero", "x", "z"], "importance": [0.9, 0.1, 0.01]})
    drawn = []
    monkeypatch.setattr("marketing.plots.regression.partial_dependence", lambda frame, **kw: drawn.append(frame))
    report.show_partial_dependence(result, SimpleNamespace(features=X), {"continuous": split}, {"continuous": importance})
    assert capsys.readouterr().out == (
        "y: partial dependence leaves out mostly_zero, near-constant on the training customers (the 5th and 95th "
        "percentiles are equal), so there is no range to vary over.\n")
    assert drawn[0]["feature"].unique().tolist() == ["x", "z"]
    report.show_partial_dependence(result, SimpleNamespace(features=X), {"continuous": split}, {})
    assert capsys.readouterr().out == "y: no partial dependence, because there are no importances to choose its features by.\n"


def test_too_few_held_out_customers_leave_out_the_charts_not_the_tables(capsys):
    import numpy as np

    # two held-out customers: the gains chart's title needs three deciles (an IndexError before)
    predictions = pd.DataFrame({"customer_id": [1, 2], "y": [1, 0], "logistic": [0.7, 0.2]})
    result = SimpleNamespace(kind="binary", label="y", best="logistic", predictions=predictions,
                             metrics=pd.DataFrame({"log_loss": [0.3]}, index=["logistic"]))
    gains = report.show_gains(result)
    assert gains["customers"].sum() == 2 and gains["lift"].iloc[0] == 2.0
    calibration = report.show_calibration(result)
    assert calibration["customers"].sum() == 2
    assert capsys.readouterr().out.splitlines() == [
        "gains of y: only 2 held-out customer(s), fewer than the 10 score bins; the chart is left out.",
        "calibration of y: only 2 held-out customer(s), fewer than the 10 score bins; the chart is left out.",
    ]
    # one class in a bin is a table row like any other (observed 0 or 1), and the chart is drawn
    many = pd.DataFrame({"customer_id": range(20), "y": [0] * 10 + [1] * 10, "logistic": np.linspace(0.05, 0.95, 20)})
    table = report.show_calibration(SimpleNamespace(**{**vars(result), "predictions": many}))
    assert table["observed"].tolist() == [0.0] * 5 + [1.0] * 5 and capsys.readouterr().out == ""
