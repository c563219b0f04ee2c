"""The case-file schema: every key a case file may hold, at every level, declared once.

A case file is checked against :data:`CASE` before anything reads its data, so that a typo
(``date_fromat``, ``obsevation_end``, ``signup_dat``) is an error instead of a silently ignored
key that changes results. :func:`validate` walks the whole file and returns *every* problem at
once, each with its dotted key path and, for an unknown key or role, the closest allowed name.

Only what an analysis needs is required: a :class:`Field` is required always
(``required=True``), for some analyses (``needed_by=("regression",)``, read from the file's
``analyses``) or for one data source (``source="files"``). Adding a key is one line in the
section it belongs to, for example in :data:`FILE_OPTIONS`::

    "na_values": Field(ListOf(TEXT), doc="strings that mean a missing value"),

The format-specific file options (``sep`` for CSV only, ``sheet`` for Excel only) are declared
here too, by ``formats=``; :mod:`marketing.datasets.files` reads them from :func:`file_options`.

Examples
--------
>>> import yaml
>>> from marketing.cases import BUILTIN_DIR
>>> raw = yaml.safe_load((BUILTIN_DIR / "education.yml").read_text())
>>> raw["titel"] = raw.pop("title")
>>> raw["tables"]["events"]["columns"]["amout"] = raw["tables"]["events"]["columns"].pop("amount")
>>> for problem in validate(raw):
...     print(problem)
title: missing (required): the title shown at the top of every report
tables.events.columns.amout: unknown role; did you mean 'amount'?
titel: unknown key; did you mean 'title'?
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from marketing.columns import AMOUNT, CUSTOMER, ITEM, LAUNCH, ORDER, QUANTITY, RATING, SIGNUP, TIMESTAMP

ANALYSES = ("segmentation", "recommendation", "regression")
#: File formats a ``files.<table>`` entry can be read as (see marketing.datasets.files.FORMATS).
FILE_FORMATS = ("csv", "parquet", "excel")


# --- the kinds of value ------------------------------------------------------------------------


@dataclass(frozen=True)
class Scalar:
    """A single value of one of ``types`` (``bool`` is never a number), optionally from ``choices``."""

    types: tuple[type, ...]
    label: str
    choices: tuple[Any, ...] | None = None

    def accepts(self, value: Any) -> bool:
        if isinstance(value, bool) and bool not in self.types and object not in self.types:
            return False
        return isinstance(value, self.types)

    def check(self, value: Any, path: str, ctx: dict, out: list[str]) -> None:
        if not self.accepts(value):
            out.append(f"{path}: should be {self.label}, not {value!r}")
        elif self.choices is not None and value not in self.choices:
            out.append(f"{path}: {value!r} is not one of {list(self.choices)}{_suggest(value, self.choices)}")


@dataclass(frozen=True)
class ListOf:
    """A list whose items are all ``item``; ``length`` fixes how many; ``name`` overrides its label."""

    item: Any
    length: int | None = None
    name: str | None = None

    @property
    def label(self) -> str:
        count = f"{self.length} " if self.length else ""
        return self.name or f"a list of {count}{_plural(self.item.label)}"

    def accepts(self, value: Any) -> bool:
        return isinstance(value, list)

    def check(self, value: Any, path: str, ctx: dict, out: list[str]) -> None:
        if not isinstance(value, list):
            out.append(f"{path}: should be {self.label}, not {value!r}")
            return
        if self.length is not None and len(value) != self.length:
            out.append(f"{path}: should hold {self.length} values, not {len(value)} ({value!r})")
        for i, item in enumerate(value):
            self.item.check(item, f"{path}[{i}]", ctx, out)


@dataclass(frozen=True)
class MapOf:
    """A mapping from names the user chooses (columns, segments, datasets) to ``value``."""

    value: Any
    label: str = "a mapping"

    def accepts(self, value: Any) -> bool:
        return isinstance(value, dict)

    def check(self, value: Any, path: str, ctx: dict, out: list[str]) -> None:
        if not isinstance(value, dict):
            out.append(f"{path}: should be {self.label}, not {value!r}")
            return
        for key, item in value.items():
            self.value.check(item, f"{path}.{key}", ctx, out)


@dataclass(frozen=True)
class Field:
    """One key of a :class:`Section`: its kind of value, whether it is required, and why it exists.

    Parameters
    ----------
    kind : Scalar, ListOf, MapOf, Section or Either
        What the value must be.
    required : bool
        Required in every case file.
    needed_by : tuple of str
        Required when one of these analyses is among the file's ``analyses``.
    source : str, optional
        Required when the file's ``source`` is this (``"files"``, ``"synthetic"``).
    doc : str
        What the key means; shown in the message when it is missing.
    aliases : tuple of str
        Other names people write for it (``delimiter`` for ``sep``), suggested when they do.
    formats : tuple of str
        For a file option: the file formats it applies to (default all).
    """

    kind: Any
    required: bool = False
    needed_by: tuple[str, ...] = ()
    source: str | None = None
    doc: str = ""
    aliases: tuple[str, ...] = ()
    formats: tuple[str, ...] = FILE_FORMATS

    def why_required(self, ctx: dict) -> str | None:
        """Why this key must be present in this file, or None when it may be left out."""
        if self.required:
            return "required"
        needing = [a for a in self.needed_by if a in ctx.get("analyses", ())]
        if needing:
            return f"needed by {' and '.join(needing)} (in 'analyses')"
        if self.source is not None and ctx.get("source") == self.source:
            return f"needed when source is {self.source!r}"
        return None


@dataclass(frozen=True)
class Section:
    """A mapping with a fixed set of keys (``noun`` names them in messages: key, role, band)."""

    fields: dict[str, Field]
    label: str = "a mapping"
    noun: str = "key"

    def accepts(self, value: Any) -> bool:
        return isinstance(value, dict)

    def check(self, value: Any, path: str, ctx: dict, out: list[str]) -> None:
        if not isinstance(value, dict):
            out.append(f"{_name(path)}: should be {self.label}, not {value!r}")
            return
        for key, spec in self.fields.items():
            if key not in value:
                reason = spec.why_required(ctx)
                if reason:
                    doc = f": {spec.doc}" if spec.doc else ""
                    out.append(f"{_join(path, key)}: missing ({reason}){doc}")
        for key, item in value.items():
            if key not in self.fields:
                aliases = {a: k for k, f in self.fields.items() for a in f.aliases}
                hint = (f"; did you mean {aliases[key]!r}?" if key in aliases
                        else _suggest(key, self.fields) or f"; allowed: {', '.join(self.fields)}")
                out.append(f"{_join(path, key)}: unknown {self.noun}{hint}")
            else:
                self.fields[key].kind.check(item, _join(path, key), ctx, out)


@dataclass(frozen=True)
class Either:
    """One of several kinds, chosen by the value's type (a path, or a mapping of options)."""

    kinds: tuple[Any, ...]

    @property
    def label(self) -> str:
        return " or ".join(k.label for k in self.kinds)

    def accepts(self, value: Any) -> bool:
        return any(k.accepts(value) for k in self.kinds)

    def check(self, value: Any, path: str, ctx: dict, out: list[str]) -> None:
        for kind in self.kinds:
            if kind.accepts(value):
                kind.check(value, path, ctx, out)
                return
        out.append(f"{path}: should be {self.label}, not {value!r}")


