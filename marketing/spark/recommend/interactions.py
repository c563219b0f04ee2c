"""Customer-item interactions in Spark: one row per pair with its implicit-feedback weight.

The Spark counterpart of :func:`marketing.recommend.build_interactions`: the same weightings, as
a long table ``(customer_id, item_id, weight)`` instead of a sparse matrix (Spark ML's ALS reads
exactly that), plus the summary and the item popularity the notebook shows.
"""

from __future__ import annotations

from marketing.columns import CUSTOMER, ITEM, RATING
from marketing.recommend.interactions import WEIGHTINGS
from marketing.spark.recommend._frames import require_frame
from marketing.validation import DataValidationError

WEIGHT = "weight"
#: Column of :func:`item_popularity`: distinct customers who have the item.
N_CUSTOMERS = "n_customers"


def build_interactions(events, weighting: str = "binary"):
    """One row per customer-item pair with its weight, aggregated in Spark.

    Parameters
    ----------
    events : pyspark.sql.DataFrame
        Canonical events (``customer_id``, ``item_id``; ``rating`` for ``weighting="rating"``).
    weighting : {"binary", "count", "log", "rating"}
        As in :func:`marketing.recommend.build_interactions`: 1 per pair, the number of events,
        ``1 + log(count)``, or the mean rating of the pair.

    Returns
    -------
    pyspark.sql.DataFrame
        ``customer_id``, ``item_id``, ``weight`` (double), one row per distinct pair (not collected).

    Raises
    ------
    DataValidationError
        Empty log, missing columns, or missing ids / ratings (counted, with the fix).
    ValueError
        Unknown ``weighting``.

    Examples
    --------
    >>> import pandas as pd
    >>> events = spark.createDataFrame(pd.DataFrame({"customer_id": [7, 7, 7, 9], "item_id": [1, 1, 2, 2]}))
    >>> build_interactions(events, "count").orderBy("customer_id", "item_id").show()
    +-----------+-------+------+
    |customer_id|item_id|weight|
    +-----------+-------+------+
    |          7|      1|   2.0|
    |          7|      2|   1.0|
    |          9|      2|   1.0|
    +-----------+-------+------+
    <BLANKLINE>
    """
    from pyspark.sql import functions as F

    if weighting not in WEIGHTINGS:
        raise ValueError(f"weighting={weighting!r} is not one of {WEIGHTINGS}.")
    needed = [CUSTOMER, ITEM] + ([RATING] if weighting == "rating" else [])
    require_frame(events, "events", needed)
    counts = events.agg(
        F.count(F.lit(1)).alias("rows"), *[F.count_if(F.col(c).isNull()).alias(c) for c in needed]
    ).first()
    if not counts["rows"]:
        raise DataValidationError("table 'events' is empty: there is nothing to build interactions from.")
    for col in needed:
        if counts[col]:
            raise DataValidationError(
                f"table 'events': column '{col}' has {counts[col]} missing value(s). "
                "Drop or fill those rows before building the interactions."
            )
    n = F.count(F.lit(1)).cast("double")
    weight = {
        "binary": F.lit(1.0),
        "count": n,
        "log": 1.0 + F.log(n),
        "rating": F.avg(F.col(RATING).cast("double")) if weighting == "rating" else None,
    }[weighting]
    return events.groupBy(CUSTOMER, ITEM).agg(weight.alias(WEIGHT))


def item_popularity(interactions, items=None):
    """Distinct customers per item (the popularity count), one row per item.

    Parameters
    ----------
    interactions : pyspark.sql.DataFrame
        From :func:`build_interactions` (one row per pair).
    items : pyspark.sql.DataFrame, optional
        The catalogue (``item_id``): every item gets a row, 0 for those nobody has.

    Returns
    -------
    pyspark.sql.DataFrame
        ``item_id``, ``n_customers`` (long). One row per item: small enough to collect.

    Examples
    --------
    >>> import pandas as pd
    >>> events = spark.createDataFrame(pd.DataFrame({"customer_id": [1, 2, 2], "item_id": [5, 5, 6]}))
    >>> pairs = build_interactions(events)
    >>> catalogue = spark.createDataFrame(pd.DataFrame({"item_id": [5, 6, 7]}))
    >>> sorted(map(tuple, item_popularity(pairs, catalogue).collect()))
    [(5, 2), (6, 1), (7, 0)]
    """
    from pyspark.sql import functions as F

    require_frame(interactions, "interactions", [CUSTOMER, ITEM])
    counts = interactions.groupBy(ITEM).agg(F.count(F.lit(1)).alias(N_CUSTOMERS))
    if items is None:
        return counts
    require_frame(items, "items", [ITEM])
    return (
        items.select(ITEM).distinct().join(counts, on=ITEM, how="left")
        .select(ITEM, F.coalesce(F.col(N_CUSTOMERS), F.lit(0)).cast("long").alias(N_CUSTOMERS))
    )


def interaction_summary(interactions, items=None) -> dict:
    """Size and sparsity, as :meth:`marketing.recommend.Interactions.summary` reports them.

    ``customers`` are those with at least one pair; ``items`` is the catalogue when ``items`` is
    given, else the items with a pair. One Spark aggregation; a dict of numbers comes back.

    Examples
    --------
    >>> import pandas as pd
    >>> events = spark.createDataFrame(pd.DataFrame({"customer_id": [1, 2, 2], "item_id": [5, 5, 6]}))
    >>> pairs = build_interactions(events)
    >>> interaction_summary(pairs)["density"]
    0.75
    """
    from pyspark.sql import functions as F

    require_frame(interactions, "interactions", [CUSTOMER, ITEM])
    row = interactions.agg(
        F.count(F.lit(1)).alias("pairs"), F.countDistinct(CUSTOMER).alias("customers"),
        F.countDistinct(ITEM).alias("items"),
    ).first()
    n_items = row["items"]
    if items is not None:
        require_frame(items, "items", [ITEM])
        n_items = items.select(ITEM).distinct().count()
    pairs, users = int(row["pairs"]), int(row["customers"])
    cells = users * n_items
    return {
        "customers": users,
        "items": int(n_items),
        "pairs": pairs,
        "density": pairs / cells if cells else 0.0,
        "sparsity": 1.0 - pairs / cells if cells else 1.0,
        "pairs_per_customer": pairs / users if users else 0.0,
    }
