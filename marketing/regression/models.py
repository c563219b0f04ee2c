"""Model suites for a continuous and a binary target, all scikit-learn pipelines.

Each suite holds, in order of complexity:

=====================  ===============================  ===================================
name                   continuous target                binary target
=====================  ===============================  ===================================
``baseline``           the training mean                the training positive rate
``linear`` /           ordinary least squares           unpenalized logistic regression
``logistic``
``ridge`` /            ridge, strength by leave-one-out  L2 logistic, strength by stratified
``logistic_l2``        cross-validation (``RidgeCV``)    5-fold CV on log loss
``tree``               depth-3 decision tree (a diagram to teach from, not to win)
``gradient_boosting``  histogram gradient boosting (the flexible tree ensemble)
``random_forest``      a random forest of 100 trees (leaves of at least 20 customers, half the
                       features per split), seeded, on one core so its numbers are bit-stable
``neural_network``     a small neural network (scikit-learn's MLP, one hidden layer of 16, L2
                       penalty); standardized inputs; for amounts a standardized target and early
                       stopping on a tenth of the training rows (for the binary target scikit-learn
                       would stop on accuracy, which ignores probabilities: it stops when the
                       training loss does)
``svm``                (binary only)                    a linear SVM whose scores become
                                                        probabilities by sigmoid calibration
                                                        over 5 seeded stratified folds
=====================  ===============================  ===================================

Every pipeline starts with the same :func:`preprocessor`: median imputation and (for the
linear models, the neural network and the SVM) standardization of numeric columns;
most-frequent imputation and one-hot encoding of categorical columns against their first
level, the reference level.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.compose import ColumnTransformer
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import TransformedTargetRegressor
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression, LogisticRegressionCV, RidgeCV
from sklearn.model_selection import StratifiedKFold
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.svm import LinearSVC
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
from threadpoolctl import threadpool_limits

from marketing.columns import CUSTOMER
from marketing.regression.metrics import GREATER_IS_BETTER, bootstrap_metrics, metric_function, metric_table
from marketing.regression.problem import check_features, check_target
from marketing.regression.splits import Split, stratified_folds, stratified_holdout

#: The metric that picks the best model: RMSE for amounts; log loss for probabilities, because
#: the contact rule uses the probabilities themselves, so they must rank *and* be calibrated.
PRIMARY_METRIC = {"continuous": "rmse", "binary": "log_loss"}
MODEL_NAMES = {
    "continuous": ("baseline", "linear", "ridge", "tree", "gradient_boosting", "random_forest", "neural_network"),
    "binary": (
        "baseline", "logistic", "logistic_l2", "tree", "gradient_boosting", "random_forest", "neural_network", "svm",
    ),
}


def categorical_columns(X: pd.DataFrame) -> list[str]:
    """Columns treated as categorical: pandas categoricals (after :func:`check_features`)."""
    return [c for c in X.columns if isinstance(X[c].dtype, pd.CategoricalDtype)]


def preprocessor(X: pd.DataFrame, scale: bool = True) -> ColumnTransformer:
    """Imputation, one-hot encoding against the first level, and optional scaling, for ``X``.

    Output feature names are the numeric column names and ``column_level`` for each
    non-reference level, the names :meth:`marketing.datasets.Truth.coefficients` uses.

    Examples
    --------
    >>> X = pd.DataFrame({"age": [30.0, None, 50.0],
    ...                   "region": pd.Categorical(["n", "s", "e"], categories=["n", "s", "e"])})
    >>> pre = preprocessor(X, scale=False).fit(X)
    >>> pre.get_feature_names_out().tolist()
    ['age', 'region_s', 'region_e']
    >>> pre.transform(X)[1].tolist()      # the missing age becomes the median
    [40.0, 1.0, 0.0]
    """
    categorical = categorical_columns(X)
    numeric = [c for c in X.columns if c not in categorical]
    numeric_steps = [SimpleImputer(strategy="median")] + ([StandardScaler()] if scale else [])
    levels = [list(X[c].cat.categories) for c in categorical]
    encoder = OneHotEncoder(
        categories=levels, drop="first", handle_unknown="ignore", sparse_output=False
    )
    transformers = []
    if numeric:
        transformers.append(("numeric", make_pipeline(*numeric_steps), numeric))
    if categorical:
        transformers.append(
            ("categorical", make_pipeline(SimpleImputer(strategy="most_frequent"), encoder), categorical)
        )
    return ColumnTransformer(transformers, verbose_feature_names_out=False)


#: The random forest's and the neural network's settings, shared by both targets: modest, so a
#: report stays fast (five cross-validation fits and one final fit per target). One core for the
#: forest: with n_jobs=-1 its predictions were not bit-identical to n_jobs=1 (ecommerce, seed 42) and
#: its fits were slower on a customer table (0.31 s against 0.25 s).
FOREST = {"n_estimators": 100, "min_samples_leaf": 20, "max_features": 0.5, "n_jobs": 1}
NETWORK = {"hidden_layer_sizes": (16,), "alpha": 1.0, "early_stopping": True, "validation_fraction": 0.1,
           "n_iter_no_change": 10, "learning_rate_init": 0.01, "max_iter": 1000}


def _estimators(kind: str, random_state: int | None) -> dict[str, tuple[BaseEstimator, bool]]:
    """name -> (estimator, whether it needs scaled inputs)."""
    grid = np.logspace(-3, 3, 13)
    if kind == "continuous":
        return {
            "baseline": (DummyRegressor(strategy="mean"), False),
            "linear": (LinearRegression(), True),
            "ridge": (RidgeCV(alphas=grid), True),
            "tree": (DecisionTreeRegressor(max_depth=3, min_samples_leaf=20, random_state=random_state), False),
            "gradient_boosting": (
                HistGradientBoostingRegressor(
                    learning_rate=0.05, max_iter=150, max_leaf_nodes=8, min_samples_leaf=30,
                    early_stopping=False, random_state=random_state,
                ),
                False,
            ),
            "random_forest": (RandomForestRegressor(**FOREST, random_state=random_state), False),
            # amounts in the hundreds are hopeless for a network's small initial weights: standardize them too
            "neural_network": (
                TransformedTargetRegressor(MLPRegressor(**NETWORK, random_state=random_state), transformer=StandardScaler()),
                True,
            ),
        }
    if kind == "binary":
        cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=random_state)
        return {
            "baseline": (DummyClassifier(strategy="prior"), False),
            "logistic": (LogisticRegression(C=np.inf, max_iter=1000), True),
            "logistic_l2": (
                LogisticRegressionCV(
                    Cs=grid, l1_ratios=(0.0,), cv=cv, scoring="neg_log_loss", max_iter=1000,
                    use_legacy_attributes=False,
                ),
                True,
            ),
            "tree": (DecisionTreeClassifier(max_depth=3, min_samples_leaf=20, random_state=random_state), False),
            "gradient_boosting": (
                HistGradientBoostingClassifier(
                    learning_rate=0.05, max_iter=150, max_leaf_nodes=8, min_samples_leaf=30,
                    early_stopping=False, random_state=random_state,
                ),
                False,
            ),
            "random_forest": (RandomForestClassifier(**FOREST, random_state=random_state), False),
            # no early stopping here: scikit-learn's classifier monitors validation *accuracy*, which stays at
            # the majority class on an imbalanced target, so it kept near-initial weights (health, seed 42:
            # held-out log loss 0.523 against the baseline's 0.513); it stops when the penalised training loss
            # stops improving instead, the L2 penalty ``alpha`` doing the regularising
            "neural_network": (MLPClassifier(**{**NETWORK, "early_stopping": False}, random_state=random_state), True),
            # a linear SVM gives scores, not probabilities: sigmoid calibration on held-out folds makes them so
            "svm": (
                CalibratedClassifierCV(LinearSVC(C=1.0, random_state=random_state), method="sigmoid", cv=cv),
                True,
            ),
        }
    raise ValueError(f"kind must be 'continuous' or 'binary', not {kind!r}.")


def model_suite(
    kind: str,
    X: pd.DataFrame,
    random_state: int | None = 0,
    names: Sequence[str] | None = None,
) -> dict[str, Pipeline]:
    """Unfitted pipelines (preprocessor + model) for ``kind``, keyed by the names above.

    ``names`` selects a subset (all models by default); ``baseline`` is always included,
    because no model is reported without it.

    Examples
    --------
    >>> X = pd.DataFrame({"age": [30.0, 40.0]})
    >>> list(model_suite("binary", X))
    ['baseline', 'logistic', 'logistic_l2', 'tree', 'gradient_boosting', 'random_forest', 'neural_network', 'svm']
    >>> list(model_suite("continuous", X, names=["linear"]))
    ['baseline', 'linear']
    """
    estimators = _estimators(kind, random_state)
    if names is not None:
        unknown = [n for n in names if n not in estimators]
        if unknown:
            raise ValueError(f"unknown {kind} model(s) {unknown}; choose from {list(estimators)}.")
        estimators = {n: e for n, e in estimators.items() if n == "baseline" or n in names}
    return {
        name: Pipeline([("prepare", preprocessor(X, scale=scale)), ("model", estimator)])
        for name, (estimator, scale) in estimators.items()
    }


def predict(model: Pipeline, X: pd.DataFrame, kind: str) -> np.ndarray:
    """Predictions of a fitted pipeline: values (continuous) or positive-class probabilities."""
    if kind == "binary":
        return model.predict_proba(X)[:, 1]
    return model.predict(X)


#: Share of the training customers held out for validation when ``cv=0``.
VALIDATION_SIZE = 0.2


@dataclass(frozen=True)
class Selection:
    """How a suite's model was chosen: on the training customers only, never on the test part.

    Attributes
    ----------
    method : str
        In words, e.g. ``"5-fold cross-validation on the 1,600 training customers"``.
    scores : DataFrame
        One row per model: the mean of each metric over the folds, and ``<metric>_sd`` its
        standard deviation over the folds (NaN with a single validation split).
    primary_metric : str
    chosen : str
        The model with the best mean primary metric (the simpler model, listed first, wins ties).
    """

    method: str
    scores: pd.DataFrame
    primary_metric: str
    chosen: str


def select_model(
    kind: str,
    X: pd.DataFrame,
    y: pd.Series,
    cv: int = 5,
    *,
    random_state: int | None = 0,
    names: Sequence[str] | None = None,
) -> Selection:
    """Choose the suite's model on training data: ``cv``-fold stratified cross-validation, or
    with ``cv=0`` one stratified validation split of :data:`VALIDATION_SIZE` of the customers.

    Parameters
    ----------
    kind : {"continuous", "binary"}
    X, y : DataFrame, Series
        The training part only.
    cv : int
        Folds (at least 2), or 0 for a single validation split.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"x": rng.normal(size=200)})
    >>> y = pd.Series(2 * X["x"] + rng.normal(size=200), name="y")
    >>> selection = select_model("continuous", X, y, cv=3, names=["linear"])
    >>> selection.chosen, selection.method, list(selection.scores.index)
    ('linear', '3-fold cross-validation on the 200 training customers', ['baseline', 'linear'])
    """
    if isinstance(cv, bool) or not isinstance(cv, (int, np.integer)) or cv == 1 or cv < 0:
        raise ValueError(f"cv={cv!r}: give the number of folds (2 or more), or 0 for one validation split.")
    if cv:
        folds = stratified_folds(y, int(cv), random_state)
        method = f"{cv}-fold cross-validation on the {len(y):,} training customers"
    else:
        split = stratified_holdout(y, VALIDATION_SIZE, random_state)
        folds = [(split.train, split.test)]
        method = f"a validation split of {len(split.test):,} of the {len(y):,} training customers"
    scores = _fold_scores(kind, X, y, folds, random_state, names)
    primary = PRIMARY_METRIC[kind]
    grouped = scores.drop(columns="fold").groupby("model", sort=False)
    means = grouped.mean()
    # the spread over the folds; a single validation split has none
    spread = grouped.std() if cv else means * np.nan
    table = means.join(spread.add_suffix("_sd"))
    return Selection(method, table, primary, best_model(table, primary))


def _fold_scores(kind, X, y, folds, random_state, names) -> pd.DataFrame:
    """One row per (model, fold): the metrics of the suite fitted on each fold's training rows."""
    fn = metric_function(kind)
    rows = []
    with threadpool_limits(limits=1):   # see fit_models
        for fold, (train, test) in enumerate(folds):
            for name, model in model_suite(kind, X, random_state, names).items():
                model.fit(X.iloc[train], y.iloc[train])
                rows.append({"model": name, "fold": fold, **fn(y.iloc[test], predict(model, X.iloc[test], kind))})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class SuiteResult:
    """A fitted suite and its held-out evaluation (the in-memory engine).

    The Spark engine's :class:`marketing.spark.regression.SparkSuiteResult` has the same
    attributes and methods.

    Attributes
    ----------
    kind : str
    label : str
        The target column.
    models : dict of str to Pipeline
        Fitted on the training part.
    predictions : DataFrame
        Test part: ``customer_id``, the target and one column per model.
    metrics : DataFrame
        Held-out metrics, one row per model, one column per metric.
    intervals : DataFrame
        Long table: model, metric, value, low, high (bootstrap over test customers).
    primary_metric : str
    X_train, y_train : DataFrame, Series
        The training part (for the coefficient table).
    selection : Selection
        How the model was chosen, on the training part (:func:`select_model`).
    """

    kind: str
    label: str
    models: dict[str, Pipeline]
    predictions: pd.DataFrame
    metrics: pd.DataFrame
    intervals: pd.DataFrame | None
    primary_metric: str
    X_train: pd.DataFrame
    y_train: pd.Series
    selection: Selection

    @property
    def best(self) -> str:
        """The chosen model: the best primary metric on the training part (:attr:`selection`), never on the test part."""
        return self.selection.chosen

    def coefficient_table(self, *, level: float = 0.95, scale: str = "raw") -> pd.DataFrame:
        """Unpenalized OLS / Logit coefficients on the training part (:func:`~marketing.regression.coefficient_table`)."""
        from marketing.regression.interpret import coefficient_table

        return coefficient_table(self.X_train, self.y_train, self.kind, level=level, scale=scale)

    def predict(self, frame: pd.DataFrame, model: str | None = None, output_col: str = "score") -> pd.DataFrame:
        """``frame`` (such as ``problem.table``) with the predictions of ``model`` (default :attr:`best`) in ``output_col``.

        Values for the continuous target, positive-class probabilities for the binary one.
        """
        model = model or self.best
        if model not in self.models:
            raise ValueError(f"unknown model {model!r}; choose from {list(self.models)}.")
        features = check_features(frame[list(self.X_train.columns)])
        return frame.assign(**{output_col: predict(self.models[model], features, self.kind)})


