"""Customer and item attribute tables for the cold-start models: checks, bands and group codes.

Categorical columns are used as they are; numeric columns (age, price) are cut into quantile bands
so that "a 25-34 year old" or "a mid-priced item" is one value. Every code is computed once, at
fit, for every row of the table given (customers without history included: they are the ones the
attributes are for).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from marketing.columns import CUSTOMER, ITEM
from marketing.validation import DataValidationError, require_columns

#: Quantile bands a numeric attribute is cut into.
N_BANDS = 4


def check_table(table, columns, name: str, id_column: str) -> pd.DataFrame:
    """The attribute table with its id column and ``columns``; DataValidationError naming what is wrong.

    Examples
    --------
    >>> check_table(pd.DataFrame({"customer_id": [1], "region": ["N"]}), ["region"], "customers", "customer_id")
       customer_id region
    0            1      N
    """
    if not isinstance(table, pd.DataFrame):
        raise DataValidationError(
            f"the {name} table is needed for columns {list(columns)}: pass it to fit as {name}=<DataFrame>."
        )
    require_columns(table, [id_column, *columns], name)
    if table[id_column].duplicated().any():
        raise DataValidationError(
            f"table '{name}': column '{id_column}' has {int(table[id_column].duplicated().sum())} "
            "repeated id(s); keep one row per id."
        )
    return table[[id_column, *columns]]


def _number(value: float) -> str:
    """A band edge as a reader writes it: 18, 33, 2.5, 45,000."""
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"


def column_codes(values: pd.Series, n_bands: int = N_BANDS) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes of one attribute (quantile bands if numeric; missing values are a code of
    their own) and the label of each code.

    Examples
    --------
    >>> codes, labels = column_codes(pd.Series([1.0, 2.0, 3.0, 4.0]), n_bands=2)
    >>> codes.tolist(), labels.tolist()
    ([0, 0, 1, 1], ['1 to 2.5', '2.5 to 4'])
    """
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        x = values.astype(float)
        # duplicates="drop": a column with few distinct values gets fewer bands, not an error
        bands, edges = pd.qcut(x, n_bands, labels=False, retbins=True, duplicates="drop")
        edges[0] = np.nanmin(x)  # qcut widens the first edge by a hair; the label shows the real minimum
        codes = np.where(np.isnan(bands), -1, bands).astype(np.int64)
        labels = np.array([f"{_number(lo)} to {_number(hi)}" for lo, hi in zip(edges[:-1], edges[1:])], dtype=object)
    else:
        codes, labels = pd.factorize(values, sort=True, use_na_sentinel=True)
        labels = np.asarray(labels.astype(str), dtype=object)
    if (codes < 0).any():
        codes = np.where(codes < 0, len(labels), codes)
        labels = np.append(labels, "missing")
    return codes.astype(np.int64), labels


def group_codes(table: pd.DataFrame, columns, n_bands: int = N_BANDS) -> tuple[np.ndarray, list[str]]:
    """One code per row for the combination of ``columns`` (e.g. region x channel x age band) and a
    readable label per code ("region North, channel web").

    Examples
    --------
    >>> t = pd.DataFrame({"region": ["N", "S", "N"], "channel": ["web", "web", "web"]})
    >>> codes, labels = group_codes(t, ["region", "channel"])
    >>> codes.tolist(), labels
    ([0, 1, 0], ['region N, channel web', 'region S, channel web'])
    """
    if not len(columns):
        return np.zeros(len(table), dtype=np.int64), ["everyone"]
    parts = [column_codes(table[c], n_bands) for c in columns]
    combined = np.zeros(len(table), dtype=np.int64)
    for codes, labels in parts:
        combined = combined * len(labels) + codes
    unique, codes = np.unique(combined, return_inverse=True)
    names = []
    for value in unique:
        words = []
        for column, (_, labels) in zip(reversed(list(columns)), reversed(parts)):
            words.append(f"{column} {labels[value % len(labels)]}")
            value //= len(labels)
        names.append(", ".join(reversed(words)))
    return codes.astype(np.int64), names


def codes_for(ids, table_ids: np.ndarray, table_codes: np.ndarray) -> np.ndarray:
    """Code of each id from a table's (ids, codes); -1 for ids not in the table."""
    position = pd.Index(table_ids).get_indexer(np.asarray(ids))
    return np.where(position >= 0, table_codes[np.maximum(position, 0)], -1)


__all__ = ["CUSTOMER", "ITEM", "N_BANDS", "check_table", "codes_for", "column_codes", "group_codes"]
