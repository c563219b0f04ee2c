"""From a case's source tables to the canonical tables every analysis reads.

The canonical tables use the names in :mod:`marketing.columns`:

- ``customers``: one row per ``customer_id`` with attributes and regression targets;
- ``items``: one row per ``item_id``;
- ``events``: ``customer_id``, ``item_id``, ``timestamp``, ``amount`` and, where the source has
  them, ``order_id``, ``quantity`` and ``rating``.

Cleaning is explicit: every row removed is counted by reason in :attr:`CaseData.cleaning`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from marketing.cases import CaseStudy, get_case
from marketing.columns import AMOUNT, CUSTOMER, ITEM, ORDER, QUANTITY, RATING, TIMESTAMP
from marketing.datasets.cleaning import FUTURE, tomorrow
from marketing.datasets.synthetic import Truth
from marketing.validation import (
    CleaningReport,
    DataValidationError,
    drop_rows,
    parse_timestamps,
    require_columns,
    require_non_empty,
    require_numeric,
    require_unique,
)


@dataclass(frozen=True)
class CaseData:
    """A case's data in canonical form.

    Attributes
    ----------
    case : CaseStudy
    customers, items, events : pandas.DataFrame
        Canonical tables (see the module docstring).
    observation_end : pandas.Timestamp or None
        The end of the observed period; features use events before it. None for a table of one
        row per person without an event log (and without an ``observation_end`` in its case).
    cleaning : CleaningReport
        Rows removed while cleaning, by table and reason.
    truth : Truth or None
        The planted structure, for synthetic data only.
    source : str
        Where the data came from (``"synthetic:small:seed=42"``, a dataset name, a file).
    """

    case: CaseStudy
    customers: pd.DataFrame
    items: pd.DataFrame
    events: pd.DataFrame
    observation_end: pd.Timestamp
    cleaning: CleaningReport
    truth: Truth | None
    source: str

    engine = "pandas"  # what :func:`marketing.engines.engine_of` reads (a class attribute, not a field)


def to_canonical(
    case: str | CaseStudy,
    tables: dict[str, pd.DataFrame],
    observation_end: pd.Timestamp | None = None,
    truth: Truth | None = None,
    source: str | None = None,
    report: CleaningReport | None = None,
) -> CaseData:
    """Map source tables to canonical ones using the case's ``tables`` section, and clean them.

    Cleaning removes, and counts: events without a customer id; returns and cancellations
    (negative quantity or amount); events of customers or items missing from their tables;
    without an ``observation_end``, events dated after today (a mistyped year must not move the
    end of the data to 2099). ``report`` continues a report begun while reading the files.

    Raises
    ------
    DataValidationError
        Missing tables or columns, empty tables, non-numeric amounts, unparseable timestamps,
        duplicate ids; the message names the table and column and says how to fix it.
    """
    case = get_case(case)
    spec = case.tables
    for role in [r for r in ("customers", "items", "events") if r in spec]:
        name = spec[role]["table"]
        if name not in tables:
            raise DataValidationError(
                f"case {case.name!r} needs a table '{name}' ({role}) but got {sorted(tables)}. "
                f"Provide it, or point tables.{role}.table in the case file at the right one."
            )
    report = report if report is not None else CleaningReport()

    # an event log alone: the customers (items) are the ids it names, derived below
    customers = _entity_table(tables, spec["customers"], CUSTOMER, source) if "customers" in spec else None
    items = _entity_table(tables, spec["items"], ITEM, source) if "items" in spec else None

    if "events" not in spec:
        # one row per person (applicants, patients, students): the analyses that need no event log
        if customers is None:
            raise DataValidationError(f"case {case.name!r}: 'tables' needs a customers table, an events table, or both.")
        events = pd.DataFrame({CUSTOMER: customers[CUSTOMER].iloc[:0], TIMESTAMP: pd.Series([], dtype="datetime64[ns]"),
                               AMOUNT: pd.Series([], dtype="float64")})
        items = items if items is not None else pd.DataFrame({ITEM: pd.Series([], dtype="int64")})
        end = pd.Timestamp(observation_end) if observation_end is not None else None
        return CaseData(case, customers, items, events, end, report, truth, source or "tables")
    events, customers, items, observation_end = _events_table(case, tables, customers, items, observation_end, source, report)
    return CaseData(case, customers, items, events, pd.Timestamp(observation_end), report, truth, source or "tables")


def _events_table(case, tables, customers, items, observation_end, source, report):
    """The canonical, cleaned events; the customers and items they imply where the case has no
    such table; the observation end (by default the day after the last event)."""
    spec = case.tables
    ev_spec = spec["events"]
    ev_name = ev_spec["table"]
    mapping = dict(ev_spec["columns"])
    events = tables[ev_name]
    require_non_empty(events, ev_name, source)
    join = ev_spec.get("join")
    if join:
        header = tables[join["table"]]
        key = mapping.get(join["key"], join["key"])
        require_columns(events, [key], ev_name, source)
        require_columns(header, [key], join["table"], source)
        require_unique(header, key, join["table"], source)
        events = events.merge(header, on=key, how="left", validate="many_to_one")
    needs_items = "recommendation" in case.analyses or items is not None
    required = [CUSTOMER, TIMESTAMP] + ([ITEM] if needs_items else []) + ([RATING] if case.feedback == "explicit" else [])
    missing_roles = [r for r in required if r not in mapping]
    if missing_roles:
        raise DataValidationError(
            f"case {case.name!r}: tables.events.columns does not map the role(s) {missing_roles}. "
            f"Add them, for example `{missing_roles[0]}: <the column of your events table>`."
        )
    require_columns(events, [mapping[r] for r in mapping], ev_name, source)
    # validate under the source's own column names, so errors name what the user sees
    events = events[list(mapping.values())]
    events = drop_rows(events, events[mapping[CUSTOMER]].isna(), ev_name, "missing customer id", report)
    events = events.assign(**{mapping[TIMESTAMP]: parse_timestamps(events, mapping[TIMESTAMP], ev_name, source)})
    for role in (AMOUNT, QUANTITY, RATING):
        if role in mapping:
            require_numeric(events, mapping[role], ev_name, source)
    events = events.rename(columns={v: k for k, v in mapping.items()})
    negative = pd.Series(False, index=events.index)
    for col in (QUANTITY, AMOUNT):
        if col in events:
            negative |= events[col] < 0
    events = drop_rows(events, negative, ev_name, "returns or cancellations (negative quantity or amount)", report)
    if customers is not None:
        events = drop_rows(events, ~events[CUSTOMER].isin(customers[CUSTOMER]), ev_name, "customer not in the customers table", report)
    if items is not None and ITEM in events:
        events = drop_rows(events, ~events[ITEM].isin(items[ITEM]), ev_name, "item not in the items table", report)
    require_non_empty(events, f"{ev_name} (after cleaning)", source)
    order = [c for c in (ORDER, CUSTOMER, ITEM, TIMESTAMP, QUANTITY, AMOUNT, RATING) if c in events]
    events = events[order].reset_index(drop=True)
    if customers is None:
        customers = _ids_of(events, CUSTOMER)
    if items is None:
        items = _ids_of(events, ITEM) if ITEM in events else pd.DataFrame({ITEM: pd.Series([], dtype="int64")})

    if observation_end is None:
        events = drop_rows(events, events[TIMESTAMP] >= tomorrow(), ev_name, FUTURE, report)
        require_non_empty(events, f"{ev_name} (after cleaning)", source)
        # real data: the day after the last event, so that its recency is one day at least
        observation_end = events[TIMESTAMP].max().normalize() + pd.Timedelta(days=1)
    return events, customers, items, observation_end


def _ids_of(events: pd.DataFrame, column: str) -> pd.DataFrame:
    """One row per id the (cleaned) events name, sorted: the table a log without one implies."""
    return pd.DataFrame({column: pd.Series(events[column].unique()).sort_values(ignore_index=True)})


def _entity_table(tables, spec: dict, id_role: str, source: str | None) -> pd.DataFrame:
    name = spec["table"]
    df = tables[name]
    require_non_empty(df, name, source)
    if "id" not in spec:
        # a file without an id column (a survey, a school's records): the row number, from 1
        if id_role in df:
            raise DataValidationError(
                f"table '{name}' has a column '{id_role}' but its entry in 'tables' names no id; set `id: {id_role}` there."
            )
        df = df.assign(**{id_role: range(1, len(df) + 1)})
        spec = {**spec, "id": id_role}
    require_columns(df, [spec["id"]], name, source)
    if df[spec["id"]].isna().any():
        raise DataValidationError(
            f"table '{name}': column '{spec['id']}' has {int(df[spec['id']].isna().sum())} missing id(s). "
            "Every row needs an id; drop or fill those rows first."
        )
    require_unique(df, spec["id"], name, source)
    # optional role mapping for attribute columns too (for example signup_date: Created)
    renames = {src: role for role, src in (spec.get("columns") or {}).items() if src != role}
    return df.rename(columns={**renames, spec["id"]: id_role})
