"""The customer x item interaction matrix: scipy.sparse CSR with id maps both ways."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from marketing.columns import CUSTOMER, ITEM, RATING
from marketing.engines import engine_of
from marketing.validation import DataValidationError, require_columns, require_non_empty

#: How repeated events of one customer-item pair become one matrix entry.
WEIGHTINGS = ("binary", "count", "log", "rating")


@dataclass(frozen=True)
class Interactions:
    """A customer x item matrix and the ids of its rows and columns.

    Attributes
    ----------
    matrix : scipy.sparse.csr_matrix
        ``n_users x n_items``, float32; entry ``(u, i)`` is the weight of customer ``u`` on item ``i``
        (1 for binary feedback, an event count or log-confidence, or a rating); absent pairs are 0.
    user_ids, item_ids : numpy.ndarray
        The customer id of each row and the item id of each column (sorted ascending).
    weighting : str
        How the entries were computed (one of :data:`WEIGHTINGS`).
    """

    matrix: sp.csr_matrix
    user_ids: np.ndarray
    item_ids: np.ndarray
    weighting: str = "binary"

    @property
    def n_users(self) -> int:
        return self.matrix.shape[0]

    @property
    def n_items(self) -> int:
        return self.matrix.shape[1]

    def user_positions(self, customer_ids) -> np.ndarray:
        """Row position of each customer id; -1 for customers not in the matrix."""
        return pd.Index(self.user_ids).get_indexer(np.asarray(customer_ids))

    def item_positions(self, item_ids) -> np.ndarray:
        """Column position of each item id; -1 for items not in the matrix."""
        return pd.Index(self.item_ids).get_indexer(np.asarray(item_ids))

    def item_users(self) -> np.ndarray:
        """Number of distinct customers with each item (the popularity count)."""
        return np.diff(self.matrix.tocsc().indptr)

    def summary(self) -> dict:
        """Size and sparsity: customers, items, stored pairs, density (pairs / cells)."""
        pairs = int(self.matrix.nnz)
        cells = self.n_users * self.n_items
        return {
            "customers": self.n_users,
            "items": self.n_items,
            "pairs": pairs,
            "density": pairs / cells if cells else 0.0,
            "sparsity": 1.0 - pairs / cells if cells else 1.0,
            "pairs_per_customer": pairs / self.n_users if self.n_users else 0.0,
        }


def build_interactions(
    events,
    weighting: str = "binary",
    items=None,
    users=None,
    col_customer: str = CUSTOMER,
    col_item: str = ITEM,
    col_rating: str = RATING,
) -> Interactions:
    """Build the customer-item interactions from an event log, on the log's engine.

    Parameters
    ----------
    events : pandas.DataFrame, DuckDB relation or Spark DataFrame
        One row per event (purchase, enrolment, session) with customer and item ids. A DuckDB
        relation is reduced to the needed columns and collected (the in-memory models fit on it);
        a Spark DataFrame stays in Spark.
    weighting : {"binary", "count", "log", "rating"}
        Implicit feedback: ``"binary"`` (1 if the pair ever occurred), ``"count"`` (number of events)
        or ``"log"`` (confidence ``1 + log(count)``). Explicit feedback: ``"rating"``, the mean
        rating of the pair, read from ``col_rating``.
    items, users : array-like or table, optional
        The full catalogue / customer base (ids, or a table with the id column). Given, the matrix
        has a column (row) for each, even those without events, and events naming an id outside
        them raise. Default: the ids in ``events``. Spark keeps the catalogue beside the pairs
        (:func:`item_popularity`, the models' ``fit``), so there they are not read.
    col_customer, col_item, col_rating : str
        Column names, overridable.

    Returns
    -------
    Interactions
        In memory (pandas, DuckDB): the sparse matrix. On Spark: a Spark DataFrame
        ``(customer_id, item_id, weight)``, one row per pair (not collected), which the Spark
        models fit on.

    Raises
    ------
    DataValidationError
        Empty log, missing columns, missing ids, ids outside ``items`` / ``users``, missing ratings.
    ValueError
        Unknown ``weighting``.

    Examples
    --------
    >>> events = pd.DataFrame({"customer_id": [7, 7, 7, 9], "item_id": [1, 1, 2, 2]})
    >>> X = build_interactions(events, weighting="count", items=[1, 2, 3])
    >>> X.matrix.toarray()
    array([[2., 1., 0.],
           [0., 1., 0.]], dtype=float32)
    >>> X.user_ids.tolist(), X.item_ids.tolist()
    ([7, 9], [1, 2, 3])
    """
    if weighting not in WEIGHTINGS:
        raise ValueError(f"weighting={weighting!r} is not one of {WEIGHTINGS}.")
    needed = [col_customer, col_item] + ([col_rating] if weighting == "rating" else [])
    engine = engine_of(events)
    if engine == "spark":
        return _pair_table(events, needed, weighting, col_customer, col_item, col_rating)
    if engine == "duckdb":
        events = in_memory(events, needed)
    items, users = id_values(items, col_item), id_values(users, col_customer)
    require_non_empty(events, "events")
    require_columns(events, needed, "events")
    for col in needed:
        if events[col].isna().any():
            raise DataValidationError(
                f"table 'events': column '{col}' has {int(events[col].isna().sum())} missing value(s). "
                "Drop or fill those rows before building the interaction matrix."
            )
    user_ids = _ids(events[col_customer], users, "customers", col_customer)
    item_ids = _ids(events[col_item], items, "items", col_item)
    rows = pd.Index(user_ids).get_indexer(events[col_customer].to_numpy())
    cols = pd.Index(item_ids).get_indexer(events[col_item].to_numpy())
    shape = (len(user_ids), len(item_ids))
    if weighting == "rating":
        ratings = events[col_rating].to_numpy(dtype=np.float64)
        total = sp.csr_matrix((ratings, (rows, cols)), shape=shape)
        count = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=shape)
        total.sum_duplicates()
        count.sum_duplicates()
        # same sparsity pattern (ratings are >= scale minimum > 0), so the data arrays align
        matrix = total.copy()
        matrix.data = total.data / count.data
    else:
        matrix = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=shape)
        matrix.sum_duplicates()
        if weighting == "binary":
            matrix.data = np.ones_like(matrix.data)
        elif weighting == "log":
            matrix.data = 1.0 + np.log(matrix.data)
    matrix = matrix.astype(np.float32)
    matrix.sort_indices()
    return Interactions(matrix=matrix, user_ids=user_ids, item_ids=item_ids, weighting=weighting)


def _pair_table(events, needed, weighting, col_customer, col_item, col_rating):
    """The relational form of the interactions (:func:`~marketing.recommend.relational.pair_weights`)
    after the checks of the in-memory path, counted in one pass."""
    import narwhals as nw

    from marketing.recommend.relational import first_row, lazy, pair_weights

    require_columns(events, needed, "events")
    counts = first_row(lazy(events).select(nw.len().alias("_rows"), *[nw.col(c).null_count() for c in needed]))
    if not counts["_rows"]:
        raise DataValidationError("table 'events' is empty: there is nothing to build interactions from.")
    for col in needed:
        if counts[col]:
            raise DataValidationError(
                f"table 'events': column '{col}' has {int(counts[col])} missing value(s). "
                "Drop or fill those rows before building the interaction matrix."
            )
    return pair_weights(events, weighting, col_customer, col_item, col_rating)


def in_memory(events, columns) -> pd.DataFrame:
    """A DuckDB relation's ``columns`` (those present) as pandas; pandas frames pass through.

    Only the columns a step needs leave DuckDB: the in-memory models fit on them.
    """
    if engine_of(events) != "duckdb":
        return events
    present = [c for c in columns if c in events.columns]
    return events.select(*present).df() if present else events.df()


def id_values(ids, col: str):
    """The ids of a table's ``col`` (a pandas table or Series of ids passes its values)."""
    if ids is None:
        return None
    if isinstance(ids, pd.DataFrame):
        return ids[col].to_numpy()
    return ids


def interaction_summary(interactions, items=None) -> dict:
    """Size and sparsity: customers, items, stored pairs, density (pairs / cells), on either engine.

    ``items`` (the catalogue) counts the items on Spark; in memory the matrix already has its
    columns. See :meth:`Interactions.summary`.

    Examples
    --------
    >>> X = build_interactions(pd.DataFrame({"customer_id": [1, 2, 2], "item_id": [5, 5, 6]}))
    >>> interaction_summary(X)["density"]
    0.75
    """
    if engine_of(interactions) == "spark":
        from marketing.recommend.relational import pair_summary

        return pair_summary(interactions, items)
    return interactions.summary()


def item_popularity(interactions, items=None):
    """Distinct customers per item (the popularity count): a table ``item_id``, ``n_customers``.

    A pandas DataFrame in memory (one row per matrix column), a Spark DataFrame on Spark (one row
    per catalogue item when ``items`` is given; small enough to collect).

    Examples
    --------
    >>> X = build_interactions(pd.DataFrame({"customer_id": [1, 2, 2], "item_id": [5, 5, 6]}), items=[5, 6, 7])
    >>> item_popularity(X)["n_customers"].tolist()
    [2, 1, 0]
    """
    if engine_of(interactions) == "spark":
        from marketing.recommend.relational import popularity_table

        return popularity_table(interactions, items)
    return pd.DataFrame({ITEM: interactions.item_ids, "n_customers": interactions.item_users()})


def _ids(observed: pd.Series, universe, table: str, col: str) -> np.ndarray:
    """Sorted ids of the rows/columns; raise if events name ids outside the given universe."""
    if universe is None:
        return np.sort(observed.unique())
    universe = np.sort(pd.unique(np.asarray(universe)))
    unknown = ~np.isin(observed.to_numpy(), universe)
    if unknown.any():
        # row numbers, not the ids: an id may be personal, and the message ends in reports and records
        rows = np.flatnonzero(unknown)[:3].tolist()
        raise DataValidationError(
            f"table 'events': column '{col}' has {int(unknown.sum())} event(s) whose id is not in "
            f"the {table} table (rows {rows}, counting from 0). Add them to the {table} table or drop those events."
        )
    return universe
