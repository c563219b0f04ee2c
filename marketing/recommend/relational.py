"""The relational steps of the recommendation analysis, written once for every engine (narwhals).

Each function takes a pandas or a PySpark frame (eager pandas, lazy Spark) and returns the
caller's kind: the pair weights of :func:`marketing.recommend.build_interactions`, the
train / test splits, the ranking metrics computed from a top-k table and a relevance table,
coverage and novelty, and the campaign list's join of item names.

Where narwhals has no engine-neutral operation, a small shim does it per backend (and only that):

- :func:`_random_key`: a seeded random number per customer-item pair. In memory it is numpy's
  generator over the pairs sorted by (customer, item), which keeps the pandas splits as they
  were; Spark cannot hold every pair on one machine, so it uses a seeded hash of the pair
  (``xxhash64(customer_id, item_id, seed)``): reproducible however the data are partitioned,
  but a different draw.
- :func:`_row_number`: the position of each row within its customer under a multi-key order
  with mixed directions (in memory, stable argsorts of integer codes; ``row_number()`` over a
  window in Spark).

The in-memory recommenders compute their metrics on CSR matrices (:mod:`marketing.recommend.metrics`,
vectorised numpy); :func:`ranking_metrics_table` is the one relational definition the Spark path
uses, tested equal to it.
"""

from __future__ import annotations

import datetime as dt

import narwhals as nw
import numpy as np
import pandas as pd

from marketing.columns import CUSTOMER, ITEM, N_CUSTOMERS, RANK, RATING, TIMESTAMP, WEIGHT
from marketing.engines import engine_of
from marketing.frames import count_where
from marketing.recommend.metrics import RANKING_METRICS, discounts



# --- frames in, frames out ------------------------------------------------------------------------
def lazy(frame) -> nw.LazyFrame:
    """Any supported native frame (or a narwhals one) as a narwhals LazyFrame."""
    frame = nw.from_native(frame) if not isinstance(frame, (nw.DataFrame, nw.LazyFrame)) else frame
    return frame.lazy() if isinstance(frame, nw.DataFrame) else frame


def native(frame: nw.LazyFrame, sort_by=None):
    """Back to the caller's kind: a pandas DataFrame (collected, optionally sorted, fresh index)
    in memory; the native lazy frame on Spark (not computed)."""
    if _is_spark(frame):
        return frame.to_native()
    out = frame.collect("pandas")
    if sort_by:
        out = out.sort(sort_by)
    return out.to_native().reset_index(drop=True)


def first_row(frame: nw.LazyFrame) -> dict:
    """The first row of a small result (an aggregate) as a dict of Python values."""
    return frame.collect("pandas").to_native().iloc[0].to_dict()


def _is_spark(frame) -> bool:
    return engine_of(frame.to_native() if isinstance(frame, (nw.DataFrame, nw.LazyFrame)) else frame) == "spark"


# --- interactions -----------------------------------------------------------------------------------
def pair_weights(events, weighting: str = "binary", col_customer=CUSTOMER, col_item=ITEM, col_rating=RATING):
    """One row per customer-item pair with its weight (``binary``: 1; ``count``: events;
    ``log``: 1 + log(count); ``rating``: the mean rating), as a table ``customer_id, item_id, weight``.

    Examples
    --------
    >>> events = pd.DataFrame({"customer_id": [7, 7, 7, 9], "item_id": [1, 1, 2, 2]})
    >>> pair_weights(events, "count")["weight"].tolist()
    [2.0, 1.0, 1.0]
    """
    lf = lazy(events)
    aggregates = [nw.len().alias("_n")]
    if weighting == "rating":
        lf = lf.with_columns(_mean=nw.col(col_rating).cast(nw.Float64))
        aggregates.append(nw.col("_mean").mean())
    pairs = lf.group_by(col_customer, col_item).agg(*aggregates)
    n = nw.col("_n").cast(nw.Float64)
    weight = {"binary": n * 0.0 + 1.0, "count": n, "log": n.log() + 1.0, "rating": nw.col("_mean")}[weighting]
    return native(pairs.select(col_customer, col_item, weight.alias(WEIGHT)), sort_by=[col_customer, col_item])


def popularity_table(pairs, items=None, col_item=ITEM):
    """Distinct customers per item (``item_id``, ``n_customers``) from one-row-per-pair ``pairs``;
    every item of ``items`` gets a row (0 for those nobody has) when given."""
    counts = lazy(pairs).group_by(col_item).agg(nw.len().alias(N_CUSTOMERS))
    if items is None:
        return native(counts, sort_by=[col_item])
    catalogue = lazy(items).select(col_item).unique()
    joined = catalogue.join(counts, on=col_item, how="left").select(
        col_item, nw.col(N_CUSTOMERS).fill_null(0).cast(nw.Int64)
    )
    return native(joined, sort_by=[col_item])


