"""Offline evaluation: fit every model on the same split and score it with the same metrics."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from marketing.columns import CUSTOMER, ITEM
from marketing.recommend.interactions import Interactions, build_interactions
from marketing.recommend.metrics import catalogue_coverage, novelty, ranking_metrics
from marketing.recommend.models import ALS, EASE, ItemKNN, PopularityRecommender, Recommender, UserKNN
from marketing.recommend.split import Split

BASELINE = "popularity"

#: The main hyper-parameter of each model, swept in the notebook.
MAIN_PARAMETER = {
    "item_knn": "n_neighbors",
    "user_knn_cosine": "n_neighbors",
    "user_knn_pearson": "n_neighbors",
    "ease": "l2",
    "als": "factors",
}

#: Values tried for that parameter when the notebook does not name its own.
DEFAULT_GRID = {
    "item_knn": [5, 10, 25, 50, 100, 200],
    "user_knn_cosine": [10, 25, 50, 100, 200],
    "user_knn_pearson": [10, 25, 50, 100, 200],
    "ease": [10.0, 50.0, 200.0, 500.0, 1000.0],
    "als": [8, 16, 32, 64],
}


def default_models(n_items: int, random_state: int = 42) -> dict[str, Recommender]:
    """Popularity, user kNN (cosine, Pearson), item kNN, EASE (when the catalogue fits) and ALS."""
    models: dict[str, Recommender] = {
        BASELINE: PopularityRecommender(),
        "user_knn_cosine": UserKNN(n_neighbors=50, similarity="cosine"),
        "user_knn_pearson": UserKNN(n_neighbors=50, similarity="pearson"),
        "item_knn": ItemKNN(n_neighbors=100),
        "ease": EASE(l2=200.0),
        "als": ALS(random_state=random_state),
    }
    if n_items > models["ease"].max_items:
        del models["ease"]
    return models


def make_model(name: str, random_state: int = 42, **params) -> Recommender:
    """A fresh model of the kind ``name`` (a key of :func:`default_models`) with ``params`` changed."""
    base = default_models(n_items=1, random_state=random_state)
    if name not in base:
        raise ValueError(f"model {name!r} is unknown: use one of {sorted(base)}.")
    model = base[name]
    for key, value in params.items():
        if not hasattr(model, key):
            raise ValueError(f"model {name!r} has no parameter {key!r}.")
        setattr(model, key, value)
    return model


@dataclass
class Comparison:
    """The result of :func:`compare_models`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per model (warm test customers): the ranking metrics at k, coverage, novelty.
    cold_start : dict
        Ranking metrics of the popularity list for test customers without training history.
    models : dict
        The fitted models.
    train : Interactions
        The training matrix every model was fitted on.
    relevant : scipy.sparse.csr_matrix
        Test pairs of the warm customers (rows: ``warm_users``; columns: training item positions).
    warm_users : numpy.ndarray
        Row positions (in ``train``) of the evaluated warm customers.
    k : int
    """

    table: pd.DataFrame
    cold_start: dict
    models: dict
    train: Interactions
    relevant: sp.csr_matrix
    warm_users: np.ndarray
    k: int
    details: dict = field(default_factory=dict)

    @property
    def best_model(self) -> str:
        """The model with the highest NDCG@k (the baseline wins ties)."""
        return best_by_ndcg(self.table)


def best_by_ndcg(table: pd.DataFrame) -> str:
    """The row (model) of a comparison table with the highest ``ndcg``; the first listed, the
    baseline, wins ties. Both engines' comparisons pick their best model with it."""
    ndcg = table["ndcg"]
    return str(ndcg.index[np.argmax(ndcg.to_numpy())])


def evaluate_model(model: Recommender, relevant: sp.csr_matrix, rows: np.ndarray, k: int) -> dict:
    """Ranking metrics, coverage and novelty of a fitted model on the given customers' test pairs."""
    items, _ = model.recommend_positions(rows, k)
    out = ranking_metrics(items, relevant, k)
    train = model.interactions_
    out["coverage"] = catalogue_coverage(items, train.n_items)
    out["novelty"] = novelty(items, model.item_users_, train.n_users)
    out["n_customers"] = len(rows)
    return out


