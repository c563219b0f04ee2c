"""Ranking metrics at k computed in Spark, with exactly the definitions of :mod:`marketing.recommend.metrics`.

Recommendations are a long table ``(customer_id, rank, item_id)`` with ranks 1..k (a customer
may have fewer than k rows: the empty slots of the pandas path); relevant items are the test
pairs ``(customer_id, item_id)``. With binary relevance (``rel_r`` is 1 if the item at rank ``r``
is in the customer's test set ``R``):

- precision@k = hits / k  (always k in the denominator)
- recall@k    = hits / |R|
- hit rate@k  = 1 if hits > 0 else 0
- MRR@k       = 1 / (rank of the first relevant item), 0 if none in the top k
- NDCG@k      = DCG / IDCG, DCG = sum_r rel_r / log2(r + 1), IDCG = sum_{r=1}^{min(|R|, k)} 1 / log2(r + 1)
- MAP@k       = mean of AP@k, AP@k = (1 / min(|R|, k)) * sum_r precision@r * rel_r

each averaged over the customers of the relevant table (every one has at least one relevant item;
those without any recommendation score 0). Across the recommendations:

- coverage = distinct items recommended / items in the catalogue
- novelty  = mean over recommended slots of -log2(p_i), p_i = (customers with item i in training,
  floored at 1) / training customers

The discounts 1 / log2(r + 1) are the pandas path's numbers, sent to Spark as literals, so both
engines agree to the last digits (tests check 1e-9 on hand-worked and random lists).
"""

from __future__ import annotations

import numpy as np

from marketing.columns import CUSTOMER, ITEM
from marketing.recommend.metrics import RANKING_METRICS
from marketing.spark.recommend._frames import require_frame
from marketing.spark.recommend.interactions import N_CUSTOMERS

RANK = "rank"


def _discounts(k: int) -> tuple[list[float], list[float]]:
    """1 / log2(r + 1) for r = 1..k, and their cumulative sums from 0 (the ideal DCG of j items)."""
    discounts = 1.0 / np.log2(np.arange(1, k + 1) + 1)
    return discounts.tolist(), np.concatenate([[0.0], np.cumsum(discounts)]).tolist()


def _check_k(k) -> int:
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k={k!r}: it must be a positive integer.")
    return int(k)


