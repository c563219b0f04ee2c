"""The Spark engine's foundation: the session, reading canonical tables, cleaning, RFM features.

Both engines on the same data must give the same customer features exactly (every column, every
customer), whether Spark gets the tables from pandas, Parquet or CSV.
"""

import os
import stat
from pathlib import Path

import pandas as pd
import pytest

from conftest import CASES, require_spark
from marketing import get_case, load_case_data
from marketing.engines import check_engine, load_data
from marketing.features import customer_table as pandas_customer_table
from marketing.features import rfm as pandas_rfm
from marketing.validation import DataValidationError

require_spark()  # skips with the reason without pyspark or Java (fails in CI)

from marketing.spark import session as spark_session_module  # noqa: E402
from marketing.spark.data import read_case_data, to_spark, write_tables  # noqa: E402
from marketing.features import customer_table, rfm  # noqa: E402  (one implementation; Spark in, Spark out)


def _features(case):
    return list(dict.fromkeys([*case.segmentation_features, *case.regression_features]))


def _collected(table) -> pd.DataFrame:
    return table.toPandas().set_index("customer_id").sort_index()


def _as_pandas_strings(frame: pd.DataFrame) -> pd.DataFrame:
    categorical = [c for c in frame if isinstance(frame[c].dtype, pd.CategoricalDtype)]
    return frame.astype({c: str for c in categorical}).sort_index()


# every case handed over from pandas; the file routes on the largest log and on the one with ratings
ROUTES = [(case, "from pandas") for case in CASES] + [("ecommerce", "parquet"), ("education", "csv")]


@pytest.mark.slow
@pytest.mark.parametrize("case_name, route", ROUTES)
def test_customer_features_equal_the_pandas_engine_exactly(spark, tmp_path, case_name, route):
    case = get_case(case_name)
    data = load_case_data(case, seed=3)
    if route == "from pandas":
        sdata = to_spark(data, spark)
    else:
        sdata = read_case_data(spark, case, str(write_tables(data, tmp_path, route.split()[-1])))
        assert sdata.observation_end == data.observation_end  # the day after the last event, as on pandas
    ours = _collected(customer_table(sdata, _features(case)))
    theirs = _as_pandas_strings(pandas_customer_table(data, _features(case)))
    pd.testing.assert_frame_equal(ours, theirs, check_dtype=False, check_index_type=False)


def test_rfm_by_hand_with_a_customer_without_events(spark):
    # a: events on Jan 1 (10.0) and Jan 21 15:00 (30.0); b: Jan 30 (5.0); c: none; d: only after the end
    events = pd.DataFrame({
        "customer_id": [1, 1, 2, 4],
        "item_id": [7, 8, 7, 7],
        "timestamp": pd.to_datetime(["2024-01-01", "2024-01-21 15:00", "2024-01-30 23:59:59", "2024-02-01"], format="ISO8601"),
        "amount": [10.0, 30.0, 5.0, 99.0],
    })
    customers = spark.createDataFrame(pd.DataFrame({"customer_id": [1, 2, 3, 4]}))
    got = rfm(spark.createDataFrame(events), "2024-02-01", customers=customers).toPandas().set_index("customer_id").sort_index()
    # 2024-02-01 minus 2024-01-21 15:00 is 10 days 9 hours: 10 whole days (not 11 calendar days)
    assert got["recency_days"].tolist()[:2] == [10, 1]
    assert got["tenure_days"].tolist()[:2] == [31, 1]
    assert got["first_to_last_days"].tolist()[:2] == [20, 0]
    assert got["frequency"].tolist() == [2, 1, 0, 0]
    assert got["monetary"].tolist() == [40.0, 5.0, 0.0, 0.0]
    assert got["n_items"].tolist() == [2, 1, 0, 0]
    assert got.loc[[3, 4], "recency_days"].isna().all()
    theirs = pandas_rfm(events, "2024-02-01", customers=pd.Index([1, 2, 3, 4]))
    pd.testing.assert_frame_equal(got, theirs, check_dtype=False, check_index_type=False)


def _write(folder: Path, name: str, frame: pd.DataFrame) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_csv(folder / f"{name}.csv", index=False)


def test_cleaning_counts_every_dropped_row_by_reason(spark, tmp_path):
    _write(tmp_path, "customers", pd.DataFrame({"customer_id": [1, 2]}))
    _write(tmp_path, "items", pd.DataFrame({"item_id": [10, 11]}))
    _write(tmp_path, "events", pd.DataFrame({
        "customer_id": [1, 1, None, 2, 2, 3, 1],
        "item_id": [10, 11, 10, 10, 12, 10, 10],
        "timestamp": ["2025-03-01 10:00", "2025-03-02", "2025-03-03", "2025-03-04", "2025-03-05", "2025-03-06", "2025-03-07"],
        "amount": [5.0, 7.0, 1.0, 2.0, 3.0, 4.0, -5.0],
    }))
    data = read_case_data(spark, "finance", str(tmp_path))
    removed = data.cleaning.to_frame().set_index("reason")["rows_removed"]
    assert removed.to_dict() == {
        "missing customer id": 1,
        "returns or cancellations (negative quantity or amount)": 1,
        "customer not in the customers table": 1,
        "item not in the items table": 1,
        "dated in the future (after the day of the run)": 0,  # no observation end given
    }
    assert data.events.count() == 3
    assert data.observation_end == pd.Timestamp("2025-03-05")  # the day after the last kept event (Mar 4)


