"""Backend helpers for the relational code written once in narwhals (pandas, DuckDB, PySpark).

The package's relational functions take the caller's native frame (a pandas DataFrame, a DuckDB
relation or a PySpark DataFrame), work on it through narwhals and hand back the caller's kind.
This module holds the few things narwhals does not do the same way on every backend:

- :func:`whole_days`: whole days between two timestamps, floored like pandas ``Timedelta.days``
  (narwhals has no duration arithmetic on PySpark, and DuckDB's interval parts are not floors);
- :func:`is_empty`: whether a frame has no rows, without counting a lazy one;
- :func:`collect`: a frame as pandas (the per-customer tables the models read);
- :func:`to_native`: back to the caller's kind, pandas indexed by the key as the pandas path was.
"""

from __future__ import annotations

import datetime as dt

import narwhals as nw
import pandas as pd

from marketing.engines import engine_of

MICROS_PER_DAY = 86_400_000_000


def frame(native):
    """``native`` as a narwhals frame (eager for pandas, lazy for DuckDB and PySpark).

    Examples
    --------
    >>> type(frame(pd.DataFrame({"a": [1]}))).__name__
    'DataFrame'
    """
    return nw.from_native(native)


def whole_days(table, columns: dict[str, tuple]):
    """Add whole-day differences ``later - earlier`` to ``table``, floored as pandas ``Timedelta.days``.

    Parameters
    ----------
    table : narwhals DataFrame or LazyFrame
    columns : dict
        New column name -> ``(later, earlier)``; each side a column name or a Timestamp.

    Examples
    --------
    >>> t = frame(pd.DataFrame({"a": pd.to_datetime(["2024-01-21 15:00", "2024-02-01 00:00"])}))
    >>> whole_days(t, {"d": (pd.Timestamp("2024-02-01"), "a")})["d"].to_list()
    [10, 0]
    """
    engine = engine_of(table)
    native = table.to_native()
    if engine == "pandas":
        def side(value):
            return native[value] if isinstance(value, str) else pd.Timestamp(value)

        return nw.from_native(native.assign(**{k: (side(a) - side(b)).dt.days for k, (a, b) in columns.items()}))
    if engine == "spark":
        from pyspark.sql import functions as F

        def micros(value):
            value = F.col(value) if isinstance(value, str) else F.lit(_py(value)).cast("timestamp")
            return F.unix_micros(value)

        days = {k: F.floor((micros(a) - micros(b)) / F.lit(MICROS_PER_DAY)).cast("long") for k, (a, b) in columns.items()}
        return nw.from_native(native.withColumns(days))
    # DuckDB: epoch microseconds are exact; integer // floors for the non-negative spans RFM has,
    # and floor() of the division keeps the rule for negative ones too
    import duckdb

    def micros(value):
        return f'epoch_us("{value}")' if isinstance(value, str) else f"epoch_us(TIMESTAMP '{_py(value).isoformat(sep=' ')}')"

    exprs = [duckdb.SQLExpression(f"CAST(floor(({micros(a)} - {micros(b)}) / {MICROS_PER_DAY}) AS BIGINT)").alias(k)
             for k, (a, b) in columns.items()]
    return nw.from_native(native.select(duckdb.StarExpression(), *exprs))


def _py(value) -> dt.datetime:
    return pd.Timestamp(value).to_pydatetime()


def is_empty(table) -> bool:
    """Whether ``table`` (native or narwhals) has no rows; a lazy one is asked for one row, not counted.

    Examples
    --------
    >>> is_empty(frame(pd.DataFrame({"a": []}))), is_empty(frame(pd.DataFrame({"a": [1]})))
    (True, False)
    """
    if isinstance(table, (pd.DataFrame, pd.Series, nw.DataFrame)):
        return len(table) == 0
    lazy = table if isinstance(table, nw.LazyFrame) else nw.from_native(table).lazy()
    return len(lazy.head(1).collect()) == 0


def collect(table) -> pd.DataFrame:
    """A (small) frame of any backend, native or narwhals, as a pandas DataFrame (computing a lazy one).

    Examples
    --------
    >>> collect(frame(pd.DataFrame({"a": [1]}))).to_dict("list")
    {'a': [1]}
    """
    if not isinstance(table, (nw.DataFrame, nw.LazyFrame)):
        table = nw.from_native(table)
    if isinstance(table, nw.LazyFrame):
        table = table.collect("pandas")
    return table.to_pandas()


def to_native(table, index: str | None = None, *, sort: bool = False):
    """``table`` back in its backend's own kind; a pandas one indexed by ``index`` (sorted by it if ``sort``).

    The pandas path's tables are indexed by the customer (in id order where ``groupby`` made
    them); DuckDB relations and Spark DataFrames keep the key as a column and no order.

    Examples
    --------
    >>> t = frame(pd.DataFrame({"customer_id": ["b", "a"], "x": [2, 1]}))
    >>> to_native(t, index="customer_id", sort=True)
                 x
    customer_id
    a            1
    b            2
    """
    native = table.to_native()
    if index is not None and engine_of(native) == "pandas":
        native = native.set_index(index)
        return native.sort_index() if sort else native
    return native


def count_where(condition) -> nw.Expr:
    """The number of rows where ``condition`` holds, on every backend (Spark cannot sum booleans).

    Examples
    --------
    >>> frame(pd.DataFrame({"a": [1, 5, 7]})).select(n=count_where(nw.col("a") > 2))["n"].to_list()
    [2]
    """
    return condition.cast(nw.Int64).sum()
