"""Privacy for reports: pseudonymous ids, small-cell suppression and honest export names.

Customer data is personal, and health and finance data are sensitive. Three rules follow:

1. **Reports never show raw identifiers.** Ids that appear in a report (example customers, tables)
   go through :func:`pseudonymize` / :func:`report_ids`: a keyed hash (HMAC-SHA256) whose key lives
   *outside* the repository, so a published report cannot be joined back to the customer base by
   anyone without the key, while the same customer keeps the same pseudonym from report to report.
   Error messages, which end in a failed report's record and the index page, point at rows by
   number and never quote an id.
2. **Nothing published describes a small group.** :func:`suppress_small_cells` blanks (or marks
   ``"<10"``) the cells that describe fewer than ``min_size`` people (:func:`is_small`), in tables,
   figures and records alike (see :mod:`marketing.segmentation.small_groups`).
3. **Exports meant for a CRM keep the real ids, and say so in their name.** A file the CRM team
   loads must carry real ids to be useful; :func:`crm_export_path` names it
   ``<stem>_crm_real_ids.csv`` so nobody mistakes it for a publishable file. It is written
   atomically, and in a report build only once the report succeeds (:mod:`marketing.exports`).

The pseudonym key
-----------------
The key is looked up, in order: the ``key`` argument; the environment variable
``MARKETING_PSEUDONYM_KEY`` (the key itself, as text); the key file named by
``MARKETING_PSEUDONYM_KEY_FILE``; the default key file ``~/.config/marketing/pseudonym.key``.
A missing key file is created on first use with :mod:`secrets` (256 random bits), owner-only
permissions (``0600``) in an owner-only folder (``0700``). A key file inside the repository
is refused: a key committed with the reports would undo the pseudonymization. Keep the key
to re-identify a pseudonym (by pseudonymizing the candidate ids again), lose it to make the
pseudonyms unlinkable for good.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from marketing.columns import CUSTOMER

KEY_ENV = "MARKETING_PSEUDONYM_KEY"
KEY_FILE_ENV = "MARKETING_PSEUDONYM_KEY_FILE"
DEFAULT_MIN_SIZE = 10
CRM_SUFFIX = "_crm_real_ids"
_REPO_ROOT = Path(__file__).resolve().parents[1]


def default_key_file() -> Path:
    """The default pseudonym key file, ``~/.config/marketing/pseudonym.key``.

    Examples
    --------
    >>> default_key_file().name
    'pseudonym.key'
    """
    return Path.home() / ".config" / "marketing" / "pseudonym.key"


def _inside_repository(path: Path) -> Path | None:
    """The repository root ``path`` lies in (this package's, or any git work tree), else None."""
    path = path.expanduser().resolve()
    if path.is_relative_to(_REPO_ROOT):
        return _REPO_ROOT
    for parent in path.parents:
        if (parent / ".git").exists():
            return parent
    return None


def pseudonym_key(key: str | bytes | None = None) -> bytes:
    """Return the pseudonym key, creating the default key file on first use.

    Parameters
    ----------
    key : str or bytes, optional
        An explicit key. By default: ``$MARKETING_PSEUDONYM_KEY``, else the key file
        ``$MARKETING_PSEUDONYM_KEY_FILE``, else ``~/.config/marketing/pseudonym.key``.

    Raises
    ------
    ValueError
        An empty key, or a key file inside a repository (where it could be committed).

    Examples
    --------
    >>> pseudonym_key("my secret")
    b'my secret'
    """
    if key is None:
        key = os.environ.get(KEY_ENV) or None
    if key is not None:
        raw = key.encode() if isinstance(key, str) else bytes(key)
        if not raw.strip():
            raise ValueError(f"the pseudonym key is empty; set {KEY_ENV} or pass a non-empty key.")
        return raw
    path = Path(os.environ.get(KEY_FILE_ENV) or default_key_file()).expanduser()
    repo = _inside_repository(path)
    if repo is not None:
        raise ValueError(
            f"pseudonym key file {path} lies inside the repository {repo}, where it could be "
            f"committed and published with the reports. Point {KEY_FILE_ENV} at a file outside "
            f"it (the default is {default_key_file()}), or set {KEY_ENV}."
        )
    if not path.exists():
        _create_key_file(path)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        warnings.warn(
            f"pseudonym key file {path} is readable by other users (mode {mode:o}); "
            f"restrict it with `chmod 600 {path}`.",
            UserWarning,
            stacklevel=2,
        )
    raw = path.read_bytes().strip()
    if not raw:
        raise ValueError(f"pseudonym key file {path} is empty; delete it to have a new key created.")
    return raw


def _create_key_file(path: Path) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # O_EXCL: two processes starting at once must not overwrite each other's key
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(32) + "\n")


