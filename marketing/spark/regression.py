"""Regression on the Spark engine: the linear and logistic models of :mod:`marketing.regression`, in Spark.

The steps mirror the pandas path, with the same definitions, so both engines give the same
numbers on the same data (the tests compare them case by case):

1. :func:`regression_problem`: the case's ``regression_features`` (from
   :func:`marketing.spark.features.customer_table`), never a ``leakage`` column, and the two
   targets, validated with the pandas path's rules and messages;
2. :func:`holdout` (:func:`holdouts` for both targets): the latest ``test_size`` share of
   sign-ups held out, ties on the sign-up date broken by customer id (the pandas path breaks them
   by row order, which is customer id order for the built-in data): the same customers as
   :func:`marketing.regression.holdout`;
3. :class:`DesignEncoder`: numeric columns with missing values set to the training median;
   categorical columns with missing values set to the most frequent training level and one 0/1
   column per level except the reference level (``data.levels[column][0]``), the terms
   :func:`marketing.regression.coefficient_table` names (``region_east``);
4. :func:`fit_suite`: the baseline (training mean / training positive rate) and an unpenalized
   generalized linear model, Spark ML's ``GeneralizedLinearRegression`` (gaussian-identity: OLS;
   binomial-logit: logistic regression), fitted on the training part and scored on the held-out
   part. The GLM's standard errors give the coefficient table with confidence intervals
   (:meth:`SparkSuiteResult.coefficient_table`);
5. metrics computed in Spark with the definitions of :mod:`marketing.regression.metrics`
   (:func:`continuous_metrics`, :func:`binary_metrics`);
6. targeting: :func:`gains_table`, :func:`calibration_table`, :func:`rule_profit`,
   :func:`profit_curve` and the contact list for every customer (:func:`campaign_list`, written by
   Spark with :func:`export_campaign_list`; :func:`contact_totals`).

Scaling. The models are unpenalized, so standardizing the inputs changes no prediction; they are
fitted on the unscaled design, which gives the standard errors on the raw scale directly (the
scale of the planted truth). The standardized coefficient table multiplies a numeric term by the
*sample* standard deviation of its training column, exactly as the pandas ``coefficient_table``
does. ``DesignEncoder(standardize=True)`` offers the pandas pipelines' ``StandardScaler``
definition (centred, divided by the *population* standard deviation) for models that need it.

Ranks without one partition. Deciles, gains, calibration bins, the profit curve, ROC AUC and
average precision need the rows in score order. A window over the whole table (``row_number()
over (order by score)``, or ``ntile``) would move every row into one partition; instead the rows
are sorted with Spark's range-partitioned sort, a row's rank is its position in its partition plus
the rows of the partitions before it, and running sums are taken within each partition plus the
totals of the partitions before it (:func:`_ranked`, :func:`_running_sums`; the totals, one row
per partition, are all that is collected). The ranks are exact, so the decile tables equal the
pandas path's. Ties in score are broken by customer id, as the pandas path breaks them by row
order.

Only small results are collected to pandas: metric and coefficient tables, decile and bin tables,
bounded samples (:meth:`SparkRegressionProblem.sample`, :meth:`SparkSuiteResult.sample`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from marketing.cases import CaseStudy
from marketing.columns import CUSTOMER
from marketing.regression.metrics import GREATER_IS_BETTER
from marketing.regression.models import PRIMARY_METRIC
from marketing.regression.problem import KINDS, TIME_COLUMN, regression_case
from marketing.regression.splits import _check_test_size
from marketing.regression.targeting import SCORE_BANDS, break_even_probability
from marketing.validation import DataValidationError

#: The models of the Spark suite: the baseline and the unpenalized GLM of each target.
MODEL_NAMES = {"continuous": ("baseline", "linear"), "binary": ("baseline", "logistic")}
#: The log-loss clip of :func:`marketing.regression.binary_metrics`.
EPSILON = 1e-15
#: Convergence of the logistic GLM (iteratively reweighted least squares): tighter than Spark's
#: default (1e-6) so that the coefficients agree with statsmodels' Newton fit to ~1e-10.
GLM_TOL = 1e-10
GLM_MAX_ITER = 100


def _F():
    from pyspark.sql import functions as F

    return F


# --------------------------------------------------------------------------------------------
# ranks and running sums without a single-partition window
# --------------------------------------------------------------------------------------------


def _sorted(frame, order: Sequence):
    """``frame`` sorted by ``order`` with each row's partition ``_part`` and position in it ``_row``.

    Spark sorts by range-partitioning (partition ``i`` holds the ``i``-th range of the order) and
    sorting within partitions. The frame is checkpointed: the partitions of a sort are only
    meaningful for that one computation of it, and the totals per partition and the rows must
    come from the same one.
    """
    F = _F()
    ordered = frame.orderBy(*order).withColumn("_id", F.monotonically_increasing_id())
    # monotonically_increasing_id is (partition index << 33) + position within the partition
    ordered = ordered.withColumn("_part", F.shiftright("_id", 33).cast("int")).withColumn(
        "_row", F.col("_id").bitwiseAND(F.lit((1 << 33) - 1))
    )
    return ordered.drop("_id").localCheckpoint(eager=True)


def _partition_totals(ordered, aggregates: dict) -> pd.DataFrame:
    """``aggregates`` (name -> expression) per partition of ``ordered``, one row per partition index."""
    totals = ordered.groupBy("_part").agg(*[e.alias(n) for n, e in aggregates.items()]).toPandas()
    totals = totals.set_index("_part").sort_index()
    n_parts = int(totals.index.max()) + 1 if len(totals) else 1
    return totals.reindex(range(n_parts), fill_value=0)


def _offset(before: pd.Series):
    """The value of ``before`` for each row's partition (a literal array indexed by ``_part``)."""
    F = _F()
    return F.element_at(F.array(*[F.lit(v) for v in before.tolist()]), F.col("_part") + 1)


def _running_sums(frame, order: Sequence, columns: Sequence[str], prefix: str = "_cum_"):
    """``frame`` sorted by ``order`` with inclusive running sums ``prefix + column``; and the totals.

    ``order`` must be a total order (end with a unique column) so the sums do not depend on the
    partitioning. Each partition's running sums come from a window over that partition only;
    the totals of the partitions before it (one number per partition and column, the only
    thing collected) are added. No window spans the whole table, so no single partition holds
    every row.

    Returns
    -------
    (DataFrame, dict)
        The sorted frame with the running-sum columns, and each column's total.
    """
    from pyspark.sql import Window

    F = _F()
    ordered = _sorted(frame, order)
    totals = _partition_totals(ordered, {c: F.sum(c) for c in columns})
    before = totals.cumsum().shift(1, fill_value=0)
    window = Window.partitionBy("_part").orderBy("_row").rowsBetween(Window.unboundedPreceding, Window.currentRow)
    added = [(F.sum(c).over(window) + _offset(before[c])).alias(prefix + c) for c in columns]
    out = ordered.select("*", *added).drop("_part", "_row")
    return out, {c: totals[c].sum().item() for c in columns}


