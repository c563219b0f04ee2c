"""Maximum likelihood on log-parameters with scipy, shared by the BTYD models."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import optimize


#: How far (in log units, 5 orders of magnitude) a parameter may move from its start.
_RUNAWAY = 11.5


class ConvergenceError(RuntimeError):
    """The likelihood maximisation did not converge; the message carries the optimiser's."""


def maximise(
    terms: Callable[..., tuple[np.ndarray, np.ndarray]],
    data: tuple[np.ndarray, ...],
    weight: np.ndarray | None,
    start: np.ndarray,
    model: str,
    names: tuple[str, ...],
    max_iter: int,
    tol: float,
) -> tuple[np.ndarray, float, int]:
    """Maximise the likelihood whose per-row log-likelihood and gradient (parameters x rows) are
    ``terms(params, *data)``, rows counted ``weight`` times (None: once); return the parameters,
    the total log-likelihood and the iterations.

    The optimiser works on the log-parameters and a per-customer objective (the mean), so ``tol``
    means the same at any sample size.
    """
    total = float(len(data[0]) if weight is None else weight.sum())

    def negloglik(log_params):
        params = np.exp(log_params)
        ll, grad = terms(params, *data)
        if weight is None:
            value, gradient = ll.sum(), grad.sum(axis=1)
        else:
            value, gradient = weight @ ll, grad @ weight
        # chain rule to the log-parameters
        return -float(value) / total, -gradient * params / total

    def guarded(log_params):
        # the line search may probe parameters where the likelihood overflows: report +inf so
        # that it steps back, without floating-point warnings
        with np.errstate(all="ignore"):
            value, grad = negloglik(log_params)
        if not np.isfinite(value) or not np.all(np.isfinite(grad)):
            return np.inf, np.zeros_like(log_params)
        return value, grad

    result = optimize.minimize(
        guarded, start, jac=True, method="L-BFGS-B",
        options={"maxiter": max_iter, "gtol": tol, "ftol": 1e-15},
    )
    params = np.exp(result.x)
    # a parameter running away by 5 orders of magnitude from its scale-aware start: the likelihood
    # has no interior maximum (e.g. no heterogeneity across customers for the data to show). Checked
    # before convergence: on a flat likelihood, where the optimiser gives up depends on the last bits
    # of exp and log, which differ between CPUs (AVX-512 or not)
    runaway = np.isfinite(result.x) & (np.abs(result.x - start) > _RUNAWAY)
    if runaway.any():
        raise ConvergenceError(
            f"{model} maximum likelihood has no finite maximum on these data: parameter(s) "
            f"{[names[i] for i in np.flatnonzero(runaway)]} ran away to {np.round(params[runaway], 6).tolist()} "
            f"(optimiser: {result.message}). The data do not identify the model: fit on more customers, "
            "or a longer calibration period."
        )
    # L-BFGS-B may stop on a line search at the optimum in floating point: accept that only
    # when the gradient says it is an optimum
    at_optimum = result.success or np.max(np.abs(result.jac)) < 1e3 * tol
    if not at_optimum or not np.isfinite(result.fun) or not np.all(np.isfinite(params)):
        raise ConvergenceError(
            f"{model} maximum likelihood did not converge after {result.nit} iterations: {result.message} "
            f"(parameters {np.round(params, 6).tolist()}). The data may not identify the model: check the "
            "summary (enough repeat buyers, recency and T in the same unit) or raise max_iter."
        )
    return params, -float(result.fun) * total, int(result.nit)