def ranking_metrics_per_user(recommendations, relevant, k: int):
    """Each metric of :data:`~marketing.recommend.metrics.RANKING_METRICS` per customer of ``relevant``.

    Parameters
    ----------
    recommendations : pyspark.sql.DataFrame
        ``customer_id``, ``rank`` (1 = best), ``item_id``. Ranks above ``k`` are ignored.
    relevant : pyspark.sql.DataFrame
        ``customer_id``, ``item_id``: the test pairs (duplicates count once).
    k : int

    Returns
    -------
    pyspark.sql.DataFrame
        ``customer_id`` and one column per metric, a row per customer with a relevant item.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    k = _check_k(k)
    require_frame(recommendations, "recommendations", [CUSTOMER, RANK, ITEM])
    require_frame(relevant, "relevant", [CUSTOMER, ITEM])
    discount, ideal = _discounts(k)
    discount_of = F.array(*[F.lit(v) for v in discount])
    ideal_of = F.array(*[F.lit(v) for v in ideal])

    truth = relevant.select(CUSTOMER, ITEM).distinct()
    n_relevant = truth.groupBy(CUSTOMER).agg(F.count(F.lit(1)).alias("_n_rel"))
    listed = recommendations.filter((F.col(RANK) >= 1) & (F.col(RANK) <= k)).select(CUSTOMER, RANK, ITEM)
    hits = listed.join(truth.withColumn("_rel", F.lit(1)), on=[CUSTOMER, ITEM], how="left").fillna(0, subset=["_rel"])
    upto = Window.partitionBy(CUSTOMER).orderBy(RANK).rowsBetween(Window.unboundedPreceding, Window.currentRow)
    hits = hits.withColumn("_hits_so_far", F.sum("_rel").over(upto))
    rank = F.col(RANK).cast("int")
    per_user = hits.groupBy(CUSTOMER).agg(
        F.sum("_rel").alias("_hits"),
        F.sum(F.col("_rel") * F.element_at(discount_of, rank)).alias("_dcg"),
        F.sum(F.col("_rel") * F.col("_hits_so_far") / F.col(RANK)).alias("_ap"),
        F.min(F.when(F.col("_rel") == 1, F.col(RANK))).alias("_first"),
    )
    table = n_relevant.join(per_user, on=CUSTOMER, how="left").fillna(0, subset=["_hits", "_dcg", "_ap"])
    ideal_len = F.least(F.col("_n_rel"), F.lit(k))
    return table.select(
        CUSTOMER,
        (F.col("_hits") / F.lit(float(k))).alias("precision"),
        (F.col("_hits") / F.col("_n_rel")).alias("recall"),
        (F.col("_dcg") / F.element_at(ideal_of, (ideal_len + 1).cast("int"))).alias("ndcg"),
        (F.col("_ap") / ideal_len).alias("map"),
        F.when(F.col("_hits") > 0, 1.0).otherwise(0.0).alias("hit_rate"),
        F.coalesce(1.0 / F.col("_first"), F.lit(0.0)).alias("mrr"),
    )


def _means(recommendations, relevant, k: int):
    """One-row DataFrame: the mean of each ranking metric and the number of customers judged."""
    from pyspark.sql import functions as F

    per_user = ranking_metrics_per_user(recommendations, relevant, k)
    return per_user.agg(*[F.avg(m).alias(m) for m in RANKING_METRICS], F.count(F.lit(1)).alias("n_customers"))


def _coverage_novelty(recommendations, n_items: int, item_users, n_users: int):
    """One-row DataFrame: coverage and novelty of the recommended slots."""
    from pyspark.sql import functions as F

    slots = recommendations.select(ITEM).join(item_users.select(ITEM, N_CUSTOMERS), on=ITEM, how="left")
    p = F.greatest(F.coalesce(F.col(N_CUSTOMERS), F.lit(0)).cast("double"), F.lit(1.0)) / F.lit(float(n_users))
    return slots.agg(
        (F.countDistinct(ITEM) / F.lit(float(n_items))).alias("coverage"),
        F.avg(-F.log2(p)).alias("novelty"),
    )


def ranking_metrics(recommendations, relevant, k: int) -> dict[str, float]:
    """Mean of each ranking metric over the customers of ``relevant``, computed in Spark.

    Examples
    --------
    >>> import pandas as pd
    >>> recs = spark.createDataFrame(pd.DataFrame({"customer_id": [1, 1, 1], "rank": [1, 2, 3], "item_id": [3, 1, 2]}))
    >>> rel = spark.createDataFrame(pd.DataFrame({"customer_id": [1, 1], "item_id": [1, 5]}))
    >>> {name: round(v, 4) for name, v in ranking_metrics(recs, rel, k=3).items()}
    {'precision': 0.3333, 'recall': 0.5, 'ndcg': 0.3869, 'map': 0.25, 'hit_rate': 1.0, 'mrr': 0.5}
    """
    row = _means(recommendations, relevant, k).first()
    if not row["n_customers"]:
        return {name: float("nan") for name in RANKING_METRICS}
    return {name: float(row[name]) for name in RANKING_METRICS}


def catalogue_coverage(recommendations, n_items: int) -> float:
    """Distinct items recommended / ``n_items``.

    Examples
    --------
    >>> import pandas as pd
    >>> recs = spark.createDataFrame(pd.DataFrame({"customer_id": [1, 1, 2], "rank": [1, 2, 1], "item_id": [0, 1, 1]}))
    >>> catalogue_coverage(recs, n_items=4)
    0.5
    """
    from pyspark.sql import functions as F

    if n_items < 1:
        raise ValueError(f"n_items={n_items}: the catalogue needs at least one item.")
    require_frame(recommendations, "recommendations", [ITEM])
    return recommendations.agg(F.countDistinct(ITEM)).first()[0] / n_items


def novelty(recommendations, item_users, n_users: int) -> float:
    """Mean self-information -log2(p_i) of the recommended slots, p_i = max(customers with i, 1) / ``n_users``.

    ``item_users`` is a table ``item_id``, ``n_customers`` (:func:`~marketing.spark.recommend.item_popularity`
    of the training pairs); items missing from it count as 1 customer. NaN without recommendations.

    Examples
    --------
    >>> import pandas as pd
    >>> recs = spark.createDataFrame(pd.DataFrame({"customer_id": [1, 1], "rank": [1, 2], "item_id": [0, 1]}))
    >>> users = spark.createDataFrame(pd.DataFrame({"item_id": [0, 1], "n_customers": [4, 1]}))
    >>> novelty(recs, users, n_users=4)  # -log2(1) and -log2(1/4)
    1.0
    """
    require_frame(recommendations, "recommendations", [ITEM])
    require_frame(item_users, "item_users", [ITEM, N_CUSTOMERS])
    value = _coverage_novelty(recommendations, 1, item_users, n_users).first()["novelty"]
    return float("nan") if value is None else float(value)


def evaluate_recommendations(recommendations, relevant, k: int, item_users, n_users: int, n_items: int) -> dict:
    """Ranking metrics, coverage, novelty and the number of customers judged, in one Spark job.

    The row of :func:`marketing.recommend.evaluate_model` (``n_customers``: customers of ``relevant``).
    """
    row = _means(recommendations, relevant, k).crossJoin(
        _coverage_novelty(recommendations, n_items, item_users, n_users)
    ).first()
    names = (*RANKING_METRICS, "coverage", "novelty")
    out = {name: float("nan") if row[name] is None else float(row[name]) for name in names}
    out["n_customers"] = int(row["n_customers"])
    return out
