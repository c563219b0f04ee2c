"""The regression problem of a case: features, the two targets, the time column and the exclusions.

Everything a model may see is decided here, once, and checked: the case's
``regression_features`` (built by :func:`marketing.features.customer_table`), never a column
listed in the case's ``leakage`` section, and targets that are numeric, complete and not
constant. Bad input raises :class:`~marketing.validation.DataValidationError` naming the column
and the fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import narwhals as nw
import pandas as pd

from marketing.cases import CaseStudy, get_case
from marketing.columns import CUSTOMER, SIGNUP
from marketing.engines import engine_of
from marketing.frames import as_frame, collect, count_where, scalars
from marketing.validation import DataValidationError

KINDS = ("continuous", "binary")
#: narwhals types a feature may have as categories
TEXT = (nw.String, nw.Categorical, nw.Enum, nw.Object)


def check_targets(customers, columns: dict[str, str], case: str | None = None) -> None:
    """Validate target columns of a table on any engine, in one aggregate pass: the one target check.

    Parameters
    ----------
    customers : DataFrame (pandas or Spark, native or narwhals)
        The table holding the targets.
    columns : dict of str to str
        ``"continuous"`` and / or ``"binary"`` -> column name.
    case : str, optional
        The case the targets belong to, named when a column is missing.

    Raises
    ------
    DataValidationError
        A missing or non-numeric column, missing values, an empty table, a constant continuous
        target, a binary target with values other than 0/1 or with a single class.

    Examples
    --------
    >>> check_targets(pd.DataFrame({"spend": [3.0, 3.0]}), {"continuous": "spend"})
    Traceback (most recent call last):
    ...
    marketing.validation.DataValidationError: target 'spend' is constant (every value is 3.0): there is nothing to predict. Choose another target column or check how it was computed.
    """
    frame = as_frame(customers)
    schema = frame.collect_schema()
    for kind, column in columns.items():
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {list(KINDS)}, not {kind!r}.")
        if column not in schema:
            others = [c for c in schema.names() if c != CUSTOMER]
            raise DataValidationError(
                f"table 'customers' has no target column '{column}' ({kind} target of case "
                f"{case!r}); it has {others}. Add it or fix targets.{kind}.column."
            )
        if not (schema[column].is_numeric() or schema[column] == nw.Boolean):
            # an example that is not a number (the first value when they all look like one)
            examples = collect(frame.filter(~nw.col(column).is_null()).select(column).head(20))[column].tolist()
            bad = [v for v in examples if pd.isna(pd.to_numeric(pd.Series([v]), errors="coerce").iloc[0])] or examples
            shown = f", such as {bad[0]!r}" if bad else ""
            raise DataValidationError(
                f"target '{column}' must be numeric but has type {schema[column]}{shown}. "
                "Convert it to numbers (binary targets as 0/1) before modelling."
            )
    values = {kind: nw.col(c).cast(nw.Float64) for kind, c in columns.items()}
    aggregates = {"rows": nw.len()}
    for kind, v in values.items():
        aggregates |= {f"{kind}_missing": count_where(v.is_null() | v.is_nan()), f"{kind}_min": v.min(), f"{kind}_max": v.max()}
    if "binary" in values:
        aggregates["binary_other"] = count_where(~values["binary"].is_in([0.0, 1.0]))
    row = scalars(frame, **aggregates)
    if not row["rows"]:
        raise DataValidationError(f"target '{next(iter(columns.values()))}' is empty: it needs at least one row.")
    for kind, column in columns.items():
        if row[f"{kind}_missing"]:
            raise DataValidationError(
                f"target '{column}' has {row[f'{kind}_missing']} missing value(s). Rows without an outcome cannot be "
                "used for training or evaluation: drop them (and report how many) or fill them first."
            )
    if "continuous" in columns and row["continuous_min"] == row["continuous_max"]:
        raise DataValidationError(
            f"target '{columns['continuous']}' is constant (every value is {float(row['continuous_min'])}): there is "
            "nothing to predict. Choose another target column or check how it was computed."
        )
    if "binary" in columns:
        column = columns["binary"]
        if row["binary_other"]:
            found = collect(frame.select(column).filter(~nw.col(column).is_null()).unique().sort(column).head(5))
            raise DataValidationError(
                f"binary target '{column}' must hold 0/1 but has values {found[column].tolist()}. "
                "Map the positive outcome to 1 and the rest to 0."
            )
        if row["binary_min"] == row["binary_max"]:
            raise DataValidationError(
                f"binary target '{column}' has a single class (every value is {int(row['binary_min'])}): a "
                "classifier needs both outcomes. Use a longer label window or another target."
            )


def check_target(y: pd.Series, kind: str, name: str | None = None) -> pd.Series:
    """Validate a regression target (:func:`check_targets`) and return it as float (continuous) or 0/1 int (binary).

    Parameters
    ----------
    y : Series
        The target values.
    kind : {"continuous", "binary"}
    name : str, optional
        The column name used in messages (defaults to ``y.name``).

    Examples
    --------
    >>> check_target(pd.Series([0, 1, 1], name="churned"), "binary").tolist()
    [0, 1, 1]
    >>> check_target(pd.Series(["1", "x"], name="spend"), "continuous")
    Traceback (most recent call last):
    ...
    marketing.validation.DataValidationError: target 'spend' must be numeric but has type String, such as 'x'. Convert it to numbers (binary targets as 0/1) before modelling.
    """
    name = name or str(y.name)
    check_targets(pd.DataFrame({name: y.to_numpy()}, index=y.index), {kind: name})
    return y.astype(float) if kind == "continuous" else y.astype("int64")


def check_feature_table(frame, columns, table: str = "features") -> tuple[int, list[str], list[str], list[str]]:
    """Check the feature columns of a table on any engine (one aggregate pass): its rows and the
    (numeric, boolean, text) columns.

    Raises
    ------
    DataValidationError
        No rows or no columns, a column with no values at all, a column of dates or durations, or
        one of another type than numbers, booleans and text.

    Examples
    --------
    >>> check_feature_table(pd.DataFrame({"age": [30.0, None], "vip": [True, False], "region": ["n", "s"]}), ["age", "vip", "region"])
    (2, ['age'], ['vip'], ['region'])
    """
    frame = as_frame(frame, columns, table)
    row = scalars(frame, **{"_rows": nw.len()}, **{f"_{i}": nw.col(c).count() for i, c in enumerate(columns)})
    if row["_rows"] == 0 or not columns:
        raise DataValidationError(
            f"{table}: the table has {row['_rows']} row(s) and {len(columns)} column(s); a model "
            "needs at least one of each. Check the case's regression_features."
        )
    schema, kinds = frame.collect_schema(), ([], [], [])
    for i, column in enumerate(columns):
        dtype = schema[column]
        if not row[f"_{i}"]:
            raise DataValidationError(
                f"{table}: column '{column}' has no values at all (every row is missing). Drop it "
                "from the case's regression_features or fix how it is loaded."
            )
        if dtype.is_temporal():
            raise DataValidationError(
                f"{table}: column '{column}' holds dates; models need numbers or categories. "
                "Derive a number from it (for example days since sign-up) instead."
            )
        kind = 1 if dtype == nw.Boolean else 0 if dtype.is_numeric() else 2 if dtype in TEXT else None
        if kind is None:
            raise DataValidationError(
                f"{table}: column '{column}' has type {dtype}; models need numbers, booleans or text "
                "categories. Convert it before modelling."
            )
        kinds[kind].append(column)
    return row["_rows"], *kinds


def check_features(X: pd.DataFrame, table: str = "features") -> pd.DataFrame:
    """Validate a feature table (:func:`check_feature_table`); text columns become pandas categoricals,
    boolean columns 0/1 integers.

    Examples
    --------
    >>> check_features(pd.DataFrame({"age": [30.0, None], "region": ["n", "s"]})).dtypes.tolist()
    [dtype('float64'), CategoricalDtype(categories=['n', 's'], ordered=False, categories_dtype=str)]
    >>> check_features(pd.DataFrame({"age": [None, None]}))
    Traceback (most recent call last):
    ...
    marketing.validation.DataValidationError: features: column 'age' has no values at all (every row is missing). Drop it from the case's regression_features or fix how it is loaded.
    """
    _, _, boolean, text = check_feature_table(X, list(X.columns), table)
    converted = {c: X[c].astype("int64") for c in boolean}
    converted |= {c: X[c].astype("category") for c in text if not isinstance(X[c].dtype, pd.CategoricalDtype)}
    return X.assign(**converted) if converted else X


def excluded_columns(case: CaseStudy, columns) -> pd.DataFrame:
    """The case's leakage columns with the reason each is excluded and whether the data (``columns``) has it."""
    return pd.DataFrame(
        {
            "reason": pd.Series(case.leakage, dtype="str"),
            "in_data": pd.Series({c: c in columns for c in case.leakage}, dtype=bool),
        }
    ).rename_axis("column")