def best_model(metrics: pd.DataFrame, primary_metric: str) -> str:
    """The row of ``metrics`` with the best ``primary_metric``; the first listed wins ties (shared by both engines)."""
    column = metrics[primary_metric]
    return str(column.idxmax() if GREATER_IS_BETTER[primary_metric] else column.idxmin())


def fit_suite(
    kind: str,
    problem,
    split,
    *,
    random_state: int | None = 0,
    n_boot: int = 200,
    names: Sequence[str] | None = None,
    cv: int = 5,
):
    """Fit the model suite of ``kind`` on the training part, choose its model on the training part, and
    evaluate every model on the test part, on the problem's engine.

    In memory: the five models of the module docstring (:func:`fit_models`), with bootstrap
    intervals. On Spark: the baseline and the unpenalized GLM
    (:func:`marketing.spark.regression.fit_suite`), ``intervals`` None; the models an engine
    lacks are listed in :mod:`marketing.capabilities`. ``random_state`` seeds the trees, the
    cross-validation folds and the bootstrap (nothing on Spark is random).

    Parameters
    ----------
    kind : {"continuous", "binary"}
    problem : RegressionProblem or SparkRegressionProblem
        From :func:`~marketing.regression.regression_problem`.
    split : Split, FrameSplit, or the dict of :func:`~marketing.regression.holdouts`
        The dict picks ``kind``'s split, and gives a :class:`~marketing.regression.problem.NotDefined`
        when the case has no such target.
    random_state : int, optional
    n_boot : int
        Bootstrap resamples for the metric intervals.
    names : sequence of str, optional
        A subset of the suite (see :func:`model_suite`).
    cv : int
        Folds of the cross-validation that chooses the model inside the training part (0: one
        validation split there; :func:`select_model`). Spark always uses one validation split.

    Examples
    --------
    >>> from marketing.datasets import load_case_data
    >>> from marketing.regression import holdouts, regression_problem
    >>> problem = regression_problem(load_case_data("finance"))
    >>> result = fit_suite("continuous", problem, holdouts(problem)["continuous"], n_boot=10, names=["linear"])
    >>> result.best, list(result.predictions.columns)
    ('linear', ['customer_id', 'card_spend_next_year', 'baseline', 'linear'])
    """
    from marketing.engines import engine_of
    from marketing.regression.problem import NotDefined

    if kind not in PRIMARY_METRIC:
        raise ValueError(f"kind must be 'continuous' or 'binary', not {kind!r}.")
    if isinstance(split, dict):
        if kind not in split:
            return NotDefined(kind, f"the case defines no {kind} target (add targets.{kind} to its case file to model one)")
        split = split[kind]
    if engine_of(problem) == "spark":
        from marketing.spark import regression as spark_regression

        return spark_regression.fit_suite(kind, problem, split, random_state=random_state, n_boot=n_boot, names=names)
    return fit_models(kind, problem.features, problem.targets[kind], split, random_state=random_state, n_boot=n_boot,
                      names=names, cv=cv)


