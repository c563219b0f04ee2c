"""What the Spark engine (``engine="spark"``) needs of Spark itself: the session, Spark I/O and Spark ML.

pyspark is an optional dependency (``pip install -e '.[spark]'``; ``make test`` installs it) and
Spark needs Java 17 or newer. The analyses' public API is the same on every engine
(:mod:`marketing.segmentation`, :mod:`marketing.recommend`, :mod:`marketing.regression`), and
their relational steps are written once in narwhals; they call these modules for Spark input:

- :mod:`marketing.spark.session`: the session (local mode, a master URL, or an active session);
- :mod:`marketing.spark.data`: canonical tables read from Parquet or CSV, or handed over from pandas;
- :mod:`marketing.spark.segmentation`: Spark ML k-means in the in-memory path's feature space, and
  its refits for stability;
- :mod:`marketing.spark.recommend`: implicit-feedback ALS (Spark ML) and its top-k for every customer;
- :mod:`marketing.spark.regression`: OLS and logistic regression (Spark ML GLM, with standard
  errors), the design encoder, and the Spark problem table.

The few operations narwhals does not do the same way on Spark (running sums and ranks without a
single partition, seeded hash samples, approximate quantiles, whole days) are the shims of
:mod:`marketing.frames`.

Everything large stays a Spark DataFrame; only small results (profiles, metrics, samples for
plots) are collected to pandas.
"""

import warnings

# pyspark 4.3 warns on every pandas conversion that it "does not yet fully support pandas >= 3.0.0".
# The conversions this package makes (numbers, strings, timestamps) are tested on both engines, so
# that one message is silenced; any other warning still shows.
warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
# ... and its toPandas() passes pandas a `copy` keyword that pandas 3 deprecates (pyspark's call, not ours)
warnings.filterwarnings("ignore", message="The copy keyword is deprecated", module=r"pyspark\.")

from marketing.spark.session import SparkUnavailableError, require_java, spark_session

__all__ = ["SparkUnavailableError", "require_java", "spark_session"]
