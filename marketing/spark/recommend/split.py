"""Train / test splits of an event log in Spark, with the definitions of :mod:`marketing.recommend.split`.

Each split returns the training *events* and the test *pairs* (distinct customer-item pairs the
customer did not have in training, with ``n_events`` and the mean ``rating`` when the log has
one), and counts in ``details`` what it left out, with the same keys as the pandas path.

- ``time`` gives exactly the pandas split (tests compare every test pair).
- ``leave_last`` and ``random`` choose, per customer, the same *number* of test pairs by the same
  rule, with window functions. Where the pandas path breaks ties (same first-interaction time) or
  draws the random share with numpy's generator over all pairs, which needs every pair on one
  machine, Spark orders by a seeded hash of the pair (``xxhash64(customer_id, item_id,
  random_state)``): reproducible whatever the partitioning, but a different draw. Without ties in
  time, ``leave_last`` gives exactly the pandas split.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from marketing.columns import CUSTOMER, ITEM, RATING, TIMESTAMP
from marketing.recommend.split import SPLITS
from marketing.spark.recommend._frames import require_frame
from marketing.validation import DataValidationError


@dataclass
class SparkSplit:
    """Training events and test pairs, as Spark DataFrames (the counterpart of :class:`marketing.recommend.Split`).

    Attributes
    ----------
    train : pyspark.sql.DataFrame
        Events to fit on.
    test : pyspark.sql.DataFrame
        Distinct (customer_id, item_id) pairs to predict, with ``n_events`` and ``rating`` (mean)
        when the log has it.
    method : str
        One of :data:`~marketing.recommend.split.SPLITS`.
    details : dict
        The counts of the pandas path's ``Split.details`` (small numbers, computed in Spark).
    """

    train: object
    test: object
    method: str
    details: dict = field(default_factory=dict)


def _test_pairs(events):
    from pyspark.sql import functions as F

    aggregates = [F.count(F.lit(1)).alias("n_events")]
    if RATING in events.columns:
        aggregates.append(F.avg(F.col(RATING).cast("double")).alias(RATING))
    return events.groupBy(CUSTOMER, ITEM).agg(*aggregates)


def _finish(train, test, method: str, details: dict) -> SparkSplit:
    """Count what the pandas path counts, in two Spark jobs; cache the two results."""
    from pyspark.sql import functions as F

    train, test = train.persist(), test.persist()
    users = train.select(CUSTOMER).distinct().withColumn("_warm", F.lit(True))
    items = train.select(ITEM).distinct().withColumn("_known", F.lit(True))
    flagged = test.join(users, on=CUSTOMER, how="left").join(items, on=ITEM, how="left")
    row = flagged.agg(
        F.count(F.lit(1)).alias("test_pairs"),
        F.countDistinct(CUSTOMER).alias("test_customers"),
        F.countDistinct(F.when(F.col("_warm").isNull(), F.col(CUSTOMER))).alias("cold_start_customers"),
        F.count_if(F.col("_known").isNull()).alias("test_pairs_item_unseen_in_train"),
    ).first()
    details.update(
        {
            "train_events": train.count(),
            "test_pairs": int(row["test_pairs"]),
            "test_customers": int(row["test_customers"]),
            "cold_start_customers": int(row["cold_start_customers"]),
            "test_pairs_item_unseen_in_train": int(row["test_pairs_item_unseen_in_train"]),
        }
    )
    return SparkSplit(train=train, test=test, method=method, details=details)


def split_by_time(events, cutoff) -> SparkSplit:
    """Train on events before ``cutoff``; test on the new pairs from ``cutoff`` on.

    Pairs the customer already had before the cut-off (repeat purchases) are not test pairs; they
    are counted in ``details["repeat_pairs_left_out"]``. The same split as
    :func:`marketing.recommend.split_by_time`.

    Raises
    ------
    DataValidationError
        Missing columns, or a cut-off that leaves no events (or all of them) in training.

    Examples
    --------
    >>> events = spark.createDataFrame(pd.DataFrame({"customer_id": [1, 1, 1, 2], "item_id": [5, 5, 6, 5],
    ...     "timestamp": pd.to_datetime(["2025-01-01", "2025-03-01", "2025-03-02", "2025-03-05"])}))
    >>> s = split_by_time(events, "2025-02-01")
    >>> sorted(map(tuple, s.test.select("customer_id", "item_id").collect())), s.details["repeat_pairs_left_out"]
    ([(1, 6), (2, 5)], 1)
    """
    from pyspark.sql import functions as F

    require_frame(events, "events", [CUSTOMER, ITEM, TIMESTAMP])
    cutoff = pd.Timestamp(cutoff)
    before = F.col(TIMESTAMP) < F.lit(cutoff.to_pydatetime()).cast("timestamp")
    row = events.agg(
        F.count(F.lit(1)).alias("rows"), F.count_if(before).alias("before"),
        F.min(TIMESTAMP).alias("first"), F.max(TIMESTAMP).alias("last"),
    ).first()
    if not row["rows"]:
        raise DataValidationError("table 'events' is empty: there is nothing to split.")
    if row["before"] in (0, row["rows"]):
        raise DataValidationError(
            f"table 'events': cutoff {cutoff} leaves {'no' if not row['before'] else 'all'} events in "
            f"training (timestamps run from {pd.Timestamp(row['first'])} to {pd.Timestamp(row['last'])}). "
            "Choose a cut-off inside that range."
        )
    train = events.filter(before)
    # a missing timestamp is not "before" the cut-off: the pandas path puts it on the test side too
    after = _test_pairs(events.filter(~before | before.isNull()))
    owned = train.select(CUSTOMER, ITEM).distinct()
    after = after.persist()
    repeats = after.join(owned, on=[CUSTOMER, ITEM], how="left_semi").count()
    test = after.join(owned, on=[CUSTOMER, ITEM], how="left_anti")
    return _finish(train, test, "time", {"cutoff": str(cutoff), "repeat_pairs_left_out": repeats})


def _pair_key(random_state: int):
    """A seeded pseudo-random order of the pairs that does not depend on partitioning."""
    from pyspark.sql import functions as F

    return F.xxhash64(F.col(CUSTOMER), F.col(ITEM), F.lit(int(random_state)))


def _split_pairs(events, chosen):
    keys = chosen.select(CUSTOMER, ITEM)
    train = events.join(keys, on=[CUSTOMER, ITEM], how="left_anti")
    test = _test_pairs(events.join(keys, on=[CUSTOMER, ITEM], how="left_semi"))
    return train, test


def leave_last_n_out(events, n: int = 1, random_state: int = 42) -> SparkSplit:
    """Per customer, the last ``n`` distinct items (by first interaction) are the test pairs.

    The rule of :func:`marketing.recommend.leave_last_n_out`: all events of a test pair go to the
    test side; customers with ``n`` or fewer distinct items stay wholly in training (counted in
    ``details["customers_too_short"]``). Ties in time are ordered by a seeded hash of the pair.

    Examples
    --------
    >>> events = spark.createDataFrame(pd.DataFrame({"customer_id": [1, 1, 1, 2], "item_id": [5, 6, 5, 5],
    ...     "timestamp": pd.to_datetime(["2025-01-01", "2025-01-02", "2025-01-03", "2025-01-01"])}))
    >>> s = leave_last_n_out(events, n=1)
    >>> s.test.select("customer_id", "item_id").collect(), s.details["customers_too_short"]
    ([Row(customer_id=1, item_id=6)], 1)
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    if n < 1:
        raise ValueError(f"n={n}: leave at least one item out.")
    require_frame(events, "events", [CUSTOMER, ITEM, TIMESTAMP])
    pairs = events.groupBy(CUSTOMER, ITEM).agg(F.min(TIMESTAMP).alias("_first"))
    latest = Window.partitionBy(CUSTOMER).orderBy(F.col("_first").desc(), _pair_key(random_state), F.col(ITEM))
    pairs = pairs.select(
        CUSTOMER, ITEM,
        F.row_number().over(latest).alias("_position"),
        F.count(F.lit(1)).over(Window.partitionBy(CUSTOMER)).alias("_n_pairs"),
    ).persist()
    chosen = pairs.filter((F.col("_position") <= n) & (F.col("_n_pairs") > n))
    train, test = _split_pairs(events, chosen)
    too_short = pairs.filter(F.col("_n_pairs") <= n).select(CUSTOMER).distinct().count()
    return _finish(train, test, "leave_last", {"n": n, "customers_too_short": too_short})