def _ranked(frame, order: Sequence, *, check: str | None = None, table: str = "scores"):
    """``frame`` sorted by ``order`` with each row's 0-based position ``_rank``; and the row count.

    The rank is the row's position in its partition plus the rows of the partitions before it,
    so it needs no shuffle beyond the sort, and the result keeps the sorted layout (collected or
    written, its rows come in rank order). ``check`` names a score column that must have no
    missing values (checked in the same pass).
    """
    F = _F()
    ordered = _sorted(frame, order)
    aggregates = {"_n": F.count(F.lit(1))}
    if check is not None:
        aggregates["_missing"] = F.sum(F.when(F.col(check).isNull() | F.isnan(check), 1).otherwise(0))
    totals = _partition_totals(ordered, aggregates)
    if check is not None and totals["_missing"].sum():
        raise DataValidationError(
            f"{table}: score {check!r} has {int(totals['_missing'].sum())} missing value(s); every customer "
            "needs a score to be ranked."
        )
    before = totals["_n"].cumsum().shift(1, fill_value=0)
    ranked = ordered.withColumn("_rank", F.col("_row") + _offset(before)).drop("_part", "_row")
    return ranked, int(totals["_n"].sum())


def _bin_of(rank: str, n_bins: int, n: int):
    """Equal-count bin 1..n_bins of a 0-based rank among ``n`` rows: ``rank * n_bins // n + 1`` (integer division)."""
    return _F().expr(f"`{rank}` * {int(n_bins)} div {int(n)} + 1").cast("long")


def _score_order(score: str, descending: bool = True) -> list:
    F = _F()
    return [F.col(score).desc() if descending else F.col(score).asc(), F.col(CUSTOMER).asc()]


def _require_columns(frame, columns: Sequence[str], table: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataValidationError(f"{table}: missing column(s) {missing}; it has {frame.columns}.")


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
        The sign-up date column used by :func:`holdout`, when the data has one.
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

    def target_column(self, kind: str) -> str:
        """The name of the ``kind`` target column."""
        return self.targets[kind]

    def sample(self, n: int = 1000, random_state: int | None = 0, *, targets: bool = False) -> pd.DataFrame:
        """A random sample of at most ``n`` customers' features collected to pandas, indexed by customer id.

        Categorical features become pandas categoricals with the reference level first, as on
        the pandas path, so the pandas helpers (plots, :func:`~marketing.regression.interpret.effect_sentences`)
        accept it; ``targets=True`` adds the two target columns. The sample is the ``n``
        customers with the smallest hash of (seed, id): the same customers on every run with the
        same seed.

        Examples
        --------
        >>> from marketing.spark.data import load_spark_data
        >>> sample = regression_problem(load_spark_data("health", spark)).sample(5)
        >>> sample.shape, list(sample["smoker"].cat.categories)
        ((5, 6), ['no', 'yes'])
        """
        columns = [CUSTOMER, *self.features, *(self.targets.values() if targets else [])]
        frame = _bounded_sample(self.table.select(*columns), n, random_state).toPandas().set_index(CUSTOMER)
        categories = {c: pd.Categorical(frame[c], categories=levels) for c, levels in self.levels.items()}
        return frame.assign(**categories)


def _bounded_sample(frame, n: int, random_state: int | None):
    """The ``n`` rows with the smallest hash of (seed, customer id), ordered by customer id."""
    F = _F()
    if not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"n must be a positive number of rows, not {n!r}.")
    seed = F.lit(0 if random_state is None else int(random_state))
    picked = frame.withColumn("_hash", F.xxhash64(seed, F.col(CUSTOMER))).orderBy("_hash", CUSTOMER).limit(int(n))
    return picked.drop("_hash").orderBy(CUSTOMER)


def _kinds_of_columns(frame, columns: Sequence[str], table: str) -> tuple[list[str], list[str], list[str]]:
    """(numeric, boolean, text) columns among ``columns``; dates and other types are errors."""
    from pyspark.sql.types import BooleanType, DateType, NumericType, StringType, TimestampNTZType, TimestampType

    numeric, boolean, text = [], [], []
    for column in columns:
        dtype = frame.schema[column].dataType
        if isinstance(dtype, (DateType, TimestampType, TimestampNTZType)):
            raise DataValidationError(
                f"{table}: column '{column}' holds dates; models need numbers or categories. "
                "Derive a number from it (for example days since sign-up) instead."
            )
        if isinstance(dtype, BooleanType):
            boolean.append(column)
        elif isinstance(dtype, NumericType):
            numeric.append(column)
        elif isinstance(dtype, StringType):
            text.append(column)
        else:
            raise DataValidationError(
                f"{table}: column '{column}' has type {dtype.simpleString()}; models need numbers, "
                "booleans or text categories. Convert it before modelling."
            )
    return numeric, boolean, text


def _check_targets(customers, case: CaseStudy) -> dict[str, str]:
    """Validate both targets in one pass with the rules of :func:`marketing.regression.check_target`."""
    from pyspark.sql.types import BooleanType, NumericType

    F = _F()
    columns = {}
    for kind in KINDS:
        column = case.targets[kind].column
        if column not in customers.columns:
            others = [c for c in customers.columns if c != CUSTOMER]
            raise DataValidationError(
                f"table 'customers' has no target column '{column}' ({kind} target of case "
                f"{case.name!r}); it has {others}. Add it or fix targets.{kind}.column."
            )
        dtype = customers.schema[column].dataType
        if not isinstance(dtype, (NumericType, BooleanType)):
            example = customers.filter(F.col(column).isNotNull()).select(column).limit(1).collect()
            shown = f", such as {example[0][0]!r}" if example else ""
            raise DataValidationError(
                f"target '{column}' must be numeric but has type {dtype.simpleString()}{shown}. "
                "Convert it to numbers (binary targets as 0/1) before modelling."
            )
        columns[kind] = column
    values = {kind: F.col(c).cast("double") for kind, c in columns.items()}
    row = customers.agg(
        F.count(F.lit(1)).alias("rows"),
        *[F.sum(F.when(v.isNull() | F.isnan(v), 1).otherwise(0)).alias(f"{k}_missing") for k, v in values.items()],
        *[F.min(v).alias(f"{k}_min") for k, v in values.items()],
        *[F.max(v).alias(f"{k}_max") for k, v in values.items()],
        F.sum(F.when(~values["binary"].isin(0.0, 1.0), 1).otherwise(0)).alias("binary_other"),
    ).first()
    if not row["rows"]:
        raise DataValidationError(f"target '{columns['continuous']}' is empty: it needs at least one row.")
    for kind, column in columns.items():
        if row[f"{kind}_missing"]:
            raise DataValidationError(
                f"target '{column}' has {row[f'{kind}_missing']} missing value(s). Rows without an outcome cannot "
                "be used for training or evaluation: drop them (and report how many) or fill them first."
            )
    if row["continuous_min"] == row["continuous_max"]:
        raise DataValidationError(
            f"target '{columns['continuous']}' is constant (every value is {row['continuous_min']}): there is "
            "nothing to predict. Choose another target column or check how it was computed."
        )
    if row["binary_other"]:
        found = customers.select(values["binary"].alias("v")).distinct().orderBy("v").limit(5).collect()
        raise DataValidationError(
            f"binary target '{columns['binary']}' must hold 0/1 but has values {[r['v'] for r in found]}. "
            "Map the positive outcome to 1 and the rest to 0."
        )
    if row["binary_min"] == row["binary_max"]:
        raise DataValidationError(
            f"binary target '{columns['binary']}' has a single class (every value is {int(row['binary_min'])}): a "
            "classifier needs both outcomes. Use a longer label window or another target."
        )
    return columns


