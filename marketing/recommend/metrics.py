"""Ranking metrics at k, with binary relevance, and rating-prediction errors.

Definitions (binary relevance: an item is relevant to a customer if it is in the customer's test
set; ``rel_r`` is 1 if the item at rank ``r`` is relevant; ``R`` is the customer's set of relevant
items; a list may hold fewer than ``k`` items, padded with -1):

- precision@k = hits / k  (the denominator is always k, so a short list is not rewarded)
- recall@k    = hits / |R|
- hit rate@k  = 1 if hits > 0 else 0
- MRR@k       = 1 / (rank of the first relevant item), 0 if none in the top k
- NDCG@k      = DCG / IDCG, DCG = sum_r rel_r / log2(r + 1), IDCG = sum_{r=1}^{min(|R|, k)} 1 / log2(r + 1)
- MAP@k       = mean of AP@k, AP@k = (1 / min(|R|, k)) * sum_r precision@r * rel_r

Each is computed per customer and averaged over the customers with at least one relevant item
(customers without any are skipped: no ranking can be judged for them). Across all customers:

- coverage = distinct items recommended / items in the catalogue
- novelty  = mean over recommended items of -log2(p_i), with p_i the share of training customers
  who have item i (floored at 1 / n_customers so that never-seen items stay finite)
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

RANKING_METRICS = ("precision", "recall", "ndcg", "map", "hit_rate", "mrr")


def _as_recommended(recommended, k: int | None) -> np.ndarray:
    """2-D int array of item positions (-1 for empty slots), cut to k columns."""
    if isinstance(recommended, np.ndarray) and recommended.ndim == 2:
        rec = recommended.astype(np.int64, copy=False)
    else:
        lists = [list(r) for r in recommended]
        width = max((len(r) for r in lists), default=0)
        rec = np.full((len(lists), width), -1, dtype=np.int64)
        for row, items in enumerate(lists):  # only for small hand-made inputs
            rec[row, : len(items)] = items
    if k is None:
        k = rec.shape[1]
    if k < 1:
        raise ValueError(f"k={k}: it must be at least 1.")
    if rec.shape[1] < k:
        rec = np.hstack([rec, np.full((rec.shape[0], k - rec.shape[1]), -1, dtype=np.int64)])
    return rec[:, :k]


def _as_relevant(relevant, n_rows: int, n_cols: int) -> sp.csr_matrix:
    """Binary CSR (customers x items) of the relevant items."""
    if sp.issparse(relevant):
        rel = sp.csr_matrix(relevant, dtype=np.float64)
    else:
        sets = [np.unique(np.asarray(list(r), dtype=np.int64)) for r in relevant]
        width = max([n_cols] + [int(s.max()) + 1 for s in sets if len(s)])
        rows = np.repeat(np.arange(len(sets)), [len(s) for s in sets])
        cols = np.concatenate(sets) if sets else np.array([], dtype=np.int64)
        rel = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(sets), width))
    if rel.shape[0] != n_rows:
        raise ValueError(
            f"recommended has {n_rows} row(s) but relevant has {rel.shape[0]}: both need one row per customer."
        )
    rel.data = np.ones_like(rel.data)
    rel.sum_duplicates()
    rel.data = np.ones_like(rel.data)
    return rel


def hits_matrix(recommended, relevant, k: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Boolean (customers x k) matrix of hits and the number of relevant items per customer."""
    rec = _as_recommended(recommended, k)
    rel = _as_relevant(relevant, rec.shape[0], int(rec.max(initial=-1)) + 1)
    n_items = rel.shape[1]
    rows = np.broadcast_to(np.arange(rec.shape[0])[:, None], rec.shape)
    valid = (rec >= 0) & (rec < n_items)
    # encode (row, item) pairs as one integer and look them up among the relevant pairs
    rel_coo = rel.tocoo()
    rel_codes = np.sort(rel_coo.row.astype(np.int64) * n_items + rel_coo.col)
    codes = rows.astype(np.int64) * n_items + np.where(valid, rec, 0)
    pos = np.searchsorted(rel_codes, codes.ravel()).reshape(codes.shape)
    pos = np.minimum(pos, max(len(rel_codes) - 1, 0))
    hits = valid & (rel_codes[pos] == codes) if len(rel_codes) else np.zeros(rec.shape, dtype=bool)
    return hits, np.diff(rel.indptr)


def discounts(k: int) -> np.ndarray:
    """The DCG discount ``1 / log2(r + 1)`` of ranks 1..k; the relational metrics use the same values.

    >>> discounts(3).round(4).tolist()
    [1.0, 0.6309, 0.5]
    """
    return 1.0 / np.log2(np.arange(1, k + 1) + 1)