def pair_summary(pairs, items=None, col_customer=CUSTOMER, col_item=ITEM) -> dict:
    """Size and sparsity of one-row-per-pair ``pairs``, as :meth:`Interactions.summary` reports them."""
    row = first_row(
        lazy(pairs).select(
            nw.len().alias("pairs"), nw.col(col_customer).n_unique().alias("customers"),
            nw.col(col_item).n_unique().alias("items"),
        )
    )
    n_items = row["items"] if items is None else first_row(lazy(items).select(nw.col(col_item).n_unique()))[col_item]
    pairs_, users = int(row["pairs"]), int(row["customers"])
    cells = users * int(n_items)
    return {
        "customers": users,
        "items": int(n_items),
        "pairs": pairs_,
        "density": pairs_ / cells if cells else 0.0,
        "sparsity": 1.0 - pairs_ / cells if cells else 1.0,
        "pairs_per_customer": pairs_ / users if users else 0.0,
    }


# --- splits -----------------------------------------------------------------------------------------
def test_pairs(events: nw.LazyFrame, col_customer=CUSTOMER, col_item=ITEM, col_rating=RATING) -> nw.LazyFrame:
    """Distinct pairs with their number of events and mean rating (when the log has ratings)."""
    aggregates = [nw.len().alias("n_events")]
    if col_rating in events.collect_schema().names():
        events = events.with_columns(nw.col(col_rating).cast(nw.Float64))
        aggregates.append(nw.col(col_rating).mean())
    return events.group_by(col_customer, col_item).agg(*aggregates)


def split_counts(train: nw.LazyFrame, test: nw.LazyFrame, col_customer=CUSTOMER, col_item=ITEM) -> dict:
    """What every split reports: training events, test pairs and customers, cold-start test
    customers (no training history) and test pairs whose item is not in training."""
    users = train.select(col_customer).unique().with_columns(_warm=nw.lit(1))
    items = train.select(col_item).unique().with_columns(_known=nw.lit(1))
    flagged = test.join(users, on=col_customer, how="left").join(items, on=col_item, how="left")
    row = first_row(
        flagged.select(
            nw.len().alias("test_pairs"),
            nw.col(col_customer).n_unique().alias("test_customers"),
            count_where(nw.col("_warm").is_null()).alias("_cold_pairs"),
            count_where(nw.col("_known").is_null()).alias("test_pairs_item_unseen_in_train"),
        )
    )
    cold = flagged.filter(nw.col("_warm").is_null()).select(nw.col(col_customer).n_unique())
    n_train = first_row(train.select(nw.len().alias("n")))["n"]
    return {
        "train_events": int(n_train),
        "test_pairs": int(row["test_pairs"]),
        "test_customers": int(row["test_customers"]),
        "cold_start_customers": int(first_row(cold)[col_customer]) if row["_cold_pairs"] else 0,
        "test_pairs_item_unseen_in_train": int(row["test_pairs_item_unseen_in_train"] or 0),
    }


def time_split_frames(events, cutoff: pd.Timestamp, col_customer=CUSTOMER, col_item=ITEM, col_time=TIMESTAMP, col_rating=RATING):
    """(train events, test pairs, repeat pairs left out, (rows, before, first, last)) of a time split.

    Events before ``cutoff`` train; the distinct pairs from it on (a missing time counts as
    "not before") that the customer did not have before are the test pairs.
    """
    lf = lazy(events)
    before = nw.col(col_time) < datetime_literal(cutoff, lf, col_time)
    row = first_row(lf.select(
        nw.len().alias("rows"), count_where(before.fill_null(False)).alias("before"),
        nw.col(col_time).min().alias("first"), nw.col(col_time).max().alias("last"),
    ))
    train = lf.filter(before.fill_null(False))
    after = test_pairs(lf.filter(~before.fill_null(False)), col_customer, col_item, col_rating)
    owned = train.select(col_customer, col_item).unique()
    repeats = first_row(after.join(owned, on=[col_customer, col_item], how="semi").select(nw.len().alias("n")))["n"]
    test = after.join(owned, on=[col_customer, col_item], how="anti")
    return train, test, int(repeats), row


