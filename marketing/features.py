"""Customer features from an event log: RFM and windowed features with labels.

Two meanings of "recency" exist in marketing analytics; this module names them apart:

- ``recency_days``: days from the customer's **last** event to the observation end (RFM, the
  segmentation meaning: small is good);
- ``first_to_last_days``: days from the **first** to the last event (the lifetime-value meaning
  used by BG/NBD-type models).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from marketing.columns import AMOUNT, CUSTOMER, ITEM, ORDER, TIMESTAMP
from marketing.validation import DataValidationError, require_columns, require_non_empty

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
    events : DataFrame
        One row per event (order line, transaction, enrolment, session).
    observation_end : Timestamp or str
        The end of the observation window (exclusive).
    customers : Index, optional
        Customers to report. Those without events get ``frequency`` and ``monetary`` 0 and
        missing recency. By default, every customer with an event in the window.

    Returns
    -------
    DataFrame indexed by customer id with columns

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
    required = [col_customer, col_time, col_amount]
    require_columns(events, required, "events")
    end = pd.Timestamp(observation_end)
    window = events.loc[events[col_time] < end]
    if customers is None:
        require_non_empty(window, f"events before {end.date()}")
    grouped = window.groupby(col_customer, observed=True, sort=True)
    agg = {"first": (col_time, "min"), "last": (col_time, "max"), "monetary": (col_amount, "sum")}
    agg["frequency"] = (col_order, "nunique") if col_order in window else (col_time, "size")
    if col_item in window:
        agg["n_items"] = (col_item, "nunique")
    table = grouped.agg(**agg)
    out = pd.DataFrame(
        {
            "recency_days": (end - table["last"]).dt.days,
            "frequency": table["frequency"].astype("int64"),
            "monetary": table["monetary"].astype(float),
            "avg_order_value": table["monetary"] / table["frequency"],
            "tenure_days": (end - table["first"]).dt.days,
            "first_to_last_days": (table["last"] - table["first"]).dt.days,
        },
        index=table.index,
    )
    if "n_items" in table:
        out["n_items"] = table["n_items"].astype("int64")
    if customers is not None:
        out = out.reindex(customers)
        zero = {c: 0 for c in ("frequency", "monetary", "n_items") if c in out}
        out = out.fillna(zero).astype({c: "int64" for c in ("frequency", "n_items") if c in out})
    out.index.name = col_customer
    return out


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
    features : DataFrame
        :func:`rfm` columns per customer, computed at ``cutoff``.
    labels : DataFrame
        ``spend_next`` (sum of amounts in the label window, 0 when none) and ``churned``
        (1 when the customer has no event in the label window), same index as ``features``.

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
    history = events.loc[events[col_time] < cutoff]
    if observation_days is not None:
        history = history.loc[history[col_time] >= cutoff - pd.Timedelta(days=observation_days)]
    if len(history) == 0:
        raise DataValidationError(
            f"events: no events in the observation window before {cutoff.date()}; "
            "choose a later cutoff."
        )
    features = rfm(
        history, cutoff,
        col_customer=col_customer, col_time=col_time, col_amount=col_amount,
        col_order=col_order, col_item=col_item,
    )
    end = cutoff + pd.Timedelta(days=label_days)
    future = events.loc[(events[col_time] >= cutoff) & (events[col_time] < end)]
    spend = future.groupby(col_customer, observed=True)[col_amount].sum()
    spend_next = spend.reindex(features.index, fill_value=0.0).astype(float)
    bought = features.index.isin(spend.index)
    labels = pd.DataFrame(
        {"spend_next": spend_next, "churned": np.where(bought, 0, 1)}, index=features.index
    )
    return features, labels


def customer_table(data, features: tuple[str, ...] | list[str]) -> pd.DataFrame:
    """RFM features joined with customer attributes, restricted to ``features``.

    ``data`` is a :class:`marketing.datasets.CaseData`. A feature is looked up first among the
    :func:`rfm` columns (computed at ``data.observation_end``), then among the customers
    table's columns; an unknown name raises an error listing both.
    """
    if getattr(data, "engine", "pandas") == "spark":
        from marketing.spark.features import customer_table as spark_customer_table

        return spark_customer_table(data, features).cache()  # every analysis step reads it
    behaviour = rfm(data.events, data.observation_end, customers=pd.Index(data.customers[CUSTOMER]))
    attributes = data.customers.set_index(CUSTOMER)
    unknown = [f for f in features if f not in behaviour and f not in attributes]
    if unknown:
        raise DataValidationError(
            f"case {data.case.name!r}: feature(s) {unknown} are neither RFM features "
            f"{list(behaviour.columns)} nor columns of the customers table {list(attributes.columns)}."
        )
    columns = {f: (behaviour[f] if f in behaviour else attributes[f]) for f in features}
    return pd.DataFrame(columns, index=behaviour.index)
