"""The one entry point from a case to its canonical data, whatever the source.

It dispatches on the case's source: the synthetic generator, a public dataset's adapter, or the
analyst's own files; each of those builds on :mod:`marketing.datasets.canonical`, which imports
none of them.
"""

from __future__ import annotations

from marketing.cases import CaseStudy, get_case
from marketing.datasets.adapters import load_public
from marketing.datasets.canonical import CaseData, to_canonical
from marketing.datasets.files import load_own_data
from marketing.datasets.synthetic import generate


def load_case_data(
    case: str | CaseStudy, data_size: str = "small", seed: int = 42, data_source: str | None = None
) -> CaseData:
    """Load a case's data in canonical form.

    Parameters
    ----------
    case : str or CaseStudy
        Built-in case name or a case-file path.
    data_size : {"small", "medium", "large"}
        Size of the synthetic data (ignored for other sources).
    seed : int
        Seed of the synthetic generator (ignored for other sources).
    data_source : str, optional
        ``"synthetic"`` (the default for built-in cases), ``"public"`` (the case's public
        dataset) or a public dataset's name; see :meth:`CaseStudy.for_source`. A case file with
        ``source: files`` reads the analyst's own files.

    Examples
    --------
    >>> data = load_case_data("ecommerce", seed=7)
    >>> list(data.events.columns)
    ['order_id', 'customer_id', 'item_id', 'timestamp', 'quantity', 'amount']
    >>> data.cleaning.to_frame()["rows_removed"].sum() > 0   # the returns were removed, and counted
    np.True_
    """
    case = get_case(case).for_source(data_source)
    if case.source == "files":
        return load_own_data(case)
    if case.source != "synthetic":
        # the adapter already validated and cleaned the dataset into canonical tables
        public = load_public(case.source)
        return CaseData(case, public.customers, public.items, public.events, public.observation_end,
                        public.cleaning, None, public.source)
    synthetic = generate(case, size=data_size, seed=seed)
    return to_canonical(
        case,
        synthetic.tables,
        observation_end=synthetic.truth.observation_end,
        truth=synthetic.truth,
        source=f"synthetic:{data_size}:seed={seed}",
    )
