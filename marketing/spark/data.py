"""A case's canonical tables as Spark DataFrames: read from Parquet or CSV, or handed over from pandas.

The tables and columns are the canonical ones of :mod:`marketing.datasets.canonical`
(``customers``, ``items``, ``events``). A folder written by :func:`write_tables` (or by any other
tool, as long as the names match) is what :func:`read_case_data` reads, from any path Spark can
read: a local folder, ``hdfs://``, ``s3a://``, ``abfss://``, ``gs://``.

Cleaning is the same as on the pandas path, and counted the same way: events without a customer,
returns (negative amount or quantity), events of customers or items missing from their tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from marketing.cases import CaseStudy, get_case
from marketing.columns import AMOUNT, CUSTOMER, ITEM, ORDER, QUANTITY, RATING, TIMESTAMP
from marketing.datasets.canonical import CaseData
from marketing.datasets.load import load_case_data
from marketing.datasets.synthetic import Truth
from marketing.datasets.cleaning import clean_events
from marketing.datasets.layout import FORMATS, TABLES, read_tables
from marketing.frames import as_frame
from marketing.validation import CleaningReport, DataValidationError



@dataclass(frozen=True)
class SparkCaseData:
    """A case's data as Spark DataFrames; the Spark counterpart of :class:`~marketing.datasets.CaseData`.

    Attributes
    ----------
    case : CaseStudy
    customers, items, events : pyspark.sql.DataFrame
        Canonical tables. ``timestamp`` is a Spark timestamp (UTC session time zone).
    observation_end : pandas.Timestamp
        Features use events before it.
    levels : dict
        Categorical customer columns -> their levels, the reference level first (as the pandas
        path's categoricals order them), so that coefficients mean the same on both engines.
    cleaning : CleaningReport
        Rows removed, by table and reason.
    truth : Truth or None
        The planted structure, for synthetic data only.
    source : str
        Where the data came from.
    """

    case: CaseStudy
    customers: object
    items: object
    events: object
    observation_end: pd.Timestamp
    levels: dict = field(default_factory=dict)
    cleaning: CleaningReport = field(default_factory=CleaningReport)
    truth: Truth | None = None
    source: str = "spark"

    engine = "spark"  # what :func:`marketing.engines.engine_of` reads (a class attribute, not a field)


def require_frame(frame, name: str, columns=(), *, pandas_module: str = "marketing") -> None:
    """Raise unless ``frame`` is a Spark DataFrame holding ``columns``.

    ``pandas_module`` is what to use instead on the pandas engine, named in the error for a
    pandas frame handed to a Spark function.
    """
    from pyspark.sql import DataFrame

    if not isinstance(frame, DataFrame):
        raise TypeError(
            f"{name} must be a Spark DataFrame, got {type(frame).__name__}. On the pandas engine use "
            f"{pandas_module}, or hand the tables to Spark with marketing.spark.data.to_spark."
        )
    as_frame(frame, columns, name)


def _spark_ready(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """Categoricals to plain strings (Arrow would otherwise send dictionary codes); their levels."""
    levels = {c: [str(v) for v in frame[c].cat.categories] for c in frame if isinstance(frame[c].dtype, pd.CategoricalDtype)}
    converted = {c: frame[c].astype(str).where(frame[c].notna(), None) for c in levels}
    strings = {c: frame[c].astype(object) for c in frame if pd.api.types.is_string_dtype(frame[c]) and c not in levels}
    return frame.assign(**converted, **strings), levels


def to_spark(data: CaseData, spark) -> SparkCaseData:
    """Hand a pandas :class:`~marketing.datasets.CaseData` to Spark (for data that fits in memory).

    Examples
    --------
    >>> from marketing import load_case_data
    >>> data = to_spark(load_case_data("finance"), spark)
    >>> data.events.count() == len(load_case_data("finance").events)
    True
    >>> data.levels["region"]
    ['north', 'east', 'south', 'west']
    """
    tables, levels = {}, {}
    for name in TABLES:
        frame, found = _spark_ready(getattr(data, name))
        levels.update(found if name == "customers" else {})
        tables[name] = spark.createDataFrame(frame)
    return SparkCaseData(
        data.case, tables["customers"], tables["items"], tables["events"], data.observation_end,
        levels, data.cleaning, data.truth, data.source,
    )


def write_tables(data: CaseData, path: str | Path, format: str = "parquet") -> Path:
    """Write a case's canonical tables to ``path/<table>.<format>``, for :func:`read_case_data`.

    pandas writes them (no Spark needed); Parquet keeps the types, CSV writes ISO timestamps.
    """
    if format not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {format!r}.")
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    for name in TABLES:
        frame = getattr(data, name)
        target = folder / f"{name}.{format}"
        if format == "parquet":
            # Spark reads timestamps of microsecond precision, not pandas' nanoseconds
            frame.to_parquet(target, index=False, coerce_timestamps="us", allow_truncated_timestamps=True)
        else:
            frame.to_csv(target, index=False)
    return folder


def _locate(spark, root: str, name: str, format: str | None) -> tuple[str, str] | None:
    """The path and format of table ``name`` under ``root``; None when it is not there."""
    hadoop = spark._jvm.org.apache.hadoop.fs.Path
    fs = hadoop(root).getFileSystem(spark._jsc.hadoopConfiguration())
    base = root.rstrip("/")
    candidates = [(f"{base}/{name}.{fmt}", fmt) for fmt in ((format,) if format else FORMATS)]
    if format in (None, "parquet"):
        candidates.append((f"{base}/{name}", "parquet"))
    return next(((p, fmt) for p, fmt in candidates if fs.exists(hadoop(p))), None)


def _read(spark, path: str, fmt: str):
    from pyspark.errors import AnalysisException

    if fmt == "csv":
        return spark.read.csv(path, header=True, inferSchema=True)
    try:
        return spark.read.parquet(path)
    except AnalysisException as error:
        if "TIMESTAMP(NANOS" not in str(error):
            raise
        raise DataValidationError(
            f"{path}: timestamps are stored with nanosecond precision, which Spark cannot read. Write them "
            "in microseconds: pandas `to_parquet(path, coerce_timestamps='us', allow_truncated_timestamps=True)` "
            "or marketing.spark.write_tables."
        ) from None


def read_case_data(
    spark,
    case: str | CaseStudy,
    path: str | Path,
    *,
    format: str | None = None,
    observation_end: pd.Timestamp | str | None = None,
) -> SparkCaseData:
    """Read a case's canonical tables from ``path`` (any path Spark can read), validate and clean them.

    ``path`` holds ``events`` and, for the analyses that need them, ``customers`` and ``items``,
    each as ``<table>.parquet`` or ``<table>.csv`` (a file, or a folder of part files as Spark
    writes them), or a folder ``<table>`` of Parquet files. Without a customers (items) table, it is
    made of the ids in the events, so RFM segmentation and recommendations still run.

    Parameters
    ----------
    spark : SparkSession
    case : str or CaseStudy
    path : str or Path
        Folder of the tables, e.g. ``"s3a://bucket/retail/2026-11/"``.
    format : {"parquet", "csv"}, optional
        Read only this format; by default Parquet is looked for first, then CSV.
    observation_end : Timestamp or str, optional
        Features use events before it. Default: the day after the last event.

    Raises
    ------
    DataValidationError
        No events table, missing canonical columns, unparseable timestamps or non-numeric amounts;
        the message names the path and the column.

    Examples
    --------
    >>> import tempfile
    >>> from marketing import load_case_data
    >>> folder = write_tables(load_case_data("health"), tempfile.mkdtemp())
    >>> data = read_case_data(spark, "health", str(folder))
    >>> data.events.count() == len(load_case_data("health").events), str(data.observation_end.date())
    (True, '2026-01-01')
    """
    from pyspark.sql import functions as F

    case = get_case(case)
    root = str(path)
    frames, paths = read_tables(
        root, format, lambda name, fmt: _locate(spark, root, name, fmt), lambda p, fmt: _read(spark, p, fmt)
    )
    events_path, events = paths["events"], frames["events"]
    events = _parse_timestamps(events, events_path)

    customers = frames.get("customers")
    items = frames.get("items")
    events, report, last = clean_events(events, customers, items, future=observation_end is None)
    if customers is None:
        customers = events.select(CUSTOMER).distinct()
    if items is None:
        items = events.select(ITEM).distinct()
    order = [c for c in (ORDER, CUSTOMER, ITEM, TIMESTAMP, QUANTITY, AMOUNT, RATING) if c in events.columns]
    events = events.select(*order)
    if last is None:
        raise DataValidationError(f"events ({events_path}): no events left after cleaning.")
    if observation_end is None:
        observation_end = pd.Timestamp(last).normalize() + pd.Timedelta(days=1)
    features = set(case.segmentation_features) | set(case.regression_features)
    levels = _levels(customers, [c for c in customers.columns if c in features])
    return SparkCaseData(case, customers, items, events, pd.Timestamp(observation_end), levels, report, None, root)


def _parse_timestamps(events, path: str):
    """``timestamp`` as a Spark timestamp; CSV text that does not parse is an error, not a null."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import TimestampNTZType, TimestampType

    if isinstance(events.schema[TIMESTAMP].dataType, (TimestampType, TimestampNTZType)):
        return events.withColumn(TIMESTAMP, F.col(TIMESTAMP).cast("timestamp"))
    parsed = events.withColumn("_parsed", F.try_to_timestamp(F.col(TIMESTAMP).cast("string")))
    bad = parsed.filter(F.col("_parsed").isNull() & F.col(TIMESTAMP).isNotNull()).limit(3).collect()
    if bad:
        raise DataValidationError(
            f"events ({path}): column {TIMESTAMP!r} has values that are not timestamps, e.g. "
            f"{[r[TIMESTAMP] for r in bad]}. Write them as ISO 8601 ('2026-01-31 14:05:00')."
        )
    return parsed.drop(TIMESTAMP).withColumnRenamed("_parsed", TIMESTAMP)


def _levels(customers, columns: list[str]) -> dict[str, list[str]]:
    """Levels of the string columns among ``columns``, sorted (data read from files carries no order)."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType

    strings = [c for c in columns if isinstance(customers.schema[c].dataType, StringType)]
    if not strings:
        return {}
    row = customers.agg(*[F.sort_array(F.collect_set(c)).alias(c) for c in strings]).first()
    return {c: list(row[c]) for c in strings}


def load_spark_data(
    case: str | CaseStudy,
    spark,
    *,
    data_path: str | Path | None = None,
    data_size: str = "small",
    seed: int = 42,
    data_source: str | None = None,
) -> SparkCaseData:
    """The notebooks' entry point: read ``data_path`` when given, else hand the pandas path's data to Spark.

    Examples
    --------
    >>> data = load_spark_data("ecommerce", spark, seed=7)
    >>> sorted(data.events.columns)
    ['amount', 'customer_id', 'item_id', 'order_id', 'quantity', 'timestamp']
    """
    if data_path is not None:
        return read_case_data(spark, get_case(case).for_source(data_source), data_path)
    return to_spark(load_case_data(case, data_size=data_size, seed=seed, data_source=data_source), spark)