TEXT = Scalar((str,), "a string")
NUMBER = Scalar((int, float), "a number")
FLAG = Scalar((bool,), "true or false")
# YAML reads an unquoted 2026-01-01 as a date; quoted, it is a string that pandas parses later
DATE = Scalar((str, dt.date), "a date such as '2026-01-01'")
VALUE = Scalar((str, int, float, bool), "a single value")
TEXTS = ListOf(TEXT)
ANYTHING_MAP = MapOf(Scalar((object,), "anything"), "a mapping")
ANYTHING_LIST = ListOf(Scalar((object,), "anything"), name="a list")


# --- the sections of a case file ---------------------------------------------------------------

#: Options of one ``files.<table>`` entry (its long form; the short form is just the path).
FILE_OPTIONS: dict[str, Field] = {
    "path": Field(TEXT, required=True, doc="the file, relative to the case file's folder or absolute"),
    "sep": Field(TEXT, formats=("csv",), aliases=("delimiter", "separator"), doc="the CSV separator (default ',', tab for .tsv)"),
    "encoding": Field(TEXT, formats=("csv",), doc="the text encoding (default utf-8)"),
    "sheet": Field(Either((TEXT, Scalar((int,), "a sheet number"))), formats=("excel",), doc="the Excel sheet's name or number (default the first)"),
    "date_format": Field(Either((TEXT, MapOf(TEXT, "a mapping of column to format"))), doc="how the dates are written, e.g. '%d/%m/%Y', or column -> format"),
    "dates": Field(TEXTS, doc="which columns are dates (default: the timestamp, signup_date and launch_date roles)"),
    "format": Field(Scalar((str,), "a file format", FILE_FORMATS), doc="how to read a file whose extension does not say (.data, .dat, .txt)"),
    "names": Field(TEXTS, formats=("csv",), doc="the file has no header row: these are its column names, in order"),
    "decimal": Field(TEXT, formats=("csv",), doc="the decimal separator of numbers (',' for 3,5)"),
    "thousands": Field(TEXT, formats=("csv",), doc="the thousands separator of numbers ('.' for 1.000,5)"),
    "na_values": Field(Either((ListOf(VALUE), MapOf(ListOf(VALUE), "a mapping of column to codes"))),
                       doc="codes that mean missing (?, unknown, 999, -1), for every column or column -> codes"),
    "nominal": Field(TEXTS, doc="integer-coded columns that are categories (sex 1/2): read as levels, not numbers"),
    "derive": Field(MapOf(TEXT, "a mapping of new column to expression"),
                    doc="new columns from + - * / of others, e.g. {Revenue: Quantity * UnitPrice}"),
    "drop_duplicates": Field(FLAG, doc="count and drop rows that repeat an earlier row exactly"),
}

