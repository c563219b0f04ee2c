"""Engine conformance: the relational steps, written once, give the same answers on pandas, DuckDB and Spark.

Every engine gets the same small synthetic data of each case. Integer columns (day counts,
frequencies, item counts, cleaning counts) must be equal exactly; sums of amounts to within
1e-12 relative, because each engine adds the same doubles in its own order (the last bit of a
float sum depends on the order, not on the definition).
"""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from conftest import CASES
from marketing import get_case, load_case_data
from marketing.engines import check_engine, load_data
from marketing.features import customer_table, rfm, split_windows
from marketing.validation import DataValidationError

ENGINES = ("pandas", "duckdb", "spark")


@pytest.fixture(params=ENGINES)
def engine(request):
    if request.param == "spark":
        request.getfixturevalue("spark")  # skips (or fails under MARKETING_REQUIRE_SPARK=1) without Spark
    return request.param


def _on(engine: str, table: pd.DataFrame, spark=None):
    """A pandas table handed to ``engine``."""
    if engine == "duckdb":
        from marketing.duckdb_engine import connection

        return connection().from_df(table)
    if engine == "spark":
        from marketing.spark.data import _spark_ready

        return spark.createDataFrame(_spark_ready(table)[0])
    return table


def _data(case: str, engine: str, request):
    if engine == "spark":
        from marketing.spark.data import to_spark

        return to_spark(load_case_data(case, seed=3), request.getfixturevalue("spark"))
    return load_data(case, engine, seed=3)


def _as_pandas(result) -> pd.DataFrame:
    """Any engine's per-customer table as pandas indexed by customer id, sorted, categoricals as text."""
    if not isinstance(result, pd.DataFrame):
        native = result.toPandas() if hasattr(result, "toPandas") else result.df()
        result = native.set_index("customer_id")
    categorical = [c for c in result if isinstance(result[c].dtype, pd.CategoricalDtype)]
    return result.astype({c: str for c in categorical}).sort_index()


def assert_same(ours, pandas_result: pd.DataFrame) -> None:
    theirs = _as_pandas(pandas_result)
    ours = _as_pandas(ours)
    assert list(ours.columns) == list(theirs.columns)
    ours = ours.astype(theirs.dtypes.to_dict())
    ours.index = ours.index.astype(theirs.index.dtype)
    integers = [c for c in theirs if not pd.api.types.is_float_dtype(theirs[c])]
    pd.testing.assert_frame_equal(ours[integers], theirs[integers], check_exact=True)
    pd.testing.assert_frame_equal(ours, theirs, check_exact=False, rtol=1e-12, atol=0)


def _features(case):
    return list(dict.fromkeys([*case.segmentation_features, *case.regression_features]))


@pytest.mark.parametrize("case_name", CASES)
def test_rfm_customer_table_and_windows_equal_pandas(request, engine, case_name):
    data = load_case_data(case_name, seed=3)
    engine_data = _data(case_name, engine, request)
    end = data.observation_end
    assert_same(rfm(engine_data.events, end), rfm(data.events, end))
    assert_same(customer_table(engine_data, _features(data.case)), customer_table(data, _features(data.case)))
    cutoff = end - pd.Timedelta(days=90)
    for ours, theirs in zip(split_windows(engine_data.events, cutoff, 60, 365), split_windows(data.events, cutoff, 60, 365)):
        assert_same(ours, theirs)


def test_customer_table_kind_per_engine(request, engine):
    table = customer_table(_data("finance", engine, request), ["recency_days", "income"])
    # DuckDB hands the per-customer table to pandas (the models run in memory); Spark keeps it
    kind = {"pandas": pd.DataFrame, "duckdb": pd.DataFrame}.get(engine)
    if kind is None:
        assert table.columns == ["customer_id", "recency_days", "income"]
    else:
        assert isinstance(table, kind) and list(table.columns) == ["recency_days", "income"]
        assert table.index.name == "customer_id" and len(table) == 2000


# a: Jan 1 00:00 (10.0, items 7) and Jan 21 15:00 (30.0, item 8); b: Jan 30 23:59:59 (5.0);
# c: no events; d: one event exactly at the end (not seen)
HAND = pd.DataFrame({
    "customer_id": ["a", "a", "b", "d"],
    "item_id": [7, 8, 7, 7],
    "timestamp": pd.to_datetime(["2024-01-01", "2024-01-21 15:00", "2024-01-30 23:59:59", "2024-02-01"], format="ISO8601"),
    "amount": [10.0, 30.0, 5.0, 99.0],
})


