"""Analysts' own data: read the CSV, Parquet or Excel files a case file points at.

A case file with ``source: files`` names one file per source table under ``files:``; the
``tables:`` section then maps those tables to the canonical roles exactly as for the built-in
cases. A complete, documented example is ``data/examples/shop/case.yml``::

    source: files
    observation_end: "2026-01-01"       # optional; default: the day after the last event
    files:
      customers: customers.csv           # short form: just the path
      products: {path: products.parquet}
      transactions:
        path: exports/transactions.csv   # relative to the case file's folder, or absolute
        sep: ";"                         # CSV/TSV only; default "," (tab for .tsv)
        encoding: latin-1                # CSV/TSV only; default utf-8
        date_format: "%d/%m/%Y %H:%M"    # how the date columns are written
        dates: [InvoiceDate]             # which columns are dates (default: below)
      # Excel: {path: crm.xlsx, sheet: Customers} (needs `pip install openpyxl`)

Date columns are parsed here, where the file's own format is known: by default the column
mapped to ``timestamp`` (events), the one mapped to ``signup_date`` (customers, under
``tables.customers.columns``) and the one mapped to ``launch_date`` (items, under
``tables.items.columns``), each with ``date_format`` or, without it, as ISO 8601 dates
(``2025-03-31`` or ``2025-03-31 14:05``); ``date_format`` may also map column -> format.
Nothing is guessed: a day-first date such as ``03/04/2025`` needs its ``date_format``.
"""

from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from marketing.case_schema import FILE_FORMATS, file_options
from marketing.cases import CaseConfigError, CaseStudy, get_case
from marketing.columns import CUSTOMER, ITEM, LAUNCH, SIGNUP, TIMESTAMP
from marketing.datasets.canonical import CaseData, to_canonical
from marketing.datasets import quirks
from marketing.validation import CleaningReport, DataValidationError, drop_rows, to_datetimes

FORMATS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".xlsx": "excel",
    ".xlsm": "excel",
    ".xls": "excel",
}
COMPRESSIONS = (".gz", ".bz2", ".zip", ".xz", ".zst")
#: ``date_format`` values for numbers counting from 1970-01-01 UTC, and their unit.
UNIX_TIMES = {"unix": "s", "unix_ms": "ms"}
# declared with the rest of the case file in marketing.case_schema.FILE_OPTIONS
OPTIONS = {kind: file_options(kind) for kind in FILE_FORMATS}
_EXCEL_ENGINES = {".xlsx": "openpyxl", ".xlsm": "openpyxl", ".xls": "xlrd"}
#: The documented example case (``data/examples/shop``) in a source checkout.
EXAMPLE_CASE = Path(__file__).resolve().parents[2] / "data" / "examples" / "shop" / "case.yml"


def _raw_case(case: CaseStudy) -> dict[str, Any]:
    """The case file's own keys (``files``, ``observation_end``) that CaseStudy may not carry."""
    raw = getattr(case, "raw", None)
    if raw:
        return raw
    if case.path is None:
        return {}
    return yaml.safe_load(Path(case.path).read_text()) or {}


def _where(case: CaseStudy) -> str:
    return f"case file {case.path}" if case.path else f"case {case.name!r}"


def files_spec(case: str | Path | CaseStudy) -> dict[str, dict[str, Any]]:
    """The case's ``files`` section, normalised to table -> options with an absolute ``path``.

    Raises
    ------
    CaseConfigError
        No ``files`` section, a table of ``tables:`` without a file (or a file for no table),
        an unknown option, an unknown extension or a file that does not exist.

    Examples
    --------
    >>> spec = files_spec(EXAMPLE_CASE)
    >>> sorted(spec), spec["transactions"]["date_format"]
    (['customers', 'products', 'transactions'], '%d/%m/%Y %H:%M')
    """
    case = get_case(case)
    where = _where(case)
    raw = getattr(case, "files", None) or _raw_case(case).get("files")
    if not raw or not isinstance(raw, dict):
        raise CaseConfigError(
            f"{where} reads its data from files but has no 'files:' mapping of table name to path. "
            "Add one, for example `files: {customers: customers.csv, transactions: sales.csv}`."
        )
    needed = _table_names(case)
    missing = [t for t in needed if t not in raw]
    extra = [t for t in raw if t not in needed]
    if missing or extra:
        raise CaseConfigError(
            f"{where}: 'files' should name one file for each table of 'tables:' {needed}; "
            + (f"missing {missing}" if missing else "")
            + ("; " if missing and extra else "")
            + (f"{extra} name no table (check the spelling)" if extra else "")
            + "."
        )
    base = Path(case.path).resolve().parent if case.path else Path.cwd()
    return {table: _file_options(where, table, raw[table], base) for table in needed}


