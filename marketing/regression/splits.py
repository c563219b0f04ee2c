"""Validation splits that do not leak: a time-based holdout, or stratified folds without time.

Where customers have a sign-up date, the models are trained on the earlier sign-ups and
evaluated on the latest ``test_size`` share, as they would be used: fitted on the customers we
know, applied to the ones who arrive next. Where the data has no time, a stratified random
holdout keeps the share of positives equal in both parts, and
:func:`stratified_folds` gives k-fold cross-validation with the spread over folds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold, train_test_split

from marketing.validation import DataValidationError


@dataclass(frozen=True)
class Split:
    """A train/test split of one table, by position.

    Attributes
    ----------
    train, test : ndarray of int
        Row positions of the training and test parts.
    method : str
        ``"time"`` or ``"stratified"``.
    description : str
        One sentence for the report saying how the rows were split.
    cutoff : Timestamp or None
        For a time split: the first sign-up date in the test part.
    """

    train: np.ndarray
    test: np.ndarray
    method: str
    description: str
    cutoff: pd.Timestamp | None = None

    @property
    def n_train(self) -> int:
        """Rows in the training part."""
        return len(self.train)

    @property
    def n_test(self) -> int:
        """Rows in the test part."""
        return len(self.test)


def check_test_size(test_size: float, n: int) -> int:
    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be a share strictly between 0 and 1, got {test_size!r}.")
    n_test = int(np.ceil(test_size * n))
    if n_test < 2 or n - n_test < 2:
        raise DataValidationError(
            f"a test_size of {test_size} leaves {n - n_test} training and {n_test} test row(s) "
            f"out of {n}; both need at least two. Use more data or another test_size."
        )
    return n_test


def time_holdout(time: pd.Series, test_size: float = 0.2) -> Split:
    """Hold out the rows with the latest ``time`` (the most recent sign-ups).

    Rows are ordered by time, ties by their position, so the split is deterministic; the test
    part is the last ``ceil(test_size * n)`` rows of that order.

    Examples
    --------
    >>> t = pd.Series(pd.to_datetime(["2024-03-01", "2024-01-01", "2024-02-01", "2024-04-01"]))
    >>> split = time_holdout(t, test_size=0.5)
    >>> split.train.tolist(), split.test.tolist(), str(split.cutoff.date())
    ([1, 2], [0, 3], '2024-03-01')
    """
    if time.isna().any():
        raise DataValidationError(
            f"time column '{time.name}' has {int(time.isna().sum())} missing value(s); a time-based "
            "holdout needs every date. Fill them, or split without time (time=None)."
        )
    n_test = check_test_size(test_size, len(time))
    order = np.argsort(time.to_numpy(), kind="stable")
    train, test = np.sort(order[:-n_test]), np.sort(order[-n_test:])
    cutoff = pd.Timestamp(time.iloc[order[-n_test]])
    description = (
        f"time-based holdout: trained on the {len(train)} customers who signed up before "
        f"{cutoff.date()}, tested on the {len(test)} latest sign-ups ({test_size:.0%})."
    )
    return Split(train, test, "time", description, cutoff)


def _strata(y: pd.Series, n_bins: int = 5) -> np.ndarray:
    """Classes for a binary target; quantile bins for a continuous one."""
    values = np.unique(y.to_numpy())
    if len(values) <= 2:
        return y.to_numpy()
    return pd.qcut(y.rank(method="first"), q=n_bins, labels=False).to_numpy()


def stratified_holdout(y: pd.Series, test_size: float = 0.2, random_state: int | None = 0) -> Split:
    """A random holdout with the same class mix (or target quantiles) in both parts.

    Examples
    --------
    >>> y = pd.Series([0, 1] * 10)
    >>> split = stratified_holdout(y, test_size=0.2, random_state=0)
    >>> len(split.test), int(y.iloc[split.test].sum())
    (4, 2)
    """
    check_test_size(test_size, len(y))
    positions = np.arange(len(y))
    train, test = train_test_split(
        positions, test_size=test_size, stratify=_strata(y), random_state=random_state
    )
    description = (
        f"stratified random holdout (the data has no time column): {len(train)} training and "
        f"{len(test)} test customers ({test_size:.0%}) with the same outcome mix."
    )
    return Split(np.sort(train), np.sort(test), "stratified", description)


def holdout(
    y: pd.Series,
    time: pd.Series | None = None,
    test_size: float = 0.2,
    random_state: int | None = 0,
) -> Split:
    """:func:`time_holdout` when ``time`` is given, otherwise :func:`stratified_holdout` on ``y``."""
    if time is not None:
        return time_holdout(time, test_size)
    return stratified_holdout(y, test_size, random_state)


def stratified_folds(
    y: pd.Series, n_splits: int = 5, random_state: int | None = 0
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified k-fold (train, test) position pairs; continuous targets by quantile bins.

    Examples
    --------
    >>> folds = stratified_folds(pd.Series([0, 1] * 10), n_splits=5)
    >>> len(folds), sorted(np.concatenate([test for _, test in folds]).tolist()) == list(range(20))
    (5, True)
    """
    folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    return list(folds.split(np.zeros(len(y)), _strata(y)))


def holdouts(problem, test_size: float = 0.2, random_state: int | None = 0) -> dict:
    """The holdout of each target, ``{"continuous": split, "binary": split}``, on the problem's engine.

    The latest ``test_size`` share of sign-ups when the data has a sign-up date (the same split
    for both targets), else a stratified random holdout per target. In memory each split is a
    :class:`Split` (:func:`holdout`); on Spark a :class:`marketing.spark.regression.SparkSplit`
    holding the same customers for a time split (ties on the date by customer id, the row
    order of the built-in data). Both have ``method``, ``description``, ``cutoff``, ``n_train``
    and ``n_test``.

    Examples
    --------
    >>> from marketing.datasets import load_case_data
    >>> from marketing.regression.problem import regression_problem
    >>> splits = holdouts(regression_problem(load_case_data("finance")))
    >>> splits["binary"].method, splits["binary"].n_train, splits["binary"].n_test
    ('time', 1600, 400)
    """
    from marketing.engines import engine_of

    if engine_of(problem) == "spark":
        from marketing.spark import regression as spark_regression

        return spark_regression.holdouts(problem, test_size, random_state)
    return {
        kind: holdout(problem.targets[kind], problem.time, test_size, random_state) for kind in ("continuous", "binary")
    }
