"""The BG/NBD model of repeat purchases (Fader, Hardie and Lee 2005, "Counting your customers
the easy way: an alternative to the Pareto/NBD model", Marketing Science 24(2), 275-284).

While alive, a customer buys at Poisson rate lambda, lambda ~ Gamma(shape r, rate alpha) across
customers; after each repeat purchase the customer drops out for good with probability p,
p ~ Beta(a, b). Time is in the unit of the summary (weeks by default).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import betaln, digamma, gammaln, hyp2f1

from marketing.clv._checks import summary_arrays
from marketing.clv._mle import maximise
from marketing.validation import DataValidationError

_COLUMNS = ("frequency", "recency", "T")


def _compress(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """The distinct rows of ``columns`` and how often each occurs: the likelihood of a customer
    depends on (frequency, recency, T) only, and day-grid data repeat those triples a lot."""
    frame = pd.DataFrame(dict(enumerate(columns)))
    counts = frame.groupby(list(frame.columns), sort=False).size()
    keys = counts.index.to_frame(index=False)
    return [keys[i].to_numpy(dtype="float64") for i in range(len(columns))], counts.to_numpy(dtype="float64")


def _loglik_terms(params: np.ndarray, x, tx, T):
    """Per-row log-likelihood and its gradient with respect to (r, alpha, a, b)."""
    r, alpha, a, b = params
    repeat = x > 0
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = betaln(a, b + x) - betaln(a, b)
    a3 = -(r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        a4 = np.where(repeat, np.log(a) - np.log(b + x - 1) - (r + x) * np.log(alpha + tx), -np.inf)
    mix = np.logaddexp(a3, a4)
    w3 = np.exp(a3 - mix)
    w4 = np.exp(a4 - mix)  # 0 for customers without a repeat purchase
    inv_b = np.where(repeat, 1.0 / np.where(repeat, b + x - 1, 1.0), 0.0)
    grad = np.stack(
        [
            digamma(r + x) - digamma(r) + np.log(alpha) - w3 * np.log(alpha + T) - w4 * np.log(alpha + tx),
            r / alpha - (r + x) * (w3 / (alpha + T) + w4 / (alpha + tx)),
            digamma(a + b) - digamma(a + b + x) + w4 / a,
            digamma(b + x) - digamma(a + b + x) - digamma(b) + digamma(a + b) - w4 * inv_b,
        ]
    )
    return a1 + a2 + mix, grad


class BetaGeo:
    """BG/NBD: expected purchases and the probability of being alive, fitted by maximum likelihood.

    Parameters
    ----------
    max_iter : int
        Iterations of the optimiser (L-BFGS-B on the log-parameters, analytic gradient).
    tol : float
        Gradient tolerance of the mean log-likelihood per customer.

    Attributes
    ----------
    r_, alpha_ : float
        Shape and rate of the Gamma distribution of purchase rates (per unit of time).
    a_, b_ : float
        The Beta distribution of the dropout probability after each repeat purchase.
    loglik_ : float
        The maximised log-likelihood (a sum over customers).
    n_customers_, n_iter_ : int

    Notes
    -----
    ``fit`` reads ``frequency`` (repeat purchase occasions), ``recency`` (time from the first
    to the last purchase, the lifetime-value meaning) and ``T`` (time from the first purchase to
    the end of the calibration), as :func:`marketing.clv.btyd_summary` returns them. Customers
    with a single purchase (frequency 0) are part of the fit. The model is not identified
    without any repeat purchase, and ``fit`` then says so.

    The prediction formula divides by ``a - 1``: at exactly ``a = 1`` (a removable singularity the
    optimiser does not land on in practice) it is not defined.

    Examples
    --------
    >>> from marketing.clv.simulate import simulate_summary
    >>> summary = simulate_summary(5000, r=0.25, alpha=4.0, a=0.8, b=2.5, random_state=0)
    >>> model = BetaGeo().fit(summary)
    >>> [round(v, 2) for v in (model.r_, model.alpha_, model.a_, model.b_)]
    [0.25, 4.13, 0.98, 3.09]
    >>> bool(model.p_alive(summary)[summary.frequency == 0].eq(1).all())
    True
    >>> float(model.predict(summary, 0).max())
    0.0
    """

    def __init__(self, max_iter: int = 1000, tol: float = 1e-9) -> None:
        self.max_iter = max_iter
        self.tol = tol

    def fit(self, summary: pd.DataFrame) -> "BetaGeo":
        """Fit r, alpha, a, b to a summary (columns ``frequency``, ``recency``, ``T``).

        Raises
        ------
        DataValidationError
            A malformed summary (see :func:`marketing.clv.btyd_summary`), or no repeat buyer.
        ConvergenceError
            The optimiser did not converge (its message is included).
        """
        x, tx, T = summary_arrays(summary, _COLUMNS, "BetaGeo.fit")
        if not (x > 0).any():
            raise DataValidationError(
                f"BetaGeo.fit: none of the {len(x)} customers made a repeat purchase (column 'frequency' "
                "is 0 throughout), so purchase rate and dropout cannot be told apart. Use a longer "
                "calibration period (observation_end) or more customers."
            )
        (x, tx, T), weight = _compress(x, tx, T)
        rate = float(np.average(x, weights=weight)) / max(float(np.average(T, weights=weight)), 1e-9)
        start = np.log([1.0, 1.0 / max(rate, 1e-9), 1.0, 1.0])
        names = ("r", "alpha", "a", "b")
        params, self.loglik_, self.n_iter_ = maximise(
            _loglik_terms, (x, tx, T), weight, start, "BG/NBD", names, self.max_iter, self.tol
        )
        self.r_, self.alpha_, self.a_, self.b_ = (float(v) for v in params)
        self.n_customers_ = int(weight.sum())
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "r_"):
            raise AttributeError("this BetaGeo is not fitted yet: call fit(summary) first.")

    def _ratio(self, x, tx, T):
        """a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x) for repeat buyers, 0 otherwise (log space)."""
        r, alpha, a, b = self.r_, self.alpha_, self.a_, self.b_
        repeat = x > 0
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            log_ratio = np.log(a) - np.log(b + x - 1) + (r + x) * (np.log(alpha + T) - np.log(alpha + tx))
            return np.where(repeat, np.exp(log_ratio), 0.0)

    def p_alive(self, summary: pd.DataFrame) -> pd.Series:
        """P(alive | frequency, recency, T) at the end of the calibration: 1 for frequency 0.

        Returns
        -------
        Series
            Indexed like ``summary``.
        """
        self._check_fitted()
        x, tx, T = summary_arrays(summary, _COLUMNS, "BetaGeo.p_alive")
        return pd.Series(1.0 / (1.0 + self._ratio(x, tx, T)), index=summary.index, name="p_alive")

    def predict(self, summary: pd.DataFrame, t: float | np.ndarray) -> pd.Series:
        """Expected purchases in the ``t`` units of time after the calibration (eq. 10 of the paper).

        E[Y(t) | x, t_x, T] = (a+b+x-1)/(a-1) [1 - ((alpha+T)/(alpha+T+t))^(r+x)
        2F1(r+x, b+x; a+b+x-1; t/(alpha+T+t))] / (1 + delta_{x>0} a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x)).

        Parameters
        ----------
        summary : DataFrame
            ``frequency``, ``recency``, ``T``.
        t : float or array
            Horizon(s) in the summary's unit; an array broadcasts against the customers.

        Returns
        -------
        Series
            Indexed like ``summary`` (``t`` scalar).
        """
        self._check_fitted()
        x, tx, T = summary_arrays(summary, _COLUMNS, "BetaGeo.predict")
        if np.any(np.asarray(t) < 0):
            raise ValueError(f"BetaGeo.predict: the horizon t must be >= 0, not {t}.")
        return pd.Series(self._expected(x, tx, T, t), index=summary.index, name="expected_purchases")

    def _expected(self, x, tx, T, t):
        r, alpha, a, b = self.r_, self.alpha_, self.a_, self.b_
        t = np.asarray(t, dtype="float64")
        z = t / (alpha + T + t)
        head = (a + b + x - 1) / (a - 1)
        shrink = np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + T + t)))
        body = 1.0 - shrink * hyp2f1(r + x, b + x, a + b + x - 1, z)
        # exactly 0 at t = 0 (head * body is -0.0 there when a < 1)
        return np.where(t > 0, head * body / (1.0 + self._ratio(x, tx, T)), 0.0)

    def expected_purchases_new(self, t: float | np.ndarray) -> np.ndarray:
        """Expected purchases of a new customer in its first ``t`` units of time (eq. 9).

        E[X(t)] = (a+b-1)/(a-1) [1 - (alpha/(alpha+t))^r 2F1(r, b; a+b-1; t/(alpha+t))].
        """
        self._check_fitted()
        r, alpha, a, b = self.r_, self.alpha_, self.a_, self.b_
        t = np.asarray(t, dtype="float64")
        return (a + b - 1) / (a - 1) * (1.0 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, t / (alpha + t)))
