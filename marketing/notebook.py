"""Helpers the notebooks call to record results and provenance machine-readably.

A notebook records its key results once, with :func:`record_metrics`. The metrics are shown as
rounded text (stable across machines, so nbval can compare them) and attached to the same output
under the MIME type :data:`METRICS_MIME`, from which :func:`read_metrics` (and the report
pipeline) read them back out of the executed notebook.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

METRICS_MIME = "application/vnd.marketing.metrics+json"
DIGITS = 4


def _clean(value: Any, digits: int) -> Any:
    """JSON-safe copy with floats rounded and numpy scalars unwrapped; NaN becomes None."""
    if isinstance(value, Mapping):
        return {str(k): _clean(v, digits) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v, digits) for v in value]
    if isinstance(value, (np.integer, np.bool_)):
        return value.item()
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return None if math.isnan(value) or math.isinf(value) else round(value, digits)
    return value


def record_metrics(metrics: Mapping[str, Any], digits: int | None = None) -> None:
    """Display ``metrics`` in a notebook and attach them machine-readably to the output.

    Floats are rounded to ``digits`` decimals so the printed record is identical across
    machines and thread counts: by default :data:`DIGITS`, one fewer for a record whose
    ``engine`` is ``"spark"`` (Spark sums in partition order, so the last digits can vary). Returns nothing, so that the record is not shown twice when
    the call ends a cell; :func:`read_metrics` reads it back from the executed notebook.

    Examples
    --------
    Outside a notebook the record is printed:

    >>> record_metrics({"silhouette": 0.512345678, "k": np.int64(4)})  # doctest: +ELLIPSIS
    {'application/vnd.marketing.metrics+json': {'silhouette': 0.5123, 'k': 4}, 'text/plain': ...}
    """
    if digits is None:
        digits = DIGITS - 1 if metrics.get("engine") == "spark" else DIGITS
    cleaned = _clean(metrics, digits)
    from IPython.display import display

    text = json.dumps(cleaned, indent=1, sort_keys=True)
    display({METRICS_MIME: cleaned, "text/plain": text}, raw=True)


def read_metrics(notebook) -> dict | None:
    """The metrics a notebook recorded with :func:`record_metrics` (the last record wins).

    ``notebook`` is an ``nbformat.NotebookNode`` of an executed notebook, or a path to one.
    Returns None when the notebook recorded nothing.
    """
    import nbformat

    if not hasattr(notebook, "cells"):
        notebook = nbformat.read(str(notebook), as_version=4)
    found = None
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if METRICS_MIME in data:
                found = data[METRICS_MIME]
    return found


def provenance(parameters: Mapping[str, Any], data=None) -> dict:
    """Where a result came from: parameters, code and environment versions, data source.

    ``data`` is the :class:`marketing.datasets.CaseData` (or Spark engine
    :class:`~marketing.spark.data.SparkCaseData`) the notebook analysed (optional).
    """
    from marketing.provenance import environment

    info = {"parameters": _clean(dict(parameters), DIGITS), **environment()}
    if data is not None:
        info["data_source"] = data.source
        info["data_rows"] = {name: n_rows(getattr(data, name)) for name in ("customers", "items", "events")}
    return info


def n_rows(table) -> int:
    """Rows of a table on any engine (a Spark or DuckDB count runs a query, cheap next to the analysis).

    Examples
    --------
    >>> import pandas as pd
    >>> n_rows(pd.DataFrame({"a": [1, 2]}))
    2
    """
    from marketing.engines import engine_of

    engine = engine_of(table)
    if engine == "spark":
        return int(table.count())
    if engine == "duckdb":
        return int(table.aggregate("count(*)").fetchall()[0][0])
    return len(table)


def preview(table, n: int = 5):
    """The first ``n`` rows as a pandas frame; on Spark the ``n`` smallest customer ids.

    Examples
    --------
    >>> import pandas as pd
    >>> preview(pd.DataFrame({"customer_id": [3, 1, 2]}), 2)["customer_id"].tolist()
    [3, 1]
    """
    from marketing.columns import CUSTOMER
    from marketing.engines import engine_of

    if engine_of(table) == "spark":
        return table.orderBy(CUSTOMER).limit(n).toPandas()
    return table.head(n)


def template_values(analysis: str, namespace: Mapping[str, Any]) -> dict:
    """The values of a template's parameters in a notebook's ``namespace`` (its ``globals()``).

    The names are read from the template's ``parameters`` cell, so a report's provenance lists
    exactly the parameters the template has, with the values this run used (papermill's
    overrides included), and a new parameter never has to be listed twice.
    """
    from marketing.reports.build import template_path
    from marketing.reports.params import template_parameters

    return {name: namespace[name] for name in template_parameters(template_path(analysis)) if name in namespace}


def show_provenance(analysis: str, namespace: Mapping[str, Any], data=None) -> None:
    """Display :func:`provenance` as the last output of a report.

    ``analysis`` names the template (``"segmentation"``, ...); ``namespace`` is the notebook's
    ``globals()``, from which :func:`template_values` reads the parameters. Versions and commits
    vary between machines, so the cell calling this starts with an ``# NBVAL_IGNORE_OUTPUT`` marker.
    """
    from IPython.display import display

    info = provenance(template_values(analysis, namespace), data)
    display({"application/json": info, "text/plain": json.dumps(info, indent=1)}, raw=True)


def data_overview(data):
    """What the analysis reads, said once near the top of every report: a sentence with the
    customers and the events inside the observation window (later events, the label window,
    are counted apart), and the cleaning table (what each step removed, and why).

    Works on every engine (one aggregation over the events, through narwhals).

    Examples
    --------
    >>> from marketing.datasets import load_case_data
    >>> table = data_overview(load_case_data("ecommerce"))
    2,000 customers; 37,954 events from 2025-01-01 to 2025-12-31, before the observation end 2026-01-01.
    Cleaning removed 1,084 rows:
    >>> list(table.columns)
    ['table', 'reason', 'rows_removed', 'rows_before', 'share_removed']
    """
    import narwhals as nw

    from marketing.columns import TIMESTAMP
    from marketing.frames import count_where, scalars

    if data.observation_end is None:
        print(f"{n_rows(data.customers):,} rows, one per person; no event log.")
    else:
        end = data.observation_end.to_pydatetime()
        before = nw.col(TIMESTAMP) < nw.lit(end)
        row = scalars(
            data.events, inside=count_where(before), all=nw.len(),
            first=nw.when(before).then(nw.col(TIMESTAMP)).min(), last=nw.when(before).then(nw.col(TIMESTAMP)).max(),
        )
        inside, later = int(row["inside"] or 0), int(row["all"]) - int(row["inside"] or 0)
        span = f" from {row['first']:%Y-%m-%d} to {row['last']:%Y-%m-%d}" if inside else ""
        after = f"; {later:,} later events (the label window) are not used by the features" if later else ""
        print(f"{n_rows(data.customers):,} customers; {inside:,} events{span}, before the observation end "
              f"{data.observation_end:%Y-%m-%d}{after}.")
    table = data.cleaning.to_frame()
    print(f"Cleaning removed {int(table['rows_removed'].sum()):,} rows:" if len(table) else "Cleaning removed nothing.")
    return table


def show_warnings(warnings, topic: str = "the segment sizes") -> None:
    """Print a report's warnings about ``topic``, one a line, or one line saying there are none.

    Printed (not :mod:`warnings`), so they stay in the report beside the result they qualify;
    the same strings go into the record.

    Examples
    --------
    >>> show_warnings([])
    No warnings about the segment sizes.
    >>> show_warnings(["2 of 8 segments have fewer than 10 customers"])
    Warning: 2 of 8 segments have fewer than 10 customers
    """
    if not warnings:
        print(f"No warnings about {topic}.")
    for warning in warnings:
        print(f"Warning: {warning}")
