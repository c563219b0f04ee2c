"""Customer segmentation: preprocessing, RFM scores, clustering, choosing k, profiles and actions.

The pieces, in the order a notebook uses them:

- :class:`SegmentPreprocessor` log-transforms skewed money and count features and scales
  everything to unit variance.
- :func:`rfm_scores` and :func:`rfm_segments` are the classic rule-based baseline;
  :func:`baseline_segments` picks it, or thirds of a feature for a table without an event log.
- :class:`Segmenter` chooses the number of segments (:func:`select_k`) and clusters with
  k-means (above 100,000 customers, started from its best run on a sample), a Gaussian
  mixture, Ward agglomerative clustering fitted on a sample, or HDBSCAN (whose noise points
  keep the label ``-1``).
- :func:`segment_profiles`, :func:`name_segments` and :func:`segment_actions` turn clusters
  into something a marketer can act on; :func:`audience_table` is the export.
- :func:`stability` and :func:`truth_agreement` say how far to trust the result.
- :func:`segment_summary`, :func:`published_names` and :func:`segment_sizes` are what a report
  may show: segments smaller than the minimum group size suppressed; :func:`segment_warnings`
  says when there are too many segments, or small ones, for the data.

Every function takes a customer table with one row per customer, such as
:func:`marketing.features.customer_table` returns: in memory (index ``customer_id``) or a Spark
DataFrame (a ``customer_id`` column), and dispatches on it (:func:`marketing.engines.engine_of`);
on Spark the clustering is Spark ML k-means and the aggregates run in Spark.

Modules: :mod:`~marketing.segmentation.preprocess`, :mod:`~marketing.segmentation.rfm`,
:mod:`~marketing.segmentation.clustering`, :mod:`~marketing.segmentation.evaluation`,
:mod:`~marketing.segmentation.profiles`, :mod:`~marketing.segmentation.small_groups`,
:mod:`~marketing.segmentation.report`.
"""


from marketing.segmentation.preprocess import (
    LOG_FEATURES,
    SegmentPreprocessor,
    check_table,
)
from marketing.segmentation.rfm import (
    RFM_DEFAULT,
    RFM_RULES,
    baseline_segments,
    quantile_scores,
    rfm_crosstab,
    rfm_scores,
    rfm_segments,
    segment_counts,
)
from marketing.segmentation.clustering import (
    METHODS,
    Segmenter,
    check_segment_count,
    check_segment_count_fits,
    cluster_quality,
    select_k,
)
from marketing.segmentation.evaluation import (
    baseline_comparison,
    stability,
    truth_agreement,
)
from marketing.segmentation.profiles import (
    DESCRIPTORS,
    action_rules_for,
    audience_table,
    match_playbook,
    name_segments,
    segment_actions,
    segment_profiles,
)
from marketing.segmentation.report import (
    PLOT_SAMPLE,
    describe_features,
    logged_features,
    plot_sample,
    scatter_points,
    segmentation_record,
    show_segment_value,
)
from marketing.segmentation.small_groups import (
    published_names,
    segment_sizes,
    segment_summary,
    segment_warnings,
)

__all__ = [
    "DESCRIPTORS",
    "LOG_FEATURES",
    "METHODS",
    "PLOT_SAMPLE",
    "RFM_DEFAULT",
    "RFM_RULES",
    "SegmentPreprocessor",
    "Segmenter",
    "action_rules_for",
    "audience_table",
    "baseline_comparison",
    "baseline_segments",
    "check_segment_count",
    "check_segment_count_fits",
    "check_table",
    "cluster_quality",
    "describe_features",
    "logged_features",
    "match_playbook",
    "name_segments",
    "plot_sample",
    "published_names",
    "quantile_scores",
    "rfm_crosstab",
    "rfm_scores",
    "rfm_segments",
    "scatter_points",
    "segment_actions",
    "segment_counts",
    "segment_profiles",
    "segment_sizes",
    "segment_summary",
    "segment_warnings",
    "segmentation_record",
    "show_segment_value",
    "select_k",
    "stability",
    "truth_agreement",
]
