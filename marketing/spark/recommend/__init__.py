"""Recommenders on Spark: the popularity baseline and Spark ML's ALS for implicit feedback.

Only what is Spark-specific lives here: fitting and every customer's top k. The interactions,
splits, metrics, comparison and campaign list are the engine-neutral functions of
:mod:`marketing.recommend`, which dispatch here for Spark frames.
"""

from marketing.recommend.interactions import build_interactions
from marketing.spark.recommend.models import ALS, PopularityRecommender, Recommender, spark_models

__all__ = ["ALS", "PopularityRecommender", "Recommender", "build_interactions", "spark_models"]
