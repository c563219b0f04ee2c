"""Recommenders with one interface: fit on :class:`Interactions`, recommend top k, score pairs.

Every model scores all items for a batch of customers (``_score_rows``); the base class turns
scores into top-k lists (excluding what the customer already has), serves customers without
history from the popularity list (cold start) and maps positions back to ids.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pandas as pd
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from marketing.recommend.interactions import Interactions

#: Customers scored per batch: bounds the dense (batch x items) score block in memory.
BATCH_SIZE = 2048
#: Cells (customers x items) per dense score block.
DENSE_BLOCK = 2**22


class Recommender:
    """Base class. Subclasses store their parameters in ``__init__`` and implement ``_fit`` and
    ``_score_rows``.

    Ties in score are broken by popularity (more customers first), then by item position, so the
    lists are deterministic.
    """

    def fit(self, interactions: Interactions) -> "Recommender":
        """Learn from the training interactions; return self."""
        if not isinstance(interactions, Interactions):
            raise TypeError(
                "fit expects an Interactions object: build one with "
                "marketing.recommend.build_interactions(events)."
            )
        if interactions.matrix.nnz == 0:
            raise ValueError("The interaction matrix is empty: there is nothing to learn from.")
        self.interactions_ = interactions
        self.n_items_ = interactions.n_items
        self.item_users_ = interactions.item_users()
        order = np.lexsort((np.arange(self.n_items_), -self.item_users_))
        # a tiny, strictly popularity-ordered bonus that only decides exact ties
        tiebreak = np.empty(self.n_items_)
        tiebreak[order] = np.linspace(1e-7, 0.0, self.n_items_)
        self._tiebreak = tiebreak
        self._popularity_order = order
        self._popularity_rank = np.argsort(order)
        self._fit(interactions.matrix)
        return self

    # --- to implement -------------------------------------------------------------------------
    def _fit(self, X: sp.csr_matrix) -> None:
        raise NotImplementedError

    def _score_rows(self, rows: np.ndarray) -> np.ndarray:
        """Dense (len(rows) x n_items) scores for the customers at ``rows``."""
        raise NotImplementedError

    def _sparse_score_rows(self, rows: np.ndarray) -> sp.csr_matrix | None:
        """Scores as a sparse matrix when every unstored score is exactly 0 and stored ones are
        positive (neighbourhood models); None otherwise. Lets top-k skip the dense block."""
        return None

    # --- shared -------------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "interactions_"):
            raise RuntimeError(f"{type(self).__name__} is not fitted yet: call fit(interactions) first.")

    def _pair_positions(self, customer_ids, item_ids) -> tuple[np.ndarray, np.ndarray]:
        """Matrix rows and columns of (customer, item) pairs (-1: unknown), for ``score``."""
        self._check_fitted()
        rows = self.interactions_.user_positions(customer_ids)
        cols = self.interactions_.item_positions(item_ids)
        if len(rows) != len(cols):
            raise ValueError(
                f"customer_ids has {len(rows)} value(s) but item_ids has {len(cols)}: pass one item per customer."
            )
        return rows, cols

    def _check_k(self, k: int) -> None:
        if not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"k={k!r}: it must be a positive integer.")
        if k > self.n_items_:
            raise ValueError(
                f"k={k} is larger than the catalogue ({self.n_items_} items): ask for at most "
                f"{self.n_items_} recommendations."
            )

    def recommend_positions(
        self, rows: np.ndarray, k: int = 10, exclude_seen: bool = True, batch_size: int = BATCH_SIZE
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k item positions and scores for the customers at row positions ``rows``.

        Row -1 marks a customer without history: it gets the popularity list. Slots that cannot
        be filled (the customer already has nearly every item) hold item -1 and score NaN.
        """
        self._check_fitted()
        self._check_k(k)
        rows = np.asarray(rows, dtype=np.int64)
        items = np.full((len(rows), k), -1, dtype=np.int64)
        scores = np.full((len(rows), k), np.nan)
        X = self.interactions_.matrix
        # dense score blocks of about DENSE_BLOCK cells stay in cache: on 20,000 items, blocks of
        # 200 customers are twice as fast as blocks of 2,048 (benchmarks/README.md)
        dense_rows = max(1, min(batch_size, DENSE_BLOCK // max(self.n_items_, 1)))
        blocks = []  # (start, stop) of the rows scored densely
        for start in range(0, len(rows), batch_size):
            batch = rows[start : start + batch_size]
            if (batch >= 0).all() and exclude_seen:
                sparse = self._sparse_score_rows(batch)
                if sparse is not None:
                    top, top_scores = self._top_k_sparse(sparse, X[batch], k)
                    items[start : start + len(batch)] = top
                    scores[start : start + len(batch)] = top_scores
                    continue
            blocks += [(sub, min(sub + dense_rows, start + len(batch))) for sub in range(start, start + len(batch), dense_rows)]

        def score_block(block):
            sub, stop = block
            items[sub:stop], scores[sub:stop] = self._top_k_block(rows[sub:stop], k, exclude_seen)

        _on_every_core(score_block, blocks)
        return items, scores

    def _top_k_block(self, batch: np.ndarray, k: int, exclude_seen: bool) -> tuple[np.ndarray, np.ndarray]:
        """Top k from dense scores for one block of rows (-1: cold start, popularity)."""
        X = self.interactions_.matrix
        warm = batch >= 0
        if warm.all():
            block = self._score_rows(batch)
            if not block.flags.writeable:
                block = block.copy()
        else:
            block = np.empty((len(batch), self.n_items_))
            if warm.any():
                block[warm] = self._score_rows(batch[warm])
            block[~warm] = self.item_users_.astype(float)
        if exclude_seen and warm.any():
            _mask_seen(block, np.flatnonzero(warm), X[batch[warm]])
        top = _top_k_dense(block + self._tiebreak, k)
        top_scores = np.take_along_axis(block, top, axis=1)
        filled = np.isfinite(top_scores)
        return np.where(filled, top, -1), np.where(filled, top_scores, np.nan)

    def _top_k_sparse(self, S: sp.csr_matrix, seen: sp.csr_matrix, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top k of sparse positive scores, excluding ``seen``; ties and unscored items are
        ordered by popularity, exactly as the dense path orders them."""
        n_rows = S.shape[0]
        seen = sp.csr_matrix(seen, dtype=S.dtype)
        seen.data = np.ones_like(seen.data)
        S = sp.csr_matrix(S - S.multiply(seen))
        S.eliminate_zeros()
        counts = np.diff(S.indptr)
        top = np.full((n_rows, k), -1, dtype=np.int64)
        top_scores = np.full((n_rows, k), np.nan)
        # rows are packed into (rows x widest row) blocks; grouping rows of similar length keeps
        # the blocks close to the number of candidates even when a few customers have many
        by_length = np.argsort(counts, kind="stable")
        for group in np.array_split(by_length, max(1, n_rows // 256)):
            width = int(counts[group].max(initial=0))
            if width == 0:
                continue
            sub = S[group]
            rows = np.repeat(np.arange(len(group)), np.diff(sub.indptr))
            slot = np.arange(sub.nnz) - np.repeat(sub.indptr[:-1], np.diff(sub.indptr))
            ranked = np.full((len(group), width), -np.inf)
            ranked[rows, slot] = sub.data + self._tiebreak[sub.indices]
            cand = np.zeros((len(group), width), dtype=np.int64)
            cand[rows, slot] = sub.indices
            raw = np.zeros((len(group), width))
            raw[rows, slot] = sub.data
            kk = min(k, width)
            best = np.argpartition(-ranked, kk - 1, axis=1)[:, :kk]
            order = np.argsort(-np.take_along_axis(ranked, best, axis=1), axis=1, kind="stable")
            best = np.take_along_axis(best, order, axis=1)
            filled = np.isfinite(np.take_along_axis(ranked, best, axis=1))
            top[group, :kk] = np.where(filled, np.take_along_axis(cand, best, axis=1), -1)
            top_scores[group, :kk] = np.where(filled, np.take_along_axis(raw, best, axis=1), np.nan)
        short = np.flatnonzero(counts < k)
        if len(short):
            # too few scored candidates: the rest of the list is the most popular unseen items
            fill, fill_scores = self._fill_with_popularity(S[short], seen[short], k)
            top[short], top_scores[short] = fill, fill_scores
        return top, top_scores

    def _fill_with_popularity(self, S: sp.csr_matrix, seen: sp.csr_matrix, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows with fewer than k scored candidates: scored ones first, then popular unseen items."""
        n_rows, n_items = S.shape
        S = S.tocoo()
        # only the k + (most items any row has) most popular items can be needed
        n_pop = min(n_items, k + int(np.diff(seen.indptr).max(initial=0)))
        pop_rows = np.repeat(np.arange(n_rows), n_pop)
        pop_cols = np.tile(self._popularity_order[:n_pop], n_rows)
        rows = np.concatenate([S.row.astype(np.int64), pop_rows])
        cols = np.concatenate([S.col.astype(np.int64), pop_cols])
        vals = np.concatenate([S.data.astype(np.float64), np.zeros(len(pop_rows))])
        order = np.lexsort((self._popularity_rank[cols], -vals, rows))
        rows, cols, vals = rows[order], cols[order], vals[order]
        codes = rows * n_items + cols
        seen_codes = np.repeat(np.arange(n_rows, dtype=np.int64), np.diff(seen.indptr)) * n_items + seen.indices
        # a pair both scored and popular appears twice; its first (scored) entry is kept
        _, first = np.unique(codes, return_index=True)
        keep = np.zeros(len(codes), dtype=bool)
        keep[first] = True
        keep &= ~np.isin(codes, seen_codes)
        rows, cols, vals = rows[keep], cols[keep], vals[keep]
        position = np.arange(len(rows)) - np.searchsorted(rows, np.arange(n_rows))[rows]
        inside = position < k
        top = np.full((n_rows, k), -1, dtype=np.int64)
        top_scores = np.full((n_rows, k), np.nan)
        top[rows[inside], position[inside]] = cols[inside]
        top_scores[rows[inside], position[inside]] = vals[inside]
        return top, top_scores

    def recommend(self, customer_ids, k: int = 10, exclude_seen: bool = True) -> pd.DataFrame:
        """The top ``k`` items for each customer, excluding items they already have.

        Parameters
        ----------
        customer_ids : array-like
            Customers to recommend for. Customers not in the training data are cold-start: they
            get the most popular items (flagged in the ``cold_start`` column).
        k : int
            List length, 1 <= k <= number of items (ValueError otherwise).
        exclude_seen : bool
            Leave out items the customer already has.

        Returns
        -------
        pandas.DataFrame
            customer_id, rank (1 = best), item_id, score, cold_start. A customer who already has
            all but ``j < k`` items gets only ``j`` rows (none if they have every item).
        """
        self._check_fitted()
        ids = np.asarray(customer_ids)
        rows = self.interactions_.user_positions(ids)
        items, scores = self.recommend_positions(rows, k, exclude_seen)
        filled = items >= 0
        rec = pd.DataFrame(
            {
                "customer_id": np.repeat(ids, k),
                "rank": np.tile(np.arange(1, k + 1), len(ids)),
                "item_id": self.interactions_.item_ids[np.where(filled, items, 0)].ravel(),
                "score": scores.ravel(),
                "cold_start": np.repeat(rows < 0, k),
            }
        )
        return rec[filled.ravel()].reset_index(drop=True)

    def score(self, customer_ids, item_ids) -> np.ndarray:
        """Score of each (customer, item) pair; popularity for unknown customers, NaN for unknown items."""
        users, items = self._pair_positions(customer_ids, item_ids)
        out = np.full(len(users), np.nan)
        known_item = items >= 0
        cold = known_item & (users < 0)
        out[cold] = self.item_users_[items[cold]]
        warm = known_item & (users >= 0)
        unique_rows, inverse = np.unique(users[warm], return_inverse=True)
        for start in range(0, len(unique_rows), BATCH_SIZE):
            block = self._score_rows(unique_rows[start : start + BATCH_SIZE])
            sel = (inverse >= start) & (inverse < start + BATCH_SIZE)
            idx = np.flatnonzero(warm)[sel]
            out[idx] = block[inverse[sel] - start, items[idx]]
        return out


class PopularityRecommender(Recommender):
    """The baseline: every customer gets the items most customers have (score = customer count).

    Examples
    --------
    >>> import pandas as pd
    >>> from marketing.recommend import build_interactions
    >>> X = build_interactions(pd.DataFrame({"customer_id": [1, 2, 2, 3], "item_id": [10, 10, 20, 30]}))
    >>> rec = PopularityRecommender().fit(X).recommend([1], k=2)
    >>> rec["item_id"].tolist(), rec["score"].tolist()
    ([20, 30], [1.0, 1.0])
    """

    def _fit(self, X):
        self.popularity_ = self.item_users_.astype(float)

    def _score_rows(self, rows):
        return np.broadcast_to(self.popularity_, (len(rows), self.n_items_)).copy()

    def recommend_positions(
        self, rows: np.ndarray, k: int = 10, exclude_seen: bool = True, batch_size: int = BATCH_SIZE
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k item positions and scores (as :meth:`Recommender.recommend_positions`), without
        scoring every item for every customer.

        A customer with ``n`` items finds their list among the ``k + n`` most popular items, so
        each row looks at those only: work in ``k`` x customers plus their training pairs.
        """
        self._check_fitted()
        self._check_k(k)
        rows = np.asarray(rows, dtype=np.int64)
        items = np.full((len(rows), k), -1, dtype=np.int64)
        scores = np.full((len(rows), k), np.nan)
        # batches of rows bound the candidate arrays (k + n per row) whatever the number of customers
        step = max(batch_size, 1) * 64
        for start in range(0, len(rows), step):
            stop = min(start + step, len(rows))
            items[start:stop], scores[start:stop] = self._popular_unseen(rows[start:stop], k, exclude_seen)
        return items, scores

    def _popular_unseen(self, rows: np.ndarray, k: int, exclude_seen: bool) -> tuple[np.ndarray, np.ndarray]:
        X = self.interactions_.matrix
        warm = rows >= 0 if exclude_seen else np.zeros(len(rows), dtype=bool)
        seen = X[rows[warm]]
        n_seen = np.zeros(len(rows), dtype=np.int64)
        n_seen[warm] = np.diff(seen.indptr)
        reach = np.minimum(k + n_seen, self.n_items_)
        starts = np.cumsum(reach) - reach
        owner = np.repeat(np.arange(len(rows)), reach)
        rank = np.arange(int(reach.sum())) - starts[owner]
        # hide each owned item at its popularity rank, where that rank is among the row's candidates
        keep = np.ones(len(rank), dtype=bool)
        seen_owner = np.repeat(np.flatnonzero(warm), np.diff(seen.indptr))
        seen_rank = self._popularity_rank[seen.indices]
        inside = seen_rank < reach[seen_owner]
        keep[starts[seen_owner[inside]] + seen_rank[inside]] = False
        kept_before = np.cumsum(keep) - keep
        position = kept_before - kept_before[starts][owner]
        chosen = keep & (position < k)
        top = np.full((len(rows), k), -1, dtype=np.int64)
        top_scores = np.full((len(rows), k), np.nan)
        columns = self._popularity_order[rank[chosen]]
        top[owner[chosen], position[chosen]] = columns
        top_scores[owner[chosen], position[chosen]] = self.popularity_[columns]
        return top, top_scores


def _on_every_core(function, tasks: list) -> None:
    """Call ``function`` on each of ``tasks`` in a thread per core (each task writes its own rows).

    A dense top-k block (a matrix product, a partition, a small sort) spends most of its time in
    numpy code that releases the GIL; BLAS gets one thread per block so the cores are not
    oversubscribed. The results do not depend on the number of threads.
    """
    workers = min(len(tasks), os.cpu_count() or 1)
    if workers <= 1:
        for task in tasks:
            function(task)
        return
    from concurrent.futures import ThreadPoolExecutor

    with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(workers) as pool:
        for _ in pool.map(function, tasks):  # re-raises the first error of a task
            pass


def _top_k_dense(ranked: np.ndarray, k: int) -> np.ndarray:
    """Column positions of the ``k`` largest values of each row of ``ranked``, best first (exact
    ties: lower column first).

    A full sort of every row is the slow part of recommending from dense scores (it moves every
    element); it is left for narrow matrices and rows with NaN scores. Otherwise each row's ``k``-th best of the maxima of ``4k`` column
    chunks is a lower bound of its ``k``-th best score (``k`` distinct items reach it), so only
    the few items at or above it are sorted: a max, a comparison and a small sort per row, about
    five times faster on 20,000 items (benchmarks/README.md).
    """
    n_rows, n_cols = ranked.shape
    if n_cols >= 8 * k:
        rows, cols = _nonzero_2d(ranked >= _chunk_bound(ranked, k)[:, None])
        chosen = _first_k_per_row(rows, cols, ranked[rows, cols], n_rows, k)
        # every row has at least k candidates unless a score is NaN: then the general path
        if len(chosen) == n_rows * k:
            return cols[chosen].reshape(n_rows, k).astype(np.int64)
    # a stable sort, not argpartition: which of several tied items is kept must not depend on the CPU
    return np.argsort(-ranked, axis=1, kind="stable")[:, :k].astype(np.int64)


def _chunk_bound(M: np.ndarray, k: int) -> np.ndarray:
    """Per row, the k-th best of the maxima of ``4k`` column chunks of ``M``: ``k`` distinct
    columns reach it, so it is a lower bound of the row's k-th best value."""
    starts = np.linspace(0, M.shape[1], 4 * k, endpoint=False).astype(np.int64)
    return np.partition(np.maximum.reduceat(M, starts, axis=1), 3 * k, axis=1)[:, 3 * k]


def _first_k_per_row(rows: np.ndarray, cols: np.ndarray, values: np.ndarray, n_rows: int, k: int) -> np.ndarray:
    """Positions in the candidate arrays of each row's ``k`` largest ``values``, row by row and
    best first (exact ties: lower column first)."""
    order = np.lexsort((cols, -values, rows))
    ordered_rows = rows[order]
    position = np.arange(len(order)) - np.searchsorted(ordered_rows, np.arange(n_rows))[ordered_rows]
    return order[position < k]


def _mask_seen(block: np.ndarray, block_rows: np.ndarray, seen: sp.csr_matrix) -> None:
    """Set to -inf, in place, the items of ``seen`` (one CSR row per entry of ``block_rows``)."""
    block[np.repeat(block_rows, np.diff(seen.indptr)), seen.indices] = -np.inf


def _nonzero_2d(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.nonzero`` of a C-ordered 2-D mask, row-major: the same (rows, cols), but from the flat
    positions, which numpy finds about ten times faster than the 2-D coordinates (a 209 x 20,000
    mask: 0.6 ms against 6 ms, most of a dense top-k block's time)."""
    flat = np.flatnonzero(mask)
    return np.divmod(flat, mask.shape[1])


def _top_n_per_row(M, n: int) -> sp.csr_matrix:
    """Keep the ``n`` largest positive entries of each row of ``M`` (dense, or CSR: the same
    entries as of its dense form) as a CSR matrix.

    Exact ties at the cut keep the lower columns: ``argpartition`` keeps an arbitrary one of them,
    and which one depends on the CPU's SIMD sort (AVX-512 and AVX2 machines kept different
    neighbours, so the same seed gave different reports). Wide rows take the fast path of
    :func:`_top_k_dense` (only entries at or above a lower bound of the n-th best are sorted: the
    (3n)-th best of 4n column chunks' maxima); a CSR ``M`` is never made dense there (its chunk
    maxima and candidates come from the stored entries). Narrow matrices are sorted whole.
    """
    n_rows, n_cols = M.shape
    n = min(n, n_cols)
    sparse = sp.issparse(M)
    if n_cols >= 8 * n:
        if sparse:
            rows, cols, vals = _sparse_candidates(M, 4 * n, 3 * n)
        else:
            rows, cols = _nonzero_2d((M >= _chunk_bound(M, n)[:, None]) & (M > 0))
            vals = M[rows, cols]
        keep = _first_k_per_row(rows, cols, vals, n_rows, n)
        return sp.csr_matrix((vals[keep], (rows[keep], cols[keep])), shape=M.shape)
    dense = M.toarray() if sparse else np.asarray(M)
    part = _top_k_dense(dense, n)  # narrow: its full stable sort, the same tie rule
    part_vals = np.take_along_axis(dense, part, axis=1)
    kept = part_vals > 0
    rows = np.broadcast_to(np.arange(n_rows)[:, None], part.shape)[kept]
    return sp.csr_matrix((part_vals[kept], (rows, part[kept])), shape=M.shape)


def _sparse_candidates(P: sp.csr_matrix, n_chunks: int, j: int):
    """(rows, cols, values) of the stored entries of ``P`` that are positive and at least the
    j-th best (0-based) of their row's ``n_chunks`` column-chunk maxima (a chunk without a
    stored entry has maximum 0): a lower bound of each row's (j+1)-th best, as in the dense path."""
    P = sp.csr_matrix(P)
    n_rows, n_cols = P.shape
    rows = np.repeat(np.arange(n_rows), np.diff(P.indptr))
    chunk = P.indices.astype(np.int64) * n_chunks // n_cols
    maxima = np.zeros(n_rows * n_chunks, dtype=P.dtype)
    np.maximum.at(maxima, rows * n_chunks + chunk, P.data)  # the indices need not be sorted
    bound = np.partition(maxima.reshape(n_rows, n_chunks), j, axis=1)[:, j]
    wanted = (P.data >= bound[rows]) & (P.data > 0)
    return rows[wanted], P.indices[wanted].astype(np.int64), P.data[wanted]


def _l2_normalize_columns(X: sp.csr_matrix) -> sp.csr_matrix:
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=0)).ravel())
    inv = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    return sp.csr_matrix(X @ sp.diags(inv.astype(X.dtype)))


def _l2_normalize_rows(X: sp.csr_matrix) -> sp.csr_matrix:
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
    inv = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    return sp.csr_matrix(sp.diags(inv.astype(X.dtype)) @ X)


class ItemKNN(Recommender):
    """Item-based k nearest neighbours with cosine similarity.

    Similarity of items i and j is the cosine of their customer columns. Each item j keeps its
    ``n_neighbors`` most similar items N(j); every item a customer has votes for its neighbours:
    ``score(u, i) = sum_{j owned, i in N(j)} x_uj * s_ji`` (the convention of ``implicit``'s
    ItemItemRecommender, which bounds the work per customer by items owned x n_neighbors). The
    similarity matrix is computed in blocks of items, so memory stays at one (block x items)
    dense block plus the sparse top-n result.

    Parameters
    ----------
    n_neighbors : int
        Neighbours kept per item.
    block_size : int
        Items per similarity block (memory / speed trade-off only; results do not depend on it).

    Examples
    --------
    >>> import pandas as pd
    >>> from marketing.recommend import build_interactions
    >>> events = pd.DataFrame({"customer_id": [1, 1, 2, 2, 3], "item_id": [10, 20, 10, 20, 10]})
    >>> model = ItemKNN(n_neighbors=5).fit(build_interactions(events))
    >>> model.recommend([3], k=1)[["item_id"]].values.ravel().tolist()
    [20]
    >>> model.explain(3, 20)
       because_item_id  contribution
    0               10        0.8165
    """

    def __init__(self, n_neighbors: int = 100, block_size: int = 1024):
        self.n_neighbors = n_neighbors
        self.block_size = block_size

    def _fit(self, X):
        if self.n_neighbors < 1:
            raise ValueError(f"n_neighbors={self.n_neighbors}: it must be at least 1.")
        Xn = _l2_normalize_columns(X.astype(np.float32))
        XnT = sp.csr_matrix(Xn.T)
        starts = list(range(0, self.n_items_, self.block_size))
        blocks = [None] * len(starts)

        def block(index):
            start = starts[index]
            sims = sp.csr_matrix(XnT[start : start + self.block_size] @ Xn)
            # an item is not its own neighbour (a stored 0 is never kept)
            own = np.repeat(np.arange(sims.shape[0]), np.diff(sims.indptr)) + start
            sims.data[sims.indices == own] = 0.0
            blocks[index] = _top_n_per_row(sims, self.n_neighbors)

        # each block is its own product and selection: the same matrix on any number of threads
        _on_every_core(block, list(range(len(starts))))
        # row j holds j's neighbours i, which is what X @ S needs
        self.similarity_ = sp.csr_matrix(sp.vstack(blocks))

    def _scores(self, rows):
        return sp.csr_matrix(self.interactions_.matrix[rows] @ self.similarity_)

    def _sparse_score_rows(self, rows):
        return self._scores(rows)

    def _score_rows(self, rows):
        return self._scores(rows).toarray().astype(np.float64)

    def explain(self, customer_id, item_id, n: int = 3) -> pd.DataFrame:
        """Why ``item_id`` is recommended to ``customer_id``: the items they have that contribute most.

        Returns up to ``n`` rows (because_item_id, contribution = x_uj * s_ji), largest first.
        """
        self._check_fitted()
        u = self.interactions_.user_positions([customer_id])[0]
        i = self.interactions_.item_positions([item_id])[0]
        if u < 0 or i < 0:
            missing = "customer" if u < 0 else "item"
            raise ValueError(f"the {missing} asked about is not in the training data.")  # no id: it may be personal
        user_row = self.interactions_.matrix[u]
        contrib = user_row.multiply(self.similarity_[:, i].T).tocsr()
        order = np.argsort(-contrib.data, kind="stable")[:n]
        return pd.DataFrame(
            {
                "because_item_id": self.interactions_.item_ids[contrib.indices[order]],
                "contribution": np.round(contrib.data[order].astype(float), 4),
            }
        )


class UserKNN(Recommender):
    """User-based k nearest neighbours, the classic collaborative filter.

    A customer's neighbours are the ``n_neighbors`` customers most similar to them (positive
    similarity only); ``score(u, i) = sum_{v in N(u)} sim(u, v) * x_vi``. Similarities are computed
    for one batch of customers at a time (batch x customers), never customers x customers.

    Parameters
    ----------
    n_neighbors : int
        Neighbours per customer.
    similarity : {"cosine", "pearson"}
        Cosine of the customers' rows, or Pearson correlation of the rows over all items
        (absent pairs count as 0), i.e. the cosine of the mean-centred rows.

    Examples
    --------
    >>> import pandas as pd
    >>> from marketing.recommend import build_interactions
    >>> events = pd.DataFrame({"customer_id": [1, 1, 1, 2, 2, 3], "item_id": [10, 20, 30, 10, 20, 30]})
    >>> UserKNN(n_neighbors=1).fit(build_interactions(events)).recommend([2], k=1)["item_id"].tolist()
    [30]
    """

    def __init__(self, n_neighbors: int = 50, similarity: str = "cosine"):
        self.n_neighbors = n_neighbors
        self.similarity = similarity

    def _fit(self, X):
        if self.similarity not in ("cosine", "pearson"):
            raise ValueError(f"similarity={self.similarity!r}: use 'cosine' or 'pearson'.")
        if self.n_neighbors < 1:
            raise ValueError(f"n_neighbors={self.n_neighbors}: it must be at least 1.")
        X = X.astype(np.float64)
        n = X.shape[1]
        self._X = X
        self._XT = sp.csr_matrix(X.T)
        self._mean = np.asarray(X.sum(axis=1)).ravel() / n
        sq = np.asarray(X.multiply(X).sum(axis=1)).ravel()
        if self.similarity == "cosine":
            self._norm = np.sqrt(sq)
        else:
            self._norm = np.sqrt(np.maximum(sq - n * self._mean**2, 0.0))

    def _score_rows(self, rows):
        dots = (self._X[rows] @ self._XT).toarray()
        if self.similarity == "pearson":
            # sum_i (x_ui - m_u)(x_vi - m_v) = x_u . x_v - n m_u m_v, without densifying the rows
            dots -= self._X.shape[1] * np.outer(self._mean[rows], self._mean)
        denom = np.outer(self._norm[rows], self._norm)
        sims = np.divide(dots, denom, out=np.zeros_like(dots), where=denom > 0)
        sims[np.arange(len(rows)), rows] = 0.0  # a customer is not their own neighbour
        return (_top_n_per_row(sims, self.n_neighbors) @ self._X).toarray()


class EASE(Recommender):
    """EASE, the closed-form linear item-item model (Steck, 2019).

    ``B = argmin ||X - X B||^2 + l2 ||B||^2`` subject to ``diag(B) = 0``, solved in closed form:
    ``P = (X^T X + l2 I)^-1``, ``B_ij = -P_ij / P_jj``, ``B_jj = 0``. Scores are ``X B``. It needs a
    dense items x items matrix (8 bytes per cell), so catalogues above ``max_items`` are refused.

    Parameters
    ----------
    l2 : float
        Ridge penalty; larger values shrink towards popularity-like behaviour.
    max_items : int
        Largest catalogue accepted (20,000 items use 3.2 GB per dense matrix).

    Examples
    --------
    >>> import pandas as pd
    >>> from marketing.recommend import build_interactions
    >>> events = pd.DataFrame({"customer_id": [1, 1, 2, 2, 3], "item_id": [10, 20, 10, 20, 10]})
    >>> EASE(l2=1.0).fit(build_interactions(events)).recommend([3], k=1)["item_id"].tolist()
    [20]
    """

    def __init__(self, l2: float = 200.0, max_items: int = 25_000):
        self.l2 = l2
        self.max_items = max_items

    def _fit(self, X):
        if self.l2 <= 0:
            raise ValueError(f"l2={self.l2}: the penalty must be positive.")
        if self.n_items_ > self.max_items:
            gib = 8 * self.n_items_**2 / 2**30
            raise ValueError(
                f"EASE needs a dense {self.n_items_} x {self.n_items_} matrix ({gib:.1f} GiB), above "
                f"max_items={self.max_items}. Use ItemKNN for this catalogue, or raise max_items."
            )
        G = (X.T @ X).toarray().astype(np.float64)
        G[np.diag_indices_from(G)] += self.l2
        P = np.linalg.inv(G)
        B = -P / np.diag(P)
        B[np.diag_indices_from(B)] = 0.0
        self.weights_ = B

    def _score_rows(self, rows):
        return np.asarray(self.interactions_.matrix[rows] @ self.weights_)


class ALS(Recommender):
    """Matrix factorisation for implicit feedback by alternating least squares (``implicit`` library).

    Customer and item factors minimise the confidence-weighted squared error of the
    preferences (Hu, Koren and Volinsky, 2008), with confidence ``1 + alpha * x_ui``. The same
    ``random_state`` gives the same factors, bit for bit, on any number of threads: each
    customer's (and each item's) solve is independent of the others, and the one shared product
    (the Gram matrix of the other side's factors) is computed on one BLAS thread.

    Parameters
    ----------
    factors, regularization, alpha, iterations : as in ``implicit.als.AlternatingLeastSquares``.
    random_state : int
        Seed of the factor initialisation.
    n_jobs : int
        Threads of the fit; -1 (default) uses every core.

    The defaults (16 factors, strong regularisation) won a small grid on the synthetic
    finance and ecommerce data; larger models overfit these small matrices.

    Examples
    --------
    >>> import pandas as pd
    >>> from marketing.recommend import build_interactions
    >>> events = pd.DataFrame({"customer_id": [1, 1, 2, 2, 3], "item_id": [10, 20, 10, 20, 10]})
    >>> ALS(factors=2, random_state=0).fit(build_interactions(events)).user_factors_.shape
    (3, 2)
    """

    def __init__(
        self,
        factors: int = 16,
        regularization: float = 10.0,
        alpha: float = 1.0,
        iterations: int = 15,
        random_state: int = 42,
        n_jobs: int = -1,
    ):
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _fit(self, X):
        if not isinstance(self.n_jobs, (int, np.integer)) or self.n_jobs == 0 or self.n_jobs < -1:
            raise ValueError(f"n_jobs={self.n_jobs!r}: use a positive number of threads, or -1 for every core.")
        with warnings.catch_warnings():
            # implicit imports tqdm.auto, which warns inside Jupyter when ipywidgets is absent;
            # progress bars are switched off below, so the warning is noise
            warnings.filterwarnings("ignore", message="IProgress not found")
            from implicit.cpu.als import AlternatingLeastSquares

        # implicit checks the BLAS thread count when constructed: limit it first (one BLAS thread
        # is also what keeps the factors the same on any number of fit threads)
        with threadpool_limits(limits=1, user_api="blas"):
            model = AlternatingLeastSquares(
                factors=self.factors,
                regularization=self.regularization,
                alpha=self.alpha,
                iterations=self.iterations,
                num_threads=0 if self.n_jobs == -1 else int(self.n_jobs),  # implicit: 0 is every core
                random_state=self.random_state,
            )
            model.fit(sp.csr_matrix(X, dtype=np.float32), show_progress=False)
        self.user_factors_ = np.asarray(model.user_factors)
        self.item_factors_ = np.asarray(model.item_factors)

    def _score_rows(self, rows):
        return self.user_factors_[rows].astype(np.float64) @ self.item_factors_.T.astype(np.float64)

    def _top_k_block(self, batch, k, exclude_seen):
        """The top k of the float64 scores, found from float32 ones.

        The factors are float32 (implicit's), so their float32 product is half the memory
        traffic of the float64 one and twice as fast; it only screens. Its rounding error is at
        most ``gamma * |u| . max|v|`` per customer (the classic bound of a dot product of
        ``factors`` terms, whatever the summation order), so every item of the float64 top k
        scores within twice that of the screened k-th best; those candidates alone are scored in
        float64 and ranked exactly as the dense path ranks (same tie-break). The lists and scores
        are the float64 ones, as on the general path.
        """
        U, V = self.user_factors_, self.item_factors_
        if (batch < 0).any() or self.n_items_ < 8 * k or U.dtype != np.float32:
            return super()._top_k_block(batch, k, exclude_seen)
        U = U[batch]
        approx = U @ V.T
        if exclude_seen:
            _mask_seen(approx, np.arange(len(batch)), self.interactions_.matrix[batch])
        if np.isnan(approx).any():
            return super()._top_k_block(batch, k, exclude_seen)
        bound = _chunk_bound(approx, k)
        terms = U.shape[1] + 1
        gamma = 2 * terms * 2.0**-24 / (1 - terms * 2.0**-24)
        error = gamma * (np.abs(U).astype(np.float64) @ np.abs(V).max(axis=0).astype(np.float64))
        floor = bound.astype(np.float64) - 2 * error - self._tiebreak.max()
        # rounded down, so that the float32 comparison keeps everything at or above the float64 floor
        floor = np.nextafter(floor.astype(np.float32), np.float32(-np.inf))
        rows, cols = _nonzero_2d(approx >= floor[:, None])
        exact = np.einsum("ij,ij->i", U[rows].astype(np.float64), V[cols].astype(np.float64))
        exact[np.isneginf(approx[rows, cols])] = -np.inf
        chosen = _first_k_per_row(rows, cols, exact + self._tiebreak[cols], len(batch), k)
        top = cols[chosen].reshape(len(batch), k)
        top_scores = exact[chosen].reshape(len(batch), k)
        filled = np.isfinite(top_scores)
        return np.where(filled, top, -1), np.where(filled, top_scores, np.nan)
