"""From an event log to the buy-till-you-die (BTYD) summary: one row per customer.

BTYD models see a customer through three numbers measured on a grid of purchase *days*
(the convention of Fader, Hardie and Lee's CDNOW data):

- ``frequency``: the number of repeat purchase occasions. All purchases of a customer on one
  calendar day are one occasion (their values are added up), and the first occasion is not a
  repeat, so a customer who bought once, or several times on the first day only, has 0.
- ``recency``: time from the first to the last purchase occasion (the lifetime-value meaning
  of recency, not the RFM "days since the last purchase"); 0 when ``frequency`` is 0.
- ``T``: time from the first purchase occasion to the last day of the calibration period
  (``observation_end`` minus one day, since ``observation_end`` is exclusive as everywhere in
  the package).
- ``monetary_value``: the mean value of the repeat occasions (the first is excluded, as the
  Gamma-Gamma model requires); NaN when ``frequency`` is 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from marketing.columns import AMOUNT, CUSTOMER, TIMESTAMP
from marketing.validation import DataValidationError

#: Length of each supported time unit, in days.
UNITS = {"D": 1.0, "W": 7.0}
#: Columns of the summary, in order.
SUMMARY_COLUMNS = ("frequency", "recency", "T", "monetary_value")


def btyd_summary(
    events: pd.DataFrame,
    observation_end: str | pd.Timestamp | None = None,
    *,
    unit: str = "W",
    customer_col: str = CUSTOMER,
    time_col: str = TIMESTAMP,
    value_col: str | None = AMOUNT,
) -> pd.DataFrame:
    """The BTYD summary (frequency, recency, T, mean repeat value) of each customer.

    Parameters
    ----------
    events : DataFrame
        One row per purchase, with a customer id, a timestamp and (optionally) a value.
    observation_end : timestamp, optional
        Exclusive end of the calibration period: purchases dated before it count, and ``T``
        runs to the day before it. Defaults to the day after the last purchase. For the CDNOW
        calibration weeks 1-39 (purchases to 1997-09-30) it is ``"1997-10-01"``.
    unit : {"W", "D"}
        Unit of ``recency`` and ``T``: weeks (the CDNOW papers' unit) or days.
    customer_col, time_col, value_col : str
        Column names; ``value_col=None`` leaves ``monetary_value`` out.

    Returns
    -------
    DataFrame
        Indexed by customer id (sorted), with the columns described in the module docstring:
        ``frequency`` (int64), ``recency`` and ``T`` (float64, in ``unit``) and
        ``monetary_value`` (float64, NaN for customers without a repeat occasion).
        Customers whose purchases all fall on or after ``observation_end`` are not in it.

    Raises
    ------
    DataValidationError
        An empty log (or none before ``observation_end``), a missing column, an unknown
        unit, unparseable timestamps, missing or negative values.

    Examples
    --------
    Two purchases on 2 January are one occasion worth 5 + 7 = 12:

    >>> log = pd.DataFrame({
    ...     "customer_id": [1, 1, 1, 1, 2],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02 09:00", "2024-01-02 17:00",
    ...                                  "2024-01-08", "2024-01-05"], format="ISO8601"),
    ...     "amount": [10.0, 5.0, 7.0, 20.0, 3.0]})
    >>> btyd_summary(log, "2024-01-15", unit="D")
                 frequency  recency     T  monetary_value
    customer_id
    1                    2      7.0  13.0            16.0
    2                    0      0.0   9.0             NaN
    """
    if unit not in UNITS:
        raise DataValidationError(f"unit {unit!r} is not one of {sorted(UNITS)} (weeks or days).")
    columns = [customer_col, time_col] + ([value_col] if value_col is not None else [])
    missing = [c for c in columns if c not in events.columns]
    if missing:
        raise DataValidationError(
            f"the event log has no column(s) {missing}; it has {list(events.columns)}. "
            "Rename them, or pass customer_col=, time_col=, value_col= (value_col=None without values)."
        )
    if len(events) == 0:
        raise DataValidationError("the event log is empty: a BTYD summary needs at least one purchase.")
    try:
        stamps = pd.to_datetime(events[time_col])
    except (ValueError, TypeError) as error:
        raise DataValidationError(f"column {time_col!r} does not parse as timestamps: {error}") from error
    if stamps.isna().any():
        raise DataValidationError(
            f"column {time_col!r} has {int(stamps.isna().sum())} missing timestamp(s); drop or fill those rows."
        )
    day = stamps.dt.floor("D")
    end = pd.Timestamp(observation_end).floor("D") if observation_end is not None else day.max() + pd.Timedelta(days=1)
    keep = (day < end).to_numpy()
    if not keep.any():
        raise DataValidationError(
            f"no purchase is dated before observation_end {end.date()} (the first is {day.min().date()})."
        )
    frame = pd.DataFrame({"customer": events[customer_col].to_numpy()[keep], "day": day.to_numpy()[keep]})
    if value_col is not None:
        values = pd.to_numeric(events[value_col], errors="coerce").to_numpy(dtype="float64")[keep]
        bad = np.isnan(values)
        if bad.any():
            raise DataValidationError(
                f"column {value_col!r} has {int(bad.sum())} missing or non-numeric value(s); drop or fix them."
            )
        if (values < 0).any():
            raise DataValidationError(
                f"column {value_col!r} has {int((values < 0).sum())} negative value(s) (returns?): "
                "remove them or net them against their purchases first; a purchase value must be >= 0."
            )
        frame["value"] = values
    return _summarise(frame, end, UNITS[unit], value_col is not None)


def _summarise(frame: pd.DataFrame, end: pd.Timestamp, unit_days: float, with_value: bool) -> pd.DataFrame:
    """The summary of a clean frame ``customer``, ``day`` (, ``value``); no loops over customers."""
    # one row per purchase occasion (customer-day), values added up
    agg = {"value": ("value", "sum")} if with_value else {}
    occasions = frame.groupby(["customer", "day"], sort=True).agg(n=("day", "size"), **agg).reset_index()
    grouped = occasions.groupby("customer", sort=True)
    first = grouped["day"].min()
    last = grouped["day"].max()
    count = grouped["day"].size()
    day_ns = np.timedelta64(1, "D")
    last_day = np.datetime64(end - pd.Timedelta(days=1), "ns")
    summary = pd.DataFrame(
        {
            "frequency": (count - 1).astype("int64"),
            "recency": (last - first).to_numpy() / day_ns / unit_days,
            "T": (last_day - first.to_numpy()) / day_ns / unit_days,
        },
        index=first.index.rename(CUSTOMER),
    )
    if with_value:
        # mean of the repeat occasions: all occasions' total minus the first one's
        first_value = grouped["value"].first()
        total = grouped["value"].sum()
        repeats = summary["frequency"].to_numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(repeats > 0, (total - first_value).to_numpy() / repeats, np.nan)
        summary["monetary_value"] = mean
    return summary