def random_split(events, test_size: float = 0.2, random_state: int = 42) -> SparkSplit:
    """Per customer, a random ``test_size`` share of their distinct items (at least one) is held out.

    The rule of :func:`marketing.recommend.random_split`: ``max(round(test_size * n_pairs), 1)``
    pairs per customer (rounding half to even, as numpy does); customers with a single distinct
    item stay in training (``details["customers_too_short"]``). The pairs are drawn by a seeded
    hash of the pair.

    Examples
    --------
    >>> events = spark.createDataFrame(pd.DataFrame({"customer_id": [1] * 5 + [2], "item_id": [1, 2, 3, 4, 5, 1]}))
    >>> s = random_split(events, test_size=0.2)
    >>> s.details["test_pairs"], s.details["customers_too_short"]
    (1, 1)
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    if not 0 < test_size < 1:
        raise ValueError(f"test_size={test_size}: it must be between 0 and 1.")
    require_frame(events, "events", [CUSTOMER, ITEM])
    pairs = events.select(CUSTOMER, ITEM).distinct()
    drawn = Window.partitionBy(CUSTOMER).orderBy(_pair_key(random_state), F.col(ITEM))
    pairs = pairs.select(
        CUSTOMER, ITEM,
        F.row_number().over(drawn).alias("_draw"),
        F.count(F.lit(1)).over(Window.partitionBy(CUSTOMER)).alias("_n_pairs"),
    ).persist()
    n_test = F.greatest(F.bround(F.lit(float(test_size)) * F.col("_n_pairs"), 0), F.lit(1.0))
    chosen = pairs.filter((F.col("_draw") <= n_test) & (F.col("_n_pairs") > 1))
    train, test = _split_pairs(events, chosen)
    too_short = pairs.filter(F.col("_n_pairs") <= 1).select(CUSTOMER).distinct().count()
    return _finish(train, test, "random", {"test_size": test_size, "customers_too_short": too_short})


def make_split(
    events, method: str = "time", observation_end=None, test_days: int = 60,
    n: int = 1, test_size: float = 0.2, random_state: int = 42,
) -> SparkSplit:
    """Dispatch to a split by name, as :func:`marketing.recommend.make_split`: ``"time"`` (cut-off =
    observation_end - test_days), ``"leave_last"`` (n per customer) or ``"random"`` (test_size per customer)."""
    from pyspark.sql import functions as F

    if method == "time":
        if observation_end is None:
            require_frame(events, "events", [TIMESTAMP])
            end = pd.Timestamp(events.agg(F.max(TIMESTAMP)).first()[0])
        else:
            end = pd.Timestamp(observation_end)
        return split_by_time(events, end - pd.Timedelta(days=test_days))
    if method == "leave_last":
        return leave_last_n_out(events, n=n, random_state=random_state)
    if method == "random":
        return random_split(events, test_size=test_size, random_state=random_state)
    raise ValueError(f"split={method!r}: use one of {SPLITS}.")
