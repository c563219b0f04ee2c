"""Customer features from an event log: RFM and windowed features with labels.

Two meanings of "recency" exist in marketing analytics; this module names them apart:

- ``recency_days``: days from the customer's **last** event to the observation end (RFM, the
  segmentation meaning: small is good);
- ``first_to_last_days``: days from the **first** to the last event (the lifetime-value meaning
  used by BG/NBD-type models).

Each function is written once, in narwhals, and takes the caller's frame: a pandas DataFrame, a
DuckDB relation or a PySpark DataFrame, answering in the same kind (pandas indexed by the
customer; DuckDB and Spark with a ``customer_id`` column, not computed until asked). A pandas log
is aggregated on Polars, in parallel, and the per-customer table comes back in pandas
(:func:`marketing.frames.to_polars`); its sums are exact (:func:`marketing.frames.exact_sum`),
the same on every run and thread count. Whole-day counts are floored on every backend, as pandas
``Timedelta.days`` floors them (:func:`marketing.frames.whole_days`).
"""

from __future__ import annotations

import narwhals as nw
import pandas as pd

from marketing.columns import AMOUNT, CUSTOMER, ITEM, ORDER, TIMESTAMP
from marketing.engines import engine_of
from marketing.frames import (
    collect, exact_sum, frame, from_polars, is_empty, narrow_integers, to_native, to_polars, whole_days,
)
from marketing.validation import DataValidationError, require_columns, require_non_empty, require_numeric_columns

RFM_COLUMNS = (
    "recency_days",
    "frequency",
    "monetary",
    "avg_order_value",
    "tenure_days",
    "first_to_last_days",
    "n_items",
)


def rfm(
    events: pd.DataFrame,
    observation_end: pd.Timestamp | str,
    *,
    customers: pd.Index | None = None,
    col_customer: str = CUSTOMER,
    col_time: str = TIMESTAMP,
    col_amount: str = AMOUNT,
    col_order: str = ORDER,
    col_item: str = ITEM,
) -> pd.DataFrame:
    """Recency, frequency and monetary value per customer, from events before ``observation_end``.

    Events at or after ``observation_end`` are ignored, so the features never see the future.

    Parameters
    ----------
    events : pandas DataFrame, DuckDB relation or PySpark DataFrame
        One row per event (order line, transaction, enrolment, session).
    observation_end : Timestamp or str
        The end of the observation window (exclusive).
    customers : Index or frame of the same kind as ``events``, optional
        Customers to report (an Index, or a frame's ``col_customer`` column). Those without events
        get ``frequency``, ``monetary`` and ``n_items`` 0 and missing recency. By default, every
        customer with an event in the window.

    Returns
    -------
    The caller's kind: for pandas, a DataFrame indexed by customer id (sorted, or in the order
    of ``customers``); for DuckDB or Spark, a relation / DataFrame with a ``col_customer``
    column, not computed. Its columns:

    - ``recency_days``: whole days from the last event to ``observation_end`` (RFM meaning);
    - ``frequency``: number of purchase occasions, i.e. distinct ``order_id`` values where the
      log has that column, otherwise the number of events;
    - ``monetary``: sum of ``amount``;
    - ``avg_order_value``: ``monetary / frequency``;
    - ``tenure_days``: whole days from the first event to ``observation_end``;
    - ``first_to_last_days``: whole days from the first to the last event (lifetime-value
      meaning of recency);
    - ``n_items``: number of distinct items.

    Examples
    --------
    >>> log = pd.DataFrame({
    ...     "customer_id": ["a", "a", "b"],
    ...     "item_id": [1, 2, 1],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-21", "2024-01-30"]),
    ...     "amount": [10.0, 30.0, 5.0],
    ... })
    >>> rfm(log, "2024-02-01")[["recency_days", "frequency", "monetary", "tenure_days"]]
                 recency_days  frequency  monetary  tenure_days
    customer_id
    a                      11          2      40.0           31
    b                       2          1       5.0            2
    """
    require_columns(events, [col_customer, col_time, col_amount], "events")
    require_numeric_columns(events, [col_amount], "events")
    end = pd.Timestamp(observation_end)
    window = _before(_log(events, col_customer, col_time, col_amount, col_order, col_item), col_time, end)
    if customers is None:
        require_non_empty(window, f"events before {end.date()}")
    out = _rfm_frame(window, end, col_customer, col_time, col_amount, col_order, col_item)
    out = from_polars(out, sort=col_customer if customers is None else None)
    if customers is not None:
        out = _for_customers(out, _keys(customers, col_customer), col_customer)
    return to_native(out, index=col_customer, sort=customers is None)


def _log(events, *columns: str):
    """``events`` as the narwhals frame the features are computed on: a pandas log's ``columns``
    (those it has) on Polars, any other frame as it is (:func:`marketing.frames.to_polars`)."""
    return to_polars(events, [c for c in columns if c in events.columns])


