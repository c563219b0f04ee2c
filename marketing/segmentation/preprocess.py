"""Preprocessing of a customer table for clustering: checks, log transform of skewed features, scaling."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from marketing.validation import DataValidationError

#: Behavioural features that are logged by default. Counts and money from a transaction log
#: are multiplicative (rate x value per event) and right-skewed, so ``log1p`` makes a doubling
#: of spend the same distance at every level. Recency is left linear: it is bounded by the
#: observation window and not heavy-tailed. Customer attributes (income, balance, age) are left
#: linear too: balance often has many exact zeros, and ``log1p`` would split them off as an
#: artificial cluster. Pass ``log_features=`` to change the choice.
LOG_FEATURES = ("frequency", "monetary", "avg_order_value", "n_items")


def check_table(table: pd.DataFrame, name: str = "customer table") -> pd.DataFrame:
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame, got {type(table).__name__}.")
    if len(table) == 0 or table.shape[1] == 0:
        raise DataValidationError(
            f"{name} is empty ({table.shape[0]} rows, {table.shape[1]} columns): "
            "segmentation needs at least one customer and one feature."
        )
    bad = [c for c in table if not pd.api.types.is_numeric_dtype(table[c])
           or pd.api.types.is_bool_dtype(table[c])]
    if bad:
        raise DataValidationError(
            f"{name}: feature(s) {bad} are not numeric. Segment on numeric features only, or "
            "one-hot encode categorical attributes first."
        )
    missing = table.columns[table.isna().any()].tolist()
    if missing:
        raise DataValidationError(
            f"{name}: feature(s) {missing} have missing values "
            f"({int(table[missing].isna().sum().sum())} cells). Fill or drop them first and "
            "count what you dropped."
        )
    return table


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
        if isinstance(self.log_features, str):
            if self.log_features != "default":
                raise ValueError(
                    f"log_features must be 'default' or a list of feature names, "
                    f"got {self.log_features!r}."
                )
            logged = [c for c in X.columns if c in LOG_FEATURES]
        else:
            logged = list(self.log_features)
            unknown = [c for c in logged if c not in X.columns]
            if unknown:
                raise DataValidationError(
                    f"customer table: log_features {unknown} are not among its features "
                    f"{list(X.columns)}."
                )
        negative = [c for c in logged if (X[c] < 0).any()]
        if negative:
            raise DataValidationError(
                f"customer table: feature(s) {negative} have negative values and cannot be "
                "log-transformed; remove them from log_features or fix the values (returns "
                "netted against purchases?)."
            )
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.log_features_ = logged
        values = self._logged(X)
        self.mean_ = values.mean(axis=0)
        self.scale_ = values.std(axis=0)
        constant = X.columns[values.max(axis=0) == values.min(axis=0)].tolist()
        if constant:
            raise DataValidationError(
                f"customer table: feature(s) {constant} are constant (every customer has the "
                "same value), so they cannot separate segments. Drop them from the case's "
                "segmentation_features."
            )
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