def ranking_metrics_per_user(recommended, relevant, k: int | None = None) -> dict[str, np.ndarray]:
    """Each metric of :data:`RANKING_METRICS` per customer (NaN where the customer has no relevant item).

    Examples
    --------
    >>> m = ranking_metrics_per_user([[3, 1, 2]], [{1, 5}], k=3)
    >>> {name: round(float(v[0]), 4) for name, v in m.items()}
    {'precision': 0.3333, 'recall': 0.5, 'ndcg': 0.3869, 'map': 0.25, 'hit_rate': 1.0, 'mrr': 0.5}
    """
    hits, n_relevant = hits_matrix(recommended, relevant, k)
    k = hits.shape[1]
    ranks = np.arange(1, k + 1)
    discount = discounts(k)
    n_hits = hits.sum(axis=1)
    ideal_len = np.minimum(n_relevant, k)
    idcg = np.concatenate([[0.0], np.cumsum(discount)])[ideal_len]
    dcg = (hits * discount).sum(axis=1)
    precision_at_r = np.cumsum(hits, axis=1) / ranks
    first = np.where(hits.any(axis=1), hits.argmax(axis=1) + 1, 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = {
            "precision": n_hits / k,
            "recall": n_hits / n_relevant,
            "ndcg": dcg / idcg,
            "map": (precision_at_r * hits).sum(axis=1) / ideal_len,
            "hit_rate": (n_hits > 0).astype(float),
            "mrr": np.where(first > 0, 1.0 / np.maximum(first, 1), 0.0),
        }
    judged = n_relevant > 0
    return {name: np.where(judged, values, np.nan) for name, values in out.items()}


def ranking_metrics(recommended, relevant, k: int | None = None) -> dict[str, float]:
    """Mean of each ranking metric over customers with at least one relevant item.

    Parameters
    ----------
    recommended : 2-D array or list of lists
        Item positions (or ids) in rank order per customer, -1 for empty slots.
    relevant : scipy.sparse matrix or list of sets
        The relevant items per customer (same row order).
    k : int, optional
        Cut-off; default the width of ``recommended``.

    Examples
    --------
    >>> ranking_metrics([[1, 2], [3, 4]], [{1}, {9}], k=2)["hit_rate"]
    0.5
    >>> ranking_metrics([[1, 2]], [{1, 2}], k=2)["ndcg"]
    1.0
    """
    per_user = ranking_metrics_per_user(recommended, relevant, k)
    judged = ~np.isnan(per_user["precision"])
    if not judged.any():
        return {name: float("nan") for name in per_user}
    return {name: float(values[judged].mean()) for name, values in per_user.items()}


def precision_at_k(recommended, relevant, k: int | None = None) -> float:
    """Mean precision@k (see the module docstring). ``precision_at_k([[1, 2]], [{2}])`` is 0.5."""
    return ranking_metrics(recommended, relevant, k)["precision"]


def recall_at_k(recommended, relevant, k: int | None = None) -> float:
    """Mean recall@k (see the module docstring)."""
    return ranking_metrics(recommended, relevant, k)["recall"]


def ndcg_at_k(recommended, relevant, k: int | None = None) -> float:
    """Mean NDCG@k with binary relevance (see the module docstring)."""
    return ranking_metrics(recommended, relevant, k)["ndcg"]


def map_at_k(recommended, relevant, k: int | None = None) -> float:
    """Mean average precision at k (see the module docstring)."""
    return ranking_metrics(recommended, relevant, k)["map"]


def hit_rate_at_k(recommended, relevant, k: int | None = None) -> float:
    """Share of customers with at least one relevant item in their top k."""
    return ranking_metrics(recommended, relevant, k)["hit_rate"]


def mrr_at_k(recommended, relevant, k: int | None = None) -> float:
    """Mean reciprocal rank of the first relevant item within the top k (0 when none)."""
    return ranking_metrics(recommended, relevant, k)["mrr"]


def catalogue_coverage(recommended, n_items: int) -> float:
    """Distinct items recommended (ignoring -1 slots) / ``n_items``.

    Examples
    --------
    >>> catalogue_coverage([[0, 1], [1, -1]], n_items=4)
    0.5
    """
    if n_items < 1:
        raise ValueError(f"n_items={n_items}: the catalogue needs at least one item.")
    rec = _as_recommended(recommended, None)
    return len(np.unique(rec[rec >= 0])) / n_items


def novelty(recommended, item_users: np.ndarray, n_users: int) -> float:
    """Mean self-information -log2(p_i) of the recommended items, p_i = item_users[i] / n_users.

    ``p_i`` is floored at ``1 / n_users``. Empty slots (-1) are ignored.

    Examples
    --------
    >>> novelty([[0, 1]], item_users=np.array([4, 1]), n_users=4)  # -log2(1) and -log2(1/4)
    1.0
    """
    rec = _as_recommended(recommended, None)
    items = rec[rec >= 0]
    if len(items) == 0:
        return float("nan")
    p = np.maximum(np.asarray(item_users, dtype=float)[items], 1.0) / n_users
    return float(np.mean(-np.log2(p)))


def rmse(y_true, y_pred) -> float:
    """Root mean squared error, sqrt(mean((y - y_hat)^2)). ``rmse([1, 3], [2, 2])`` is 1.0."""
    y_true, y_pred = np.asarray(y_true, float), np.asarray(y_pred, float)
    return float(np.sqrt(np.mean((y_true - y_pred) ** 2)))


def mae(y_true, y_pred) -> float:
    """Mean absolute error, mean(|y - y_hat|). ``mae([1, 4], [2, 2])`` is 1.5."""
    y_true, y_pred = np.asarray(y_true, float), np.asarray(y_pred, float)
    return float(np.mean(np.abs(y_true - y_pred)))