@dataclass(frozen=True)
class RegressionProblem:
    """What the models see and predict, one row per customer.

    Attributes
    ----------
    features : DataFrame
        The case's regression features, indexed by customer id.
    targets : dict of str to Series
        ``"continuous"`` and ``"binary"`` targets aligned with ``features``.
    meanings : dict of str to str
        The business meaning of each target.
    time : Series or None
        Sign-up date per customer (for the time-based holdout), when the data has one.
    excluded : DataFrame
        The case's leakage columns with the reason each is excluded and whether the data has it.
    """

    features: pd.DataFrame
    targets: dict[str, pd.Series]
    meanings: dict[str, str]
    time: pd.Series | None
    excluded: pd.DataFrame

    def target_column(self, kind: str) -> str:
        """The name of the ``kind`` target column."""
        return str(self.targets[kind].name)

    @property
    def feature_columns(self) -> list[str]:
        """The feature names, in order."""
        return list(self.features.columns)

    @property
    def levels(self) -> dict[str, list]:
        """Categorical features and their levels, the reference level first."""
        return {c: list(v.cat.categories) for c, v in self.features.items() if isinstance(v.dtype, pd.CategoricalDtype)}

    @cached_property
    def table(self) -> pd.DataFrame:
        """One frame: ``customer_id``, the features and the two target columns (as on Spark)."""
        targets = {str(y.name): y for y in self.targets.values()}
        return self.features.assign(**targets).rename_axis(CUSTOMER).reset_index()


