"""Input validation with errors that name the table, the column and the fix."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd


class DataValidationError(ValueError):
    """Raised when a table does not have the shape an analysis needs.

    The message always names the table (or file), the column and how to fix it.
    """

    def _render_traceback_(self) -> list[str]:
        # IPython shows this instead of the traceback: the message is the whole story, and a
        # stack through pandas internals only hides it
        return [f"{type(self).__name__}: {self}"]


def _where(table: str, source: str | None) -> str:
    return f"table '{table}'" + (f" (from {source})" if source else "")


def require_non_empty(df, table: str, source: str | None = None) -> None:
    """Raise if ``df`` (a pandas, narwhals, DuckDB or Spark frame) has no rows."""
    from marketing.frames import is_empty

    if is_empty(df):
        raise DataValidationError(
            f"{_where(table, source)} is empty: it needs at least one row. "
            "Check the file path and any filters applied before loading."
        )


def require_columns(
    df: pd.DataFrame, columns: Iterable[str], table: str, source: str | None = None
) -> None:
    """Raise if any of ``columns`` is missing from ``df``, listing what is there."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataValidationError(
            f"{_where(table, source)} is missing column(s) {missing}; it has {list(df.columns)}. "
            "Rename the columns, or map them to their roles in the case definition "
            "(for example `columns: {customer_id: CustomerID}`)."
        )


def require_numeric(df: pd.DataFrame, column: str, table: str, source: str | None = None) -> None:
    """Raise if ``column`` is not numeric, quoting an offending value."""
    if not pd.api.types.is_numeric_dtype(df[column]) or pd.api.types.is_bool_dtype(df[column]):
        coerced = pd.to_numeric(df[column], errors="coerce")
        bad = df[column][coerced.isna() & df[column].notna()]
        example = f" such as {bad.iloc[0]!r}" if len(bad) else ""
        raise DataValidationError(
            f"{_where(table, source)}: column '{column}' must be numeric but has dtype "
            f"{df[column].dtype}{example}. Convert it (for example strip currency symbols) "
            "or map a numeric column to this role."
        )


_OFFSET = r"(?:Z|[+-]\d\d:?\d\d)\s*$"


def to_datetimes(values: pd.Series, fmt: str | None, where: str) -> pd.Series:
    """``pd.to_datetime(values, format=fmt, errors="coerce")`` as naive UTC times.

    Times written with differing UTC offsets (winter and summer time) are put on UTC; a column
    mixing times with and without an offset raises, since the ones without are ambiguous.
    ``where`` names the column in that message.

    Examples
    --------
    >>> to_datetimes(pd.Series(["2024-03-30 10:00+01:00", "2024-04-01 10:00+02:00"]), "ISO8601", "x").tolist()
    [Timestamp('2024-03-30 09:00:00'), Timestamp('2024-04-01 08:00:00')]
    """
    try:
        out = pd.to_datetime(values, format=fmt, errors="coerce")
    except ValueError as err:
        if "timezone" not in str(err).lower():
            raise
        text = values.dropna().astype("str")
        with_offset = text.str.contains(_OFFSET, regex=True)
        if not with_offset.all():
            raise DataValidationError(
                f"{where}: some times have a UTC offset ({text[with_offset].iloc[0]!r}) and some do not "
                f"({text[~with_offset].iloc[0]!r}), so the ones without are ambiguous. Export every time "
                "with its offset, or every time in one zone without offsets."
            ) from None
        out = pd.to_datetime(values, format=fmt, errors="coerce", utc=True)
    if getattr(out.dt, "tz", None) is not None:
        out = out.dt.tz_convert("UTC").dt.tz_localize(None)
    return out.astype("datetime64[ns]")


def parse_timestamps(
    df: pd.DataFrame, column: str, table: str, source: str | None = None
) -> pd.Series:
    """Return ``df[column]`` as datetime64, raising on values that cannot be parsed.

    Missing values are not accepted either: an event without a time cannot be placed in a window.
    """
    col = df[column]
    if pd.api.types.is_datetime64_any_dtype(col):
        parsed = col
    else:
        parsed = to_datetimes(col, "mixed", f"{_where(table, source)}: column '{column}'")
    bad = parsed.isna()
    if bad.any():
        first = col[bad].iloc[0]
        raise DataValidationError(
            f"{_where(table, source)}: column '{column}' has {int(bad.sum())} value(s) that are "
            f"not dates, first {first!r} (row {col[bad].index[0]}). Use ISO dates such as "
            "'2024-03-31 14:05', or drop those rows before loading."
        )
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    return parsed.astype("datetime64[ns]")


