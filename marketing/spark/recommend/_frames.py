"""Small helpers shared by the Spark recommendation modules (private)."""

from __future__ import annotations

from collections.abc import Sequence

from marketing.spark.data import require_frame as _require_frame


def require_frame(frame, name: str, columns: Sequence[str] = ()) -> None:
    """Raise unless ``frame`` is a Spark DataFrame holding ``columns``."""
    _require_frame(frame, name, columns, pandas_module="marketing.recommend")


def single_partition_window(*order):
    """A window over a whole small table (one row per item): Spark moves it to one partition.

    Used only for tables of one row per item (the catalogue), never per customer or per event.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    return Window.partitionBy(F.lit(0)).orderBy(*order)
