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
        "ridge, penalised logistic regression, the tree and gradient boosting: not on engine spark "
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
