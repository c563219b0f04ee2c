"""The cold-start evaluation table, its headline gain, and a reason per recommended line.

Groups of the table (``k`` the list length, ``min_history`` the cut):

- "new customers": test customers with no training interaction;
- "light customers": test customers with 1 to ``min_history - 1`` distinct training items;
- "warm customers": test customers with at least ``min_history`` distinct training items;
- "new items": the test pairs whose item has no training interaction; each customer with such a
  pair is judged on those pairs only (their other test pairs are not relevant there).

Every group is scored with the ranking metrics of :mod:`marketing.recommend.metrics`, averaged over
the group's customers, for every model and for the baselines ("popularity", "group popularity",
"category popularity") fitted on the same training events.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from marketing.columns import CUSTOMER, ITEM, TIMESTAMP
from marketing.recommend.content import CategoryPopularity, GroupPopularity, HybridRecommender, clone
from marketing.recommend.interactions import build_interactions, in_memory
from marketing.recommend.metrics import RANKING_METRICS, ranking_metrics
from marketing.recommend.models import ItemKNN, PopularityRecommender
from marketing.validation import DataValidationError, require_columns

#: The event columns the content models read.
EVENT_COLUMNS = (CUSTOMER, ITEM, TIMESTAMP)
#: Rows of :func:`cold_start_table`, in order.
GROUPS = ("new customers", "light customers", "warm customers", "new items")
#: Customer columns the "group popularity" baseline uses when present (and no others are named).
DEFAULT_GROUP_COLUMNS = ("region", "channel", "country", "segment")


def _baselines(X, customers, items, group_columns) -> dict:
    out = {"popularity": PopularityRecommender().fit(X)}
    if group_columns:
        out["group popularity"] = GroupPopularity(group_columns).fit(X, customers=customers)
    if items is not None and "category" in items.columns:
        out["category popularity"] = CategoryPopularity().fit(X, items=items)
    return out


def _top_k(model, ids: np.ndarray, item_ids: np.ndarray, k: int) -> np.ndarray:
    """(customers x k) item positions in ``item_ids`` of the model's lists (-1: empty slot)."""
    rec = model.recommend(ids, k=k)
    top = np.full((len(ids), k), -1, dtype=np.int64)
    top[pd.Index(ids).get_indexer(rec[CUSTOMER]), rec["rank"].to_numpy() - 1] = (
        pd.Index(item_ids).get_indexer(rec[ITEM])
    )
    return top


