"""What drives the outcome: coefficients with confidence intervals, importances, partial dependence.

Coefficients come from :mod:`statsmodels` (OLS for the continuous target, Logit for the binary
one), fitted unpenalized on the training part, because only an unpenalized fit has the textbook
confidence intervals. Two scales are offered:

- ``raw``: per unit of each numeric column and per category level against the reference level
  (the scale of the planted truth, so :func:`coverage` can check the intervals);
- ``standardized``: a numeric column's coefficient times its standard deviation, i.e. the
  effect of a one-standard-deviation change, so numeric columns become comparable. Category
  levels stay 0/1 contrasts against the reference level.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy.stats.mstats import mquantiles
from sklearn.inspection import partial_dependence
from statsmodels.tools.sm_exceptions import PerfectSeparationWarning
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from marketing.regression.models import categorical_columns
from marketing.regression.problem import check_features, check_target
from marketing.validation import DataValidationError

#: scikit-learn scorers used for permutation importance (larger is better for both).
IMPORTANCE_SCORING = {"continuous": "r2", "binary": "roc_auc"}


class RankDeficientError(DataValidationError):
    """The design matrix lacks full rank: some terms are constant, equal or collinear (named in the message).

    :func:`coefficient_table` with ``collinear="drop"`` estimates the others without them.
    """


class SeparationError(DataValidationError):
    """The binary outcome is (quasi-)perfectly separated, so some logistic coefficients are infinite."""


def design_matrix(X: pd.DataFrame) -> pd.DataFrame:
    """Numeric columns as they are plus one 0/1 column per non-reference category level.

    Missing numeric values take the column median and missing categories the most frequent
    level (as in the pipelines); an ``intercept`` column comes first.

    Examples
    --------
    >>> X = pd.DataFrame({"age": [30.0, 50.0],
    ...                   "region": pd.Categorical(["n", "s"], categories=["n", "s"])})
    >>> design_matrix(X)
       intercept   age  region_s
    0        1.0  30.0       0.0
    1        1.0  50.0       1.0
    """
    X = check_features(X)
    categorical = categorical_columns(X)
    parts = {"intercept": pd.Series(1.0, index=X.index)}
    for column in X.columns:
        values = X[column]
        if column in categorical:
            filled = values.fillna(values.mode().iloc[0])
            for level in values.cat.categories[1:]:
                parts[f"{column}_{level}"] = (filled == level).astype(float)
        else:
            parts[column] = values.fillna(values.median()).astype(float)
    return pd.DataFrame(parts)


def _scaled(design: pd.DataFrame) -> np.ndarray:
    """The design's columns scaled to a maximum absolute value of 1, so the rank tolerance fits every column."""
    values = design.to_numpy(dtype=float)
    return values / np.maximum(np.abs(values).max(axis=0), 1e-300)


def rank_problems(design: pd.DataFrame) -> str:
    """Why a design matrix (intercept first) lacks full rank, naming its columns: constant terms,
    terms equal to another, and groups of terms with an exact linear relation.

    Examples
    --------
    >>> X = pd.DataFrame({"const": 1.0, "tenure": [5.0, 9, 4, 7], "recency": [1.0, 2, 1, 5],
    ...                   "span": [4.0, 7, 3, 2], "a": [0.0, 1, 0, 1], "b": [0.0, 1, 0, 1], "c": 2.0})
    >>> rank_problems(X)
    'constant: c; equal to another: b = a; collinear: tenure, recency, span'
    """
    terms = list(design.columns[1:])
    constant = [c for c in terms if design[c].nunique() < 2]
    rest = design.drop(columns=constant)
    duplicated = rest.T.duplicated()
    first = {tuple(rest[c]): c for c in reversed(rest.columns)}
    equal = [f"{c} = {first[tuple(rest[c])]}" for c in rest.columns[duplicated.to_numpy()]]
    rest = rest.loc[:, ~duplicated.to_numpy()]
    # the null space of what remains: each direction with a zero singular value is one relation
    scaled = _scaled(rest)
    _, singular, vt = np.linalg.svd(scaled, full_matrices=True)
    tol = max(scaled.shape) * np.finfo(float).eps * (singular.max() if len(singular) else 1.0)
    rank = int((singular > tol).sum())
    groups = []
    for vector in vt[rank:]:
        members = [c for c, w in zip(rest.columns, vector) if abs(w) > 1e-8 and c != design.columns[0]]
        if members:
            groups.append(", ".join(members))
    parts = [f"constant: {', '.join(constant)}" if constant else "",
             f"equal to another: {', '.join(equal)}" if equal else "",
             f"collinear: {'; '.join(groups)}" if groups else ""]
    return "; ".join(p for p in parts if p) or "some columns are collinear"


