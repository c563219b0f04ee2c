"""Collaborative filtering on Spark (engine="spark"): the same splits, baseline, metrics and campaign
as :mod:`marketing.recommend`, with Spark ML's ALS for implicit feedback.

Everything per customer or per pair stays a Spark DataFrame; what comes back to pandas is small:
the comparison table, split counts, item popularity (one row per item) and a few example rows.
The tables use the canonical column names (``customer_id``, ``item_id``, ``timestamp``,
``rating``), which :class:`~marketing.spark.data.SparkCaseData` guarantees.

Only popularity and ALS run on Spark; user / item kNN, EASE, the rating models and the
hyper-parameter sweep run with engine="pandas".
"""

from marketing.spark.recommend.evaluation import SparkComparison, campaign_list, compare_models, default_models
from marketing.spark.recommend.interactions import build_interactions, interaction_summary, item_popularity
from marketing.spark.recommend.metrics import (
    catalogue_coverage,
    evaluate_recommendations,
    novelty,
    ranking_metrics,
    ranking_metrics_per_user,
)
from marketing.spark.recommend.models import ALS, PopularityRecommender, Recommender
from marketing.spark.recommend.split import SparkSplit, leave_last_n_out, make_split, random_split, split_by_time

__all__ = [
    "ALS", "PopularityRecommender", "Recommender", "SparkComparison", "SparkSplit", "build_interactions",
    "campaign_list", "catalogue_coverage", "compare_models", "default_models", "evaluate_recommendations",
    "interaction_summary", "item_popularity", "leave_last_n_out", "make_split", "novelty", "random_split",
    "ranking_metrics", "ranking_metrics_per_user", "split_by_time",
]
