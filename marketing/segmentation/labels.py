"""Segments beside the customers they label, as one narwhals frame on every engine.

In memory a segmenter's ``labels_`` is an array in the order of the customer table's rows (the
table indexed by ``customer_id``); on Spark it is a DataFrame of ``customer_id`` and
``segment``. The relational steps of the segmentation (profiles, the cross-tab with RFM, the
audience) are written once against the frame these functions return.
"""

from __future__ import annotations

import narwhals as nw
import numpy as np
import pandas as pd

from marketing.columns import CUSTOMER, SEGMENT
from marketing.engines import engine_of



def labelled(table, labels) -> tuple[nw.DataFrame | nw.LazyFrame, list[str]]:
    """``table``'s customers with their ``segment`` (missing where ``labels`` has none), and its features.

    Examples
    --------
    >>> table = pd.DataFrame({"x": [1.0, 2.0]}, index=pd.Index([7, 9], name="customer_id"))
    >>> frame, features = labelled(table, [0, 1])
    >>> frame.to_native().to_dict("list"), features
    ({'customer_id': [7, 9], 'x': [1.0, 2.0], 'segment': [0, 1]}, ['x'])
    """
    if engine_of(table) == "spark":
        features = [c for c in table.columns if c != CUSTOMER]
        segments = nw.from_native(labels).select(CUSTOMER, nw.col(SEGMENT))
        return nw.from_native(table).join(segments, on=CUSTOMER, how="left"), features
    labels = np.asarray(labels)
    if len(labels) != len(table):
        raise ValueError(f"labels has {len(labels)} entries but the table has {len(table)} customers.")
    frame = table.assign(**{SEGMENT: labels}).rename_axis(CUSTOMER).reset_index()
    return nw.from_native(frame), list(table.columns)


def segment_pairs(labels, other, column: str):
    """Each customer's ``segment`` beside ``column`` of ``other`` (a Series aligned with the labels
    in memory; a frame with ``customer_id`` on Spark).

    Examples
    --------
    >>> segment_pairs([0, 1], pd.Series(["New", "Loyal"]), "rfm_segment").to_native().to_dict("list")
    {'segment': [0, 1], 'rfm_segment': ['New', 'Loyal']}
    """
    if engine_of(other) == "spark":
        return nw.from_native(labels).select(CUSTOMER, nw.col(SEGMENT)).join(
            nw.from_native(other).select(CUSTOMER, nw.col(column)), on=CUSTOMER, how="inner"
        ).select(SEGMENT, column)
    return nw.from_native(pd.DataFrame({SEGMENT: np.asarray(labels), column: np.asarray(other)}))
