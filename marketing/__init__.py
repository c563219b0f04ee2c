"""Reproducible marketing analytics: segmentation, recommendations and regression.

The package does the work behind the notebooks in ``notebooks/``; every function is importable
and tested without Jupyter. The public entry points:

- :func:`marketing.cases.get_case` / :func:`marketing.cases.list_cases`: the case-study registry.
- :func:`marketing.datasets.load_case_data`: a case's tables in canonical form (synthetic by default).
- :mod:`marketing.features`: RFM and windowed customer features.
- :mod:`marketing.data_quality`: warnings where a table of features looks suspicious (missing-value
  codes, impossible zeros, one dominant value), for any analysis.
"""

from marketing.cases import CaseStudy, get_case, list_cases
from marketing.columns import CUSTOMER, ITEM, TIMESTAMP, AMOUNT, RATING
from marketing.datasets import CaseData, load_case_data
from marketing.validation import DataValidationError

__version__ = "0.1.0"

__all__ = [
    "AMOUNT",
    "CUSTOMER",
    "CaseData",
    "CaseStudy",
    "DataValidationError",
    "ITEM",
    "RATING",
    "TIMESTAMP",
    "get_case",
    "list_cases",
    "load_case_data",
]