def cold_start_table(
    split, models: dict, customers=None, items=None, k: int = 10, min_history: int = 3, group_columns=None
) -> pd.DataFrame:
    """Ranking metrics of every model on new, light and warm customers and on new items.

    Parameters
    ----------
    split : Split
        ``train`` events and ``test`` pairs (customer_id, item_id).
    models : dict of name -> fitted Recommender
        Fitted on ``split.train`` (with the catalogue as ``items``, so new items have a column).
        The baselines are added under their names unless given.
    customers, items : pandas.DataFrame, optional
        Attribute tables: ``customers`` for "group popularity" (``group_columns``), ``items`` (the
        catalogue; with a ``category`` column for "category popularity").
    k : int
        List length.
    min_history : int
        Distinct training items from which a customer is warm (see the module docstring).
    group_columns : sequence of str, optional
        Customer columns of "group popularity"; default: those of :data:`DEFAULT_GROUP_COLUMNS`
        present in ``customers`` (none: that baseline is left out).

    Returns
    -------
    pandas.DataFrame
        One row per (group, model): group, model, the metrics of :data:`RANKING_METRICS`,
        n_customers (judged customers) and n_pairs (relevant pairs). A group without customers
        has no rows.

    Raises
    ------
    DataValidationError
        ``models`` is empty, the test pairs lack a column, or ``min_history`` < 2.
    """
    if not models:
        raise DataValidationError("models is empty: pass fitted models as {name: model}.")
    if min_history < 2:
        raise DataValidationError(f"min_history={min_history}: it must be at least 2 (light customers have 1 or more).")
    test = in_memory(split.test, [CUSTOMER, ITEM])
    require_columns(test, [CUSTOMER, ITEM], "test")
    train = in_memory(split.train, [CUSTOMER, ITEM])[[CUSTOMER, ITEM]].drop_duplicates()
    catalogue = items[ITEM] if items is not None else None
    X = build_interactions(train, items=catalogue)
    if group_columns is None:
        group_columns = [c for c in DEFAULT_GROUP_COLUMNS if customers is not None and c in customers.columns]
    every = {**{n: m for n, m in _baselines(X, customers, items, list(group_columns)).items() if n not in models},
             **models}
    history = train[CUSTOMER].value_counts()
    test = test[[CUSTOMER, ITEM]].drop_duplicates()
    n_train = history.reindex(test[CUSTOMER].to_numpy(), fill_value=0).to_numpy()
    item_known = X.item_users()[np.maximum(X.item_positions(test[ITEM]), 0)] > 0
    item_known &= X.item_positions(test[ITEM]) >= 0
    masks = {
        "new customers": n_train == 0,
        "light customers": (n_train >= 1) & (n_train < min_history),
        "warm customers": n_train >= min_history,
        "new items": ~item_known,
    }
    rows = []
    for group in GROUPS:
        pairs = test[masks[group]]
        if pairs.empty:
            continue
        ids = np.unique(pairs[CUSTOMER].to_numpy())
        cols = pd.Index(X.item_ids).get_indexer(pairs[ITEM])
        inside = cols >= 0  # a test item outside the catalogue cannot be listed: it stays a miss
        relevant = sp.csr_matrix(
            (np.ones(int(inside.sum())), (pd.Index(ids).get_indexer(pairs[CUSTOMER])[inside], cols[inside])),
            shape=(len(ids), X.n_items),
        )
        n_relevant = np.bincount(pd.Index(ids).get_indexer(pairs[CUSTOMER]), minlength=len(ids))
        for name, model in every.items():
            top = _top_k(model, ids, X.item_ids, k)
            metrics = ranking_metrics(top, relevant, k)
            if not inside.all():  # recall over every relevant pair, listed or not
                rel_codes = relevant.indices + np.repeat(np.arange(len(ids)), np.diff(relevant.indptr)) * X.n_items
                listed = np.where(top >= 0, np.arange(len(ids))[:, None] * X.n_items + top, -1)
                metrics["recall"] = float(np.mean(np.isin(listed, rel_codes).sum(axis=1) / n_relevant))
            rows.append({"group": group, "model": name, **metrics, "n_customers": len(ids), "n_pairs": len(pairs)})
    return pd.DataFrame(rows, columns=["group", "model", *RANKING_METRICS, "n_customers", "n_pairs"])


def cold_start_gain(table: pd.DataFrame, group: str = "new customers", metric: str = "ndcg",
                    baseline: str = "popularity") -> dict:
    """The best model's ``metric`` on ``group`` over the global popularity list's.

    Examples
    --------
    >>> t = pd.DataFrame({"group": ["new customers"] * 3, "model": ["popularity", "content", "hybrid"],
    ...                   "ndcg": [0.1, 0.15, 0.12]})
    >>> cold_start_gain(t)
    {'model': 'content', 'ndcg': 0.15, 'baseline_ndcg': 0.1, 'gain': 1.5}
    """
    rows = table[table["group"] == group]
    if rows.empty or baseline not in rows["model"].tolist():
        raise DataValidationError(f"the table has no '{group}' row for the baseline '{baseline}'.")
    base = float(rows.loc[rows["model"] == baseline, metric].iloc[0])
    others = rows[rows["model"] != baseline]
    best = others.loc[others[metric].idxmax()]
    value = float(best[metric])
    return {"model": best["model"], metric: value, f"baseline_{metric}": base,
            "gain": round(value / base, 4) if base > 0 else float("inf")}


