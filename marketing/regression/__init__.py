"""Regression for a case's continuous and binary targets: honest validation, interpretation, targeting.

The workflow the regression notebook follows, one module per step:

1. :mod:`~marketing.regression.problem`: the features, targets and excluded leakage columns;
2. :mod:`~marketing.regression.splits`: a time-based holdout (stratified folds without time);
3. :mod:`~marketing.regression.models`: the model suites, fitted and scored against a baseline;
4. :mod:`~marketing.regression.metrics`: metric definitions, bootstrap intervals, calibration;
5. :mod:`~marketing.regression.interpret`: coefficients with intervals, importances, partial
   dependence, residuals;
6. :mod:`~marketing.regression.targeting`: gains and lift, the expected-profit contact rule and
   the campaign list.
"""

from marketing.regression.interpret import (
    coefficient_table,
    coverage,
    design_matrix,
    partial_dependence_frame,
    permutation_importances,
    residual_frame,
)
from marketing.regression.metrics import (
    binary_metrics,
    bootstrap_metrics,
    calibration_table,
    continuous_metrics,
)
from marketing.regression.models import (
    MODEL_NAMES,
    SuiteResult,
    cross_validate_suite,
    fit_suite,
    model_suite,
    predict,
    preprocessor,
)
from marketing.regression.problem import RegressionProblem, check_features, check_target, regression_problem
from marketing.regression.splits import Split, holdout, stratified_folds, stratified_holdout, time_holdout
from marketing.regression.targeting import (
    assign_deciles,
    break_even_probability,
    campaign_list,
    export_campaign_list,
    gains_table,
    profit_curve,
)

__all__ = [
    "MODEL_NAMES",
    "RegressionProblem",
    "Split",
    "SuiteResult",
    "assign_deciles",
    "binary_metrics",
    "bootstrap_metrics",
    "break_even_probability",
    "calibration_table",
    "campaign_list",
    "check_features",
    "check_target",
    "coefficient_table",
    "continuous_metrics",
    "coverage",
    "cross_validate_suite",
    "design_matrix",
    "export_campaign_list",
    "fit_suite",
    "gains_table",
    "holdout",
    "model_suite",
    "partial_dependence_frame",
    "permutation_importances",
    "predict",
    "preprocessor",
    "profit_curve",
    "regression_problem",
    "residual_frame",
    "stratified_folds",
    "stratified_holdout",
    "time_holdout",
]
