"""Discounted customer lifetime value from a purchase model and a spend model."""

from __future__ import annotations

import numpy as np
import pandas as pd

from marketing.clv._checks import summary_arrays
from marketing.clv.bgnbd import BetaGeo
from marketing.clv.gamma_gamma import GammaGamma


def per_period_rate(annual_rate: float, periods_per_year: float) -> float:
    """The per-period discount rate equivalent to an annual one: (1 + annual)^(1/periods) - 1.

    Examples
    --------
    >>> round(per_period_rate(0.10, 12), 6)
    0.007974
    """
    if annual_rate <= -1:
        raise ValueError(f"an annual discount rate must be > -1, not {annual_rate}.")
    return (1.0 + annual_rate) ** (1.0 / periods_per_year) - 1.0


def clv(
    purchases: BetaGeo,
    spend: GammaGamma,
    summary: pd.DataFrame,
    horizon: float,
    *,
    step: float = 1.0,
    discount_rate: float = 0.0,
    margin: float = 1.0,
) -> pd.Series:
    """Discounted value of each customer's purchases over the ``horizon`` after the calibration.

    The horizon is cut into periods of length ``step`` (in the summary's time unit; the last
    one may be shorter). The purchases expected in period k, E[Y(t_k)] - E[Y(t_{k-1})] from the
    BG/NBD model, are valued at the customer's expected spend per purchase (Gamma-Gamma) and
    discounted to the end of the calibration at the *per-period* rate ``discount_rate``, cash
    arriving at the end of its period:

        CLV = margin * E[spend] * sum_k (E[Y(t_k)] - E[Y(t_{k-1})]) / (1 + discount_rate)^k

    With ``discount_rate = 0`` the sum telescopes to E[Y(horizon)]: expected purchases times
    expected spend.

    Parameters
    ----------
    purchases : BetaGeo
        Fitted purchase model.
    spend : GammaGamma
        Fitted spend model.
    summary : DataFrame
        ``frequency``, ``recency``, ``T``, ``monetary_value`` (see :func:`btyd_summary`).
    horizon : float
        Length of the future to value, in the summary's unit (weeks by default: 52 = a year).
    step : float
        Length of a discounting period in the same unit (52 / 12 for months in weeks).
    discount_rate : float
        Discount rate per period of length ``step``; from an annual rate use
        :func:`per_period_rate` (``per_period_rate(0.10, 12)`` with monthly steps).
    margin : float
        Share of the spend that is profit (1: value is revenue).

    Returns
    -------
    Series
        Indexed like ``summary``, named ``clv``.

    Examples
    --------
    >>> from marketing.clv.simulate import simulate_summary
    >>> summary = simulate_summary(5000, random_state=0)
    >>> bg, gg = BetaGeo().fit(summary), GammaGamma().fit(summary)
    >>> undiscounted = clv(bg, gg, summary, 52, step=52 / 12)
    >>> expected = bg.predict(summary, 52) * gg.conditional_expected_spend(summary)
    >>> bool(np.allclose(undiscounted, expected))
    True
    >>> bool((clv(bg, gg, summary, 52, step=52 / 12, discount_rate=0.01) < undiscounted).all())
    True
    """
    if not horizon > 0 or not step > 0:
        raise ValueError(f"clv: horizon and step must be > 0, not horizon={horizon}, step={step}.")
    if discount_rate <= -1:
        raise ValueError(f"clv: the per-period discount rate must be > -1, not {discount_rate}.")
    purchases._check_fitted()
    spend_per_purchase = spend.conditional_expected_spend(summary).to_numpy()
    x, tx, T = summary_arrays(summary, ("frequency", "recency", "T"), "clv")
    n_periods = int(np.ceil(horizon / step - 1e-9))
    ends = np.minimum(step * np.arange(1, n_periods + 1), horizon)
    cumulative = np.zeros(len(x))
    value = np.zeros(len(x))
    for k, end in enumerate(ends, start=1):  # a loop over periods, each vectorized over customers
        expected = purchases._expected(x, tx, T, end)
        value += (expected - cumulative) / (1.0 + discount_rate) ** k
        cumulative = expected
    return pd.Series(margin * spend_per_purchase * value, index=summary.index, name="clv")