def collinear_terms(design: pd.DataFrame) -> list[str]:
    """The terms of a design matrix (intercept first) to leave out so that the rest has full rank.

    Terms are taken in order and one is left out when it adds nothing to the rank of those kept
    before it: a constant term (the intercept has it), the second of two equal terms, the last
    term of a group with an exact linear relation.

    Examples
    --------
    >>> X = pd.DataFrame({"intercept": 1.0, "x": [1.0, 2, 3, 5], "twice_x": [2.0, 4, 6, 10], "k": 3.0, "z": [0.0, 1, 1, 0]})
    >>> collinear_terms(X)
    ['twice_x', 'k']
    """
    scaled = _scaled(design)
    kept, left_out = [0], []
    for j in range(1, scaled.shape[1]):
        if np.linalg.matrix_rank(scaled[:, [*kept, j]]) > len(kept):
            kept.append(j)
        else:
            left_out.append(str(design.columns[j]))
    return left_out


def separation_problems(design: pd.DataFrame, y: pd.Series, levels: dict[str, list]) -> str:
    """Terms that separate a binary outcome on their own, named; ``""`` when none does.

    A category level (the reference level too) whose customers all share one outcome, or a
    numeric term whose values for one outcome all lie at or below those for the other
    (quasi-complete separation): the maximum-likelihood estimate of its coefficient is infinite.
    ``levels`` are the categorical columns with their levels, reference first; the design's
    other columns are numeric terms.

    Examples
    --------
    >>> design = pd.DataFrame({"intercept": 1.0, "x": [0.5, 0.1, 0.9, 0.4], "g_b": [0.0, 0.0, 1.0, 1.0]})
    >>> separation_problems(design, pd.Series([0, 1, 1, 1]), {"g": ["a", "b"]})
    'level b of g: all 2 customers with it have outcome 1'
    """
    y = np.asarray(y)
    problems = []
    dummies = {f"{c}_{level}" for c, values in levels.items() for level in values[1:]}
    for column, values in levels.items():
        terms = [f"{column}_{level}" for level in values[1:] if f"{column}_{level}" in design]
        reference = (design[terms].sum(axis=1) == 0).to_numpy() if terms else np.ones(len(y), dtype=bool)
        for level, rows in [(values[0], reference), *((t[len(column) + 1:], (design[t] == 1).to_numpy()) for t in terms)]:
            if rows.any() and len(np.unique(y[rows])) == 1:
                problems.append(f"level {level} of {column}: all {int(rows.sum())} customers with it have outcome {int(y[rows][0])}")
    for term in design.columns[1:]:
        if term in dummies:
            continue
        x = design[term].to_numpy()
        for below, above in ((1, 0), (0, 1)):
            if x[y == below].max() <= x[y == above].min():
                problems.append(f"{term}: every customer with outcome {below} has a value of at most "
                                f"{x[y == above].min():.4g}, the lowest among outcome {above}")
                break
    return "; ".join(problems)


