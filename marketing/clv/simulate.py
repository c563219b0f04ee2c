"""Customers simulated from known BG/NBD and Gamma-Gamma parameters, vectorized with numpy.

For checking that the models recover what was planted (tests, benchmarks/bench_clv.py).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from marketing.columns import AMOUNT, CUSTOMER, TIMESTAMP


def simulate_summary(
    n_customers: int,
    *,
    r: float = 0.25,
    alpha: float = 4.0,
    a: float = 0.8,
    b: float = 2.5,
    p: float = 6.0,
    q: float = 4.0,
    gamma: float = 15.0,
    T: float | np.ndarray = 39.0,
    random_state: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """The BTYD summary of customers drawn from the BG/NBD and Gamma-Gamma models.

    Each customer buys at rate lambda ~ Gamma(r, rate alpha) while alive, drops out after each
    repeat purchase with probability p_drop ~ Beta(a, b), and spends Gamma(p, rate nu) per
    purchase with nu ~ Gamma(q, rate gamma). Given n purchases of a Poisson process in (0, T],
    the x-th purchase time is T times a Beta(x, n - x + 1) draw, so no purchase is simulated.

    Returns
    -------
    DataFrame
        ``frequency``, ``recency``, ``T``, ``monetary_value`` (NaN for frequency 0) and the
        truth: ``alive`` (still alive at T), ``rate`` (lambda), ``dropout`` (p_drop) and
        ``mean_spend`` (p / nu).

    Examples
    --------
    >>> s = simulate_summary(5, random_state=0)
    >>> list(s.columns)
    ['frequency', 'recency', 'T', 'monetary_value', 'alive', 'rate', 'dropout', 'mean_spend']
    >>> bool((s.recency <= s["T"]).all())
    True
    """
    rng = np.random.default_rng(random_state)
    T = np.broadcast_to(np.asarray(T, dtype="float64"), (n_customers,)).copy()
    rate = rng.gamma(r, 1.0 / alpha, n_customers)
    dropout = rng.beta(a, b, n_customers)
    n_poisson = rng.poisson(rate * T)
    # death right after the J-th repeat purchase, J ~ Geometric(dropout) on 1, 2, ...
    lifetime_purchases = rng.geometric(dropout)
    x = np.minimum(n_poisson, lifetime_purchases)
    repeat = x > 0
    share = rng.beta(np.where(repeat, x, 1), np.where(repeat, n_poisson - x + 1, 1))
    recency = np.where(repeat, T * share, 0.0)
    nu = rng.gamma(q, 1.0 / gamma, n_customers)
    # the mean of x Gamma(p, nu) values is Gamma(p x, rate x nu)
    mean_value = rng.gamma(np.where(repeat, p * x, 1.0), 1.0 / (np.where(repeat, x, 1) * nu))
    return pd.DataFrame(
        {
            "frequency": x.astype("int64"),
            "recency": recency,
            "T": T,
            "monetary_value": np.where(repeat, mean_value, np.nan),
            "alive": lifetime_purchases > n_poisson,
            "rate": rate,
            "dropout": dropout,
            "mean_spend": p / nu,
        },
        index=pd.RangeIndex(n_customers, name=CUSTOMER),
    )


def simulate_events(
    n_customers: int,
    *,
    start: str = "2024-01-01",
    cohort_weeks: float = 12.0,
    calibration_weeks: float = 39.0,
    random_state: int | np.random.Generator | None = None,
    **params: float,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """An event log of simulated customers, and their simulated summary (the truth).

    First purchases fall uniformly in the first ``cohort_weeks`` after ``start``; the log
    covers ``calibration_weeks``. ``params`` are the model parameters of
    :func:`simulate_summary`. Purchase times are continuous, so two that fall on one day become
    one occasion in :func:`marketing.clv.btyd_summary` (rare at CDNOW-like rates).

    Returns
    -------
    events : DataFrame
        ``customer_id``, ``timestamp``, ``amount``, one row per purchase (first ones included).
    truth : DataFrame
        :func:`simulate_summary`'s table (recency and T in weeks from the first purchase).

    Examples
    --------
    >>> events, truth = simulate_events(3, random_state=1)
    >>> list(events.columns), int(len(events)) == int(truth.frequency.sum()) + 3
    (['customer_id', 'timestamp', 'amount'], True)
    """
    rng = np.random.default_rng(random_state)
    birth = rng.uniform(0.0, cohort_weeks, n_customers)
    truth = simulate_summary(n_customers, T=calibration_weeks - birth, random_state=rng, **params)
    x = truth["frequency"].to_numpy()
    tx = truth["recency"].to_numpy()
    p = params.get("p", 6.0)
    nu = p / truth["mean_spend"].to_numpy()
    # the x - 1 repeat purchases before the last one are uniform on (0, t_x) given t_x
    owner = np.repeat(np.arange(n_customers), np.maximum(x - 1, 0))
    inner = rng.uniform(0.0, 1.0, len(owner)) * tx[owner]
    last = np.flatnonzero(x > 0)
    customers = np.concatenate([np.arange(n_customers), owner, last])
    weeks = np.concatenate([birth, birth[owner] + inner, birth[last] + tx[last]])
    order = np.lexsort((weeks, customers))
    customers, weeks = customers[order], weeks[order]
    # whole seconds, so that a purchase at the calibration end stays inside it
    seconds = np.floor(weeks * 7 * 86400).astype("int64")
    events = pd.DataFrame(
        {
            CUSTOMER: customers,
            TIMESTAMP: pd.Timestamp(start) + pd.to_timedelta(seconds, unit="s"),
            AMOUNT: rng.gamma(p, 1.0 / nu[customers]),
        }
    )
    return events, truth
