"""Adapters of the public datasets: small fixtures with hand-counted cleaning, then the real data.

The fixtures are written in the originals' file formats (the mirror's Parquet for Online Retail
II, ``;``-separated CSV with quoted text for UCI, ``|``/tab-separated latin-1 for MovieLens).
The real-data tests run where ``MARKETING_DATA_MIRROR`` points at a mirror (CI sets it to
../shared/datasets) and skip otherwise.
"""

from __future__ import annotations

import functools
import os

import numpy as np
import pandas as pd
import pytest

from marketing.columns import AMOUNT, CUSTOMER, ITEM, ORDER, QUANTITY, RATING, TIMESTAMP
from marketing.datasets.adapters import (
    adapt_bank_marketing,
    adapt_insurance,
    adapt_movielens_100k,
    adapt_online_retail_ii,
    adapt_student_performance,
    load_public,
)
from marketing.datasets.public import MIRROR_ENV
from marketing.features import rfm
from marketing.validation import DataValidationError


def removed(data, reason_start: str) -> tuple[int, int]:
    """(rows removed, rows before) of the one report step whose reason starts with ``reason_start``."""
    steps = [s for s in data.cleaning.steps if s["reason"].startswith(reason_start)]
    assert len(steps) == 1, [s["reason"] for s in data.cleaning.steps]
    return steps[0]["rows_removed"], steps[0]["rows_before"]


# ------------------------------------------------------------------------------ Online Retail II

RETAIL_LINES = [
    # Invoice, StockCode, Description, Quantity, Price, InvoiceDate, Customer ID, Country      fate
    ("100001", "10001", "RED MUG", 2, 1.5, "2010-01-05 10:00:00", 1.0, "United Kingdom"),   # kept
    ("100001", "10001", "RED MUG", 2, 1.5, "2010-01-05 10:00:00", 1.0, "United Kingdom"),   # duplicate
    ("100001", "POST", "POSTAGE", 1, 18.0, "2010-01-05 10:00:00", 1.0, "United Kingdom"),   # non-product
    ("C100002", "10001", "RED MUG", -2, 1.5, "2010-01-06 09:00:00", 1.0, "United Kingdom"), # cancellation
    ("100003", "10002", "BLUE BAG", 1, 4.0, "2010-02-01 12:00:00", None, "United Kingdom"), # no customer
    ("100004", "10002", "BLUE BAG", 3, 4.0, "2010-03-01 12:00:00", 2.0, "France"),          # kept
    ("100005", "10003A", "GREEN MUG", 1, 0.0, "2010-03-02 12:00:00", 2.0, "France"),        # zero price
    ("100006", "10002", "BLUE BAG ", 5, 4.0, "2010-10-01 12:00:00", 1.0, "United Kingdom"), # kept, label window
    ("100007", "10001", "RED MUG", 4, 1.5, "2010-12-09 12:00:00", 3.0, "Germany"),          # newcomer
    ("100008", "10003A", "GREEN MUG", 2, 2.5, "2010-04-01 12:00:00", 2.0, "France"),        # kept
    ("100009", "DCGS0058", "MISO PRETTY GUM", 1, 0.83, "2010-05-01 12:00:00", 2.0, "France"),  # kept: web-shop product
    ("100010", "AMAZONFEE", "AMAZON FEE", 1, 100.0, "2010-05-02 12:00:00", None, "United Kingdom"),  # no customer
    ("100011", "10001", "RED MUGS", 1, 1.5, "2010-06-01 12:00:00", 1.0, "United Kingdom"),  # kept
    ("100012", "10002", "BLUE BAG", -1, 4.0, "2010-07-01 12:00:00", 2.0, "France"),         # negative quantity
]


@pytest.fixture
def retail(tmp_path):
    frame = pd.DataFrame(
        RETAIL_LINES,
        columns=["Invoice", "StockCode", "Description", "Quantity", "Price", "InvoiceDate", "Customer ID", "Country"],
    )
    path = tmp_path / "online_retail_ii_2009_2010.parquet"
    frame.to_parquet(path, index=False)  # the mirror's types: text codes and dates, float ids
    return adapt_online_retail_ii(path)


def test_retail_cleaning_counts_each_reason(retail):
    assert removed(retail, "cancellations") == (1, 14)
    assert removed(retail, "missing customer id") == (2, 13)
    assert removed(retail, "zero or negative quantity") == (1, 11)
    assert removed(retail, "non-product stock code") == (1, 10)
    assert removed(retail, "zero or negative price") == (1, 9)
    assert removed(retail, "exact duplicate line") == (1, 8)
    events_step = [s for s in retail.cleaning.steps if s["table"] == "events"]
    assert [(s["rows_removed"], s["rows_before"]) for s in events_step] == [(1, 7)]
    customers_step = [s for s in retail.cleaning.steps if s["table"] == "customers"]
    assert [(s["rows_removed"], s["rows_before"]) for s in customers_step] == [(1, 3)]
    assert len(retail.events) == 6