def coefficient_table(
    X: pd.DataFrame, y: pd.Series, kind: str, *, level: float = 0.95, scale: str = "raw", collinear: str = "raise"
) -> pd.DataFrame:
    """Unpenalized linear (OLS) or logistic (Logit) coefficients with confidence intervals.

    Parameters
    ----------
    X, y : DataFrame, Series
        Training features and target.
    kind : {"continuous", "binary"}
        OLS (units of the target) or Logit (log-odds).
    level : float
        Confidence level of the Wald intervals.
    scale : {"raw", "standardized"}
        See the module docstring.
    collinear : {"raise", "drop"}
        What to do when the design lacks full rank: raise :class:`RankDeficientError`, or leave
        out the terms of :func:`collinear_terms` and estimate the rest (the table then has no
        row for them).

    Returns
    -------
    DataFrame indexed by term (``intercept``, numeric columns, ``column_level``) with
    ``estimate``, ``std_err``, ``low``, ``high``, ``p_value``.

    Raises
    ------
    RankDeficientError
        When a term cannot be estimated (a constant column, one level holding all rows, terms
        equal or collinear), naming them; not with ``collinear="drop"``.
    SeparationError
        Binary target: a term separates the outcomes (:func:`separation_problems`), or the
        logistic fit does not converge for another reason of the same kind.

    Examples
    --------
    An exact linear relation is recovered, with a (numerically) zero-width interval:

    >>> X = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0, 4.0], "z": [1.0, 0.0, 2.0, 1.0, 3.0]})
    >>> y = pd.Series(2 + 3 * X["x"] - X["z"], name="y")
    >>> coefficient_table(X, y, "continuous")["estimate"].round(6).tolist()
    [2.0, 3.0, -1.0]

    A column that is another one in other units is left out with ``collinear="drop"``:

    >>> coefficient_table(X.assign(x_in_cents=100 * X["x"]), y, "continuous", collinear="drop").index.tolist()
    ['intercept', 'x', 'z']
    """
    if scale not in ("raw", "standardized"):
        raise ValueError(f"scale must be 'raw' or 'standardized', not {scale!r}.")
    if collinear not in ("raise", "drop"):
        raise ValueError(f"collinear must be 'raise' or 'drop', not {collinear!r}.")
    y = check_target(y, kind)
    design = design_matrix(X)
    if np.linalg.matrix_rank(design.to_numpy()) < design.shape[1]:
        if collinear == "raise":
            raise RankDeficientError(
                "features: the coefficients cannot all be estimated because the design matrix is "
                f"rank-deficient: {rank_problems(design)}. Drop one column of each from regression_features."
            )
        design = design.drop(columns=collinear_terms(design))
    fit = _ols(design, y) if kind == "continuous" else _logit(design, y, _levels(X))
    ci = fit.conf_int(alpha=1 - level)
    table = pd.DataFrame(
        {
            "estimate": fit.params,
            "std_err": fit.bse,
            "low": ci[0],
            "high": ci[1],
            "p_value": fit.pvalues,
        }
    ).rename_axis("term")
    if scale == "standardized":
        numeric = [c for c in X.columns if c not in categorical_columns(check_features(X)) and c in design]
        sd = design[numeric].std().reindex(table.index).fillna(1.0)
        sd["intercept"] = 1.0
        table[["estimate", "std_err", "low", "high"]] = table[["estimate", "std_err", "low", "high"]].mul(sd, axis=0)
    return table


def _levels(X: pd.DataFrame) -> dict[str, list]:
    X = check_features(X)
    return {c: list(X[c].cat.categories) for c in categorical_columns(X)}


def _ols(design: pd.DataFrame, y: pd.Series):
    return sm.OLS(y.to_numpy(), design).fit()


def _logit(design: pd.DataFrame, y: pd.Series, levels: dict[str, list]):
    """The unpenalized Logit fit, refused with :class:`SeparationError` where its estimates would be infinite."""
    problems = separation_problems(design, y, levels)
    if not problems:
        # statsmodels does not raise on separation: it warns (overflow, no convergence) and
        # returns huge estimates with meaningless intervals, so the warnings are read here
        with warnings.catch_warnings(record=True) as caught, np.errstate(over="ignore"):
            warnings.simplefilter("always")
            try:
                fit = sm.Logit(y.to_numpy(), design).fit(disp=0, maxiter=200)
            except np.linalg.LinAlgError as error:   # a singular Hessian
                fit, problems = None, f"the fit failed ({error}): some terms are nearly collinear or separate the outcome"
        separated = any(issubclass(w.category, PerfectSeparationWarning) for w in caught)
        if fit is not None and (separated or not fit.mle_retvals.get("converged", True)):
            largest = fit.params.drop("intercept", errors="ignore").abs().sort_values(ascending=False).index[:3]
            problems = f"the fit did not converge; the largest estimates are those of {', '.join(largest)}"
        if not problems:
            for w in caught:   # anything else is not ours to swallow
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
            return fit
    raise SeparationError(
        "features: the logistic coefficients cannot be estimated because the outcome is (quasi-)perfectly "
        f"separated: {problems}. Their estimates would be infinite: drop the column or merge the rare level "
        "into another (the tree models and permutation importance still show its effect)."
    )