#: The roles each table's ``columns`` may map to the source's column names.
EVENT_ROLES: dict[str, Field] = {
    CUSTOMER: Field(TEXT, required=True, doc="the column holding the customer id"),
    ITEM: Field(TEXT, needed_by=("recommendation",), doc="the column holding the item id"),
    TIMESTAMP: Field(TEXT, required=True, doc="the column holding the event's date and time"),
    AMOUNT: Field(TEXT, doc="the event's value (revenue, hours, sessions)"),
    RATING: Field(TEXT, doc="the rating, for explicit feedback"),
    ORDER: Field(TEXT, doc="the order or invoice the line belongs to"),
    QUANTITY: Field(TEXT, doc="units on the line"),
}
CUSTOMER_ROLES: dict[str, Field] = {
    SIGNUP: Field(TEXT, doc="the sign-up date (the regression's time-based holdout)"),
}
ITEM_ROLES: dict[str, Field] = {
    "name": Field(TEXT, doc="the item's name, shown beside recommendations"),
    "category": Field(TEXT, doc="the item's category"),
    "price": Field(TEXT, doc="the item's list price"),
    LAUNCH: Field(TEXT, doc="the date the item went on sale (items new in the test window: the cold start)"),
}


def _entity(roles: dict[str, Field], what: str) -> Section:
    return Section({
        "table": Field(TEXT, required=True, doc=f"the source table of {what} (a key of 'files' for own data)"),
        "id": Field(TEXT, doc=f"the column holding the {what}' id (default: the row number, from 1)"),
        "columns": Field(Section(roles, noun="role"), doc="role -> the source's column name"),
    })


