"""The pandas engine's customer features computed on Polars: the same tables as pandas, exact sums.

:func:`marketing.features.rfm` and friends move a pandas log to Polars for the aggregation
(:func:`marketing.frames.to_polars`). Checked here against the same narwhals code run on pandas
itself, against ``math.fsum`` for the sums, and across Polars' thread counts.
"""

import math
import os
import subprocess
import sys

import narwhals as nw
import numpy as np
import pandas as pd
import pytest

from marketing.features import RFM_COLUMNS, _before, _rfm_frame, rfm, split_windows
from marketing.frames import exact_sum, frame, from_polars, narrow_integers, to_native, to_polars, whole_days

END = pd.Timestamp("2024-07-01")


def random_log(n=20_000, customers=800, seed=0, ids="str"):
    rng = np.random.default_rng(seed)
    owner = rng.integers(0, customers, n)
    log = pd.DataFrame({
        "customer_id": [f"c{o:04d}" for o in owner] if ids == "str" else owner.astype(np.int64),
        "order_id": rng.integers(0, 5_000, n).astype(float),
        "item_id": rng.integers(0, 300, n),
        "timestamp": pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 600 * 86_400, n), unit="s"),
        # prices with cents and wide magnitudes, some refunds: sums where the order of adding shows
        "amount": np.round(rng.lognormal(3, 2.5, n), 2) * rng.choice([1, 1, 1, -1], n),
    })
    log.loc[rng.random(n) < 0.02, "order_id"] = np.nan  # a line without an order id
    log.loc[rng.random(n) < 0.01, "amount"] = np.nan
    return log


def pandas_rfm(log, end=END):
    """The same narwhals code on pandas, not moved to Polars (the pandas engine before it was)."""
    window = _before(frame(log), "timestamp", end)
    out = _rfm_frame(window, end, "customer_id", "timestamp", "amount", "order_id", "item_id")
    return to_native(out, index="customer_id", sort=True)


@pytest.mark.parametrize("ids", ["str", "int"])
def test_rfm_on_polars_is_the_pandas_table(ids):
    log = random_log(ids=ids)
    ours, theirs = rfm(log, END), pandas_rfm(log)
    assert to_polars(log).implementation is nw.Implementation.POLARS
    assert list(ours.columns) == list(RFM_COLUMNS) and ours.index.dtype == theirs.index.dtype
    assert ours.index.equals(theirs.index) and ours.index.is_monotonic_increasing
    integers = ["recency_days", "frequency", "tenure_days", "first_to_last_days", "n_items"]
    pd.testing.assert_frame_equal(ours[integers], theirs[integers])
    # the money agrees to the last bits of pandas' summation order, and is exactly math.fsum's
    np.testing.assert_allclose(ours["monetary"], theirs["monetary"], rtol=1e-14, atol=1e-12)
    window = log[log["timestamp"] < END]
    fsum = window.groupby("customer_id")["amount"].agg(lambda x: math.fsum(x.dropna()))
    assert (ours["monetary"].to_numpy() == fsum.to_numpy()).all()
    assert (ours["avg_order_value"] == ours["monetary"] / ours["frequency"]).all()


def test_split_windows_on_polars_is_the_pandas_split():
    log = random_log(seed=1)
    features, labels = split_windows(log, "2024-03-01", label_days=60, observation_days=300)
    history = log[(log["timestamp"] >= pd.Timestamp("2024-03-01") - pd.Timedelta(days=300))]
    expected = pandas_rfm(history, pd.Timestamp("2024-03-01"))
    pd.testing.assert_frame_equal(features, expected, rtol=1e-14)
    future = log[(log["timestamp"] >= "2024-03-01") & (log["timestamp"] < "2024-04-30")]
    spend = future.groupby("customer_id")["amount"].agg(lambda x: math.fsum(x.dropna()))
    expected_spend = spend.reindex(features.index, fill_value=0.0)
    assert (labels["spend_next"].to_numpy() == expected_spend.to_numpy()).all()
    assert labels["churned"].tolist() == (~features.index.isin(future["customer_id"])).astype(int).tolist()


def test_rfm_of_given_customers_keeps_their_order():
    log = random_log(seed=2)
    keys = pd.Index(["c0005", "nobody", "c0001"], name="customer_id")
    table = rfm(log, END, customers=keys)
    assert table.index.tolist() == keys.tolist()
    assert table.loc["nobody", "frequency"] == 0 and pd.isna(table.loc["nobody", "recency_days"])
    # (recency is a float column here: the customer without events has none)
    pd.testing.assert_frame_equal(table.loc[["c0005", "c0001"]], pandas_rfm(log).loc[["c0005", "c0001"]],
                                  rtol=1e-14, check_dtype=False)


def test_ids_arrow_cannot_type_stay_in_pandas():
    log = random_log(n=500, customers=20, seed=3, ids="int")
    # a boolean among integers: Python objects Arrow cannot put in one column, which pandas groups
    log["customer_id"] = pd.Series([True if o == 0 else o + 1 for o in log["customer_id"]], dtype=object)
    assert to_polars(log).implementation is nw.Implementation.PANDAS
    pd.testing.assert_frame_equal(rfm(log, END), pandas_rfm(log))