def regression_problem(data, case: str | CaseStudy | None = None) -> SparkRegressionProblem:
    """Build and validate a case's regression problem in Spark.

    The same features, targets, exclusions and checks as :func:`marketing.regression.regression_problem`.

    Parameters
    ----------
    data : SparkCaseData
        From :func:`marketing.engines.load_data` with ``engine="spark"``.
    case : str or CaseStudy, optional
        Defaults to ``data.case``.

    Raises
    ------
    DataValidationError
        A leakage column listed as a feature; a target column missing, non-numeric, with missing
        values, constant, or (binary) not 0/1 or a single class; a feature of dates, of another
        type, or without any value.

    Examples
    --------
    >>> from marketing.spark.data import load_spark_data
    >>> problem = regression_problem(load_spark_data("finance", spark))
    >>> problem.features, problem.levels["region"][0], problem.n_customers
    (('frequency', 'age', 'income', 'balance', 'region'), 'north', 2000)
    >>> bool(problem.excluded.loc["call_duration", "in_data"])
    True
    """
    from marketing.features import customer_table

    F = _F()
    case = regression_case(data, case)
    customers = data.customers
    targets = _check_targets(customers, case)
    features = list(case.regression_features)
    if not features:
        raise DataValidationError(
            "features: the table has no column; a model needs at least one. Check the case's regression_features."
        )
    table = customer_table(data, features)
    numeric, boolean, text = _kinds_of_columns(table, features, "features")
    time = TIME_COLUMN if TIME_COLUMN in customers.columns else None
    extra = [F.col(targets["continuous"]).cast("double"), F.col(targets["binary"]).cast("int")]
    joined = table.join(
        customers.select(CUSTOMER, *extra, *([F.col(time)] if time else [])), on=CUSTOMER, how="inner"
    )
    # numbers as doubles, booleans as 0/1 (as check_features does), text as it is
    typed = [
        F.col(c).cast("int").cast("double").alias(c) if c in boolean
        else F.col(c).cast("double").alias(c) if c in numeric
        else F.col(c)
        for c in features
    ]
    # persisted: the features aggregate the event log, and every later step reads them
    table = joined.select(CUSTOMER, *typed, *targets.values(), *([time] if time else [])).persist()
    present = table.agg(F.count(F.lit(1)).alias("_rows"), *[F.count(c).alias(c) for c in features]).first()
    n = present["_rows"]
    if n == 0:
        table.unpersist()
        raise DataValidationError(
            "features: the table has 0 row(s); a model needs at least one. Check the case's regression_features."
        )
    empty = [c for c in features if not present[c]]
    if empty:
        table.unpersist()
        raise DataValidationError(
            f"features: column '{empty[0]}' has no values at all (every row is missing). Drop it "
            "from the case's regression_features or fix how it is loaded."
        )
    levels = {}
    unknown_levels = [c for c in text if c not in data.levels]
    if unknown_levels:
        # text columns the data did not describe: sorted levels, as pandas' astype("category")
        row = table.agg(*[F.sort_array(F.collect_set(c)).alias(c) for c in unknown_levels]).first()
        levels.update({c: [str(v) for v in row[c]] for c in unknown_levels})
    levels.update({c: [str(v) for v in data.levels[c]] for c in text if c in data.levels})
    levels = {c: levels[c] for c in text}
    excluded = pd.DataFrame(
        {
            "reason": pd.Series(case.leakage, dtype="str"),
            "in_data": pd.Series({c: c in customers.columns for c in case.leakage}, dtype=bool),
        }
    ).rename_axis("column")
    meanings = {kind: case.targets[kind].meaning for kind in KINDS}
    return SparkRegressionProblem(table, tuple(features), levels, targets, meanings, time, excluded, int(n))


def feature_overview(problem: SparkRegressionProblem) -> pd.DataFrame:
    """One row per feature: type, share missing and a summary, computed in Spark.

    The same table as :func:`marketing.regression.problem.feature_overview` (mean and sample
    standard deviation of numeric features; the share of each level among the customers with a
    value, the reference level first).

    Examples
    --------
    >>> from marketing.spark.data import load_spark_data
    >>> feature_overview(regression_problem(load_spark_data("ecommerce", spark))).loc["channel", "summary"]
    'web (reference) 60%, app 40%'
    """
    F = _F()
    t = problem.table
    aggregates = [F.count(F.lit(1)).alias("_rows")]
    for column in problem.features:
        aggregates.append(F.count(column).alias(f"{column}__present"))
        if column in problem.levels:
            aggregates += [
                F.sum(F.when(F.col(column) == level, 1).otherwise(0)).alias(f"{column}__{i}")
                for i, level in enumerate(problem.levels[column])
            ]
        else:
            aggregates += [F.avg(column).alias(f"{column}__mean"), F.stddev_samp(column).alias(f"{column}__sd")]
    row = t.agg(*aggregates).first().asDict()
    rows = {}
    for column in problem.features:
        present = row[f"{column}__present"]
        if column in problem.levels:
            shares = [
                f"{level}{' (reference)' if i == 0 else ''} {row[f'{column}__{i}'] / present:.0%}"
                for i, level in enumerate(problem.levels[column])
            ]
            rows[column] = ("categorical", ", ".join(shares))
        else:
            sd = row[f"{column}__sd"]
            sd = float("nan") if sd is None else sd
            rows[column] = ("numeric", f"mean {row[f'{column}__mean']:.4g}, sd {sd:.4g}")
    table = pd.DataFrame(rows, index=["type", "summary"]).T
    missing = pd.Series({c: round((row["_rows"] - row[f"{c}__present"]) / row["_rows"], 3) for c in problem.features})
    table.insert(1, "missing_share", missing.astype(object))
    return table.rename_axis("feature")