def datetime_literal(cutoff: pd.Timestamp, lf: nw.LazyFrame, col_time: str):
    """The cut-off as a literal comparable with the time column (time zone aware if it is)."""
    dtype = lf.collect_schema()[col_time]
    value = cutoff.to_pydatetime()
    if getattr(dtype, "time_zone", None) and value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return nw.lit(value)


def held_out_pairs(events, n_test, order, descending, random_state, col_customer=CUSTOMER, col_item=ITEM, col_time=TIMESTAMP, col_rating=RATING):
    """(train events, test pairs, customers too short) of a per-customer hold-out.

    Each customer's distinct pairs are ordered by ``order`` (with ``descending``), ties by a seeded
    random key; the first ``n_test(n_pairs)`` of a customer with more than that many pairs are held
    out, with all their events.
    """
    lf = lazy(events)
    aggregates = [nw.len().alias("_n")]
    if col_time in order:
        aggregates.append(nw.col(col_time).min().alias(col_time))
    pairs = _random_key(lf.group_by(col_customer, col_item).agg(*aggregates), random_state, col_customer, col_item)
    pairs = pairs.with_columns(_n_pairs=nw.col(col_item).count().over(col_customer))
    pairs = _row_number(pairs, col_customer, [*order, "_key"], [*descending, False])
    limit = n_test(nw.col("_n_pairs"))
    chosen = pairs.filter((nw.col("_position") <= limit) & (nw.col("_n_pairs") > limit)).select(col_customer, col_item)
    too_short = pairs.filter(nw.col("_n_pairs") <= limit).select(nw.col(col_customer).n_unique())
    # one join marks the held-out events (an anti and a semi join would match the keys twice)
    marked = lf.join(chosen.with_columns(_held=nw.lit(True)), on=[col_customer, col_item], how="left")
    train = marked.filter(nw.col("_held").is_null()).drop("_held")
    test = test_pairs(marked.filter(~nw.col("_held").is_null()), col_customer, col_item, col_rating)
    return train, test, int(first_row(too_short)[col_customer])


def round_half_even(x: nw.Expr) -> nw.Expr:
    """Round non-negative ``x`` to the nearest integer, halves to even (numpy's rule), on every engine."""
    low = x.cast(nw.Int64)
    frac = x - low
    up = (frac > 0.5) | ((frac == 0.5) & (low % 2 == 1))
    return low + up.cast(nw.Int64)


def _random_key(pairs: nw.LazyFrame, random_state: int, col_customer: str, col_item: str) -> nw.LazyFrame:
    """Shim: a seeded random key per pair (see the module docstring)."""
    if _is_spark(pairs):
        from pyspark.sql import functions as F

        spark = pairs.to_native()
        keyed = spark.withColumn("_key", F.xxhash64(F.col(col_customer), F.col(col_item), F.lit(int(random_state))))
        return lazy(keyed)
    frame = pairs.collect("pandas").to_native()
    # the i-th pair in (customer, item) order gets the i-th draw, whatever order the rows are in
    # pairs are distinct, so one composite integer code orders them (no stable sort needed)
    items = _codes(frame[col_item])
    key = np.empty(len(frame))
    key[np.argsort(_codes(frame[col_customer]) * (int(items.max(initial=0)) + 1) + items)] = (
        np.random.default_rng(random_state).random(len(frame)))
    return lazy(frame.assign(_key=key))


def _row_number(frame: nw.LazyFrame, by: str, order: list[str], descending: list[bool]) -> nw.LazyFrame:
    """Shim: ``_position``, 1 for the first row of each ``by`` group under the order (see the module docstring)."""
    if _is_spark(frame):
        from pyspark.sql import Window
        from pyspark.sql import functions as F

        keys = [F.col(c).desc() if d else F.col(c).asc() for c, d in zip(order, descending)]
        spark = frame.to_native()
        return lazy(spark.withColumn("_position", F.row_number().over(Window.partitionBy(by).orderBy(*keys))))
    pdf = frame.collect("pandas").to_native()
    # the last order column is the tie-break key (distinct floats): sorted by value, no codes needed
    last = pdf[order[-1]].to_numpy()
    ordered = _order([*(_codes(pdf[c], d) for c, d in zip(order[:-1], descending[:-1])), -last if descending[-1] else last])
    # one customer's rows keep their relative places in the global order: count them along it
    groups = pd.factorize(pdf[by])[0][ordered]
    position = np.empty(len(groups), dtype=np.int64)
    position[ordered] = pd.Series(groups).groupby(groups, sort=False).cumcount().to_numpy() + 1
    return lazy(pdf.assign(_position=position))