TABLES = Section({
    # without a table, the customers (items) are the ids the events name
    "customers": Field(_entity(CUSTOMER_ROLES, "customers"), doc="the customers table (default: one row per customer id in the events)"),
    "items": Field(_entity(ITEM_ROLES, "items"), doc="the items table (default: one row per item id in the events)"),
    "events": Field(Section({
        "table": Field(TEXT, required=True, doc="the source table of the events"),
        "columns": Field(Section(EVENT_ROLES, noun="role"), required=True, doc="role -> the source's column name"),
        "join": Field(Section({
            "table": Field(TEXT, required=True, doc="the order-header table"),
            "key": Field(TEXT, required=True, doc="the role (or column) both tables share, e.g. order_id"),
        }), doc="order headers to join to the lines"),
    }), needed_by=("recommendation",), doc="the events table (none: a table of one row per person, for segmentation by its columns and regression)"),
})

TARGET = Section({
    "column": Field(TEXT, required=True, doc="the customers-table column to predict"),
    "meaning": Field(TEXT, doc="what the target means in business terms"),
    "positive": Field(Either((VALUE, ListOf(VALUE))),
                      doc="what counts as 1: a value (yes), a list of values, or a threshold ('> 0', 'G3 >= 10')"),
})

PLAYBOOK = Section({
    "segments": Field(MapOf(TEXT, "a mapping of segment name to action"), doc="the action per segment name, plus 'default'"),
    "segment_rules": Field(ListOf(Section({
        "segment": Field(TEXT, required=True, doc="a segment name of playbook.segments"),
        "when": Field(MapOf(ListOf(Scalar((int, float, type(None)), "a number or null"), length=2),
                            "a mapping of feature to [min, max] index"), required=True,
                      doc="feature -> [min, max] profile index (100 = the base's average; null = open)"),
    }, label="a rule {segment: ..., when: {...}}"), name="a list of rules {segment, when}"),
        doc="how found segments get the playbook's names (first matching rule wins)"),
    # the bands of marketing.regression.targeting.SCORE_BANDS
    "score_bands": Field(Section({
        "high": Field(TEXT, doc="action for the highest scores"),
        "medium": Field(TEXT, doc="action for the middle scores"),
        "low": Field(TEXT, doc="action for the lowest scores"),
    }, noun="band"), doc="the action per predicted-score band"),
})

TARGETING = Section({
    "contact_cost": Field(NUMBER, required=True, doc="what one contact costs"),
    "response_value": Field(NUMBER, required=True, doc="what one positive response is worth"),
    "currency": Field(TEXT, doc="the unit of contact_cost and response_value, e.g. EUR (shown on the profit figure)"),
})

#: Which of the case's targets the buy-till-you-die models answer (marketing.regression.btyd):
#: a target kind each, and the label window's length when label_window_days does not give it.
BTYD = Section({
    "spend": Field(Scalar((str,), "a target kind", ("continuous",)),
                   doc="'continuous' when targets.continuous is the spend in the label window, from the same event log"),
    "churn": Field(Scalar((str,), "a target kind", ("binary",)),
                   doc="'binary' when targets.binary is 1 for no purchase in the label window"),
    "window_days": Field(Scalar((int,), "a whole number of days"),
                         doc="the label window's length (default label_window_days, which builds such targets)"),
})

#: Which columns describe customers and items to a content-based recommender; the column checks
#: against the data are :func:`marketing.datasets.content.content_columns` (``python -m marketing check``).
CONTENT = Section({
    "customer_columns": Field(TEXTS, doc="customers-table columns that describe a customer (region, channel, age)"),
    "item_columns": Field(TEXTS, doc="items-table columns that describe an item (category, price)"),
    "text_column": Field(Scalar((str, type(None)), "a column name or null"),
                         doc="an items-table column of free text (the item's name or description), or null for none"),
})

