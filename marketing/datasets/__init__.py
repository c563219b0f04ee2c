"""Data for the case studies: synthetic generators and the loader into canonical tables."""

from marketing.datasets.canonical import CaseData, load_case_data, to_canonical
from marketing.datasets.adapters import PublicData, load_public
from marketing.datasets.public import DATASETS, fetch
from marketing.datasets.synthetic import SIZES, SyntheticData, Truth, generate

__all__ = [
    "DATASETS",
    "SIZES",
    "CaseData",
    "PublicData",
    "SyntheticData",
    "Truth",
    "fetch",
    "generate",
    "load_case_data",
    "load_public",
    "to_canonical",
]
