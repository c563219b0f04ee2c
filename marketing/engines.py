"""The three engines the analyses run on, and the one place a notebook's ``engine`` parameter is read.

- ``"pandas"`` (the default): everything in memory with pandas (customer features aggregated on Polars,
  in parallel), scikit-learn and implicit; fits data up to a few million events per machine and
  has every diagnostic.
- ``"duckdb"``: the event log stays in DuckDB (:mod:`marketing.duckdb_engine`; larger than memory,
  Parquet or CSV, no JVM); the relational steps run there and the per-customer tables come to
  pandas for the models.
- ``"spark"``: Apache Spark (:mod:`marketing.spark`), for event logs that outgrow one machine:
  features, models and metrics are computed in Spark and only small results are collected.
"""

from __future__ import annotations

from pathlib import Path

from marketing.cases import CaseStudy

ENGINES = ("pandas", "duckdb", "spark")


def engine_of(obj) -> str:
    """The engine an object belongs to: ``"pandas"``, ``"duckdb"`` or ``"spark"``.

    The one dispatch rule of the package: a case's data says its engine (its ``engine``
    attribute); a frame, relation or fitted model is known by the library that made it, read off
    its type's module so that no optional engine is imported to ask. Anything else (numpy arrays,
    pandas objects, plain Python) is in memory: ``"pandas"``.

    Examples
    --------
    >>> import pandas as pd
    >>> engine_of(pd.DataFrame({"a": [1]}))
    'pandas'
    >>> from marketing.datasets import load_case_data
    >>> engine_of(load_case_data("finance"))
    'pandas'
    """
    engine = getattr(obj, "engine", None)
    if isinstance(engine, str) and engine in ENGINES:
        return engine
    native = getattr(obj, "to_native", None)  # a narwhals frame or series wraps its backend's
    if callable(native) and type(obj).__module__.startswith("narwhals"):
        return engine_of(native())
    library = type(obj).__module__.split(".")[0]
    return {"pyspark": "spark", "duckdb": "duckdb", "_duckdb": "duckdb"}.get(library, "pandas")


def check_engine(engine: str) -> str:
    """Return ``engine`` if known, else raise a ValueError that lists the engines.

    Examples
    --------
    >>> check_engine("spark")
    'spark'
    >>> check_engine("dask")
    Traceback (most recent call last):
    ...
    ValueError: engine must be one of ('pandas', 'duckdb', 'spark'), got 'dask'.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}.")
    return engine


def load_data(
    case: str | CaseStudy,
    engine: str = "pandas",
    *,
    data_size: str = "small",
    seed: int = 42,
    data_source: str | None = None,
    data_path: str | Path | None = None,
    spark_master: str | None = None,
):
    """A case's canonical data for ``engine``: a :class:`~marketing.datasets.CaseData`, a
    :class:`~marketing.duckdb_engine.DuckDBCaseData` or a :class:`~marketing.spark.data.SparkCaseData`.

    ``case`` may already be specialised with :meth:`CaseStudy.for_source`, as in the notebooks; then
    leave ``data_source`` as None. With ``engine="duckdb"`` or ``"spark"``, ``data_path`` holds the
    canonical tables as Parquet or CSV (a local folder for DuckDB, any path Spark can read; see
    :func:`marketing.spark.data.read_case_data`); without it, the data the pandas path would load
    is handed to the engine. ``spark_master`` picks the session
    (:func:`marketing.spark.spark_session`).

    Examples
    --------
    >>> data = load_data("finance", "pandas", seed=1)
    >>> type(data).__name__, len(data.customers)
    ('CaseData', 2000)
    """
    check_engine(engine)
    if engine == "pandas":
        if data_path is not None:
            raise ValueError(
                "data_path is read by engine='duckdb' or 'spark' only; with engine='pandas' use data_source, or a case "
                "file with `source: files` for your own tables."
            )
        from marketing.datasets import load_case_data

        return load_case_data(case, data_size=data_size, seed=seed, data_source=data_source)
    if engine == "duckdb":
        from marketing.duckdb_engine import load_duckdb_data

        return load_duckdb_data(case, data_path=data_path, data_size=data_size, seed=seed, data_source=data_source)
    from marketing.spark.data import load_spark_data
    from marketing.spark.session import spark_session

    return load_spark_data(
        case, spark_session(spark_master), data_path=data_path, data_size=data_size, seed=seed, data_source=data_source
    )
