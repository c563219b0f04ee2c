"""The dataframe layer of the regression analysis: narwhals frames, ranks and bins.

The relational steps (metrics, gains, calibration, the profit curve, the campaign list, target and
feature summaries) are written once against narwhals, so the same code runs on a pandas frame and
on a PySpark DataFrame and gives the same numbers. The operations that need the rows in a global
order (ranks and running sums) are the shims of :mod:`marketing.frames`
(:func:`~marketing.frames.running_sums`, :func:`~marketing.frames.positions`), which keep a Spark
table out of a single partition.
"""

from __future__ import annotations

import narwhals as nw
import pandas as pd

from marketing.frames import as_frame, collect, count_where, positions, running_sums, scalars
from marketing.frames import sample_rows as bounded_sample
from marketing.validation import DataValidationError

__all__ = [
    "as_frame", "bounded_sample", "check_scores", "equal_count_bin", "head", "ranked", "running_sums", "scalars",
]


def head(frame, n: int = 10) -> pd.DataFrame:
    """The first ``n`` rows of ``frame`` in pandas (for showing a list's top rows).

    >>> head(pd.DataFrame({"a": [3, 2, 1]}), 2)["a"].tolist()
    [3, 2]
    """
    return collect(as_frame(frame).head(n)).reset_index(drop=True)


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
    out, n = positions(frame, [score, key], [descending, False])
    if n == 0:
        raise DataValidationError(f"{table}: no rows to rank.")
    return out, n


def equal_count_bin(position: nw.Expr, n_bins: int, n: int) -> nw.Expr:
    """Bin 1..n_bins of a 1-based position among ``n`` rows in equal-count bins: ``(position - 1) * n_bins // n + 1``."""
    return ((position - 1) * int(n_bins)) // int(n) + 1
