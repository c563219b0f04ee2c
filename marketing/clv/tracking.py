"""The classic BG/NBD tracking check: cumulative repeat purchases, observed against expected.

Fader, Hardie and Lee (2005, figure 2) plot, week by week, the repeat purchases a cohort made
against what the fitted model expects of it: each customer, from the day of their first
purchase, is a new customer of the model, so the cohort expects ``sum_i E[X(t - s_i)]`` repeat
purchases by time ``t`` (``s_i`` the first purchase, ``E[X(.)]``
:meth:`~marketing.clv.BetaGeo.expected_purchases_new`, 0 before it).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from marketing.clv.bgnbd import BetaGeo
from marketing.clv.summary import UNITS
from marketing.columns import CUSTOMER, TIMESTAMP


def cumulative_repeat_purchases(model: BetaGeo, occasions: pd.DataFrame, observation_end, *, unit: str = "W") -> pd.DataFrame:
    """Cumulative repeat purchases of the customers in ``occasions``, observed and expected, per period.

    Parameters
    ----------
    model : BetaGeo
        Fitted, with time in ``unit``.
    occasions : DataFrame
        ``customer_id``, ``timestamp``: one row per purchase occasion (a customer's purchases of one
        day count once, as in :func:`~marketing.clv.btyd_summary`), before ``observation_end``.
    observation_end : timestamp
        The exclusive end of the calibration period.
    unit : {"W", "D"}

    Returns
    -------
    DataFrame indexed by ``period`` (1, 2, ...: the end of each whole period since the first
    purchase of the log; the last one ends at ``observation_end``): ``observed`` and ``expected``.

    Examples
    --------
    >>> model = BetaGeo()
    >>> model.r_, model.alpha_, model.a_, model.b_ = 0.243, 4.414, 0.793, 2.426   # CDNOW, weeks
    >>> occasions = pd.DataFrame({"customer_id": [1, 1, 2],
    ...                           "timestamp": pd.to_datetime(["2025-01-01", "2025-01-10", "2025-01-08"])})
    >>> table = cumulative_repeat_purchases(model, occasions, "2025-01-15")
    >>> table["observed"].tolist()
    [0, 1]
    >>> bool(table["expected"].is_monotonic_increasing)
    True
    """
    if unit not in UNITS:
        raise ValueError(f"unit {unit!r} is not one of {sorted(UNITS)}.")
    end = pd.Timestamp(observation_end)
    days = (occasions[TIMESTAMP] - occasions[TIMESTAMP].min()) / pd.Timedelta(days=1)
    length = UNITS[unit]
    start = occasions[TIMESTAMP].min()
    n_periods = max(1, int(np.ceil(((end - start) / pd.Timedelta(days=1)) / length)))
    # period ends, counted back from the observation end so the last one is the end itself
    ends = ((end - start) / pd.Timedelta(days=1) - length * np.arange(n_periods)[::-1]) / length
    times = days.to_numpy() / length
    first = pd.Series(times).groupby(occasions[CUSTOMER].to_numpy()).transform("min").to_numpy()
    repeat = times[times > first]
    observed = np.searchsorted(np.sort(repeat), ends, side="left")
    # customers who share a first-purchase day share a curve: one row per distinct first day
    starts, counts = np.unique(first[times == first], return_counts=True)
    elapsed = np.clip(ends[None, :] - starts[:, None], 0.0, None)
    expected = counts @ model.expected_purchases_new(elapsed)
    return pd.DataFrame({"observed": observed.astype("int64"), "expected": expected},
                        index=pd.Index(np.arange(1, n_periods + 1), name="period"))