@dataclass(frozen=True)
class NotDefined:
    """What :func:`~marketing.regression.fit_suite` returns for a target the case does not define.

    Every report section of that target takes it and stays empty; :func:`~marketing.regression.report.show_suite`
    says once why. A case needs one target, not both.
    """

    kind: str
    reason: str


def defined_kinds(case: CaseStudy) -> list[str]:
    """The target kinds the case defines, in :data:`KINDS` order."""
    return [kind for kind in KINDS if kind in case.targets]


def regression_case(data, case: str | CaseStudy | None = None) -> CaseStudy:
    """The case a regression problem is built for, checked: no leaking feature, at least one target defined.

    Shared by both engines (:func:`regression_problem` and its Spark counterpart).
    """
    case = get_case(case if case is not None else data.case)
    leaking = [f for f in case.regression_features if f in case.leakage]
    if leaking:
        raise DataValidationError(
            f"case {case.name!r}: regression_features {leaking} are listed under leakage "
            f"({'; '.join(case.leakage[f] for f in leaking)}). Remove them from regression_features."
        )
    if not defined_kinds(case):
        raise DataValidationError(
            f"case {case.name!r} defines no target under 'targets': give a continuous one, a binary one, or both."
        )
    return case


def regression_problem(data, case: str | CaseStudy | None = None) -> RegressionProblem:
    """Build and validate a case's regression problem from its canonical data, on the data's engine.

    In memory (pandas, DuckDB) a :class:`RegressionProblem`; on Spark a
    :class:`marketing.spark.regression.SparkRegressionProblem` with the same attributes
    (``table``, ``feature_columns``, ``levels``, ``meanings``, ``excluded``, ``target_column``)
    and the same checks and messages.

    Parameters
    ----------
    data : CaseData or SparkCaseData
        From :func:`marketing.engines.load_data`.
    case : str or CaseStudy, optional
        Defaults to ``data.case``.

    Raises
    ------
    DataValidationError
        A leakage column listed as a feature, or any failure of :func:`check_targets` /
        :func:`check_feature_table` (the same checks and messages on every engine).

    Examples
    --------
    >>> from marketing.datasets import load_case_data
    >>> problem = regression_problem(load_case_data("finance"))
    >>> list(problem.features.columns)
    ['frequency', 'age', 'income', 'balance', 'region']
    >>> problem.excluded.loc["call_duration", "in_data"]
    np.True_
    """
    case = regression_case(data, case)
    targets = {kind: case.targets[kind].column for kind in defined_kinds(case)}
    check_targets(data.customers, targets, case.name)  # the one check, on every engine
    if engine_of(data) == "spark":
        from marketing.spark import regression as spark_regression

        return spark_regression.problem_of(data, case)
    from marketing.features import customer_table

    customers = data.customers.set_index(CUSTOMER)
    y = {kind: customers[c].astype(float) if kind == "continuous" else customers[c].astype("int64") for kind, c in targets.items()}
    meanings = {kind: case.targets[kind].meaning for kind in targets}
    features = check_features(customer_table(data, case.regression_features).loc[customers.index])
    time = customers[SIGNUP] if SIGNUP in customers else None
    return RegressionProblem(features, y, meanings, time, excluded_columns(case, customers.columns))