def _id_text(ids: pd.Series) -> pd.Series:
    """Ids as text; integral floats (ids read from a file with gaps) print as integers."""
    if pd.api.types.is_float_dtype(ids):
        values = ids.dropna()
        if (values == np.floor(values)).all():
            ids = ids.astype("Int64")
    return ids.astype("str")


def pseudonymize(
    ids: Iterable | pd.Series,
    key: str | bytes | None = None,
    *,
    prefix: str = "c_",
    length: int = 12,
) -> pd.Series:
    """Replace ids by keyed-hash pseudonyms: ``prefix`` + the first ``length`` hex digits of
    HMAC-SHA256(key, id).

    The same id and key always give the same pseudonym; another key gives unrelated ones, and
    without the key a pseudonym cannot be traced back, even by hashing every possible id. The
    key is never stored in the repository (see :func:`pseudonym_key` and the module docstring).
    Ids are hashed by their text, so ``5`` and ``"5"`` (and ``5.0`` from a file with missing
    ids) share a pseudonym. Missing ids stay missing.

    Parameters
    ----------
    ids : array-like or Series
        The identifiers. A Series keeps its index and name.
    key : str or bytes, optional
        The secret key; by default from :func:`pseudonym_key`.
    prefix : str
        Marks the value as a pseudonym (``"c_"`` for customers).
    length : int
        Hex digits kept, 8 to 64. Twelve (48 bits) keep a million ids collision-free with
        probability 99.8%; a collision raises, asking for a longer one.

    Returns
    -------
    Series of str

    Raises
    ------
    ValueError
        A ``length`` out of range, or two ids that received the same pseudonym.

    Examples
    --------
    >>> pseudonymize([101, 102, 101], key="k").tolist()
    ['c_bbfd0497bfad', 'c_329c030801d7', 'c_bbfd0497bfad']
    >>> pseudonymize([101], key="another key").tolist()
    ['c_77d57923b8b0']
    """
    if not isinstance(length, int | np.integer) or not 8 <= length <= 64:
        raise ValueError(f"length must be an integer from 8 to 64 hex digits, not {length!r}.")
    secret = pseudonym_key(key)
    series = ids if isinstance(ids, pd.Series) else pd.Series(list(ids))
    present = series.notna()
    text = _id_text(series[present])
    # one HMAC per distinct id, not per row: reports repeat customers
    codes, uniques = pd.factorize(text)
    digests = np.array(
        [prefix + hmac.new(secret, u.encode(), hashlib.sha256).hexdigest()[:length] for u in uniques],
        dtype=object,
    )
    if len(set(digests)) < len(uniques):
        raise ValueError(
            f"two of {len(uniques)} ids received the same {length}-digit pseudonym; "
            "pass a larger length (for example length=16)."
        )
    out = pd.Series(pd.NA, index=series.index, dtype="str", name=series.name)
    out[present] = digests[codes]
    return out


def is_small(counts, min_size: int = DEFAULT_MIN_SIZE):
    """Where a head count describes a group too small to publish: 1 to ``min_size - 1`` people.

    The one rule of every suppression in the package. Zero is not small: an empty group
    describes nobody. Works on numbers, Series and arrays.

    Examples
    --------
    >>> is_small(pd.Series([0, 1, 9, 10]), 10).tolist()
    [False, True, True, False]
    """
    return (counts > 0) & (counts < min_size)


