"""RFM and windowed features against hand-computed examples."""

import pandas as pd
import pytest

from marketing.features import customer_table, rfm, split_windows
from marketing.validation import DataValidationError


@pytest.fixture
def log():
    # customer a: two orders (order 1 has two lines) and one after the observation end
    return pd.DataFrame(
        {
            "order_id": [1, 1, 2, 3, 4],
            "customer_id": ["a", "a", "a", "b", "a"],
            "item_id": [10, 11, 10, 12, 13],
            "timestamp": pd.to_datetime(
                ["2024-01-01 09:00", "2024-01-01 09:00", "2024-01-21 18:30", "2024-01-30 00:00", "2024-02-10 00:00"]
            ),
            "amount": [10.0, 5.0, 30.0, 8.0, 99.0],
        }
    )


def test_rfm_by_hand(log):
    table = rfm(log, "2024-02-01")
    a, b = table.loc["a"], table.loc["b"]
    # a: last event 2024-01-21 18:30 -> 10 whole days and 5.5 hours before 2024-02-01
    assert a["recency_days"] == 10
    assert a["frequency"] == 2  # orders 1 and 2; the order after the end is not seen
    assert a["monetary"] == 45.0
    assert a["avg_order_value"] == 22.5
    assert a["tenure_days"] == 30  # 2024-01-01 09:00 -> 30 days 15 hours
    assert a["first_to_last_days"] == 20
    assert a["n_items"] == 2
    assert (b["recency_days"], b["frequency"], b["monetary"], b["tenure_days"]) == (2, 1, 8.0, 2)


def test_rfm_without_orders_counts_events(log):
    table = rfm(log.drop(columns="order_id"), "2024-02-01")
    assert table.loc["a", "frequency"] == 3


def test_rfm_keeps_customers_without_events(log):
    table = rfm(log, "2024-02-01", customers=pd.Index(["a", "b", "c"]))
    assert table.loc["c", "frequency"] == 0 and table.loc["c", "monetary"] == 0.0
    assert pd.isna(table.loc["c", "recency_days"])


def test_rfm_column_overrides(log):
    renamed = log.rename(columns={"customer_id": "CustomerID", "amount": "Revenue"})
    table = rfm(renamed, "2024-02-01", col_customer="CustomerID", col_amount="Revenue")
    assert table.index.name == "CustomerID" and table.loc["a", "monetary"] == 45.0


def test_rfm_missing_column_is_named(log):
    with pytest.raises(DataValidationError, match=r"missing column\(s\) \['amount'\]"):
        rfm(log.drop(columns="amount"), "2024-02-01")


def test_rfm_with_no_events_before_the_end(log):
    with pytest.raises(DataValidationError, match="events before 2023-01-01"):
        rfm(log, "2023-01-01")


def test_split_windows_does_not_leak(log):
    features, labels = split_windows(log, "2024-01-25", label_days=30)
    # a's features end before the cutoff: the 2024-01-30 and 2024-02-10 events are invisible
    assert features.loc["a", "monetary"] == 45.0
    assert labels.loc["a", "spend_next"] == 99.0 and labels.loc["a", "churned"] == 0
    # b has no history before the cutoff, so gets no row at all
    assert "b" not in features.index
    changed = log.assign(amount=log["amount"].where(log["timestamp"] < "2024-01-25", 1e6))
    again, _ = split_windows(changed, "2024-01-25", label_days=30)
    pd.testing.assert_frame_equal(features, again)


def test_split_windows_observation_window_and_churn(log):
    features, labels = split_windows(log, "2024-01-22", label_days=10, observation_days=5)
    assert features.index.tolist() == ["a"] and features.loc["a", "frequency"] == 1
    assert labels.loc["a", "churned"] == 1 and labels.loc["a", "spend_next"] == 0.0


def test_customer_table_unknown_feature():
    from marketing.datasets import load_case_data

    data = load_case_data("finance")
    table = customer_table(data, ["frequency", "income"])
    assert list(table.columns) == ["frequency", "income"] and len(table) == len(data.customers)
    with pytest.raises(DataValidationError, match=r"feature\(s\) \['shoe_size'\]"):
        customer_table(data, ["shoe_size"])
