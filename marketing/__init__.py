"""Reproducible marketing analytics: segmentation, recommendations and regression.

The package does the work behind the notebooks in ``notebooks/``; every function is importable
and tested without Jupyter. The public entry points:

- :func:`marketing.cases.get_case` / :func:`marketing.cases.list_cases`: the case-study registry.
- :func:`marketing.datasets.load_case_data`: a case's tables in canonical form (synthetic by default).
- :mod:`marketing.features`: RFM and windowed customer features.
- :mod:`marketing.clv`: lifetime value with buy-till-you-die models (BG/NBD, Gamma-Gamma).
- :mod:`marketing.data_quality`: warnings where a table of features looks suspicious (missing-value
  codes, impossible zeros, one dominant value), for any analysis.

The names below are imported on first use (PEP 562), so that ``import marketing`` and the
command line (``python -m marketing list``, ``--help``, the up-to-date check of ``reports``)
start without loading pandas, numpy or scikit-learn.

Examples
--------
>>> import marketing
>>> marketing.CUSTOMER
'customer_id'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

#: Exported name -> the module that defines it.
_EXPORTS = {
    "AMOUNT": "marketing.columns",
    "CUSTOMER": "marketing.columns",
    "ITEM": "marketing.columns",
    "RATING": "marketing.columns",
    "TIMESTAMP": "marketing.columns",
    "CaseStudy": "marketing.cases",
    "get_case": "marketing.cases",
    "list_cases": "marketing.cases",
    "CaseData": "marketing.datasets",
    "load_case_data": "marketing.datasets",
    "DataValidationError": "marketing.validation",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:  # static tools see the names; nothing heavy is imported at run time
    from marketing.cases import CaseStudy, get_case, list_cases
    from marketing.columns import AMOUNT, CUSTOMER, ITEM, RATING, TIMESTAMP
    from marketing.datasets import CaseData, load_case_data
    from marketing.validation import DataValidationError


def __getattr__(name: str):
    try:
        module = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'marketing' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # the next access is a plain attribute lookup
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