def small_group_label(min_size: int = DEFAULT_MIN_SIZE) -> str:
    """What a report writes in place of a small group's name or size.

    Examples
    --------
    >>> small_group_label(10)
    '<10 customers'
    """
    return f"<{min_size} customers"


@dataclass(frozen=True)
class Suppression:
    """The result of :func:`suppress_small_cells`.

    Attributes
    ----------
    table : DataFrame
        The publishable table.
    cells_suppressed : int
        How many cells were blanked or marked.
    rows_affected : int
        How many rows had at least one suppressed cell.
    min_size : int
        The minimum group size applied.
    protected : int
        How many of the suppressed cells are not small themselves but hidden so that published
        totals do not give a small one away (``protect_totals=True``).
    """

    table: pd.DataFrame
    cells_suppressed: int
    rows_affected: int
    min_size: int
    protected: int = 0

    def note(self) -> str:
        """A sentence for the report under the table."""
        if not self.cells_suppressed:
            return f"No group is smaller than {self.min_size}: nothing suppressed."
        if self.protected:
            return (
                f"{self.cells_suppressed} cell(s) in {self.rows_affected} row(s) are suppressed: "
                f"{self.cells_suppressed - self.protected} describe(s) fewer than {self.min_size} people, "
                f"{self.protected} more would reveal them through the totals."
            )
        return (
            f"{self.cells_suppressed} cell(s) in {self.rows_affected} row(s) describe fewer than "
            f"{self.min_size} people and are suppressed."
        )