def _codes(values: pd.Series, descending: bool = False) -> np.ndarray:
    """Integer codes in the sort order of ``values`` (missing last either way, as pandas sorts)."""
    codes, uniques = pd.factorize(values, sort=True)
    if descending:
        codes = np.where(codes >= 0, len(uniques) - 1 - codes, codes)
    return np.where(codes >= 0, codes, len(uniques))


def _order(keys: list[np.ndarray]) -> np.ndarray:
    """The stable row order sorting by ``keys`` (the first the most significant; all but the
    last integer codes in ``[0, n]``, the last any numeric array).

    Key by key from the least significant, each step one stable argsort of ``code * n + rank``
    (below n**2, so no overflow): several times faster than a multi-column ``sort_values`` or
    ``np.lexsort`` on millions of rows.
    """
    n = len(keys[0])
    rows = np.arange(n, dtype=np.int64)
    order = np.argsort(keys[-1], kind="stable")
    for key in reversed(keys[:-1]):
        rank = np.empty(n, dtype=np.int64)
        rank[order] = rows
        # ``code * n + rank`` values are distinct: any sort gives the stable order
        order = np.argsort(key.astype(np.int64) * n + rank)
    return order


# --- metrics ----------------------------------------------------------------------------------------
def ranking_metrics_table(recommendations, relevant, k: int, col_customer=CUSTOMER, col_item=ITEM, by: str | None = None):
    """Each ranking metric per customer of ``relevant``, from a long top-k table.

    The definitions of :mod:`marketing.recommend.metrics`. ``recommendations`` has
    ``customer_id, rank, item_id`` (ranks above ``k`` ignored; a customer may have fewer rows, the
    empty slots); ``relevant`` has ``customer_id, item_id`` (duplicates count once). Returns
    ``customer_id`` and a column per metric, one row per customer with a relevant item (0 for
    those without a recommendation), in the caller's kind.

    ``by`` names a column of ``recommendations`` that holds several lists per customer (e.g. one
    per model, all judged against the same ``relevant``): the rows are then per (``by``,
    customer), for every ``by`` value that has a list, and one query scores them all.

    Examples
    --------
    >>> recs = pd.DataFrame({"customer_id": [1, 1, 1], "rank": [1, 2, 3], "item_id": [3, 1, 2]})
    >>> rel = pd.DataFrame({"customer_id": [1, 1], "item_id": [1, 5]})
    >>> ranking_metrics_table(recs, rel, k=3).round(4).iloc[0].to_dict()
    {'customer_id': 1.0, 'precision': 0.3333, 'recall': 0.5, 'ndcg': 0.3869, 'map': 0.25, 'hit_rate': 1.0, 'mrr': 0.5}
    """
    keys = [col_customer] if by is None else [by, col_customer]
    truth = lazy(relevant).select(col_customer, col_item).unique()
    n_relevant = truth.group_by(col_customer).agg(nw.len().alias("_n_rel"))
    listed = lazy(recommendations).filter((nw.col(RANK) >= 1) & (nw.col(RANK) <= k)).select(*keys, RANK, col_item)
    if by is not None:
        n_relevant = listed.select(by).unique().join(n_relevant, how="cross")
    # per-rank constants from the CSR metric code (discounts(k), 1 / r) looked up by rank: the same
    # floats on every engine, and on Spark a map literal instead of the divisions and logarithms
    # narwhals guards with when-chains (3,700 py4j calls per evaluation before, most of its time)
    ranks = list(range(1, k + 1))
    discount = discounts(k)

    def by_rank(column: str, values) -> nw.Expr:
        return nw.col(column).replace_strict(ranks, [float(v) for v in values], default=nw.lit(0.0), return_dtype=nw.Float64)

    hits = (
        listed.join(truth.with_columns(_rel=nw.lit(1.0)), on=[col_customer, col_item], how="left")
        .with_columns(nw.col("_rel").fill_null(0.0), _inverse_rank=by_rank(RANK, 1.0 / np.arange(1, k + 1)))
        .with_columns(
            _so_far=nw.col("_rel").cum_sum().over(*keys, order_by=RANK),
            _dcg=nw.col("_rel") * by_rank(RANK, discount),
            _rr=nw.col("_rel") * nw.col("_inverse_rank"),
        )
        .with_columns(_ap=nw.col("_so_far") * nw.col("_rr"))
        .group_by(*keys)
        .agg(nw.col("_rel").sum().alias("_hits"), nw.col("_dcg").sum(), nw.col("_ap").sum(), nw.col("_rr").max())
    )
    # the ideal DCG depends on min(|R|, k) alone: the cumulative discounts, looked up
    ideal_len = nw.min_horizontal(nw.col("_n_rel"), nw.lit(k))
    table = (
        n_relevant.join(hits, on=keys, how="left")
        .with_columns(nw.col("_hits", "_dcg", "_ap", "_rr").fill_null(0.0), _ideal_len=ideal_len)
        .with_columns(_idcg=by_rank("_ideal_len", np.cumsum(discount)))
    )
    return native(
        table.select(
            *keys,
            (nw.col("_hits") / float(k)).alias("precision"),
            (nw.col("_hits") / nw.col("_n_rel").cast(nw.Float64)).alias("recall"),
            (nw.col("_dcg") / nw.col("_idcg")).alias("ndcg"),
            (nw.col("_ap") / nw.col("_ideal_len").cast(nw.Float64)).alias("map"),
            (nw.col("_hits") > 0).cast(nw.Float64).alias("hit_rate"),
            nw.col("_rr").alias("mrr"),
        ),
        sort_by=keys,
    )