def _before(events, col_time: str, end: pd.Timestamp):
    return events.filter(nw.col(col_time) < nw.lit(end.to_pydatetime()))


def _rfm_frame(window, end, col_customer, col_time, col_amount, col_order, col_item):
    """The RFM columns per customer of ``window`` (events already before ``end``), key a column."""
    names = window.columns
    window, narrowed = narrow_integers(window, [col_customer, col_order, col_item])
    # plain aggregations (arithmetic after): narwhals maps those to one fast pandas groupby().agg
    aggregates = [
        nw.col(col_time).min().alias("_first"),
        nw.col(col_time).max().alias("_last"),
        exact_sum(window, col_amount).alias("monetary"),
        nw.len().alias("_rows"),
    ]
    distinct = {"frequency": col_order, "n_items": col_item}
    distinct = {name: column for name, column in distinct.items() if column in names}
    # narwhals' n_unique counts a missing id as one more value; pandas' nunique and Spark's
    # countDistinct (and this function before narwhals) do not. Polars drops them inside the
    # aggregation; elsewhere the count of known ids finds the groups to correct (on Polars that
    # correction costs a tenth of the whole aggregation)
    if window.implementation is nw.Implementation.POLARS:
        aggregates += [nw.col(column).drop_nulls().n_unique().alias(name) for name, column in distinct.items()]
        counts = [nw.col(name).cast(nw.Int64) for name in distinct]
    else:
        for name, column in distinct.items():
            aggregates += [nw.col(column).n_unique().alias(name), nw.col(column).count().alias(f"_{name}_known")]
        counts = [(nw.col(n) - (nw.col("_rows") > nw.col(f"_{n}_known")).cast(nw.Int64)).cast(nw.Int64) for n in distinct]
    table = window.group_by(col_customer).agg(*aggregates)
    key = [nw.col(col_customer).cast(narrowed[col_customer])] if col_customer in narrowed else []
    table = table.with_columns(*key, nw.col("monetary").cast(nw.Float64), *counts)
    if "frequency" not in distinct:
        table = table.with_columns(frequency=nw.col("_rows").cast(nw.Int64))
    table = whole_days(table, {
        "recency_days": (end, "_last"),
        "tenure_days": (end, "_first"),
        "first_to_last_days": ("_last", "_first"),
    })
    table = table.with_columns(avg_order_value=nw.col("monetary") / nw.col("frequency"))
    return table.select(col_customer, *[c for c in RFM_COLUMNS if c in table.columns])


def _keys(customers, col_customer: str):
    """The customers to report as a one-column frame (a pandas Index or sequence is accepted)."""
    if isinstance(customers, (pd.Index, pd.Series, list, tuple)):
        customers = pd.DataFrame({col_customer: pd.Index(customers)})
    return frame(customers).select(col_customer)


def _for_customers(table, keys, col_customer: str):
    """One row per key, in the keys' order; those without events get counts and money 0."""
    zero = [c for c in ("frequency", "monetary", "n_items") if c in table.columns]
    out = keys.join(table, on=col_customer, how="left")
    return out.with_columns(
        *[nw.col(c).fill_null(0).cast(nw.Float64 if c == "monetary" else nw.Int64) for c in zero]
    )


