"""Data for the case studies: synthetic generators and the loader into canonical tables."""

from marketing.datasets.canonical import CaseData, to_canonical
from marketing.datasets.content import ContentColumns, content_columns
from marketing.datasets.load import load_case_data
from marketing.datasets.adapters import PublicData, load_public
from marketing.datasets.public import DATASETS, fetch
from marketing.datasets.synthetic import SIZES, SyntheticData, Truth, generate

__all__ = [
    "DATASETS",
    "SIZES",
    "CaseData",
    "ContentColumns",
    "PublicData",
    "SyntheticData",
    "Truth",
    "content_columns",
    "fetch",
    "generate",
    "load_case_data",
    "load_public",
    "to_canonical",
]