def _per_group(frame: nw.LazyFrame, by: str | None, *aggregates: nw.Expr) -> pd.DataFrame:
    """The aggregates of ``frame`` (per ``by`` value, as the index; one row without ``by``) in pandas."""
    out = (frame.select(*aggregates) if by is None else frame.group_by(by).agg(*aggregates)).collect("pandas").to_native()
    return out if by is None else out.set_index(by).sort_index()


def mean_ranking_metrics(recommendations, relevant, k: int, col_customer=CUSTOMER, col_item=ITEM, by: str | None = None):
    """The mean of each metric of :func:`ranking_metrics_table` and ``n_customers`` (customers judged);
    NaN metrics when no customer has a relevant item.

    A dict; with ``by`` (see :func:`ranking_metrics_table`) a pandas DataFrame with a row per
    ``by`` value (the index) and those keys as columns, from one query.
    """
    per_user = lazy(ranking_metrics_table(recommendations, relevant, k, col_customer, col_item, by))
    table = _per_group(per_user, by, *[nw.col(m).mean() for m in RANKING_METRICS], nw.len().alias("n_customers"))
    table[list(RANKING_METRICS)] = table[list(RANKING_METRICS)].astype(float)
    table["n_customers"] = table["n_customers"].astype(int)
    return table if by is not None else {m: (float(v) if m != "n_customers" else int(v)) for m, v in table.iloc[0].items()}


def coverage_and_novelty(recommendations, item_users, n_users: int, n_items: int, col_item=ITEM, by: str | None = None):
    """Coverage (distinct items recommended / ``n_items``) and novelty (mean over recommended
    slots of -log2(p_i), p_i = max(customers with i, 1) / ``n_users``; NaN without slots).
    ``item_users`` is an ``item_id, n_customers`` table (items missing from it count as 1).

    A dict; with ``by``, a column of ``recommendations`` holding several lists, a pandas
    DataFrame with a row per ``by`` value, from one query.
    """
    keys = [col_item] if by is None else [by, col_item]
    slots = lazy(recommendations).select(*keys).join(lazy(item_users).select(col_item, N_CUSTOMERS), on=col_item, how="left")
    p = nw.max_horizontal(nw.col(N_CUSTOMERS).fill_null(0).cast(nw.Float64), nw.lit(1.0)) / float(n_users)
    slots = slots.with_columns(novelty=-p.log(base=2))  # a plain mean per group (pandas' fast path)
    table = _per_group(slots, by, nw.col(col_item).n_unique().alias("coverage"), nw.col("novelty").mean())
    table["coverage"] = table["coverage"].astype(int) / n_items
    table["novelty"] = table["novelty"].astype(float)  # NaN without slots
    return table if by is not None else {m: float(v) for m, v in table.iloc[0].items()}


# --- the campaign -----------------------------------------------------------------------------------
def with_item_names(recommendations, items, col_item=ITEM):
    """Add ``item_name`` (the items table's ``name``, or the id as text without names) after
    ``item_id`` and round ``score`` to 4 decimals: the campaign list's columns."""
    rec, catalogue = lazy(recommendations), lazy(items)
    name = nw.col("name") if "name" in catalogue.collect_schema().names() else nw.col(col_item)
    names = catalogue.select(col_item, name.cast(nw.String).alias("item_name"))
    columns = [c for c in rec.collect_schema().names()]
    order = columns[: columns.index(col_item) + 1] + ["item_name"] + columns[columns.index(col_item) + 1 :]
    out = rec.join(names, on=col_item, how="left").with_columns(nw.col("score").round(4)).select(*order)
    return native(out)