def case_file_paths(case: str | Path | CaseStudy) -> dict[str, Path]:
    """Table name -> the absolute path of its file (for fingerprints and provenance).

    Examples
    --------
    >>> {name: path.name for name, path in case_file_paths(EXAMPLE_CASE).items()}
    {'customers': 'customers.csv', 'products': 'products.csv', 'transactions': 'transactions.csv'}
    """
    return {table: options["path"] for table, options in files_spec(case).items()}


def _table_names(case: CaseStudy) -> list[str]:
    names = [case.tables[role]["table"] for role in ("customers", "items", "events") if role in case.tables]
    join = case.tables.get("events", {}).get("join")
    if join:
        names.append(join["table"])
    return list(dict.fromkeys(names))


def _file_options(where: str, table: str, raw: Any, base: Path) -> dict[str, Any]:
    options = {"path": raw} if isinstance(raw, str) else dict(raw) if isinstance(raw, dict) else None
    if options is None or not isinstance(options.get("path"), str):
        raise CaseConfigError(
            f"{where}: files.{table} should be a path or a mapping with a 'path', not {raw!r}."
        )
    given = Path(options["path"]).expanduser()
    path = given if given.is_absolute() else base / given
    kind = options.get("format") or _format(path)
    if kind not in OPTIONS:
        raise CaseConfigError(
            f"{where}: files.{table}: cannot read '{given}': unknown file type. Use one of "
            f"{', '.join(FORMATS)} (CSV and TSV may also be compressed, e.g. .csv.gz), or declare "
            f"how to read it with files.{table}.format (one of {', '.join(OPTIONS)})."
        )
    unknown = [k for k in options if k not in OPTIONS[kind]]
    if unknown:
        raise CaseConfigError(
            f"{where}: files.{table}: option(s) {unknown} do not apply to a {kind} file; "
            f"the options are {list(OPTIONS[kind])}."
        )
    if not path.is_file():
        relative = "" if given.is_absolute() else f" ('{given}' relative to the case file's folder {base})"
        raise CaseConfigError(
            f"{where}: files.{table}: no file at {path}{relative}. Check the name, move the file "
            "there, or give an absolute path."
        )
    dates = options.get("dates")
    if dates is not None and not (isinstance(dates, list) and all(isinstance(d, str) for d in dates)):
        raise CaseConfigError(f"{where}: files.{table}.dates should be a list of column names, not {dates!r}.")
    fmt = options.get("date_format")
    if fmt is not None and not isinstance(fmt, str | dict):
        raise CaseConfigError(
            f"{where}: files.{table}.date_format should be a format such as '%d/%m/%Y' or a "
            f"mapping of column to format, not {fmt!r}."
        )
    return {**options, "path": path, "format": kind}


def _format(path: Path) -> str | None:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in COMPRESSIONS:
        suffixes = suffixes[:-1]
        if suffixes and FORMATS.get(suffixes[-1]) != "csv":
            return None
    return FORMATS.get(suffixes[-1]) if suffixes else None