def split_windows(
    events: pd.DataFrame,
    cutoff: pd.Timestamp | str,
    label_days: int = 90,
    observation_days: int | None = None,
    *,
    col_customer: str = CUSTOMER,
    col_time: str = TIMESTAMP,
    col_amount: str = AMOUNT,
    col_order: str = ORDER,
    col_item: str = ITEM,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Features from an observation window and labels from the label window that follows it.

    The observation window is ``[cutoff - observation_days, cutoff)`` (all history before
    ``cutoff`` when ``observation_days`` is None); the label window is
    ``[cutoff, cutoff + label_days)``. Features are computed from the observation window only,
    so nothing from the label window leaks into them. Labels are given for every customer with
    at least one event in the observation window.

    Returns
    -------
    features : the caller's kind (as :func:`rfm` returns it)
        :func:`rfm` columns per customer, computed at ``cutoff``.
    labels : the caller's kind
        ``spend_next`` (sum of amounts in the label window, 0 when none) and ``churned``
        (1 when the customer has no event in the label window), for the same customers.

    Examples
    --------
    >>> log = pd.DataFrame({
    ...     "customer_id": ["a", "a", "b", "b"],
    ...     "timestamp": pd.to_datetime(["2024-01-05", "2024-03-10", "2024-01-20", "2024-06-01"]),
    ...     "amount": [10.0, 25.0, 5.0, 7.0],
    ... })
    >>> features, labels = split_windows(log, "2024-03-01", label_days=30)
    >>> features["monetary"].tolist(), labels["spend_next"].tolist(), labels["churned"].tolist()
    ([10.0, 5.0], [25.0, 0.0], [0, 1])
    """
    cutoff = pd.Timestamp(cutoff)
    if label_days <= 0:
        raise DataValidationError(f"label_days must be positive, got {label_days}.")
    require_columns(events, [col_customer, col_time, col_amount], "events")
    require_numeric_columns(events, [col_amount], "events")
    log = _log(events, col_customer, col_time, col_amount, col_order, col_item)
    history = _before(log, col_time, cutoff)
    if observation_days is not None:
        start = cutoff - pd.Timedelta(days=observation_days)
        history = history.filter(nw.col(col_time) >= nw.lit(start.to_pydatetime()))
    if is_empty(history):
        raise DataValidationError(
            f"events: no events in the observation window before {cutoff.date()}; "
            "choose a later cutoff."
        )
    features = _rfm_frame(history, cutoff, col_customer, col_time, col_amount, col_order, col_item)
    features = from_polars(features, sort=col_customer)
    end = cutoff + pd.Timedelta(days=label_days)
    future = log.filter((nw.col(col_time) >= nw.lit(cutoff.to_pydatetime())) & (nw.col(col_time) < nw.lit(end.to_pydatetime())))
    spend = from_polars(future.group_by(col_customer).agg(
        exact_sum(future, col_amount).alias("spend_next"), nw.len().alias("_events")
    ))
    labels = features.select(col_customer).join(spend, on=col_customer, how="left").select(
        col_customer,
        nw.col("spend_next").fill_null(0).cast(nw.Float64),
        # no row in the label window: the join left the count missing
        nw.col("_events").is_null().cast(nw.Int64).alias("churned"),
    )
    return to_native(features, index=col_customer, sort=True), to_native(labels, index=col_customer, sort=True)


def customer_table(data, features: tuple[str, ...] | list[str]) -> pd.DataFrame:
    """RFM features joined with customer attributes, restricted to ``features``.

    ``data`` is a case's data on any engine (:func:`marketing.engines.load_data`). A feature is
    looked up first among the :func:`rfm` columns (computed at ``data.observation_end``), then
    among the customers table's columns; an unknown name raises an error listing both.

    Returns
    -------
    One row per customer of the customers table, one column per feature: a pandas DataFrame
    indexed by customer id on the pandas engine and on DuckDB (where the RFM aggregation runs in
    DuckDB and only the per-customer table is collected, for the models that run in memory); a
    Spark DataFrame with a ``customer_id`` column on Spark.

    Examples
    --------
    >>> from marketing.engines import load_data
    >>> table = customer_table(load_data("finance", "duckdb"), ["recency_days", "income"])
    >>> type(table).__name__, list(table.columns), len(table)
    ('DataFrame', ['recency_days', 'income'], 2000)
    """
    engine = engine_of(data)
    customers = frame(data.customers)
    attributes = [c for c in customers.columns if c != CUSTOMER]
    if data.observation_end is None:
        # a table of one row per person: its columns are the features
        behaviour, rfm_names = customers.select(CUSTOMER), []
        events_only = [f for f in features if f in RFM_COLUMNS and f not in attributes]
        if events_only:
            raise DataValidationError(
                f"case {data.case.name!r}: feature(s) {events_only} are computed from an event log, and this "
                f"case has none (no tables.events). Use columns of the customers table: {attributes}."
            )
    else:
        window = _before(_log(data.events, CUSTOMER, TIMESTAMP, AMOUNT, ORDER, ITEM), TIMESTAMP, data.observation_end)
        behaviour = from_polars(_rfm_frame(window, data.observation_end, CUSTOMER, TIMESTAMP, AMOUNT, ORDER, ITEM))
        if engine == "duckdb":
            # the per-customer table is small: the models of the DuckDB engine run on it in memory
            behaviour = frame(collect(behaviour))
        behaviour = _for_customers(behaviour, customers.select(CUSTOMER), CUSTOMER)
        rfm_names = [c for c in behaviour.columns if c != CUSTOMER]
    unknown = [f for f in features if f not in rfm_names and f not in attributes]
    if unknown:
        raise DataValidationError(
            f"case {data.case.name!r}: feature(s) {unknown} are neither RFM features "
            f"{rfm_names} nor columns of the customers table {attributes}."
        )
    table = behaviour.select(CUSTOMER, *[f for f in features if f in rfm_names])
    wanted_attributes = [f for f in features if f not in rfm_names]
    if wanted_attributes:
        table = table.join(customers.select(CUSTOMER, *wanted_attributes), on=CUSTOMER, how="left")
    table = to_native(table.select(CUSTOMER, *features), index=CUSTOMER)
    # on Spark every analysis step reads the table again: keep it rather than recompute the log
    return table.cache() if engine == "spark" else table