def feature_overview(problem) -> pd.DataFrame:
    """One row per feature: its type, share missing, and a summary (mean and sd, or the share of each level).

    Computed where the problem's table is (pandas or Spark). Level shares are among the customers
    with a value; the standard deviation is the sample one.

    Examples
    --------
    >>> from marketing.datasets import load_case_data
    >>> feature_overview(regression_problem(load_case_data("ecommerce"))).loc["channel", "summary"]
    'web (reference) 60%, app 40%'
    """
    columns, levels = problem.feature_columns, problem.levels
    aggregates = {"_rows": nw.len()}
    for column in columns:
        aggregates[f"{column}__present"] = nw.col(column).count()
        if column in levels:
            aggregates.update({f"{column}__{i}": count_where(nw.col(column) == level) for i, level in enumerate(levels[column])})
        else:
            aggregates[f"{column}__mean"] = nw.col(column).mean()
            aggregates[f"{column}__sd"] = nw.col(column).std(ddof=1)
    row = scalars(as_frame(problem.table, columns, "features"), **aggregates)
    rows = {}
    for column in columns:
        present = row[f"{column}__present"]
        if column in levels:
            shares = [
                f"{level}{' (reference)' if i == 0 else ''} {row[f'{column}__{i}'] / present:.0%}"
                for i, level in enumerate(levels[column])
            ]
            rows[column] = ("categorical", ", ".join(shares))
        else:
            sd = float("nan") if row[f"{column}__sd"] is None else row[f"{column}__sd"]
            rows[column] = ("numeric", f"mean {row[f'{column}__mean']:.4g}, sd {sd:.4g}")
    table = pd.DataFrame(rows, index=["type", "summary"]).T
    missing = pd.Series({c: round((row["_rows"] - row[f"{c}__present"]) / row["_rows"], 3) for c in columns})
    table.insert(1, "missing_share", missing.astype(object))
    return table.rename_axis("feature")


def target_summary(problem) -> dict[str, float]:
    """Customers, the continuous target's mean and sample sd, and the binary target's positive rate.

    Examples
    --------
    >>> from marketing.datasets import load_case_data
    >>> summary = target_summary(regression_problem(load_case_data("ecommerce")))
    >>> summary["customers"], round(summary["positive_rate"], 3)
    (2000, 0.314)
    """
    columns = {kind: problem.target_column(kind) for kind in problem.targets}
    aggregates = {"customers": nw.len()}
    if "continuous" in columns:
        aggregates |= {"mean": nw.col(columns["continuous"]).mean(), "sd": nw.col(columns["continuous"]).std(ddof=1)}
    if "binary" in columns:
        aggregates["positive_rate"] = nw.col(columns["binary"]).cast(nw.Float64).mean()
    row = scalars(as_frame(problem.table, list(columns.values()), "targets"), **aggregates)
    return {"customers": int(row["customers"]), **{k: float(row[k]) for k in aggregates if k != "customers"}}