def test_retail_targets_come_from_the_90_days_after_the_cutoff(retail):
    # the data end on 2010-12-10 (the day after the last invoice); the cutoff is 90 days earlier
    assert retail.observation_end == pd.Timestamp("2010-09-11")
    customers = retail.customers.set_index(CUSTOMER)
    assert customers.index.tolist() == [1, 2]  # customer 3 first bought after the cutoff
    assert customers["spend_next_90d"].tolist() == [20.0, 0.0]
    assert customers["churned_next_90d"].tolist() == [0, 1]
    assert customers["country"].tolist() == ["United Kingdom", "France"]
    assert customers["signup_date"].tolist() == [pd.Timestamp("2010-01-05 10:00"), pd.Timestamp("2010-03-01 12:00")]
    # features at the observation end see only the history before it
    features = rfm(retail.events, retail.observation_end, customers=customers.index)
    assert features["monetary"].round(2).tolist() == [4.5, 17.83]
    assert features["frequency"].tolist() == [2, 3]


def test_retail_items_and_events_are_canonical(retail):
    items = retail.items.set_index(ITEM)
    assert items["stock_code"].tolist() == ["10001", "10002", "10003A", "DCGS0058"]
    assert items["name"].tolist() == ["RED MUG", "BLUE BAG", "GREEN MUG", "MISO PRETTY GUM"]
    assert items["category"].tolist() == ["mug", "bag", "mug", "gum"]
    assert list(retail.events.columns) == [ORDER, CUSTOMER, ITEM, TIMESTAMP, QUANTITY, AMOUNT]
    first = retail.events.iloc[0]
    assert (first[ORDER], first[CUSTOMER], first[ITEM], first[QUANTITY], first[AMOUNT]) == (100001, 1, 1, 2, 3.0)
    assert retail.events[[ORDER, CUSTOMER, ITEM]].dtypes.tolist() == [np.dtype("int64")] * 3
    assert set(retail.leakage) == {"spend_next_90d", "churned_next_90d"}


def test_retail_missing_column_is_named(tmp_path):
    path = tmp_path / "bad.parquet"
    pd.DataFrame({"Invoice": ["1"], "StockCode": ["10001"]}).to_parquet(path)
    with pytest.raises(DataValidationError, match=r"missing column\(s\) \['Description'"):
        adapt_online_retail_ii(path)


# ------------------------------------------------------------------------------ Bank Marketing

BANK_HEADER = ('"age";"job";"marital";"education";"default";"balance";"housing";"loan";"contact";"day";'
               '"month";"duration";"campaign";"pdays";"previous";"poutcome";"y"')
BANK_ROWS = [
    '58;"management";"married";"tertiary";"no";2143;"yes";"no";"unknown";5;"may";261;1;-1;0;"unknown";"no"',
    '44;"unknown";"single";"secondary";"no";29;"yes";"yes";"cellular";5;"may";151;1;90;2;"success";"yes"',
    '33;"entrepreneur";"married";"unknown";"no";2;"no";"yes";"unknown";5;"may";76;1;-1;0;"unknown";"no"',
    '47;"blue-collar";"married";"unknown";"no";1506;"yes";"no";"telephone";5;"may";92;1;200;1;"failure";"no"',
    '33;"unknown";"single";"unknown";"no";1;"no";"no";"unknown";5;"may";0;1;-1;0;"unknown";"no"',
    '35;"management";"married";"tertiary";"no";231;"yes";"no";"cellular";5;"may";139;1;-1;0;"other";"yes"',
]


@pytest.fixture
def bank(tmp_path):
    path = tmp_path / "bank-full.csv"
    path.write_text("\n".join([BANK_HEADER, *BANK_ROWS]) + "\n")
    return adapt_bank_marketing(path)


def test_bank_unknowns_become_missing_counted_per_column(bank):
    counts = bank.recoded.set_index("column")["values"].to_dict()
    assert counts == {"job": 2, "education": 3, "contact": 3, "poutcome": 3, "pdays": 4}
    assert bank.cleaning.total_removed() == 0
    assert len(bank.customers) == 6
    assert bank.customers["job"].isna().tolist() == [False, True, False, False, True, False]
    assert bank.customers["pdays"].isna().sum() == 4
    assert bank.customers["previously_contacted"].tolist() == [0, 1, 0, 1, 0, 0]