def fit_models(
    kind: str,
    X: pd.DataFrame,
    y: pd.Series,
    split: Split,
    *,
    random_state: int | None = 0,
    n_boot: int = 200,
    names: Sequence[str] | None = None,
    cv: int = 5,
) -> SuiteResult:
    """Fit every model of the suite on ``split.train`` of ``X`` and ``y`` and evaluate it on ``split.test``.

    The baseline is fitted and scored with exactly the same code as the other models. The model
    the report uses (:attr:`SuiteResult.best`) is chosen by :func:`select_model` on the training
    part: the test part only measures it.

    Parameters
    ----------
    kind : {"continuous", "binary"}
    X : DataFrame
        Features indexed by customer id (validated with :func:`~marketing.regression.problem.check_features`).
    y : Series
        Target aligned with ``X`` (validated with :func:`~marketing.regression.problem.check_target`).
    split : Split
        From :mod:`marketing.regression.splits`.
    random_state : int, optional
        Seeds the tree models, the cross-validation folds and the bootstrap.
    n_boot : int
        Bootstrap resamples for the metric intervals.
    names : sequence of str, optional
        A subset of the suite (see :func:`model_suite`).
    cv : int
        Folds of the model choice (:func:`select_model`; 0: one validation split).

    Examples
    --------
    >>> from marketing.regression.splits import stratified_holdout
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"x": rng.normal(size=200)})
    >>> y = pd.Series(3 * X["x"] + rng.normal(size=200), name="y")
    >>> result = fit_models("continuous", X, y, stratified_holdout(y), n_boot=20, names=["linear"])
    >>> result.best, bool(result.metrics.loc["baseline", "r2"] < 0.05)
    ('linear', True)
    """
    X = check_features(X)
    y = check_target(y, kind)
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)}; they must be aligned.")
    X_train, X_test = X.iloc[split.train], X.iloc[split.test]
    y_train = check_target(y.iloc[split.train], kind, f"{y.name} (training part)")
    y_test = check_target(y.iloc[split.test], kind, f"{y.name} (test part)")
    selection = select_model(kind, X_train, y_train, cv, random_state=random_state, names=names)
    models = model_suite(kind, X, random_state, names)
    predictions = {}
    # one thread (OpenMP and BLAS): on customer tables thread start-up costs more than it saves,
    # and on a busy machine (parallel test workers) thread pools slow down by an order of magnitude
    with threadpool_limits(limits=1):
        for name, model in models.items():
            model.fit(X_train, y_train)
            predictions[name] = predict(model, X_test, kind)
    label = str(y.name)
    predictions = pd.DataFrame({CUSTOMER: X_test.index.to_numpy(), label: y_test.to_numpy(), **predictions})
    metrics = metric_table(kind, predictions, label, list(models))
    intervals = pd.concat(
        {
            name: bootstrap_metrics(y_test, predictions[name], kind, n_boot=n_boot, random_state=random_state)
            for name in models
        },
        names=["model"],
    ).reset_index()
    return SuiteResult(kind, label, models, predictions, metrics, intervals, PRIMARY_METRIC[kind], X_train, y_train,
                       selection)


def cross_validate_suite(
    kind: str,
    X: pd.DataFrame,
    y: pd.Series,
    *,
    n_splits: int = 5,
    random_state: int | None = 0,
    names: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Stratified k-fold metrics of every model, for data without time (fold spread).

    Returns
    -------
    DataFrame with one row per (model, fold) and one column per metric; summarise with
    ``.groupby("model").agg(["mean", "std"])``.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> X = pd.DataFrame({"x": rng.normal(size=300)})
    >>> y = pd.Series((X["x"] + rng.logistic(size=300) > 0).astype(int), name="y")
    >>> folds = cross_validate_suite("binary", X, y, n_splits=3, names=["logistic"])
    >>> means = folds.groupby("model")["roc_auc"].mean()
    >>> bool(means["logistic"] > means["baseline"])
    True
    """
    X = check_features(X)
    y = check_target(y, kind)
    return _fold_scores(kind, X, y, stratified_folds(y, n_splits, random_state), random_state, names)