#: A buy-till-you-die segment's planted BG/NBD parameters (marketing.datasets.synthetic).
SYNTHETIC_BTYD = Section({
    "r": Field(NUMBER, required=True, doc="shape of the Gamma distribution of the purchase rate per week"),
    "alpha": Field(NUMBER, required=True, doc="rate (in weeks) of the Gamma distribution of the purchase rate"),
    "a": Field(NUMBER, required=True, doc="first shape of the Beta distribution of the dropout probability"),
    "b": Field(NUMBER, required=True, doc="second shape of the Beta distribution of the dropout probability"),
}, label="a mapping {r, alpha, a, b}")

#: One planted segment of the synthetic generator.
SYNTHETIC_SEGMENT = Section({
    "name": Field(TEXT, required=True, doc="the segment's name (the truth's label)"),
    "share": Field(NUMBER, required=True, doc="its share of the customers"),
    "events_per_year": Field(NUMBER, required=True, doc="mean purchase occasions a year"),
    "value_multiplier": Field(NUMBER, required=True, doc="its spend level, a multiplier of the item values"),
    "active_share": Field(NUMBER, doc="below 1: lapsed, buying only in this first share of the log"),
    "btyd": Field(SYNTHETIC_BTYD, doc="buy as BG/NBD says with these planted parameters (replaces events_per_year and active_share for its purchases)"),
}, label="a segment mapping")

#: Top-level keys of the synthetic generator's spec (marketing.datasets.synthetic.generate);
#: checked one level deep (and each segment's keys), the generator reads the rest.
SYNTHETIC = Section({
    "n_customers": Field(ANYTHING_MAP, required=True, doc="customers per data_size (small, medium, large)"),
    "n_items": Field(ANYTHING_MAP, required=True, doc="items per data_size"),
    "categories": Field(TEXTS, required=True, doc="item categories"),
    "item_value": Field(ANYTHING_MAP, required=True, doc="{median, sigma} of the items' log-normal value"),
    "start": Field(DATE, required=True, doc="the first day of the log"),
    "days": Field(Scalar((int,), "a whole number"), required=True, doc="the log's length in days"),
    "segments": Field(ListOf(SYNTHETIC_SEGMENT, name="a list of segments"), required=True, doc="the planted segments"),
    "attributes": Field(ANYTHING_MAP, required=True, doc="customer attributes and their distributions"),
    "effects": Field(ANYTHING_MAP, doc="the planted effects on each target"),
    "extra_columns": Field(ANYTHING_MAP, doc="leakage columns, {column: {leaks: target}}"),
    "shape": Field(Scalar((str,), "a string", ("events", "orders")), doc="events, or orders with lines"),
    "return_rate": Field(NUMBER, doc="share of lines returned"),
    "amount_integer": Field(FLAG, doc="whole-number amounts"),
    "explicit_ratings": Field(FLAG, doc="generate ratings"),
    "category_affinity_by": Field(Either((TEXT, TEXTS)),
                                  doc="categorical attribute(s) whose level, besides the segment, draws the favourite categories (e.g. region)"),
})

