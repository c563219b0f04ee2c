"""Data for the case studies: synthetic generators and the loader into canonical tables."""

from marketing.datasets.canonical import CaseData, load_case_data, to_canonical
from marketing.datasets.synthetic import SIZES, SyntheticData, Truth, generate

__all__ = ["SIZES", "CaseData", "SyntheticData", "Truth", "generate", "load_case_data", "to_canonical"]