def suppress_small_cells(
    table: pd.DataFrame,
    count_column: str | None = None,
    min_size: int = DEFAULT_MIN_SIZE,
    *,
    columns: list[str] | None = None,
    mark: bool = False,
    protect_totals: bool = False,
) -> Suppression:
    """Suppress the cells of a published table that describe groups smaller than ``min_size``.

    Two table shapes are handled:

    - **Profiles** (``count_column`` given): one row per group with its size in
      ``count_column`` and statistics about the group in other columns (mean spend, share
      churned, ...). In a row whose size is from 1 to ``min_size - 1``, the size and every
      statistic in ``columns`` (default: all columns except the first non-numeric labels)
      are suppressed.
    - **Counts** (``count_column=None``): every cell of ``columns`` (default: the numeric
      columns) is itself a head count, as in a crosstab of segment by region; each count from
      1 to ``min_size - 1`` is suppressed.

    Zero counts are kept: an empty group describes nobody (:func:`is_small` is the rule).
    Suppressed cells become missing (numeric columns become float), or with ``mark=True`` the
    text ``"<min_size"`` (such columns become object dtype). By default this is primary
    suppression only: a table whose row or column totals are published elsewhere (a cross-tab
    of segments whose sizes a summary shows) may let a reader recover a suppressed count by
    subtraction. For a counts table, ``protect_totals=True`` then also hides, in every row and
    column left with exactly one suppressed cell, its smallest other non-zero count, until no
    row or column has a single one (a simple complementary suppression, not an optimal one).

    Parameters
    ----------
    table : DataFrame
        The table to publish; not modified.
    count_column : str, optional
        The column holding each row's group size.
    min_size : int, default 10
        The smallest group that may be described.
    columns : list of str, optional
        The columns to suppress (see above for the defaults).
    mark : bool, default False
        Write ``"<min_size"`` instead of leaving the cell empty.
    protect_totals : bool, default False
        Counts tables only: hide more cells so that published row and column totals do not
        reveal a suppressed count (see above).

    Returns
    -------
    Suppression
        The table and how many cells were suppressed.

    Raises
    ------
    ValueError
        ``min_size`` below 1, an unknown column, or a count column that is not numeric.

    Examples
    --------
    >>> profile = pd.DataFrame({"segment": ["loyal", "rare"], "n_customers": [120, 4],
    ...                         "mean_spend": [81.5, 310.0]})
    >>> result = suppress_small_cells(profile, "n_customers", mark=True)
    >>> result.table
      segment n_customers mean_spend
    0   loyal         120       81.5
    1    rare         <10        <10
    >>> result.cells_suppressed
    2

    A cross-tab whose row and column totals are published elsewhere: hiding the 3 alone would
    not do (it is the north total minus 25), so three more cells go:

    >>> crosstab = pd.DataFrame({"north": [25, 3], "south": [12, 40], "east": [30, 20]},
    ...                         index=["loyal", "rare"])
    >>> result = suppress_small_cells(crosstab, protect_totals=True)
    >>> print(result.table)
           north  south  east
    loyal    NaN     12   NaN
    rare     NaN     40   NaN
    >>> result.note()
    '4 cell(s) in 2 row(s) are suppressed: 1 describe(s) fewer than 10 people, 3 more would reveal them through the totals.'
    """
    if not isinstance(min_size, int | np.integer) or min_size < 1:
        raise ValueError(f"min_size must be a whole number of people, at least 1, not {min_size!r}.")
    unknown = [c for c in [count_column, *(columns or [])] if c is not None and c not in table]
    if unknown:
        raise ValueError(f"suppress_small_cells: column(s) {unknown} not in the table; it has {list(table.columns)}.")
    if protect_totals and count_column is not None:
        raise ValueError("suppress_small_cells: protect_totals applies to a counts table (count_column=None).")
    if count_column is not None:
        if not pd.api.types.is_numeric_dtype(table[count_column]):
            raise ValueError(
                f"suppress_small_cells: count column '{count_column}' must hold numbers of people "
                f"but has dtype {table[count_column].dtype}."
            )
        small = is_small(table[count_column], min_size)
        if columns is None:
            columns = _described_columns(table, count_column)
        elif count_column not in columns:
            columns = [count_column, *columns]
        masks = {c: small for c in columns}
    else:
        if columns is None:
            columns = [c for c in table.columns if pd.api.types.is_numeric_dtype(table[c])]
        not_numeric = [c for c in columns if not pd.api.types.is_numeric_dtype(table[c])]
        if not_numeric:
            raise ValueError(f"suppress_small_cells: count column(s) {not_numeric} are not numeric.")
        masks = {c: is_small(table[c], min_size) for c in columns}
    protected = 0
    if protect_totals and masks:
        masks, protected = _protect_totals(table[columns], pd.DataFrame(masks))
    updated = {}
    for column, mask in masks.items():
        if not mask.any():
            continue
        if mark:
            updated[column] = table[column].astype(object).where(~mask, f"<{min_size}")
        elif pd.api.types.is_numeric_dtype(table[column]):
            updated[column] = table[column].astype("float64").where(~mask)
        else:  # a label describing the group (a segment's name): missing, in its own dtype
            updated[column] = table[column].where(~mask)
    cells = int(sum(int(m.sum()) for m in masks.values()))
    rows = int(pd.concat(list(masks.values()), axis=1).any(axis=1).sum()) if masks else 0
    return Suppression(table.assign(**updated) if updated else table.copy(), cells, rows, int(min_size), protected)


def _protect_totals(counts: pd.DataFrame, masks: pd.DataFrame) -> tuple[dict[str, pd.Series], int]:
    """Grow the suppression ``masks`` until no row or column of ``counts`` has exactly one suppressed cell."""
    values, hidden = counts.to_numpy(dtype=float), masks.to_numpy(dtype=bool).copy()
    added = 0
    changed = True
    while changed:
        changed = False
        for lines_of_values, lines_hidden in ((values, hidden), (values.T, hidden.T)):  # rows, then columns
            for line, line_hidden in zip(lines_of_values, lines_hidden):  # a view: writes reach `hidden`
                if line_hidden.sum() != 1:
                    continue
                candidates = np.flatnonzero(~line_hidden & (line > 0))
                if len(candidates):
                    line_hidden[candidates[np.argmin(line[candidates])]] = True
                    added += 1
                    changed = True
    grown = pd.DataFrame(hidden, index=masks.index, columns=masks.columns)
    return {c: grown[c] for c in grown.columns}, added