def read_case_files(case: str | Path | CaseStudy, report: CleaningReport | None = None) -> dict[str, pd.DataFrame]:
    """Read every file of a ``source: files`` case into a table, with its dates parsed.

    The tables keep the files' own column names; :func:`load_own_data` (through
    :func:`marketing.datasets.to_canonical`) then maps them to roles and validates them.

    Parameters
    ----------
    case : str, Path or CaseStudy
        A case file path, or a case loaded from one.
    report : CleaningReport, optional
        Where the declared cleaning (duplicates dropped, missing-value codes) is counted.

    Returns
    -------
    dict of str to DataFrame
        Table name (the keys of ``files:``) -> table.

    Raises
    ------
    CaseConfigError
        See :func:`files_spec`; a missing reader package (Excel needs openpyxl).
    DataValidationError
        A file that cannot be read, or dates that do not follow their format; the message
        names the case file, the ``files`` key, the column and the fix.

    Examples
    --------
    >>> tables = read_case_files(EXAMPLE_CASE)
    >>> tables["transactions"]["InvoiceDate"].dtype
    dtype('<M8[ns]')
    """
    case = get_case(case)
    where = _where(case)
    date_roles = _date_columns(case)
    report = report if report is not None else CleaningReport()
    tables = {}
    for table, options in files_spec(case).items():
        frame = _declared(where, table, _read(where, table, options), options, report)
        tables[table] = _parse_dates(where, table, frame, options, date_roles.get(table, []))
    return tables


def _declared(where: str, table: str, frame: pd.DataFrame, options: dict[str, Any], report: CleaningReport) -> pd.DataFrame:
    """The file's declared quirks applied, in the order they depend on each other: missing-value
    codes, nominal codes, derived columns, then exact duplicates (counted)."""
    context = f"{where}: files.{table}"
    if options.get("na_values") is not None:
        frame, counts = quirks.missing_codes(frame, options["na_values"], context,
                                             decimal=options.get("decimal"), thousands=options.get("thousands"))
        for column, n in counts.items():
            report.set_missing(table, f"missing-value codes in '{column}'", n, len(frame))
    if options.get("nominal"):
        frame = quirks.nominal(frame, options["nominal"], context)
    for name, expression in (options.get("derive") or {}).items():
        frame = frame.assign(**{name: quirks.derive(frame, name, expression, context)})
    if options.get("drop_duplicates"):
        mask = quirks.duplicate_rows(frame)
        frame = drop_rows(frame, mask, table, "exact duplicate rows", report).reset_index(drop=True)
    return frame


def _read(where: str, table: str, options: dict[str, Any]) -> pd.DataFrame:
    path, kind = options["path"], options["format"]
    context = f"{where}: files.{table}: could not read {path}"
    if kind == "excel":
        engine = _EXCEL_ENGINES[path.suffix.lower()]
        if importlib.util.find_spec(engine) is None:
            raise CaseConfigError(
                f"{where}: files.{table}: reading the Excel file {path} needs the {engine} package, "
                f"which is not installed. Install it with `pip install {engine}`, or save the sheet "
                f"as CSV and point files.{table}.path at that file."
            )
    try:
        if kind == "csv":
            default_sep = "\t" if ".tsv" in [s.lower() for s in path.suffixes] else ","
            sep = options.get("sep", default_sep)
            names = options.get("names")
            frame = pd.read_csv(
                path, sep=r"\s+" if sep == "whitespace" else sep, encoding=options.get("encoding", "utf-8"),
                header=None if names else "infer", names=names,
                decimal=options.get("decimal", "."), thousands=options.get("thousands"),
            )
            if frame.shape[1] == 1 and any(s in str(frame.columns[0]) for s in ";\t|,"):
                raise DataValidationError(
                    f"{context}: the header {str(frame.columns[0])!r} was read as one column "
                    f"with sep={sep!r}. Set files.{table}.sep to the file's separator (for example ';')."
                )
            return frame
        if kind == "parquet":
            return pd.read_parquet(path)
        return pd.read_excel(path, sheet_name=options.get("sheet", 0), engine=engine)
    except pd.errors.EmptyDataError:
        raise DataValidationError(f"{context}: the file is empty. Export the table again.") from None
    except UnicodeDecodeError as err:
        raise DataValidationError(
            f"{context}: it is not {options.get('encoding', 'utf-8')} text ({err.reason} at byte "
            f"{err.start}). Set files.{table}.encoding, for example `encoding: latin-1`."
        ) from None
    except DataValidationError:
        raise
    except (ValueError, OSError, pd.errors.ParserError) as err:
        raise DataValidationError(
            f"{context} as {kind}: {err}. Check that the file is a valid {kind} file"
            + (" and that sep and encoding match it." if kind == "csv" else ".")
        ) from None


