"""What each engine can do, declared once.

Every analysis step runs on every engine unless this table says otherwise. The notebooks never
branch on the engine: they print :func:`capability_note` once, and a step an engine lacks prints
:func:`unavailable` (one sentence, from this table) where its output would be.

``duckdb`` keeps the event log in DuckDB and brings per-customer tables to pandas for the models,
so it can do everything pandas can; ``spark`` keeps every table in Spark and fits Spark ML
models, so the in-memory-only diagnostics are not available there.
"""

from __future__ import annotations

from marketing.engines import ENGINES, check_engine

IN_MEMORY = frozenset({"pandas", "duckdb"})
#: The regression models beyond the baseline and the unpenalized GLM (Spark fits only those two).
FLEXIBLE_MODELS = (
    "ridge, penalised logistic regression, the tree, gradient boosting, the random forest, the neural network "
    "and the linear SVM"
)

#: analysis -> step -> the engines that run it. A step not listed runs on every engine.
CAPABILITIES: dict[str, dict[str, frozenset[str]]] = {
    "segmentation": {
        "clustering methods other than k-means (gmm, ward, hdbscan)": IN_MEMORY,
        # the BTYD models fit in memory (as in the regression analysis)
        "lifetime value by segment (BTYD)": IN_MEMORY,
    },
    "recommendation": {
        "user and item kNN and EASE recommenders": IN_MEMORY,
        "rating prediction": IN_MEMORY,
        "the hyper-parameter sweep": IN_MEMORY,
        "explained recommendations (item kNN)": IN_MEMORY,
        # the content models read the customers and items tables in memory; Spark has no content models yet
        "content-based and hybrid recommendations (the cold start)": IN_MEMORY,
    },
    "regression": {
        FLEXIBLE_MODELS: IN_MEMORY,
        "bootstrap intervals of the metrics": IN_MEMORY,
        "the decision tree diagram": IN_MEMORY,
        "permutation importance": IN_MEMORY,
        "partial dependence": IN_MEMORY,
        "the data warnings (leakage, missing-value codes, impossible zeros, dominant values)": IN_MEMORY,
        # DuckDB aggregates the log to customer-days and the models fit in memory; nothing for Spark yet
        "the buy-till-you-die models (BG/NBD and Gamma-Gamma)": IN_MEMORY,
    },
}


def _steps(analysis: str) -> dict[str, frozenset[str]]:
    if analysis not in CAPABILITIES:
        raise ValueError(f"analysis must be one of {sorted(CAPABILITIES)}, got {analysis!r}.")
    return CAPABILITIES[analysis]


def supports(analysis: str, step: str, engine: str) -> bool:
    """Whether ``engine`` runs ``step`` of ``analysis`` (a step the table does not list runs everywhere).

    Examples
    --------
    >>> supports("regression", "partial dependence", "spark")
    False
    >>> supports("regression", "partial dependence", "pandas")
    True
    """
    check_engine(engine)
    return engine in _steps(analysis).get(step, frozenset(ENGINES))


def missing(analysis: str, engine: str) -> list[str]:
    """The steps of ``analysis`` that ``engine`` does not run, in the table's order.

    Examples
    --------
    >>> missing("segmentation", "spark")
    ['clustering methods other than k-means (gmm, ward, hdbscan)', 'lifetime value by segment (BTYD)']
    >>> missing("segmentation", "pandas")
    []
    """
    check_engine(engine)
    return [step for step, engines in _steps(analysis).items() if engine not in engines]


def capability_note(analysis: str, engine: str) -> str:
    """One sentence for a notebook: what this engine leaves out of ``analysis``, if anything.

    Examples
    --------
    >>> capability_note("segmentation", "pandas")
    'Engine pandas: every step of this analysis runs.'
    >>> capability_note("segmentation", "spark")
    'Engine spark: every step runs except clustering methods other than k-means (gmm, ward, hdbscan); and lifetime value by segment (BTYD), which need engine="pandas" or "duckdb".'
    """
    left_out = missing(analysis, engine)
    if not left_out:
        return f"Engine {engine}: every step of this analysis runs."
    return (
        f"Engine {engine}: every step runs except {_join(left_out)}, which need "
        f'engine="pandas" or "duckdb".'
    )


def unavailable(analysis: str, step: str, engine: str) -> str:
    """The sentence a notebook shows where ``step`` would be, on an engine that lacks it.

    Examples
    --------
    >>> unavailable("regression", "partial dependence", "spark")
    'partial dependence: not on engine spark (see the engine note at the top).'
    """
    if step not in _steps(analysis):
        raise ValueError(f"{analysis}: {step!r} is not a step of the capability table {list(_steps(analysis))}.")
    return f"{step}: not on engine {engine} (see the engine note at the top)."


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else "; ".join(items[:-1]) + "; and " + items[-1]