def reasons(model, recommendations: pd.DataFrame, customers=None, items=None, item_column: str = "category") -> pd.DataFrame:
    """The recommendations with a ``reason`` column, one plain sentence per line.

    - customer without history: "new customer: similar customers (<their group>) buy <category>";
    - item nobody had bought: "new in your favourite category (<category>)" or "new in <category>";
    - a collaborative line (ItemKNN, or a hybrid whose collaborative share for the customer is at
      least a half and whose collaborative part is ItemKNN): "customers who bought <item> also
      bought this", <item> being the owned item contributing most to the score;
    - otherwise: "matches what you buy (<category>)" or "popular with customers like you (<category>)".

    Parameters
    ----------
    model : fitted Recommender
    recommendations : pandas.DataFrame
        Output of ``model.recommend``.
    customers : pandas.DataFrame, optional
        Unused but for symmetry with ``fit``; the model already holds the groups.
    items : pandas.DataFrame
        ``item_id`` and ``item_column`` (and ``name`` when present, used to name items).

    Examples
    --------
    >>> from marketing.recommend import build_interactions
    >>> items = pd.DataFrame({"item_id": [1, 2, 3], "category": ["tea", "tea", "cups"], "name": ["green", "black", "mug"]})
    >>> X = build_interactions(pd.DataFrame({"customer_id": [1, 1, 2], "item_id": [1, 3, 1]}), items=items)
    >>> knn = ItemKNN().fit(X)
    >>> reasons(knn, knn.recommend([2], k=2), items=items)["reason"].tolist()
    ['customers who bought green also bought this', 'new in your favourite category (tea)']
    """
    require_columns(items, [ITEM, item_column], "items")
    rec = recommendations.copy()
    X = model.interactions_
    cols = X.item_positions(rec[ITEM])
    rows = X.user_positions(rec[CUSTOMER])
    table = items.set_index(ITEM)
    category = table[item_column].astype(str).reindex(X.item_ids).to_numpy(dtype=object)
    names = (table["name"] if "name" in table.columns else pd.Series(table.index, index=table.index)).astype(str)
    names = names.reindex(X.item_ids).to_numpy(dtype=object)
    codes, labels = pd.factorize(category, sort=True)
    matrix = X.matrix
    binary = sp.csr_matrix((np.ones(matrix.nnz), matrix.indices, matrix.indptr), shape=matrix.shape)
    per_cat = binary @ sp.csr_matrix((np.ones(len(codes)), (np.arange(len(codes)), codes)), shape=(len(codes), len(labels)))
    favourite = np.asarray(per_cat.argmax(axis=1)).ravel()
    line_cat = category[cols]
    fav = np.where(rows >= 0, labels[favourite[np.maximum(rows, 0)]], None)
    new_item = X.item_users()[cols] == 0
    cold = rows < 0
    # the group a new customer was served from (content-based models), else everyone
    group_text = np.full(len(rec), "all customers", dtype=object)
    content = getattr(model, "content_", model)
    if hasattr(content, "group_profiles_") or hasattr(content, "group_scores_"):
        groups = model._groups_of(rec[CUSTOMER].to_numpy())
        served = (groups >= 0) & content.group_served_[np.maximum(groups, 0)] if hasattr(content, "group_served_") else groups >= 0
        labels_g = np.asarray(content.group_labels_, dtype=object)
        group_text = np.where(served, labels_g[np.maximum(groups, 0)], "all customers")
    knn = model if isinstance(model, ItemKNN) else getattr(model, "collaborative_", None)
    because = np.full(len(rec), -1)
    if isinstance(knn, ItemKNN):
        cf_line = ~cold
        if isinstance(model, HybridRecommender):
            cf_line &= model.cf_share(rows) >= 0.5
        lines = np.flatnonzero(cf_line)
        if len(lines):
            contrib = matrix[rows[lines]].multiply(sp.csr_matrix(knn.similarity_.T)[cols[lines]]).tocsr()
            has = np.diff(contrib.indptr) > 0
            best = np.asarray(contrib.argmax(axis=1)).ravel()
            because[lines[has]] = best[has]
    text = np.where(fav == line_cat, "matches what you buy (" + line_cat + ")",
                    "popular with customers like you (" + line_cat + ")")
    text = np.where(because >= 0, "customers who bought " + names[np.maximum(because, 0)] + " also bought this", text)
    text = np.where(new_item, np.where(fav == line_cat, "new in your favourite category (" + line_cat + ")",
                                       "new in " + line_cat), text)
    text = np.where(cold, "new customer: similar customers (" + group_text + ") buy " + line_cat, text)
    rec["reason"] = text
    return rec


# --- the notebook's step ----------------------------------------------------------------------------
#: The step of the capability table (marketing.capabilities) this module serves.
COLD_START = "content-based and hybrid recommendations (the cold start)"
#: Why each model wins where it wins: the one sentence the report gives the winner of a group.
WHY = {
    "popularity": "when nothing is known about a customer, what most customers take is hard to beat",
    "group popularity": "it is the only list that uses who the customers are ({columns}), all there is to know about someone without history",
    "category popularity": "it follows each customer's favourite category",
    "content": "it matches item attributes ({items}) to each customer's profile, and can list items nobody has bought yet",
    "hybrid": "it blends the collaborative scores with content, leaning on content where a customer's history is thin",
}
WHY_COLLABORATIVE = "it learns from customers with similar histories"
#: Below this many customers a group's figure is called noisy in the report's sentence.
FEW_CUSTOMERS = 50


