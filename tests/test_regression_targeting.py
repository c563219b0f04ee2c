"""Gains, lift, the contact rule and the campaign list, against hand-worked examples."""

import numpy as np
import pandas as pd
import pytest

from marketing.regression.targeting import (
    assign_deciles,
    break_even_probability,
    campaign_list,
    export_campaign_list,
    gains_table,
    profit_curve,
)
from marketing.validation import DataValidationError


def test_deciles_are_equal_sized_and_ordered():
    score = np.arange(100)[::-1] / 100
    decile = assign_deciles(score)
    assert np.bincount(decile)[1:].tolist() == [10] * 10
    assert decile[0] == 1 and decile[-1] == 10
    assert np.all(np.diff(decile) >= 0)


def test_gains_table_on_a_known_ranking():
    # 20 customers ranked best first; 4 positives at ranks 1, 2, 3 and 11
    y = np.zeros(20, dtype=int)
    y[[0, 1, 2, 10]] = 1
    table = gains_table(y, np.linspace(1, 0, 20))
    assert table["customers"].tolist() == [2] * 10
    assert table["positives"].tolist() == [2, 1, 0, 0, 0, 1, 0, 0, 0, 0]
    # overall rate 0.2: decile 1 rate 1.0 -> lift 5; decile 2 rate .5 -> 2.5
    assert table["lift"].tolist()[:2] == pytest.approx([5.0, 2.5])
    assert table["cum_gain"].tolist()[:3] == pytest.approx([0.5, 0.75, 0.75])
    assert table["cum_lift"].iloc[1] == pytest.approx(0.75 / 0.2)
    assert table["cum_gain"].iloc[-1] == 1.0 and table["cum_lift"].iloc[-1] == pytest.approx(1.0)


def test_a_perfect_ranking_finds_all_positives_first():
    y = np.r_[np.ones(10), np.zeros(90)]
    table = gains_table(y, -np.arange(100))
    assert table["cum_gain"].iloc[0] == 1.0
    assert table["lift"].iloc[0] == pytest.approx(10.0)


def test_gains_needs_positives():
    with pytest.raises(DataValidationError, match="no positives"):
        gains_table(np.zeros(10), np.arange(10))


def test_profit_curve_by_hand():
    # value 10, cost 3: contact order 0.9 (y=1), 0.5 (y=0), 0.2 (y=1)
    curve = profit_curve([0, 1, 1], [0.5, 0.9, 0.2], contact_cost=3.0, response_value=10.0)
    assert curve["realised_profit"].tolist() == [0.0, 7.0, 4.0, 11.0]
    assert curve["expected_profit"].round(6).tolist() == [0.0, 6.0, 8.0, 7.0]
    # the expected curve peaks exactly where the rule stops: p > 3/10 for 0.9 and 0.5 only
    assert int(curve["expected_profit"].idxmax()) == int((np.array([0.5, 0.9, 0.2]) > 0.3).sum())


def test_break_even_and_bad_costs():
    assert break_even_probability(25.0, 900.0) == pytest.approx(1 / 36)
    with pytest.raises(ValueError, match="response_value"):
        break_even_probability(5.0, 0.0)


def test_campaign_list_contact_rule_bands_and_actions():
    ids = np.arange(1, 21)
    p = np.linspace(0.01, 0.2, 20)
    actions = {"high": "call", "medium": "email", "low": "nothing"}
    frame = campaign_list(ids, p, contact_cost=1.0, response_value=10.0, actions=actions)
    assert list(frame.columns) == ["customer_id", "score", "decile", "band", "contact", "expected_profit", "action"]
    assert frame["score"].is_monotonic_decreasing
    assert (frame["contact"] == "yes").sum() == int((p > 0.1).sum())
    assert frame.loc[frame["decile"] <= 2, "band"].eq("high").all()
    assert frame.loc[frame["decile"].between(3, 5), "action"].eq("email").all()
    assert frame.loc[frame["decile"] >= 6, "band"].eq("low").all()
    assert frame["expected_profit"].to_numpy() == pytest.approx(frame["score"].to_numpy() * 10 - 1)


def test_export_writes_the_csv(tmp_path):
    frame = campaign_list([7, 8], [0.123456, 0.9], contact_cost=1.0, response_value=2.0)
    path = export_campaign_list(frame, tmp_path / "report")
    assert path.name == "contact_list_crm_real_ids.csv"
    back = pd.read_csv(path)
    assert back["customer_id"].tolist() == [8, 7]
    assert back["score"].tolist() == [0.9, 0.1235]
    assert back["contact"].tolist() == ["yes", "no"]
