"""Gains, lift, the contact rule and the campaign list, against hand-worked examples."""

import numpy as np
import pandas as pd
import pytest

from marketing.regression.targeting import (
    break_even_probability,
    campaign_list,
    contact_totals,
    export_campaign_list,
    gains_table,
    profit_curve,
)
from marketing.validation import DataValidationError


def scores(y, p, ids=None):
    """A frame of held-out outcomes ``y`` and scores ``p``, customer ids 0.. unless given."""
    return pd.DataFrame({"customer_id": np.arange(len(p)) if ids is None else ids, "y": y, "p": p})


def test_deciles_are_equal_sized_and_ordered():
    frame = campaign_list(scores(0, np.arange(100)[::-1] / 100), "p", 1.0, 10.0)
    assert frame["decile"].value_counts().sort_index().tolist() == [10] * 10
    assert frame["decile"].iloc[0] == 1 and frame["decile"].iloc[-1] == 10
    assert frame["decile"].is_monotonic_increasing


def test_ties_are_broken_by_customer_id_and_missing_scores_refused():
    # four customers with one score: the smaller ids rank first, whatever the row order
    frame = campaign_list(scores(0, [0.5] * 4, ids=[9, 3, 7, 1]), "p", 1.0, 10.0, n_bins=2)
    assert frame["customer_id"].tolist() == [1, 3, 7, 9] and frame["decile"].tolist() == [1, 1, 2, 2]
    with pytest.raises(DataValidationError, match="score 'p' has 1 missing value"):
        gains_table(scores([1, 0], [0.5, np.nan]), "y", "p")


def test_gains_table_on_a_known_ranking():
    # 20 customers ranked best first; 4 positives at ranks 1, 2, 3 and 11
    y = np.zeros(20, dtype=int)
    y[[0, 1, 2, 10]] = 1
    table = gains_table(scores(y, np.linspace(1, 0, 20)), "y", "p")
    assert table["customers"].tolist() == [2] * 10
    assert table["positives"].tolist() == [2, 1, 0, 0, 0, 1, 0, 0, 0, 0]
    # overall rate 0.2: decile 1 rate 1.0 -> lift 5; decile 2 rate .5 -> 2.5
    assert table["lift"].tolist()[:2] == pytest.approx([5.0, 2.5])
    assert table["cum_gain"].tolist()[:3] == pytest.approx([0.5, 0.75, 0.75])
    assert table["cum_lift"].iloc[1] == pytest.approx(0.75 / 0.2)
    assert table["cum_gain"].iloc[-1] == 1.0 and table["cum_lift"].iloc[-1] == pytest.approx(1.0)


def test_a_perfect_ranking_finds_all_positives_first():
    y = np.r_[np.ones(10), np.zeros(90)]
    table = gains_table(scores(y, -np.arange(100)), "y", "p")
    assert table["cum_gain"].iloc[0] == 1.0
    assert table["lift"].iloc[0] == pytest.approx(10.0)


def test_gains_needs_positives():
    with pytest.raises(DataValidationError, match="no positives"):
        gains_table(scores(0, np.arange(10)), "y", "p")


def test_profit_curve_by_hand():
    # value 10, cost 3: contact order 0.9 (y=1), 0.5 (y=0), 0.2 (y=1)
    curve = profit_curve(scores([0, 1, 1], [0.5, 0.9, 0.2]), "y", "p", contact_cost=3.0, response_value=10.0)
    assert curve["contacted"].tolist() == [0, 1, 2, 3]
    assert curve["realised_profit"].tolist() == [0.0, 7.0, 4.0, 11.0]
    assert curve["expected_profit"].round(6).tolist() == [0.0, 6.0, 8.0, 7.0]
    # the expected curve peaks exactly where the rule stops: p > 3/10 for 0.9 and 0.5 only
    assert int(curve["expected_profit"].idxmax()) == int((np.array([0.5, 0.9, 0.2]) > 0.3).sum())


def test_profit_curve_points_are_the_bin_ends_the_rule_and_the_best_cut():
    # 10 customers best first; positives at ranks 1 and 7: realised profit peaks at k = 1 (9) and
    # the rule (p > 0.25) contacts 3; with 4 points the bins end at 3, 5, 8 and 10 customers
    y = [1, 0, 0, 0, 0, 0, 1, 0, 0, 0]
    curve = profit_curve(scores(y, np.linspace(0.5, 0.05, 10)), "y", "p", 1.0, 4.0, n_points=4)
    assert curve["contacted"].tolist() == [0, 1, 3, 5, 8, 10]
    assert curve["realised_profit"].tolist() == [0.0, 3.0, 1.0, -1.0, 0.0, -2.0]
    assert curve.loc[curve["realised_profit"].idxmax(), "contacted"] == 1
    assert curve["share_contacted"].iloc[-1] == 1.0


def test_break_even_and_bad_costs():
    assert break_even_probability(25.0, 900.0) == pytest.approx(1 / 36)
    with pytest.raises(ValueError, match="response_value"):
        break_even_probability(5.0, 0.0)


def test_campaign_list_contact_rule_bands_and_actions():
    ids = np.arange(1, 21)
    p = np.linspace(0.01, 0.2, 20)
    actions = {"high": "call", "medium": "email", "low": "nothing"}
    frame = campaign_list(scores(0, p, ids), "p", contact_cost=1.0, response_value=10.0, actions=actions)
    assert list(frame.columns) == ["customer_id", "score", "decile", "band", "contact", "expected_profit", "action"]
    assert frame["score"].is_monotonic_decreasing
    assert (frame["contact"] == "yes").sum() == int((p > 0.1).sum())
    assert frame.loc[frame["decile"] <= 2, "band"].eq("high").all()
    assert frame.loc[frame["decile"].between(3, 5), "action"].eq("email").all()
    assert frame.loc[frame["decile"] >= 6, "band"].eq("low").all()
    assert frame["expected_profit"].to_numpy() == pytest.approx(frame["score"].to_numpy() * 10 - 1)
    # ten of the scores exceed the break-even 0.1 (0.11 .. 0.20): 10 * (1.55 - 1) = 5.5 in expectation
    assert contact_totals(frame) == {"customers": 20, "contacted": 10, "expected_profit": pytest.approx(5.5)}


def test_export_writes_the_csv(tmp_path):
    frame = campaign_list(scores(0, [0.123456, 0.9], [7, 8]), "p", contact_cost=1.0, response_value=2.0)
    path = export_campaign_list(frame, tmp_path / "report")
    assert path.name == "contact_list_crm_real_ids.csv"
    back = pd.read_csv(path)
    assert back["customer_id"].tolist() == [8, 7]
    assert back["score"].tolist() == [0.9, 0.1235]
    assert back["contact"].tolist() == ["yes", "no"]
