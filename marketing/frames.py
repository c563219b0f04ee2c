"""Backend helpers for the relational code written once in narwhals (pandas, Polars, DuckDB, PySpark).

The package's relational functions take the caller's native frame (a pandas DataFrame, a DuckDB
relation or a PySpark DataFrame), work on it through narwhals and hand back the caller's kind.
This module holds the few things narwhals does not do the same way on every backend:

- :func:`to_polars` and :func:`from_polars`: the pandas engine's heavy aggregations (the customer
  features of an event log) run on Polars, in parallel, and come back to pandas; measured in
  benchmarks/results/duckdb.md;
- :func:`exact_sum`: a sum that is the same to the last bit in any order (Polars' parallel engine
  adds in no fixed order);
- :func:`whole_days`: whole days between two timestamps, floored like pandas ``Timedelta.days``
  (narwhals has no duration arithmetic on PySpark, and DuckDB's interval parts are not floors);
- :func:`is_empty`: whether a frame has no rows, without counting a lazy one;
- :func:`collect`: a frame as pandas (the per-customer tables the models read);
- :func:`to_native`: back to the caller's kind, pandas indexed by the key as the pandas path was;
- :func:`as_frame` and :func:`scalars`: a frame with its columns checked (the one missing-column
  error of every engine), and one-row aggregates as Python values;
- :func:`running_sums` and :func:`positions`: running sums and ranks in a global order. narwhals
  would express them as a window over the whole table, which on Spark moves every row into one
  partition; on Spark the rows are sorted by range partitions instead, and each partition adds the
  totals of the partitions before it (one row per partition is all that is collected);
- :func:`sample_rows`: at most ``n`` rows chosen by a seeded hash of the customer id, the same
  customers however a Spark table is partitioned;
- :func:`quantiles`: exact in memory, approximate (one pass, bounded memory) on Spark.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import narwhals as nw
import numpy as np
import pandas as pd

from marketing.columns import CUSTOMER
from marketing.engines import engine_of
from marketing.validation import DataValidationError

MICROS_PER_DAY = 86_400_000_000
NANOS_PER_DAY = 86_400_000_000_000


def frame(native):
    """``native`` as a narwhals frame (eager for pandas, lazy for DuckDB and PySpark).

    Examples
    --------
    >>> type(frame(pd.DataFrame({"a": [1]}))).__name__
    'DataFrame'
    """
    return nw.from_native(native)


def to_polars(native, columns: Sequence[str] | None = None):
    """A pandas DataFrame's ``columns`` as a narwhals Polars LazyFrame; any other frame as :func:`frame` gives it.

    The pandas engine keeps pandas at its boundary (what the caller passes and gets back) and
    runs the aggregations of whole event logs on Polars: multi-threaded and 5 to 6 times faster
    than pandas' groupby on 10M order lines (benchmarks/results/duckdb.md). The conversion
    shares pandas' memory where Arrow can. Columns of mixed Python objects, which Arrow cannot
    type, stay in pandas (the same results, at pandas' speed).

    Examples
    --------
    >>> to_polars(pd.DataFrame({"a": [1], "b": ["x"]}), ["a"]).implementation.name
    'POLARS'
    """
    if not isinstance(native, pd.DataFrame):
        return frame(native)
    import polars as pl

    columns = list(native.columns if columns is None else columns)
    try:
        # column by column: selecting them from pandas first would copy them
        return nw.from_native(pl.DataFrame([_polars_series(native[c]) for c in columns]).lazy())
    except (ValueError, TypeError, pl.exceptions.PolarsError):  # Arrow's errors are ValueErrors / TypeErrors
        return frame(native[columns])


def _polars_series(series: pd.Series):
    """One pandas column as a Polars Series, sharing its memory where it can."""
    import polars as pl

    dtype = series.dtype
    unit = np.datetime_data(dtype)[0] if isinstance(dtype, np.dtype) and dtype.kind == "M" else None
    if unit in ("ms", "us", "ns"):
        values = series.to_numpy().view("i8")
        # timestamps without NaT (int64's minimum): their int64 view, shared (Arrow's conversion
        # copies them: 0.24 s on 10M)
        if values.size == 0 or values.min() != np.iinfo(np.int64).min:
            return pl.Series(str(series.name), values).cast(pl.Datetime(unit))
    return pl.from_pandas(series).alias(str(series.name))


def from_polars(table, sort: str | None = None):
    """A narwhals frame computed on Polars back as an (eager) pandas one; any other frame unchanged.

    Polars' streaming engine computes it: parallel, and its rows in no fixed order, which is why
    the package's Polars aggregations are exact (integer counts, minima, maxima and
    :func:`exact_sum`) and the callers sort or join by key. ``sort`` (a column) sorts the rows
    on Polars, in parallel, for a caller that sorts them.

    Examples
    --------
    >>> t = to_polars(pd.DataFrame({"k": [1, 1, 2]})).group_by("k").agg(nw.len())
    >>> from_polars(t).to_native().sort_values("k").values.tolist()
    [[1, 2], [2, 1]]
    """
    if table.implementation is not nw.Implementation.POLARS:
        return table
    native = table.to_native()
    if hasattr(native, "collect"):
        native = native.collect(engine="streaming")
    return nw.from_native((native if sort is None else native.sort(sort)).to_pandas())


def exact_sum(table, column: str) -> nw.Expr:
    """An expression summing ``column`` over ``table``'s rows (or groups), independent of the order of the rows.

    On Polars, whose parallel engine adds in no fixed order, the sum is a fixed-point one in
    128-bit integers: every finite value as a multiple of ``2**-s``, with ``s`` as large as the
    data's largest magnitude and row count allow. Integer addition is associative, so the result
    is the same to the last bit on every run and thread count; it is the correctly rounded sum
    (what ``math.fsum`` gives) when every value is such a multiple, as every float64 of magnitude
    ``2**(52 - s)`` or more is (on 10M amounts below 10**6, ``s`` is 82: every amount from about
    1e-9). A smaller value is cut at ``2**-s``, far below float64's precision of the largest.
    Infinities are added apart (their sum does not depend on order). Missing values are skipped,
    as pandas' ``sum`` skips NaN. On the other backends ``column``'s own sum.

    Examples
    --------
    >>> t = to_polars(pd.DataFrame({"x": [0.1, 0.2, 0.3, float("nan")]}))
    >>> t.select(s=exact_sum(t, "x")).collect()["s"].to_list()  # math.fsum's 0.6, not 0.6000000000000001
    [0.6]
    """
    if table.implementation is not nw.Implementation.POLARS:
        return nw.col(column).sum()
    col = nw.col(column).cast(nw.Float64)
    bounds = scalars(table, top=col.abs().max(), n=nw.len())
    if bounds["top"] is not None and not np.isfinite(bounds["top"]):
        bounds = scalars(table, top=nw.when(col.is_finite()).then(col.abs()).max(), n=nw.len())
        infinite = True
    else:
        infinite = False
    # the largest magnitude below 2**e; n values below 2**(e + s) add up to below 2**126
    _, e = np.frexp(bounds["top"] or 0.0)
    s = min(int(126 - int(e) - int(np.ceil(np.log2(bounds["n"] + 1)))), 1000)  # 2**s a finite float
    if not infinite:
        return (col * float(2.0**s)).cast(nw.Int128).sum().cast(nw.Float64) * float(2.0**-s)
    finite = col.is_finite()
    fixed = nw.when(finite).then(col * float(2.0**s)).otherwise(0.0).cast(nw.Int128).sum().cast(nw.Float64)
    return fixed * float(2.0**-s) + nw.when(finite | col.is_null()).then(0.0).otherwise(col).sum()


def narrow_integers(table, columns: Sequence[str]):
    """On Polars, ``table`` with those of ``columns`` that are 64-bit integers within 32 bits cast to Int32.

    Polars' hash group-by and distinct counts run about a tenth faster on 4-byte keys (the
    aggregation of benchmarks/bench_duckdb.py, 10M lines). Returns the table and the dtypes of the
    columns it narrowed, to cast a key back with. Elsewhere ``table`` unchanged and no columns.

    Examples
    --------
    >>> t, wide = narrow_integers(to_polars(pd.DataFrame({"a": [1, 2], "b": [0, 2**40]})), ["a", "b"])
    >>> str(t.collect_schema()["a"]), str(t.collect_schema()["b"]), list(wide)
    ('Int32', 'Int64', ['a'])
    """
    if table.implementation is not nw.Implementation.POLARS:
        return table, {}
    schema = table.collect_schema()
    wide = [c for c in columns if c in schema and schema[c] == nw.Int64]
    if not wide:
        return table, {}
    bounds = scalars(table, **{f"{side}{i}": getattr(nw.col(c), side)() for i, c in enumerate(wide) for side in ("min", "max")})
    low, high = np.iinfo(np.int32).min, np.iinfo(np.int32).max
    fits = [c for i, c in enumerate(wide)
            if bounds[f"min{i}"] is not None and low <= bounds[f"min{i}"] and bounds[f"max{i}"] <= high]
    if not fits:
        return table, {}
    return table.with_columns(*[nw.col(c).cast(nw.Int32) for c in fits]), {c: schema[c] for c in fits}


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
    if table.implementation is nw.Implementation.POLARS:
        import polars as pl

        def span(later, earlier):
            def side(value):
                return pl.col(value) if isinstance(value, str) else pl.lit(_py(value)).cast(pl.Datetime("ns"))

            return (side(later) - side(earlier)).dt.total_nanoseconds() // NANOS_PER_DAY

        return nw.from_native(native.with_columns(**{k: span(a, b) for k, (a, b) in columns.items()}))
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


def as_frame(table, columns: Sequence[str] = (), name: str = "frame"):
    """``table`` (native or narwhals) as a narwhals frame, with ``columns`` checked: one error on every engine.

    Examples
    --------
    >>> as_frame(pd.DataFrame({"a": [1]}), ["b"], "scores")
    Traceback (most recent call last):
    ...
    marketing.validation.DataValidationError: scores: missing column(s) ['b']; it has ['a'].
    """
    out = table if isinstance(table, (nw.DataFrame, nw.LazyFrame)) else nw.from_native(table)
    missing = [c for c in columns if c not in out.columns]
    if missing:
        raise DataValidationError(f"{name}: missing column(s) {missing}; it has {list(out.columns)}.")
    return out


def scalars(table, **expressions) -> dict:
    """Aggregate ``expressions`` (name -> narwhals expression) over ``table`` into one dict of Python values.

    >>> scalars(pd.DataFrame({"a": [1, 2]}), total=nw.col("a").sum(), mean=nw.col("a").mean())
    {'total': 3, 'mean': 1.5}
    """
    row = collect(as_frame(table).select(**expressions))
    # column by column: a row of mixed types would upcast the integers to floats
    values = {name: row[name].iloc[0] for name in row.columns}
    return {name: (None if pd.isna(value) else value.item() if hasattr(value, "item") else value) for name, value in values.items()}


def running_sums(table, by: Sequence[str], descending: Sequence[bool], columns: Sequence[str]):
    """``table`` with inclusive running sums ``_cum_<column>`` in the order ``by``; and each column's total.

    ``by`` must give a total order (end with a unique column, such as the customer id), so that
    the sums do not depend on how ties fall. The rows of the result are in that order in memory;
    on Spark they are not (aggregate them, or use :func:`positions` for a list kept in order).

    Examples
    --------
    >>> t = pd.DataFrame({"customer_id": [1, 2, 3], "s": [0.2, 0.9, 0.5], "one": 1})
    >>> out, totals = running_sums(t, ["s", "customer_id"], [True, False], ["one"])
    >>> collect(out)[["customer_id", "_cum_one"]].values.tolist(), totals
    ([[2, 1], [3, 2], [1, 3]], {'one': 3})
    """
    table = as_frame(table)
    if engine_of(table) != "spark":
        ordered = table.sort(list(by), descending=list(descending))
        out = ordered.with_columns(*[nw.col(c).cum_sum().alias(f"_cum_{c}") for c in columns])
        return out, scalars(ordered, **{c: nw.col(c).sum() for c in columns})
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    ordered = _spark_sorted(table.to_native(), by, descending)
    totals = _partition_totals(ordered, {c: F.sum(c) for c in columns})
    before = totals.cumsum().shift(1, fill_value=0)
    window = Window.partitionBy("_part").orderBy("_row").rowsBetween(Window.unboundedPreceding, Window.currentRow)
    added = [(F.sum(c).over(window) + _offset(before[c])).alias(f"_cum_{c}") for c in columns]
    out = ordered.select("*", *added).drop("_part", "_row")
    return nw.from_native(out), {c: totals[c].sum().item() for c in columns}


def positions(table, by: Sequence[str], descending: Sequence[bool]):
    """``table`` in the order ``by`` with each row's 1-based position ``_position``; and the row count.

    ``by`` must be a total order. The rows stay in that order on every engine (on Spark: laid out
    in it, so collecting, ``limit`` and writing keep it); on Spark the position is the row's place
    in its partition plus the rows of the partitions before it, no shuffle beyond the sort.

    Examples
    --------
    >>> out, n = positions(pd.DataFrame({"k": [3, 1, 2]}), ["k"], [True])
    >>> collect(out).values.tolist(), n
    ([[3, 1], [2, 2], [1, 3]], 3)
    """
    table = as_frame(table)
    if engine_of(table) != "spark":
        out, totals = running_sums(table.with_columns(_one=nw.lit(1).cast(nw.Int64)), by, descending, ["_one"])
        return out.rename({"_cum__one": "_position"}).drop("_one"), int(totals["_one"] or 0)
    from pyspark.sql import functions as F

    ordered = _spark_sorted(table.to_native(), by, descending)
    totals = _partition_totals(ordered, {"_n": F.count(F.lit(1))})
    before = totals["_n"].cumsum().shift(1, fill_value=0)
    out = ordered.withColumn("_position", F.col("_row") + _offset(before) + 1).drop("_part", "_row")
    return nw.from_native(out), int(totals["_n"].sum())


def _spark_sorted(table, by: Sequence[str], descending: Sequence[bool]):
    """A Spark ``table`` sorted by ``by`` with each row's partition ``_part`` and position in it ``_row``.

    Spark sorts by range-partitioning (partition ``i`` holds the ``i``-th range of the order) and
    sorting within partitions. The frame is checkpointed: the partitions of a sort are only
    meaningful for that one computation of it, and the totals per partition and the rows must
    come from the same one.
    """
    from pyspark.sql import functions as F

    order = [F.col(c).desc() if d else F.col(c).asc() for c, d in zip(by, descending, strict=True)]
    ordered = table.orderBy(*order).withColumn("_id", F.monotonically_increasing_id())
    # monotonically_increasing_id is (partition index << 33) + position within the partition
    ordered = ordered.withColumn("_part", F.shiftright("_id", 33).cast("int")).withColumn(
        "_row", F.col("_id").bitwiseAND(F.lit((1 << 33) - 1))
    )
    return ordered.drop("_id").localCheckpoint(eager=True)


def _partition_totals(ordered, aggregates: dict) -> pd.DataFrame:
    """``aggregates`` (name -> expression) per partition of ``ordered``, one row per partition index."""
    totals = ordered.groupBy("_part").agg(*[e.alias(n) for n, e in aggregates.items()]).toPandas()
    totals = totals.set_index("_part").sort_index()
    n_parts = int(totals.index.max()) + 1 if len(totals) else 1
    return totals.reindex(range(n_parts), fill_value=0)


def _offset(before: pd.Series):
    """The value of ``before`` for each row's partition (a literal array indexed by ``_part``)."""
    from pyspark.sql import functions as F

    return F.element_at(F.array(*[F.lit(v) for v in before.tolist()]), F.col("_part") + 1)