def describe_targets(problem: SparkRegressionProblem) -> dict[str, float]:
    """Customers, the continuous target's mean and sample sd, and the binary target's positive rate.

    Examples
    --------
    >>> from marketing.spark.data import load_spark_data
    >>> summary = describe_targets(regression_problem(load_spark_data("ecommerce", spark)))
    >>> summary["customers"], round(summary["positive_rate"], 3)
    (2000, 0.298)
    """
    F = _F()
    row = problem.table.agg(
        F.count(F.lit(1)).alias("customers"),
        F.avg(problem.targets["continuous"]).alias("mean"),
        F.stddev_samp(problem.targets["continuous"]).alias("sd"),
        F.avg(problem.targets["binary"]).alias("positive_rate"),
    ).first()
    return {
        "customers": int(row["customers"]), "mean": row["mean"], "sd": row["sd"], "positive_rate": row["positive_rate"],
    }


# --------------------------------------------------------------------------------------------
# the split
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SparkSplit:
    """A train/test split of the problem table, as two Spark DataFrames.

    Attributes
    ----------
    train, test : pyspark.sql.DataFrame
        The rows of each part (all columns of the problem table).
    method : str
        ``"time"`` or ``"stratified"``.
    description : str
        One sentence for the report, worded as on the pandas path.
    cutoff : Timestamp or None
        For a time split: the first sign-up date in the test part.
    n_train, n_test : int
    """

    train: object
    test: object
    method: str
    description: str
    cutoff: pd.Timestamp | None
    n_train: int
    n_test: int