def coverage(table: pd.DataFrame, truth: pd.Series) -> pd.DataFrame:
    """Whether each planted coefficient lies inside its estimated interval.

    Parameters
    ----------
    table : DataFrame
        :func:`coefficient_table` on the raw scale.
    truth : Series
        Planted coefficients by term, e.g. :meth:`marketing.datasets.Truth.coefficients`.

    Returns
    -------
    DataFrame indexed by the planted terms with ``true``, ``estimate``, ``low``, ``high`` and
    ``covered``. Its ``covered.mean()`` is the coverage; a correct model with 95% intervals
    covers about 95% of the terms.

    Examples
    --------
    >>> table = pd.DataFrame({"estimate": [1.0, 2.0], "low": [0.5, 1.9], "high": [1.5, 2.1]},
    ...                      index=["intercept", "x"])
    >>> coverage(table, pd.Series({"intercept": 1.2, "x": 2.5}))["covered"].tolist()
    [True, False]
    """
    missing = [t for t in truth.index if t not in table.index]
    if missing:
        raise ValueError(
            f"planted term(s) {missing} are not in the coefficient table {list(table.index)}; "
            "fit the table on the features the truth was generated from."
        )
    out = table.loc[truth.index, ["estimate", "low", "high"]].assign(true=truth.astype(float))
    out["covered"] = (out["low"] <= out["true"]) & (out["true"] <= out["high"])
    return out[["true", "estimate", "low", "high", "covered"]]


def permutation_importances(
    models: dict[str, Pipeline],
    X: pd.DataFrame,
    y: pd.Series,
    kind: str,
    *,
    n_repeats: int = 5,
    random_state: int | None = 0,
) -> pd.DataFrame:
    """Drop in held-out score when one feature's values are shuffled, for every model.

    The score is R^2 (continuous) or ROC AUC (binary). Each column of ``X`` (not each one-hot
    level) is shuffled as a whole, ``n_repeats`` times; the importance is the mean drop from
    the unshuffled score and ``std`` its standard deviation over the repeats. The same
    shuffles are used for every model, and all shuffled copies are scored in one prediction
    call per model (the copies are stacked), which is what keeps this fast.

    Returns
    -------
    DataFrame with ``model``, ``feature``, ``importance`` and ``std``, sorted by model (in the
    order given) and decreasing importance.

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"signal": rng.normal(size=100), "noise": rng.normal(size=100)})
    >>> y = pd.Series(2 * X["signal"], name="y")
    >>> fitted = {"ols": Pipeline([("model", LinearRegression())]).fit(X, y)}
    >>> table = permutation_importances(fitted, X, y, "continuous")
    >>> table["feature"].tolist(), bool(table["importance"].iloc[0] > 1.5)
    (['signal', 'noise'], True)
    """
    from marketing.regression.metrics import binary_metrics, continuous_metrics
    from marketing.regression.models import predict

    metric = IMPORTANCE_SCORING[kind]
    score = (lambda t, f: binary_metrics(t, f)[metric]) if kind == "binary" else (lambda t, f: continuous_metrics(t, f)[metric])
    y_values = np.asarray(y)
    n = len(X)
    rng = np.random.default_rng(random_state)
    blocks = []
    for column in X.columns:
        for _ in range(n_repeats):
            shuffled = X[column].to_numpy()[rng.permutation(n)]
            blocks.append(X.assign(**{column: pd.Series(shuffled, index=X.index, dtype=X[column].dtype)}))
    stacked = pd.concat([X, *blocks], ignore_index=True)
    rows = []
    for name, model in models.items():
        with threadpool_limits(limits=1):   # see marketing.regression.models.fit_suite
            pred = predict(model, stacked, kind).reshape(-1, n)
        reference = score(y_values, pred[0])
        drops = np.array([reference - score(y_values, p) for p in pred[1:]]).reshape(len(X.columns), n_repeats)
        rows.append(
            pd.DataFrame(
                {"model": name, "feature": list(X.columns), "importance": drops.mean(axis=1), "std": drops.std(axis=1)}
            )
        )
    table = pd.concat(rows, ignore_index=True)
    order = {name: i for i, name in enumerate(models)}
    return (
        table.assign(_order=table["model"].map(order))
        .sort_values(["_order", "importance"], ascending=[True, False], kind="stable")
        .drop(columns="_order")
        .reset_index(drop=True)
    )


