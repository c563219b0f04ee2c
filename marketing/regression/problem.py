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
import numpy as np
import pandas as pd

from marketing.cases import CaseStudy, get_case
from marketing.columns import CUSTOMER, SIGNUP
from marketing.engines import engine_of
from marketing.frames import count_where
from marketing.regression.frames import as_frame, scalars
from marketing.validation import DataValidationError

KINDS = ("continuous", "binary")


def check_target(y: pd.Series, kind: str, name: str | None = None) -> pd.Series:
    """Validate a regression target and return it as float (continuous) or 0/1 int (binary).

    Parameters
    ----------
    y : Series
        The target values.
    kind : {"continuous", "binary"}
    name : str, optional
        The column name used in messages (defaults to ``y.name``).

    Raises
    ------
    DataValidationError
        Non-numeric values, missing values, a constant continuous target, a binary target
        with values other than 0/1 or with a single class.

    Examples
    --------
    >>> check_target(pd.Series([0, 1, 1], name="churned"), "binary").tolist()
    [0, 1, 1]
    >>> check_target(pd.Series([3.0, 3.0], name="spend"), "continuous")
    Traceback (most recent call last):
    ...
    marketing.validation.DataValidationError: target 'spend' is constant (every value is 3.0): there is nothing to predict. Choose another target column or check how it was computed.
    """
    name = name or str(y.name)
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {list(KINDS)}, not {kind!r}.")
    if not pd.api.types.is_numeric_dtype(y) or pd.api.types.is_bool_dtype(y):
        if pd.api.types.is_bool_dtype(y):
            y = y.astype("int64")
        else:
            coerced = pd.to_numeric(y, errors="coerce")
            bad = y[coerced.isna() & y.notna()]
            example = f", such as {bad.iloc[0]!r}" if len(bad) else ""
            raise DataValidationError(
                f"target '{name}' must be numeric but has dtype {y.dtype}{example}. "
                "Convert it to numbers (binary targets as 0/1) before modelling."
            )
    missing = int(y.isna().sum())
    if missing:
        raise DataValidationError(
            f"target '{name}' has {missing} missing value(s). Rows without an outcome cannot be "
            "used for training or evaluation: drop them (and report how many) or fill them first."
        )
    if len(y) == 0:
        raise DataValidationError(f"target '{name}' is empty: it needs at least one row.")
    if kind == "continuous":
        if y.nunique() < 2:
            raise DataValidationError(
                f"target '{name}' is constant (every value is {float(y.iloc[0])}): there is "
                "nothing to predict. Choose another target column or check how it was computed."
            )
        return y.astype(float)
    values = set(np.unique(y.to_numpy()).tolist())
    if not values <= {0, 1}:
        raise DataValidationError(
            f"binary target '{name}' must hold 0/1 but has values {sorted(values)[:5]}. "
            "Map the positive outcome to 1 and the rest to 0."
        )
    if len(values) < 2:
        raise DataValidationError(
            f"binary target '{name}' has a single class (every value is {values.pop()}): a "
            "classifier needs both outcomes. Use a longer label window or another target."
        )
    return y.astype("int64")