def holdout(
    problem: SparkRegressionProblem,
    kind: str = "continuous",
    test_size: float = 0.2,
    random_state: int | None = 0,
) -> SparkSplit:
    """The held-out customers: the latest sign-ups when there is a time column, else stratified.

    With time, the rows are ordered by sign-up date, ties by customer id, and the last
    ``ceil(test_size * n)`` form the test part: the split of
    :func:`marketing.regression.time_holdout` (whose ties follow the row order, which is customer
    id order for the built-in data). The order is found without sorting the customers: the
    counts per sign-up date are cumulated from the latest date back, which fixes the cutoff date,
    and only the customers who signed up on the cutoff date are ordered by id.

    Without time, a stratified random holdout drawn in Spark: within each class of the binary
    target (each fifth of the continuous one), the ``ceil(test_size * n_class)`` customers with
    the smallest hash of (``random_state``, id). The same design as
    :func:`marketing.regression.stratified_holdout`, but not the same random draw.

    Parameters
    ----------
    problem : SparkRegressionProblem
    kind : {"continuous", "binary"}
        The target that stratifies a split without time (a time split is the same for both).
    test_size : float
        Share of customers held out.
    random_state : int, optional
        Seeds the stratified draw.

    Raises
    ------
    DataValidationError
        Missing sign-up dates, or a ``test_size`` that leaves fewer than two rows in a part.

    Examples
    --------
    >>> from marketing.spark.data import load_spark_data
    >>> split = holdout(regression_problem(load_spark_data("finance", spark)), test_size=0.2)
    >>> split.method, split.n_train, split.n_test
    ('time', 1600, 400)
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {list(KINDS)}, not {kind!r}.")
    n_test = _check_test_size(test_size, problem.n_customers)
    if problem.time is not None:
        return _time_holdout(problem, n_test, test_size)
    return _stratified_holdout(problem, kind, test_size, random_state)


def holdouts(
    problem: SparkRegressionProblem, test_size: float = 0.2, random_state: int | None = 0
) -> dict[str, SparkSplit]:
    """:func:`holdout` for both targets: ``{"continuous": ..., "binary": ...}``.

    A split by time is the same for both targets, so it is computed once.
    """
    if problem.time is not None:
        return dict.fromkeys(KINDS, holdout(problem, "continuous", test_size, random_state))
    return {kind: holdout(problem, kind, test_size, random_state) for kind in KINDS}


def _time_holdout(problem: SparkRegressionProblem, n_test: int, test_size: float) -> SparkSplit:
    F = _F()
    time = problem.time
    t = problem.table
    # microseconds since the epoch: comparisons and the printed date do not depend on time zones
    micros = F.unix_micros(F.col(time).cast("timestamp"))
    missing = t.filter(micros.isNull()).count()
    if missing:
        raise DataValidationError(
            f"time column '{time}' has {missing} missing (or unreadable) value(s); a time-based holdout "
            "needs every date. Fill them, or split without time."
        )
    per_time = t.groupBy(micros.alias("_t")).agg(F.count(F.lit(1)).cast("long").alias("_n"))
    cumulated, _ = _running_sums(per_time, [F.col("_t").desc()], ["_n"])
    # the cutoff: the latest date from which on (inclusive) at least n_test customers signed up
    cutoff, on_date, up_to = (
        cumulated.filter(F.col("_cum__n") >= n_test).orderBy(F.col("_t").desc()).select("_t", "_n", "_cum__n").first()
    )
    later = up_to - on_date   # customers who signed up after the cutoff date
    on_cutoff = t.filter(micros == F.lit(cutoff))
    # of the customers who signed up on the cutoff date, the ones with the largest ids go to test
    first_id = on_cutoff.orderBy(F.col(CUSTOMER).desc()).limit(n_test - later).agg(F.min(CUSTOMER)).first()[0]
    is_test = (micros > F.lit(cutoff)) | ((micros == F.lit(cutoff)) & (F.col(CUSTOMER) >= F.lit(first_id)))
    cutoff = pd.Timestamp(cutoff, unit="us")
    n_train = problem.n_customers - n_test
    description = (
        f"time-based holdout: trained on the {n_train} customers who signed up before "
        f"{cutoff.date()}, tested on the {n_test} latest sign-ups ({test_size:.0%})."
    )
    return SparkSplit(t.filter(~is_test), t.filter(is_test), "time", description, cutoff, n_train, n_test)


def _stratified_holdout(
    problem: SparkRegressionProblem, kind: str, test_size: float, random_state: int | None
) -> SparkSplit:
    F = _F()
    t = problem.table
    target = problem.targets[kind]
    if kind == "binary":
        strata = t.withColumn("_stratum", F.col(target).cast("long"))
    else:
        ranked, n = _ranked(t, [F.col(target).asc(), F.col(CUSTOMER).asc()])
        strata = ranked.withColumn("_stratum", _bin_of("_rank", 5, n) - 1).drop("_rank")
    seed = F.lit(0 if random_state is None else int(random_state))
    hashed = strata.withColumn("_hash", F.xxhash64(seed, F.col(CUSTOMER)))
    ranked, _ = _ranked(hashed, [F.col("_stratum").asc(), F.col("_hash").asc(), F.col(CUSTOMER).asc()])
    sizes = hashed.groupBy("_stratum").count().toPandas().set_index("_stratum")["count"].sort_index()
    starts = sizes.cumsum().shift(1, fill_value=0)
    quota = np.ceil(test_size * sizes).astype("int64")
    start_of = F.create_map(*[F.lit(x) for s in sizes.index for x in (int(s), int(starts[s]))])
    quota_of = F.create_map(*[F.lit(x) for s in sizes.index for x in (int(s), int(quota[s]))])
    within = F.col("_rank") - start_of[F.col("_stratum")]
    assigned = ranked.withColumn("_test", within < quota_of[F.col("_stratum")]).drop("_stratum", "_hash", "_rank")
    assigned = assigned.localCheckpoint(eager=True)
    n_test = int(quota.sum())
    n_train = problem.n_customers - n_test
    description = (
        f"stratified random holdout (the data has no time column): {n_train} training and "
        f"{n_test} test customers ({test_size:.0%}) with the same outcome mix."
    )
    return SparkSplit(
        assigned.filter(~F.col("_test")).drop("_test"), assigned.filter(F.col("_test")).drop("_test"),
        "stratified", description, None, n_train, n_test,
    )


# --------------------------------------------------------------------------------------------
# the design
# --------------------------------------------------------------------------------------------


class DesignEncoder:
    """Imputation and one-hot encoding against the reference level, into a Spark ML vector.

    Numeric features: missing values become the training median (exact, Spark's ``median``);
    with ``standardize=True`` they are then centred and divided by the population standard
    deviation (the pandas pipelines' ``StandardScaler``). Categorical features: missing values
    become the most frequent training level (ties: the level listed first), then one 0/1 term
    per level except the first (the reference level); an unseen level is all zeros, like the
    reference level (``handle_unknown="ignore"`` on the pandas path).

    Parameters
    ----------
    features : sequence of str
        Feature columns, in order.
    levels : dict of str to list
        Categorical features and their levels, the reference level first.
    standardize : bool
        Standardize numeric terms (population sd).
    output_col : str
        Name of the vector column :meth:`transform` adds.

    Attributes
    ----------
    terms_ : list of str
        Names of the vector's entries: numeric features and ``column_level`` terms, in feature
        order (the order of :func:`marketing.regression.design_matrix`).
    medians_, modes_ : dict
        Fill values learned by :meth:`fit`.
    means_, scales_ : dict
        Mean and population standard deviation of each numeric term after imputation.
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
        standardize: bool = False,
        output_col: str = "features",
    ):
        self.features = features
        self.levels = levels
        self.standardize = standardize
        self.output_col = output_col

    def fit(self, frame) -> DesignEncoder:
        """Learn fill values, term names and scales from ``frame`` (the training part)."""
        F = _F()
        features = list(self.features)
        _require_columns(frame, features, "features")
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
        terms = self._raw_terms()
        moments = frame.select(*[e.alias(name) for name, e in terms]).agg(
            *[F.avg(name).alias(f"{name}__mean") for name, _ in terms],
            *[F.stddev_pop(name).alias(f"{name}__pop") for name, _ in terms],
            *[F.stddev_samp(name).alias(f"{name}__sd") for name, _ in terms],
        ).first().asDict()
        self.means_ = {c: moments[f"{c}__mean"] for c in numeric}
        self.scales_ = {c: (moments[f"{c}__pop"] or 1.0) for c in numeric}   # StandardScaler: a zero sd scales by 1
        self.sd_ = {name: moments[f"{name}__sd"] for name, _ in terms}
        return self

    def _raw_terms(self) -> list[tuple[str, object]]:
        """(term name, expression) of every term before scaling."""
        F = _F()
        out = []
        for column in self.features:
            if column in self.levels:
                filled = F.coalesce(F.col(column), F.lit(self.modes_[column]))
                out += [(f"{column}_{lv}", F.when(filled == lv, 1.0).otherwise(0.0)) for lv in self.levels[column][1:]]
            else:
                out.append((column, F.coalesce(F.col(column).cast("double"), F.lit(float(self.medians_[column])))))
        return out

    def _terms(self) -> list[tuple[str, object]]:
        """(term name, expression) of every term, scaled when ``standardize``."""
        F = _F()
        terms = self._raw_terms()
        if not self.standardize:
            return terms
        return [
            (name, (e - F.lit(self.means_[name])) / F.lit(self.scales_[name])) if name in self.means_ else (name, e)
            for name, e in terms
        ]

    def term_columns(self, frame):
        """``frame``'s ``customer_id`` and one column per term (after imputation and scaling)."""
        return frame.select(CUSTOMER, *[e.alias(name) for name, e in self._terms()])

    def transform(self, frame):
        """``frame`` with the vector column ``output_col`` (its terms in the order of ``terms_``)."""
        F = _F()
        from pyspark.ml.functions import array_to_vector

        vector = array_to_vector(F.array(*[e.cast("double") for _, e in self._terms()]))
        return frame.withColumn(self.output_col, vector)


# --------------------------------------------------------------------------------------------
# metrics
# --------------------------------------------------------------------------------------------


def continuous_metrics(frame, label: str, predictions: Sequence[str]) -> pd.DataFrame:
    """R², RMSE and MAE of each prediction column, in one pass over ``frame``.

    The definitions of :func:`marketing.regression.continuous_metrics`: ``rmse`` =
    sqrt(mean((y - f)^2)); ``mae`` = mean(|y - f|); ``r2`` = 1 - sum((y - f)^2) /
    sum((y - mean(y))^2), written as 1 - mean((y - f)^2) / var_pop(y) (NaN for a constant
    ``y``). Spark's ``RegressionEvaluator`` has the same definitions but reads the data once per
    metric; one aggregation gives them all.

    Returns
    -------
    DataFrame indexed by prediction column, with columns ``r2``, ``rmse``, ``mae``.

    Examples
    --------
    >>> frame = spark.createDataFrame(pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0], "f": [1.0, 2.0, 3.0, 6.0]}))
    >>> continuous_metrics(frame, "y", ["f"]).round(4)   # squared errors 0,0,0,4; variance sum 5
          r2  rmse  mae
    model
    f    0.2   1.0  0.5
    """
    F = _F()
    predictions = list(predictions)
    _require_columns(frame, [label, *predictions], "predictions")
    y = F.col(label).cast("double")
    row = frame.agg(
        F.var_pop(y).alias("_var"),
        *[F.avg((y - F.col(p)) ** 2).alias(f"{p}__mse") for p in predictions],
        *[F.avg(F.abs(y - F.col(p))).alias(f"{p}__mae") for p in predictions],
    ).first()
    variance = row["_var"]
    rows = {}
    for p in predictions:
        mse = row[f"{p}__mse"]
        rows[p] = {
            "r2": 1.0 - mse / variance if variance else float("nan"),
            "rmse": math.sqrt(mse),
            "mae": row[f"{p}__mae"],
        }
    return pd.DataFrame(rows).T.rename_axis("model")


def _ranking_metrics(frame, label: str, score: str) -> tuple[float, float]:
    """(ROC AUC, average precision) of one score column, from its distinct scores in order."""
    F = _F()
    per_score = frame.groupBy(score).agg(
        F.sum(F.col(label).cast("long")).alias("_pos"),
        F.count(F.lit(1)).cast("long").alias("_n"),
    )
    cumulated, totals = _running_sums(per_score, [F.col(score).desc()], ["_pos", "_n"])
    positives, n = totals["_pos"], totals["_n"]
    negatives = n - positives
    if positives == 0 or negatives == 0:
        return float("nan"), float("nan")
    negatives_here = F.col("_n") - F.col("_pos")
    positives_above = F.col("_cum__pos") - F.col("_pos")
    row = cumulated.agg(
        # Mann-Whitney: each negative scores below the positives above it; a tie counts one half
        F.sum(negatives_here * (positives_above + F.col("_pos") / 2.0)).alias("pairs"),
        # precision at the end of each group of tied scores, weighted by the recall it adds
        F.sum(F.col("_pos") * F.col("_cum__pos") / F.col("_cum__n")).alias("ap"),
    ).first()
    return row["pairs"] / (positives * negatives), row["ap"] / positives


def binary_metrics(frame, label: str, scores: Sequence[str]) -> pd.DataFrame:
    """ROC AUC, average precision, log loss and Brier score of each probability column, in Spark.

    The definitions of :func:`marketing.regression.binary_metrics`: ``roc_auc`` the probability
    that a random positive scores above a random negative, ties counting one half (equal to
    ``BinaryClassificationEvaluator(numBins=0)``; its default ``numBins=1000`` down-samples the
    curve); ``average_precision`` the sum over distinct thresholds of the recall gained times the
    precision, as scikit-learn steps it (Spark's ``areaUnderPR`` interpolates instead);
    ``log_loss`` = -mean(y log p + (1 - y) log(1 - p)) with p clipped to [1e-15, 1 - 1e-15];
    ``brier`` = mean((p - y)^2). AUC and average precision come from the distinct scores in
    decreasing order with their counts (see :func:`_running_sums`); NaN when the labels hold a
    single class.

    Returns
    -------
    DataFrame indexed by score column, with columns ``roc_auc``, ``average_precision``,
    ``log_loss``, ``brier``.

    Examples
    --------
    >>> frame = spark.createDataFrame(pd.DataFrame({"y": [0, 0, 1, 1], "p": [0.1, 0.6, 0.4, 0.8]}))
    >>> binary_metrics(frame, "y", ["p"]).loc["p"].round(4).to_dict()   # 3 of 4 pairs ordered right
    {'roc_auc': 0.75, 'average_precision': 0.8333, 'log_loss': 0.5403, 'brier': 0.1925}
    """
    F = _F()
    scores = list(scores)
    _require_columns(frame, [label, *scores], "predictions")
    y = F.col(label).cast("double")
    row = frame.agg(
        *[
            F.avg(
                -(y * F.log(F.least(F.greatest(F.col(s), F.lit(EPSILON)), F.lit(1 - EPSILON)))
                  + (1 - y) * F.log(1 - F.least(F.greatest(F.col(s), F.lit(EPSILON)), F.lit(1 - EPSILON))))
            ).alias(f"{s}__log_loss")
            for s in scores
        ],
        *[F.avg((F.col(s) - y) ** 2).alias(f"{s}__brier") for s in scores],
    ).first()
    rows = {}
    for s in scores:
        auc, ap = _ranking_metrics(frame, label, s)
        rows[s] = {
            "roc_auc": auc, "average_precision": ap, "log_loss": row[f"{s}__log_loss"], "brier": row[f"{s}__brier"],
        }
    return pd.DataFrame(rows).T.rename_axis("model")


def metric_table(kind: str, frame, label: str, predictions: Sequence[str]) -> pd.DataFrame:
    """:func:`continuous_metrics` or :func:`binary_metrics` for ``kind``."""
    if kind == "continuous":
        return continuous_metrics(frame, label, predictions)
    if kind == "binary":
        return binary_metrics(frame, label, predictions)
    raise ValueError(f"kind must be 'continuous' or 'binary', not {kind!r}.")


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

    @property
    def best(self) -> str:
        """The model with the best primary metric on the test part (baseline included)."""
        column = self.metrics[self.primary_metric]
        return str(column.idxmax() if GREATER_IS_BETTER[self.primary_metric] else column.idxmin())

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

    def sample(self, n: int = 5000, random_state: int | None = 0) -> pd.DataFrame:
        """At most ``n`` rows of :attr:`predictions` collected to pandas (for plots), by customer id."""
        return _bounded_sample(self.predictions, n, random_state).toPandas().set_index(CUSTOMER)


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


def fit_suite(kind: str, problem: SparkRegressionProblem, split: SparkSplit) -> SparkSuiteResult:
    """Fit the baseline and the GLM of ``kind`` on ``split.train``; evaluate both on ``split.test``.

    The Spark counterpart of :func:`marketing.regression.fit_suite` for its ``baseline`` and
    ``linear`` / ``logistic`` models. Nothing here is random, so there is no ``random_state``.

    Parameters
    ----------
    kind : {"continuous", "binary"}
    problem : SparkRegressionProblem
    split : SparkSplit
        From :func:`holdout`.

    Raises
    ------
    DataValidationError
        A target with a single value in the training or test part, or terms that are constant or
        collinear on the training part (the GLM's coefficients would not be identifiable).

    Examples
    --------
    >>> from marketing.spark.data import load_spark_data
    >>> problem = regression_problem(load_spark_data("ecommerce", spark))
    >>> result = fit_suite("continuous", problem, holdout(problem, "continuous"))
    >>> result.best, list(result.metrics.index)
    ('linear', ['baseline', 'linear'])
    >>> result.coefficient_table().loc["channel_app", ["estimate", "std_err"]].round(2).tolist()
    [11.47, 1.25]
    """
    F = _F()
    if kind not in KINDS:
        raise ValueError(f"kind must be 'continuous' or 'binary', not {kind!r}.")
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
    scored = model.transform(encoder.transform(split.test))
    predictions = scored.select(
        CUSTOMER, F.col(label), F.lit(baseline).alias("baseline"), F.col("_prediction").alias(name)
    )
    metrics = metric_table(kind, predictions, label, ["baseline", name])
    return SparkSuiteResult(
        kind, label, encoder, {name: model}, baseline, predictions, metrics, PRIMARY_METRIC[kind], split.n_train
    )


# --------------------------------------------------------------------------------------------
# targeting
# --------------------------------------------------------------------------------------------


def _bins(frame, label: str | None, score: str, n_bins: int, *, descending: bool, table: str) -> pd.DataFrame:
    """Per equal-count bin of the score order: customers, positives and the sum of scores."""
    F = _F()
    if not isinstance(n_bins, int | np.integer) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer, not {n_bins!r}.")
    columns = [CUSTOMER, score, *([label] if label else [])]
    _require_columns(frame, columns, table)
    ranked, n = _ranked(frame.select(*columns), _score_order(score, descending), check=score, table=table)
    if n == 0:
        raise DataValidationError(f"{table}: no rows to rank.")
    binned = ranked.withColumn("bin", _bin_of("_rank", n_bins, n))
    aggregates = [F.count(F.lit(1)).alias("customers"), F.sum(score).alias("score_sum")]
    if label:
        aggregates.append(F.sum(F.col(label).cast("double")).alias("positives"))
    return binned.groupBy("bin").agg(*aggregates).toPandas().set_index("bin").sort_index()


def gains_table(frame, label: str, score: str, n_bins: int = 10) -> pd.DataFrame:
    """Gains and lift by score decile (decile 1 = highest scores), computed in Spark.

    The table of :func:`marketing.regression.gains_table`: rows ranked by decreasing score, ties
    by customer id, cut into equal-count bins (the first bins one row smaller when ``n`` is not a
    multiple of ``n_bins``), with ``customers``, ``positives``, ``rate``, ``lift``,
    ``cum_share_contacted``, ``cum_gain`` and ``cum_lift``.

    Examples
    --------
    >>> frame = spark.createDataFrame(pd.DataFrame({"customer_id": range(10),
    ...     "y": [1, 1, 0, 1, 0, 0, 0, 0, 0, 0], "p": np.arange(10, 0, -1) / 10}))
    >>> table = gains_table(frame, "y", "p", n_bins=5)
    >>> table["positives"].tolist(), table["lift"].round(3).tolist()
    ([2, 1, 0, 0, 0], [3.333, 1.667, 0.0, 0.0, 0.0])
    """
    binned = _bins(frame, label, score, n_bins, descending=True, table="gains_table")
    total = binned["positives"].sum()
    if total == 0:
        raise DataValidationError("gains_table: the outcome has no positives, so gains are undefined.")
    n = binned["customers"].sum()
    table = pd.DataFrame(
        {"customers": binned["customers"].astype("int64"), "positives": binned["positives"].astype("int64")}
    )
    table.index = table.index.rename("decile")
    table["rate"] = table["positives"] / table["customers"]
    table["lift"] = table["rate"] / (total / n)
    table["cum_share_contacted"] = table["customers"].cumsum() / n
    table["cum_gain"] = table["positives"].cumsum() / total
    table["cum_lift"] = table["cum_gain"] / table["cum_share_contacted"]
    return table


def calibration_table(frame, label: str, score: str, n_bins: int = 10) -> pd.DataFrame:
    """Observed positive rate against mean predicted probability in equal-count bins, in Spark.

    The table of :func:`marketing.regression.calibration_table`: rows ranked by increasing
    probability (ties by customer id) and cut into ``n_bins`` groups.

    Examples
    --------
    >>> frame = spark.createDataFrame(pd.DataFrame({"customer_id": [1, 2, 3, 4],
    ...     "y": [0, 0, 1, 1], "p": [0.1, 0.3, 0.6, 0.8]}))
    >>> calibration_table(frame, "y", "p", n_bins=2)
         predicted  observed  customers
    bin
    1          0.2       0.0          2
    2          0.7       1.0          2
    """
    binned = _bins(frame, label, score, n_bins, descending=False, table="calibration_table")
    return pd.DataFrame(
        {
            "predicted": binned["score_sum"] / binned["customers"],
            "observed": binned["positives"] / binned["customers"],
            "customers": binned["customers"].astype("int64"),
        }
    )


def rule_profit(frame, label: str, score: str, contact_cost: float, response_value: float) -> dict[str, float]:
    """What the break-even contact rule does on ``frame``: contacts and expected and realised profit.

    The rule contacts the customers whose probability exceeds
    :func:`~marketing.regression.break_even_probability`; they are the top ``contacted`` of
    :func:`marketing.regression.profit_curve`, whose row ``contacted`` this reproduces:
    ``expected_profit`` = sum(p * response_value - contact_cost) and ``realised_profit`` =
    sum(y * response_value - contact_cost) over the contacted customers.

    Examples
    --------
    >>> frame = spark.createDataFrame(pd.DataFrame({"customer_id": [1, 2, 3, 4],
    ...     "y": [1, 0, 1, 0], "p": [0.8, 0.6, 0.4, 0.2]}))
    >>> rule_profit(frame, "y", "p", contact_cost=5.0, response_value=10.0)   # break-even 0.5
    {'contacted': 2, 'share_contacted': 0.5, 'expected_profit': 4.0, 'realised_profit': 0.0}
    """
    F = _F()
    threshold = break_even_probability(contact_cost, response_value)
    _require_columns(frame, [label, score], "rule_profit")
    chosen = F.col(score) > F.lit(threshold)
    row = frame.agg(
        F.count(F.lit(1)).alias("n"),
        F.sum(F.when(chosen, 1).otherwise(0)).alias("k"),
        F.sum(F.when(chosen, F.col(score) * response_value - contact_cost).otherwise(0.0)).alias("expected"),
        F.sum(F.when(chosen, F.col(label).cast("double") * response_value - contact_cost).otherwise(0.0)).alias("realised"),
    ).first()
    return {
        "contacted": int(row["k"] or 0),
        "share_contacted": (row["k"] or 0) / row["n"] if row["n"] else float("nan"),
        "expected_profit": float(row["expected"] or 0.0),
        "realised_profit": float(row["realised"] or 0.0),
    }


def profit_curve(
    frame, label: str, score: str, contact_cost: float, response_value: float, n_points: int = 100
) -> pd.DataFrame:
    """The profit curve at ``n_points`` equal-count cuts of the score order, the rule's and the best cut.

    The points of :func:`marketing.regression.profit_curve` (same columns: ``contacted``,
    ``share_contacted``, ``expected_profit``, ``realised_profit``) at ``contacted`` = 0, the end
    of each of ``n_points`` equal-count bins of decreasing score (ties by customer id), the number
    the break-even rule contacts (:func:`rule_profit`, so a plot can mark it) and the cut with the
    highest realised profit in hindsight (the first, if several; so ``realised_profit.idxmax()``
    finds it as on the full curve). The pandas curve has a point for every ``k``; at scale,
    ``n_points`` cuts draw the same line.

    Examples
    --------
    >>> frame = spark.createDataFrame(pd.DataFrame({"customer_id": [1, 2, 3, 4],
    ...     "y": [1, 0, 1, 0], "p": [0.8, 0.6, 0.4, 0.2]}))
    >>> profit_curve(frame, "y", "p", 1.0, 10.0, n_points=4)["realised_profit"].tolist()
    [0.0, 9.0, 8.0, 17.0, 16.0]
    """
    F = _F()
    threshold = break_even_probability(contact_cost, response_value)
    if not isinstance(n_points, int | np.integer) or n_points < 1:
        raise ValueError(f"n_points must be a positive integer, not {n_points!r}.")
    _require_columns(frame, [CUSTOMER, label, score], "profit_curve")
    sums = {
        "_one": F.lit(1).cast("long"),
        "_missing": F.when(F.col(score).isNull() | F.isnan(score), 1).otherwise(0).cast("long"),
        "_gain": F.col(label).cast("double") * response_value - contact_cost,
        "_expect": F.col(score) * response_value - contact_cost,
    }
    cumulated, totals = _running_sums(
        frame.select(CUSTOMER, score, label, *[e.alias(n) for n, e in sums.items()]), _score_order(score), list(sums)
    )
    if totals["_missing"]:
        raise DataValidationError(
            f"profit_curve: score {score!r} has {int(totals['_missing'])} missing value(s); every customer needs a "
            "score to be ranked."
        )
    n = int(totals["_one"])
    chosen = F.col(score) > F.lit(threshold)
    row = cumulated.agg(
        # the largest realised profit, and of equal ones the fewest contacts
        F.max(F.struct(F.col("_cum__gain"), -F.col("_cum__one"), F.col("_cum__expect"))).alias("best"),
        F.sum(F.when(chosen, 1).otherwise(0)).alias("rule_k"),
        F.sum(F.when(chosen, F.col("_gain")).otherwise(0.0)).alias("rule_realised"),
        F.sum(F.when(chosen, F.col("_expect")).otherwise(0.0)).alias("rule_expected"),
    ).first()
    # the end of each equal-count bin: its last row's running sums
    cuts = (
        cumulated.withColumn("_bin", F.expr(f"(_cum__one - 1) * {int(n_points)} div {n}"))
        .groupBy("_bin")
        .agg(
            F.max("_cum__one").alias("contacted"),
            F.max_by("_cum__expect", "_cum__one").alias("expected_profit"),
            F.max_by("_cum__gain", "_cum__one").alias("realised_profit"),
        )
        .drop("_bin")
        .toPandas()
    )
    points = [{"contacted": 0, "expected_profit": 0.0, "realised_profit": 0.0}]
    points.append({"contacted": int(row["rule_k"] or 0), "expected_profit": float(row["rule_expected"] or 0.0),
                   "realised_profit": float(row["rule_realised"] or 0.0)})
    best = row["best"]
    if best is not None and best[0] > 0:
        points.append(
            {"contacted": int(-best[1]), "expected_profit": float(best[2]), "realised_profit": float(best[0])}
        )
    curve = pd.concat([pd.DataFrame(points), cuts], ignore_index=True)
    curve = curve.drop_duplicates("contacted").sort_values("contacted", kind="stable").astype({"contacted": "int64"})
    curve.insert(1, "share_contacted", curve["contacted"] / n)
    return curve[["contacted", "share_contacted", "expected_profit", "realised_profit"]].reset_index(drop=True)


def contact_totals(contacts) -> dict[str, float]:
    """Customers listed, customers to contact and their expected profit, from :func:`campaign_list`.

    Examples
    --------
    >>> frame = spark.createDataFrame(pd.DataFrame({"customer_id": [11, 12, 13], "p": [0.02, 0.5, 0.1]}))
    >>> contact_totals(campaign_list(frame, "p", contact_cost=5.0, response_value=100.0))
    {'customers': 3, 'contacted': 2, 'expected_profit': 50.0}
    """
    F = _F()
    chosen = F.col("contact") == "yes"
    row = contacts.agg(
        F.count(F.lit(1)).alias("customers"),
        F.sum(F.when(chosen, 1).otherwise(0)).alias("contacted"),
        F.sum(F.when(chosen, F.col("expected_profit")).otherwise(0.0)).alias("expected_profit"),
    ).first()
    return {
        "customers": int(row["customers"]),
        "contacted": int(row["contacted"] or 0),
        "expected_profit": float(row["expected_profit"] or 0.0),
    }


def campaign_list(
    frame,
    score: str,
    contact_cost: float,
    response_value: float,
    *,
    actions: dict[str, str] | None = None,
    n_bins: int = 10,
):
    """The campaign list for every customer of ``frame``, as a Spark DataFrame (not collected).

    The columns of :func:`marketing.regression.campaign_list`: ``customer_id``, ``score``,
    ``decile`` (1 = highest, ties by customer id), ``band`` (:data:`~marketing.regression.targeting.SCORE_BANDS`),
    ``contact`` ("yes" above the break-even probability), ``expected_profit`` and, given the
    playbook's ``actions`` per band, ``action``. The rows are laid out from the highest score
    down: ``toPandas()``, ``limit(n)`` and :func:`export_campaign_list` keep that order (an
    operation that shuffles, such as a join, does not).

    Examples
    --------
    >>> frame = spark.createDataFrame(pd.DataFrame({"customer_id": [11, 12, 13], "p": [0.02, 0.5, 0.1]}))
    >>> campaign_list(frame, "p", contact_cost=5.0, response_value=100.0).toPandas()
       customer_id  score  decile    band contact  expected_profit
    0           12   0.50       1    high     yes             45.0
    1           13   0.10       4  medium     yes              5.0
    2           11   0.02       7     low      no             -3.0
    """
    F = _F()
    threshold = break_even_probability(contact_cost, response_value)
    if not isinstance(n_bins, int | np.integer) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer, not {n_bins!r}.")
    _require_columns(frame, [CUSTOMER, score], "campaign_list")
    ranked, n = _ranked(
        frame.select(CUSTOMER, F.col(score).alias("score")), _score_order("score"), check="score", table="campaign_list"
    )
    decile = _bin_of("_rank", n_bins, n)
    # the band cut points are stated in tenths (small integers: the division is exact enough)
    scaled = F.floor((decile - 1) * 10 / F.lit(int(n_bins))) + 1
    band = (
        F.when(scaled <= SCORE_BANDS["high"][1], "high")
        .when(scaled <= SCORE_BANDS["medium"][1], "medium")
        .otherwise("low")
    )
    out = ranked.select(
        CUSTOMER,
        "score",
        decile.alias("decile"),
        band.alias("band"),
        F.when(F.col("score") > F.lit(threshold), "yes").otherwise("no").alias("contact"),
        (F.col("score") * response_value - contact_cost).alias("expected_profit"),
    )
    if actions is not None:
        mapping = F.create_map(*[F.lit(x) for pair in actions.items() for x in pair])
        out = out.withColumn("action", mapping[F.col("band")])
    # no orderBy: the rows are already laid out in rank order (partition i holds the i-th range,
    # sorted), which collecting, limit() and writing keep; sorting again would shuffle every row
    return out


def export_campaign_list(frame, export_dir: str | Path = ".") -> str:
    """Write the campaign list with Spark as CSV part files; return the folder's path.

    The folder is named as the pandas export's file, ``contact_list_crm_real_ids.csv``
    (:func:`marketing.privacy.crm_export_path`): it holds real customer ids, for the CRM only.
    Scores are rounded to 4 decimals and profits to 2, as on the pandas path; the part files, read
    in name order, list customers from the highest score down. A path without a scheme is
    relative to this process's working directory; on a cluster give a shared location
    (``hdfs://``, ``s3a://``, ...).
    """
    from marketing.privacy import crm_export_path

    F = _F()
    name = crm_export_path(".", "contact_list").name
    folder = str(export_dir)
    target = f"{folder.rstrip('/')}/{name}" if "://" in folder else str(Path(folder).resolve() / name)
    rounded = frame.withColumn("score", F.round("score", 4)).withColumn("expected_profit", F.round("expected_profit", 2))
    rounded.write.mode("overwrite").option("header", True).csv(target)
    return target
