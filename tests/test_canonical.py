"""Bad input gets an error naming the table, the column and the fix; cleaning is counted."""

import pandas as pd
import pytest

from marketing.datasets import generate, to_canonical
from marketing.validation import CleaningReport, DataValidationError


@pytest.fixture
def tables():
    return {name: df.head(300) if name != "products" else df for name, df in generate("finance", seed=0).tables.items()}


def canonical(tables):
    return to_canonical("finance", tables)


def test_roundtrip(tables):
    data = canonical(tables)
    assert list(data.events.columns) == ["customer_id", "item_id", "timestamp", "amount"]
    assert data.observation_end > data.events["timestamp"].max()


def test_missing_table(tables):
    del tables["transactions"]
    with pytest.raises(DataValidationError, match="needs a table 'transactions'"):
        canonical(tables)


def test_missing_column(tables):
    tables["transactions"] = tables["transactions"].drop(columns="booked_at")
    with pytest.raises(DataValidationError, match=r"table 'transactions'.*missing column\(s\) \['booked_at'\].*map them"):
        canonical(tables)


def test_empty_table(tables):
    tables["transactions"] = tables["transactions"].iloc[:0]
    with pytest.raises(DataValidationError, match="table 'transactions' is empty"):
        canonical(tables)


def test_wrong_dtype(tables):
    tx = tables["transactions"]
    tables["transactions"] = tx.assign(amount=tx["amount"].map(lambda v: f"EUR {v}"))
    with pytest.raises(DataValidationError, match=r"column 'amount' must be numeric.*'EUR"):
        canonical(tables)


def test_unparseable_dates(tables):
    tx = tables["transactions"]
    bad = tx["booked_at"].astype(str).where(tx.index != tx.index[5], "31/31/2025")
    tables["transactions"] = tx.assign(booked_at=bad)
    with pytest.raises(DataValidationError, match=r"column 'booked_at' has 1 value\(s\) that are not dates, first '31/31/2025' \(row 5\)"):
        canonical(tables)


def test_duplicate_ids(tables):
    customers = tables["customers"]
    tables["customers"] = pd.concat([customers, customers.head(2)])
    with pytest.raises(DataValidationError, match=r"table 'customers': column 'customer_id' should identify each row but 2 id\(s\) repeat"):
        canonical(tables)


def test_cleaning_is_counted(tables):
    tx = tables["transactions"]
    n = len(tx)
    tx = tx.astype({"customer_id": "float64"})
    tx.loc[tx.index[:3], "customer_id"] = float("nan")
    tx.loc[tx.index[3:5], "amount"] = -1.0
    tx.loc[tx.index[5], "product_code"] = 999_999
    tables["transactions"] = tx
    data = canonical(tables)
    removed = data.cleaning.to_frame().set_index("reason")["rows_removed"].to_dict()
    assert removed == {
        "missing customer id": 3,
        "returns or cancellations (negative quantity or amount)": 2,
        "customer not in the customers table": removed["customer not in the customers table"],
        "item not in the items table": 1,
        "dated in the future (after the day of the run)": 0,
    }
    assert len(data.events) == n - data.cleaning.total_removed()


def test_cleaning_report_frame():
    report = CleaningReport()
    report.add("t", "empty", 0, of=0)
    assert report.to_frame()["share_removed"].isna().all()
