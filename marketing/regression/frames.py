"""The dataframe layer of the regression analysis: narwhals frames and one Spark shim.

The relational steps (metrics, gains, calibration, the profit curve, the campaign list, target and
feature summaries) are written once against narwhals, so the same code runs on a pandas frame and
on a PySpark DataFrame and gives the same numbers. Two operations need the rows in a global order
(ranks and running sums). narwhals would express them as a window over the whole table, which on
Spark moves every row into one partition; :func:`running_sums` is the one place that differs per
engine: in memory it sorts and cumulates, on Spark it calls
:func:`marketing.spark.regression.running_sums`, which sorts by range partitions and adds the
totals of the partitions before each row.
"""

from __future__ import annotations

from collections.abc import Sequence

import narwhals as nw
import pandas as pd

from marketing.frames import collect, count_where
from marketing.engines import engine_of
from marketing.validation import DataValidationError


def as_frame(frame, columns: Sequence[str] = (), table: str = "frame"):
    """``frame`` (pandas or PySpark, or already narwhals) as a narwhals frame, with ``columns`` checked.

    Examples
    --------
    >>> as_frame(pd.DataFrame({"a": [1]}), ["b"], "scores")
    Traceback (most recent call last):
    ...
    marketing.validation.DataValidationError: scores: missing column(s) ['b']; it has ['a'].
    """
    out = frame if isinstance(frame, nw.DataFrame | nw.LazyFrame) else nw.from_native(frame)
    missing = [c for c in columns if c not in out.columns]
    if missing:
        raise DataValidationError(f"{table}: missing column(s) {missing}; it has {list(out.columns)}.")
    return out


def head(frame, n: int = 10) -> pd.DataFrame:
    """The first ``n`` rows of ``frame`` in pandas (for showing a list's top rows).

    >>> head(pd.DataFrame({"a": [3, 2, 1]}), 2)["a"].tolist()
    [3, 2]
    """
    return collect(as_frame(frame).head(n)).reset_index(drop=True)


def scalars(frame, **expressions) -> dict:
    """Aggregate ``expressions`` (name -> narwhals expression) over ``frame`` into one dict of Python values.

    >>> scalars(pd.DataFrame({"a": [1, 2]}), total=nw.col("a").sum(), rows=nw.len())
    {'total': 3, 'rows': 2}
    """
    row = collect(as_frame(frame).select(**expressions)).iloc[0]
    return {name: (None if pd.isna(value) else value.item() if hasattr(value, "item") else value) for name, value in row.items()}


def running_sums(frame, by: Sequence[str], descending: Sequence[bool], columns: Sequence[str]):
    """``frame`` with inclusive running sums ``_cum_<column>`` in the order ``by``; and each column's total.

    ``by`` must give a total order (end with a unique column, such as the customer id), so that
    the sums do not depend on how ties fall. The rows of the result are in that order in memory;
    on Spark they are not (aggregate them, or use :func:`ranked` for a list kept in order).

    Examples
    --------
    >>> frame = pd.DataFrame({"customer_id": [1, 2, 3], "s": [0.2, 0.9, 0.5], "one": 1})
    >>> out, totals = running_sums(frame, ["s", "customer_id"], [True, False], ["one"])
    >>> collect(out)[["customer_id", "_cum_one"]].values.tolist(), totals
    ([[2, 1], [3, 2], [1, 3]], {'one': 3})
    """
    frame = as_frame(frame)
    if engine_of(frame) == "spark":
        from marketing.spark.regression import running_sums as spark_running_sums

        native, totals = spark_running_sums(frame.to_native(), list(by), list(descending), list(columns))
        return nw.from_native(native), totals
    ordered = frame.sort(list(by), descending=list(descending))
    out = ordered.with_columns(*[nw.col(c).cum_sum().alias(f"_cum_{c}") for c in columns])
    return out, scalars(ordered, **{c: nw.col(c).sum() for c in columns})


def check_scores(frame, score: str, table: str) -> None:
    """Refuse a score column with missing values: every customer needs a score to be ranked."""
    absent = nw.col(score).is_null()
    if frame.collect_schema()[score].is_float():
        absent = absent | nw.col(score).is_nan()   # Spark keeps NaN apart from null
    missing = scalars(frame, n=count_where(absent))["n"]
    if missing:
        raise DataValidationError(
            f"{table}: score {score!r} has {missing} missing value(s); every customer needs a score to be ranked."
        )


def ranked(frame, score: str, key: str, *, descending: bool, table: str):
    """``frame`` in the order of ``score`` (ties by ``key``) with the 1-based position ``_position``; and the row count.

    The rows stay in that order on every engine (on Spark: laid out in it, so collecting,
    ``limit`` and writing keep it).

    Raises
    ------
    DataValidationError
        No rows, or a missing score.

    Examples
    --------
    >>> out, n = ranked(pd.DataFrame({"id": [1, 2, 3], "s": [0.5, 0.9, 0.5]}), "s", "id", descending=True, table="t")
    >>> collect(out)[["id", "_position"]].values.tolist(), n
    ([[2, 1], [1, 2], [3, 3]], 3)
    """
    frame = as_frame(frame, [key, score], table)
    check_scores(frame, score, table)
    if engine_of(frame) == "spark":
        from marketing.spark.regression import ranked as spark_ranked

        native, n = spark_ranked(frame.to_native(), [score, key], [descending, False])
        out = nw.from_native(native)
    else:
        out, totals = running_sums(frame.with_columns(_one=nw.lit(1).cast(nw.Int64)), [score, key], [descending, False], ["_one"])
        out, n = out.rename({"_cum__one": "_position"}).drop("_one"), int(totals["_one"] or 0)
    if n == 0:
        raise DataValidationError(f"{table}: no rows to rank.")
    return out, n


def equal_count_bin(position: nw.Expr, n_bins: int, n: int) -> nw.Expr:
    """Bin 1..n_bins of a 1-based position among ``n`` rows in equal-count bins: ``(position - 1) * n_bins // n + 1``."""
    return ((position - 1) * int(n_bins)) // int(n) + 1


def bounded_sample(frame, n: int, random_state: int | None = 0) -> pd.DataFrame:
    """At most ``n`` rows of ``frame`` in pandas: all of them when there are no more (for plots).

    On Spark the rows with the smallest hash of (seed, customer id), the same on every run.

    >>> len(bounded_sample(pd.DataFrame({"a": range(5)}), 3)), len(bounded_sample(pd.DataFrame({"a": range(5)}), 9))
    (3, 5)
    """
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive number of rows, not {n!r}.")
    native = as_frame(frame).to_native()
    if engine_of(native) == "spark":
        from marketing.spark.regression import bounded_sample as spark_sample

        return spark_sample(native, n, random_state).toPandas()
    return native if len(native) <= n else native.sample(n, random_state=random_state)
