"""Adapters: each public dataset's raw file(s) to its case's canonical tables, cleaned and counted.

Every adapter returns :class:`PublicData`: the canonical ``customers``, ``items`` and ``events``
tables (names from :mod:`marketing.columns`), a :class:`~marketing.validation.CleaningReport`
with every removal counted by reason, the values recoded to missing (``recoded``), the targets,
the leakage columns with their reasons and the analyses the dataset supports. data/README.md is
the datasheet of each dataset: read it beside the adapter.

Ids are int64 like the synthetic data's. Datasets without an event log (Bank Marketing, Student
Performance, insurance) get a small table that keeps the shapes (holdings, subjects, none) and
do not support the recommendation analysis.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from marketing.columns import AMOUNT, CUSTOMER, ITEM, ORDER, QUANTITY, RATING, TIMESTAMP
from marketing.datasets.public import fetch, get_dataset, sha256_file
from marketing.features import split_windows
from marketing.validation import CleaningReport, DataValidationError, drop_rows, require_columns

#: Length of the label window of the Online Retail II targets, in days.
LABEL_DAYS = 90


@dataclass(frozen=True)
class PublicData:
    """A public dataset in canonical form.

    Attributes
    ----------
    name : str
        The registry key (:data:`marketing.datasets.public.DATASETS`).
    tables : dict of str to DataFrame
        ``customers``, ``items`` and ``events`` with canonical column names.
    cleaning : CleaningReport
        Rows removed, by table and reason. Values recoded to missing are listed with 0 rows
        removed and the count in the reason; ``recoded`` has them as numbers.
    recoded : DataFrame
        ``table``, ``column``, ``change``, ``values``: values set to missing, rows kept.
    observation_end : Timestamp
        Features use events before it (see each adapter for how it is chosen).
    targets : dict of str to str or None
        ``"continuous"`` and ``"binary"`` target columns of ``customers`` (None: not available).
    leakage : dict of str to str
        Columns a model must not see, with the reason.
    analyses : tuple of str
        The analyses the dataset supports.
    source : str
        Dataset name and the SHA-256 of the file(s) read.
    """

    name: str
    tables: dict[str, pd.DataFrame]
    cleaning: CleaningReport
    recoded: pd.DataFrame
    observation_end: pd.Timestamp
    targets: dict[str, str | None]
    leakage: dict[str, str]
    analyses: tuple[str, ...]
    source: str
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def customers(self) -> pd.DataFrame:
        return self.tables["customers"]

    @property
    def items(self) -> pd.DataFrame:
        return self.tables["items"]

    @property
    def events(self) -> pd.DataFrame:
        return self.tables["events"]


def _source(name: str, paths: dict[str, Path]) -> str:
    digests = ", ".join(f"{p.name} sha256 {sha256_file(p)[:12]}" for p in paths.values())
    return f"public:{name} ({digests})"


def _recoded_frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["table", "column", "change", "values"]).astype({"values": "int64"})


def _empty_items() -> pd.DataFrame:
    return pd.DataFrame(
        {ITEM: pd.Series(dtype="int64"), "name": pd.Series(dtype="str"), "category": pd.Series(dtype="str")}
    )


def _empty_events() -> pd.DataFrame:
    return pd.DataFrame(
        {
            CUSTOMER: pd.Series(dtype="int64"),
            ITEM: pd.Series(dtype="int64"),
            TIMESTAMP: pd.Series(dtype="datetime64[ns]"),
            AMOUNT: pd.Series(dtype="float64"),
        }
    )


def _read_csv(path: Path, table: str, sep: str, columns: list[str], **kwargs) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, sep=sep, **kwargs)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as error:
        raise DataValidationError(
            f"could not read {path} ({table}): {error}. Fetch it again with "
            "marketing.datasets.public.fetch, which verifies its checksum."
        ) from error
    require_columns(frame, columns, table, str(path))
    return frame


# ---------------------------------------------------------------------------- Online Retail II

#: Stock codes that are products: five digits with an optional letter suffix (85123A), and the
#: web shop's own merchandise (DCGS0058, SP1002). Everything else is postage (POST, DOT, C2),
#: manual entries (M), discounts (D), adjustments (ADJUST, B), fees (BANK CHARGES, AMAZONFEE),
#: samples (S), vouchers (gift_0001_*), test lines (TEST001) or padding (PADS).
PRODUCT_CODE = r"\d{5}[A-Za-z]{0,3}|(?:DCGS|SP)\d{4}[A-Za-z]?"

RETAIL_RAW = ["Invoice", "StockCode", "Description", "Quantity", "InvoiceDate", "Price", "Customer ID", "Country"]


def adapt_online_retail_ii(path: str | os.PathLike, label_days: int = LABEL_DAYS) -> PublicData:
    """Online Retail II (sheet "Year 2009-2010") as e-commerce tables with 90-day targets.

    Cleaning, in this order, each step counted in the report (table ``transactions``):

    1. cancellations: ``Invoice`` starting with "C";
    2. lines without a ``Customer ID`` (they cannot be attributed to anyone);
    3. other lines with zero or negative ``Quantity`` (stock write-offs and corrections);
    4. non-product stock codes: a code is a product when it matches :data:`PRODUCT_CODE`;
    5. zero or negative ``Price`` (free samples, bad-debt adjustments);
    6. exact duplicate lines (same invoice, code, quantity, time, price and customer: a
       duplicated record, since two scans of one item would be one line with a higher quantity).

    The observation end is chosen so that the targets are real outcomes: the data end on the day
    after the last invoice (``end``); the observation end (the cutoff) is ``label_days`` before
    ``end``. Features (the customers' history) come only from lines before the cutoff, and the
    targets from the label window ``[cutoff, end)`` through :func:`marketing.features.split_windows`:
    ``spend_next_90d`` (revenue in the window, 0 when none) and ``churned_next_90d`` (1 when no
    purchase in it). Customers whose first purchase falls in the label window have no history to
    predict from: they and their lines are removed, and counted.

    Canonical tables: ``customers`` (``customer_id``, ``country``, ``signup_date`` = first
    purchase, the two targets); ``items`` (``item_id`` numbering the stock codes in sorted order,
    ``stock_code``, ``name`` = the code's most frequent description, ``category`` = the last word
    of the name, which in this shop's naming is the product noun: "HOLDER", "MUG", "BAG", and
    ``price`` = the median unit price); ``events`` (``order_id`` = invoice number,
    ``customer_id``, ``item_id``, ``timestamp``, ``quantity``, ``amount`` = quantity x price).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> lines = pd.DataFrame({
    ...     "Invoice": ["1", "1", "C2", "3", "4"], "StockCode": ["10001", "POST", "10001", "10002", "10001"],
    ...     "Description": ["RED MUG", "POSTAGE", "RED MUG", "BLUE BAG", "RED MUG"],
    ...     "Quantity": [2, 1, -2, 1, 3], "Price": [1.5, 18.0, 1.5, 4.0, 1.5],
    ...     "InvoiceDate": ["2010-01-05 10:00", "2010-01-05 10:00", "2010-01-06 09:00",
    ...                     "2010-02-01 12:00", "2010-06-01 12:00"],
    ...     "Customer ID": [12345.0, 12345.0, 12345.0, 12346.0, 12345.0], "Country": ["France"] * 5})
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "retail.parquet"
    >>> lines.to_parquet(path)
    >>> data = adapt_online_retail_ii(path)
    >>> data.customers[["customer_id", "spend_next_90d", "churned_next_90d"]]
       customer_id  spend_next_90d  churned_next_90d
    0        12345             4.5                 0
    1        12346             0.0                 1
    """
    path = Path(path)
    table = "transactions"
    try:
        raw = pd.read_parquet(path)
    except (OSError, ValueError) as error:
        raise DataValidationError(f"could not read {path} as Parquet ({error}). Fetch it again.") from error
    require_columns(raw, RETAIL_RAW, table, str(path))
    report = CleaningReport()
    lines = raw[RETAIL_RAW]
    invoice = lines["Invoice"].astype("str").str.strip()
    lines = lines.assign(Invoice=invoice, StockCode=lines["StockCode"].astype("str").str.strip())
    lines = drop_rows(lines, lines["Invoice"].str.startswith("C"), table, "cancellations (Invoice starting with 'C')", report)
    lines = drop_rows(lines, lines["Customer ID"].isna(), table, "missing customer id", report)
    lines = drop_rows(lines, lines["Quantity"] <= 0, table, "zero or negative quantity (not a cancellation)", report)
    product = lines["StockCode"].str.fullmatch(PRODUCT_CODE)
    lines = drop_rows(lines, ~product, table, "non-product stock code (postage, fees, adjustments, vouchers, tests)", report)
    lines = drop_rows(lines, lines["Price"] <= 0, table, "zero or negative price", report)
    lines = drop_rows(lines, lines.duplicated(keep="first"), table, "exact duplicate line", report)
    if len(lines) == 0:
        raise DataValidationError(f"{path}: no purchase lines are left after cleaning; see the report: {report.steps}")

    timestamp = pd.to_datetime(lines["InvoiceDate"], format="mixed")
    codes = np.sort(lines["StockCode"].unique())
    item_of = pd.Series(np.arange(1, len(codes) + 1, dtype="int64"), index=codes)
    order = pd.to_numeric(lines["Invoice"], errors="coerce")
    if order.isna().any():
        # keep the invoice identity even if the source ever uses letters in it
        order = pd.Series(pd.factorize(lines["Invoice"], sort=True)[0] + 1, index=lines.index)
    events = pd.DataFrame(
        {
            ORDER: order.astype("int64"),
            CUSTOMER: lines["Customer ID"].astype("int64"),
            ITEM: item_of.loc[lines["StockCode"]].to_numpy(),
            TIMESTAMP: timestamp.astype("datetime64[ns]"),
            QUANTITY: lines["Quantity"].astype("int64"),
            AMOUNT: (lines["Quantity"] * lines["Price"]).astype("float64"),
        }
    ).sort_values([TIMESTAMP, ORDER, ITEM], kind="stable").reset_index(drop=True)

    end = events[TIMESTAMP].max().normalize() + pd.Timedelta(days=1)
    cutoff = end - pd.Timedelta(days=label_days)
    first = events.groupby(CUSTOMER)[TIMESTAMP].min()
    newcomers = first.index[first >= cutoff]
    events = drop_rows(
        events, events[CUSTOMER].isin(newcomers), "events",
        f"customers first seen in the label window (from {cutoff.date()}): no history to predict from", report,
    ).reset_index(drop=True)
    report.add("customers", f"customers first seen in the label window (from {cutoff.date()})", len(newcomers), len(first))

    features, labels = split_windows(events, cutoff, label_days=label_days)
    # a customer's country is the one on most of their lines (ties: alphabetical)
    country = (
        lines.assign(customer_id=lines["Customer ID"].astype("int64"))
        .groupby(["customer_id", "Country"]).size().rename("n").reset_index()
        .sort_values(["customer_id", "n", "Country"], ascending=[True, False, True])
        .drop_duplicates("customer_id").set_index("customer_id")["Country"]
    )
    customers = pd.DataFrame(
        {
            "country": country.reindex(features.index).astype("str"),
            "signup_date": first.reindex(features.index),
            "spend_next_90d": labels["spend_next"],
            "churned_next_90d": labels["churned"].astype("int64"),
        }
    ).rename_axis(CUSTOMER).reset_index()

    described = lines.assign(item_id=item_of.loc[lines["StockCode"]].to_numpy())
    names = (
        described.dropna(subset=["Description"])
        .assign(Description=lambda d: d["Description"].str.strip())
        .groupby(["item_id", "Description"]).size().rename("n").reset_index()
        .sort_values(["item_id", "n", "Description"], ascending=[True, False, True])
        .drop_duplicates("item_id").set_index("item_id")["Description"]
    )
    items = pd.DataFrame({ITEM: item_of.to_numpy(), "stock_code": item_of.index.astype("str")})
    items["name"] = names.reindex(items[ITEM]).to_numpy()
    items["category"] = items["name"].str.split().str[-1].str.lower().astype("str")
    items["price"] = described.groupby("item_id")["Price"].median().reindex(items[ITEM]).to_numpy()

    return PublicData(
        name="online_retail_ii",
        tables={"customers": customers, "items": items, "events": events},
        cleaning=report,
        recoded=_recoded_frame([]),
        observation_end=cutoff,
        targets={"continuous": "spend_next_90d", "binary": "churned_next_90d"},
        leakage={
            "spend_next_90d": "revenue in the label window after the observation end: a target",
            "churned_next_90d": "no purchase in the label window after the observation end: a target",
        },
        analyses=get_dataset("online_retail_ii").analyses,
        source=_source("online_retail_ii", {"file": path}),
        notes=(
            f"observation end {cutoff.date()} = {label_days} days before the end of the data ({end.date()}); "
            "the label window covers the Christmas season, so spend in it is seasonal.",
        ),
    )


# ------------------------------------------------------------------------------ Bank Marketing

BANK_ATTRIBUTES = [
    "age", "job", "marital", "education", "default", "balance", "housing", "loan", "contact",
    "day", "month", "duration", "campaign", "pdays", "previous", "poutcome",
]
#: Products in the bank's catalogue; events hold only the two loans (see adapt_bank_marketing).
BANK_PRODUCTS = {1: ("housing loan", "loans"), 2: ("personal loan", "loans"), 3: ("term deposit", "savings")}
#: The data cover May 2008 to November 2010 but give no year per call: holdings are a snapshot.
BANK_SNAPSHOT = pd.Timestamp("2010-11-30")


def adapt_bank_marketing(path: str | os.PathLike) -> PublicData:
    """Bank Marketing (bank-full.csv, ``;``-separated) as finance tables.

    - ``customers``: one row per call record (``customer_id`` = row number in the file, from
      1: the data have no client id), with the attributes as in the file, ``previously_contacted``
      (1 when ``pdays`` is not -1) and the binary target ``campaign_response`` (``y``: yes -> 1).
    - The string "unknown" becomes missing in every text column, rows kept, counted per column;
      ``pdays`` = -1 ("not contacted before") becomes missing, counted, with the flag above.
    - ``duration`` (of the call, in seconds) is kept but listed as leakage: it is known only after
      the call has ended, when the outcome is known too (a call of 0 s always ends in "no").
    - No continuous target exists in the data.
    - ``events``: the loans each client holds (housing loan, personal loan) dated
      :data:`BANK_SNAPSHOT`, amount 1. The term deposit is in ``items`` but not in ``events``:
      holding it is the campaign's outcome, so it would leak the target into the features.
      Recommendation does not apply (two products).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "bank-full.csv"
    >>> _ = path.write_text(
    ...     '"age";"job";"marital";"education";"default";"balance";"housing";"loan";"contact";"day";'
    ...     '"month";"duration";"campaign";"pdays";"previous";"poutcome";"y"\\n'
    ...     '58;"management";"married";"tertiary";"no";2143;"yes";"no";"unknown";5;"may";261;1;-1;0;"unknown";"no"\\n'
    ...     '44;"unknown";"single";"secondary";"no";29;"yes";"yes";"cellular";5;"may";151;1;90;2;"success";"yes"\\n')
    >>> data = adapt_bank_marketing(path)
    >>> data.customers[["customer_id", "job", "pdays", "previously_contacted", "campaign_response"]]
       customer_id         job  pdays  previously_contacted  campaign_response
    0            1  management    <NA>                     0                  0
    1            2         NaN    90                     1                  1
    >>> data.recoded.loc[data.recoded["values"] > 0, ["column", "values"]].to_dict("list")
    {'column': ['job', 'contact', 'poutcome', 'pdays'], 'values': [1, 1, 1, 1]}
    """
    path = Path(path)
    raw = _read_csv(path, "bank-full", ";", BANK_ATTRIBUTES + ["y"])
    report = CleaningReport()
    recoded: list[dict] = []
    customers = raw[BANK_ATTRIBUTES].copy()
    for column in BANK_ATTRIBUTES:
        if pd.api.types.is_numeric_dtype(customers[column]):
            continue
        unknown = customers[column] == "unknown"
        if not unknown.any():
            continue
        recoded.append({"table": "customers", "column": column, "change": "'unknown' -> missing", "values": int(unknown.sum())})
        customers[column] = customers[column].where(~unknown)
    never = customers["pdays"] == -1
    recoded.append({"table": "customers", "column": "pdays", "change": "-1 (not contacted before) -> missing", "values": int(never.sum())})
    customers["pdays"] = customers["pdays"].astype("Int64").where(~never)
    customers["previously_contacted"] = (~never).astype("int64")
    y = raw["y"].astype("str").str.strip()
    bad = ~y.isin(["yes", "no"])
    if bad.any():
        raise DataValidationError(
            f"{path}: column 'y' must be 'yes' or 'no' but row {int(np.flatnonzero(bad)[0]) + 2} "
            f"holds {y[bad].iloc[0]!r}. Fetch the file again."
        )
    customers["campaign_response"] = (y == "yes").astype("int64")
    customers.insert(0, CUSTOMER, np.arange(1, len(customers) + 1, dtype="int64"))
    for row in recoded:
        report.add(row["table"], f"{row['change']} in '{row['column']}': {row['values']} value(s), rows kept", 0, len(customers))

    holdings = [
        pd.DataFrame({CUSTOMER: customers.loc[customers[column] == "yes", CUSTOMER], ITEM: item})
        for column, item in (("housing", 1), ("loan", 2))
    ]
    events = pd.concat(holdings, ignore_index=True).sort_values([CUSTOMER, ITEM], kind="stable").reset_index(drop=True)
    events[TIMESTAMP] = pd.Series(BANK_SNAPSHOT, index=events.index, dtype="datetime64[ns]")
    events[AMOUNT] = 1.0
    items = pd.DataFrame(
        {
            ITEM: np.array(list(BANK_PRODUCTS), dtype="int64"),
            "name": [v[0] for v in BANK_PRODUCTS.values()],
            "category": [v[1] for v in BANK_PRODUCTS.values()],
        }
    )
    return PublicData(
        name="bank_marketing",
        tables={"customers": customers, "items": items, "events": events},
        cleaning=report,
        recoded=_recoded_frame(recoded),
        observation_end=BANK_SNAPSHOT + pd.Timedelta(days=1),
        targets={"continuous": None, "binary": "campaign_response"},
        leakage={
            "duration": "only known after the call has ended, when its outcome is known too "
            "(a 0-second call always ends in 'no'); keep it out of any model used to choose whom to call",
            "campaign_response": "the outcome of the campaign call: the target",
        },
        analyses=get_dataset("bank_marketing").analyses,
        source=_source("bank_marketing", {"file": path}),
        notes=("one row per call record; the data have no client id, so a client called in two campaigns appears twice",),
    )


# ------------------------------------------------------------------------- Student Performance

STUDENT_COLUMNS = [
    "school", "sex", "age", "address", "famsize", "Pstatus", "Medu", "Fedu", "Mjob", "Fjob", "reason",
    "guardian", "traveltime", "studytime", "failures", "schoolsup", "famsup", "paid", "activities",
    "nursery", "higher", "internet", "romantic", "famrel", "freetime", "goout", "Dalc", "Walc",
    "health", "absences", "G1", "G2", "G3",
]
#: Subject code (the first digit of the customer id), file and item name.
SUBJECTS = {1: ("student-mat.csv", "mathematics"), 2: ("student-por.csv", "Portuguese language")}
#: The data are from the 2005-2006 school year; enrolments are dated at its end.
SCHOOL_YEAR_END = pd.Timestamp("2006-06-30")


def adapt_student_performance(
    paths: dict[str, str | os.PathLike], include_period_grades: bool = False
) -> PublicData:
    """Student Performance (student-mat.csv and student-por.csv) as education tables.

    - ``customers``: one row per student per subject. The files have no student id (students
      taking both subjects cannot be matched reliably), so ``customer_id`` = subject code x
      10,000 + row number in its file (1 mathematics, 2 Portuguese: 10001 is the first
      mathematics row), with ``subject`` and every column of the files.
    - Targets: ``G3`` (final grade, 0-20) is the continuous one; ``dropped_out`` = 1 when
      ``G3`` = 0, because the dataset codes students who left before the final assessment with a
      final grade of 0. Each target leaks the other, so both are listed as leakage.
    - ``G1`` and ``G2`` (first- and second-period grades) are kept but listed as leakage: with them
      predicting G3 is nearly trivial (Cortez and Silva 2008). The switch
      ``include_period_grades=True`` takes them off the leakage list, for the "with grades" task.
    - ``events``: one enrolment per row (item 1 mathematics, 2 Portuguese), dated
      :data:`SCHOOL_YEAR_END`, amount 1. There are no ratings: recommendation does not apply.
    - Nothing is removed; the report says so.

    Parameters
    ----------
    paths : dict
        ``{"student-mat.csv": path, "student-por.csv": path}`` as :func:`fetch` returns it.
    include_period_grades : bool
        Whether G1 and G2 may be used as features.
    """
    report = CleaningReport()
    frames = []
    resolved = {}
    for code, (file_name, subject) in SUBJECTS.items():
        if file_name not in paths:
            raise DataValidationError(
                f"Student Performance needs the file {file_name}; got {sorted(paths)}. "
                "Pass the dict that fetch('student_performance') returns."
            )
        path = resolved[file_name] = Path(paths[file_name])
        raw = _read_csv(path, file_name, ";", STUDENT_COLUMNS)
        for grade in ("G1", "G2", "G3"):
            raw[grade] = pd.to_numeric(raw[grade], errors="raise").astype("int64")
        frame = raw[STUDENT_COLUMNS].copy()
        frame.insert(0, "subject", subject)
        frame.insert(0, CUSTOMER, code * 10_000 + np.arange(1, len(frame) + 1, dtype="int64"))
        frames.append(frame)
        report.add("customers", f"rows of {file_name} (none removed)", 0, len(frame))
    customers = pd.concat(frames, ignore_index=True)
    customers["dropped_out"] = (customers["G3"] == 0).astype("int64")

    subject_code = {subject: code for code, (_, subject) in SUBJECTS.items()}
    events = pd.DataFrame(
        {
            CUSTOMER: customers[CUSTOMER],
            ITEM: customers["subject"].map(subject_code).astype("int64"),
            TIMESTAMP: pd.Series(SCHOOL_YEAR_END, index=customers.index, dtype="datetime64[ns]"),
            AMOUNT: 1.0,
        }
    )
    items = pd.DataFrame(
        {ITEM: np.array(list(SUBJECTS), dtype="int64"), "name": [s for _, s in SUBJECTS.values()],
         "category": "secondary school subject"}
    )
    leakage = {
        "G3": "the final grade: the continuous target, and it defines dropped_out (G3 = 0)",
        "dropped_out": "defined as G3 = 0: the binary target, and it reveals the final grade",
    }
    if not include_period_grades:
        leakage["G1"] = "first-period grade: nearly determines G3 (set include_period_grades=True to use it)"
        leakage["G2"] = "second-period grade: nearly determines G3 (set include_period_grades=True to use it)"
    return PublicData(
        name="student_performance",
        tables={"customers": customers, "items": items, "events": events},
        cleaning=report,
        recoded=_recoded_frame([]),
        observation_end=SCHOOL_YEAR_END + pd.Timedelta(days=1),
        targets={"continuous": "G3", "binary": "dropped_out"},
        leakage=leakage,
        analyses=get_dataset("student_performance").analyses,
        source=_source("student_performance", resolved),
        notes=("one row per student per subject; a student taking both subjects appears twice",),
    )


# ----------------------------------------------------------------------------------- Insurance

INSURANCE_COLUMNS = ["age", "sex", "bmi", "children", "smoker", "region", "charges"]
#: Quantile of ``charges`` above which a member is ``high_cost``.
HIGH_COST_QUANTILE = 0.75


def adapt_insurance(path: str | os.PathLike) -> PublicData:
    """The medical-cost insurance data as health tables.

    - ``customers``: one row per member (``customer_id`` = row number from 1), ``age``, ``sex``,
      ``bmi``, ``children``, ``smoker``, ``region``; continuous target ``charges``; binary target
      ``high_cost`` = 1 when ``charges`` is above its 75th percentile over the whole file.
    - ``high_cost`` is derived from ``charges``, so each leaks the other: both are listed as
      leakage (a model of one must not see the other).
    - No event log: ``items`` and ``events`` are empty tables with the canonical columns, so
      segmentation uses the attributes only and recommendation does not apply.
    - Nothing is removed (one pair of identical rows is kept: two members can share every value).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "insurance.csv"
    >>> _ = path.write_text("age,sex,bmi,children,smoker,region,charges\\n"
    ...                     "19,female,27.9,0,yes,southwest,16884.924\\n18,male,33.77,1,no,southeast,1725.5523\\n"
    ...                     "28,male,33,3,no,southeast,4449.462\\n33,male,22.705,0,no,northwest,21984.47061\\n")
    >>> adapt_insurance(path).customers[["customer_id", "charges", "high_cost"]]
       customer_id      charges  high_cost
    0            1  16884.92400          0
    1            2   1725.55230          0
    2            3   4449.46200          0
    3            4  21984.47061          1
    """
    path = Path(path)
    raw = _read_csv(path, "insurance", ",", INSURANCE_COLUMNS)
    report = CleaningReport()
    customers = raw[INSURANCE_COLUMNS].copy()
    if customers.isna().any().any():
        column = customers.columns[customers.isna().any()][0]
        raise DataValidationError(f"{path}: column '{column}' has missing values; the published file has none. Fetch it again.")
    threshold = float(np.quantile(customers["charges"], HIGH_COST_QUANTILE))
    customers["high_cost"] = (customers["charges"] > threshold).astype("int64")
    customers.insert(0, CUSTOMER, np.arange(1, len(customers) + 1, dtype="int64"))
    report.add("customers", "rows of insurance.csv (none removed)", 0, len(customers))
    return PublicData(
        name="insurance",
        tables={"customers": customers, "items": _empty_items(), "events": _empty_events()},
        cleaning=report,
        recoded=_recoded_frame([]),
        observation_end=pd.Timestamp("2013-01-01"),
        targets={"continuous": "charges", "binary": "high_cost"},
        leakage={
            "charges": "the continuous target, and it defines high_cost",
            "high_cost": f"charges above their 75th percentile ({threshold:.2f}): the binary target, derived from charges",
        },
        analyses=get_dataset("insurance").analyses,
        source=_source("insurance", {"file": path}),
        notes=("no event log: segmentation on attributes only; recommendation does not apply",),
    )


# ---------------------------------------------------------------------------- MovieLens 100K

GENRES = [
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary",
    "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi",
    "Thriller", "War", "Western",
]


def adapt_movielens_100k(paths: dict[str, str | os.PathLike]) -> PublicData:
    """MovieLens 100K (u.data, u.item, u.user) as explicit-rating tables for the recommender benchmark.

    - ``events``: one rating per row of u.data (``customer_id`` = user id, ``item_id`` = movie id,
      ``rating`` 1-5, ``timestamp`` from Unix seconds, UTC, ``amount`` = 1 per rating). Removed and
      counted: ratings outside 1-5, repeated (user, movie) pairs (the later one is kept), ratings of
      users or movies missing from u.user / u.item. The published file has none of these.
    - ``items``: ``item_id``, ``name`` (title), ``category`` (the first of the movie's genres in
      the file's genre order), ``genres`` (all, ``|``-separated), ``release_date``.
    - ``customers``: ``customer_id``, ``age``, ``gender``, ``occupation``, ``zip_code`` (personal:
      pseudonymize or drop before publishing). No targets: recommendation only.

    Parameters
    ----------
    paths : dict
        ``{"u.data": path, "u.item": path, "u.user": path}`` as :func:`fetch` returns it.
    """
    needed = ("u.data", "u.item", "u.user")
    missing = [n for n in needed if n not in paths]
    if missing:
        raise DataValidationError(
            f"MovieLens 100K needs the files {missing}; got {sorted(paths)}. Pass the dict that "
            "fetch('movielens_100k') returns."
        )
    resolved = {n: Path(paths[n]) for n in needed}
    report = CleaningReport()
    ratings = _read_csv(
        resolved["u.data"], "u.data", "\t", ["user", "item", "rating", "unix_time"],
        header=None, names=["user", "item", "rating", "unix_time"],
    )
    movies = _read_csv(
        resolved["u.item"], "u.item", "|", ["item", "title"], header=None, encoding="latin-1",
        names=["item", "title", "release_date", "video_release_date", "imdb_url", *GENRES],
    )
    users = _read_csv(
        resolved["u.user"], "u.user", "|", ["user", "age", "gender", "occupation", "zip_code"],
        header=None, names=["user", "age", "gender", "occupation", "zip_code"], dtype={"zip_code": "str"},
    )
    flags = movies[GENRES].astype(bool)
    flags.index = movies["item"]
    flagged = flags.stack()
    genres = (
        flagged[flagged].reset_index().rename(columns={"level_1": "genre"})
        .groupby("item", sort=False)["genre"].agg("|".join)
    )
    first_genre = np.where(flags.any(axis=1), np.array(GENRES, dtype=object)[flags.to_numpy().argmax(axis=1)], "unknown")
    items = pd.DataFrame(
        {
            ITEM: movies["item"].astype("int64"),
            "name": movies["title"].astype("str"),
            "category": pd.Series(first_genre, dtype="str"),
            "genres": genres.reindex(movies["item"]).fillna("").astype("str").to_numpy(),
            "release_date": pd.to_datetime(movies["release_date"], format="%d-%b-%Y", errors="coerce"),
        }
    )
    customers = users.rename(columns={"user": CUSTOMER}).astype({CUSTOMER: "int64"})

    table = "ratings"
    ratings = drop_rows(ratings, ~ratings["rating"].between(1, 5), table, "rating outside 1-5", report)
    ratings = ratings.sort_values("unix_time", kind="stable")
    ratings = drop_rows(ratings, ratings.duplicated(["user", "item"], keep="last"), table, "repeated (user, movie) rating: the later one kept", report)
    ratings = drop_rows(ratings, ~ratings["user"].isin(customers[CUSTOMER]), table, "user missing from u.user", report)
    ratings = drop_rows(ratings, ~ratings["item"].isin(items[ITEM]), table, "movie missing from u.item", report)
    events = pd.DataFrame(
        {
            CUSTOMER: ratings["user"].astype("int64"),
            ITEM: ratings["item"].astype("int64"),
            TIMESTAMP: pd.to_datetime(ratings["unix_time"], unit="s").astype("datetime64[ns]"),
            AMOUNT: 1.0,
            RATING: ratings["rating"].astype("int64"),
        }
    ).sort_values([TIMESTAMP, CUSTOMER, ITEM], kind="stable").reset_index(drop=True)
    return PublicData(
        name="movielens_100k",
        tables={"customers": customers, "items": items, "events": events},
        cleaning=report,
        recoded=_recoded_frame([]),
        observation_end=events[TIMESTAMP].max().normalize() + pd.Timedelta(days=1),
        targets={"continuous": None, "binary": None},
        leakage={},
        analyses=get_dataset("movielens_100k").analyses,
        source=_source("movielens_100k", resolved),
        notes=("research use only: never commit or redistribute these files or tables derived from them",),
    )


def read_cdnow(path: str | os.PathLike) -> pd.DataFrame:
    """The CDNOW 1/10 sample as a canonical-style event log: one row per line of the file.

    The file (``CDNOW_sample.txt``, :func:`marketing.datasets.public.fetch` ``("cdnow")``) has no
    header and five whitespace-separated columns: the customer's id in the master data set, the
    id within the sample (1 to 2,357), the date (YYYYMMDD), the number of CDs and the dollar
    value. Nothing is removed: lines are purchases, several on one day included (the BTYD
    summary counts those as one occasion, :func:`marketing.clv.btyd_summary`).

    Parameters
    ----------
    path : path
        The file.

    Returns
    -------
    DataFrame
        ``customer_id`` (the id within the sample, int64, as the papers number customers),
        ``master_id`` (int64), ``timestamp`` (datetime64, the day), ``quantity`` (int64) and
        ``amount`` (float64, US dollars).

    Raises
    ------
    DataValidationError
        The file cannot be read, or does not have five columns of the expected types.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "CDNOW_sample.txt"
    >>> _ = p.write_bytes(b" 00004 0001 19970101  2   29.33\\r\\n 00004 0001 19970118  2   29.73\\r\\n")
    >>> read_cdnow(p)
       customer_id  master_id  timestamp  quantity  amount
    0            1          4 1997-01-01         2   29.33
    1            1          4 1997-01-18         2   29.73
    """
    names = ["master_id", CUSTOMER, "date", QUANTITY, AMOUNT]
    frame = _read_csv(Path(path), "CDNOW events", r"\s+", names, header=None, names=names, dtype=str)
    try:
        events = pd.DataFrame(
            {
                CUSTOMER: frame[CUSTOMER].astype("int64"),
                "master_id": frame["master_id"].astype("int64"),
                TIMESTAMP: pd.to_datetime(frame["date"], format="%Y%m%d"),
                QUANTITY: frame[QUANTITY].astype("int64"),
                AMOUNT: frame[AMOUNT].astype("float64"),
            }
        )
    except (ValueError, TypeError) as error:
        raise DataValidationError(
            f"{path} is not the CDNOW sample (five columns: master id, sample id, YYYYMMDD date, CDs, "
            f"dollars): {error}. Fetch it again with marketing.datasets.public.fetch('cdnow')."
        ) from error
    return events


#: Adapter of each dataset: it takes what :func:`fetch` returns.
ADAPTERS: dict[str, Callable[..., PublicData]] = {
    "online_retail_ii": adapt_online_retail_ii,
    "bank_marketing": adapt_bank_marketing,
    "student_performance": adapt_student_performance,
    "insurance": adapt_insurance,
    "movielens_100k": adapt_movielens_100k,
}


def load_public(name: str, cache_dir: str | os.PathLike | None = None, **options) -> PublicData:
    """Fetch a public dataset (verified, cached) and map it to its case's canonical tables.

    Parameters
    ----------
    name : str
        A key of :data:`marketing.datasets.public.DATASETS`.
    cache_dir : path, optional
        Cache root, as for :func:`marketing.datasets.public.fetch`.
    **options
        Passed to the adapter, for example ``include_period_grades=True`` for
        ``student_performance`` or ``label_days=60`` for ``online_retail_ii``.

    Examples
    --------
    >>> data = load_public("insurance")  # doctest: +SKIP
    >>> data.targets  # doctest: +SKIP
    {'continuous': 'charges', 'binary': 'high_cost'}
    >>> load_public("titanic")
    Traceback (most recent call last):
    ...
    ValueError: unknown public dataset 'titanic'; choose one of ['bank_marketing', 'cdnow', 'insurance', 'movielens_100k', 'online_retail_ii', 'student_performance'].
    """
    get_dataset(name)
    if name not in ADAPTERS:
        raise ValueError(
            f"public dataset {name!r} serves no case-study analysis yet, so it has no adapter to canonical "
            f"tables; read it with its reader (read_{name}(fetch({name!r})) in marketing.datasets.adapters)."
        )
    return ADAPTERS[name](fetch(name, cache_dir), **options)
