"""Checks for ``workshop/03_regression.ipynb``: spot the leaking feature; pick the contact threshold from costs.

The notebook uses the finance case's small synthetic data (seed 42): who responds to a campaign
call. The case declares its leakage columns and its contact cost and response value, so the checks
read the right answers from the case.
"""

from __future__ import annotations

from functools import lru_cache

from marketing.workshop.result import CheckResult, exercise, as_number, right, wrong

CASE = "finance"
SEED = 42
DATA_SIZE = "small"


@lru_cache(maxsize=1)
def workshop_problem():
    """The notebook's case, data and regression problem (computed once per process)."""
    from marketing import get_case, load_case_data
    from marketing.regression import regression_problem

    case = get_case(CASE)
    data = load_case_data(CASE, data_size=DATA_SIZE, seed=SEED)
    return case, data, regression_problem(data, case)


@lru_cache(maxsize=1)
def leaky_features():
    """The features with the leaking column added back, and the binary target (exercise 1's data)."""
    case, data, problem = workshop_problem()
    attributes = data.customers.set_index("customer_id")
    leaks = [c for c in case.leakage if c in attributes and c not in _targets(problem)]
    return problem.features.join(attributes[leaks]), problem.targets["binary"]


def _targets(problem) -> set[str]:
    return {problem.target_column(kind) for kind in problem.targets}


@lru_cache(maxsize=1)
def _single_scores():
    from marketing.regression.diagnostics import single_feature_scores

    X, y = leaky_features()
    return single_feature_scores(X, y, "binary", random_state=SEED)["score"]


@exercise("exercise 1")
def exercise_1(answer) -> CheckResult:
    """Check the name of the feature that leaks the campaign response.

    Parameters
    ----------
    answer : str
        A column name of the features table the notebook builds.
    """
    name = "exercise 1"
    case, _, problem = workshop_problem()
    X, _ = leaky_features()
    leaks = [c for c in X.columns if c in case.leakage]
    column = str(answer).strip()
    if column in _targets(problem):
        return wrong(name, f"{column!r} is a target, not a feature: it is what the model predicts.",
                     f"Answer one of the feature columns: {', '.join(X.columns)}.")
    if column not in X.columns:
        return wrong(name, f"{answer!r} is not a column of the features ({', '.join(X.columns)}).",
                     "Answer the column's name as a string.")
    auc = _single_scores()
    if column in leaks:
        return right(name, f"{column!r} alone reaches ROC AUC {auc[column]:.3f}: {case.leakage[column]}. "
                           "A model with it looks perfect and fails on the customers you have not yet called.")
    return wrong(name, f"{column!r} alone reaches ROC AUC {auc[column]:.3f}: an ordinary, honest predictor.",
                 "A leaking feature predicts the target almost perfectly on its own, because it is only known "
                 "after the outcome: compare every feature's single-feature score.")


@exercise("exercise 2")
def exercise_2(answer) -> CheckResult:
    """Check the contact threshold: the response probability above which a call pays for itself.

    Parameters
    ----------
    answer : float
        A probability between 0 and 1.

    Examples
    --------
    >>> exercise_2(50 / 120).passed
    True
    >>> exercise_2(120 / 50).hint
    'A probability is between 0 and 1: put the contact cost on top.'
    """
    from marketing import get_case

    name = "exercise 2"
    targeting = get_case(CASE).targeting
    cost, value = float(targeting["contact_cost"]), float(targeting["response_value"])
    threshold = cost / value
    p = as_number(answer)
    if p is None:
        return wrong(name, f"{answer!r} is not a number.", "Answer a probability, such as 0.25.")
    close = lambda x: abs(p - x) <= 1e-3  # noqa: E731 (a tolerance, named once)
    if close(threshold):
        return right(name, f"contact when P(response) > {cost:g} / {value:g} = {threshold:.3f}: the expected value "
                           f"of a call, p x {value:g}, then exceeds its cost of {cost:g}.")
    if close(value / cost):
        return wrong(name, f"{p:.3f} is the response value over the contact cost.",
                     "A probability is between 0 and 1: put the contact cost on top.")
    if abs(p - 100 * threshold) <= 0.1:
        return wrong(name, f"{p:g} looks like a percentage.", "Answer a probability between 0 and 1, not a percent.")
    if close((value - cost) / value):
        return wrong(name, f"{p:.3f} is the share of the response value left after the cost.",
                     "Break even where p x response_value = contact_cost: solve for p.")
    if close(0.5):
        return wrong(name, "0.5 is a classifier's default cut-off: it ignores what a call costs and a response earns.",
                     "Break even where p x response_value = contact_cost: solve for p.")
    return wrong(name, f"{p:.3f} is not the break-even probability.",
                 "Break even where p x response_value = contact_cost: solve for p (case.targeting has both).")