def _described_columns(table: pd.DataFrame, count_column: str) -> list[str]:
    """All columns but the leading labels (text or categorical columns before the first number)."""
    labels = []
    for column in table.columns:
        if column == count_column or pd.api.types.is_numeric_dtype(table[column]):
            break
        labels.append(column)
    return [c for c in table.columns if c not in labels]


def report_ids(frame: pd.DataFrame, case, key: str | bytes | None = None) -> pd.DataFrame:
    """A copy of ``frame`` fit for a report: the customer id and the case's personal columns
    replaced by pseudonyms (see :func:`pseudonymize`).

    Columns and index levels named ``customer_id`` or listed in the case's
    ``personal_columns`` are replaced; the customer id gets the prefix ``c_``, other personal
    columns ``p_``. Names missing from ``frame`` are skipped, so any table can go through.
    ``personal_columns`` should list direct identifiers (names, e-mails, phone numbers,
    account numbers); indirect ones (age, postcode) are protected by
    :func:`suppress_small_cells` in group tables instead.

    Parameters
    ----------
    frame : DataFrame
    case : str or CaseStudy
        The case, for its ``personal_columns``.
    key : str or bytes, optional
        The pseudonym key; by default from :func:`pseudonym_key`.

    Examples
    --------
    >>> top = pd.DataFrame({"customer_id": [7, 9], "spend": [120.0, 95.5]})
    >>> report_ids(top, "ecommerce", key="k")
          customer_id  spend
    0  c_9c737d163bcd  120.0
    1  c_c633b5bcbc60   95.5
    """
    from marketing.cases import get_case

    case = get_case(case)
    personal = dict.fromkeys([CUSTOMER, *case.personal_columns])
    secret = pseudonym_key(key)

    def prefix(name) -> str:
        return "c_" if name == CUSTOMER else "p_"

    replaced = {
        c: pseudonymize(frame[c], secret, prefix=prefix(c)) for c in frame.columns if c in personal
    }
    out = frame.assign(**replaced) if replaced else frame.copy()
    names = list(out.index.names)
    if any(n in personal for n in names):
        levels = [
            pd.Index(pseudonymize(pd.Series(out.index.get_level_values(i)), secret, prefix=prefix(n)), name=n)
            if n in personal
            else out.index.get_level_values(i)
            for i, n in enumerate(names)
        ]
        out.index = levels[0] if len(levels) == 1 else pd.MultiIndex.from_arrays(levels)
    return out


def crm_export_path(folder: str | Path, stem: str, suffix: str = ".csv") -> Path:
    """The path of an export for the CRM, which keeps real customer ids and says so in its name.

    Convention: ``<folder>/<stem>_crm_real_ids<suffix>``. Files with ``_crm_real_ids`` in their
    name are for loading into the CRM only: never attach them to a report, commit them, or
    share them outside the team allowed to see customer ids. Everything else a notebook writes
    uses pseudonyms (:func:`report_ids`).

    Parameters
    ----------
    folder : str or Path
        Where the export goes (the notebook's ``export_dir``); not created here.
    stem : str
        What the file holds, e.g. ``"segment_audience"``.
    suffix : str, default ".csv"

    Raises
    ------
    ValueError
        An empty stem, or one containing a path separator.

    Examples
    --------
    >>> crm_export_path("exports", "segment_audience").as_posix()
    'exports/segment_audience_crm_real_ids.csv'
    """
    stem = str(stem)
    if not stem or "/" in stem or "\\" in stem or stem in (".", ".."):
        raise ValueError(f"stem must be a plain file-name stem such as 'segment_audience', not {stem!r}.")
    if not suffix.startswith("."):
        raise ValueError(f"suffix must start with a dot, like '.csv', not {suffix!r}.")
    stem = stem.removesuffix(CRM_SUFFIX)
    return Path(folder) / f"{stem}{CRM_SUFFIX}{suffix}"