def test_exact_sum_by_hand():
    t = to_polars(pd.DataFrame({"g": [1, 1, 1, 2, 2, 3, 3, 4], "x": [1e16, 1.0, -1e16, 0.1, 0.2, np.inf, 5.0, np.nan]}))
    out = from_polars(t.group_by("g").agg(exact_sum(t, "x").alias("s")), sort="g").to_native()
    # 1e16 + 1 - 1e16 is 1 (adding in order gives 0); 0.1 + 0.2 rounds once; an infinity stays one;
    # a missing value is skipped
    assert out["s"].tolist() == [1.0, 0.30000000000000004, np.inf, 0.0]
    both = to_polars(pd.DataFrame({"x": [np.inf, -np.inf, 1.0]}))
    assert np.isnan(both.select(s=exact_sum(both, "x")).collect()["s"].item())
    empty = to_polars(pd.DataFrame({"x": pd.Series([], dtype=float)}))
    assert empty.select(s=exact_sum(empty, "x")).collect()["s"].to_list() == [0.0]


def test_exact_sum_does_not_depend_on_the_order_of_rows():
    rng = np.random.default_rng(4)
    x = rng.standard_cauchy(50_000) * 10.0 ** rng.integers(-8, 9, 50_000)
    g = rng.integers(0, 50, x.size)
    sums = []
    for order in (np.arange(x.size), rng.permutation(x.size), np.arange(x.size)[::-1]):
        t = to_polars(pd.DataFrame({"g": g[order], "x": x[order]}))
        sums.append(from_polars(t.group_by("g").agg(exact_sum(t, "x").alias("s")), sort="g").to_native()["s"].to_numpy())
    expected = [math.fsum(x[g == k]) for k in range(50)]
    assert all((s == sums[0]).all() for s in sums) and sums[0].tolist() == expected


def test_exact_sum_elsewhere_is_the_engine_sum():
    t = frame(pd.DataFrame({"x": [0.5, 0.25]}))
    assert t.select(s=exact_sum(t, "x"))["s"].to_list() == [0.75]


def test_whole_days_on_polars_floor_as_pandas():
    times = pd.DataFrame({
        "a": pd.to_datetime(["2024-01-01 00:00", "2024-01-01 00:00", "2024-03-01 12:00", "2024-01-02 00:00"]).as_unit("ns"),
        "b": pd.to_datetime(["2024-01-01 00:00:00.000000001", "2024-01-03 00:00", "2024-01-01 13:00", "2024-01-02 00:00"], format="ISO8601").as_unit("ns"),
    })
    spans = {"d": ("a", "b"), "e": (pd.Timestamp("2024-02-01"), "a")}
    ours = from_polars(whole_days(to_polars(times), spans)).to_native()
    theirs = whole_days(frame(times), spans).to_native()
    assert ours["d"].tolist() == theirs["d"].tolist() == [-1, -2, 59, 0]
    assert ours["e"].tolist() == theirs["e"].tolist() == [31, 31, -30, 30]


SCRIPT = """
import hashlib, sys
sys.path.insert(0, {tests!r})
from test_features_polars import END, random_log
from marketing.features import rfm
table = rfm(random_log(n=200_000, customers=5_000, seed=5), END)
print(hashlib.sha256(table.to_numpy().tobytes() + table.index.to_numpy().astype(str).astype(bytes).tobytes()).hexdigest())
"""


def test_the_same_table_on_every_thread_count():
    # Polars' streaming engine adds in no fixed order, which differs run to run and with the threads
    tests = os.path.dirname(__file__)
    digests = {
        threads: subprocess.run([sys.executable, "-c", SCRIPT.format(tests=tests)], check=True, capture_output=True,
                                text=True, env={**os.environ, "POLARS_MAX_THREADS": str(threads)}).stdout.strip()
        for threads in (1, 2, 4)
    }
    assert len(set(digests.values())) == 1 and all(len(d) == 64 for d in digests.values()), digests


def test_ids_beyond_32_bits_are_grouped_as_they_are():
    # hashed or composite ids: no column narrows, and the table is the pandas one
    log = random_log(n=2_000, customers=50, seed=6, ids="int")
    log["customer_id"] = log["customer_id"] * 2**40 + 7
    log["item_id"] = log["item_id"] - 2**35
    window = _before(to_polars(log), "timestamp", END)
    assert narrow_integers(window, ["customer_id", "item_id"]) == (window, {})
    ours, theirs = rfm(log, END), pandas_rfm(log)
    assert ours.index.dtype == np.int64 and ours.index.equals(theirs.index)
    pd.testing.assert_frame_equal(ours.drop(columns=["monetary", "avg_order_value"]),
                                  theirs.drop(columns=["monetary", "avg_order_value"]))
