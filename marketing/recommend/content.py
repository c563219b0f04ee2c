"""Cold-start recommenders: popularity within a group, content-based scoring, and a hybrid.

All have the interface of :class:`~marketing.recommend.models.Recommender`, with the attribute
tables as keyword arguments of ``fit``: ``fit(interactions, items=..., customers=...)``. Customers
not in the training matrix are served from their attributes (the ``customers`` table given at fit),
so they are flagged ``cold_start`` but do not all get the same list.
"""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd
import scipy.sparse as sp

from marketing.columns import CUSTOMER, ITEM, TIMESTAMP
from marketing.recommend.attributes import N_BANDS, check_table, codes_for, column_codes, group_codes
from marketing.recommend.interactions import Interactions, build_interactions
from marketing.recommend.metrics import ndcg_at_k
from marketing.recommend.models import (
    BATCH_SIZE, ItemKNN, Recommender, _l2_normalize_rows, _mask_seen, _on_every_core, _top_k_dense,
)
from marketing.validation import DataValidationError

#: Slack under a row's k-th group value within which groups are still expanded: the popularity
#: tie-break is at most 1e-7, so a group this close could still supply a top-k item.
_TIE_SLACK = 2e-7


def clone(model: Recommender) -> Recommender:
    """An unfitted copy with the same constructor parameters."""
    names = [p for p in inspect.signature(type(model).__init__).parameters if p != "self"]
    return type(model)(**{name: getattr(model, name) for name in names})


