"""The DuckDB engine (``engine="duckdb"``): event logs larger than memory on one machine, no JVM.

The event log stays a DuckDB relation, read lazily from Parquet or CSV (or registered from the
pandas path's data); the relational steps (:mod:`marketing.features`, the cleaning) run in DuckDB,
and the per-customer tables come to pandas, where the models run. Customers and items are pandas
DataFrames, as on the pandas path, so every analysis reads them unchanged.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd

from marketing.cases import CaseStudy, get_case
from marketing.columns import AMOUNT, CUSTOMER, ITEM, ORDER, QUANTITY, RATING, TIMESTAMP
from marketing.datasets.canonical import CaseData
from marketing.datasets.load import load_case_data
from marketing.datasets.cleaning import clean_events
from marketing.datasets.layout import FORMATS, read_tables
from marketing.datasets.synthetic import Truth
from marketing.validation import CleaningReport, DataValidationError, require_unique

MEMORY_ENV = "MARKETING_DUCKDB_MEMORY"


@dataclass(frozen=True)
class DuckDBCaseData:
    """A case's data on the DuckDB engine: the events a DuckDB relation, the rest pandas.

    Attributes
    ----------
    case : CaseStudy
    customers, items : pandas.DataFrame
        Canonical tables, as in :class:`~marketing.datasets.CaseData`.
    events : duckdb.DuckDBPyRelation
        Canonical events, not computed until a step asks.
    observation_end : pandas.Timestamp
    cleaning : CleaningReport
    truth : Truth or None
    source : str
    """

    case: CaseStudy
    customers: pd.DataFrame
    items: pd.DataFrame
    events: object
    observation_end: pd.Timestamp
    cleaning: CleaningReport
    truth: Truth | None
    source: str

    engine = "duckdb"  # what :func:`marketing.engines.engine_of` reads (a class attribute, not a field)


@cache
def connection():
    """The package's DuckDB connection (one per process), spilling to a temporary folder.

    The memory limit is ``$MARKETING_DUCKDB_MEMORY`` (e.g. ``"8GB"``), by default half of the
    machine's memory: DuckDB's own default (80%) leaves too little for the pandas models that run
    in the same process on the per-customer tables.
    """
    import duckdb

    limit = os.environ.get(MEMORY_ENV) or f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') // 2**21}MiB"
    spill = Path(tempfile.gettempdir()) / f"marketing-duckdb-{os.getpid()}"
    return duckdb.connect(config={"memory_limit": limit, "temp_directory": str(spill)})


def from_pandas(data: CaseData) -> DuckDBCaseData:
    """The pandas path's data with its events registered in DuckDB (no copy is made).

    Examples
    --------
    >>> data = from_pandas(load_case_data("finance"))
    >>> len(data.events) == len(load_case_data("finance").events)
    True
    """
    events = connection().from_df(data.events)
    return DuckDBCaseData(data.case, data.customers, data.items, events, data.observation_end,
                          data.cleaning, data.truth, data.source)


def _locate(root: Path, name: str, format: str | None) -> tuple[str, str] | None:
    """What DuckDB should read for table ``name`` under ``root`` (a file or a folder of part files)."""
    for fmt in (format,) if format else FORMATS:
        for path in (root / f"{name}.{fmt}", *((root / name,) if fmt == "parquet" else ())):
            if path.is_file():
                return str(path), fmt
            if path.is_dir():
                return str(path / f"*.{fmt}"), fmt
    return None


def _read(path: str, fmt: str):
    con = connection()
    return con.read_parquet(path) if fmt == "parquet" else con.read_csv(path, header=True)


def _timestamps(events, path: str):
    """``timestamp`` as a DuckDB timestamp; text that does not parse is an error, not a null."""
    import duckdb

    if events.types[events.columns.index(TIMESTAMP)].id.startswith("timestamp"):
        return events
    parsed = duckdb.SQLExpression(f'try_cast("{TIMESTAMP}" AS TIMESTAMP)')
    bad = events.filter(parsed.isnull() & duckdb.ColumnExpression(TIMESTAMP).isnotnull()).limit(3).fetchall()
    if bad:
        raise DataValidationError(
            f"events ({path}): column {TIMESTAMP!r} has values that are not timestamps, e.g. "
            f"{[row[events.columns.index(TIMESTAMP)] for row in bad]}. Write them as ISO 8601 ('2026-01-31 14:05:00')."
        )
    others = [duckdb.ColumnExpression(c) for c in events.columns if c != TIMESTAMP]
    return events.select(*others, parsed.alias(TIMESTAMP))


def _to_pandas(table, name: str, key: str, path: str) -> pd.DataFrame:
    """A small table collected; text columns categorical with sorted levels (files carry no order)."""
    frame = table.df()
    require_unique(frame, key, name, path)
    text = [c for c in frame if c != key and (pd.api.types.is_string_dtype(frame[c]) or frame[c].dtype == object)]
    return frame.astype({c: pd.CategoricalDtype(sorted(frame[c].dropna().unique())) for c in text})


def read_case_data(case: str | CaseStudy, path: str | Path, *, format: str | None = None,
                   observation_end: pd.Timestamp | str | None = None) -> DuckDBCaseData:
    """Read a case's canonical tables from the folder ``path`` with DuckDB, validate and clean them.

    The layout is :func:`marketing.spark.data.read_case_data`'s: ``events`` and, optionally,
    ``customers`` and ``items``, each ``<table>.parquet`` / ``<table>.csv`` (a file or a folder of
    part files) or a folder ``<table>`` of Parquet files. The events are read lazily.

    Raises
    ------
    DataValidationError
        No events table, missing canonical columns, non-numeric amounts, unparseable timestamps;
        the message names the path and the column.

    Examples
    --------
    >>> import tempfile
    >>> from marketing.spark.data import write_tables
    >>> folder = write_tables(load_case_data("health"), tempfile.mkdtemp())
    >>> data = read_case_data("health", folder)
    >>> len(data.events) == len(load_case_data("health").events)
    True
    """
    case = get_case(case)
    root = Path(path)
    tables, paths = read_tables(root, format, lambda name, fmt: _locate(root, name, fmt), _read)
    events_path = paths["events"]
    events = _timestamps(tables["events"], events_path)
    events, report, last = clean_events(events, tables.get("customers"), tables.get("items"))
    if last is None:
        raise DataValidationError(f"events ({events_path}): no events left after cleaning.")
    order = [c for c in (ORDER, CUSTOMER, ITEM, TIMESTAMP, QUANTITY, AMOUNT, RATING) if c in events.columns]
    events = events.select(*order)
    # without a customers (items) table, it is made of the ids in the events
    customers, items = (
        _to_pandas(tables[name] if name in tables else events.select(key).distinct().order(key), name, key,
                   paths.get(name, events_path))
        for name, key in (("customers", CUSTOMER), ("items", ITEM))
    )
    if observation_end is None:
        observation_end = pd.Timestamp(last).normalize() + pd.Timedelta(days=1)
    return DuckDBCaseData(case, customers, items, events, pd.Timestamp(observation_end), report, None, str(root))


def load_duckdb_data(case: str | CaseStudy, *, data_path: str | Path | None = None, data_size: str = "small",
                     seed: int = 42, data_source: str | None = None) -> DuckDBCaseData:
    """Read ``data_path`` when given, else register the pandas path's data in DuckDB.

    Examples
    --------
    >>> data = load_duckdb_data("ecommerce", seed=7)
    >>> data.events.columns
    ['order_id', 'customer_id', 'item_id', 'timestamp', 'quantity', 'amount']
    """
    if data_path is not None:
        return read_case_data(get_case(case).for_source(data_source), data_path)
    return from_pandas(load_case_data(case, data_size=data_size, seed=seed, data_source=data_source))
