"""What segmentation needs from Spark itself: Spark ML k-means and its feature space.

:mod:`marketing.segmentation` is the API on every engine; it calls these for a Spark table.
The relational steps (RFM scores and names, profiles, the cross-tab, the quality indices
(:mod:`marketing.segmentation.quality`), the summary, the audience) are written once there, in
narwhals; here are only:

- :class:`SparkSegmentPreprocessor`: the log rule of :data:`~marketing.segmentation.LOG_FEATURES`
  and the standardisation (mean and *population* standard deviation, one aggregate pass) of
  :class:`~marketing.segmentation.SegmentPreprocessor`, as a ``SQLTransformer`` stage;
- :class:`SparkSegmenter`: Spark ML ``KMeans`` (k-means|| start, ``seed=random_state``), k chosen
  by :func:`~marketing.segmentation.select_k` on
  :func:`~marketing.segmentation.quality.frame_quality` per k, segments renumbered by size as on
  the in-memory path;
- :func:`stability`: Spark k-means refits on bootstrap samples;
- :func:`collect_sample`: bounded seeded samples for the figures.

Samples are chosen by a seeded hash of ``customer_id``, so the same seed picks the same customers
however the data is partitioned. Only k-means runs on Spark (:mod:`marketing.capabilities`).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.metrics import pairwise_distances_argmin
from sklearn.utils import check_random_state

from marketing.columns import CUSTOMER, SEGMENT
from marketing.segmentation import check_segment_count, check_segment_count_fits, check_table, select_k
from marketing.segmentation.evaluation import pairwise_agreement
from marketing.segmentation.preprocess import check_ranges, logged_columns
from marketing.frames import hash_uniform, sample_rows
from marketing.segmentation.quality import SILHOUETTE_SAMPLE, frame_qualities
from marketing.spark.data import require_frame
from marketing.validation import DataValidationError

METHODS = ("kmeans",)
#: Customers collected to pandas for the figures that draw customers as points.
PLOT_SAMPLE = 5_000
#: Customers a stability run's segments are compared on.
STABILITY_SAMPLE = 20_000

_VECTOR = "_features"
_CLUSTER = "_cluster"


# --------------------------------------------------------------------------- helpers


def _q(name: str) -> str:
    """A column name quoted for Spark SQL."""
    return "`" + name.replace("`", "``") + "`"


def _double(value: float) -> str:
    # a decimal literal would be parsed as DECIMAL; a string cast keeps every bit of the double
    return f"CAST('{float(value)!r}' AS DOUBLE)"


def _seed(random_state: int | None) -> int:
    if random_state is None:
        return int(np.random.default_rng().integers(np.iinfo(np.int32).max))
    return int(random_state)


def collect_sample(table, max_rows: int, random_state: int | None = 0) -> pd.DataFrame:
    """At most ``max_rows`` customers of ``table`` (:func:`marketing.frames.sample_rows`), indexed by ``customer_id``.

    Examples
    --------
    >>> table = spark.createDataFrame(pd.DataFrame({"customer_id": range(100), "x": range(100)}))
    >>> sample = collect_sample(table, 10, random_state=1)
    >>> len(sample), sample.index.name, sample.equals(collect_sample(table.repartition(7), 10, 1))
    (10, 'customer_id', True)
    """
    return sample_rows(table, max_rows, random_state).set_index(CUSTOMER)


# --------------------------------------------------------------------------- preprocessing


class SparkSegmentPreprocessor(BaseEstimator):
    """Log-transform skewed money and count features, then standardise, learned with Spark.

    The Spark counterpart of :class:`marketing.segmentation.SegmentPreprocessor`, with the same
    decision rule (``"default"`` logs the features of :data:`~marketing.segmentation.LOG_FEATURES`
    present in the table) and the same scaling: ``(x - mean) / std`` with the *population*
    standard deviation (Spark ML's ``StandardScaler`` divides by the sample one), so the scaled
    values equal the pandas path's. Mean, standard deviation, missing values, minimum and maximum
    of every feature come from one aggregate pass.

    Parameters
    ----------
    log_features : sequence of str or "default"
        Features transformed with ``log1p`` before scaling.

    Attributes
    ----------
    feature_names_in_ : list of str
        Features seen in :meth:`fit` (every column but ``customer_id``), in order.
    log_features_ : list of str
        Features actually logged.
    mean_, scale_ : ndarray
        Mean and population standard deviation of each (logged) feature.
    n_customers_ : int
        Rows of the table fitted on.
    stage_ : pyspark.ml.feature.SQLTransformer
        The fitted transformation as a pipeline stage: ``customer_id`` and the scaled features
        under their own names.

    Raises
    ------
    DataValidationError
        In ``fit``: an empty table, no ``customer_id``, a non-numeric, missing or constant
        feature, a logged feature with negative values, or a named log feature not in the table.

    Examples
    --------
    >>> table = spark.createDataFrame(pd.DataFrame({"customer_id": [1, 2, 3, 4],
    ...                                             "frequency": [0, 1, 3, 15], "age": [20.0, 30.0, 40.0, 50.0]}))
    >>> prep = SparkSegmentPreprocessor().fit(table)
    >>> prep.log_features_
    ['frequency']
    >>> prep.transform(table).orderBy("customer_id").toPandas().set_index("customer_id").round(3)
                 frequency    age
    customer_id
    1               -1.183 -1.342
    2               -0.507 -0.447
    3                0.169  0.447
    4                1.521  1.342
    """

    def __init__(self, log_features: Sequence[str] | str = "default"):
        self.log_features = log_features

    def fit(self, table, y=None) -> SparkSegmentPreprocessor:
        """Learn which features to log, and their mean and population standard deviation, in one pass."""
        from pyspark.sql import functions as F

        require_frame(table, "customer table", pandas_module="marketing.segmentation")
        check_table(table)  # the checks of every engine, in one pass
        features = [c for c in table.columns if c != CUSTOMER]
        logged = logged_columns(features, self.log_features)
        aggregates = [F.count(F.lit(1)).alias("n")]
        for i, c in enumerate(features):
            x = F.col(c).cast("double")
            value = F.log1p(x) if c in logged else x
            aggregates += [
                F.min(x).alias(f"min{i}"), F.max(x).alias(f"max{i}"),
                F.avg(value).alias(f"mean{i}"), F.stddev_pop(value).alias(f"std{i}"),
            ]
        row = table.agg(*aggregates).first()
        n = int(row["n"])
        check_ranges(features, logged, [row[f"min{i}"] for i in range(len(features))],
                     [row[f"max{i}"] for i in range(len(features))])
        self.feature_names_in_ = features
        self.log_features_ = logged
        self.mean_ = np.array([row[f"mean{i}"] for i in range(len(features))], dtype=float)
        self.scale_ = np.array([row[f"std{i}"] for i in range(len(features))], dtype=float)
        self.n_customers_ = n
        self.stage_ = self._stage()
        return self

    def _stage(self):
        from pyspark.ml.feature import SQLTransformer

        columns = [_q(CUSTOMER)]
        for c, mean, scale in zip(self.feature_names_in_, self.mean_, self.scale_):
            x = f"CAST({_q(c)} AS DOUBLE)"
            x = f"LOG1P({x})" if c in self.log_features_ else x
            columns.append(f"({x} - {_double(mean)}) / {_double(scale)} AS {_q(c)}")
        return SQLTransformer(statement=f"SELECT {', '.join(columns)} FROM __THIS__")

    def transform(self, table):
        """``customer_id`` and the scaled features (same names) as a Spark DataFrame (lazy)."""
        require_frame(table, "customer table", [CUSTOMER], pandas_module="marketing.segmentation")
        missing = [c for c in self.feature_names_in_ if c not in table.columns]
        if missing:
            raise DataValidationError(f"customer table is missing feature(s) {missing} seen in fit.")
        return self.stage_.transform(table)


# --------------------------------------------------------------------------- clustering


class SparkSegmenter(BaseEstimator):
    """Segment customers on Spark: preprocess, choose k, cluster with Spark ML k-means.

    The Spark counterpart of :class:`marketing.segmentation.Segmenter` with ``method="kmeans"``:
    the same feature space (:class:`SparkSegmentPreprocessor`), the same k rule
    (:func:`~marketing.segmentation.select_k` on :func:`~marketing.segmentation.quality.frame_quality` for each k in
    ``k_range``, on a sample of about ``sample_size`` customers), and segments numbered from the
    largest (0) down. The model is a ``pyspark.ml`` ``PipelineModel``: the scaling
    (``SQLTransformer``), ``VectorAssembler``, ``KMeansModel`` (k-means|| start,
    ``seed=random_state``) and the renumbering by size; it labels new customers with
    :meth:`transform` and saves with ``model_.write().save(path)``.

    Parameters
    ----------
    n_segments : int or "auto"
        Number of segments; ``"auto"`` scores every k in ``k_range`` and applies ``select_k``.
    method : {"kmeans"}
        Only k-means runs on Spark; the other methods of the pandas path raise a ValueError
        naming engine="pandas".
    k_range : (int, int)
        Smallest and largest k tried when ``n_segments="auto"``.
    sample_size : int
        The k search runs on a seeded sample of about this many customers (everyone when there
        are fewer); the final k-means uses everyone.
    silhouette_sample : int
        The silhouette is computed on at most this many customers.
    log_features : sequence of str or "default"
        Passed to :class:`SparkSegmentPreprocessor`.
    n_init : int
        k-means runs from different seeds (``random_state``, ``random_state + 1``, ...) for each
        k; the one with the smallest within-segment sum of squares is kept, as scikit-learn keeps
        the best of its ``n_init``. A single k-means|| run ends in a worse local optimum now and
        then (on the e-commerce case, at k = 4, for one seed in four to ten), so the default
        takes the best of three; scikit-learn's path takes the best of ten.
    max_iter : int
        Lloyd iterations of each k-means run.
    parallelism : int
        k-means fits of the k search (and of :func:`stability`) submitted to Spark at once, as
        pyspark's ``CrossValidator(parallelism=...)`` does; the results do not depend on it.
    random_state : int or None
        Seed of the samples and of every k-means run.

    Attributes
    ----------
    preprocessor_ : SparkSegmentPreprocessor
    log_features_ : list of str
    k_scores_ : DataFrame or None
        Quality indices per k from the search (None when k was fixed).
    n_segments_ : int
        Segments found (k-means|| can return fewer than k on data with many duplicates).
    labels_ : pyspark.sql.DataFrame
        ``customer_id`` and ``segment`` (0 = largest) for every customer fitted on; persisted.
    quality_ : dict
        :func:`~marketing.segmentation.quality.frame_quality` of the final segments.
    cluster_centers_ : ndarray
        Segment centres in the scaled feature space, in segment order.
    model_ : pyspark.ml.PipelineModel
    noise_share_ : float
        Always 0 (k-means labels everyone); kept for parity with the pandas segmenter.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> frame = pd.DataFrame({"customer_id": range(100), "x": np.r_[rng.normal(0, 1, 60), rng.normal(8, 1, 40)],
    ...                       "y": np.r_[rng.normal(0, 1, 60), rng.normal(8, 1, 40)]})
    >>> seg = SparkSegmenter(k_range=(2, 3), random_state=0).fit(spark.createDataFrame(frame))
    >>> seg.n_segments_, seg.labels_.groupBy("segment").count().orderBy("segment").toPandas()["count"].tolist()
    (2, [60, 40])
    """

    def __init__(
        self,
        n_segments: int | str = "auto",
        method: str = "kmeans",
        k_range: tuple[int, int] = (2, 8),
        sample_size: int = 20_000,
        silhouette_sample: int = SILHOUETTE_SAMPLE,
        log_features: Sequence[str] | str = "default",
        n_init: int = 3,
        max_iter: int = 100,
        parallelism: int = 4,
        random_state: int | None = 0,
    ):
        self.n_segments = n_segments
        self.method = method
        self.k_range = k_range
        self.sample_size = sample_size
        self.silhouette_sample = silhouette_sample
        self.log_features = log_features
        self.n_init = n_init
        self.max_iter = max_iter
        self.parallelism = parallelism
        self.random_state = random_state

    def _validate_parameters(self) -> None:
        if self.method not in METHODS:
            raise ValueError(
                f"method={self.method!r} does not run on Spark: only method='kmeans' does (Spark ML k-means). "
                "Run gmm, ward or hdbscan with engine='pandas'."
            )
        check_segment_count(self.n_segments, self.k_range)
        for name, low in (("sample_size", 10), ("silhouette_sample", 2), ("n_init", 1), ("max_iter", 1),
                          ("parallelism", 1)):
            if getattr(self, name) < low:
                raise ValueError(f"{name} must be at least {low}, got {getattr(self, name)}.")

    def _prepare(self):
        from pyspark.ml.feature import VectorAssembler

        assembler = VectorAssembler(inputCols=list(self.preprocessor_.feature_names_in_), outputCol=_VECTOR)
        return [self.preprocessor_.stage_, assembler]

    def _kmeans_many(self, points, ks: Sequence[int], seeds: Sequence[int]) -> list:
        """For each (k, seed): the best of ``n_init`` Spark k-means runs (seeds ``seed``,
        ``seed + 1``, ...) on ``points`` (which holds the vector column), or on the matching
        frame when ``points`` is a list of them.

        All runs are submitted ``parallelism`` at a time, as pyspark's CrossValidator does: on
        small data a Spark job waits on scheduling more than on the cores.
        """
        from pyspark.ml.clustering import KMeans

        frames = points if isinstance(points, list) else [points] * len(ks)

        def run(job: tuple[Any, int, int]):
            frame, k, seed = job
            return KMeans(
                k=int(k), seed=int(seed), maxIter=self.max_iter, initMode="k-means||",
                featuresCol=_VECTOR, predictionCol=_CLUSTER,
            ).fit(frame)

        jobs = [(f, k, seed + r) for f, k, seed in zip(frames, ks, seeds) for r in range(self.n_init)]
        with ThreadPoolExecutor(max(1, min(self.parallelism, len(jobs)))) as pool:
            models = list(pool.map(run, jobs))
        # first of the lowest cost: the earliest seed wins a tie
        return [
            min(models[i * self.n_init:(i + 1) * self.n_init], key=lambda m: m.summary.trainingCost)
            for i in range(len(ks))
        ]

    def fit(self, table, y=None) -> SparkSegmenter:
        """Learn the scaling, choose k, fit k-means and label every customer of ``table``.

        ``table`` is a Spark DataFrame with ``customer_id`` and numeric features (cache it: it is
        read several times). Raises ValueError for bad parameters and DataValidationError for a
        bad table (see :class:`SparkSegmentPreprocessor`).
        """
        from pyspark.ml import PipelineModel
        from pyspark.ml.feature import SQLTransformer

        self._validate_parameters()
        if hasattr(self, "labels_"):
            self.labels_.unpersist()  # a refit replaces them
        self.preprocessor_ = SparkSegmentPreprocessor(self.log_features).fit(table)
        self.log_features_ = self.preprocessor_.log_features_
        n = self.preprocessor_.n_customers_
        check_segment_count_fits(self.n_segments, self.k_range, n)
        seed = _seed(self.random_state)
        features = list(self.preprocessor_.feature_names_in_)
        prepare = self._prepare()
        points = PipelineModel(prepare).transform(table).persist()
        try:
            searched = {}
            if self.n_segments == "auto":
                self.k_scores_, searched = self._search_k(points, n, seed)
                k = select_k(self.k_scores_)
            else:
                self.k_scores_ = None
                k = int(self.n_segments)
            if k in searched:
                # the search ran on everyone with this seed: its k-means is the final one
                kmeans, quality, sizes = searched[k]
            else:
                [kmeans] = self._kmeans_many(points, [k], [seed])
                [quality], [sizes] = frame_qualities(
                    kmeans.transform(points).select(CUSTOMER, _CLUSTER, *features), [_CLUSTER], features,
                    self.silhouette_sample, seed,
                )
            # largest first, ties by Spark's cluster number, as the pandas path orders them
            order = sizes.sort_index().sort_values(ascending=False, kind="stable").index.tolist()
            cases = " ".join(f"WHEN {int(c)} THEN {s}" for s, c in enumerate(order))
            renumber = SQLTransformer(
                statement=f"SELECT *, CAST(CASE {_q(_CLUSTER)} {cases} END AS INT) AS {_q(SEGMENT)} FROM __THIS__"
            )
            self.model_ = PipelineModel([*prepare, kmeans, renumber])
            self.labels_ = renumber.transform(kmeans.transform(points)).select(CUSTOMER, SEGMENT).persist()
            self.labels_.count()  # materialised while the points are cached
        finally:
            points.unpersist()
        # the indices do not depend on how the segments are numbered
        self.quality_ = quality
        self.cluster_centers_ = np.asarray(kmeans.clusterCenters(), dtype=float)[order]
        self.n_segments_ = len(order)
        self.noise_share_ = 0.0
        self._fit_seed = seed
        return self

    def _search_k(self, points, n: int, seed: int) -> tuple[pd.DataFrame, dict]:
        """Quality indices per k on the search sample; and, when that sample is everyone, each
        k's (model, quality, segment sizes) so the final fit can reuse the chosen one."""
        features = list(self.preprocessor_.feature_names_in_)
        everyone = n <= self.sample_size
        sample = points if everyone else points.filter(hash_uniform(seed) < self.sample_size / n).persist()
        ks = list(range(self.k_range[0], self.k_range[1] + 1))
        try:
            models = self._kmeans_many(sample, ks, [seed] * len(ks))
            clustered = sample.select(CUSTOMER, *features, _VECTOR)
            for k, model in zip(ks, models):
                clustered = model.transform(clustered).withColumnRenamed(_CLUSTER, f"_k{k}")
            qualities, sizes = frame_qualities(
                clustered.drop(_VECTOR), [f"_k{k}" for k in ks], features, self.silhouette_sample, seed
            )
        finally:
            if not everyone:
                sample.unpersist()
        scores = pd.DataFrame.from_dict(dict(zip(ks, qualities)), orient="index")
        scores.index.name = "k"
        reusable = dict(zip(ks, zip(models, qualities, sizes))) if everyone else {}
        return scores, reusable

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise ValueError("this SparkSegmenter is not fitted yet: call fit(table) first.")

    def transform(self, table):
        """``customer_id`` and ``segment`` for the customers of ``table`` (a lazy Spark DataFrame)."""
        self._check_fitted()
        self.preprocessor_.transform(table)  # names missing features
        return self.model_.transform(table).select(CUSTOMER, SEGMENT)

    def fit_transform(self, table, y=None):
        return self.fit(table).labels_

    def scaled(self, table):
        """``customer_id`` and the scaled features of ``table``: the space the segments live in."""
        self._check_fitted()
        return self.preprocessor_.transform(table)

    def sample_points(self, table, max_rows: int = PLOT_SAMPLE, random_state: int | None = 0) -> pd.DataFrame:
        """A bounded seeded sample of customers (see :func:`collect_sample`) with their scaled
        features and ``segment``, collected to pandas: for the figures that draw customers."""
        self._check_fitted()
        features = list(self.preprocessor_.feature_names_in_)
        points = self.model_.transform(table).select(CUSTOMER, *features, SEGMENT)
        return collect_sample(points, max_rows, random_state)


def stability(
    segmenter: SparkSegmenter, table, n_runs: int = 5, sample_size: int | None = None,
    eval_size: int = STABILITY_SAMPLE, random_state: int | None = 0,
) -> pd.Series:
    """Agreement between k-means refits on bootstrap samples, refitted in Spark.

    Each run draws a bootstrap sample in Spark (``DataFrame.sample`` with replacement: every
    customer appears a Poisson number of times, ``sample_size`` customers expected; default all
    or the segmenter's ``sample_size``, whichever is smaller), fits the segmenter's k-means with
    its k and a new seed, and labels a fixed seeded sample of ``eval_size`` customers collected
    once (:func:`collect_sample`) by their nearest centre. The result is the adjusted Rand index
    of every pair of runs on that sample, as :func:`marketing.segmentation.stability` reports it
    (1 = the same segments every time, 0 = chance).

    Parameters
    ----------
    segmenter : SparkSegmenter
        Fitted; its k, ``n_init``, ``max_iter`` and ``parallelism`` are used.
    table : pyspark.sql.DataFrame
        The customer table it was fitted on.
    n_runs : int
        Refits (at least 2).
    sample_size : int, optional
        Expected customers per bootstrap sample.
    eval_size : int
        Customers the runs are compared on (collected once).
    random_state : int or None
        Seeds of the bootstrap samples and of the refits.

    Returns
    -------
    Series
        One ARI per pair of runs (index ``run_a``, ``run_b``); report its mean.

    Raises
    ------
    ValueError
        An unfitted segmenter, or fewer than two runs.
    """
    segmenter._check_fitted()
    if n_runs < 2:
        raise ValueError(f"n_runs must be at least 2 to compare runs, got {n_runs}.")
    from pyspark.ml import PipelineModel

    rng = check_random_state(random_state)
    features = list(segmenter.preprocessor_.feature_names_in_)
    points = PipelineModel(segmenter._prepare()).transform(table).persist()
    try:
        n = points.count()
        size = min(n, sample_size or segmenter.sample_size)
        evaluation = collect_sample(points.select(CUSTOMER, *features), eval_size, segmenter._fit_seed)
        X = evaluation[features].to_numpy(dtype=float)
        seeds = [int(rng.randint(np.iinfo(np.int32).max)) for _ in range(n_runs)]
        samples = [points.sample(withReplacement=True, fraction=size / n, seed=seed).persist() for seed in seeds]
        try:
            models = segmenter._kmeans_many(samples, [segmenter.n_segments_] * n_runs, seeds)
        finally:
            for boot in samples:
                boot.unpersist()
        runs = [pairwise_distances_argmin(X, np.asarray(m.clusterCenters())) for m in models]
    finally:
        points.unpersist()
    return pairwise_agreement(runs)