def flat_features(X: pd.DataFrame, features: list[str], *, grid_resolution: int = 20) -> list[str]:
    """The numeric ``features`` that partial dependence cannot vary: near-constant ones.

    scikit-learn lays a numeric feature's grid between its 5th and 95th percentiles when it has at
    least ``grid_resolution`` distinct values; when one value holds 90% or more of the customers
    those percentiles coincide and there is no range to vary over (scikit-learn refuses: the
    "percentiles are too close" error). The same test as scikit-learn's, so exactly the features
    it would refuse are named.

    Examples
    --------
    Thirty distinct values, but 97% zeros:

    >>> X = pd.DataFrame({"x": np.arange(1000.0), "mostly_zero": np.r_[np.zeros(970), np.arange(1.0, 31.0)]})
    >>> flat_features(X, ["x", "mostly_zero"])
    ['mostly_zero']
    """
    categorical = set(categorical_columns(X))
    flat = []
    for feature in features:
        if feature in categorical:
            continue
        values = X[feature].to_numpy(dtype=float, na_value=np.nan)
        if len(np.unique(values)) >= grid_resolution and np.allclose(*mquantiles(values, prob=(0.05, 0.95))):
            flat.append(feature)
    return flat


def partial_dependence_frame(
    model: Pipeline, X: pd.DataFrame, features: list[str], kind: str, *, grid_resolution: int = 20
) -> pd.DataFrame:
    """Average prediction as each of ``features`` varies, the others kept as observed.

    Numeric features are evaluated on scikit-learn's grid (``grid_resolution`` points between
    the 5th and 95th percentiles, or the observed values when there are fewer); a categorical
    feature at each level. Binary models are averaged on the probability scale.

    Returns
    -------
    Long DataFrame: ``feature``, ``value`` (a number, or the level's name for a categorical
    feature), ``average`` prediction and ``categorical``.

    Raises
    ------
    DataValidationError
        A near-constant feature (:func:`flat_features`), which has no range to vary over.

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression
    >>> X = pd.DataFrame({"x": np.arange(10.0)})
    >>> fitted = Pipeline([("model", LinearRegression())]).fit(X, 2 * X["x"])
    >>> pdp = partial_dependence_frame(fitted, X, ["x"], "continuous", grid_resolution=3)
    >>> bool(np.allclose(pdp["average"], 2 * pdp["value"].astype(float)))   # the model is y = 2x
    True
    >>> len(pdp)
    3
    """
    method = "brute"
    response = "predict_proba" if kind == "binary" else "auto"
    categorical = set(categorical_columns(X))
    # scikit-learn refuses integer columns (a grid of non-integers would be rounded away)
    X = X.astype({c: float for c in X.columns if c not in categorical and pd.api.types.is_integer_dtype(X[c])})
    flat = flat_features(X, features, grid_resolution=grid_resolution)
    if flat:
        raise DataValidationError(
            f"partial dependence: feature(s) {flat} are near-constant (their 5th and 95th percentiles are equal), "
            "so there is no range to vary them over. Leave them out of the features asked for."
        )
    frames = []
    for feature in features:
        is_cat = feature in categorical
        with threadpool_limits(limits=1):   # see marketing.regression.models.fit_suite
            result = partial_dependence(
                model, X, [feature], kind="average", method=method, response_method=response,
                grid_resolution=grid_resolution, categorical_features=[feature] if is_cat else None,
            )
        values = result["grid_values"][0]
        frames.append(
            pd.DataFrame(
                {
                    "feature": feature,
                    "value": pd.Series(values, dtype=object).astype(str) if is_cat else pd.Series(values, dtype=float),
                    "average": result["average"][0],
                    "categorical": is_cat,
                }
            )
        )
    # the values column mixes numbers and level names across features: keep it as objects
    return pd.concat([f.astype({"value": object}) for f in frames], ignore_index=True)


