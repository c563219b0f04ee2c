"""Small helpers shared by the Spark recommendation modules (private)."""

from __future__ import annotations

from collections.abc import Sequence

from marketing.validation import DataValidationError


def require_frame(frame, name: str, columns: Sequence[str] = ()) -> None:
    """Raise unless ``frame`` is a Spark DataFrame holding ``columns``."""
    from pyspark.sql import DataFrame

    if not isinstance(frame, DataFrame):
        raise TypeError(
            f"{name} must be a Spark DataFrame, got {type(frame).__name__}. With pandas data use "
            "marketing.recommend, or hand the tables to Spark with marketing.spark.data.to_spark."
        )
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataValidationError(f"table '{name}': missing column(s) {missing}; it has {frame.columns}.")


def single_partition_window(*order):
    """A window over a whole small table (one row per item): Spark moves it to one partition.

    Used only for tables of one row per item (the catalogue), never per customer or per event.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    return Window.partitionBy(F.lit(0)).orderBy(*order)
