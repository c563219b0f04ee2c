"""Train / test splits of an event log for offline evaluation of recommenders.

Each split returns the training *events* (all of them, so counts and ratings survive) and the
test *pairs*: distinct customer-item pairs the customer did not have in training, which is what
a recommender that excludes owned items can get right. What each split leaves out is counted in
``Split.details`` (nothing is dropped silently).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from marketing.columns import CUSTOMER, ITEM, RATING, TIMESTAMP
from marketing.validation import DataValidationError, require_columns, require_non_empty

SPLITS = ("time", "leave_last", "random")


@dataclass
class Split:
    """Training events and test pairs.

    Attributes
    ----------
    train : pandas.DataFrame
        Events to fit on.
    test : pandas.DataFrame
        Distinct (customer_id, item_id) pairs to predict, with ``rating`` (mean) when the log has it.
    method : str
        One of :data:`SPLITS`.
    details : dict
        Counts: test pairs, test customers, cold-start test customers (no training history),
        and what was left out and why.
    """

    train: pd.DataFrame
    test: pd.DataFrame
    method: str
    details: dict = field(default_factory=dict)


def _validate(events, col_user, col_item, extra=()):
    require_non_empty(events, "events")
    require_columns(events, [col_user, col_item, *extra], "events")


def _test_pairs(events: pd.DataFrame, col_user, col_item, col_rating) -> pd.DataFrame:
    agg = {"n_events": (col_item, "size")}
    if col_rating in events.columns:
        agg[col_rating] = (col_rating, "mean")
    return events.groupby([col_user, col_item], as_index=False, sort=True).agg(**agg)


def _finish(train, test, method, col_user, col_item, details) -> Split:
    train_users = set(train[col_user].unique().tolist())
    test_users = test[col_user].unique()
    cold = int(np.sum(~np.isin(test_users, list(train_users))))
    items_in_train = np.isin(test[col_item].to_numpy(), train[col_item].unique())
    details.update(
        {
            "train_events": len(train),
            "test_pairs": len(test),
            "test_customers": len(test_users),
            "cold_start_customers": cold,
            "test_pairs_item_unseen_in_train": int((~items_in_train).sum()),
        }
    )
    return Split(train=train.reset_index(drop=True), test=test.reset_index(drop=True), method=method, details=details)


def split_by_time(
    events: pd.DataFrame,
    cutoff,
    col_user: str = CUSTOMER,
    col_item: str = ITEM,
    col_time: str = TIMESTAMP,
    col_rating: str = RATING,
) -> Split:
    """Train on events before ``cutoff``; test on the new pairs from ``cutoff`` on.

    Pairs the customer already had before the cut-off (repeat purchases) are not test pairs:
    they are counted in ``details["repeat_pairs_left_out"]``.

    Examples
    --------
    >>> events = pd.DataFrame({"customer_id": [1, 1, 1, 2], "item_id": [5, 5, 6, 5],
    ...     "timestamp": pd.to_datetime(["2025-01-01", "2025-03-01", "2025-03-02", "2025-03-05"])})
    >>> s = split_by_time(events, "2025-02-01")
    >>> s.test[["customer_id", "item_id"]].values.tolist(), s.details["repeat_pairs_left_out"]
    ([[1, 6], [2, 5]], 1)
    """
    _validate(events, col_user, col_item, [col_time])
    cutoff = pd.Timestamp(cutoff)
    before = events[col_time] < cutoff
    if not before.any() or before.all():
        raise DataValidationError(
            f"table 'events': cutoff {cutoff} leaves {'no' if not before.any() else 'all'} events in "
            f"training (timestamps run from {events[col_time].min()} to {events[col_time].max()}). "
            "Choose a cut-off inside that range."
        )
    train = events[before]
    after = _test_pairs(events[~before], col_user, col_item, col_rating)
    owned = pd.MultiIndex.from_frame(train[[col_user, col_item]].drop_duplicates())
    repeat = pd.MultiIndex.from_frame(after[[col_user, col_item]]).isin(owned)
    details = {"cutoff": str(cutoff), "repeat_pairs_left_out": int(repeat.sum())}
    return _finish(train, after[~repeat], "time", col_user, col_item, details)


def _pair_order(events, col_user, col_item, col_time, random_state):
    """Distinct pairs with their first event time and a seeded random key for ordering ties."""
    pairs = events.groupby([col_user, col_item], as_index=False, sort=True).agg(first=(col_time, "min"))
    pairs["key"] = np.random.default_rng(random_state).random(len(pairs))
    pairs["n_pairs"] = pairs.groupby(col_user)[col_item].transform("size")
    return pairs


def _split_pairs(events, test_keys, col_user, col_item, col_rating):
    index = pd.MultiIndex.from_frame(events[[col_user, col_item]])
    in_test = index.isin(test_keys)
    return events[~in_test], _test_pairs(events[in_test], col_user, col_item, col_rating)


def leave_last_n_out(
    events: pd.DataFrame,
    n: int = 1,
    random_state: int = 42,
    col_user: str = CUSTOMER,
    col_item: str = ITEM,
    col_time: str = TIMESTAMP,
    col_rating: str = RATING,
) -> Split:
    """Per customer, the last ``n`` distinct items (by first interaction) are the test pairs.

    All events of a test pair go to the test side. Customers with ``n`` or fewer distinct items
    stay wholly in training (counted in ``details["customers_too_short"]``); ties in time are
    ordered by ``random_state``.
    """
    if n < 1:
        raise ValueError(f"n={n}: leave at least one item out.")
    _validate(events, col_user, col_item, [col_time])
    pairs = _pair_order(events, col_user, col_item, col_time, random_state)
    pairs = pairs.sort_values([col_user, "first", "key"], ascending=[True, False, True])
    position = pairs.groupby(col_user).cumcount()
    chosen = pairs[(position < n) & (pairs["n_pairs"] > n)]
    train, test = _split_pairs(events, pd.MultiIndex.from_frame(chosen[[col_user, col_item]]), col_user, col_item, col_rating)
    too_short = int(pairs.loc[pairs["n_pairs"] <= n, col_user].nunique())
    return _finish(train, test, "leave_last", col_user, col_item, {"n": n, "customers_too_short": too_short})


def random_split(
    events: pd.DataFrame,
    test_size: float = 0.2,
    random_state: int = 42,
    col_user: str = CUSTOMER,
    col_item: str = ITEM,
    col_rating: str = RATING,
) -> Split:
    """Per customer, a random ``test_size`` share of their distinct items (at least one) is held out.

    Customers with a single distinct item stay in training (``details["customers_too_short"]``).
    """
    if not 0 < test_size < 1:
        raise ValueError(f"test_size={test_size}: it must be between 0 and 1.")
    _validate(events, col_user, col_item)
    pairs = events.groupby([col_user, col_item], as_index=False, sort=True).size()
    pairs["key"] = np.random.default_rng(random_state).random(len(pairs))
    n_pairs = pairs.groupby(col_user)[col_item].transform("size")
    n_test = np.maximum(np.round(test_size * n_pairs), 1)
    rank = pairs.groupby(col_user)["key"].rank(method="first")
    chosen = pairs[(rank <= n_test) & (n_pairs > 1)]
    train, test = _split_pairs(events, pd.MultiIndex.from_frame(chosen[[col_user, col_item]]), col_user, col_item, col_rating)
    too_short = int(pairs.loc[n_pairs <= 1, col_user].nunique())
    return _finish(train, test, "random", col_user, col_item, {"test_size": test_size, "customers_too_short": too_short})


def make_split(
    events: pd.DataFrame, method: str = "time", observation_end=None, test_days: int = 60,
    n: int = 1, test_size: float = 0.2, random_state: int = 42,
) -> Split:
    """Dispatch to a split by name: ``"time"`` (cut-off = observation_end - test_days),
    ``"leave_last"`` (n per customer) or ``"random"`` (test_size per customer)."""
    if method == "time":
        end = pd.Timestamp(observation_end) if observation_end is not None else events[TIMESTAMP].max()
        return split_by_time(events, end - pd.Timedelta(days=test_days))
    if method == "leave_last":
        return leave_last_n_out(events, n=n, random_state=random_state)
    if method == "random":
        return random_split(events, test_size=test_size, random_state=random_state)
    raise ValueError(f"split={method!r}: use one of {SPLITS}.")