def quantiles(table, columns: Sequence[str], qs: Sequence[float]) -> dict[str, list[float | None]]:
    """The ``qs`` quantiles of each of ``columns``: pandas' linear interpolation in memory; on Spark
    ``percentile_approx`` (a value of the data within 1/10,000 of the rank) in one pass, since an
    exact percentile holds every value of a column in one task.

    Examples
    --------
    >>> quantiles(pd.DataFrame({"x": [1.0, 2.0, 3.0, 10.0]}), ["x"], [0.5])
    {'x': [2.5]}
    """
    native = as_frame(table, columns).to_native()
    if engine_of(native) != "spark":
        values = collect(native)[list(columns)].astype(float)
        return {c: [None if pd.isna(v) else float(v) for v in values[c].quantile(list(qs))] for c in columns}
    from pyspark.sql import functions as F

    row = native.agg(*[F.percentile_approx(F.col(c).cast("double"), list(qs), 10_000).alias(f"_{i}")
                       for i, c in enumerate(columns)]).first()
    return {c: list(row[f"_{i}"] or [None] * len(qs)) for i, c in enumerate(columns)}


def hash_uniform(seed: int):
    """A Spark column: a number in [0, 1) per customer from a seeded hash of its id, so a sample
    does not depend on how the data is partitioned."""
    from pyspark.sql import functions as F

    bits = F.xxhash64(F.col(CUSTOMER), F.lit(int(seed))).bitwiseAND(F.lit((1 << 53) - 1))
    return bits.cast("double") / F.lit(float(1 << 53))


