"""Warnings where a regression problem's data look suspicious: leakage, and the data-quality checks.

A feature that alone predicts the target almost perfectly is nearly always a leak: the outcome
itself under another name, or something known only after the moment the model predicts from (a
call's duration, a later grade). A model fed with it looks brilliant on held-out customers and is
useless in practice, so the report says so before any model is fitted.

The leakage check scores each feature alone on the **training part** only (the test part stays
unseen, as for the models):

- binary target: the ROC AUC of the feature's values themselves for a numeric feature (a rank
  statistic, nothing fitted; a missing value ranks below every value, so a column that is only
  filled for one outcome is caught too), and of the positive rate per level for a categorical one;
- continuous target: R^2 of the target mean per level (categorical), or the larger of the squared
  correlation (a straight line) and the R^2 of the mean target of the 10 customers nearest in
  value (a running mean: any shape, so a log or a square of the target is caught) for a numeric one.

Means per level or per neighbourhood are *cross-fitted*: computed on four fifths of the training
customers and applied to the fifth left out, so a column with a level per customer (an
identifier) cannot score by memorising the outcomes. A feature scoring at least ``threshold``
(0.95; an AUC of at most 0.05 too) is a leak; a numeric feature with a correlation of +-1 with
the target is named as the target up to scale and shift.

:func:`regression_warnings` adds the data-quality checks of :mod:`marketing.data_quality`
(missing-value codes, impossible zeros, one dominant value) on the features, and is what the
report shows (:func:`marketing.regression.report.show_warnings`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.model_selection import KFold

from marketing.data_quality import DataWarning, data_quality_warnings
from marketing.regression.models import categorical_columns
from marketing.regression.problem import KINDS, check_features, check_target

#: A feature alone scoring at least this (ROC AUC, or R^2) on the training part is a leak.
LEAK_THRESHOLD = 0.95
#: |correlation| from which a numeric feature is the target up to scale and shift.
AFFINE = 1 - 1e-9
#: The one-feature score of each target kind.
SCORES = {"continuous": "R²", "binary": "ROC AUC"}


def _auc(y: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC from ranks (ties count a half), allowing infinite scores."""
    ranks = stats.rankdata(score)
    positives = y == 1
    n1, n0 = int(positives.sum()), int((~positives).sum())
    return float((ranks[positives].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def _r2(y: np.ndarray, fitted: np.ndarray) -> float:
    return float(1 - ((y - fitted) ** 2).sum() / ((y - y.mean()) ** 2).sum())


def _cross_fitted_means(y: np.ndarray, folds: list, codes: np.ndarray) -> np.ndarray:
    """Each row's predicted target: the mean of its code (level) among the other folds' rows.

    A code the other folds lack gets their overall mean.
    """
    out = np.empty(len(y))
    for train, test in folds:
        means = pd.Series(y[train]).groupby(codes[train]).mean()
        out[test] = pd.Series(codes[test]).map(means).fillna(y[train].mean()).to_numpy()
    return out


def _nearest_means(x: np.ndarray, y: np.ndarray, folds: list, k: int) -> np.ndarray:
    """Each row's predicted target: the mean among the ``k`` other-fold rows nearest in value (a running mean).

    A missing value gets the mean of the other folds' rows with a missing value (their overall
    mean when they have none).
    """
    out = np.empty(len(y))
    for train, test in folds:
        present = ~np.isnan(x[train])
        order = np.argsort(x[train][present], kind="stable")
        xs, ys = x[train][present][order], y[train][present][order]
        sums, m = np.r_[0.0, np.cumsum(ys)], len(xs)
        width = min(k, m)
        # the window of ``width`` sorted training values around where each test value would go
        low = np.clip(np.searchsorted(xs, x[test]) - width // 2, 0, m - width)
        predicted = (sums[low + width] - sums[low]) / width
        missing = np.isnan(x[test])
        if missing.any():
            absent = y[train][~present]
            predicted[missing] = absent.mean() if len(absent) else y[train].mean()
        out[test] = predicted
    return out


def single_feature_scores(
    X: pd.DataFrame, y: pd.Series, kind: str, *, n_neighbours: int = 10, n_folds: int = 5, random_state: int | None = 0
) -> pd.DataFrame:
    """How well each feature alone predicts the target (see the module docstring for the scores).

    Parameters
    ----------
    X, y : DataFrame, Series
        The **training** customers' features and target (aligned).
    kind : {"continuous", "binary"}
    n_neighbours : int
        How many customers nearest in value a numeric feature's any-shape score averages
        (continuous target).
    n_folds : int
        Folds of the cross-fitting of the means per level or neighbourhood.
    random_state : int, optional
        Seeds the folds.

    Returns
    -------
    DataFrame indexed by feature with ``metric`` (``"roc_auc"`` or ``"r2"``), ``score`` and
    ``correlation`` (Pearson's, numeric features only, NaN otherwise).

    Examples
    --------
    >>> X = pd.DataFrame({"x": [1.0, 2, 3, 4, 5, 6], "noise": [3.0, 1, 2, 2, 1, 3]})
    >>> single_feature_scores(X, pd.Series([0, 0, 0, 1, 1, 1]), "binary")[["metric", "score"]]
            metric  score
    x      roc_auc    1.0
    noise  roc_auc    0.5
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {list(KINDS)}, not {kind!r}.")
    X = check_features(X)
    values = check_target(y, kind).to_numpy(dtype=float)
    n = len(values)
    folds = list(KFold(min(n_folds, n), shuffle=True, random_state=random_state).split(np.zeros(n)))
    categorical = set(categorical_columns(X))
    rows = {}
    for column in X.columns:
        correlation = np.nan
        if column in categorical:
            levels = X[column].cat.codes.to_numpy()   # a missing value is a level of its own (-1)
            encoded = _cross_fitted_means(values, folds, levels)
            score = _auc(values, encoded) if kind == "binary" else _r2(values, encoded)
        else:
            x = X[column].to_numpy(dtype=float, na_value=np.nan)
            present = ~np.isnan(x)
            # the straight line sees missing values as the median, as the models' imputation does
            filled = np.where(present, x, np.median(x[present]))
            if np.ptp(filled) > 0:
                correlation = float(np.corrcoef(filled, values)[0, 1])
            if kind == "binary":
                score = _auc(values, np.where(present, x, -np.inf))
            else:
                shaped = _nearest_means(x, values, folds, n_neighbours)
                score = max(0.0 if np.isnan(correlation) else correlation**2, _r2(values, shaped))
        rows[column] = {"metric": "roc_auc" if kind == "binary" else "r2", "score": score, "correlation": correlation}
    return pd.DataFrame.from_dict(rows, orient="index")


def leakage_warnings(
    X: pd.DataFrame, y: pd.Series, kind: str, *, threshold: float = LEAK_THRESHOLD, random_state: int | None = 0
) -> list[DataWarning]:
    """The features that alone predict ``y`` almost perfectly on the training customers ``X``.

    Parameters
    ----------
    X, y : DataFrame, Series
        The **training** part only (the test part must stay unseen).
    kind : {"continuous", "binary"}
    threshold : float
        The one-feature ROC AUC (or 1 - AUC) or R^2 from which a feature is a leak.
    random_state : int, optional
        Seeds the cross-fitting folds (:func:`single_feature_scores`).

    Returns
    -------
    list of DataWarning
        Kind ``"leakage"``, ``value`` the score (rounded to 3 decimals), strongest first.

    Examples
    --------
    >>> X = pd.DataFrame({"spend_copy": [10.0, 20, 30, 40, 50, 60], "age": [30.0, 41, 25, 52, 38, 47]})
    >>> y = pd.Series([1.0, 2, 3, 4, 5, 6], name="spend")
    >>> for warning in leakage_warnings(X, y, "continuous"):
    ...     print(warning.message)
    'spend_copy' equals the target 'spend' up to scale and shift (correlation 1.000) on the training customers: it is the target under another name. Drop it from regression_features, or list it under leakage in the case file if it is known only after the prediction moment.
    """
    scores = single_feature_scores(X, y, kind, random_state=random_state)
    target = str(y.name)
    found = []
    for column, row in scores.iterrows():
        score, correlation = float(row["score"]), row["correlation"]
        fix = ("Drop it from regression_features, or list it under leakage in the case file if it is known only "
               "after the prediction moment.")
        if not np.isnan(correlation) and abs(correlation) >= AFFINE:
            message = (f"'{column}' equals the target '{target}' up to scale and shift (correlation {correlation:.3f}) "
                       f"on the training customers: it is the target under another name. {fix}")
        elif score >= threshold or (kind == "binary" and score <= 1 - threshold):
            reversed_ = " (high values mean the negative outcome)" if kind == "binary" and score < 0.5 else ""
            message = (f"'{column}' alone predicts '{target}' almost perfectly on the training customers "
                       f"({SCORES[kind]} {score:.3f}{reversed_}): it probably leaks the outcome. {fix}")
        else:
            continue
        found.append(DataWarning("leakage", str(column), round(score, 3), message))
    strength = {w.column: abs(w.value - 0.5) if kind == "binary" else w.value for w in found}
    return sorted(found, key=lambda w: -strength[w.column])


def regression_warnings(problem, splits: dict, *, random_state: int | None = 0) -> list[DataWarning]:
    """Every warning of an in-memory regression problem: leakage per target, then the data-quality checks.

    Parameters
    ----------
    problem : RegressionProblem
        From :func:`~marketing.regression.regression_problem` (pandas or DuckDB data).
    splits : dict
        :func:`~marketing.regression.holdouts`: leakage is scored on each target's training part.
    random_state : int, optional
        Seeds the cross-fitting folds of the leakage scores.

    Returns
    -------
    list of DataWarning
        Leakage for the continuous then the binary target, then the missing-value codes,
        impossible zeros and dominant values of :func:`marketing.data_quality.data_quality_warnings`
        on all customers' features (the checks do not look at the targets).

    Examples
    --------
    >>> from marketing.datasets import load_case_data
    >>> from marketing.regression import holdouts, regression_problem
    >>> problem = regression_problem(load_case_data("finance"))
    >>> regression_warnings(problem, holdouts(problem))
    []
    """
    found = []
    for kind in problem.targets:
        train = splits[kind].train
        found += leakage_warnings(problem.features.iloc[train], problem.targets[kind].iloc[train], kind,
                                  random_state=random_state)
    return found + data_quality_warnings(problem.features)
