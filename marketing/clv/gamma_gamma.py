"""The Gamma-Gamma model of spend per purchase (Fader and Hardie 2013, "The Gamma-Gamma model of
monetary value"; Fader, Hardie and Lee 2005, "RFM and CLV", Journal of Marketing Research 42(4)).

A customer's purchase values are Gamma(shape p, rate nu), nu ~ Gamma(shape q, rate gamma) across
customers, independently of the purchase process; the model reads the mean value of each repeat
buyer's repeat purchases.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import digamma, gammaln

from marketing.clv._checks import summary_arrays
from marketing.clv._mle import maximise
from marketing.validation import DataValidationError


def _loglik_terms(params: np.ndarray, x, m):
    """Log-density of the mean m of x purchase values, and its gradient in (p, q, gamma)."""
    p, q, gamma = params
    px = p * x
    log_total = np.log(gamma + x * m)
    ll = (gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(gamma)
          + (px - 1) * np.log(m) + px * np.log(x) - (px + q) * log_total)
    grad = np.stack(
        [
            x * (digamma(px + q) - digamma(px) + np.log(m) + np.log(x) - log_total),
            digamma(px + q) - digamma(q) + np.log(gamma) - log_total,
            q / gamma - (px + q) / (gamma + x * m),
        ]
    )
    return ll, grad


class GammaGamma:
    """Gamma-Gamma: the expected value of a customer's purchases, fitted by maximum likelihood.

    Parameters
    ----------
    max_iter : int
        Iterations of the optimiser (L-BFGS-B on the log-parameters, analytic gradient).
    tol : float
        Gradient tolerance of the mean log-likelihood per customer.

    Attributes
    ----------
    p_, q_, gamma_ : float
        Shape of the purchase values; shape and rate of their Gamma-distributed rate ``nu``.
    loglik_ : float
        The maximised log-likelihood over the customers fitted on.
    n_customers_ : int
        Customers fitted on: those with ``frequency > 0``.
    n_excluded_ : int
        Customers left out because they have no repeat purchase (``frequency == 0``).
    n_iter_ : int

    Notes
    -----
    ``fit`` reads ``frequency`` and ``monetary_value`` (the mean value of the repeat purchase
    occasions, as :func:`marketing.clv.btyd_summary` computes it). Customers without a repeat
    purchase carry no information on their own spend beyond the first purchase, which the
    model excludes; they are left out and counted in ``n_excluded_``, and their expected spend
    is the population mean ``p gamma / (q - 1)``.

    Examples
    --------
    >>> from marketing.clv.simulate import simulate_summary
    >>> summary = simulate_summary(5000, p=6.0, q=4.0, gamma=15.0, random_state=0)
    >>> model = GammaGamma().fit(summary)
    >>> model.n_customers_ + model.n_excluded_, bool(model.n_excluded_ == (summary.frequency == 0).sum())
    (5000, True)
    >>> spend = model.conditional_expected_spend(summary)
    >>> bool((spend[summary.frequency == 0] == model.mean_spend_).all())
    True
    """

    def __init__(self, max_iter: int = 1000, tol: float = 1e-9) -> None:
        self.max_iter = max_iter
        self.tol = tol

    def fit(self, summary: pd.DataFrame) -> "GammaGamma":
        """Fit p, q, gamma on the customers with a repeat purchase.

        Raises
        ------
        DataValidationError
            A malformed summary, no repeat buyer, or a mean repeat value that is not > 0.
        ConvergenceError
            The optimiser did not converge (its message is included).
        """
        x, m = self._arrays(summary, "GammaGamma.fit")
        repeat = x > 0
        if not repeat.any():
            raise DataValidationError(
                f"GammaGamma.fit: none of the {len(x)} customers made a repeat purchase (column 'frequency' "
                "is 0 throughout); the model is fitted on the values of repeat purchases. Use a longer "
                "calibration period."
            )
        x, m = x[repeat], m[repeat]
        start = np.log([1.0, 2.0, float(np.mean(m))])
        names = ("p", "q", "gamma")
        params, self.loglik_, self.n_iter_ = maximise(
            _loglik_terms, (x, m), None, start, "Gamma-Gamma", names, self.max_iter, self.tol
        )
        self.p_, self.q_, self.gamma_ = (float(v) for v in params)
        self.n_customers_ = len(x)
        self.n_excluded_ = int((~repeat).sum())
        return self

    @staticmethod
    def _arrays(summary: pd.DataFrame, what: str) -> tuple[np.ndarray, np.ndarray]:
        (x,) = summary_arrays(summary, ("frequency",), what)
        if "monetary_value" not in summary.columns:
            raise DataValidationError(
                f"{what}: the summary has no column 'monetary_value' (the mean value of the repeat "
                "purchases); build it with marketing.clv.btyd_summary(events, value_col=...)."
            )
        m = pd.to_numeric(summary["monetary_value"], errors="coerce").to_numpy(dtype="float64")
        repeat = x > 0
        bad = repeat & ~np.isfinite(m)
        if bad.any():
            raise DataValidationError(
                f"{what}: {int(bad.sum())} customer(s) with frequency > 0 have a missing or non-numeric "
                "'monetary_value'; fix or drop them."
            )
        low = repeat & (m <= 0)
        if low.any():
            raise DataValidationError(
                f"{what}: {int(low.sum())} customer(s) with frequency > 0 have 'monetary_value' <= 0; the "
                "Gamma-Gamma model needs positive spend. Drop them (e.g. summary[summary.monetary_value > 0] "
                "for those customers) or remove the zero-value purchases from the event log first."
            )
        return x, np.where(repeat, m, 0.0)

    def _check_fitted(self) -> None:
        if not hasattr(self, "p_"):
            raise AttributeError("this GammaGamma is not fitted yet: call fit(summary) first.")

    @property
    def mean_spend_(self) -> float:
        """The population mean purchase value p gamma / (q - 1) (infinite unless q > 1)."""
        self._check_fitted()
        return self.p_ * self.gamma_ / (self.q_ - 1) if self.q_ > 1 else float("inf")

    def conditional_expected_spend(self, summary: pd.DataFrame) -> pd.Series:
        """E[value of a purchase | frequency, monetary_value] = p (gamma + x m) / (p x + q - 1).

        A weighted mean of the population mean and the customer's own mean; for frequency 0 it
        is the population mean.

        Raises
        ------
        ValueError
            q <= 1 (the population mean is infinite) and a customer has no repeat purchase.
        """
        self._check_fitted()
        x, m = self._arrays(summary, "GammaGamma.conditional_expected_spend")
        if self.q_ <= 1 and (x == 0).any():
            raise ValueError(
                f"GammaGamma: q = {self.q_:.4g} <= 1, so the population mean spend is infinite and "
                "customers without a repeat purchase have no expected spend."
            )
        spend = self.p_ * (self.gamma_ + x * m) / (self.p_ * x + self.q_ - 1)
        return pd.Series(spend, index=summary.index, name="expected_spend")