def require_unique(df: pd.DataFrame, column: str, table: str, source: str | None = None) -> None:
    """Raise if ``column`` (an id) repeats.

    The message points at the repeated ids by row number (position in the table, from 0, as
    the other messages count rows), never by value: an id may be personal (an e-mail used as
    customer id), and the message ends up in the report's record and the index page.

    Examples
    --------
    >>> people = pd.DataFrame({"customer_id": ["ann@example.org", "bo@example.org", "ann@example.org"]})
    >>> require_unique(people, "customer_id", "customers")
    Traceback (most recent call last):
    ...
    marketing.validation.DataValidationError: table 'customers': column 'customer_id' should identify each row but 1 id(s) repeat, e.g. rows 0 and 2 hold the same id (rows count from 0; ids are not quoted, they may be personal). De-duplicate the table, or aggregate it to one row per id first.
    """
    dup = df[column].duplicated(keep=False).to_numpy()
    if dup.any():
        raise DataValidationError(
            f"{_where(table, source)}: column '{column}' should identify each row but "
            f"{int(df[column].duplicated().sum())} id(s) repeat, e.g. {_repeated_rows(df[column], dup)} "
            "(rows count from 0; ids are not quoted, they may be personal). "
            "De-duplicate the table, or aggregate it to one row per id first."
        )


def _repeated_rows(ids: pd.Series, dup: np.ndarray, n_ids: int = 3, n_rows: int = 3) -> str:
    """"rows 0 and 2 hold the same id; so do rows 4, 5 and 9": the first ``n_ids`` repeated ids by position."""
    codes, _ = pd.factorize(ids, use_na_sentinel=False)
    groups = [np.flatnonzero(codes == code)[:n_rows].tolist() for code in pd.unique(codes[dup])[:n_ids]]

    def rows(positions: list[int]) -> str:
        return ", ".join(map(str, positions[:-1])) + f" and {positions[-1]}"

    first, *more = groups
    return f"rows {rows(first)} hold the same id" + "".join(f"; so do rows {rows(g)}" for g in more)


@dataclass
class CleaningReport:
    """What a cleaning step removed, by reason, so nothing disappears silently.

    Examples
    --------
    >>> report = CleaningReport()
    >>> report.add("order_lines", "returns (negative quantity)", 3, of=10)
    >>> report.total_removed()
    3
    >>> print(report.to_frame().to_string(index=False))
          table                      reason  rows_removed  rows_before  share_removed
    order_lines returns (negative quantity)             3           10            0.3
    """

    steps: list[dict] = field(default_factory=list)

    def add(self, table: str, reason: str, removed: int, of: int) -> None:
        """Record that ``removed`` of ``of`` rows of ``table`` were dropped for ``reason``."""
        self.steps.append(
            {"table": table, "reason": reason, "rows_removed": int(removed), "rows_before": int(of)}
        )

    def set_missing(self, table: str, reason: str, values: int, of: int) -> None:
        """Record that ``values`` cells of ``table`` (``of`` rows) were set missing for ``reason``;
        their rows stay."""
        self.steps.append(
            {"table": table, "reason": reason, "rows_removed": 0, "rows_before": int(of), "values_set_missing": int(values)}
        )

    def total_removed(self) -> int:
        return sum(s["rows_removed"] for s in self.steps)

    def to_frame(self) -> pd.DataFrame:
        columns = ["table", "reason", "rows_removed", "rows_before"]
        frame = pd.DataFrame(self.steps, columns=columns + ["values_set_missing"])
        share = frame["rows_removed"] / frame["rows_before"].where(frame["rows_before"] > 0)
        frame = frame.assign(share_removed=share.round(4))
        if frame["values_set_missing"].isna().all():
            return frame.drop(columns="values_set_missing")
        # only files that declare missing-value codes have this column
        return frame.assign(values_set_missing=frame["values_set_missing"].fillna(0).astype("int64"))[
            [*columns, "share_removed", "values_set_missing"]]


def drop_rows(
    df: pd.DataFrame, mask: pd.Series, table: str, reason: str, report: CleaningReport
) -> pd.DataFrame:
    """Drop the rows where ``mask`` is true and record how many in ``report``."""
    removed = int(mask.sum())
    report.add(table, reason, removed, len(df))
    # avoid copying a large table when there is nothing to drop
    return df.loc[~mask] if removed else df


def rename_roles(df: pd.DataFrame, mapping: Mapping[str, str]) -> pd.DataFrame:
    """Rename source columns to canonical role names (``mapping`` is role -> source column)."""
    return df.rename(columns={src: role for role, src in mapping.items() if src != role})


def require_numeric_columns(df, columns: Iterable[str], table: str) -> None:
    """Raise unless each of ``columns`` present in ``df`` has a numeric type; reads the schema only.

    One check for every engine (pandas, DuckDB, Spark, through narwhals), so the same bad
    column gets the same message wherever it is read. ``table`` names it (and its file).

    Examples
    --------
    >>> require_numeric_columns(pd.DataFrame({"amount": ["$1"]}), ["amount"], "events (events.csv)")
    Traceback (most recent call last):
    ...
    marketing.validation.DataValidationError: events (events.csv): column 'amount' is String, not numeric. Remove currency symbols and thousands separators, or map a numeric column to this role.
    """
    import narwhals as nw

    schema = nw.from_native(df).collect_schema()
    for column in columns:
        dtype = schema.get(column)
        if dtype is not None and not dtype.is_numeric():
            raise DataValidationError(
                f"{table}: column {column!r} is {dtype}, not numeric. Remove currency symbols and "
                "thousands separators, or map a numeric column to this role."
            )
