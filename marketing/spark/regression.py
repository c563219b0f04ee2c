"""Regression on the Spark engine: what is Spark-specific, behind the API of :mod:`marketing.regression`.

The public steps (``regression_problem``, ``holdouts``, ``fit_suite`` and the relational tables)
live in :mod:`marketing.regression` and dispatch here for Spark data; the checks, the splits and
the tables are written once there, in narwhals. What stays here:

1. :func:`problem_of`: the problem table in Spark (the case's features and targets, checked once
   for every engine by :func:`marketing.regression.regression_problem`);
2. :class:`DesignEncoder`: median / most-frequent imputation and one-hot encoding against the
   reference level (``levels[column][0]``), the terms :func:`marketing.regression.coefficient_table`
   names (``region_east``);
3. :func:`fit_suite`: the baseline (training mean / positive rate) and an unpenalized GLM, Spark ML's
   ``GeneralizedLinearRegression`` (gaussian-identity: OLS; binomial-logit: logistic regression);
   its standard errors give :meth:`SparkSuiteResult.coefficient_table`. The held-out metrics are
   :func:`marketing.regression.metric_table`, the one implementation for both engines. The model
   is chosen on one validation split inside the training customers (a seeded hash of the id),
   not by k-fold cross-validation: each fold would be another Spark job per model.

Scaling. The models are unpenalized, so standardizing the inputs changes no prediction; they are
fitted on the unscaled design, which gives the standard errors on the raw scale directly (the
scale of the planted truth). The standardized coefficient table multiplies a numeric term by the
*sample* standard deviation of its training column, exactly as the pandas ``coefficient_table``
does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from marketing.cases import CaseStudy
from marketing.columns import CUSTOMER, SIGNUP
from marketing.capabilities import FLEXIBLE_MODELS, unavailable
from marketing.frames import as_frame, random_uniform
from marketing.regression.metrics import metric_table
from marketing.regression.models import PRIMARY_METRIC, VALIDATION_SIZE, Selection, best_model
from marketing.regression.problem import KINDS, defined_kinds
from marketing.regression.splits import FrameSplit
from marketing.validation import DataValidationError

#: The models of the Spark suite: the baseline and the unpenalized GLM of each target.
MODEL_NAMES = {"continuous": ("baseline", "linear"), "binary": ("baseline", "logistic")}
#: Convergence of the logistic GLM (iteratively reweighted least squares): tighter than Spark's
#: default (1e-6) so that the coefficients agree with statsmodels' Newton fit to ~1e-10.
GLM_TOL = 1e-10
GLM_MAX_ITER = 100


def _F():
    from pyspark.sql import functions as F

    return F


# --------------------------------------------------------------------------------------------
# the problem
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SparkRegressionProblem:
    """What the models see and predict, one row per customer, as a Spark DataFrame.

    The Spark counterpart of :class:`marketing.regression.RegressionProblem`.

    Attributes
    ----------
    table : pyspark.sql.DataFrame
        ``customer_id``, the features (numbers as doubles, categories as strings), the two
        target columns and the time column when there is one. Persisted: every step reads it.
    features : tuple of str
        The case's regression features, in order.
    levels : dict of str to list
        Categorical features and their levels, the reference level first.
    targets : dict of str to str
        ``"continuous"`` and ``"binary"`` -> target column.
    meanings : dict of str to str
        The business meaning of each target.
    time : str or None
        The sign-up date column used by :func:`marketing.regression.holdouts`, when the data has one.
    excluded : DataFrame
        The case's leakage columns with the reason and whether the data has the column.
    n_customers : int
    """

    table: object
    features: tuple[str, ...]
    levels: dict[str, list[str]]
    targets: dict[str, str]
    meanings: dict[str, str]
    time: str | None
    excluded: pd.DataFrame
    n_customers: int

    engine = "spark"  # what :func:`marketing.engines.engine_of` reads (a class attribute, not a field)

    def target_column(self, kind: str) -> str:
        """The name of the ``kind`` target column."""
        return self.targets[kind]

    @property
    def feature_columns(self) -> list[str]:
        """The feature names, in order."""
        return list(self.features)


def problem_of(data, case: CaseStudy) -> SparkRegressionProblem:
    """The Spark table of a case's regression problem; ``case`` and the targets checked by
    :func:`marketing.regression.regression_problem`, which calls this for Spark data.

    Examples
    --------
    >>> from marketing.regression import regression_problem
    >>> from marketing.spark.data import load_spark_data
    >>> problem = regression_problem(load_spark_data("finance", spark))
    >>> problem.features, problem.levels["region"][0], problem.n_customers
    (('frequency', 'age', 'income', 'balance', 'region'), 'north', 2000)
    >>> bool(problem.excluded.loc["call_duration", "in_data"])
    True
    """
    from marketing.features import customer_table
    from marketing.regression.problem import check_feature_table, excluded_columns

    F = _F()
    customers = data.customers
    targets = {kind: case.targets[kind].column for kind in defined_kinds(case)}
    features = list(case.regression_features)
    time = SIGNUP if SIGNUP in customers.columns else None
    extra = [F.col(c).cast("double" if kind == "continuous" else "int") for kind, c in targets.items()]
    # persisted: the features aggregate the event log, and every later step reads them
    joined = customer_table(data, features).join(
        customers.select(CUSTOMER, *extra, *([F.col(time)] if time else [])), on=CUSTOMER, how="inner"
    ).persist()
    try:
        n, numeric, boolean, text = check_feature_table(joined, features)
    except DataValidationError:
        joined.unpersist()
        raise
    # numbers as doubles, booleans as 0/1 (as check_features does), text as it is
    typed = [
        F.col(c).cast("int").cast("double").alias(c) if c in boolean
        else F.col(c).cast("double").alias(c) if c in numeric
        else F.col(c)
        for c in features
    ]
    table = joined.select(CUSTOMER, *typed, *targets.values(), *([time] if time else []))
    levels = {}
    unknown_levels = [c for c in text if c not in data.levels]
    if unknown_levels:
        # text columns the data did not describe: sorted levels, as pandas' astype("category")
        row = table.agg(*[F.sort_array(F.collect_set(c)).alias(c) for c in unknown_levels]).first()
        levels.update({c: [str(v) for v in row[c]] for c in unknown_levels})
    levels.update({c: [str(v) for v in data.levels[c]] for c in text if c in data.levels})
    levels = {c: levels[c] for c in text}
    meanings = {kind: case.targets[kind].meaning for kind in targets}
    excluded = excluded_columns(case, customers.columns)
    return SparkRegressionProblem(table, tuple(features), levels, targets, meanings, time, excluded, int(n))


# --------------------------------------------------------------------------------------------
# the design
# --------------------------------------------------------------------------------------------


class DesignEncoder:
    """Imputation and one-hot encoding against the reference level, into a Spark ML vector.

    Numeric features: missing values become the training median (exact, Spark's ``median``).
    Categorical features: missing values
    become the most frequent training level (ties: the level listed first), then one 0/1 term
    per level except the first (the reference level); an unseen level is all zeros, like the
    reference level (``handle_unknown="ignore"`` on the pandas path).

    Parameters
    ----------
    features : sequence of str
        Feature columns, in order.
    levels : dict of str to list
        Categorical features and their levels, the reference level first.
    output_col : str
        Name of the vector column :meth:`transform` adds.

    Attributes
    ----------
    terms_ : list of str
        Names of the vector's entries: numeric features and ``column_level`` terms, in feature
        order (the order of :func:`marketing.regression.design_matrix`).
    medians_, modes_ : dict
        Fill values learned by :meth:`fit`.
    sd_ : dict
        Sample standard deviation of every term after imputation (the scale of the
        standardized coefficient table).

    Examples
    --------
    >>> frame = spark.createDataFrame(pd.DataFrame({
    ...     "customer_id": [1, 2, 3], "age": [30.0, None, 50.0], "region": ["n", "s", "e"]}))
    >>> encoder = DesignEncoder(["age", "region"], {"region": ["n", "s", "e"]}).fit(frame)
    >>> encoder.terms_, encoder.medians_
    (['age', 'region_s', 'region_e'], {'age': 40.0})
    >>> [row.features.toArray().tolist() for row in encoder.transform(frame).orderBy("customer_id").collect()]
    [[30.0, 0.0, 0.0], [40.0, 1.0, 0.0], [50.0, 0.0, 1.0]]
    """

    def __init__(
        self,
        features: Sequence[str],
        levels: dict[str, list[str]],
        *,
        output_col: str = "features",
    ):
        self.features = features
        self.levels = levels
        self.output_col = output_col

    def fit(self, frame) -> DesignEncoder:
        """Learn fill values, term names and their standard deviations from ``frame`` (the training part)."""
        F = _F()
        features = list(self.features)
        as_frame(frame, features, "features")
        unknown = [c for c in self.levels if c not in features]
        if unknown:
            raise ValueError(f"levels given for {unknown}, which are not among the features {features}.")
        numeric = [c for c in features if c not in self.levels]
        aggregates = [F.median(c).alias(c) for c in numeric]
        for column, levels in self.levels.items():
            if not levels:
                raise ValueError(f"categorical feature {column!r} has no levels.")
            aggregates += [
                F.sum(F.when(F.col(column) == lv, 1).otherwise(0)).alias(f"{column}__{i}") for i, lv in enumerate(levels)
            ]
        row = frame.agg(*aggregates).first().asDict()
        self.medians_ = {c: row[c] for c in numeric}
        empty = [c for c, v in self.medians_.items() if v is None]
        if empty:
            raise DataValidationError(
                f"features: column '{empty[0]}' has no values in the training part; drop it or fill it."
            )
        self.modes_ = {}
        for column, levels in self.levels.items():
            counts = [row[f"{column}__{i}"] for i in range(len(levels))]
            self.modes_[column] = levels[int(np.argmax(counts))]   # argmax: the first of tied levels
        self.terms_ = []
        for column in features:
            self.terms_ += [f"{column}_{lv}" for lv in self.levels[column][1:]] if column in self.levels else [column]
        terms = self._terms()
        moments = frame.select(*[e.alias(name) for name, e in terms]).agg(
            *[F.stddev_samp(name).alias(name) for name, _ in terms]
        ).first().asDict()
        self.sd_ = {name: moments[name] for name, _ in terms}
        return self

    def _terms(self) -> list[tuple[str, object]]:
        """(term name, expression) of every term."""
        F = _F()
        out = []
        for column in self.features:
            if column in self.levels:
                filled = F.coalesce(F.col(column), F.lit(self.modes_[column]))
                out += [(f"{column}_{lv}", F.when(filled == lv, 1.0).otherwise(0.0)) for lv in self.levels[column][1:]]
            else:
                out.append((column, F.coalesce(F.col(column).cast("double"), F.lit(float(self.medians_[column])))))
        return out

    def term_columns(self, frame):
        """``frame``'s ``customer_id`` and one column per term (after imputation)."""
        return frame.select(CUSTOMER, *[e.alias(name) for name, e in self._terms()])

    def transform(self, frame):
        """``frame`` with the vector column ``output_col`` (its terms in the order of ``terms_``)."""
        F = _F()
        from pyspark.ml.functions import array_to_vector

        vector = array_to_vector(F.array(*[e.cast("double") for _, e in self._terms()]))
        return frame.withColumn(self.output_col, vector)


# --------------------------------------------------------------------------------------------
# the models
# --------------------------------------------------------------------------------------------


def _glm(kind: str, label: str, features_col: str = "features"):
    from pyspark.ml.regression import GeneralizedLinearRegression

    family = {"continuous": ("gaussian", "identity"), "binary": ("binomial", "logit")}[kind]
    return GeneralizedLinearRegression(
        family=family[0], link=family[1], labelCol=label, featuresCol=features_col, predictionCol="_prediction",
        regParam=0.0, maxIter=GLM_MAX_ITER, tol=GLM_TOL, solver="irls",
    )


@dataclass(frozen=True)
class SparkSuiteResult:
    """The Spark suite of one target, fitted on the training part and evaluated on the test part.

    Attributes
    ----------
    kind : str
    label : str
        The target column.
    encoder : DesignEncoder
        Fitted on the training part.
    models : dict
        ``"linear"`` or ``"logistic"`` -> fitted ``GeneralizedLinearRegressionModel``.
    baseline : float
        The training mean (continuous) or positive rate (binary), predicted for everyone.
    predictions : pyspark.sql.DataFrame
        Test part: ``customer_id``, the target, one column per model.
    metrics : DataFrame
        Held-out metrics, one row per model (the rows of ``fit_suite(...).metrics`` for these models).
    primary_metric : str
    n_train : int
    selection : Selection
        How the model was chosen: on a validation split inside the training part.
    """

    kind: str
    label: str
    encoder: DesignEncoder
    models: dict
    baseline: float
    predictions: object
    metrics: pd.DataFrame
    primary_metric: str
    n_train: int
    selection: Selection

    engine = "spark"  # what :func:`marketing.engines.engine_of` reads
    #: No bootstrap on Spark (see :mod:`marketing.capabilities`).
    intervals = None

    @property
    def best(self) -> str:
        """The chosen model: the best primary metric on the validation split of the training part."""
        return self.selection.chosen

    @property
    def glm(self) -> str:
        """The name of the suite's GLM: ``"linear"`` or ``"logistic"``."""
        return MODEL_NAMES[self.kind][1]

    def coefficient_table(self, *, level: float = 0.95, scale: str = "raw") -> pd.DataFrame:
        """The GLM's coefficients with Wald confidence intervals, shaped like the pandas table.

        The same table as :func:`marketing.regression.coefficient_table` on the training part:
        index ``intercept`` then the terms; columns ``estimate``, ``std_err``, ``low``, ``high``,
        ``p_value``. Intervals use Student's t with the residual degrees of freedom for OLS and
        the normal distribution for the logistic model (as statsmodels does); the p-values are
        Spark's. ``scale="standardized"`` multiplies numeric terms by the sample standard
        deviation of their training column.
        """
        from scipy import stats

        if scale not in ("raw", "standardized"):
            raise ValueError(f"scale must be 'raw' or 'standardized', not {scale!r}.")
        if not 0 < level < 1:
            raise ValueError(f"level must be strictly between 0 and 1, got {level!r}.")
        model = self.models[self.glm]
        summary = model.summary
        index = ["intercept", *self.encoder.terms_]
        estimate = np.r_[model.intercept, model.coefficients.toArray()]
        std_err = np.asarray(summary.coefficientStandardErrors, dtype=float)
        p_value = np.asarray(summary.pValues, dtype=float)
        # Spark lists the intercept last
        std_err, p_value = np.r_[std_err[-1], std_err[:-1]], np.r_[p_value[-1], p_value[:-1]]
        alpha = (1 - level) / 2
        if self.kind == "continuous":
            q = stats.t.ppf(1 - alpha, summary.degreesOfFreedom)
        else:
            q = stats.norm.ppf(1 - alpha)
        table = pd.DataFrame(
            {
                "estimate": estimate,
                "std_err": std_err,
                "low": estimate - q * std_err,
                "high": estimate + q * std_err,
                "p_value": p_value,
            },
            index=pd.Index(index, name="term"),
        )
        if scale == "standardized":
            numeric = [t for t in self.encoder.terms_ if t in self.encoder.medians_]
            sd = pd.Series({t: self.encoder.sd_[t] for t in numeric}, dtype=float)
            sd = sd.reindex(table.index).fillna(1.0)
            columns = ["estimate", "std_err", "low", "high"]
            table[columns] = table[columns].mul(sd, axis=0)
        return table

    def predict(self, frame, model: str | None = None, output_col: str = "score"):
        """``frame`` with the predictions of ``model`` (default: :attr:`best`) in ``output_col``.

        Values for the continuous target, positive-class probabilities for the binary one.
        """
        F = _F()
        model = model or self.best
        if model == "baseline":
            return frame.withColumn(output_col, F.lit(float(self.baseline)))
        if model not in self.models:
            raise ValueError(f"unknown model {model!r}; choose from {['baseline', *self.models]}.")
        scored = self.models[model].transform(self.encoder.transform(frame))
        return scored.withColumnRenamed("_prediction", output_col).drop(self.encoder.output_col)

def _require_full_rank(encoder: DesignEncoder, frame) -> None:
    """Refuse collinear terms, as :func:`marketing.regression.coefficient_table` does.

    With an intercept and no constant term, the design has full rank exactly when the
    correlation matrix of its terms (one pass in Spark, a small p x p matrix) does.
    """
    from pyspark.ml.stat import Correlation

    column = encoder.output_col
    correlation = Correlation.corr(encoder.transform(frame).select(column), column).first()[0].toArray()
    if np.linalg.matrix_rank(correlation) < correlation.shape[0]:
        raise DataValidationError(
            "features: the coefficients cannot all be estimated because the design matrix is "
            "rank-deficient (constant terms: none; some columns are collinear). Drop the duplicated columns."
        )


def fit_suite(
    kind: str,
    problem: SparkRegressionProblem,
    split: FrameSplit,
    *,
    random_state: int | None = 0,
    n_boot: int = 200,
    names: Sequence[str] | None = None,
) -> SparkSuiteResult:
    """Fit the baseline and the GLM of ``kind`` on ``split.train``; evaluate both on ``split.test``.

    :func:`marketing.regression.fit_suite` on Spark, for its ``baseline`` and ``linear`` /
    ``logistic`` models. Nothing here is random and there are no bootstrap intervals, so
    ``random_state`` and ``n_boot`` change nothing; ``names`` may only ask for the GLM.

    Parameters
    ----------
    kind : {"continuous", "binary"}
    problem : SparkRegressionProblem
    split : FrameSplit
        From :func:`marketing.regression.holdouts`.
    random_state, n_boot : unused on Spark
    names : sequence of str, optional

    Raises
    ------
    DataValidationError
        A target with a single value in the training or test part, or terms that are constant or
        collinear on the training part (the GLM's coefficients would not be identifiable).

    Examples
    --------
    >>> from marketing.regression import regression_problem
    >>> from marketing.regression.splits import frame_holdout
    >>> from marketing.spark.data import load_spark_data
    >>> problem = regression_problem(load_spark_data("ecommerce", spark))
    >>> result = fit_suite("continuous", problem, frame_holdout(problem, "continuous"))
    >>> result.best, list(result.metrics.index)
    ('linear', ['baseline', 'linear'])
    >>> result.coefficient_table().loc["channel_app", ["estimate", "std_err"]].round(2).tolist()
    [11.49, 1.24]
    """
    F = _F()
    if kind not in KINDS:
        raise ValueError(f"kind must be 'continuous' or 'binary', not {kind!r}.")
    lacking = [n for n in (names or []) if n not in MODEL_NAMES[kind]]
    if lacking:
        raise ValueError(f"{lacking}: {unavailable('regression', FLEXIBLE_MODELS, 'spark')}")
    label = problem.targets[kind]
    parts = split.train.select(F.lit("training").alias("_part"), label).unionByName(
        split.test.select(F.lit("test").alias("_part"), label)
    )
    summary = parts.groupBy("_part").agg(F.min(label).alias("lo"), F.max(label).alias("hi"), F.avg(label).alias("mean"))
    spreads = {row["_part"]: row for row in summary.collect()}
    for part in ("training", "test"):
        spread = spreads.get(part)
        if spread is None or spread["lo"] == spread["hi"]:
            value = "no rows" if spread is None else f"a single value ({spread['lo']})"
            raise DataValidationError(
                f"target '{label}' ({part} part) has {value}; it cannot be "
                f"{'fitted' if part == 'training' else 'evaluated'}. Use more data or another split."
            )
    baseline = float(spreads["training"]["mean"])
    encoder = DesignEncoder(problem.features, problem.levels).fit(split.train)
    constant = [t for t, sd in encoder.sd_.items() if not sd]
    if constant:
        raise DataValidationError(
            "features: the coefficients cannot all be estimated because the design matrix is "
            f"rank-deficient (constant terms: {constant}). Drop the constant or duplicated columns."
        )
    _require_full_rank(encoder, split.train)
    name = MODEL_NAMES[kind][1]
    try:
        model = _glm(kind, label).fit(encoder.transform(split.train))
        model.summary.coefficientStandardErrors   # noqa: B018 -- fails now, not later, when the design is singular
    except Exception as error:  # py4j surfaces the JVM's SingularMatrixException as a generic error
        if "Singular" not in str(error) and "Std. Error" not in str(error):
            raise
        raise DataValidationError(
            "features: the coefficients cannot all be estimated because the design matrix is "
            "rank-deficient (some columns are collinear). Drop the duplicated columns."
        ) from None
    selection = _select_on_validation(kind, label, encoder, split, name, random_state)
    scored = model.transform(encoder.transform(split.test))
    predictions = scored.select(
        CUSTOMER, F.col(label), F.lit(baseline).alias("baseline"), F.col("_prediction").alias(name)
    )
    metrics = metric_table(kind, predictions, label, ["baseline", name])  # the one implementation
    return SparkSuiteResult(
        kind, label, encoder, {name: model}, baseline, predictions, metrics, PRIMARY_METRIC[kind], split.n_train,
        selection,
    )


def _select_on_validation(kind: str, label: str, encoder: DesignEncoder, split: FrameSplit, name: str,
                          random_state: int | None) -> Selection:
    """The GLM refitted on the training customers outside a seeded :data:`VALIDATION_SIZE` share,
    against the mean of the same customers, both scored on that share."""
    F = _F()
    import narwhals as nw

    keyed = random_uniform(nw.from_native(split.train), 0 if random_state is None else int(random_state)).to_native()
    fit_part, valid = keyed.filter(F.col("_hash") >= VALIDATION_SIZE), keyed.filter(F.col("_hash") < VALIDATION_SIZE)
    mean = fit_part.agg(F.avg(label)).first()[0]
    scored = _glm(kind, label).fit(encoder.transform(fit_part)).transform(encoder.transform(valid))
    scored = scored.select(F.col(label), F.lit(float(mean)).alias("baseline"), F.col("_prediction").alias(name))
    primary = PRIMARY_METRIC[kind]
    scores = metric_table(kind, scored.persist(), label, ["baseline", name])
    n_valid = scored.count()
    scored.unpersist()
    scores = scores.join((scores * np.nan).add_suffix("_sd"))
    method = f"a validation split of {n_valid:,} of the {split.n_train:,} training customers"
    return Selection(method, scores, primary, best_model(scores, primary))