@dataclass
class ColdStart:
    """The result of :func:`compare_cold_start`.

    Attributes
    ----------
    table : pandas.DataFrame
        :func:`cold_start_table` of every model (the chosen collaborative model, content, hybrid
        and the three baselines) on the test part.
    hybrid : HybridRecommender
        The hybrid fitted on the training part (its blend weight chosen there: ``weight_``).
    k, min_history : int
    customer_columns, item_columns : tuple of str
        The case's content columns (its ``content`` section).
    min_size : int
        Groups of fewer test customers get no figures in anything published.
    """

    table: pd.DataFrame
    hybrid: HybridRecommender
    k: int
    min_history: int
    customer_columns: tuple = ()
    item_columns: tuple = ()
    min_size: int = 10

    def wide(self) -> pd.DataFrame:
        """NDCG@k per customer group and recall@k on the new items, one row per model; a group of
        fewer than ``min_size`` customers is left out (its size is in :meth:`sizes`)."""
        shown = self.table[self.table["n_customers"] >= self.min_size]
        metric = np.where(shown["group"] == "new items", "recall", "ndcg")
        cells = shown.assign(column=shown["group"] + " " + pd.Series(metric, index=shown.index) + f"@{self.k}",
                             value=np.where(metric == "recall", shown["recall"], shown["ndcg"]))
        wide = cells.pivot(index="model", columns="column", values="value")
        order = [c for g in GROUPS for c in wide.columns if c.startswith(g + " ")]
        models = list(dict.fromkeys(self.table["model"]))
        return wide.reindex(index=models, columns=order).rename_axis(index="model", columns=None)

    def sizes(self) -> dict:
        """Customers judged (and relevant pairs) per group."""
        first = self.table.drop_duplicates("group").set_index("group")
        return {g: {"customers": int(first.loc[g, "n_customers"]), "pairs": int(first.loc[g, "n_pairs"])} for g in first.index}

    def gain(self, group: str = "new customers") -> dict | None:
        """The best model's NDCG@k on ``group`` over the global popularity list's (:func:`cold_start_gain`);
        None when the group is empty or too small to publish."""
        rows = self.table[self.table["group"] == group]
        if rows.empty or rows["n_customers"].iloc[0] < self.min_size:
            return None
        metric = "recall" if group == "new items" else "ndcg"
        return cold_start_gain(self.table, group, metric)

    def _scores(self, group: str) -> tuple[str, pd.Series]:
        """The group's metric (recall for new items, NDCG for customers) and each model's value."""
        metric = "recall" if group == "new items" else "ndcg"
        return metric, self.table[self.table["group"] == group].set_index("model")[metric]

    def leader(self, group: str) -> str | None:
        """The model highest on ``group``, if it beats the global popularity list by a margin the
        report prints (3 decimals, and a ratio above 1.00x); None for a tie or a hair's width."""
        _, rows = self._scores(group)
        best, base = rows.idxmax(), float(rows["popularity"])
        if round(rows[best], 3) <= round(base, 3) or (base > 0 and round(rows[best] / base, 2) <= 1):
            return None
        return best

    def sentences(self) -> list[str]:
        """One sentence per group: who wins, by how much against the global list, and why."""
        out = []
        for group, sizes in self.sizes().items():
            if sizes["customers"] < self.min_size:
                out.append(f"{group.capitalize()}: {sizes['customers']} test customers, fewer than {self.min_size}: no figures.")
                continue
            metric, rows = self._scores(group)
            best, base = self.leader(group), float(rows["popularity"])
            if best is None:
                out.append(f"{group.capitalize()} ({sizes['customers']:,}): no model beats the global popularity list "
                           f"({metric}@{self.k} {base:.3f}).")
                continue
            why = WHY.get(best, WHY_COLLABORATIVE).format(columns=", ".join(self.customer_columns) or "none named",
                                                          items=", ".join(self.item_columns))
            versus = f"{rows[best] / base:.2f}x the global list's {base:.3f}" if base > 0 else "the global list gets none"
            noisy = f"; only {sizes['customers']} customers, so a noisy figure" if sizes["customers"] < FEW_CUSTOMERS else ""
            out.append(f"{group.capitalize()} ({sizes['customers']:,}): {best} is highest, {metric}@{self.k} {rows[best]:.3f} "
                       f"({versus}{noisy}): {why}.")
        return out

    def record(self, digits: int = 4) -> dict:
        """The machine-readable part for the report's record (figures of groups too small to publish left out)."""
        wide = self.wide().round(digits)
        return {
            "min_history": self.min_history,
            "groups": self.sizes(),
            "metrics": {model: {c: (None if pd.isna(v) else float(v)) for c, v in row.items()} for model, row in wide.iterrows()},
            "gain_new_customers": self.gain("new customers"),
            "gain_new_items": self.gain("new items"),
            "hybrid_weight": float(self.hybrid.weight_),
        }

    def refit(self, interactions, data):
        """The hybrid, refitted on ``interactions`` (every event up to the observation end) with the
        case's attribute tables and events: the campaign's model."""
        return clone(self.hybrid).fit(interactions, items=data.items, customers=data.customers,
                                      events=in_memory(data.events, EVENT_COLUMNS))


