"""Held-out metrics for a continuous and a binary target, with bootstrap intervals.

Definitions (``y`` the observed values, ``f`` the predictions, ``p`` predicted probabilities of
the positive class, ``n`` the number of rows):

- ``r2`` = 1 - sum((y - f)^2) / sum((y - mean(y))^2): share of the variance explained; 0 for
  predicting the mean of the *evaluated* data, negative when worse than that.
- ``rmse`` = sqrt(mean((y - f)^2)), in the target's units.
- ``mae`` = mean(|y - f|), in the target's units.
- ``roc_auc``: probability that a random positive scores above a random negative (ties count
  one half); 0.5 for a constant score.
- ``average_precision`` = sum over thresholds of (recall_k - recall_{k-1}) * precision_k, the
  area under the precision-recall curve as scikit-learn steps it; equals the positive rate for a
  constant score.
- ``log_loss`` = -mean(y log p + (1 - y) log(1 - p)), with p clipped to [1e-15, 1 - 1e-15].
- ``brier`` = mean((p - y)^2): 0 is perfect, ``rate * (1 - rate)`` is the constant base rate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import narwhals as nw
import numpy as np
import pandas as pd
from sklearn import metrics as skm

from marketing.columns import CUSTOMER
from marketing.frames import collect
from marketing.regression.frames import as_frame, equal_count_bin, ranked, running_sums, scalars

CONTINUOUS_METRICS = ("r2", "rmse", "mae")
BINARY_METRICS = ("roc_auc", "average_precision", "log_loss", "brier")
#: The clip of probabilities in the log loss.
EPSILON = 1e-15
#: Whether a larger value of each metric is better (used to pick the best model).
GREATER_IS_BETTER = {
    "r2": True, "rmse": False, "mae": False,
    "roc_auc": True, "average_precision": True, "log_loss": False, "brier": False,
}


def continuous_metrics(y_true, y_pred) -> dict[str, float]:
    """R^2, RMSE and MAE of continuous predictions (definitions in the module docstring).

    Examples
    --------
    >>> m = continuous_metrics([1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 6.0])
    >>> m["rmse"], m["mae"], round(m["r2"], 4)  # squared errors 0,0,0,4; variance sum 5
    (1.0, 0.5, 0.2)
    """
    y = np.asarray(y_true, dtype=float)
    f = np.asarray(y_pred, dtype=float)
    err = y - f
    sse = float(np.sum(err**2))
    sst = float(np.sum((y - y.mean()) ** 2))
    return {
        "r2": 1.0 - sse / sst if sst > 0 else float("nan"),
        "rmse": float(np.sqrt(np.mean(err**2))),
        "mae": float(np.mean(np.abs(err))),
    }


def binary_metrics(y_true, proba) -> dict[str, float]:
    """ROC AUC, average precision, log loss and Brier score of positive-class probabilities.

    Examples
    --------
    >>> m = binary_metrics([0, 0, 1, 1], [0.1, 0.6, 0.4, 0.8])
    >>> m["roc_auc"]                      # 3 of the 4 positive-negative pairs are ordered right
    0.75
    >>> round(m["brier"], 4)              # (0.01 + 0.36 + 0.36 + 0.04) / 4
    0.1925
    >>> round(m["average_precision"], 4)  # precision 1 at recall 1/2, 2/3 at recall 1
    0.8333
    """
    y = np.asarray(y_true, dtype=int)
    p = np.asarray(proba, dtype=float)
    both = 0 < y.sum() < len(y)
    clipped = np.clip(p, 1e-15, 1 - 1e-15)
    return {
        "roc_auc": float(skm.roc_auc_score(y, p)) if both else float("nan"),
        "average_precision": float(skm.average_precision_score(y, p)) if both else float("nan"),
        "log_loss": float(-np.mean(y * np.log(clipped) + (1 - y) * np.log(1 - clipped))),
        "brier": float(np.mean((p - y) ** 2)),
    }


def metric_function(kind: str) -> Callable[[np.ndarray, np.ndarray], dict[str, float]]:
    """:func:`continuous_metrics` or :func:`binary_metrics` for ``kind``."""
    if kind == "continuous":
        return continuous_metrics
    if kind == "binary":
        return binary_metrics
    raise ValueError(f"kind must be 'continuous' or 'binary', not {kind!r}.")


def _resampled_continuous(y: np.ndarray, f: np.ndarray) -> dict[str, np.ndarray]:
    """:func:`continuous_metrics` of every row of 2-d arrays (one bootstrap resample per row)."""
    err = y - f
    sst = np.sum((y - y.mean(axis=1, keepdims=True)) ** 2, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(sst > 0, 1.0 - np.sum(err**2, axis=1) / sst, np.nan)
    return {"r2": r2, "rmse": np.sqrt(np.mean(err**2, axis=1)), "mae": np.mean(np.abs(err), axis=1)}


def _resampled_binary(y: np.ndarray, p: np.ndarray) -> dict[str, np.ndarray]:
    """:func:`binary_metrics` of every row of 2-d arrays, vectorized (ties handled as sklearn does)."""
    from scipy.stats import rankdata

    n_rows, n = y.shape
    positives = y.sum(axis=1)
    negatives = n - positives
    both = (positives > 0) & (negatives > 0)
    # ROC AUC as the Mann-Whitney statistic: average ranks give ties one half
    ranks = rankdata(p, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        auc = (np.sum(ranks * y, axis=1) - positives * (positives + 1) / 2) / (positives * negatives)
    # average precision: precision at the end of each group of tied scores, weighted by the
    # recall gained in that group
    order = np.argsort(-p, axis=1, kind="stable")
    s = np.take_along_axis(p, order, axis=1)
    t = np.take_along_axis(y, order, axis=1)
    starts = np.ones_like(s, dtype=bool)
    starts[:, 1:] = s[:, 1:] != s[:, :-1]
    group = np.cumsum(starts, axis=1) - 1 + np.arange(n_rows)[:, None] * n
    in_group = np.bincount(group.ravel(), weights=t.ravel(), minlength=n_rows * n)
    ends = np.ones_like(starts)
    ends[:, :-1] = starts[:, 1:]
    tp = np.cumsum(t, axis=1)
    seen = np.broadcast_to(np.arange(1, n + 1), s.shape)
    contribution = in_group[group[ends]] * tp[ends] / seen[ends]
    row = np.broadcast_to(np.arange(n_rows)[:, None], s.shape)[ends]
    with np.errstate(divide="ignore", invalid="ignore"):
        ap = np.bincount(row, weights=contribution, minlength=n_rows) / positives
    clipped = np.clip(p, 1e-15, 1 - 1e-15)
    return {
        "roc_auc": np.where(both, auc, np.nan),
        "average_precision": np.where(both, ap, np.nan),
        "log_loss": -np.mean(y * np.log(clipped) + (1 - y) * np.log(1 - clipped), axis=1),
        "brier": np.mean((p - y) ** 2, axis=1),
    }


def bootstrap_metrics(
    y_true,
    y_pred,
    kind: str,
    *,
    n_boot: int = 200,
    level: float = 0.95,
    random_state: int | None = 0,
) -> pd.DataFrame:
    """Point estimates and percentile bootstrap intervals of the metrics of one model.

    The evaluation rows are resampled with replacement ``n_boot`` times; the interval is the
    ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles of the resampled metric. It expresses
    how much the held-out score depends on which customers happened to be held out. All
    resamples are scored at once (vectorized versions of the same definitions).

    Returns
    -------
    DataFrame indexed by metric with columns ``value``, ``low`` and ``high``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = rng.normal(size=200)
    >>> table = bootstrap_metrics(y, y + rng.normal(scale=0.5, size=200), "continuous", n_boot=50)
    >>> bool((table["low"] <= table["value"]).all() and (table["value"] <= table["high"]).all())
    True
    """
    fn = metric_function(kind)
    y = np.asarray(y_true, dtype=float)
    f = np.asarray(y_pred, dtype=float)
    point = fn(y, f)
    rng = np.random.default_rng(random_state)
    draws = rng.integers(0, len(y), size=(n_boot, len(y)))
    resampled = _resampled_continuous if kind == "continuous" else _resampled_binary
    samples = pd.DataFrame(resampled(y[draws], f[draws]))
    alpha = (1 - level) / 2
    return pd.DataFrame(
        {
            "value": pd.Series(point),
            "low": samples.quantile(alpha),
            "high": samples.quantile(1 - alpha),
        }
    ).rename_axis("metric")


def paired_difference(
    y_true,
    pred_a,
    pred_b,
    kind: str,
    *,
    n_boot: int = 200,
    level: float = 0.95,
    random_state: int | None = 0,
) -> pd.DataFrame:
    """Each metric of ``pred_a`` minus the same metric of ``pred_b`` on the same rows, with a
    percentile bootstrap interval of the difference.

    Both predictions are scored on the *same* resamples, so the interval reflects how much the
    comparison, not each score alone, depends on which customers were held out: an interval that
    contains 0 means the held-out data cannot tell the two apart on that metric.

    Returns
    -------
    DataFrame indexed by metric with columns ``value`` (a - b), ``low`` and ``high``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = rng.normal(size=300)
    >>> good, bad = y + rng.normal(scale=0.3, size=300), y + rng.normal(scale=1.0, size=300)
    >>> d = paired_difference(y, good, bad, "continuous", n_boot=100)
    >>> bool(d.loc["rmse", "high"] < 0)          # good's RMSE is lower on every resample's interval
    True
    >>> float(paired_difference(y, good, good, "continuous", n_boot=10).loc["rmse", "value"])
    0.0
    """
    fn = metric_function(kind)
    y = np.asarray(y_true, dtype=float)
    a, b = np.asarray(pred_a, dtype=float), np.asarray(pred_b, dtype=float)
    point = pd.Series(fn(y, a)) - pd.Series(fn(y, b))
    draws = np.random.default_rng(random_state).integers(0, len(y), size=(n_boot, len(y)))
    resampled = _resampled_continuous if kind == "continuous" else _resampled_binary
    samples = pd.DataFrame(resampled(y[draws], a[draws])) - pd.DataFrame(resampled(y[draws], b[draws]))
    alpha = (1 - level) / 2
    return pd.DataFrame(
        {"value": point, "low": samples.quantile(alpha), "high": samples.quantile(1 - alpha)}
    ).rename_axis("metric")


def _continuous_table(frame, label: str, predictions: list[str]) -> pd.DataFrame:
    y = nw.col(label).cast(nw.Float64)
    row = scalars(
        frame,
        _var=y.var(ddof=0),
        **{f"{p}__mse": ((y - nw.col(p)) ** 2).mean() for p in predictions},
        **{f"{p}__mae": (y - nw.col(p)).abs().mean() for p in predictions},
    )
    variance = row["_var"]
    return pd.DataFrame(
        {
            p: {
                # 1 - sum((y - f)^2) / sum((y - mean y)^2), written with means
                "r2": 1.0 - row[f"{p}__mse"] / variance if variance else float("nan"),
                "rmse": float(np.sqrt(row[f"{p}__mse"])),
                "mae": float(row[f"{p}__mae"]),
            }
            for p in predictions
        }
    ).T


def _ranking(frame, label: str, score: str) -> tuple[float, float]:
    """(ROC AUC, average precision) of one score column, from its distinct scores in decreasing order."""
    per_score = (
        frame.select(score, _pos=nw.col(label).cast(nw.Int64), _n=nw.lit(1).cast(nw.Int64))
        .group_by(score)
        .agg(nw.col("_pos").sum(), nw.col("_n").sum())
    )
    cumulated, totals = running_sums(per_score, [score], [True], ["_pos", "_n"])
    positives, n = int(totals["_pos"] or 0), int(totals["_n"] or 0)
    negatives = n - positives
    if positives == 0 or negatives == 0:
        return float("nan"), float("nan")
    pos, cum_pos = nw.col("_pos").cast(nw.Float64), nw.col("_cum__pos").cast(nw.Float64)
    row = scalars(
        cumulated,
        # Mann-Whitney: each negative scores below the positives above it; a tie counts one half
        pairs=((nw.col("_n") - nw.col("_pos")) * (cum_pos - pos + pos / 2.0)).sum(),
        # precision at the end of each group of tied scores, weighted by the recall it adds
        ap=(pos * cum_pos / nw.col("_cum__n")).sum(),
    )
    return row["pairs"] / (positives * negatives), row["ap"] / positives


def _binary_table(frame, label: str, scores: list[str]) -> pd.DataFrame:
    y = nw.col(label).cast(nw.Float64)
    clipped = {s: nw.col(s).clip(EPSILON, 1 - EPSILON) for s in scores}
    row = scalars(
        frame,
        **{f"{s}__log_loss": -(y * clipped[s].log() + (1 - y) * (1 - clipped[s]).log()).mean() for s in scores},
        **{f"{s}__brier": ((nw.col(s) - y) ** 2).mean() for s in scores},
    )
    rows = {}
    for s in scores:
        auc, ap = _ranking(frame, label, s)
        rows[s] = {"roc_auc": auc, "average_precision": ap, "log_loss": row[f"{s}__log_loss"], "brier": row[f"{s}__brier"]}
    return pd.DataFrame(rows).T


def metric_table(kind: str, frame, label: str, predictions: Sequence[str]) -> pd.DataFrame:
    """The held-out metrics of every prediction column of ``frame`` (pandas or Spark), one row per column.

    The definitions of the module docstring, computed where the data is: ``continuous`` gives
    ``r2``, ``rmse`` and ``mae``; ``binary`` gives ``roc_auc`` and ``average_precision`` (from
    the distinct scores in decreasing order with their counts; NaN when ``label`` holds a single
    class), ``log_loss`` and ``brier``. Equal to :func:`continuous_metrics` and
    :func:`binary_metrics` of the same numbers.

    Examples
    --------
    >>> frame = pd.DataFrame({"y": [0, 0, 1, 1], "p": [0.1, 0.6, 0.4, 0.8], "c": 0.3})
    >>> table = metric_table("binary", frame, "y", ["p", "c"]).round(4)
    >>> table.loc["p"].to_dict()   # 3 of the 4 positive-negative pairs are ordered right
    {'roc_auc': 0.75, 'average_precision': 0.8333, 'log_loss': 0.5403, 'brier': 0.1925}
    >>> table.loc["c"].to_dict()   # a constant score: AUC 1/2, AP the positive rate
    {'roc_auc': 0.5, 'average_precision': 0.5, 'log_loss': 0.7803, 'brier': 0.29}
    >>> frame = pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0], "f": [1.0, 2.0, 3.0, 6.0]})
    >>> metric_table("continuous", frame, "y", ["f"]).loc["f"].round(4).to_dict()   # squared errors 0,0,0,4; variance sum 5
    {'r2': 0.2, 'rmse': 1.0, 'mae': 0.5}
    """
    predictions = list(predictions)
    frame = as_frame(frame, [label, *predictions], "predictions")
    if kind == "continuous":
        table = _continuous_table(frame, label, predictions)
    elif kind == "binary":
        table = _binary_table(frame, label, predictions)
    else:
        raise ValueError(f"kind must be 'continuous' or 'binary', not {kind!r}.")
    return table.astype(float).rename_axis("model")


def calibration_table(frame, label: str, score: str, n_bins: int = 10) -> pd.DataFrame:
    """Observed positive rate against the mean predicted probability, in equal-count bins.

    Customers are ranked by increasing probability (ties by customer id) and cut into
    ``n_bins`` groups of (nearly) equal size; well-calibrated scores have ``observed`` close to
    ``predicted`` in every bin. ``frame`` is pandas or Spark (the held-out predictions of
    :func:`~marketing.regression.fit_suite`); the table is small and comes back in pandas.

    Examples
    --------
    >>> frame = pd.DataFrame({"customer_id": [1, 2, 3, 4], "y": [0, 0, 1, 1], "p": [0.1, 0.3, 0.6, 0.8]})
    >>> calibration_table(frame, "y", "p", n_bins=2)
         predicted  observed  customers
    bin
    1          0.2       0.0          2
    2          0.7       1.0          2
    """
    binned = score_bins(frame, label, score, n_bins, descending=False, table="calibration_table")
    return binned.rename(columns={"score_mean": "predicted", "label_mean": "observed"})[
        ["predicted", "observed", "customers"]
    ]


def score_bins(frame, label: str, score: str, n_bins: int, *, descending: bool, table: str) -> pd.DataFrame:
    """Per equal-count bin of the score order (ties by customer id): customers, positives, mean score and mean label."""
    if not isinstance(n_bins, int | np.integer) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer, not {n_bins!r}.")
    frame = as_frame(frame, [CUSTOMER, label, score], table).select(CUSTOMER, label, score)
    ordered, n = ranked(frame, score, CUSTOMER, descending=descending, table=table)
    binned = ordered.select(
        bin=equal_count_bin(nw.col("_position"), n_bins, n),
        _one=nw.lit(1).cast(nw.Int64),
        _y=nw.col(label).cast(nw.Float64),
        _score=nw.col(score),
    )
    grouped = binned.group_by("bin").agg(
        nw.col("_one").sum().alias("customers"),
        nw.col("_y").sum().alias("positives"),
        nw.col("_score").mean().alias("score_mean"),
        nw.col("_y").mean().alias("label_mean"),
    )
    out = collect(grouped).set_index("bin").sort_index()
    out.index = out.index.astype("int64")
    return out.astype({"customers": "int64"})
