"""Regression for a case's continuous and binary targets: honest validation, interpretation, targeting.

The workflow the regression notebook follows, one module per step:

1. :mod:`~marketing.regression.problem`: the features, targets and excluded leakage columns;
2. :mod:`~marketing.regression.splits`: a time-based holdout (stratified folds without time);
3. :mod:`~marketing.regression.models`: the model suites, fitted and scored against a baseline;
4. :mod:`~marketing.regression.metrics`: metric definitions, bootstrap intervals, calibration;
5. :mod:`~marketing.regression.diagnostics`: warnings where the data look suspicious (leakage, and
   the missing-value codes, impossible zeros and dominant values of :mod:`marketing.data_quality`);
6. :mod:`~marketing.regression.interpret`: coefficients with intervals, importances, partial
   dependence, residuals;
7. :mod:`~marketing.regression.targeting`: gains and lift, the expected-profit contact rule and
   the campaign list;
8. :mod:`~marketing.regression.btyd`: the buy-till-you-die models (BG/NBD, Gamma-Gamma) beside the
   suite, on the same held-out customers and metrics;
9. :mod:`~marketing.regression.report`: the notebook's sections, one call each.

One API for every engine. The steps dispatch on their input's kind
(:func:`marketing.engines.engine_of`): pandas (and DuckDB's per-customer tables) run in memory with
scikit-learn and statsmodels; Spark data runs Spark ML (:mod:`marketing.spark.regression` holds the
Spark fitting). The checks of the problem, the holdouts of a Spark table and the relational steps
(metrics, gains, calibration, the profit curve, the campaign list, target and feature summaries) are
one narwhals implementation (:mod:`~marketing.regression.problem`, :mod:`~marketing.regression.splits`,
:mod:`~marketing.regression.frames`, with the shims of :mod:`marketing.frames`) for both. What Spark lacks is declared in
:mod:`marketing.capabilities`.
"""

from marketing.regression.btyd import BTYDResult, btyd_beside_suite, btyd_targets, by_frequency, p_no_purchase
from marketing.regression.diagnostics import leakage_warnings, regression_warnings, single_feature_scores
from marketing.regression.interpret import (
    coefficient_table,
    coverage,
    design_matrix,
    effect_sentences,
    partial_dependence_frame,
    permutation_importances,
    residual_frame,
)
from marketing.regression.metrics import (
    binary_metrics,
    bootstrap_metrics,
    calibration_table,
    continuous_metrics,
    metric_table,
)
from marketing.regression.models import (
    MODEL_NAMES,
    SuiteResult,
    cross_validate_suite,
    fit_models,
    fit_suite,
    model_suite,
    predict,
    preprocessor,
)
from marketing.regression.problem import (
    RegressionProblem,
    check_feature_table,
    check_features,
    check_target,
    check_targets,
    feature_overview,
    regression_problem,
    target_summary,
)
from marketing.regression.splits import Split, holdout, holdouts, stratified_folds, stratified_holdout, time_holdout
from marketing.regression.targeting import (
    break_even_probability,
    campaign_list,
    contact_totals,
    export_campaign_list,
    gains_table,
    profit_curve,
)

__all__ = [
    "BTYDResult",
    "MODEL_NAMES",
    "RegressionProblem",
    "Split",
    "SuiteResult",
    "binary_metrics",
    "bootstrap_metrics",
    "break_even_probability",
    "btyd_beside_suite",
    "btyd_targets",
    "by_frequency",
    "calibration_table",
    "campaign_list",
    "check_feature_table",
    "check_features",
    "check_target",
    "check_targets",
    "coefficient_table",
    "contact_totals",
    "continuous_metrics",
    "coverage",
    "cross_validate_suite",
    "design_matrix",
    "effect_sentences",
    "export_campaign_list",
    "feature_overview",
    "fit_models",
    "fit_suite",
    "gains_table",
    "holdout",
    "holdouts",
    "leakage_warnings",
    "metric_table",
    "model_suite",
    "p_no_purchase",
    "partial_dependence_frame",
    "permutation_importances",
    "predict",
    "preprocessor",
    "profit_curve",
    "regression_problem",
    "regression_warnings",
    "residual_frame",
    "single_feature_scores",
    "stratified_folds",
    "stratified_holdout",
    "target_summary",
    "time_holdout",
]