#: Every top-level key of a case file.
TOP: dict[str, Field] = {
    "name": Field(Either((TEXT, NUMBER)), required=True, doc="a short identifier used in report paths"),
    "title": Field(TEXT, required=True, doc="the title shown at the top of every report"),
    "question": Field(TEXT, required=True, doc="the business question, and who acts on the answer"),
    "analyses": Field(ListOf(Scalar((str,), "an analysis", ANALYSES), name="a list of analyses"), required=True, doc=f"which of {list(ANALYSES)} apply"),
    "item_kind": Field(TEXT, needed_by=("recommendation",), doc="what the items are, e.g. products"),
    "value_measure": Field(TEXT, doc="what 'amount' measures, e.g. revenue"),
    "source": Field(TEXT, doc="'synthetic' (default), 'files', or a public dataset's name"),
    "observation_end": Field(DATE, doc="the day features stop and outcomes start"),
    "label_window_days": Field(Scalar((int,), "a whole number of days"),
                               doc="build the targets spend_next and churned from the events in the N days after the observation end"),
    "files": Field(MapOf(Either((TEXT, Section(FILE_OPTIONS, label="a mapping of options"))), "a mapping of table name to file"),
                   source="files", doc="for example `files: {customers: customers.csv, transactions: sales.csv}`"),
    "tables": Field(TABLES, required=True, doc="the customers, items and events tables and their columns"),
    "feedback": Field(Scalar((str,), "a string", ("implicit", "explicit")), doc="implicit (purchases) or explicit (ratings)"),
    "rating_scale": Field(ListOf(NUMBER, length=2), doc="[min, max] of the ratings"),
    "personal_columns": Field(TEXTS, doc="columns that identify a person (pseudonymised in reports)"),
    "segmentation_features": Field(TEXTS, needed_by=("segmentation",), doc="features to segment on, e.g. [recency_days, frequency, monetary]"),
    "regression_features": Field(TEXTS, needed_by=("regression",), doc="features of the regression models"),
    "targets": Field(Section({
        "continuous": Field(TARGET, doc="the 'how much' target, e.g. spend in the next 90 days"),
        "binary": Field(TARGET, doc="the 'who' target, 0/1, e.g. churned in the next 90 days"),
    }), needed_by=("regression",),
                     doc="targets.continuous and/or targets.binary: {column, meaning, positive} (one is enough)"),
    "leakage": Field(MapOf(TEXT, "a mapping of column to reason"), doc="columns never to use as features, with the reason"),
    "btyd": Field(BTYD, doc="which targets the BTYD models (BG/NBD, Gamma-Gamma) answer, e.g. {spend: continuous, churn: binary}"),
    "playbook": Field(PLAYBOOK, doc="actions per segment and per score band"),
    "targeting": Field(TARGETING, doc="{contact_cost, response_value} for choosing whom to contact (needed with a binary target)"),
    "not_applicable": Field(Section({a: Field(TEXT, doc=f"why {a} does not apply") for a in ANALYSES}, noun="analysis"),
                            doc="why an analysis does not apply, shown instead of running it"),
    "synthetic": Field(SYNTHETIC, source="synthetic", doc="the generator's spec (see marketing/case_studies/)"),
    "content": Field(CONTENT, doc="the customer and item columns (and a text column) that content-based recommendations use"),
}

#: What a ``public_sources.<dataset>`` overlay may override: a real dataset has its own columns,
#: but not its own identity, data source or generator.
OVERLAY = Section(
    {k: dataclasses.replace(f, required=False, needed_by=(), source=None) for k, f in TOP.items()
     if k not in ("name", "source", "files", "synthetic", "observation_end", "label_window_days")},
    label="a mapping of the keys this dataset overrides",
)
TOP["public_sources"] = Field(MapOf(OVERLAY, "a mapping of dataset name to overrides"),
                              doc="public datasets the case also runs on, with the keys each overrides")
CASE = Section(TOP, label="a mapping of keys to values")


# --- checking a case file ----------------------------------------------------------------------


