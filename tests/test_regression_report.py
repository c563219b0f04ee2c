"""The notebook's steps: the capability sentence where an engine lacks a step, the contact rule in words."""

from types import SimpleNamespace

import pandas as pd

from marketing.regression import report


def test_a_step_the_engine_lacks_prints_the_capability_sentence(capsys):
    on_spark = SimpleNamespace(engine="spark", kind="binary", best="logistic")
    assert report.runs(report.TREE, on_spark) is False
    assert capsys.readouterr().out == "the decision tree diagram: not on engine spark (see the engine note at the top).\n"
    assert report.runs(report.TREE, pd.DataFrame()) is True and capsys.readouterr().out == ""
    report.show_tree(on_spark, target_label="y")
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