def _date_columns(case: CaseStudy) -> dict[str, list[str]]:
    """Table -> the columns that play a date role (event time, sign-up date, launch date)."""
    events = case.tables.get("events", {"columns": {}})
    timestamp = events["columns"].get(TIMESTAMP)
    out: dict[str, list[str]] = {}
    if timestamp:
        out.setdefault(events["table"], []).append(timestamp)
        if events.get("join"):
            out.setdefault(events["join"]["table"], []).append(timestamp)
    if "customers" in case.tables:
        customers = case.tables["customers"]
        out.setdefault(customers["table"], []).append(customers.get("columns", {}).get(SIGNUP, SIGNUP))
    if "items" in case.tables:
        items = case.tables["items"]
        out.setdefault(items["table"], []).append(items.get("columns", {}).get(LAUNCH, LAUNCH))
    return out


def _parse_dates(
    where: str, table: str, frame: pd.DataFrame, options: dict[str, Any], roles: list[str]
) -> pd.DataFrame:
    fmt = options.get("date_format")
    if options.get("dates") is not None:
        columns = options["dates"]
        missing = [c for c in columns if c not in frame]
        if missing:
            raise DataValidationError(
                f"{where}: files.{table}.dates names column(s) {missing} that the file does not "
                f"have; it has {list(frame.columns)}."
            )
    else:
        # a role column missing from this file is the join partner's, or reported by to_canonical
        columns = [c for c in roles if c in frame]
        if isinstance(fmt, dict):
            columns += [c for c in fmt if c not in columns]
    parsed = {}
    for column in columns:
        if column not in frame:
            raise DataValidationError(
                f"{where}: files.{table}.date_format names column '{column}' that the file does "
                f"not have; it has {list(frame.columns)}."
            )
        values = frame[column]
        if pd.api.types.is_datetime64_any_dtype(values):
            continue
        column_format = fmt.get(column) if isinstance(fmt, dict) else fmt
        parsed[column] = _to_datetime(where, table, column, values, column_format)
    return frame.assign(**parsed) if parsed else frame


def _to_datetime(where: str, table: str, column: str, values: pd.Series, fmt: str | None) -> pd.Series:
    if fmt in UNIX_TIMES:
        out = quirks.unix_times(values, UNIX_TIMES[fmt])
    else:
        out = to_datetimes(values, fmt or "ISO8601", f"{where}: files.{table}: column '{column}'")
    bad = out.isna() & values.notna()
    if bad.any():
        first = values[bad].iloc[0]
        fix = (
            f"Check files.{table}.date_format ({fmt!r}) against the file"
            if fmt
            else f"Set files.{table}.date_format to the file's format, for example '%d/%m/%Y %H:%M'"
        )
        raise DataValidationError(
            f"{where}: files.{table}: column '{column}' has {int(bad.sum())} value(s) that do not "
            f"match the date format {fmt or 'ISO 8601'!r}, first {first!r} (row {values[bad].index[0]}). {fix}."
        )
    return out


def _observation_end(case: CaseStudy) -> pd.Timestamp | None:
    raw = getattr(case, "observation_end", None) or _raw_case(case).get("observation_end")
    if raw is None:
        return None
    try:
        return pd.Timestamp(raw)
    except (ValueError, TypeError):
        raise CaseConfigError(
            f"{_where(case)}: observation_end {raw!r} is not a date; write it as '2026-01-01'."
        ) from None


def _restore_id_dtype(events: pd.DataFrame, entity: pd.DataFrame, column: str) -> pd.DataFrame:
    """Integer ids of an event file with gaps are read as floats; cleaning removed the gaps."""
    if column in events and pd.api.types.is_float_dtype(events[column]) and pd.api.types.is_integer_dtype(entity[column]):
        return events.assign(**{column: events[column].astype(entity[column].dtype)})
    return events