def validate(raw: Any) -> list[str]:
    """Every problem of a case file's mapping, one ``dotted.key.path: message`` each.

    Parameters
    ----------
    raw : dict
        The case file as YAML read it.

    Returns
    -------
    list of str
        Empty when the file is valid. Unknown keys and roles come with the closest allowed
        name; missing keys say why they are needed.

    Examples
    --------
    >>> import yaml
    >>> from marketing.cases import BUILTIN_DIR
    >>> raw = yaml.safe_load((BUILTIN_DIR / "ecommerce.yml").read_text())
    >>> raw["obsevation_end"] = "2026-01-01"
    >>> raw["tables"]["customers"]["columns"] = {"signup_dat": "Created"}
    >>> raw["targeting"]["contact_cost"] = "twelve"
    >>> for problem in validate(raw):
    ...     print(problem)
    tables.customers.columns.signup_dat: unknown role; did you mean 'signup_date'?
    targeting.contact_cost: should be a number, not 'twelve'
    obsevation_end: unknown key; did you mean 'observation_end'?
    """
    if not isinstance(raw, dict):
        return [f"the file should hold a mapping of keys to values, not {type(raw).__name__}"]
    analyses = raw.get("analyses")
    ctx = {
        "analyses": tuple(a for a in analyses if isinstance(a, str)) if isinstance(analyses, list) else (),
        "source": raw.get("source", "synthetic"),
    }
    out: list[str] = []
    CASE.check(raw, "", ctx, out)
    out += _cross_checks(raw)
    return out


def _cross_checks(raw: dict) -> list[str]:
    """Agreement between sections, which the per-key schema cannot see."""
    out = []
    tables = raw.get("tables") if isinstance(raw.get("tables"), dict) else {}
    events = tables.get("events") if isinstance(tables.get("events"), dict) else {}
    roles = events.get("columns") if isinstance(events.get("columns"), dict) else {}
    for name, spec in tables.items():
        mapped = spec.get("columns") if isinstance(spec, dict) and isinstance(spec.get("columns"), dict) else {}
        by_column: dict[Any, list[str]] = {}
        for role, column in mapped.items():
            by_column.setdefault(column, []).append(role)
        for column, both in by_column.items():
            if len(both) > 1 and isinstance(column, str):
                out.append(f"tables.{name}.columns: column {column!r} is mapped to {len(both)} roles ({', '.join(both)}); "
                           "a column plays one role (derive a copy under another name if you need it twice)")
    targets = raw.get("targets") if isinstance(raw.get("targets"), dict) else {}
    if "regression" in (raw.get("analyses") or []) and isinstance(raw.get("targets"), dict):
        if not targets:
            out.append("targets: empty: give targets.continuous, targets.binary, or both")
        elif "binary" in targets and "targeting" not in raw:
            out.append("targeting: missing (needed by the binary target: the contact rule and the campaign list): {contact_cost, response_value}")
    out += _btyd_checks(raw, targets)
    features = raw.get("regression_features") if isinstance(raw.get("regression_features"), list) else []
    if {"tenure_days", "recency_days", "first_to_last_days"} <= set(features):
        out.append("regression_features: first_to_last_days = tenure_days - recency_days, so the three together "
                   "are collinear and their coefficients cannot be estimated; keep two of them")
    if raw.get("feedback") == "explicit" and roles and RATING not in roles:
        out.append(f"tables.events.columns: feedback is 'explicit', so the '{RATING}' role needs a column")
    files = raw.get("files")
    named = [t.get("table") if isinstance(t, dict) else None for t in tables.values()]
    # with a table name missing, the schema has said so; comparing files to the rest would only add noise
    if raw.get("source") == "files" and isinstance(files, dict) and all(isinstance(n, str) for n in named):
        names = list(named)
        join = events.get("join")
        if isinstance(join, dict) and isinstance(join.get("table"), str):
            names.append(join["table"])
        for name in files:
            if name not in names:
                out.append(f"files.{name}: names no table of 'tables' ({', '.join(names)}){_suggest(name, names)}")
        for name in dict.fromkeys(names):
            if name not in files:
                out.append(f"files: no file for the table {name!r} that 'tables' names")
    playbook = raw.get("playbook") if isinstance(raw.get("playbook"), dict) else {}
    segments, rules = playbook.get("segments"), playbook.get("segment_rules")
    if isinstance(segments, dict) and isinstance(rules, list):
        for i, rule in enumerate(rules):
            name = rule.get("segment") if isinstance(rule, dict) else None
            if isinstance(name, str) and name not in segments:
                out.append(f"playbook.segment_rules[{i}].segment: {name!r} is not a segment of "
                           f"playbook.segments{_suggest(name, segments)}")
    return out