class _AttributeRecommender(Recommender):
    """Shared fit / recommend / score for models that read attribute tables."""

    customer_columns: tuple = ()
    n_bands: int = N_BANDS

    def fit(self, interactions: Interactions, items=None, customers=None, events=None) -> "_AttributeRecommender":
        """Learn from the training interactions and the attribute tables; return self.

        Parameters
        ----------
        interactions : Interactions
            Training matrix; build it with ``items=`` the whole catalogue so that items nobody has
            bought yet have a column (they can then be recommended from their attributes).
        items : pandas.DataFrame, optional
            ``item_id`` and the item columns the model uses.
        customers : pandas.DataFrame, optional
            ``customer_id`` and the customer columns the model uses, for every customer who may be
            asked about (those without history included).
        events : pandas.DataFrame, optional
            The training events with timestamps; only models that learn from time read them.

        Raises
        ------
        DataValidationError
            A table the model needs is missing, lacks a column, or repeats an id.
        """
        columns = list(self.customer_columns)
        if columns:
            table = check_table(customers, columns, "customers", CUSTOMER)
            self._customer_ids = table[CUSTOMER].to_numpy()
            self._customer_codes, self.group_labels_ = group_codes(table, columns, self.n_bands)
        else:
            self._customer_ids = np.array([])
            self._customer_codes = np.array([], dtype=np.int64)
            self.group_labels_ = ["everyone"]
        self._items_table = items
        self._customers_table = customers
        self._events = events
        try:
            return super().fit(interactions)
        finally:
            # not kept: the model holds what it learned, not the tables and the log
            self._events = self._customers_table = self._items_table = None

    def _groups_of(self, customer_ids) -> np.ndarray:
        """Attribute-group code of each customer id; -1 when unknown (or no customer columns)."""
        if not len(self.customer_columns):
            return np.full(len(np.asarray(customer_ids)), -1, dtype=np.int64)
        return codes_for(customer_ids, self._customer_ids, self._customer_codes)

    def _group_sizes(self, min_group_size: int) -> tuple[np.ndarray, np.ndarray]:
        """Group of each training customer, and which groups have at least ``min_group_size`` of them."""
        train_groups = self._groups_of(self.interactions_.user_ids)
        sizes = np.bincount(train_groups[train_groups >= 0], minlength=len(self.group_labels_))
        return train_groups, sizes >= min_group_size

    def _item_table(self, columns) -> pd.DataFrame:
        """The items table in matrix column order (every matrix item must be in it)."""
        table = check_table(self._items_table, list(columns), "items", ITEM)
        position = pd.Index(table[ITEM]).get_indexer(self.interactions_.item_ids)
        if (position < 0).any():
            raise DataValidationError(
                f"table 'items': {int((position < 0).sum())} item(s) of the interactions are not in it; "
                "pass the whole catalogue (the table the interactions were built with)."
            )
        return table.iloc[position].reset_index(drop=True)

    # --- the interface -------------------------------------------------------------------------
    def recommend_positions(self, rows, k=10, exclude_seen=True, batch_size=BATCH_SIZE, groups=None):
        """Top-k item positions and scores for matrix rows (-1: no history, served by ``groups``,
        the customers' attribute-group codes, or the global fallback when those are -1 / None)."""
        self._check_fitted()
        self._check_k(k)
        rows = np.asarray(rows, dtype=np.int64)
        groups = np.full(len(rows), -1, dtype=np.int64) if groups is None else np.asarray(groups, dtype=np.int64)
        items = np.full((len(rows), k), -1, dtype=np.int64)
        scores = np.full((len(rows), k), np.nan)
        step = max(1, batch_size) * 4

        def block(start):
            sl = slice(start, start + step)
            items[sl], scores[sl] = self._top_k(rows[sl], groups[sl], k, exclude_seen)

        # each block writes its own rows: the same lists on any number of threads
        _on_every_core(block, list(range(0, len(rows), step)))
        return items, scores

    def recommend(self, customer_ids, k: int = 10, exclude_seen: bool = True) -> pd.DataFrame:
        """The top ``k`` items per customer (as :meth:`Recommender.recommend`); customers without
        history are served from their attributes in the ``customers`` table given at fit."""
        self._check_fitted()
        ids = np.asarray(customer_ids)
        rows = self.interactions_.user_positions(ids)
        items, scores = self.recommend_positions(rows, k, exclude_seen, groups=self._groups_of(ids))
        filled = items >= 0
        rec = pd.DataFrame(
            {
                CUSTOMER: np.repeat(ids, k),
                "rank": np.tile(np.arange(1, k + 1), len(ids)),
                ITEM: self.interactions_.item_ids[np.where(filled, items, 0)].ravel(),
                "score": scores.ravel(),
                "cold_start": np.repeat(rows < 0, k),
            }
        )
        return rec[filled.ravel()].reset_index(drop=True)

    def score(self, customer_ids, item_ids) -> np.ndarray:
        """Score of each (customer, item) pair, as ranked by :meth:`recommend`; NaN for unknown items."""
        ids = np.asarray(customer_ids)
        rows, cols = self._pair_positions(ids, item_ids)
        out = np.full(len(rows), np.nan)
        known = cols >= 0
        groups = self._groups_of(ids)
        for start in range(0, len(rows), BATCH_SIZE):
            sl = np.arange(start, min(start + BATCH_SIZE, len(rows)))
            sl = sl[known[sl]]
            if len(sl):
                block = self._dense_scores(rows[sl], groups[sl])
                out[sl] = block[np.arange(len(sl)), cols[sl]]
        return out

    def _score_rows(self, rows):
        return self._dense_scores(rows, np.full(len(rows), -1, dtype=np.int64))

    def _top_k(self, rows, groups, k, exclude_seen):
        """Default top k: dense scores (rows x items) in blocks."""
        items = np.full((len(rows), k), -1, dtype=np.int64)
        scores = np.full((len(rows), k), np.nan)
        X = self.interactions_.matrix
        step = max(1, 2**22 // max(self.n_items_, 1))
        for start in range(0, len(rows), step):
            r, g = rows[start : start + step], groups[start : start + step]
            block = self._dense_scores(r, g)
            warm = np.flatnonzero(r >= 0)
            if exclude_seen and len(warm):
                _mask_seen(block, warm, X[r[warm]])
            top = _top_k_dense(block + self._tiebreak, k)
            top_scores = np.take_along_axis(block, top, axis=1)
            filled = np.isfinite(top_scores)
            items[start : start + step] = np.where(filled, top, -1)
            scores[start : start + step] = np.where(filled, top_scores, np.nan)
        return items, scores

    def _dense_scores(self, rows, groups) -> np.ndarray:
        raise NotImplementedError


class _GroupTable(_AttributeRecommender):
    """Scores from a small (groups x items) table; the last row is the global list."""

    def _customer_row(self, rows, groups) -> np.ndarray:
        raise NotImplementedError

    def _dense_scores(self, rows, groups):
        return self.group_scores_[self._customer_row(rows, groups)].astype(np.float64)


class GroupPopularity(_GroupTable):
    """Popularity within the customer's attribute group (e.g. region x channel x age band).

    Score of item i for a customer of group g = number of training customers of group g who have
    i. Numeric columns (age) are cut into ``n_bands`` quantile bands. Groups with fewer than
    ``min_group_size`` training customers, customers whose attributes are unknown, and every
    customer when ``customer_columns`` is empty get the global popularity list instead: a count
    over a handful of customers is noise. Customers without history are placed in their group
    from the ``customers`` table given at fit.

    Parameters
    ----------
    customer_columns : sequence of str
        Columns of the ``customers`` table that define the groups.
    min_group_size : int
        Smallest group (training customers) served its own list.
    n_bands : int
        Quantile bands of numeric columns.

    Examples
    --------
    >>> from marketing.recommend import build_interactions
    >>> events = pd.DataFrame({"customer_id": [1, 2, 3, 3], "item_id": [10, 10, 20, 30]})
    >>> customers = pd.DataFrame({"customer_id": [1, 2, 3, 4], "region": ["N", "N", "S", "S"]})
    >>> model = GroupPopularity(["region"], min_group_size=1)
    >>> model = model.fit(build_interactions(events), customers=customers)
    >>> model.recommend([4], k=2)["item_id"].tolist()  # a new customer of region S
    [20, 30]
    """

    def __init__(self, customer_columns=(), min_group_size: int = 30, n_bands: int = N_BANDS):
        self.customer_columns = tuple(customer_columns)
        self.min_group_size = min_group_size
        self.n_bands = n_bands

    def _fit(self, X):
        train_groups, self.group_served_ = self._group_sizes(self.min_group_size)
        n_groups = len(self.group_labels_)
        known = np.flatnonzero(train_groups >= 0)
        member = sp.csr_matrix(
            (np.ones(len(known)), (train_groups[known], known)), shape=(n_groups, X.shape[0])
        )
        binary = sp.csr_matrix((np.ones(X.nnz), X.indices, X.indptr), shape=X.shape)
        counts = np.asarray((member @ binary).todense())
        self.group_scores_ = np.vstack([counts, self.item_users_[None, :].astype(float)])

    def _customer_row(self, rows, groups):
        n_groups = len(self.group_labels_)
        served = (groups >= 0) & self.group_served_[np.maximum(groups, 0)]
        return np.where(served, groups, n_groups)


class CategoryPopularity(_GroupTable):
    """Popularity within the customer's favourite category (most-bought in training).

    Items of the favourite category come first, by popularity, then the rest of the global list;
    customers without history get the global list. Ties between categories go to the one listed
    first in sorted order. Built from history, it cannot rank an item nobody has bought above an
    item of the same category someone has.

    Parameters
    ----------
    item_column : str
        Column of the ``items`` table.

    Examples
    --------
    >>> from marketing.recommend import build_interactions
    >>> events = pd.DataFrame({"customer_id": [1, 1, 2, 3], "item_id": [10, 20, 10, 10]})
    >>> items = pd.DataFrame({"item_id": [10, 20, 30], "category": ["a", "b", "b"]})
    >>> model = CategoryPopularity().fit(build_interactions(events, items=items), items=items)
    >>> model.recommend([3], k=2)["item_id"].tolist()  # favourite a: nothing left there, then popularity
    [20, 30]
    """

    def __init__(self, item_column: str = "category"):
        self.item_column = item_column

    def _fit(self, X):
        table = self._item_table([self.item_column])
        codes, labels = column_codes(table[self.item_column].astype(str))
        self.categories_ = labels
        self.item_category_ = codes
        binary = sp.csr_matrix((np.ones(X.nnz), X.indices, X.indptr), shape=X.shape)
        onehot = sp.csr_matrix((np.ones(len(codes)), (np.arange(len(codes)), codes)), shape=(len(codes), len(labels)))
        per_category = np.asarray((binary @ onehot).todense())
        self.favourite_ = per_category.argmax(axis=1)  # first maximum: the sorted-first category
        pop = self.item_users_.astype(float)
        # favourite-category items above every other item, each part ordered by popularity
        lift = (pop.max() + 1.0) * (codes[None, :] == np.arange(len(labels))[:, None])
        self.group_scores_ = np.vstack([pop + lift, pop[None, :]])

    def _customer_row(self, rows, groups):
        return np.where(rows >= 0, self.favourite_[np.maximum(rows, 0)], len(self.categories_))


class ContentRecommender(_AttributeRecommender):
    """Content-based filtering: customers and items in the space of item attributes.

    Item features: one-hot codes of the categorical ``item_columns``, numeric ones (price) as
    ``n_bands`` quantile bands, and optionally TF-IDF of ``text_column`` (scaled by
    ``text_weight``); rows L2-normalised. A customer with history is profiled by the sum of their
    training items' features (weighted by the matrix entries), L2-normalised; a customer without
    history gets the mean profile of the training customers of their attribute group
    (``customer_columns`` of the ``customers`` table; numeric ones in bands), or the mean over every
    training customer when the group has fewer than ``min_group_size`` of them or no customer
    columns are given. ``score(u, i) = (profile_u . features_i) * (1 + newness_ * [i has no buyers])
    + popularity_ * n_i / max_j n_j`` (``n_i`` the item's training customers).

    Items nobody has bought (columns of the matrix without entries: the catalogue's new items) are
    scored from their attributes, so they can be recommended. Items with equal attributes tie, and
    the popularity tie-break would then always put an item without buyers last: the ``newness``
    bonus decides how new items rank against old items of the same kind. ``newness="auto"`` learns
    it from the training events (``events=`` at fit): the last ``validation_days`` of training are
    held out, a model fitted before them scores them (the items first bought in that window are
    its new items), and every bonus of ``newness_grid`` is scored by NDCG@10 over every held-out
    pair; the largest bonus within ``newness_tolerance`` (relative) of the best NDCG is kept: lists
    that are as good, and can show new products. The popularity bonus is learned with it (``popularity="auto"``, over
    ``popularity_grid``): a flat profile (a new customer's group mean) otherwise fills the whole
    list from one category x price band, where a little popularity spreads it over the cells the
    group likes. ``newness_validation_`` holds the NDCG of each (newness, popularity) pair. Without
    events both bonuses are 0 (``newness_validation_`` is None).

    Top k is exact and never scores customers x items: items with the same features share a
    content score, so each customer's scores over the distinct feature vectors decide which groups
    can supply the top k, and those are expanded in popularity order.

    Parameters
    ----------
    item_columns : sequence of str
        Columns of the ``items`` table.
    customer_columns : sequence of str
        Columns of the ``customers`` table that group customers without history.
    text_column : str, optional
        A text column of ``items`` (a product description) for TF-IDF features.
    text_weight : float
        Weight of the TF-IDF block against each attribute column (each has weight 1).
    min_group_size : int
        Smallest customer group whose own mean profile is used.
    newness, popularity : float >= 0 or "auto"
    newness_grid, popularity_grid : sequence of float
    newness_tolerance : float
        Relative NDCG@10 a larger newness bonus may cost on the validation window.
    validation_days : int
    n_bands : int
        Quantile bands of numeric columns (item and customer).

    Examples
    --------
    >>> from marketing.recommend import build_interactions
    >>> items = pd.DataFrame({"item_id": [1, 2, 3, 4], "category": ["a", "a", "b", "b"]})
    >>> events = pd.DataFrame({"customer_id": [7, 8, 8], "item_id": [1, 3, 4]})
    >>> model = ContentRecommender(item_columns=["category"], newness=0.0, popularity=0.0)
    >>> model = model.fit(build_interactions(events, items=items), items=items)
    >>> model.recommend([7], k=1)["item_id"].tolist()  # the other item of category a, never bought
    [2]
    """

    def __init__(
        self,
        item_columns=("category", "price"),
        customer_columns=(),
        text_column: str | None = None,
        text_weight: float = 1.0,
        min_group_size: int = 30,
        newness="auto",
        newness_grid=(0.0, 0.1, 0.25, 0.5, 1.0, 2.0),
        popularity="auto",
        popularity_grid=(0.0, 0.1, 0.3, 1.0),
        newness_tolerance: float = 0.01,
        validation_days: int = 60,
        n_bands: int = N_BANDS,
    ):
        self.item_columns = tuple(item_columns)
        self.customer_columns = tuple(customer_columns)
        self.text_column = text_column
        self.text_weight = text_weight
        self.min_group_size = min_group_size
        self.newness = newness
        self.newness_grid = tuple(newness_grid)
        self.popularity = popularity
        self.popularity_grid = tuple(popularity_grid)
        self.newness_tolerance = newness_tolerance
        self.validation_days = validation_days
        self.n_bands = n_bands

    def _fit(self, X):
        if not self.item_columns and self.text_column is None:
            raise ValueError("item_columns is empty and text_column is None: give the model some item features.")
        for name in ("newness", "popularity"):
            value = getattr(self, name)
            if not (value == "auto" or (isinstance(value, (int, float)) and value >= 0)):
                raise ValueError(f"{name}={value!r}: use a non-negative number or 'auto'.")
        table = self._item_table([*self.item_columns, *([self.text_column] if self.text_column else [])])
        blocks, codes = [], []
        for column in self.item_columns:
            c, labels = column_codes(table[column], self.n_bands)
            codes.append(c)
            blocks.append(sp.csr_matrix((np.ones(len(c)), (np.arange(len(c)), c)), shape=(len(c), len(labels))))
        if self.text_column is not None:
            from sklearn.feature_extraction.text import TfidfVectorizer

            text = table[self.text_column].fillna("").astype(str)
            blocks.append(self.text_weight * TfidfVectorizer(min_df=1).fit_transform(text))
        F = _l2_normalize_rows(sp.csr_matrix(sp.hstack(blocks), dtype=np.float64))
        self.item_features_ = F
        self.new_items_ = self.item_users_ == 0
        # items with equal features (and newness) share every score: one group each
        if self.text_column is None:
            key = np.column_stack([*codes, self.new_items_.astype(np.int64)])
            _, first, self.item_group_ = np.unique(key, axis=0, return_index=True, return_inverse=True)
            self.item_group_ = self.item_group_.ravel()
        else:
            first, self.item_group_ = np.arange(self.n_items_), np.arange(self.n_items_)
        self.group_features_ = F[first]
        self.group_new_ = self.new_items_[first].astype(np.float64)
        order = np.lexsort((self._popularity_rank, self.item_group_))  # by group, then popularity
        self._members = order
        self._group_size = np.bincount(self.item_group_, minlength=len(first))
        self._group_start = np.cumsum(self._group_size) - self._group_size
        profiles = _l2_normalize_rows(sp.csr_matrix(X, dtype=np.float64) @ F)
        self.profiles_ = profiles
        train_groups, served = self._group_sizes(self.min_group_size)
        mean = np.asarray(profiles.mean(axis=0)).ravel()
        self.global_profile_ = mean / (np.linalg.norm(mean) or 1.0)
        n_groups = len(self.group_labels_)
        known = np.flatnonzero(train_groups >= 0)
        member = sp.csr_matrix((np.ones(len(known)), (train_groups[known], known)), shape=(n_groups, X.shape[0]))
        sums = np.asarray((member @ profiles).todense())
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        group_profiles = np.divide(sums, norms, out=np.zeros_like(sums), where=norms > 0)
        group_profiles[~served] = self.global_profile_
        self.group_profiles_ = np.vstack([group_profiles, self.global_profile_[None, :]])
        self.group_served_ = served
        self.newness_validation_ = None
        self.newness_ = 0.0 if self.newness == "auto" else float(self.newness)
        self.popularity_ = 0.0 if self.popularity == "auto" else float(self.popularity)
        if "auto" in (self.newness, self.popularity) and self._events is not None:
            (self.newness_, self.popularity_), self.newness_validation_ = self._learn_bonuses()

    def _learn_bonuses(self) -> tuple[tuple[float, float], dict | None]:
        """The (newness, popularity) bonuses with the best NDCG@10 on the last ``validation_days``
        of training; a bonus given as a number stays fixed."""
        events = self._events
        from marketing.validation import require_columns

        require_columns(events, [CUSTOMER, ITEM, TIMESTAMP], "events")
        times = pd.to_datetime(events[TIMESTAMP])
        cutoff = times.max() - pd.Timedelta(days=self.validation_days)
        early = times < cutoff
        known = np.isin(events[ITEM].to_numpy(), self.interactions_.item_ids)
        if not early.any() or early.all():
            return (self.newness_, self.popularity_), None
        before = events.loc[early & known, [CUSTOMER, ITEM]]
        inner_X = build_interactions(before, items=self.interactions_.item_ids)
        later = events.loc[~early & known, [CUSTOMER, ITEM]].drop_duplicates()
        old_pairs = pd.MultiIndex.from_frame(before.drop_duplicates())
        later = later[~pd.MultiIndex.from_frame(later).isin(old_pairs)]
        if later.empty:
            return (self.newness_, self.popularity_), None
        inner = clone(self)
        inner.newness = inner.popularity = 0.0
        inner.fit(inner_X, items=self._items_table, customers=self._customers_table)
        ids = np.unique(later[CUSTOMER].to_numpy())
        rows = inner_X.user_positions(ids)
        relevant = sp.csr_matrix(
            (np.ones(len(later)), (pd.Index(ids).get_indexer(later[CUSTOMER]), inner_X.item_positions(later[ITEM]))),
            shape=(len(ids), inner_X.n_items),
        )
        k = min(10, self.n_items_)
        newness = self.newness_grid if self.newness == "auto" else (self.newness_,)
        if self.newness == "auto" and not (inner_X.item_users()[inner_X.item_positions(later[ITEM])] == 0).any():
            newness = (0.0,)  # no purchase of a new item in the window: no evidence for a bonus
        popularity = self.popularity_grid if self.popularity == "auto" else (self.popularity_,)
        results = {}
        for new_bonus in newness:
            for pop_bonus in popularity:
                inner.newness_, inner.popularity_ = float(new_bonus), float(pop_bonus)
                top, _ = inner.recommend_positions(rows, k, True, groups=inner._groups_of(ids))
                results[(float(new_bonus), float(pop_bonus))] = round(float(ndcg_at_k(top, relevant, k)), 6)
        # within newness_tolerance of the best NDCG, the largest newness bonus: near-equal lists,
        # and the one that can show new products (a one-standard-error-like rule)
        top = max(results.values())
        near = [b for b in results if results[b] >= (1.0 - self.newness_tolerance) * top]
        best = max(near, key=lambda b: (b[0], results[b], -b[1]))
        return best, results

    # --- scoring ---------------------------------------------------------------------------------
    def _profiles(self, rows, groups):
        """Profiles (rows x features, dense) of customers at matrix rows (-1: from their group)."""
        out = np.empty((len(rows), self.group_profiles_.shape[1]))
        warm = rows >= 0
        if warm.any():
            out[warm] = self.profiles_[rows[warm]].toarray()
        cold = ~warm
        if cold.any():
            g = groups[cold]
            served = (g >= 0) & self.group_served_[np.maximum(g, 0)]
            out[cold] = self.group_profiles_[np.where(served, g, len(self.group_labels_))]
        return out

    def _group_values(self, rows, groups) -> np.ndarray:
        """Score of each customer on each distinct feature vector (rows x groups of items)."""
        values = np.asarray(self.group_features_ @ self._profiles(rows, groups).T).T
        # relative to the customer's affinity: a new item of a cell they like rises, one of a cell
        # they ignore stays low
        return values * (1.0 + self.newness_ * self.group_new_[None, :])

    def _prior(self) -> np.ndarray:
        """The popularity bonus of each item: ``popularity_ * customers / (most customers)``."""
        return self.popularity_ * self.item_users_ / max(int(self.item_users_.max()), 1)

    def _dense_scores(self, rows, groups):
        return self._group_values(rows, groups)[:, self.item_group_] + self._prior()[None, :]

    def _top_k(self, rows, groups, k, exclude_seen):
        return self._expand_top_k(self._group_values(rows, groups), rows, k, exclude_seen)

    def _expand_top_k(self, values, rows, k, exclude_seen, extra=None, scale=None):
        """Exact top k when every item outside ``extra`` scores ``scale * (group value + prior)``.

        ``values`` (rows x item groups); the item prior (popularity bonus) is non-increasing along
        each group's popularity order; ``scale`` (per row, default 1) multiplies the content part;
        ``extra`` = (row index, item, bonus) entries: those items add the (non-negative) bonus.
        Lower bounds of each row's k-th best content score: the k-th best group value counted with
        the groups' unseen items, and the k-th unseen item of the best group. A group whose best
        item is below the bound cannot supply a top-k item; one above it supplies at most its first
        k + (items the customer has in it) items by popularity.
        """
        n_rows, n_groups = values.shape
        scale = np.ones(n_rows) if scale is None else scale
        prior = self._prior()
        X = self.interactions_.matrix
        warm = np.flatnonzero(rows >= 0) if exclude_seen else np.array([], dtype=np.int64)
        seen = X[rows[warm]]
        seen_owner = np.repeat(warm, np.diff(seen.indptr))
        seen_ptr = np.zeros(n_rows + 1, dtype=np.int64)
        seen_ptr[1:] = np.cumsum(np.bincount(seen_owner, minlength=n_rows))
        seen_rows = np.ones(len(seen.indices))
        seen_in = np.bincount(seen_owner * n_groups + self.item_group_[seen.indices], minlength=n_rows * n_groups)
        seen_in = seen_in.reshape(n_rows, n_groups)
        capacity = self._group_size[None, :] - seen_in
        order = np.argsort(-values, axis=1, kind="stable")
        every = np.arange(n_rows)
        cumulative = np.cumsum(np.take_along_axis(capacity, order, axis=1), axis=1)
        kth = np.minimum((cumulative < k).sum(axis=1), n_groups - 1)
        bound = values[every, order[every, kth]]
        best = order[:, 0]
        enough = capacity[every, best] >= k
        at = self._group_start[best] + np.minimum(k - 1 + seen_in[every, best], self._group_size[best] - 1)
        bound = np.where(enough, np.maximum(bound, values[every, best] + prior[self._members[at]]), bound)
        top_of_group = values + prior[self._members[self._group_start]][None, :]
        # the tie-break is 1e-7 after scaling: the slack is that much in unscaled units
        slack = _TIE_SLACK / np.maximum(scale, 1e-12)
        sel_r, sel_g = np.nonzero(top_of_group >= (bound - slack)[:, None])
        take = np.minimum(self._group_size[sel_g], k + seen_in[sel_r, sel_g])
        owner = np.repeat(sel_r, take)
        offset = np.arange(int(take.sum())) - np.repeat(np.cumsum(take) - take, take)
        cand = self._members[np.repeat(self._group_start[sel_g], take) + offset]
        vals = scale[owner] * (np.repeat(values[sel_r, sel_g], take) + prior[cand])
        # scores shifted by 1 so that a 0 score stays a stored candidate; the exact sparse top k
        # of the base class then removes owned items and breaks ties by popularity
        M = _row_sorted_csr(owner, cand, vals + 1.0, (n_rows, self.n_items_))
        if extra is not None:
            # base + bonus >= base: the maximum keeps the bonus where an item is in both
            x_owner, x_items, x_bonus = extra
            x_vals = scale[x_owner] * (values[x_owner, self.item_group_[x_items]] + prior[x_items]) + 1.0 + x_bonus
            M = sp.csr_matrix(M.maximum(_row_sorted_csr(x_owner, x_items, x_vals, M.shape)))
        top, top_scores = self._top_k_sparse(M, sp.csr_matrix((seen_rows, seen.indices, seen_ptr), shape=M.shape), k)
        return top, top_scores - 1.0


class HybridRecommender(_AttributeRecommender):
    """A blend of a collaborative and a content model, leaning on content where history is thin.

    Each customer's collaborative scores are rescaled to [0, 1] (divided by their maximum; min-max
    for models whose scores can be negative) and so are their content scores; the blend is
    ``a_u * cf + (1 - a_u) * content`` with ``a_u = weight * n_u / (n_u + shrinkage)``, ``n_u`` the
    customer's training items: a customer with one item leans on content, one with fifty on the
    collaborative model; customers without history get the content score only (from their
    attribute group).

    ``weight="auto"`` chooses it on the training data only: a ``validation_share`` of each
    training customer's items (customers with two or more, drawn by ``random_state``, at most
    ``max_validation_customers`` of them) is held out, both models are refitted on the rest (on a
    seeded sample of ``max_fit_customers`` customers holding every validation customer, when there
    are more) and
    the grid value with the best NDCG@10 on the held-out items is kept (``weight_``;
    ``validation_`` holds every grid value's NDCG). Whether the blend beats both pure models on
    the test set is a result, not a given.

    Parameters
    ----------
    collaborative : Recommender
        Unfitted collaborative model (ItemKNN by default); a copy is fitted.
    content : ContentRecommender
        Unfitted content model; a copy is fitted (with ``items``, ``customers``, ``events``).
    weight : float in [0, 1] or "auto"
    weight_grid : sequence of float
    shrinkage : float
        History (items) at which the collaborative share reaches half of ``weight``; must be > 0.
    validation_share : float
    max_validation_customers, max_fit_customers : int
    random_state : int

    Examples
    --------
    >>> from marketing.recommend import build_interactions
    >>> items = pd.DataFrame({"item_id": [1, 2, 3, 4], "category": ["a", "a", "b", "b"]})
    >>> events = pd.DataFrame({"customer_id": [7, 7, 8, 8, 9], "item_id": [1, 3, 1, 3, 1]})
    >>> model = HybridRecommender(ItemKNN(), ContentRecommender(["category"], newness=0.0), weight=1.0,
    ...                           shrinkage=0.1).fit(build_interactions(events, items=items), items=items)
    >>> model.recommend([9], k=1)["item_id"].tolist()  # those who bought 1 also bought 3
    [3]
    """

    def __init__(
        self,
        collaborative: Recommender | None = None,
        content: ContentRecommender | None = None,
        weight="auto",
        weight_grid=(0.0, 0.25, 0.5, 0.75, 1.0),
        shrinkage: float = 5.0,
        validation_share: float = 0.2,
        max_validation_customers: int = 20_000,
        max_fit_customers: int = 200_000,
        random_state: int = 42,
    ):
        self.collaborative = collaborative
        self.content = content
        self.weight = weight
        self.weight_grid = tuple(weight_grid)
        self.shrinkage = shrinkage
        self.validation_share = validation_share
        self.max_validation_customers = max_validation_customers
        self.max_fit_customers = max_fit_customers
        self.random_state = random_state

    def fit(self, interactions, items=None, customers=None, events=None):
        if not (self.shrinkage > 0):
            raise ValueError(f"shrinkage={self.shrinkage!r}: it must be positive (the content share never reaches 0).")
        if not (self.weight == "auto" or (isinstance(self.weight, (int, float)) and 0 <= self.weight <= 1)):
            raise ValueError(f"weight={self.weight!r}: use a number in [0, 1] or 'auto'.")
        collaborative = ItemKNN() if self.collaborative is None else self.collaborative
        content = ContentRecommender() if self.content is None else self.content
        self.content_ = clone(content).fit(interactions, items=items, customers=customers, events=events)
        self.collaborative_ = clone(collaborative).fit(interactions)
        self._customers = customers
        self._items = items
        try:
            return Recommender.fit(self, interactions)
        finally:
            self._customers = self._items = None

    fit.__doc__ = _AttributeRecommender.fit.__doc__

    def _fit(self, X):
        self.validation_ = None
        if self.weight != "auto":
            self.weight_ = float(self.weight)
            return
        rng = np.random.default_rng(self.random_state)
        n_u = np.diff(X.indptr)
        eligible = np.flatnonzero(n_u >= 2)
        if not len(eligible):
            self.weight_ = 0.5
            return
        if len(eligible) > self.max_validation_customers:
            eligible = np.sort(rng.choice(eligible, self.max_validation_customers, replace=False))
        ids = self.interactions_
        fit_rows = np.arange(X.shape[0])
        if X.shape[0] > self.max_fit_customers:
            # the inner models learn from a seeded sample that holds every validation customer:
            # a refit on a million customers would double the fit for a choice among 5 weights
            others = np.ones(X.shape[0], dtype=bool)
            others[eligible] = False
            extra = rng.choice(np.flatnonzero(others), max(self.max_fit_customers - len(eligible), 0), replace=False)
            fit_rows = np.sort(np.concatenate([eligible, extra]))
            X = X[fit_rows]
            eligible = np.searchsorted(fit_rows, eligible)
        # the hold-out is drawn on the sample only (a draw over every pair of a million customers
        # took longer than the inner fits)
        keep, test = _hold_out(X, eligible, self.validation_share, rng)
        inner_X = Interactions(sp.csr_matrix(keep), ids.user_ids[fit_rows], ids.item_ids, ids.weighting)
        inner_content = clone(self.content_)
        # the bonuses learned on the whole training window
        inner_content.newness, inner_content.popularity = self.content_.newness_, self.content_.popularity_
        inner_content.fit(inner_X, items=self._items, customers=self._customers)
        inner_cf = clone(self.collaborative_).fit(inner_X)
        k = min(10, self.n_items_)
        results = {}
        no_groups = np.full(len(eligible), -1, dtype=np.int64)
        parts = _blend_parts(inner_cf, inner_content, eligible, no_groups)
        for w in self.weight_grid:
            top, _ = _blend_from_parts(parts, float(w), self.shrinkage, k, True)
            results[float(w)] = round(float(ndcg_at_k(top, test[eligible], k)), 6)
        self.validation_ = results
        self.weight_ = max(results, key=lambda w: (results[w], -w))  # ties: more content

    def _groups_of(self, customer_ids):
        return self.content_._groups_of(customer_ids)

    def _top_k(self, rows, groups, k, exclude_seen):
        return _blend_top_k(self.collaborative_, self.content_, rows, groups, self.weight_, self.shrinkage, k, exclude_seen)

    def cf_share(self, rows) -> np.ndarray:
        """``a_u``, the collaborative share of the blend, for matrix rows (-1: 0)."""
        rows = np.asarray(rows)
        n_u = np.where(rows >= 0, np.diff(self.interactions_.matrix.indptr)[np.maximum(rows, 0)], 0)
        return self.weight_ * n_u / (n_u + self.shrinkage)

    def _dense_scores(self, rows, groups):
        content = self.content_._dense_scores(rows, groups)
        top = content.max(axis=1, keepdims=True)
        content = np.divide(content, top, out=np.zeros_like(content), where=top > 0)
        a = self.cf_share(rows)[:, None]
        cf = np.zeros_like(content)
        warm = rows >= 0
        if warm.any():
            raw = self.collaborative_._score_rows(rows[warm])
            cf[warm] = _rescale_dense(raw, self.collaborative_._sparse_score_rows(rows[warm][:1]) is not None)
        return a * cf + (1 - a) * content


def _hold_out(X: sp.csr_matrix, rows: np.ndarray, share: float, rng) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """``X`` without, and the 0/1 matrix of, a random ``share`` of the items of each of ``rows``
    (at least one each; ``rows`` hold two or more items)."""
    n_u = np.diff(X.indptr)
    keys = rng.random(X.nnz)
    owner = np.repeat(np.arange(X.shape[0]), n_u)
    order = np.lexsort((keys, owner))
    rank = np.empty(X.nnz, dtype=np.int64)
    rank[order] = np.arange(X.nnz) - X.indptr[owner[order]]
    n_held = np.zeros(X.shape[0], dtype=np.int64)
    n_held[rows] = np.maximum(np.rint(share * n_u[rows]), 1)
    held = rank < n_held[owner]
    coo = X.tocoo()
    keep = sp.csr_matrix((coo.data[~held], (coo.row[~held], coo.col[~held])), shape=X.shape)
    test = sp.csr_matrix((np.ones(int(held.sum())), (coo.row[held], coo.col[held])), shape=X.shape)
    return keep, test


def _row_sorted_csr(owner, cols, vals, shape) -> sp.csr_matrix:
    """CSR from entries already grouped by ascending row (no COO sort)."""
    indptr = np.zeros(shape[0] + 1, dtype=np.int64)
    indptr[1:] = np.cumsum(np.bincount(owner, minlength=shape[0]))
    return sp.csr_matrix((vals, cols, indptr), shape=shape)


def _rescale_dense(raw: np.ndarray, positive: bool) -> np.ndarray:
    """Per-row rescaling to [0, 1]: / max for non-negative sparse-type scores, else min-max."""
    low = np.zeros((len(raw), 1)) if positive else raw.min(axis=1, keepdims=True)
    span = raw.max(axis=1, keepdims=True) - low
    return np.divide(raw - low, span, out=np.zeros_like(raw), where=span > 0)


def _blend_top_k(cf, content, rows, groups, weight, shrinkage, k, exclude_seen):
    """Exact top k of the blend: the content part by group expansion, the collaborative part as
    extra entries (every item a sparse model scores; every item for a dense one)."""
    return _blend_from_parts(_blend_parts(cf, content, rows, groups), weight, shrinkage, k, exclude_seen)


def _blend_parts(cf, content, rows, groups):
    """What the blend of every weight shares: the content values and peaks, each row's history
    length, and the collaborative scores rescaled per row (the weight search scores them once)."""
    values = content._group_values(rows, groups)
    # the best content score of a row is the best over groups of its first (most popular) item
    peak = (values + content._prior()[content._members[content._group_start]][None, :]).max(axis=1)
    peak = np.where(peak > 0, peak, 1.0)
    n_u = np.where(rows >= 0, np.diff(content.interactions_.matrix.indptr)[np.maximum(rows, 0)], 0)
    warm = np.flatnonzero(n_u > 0)
    S = None
    if len(warm):
        S = cf._sparse_score_rows(rows[warm])
        if S is None:
            S = sp.csr_matrix(_rescale_dense(cf._score_rows(rows[warm]), positive=False))
        else:
            S = sp.csr_matrix(S, dtype=np.float64)
            S.eliminate_zeros()
            n_stored = np.diff(S.indptr)
            cf_peak = np.zeros(len(warm))
            has = n_stored > 0
            cf_peak[has] = np.maximum.reduceat(S.data, S.indptr[:-1][has]) if S.nnz else 0.0
            S.data = S.data / np.repeat(np.where(cf_peak > 0, cf_peak, 1.0), n_stored)
    return content, rows, values, peak, n_u, warm, S


def _blend_from_parts(parts, weight, shrinkage, k, exclude_seen):
    content, rows, values, peak, n_u, warm, S = parts
    a = weight * n_u / (n_u + shrinkage)
    extra = None
    if S is not None and weight > 0:
        owner = warm[np.repeat(np.arange(len(warm)), np.diff(S.indptr))]
        extra = (owner, S.indices.astype(np.int64), a[owner] * S.data)
    return content._expand_top_k(values, rows, k, exclude_seen, extra, scale=(1 - a) / peak)
