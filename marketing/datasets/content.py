"""The columns a case file names for content-based recommendations, checked against its data.

A case file's optional ``content`` section says which customer and item columns describe them
(``customer_columns``, ``item_columns``) and which item column holds free text
(``text_column``); :func:`content_columns` checks them against the canonical tables, so that a
misspelt column fails ``python -m marketing check`` naming the column and its table.
"""

from __future__ import annotations

from dataclasses import dataclass

from marketing.datasets.canonical import CaseData
from marketing.validation import DataValidationError


@dataclass(frozen=True)
class ContentColumns:
    """The content columns of a case, each present in its canonical table.

    Attributes
    ----------
    customer_columns : tuple of str
        Columns of ``CaseData.customers`` that describe a customer.
    item_columns : tuple of str
        Columns of ``CaseData.items`` that describe an item.
    text_column : str or None
        A column of ``CaseData.items`` holding free text, or None.
    """

    customer_columns: tuple[str, ...] = ()
    item_columns: tuple[str, ...] = ()
    text_column: str | None = None


def content_columns(data: CaseData) -> ContentColumns:
    """The case's ``content`` section, checked against its customers and items tables.

    Parameters
    ----------
    data : CaseData
        A case's canonical data (:func:`marketing.datasets.load_case_data`).

    Returns
    -------
    ContentColumns
        Empty when the case file has no ``content`` section.

    Raises
    ------
    DataValidationError
        A named column is not in its table (the message names the key, the column, the table
        and the columns it has), or a customer column is a target or a leakage column (it
        describes the future, not the customer).

    Examples
    --------
    >>> from marketing.datasets import load_case_data
    >>> content_columns(load_case_data("ecommerce"))
    ContentColumns(customer_columns=('region', 'channel', 'age'), item_columns=('category', 'price'), text_column=None)
    """
    case = data.case
    spec = case.content or {}
    tables = case.tables
    customers_name = tables.get("customers", {}).get("table", "customers")
    items_name = tables.get("items", {}).get("table", "items")
    out = ContentColumns(
        tuple(spec.get("customer_columns") or ()), tuple(spec.get("item_columns") or ()), spec.get("text_column")
    )
    checks = [("customer_columns", c, data.customers, customers_name) for c in out.customer_columns]
    checks += [("item_columns", c, data.items, items_name) for c in out.item_columns]
    if out.text_column is not None:
        checks.append(("text_column", out.text_column, data.items, items_name))
    for key, column, frame, name in checks:
        if column not in frame.columns:
            raise DataValidationError(
                f"case {case.name!r}: content.{key} names column {column!r}, which the {name} table "
                f"does not have; it has {list(frame.columns)}. Correct the name in the case file's "
                "content section (columns are named as after the tables' role renames)."
            )
    future = {t.column for t in case.targets.values()} | {t.source for t in case.targets.values() if t.source} | set(case.leakage)
    leaking = [c for c in out.customer_columns if c in future]
    if leaking:
        raise DataValidationError(
            f"case {case.name!r}: content.customer_columns names {leaking}, a target or leakage column "
            f"of the {customers_name} table: it is measured after the observation end. Remove it."
        )
    return out
