"""Offline evaluation on Spark: fit every model on the same split and score it with the same metrics.

The counterpart of :func:`marketing.recommend.compare_models`: the same split, training pairs
(binary), warm / cold-start customers and metric definitions; the table that comes back has the
same shape (a row per model, the metrics at k, coverage, novelty, ``n_customers``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from marketing.columns import CUSTOMER, ITEM
from marketing.recommend.evaluation import BASELINE, best_by_ndcg
from marketing.recommend.metrics import RANKING_METRICS
from marketing.spark.recommend._frames import require_frame
from marketing.spark.recommend.interactions import build_interactions
from marketing.spark.recommend.metrics import evaluate_recommendations, ranking_metrics
from marketing.spark.recommend.models import ALS, COLD_START, RANK, SCORE, PopularityRecommender, Recommender
from marketing.spark.recommend.split import SparkSplit

#: Metrics in the comparison table, in the pandas path's order.
TABLE_COLUMNS = (*RANKING_METRICS, "coverage", "novelty", "n_customers")


def default_models(random_state: int = 42) -> dict[str, Recommender]:
    """The models Spark runs: the popularity baseline and ALS with the pandas path's defaults.

    User and item kNN and EASE need customer x customer or item x item similarities that Spark ML
    does not provide; they run with engine="pandas".
    """
    return {BASELINE: PopularityRecommender(), "als": ALS(random_state=random_state)}


@dataclass
class SparkComparison:
    """The result of :func:`compare_models` (the counterpart of :class:`marketing.recommend.Comparison`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per model (warm test customers): the ranking metrics at k, coverage, novelty,
        ``n_customers``. Small: collected.
    cold_start : dict
        Ranking metrics of the popularity list for test customers without training history.
    models : dict
        The fitted models.
    train : pyspark.sql.DataFrame
        The training pairs every model was fitted on.
    k : int
    details : dict
    """

    table: pd.DataFrame
    cold_start: dict
    models: dict
    train: object
    k: int
    details: dict = field(default_factory=dict)

    @property
    def best_model(self) -> str:
        """The model with the highest NDCG@k (the first listed wins ties: the baseline)."""
        return best_by_ndcg(self.table)


def compare_models(
    split: SparkSplit,
    k: int = 10,
    models: Mapping[str, Recommender] | None = None,
    items=None,
    random_state: int = 42,
) -> SparkComparison:
    """Fit each model on ``split.train`` (binary pairs) and evaluate it at ``k`` on ``split.test``, in Spark.

    As :func:`marketing.recommend.compare_models`: test customers without training history are
    cold-start, served the popularity list and evaluated once, separately; test pairs of items
    outside the catalogue stay in the recall denominator and are counted in ``details``.

    Parameters
    ----------
    split : SparkSplit
    k : int
    models : dict, optional
        Name -> unfitted :class:`Recommender`; must include ``"popularity"``. Default
        :func:`default_models`.
    items : pyspark.sql.DataFrame, optional
        The catalogue (``item_id``). Default: the items in the training events.
    random_state : int

    Examples
    --------
    >>> import pandas as pd
    >>> from marketing.spark.recommend import make_split
    >>> events = spark.createDataFrame(pd.DataFrame({
    ...     "customer_id": [1, 1, 2, 2, 2, 3, 3, 1, 3, 4],
    ...     "item_id": [10, 20, 10, 20, 30, 20, 30, 30, 10, 30],
    ...     "timestamp": pd.to_datetime(["2025-01-01", "2025-01-05", "2025-01-02", "2025-01-03", "2025-01-04",
    ...         "2025-01-04", "2025-01-06", "2025-02-15", "2025-02-20", "2025-02-10"])}))
    >>> held_out = make_split(events, "time", observation_end="2025-03-01", test_days=30)
    >>> result = compare_models(held_out, k=1, models={"popularity": PopularityRecommender()})
    >>> result.table[["precision", "recall", "n_customers"]]
                precision  recall  n_customers
    model
    popularity        1.0     1.0            2
    >>> result.cold_start["n_customers"], result.cold_start["hit_rate"]
    (1, 0.0)
    """
    from pyspark.sql import functions as F

    if not isinstance(split, SparkSplit):
        raise TypeError("split must be a SparkSplit: make one with marketing.spark.recommend.make_split.")
    if items is not None:
        require_frame(items, "items", [ITEM])
    if not split.details.get("test_pairs", 1):
        raise ValueError("The split has no test pairs: choose a longer test window or another split.")
    test = split.test.select(CUSTOMER, ITEM)
    train = build_interactions(split.train, weighting="binary").persist()
    models = default_models(random_state) if models is None else dict(models)
    if BASELINE not in models:
        raise ValueError(f"models must include the baseline {BASELINE!r}.")
    users = train.select(CUSTOMER).distinct().withColumn("_warm", F.lit(True))
    catalogue = (items if items is not None else train).select(ITEM).distinct().withColumn("_known", F.lit(True))
    flagged = test.join(users, on=CUSTOMER, how="left").join(catalogue, on=ITEM, how="left").persist()
    counts = flagged.agg(
        F.count_if(F.col("_known").isNull()).alias("unseen"),
        F.countDistinct(F.when(F.col("_warm").isNull(), F.col(CUSTOMER))).alias("cold"),
    ).first()
    warm = flagged.filter(F.col("_warm").isNotNull()).select(CUSTOMER, ITEM)
    cold = flagged.filter(F.col("_warm").isNull()).select(CUSTOMER, ITEM)

    rows, fitted = {}, {}
    for name, model in models.items():
        fitted[name] = model.fit(train, items)
        # persisted: the metrics read the lists twice (ranking metrics, coverage and novelty)
        recommended = model.recommend(warm.select(CUSTOMER), k).persist()
        rows[name] = evaluate_recommendations(recommended, warm, k, model.item_users_, model.n_users_, model.n_items_)
        recommended.unpersist()
    table = pd.DataFrame(rows).T.rename_axis("model")[list(TABLE_COLUMNS)]
    table["n_customers"] = table["n_customers"].astype(int)

    cold_start: dict = {"n_customers": int(counts["cold"])}
    if counts["cold"]:
        cold_lists = fitted[BASELINE].recommend(cold.select(CUSTOMER), k)
        cold_start.update(ranking_metrics(cold_lists, cold, k))
    flagged.unpersist()
    details = {"test_pairs_unseen_items": int(counts["unseen"]), **split.details}
    return SparkComparison(table, cold_start, fitted, train, k, details)


def campaign_list(model: Recommender, customers, items, k: int = 10):
    """The action: top ``k`` per customer with the item's name, ready for a campaign tool (a Spark DataFrame).

    Columns, as :func:`marketing.recommend.campaign_list`: customer_id, rank, item_id,
    item_name (the item's ``name``, or its id when the items table has no names), score (rounded
    to 4 decimals), cold_start. Customers without history get the popularity list. Write it with
    :func:`marketing.spark.segmentation.write_crm_export`.

    Examples
    --------
    >>> import pandas as pd
    >>> from marketing.spark.recommend import build_interactions
    >>> events = spark.createDataFrame(pd.DataFrame({"customer_id": [1, 2, 2], "item_id": [10, 10, 20]}))
    >>> items = spark.createDataFrame(pd.DataFrame({"item_id": [10, 20], "name": ["tea", "mug"]}))
    >>> model = PopularityRecommender().fit(build_interactions(events), items)
    >>> people = spark.createDataFrame(pd.DataFrame({"customer_id": [1, 3]}))
    >>> campaign_list(model, people, items, k=1).orderBy("customer_id").show()
    +-----------+----+-------+---------+-----+----------+
    |customer_id|rank|item_id|item_name|score|cold_start|
    +-----------+----+-------+---------+-----+----------+
    |          1|   1|     20|      mug|  1.0|     false|
    |          3|   1|     10|      tea|  2.0|      true|
    +-----------+----+-------+---------+-----+----------+
    <BLANKLINE>
    """
    from pyspark.sql import functions as F

    require_frame(items, "items", [ITEM])
    rec = model.recommend(customers, k)
    # an items table made from the event log alone (no items file) has no names: the id stands in
    name = F.col("name") if "name" in items.columns else F.col(ITEM)
    names = items.select(ITEM, name.cast("string").alias("item_name"))
    return rec.join(F.broadcast(names), on=ITEM, how="left").select(
        CUSTOMER, RANK, ITEM, "item_name", F.round(SCORE, 4).alias(SCORE), COLD_START
    )
