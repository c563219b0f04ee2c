"""The Spark session the analyses run on: local mode by default, a cluster when asked.

Where the session comes from, first match wins:

1. ``master`` given to :func:`spark_session` (a notebook's ``spark_master`` parameter):
   ``"local[*]"``, ``"local[4]"``, ``"spark://host:7077"``, ``"yarn"``, ``"k8s://..."``;
2. an active session in this process, as on a managed platform (Databricks, EMR, Dataproc
   notebooks) where ``spark`` already exists: it is reused as it is;
3. the ``MARKETING_SPARK_MASTER`` environment variable;
4. ``"local[*]"``: every core of this machine.

A session this module creates gets the settings the analyses rely on (UTC session time zone so
timestamps mean the same as in pandas, Arrow for the small frames collected to pandas, quiet
logs, the JVM's own output in :func:`driver_log_path`); a reused session keeps its settings, except that its SQL time zone is set to UTC (day counts
such as recency are computed on timestamps, and a zone with daylight saving shifts them).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

MIN_JAVA = 17
MASTER_ENV = "MARKETING_SPARK_MASTER"
DRIVER_MEMORY_ENV = "MARKETING_SPARK_DRIVER_MEMORY"
LOG_CONFIG = Path(__file__).with_name("log4j2.properties")

INSTALL_JAVA = (
    "Install a Java runtime 17 or newer and make it the one on PATH (or set JAVA_HOME): "
    "Debian/Ubuntu `sudo apt install openjdk-17-jre-headless`; macOS `brew install openjdk@17`; "
    "conda `conda install -c conda-forge openjdk=17`; Windows https://adoptium.net."
)
INSTALL_PYSPARK = (
    "The Spark engine needs pyspark, an optional dependency: `make test` and `make bench` install it "
    "(requirements-spark.lock); by hand, `pip install -e '.[spark]'`. engine=\"pandas\" needs none of it."
)


class SparkUnavailableError(RuntimeError):
    """Spark cannot start here: pyspark or a suitable Java runtime is missing."""


def java_major_version(version_output: str) -> int | None:
    """The major version in what ``java -version`` prints, or None when there is none.

    Java 8 and older print ``1.<major>``; newer ones print the major version first.

    Examples
    --------
    >>> java_major_version('openjdk version "17.0.15" 2025-04-15')
    17
    >>> java_major_version('java version "1.8.0_392"')
    8
    >>> java_major_version('openjdk version "21" 2023-09-19')
    21
    >>> java_major_version("bash: java: command not found") is None
    True
    """
    match = re.search(r'version "(\d+)(?:\.(\d+))?', version_output)
    if match is None:
        return None
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def find_java() -> Path | None:
    """The java executable Spark will launch: ``$JAVA_HOME/bin/java``, else the one on PATH."""
    home = os.environ.get("JAVA_HOME")
    if home:
        candidate = Path(home) / "bin" / "java"
        return candidate if candidate.exists() else None
    found = shutil.which("java")
    return Path(found) if found else None


def require_java(minimum: int = MIN_JAVA) -> int:
    """Check that a Java runtime ``minimum`` or newer is there; return its major version.

    Raises
    ------
    SparkUnavailableError
        No java (naming where it was looked for), or one that is too old, with how to install one.
    """
    java = find_java()
    if java is None:
        where = f"JAVA_HOME={os.environ['JAVA_HOME']}" if os.environ.get("JAVA_HOME") else "PATH"
        raise SparkUnavailableError(f"Spark needs Java {minimum} or newer; no java found on {where}. {INSTALL_JAVA}")
    try:
        done = subprocess.run([str(java), "-version"], capture_output=True, text=True, timeout=60)
        printed = done.stderr + done.stdout
    except OSError as error:
        printed = str(error)
    major = java_major_version(printed)
    if major is None or major < minimum:
        found = f"Java {major}" if major is not None else f"a java that did not report its version ({printed.strip()[:120]!r})"
        raise SparkUnavailableError(f"Spark needs Java {minimum} or newer; {java} is {found}. {INSTALL_JAVA}")
    return major


def require_pyspark():
    """Import pyspark, or say how to install it."""
    try:
        import pyspark
    except ImportError as error:
        raise SparkUnavailableError(INSTALL_PYSPARK) from error
    return pyspark


def default_driver_memory() -> str:
    """Half of this machine's memory (at least 1 GiB), as Spark writes it: ``"12g"``.

    In local mode the driver JVM does all the work, and Spark's own default of 1 GiB fails on
    frames of a few million rows. ``MARKETING_SPARK_DRIVER_MEMORY`` overrides it.
    """
    if os.environ.get(DRIVER_MEMORY_ENV):
        return os.environ[DRIVER_MEMORY_ENV]
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return "2g"
    return f"{max(1, total // 2**31)}g"


def driver_log_path() -> Path:
    """Where the Spark driver JVM's own output goes: ``<tmp>/marketing-spark/driver-<pid>.log``."""
    folder = Path(tempfile.gettempdir()) / "marketing-spark"
    folder.mkdir(exist_ok=True)
    return folder / f"driver-{os.getpid()}.log"