def _btyd_checks(raw: dict, targets: dict) -> list[str]:
    """The ``btyd`` section names targets the case has, an event log with amounts, and a window length."""
    btyd = raw.get("btyd")
    if not isinstance(btyd, dict):
        return []
    out = []
    named = {role: kind for role, kind in btyd.items() if role in ("spend", "churn") and isinstance(kind, str)}
    if not named:
        out.append("btyd: names no target: give spend: continuous and/or churn: binary (or leave btyd out)")
    for role, kind in named.items():
        if kind in ("continuous", "binary") and kind not in targets:
            out.append(f"btyd.{role}: the case has no targets.{kind} (it has {', '.join(targets) or 'no targets'})")
    events = (raw.get("tables") or {}).get("events") if isinstance(raw.get("tables"), dict) else None
    roles = events.get("columns") if isinstance(events, dict) and isinstance(events.get("columns"), dict) else None
    if not isinstance(events, dict):
        out.append("btyd: the case has no tables.events: the BTYD models need a purchase log")
    elif "spend" in named and roles is not None and AMOUNT not in roles:
        out.append(f"btyd.spend: tables.events.columns has no '{AMOUNT}' role: spend per purchase needs purchase values")
    if "window_days" not in btyd and not isinstance(raw.get("label_window_days"), int):
        out.append("btyd.window_days: missing (no label_window_days either): the length in days of the label window "
                   "the targets describe")
    elif isinstance(btyd.get("window_days"), int) and btyd["window_days"] <= 0:
        out.append(f"btyd.window_days: should be a positive number of days, not {btyd['window_days']}")
    elif isinstance(raw.get("label_window_days"), int) and btyd.get("window_days", raw["label_window_days"]) != raw["label_window_days"]:
        out.append(f"btyd.window_days: {btyd['window_days']} differs from label_window_days {raw['label_window_days']}, "
                   "which built the targets; leave window_days out")
    return out


def file_options(kind: str) -> tuple[str, ...]:
    """The options a ``files.<table>`` entry of this format may have.

    >>> file_options("parquet")
    ('path', 'date_format', 'dates', 'format', 'na_values', 'nominal', 'derive', 'drop_duplicates')
    """
    return tuple(k for k, f in FILE_OPTIONS.items() if kind in f.formats)


def keys(section: Any = CASE, path: str = "") -> Iterator[str]:
    """Every dotted key path the schema allows (``<name>`` for names the user chooses).

    >>> [k for k in keys() if k.startswith("tables.items")]
    ['tables.items', 'tables.items.table', 'tables.items.id', 'tables.items.columns', 'tables.items.columns.name', 'tables.items.columns.category', 'tables.items.columns.price', 'tables.items.columns.launch_date']
    """
    if isinstance(section, Section):
        for key, spec in section.fields.items():
            yield _join(path, key)
            yield from keys(spec.kind, _join(path, key))
    elif isinstance(section, MapOf):
        if path == "files":
            yield from keys(section.value, f"{path}.<table>")
        elif path == "public_sources":
            # an overlay's keys are top-level keys: listing them again would say nothing new
            yield f"{path}.<dataset>"
    elif isinstance(section, Either):
        for kind in section.kinds:
            yield from keys(kind, path)
    elif isinstance(section, ListOf):
        yield from keys(section.item, f"{path}[]")


def _suggest(word: Any, allowed: Mapping | list | tuple) -> str:
    close = difflib.get_close_matches(str(word), [str(a) for a in allowed], n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else str(key)


def _name(path: str) -> str:
    return path or "the file"


def _plural(label: str) -> str:
    word = label.removeprefix("a ").removeprefix("an ")
    return word if word.endswith("s") else word + "s"
