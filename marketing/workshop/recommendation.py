"""Checks for ``workshop/02_recommendation.ipynb``: item-kNN against popularity, and why popularity is hard to beat.

The notebook compares two recommenders on the small synthetic e-commerce and finance data (seed 42)
with a time split (the last 60 days are the test period) and NDCG at 10.
"""

from __future__ import annotations

from functools import lru_cache

from marketing.workshop.result import CheckResult, exercise, as_number, right, wrong

CASES = ("ecommerce", "finance")
SEED = 42
DATA_SIZE = "small"
TEST_DAYS = 60
K = 10
MODELS = ("popularity", "item_knn")

#: Exercise 2's choices: why does popularity come close on finance?
CHOICES = {
    "a": "Popularity is fitted on more data than item-kNN.",
    "b": "With few products, the most popular ones are what most customers take next anyway, "
         "so there is little left for personalisation to find.",
    "c": "Item-kNN cannot recommend items that a customer already has.",
    "d": "Popularity is scored on its training data, item-kNN on the test period.",
}
_WHY_NOT = {
    "a": "Both models are fitted on the same training period by the same split.",
    "c": "No model recommends what a customer already has: the comparison excludes owned items for both.",
    "d": "Every model is scored on the same held-out test period: that is what makes the comparison fair.",
}


@lru_cache(maxsize=None)
def comparison(case_study: str):
    """Popularity and item-kNN on ``case_study``'s workshop data: the table of metrics at ``K``."""
    from marketing import load_case_data
    from marketing.recommend import compare_models, make_model, make_split

    data = load_case_data(case_study, data_size=DATA_SIZE, seed=SEED)
    held_out = make_split(data.events, "time", observation_end=data.observation_end, test_days=TEST_DAYS,
                          random_state=SEED)
    models = {name: make_model(name, random_state=SEED) for name in MODELS}
    return compare_models(held_out, k=K, models=models, items=data.items, random_state=SEED).table


@exercise("exercise 1")
def exercise_1(answer) -> CheckResult:
    """Check how many times popularity's NDCG@10 item-kNN reaches on the e-commerce data.

    Parameters
    ----------
    answer : float
        ``ndcg(item_knn) / ndcg(popularity)``.

    Returns
    -------
    CheckResult
        Right within 1 %; a difference, an inverted ratio or another metric's ratio gets its hint.
    """
    name = "exercise 1"
    value = as_number(answer)
    if value is None:
        return wrong(name, f"{answer!r} is not a number.", "Divide two numbers from the ndcg column of the table.")
    table = comparison("ecommerce")
    ratio = table.loc["item_knn", "ndcg"] / table.loc["popularity", "ndcg"]
    close = lambda x: abs(value - x) <= 0.01 * abs(x)  # noqa: E731 (a tolerance, named once)
    if close(ratio):
        return right(name, f"item-kNN reaches {ratio:.2f} times popularity's NDCG@{K}: personalisation pays here, "
                           "with many products and customers who each favour a few categories.")
    if close(1 / ratio):
        return wrong(name, f"{value:.3f} is popularity over item-kNN: the ratio is inverted.",
                     "Put item-kNN's NDCG on top.")
    if close(table.loc["item_knn", "ndcg"] - table.loc["popularity", "ndcg"]):
        return wrong(name, f"{value:.3f} is the difference of the two NDCGs, not how many times.",
                     "Divide item-kNN's NDCG by popularity's.")
    for metric in table.columns.drop("ndcg", errors="ignore"):
        base = table.loc["popularity", metric]
        if base and close(table.loc["item_knn", metric] / base):
            return wrong(name, f"{value:.3f} is the ratio of {metric}, not of NDCG.", "Use the ndcg column.")
    return wrong(name, f"{value:.3f} is not item-kNN's NDCG@{K} over popularity's.",
                 f"Compare the ecommerce table's ndcg column: table.loc['item_knn', 'ndcg'] / table.loc['popularity', 'ndcg'].")


@exercise("exercise 2")
def exercise_2(answer) -> CheckResult:
    """Check the explanation chosen for why popularity comes close to item-kNN on the finance data.

    Parameters
    ----------
    answer : str
        One of the letters of :data:`CHOICES`.
    """
    name = "exercise 2"
    letter = str(answer).strip().lower().strip("()")
    if letter not in CHOICES:
        return wrong(name, f"{answer!r} is not one of the choices {sorted(CHOICES)}.", "Answer one letter, as a string: 'a'.")
    finance = comparison("finance")
    ratio = finance.loc["item_knn", "ndcg"] / finance.loc["popularity", "ndcg"]
    if letter == "b":
        return right(name, f"on finance item-kNN reaches only {ratio:.2f} times popularity's NDCG: with a few dozen "
                           "products the popular ones already cover most of what customers take up, so a baseline "
                           "this simple is hard to beat and always worth reporting.")
    return wrong(name, _WHY_NOT[letter], "Look at how many items each case has, and at the long-tail plot.")
