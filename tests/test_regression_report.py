"""The notebook's steps: the capability sentence where an engine lacks a step, the contact rule in words."""

from types import SimpleNamespace

import pandas as pd

from marketing.regression import report


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
    assert report.suite_note(on_spark).splitlines() == [
        "best model on held-out customers (lowest log loss): logistic",
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
    found = report.show_warnings(problem, test_size=0.25, random_state=0)
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
    assert report.show_warnings(SimpleNamespace(engine="spark")) is None
    assert capsys.readouterr().out == (
        "the data warnings (leakage, missing-value codes, impossible zeros, dominant values): not on engine spark "
        "(see the engine note at the top).\n")