def check_features(X: pd.DataFrame, table: str = "features") -> pd.DataFrame:
    """Validate a feature table: not empty, no all-missing column, numeric or categorical columns.

    Text columns become pandas categoricals; boolean columns become 0/1 integers.

    Raises
    ------
    DataValidationError
        An empty table, a column with no values at all, or a column of dates.

    Examples
    --------
    >>> check_features(pd.DataFrame({"age": [30.0, None], "region": ["n", "s"]})).dtypes.tolist()
    [dtype('float64'), CategoricalDtype(categories=['n', 's'], ordered=False, categories_dtype=str)]
    >>> check_features(pd.DataFrame({"age": [None, None]}))
    Traceback (most recent call last):
    ...
    marketing.validation.DataValidationError: features: column 'age' has no values at all (every row is missing). Drop it from the case's regression_features or fix how it is loaded.
    """
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise DataValidationError(
            f"{table}: the table has {X.shape[0]} row(s) and {X.shape[1]} column(s); a model "
            "needs at least one of each. Check the case's regression_features."
        )
    converted = {}
    for column in X.columns:
        values = X[column]
        if values.isna().all():
            raise DataValidationError(
                f"{table}: column '{column}' has no values at all (every row is missing). Drop it "
                "from the case's regression_features or fix how it is loaded."
            )
        if pd.api.types.is_datetime64_any_dtype(values) or pd.api.types.is_timedelta64_dtype(values):
            raise DataValidationError(
                f"{table}: column '{column}' holds dates; models need numbers or categories. "
                "Derive a number from it (for example days since sign-up) instead."
            )
        if pd.api.types.is_bool_dtype(values):
            converted[column] = values.astype("int64")
        elif not pd.api.types.is_numeric_dtype(values) and not isinstance(values.dtype, pd.CategoricalDtype):
            converted[column] = values.astype("category")
    return X.assign(**converted) if converted else X


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


def regression_case(data, case: str | CaseStudy | None = None) -> CaseStudy:
    """The case a regression problem is built for, checked: no leaking feature, both targets defined.

    Shared by both engines (:func:`regression_problem` and its Spark counterpart).
    """
    case = get_case(case if case is not None else data.case)
    leaking = [f for f in case.regression_features if f in case.leakage]
    if leaking:
        raise DataValidationError(
            f"case {case.name!r}: regression_features {leaking} are listed under leakage "
            f"({'; '.join(case.leakage[f] for f in leaking)}). Remove them from regression_features."
        )
    missing = [k for k in KINDS if k not in case.targets]
    if missing:
        raise DataValidationError(f"case {case.name!r} defines no {missing} target(s) under 'targets'.")
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
        A leakage column listed as a feature, a target column missing from the customers table,
        or any failure of :func:`check_target` / :func:`check_features`.

    Examples
    --------
    >>> from marketing.datasets import load_case_data
    >>> problem = regression_problem(load_case_data("finance"))
    >>> list(problem.features.columns)
    ['frequency', 'age', 'income', 'balance', 'region']
    >>> problem.excluded.loc["call_duration", "in_data"]
    np.True_
    """
    if engine_of(data) == "spark":
        from marketing.spark import regression as spark_regression

        return spark_regression.regression_problem(data, case)
    from marketing.features import customer_table

    case = regression_case(data, case)
    customers = data.customers.set_index(CUSTOMER)
    targets, meanings = {}, {}
    for kind in KINDS:
        column = case.targets[kind].column
        if column not in customers:
            raise DataValidationError(
                f"table 'customers' has no target column '{column}' ({kind} target of case "
                f"{case.name!r}); it has {list(customers.columns)}. Add it or fix targets.{kind}.column."
            )
        targets[kind] = check_target(customers[column], kind, column)
        meanings[kind] = case.targets[kind].meaning
    features = check_features(customer_table(data, case.regression_features).loc[customers.index])
    excluded = pd.DataFrame(
        {
            "reason": pd.Series(case.leakage, dtype="str"),
            "in_data": pd.Series({c: c in customers for c in case.leakage}, dtype=bool),
        }
    ).rename_axis("column")
    time = customers[SIGNUP] if SIGNUP in customers else None
    return RegressionProblem(features, targets, meanings, time, excluded)


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
    (2000, 0.298)
    """
    amount, outcome = problem.target_column("continuous"), problem.target_column("binary")
    row = scalars(
        as_frame(problem.table, [amount, outcome], "targets"),
        customers=nw.len(),
        mean=nw.col(amount).mean(),
        sd=nw.col(amount).std(ddof=1),
        positive_rate=nw.col(outcome).cast(nw.Float64).mean(),
    )
    return {"customers": int(row["customers"]), **{k: float(row[k]) for k in ("mean", "sd", "positive_rate")}}
