"""Validation of a BTYD summary at the models' public boundary (private helpers trust it)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from marketing.validation import DataValidationError


def summary_arrays(summary: pd.DataFrame, columns: tuple[str, ...], what: str) -> list[np.ndarray]:
    """``columns`` of ``summary`` as float arrays, after checking what every BTYD model needs.

    Checked: a non-empty DataFrame with the columns; finite numbers; ``frequency`` a
    non-negative whole number; ``recency`` and ``T`` non-negative with ``recency <= T``;
    ``recency == 0`` where ``frequency == 0``.
    """
    if not isinstance(summary, pd.DataFrame):
        raise DataValidationError(
            f"{what} expects a DataFrame with columns {list(columns)} (see marketing.clv.btyd_summary), "
            f"not {type(summary).__name__}."
        )
    missing = [c for c in columns if c not in summary.columns]
    if missing:
        raise DataValidationError(
            f"{what}: the summary has no column(s) {missing}; it has {list(summary.columns)}. "
            "Build it with marketing.clv.btyd_summary, or rename your columns."
        )
    if len(summary) == 0:
        raise DataValidationError(f"{what}: the summary is empty; it needs at least one customer.")
    arrays = []
    for column in columns:
        values = pd.to_numeric(summary[column], errors="coerce").to_numpy(dtype="float64")
        if not np.isfinite(values).all():
            raise DataValidationError(
                f"{what}: column {column!r} has {int((~np.isfinite(values)).sum())} missing, infinite or "
                "non-numeric value(s); drop or fix those customers."
            )
        if (values < 0).any():
            raise DataValidationError(f"{what}: column {column!r} has {int((values < 0).sum())} negative value(s).")
        arrays.append(values)
    named = dict(zip(columns, arrays))
    if "frequency" in named and (named["frequency"] != np.round(named["frequency"])).any():
        raise DataValidationError(f"{what}: column 'frequency' must hold whole numbers of repeat purchases.")
    if "recency" in named and "T" in named:
        late = named["recency"] > named["T"] * (1 + 1e-12)
        if late.any():
            raise DataValidationError(
                f"{what}: {int(late.sum())} customer(s) have recency > T (column 'recency' is the time from "
                "the first to the last purchase, 'T' from the first purchase to the end of the calibration): "
                "measure both from the first purchase, and T to the end of the calibration period."
            )
        if "frequency" in named:
            odd = (named["frequency"] == 0) & (named["recency"] > 0)
            if odd.any():
                raise DataValidationError(
                    f"{what}: {int(odd.sum())} customer(s) have frequency 0 but recency > 0; recency is the "
                    "time from the first to the last purchase, so it is 0 without a repeat purchase."
                )
    return arrays