def test_bank_target_ids_leakage_and_holdings(bank):
    customers = bank.customers
    assert customers[CUSTOMER].tolist() == [1, 2, 3, 4, 5, 6]
    assert customers["campaign_response"].tolist() == [0, 1, 0, 0, 0, 1]
    assert "duration" in customers and "after the call" in bank.leakage["duration"]
    assert bank.targets == {"continuous": None, "binary": "campaign_response"}
    # housing loans of rows 1, 2, 4, 6; personal loans of rows 2, 3; never the term deposit
    pairs = list(zip(bank.events[CUSTOMER], bank.events[ITEM]))
    assert pairs == [(1, 1), (2, 1), (2, 2), (3, 2), (4, 1), (6, 1)]
    assert bank.items.set_index(ITEM).loc[3, "name"] == "term deposit"
    assert "recommendation" not in bank.analyses


def test_bank_bad_target_value_is_reported(tmp_path):
    path = tmp_path / "bank-full.csv"
    path.write_text("\n".join([BANK_HEADER, BANK_ROWS[0].replace('"no"\n', "").rsplit(";", 1)[0] + ';"maybe"']) + "\n")
    with pytest.raises(DataValidationError, match=r"'y' must be 'yes' or 'no' but row 2 holds 'maybe'"):
        adapt_bank_marketing(path)


# ------------------------------------------------------------------------- Student Performance

STUDENT_HEADER = ("school;sex;age;address;famsize;Pstatus;Medu;Fedu;Mjob;Fjob;reason;guardian;traveltime;"
                  "studytime;failures;schoolsup;famsup;paid;activities;nursery;higher;internet;romantic;famrel;"
                  "freetime;goout;Dalc;Walc;health;absences;G1;G2;G3")
STUDENT_ROW = ('"GP";"F";18;"U";"GT3";"A";4;4;"at_home";"teacher";"course";"mother";2;2;0;"yes";"no";"no";'
               '"no";"yes";"yes";"no";"no";4;3;4;1;1;3;6;"{g1}";"{g2}";{g3}')


@pytest.fixture
def student_files(tmp_path):
    grades = {"student-mat.csv": [(5, 6, 6), (7, 0, 0), (15, 14, 15)], "student-por.csv": [(0, 11, 11), (9, 8, 0)]}
    paths = {}
    for name, rows in grades.items():
        lines = [STUDENT_HEADER] + [STUDENT_ROW.format(g1=a, g2=b, g3=c) for a, b, c in rows]
        paths[name] = tmp_path / name
        paths[name].write_text("\n".join(lines) + "\n")
    return paths


def test_student_rows_ids_and_dropout_target(student_files):
    data = adapt_student_performance(student_files)
    customers = data.customers
    assert customers[CUSTOMER].tolist() == [10001, 10002, 10003, 20001, 20002]
    assert customers["subject"].tolist() == ["mathematics"] * 3 + ["Portuguese language"] * 2
    assert customers["G1"].tolist() == [5, 7, 15, 0, 9]  # quoted in the file, numbers here
    assert customers["dropped_out"].tolist() == [0, 1, 0, 0, 1]
    assert data.targets == {"continuous": "G3", "binary": "dropped_out"}
    assert data.cleaning.total_removed() == 0
    assert data.events[ITEM].tolist() == [1, 1, 1, 2, 2]


def test_student_period_grades_are_leakage_unless_switched_on(student_files):
    assert {"G1", "G2", "G3", "dropped_out"} <= set(adapt_student_performance(student_files).leakage)
    with_grades = adapt_student_performance(student_files, include_period_grades=True)
    assert set(with_grades.leakage) == {"G3", "dropped_out"}


def test_student_missing_file_is_named(student_files):
    with pytest.raises(DataValidationError, match="needs the file student-por.csv"):
        adapt_student_performance({"student-mat.csv": student_files["student-mat.csv"]})


# ----------------------------------------------------------------------------------- Insurance


def test_insurance_high_cost_is_the_top_quarter_and_leaks_charges(tmp_path):
    rows = [f"{20 + i},female,30.0,{i % 3},{'yes' if i % 2 else 'no'},southwest,{1000.0 * (i + 1)}" for i in range(8)]
    path = tmp_path / "insurance.csv"
    path.write_text("age,sex,bmi,children,smoker,region,charges\n" + "\n".join(rows) + "\n")
    data = adapt_insurance(path)
    # 75th percentile of 1000..8000 is 6250 (linear interpolation): 7000 and 8000 are above
    assert data.customers["high_cost"].tolist() == [0, 0, 0, 0, 0, 0, 1, 1]
    assert data.customers[CUSTOMER].tolist() == list(range(1, 9))
    assert "6250.00" in data.leakage["high_cost"] and "charges" in data.leakage
    assert data.events.empty and list(data.events.columns) == [CUSTOMER, ITEM, TIMESTAMP, AMOUNT]
    assert data.analyses == ("segmentation", "regression")


# ---------------------------------------------------------------------------- MovieLens 100K


