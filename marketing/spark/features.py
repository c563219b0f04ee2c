"""RFM and customer features aggregated in Spark; the same definitions as :mod:`marketing.features`.

Day counts are whole days, floored, computed from microseconds since the epoch, so they equal the
pandas path's ``Timedelta.days`` exactly (tests check every column on the same data).
"""

from __future__ import annotations

import pandas as pd

from marketing.columns import AMOUNT, CUSTOMER, ITEM, ORDER, TIMESTAMP
from marketing.features import RFM_COLUMNS
from marketing.validation import DataValidationError

MICROS_PER_DAY = 86_400_000_000


def _whole_days(later, earlier):
    from pyspark.sql import functions as F

    return F.floor((F.unix_micros(later) - F.unix_micros(earlier)) / F.lit(MICROS_PER_DAY)).cast("long")


def rfm(events, observation_end: pd.Timestamp | str, *, customers=None):
    """Recency, frequency and monetary value per customer, aggregated in Spark.

    The columns and their meanings are those of :func:`marketing.features.rfm`: events at or after
    ``observation_end`` are ignored; ``frequency`` counts distinct ``order_id`` where the log has
    it, else events.

    Parameters
    ----------
    events : pyspark.sql.DataFrame
        Canonical events (``customer_id``, ``timestamp``, ``amount``; ``order_id`` and ``item_id``
        used when present).
    observation_end : Timestamp or str
    customers : pyspark.sql.DataFrame, optional
        Customers to report (its ``customer_id`` column); those without events get
        ``frequency``, ``monetary`` and ``n_items`` 0 and missing recency, as on the pandas path.

    Returns
    -------
    pyspark.sql.DataFrame
        ``customer_id`` and the RFM columns, one row per customer (not collected).

    Examples
    --------
    >>> log = spark.createDataFrame(pd.DataFrame({
    ...     "customer_id": ["a", "a", "b"],
    ...     "item_id": [1, 2, 1],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-21", "2024-01-30"]),
    ...     "amount": [10.0, 30.0, 5.0],
    ... }))
    >>> rfm(log, "2024-02-01").orderBy("customer_id").select(
    ...     "customer_id", "recency_days", "frequency", "monetary", "tenure_days").show()
    +-----------+------------+---------+--------+-----------+
    |customer_id|recency_days|frequency|monetary|tenure_days|
    +-----------+------------+---------+--------+-----------+
    |          a|          11|        2|    40.0|         31|
    |          b|           2|        1|     5.0|          2|
    +-----------+------------+---------+--------+-----------+
    <BLANKLINE>
    """
    from pyspark.sql import functions as F

    missing = [c for c in (CUSTOMER, TIMESTAMP, AMOUNT) if c not in events.columns]
    if missing:
        raise DataValidationError(f"events: missing column(s) {missing}; it has {events.columns}.")
    end = F.lit(pd.Timestamp(observation_end).to_pydatetime()).cast("timestamp")
    window = events.filter(F.col(TIMESTAMP) < end)
    frequency = F.countDistinct(ORDER) if ORDER in events.columns else F.count(F.lit(1))
    aggregates = [
        F.min(TIMESTAMP).alias("_first"),
        F.max(TIMESTAMP).alias("_last"),
        F.sum(F.col(AMOUNT).cast("double")).alias("monetary"),
        frequency.cast("long").alias("frequency"),
    ]
    if ITEM in events.columns:
        aggregates.append(F.countDistinct(ITEM).cast("long").alias("n_items"))
    table = window.groupBy(CUSTOMER).agg(*aggregates)
    columns = [
        F.col(CUSTOMER),
        _whole_days(end, F.col("_last")).alias("recency_days"),
        F.col("frequency"),
        F.col("monetary"),
        (F.col("monetary") / F.col("frequency")).alias("avg_order_value"),
        _whole_days(end, F.col("_first")).alias("tenure_days"),
        _whole_days(F.col("_last"), F.col("_first")).alias("first_to_last_days"),
    ]
    if ITEM in events.columns:
        columns.append(F.col("n_items"))
    out = table.select(*columns)
    if customers is not None:
        out = customers.select(CUSTOMER).join(out, on=CUSTOMER, how="left").fillna(
            0, subset=[c for c in ("frequency", "monetary", "n_items") if c in out.columns]
        )
    return out


def customer_table(data, features):
    """RFM features joined with customer attributes, restricted to ``features`` (in Spark).

    The Spark counterpart of :func:`marketing.features.customer_table`: ``data`` is a
    :class:`~marketing.spark.data.SparkCaseData`; the result has ``customer_id`` and one column per
    feature, a row per customer of the customers table.

    Examples
    --------
    >>> from marketing.spark.data import load_spark_data
    >>> table = customer_table(load_spark_data("finance", spark), ["recency_days", "income"])
    >>> table.columns, table.count()
    (['customer_id', 'recency_days', 'income'], 2000)
    """
    behaviour = rfm(data.events, data.observation_end, customers=data.customers)
    attributes = [c for c in data.customers.columns if c != CUSTOMER]
    rfm_names = [c for c in RFM_COLUMNS if c in behaviour.columns]
    unknown = [f for f in features if f not in rfm_names and f not in attributes]
    if unknown:
        raise DataValidationError(
            f"case {data.case.name!r}: feature(s) {unknown} are neither RFM features {rfm_names} "
            f"nor columns of the customers table {attributes}."
        )
    wanted_rfm = [f for f in features if f in rfm_names]
    wanted_attributes = [f for f in features if f not in rfm_names]
    table = behaviour.select(CUSTOMER, *wanted_rfm)
    if wanted_attributes:
        table = table.join(data.customers.select(CUSTOMER, *wanted_attributes), on=CUSTOMER, how="left")
    return table.select(CUSTOMER, *features)
