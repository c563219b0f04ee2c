"""Columns that look suspicious: missing-value codes, impossible zeros, one dominant value.

Engine-free checks of a plain pandas table of features (one row per customer), shared by every
analysis that reads features (the regression problem's, a segmentation table). Each finding is a
:class:`DataWarning`: a small record of what looks wrong, in which column, how much, and what to
do about it. Nothing is changed or dropped here; the analyst decides, usually in the case file.

The rules, each with its reason:

- **missing-value code** (:func:`missing_code_warnings`): a text value such as ``?``,
  ``unknown``, ``NA``, ``n/a``, ``none``, ``-1``, ``999`` or ``9999`` (any case, surrounding spaces
  ignored), because sources write "not known" that way and a model would take it for a real
  category. In a numeric column ``-1``, ``999`` and ``9999`` count as codes only where they sit
  outside the range of the column's other values (``-1`` in a column otherwise >= 0, ``999`` above
  every other value), the other values take at least three distinct values (so a -1/0/1 sign is
  not a code), and the code is either frequent (at least ``min_share`` of the values) or far out
  (``999`` at least twice the largest other value).
- **impossible zeros** (:func:`zero_warnings`): exact zeros in a measure that cannot be zero, such
  as a blood pressure, a BMI, a glucose level or a price, where sources often record "not
  measured" as 0. The rule reads the data, not the name: at least ``min_share`` (1%) of the values
  are exactly 0, every other value is positive, and the zeros are detached from the rest: the
  smallest non-zero value is at least ``min_ratio`` (a fifth) of the median non-zero value *and* at
  least ``min_gap`` (3) times the usual step between neighbouring distinct values. Counts (children,
  absences, 0, 1, 2, ...) and amounts whose smallest values approach 0 are therefore not flagged:
  for them 0 is the next value down, not a gap.
- **dominant value** (:func:`dominant_value_warnings`): one value in at least ``share`` (95%) of
  the rows with a value. Such a column carries almost no information, and its rare values make
  coefficients and partial dependence unstable.

Examples
--------
>>> table = pd.DataFrame({"job": ["admin", "unknown", "admin", "technician"] * 25,
...                       "bmi": [0.0] + [22.5 + 0.1 * i for i in range(99)]})
>>> for warning in data_quality_warnings(table):
...     print(warning.kind, warning.column, warning.value)
missing_code job 0.25
impossible_zeros bmi 0.01
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

#: Values that sources write for "not known" (compared in lower case, spaces stripped).
MISSING_CODES = ("?", "unknown", "na", "n/a", "none", "-1", "999", "9999")
#: The numeric missing-value codes, checked only where they sit outside the other values.
NUMERIC_CODES = (-1, 999, 9999)
#: The kinds of warning, in the order a report lists them.
KINDS = ("leakage", "missing_code", "impossible_zeros", "dominant_value")
#: How each kind is named in a report.
KIND_LABELS = {
    "leakage": "possible leakage",
    "missing_code": "missing-value code",
    "impossible_zeros": "impossible zeros",
    "dominant_value": "one dominant value",
}


@dataclass(frozen=True)
class DataWarning:
    """One suspicious finding about one column.

    Attributes
    ----------
    kind : str
        One of :data:`KINDS`.
    column : str
        The column it is about.
    value : float
        What was measured, rounded: a share of rows, or a score for leakage.
    message : str
        One sentence for the report: the column, the measurement and the fix.
    """

    kind: str
    column: str
    value: float
    message: str

    def as_dict(self) -> dict:
        """The record as a plain dict (JSON-serialisable)."""
        return asdict(self)


def warning_table(warnings: Iterable[DataWarning]) -> pd.DataFrame:
    """The warnings as a table with columns ``kind``, ``column``, ``value`` and ``message``.

    Examples
    --------
    >>> warning_table([DataWarning("dominant_value", "vip", 0.97, "...")])[["kind", "column", "value"]]
                 kind column  value
    0  dominant_value    vip   0.97
    """
    return pd.DataFrame([w.as_dict() for w in warnings], columns=["kind", "column", "value", "message"])


def _text_columns(frame: pd.DataFrame, columns: Sequence[str]) -> list[str]:
    return [c for c in columns if isinstance(frame[c].dtype, pd.CategoricalDtype)
            or pd.api.types.is_object_dtype(frame[c]) or pd.api.types.is_string_dtype(frame[c])]


def _numeric_columns(frame: pd.DataFrame, columns: Sequence[str]) -> list[str]:
    return [c for c in columns if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])]


def _rows(count: int, total: int) -> str:
    return f"{count:,} of {total:,} rows ({count / total:.1%})"


def _number(x: float) -> str:
    return f"{x:.4g}"


def missing_code_warnings(
    frame: pd.DataFrame, columns: Sequence[str] | None = None, *, codes: Sequence[str] = MISSING_CODES,
    min_share: float = 0.005,
) -> list[DataWarning]:
    """Values that look like missing-value codes (see the module docstring for the rule).

    Parameters
    ----------
    frame : DataFrame
        One row per customer.
    columns : sequence of str, optional
        The columns to check (default: all).
    codes : sequence of str
        The text codes, compared in lower case with surrounding spaces stripped.
    min_share : float
        The share of the values from which a numeric code outside the other values is frequent.

    Returns
    -------
    list of DataWarning
        One per (column, code) found, ``value`` the share of the rows with that code.

    Examples
    --------
    >>> table = pd.DataFrame({"pdays": [-1, -1, 3, 5, 8, 12], "sign": [-1, 0, 1, 1, 0, -1]})
    >>> for warning in missing_code_warnings(table):   # a -1/0/1 sign is not a code
    ...     print(warning.message)
    'pdays': the value -1 in 2 of 6 rows (33.3%) looks like a missing-value code (every other value is at least 0); declare it under na_values in the case file so it counts as missing, or confirm it is a real value.
    """
    columns = list(frame.columns if columns is None else columns)
    wanted = {str(code).strip().lower() for code in codes}
    found = []
    for column in _text_columns(frame, columns):
        values = frame[column].dropna()
        if values.empty:
            continue
        counts = values.astype("str").value_counts(sort=False)
        for value, count in counts.items():
            if value.strip().lower() in wanted:
                found.append(DataWarning(
                    "missing_code", column, round(count / len(frame), 4),
                    f"'{column}': {value!r} in {_rows(int(count), len(frame))} looks like a missing-value code; "
                    "declare it under na_values in the case file so it counts as missing, or confirm it is a real category.",
                ))
    for column in _numeric_columns(frame, columns):
        values = frame[column].dropna().astype(float)
        for code in NUMERIC_CODES:
            hit = values == code
            count = int(hit.sum())
            others = values[~hit]
            if not count or others.nunique() < 3:
                continue
            if code < 0:
                outside, far, where = bool((others >= 0).all()), False, "every other value is at least 0"
            else:
                outside, far = bool((others < code).all()), bool(code >= 2 * others.max())
                where = f"every other value is at most {_number(others.max())}"
            if outside and (count >= min_share * len(values) or far):
                found.append(DataWarning(
                    "missing_code", column, round(count / len(frame), 4),
                    f"'{column}': the value {code} in {_rows(count, len(frame))} looks like a missing-value code "
                    f"({where}); declare it under na_values in the case file so it counts as missing, "
                    "or confirm it is a real value.",
                ))
    return _in_order(found, columns)


def zero_warnings(
    frame: pd.DataFrame, columns: Sequence[str] | None = None, *, min_share: float = 0.01, min_ratio: float = 0.2,
    min_gap: float = 3.0,
) -> list[DataWarning]:
    """Exact zeros detached from a positive measure (see the module docstring for the rule).

    Parameters
    ----------
    frame : DataFrame
    columns : sequence of str, optional
        The columns to check (default: all numeric ones).
    min_share : float
        The smallest share of exact zeros that is flagged.
    min_ratio : float
        The smallest non-zero value must be at least this share of the median non-zero value.
    min_gap : float
        ... and at least this many times the median step between neighbouring distinct values.

    Returns
    -------
    list of DataWarning
        ``value`` the share of the rows that are exactly 0.

    Examples
    --------
    Blood pressure recorded as 0 when not measured; a count of children, where 0 is a real value:

    >>> table = pd.DataFrame({"blood_pressure": [0, 0, 64, 66, 70, 72, 72, 76, 80, 84],
    ...                       "children": [0, 0, 1, 1, 2, 2, 3, 1, 0, 4]})
    >>> [(w.column, w.value) for w in zero_warnings(table)]
    [('blood_pressure', 0.2)]
    """
    columns = list(frame.columns if columns is None else columns)
    found = []
    for column in _numeric_columns(frame, columns):
        values = frame[column].dropna().astype(float)
        zeros = int((values == 0).sum())
        nonzero = values[values != 0]
        if not zeros or zeros < min_share * len(values) or (nonzero <= 0).any():
            continue
        distinct = np.unique(nonzero.to_numpy())
        if len(distinct) < 2:
            continue   # a 0/1 flag: nothing to compare the zeros with
        smallest, median, step = distinct[0], float(nonzero.median()), float(np.median(np.diff(distinct)))
        if smallest >= min_ratio * median and smallest >= min_gap * step:
            found.append(DataWarning(
                "impossible_zeros", column, round(zeros / len(frame), 4),
                f"'{column}': {_rows(zeros, len(frame))} are exactly 0 while every other value is at least "
                f"{_number(smallest)} (median {_number(median)}): for a measure like this 0 is probably a "
                f"missing value; declare 0 under na_values for '{column}' in the case file, or correct the data.",
            ))
    return found


def dominant_value_warnings(frame: pd.DataFrame, columns: Sequence[str] | None = None, *, share: float = 0.95) -> list[DataWarning]:
    """Columns where one value fills at least ``share`` of the rows with a value.

    Returns
    -------
    list of DataWarning
        ``value`` the share of the most frequent value among the rows with a value.

    Examples
    --------
    >>> table = pd.DataFrame({"default": ["no"] * 97 + ["yes"] * 3, "age": range(100)})
    >>> print(dominant_value_warnings(table)[0].message)
    'default': one value ('no') in 97 of 100 rows with a value (97.0%): the column carries almost no information and its rare values make estimates unstable; consider dropping it from the features.
    """
    columns = list(frame.columns if columns is None else columns)
    found = []
    for column in columns:
        values = frame[column].dropna()
        if values.empty:
            continue
        counts = values.value_counts()
        top, count = counts.index[0], int(counts.iloc[0])
        if count < share * len(values):
            continue
        shown = _number(float(top)) if pd.api.types.is_number(top) and not isinstance(top, bool) else repr(str(top))
        what = (f"every row with a value holds {shown}" if count == len(values)
                else f"one value ({shown}) in {count:,} of {len(values):,} rows with a value ({count / len(values):.1%})")
        found.append(DataWarning(
            "dominant_value", column, round(count / len(values), 4),
            f"'{column}': {what}: the column carries almost no information and its rare values make estimates "
            "unstable; consider dropping it from the features.",
        ))
    return found


def data_quality_warnings(frame: pd.DataFrame, columns: Sequence[str] | None = None) -> list[DataWarning]:
    """All data-quality warnings of a table's ``columns``: missing-value codes, impossible zeros, dominant values.

    The checks of :func:`missing_code_warnings`, :func:`zero_warnings` and
    :func:`dominant_value_warnings` with their default thresholds, grouped by kind and in the
    columns' order within a kind. See the module docstring for an example.
    """
    columns = list(frame.columns if columns is None else columns)
    missing = [c for c in columns if c not in frame]
    if missing:
        raise ValueError(f"columns {missing} are not in the table; it has {list(frame.columns)}.")
    return [
        *missing_code_warnings(frame, columns),
        *zero_warnings(frame, columns),
        *dominant_value_warnings(frame, columns),
    ]


def _in_order(warnings: list[DataWarning], columns: list[str]) -> list[DataWarning]:
    position = {c: i for i, c in enumerate(columns)}
    return sorted(warnings, key=lambda w: position[w.column])
