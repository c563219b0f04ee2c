"""Maximum likelihood on log-parameters with scipy, shared by the BTYD models."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import optimize


class ConvergenceError(RuntimeError):
    """The likelihood maximisation did not converge; the message carries the optimiser's."""


def maximise(
    negloglik: Callable[[np.ndarray], tuple[float, np.ndarray]],
    start: np.ndarray,
    model: str,
    max_iter: int,
    tol: float,
) -> tuple[np.ndarray, float, int]:
    """Minimise ``negloglik(log_params) -> (value, gradient)``; the parameters, value and iterations.

    The objective is per customer (the mean), so ``tol`` means the same at any sample size.
    """
    result = optimize.minimize(
        negloglik, start, jac=True, method="L-BFGS-B",
        options={"maxiter": max_iter, "gtol": tol, "ftol": 1e-15},
    )
    params = np.exp(result.x)
    # L-BFGS-B may stop on a line search at the optimum in floating point: accept that only
    # when the gradient says it is an optimum
    at_optimum = result.success or np.max(np.abs(result.jac)) < 1e3 * tol
    if not at_optimum or not np.isfinite(result.fun) or not np.all(np.isfinite(params)):
        raise ConvergenceError(
            f"{model} maximum likelihood did not converge after {result.nit} iterations: {result.message} "
            f"(parameters {np.round(params, 6).tolist()}). The data may not identify the model: check the "
            "summary (enough repeat buyers, recency and T in the same unit) or raise max_iter."
        )
    return params, float(result.fun), int(result.nit)