def compare_models(
    split: Split,
    k: int = 10,
    models: Mapping[str, Recommender] | None = None,
    items=None,
    random_state: int = 42,
    col_user: str = CUSTOMER,
    col_item: str = ITEM,
) -> Comparison:
    """Fit each model on ``split.train`` (binary matrix) and evaluate it at ``k`` on ``split.test``.

    Test customers without training history are cold-start: every model serves them the
    popularity list, so they are evaluated once, separately. Test pairs of items outside the
    training matrix (possible only when ``items`` is not given) cannot be recommended; they
    stay in the recall denominator and are counted in ``details``.
    """
    if len(split.test) == 0:
        raise ValueError("The split has no test pairs: choose a longer test window or another split.")
    train = build_interactions(split.train, weighting="binary", items=items, col_user=col_user, col_item=col_item)
    if models is None:
        models = default_models(train.n_items, random_state=random_state)
    if BASELINE not in models:
        raise ValueError(f"models must include the baseline {BASELINE!r}.")
    test = split.test
    user_pos = train.user_positions(test[col_user].to_numpy())
    item_pos = train.item_positions(test[col_item].to_numpy())
    unseen_items = item_pos < 0
    # unseen items get an extra column no model can recommend, so they still count against recall
    item_pos = np.where(unseen_items, train.n_items, item_pos)
    warm = user_pos >= 0
    warm_users, warm_rows = np.unique(user_pos[warm], return_inverse=True)
    relevant = sp.csr_matrix(
        (np.ones(int(warm.sum())), (warm_rows, item_pos[warm])), shape=(len(warm_users), train.n_items + 1)
    )
    fitted, rows = {}, {}
    for name, model in models.items():
        fitted[name] = model.fit(train)
        rows[name] = evaluate_model(model, relevant, warm_users, k)
    table = pd.DataFrame(rows).T.rename_axis("model")
    table["n_customers"] = table["n_customers"].astype(int)

    cold_ids, cold_rows = np.unique(test[col_user].to_numpy()[~warm], return_inverse=True)
    cold = {"n_customers": len(cold_ids)}
    if len(cold_ids):
        cold_rel = sp.csr_matrix(
            (np.ones(len(cold_rows)), (cold_rows, item_pos[~warm])), shape=(len(cold_ids), train.n_items + 1)
        )
        items_cold, _ = fitted[BASELINE].recommend_positions(np.full(len(cold_ids), -1), k)
        cold.update(ranking_metrics(items_cold, cold_rel, k))
    details = {"test_pairs_unseen_items": int(unseen_items.sum()), **split.details}
    return Comparison(table, cold, fitted, train, relevant, warm_users, k, details)


def sweep(
    split: Split, name: str, values=None, k: int = 10, items=None, random_state: int = 42
) -> pd.DataFrame:
    """NDCG, recall and coverage at ``k`` of model ``name`` for each value of its main parameter
    (:data:`MAIN_PARAMETER`); ``values`` defaults to :data:`DEFAULT_GRID`."""
    if name not in MAIN_PARAMETER:
        raise ValueError(f"model {name!r} has no hyper-parameter to sweep; use one of {sorted(MAIN_PARAMETER)}.")
    param = MAIN_PARAMETER[name]
    values = DEFAULT_GRID[name] if values is None else values
    rows = []
    for value in values:
        models = {BASELINE: PopularityRecommender(), name: make_model(name, random_state, **{param: value})}
        result = compare_models(split, k=k, models=models, items=items, random_state=random_state)
        row = result.table.loc[name, ["ndcg", "recall", "coverage"]].to_dict()
        rows.append({"parameter": param, "value": value, **row})
    return pd.DataFrame(rows)


def campaign_list(model: Recommender, customer_ids, items: pd.DataFrame, k: int = 10) -> pd.DataFrame:
    """The action: top-k per customer with the item's name, ready for a campaign tool.

    Columns: customer_id, rank, item_id, item_name, score (rounded to 4 decimals), cold_start.
    """
    rec = model.recommend(customer_ids, k=k)
    names = items.set_index(ITEM)["name"]
    rec.insert(3, "item_name", names.reindex(rec[ITEM].to_numpy()).to_numpy())
    rec["score"] = rec["score"].round(4)
    return rec


def explain_recommendations(model: ItemKNN, recommendations: pd.DataFrame, items: pd.DataFrame, n: int = 2) -> pd.DataFrame:
    """Add a "because you have ..." column to item-kNN recommendations (a few customers at a time)."""
    names = items.set_index(ITEM)["name"]
    reasons = []
    for customer, item, cold in recommendations[[CUSTOMER, ITEM, "cold_start"]].itertuples(index=False):
        if cold:
            reasons.append("popular with all customers (no history yet)")
            continue
        why = model.explain(customer, item, n=n)
        because = ", ".join(names.reindex(why["because_item_id"].to_numpy()).astype(str))
        reasons.append(f"because you have {because}" if because else "popular (no similar item owned)")
    out = recommendations.copy()
    out["because"] = reasons
    return out
