"""Validation splits that do not leak: a time-based holdout, or stratified folds without time.

Where customers have a sign-up date, the models are trained on the earlier sign-ups and
evaluated on the latest ``test_size`` share, as they would be used: fitted on the customers we
know, applied to the ones who arrive next. Where the data has no time, a stratified random
holdout keeps the share of positives equal in both parts, and
:func:`stratified_folds` gives k-fold cross-validation with the spread over folds.
"""

from __future__ import annotations

from dataclasses import dataclass

import narwhals as nw
import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold, train_test_split

from marketing.columns import CUSTOMER
from marketing.engines import engine_of
from marketing.frames import as_frame, collect, count_where, positions, random_uniform, running_sums, scalars
from marketing.regression.problem import KINDS
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
    if len(y) < 2 * n_splits:
        raise DataValidationError(
            f"{n_splits}-fold cross-validation needs at least {2 * n_splits} customers; there are {len(y)}. "
            "Use fewer folds (cv=2) or a single validation split (cv=0)."
        )
    # each quantile bin of a continuous target must fill every fold
    strata = _strata(y, n_bins=max(1, min(5, len(y) // n_splits)))
    smallest = int(np.unique(strata, return_counts=True)[1].min())
    if smallest < n_splits:
        raise DataValidationError(
            f"{n_splits}-fold cross-validation stratified by '{y.name}' needs at least {n_splits} customers of each "
            f"outcome; the rarest has {smallest}. Use fewer folds (cv={max(2, smallest)}) or more data."
        )
    folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    return list(folds.split(np.zeros(len(y)), strata))


@dataclass(frozen=True)
class FrameSplit:
    """A train/test split of a problem table kept where it is (a lazy Spark DataFrame): two frames.

    Attributes
    ----------
    train, test : native frames
        The rows of each part (all columns of the problem table).
    method : str
        ``"time"`` or ``"stratified"``.
    description : str
        One sentence for the report, worded as :class:`Split`'s.
    cutoff : Timestamp or None
        For a time split: the first sign-up date in the test part.
    n_train, n_test : int
    """

    train: object
    test: object
    method: str
    description: str
    cutoff: pd.Timestamp | None
    n_train: int
    n_test: int

    @property
    def engine(self) -> str:
        """The engine of the parts (what :func:`marketing.engines.engine_of` reads)."""
        return engine_of(self.train)


def frame_holdout(problem, kind: str = "continuous", test_size: float = 0.2, random_state: int | None = 0) -> FrameSplit:
    """The held-out customers of a problem table: the latest sign-ups when there is a time column, else stratified.

    ``problem`` has ``table`` (``customer_id``, the features, the targets, the time column),
    ``time`` (its name or None), ``targets`` (kind -> column) and ``n_customers``, as the Spark
    problem has. With time, the rows are ordered by sign-up date, ties by customer id, and the
    last ``ceil(test_size * n)`` form the test part: the split of :func:`time_holdout` (whose ties
    follow the row order, which is customer id order for the built-in data). The order is found
    without sorting the customers: the counts per sign-up date are cumulated from the latest
    date back (:func:`marketing.frames.running_sums`), which fixes the cutoff date, and only the
    customers who signed up on the cutoff date are ordered by id.

    Without time, a stratified random holdout: within each class of the binary target (each
    fifth of the continuous one), the ``ceil(test_size * n_class)`` customers with the smallest
    :func:`marketing.frames.random_uniform` key. The design of :func:`stratified_holdout`, not
    the same random draw.

    Raises
    ------
    DataValidationError
        Missing sign-up dates, or a ``test_size`` that leaves fewer than two rows in a part.

    Examples
    --------
    Any narwhals-supported table works (the Spark problem's is a Spark DataFrame):

    >>> from types import SimpleNamespace
    >>> t = pd.DataFrame({"customer_id": range(10), "signup_date": pd.date_range("2024-01-01", periods=10),
    ...                   "y": [0, 1] * 5})
    >>> problem = SimpleNamespace(table=t, time="signup_date", targets={"binary": "y"}, n_customers=10)
    >>> split = frame_holdout(problem, "binary", test_size=0.2)
    >>> split.method, split.n_train, sorted(split.test["customer_id"]), str(split.cutoff.date())
    ('time', 8, [8, 9], '2024-01-09')
    >>> split = frame_holdout(SimpleNamespace(**{**vars(problem), "time": None}), "binary", test_size=0.2)
    >>> split.method, split.n_test, int(split.test["y"].sum())
    ('stratified', 2, 1)
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {list(KINDS)}, not {kind!r}.")
    n_test = check_test_size(test_size, problem.n_customers)
    table, n = as_frame(problem.table), problem.n_customers
    if problem.time is not None:
        train, test, cutoff = _time_parts(table, problem.time, n_test)
        description = (
            f"time-based holdout: trained on the {n - n_test} customers who signed up before "
            f"{cutoff.date()}, tested on the {n_test} latest sign-ups ({test_size:.0%})."
        )
        return FrameSplit(train.to_native(), test.to_native(), "time", description, cutoff, n - n_test, n_test)
    train, test, n_test = _stratified_parts(table, problem.targets[kind], kind, test_size, random_state)
    description = (
        f"stratified random holdout (the data has no time column): {n - n_test} training and "
        f"{n_test} test customers ({test_size:.0%}) with the same outcome mix."
    )
    return FrameSplit(train.to_native(), test.to_native(), "stratified", description, None, n - n_test, n_test)


def _time_parts(table, time: str, n_test: int):
    missing = scalars(table, n=count_where(nw.col(time).is_null()))["n"]
    if missing:
        raise DataValidationError(
            f"time column '{time}' has {missing} missing value(s); a time-based holdout needs every date. "
            "Fill them, or split without time."
        )
    per_time = table.group_by(time).agg(nw.len().alias("_n"))
    cumulated, _ = running_sums(per_time, [time], [True], ["_n"])
    # the cutoff: the latest date from which on (inclusive) at least n_test customers signed up
    last = collect(cumulated.filter(nw.col("_cum__n") >= n_test).sort(time, descending=True).head(1)).iloc[0]
    cutoff = pd.Timestamp(last[time]).to_pydatetime()
    later = int(last["_cum__n"] - last["_n"])   # customers who signed up after the cutoff date
    # of the customers who signed up on the cutoff date, the ones with the largest ids go to test
    on_cutoff = table.filter(nw.col(time) == cutoff).sort(CUSTOMER, descending=True).head(n_test - later)
    first_id = scalars(on_cutoff, first=nw.col(CUSTOMER).min())["first"]
    is_test = (nw.col(time) > cutoff) | ((nw.col(time) == cutoff) & (nw.col(CUSTOMER) >= first_id))
    return table.filter(~is_test), table.filter(is_test), pd.Timestamp(cutoff)


def _stratified_parts(table, target: str, kind: str, test_size: float, random_state: int | None):
    if kind == "binary":
        strata = table.with_columns(_stratum=nw.col(target).cast(nw.Int64))
    else:
        ranks, n = positions(table, [target, CUSTOMER], [False, False])
        # the fifth of the target's order, as the in-memory path's quantile bins
        strata = ranks.with_columns(_stratum=((nw.col("_position") - 1) * 5) // n).drop("_position")
    hashed = random_uniform(strata, 0 if random_state is None else int(random_state))
    ranked, _ = positions(hashed, ["_stratum", "_hash", CUSTOMER], [False, False, False])
    sizes = collect(hashed.group_by("_stratum").agg(nw.len().alias("_n"))).set_index("_stratum")["_n"].sort_index()
    starts = sizes.cumsum().shift(1, fill_value=0)
    quota = np.ceil(test_size * sizes).astype("int64")
    start_of, quota_of = nw.lit(0), nw.lit(0)
    for stratum in sizes.index:
        here = nw.col("_stratum") == int(stratum)
        start_of = nw.when(here).then(nw.lit(int(starts[stratum]))).otherwise(start_of)
        quota_of = nw.when(here).then(nw.lit(int(quota[stratum]))).otherwise(quota_of)
    assigned = ranked.with_columns(_test=(nw.col("_position") - 1 - start_of) < quota_of)
    assigned = assigned.drop("_stratum", "_hash", "_position")
    return (assigned.filter(~nw.col("_test")).drop("_test"), assigned.filter(nw.col("_test")).drop("_test"),
            int(quota.sum()))


def holdouts(problem, test_size: float = 0.2, random_state: int | None = 0) -> dict:
    """The holdout of each target the case defines, ``{"continuous": split, "binary": split}``, on the problem's engine.

    The latest ``test_size`` share of sign-ups when the data has a sign-up date (the same split
    for both targets), else a stratified random holdout per target. In memory each split is a
    :class:`Split` (:func:`holdout`); on Spark a :class:`FrameSplit` (:func:`frame_holdout`)
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
    kinds = list(problem.targets)  # the targets the case defines
    if engine_of(problem) == "spark":
        if problem.time is not None:  # a split by time is the same for both targets
            return dict.fromkeys(kinds, frame_holdout(problem, kinds[0], test_size, random_state))
        return {kind: frame_holdout(problem, kind, test_size, random_state) for kind in kinds}
    return {kind: holdout(problem.targets[kind], problem.time, test_size, random_state) for kind in kinds}