def _local_settings(master: str) -> dict[str, str]:
    cores = os.cpu_count() or 1
    if master.startswith("local["):
        inside = master[len("local["):].rstrip("]").split(",")[0]
        cores = cores if inside == "*" else int(inside)
    return {
        "spark.driver.memory": default_driver_memory(),
        # few, fuller partitions on one machine; adaptive execution merges small ones further
        "spark.sql.shuffle.partitions": str(max(4, 4 * cores)),
    }


def spark_session(master: str | None = None, *, app_name: str = "marketing", config: dict | None = None):
    """A Spark session to run the analyses on (see the module docstring for where it comes from).

    Parameters
    ----------
    master : str, optional
        Spark master URL. None reuses an active session, else ``$MARKETING_SPARK_MASTER``,
        else ``"local[*]"``.
    app_name : str
        Name shown in the Spark UI of a cluster.
    config : dict, optional
        Extra Spark settings for a session this function creates, e.g.
        ``{"spark.executor.memory": "8g"}``.

    Returns
    -------
    pyspark.sql.SparkSession

    Raises
    ------
    SparkUnavailableError
        pyspark is not installed, or (for a new session) no Java 17+ runtime is found.

    Examples
    --------
    >>> session = spark_session("local[2]")
    >>> session.conf.get("spark.sql.session.timeZone")
    'UTC'
    """
    require_pyspark()
    from pyspark import SparkConf, SparkContext
    from pyspark.java_gateway import launch_gateway
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None and master is None:
        _use_utc(active)
        return active
    master = master or os.environ.get(MASTER_ENV) or "local[*]"
    require_java()
    if master.startswith("local"):
        # one machine needs no outside interface; this also stops the JVM warning about the hostname
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    settings = {
        "spark.sql.session.timeZone": "UTC",
        "spark.driver.extraJavaOptions": f"-Duser.timezone=UTC -Dlog4j2.configurationFile={LOG_CONFIG.as_uri()}",
        "spark.executor.extraJavaOptions": "-Duser.timezone=UTC",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.ui.showConsoleProgress": "false",
        **(_local_settings(master) if master.startswith("local") else {}),
        **(config or {}),
    }
    conf = SparkConf().setMaster(master).setAppName(app_name).setAll(list(settings.items()))
    if SparkContext._active_spark_context is None:
        # The JVM writes a banner and start-up warnings straight to the process's stderr, which a
        # notebook kernel shows as cell output; they go to a log file instead (errors still reach
        # Python as exceptions).
        with open(driver_log_path(), "ab") as log:
            SparkContext(conf=conf, gateway=launch_gateway(conf, popen_kwargs={"stderr": log}))
    session = SparkSession.builder.config(conf=conf).getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    if master.startswith("local") and session.sparkContext.getCheckpointDir() is None:
        # iterative Spark ML (ALS) cuts its growing lineage only where a checkpoint folder is set;
        # without one, large fits can end in a StackOverflowError (a cluster sets its own, on HDFS)
        session.sparkContext.setCheckpointDir(tempfile.mkdtemp(prefix="checkpoints-", dir=driver_log_path().parent))
    _use_utc(session)
    return session


def _use_utc(session) -> None:
    if session.conf.get("spark.sql.session.timeZone") != "UTC":
        session.conf.set("spark.sql.session.timeZone", "UTC")