def test_rfm_by_hand_on_every_engine(request, engine):
    spark = request.getfixturevalue("spark") if engine == "spark" else None
    customers = _on(engine, pd.DataFrame({"customer_id": ["a", "b", "c", "d"]}), spark)
    got = _as_pandas(rfm(_on(engine, HAND, spark), "2024-02-01", customers=customers))
    # 2024-02-01 minus Jan 21 15:00 is 10 days 9 hours: 10 whole days, not 11 calendar days
    assert got["recency_days"].tolist()[:2] == [10, 1]
    assert got["tenure_days"].tolist()[:2] == [31, 1]
    assert got["first_to_last_days"].tolist()[:2] == [20, 0]
    assert got.loc[["c", "d"], "recency_days"].isna().all()
    assert got["frequency"].tolist() == [2, 1, 0, 0]
    assert got["monetary"].tolist() == [40.0, 5.0, 0.0, 0.0]
    assert got["n_items"].tolist() == [2, 1, 0, 0]
    assert got["avg_order_value"].tolist()[:2] == [20.0, 5.0]


def test_split_windows_by_hand_on_every_engine(request, engine):
    spark = request.getfixturevalue("spark") if engine == "spark" else None
    features, labels = split_windows(_on(engine, HAND, spark), "2024-01-25", label_days=7)
    # history before Jan 25 holds a only; b's Jan 30 event is in the label window, a buys nothing
    assert _as_pandas(features).index.tolist() == ["a"]
    labels = _as_pandas(labels)
    assert labels.to_dict("list") == {"spend_next": [0.0], "churned": [1]}


def _dirty(case_name: str) -> dict[str, pd.DataFrame]:
    """A case's canonical tables with planted dirt, each row's first reason known by construction."""
    data = load_case_data(case_name, seed=3)
    events = data.events
    rows = events.head(12).reset_index(drop=True)
    customer = rows["customer_id"].astype(float)
    customer[[0, 1, 2]] = np.nan                # 3 missing customer ids (row 2 also negative: counted once)
    amount = rows["amount"].copy()
    amount[[2, 3, 4, 5]] = -1.0                 # 3 more returns
    customer[[6, 7]] = 10**9                    # 2 unknown customers (row 7 also an unknown item)
    item = rows["item_id"].copy()
    item[[7, 8, 9, 10]] = 10**9                 # 3 more unknown items; row 11 stays clean
    dirt = rows.assign(customer_id=customer, amount=amount, item_id=item)
    dirty = pd.concat([events.assign(customer_id=events["customer_id"].astype(float)), dirt], ignore_index=True)
    return {"customers": data.customers, "items": data.items, "events": dirty}


def _pandas_cleaning(case_name: str, tables) -> pd.DataFrame:
    from marketing.datasets.canonical import to_canonical

    case = get_case(case_name)
    identity = {
        "customers": {"table": "customers", "id": "customer_id"},
        "items": {"table": "items", "id": "item_id"},
        "events": {"table": "events", "columns": {c: c for c in tables["events"].columns}},
    }
    return to_canonical(dataclasses.replace(case, tables=identity), tables).cleaning.to_frame()


@pytest.mark.parametrize("case_name", CASES)
def test_cleaning_counts_equal_pandas(request, tmp_path, engine, case_name):
    tables = _dirty(case_name)
    theirs = _pandas_cleaning(case_name, tables)
    assert theirs["rows_removed"].tolist() == [3, 3, 2, 3, 0]
    if engine == "pandas":
        return
    for name, table in tables.items():
        # microseconds: Spark cannot read pandas' nanosecond Parquet timestamps
        table.to_parquet(tmp_path / f"{name}.parquet", index=False, coerce_timestamps="us", allow_truncated_timestamps=True)
    if engine == "duckdb":
        data = load_data(case_name, "duckdb", data_path=tmp_path)
    else:
        from marketing.spark.data import read_case_data

        data = read_case_data(request.getfixturevalue("spark"), case_name, str(tmp_path))
    ours = data.cleaning.to_frame()
    pd.testing.assert_frame_equal(ours.drop(columns="table"), theirs.drop(columns="table"))


def _bad_folder(tmp_path, **change) -> str:
    events = pd.DataFrame({"customer_id": [1], "item_id": [1], "timestamp": ["2025-01-01"], "amount": [1.0]})
    events = events.assign(**{k: v for k, v in change.items() if v is not None})
    events.drop(columns=[k for k, v in change.items() if v is None]).to_csv(tmp_path / "events.csv", index=False)
    return str(tmp_path)