@pytest.fixture
def movielens_files(tmp_path):
    ratings = [
        (1, 1, 5, 881250949), (1, 2, 3, 881250950), (2, 1, 4, 881250951),
        (2, 1, 2, 881250960),  # the same pair again, later: kept instead of the first
        (3, 2, 6, 881250952),  # rating outside 1-5
        (9, 1, 3, 881250953),  # user 9 is not in u.user
        (1, 7, 4, 881250954),  # movie 7 is not in u.item
        (2, 2, 1, 881250955),
    ]
    flags = {1: [3, 4, 5], 2: [6, 10, 16], 3: [0]}  # genre positions
    item_lines = []
    for movie, title, date in ((1, "Toy Story (1995)", "01-Jan-1995"), (2, "Café Noir (1997)", "01-Jan-1997"), (3, "unknown", "")):
        genre = ["1" if g in flags[movie] else "0" for g in range(19)]
        item_lines.append("|".join([str(movie), title, date, "", "http://example.org", *genre]))
    paths = {n: tmp_path / n for n in ("u.data", "u.item", "u.user")}
    paths["u.data"].write_text("\n".join("\t".join(map(str, r)) for r in ratings) + "\n")
    paths["u.item"].write_bytes(("\n".join(item_lines) + "\n").encode("latin-1"))
    paths["u.user"].write_text("1|24|M|technician|85711\n2|53|F|other|94043\n3|23|M|writer|02067\n")
    return paths


def test_movielens_cleaning_counts_and_tables(movielens_files):
    data = adapt_movielens_100k(movielens_files)
    assert removed(data, "rating outside 1-5") == (1, 8)
    assert removed(data, "repeated (user, movie)") == (1, 7)
    assert removed(data, "user missing") == (1, 6)
    assert removed(data, "movie missing") == (1, 5)
    events = data.events
    assert list(zip(events[CUSTOMER], events[ITEM], events[RATING])) == [(1, 1, 5), (1, 2, 3), (2, 2, 1), (2, 1, 2)]
    assert events[TIMESTAMP].iloc[0] == pd.Timestamp("1997-12-04 15:55:49")
    items = data.items.set_index(ITEM)
    assert items["name"].tolist() == ["Toy Story (1995)", "Café Noir (1997)", "unknown"]
    assert items["genres"].tolist() == ["Animation|Children's|Comedy", "Crime|Film-Noir|Thriller", "unknown"]
    assert items["category"].tolist() == ["Animation", "Crime", "unknown"]
    assert data.customers["zip_code"].tolist() == ["85711", "94043", "02067"]  # text: leading zeros kept
    assert data.analyses == ("recommendation",)


# ------------------------------------------------------------------- the real data, via a mirror


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    if not os.environ.get(MIRROR_ENV):
        pytest.skip(f"{MIRROR_ENV} is not set: the real-data checks need a mirror (e.g. ../shared/datasets)")
    cache = tmp_path_factory.mktemp("public-cache")
    return functools.cache(lambda name: load_public(name, cache))


def test_real_row_counts(real):
    retail = real("online_retail_ii")
    assert retail.cleaning.steps[0]["rows_before"] == 525_461
    assert len(real("bank_marketing").customers) == 45_211
    student = real("student_performance").customers
    assert student["subject"].value_counts().to_dict() == {"Portuguese language": 649, "mathematics": 395}
    assert len(real("insurance").customers) == 1_338


def test_real_online_retail_cleaning_counts(real):
    report = real("online_retail_ii").cleaning.to_frame()
    assert report["rows_removed"].tolist() == [10_206, 107_560, 0, 1_370, 28, 6_743, 36_075, 930]
    data = real("online_retail_ii")
    assert (len(data.customers), len(data.items), len(data.events)) == (3_355, 4_007, 363_479)
    assert data.observation_end == pd.Timestamp("2010-09-11")


@pytest.mark.slow
def test_real_insurance_linear_model_r2_is_the_published_0_751(real):
    from sklearn.linear_model import LinearRegression

    customers = real("insurance").customers
    X = pd.get_dummies(customers[["age", "sex", "bmi", "children", "smoker", "region"]], drop_first=True, dtype=float)
    r2 = LinearRegression().fit(X, customers["charges"]).score(X, customers["charges"])
    assert round(r2, 3) == 0.751


@pytest.mark.slow
def test_real_bank_logistic_auc_without_duration_is_about_0_77(real):
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    data = real("bank_marketing")
    features = [c for c in data.customers.columns if c not in data.leakage and c != CUSTOMER]
    assert "duration" not in features
    X = data.customers[features].assign(pdays=lambda d: d["pdays"].astype("float64").fillna(0.0))
    X = pd.get_dummies(X, dummy_na=True, dtype=float)  # missing ("unknown") is its own level
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    auc = cross_val_score(model, X, data.customers["campaign_response"], cv=folds, scoring="roc_auc").mean()
    assert 0.74 <= auc <= 0.80
