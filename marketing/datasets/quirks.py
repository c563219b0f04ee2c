"""What a case file declares about its files instead of the analyst fixing them in pandas.

Missing-value codes, nominal codes (integers that are categories), columns derived by a small
arithmetic expression, exact duplicate rows and binary targets from any column. Each is a pure
function of a table and the declaration; :mod:`marketing.datasets.files` applies them after
reading a file, and counts what it removes.
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Mapping
from typing import Any

import pandas as pd

from marketing.cases import CaseConfigError
from marketing.validation import DataValidationError

_OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}
_COMPARISONS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le, "==": operator.eq, "!=": operator.ne}
_THRESHOLD = re.compile(r"^\s*(?P<column>[^\s<>=!]+)?\s*(?P<op>>=|<=|==|!=|>|<)\s*(?P<value>-?\d+(?:\.\d*)?)\s*$")


def derive(frame: pd.DataFrame, name: str, expression: str, where: str) -> pd.Series:
    """A column computed from others by ``+ - * /``, numbers and parentheses, nothing else.

    Column names are written as they are (``Quantity * UnitPrice``), or between backticks when
    they are not identifiers (```Unit Price` * 1.2``). No function calls, attributes or other
    Python: a case file is data, not code.

    Examples
    --------
    >>> lines = pd.DataFrame({"Quantity": [2, 3], "Unit Price": [1.5, 2.0]})
    >>> derive(lines, "Revenue", "Quantity * `Unit Price`", "here").tolist()
    [3.0, 6.0]
    >>> derive(lines, "Revenue", "__import__('os')", "here")
    Traceback (most recent call last):
    ...
    marketing.cases.CaseConfigError: here: derive.Revenue = "__import__('os')": only column names, numbers, + - * / and parentheses are allowed (found a function call).
    """
    quoted = {f"_col{i}": column for i, column in enumerate(re.findall(r"`([^`]+)`", str(expression)))}
    source = str(expression)
    for alias, column in quoted.items():
        source = source.replace(f"`{column}`", alias, 1)
    context = f'{where}: derive.{name} = "{expression}"'
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError:
        raise CaseConfigError(f"{context} is not an arithmetic expression; write it like `Quantity * UnitPrice`.") from None

    def value(node):
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            return _OPERATORS[type(node.op)](value(node.left), value(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            return -value(node.operand) if isinstance(node.op, ast.USub) else value(node.operand)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            return node.value
        if isinstance(node, ast.Name):
            column = quoted.get(node.id, node.id)
            if column not in frame:
                raise DataValidationError(f"{context} names column '{column}' that the file does not have; it has {list(frame.columns)}.")
            if not pd.api.types.is_numeric_dtype(frame[column]):
                raise DataValidationError(f"{context}: column '{column}' is not numeric ({frame[column].dtype}); declare its decimal separator or missing-value codes.")
            return frame[column]
        kind = {ast.Call: "a function call", ast.Attribute: "an attribute", ast.Subscript: "an index"}.get(type(node), type(node).__name__)
        raise CaseConfigError(f"{context}: only column names, numbers, + - * / and parentheses are allowed (found {kind}).")

    out = value(tree.body)
    if not isinstance(out, pd.Series):
        raise CaseConfigError(f"{context} uses no column; a constant is not a derived column.")
    return out.astype("float64").rename(name)


def missing_codes(
    frame: pd.DataFrame, codes, where: str, *, decimal: str | None = None, thousands: str | None = None
) -> tuple[pd.DataFrame, dict[str, int]]:
    """``frame`` with the declared missing-value codes set missing, and how many per column.

    ``codes`` is a list applying to every column or a mapping of column to list. Codes match
    values of any type as written in the file (``999`` matches the number 999 and the text
    ``"999"``). A column of text whose remaining values are all numbers (written with
    ``decimal`` and ``thousands`` separators, as the file declares) becomes numeric.

    Examples
    --------
    >>> table = pd.DataFrame({"age": ["41", "?", "38"], "job": ["admin.", "unknown", "?"]})
    >>> out, counts = missing_codes(table, ["?", "unknown"], "here")
    >>> out["age"].tolist(), out["job"].isna().tolist(), counts
    ([41.0, nan, 38.0], [False, True, True], {'age': 1, 'job': 2})
    """
    per_column = codes if isinstance(codes, Mapping) else {column: codes for column in frame.columns}
    unknown = [c for c in per_column if c not in frame]
    if unknown:
        raise DataValidationError(f"{where}: na_values names column(s) {unknown} that the file does not have; it has {list(frame.columns)}.")
    changed, counts = {}, {}
    for column, values in per_column.items():
        values = values if isinstance(values, list) else [values]
        series = frame[column]
        if pd.api.types.is_numeric_dtype(series):
            # 999 and "999" both match 999.0 in a column read as numbers
            numbers = pd.to_numeric(pd.Series([str(v) for v in values]), errors="coerce").dropna()
            hit = series.isin(numbers.to_numpy())
        else:
            hit = series.astype("str").isin({str(v) for v in values}) & series.notna()
        if hit.any():
            kept = series.mask(hit)
            if not pd.api.types.is_numeric_dtype(kept):
                # a code such as "?" kept the reader from parsing the column's numbers
                text = kept.astype("str").where(kept.notna())
                if thousands:
                    text = text.str.replace(thousands, "", regex=False)
                if decimal and decimal != ".":
                    text = text.str.replace(decimal, ".", regex=False)
                numbers = pd.to_numeric(text, errors="coerce")
                if numbers.notna().sum() == kept.notna().sum():
                    kept = numbers
            changed[column], counts[column] = kept, int(hit.sum())
    return (frame.assign(**changed) if changed else frame), counts


def nominal(frame: pd.DataFrame, columns: list[str], where: str) -> pd.DataFrame:
    """Integer-coded categories (sex 1/2, region 1..5) as text, so the models treat them as levels.

    Examples
    --------
    >>> nominal(pd.DataFrame({"sex": [1.0, 2.0, None]}), ["sex"], "here")["sex"].tolist()
    ['1', '2', nan]
    """
    missing = [c for c in columns if c not in frame]
    if missing:
        raise DataValidationError(f"{where}: nominal names column(s) {missing} that the file does not have; it has {list(frame.columns)}.")
    out = {}
    for column in columns:
        values = frame[column]
        if pd.api.types.is_float_dtype(values) and (values.dropna() % 1 == 0).all():
            values = values.astype("Int64")  # 1.0 read beside gaps is the code 1
        out[column] = values.astype("str").where(values.notna())
    return frame.assign(**out)


def positive_label(values: pd.Series, positive: Any, where: str) -> pd.Series:
    """A binary target (0/1) from any column: a value, a list of values, or a threshold.

    ``positive`` is the label counted as 1 (``yes``), a list of them (``[2, 3, 4]``), or a
    comparison with a number (``"> 0"``, or naming the column: ``"G3 >= 10"``). Missing values
    stay missing.

    Examples
    --------
    >>> num = pd.Series([0, 2, 1, None], name="num")
    >>> positive_label(num, "num > 0", "here").tolist()
    [0.0, 1.0, 1.0, nan]
    >>> positive_label(pd.Series(["yes", "no"], name="y"), "yes", "here").tolist()
    [1, 0]
    >>> positive_label(pd.Series([">50K", "<=50K"], name="income"), ">50K", "here").tolist()
    [1, 0]
    """
    threshold = _THRESHOLD.match(positive) if isinstance(positive, str) else None
    if threshold and not (values.dtype == "str" or values.dtype == object):
        column = threshold["column"]
        if column is not None and column != values.name:
            raise CaseConfigError(
                f"{where}: positive {positive!r} compares column '{column}', but the target column is "
                f"'{values.name}'. Write the comparison on the target column, e.g. '{values.name} {threshold['op']} {threshold['value']}'."
            )
        label = _COMPARISONS[threshold["op"]](values, float(threshold["value"])).astype("int64")
    else:
        labels = positive if isinstance(positive, list) else [positive]
        texts = {str(v) for v in labels}
        seen = set(values.dropna().astype("str"))
        if not texts & seen:
            shown = sorted(seen)[:10]
            raise DataValidationError(
                f"{where}: positive {positive!r} matches no value of column '{values.name}'; its values are {shown}. "
                "Give one of them, a list, or a threshold such as '> 0'."
            )
        label = values.astype("str").isin(texts).astype("int64")
    if values.isna().any():
        return label.astype("float64").where(values.notna())
    return label


def duplicate_rows(frame: pd.DataFrame) -> pd.Series:
    """True for each row that repeats an earlier row exactly (every column equal)."""
    return frame.duplicated(keep="first")


def unix_times(values: pd.Series, unit: str) -> pd.Series:
    """Epoch seconds (``unit="s"``) or milliseconds (``"ms"``) as timestamps; text that is not a
    number stays missing, for the caller to report."""
    return pd.to_datetime(pd.to_numeric(values, errors="coerce"), unit=unit).astype("datetime64[ns]")


__all__ = ["derive", "duplicate_rows", "missing_codes", "nominal", "positive_label", "unix_times"]
