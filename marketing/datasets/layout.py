"""The folder layout of canonical tables that the DuckDB and Spark engines read (``data_path``).

``events`` (required), ``customers`` and ``items``, each as ``<table>.parquet`` (a file or a folder
of part files) or ``<table>.csv``. Each engine brings how it finds and reads a table; the checks,
and so the errors for a bad folder, are the same on both.
"""

from __future__ import annotations

from collections.abc import Callable

from marketing.columns import AMOUNT, CUSTOMER, ITEM, QUANTITY, RATING, TIMESTAMP
from marketing.validation import DataValidationError, require_columns, require_numeric_columns

TABLES = ("customers", "items", "events")
FORMATS = ("parquet", "csv")
REQUIRED = {"events": (CUSTOMER, ITEM, TIMESTAMP, AMOUNT), "customers": (CUSTOMER,), "items": (ITEM,)}


def read_tables(root, format: str | None, locate: Callable, read: Callable) -> tuple[dict, dict]:
    """The tables found under ``root``, read and checked, and where each was found.

    ``locate(name, format)`` returns ``(path, format)`` or None; ``read(path, format)`` returns the
    engine's frame. Raises with the path and the fix for an unknown format, a folder without
    events, a table without its id columns, or non-numeric amounts, quantities or ratings.
    """
    if format is not None and format not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {format!r}.")
    located = {name: locate(name, format) for name in TABLES}
    if located["events"] is None:
        raise DataValidationError(
            f"events: no events.parquet or events.csv under {root}. Write the tables there with "
            "marketing.spark.write_tables, or point data_path at the folder that holds them."
        )
    tables = {}
    for name, found in located.items():
        if found is not None:
            tables[name] = read(*found)
            require_columns(tables[name], REQUIRED[name], name, found[0])
    require_numeric_columns(tables["events"], [AMOUNT, QUANTITY, RATING], f"events ({located['events'][0]})")
    return tables, {name: found[0] for name, found in located.items() if found is not None}