def compare_cold_start(result, split, data, k: int = 10, min_history: int = 3, random_state: int = 42):
    """The cold-start step of the recommendation report: fit content and hybrid models on the
    training part (their bonuses and blend weight chosen there) and score every model on new,
    light and warm customers and on new items (:func:`cold_start_table`).

    The hybrid blends the model chosen on the validation split (``result.best_model``) with
    content. The content columns are the case file's ``content`` section
    (:func:`marketing.datasets.content_columns`; without one, the items' ``category`` and ``price``).
    Returns a :class:`ColdStart`; None, after saying why, on an engine without the step.
    """
    from marketing.capabilities import unavailable
    from marketing.datasets import content_columns
    from marketing.engines import engine_of
    from marketing.privacy import DEFAULT_MIN_SIZE
    from marketing.recommend.content import ContentRecommender
    from marketing.recommend.evaluation import ANALYSIS, make_model

    if engine_of(split.train) == "spark":
        print(unavailable(ANALYSIS, COLD_START, "spark"))
        return None
    named = content_columns(data)
    columns = {"customer_columns": named.customer_columns, "text_column": named.text_column,
               "item_columns": named.item_columns or tuple(c for c in ("category", "price") if c in data.items.columns)}
    X = result.train
    # DuckDB data: the models need the events' three columns in memory (the attribute tables are there already)
    fit_with = {"items": data.items, "customers": data.customers, "events": in_memory(split.train, EVENT_COLUMNS)}
    content = ContentRecommender(**columns).fit(X, **fit_with)
    hybrid = HybridRecommender(make_model(result.best_model, random_state), ContentRecommender(**columns),
                               random_state=random_state).fit(X, **fit_with)
    models = {result.best_model: result.models[result.best_model], "content": content, "hybrid": hybrid}
    table = cold_start_table(split, models, data.customers, data.items, k=k, min_history=min_history,
                             group_columns=columns["customer_columns"] or None)
    return ColdStart(table, hybrid, k, min_history, columns["customer_columns"], columns["item_columns"], DEFAULT_MIN_SIZE)


def show_cold_start(cold: ColdStart | None) -> pd.DataFrame | None:
    """Print the group sizes and one sentence per group, and return the table to show (rounded)."""
    if cold is None:
        return None
    sizes = ", ".join(f"{group} {n['customers']:,}" for group, n in cold.sizes().items())
    print(f"Test customers by training history (light: 1 to {cold.min_history - 1} items): {sizes}.")
    print(f"The hybrid's blend weight, chosen on the training events: {cold.hybrid.weight_:.2f}.")
    print("\n".join(cold.sentences()))
    published = [group for group, n in cold.sizes().items() if n["customers"] >= cold.min_size and group != "new items"]
    elsewhere = [group for group in published if cold.leader(group) not in (None, "hybrid")]
    if elsewhere:
        print(f"The campaign uses the hybrid for every customer (chosen on the training events); that another list is "
              f"highest on {', '.join(elsewhere)} here is a test figure, not a choice made on training data.")
    return cold.wide().round(3)
