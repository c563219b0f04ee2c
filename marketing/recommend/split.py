"""Train / test splits of an event log for offline evaluation of recommenders, on every engine.

Each split returns the training *events* (all of them, so counts and ratings survive) and the
test *pairs*: distinct customer-item pairs the customer did not have in training, which is what
a recommender that excludes owned items can get right. What each split leaves out is counted in
``Split.details`` (nothing is dropped silently). The logic is written once
(:mod:`marketing.recommend.relational`) and runs where the events are: pandas frames in, pandas
frames out; Spark in, Spark out (not collected); a DuckDB relation is collected (the needed
columns only) and split in memory.

On Spark the time split is exactly the pandas one. ``leave_last`` and ``random`` hold out the
same number of pairs per customer, but order ties in time and draw the random pairs with a seeded
hash of the pair (reproducible however the data are partitioned), so they hold out other pairs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import narwhals as nw
import pandas as pd

from marketing.columns import CUSTOMER, ITEM, RATING, TIMESTAMP
from marketing.engines import engine_of
from marketing.recommend import relational as rel
from marketing.recommend.interactions import in_memory
from marketing.validation import DataValidationError, require_columns

SPLITS = ("time", "leave_last", "random")


@dataclass
class Split:
    """Training events and test pairs, in the events' kind (pandas or Spark).

    Attributes
    ----------
    train : pandas.DataFrame or pyspark.sql.DataFrame
        Events to fit on.
    test : pandas.DataFrame or pyspark.sql.DataFrame
        Distinct (customer_id, item_id) pairs to predict, with ``n_events`` and ``rating`` (mean)
        when the log has it.
    method : str
        One of :data:`SPLITS`.
    details : dict
        Counts: test pairs, test customers, cold-start test customers (no training history),
        and what was left out and why.
    """

    train: object
    test: object
    method: str
    details: dict = field(default_factory=dict)


def _events(events, columns):
    """Validated events as a narwhals LazyFrame (DuckDB: the columns needed, collected)."""
    events = in_memory(events, [*columns, RATING])
    require_columns(events, columns, "events")
    lf = rel.lazy(events)
    if not rel.first_row(lf.select(nw.len().alias("n")))["n"]:
        raise DataValidationError("table 'events' is empty: there is nothing to split.")
    return lf


def _finish(train, test, method, col_customer, col_item, details) -> Split:
    spark = engine_of(train.to_native()) == "spark"
    if spark:  # the counts and every later step read both again
        train, test = rel.lazy(train.to_native().persist()), rel.lazy(test.to_native().persist())
    details.update(rel.split_counts(train, test, col_customer, col_item))
    return Split(
        train=rel.native(train), test=rel.native(test, sort_by=[col_customer, col_item]), method=method, details=details
    )


def split_by_time(
    events,
    cutoff,
    col_customer: str = CUSTOMER,
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
    lf = _events(events, [col_customer, col_item, col_time])
    cutoff = pd.Timestamp(cutoff)
    train, test, repeats, row = rel.time_split_frames(lf, cutoff, col_customer, col_item, col_time, col_rating)
    if row["before"] in (0, row["rows"]):
        raise DataValidationError(
            f"table 'events': cutoff {cutoff} leaves {'no' if not row['before'] else 'all'} events in "
            f"training (timestamps run from {_naive(row['first'])} to {_naive(row['last'])}). "
            "Choose a cut-off inside that range."
        )
    details = {"cutoff": str(cutoff), "repeat_pairs_left_out": repeats}
    return _finish(train, test, "time", col_customer, col_item, details)


def _naive(value) -> pd.Timestamp:
    value = pd.Timestamp(value)
    return value.tz_localize(None) if value.tzinfo is not None else value


def leave_last_n_out(
    events,
    n: int = 1,
    random_state: int = 42,
    col_customer: str = CUSTOMER,
    col_item: str = ITEM,
    col_time: str = TIMESTAMP,
    col_rating: str = RATING,
) -> Split:
    """Per customer, the last ``n`` distinct items (by first interaction) are the test pairs.

    All events of a test pair go to the test side. Customers with ``n`` or fewer distinct items
    stay wholly in training (counted in ``details["customers_too_short"]``); ties in time are
    ordered by ``random_state``.

    Examples
    --------
    >>> events = pd.DataFrame({"customer_id": [1, 1, 1, 2], "item_id": [5, 6, 5, 5],
    ...     "timestamp": pd.to_datetime(["2025-01-01", "2025-01-02", "2025-01-03", "2025-01-01"])})
    >>> s = leave_last_n_out(events, n=1)
    >>> s.test[["customer_id", "item_id"]].values.tolist(), s.details["customers_too_short"]
    ([[1, 6]], 1)
    """
    if n < 1:
        raise ValueError(f"n={n}: leave at least one item out.")
    lf = _events(events, [col_customer, col_item, col_time])
    train, test, too_short = rel.held_out_pairs(
        lf, lambda n_pairs: nw.lit(n), [col_time], [True], random_state, col_customer, col_item, col_time, col_rating
    )
    return _finish(train, test, "leave_last", col_customer, col_item, {"n": n, "customers_too_short": too_short})


def random_split(
    events,
    test_size: float = 0.2,
    random_state: int = 42,
    col_customer: str = CUSTOMER,
    col_item: str = ITEM,
    col_rating: str = RATING,
) -> Split:
    """Per customer, a random ``test_size`` share of their distinct items (at least one) is held out.

    ``max(round(test_size * n_pairs), 1)`` pairs per customer (halves to even, as numpy rounds);
    customers with a single distinct item stay in training (``details["customers_too_short"]``).

    Examples
    --------
    >>> events = pd.DataFrame({"customer_id": [1] * 5 + [2], "item_id": [1, 2, 3, 4, 5, 1]})
    >>> s = random_split(events, test_size=0.2)
    >>> s.details["test_pairs"], s.details["customers_too_short"]
    (1, 1)
    """
    if not 0 < test_size < 1:
        raise ValueError(f"test_size={test_size}: it must be between 0 and 1.")
    lf = _events(events, [col_customer, col_item])

    def n_test(n_pairs):
        # one pair or fewer: the customer stays in training (n_pairs > n_test fails)
        share = rel.round_half_even(n_pairs.cast(nw.Float64) * float(test_size))
        return nw.when(n_pairs <= 1).then(n_pairs).otherwise(nw.max_horizontal(share, nw.lit(1)))

    train, test, too_short = rel.held_out_pairs(lf, n_test, [], [], random_state, col_customer, col_item, col_rating=col_rating)
    return _finish(train, test, "random", col_customer, col_item, {"test_size": test_size, "customers_too_short": too_short})


def make_split(
    events, method: str = "time", observation_end=None, test_days: int = 60,
    n: int = 1, test_size: float = 0.2, random_state: int = 42,
) -> Split:
    """Split an event log (pandas, DuckDB or Spark) by name.

    Parameters
    ----------
    events : pandas.DataFrame, DuckDB relation or Spark DataFrame
    method : {"time", "leave_last", "random"}
        ``"time"``: cut-off = ``observation_end - test_days`` (default end: the last event);
        with an ``observation_end``, every method splits the events before it only;
        ``"leave_last"``: the last ``n`` distinct items per customer; ``"random"``: a
        ``test_size`` share of each customer's distinct items, drawn with ``random_state``.

    Returns
    -------
    Split
        pandas frames for pandas and DuckDB events; Spark frames for Spark events.

    Examples
    --------
    >>> events = pd.DataFrame({"customer_id": [1, 1, 2], "item_id": [5, 6, 5],
    ...     "timestamp": pd.to_datetime(["2025-01-01", "2025-02-20", "2025-02-25"])})
    >>> make_split(events, "time", observation_end="2025-03-01", test_days=30).details["test_pairs"]
    2
    """
    if observation_end is not None:
        # events from the observation end on are the label window of the other analyses: a
        # recommendation test window that reached into it would be scored on a different period
        end = pd.Timestamp(observation_end)
        lf = _events(events, [CUSTOMER, ITEM, TIMESTAMP])
        events = lf.filter(nw.col(TIMESTAMP) < rel.datetime_literal(end, lf, TIMESTAMP)).to_native()
    if method == "time":
        if observation_end is None:
            lf = _events(events, [TIMESTAMP])
            end = _naive(rel.first_row(lf.select(nw.col(TIMESTAMP).max()))[TIMESTAMP])
        held_out = split_by_time(events, end - pd.Timedelta(days=test_days))
        held_out.details["test_days"] = test_days
        return held_out
    if method == "leave_last":
        return leave_last_n_out(events, n=n, random_state=random_state)
    if method == "random":
        return random_split(events, test_size=test_size, random_state=random_state)
    raise ValueError(f"split={method!r}: use one of {SPLITS}.")


def validation_split(split: Split, random_state: int = 42) -> Split:
    """The same kind of split again, inside ``split.train``: where models are chosen and tuned.

    ``"time"``: the ``test_days`` before the test window's cut-off are the validation window;
    ``"leave_last"`` and ``"random"``: each customer's last ``n`` (or a ``test_size`` share of
    their) training items. The test part is never seen, so a choice made here can be reported on it.

    Raises
    ------
    DataValidationError
        The training part is too short for a validation split of this kind (say which, and what to
        change).

    Examples
    --------
    >>> events = pd.DataFrame({"customer_id": [1, 1, 1, 2, 2], "item_id": [5, 6, 7, 5, 6],
    ...     "timestamp": pd.to_datetime(["2025-01-05", "2025-02-10", "2025-03-10", "2025-01-20", "2025-02-15"])})
    >>> held_out = make_split(events, "time", observation_end="2025-04-01", test_days=30)
    >>> inner = validation_split(held_out)
    >>> inner.details["cutoff"], inner.test[["customer_id", "item_id"]].values.tolist()
    ('2025-01-31 00:00:00', [[1, 6], [2, 6]])
    """
    details = split.details
    if split.method == "time":
        if "test_days" not in details:
            raise ValueError("validation_split needs the split's test_days: make the split with make_split(method='time').")
        cutoff = pd.Timestamp(details["cutoff"]) - pd.Timedelta(days=details["test_days"])
        try:
            inner = split_by_time(split.train, cutoff)
        except DataValidationError as error:
            raise DataValidationError(
                f"no validation window before the test window: {error} Use a shorter test_days or a longer log."
            ) from None
        inner.details["test_days"] = details["test_days"]
        return inner
    if split.method == "leave_last":
        return leave_last_n_out(split.train, n=details["n"], random_state=random_state)
    if split.method == "random":
        return random_split(split.train, test_size=details["test_size"], random_state=random_state)
    raise ValueError(f"split.method={split.method!r}: use one of {SPLITS}.")