def load_own_data(case: str | Path | CaseStudy) -> CaseData:
    """Load a ``source: files`` case: read its files, map them to canonical tables and clean them.

    The observation end is the case file's ``observation_end`` if it sets one (it should when
    the customers table carries targets measured after a date), otherwise the day after the
    last event. What cleaning removed is counted in ``data.cleaning``.

    Parameters
    ----------
    case : str, Path or CaseStudy
        A case file path, or a case loaded from one.

    Returns
    -------
    CaseData
        With ``truth=None`` and ``source="files:<folder>/<case file>"``.

    Raises
    ------
    CaseConfigError, DataValidationError
        See :func:`read_case_files` and :func:`marketing.datasets.to_canonical`.

    Examples
    --------
    >>> data = load_own_data(EXAMPLE_CASE)
    >>> data.source, str(data.observation_end.date())
    ('files:shop/case.yml', '2026-01-01')
    >>> list(data.events.columns)
    ['order_id', 'customer_id', 'item_id', 'timestamp', 'quantity', 'amount']
    """
    case = get_case(case)
    if case.source != "files":
        raise CaseConfigError(
            f"{_where(case)} has source {case.source!r}; load_own_data reads cases with "
            "`source: files` (use marketing.datasets.load_case_data for the others)."
        )
    report = CleaningReport()
    tables = read_case_files(case, report)
    path = Path(case.path) if case.path else Path(case.name)
    data = to_canonical(
        case, tables, observation_end=_observation_end(case), source=f"files:{path.parent.name}/{path.name}", report=report
    )
    events = _restore_id_dtype(data.events, data.customers, CUSTOMER)
    events = _restore_id_dtype(events, data.items, ITEM)
    data = dataclasses.replace(data, customers=_binary_target(case, data.customers), events=events)
    days = _raw_case(case).get("label_window_days")
    return _with_window_targets(data, int(days), _observation_end(case) is None) if days else data


def _with_window_targets(data: CaseData, days: int, end_is_default: bool) -> CaseData:
    """The label-window targets built from the log (:func:`marketing.features.split_windows`, leak-free):
    ``spend_next`` (amount in the ``days`` after the observation end) and ``churned`` (no event in
    them), for the customers with an event before the end; the others (no features, no label) are
    counted out. Without an ``observation_end`` the window is the log's last ``days`` days.
    """
    from marketing.features import split_windows

    where = f"{_where(data.case)}: label_window_days"
    if data.observation_end is None:
        raise CaseConfigError(f"{where} builds targets from the events, and this case has no event log (tables.events).")
    if days <= 0:
        raise CaseConfigError(f"{where} should be a positive number of days, not {days}.")
    end = data.observation_end - pd.Timedelta(days=days) if end_is_default else data.observation_end
    taken = [c for c in ("spend_next", "churned") if c in data.customers]
    if taken:
        raise DataValidationError(
            f"{where}: the customers table already has column(s) {taken}, the names of the built targets; rename them."
        )
    _, labels = split_windows(data.events, end, label_days=days)
    customers = data.customers.loc[data.customers[CUSTOMER].isin(labels.index)]
    data.cleaning.add("customers", f"no event before the observation end {end.date()} (no features, no label)",
                      len(data.customers) - len(customers), len(data.customers))
    customers = customers.merge(labels, left_on=CUSTOMER, right_index=True, how="left").reset_index(drop=True)
    return dataclasses.replace(data, customers=customers, observation_end=end)


def _binary_target(case: CaseStudy, customers: pd.DataFrame) -> pd.DataFrame:
    """The binary target as 0/1 from its declared ``positive`` (a value, values or a threshold),
    in the target's column (see :class:`marketing.cases.Target` for when that is a new one)."""
    target = case.targets.get("binary")
    if target is None or target.positive is None or target.source not in customers:
        return customers
    label = quirks.positive_label(customers[target.source], target.positive, f"{_where(case)}: targets.binary")
    return customers.assign(**{target.column: label})