def _read(engine, folder, request):
    if engine == "spark":
        from marketing.spark.data import read_case_data

        return read_case_data(request.getfixturevalue("spark"), "finance", folder)
    from marketing.duckdb_engine import read_case_data

    return read_case_data("finance", folder)


@pytest.mark.parametrize("engine_name", ["duckdb", "spark"])
@pytest.mark.parametrize("change, message", [
    ({"timestamp": None}, r"table 'events' \(from .*events.csv\) is missing column\(s\) \['timestamp'\]"),
    ({"amount": ["$1"]}, r"events \(.*events.csv\): column 'amount' is String, not numeric"),
    ({"timestamp": ["yesterday"]}, r"events \(.*events.csv\): column 'timestamp' has values that are not timestamps.*yesterday"),
])
def test_bad_files_get_the_same_error_on_every_file_engine(request, tmp_path, engine_name, change, message):
    with pytest.raises(DataValidationError, match=message):
        _read(engine_name, _bad_folder(tmp_path, **change), request)


def test_bad_frames_get_the_same_error_on_every_engine(request, engine):
    spark = request.getfixturevalue("spark") if engine == "spark" else None
    with pytest.raises(DataValidationError, match=r"table 'events' is missing column\(s\) \['amount'\]"):
        rfm(_on(engine, HAND.drop(columns="amount"), spark), "2024-02-01")
    with pytest.raises(DataValidationError, match="column 'amount' is String, not numeric"):
        rfm(_on(engine, HAND.assign(amount=HAND["amount"].astype(str)), spark), "2024-02-01")
    with pytest.raises(DataValidationError, match=r"table 'events before 2023-01-01' is empty"):
        rfm(_on(engine, HAND, spark), "2023-01-01")
    with pytest.raises(DataValidationError, match="no events in the observation window before 2023-01-01"):
        split_windows(_on(engine, HAND, spark), "2023-01-01")


def test_unknown_engine_is_one_error():
    with pytest.raises(ValueError, match=r"engine must be one of \('pandas', 'duckdb', 'spark'\), got 'polars'"):
        check_engine("polars")
    with pytest.raises(ValueError, match="engine must be one of"):
        load_data("finance", "polars")


def test_duckdb_data_has_the_pandas_tables_and_a_relation():
    pandas_data, data = load_case_data("ecommerce", seed=3), load_data("ecommerce", "duckdb", seed=3)
    assert type(data).__name__ == "DuckDBCaseData" and data.engine == "duckdb"
    pd.testing.assert_frame_equal(data.customers, pandas_data.customers)
    pd.testing.assert_frame_equal(data.items, pandas_data.items)
    pd.testing.assert_frame_equal(data.events.df(), pandas_data.events)


def test_models_on_duckdb_data_equal_pandas():
    from marketing.regression import regression_problem
    from marketing.segmentation import Segmenter

    pandas_data, data = load_case_data("finance", seed=3), load_data("finance", "duckdb", seed=3)
    ours, theirs = regression_problem(data), regression_problem(pandas_data)
    pd.testing.assert_frame_equal(ours.features, theirs.features)
    for kind in theirs.targets:
        pd.testing.assert_series_equal(ours.targets[kind], theirs.targets[kind])
    features = pandas_data.case.segmentation_features
    labels = Segmenter(random_state=0).fit(customer_table(data, features)).labels_
    np.testing.assert_array_equal(labels, Segmenter(random_state=0).fit(customer_table(pandas_data, features)).labels_)


def test_missing_ids_are_not_counted_as_a_value_on_any_engine(request, engine):
    spark = request.getfixturevalue("spark") if engine == "spark" else None
    # a: orders 1, 2 and a line without an order id; b: only a line without one
    log = HAND.iloc[:3].assign(order_id=[1.0, np.nan, 2.0], customer_id=["a", "a", "a"])
    log = pd.concat([log, HAND.iloc[[2]].assign(order_id=[np.nan])], ignore_index=True)
    got = _as_pandas(rfm(_on(engine, log, spark), "2024-02-01"))
    assert got["frequency"].to_dict() == {"a": 2, "b": 0} and got["n_items"].to_dict() == {"a": 2, "b": 1}


def _case_data_on(engine: str, data, request):
    """A pandas CaseData handed to ``engine``."""
    if engine == "spark":
        from marketing.spark.data import to_spark

        if data.customers.empty:  # Spark infers no schema from no rows: keep the full table's
            full = to_spark(dataclasses.replace(data, customers=load_case_data(data.case.name, seed=3).customers),
                            request.getfixturevalue("spark"))
            return dataclasses.replace(full, customers=full.customers.limit(0))
        return to_spark(data, request.getfixturevalue("spark"))
    if engine == "duckdb":
        from marketing.duckdb_engine import from_pandas

        return from_pandas(data)
    return data


