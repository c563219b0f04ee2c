"""Fixtures shared by the tests and the package's doctests: a local Spark session for the Spark engine.

The Spark engine is optional. Where pyspark or Java 17+ is missing, its tests and doctests are
skipped with the reason, unless MARKETING_REQUIRE_SPARK=1 (CI sets it) makes that a failure.
"""

import importlib.util
import os
import re
import warnings

import pytest

REQUIRE_SPARK = os.environ.get("MARKETING_REQUIRE_SPARK") == "1"

# A test's Spark session is short and its data small: the JVM's optimising JIT (C2) and parallel
# GC cost more CPU than they save there, and with two pytest workers on two cores CPU is what the
# suite waits for. Measured: two Spark test files side by side 196 s as is, 135 s with these.
# Set in the environment, so the kernels of the Spark notebook tests inherit them.
os.environ.setdefault("SPARK_SUBMIT_OPTS", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:CICompilerCount=1 -XX:-UsePerfData")

if importlib.util.find_spec("pyspark") is None and not REQUIRE_SPARK:
    # the modules import pyspark; without it their doctests cannot even be collected
    collect_ignore_glob = ["marketing/spark/*.py"]


def _uses_spark(item) -> bool:
    name = item.nodeid
    return (
        "spark" in getattr(item, "fixturenames", ())
        or name.startswith("marketing/spark/")
        or "/test_spark_" in name or "/test_bench_spark" in name
        or re.search(r"[\[-]spark[\]-]", name) is not None  # a test parametrized over the engines
    )


def pytest_collection_modifyitems(config, items):
    """Every Spark test carries the ``spark`` marker: ``-m "not spark"`` is the in-memory suite."""
    for item in items:
        if _uses_spark(item):
            item.add_marker(pytest.mark.spark)


@pytest.fixture(scope="session")
def spark():
    """One local Spark session per test process (two cores; starting one takes about 8 s)."""
    from tests.conftest import require_spark

    require_spark()
    from marketing.spark.session import SparkUnavailableError, spark_session

    try:
        with warnings.catch_warnings():
            # pyspark 4.3 warns that it does not fully support pandas 3; the tests check what we use
            warnings.filterwarnings("ignore", category=FutureWarning, module=r"pyspark\.")
            session = spark_session("local[2]", app_name="marketing-tests",
                                    config={"spark.driver.memory": "2g", "spark.sql.shuffle.partitions": "4"})
    except (ImportError, SparkUnavailableError) as error:
        if REQUIRE_SPARK:
            raise
        pytest.skip(f"the Spark engine cannot run here: {error}")
    yield session
    session.stop()


@pytest.fixture(autouse=True)
def _spark_in_doctests(request, doctest_namespace):
    """Doctests of marketing/spark get ``spark`` (other doctests do not start it)."""
    if isinstance(request.node, pytest.DoctestItem) and "marketing.spark" in request.node.name:
        doctest_namespace["spark"] = request.getfixturevalue("spark")