def residual_frame(y_true, y_pred) -> pd.DataFrame:
    """Fitted values, residuals and the normal quantiles of the standardized residuals (Q-Q).

    ``theoretical`` are the normal quantiles at ``(i - 0.5) / n`` for the sorted standardized
    residuals ``sample``; points on the diagonal mean normally distributed errors.

    Examples
    --------
    >>> frame = residual_frame([1.0, 2.0, 3.0], [1.5, 2.0, 2.5])
    >>> frame["residual"].tolist()
    [-0.5, 0.0, 0.5]
    """
    from scipy import stats

    y = np.asarray(y_true, dtype=float)
    f = np.asarray(y_pred, dtype=float)
    residual = y - f
    sd = residual.std(ddof=1)
    standardized = (residual - residual.mean()) / (sd if sd > 0 else 1.0)
    n = len(residual)
    order = np.argsort(standardized, kind="stable")
    sample = np.empty(n)
    sample[order] = standardized[order]
    theoretical = np.empty(n)
    theoretical[order] = stats.norm.ppf((np.arange(1, n + 1) - 0.5) / n)
    return pd.DataFrame(
        {"fitted": f, "residual": residual, "theoretical": theoretical, "sample": sample}
    )


def _number(x: float) -> str:
    """Three significant digits, without exponent notation for large amounts."""
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.3g}"


def effect_sentences(table: pd.DataFrame, levels: dict[str, list], *, outcome: str, kind: str) -> list[str]:
    """Plain-words reading of a *standardized* coefficient table, strongest first.

    ``levels`` are the categorical features and their levels, the reference level first (the
    problem's ``levels``). Terms whose interval excludes 0 are described; the others are listed
    together as not distinguishable from no effect. Binary effects are given as odds ratios.

    Examples
    --------
    >>> table = pd.DataFrame({"estimate": [1.0, 5.0, 0.2], "low": [0.5, 4.0, -0.1],
    ...                       "high": [1.5, 6.0, 0.5]}, index=["intercept", "age", "region_s"])
    >>> for line in effect_sentences(table, {"region": ["n", "s"]}, outcome="spend", kind="continuous"):
    ...     print(line)
    age: one standard deviation more raises spend by 5 (95% CI 4 to 6).
    Not distinguishable from no effect: region_s.
    """
    terms = table.drop(index="intercept", errors="ignore")
    clear = terms.loc[(terms["low"] > 0) | (terms["high"] < 0)]
    clear = clear.reindex(clear["estimate"].abs().sort_values(ascending=False).index)
    lines = []
    for term, row in clear.iterrows():
        column = next((c for c in levels if str(term) in {f"{c}_{level}" for level in levels[c][1:]}), None)
        change = (
            f"being {term[len(column) + 1:]} rather than {levels[column][0]} ({column})"
            if column is not None else "one standard deviation more"
        )
        if kind == "binary":
            ratio, low, high = np.exp(row[["estimate", "low", "high"]].to_numpy(dtype=float))
            lines.append(
                f"{term}: {change} multiplies the odds of {outcome} by {_number(ratio)} "
                f"(95% CI {_number(low)} to {_number(high)})."
            )
        else:
            verb = "raises" if row["estimate"] > 0 else "lowers"
            lines.append(
                f"{term}: {change} {verb} {outcome} by {_number(abs(row['estimate']))} "
                f"(95% CI {_number(row['low'])} to {_number(row['high'])})."
            )
    unclear = [t for t in terms.index if t not in clear.index]
    if unclear:
        lines.append(f"Not distinguishable from no effect: {', '.join(unclear)}.")
    return lines
