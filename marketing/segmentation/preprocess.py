"""Preprocessing of a customer table for clustering: checks, log transform of skewed features, scaling."""

from __future__ import annotations

from collections.abc import Sequence

import narwhals as nw
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from marketing.columns import CUSTOMER
from marketing.engines import engine_of
from marketing.frames import as_frame, count_where, scalars
from marketing.validation import DataValidationError

#: Behavioural features that are logged by default. Counts and money from a transaction log
#: are multiplicative (rate x value per event) and right-skewed, so ``log1p`` makes a doubling
#: of spend the same distance at every level. Recency is left linear: it is bounded by the
#: observation window and not heavy-tailed. Customer attributes (income, balance, age) are left
#: linear too: balance often has many exact zeros, and ``log1p`` would split them off as an
#: artificial cluster. Pass ``log_features=`` to change the choice.
LOG_FEATURES = ("frequency", "monetary", "avg_order_value", "n_items")


def require_numeric_features(frame, features: Sequence[str], name: str) -> None:
    """Raise unless every one of ``features`` of a narwhals ``frame`` is numeric (the schema only is read)."""
    schema = frame.collect_schema()
    bad = [c for c in features if not schema[c].is_numeric()]
    if bad:
        raise DataValidationError(
            f"{name}: feature(s) {bad} are not numeric. Segment on numeric features only, or "
            "one-hot encode categorical attributes first."
        )


def check_table(table, name: str = "customer table"):
    """Check a customer table for segmentation on any engine: not empty, numeric features, no missing values.

    The features are every column (in memory, where the table is indexed by ``customer_id``) or
    every column but ``customer_id`` (a Spark table, which must have it). One aggregate pass.

    Returns
    -------
    The table, unchanged.

    Raises
    ------
    TypeError
        Not a pandas or Spark DataFrame.
    DataValidationError
        No ``customer_id`` (Spark), no rows or no features, non-numeric or missing values.

    Examples
    --------
    >>> check_table(pd.DataFrame({"x": [1.0, None]}))
    Traceback (most recent call last):
    ...
    marketing.validation.DataValidationError: customer table: feature(s) ['x'] have missing values (1 cells). Fill or drop them first and count what you dropped.
    """
    if engine_of(table) == "pandas" and not isinstance(table, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas or Spark DataFrame, got {type(table).__name__}.")
    in_memory = isinstance(table, pd.DataFrame)
    frame = as_frame(table, [] if in_memory else [CUSTOMER], name)
    features = [c for c in frame.columns if in_memory or c != CUSTOMER]
    require_numeric_features(frame, features, name)
    values = [nw.col(c).cast(nw.Float64) for c in features]
    row = scalars(frame, _rows=nw.len(), **{f"_{i}": count_where(v.is_null() | v.is_nan()) for i, v in enumerate(values)})
    if row["_rows"] == 0 or not features:
        raise DataValidationError(
            f"{name} is empty ({row['_rows']} rows, {len(features)} features): "
            "segmentation needs at least one customer and one feature."
        )
    missing = {c: row[f"_{i}"] for i, c in enumerate(features) if row[f"_{i}"]}
    if missing:
        raise DataValidationError(
            f"{name}: feature(s) {list(missing)} have missing values ({sum(missing.values())} cells). "
            "Fill or drop them first and count what you dropped."
        )
    return table


def logged_columns(features: Sequence[str], log_features: Sequence[str] | str) -> list[str]:
    """The features to log: those of :data:`LOG_FEATURES` present (``"default"``), or the ones named.

    Examples
    --------
    >>> logged_columns(["recency_days", "monetary"], "default")
    ['monetary']
    """
    if isinstance(log_features, str):
        if log_features != "default":
            raise ValueError(f"log_features must be 'default' or a list of feature names, got {log_features!r}.")
        return [c for c in features if c in LOG_FEATURES]
    unknown = [c for c in log_features if c not in features]
    if unknown:
        raise DataValidationError(f"customer table: log_features {unknown} are not among its features {list(features)}.")
    return list(log_features)


def check_ranges(features: Sequence[str], logged: Sequence[str], low: Sequence[float], high: Sequence[float]) -> None:
    """Refuse logged features with negative values and constant features, from each feature's minimum and maximum."""
    negative = [c for c, lo in zip(features, low) if c in logged and lo < 0]
    if negative:
        raise DataValidationError(
            f"customer table: feature(s) {negative} have negative values and cannot be "
            "log-transformed; remove them from log_features or fix the values (returns "
            "netted against purchases?)."
        )
    constant = [c for c, lo, hi in zip(features, low, high) if lo == hi]
    if constant:
        raise DataValidationError(
            f"customer table: feature(s) {constant} are constant (every customer has the "
            "same value), so they cannot separate segments. Drop them from the case's "
            "segmentation_features."
        )


# --------------------------------------------------------------------------- preprocessing


class SegmentPreprocessor(TransformerMixin, BaseEstimator):
    """Log-transform skewed money and count features, then scale every feature.

    Parameters
    ----------
    log_features : sequence of str or "default"
        Features transformed with ``log1p`` before scaling. ``"default"`` uses those of
        :data:`LOG_FEATURES` present in the table (the rationale is documented there).

    Attributes
    ----------
    feature_names_in_ : ndarray of str
        Features seen in :meth:`fit`, in order.
    log_features_ : list of str
        Features actually logged.
    mean_, scale_ : ndarray
        Mean and standard deviation of each (logged) feature.

    Raises
    ------
    DataValidationError
        In ``fit``: a non-numeric, missing or constant feature, a logged feature with negative
        values, or a named log feature that is not in the table.

    Examples
    --------
    >>> table = pd.DataFrame({"frequency": [0, 1, 3, 15], "age": [20.0, 30.0, 40.0, 50.0]})
    >>> prep = SegmentPreprocessor().fit(table)
    >>> prep.log_features_
    ['frequency']
    >>> prep.transform(table).round(3)
    array([[-1.183, -1.342],
           [-0.507, -0.447],
           [ 0.169,  0.447],
           [ 1.521,  1.342]])
    """

    def __init__(self, log_features: Sequence[str] | str = "default"):
        self.log_features = log_features

    def fit(self, X: pd.DataFrame, y=None) -> SegmentPreprocessor:
        check_table(X)
        logged = logged_columns(list(X.columns), self.log_features)
        check_ranges(list(X.columns), logged, X.min().tolist(), X.max().tolist())
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.log_features_ = logged
        values = self._logged(X)
        self.mean_ = values.mean(axis=0)
        self.scale_ = values.std(axis=0)
        return self

    def _logged(self, X: pd.DataFrame) -> np.ndarray:
        values = X.to_numpy(dtype=float, copy=True)
        idx = [X.columns.get_loc(c) for c in self.log_features_]
        values[:, idx] = np.log1p(values[:, idx])
        return values

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        missing = [c for c in self.feature_names_in_ if c not in X.columns]
        if missing:
            raise DataValidationError(
                f"customer table is missing feature(s) {missing} seen in fit."
            )
        X = check_table(X[list(self.feature_names_in_)])
        return (self._logged(X) - self.mean_) / self.scale_
