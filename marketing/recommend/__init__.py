"""Collaborative filtering: the interaction matrix, recommenders, splits and ranking metrics.

One public function per step for every engine: each dispatches on its input's kind
(:func:`marketing.engines.engine_of`): pandas and DuckDB use the in-memory scipy.sparse / implicit
models, Spark uses Spark ML's ALS (:mod:`marketing.spark.recommend`). The relational steps are
written once (:mod:`marketing.recommend.relational`).

All recommenders share one interface (:class:`Recommender`): ``fit(interactions)``,
``recommend(customer_ids, k)`` (top k, excluding owned items; popularity for customers without
history) and ``score(customer_ids, item_ids)``.
"""

from marketing.recommend.content import (
    CategoryPopularity, ContentRecommender, GroupPopularity, HybridRecommender,
)
from marketing.recommend.evaluation import (
    BASELINE,
    DEFAULT_GRID,
    MAIN_PARAMETER,
    Comparison,
    campaign_list,
    compare_models,
    compare_ratings,
    default_models,
    evaluate_model,
    explain_recommendations,
    explained_examples,
    head,
    make_model,
    recommendation_record,
    show_campaign,
    sweep,
)
from marketing.recommend.cold_start import (
    ColdStart, cold_start_gain, cold_start_table, compare_cold_start, reasons, show_cold_start,
)
from marketing.recommend.interactions import (
    WEIGHTINGS,
    Interactions,
    build_interactions,
    interaction_summary,
    item_popularity,
)
from marketing.recommend.metrics import (
    RANKING_METRICS,
    catalogue_coverage,
    hit_rate_at_k,
    map_at_k,
    mae,
    mrr_at_k,
    ndcg_at_k,
    novelty,
    precision_at_k,
    ranking_metrics,
    recall_at_k,
    rmse,
)
from marketing.recommend.models import ALS, EASE, ItemKNN, PopularityRecommender, Recommender, UserKNN
from marketing.recommend.ratings import BiasBaseline, GlobalMean, evaluate_ratings
from marketing.recommend.split import (
    SPLITS, Split, leave_last_n_out, make_split, random_split, split_by_time, validation_split,
)

__all__ = [
    "CategoryPopularity", "ContentRecommender", "GroupPopularity", "HybridRecommender",
    "ColdStart", "cold_start_gain", "cold_start_table", "compare_cold_start", "reasons", "show_cold_start",
    "ALS", "BASELINE", "DEFAULT_GRID", "EASE", "MAIN_PARAMETER", "RANKING_METRICS", "SPLITS", "WEIGHTINGS",
    "BiasBaseline", "Comparison", "GlobalMean", "Interactions", "ItemKNN", "PopularityRecommender",
    "Recommender", "Split", "UserKNN", "build_interactions", "campaign_list", "catalogue_coverage",
    "compare_models", "compare_ratings", "default_models", "evaluate_model", "evaluate_ratings",
    "explain_recommendations", "explained_examples", "head", "interaction_summary", "item_popularity",
    "recommendation_record", "show_campaign", "validation_split",
    "hit_rate_at_k", "leave_last_n_out", "make_model", "make_split", "mae", "map_at_k", "mrr_at_k",
    "ndcg_at_k", "novelty", "precision_at_k", "random_split", "ranking_metrics", "recall_at_k", "rmse",
    "split_by_time", "sweep",
]
