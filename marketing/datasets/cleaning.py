"""The canonical cleaning of an event log, written once (narwhals) for the engines that read files lazily.

DuckDB and Spark read the canonical tables from files and clean them here, in one pass over the
events; the reasons, their order and the counts are those of the pandas path
(:func:`marketing.datasets.canonical.to_canonical`), so the three give the same
:class:`~marketing.validation.CleaningReport` for the same tables.
"""

from __future__ import annotations

import narwhals as nw

import pandas as pd

from marketing.columns import AMOUNT, CUSTOMER, ITEM, QUANTITY, TIMESTAMP
from marketing.frames import collect, frame
from marketing.validation import CleaningReport

#: Events dated after the day of the run: real data without an observation end (the files these
#: engines read) must not have it moved to 2099 by one mistyped year.
FUTURE = "dated in the future (after the day of the run)"
REASONS = (
    "missing customer id",
    "returns or cancellations (negative quantity or amount)",
    "customer not in the customers table",
    "item not in the items table",
    FUTURE,
)


def tomorrow() -> pd.Timestamp:
    """The first instant after the day of the run: events from it on are in the future."""
    return pd.Timestamp.now().normalize() + pd.Timedelta(days=1)


def clean_events(events, customers=None, items=None, *, future: bool = True):
    """Drop the events the analyses cannot use, counting each under the first reason that removes it.

    Parameters
    ----------
    events : DataFrame or relation
        Canonical events (pandas, DuckDB or Spark).
    customers, items : same kind as ``events``, optional
        Their id columns say which customers and items are known; a missing table checks nothing.
    future : bool
        Count and drop the events dated after the day of the run: the caller has no observation
        end, so one mistyped year would move it (as the pandas path does without one).

    Returns
    -------
    kept : the caller's kind
        The events kept (not computed for a lazy backend).
    report : CleaningReport
        One step per reason checked; each step's ``rows_before`` is what the earlier ones left.
    last : datetime or None
        The time of the last kept event (None when nothing is kept).

    Examples
    --------
    >>> import pandas as pd
    >>> events = pd.DataFrame({"customer_id": [1.0, None, 2.0, 9.0], "item_id": [1, 1, 1, 1],
    ...     "timestamp": pd.to_datetime(["2025-01-01", "2025-01-02", "2025-01-03", "2025-01-04"]),
    ...     "amount": [5.0, 1.0, -2.0, 3.0]})
    >>> kept, report, last = clean_events(events, pd.DataFrame({"customer_id": [1.0, 2.0]}))
    >>> report.to_frame()["rows_removed"].tolist(), len(kept), str(last.date())
    ([1, 1, 1, 0], 1, '2025-01-01')
    """
    log = frame(events)
    negative = nw.col(AMOUNT) < 0
    if QUANTITY in log.columns:
        negative = negative | (nw.col(QUANTITY) < 0)
    checks = [(REASONS[0], nw.col(CUSTOMER).is_null()), (REASONS[1], negative.fill_null(False))]
    flagged, flags = log, []
    for flag, table, key, reason in (("_known_customer", customers, CUSTOMER, REASONS[2]),
                                     ("_known_item", items, ITEM, REASONS[3])):
        if table is not None:
            known = frame(table).select(key).unique().with_columns(nw.lit(True).alias(flag))
            flagged = flagged.join(known, on=key, how="left")
            flags.append(flag)
            checks.append((reason, nw.col(flag).is_null()))
    if future:
        checks.append((FUTURE, (nw.col(TIMESTAMP) >= nw.lit(tomorrow().to_pydatetime())).fill_null(False)))
    # step i removes the rows its reason catches among those no earlier reason caught
    kept_so_far, steps = nw.lit(True), []
    for i, (_, remove) in enumerate(checks):
        steps.append((kept_so_far & remove).cast(nw.Int64).sum().alias(f"_step{i}"))
        kept_so_far = kept_so_far & ~remove
    counts = collect(flagged.select(
        nw.len().alias("_rows"), *steps, nw.when(kept_so_far).then(nw.col(TIMESTAMP)).max().alias("_last")
    )).iloc[0]
    report, before = CleaningReport(), int(counts["_rows"])
    for i, (reason, _) in enumerate(checks):
        removed = int(counts[f"_step{i}"] or 0)
        report.add("events", reason, removed, before)
        before -= removed
    kept = log if before == int(counts["_rows"]) else flagged.filter(kept_so_far).drop(*flags)
    last = counts["_last"]
    return kept.to_native(), report, (None if last is None or last != last else last)