@pytest.mark.parametrize("change, message", [
    (lambda c: c.drop(columns="campaign_response"),
     r"^table 'customers' has no target column 'campaign_response' \(binary target of case 'finance'\); it has \["),
    (lambda c: c.assign(campaign_response=c["campaign_response"].astype(str)),
     r"^target 'campaign_response' must be numeric but has type String, such as '\d'\. Convert"),
    (lambda c: c.assign(campaign_response=c["campaign_response"] * 2),
     r"^binary target 'campaign_response' must hold 0/1 but has values \[0, 2\]\. Map"),
    (lambda c: c.assign(card_spend_next_year=3.0), r"^target 'card_spend_next_year' is constant \(every value is 3\.0\)"),
    (lambda c: c.assign(card_spend_next_year=c["card_spend_next_year"].where(c["customer_id"] != 5)),
     r"^target 'card_spend_next_year' has 1 missing value\(s\)\. Rows"),
    (lambda c: c.iloc[:0], r"^target 'card_spend_next_year' is empty: it needs at least one row\.$"),
    (lambda c: c.assign(age=c["signup_date"]), r"^features: column 'age' holds dates; models need numbers"),
    (lambda c: c.assign(income=np.nan), r"^features: column 'income' has no values at all \(every row is missing\)"),
], ids=["no target", "text target", "not 0/1", "constant", "missing", "empty", "dates", "all missing"])
def test_bad_regression_input_gets_the_same_error_on_every_engine(request, engine, change, message):
    from marketing.regression import regression_problem

    data = load_case_data("finance", seed=3)
    bad = dataclasses.replace(data, customers=change(data.customers))
    with pytest.raises(DataValidationError, match=message):
        regression_problem(_case_data_on(engine, bad, request))


def _customer_table_on(engine: str, table: pd.DataFrame, request):
    """A per-customer table (index ``customer_id``) as ``engine``'s customer_table returns it
    (DuckDB hands it to pandas; Spark keeps ``customer_id`` as a column)."""
    if engine != "spark":
        return table
    spark = request.getfixturevalue("spark")
    if table.empty:  # Spark infers no schema from no rows
        return spark.createDataFrame(_spark_table(table.reset_index())).limit(0)
    return spark.createDataFrame(table.reset_index())


def _spark_table(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.concat([frame, pd.DataFrame([dict.fromkeys(frame.columns, 1)])], ignore_index=True).astype(frame.dtypes.to_dict())


SEGMENTATION_TABLE = pd.DataFrame(
    {"recency_days": [5, 40, 200, 90, 10, 7], "frequency": [12, 3, 1, 6, 2, 4],
     "monetary": [900.0, 80.0, 20.0, 300.0, 150.0, 75.0]},
    index=pd.Index([1, 2, 3, 4, 5, 6], name="customer_id"),
)


@pytest.mark.parametrize("change, step, message", [
    (lambda t: t.drop(columns="monetary"), "rfm",
     r"^customer table has no column 'monetary' for RFM scoring; it has \['recency_days', 'frequency'\]\."),
    (lambda t: t.assign(frequency=t["frequency"].astype(str)), "rfm", r"^customer table: feature\(s\) \['frequency'\] are not numeric\."),
    (lambda t: t.assign(frequency=t["frequency"].astype(str)), "fit", r"^customer table: feature\(s\) \['frequency'\] are not numeric\."),
    (lambda t: t.assign(monetary=t["monetary"].where(t.index != 2)), "fit",
     r"^customer table: feature\(s\) \['monetary'\] have missing values \(1 cells\)\."),
    (lambda t: t.iloc[:0], "fit", r"^customer table is empty \(0 rows, 3 features\)"),
    (lambda t: t.assign(frequency=-t["frequency"]), "fit", r"^customer table: feature\(s\) \['frequency'\] have negative values"),
], ids=["rfm: no column", "rfm: text", "fit: text", "fit: missing", "fit: empty", "fit: negative"])
def test_bad_segmentation_input_gets_the_same_error_on_every_engine(request, engine, change, step, message):
    from marketing.segmentation import Segmenter, rfm_scores

    table = _customer_table_on(engine, change(SEGMENTATION_TABLE), request)
    with pytest.raises(DataValidationError, match=message):
        rfm_scores(table) if step == "rfm" else Segmenter(n_segments=2).fit(table)