def test_without_customer_and_item_tables_the_ids_come_from_the_events(spark, tmp_path):
    _write(tmp_path, "events", pd.DataFrame({
        "customer_id": [1, 2, 2], "item_id": [5, 5, 6],
        "timestamp": ["2025-01-01", "2025-01-02", "2025-01-03"], "amount": [1.0, 2.0, 3.0],
    }))
    data = read_case_data(spark, "finance", str(tmp_path), observation_end="2025-02-01")
    assert data.customers.count() == 2 and data.items.count() == 2
    assert data.observation_end == pd.Timestamp("2025-02-01")


@pytest.mark.parametrize(
    "events, message",
    [
        (pd.DataFrame({"customer_id": [1], "item_id": [1], "amount": [1.0]}), r"missing column\(s\) \['timestamp'\]"),
        (pd.DataFrame({"customer_id": [1], "item_id": [1], "timestamp": ["yesterday"], "amount": [1.0]}), "not timestamps.*yesterday"),
        (pd.DataFrame({"customer_id": [1], "item_id": [1], "timestamp": ["2025-01-01"], "amount": ["$1"]}), "'amount' is String, not numeric"),
    ],
)
def test_bad_tables_are_named_with_the_column_and_the_fix(spark, tmp_path, events, message):
    _write(tmp_path, "events", events)
    with pytest.raises(DataValidationError, match=message) as error:
        read_case_data(spark, "finance", str(tmp_path))
    assert "events.csv" in str(error.value)


def test_a_folder_without_events_says_what_it_looked_for(spark, tmp_path):
    with pytest.raises(DataValidationError, match=r"no events.parquet or events.csv under .*write_tables"):
        read_case_data(spark, "finance", str(tmp_path))


def test_nanosecond_parquet_timestamps_get_a_fix_not_a_java_error(spark, tmp_path):
    events = pd.DataFrame({"customer_id": [1], "item_id": [1], "timestamp": pd.to_datetime(["2025-01-01"]).astype("datetime64[ns]"), "amount": [1.0]})
    events.to_parquet(tmp_path / "events.parquet", index=False, coerce_timestamps=None)
    with pytest.raises(DataValidationError, match="nanosecond precision.*coerce_timestamps='us'"):
        read_case_data(spark, "finance", str(tmp_path))


def test_unknown_feature_names_both_places_it_looked(spark):
    data = to_spark(load_case_data("health"), spark)
    with pytest.raises(DataValidationError, match=r"\['loyalty'\] are neither RFM features"):
        customer_table(data, ["recency_days", "loyalty"])


def test_the_active_session_is_reused_and_kept_in_utc(spark):
    assert spark_session_module.spark_session() is spark
    spark.conf.set("spark.sql.session.timeZone", "Europe/Berlin")
    assert spark_session_module.spark_session().conf.get("spark.sql.session.timeZone") == "UTC"


def test_load_data_picks_the_engine(spark):
    assert type(load_data("finance", "spark", seed=1)).__name__ == "SparkCaseData"
    with pytest.raises(ValueError, match="data_path is read by engine='duckdb' or 'spark' only"):
        load_data("finance", "pandas", data_path="somewhere")
    with pytest.raises(ValueError, match="engine must be one of"):
        check_engine("polars")


def _fake_java(folder: Path, prints: str) -> Path:
    java = folder / "bin" / "java"
    java.parent.mkdir(parents=True)
    java.write_text(f"#!/bin/sh\necho '{prints}' >&2\n")
    java.chmod(java.stat().st_mode | stat.S_IEXEC)
    return folder


def test_missing_java_says_so_and_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    with pytest.raises(spark_session_module.SparkUnavailableError, match=r"Java 17 or newer; no java found on JAVA_HOME=.*apt install openjdk-17"):
        spark_session_module.require_java()


def test_old_java_is_refused_with_its_version(monkeypatch, tmp_path):
    monkeypatch.setenv("JAVA_HOME", str(_fake_java(tmp_path, 'java version "1.8.0_392"')))
    with pytest.raises(spark_session_module.SparkUnavailableError, match=r"is Java 8\. Install a Java runtime 17"):
        spark_session_module.require_java()
    monkeypatch.setenv("JAVA_HOME", str(_fake_java(tmp_path / "new", 'openjdk version "21.0.2" 2024-01-16')))
    assert spark_session_module.require_java() == 21


def test_missing_pyspark_says_how_to_install_it(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "pyspark", None)
    with pytest.raises(spark_session_module.SparkUnavailableError, match=r"pip install -e '\.\[spark\]'"):
        spark_session_module.require_pyspark()


def test_local_settings_follow_the_master(monkeypatch):
    monkeypatch.setenv(spark_session_module.DRIVER_MEMORY_ENV, "3g")
    settings = spark_session_module._local_settings("local[3]")
    assert settings == {"spark.driver.memory": "3g", "spark.sql.shuffle.partitions": "12"}
