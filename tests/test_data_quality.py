"""Data-quality warnings on hand-made tables: missing-value codes, impossible zeros, one dominant value."""

import json

import numpy as np
import pandas as pd
import pytest

from marketing.data_quality import (
    DataWarning,
    data_quality_warnings,
    dominant_value_warnings,
    missing_code_warnings,
    warning_table,
    zero_warnings,
)


def test_text_codes_are_found_in_any_case_and_with_spaces():
    table = pd.DataFrame({
        "job": ["admin", "Unknown ", "admin", "technician"] * 25,
        "region": pd.Categorical(["n", "?", "s", "s"] * 25),
        "note": ["N/A"] + ["fine"] * 99,
        "city": ["Lisbon", "Porto"] * 50,            # no code
    })
    found = missing_code_warnings(table)
    assert [(w.column, w.value) for w in found] == [("job", 0.25), ("region", 0.25), ("note", 0.01)]
    assert found[0].message == (
        "'job': 'Unknown ' in 25 of 100 rows (25.0%) looks like a missing-value code; declare it under na_values "
        "in the case file so it counts as missing, or confirm it is a real category.")


def test_numeric_codes_only_outside_the_other_values():
    table = pd.DataFrame({
        "pdays": [-1] * 30 + list(range(1, 71)),                # -1 in a column otherwise >= 1: a code
        "sign": [-1, 0, 1, 1] * 25,                              # -1/0/1: a real value
        "age": [999] + list(range(20, 119)),                     # far above every other age: a code
        "price": [999] * 10 + [1200, 15, 40, 80] * 22 + [7, 8],  # a price point below others: real
        "change": [-1, -3, 2, 5] * 25,                           # other negatives: real
    })
    found = missing_code_warnings(table)
    assert [(w.column, w.value) for w in found] == [("pdays", 0.3), ("age", 0.01)]
    assert "(every other value is at least 0)" in found[0].message
    assert "the value 999 in 1 of 100 rows (1.0%) looks like a missing-value code (every other value is at most 118)" in found[1].message


def test_zeros_detached_from_a_positive_measure():
    # Pima-like: blood pressure and BMI recorded as 0 when not measured; pregnancies and
    # children are counts (0 is the next value down); spend approaches 0; a balance goes negative
    rng = np.random.default_rng(0)
    n = 200
    table = pd.DataFrame({
        "blood_pressure": np.r_[[0.0] * 6, rng.integers(24, 61, n - 6) * 2.0],
        "bmi": np.r_[[0.0] * 2, np.round(rng.normal(32, 6, n - 2).clip(18.2), 1)],
        "pregnancies": rng.integers(0, 12, n),
        "spend": np.r_[[0.0] * 20, np.round(rng.exponential(40, n - 20), 2) + 0.01],
        "balance": np.r_[[0.0] * 20, rng.normal(500, 800, n - 20)],
        "flag": rng.integers(0, 2, n),
        "rare_zero": np.r_[[0.0], rng.normal(70, 5, n - 1)],       # 0.5% of zeros: below the 1% bar
    })
    found = zero_warnings(table)
    assert [(w.column, w.value) for w in found] == [("blood_pressure", 0.03), ("bmi", 0.01)]
    assert found[0].message.startswith("'blood_pressure': 6 of 200 rows (3.0%) are exactly 0 while every other value is at least 48")
    assert found[0].message.endswith("declare 0 under na_values for 'blood_pressure' in the case file, or correct the data.")


def test_one_dominant_value_from_95_percent():
    table = pd.DataFrame({
        "default": ["no"] * 96 + ["yes"] * 4,
        "housing": ["no"] * 94 + ["yes"] * 6,
        "constant": 1.0,
        "mostly_missing": [None] * 90 + [1.0] * 10,   # the share is among the rows with a value
    })
    found = dominant_value_warnings(table)
    assert [(w.column, w.value) for w in found] == [("default", 0.96), ("constant", 1.0), ("mostly_missing", 1.0)]
    assert found[1].message.startswith("'constant': every row with a value holds 1: the column carries almost no information")


def test_all_checks_together_are_json_serialisable_records():
    table = pd.DataFrame({"job": ["?"] * 3 + ["admin"] * 97, "glucose": [0.0] * 2 + list(np.arange(60.0, 158.0))})
    found = data_quality_warnings(table)
    assert [w.kind for w in found] == ["missing_code", "impossible_zeros", "dominant_value"]
    assert all(isinstance(w, DataWarning) for w in found)
    json.dumps([w.as_dict() for w in found])
    assert warning_table(found).columns.tolist() == ["kind", "column", "value", "message"]
    assert data_quality_warnings(pd.DataFrame({"age": [30.0, 41.0, 52.0]})) == []
    with pytest.raises(ValueError, match="columns \\['x'\\] are not in the table"):
        data_quality_warnings(table, ["x"])