def random_uniform(table, seed: int, name: str = "_hash"):
    """``table`` (narwhals) with a seeded number in [0, 1) per customer in column ``name``, from a hash of its id.

    On Spark :func:`hash_uniform`; in memory pandas' hash of the ids with the seed as key. The
    same customer gets the same number on every run and partitioning.

    Examples
    --------
    >>> t = random_uniform(frame(pd.DataFrame({"customer_id": [1, 2]})), 0)
    >>> t["_hash"].to_list() == random_uniform(frame(pd.DataFrame({"customer_id": [1, 2]})), 0)["_hash"].to_list()
    True
    """
    native = table.to_native()
    if engine_of(native) == "spark":
        return nw.from_native(native.withColumn(name, hash_uniform(seed)))
    frame_ = table.collect("pandas").to_native() if isinstance(table, nw.LazyFrame) else native
    bits = pd.util.hash_array(frame_[CUSTOMER].to_numpy(), hash_key=f"{seed:016d}"[-16:]) >> np.uint64(11)
    return nw.from_native(frame_.assign(**{name: bits.astype(float) / float(1 << 53)}))


def sample_rows(table, n: int, random_state: int | None = 0) -> pd.DataFrame:
    """At most ``n`` rows of ``table`` in pandas (all of them when there are no more), for plots and samples.

    In memory pandas' seeded ``sample``. On Spark the customers with the smallest
    :func:`hash_uniform` of their id (a top-k per partition, never the whole table on the driver),
    ordered by id: the same customers for the same seed on any partitioning.

    Examples
    --------
    >>> len(sample_rows(pd.DataFrame({"a": range(5)}), 3)), len(sample_rows(pd.DataFrame({"a": range(5)}), 9))
    (3, 5)
    """
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise ValueError(f"n must be a positive number of rows, not {n!r}.")
    native = as_frame(table).to_native()
    if engine_of(native) != "spark":
        return native if len(native) <= n else native.sample(n, random_state=random_state)
    from pyspark.sql import functions as F

    seed = int(np.random.default_rng().integers(np.iinfo(np.int32).max)) if random_state is None else int(random_state)
    as_frame(native, [CUSTOMER], "table")
    rows = native.orderBy(hash_uniform(seed), F.col(CUSTOMER)).limit(int(n)).toPandas()
    return rows.sort_values(CUSTOMER, kind="stable").reset_index(drop=True)