def write_crm_export(frame, folder: str | Path, stem: str) -> Path | str:
    """Write ``frame`` as CSV to :func:`crm_export_path` (creating ``folder``); return the path.

    The path is a :class:`~pathlib.Path`, or the URI as a string where Spark wrote to one.

    One export for every engine. A pandas frame becomes one CSV file. A Spark DataFrame is
    written by Spark as a folder of that name holding CSV part files (a header each); ``folder``
    may then also be any URI Spark can write (``hdfs://``, ``s3a://``, ...). An earlier export at
    the path, of either kind, is replaced. :func:`export_note` says what was written.

    The export is written under a hidden temporary name in ``folder`` and then renamed
    (:mod:`marketing.exports`), so the CRM never reads half a file; during a report build it is
    renamed only once the report has succeeded, so a failed run leaves the last good report's
    export in place. A Spark export to a URI is the exception: Spark overwrites it directly
    (a rename would need the remote file system's own tools).

    Examples
    --------
    >>> import tempfile
    >>> path = write_crm_export(pd.DataFrame({"customer_id": [7]}), tempfile.mkdtemp(), "audience")
    >>> path.name, path.read_text().splitlines()
    ('audience_crm_real_ids.csv', ['customer_id', '7'])
    >>> sorted(p.name for p in path.parent.iterdir())  # no temporary file left
    ['audience_crm_real_ids.csv']
    """
    from marketing.engines import engine_of
    from marketing.exports import publish, temporary_path

    name = crm_export_path("", stem).name
    if engine_of(frame) == "spark":
        target = str(folder)
        if "://" in target:
            path = f"{target.rstrip('/')}/{name}"
            frame.write.mode("overwrite").option("header", True).csv(path)
            return path
        # the Spark driver writes where the notebook runs: a folder of part files, renamed when complete
        path = Path(target).expanduser().resolve() / name
        path.parent.mkdir(parents=True, exist_ok=True)
        written = temporary_path(path)
        frame.write.mode("overwrite").option("header", True).csv(str(written))
        return publish(written, path)
    path = Path(folder) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    written = temporary_path(path)
    try:
        frame.to_csv(written, index=False)
    except BaseException:
        written.unlink(missing_ok=True)
        raise
    return publish(written, path)


def export_note(path: Path | str, frame) -> str:
    """One sentence on what :func:`write_crm_export` wrote: rows, customers and where.

    Examples
    --------
    >>> frame = pd.DataFrame({"customer_id": [7, 7, 8], "rank": [1, 2, 1]})
    >>> export_note("out/list_crm_real_ids.csv", frame)
    'wrote 3 rows for 2 customers to list_crm_real_ids.csv'
    """
    from marketing.engines import engine_of

    name = str(path).rstrip("/").rsplit("/", 1)[-1]
    if engine_of(frame) == "spark":
        rows, customers = frame.count(), frame.select(CUSTOMER).distinct().count()
        where = f"{name}/ (a folder of CSV part files, written by Spark)"
    else:
        rows, customers = len(frame), frame[CUSTOMER].nunique()
        where = name
    return f"wrote {rows:,} rows for {customers:,} customers to {where}"


def publishable(frame: pd.DataFrame, data, key: str | bytes | None = None) -> pd.DataFrame:
    """``frame`` as a report may show it: ids pseudonymized with :func:`report_ids`, except on
    synthetic data.

    Generated ids identify no one, and keeping them as they are lets the committed synthetic
    reports reproduce on any machine (a pseudonym depends on each machine's key). ``data`` is
    the :class:`marketing.datasets.CaseData` the table comes from.

    Examples
    --------
    >>> from marketing import load_case_data
    >>> data = load_case_data("health")
    >>> publishable(pd.DataFrame({"customer_id": [3]}), data)["customer_id"].tolist()
    [3]
    """
    if data.source.startswith("synthetic:"):
        return frame
    return report_ids(frame, data.case, key=key)
