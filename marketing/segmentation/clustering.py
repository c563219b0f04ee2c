"""Clustering customers: the methods, the quality indices, choosing k, and the :class:`Segmenter`."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.cluster import HDBSCAN, AgglomerativeClustering, KMeans
from sklearn.metrics import (
    calinski_harabasz_score,
    davies_bouldin_score,
    pairwise_distances_argmin,
    silhouette_score,
)
from sklearn.mixture import GaussianMixture
from sklearn.neighbors import NearestNeighbors
from sklearn.utils import check_random_state
from threadpoolctl import threadpool_limits

from marketing.engines import engine_of
from marketing.segmentation.preprocess import SegmentPreprocessor, check_table

METHODS = ("kmeans", "gmm", "ward", "hdbscan")


#: A clustering fitted on fewer rows than this runs single-threaded.
SINGLE_THREAD_BELOW = 50_000
#: Ward clustering is fitted on at most this many customers.
WARD_MAX_ROWS = 5_000
#: Above this many customers, k-means starts from the centres of its best run on a sample.
SEEDED_KMEANS_ABOVE = 100_000
#: Customers in that sample.
SEED_SAMPLE = 20_000


def _threads(n_rows: int) -> AbstractContextManager:
    # On small problems, starting and spin-waiting OpenMP/BLAS threads costs more than it
    # saves (k-means on 20,000 rows: 0.16 s on one thread, 3 s on two busy cores), and one
    # thread also makes results independent of the thread count.
    return threadpool_limits(1) if n_rows < SINGLE_THREAD_BELOW else nullcontext()


def _relabel_by_size(labels: np.ndarray) -> np.ndarray:
    """Renumber clusters 0, 1, ... from largest to smallest (noise stays -1)."""
    found = labels[labels >= 0]
    if len(found) == 0:
        return labels.copy()
    counts = np.bincount(found)
    order = np.lexsort((np.arange(len(counts)), -counts))
    mapping = np.full(len(counts), -1)
    mapping[order] = np.arange(len(counts))
    out = labels.copy()
    out[labels >= 0] = mapping[found]
    return out


def _fit_predict(
    X_fit: np.ndarray, X_all: np.ndarray, method: str, k: int | None, seed: int,
    n_init: int, min_cluster_size: int,
) -> np.ndarray:
    """Fit ``method`` on ``X_fit`` and label every row of ``X_all``."""
    with _threads(len(X_fit)):
        return _fit_predict_threads(X_fit, X_all, method, k, seed, n_init, min_cluster_size)


def _fit_predict_threads(
    X_fit: np.ndarray, X_all: np.ndarray, method: str, k: int | None, seed: int,
    n_init: int, min_cluster_size: int,
) -> np.ndarray:
    if method == "kmeans":
        if len(X_fit) > SEEDED_KMEANS_ABOVE:
            # the best of n_init runs on a sample gives the starting centres, then one run of
            # Lloyd's k-means on everyone: on a million customers, twice as fast as mini-batch
            # k-means and as good as n_init full runs (benchmarks/README.md)
            rows = np.sort(np.random.RandomState(seed).choice(len(X_fit), SEED_SAMPLE, replace=False))
            start = KMeans(k, n_init=n_init, random_state=seed).fit(X_fit[rows]).cluster_centers_
            model = KMeans(k, init=start, n_init=1, random_state=seed).fit(X_fit)
        else:
            model = KMeans(k, n_init=n_init, random_state=seed).fit(X_fit)
        return model.predict(X_all)
    if method == "gmm":
        model = GaussianMixture(
            k, covariance_type="full", n_init=max(1, n_init // 3), random_state=seed
        )
        return model.fit(X_fit).predict(X_all)
    if method == "ward":
        if len(X_fit) > WARD_MAX_ROWS:
            # Ward's memory and time grow with the square of the rows
            rows = np.random.default_rng(seed).choice(len(X_fit), WARD_MAX_ROWS, replace=False)
            X_fit = X_fit[np.sort(rows)]
        fit_labels = AgglomerativeClustering(k, linkage="ward").fit_predict(X_fit)
        centroids = np.vstack([X_fit[fit_labels == j].mean(axis=0) for j in range(k)])
        return pairwise_distances_argmin(X_all, centroids)
    # hdbscan: the rest of the table takes the label of its nearest sampled neighbour, so
    # points near noise stay noise
    fit_labels = HDBSCAN(min_cluster_size=min_cluster_size, copy=True).fit_predict(X_fit)
    if X_all is X_fit:
        return fit_labels
    nearest = NearestNeighbors(n_neighbors=1).fit(X_fit).kneighbors(X_all, return_distance=False)
    return fit_labels[nearest[:, 0]]


def cluster_quality(
    X: np.ndarray, labels: np.ndarray, sample_size: int = 5000, random_state: int | None = 0
) -> dict[str, float]:
    """Silhouette, Calinski-Harabasz, Davies-Bouldin and inertia of a labelling.

    Noise points (label -1) are left out. The silhouette needs all pairwise distances, so it is
    computed on a random sample of ``sample_size`` points when there are more.
    Inertia is the sum of squared distances of points to their segment mean.

    Examples
    --------
    >>> X = np.array([[0.0, 0.0], [0.0, 1.0], [10.0, 0.0], [10.0, 1.0]])
    >>> {k: round(v, 3) for k, v in cluster_quality(X, np.array([0, 0, 1, 1])).items()}
    {'silhouette': 0.9, 'calinski_harabasz': 200.0, 'davies_bouldin': 0.1, 'inertia': 1.0}
    """
    keep = labels >= 0
    X, labels = X[keep], labels[keep]
    n_labels = len(np.unique(labels))
    if n_labels < 2 or n_labels >= len(X):
        nan = float("nan")
        return {"silhouette": nan, "calinski_harabasz": nan, "davies_bouldin": nan, "inertia": nan}
    sample = sample_size if len(X) > sample_size else None
    with _threads(min(len(X), sample_size)):
        silhouette = silhouette_score(X, labels, sample_size=sample, random_state=random_state)
    counts = np.bincount(labels)
    sums = np.zeros((len(counts), X.shape[1]))
    np.add.at(sums, labels, X)
    means = sums / np.maximum(counts, 1)[:, None]
    return {
        "silhouette": float(silhouette),
        "calinski_harabasz": float(calinski_harabasz_score(X, labels)),
        "davies_bouldin": float(davies_bouldin_score(X, labels)),
        "inertia": float(((X - means[labels]) ** 2).sum()),
    }


def select_k(scores: pd.DataFrame) -> int:
    """The automatic rule for the number of segments: the best average rank of three indices.

    Each index has a known bias (the silhouette and Davies-Bouldin often favour two big
    groups; Calinski-Harabasz drifts towards more, smaller ones), so no single one is trusted.
    Each k is ranked by silhouette (higher is better), Calinski-Harabasz (higher) and
    Davies-Bouldin (lower); the k with the smallest sum of ranks wins, and a tie goes to the
    smaller k (fewer segments are easier to act on). Inertia always falls as k grows and is
    shown for the elbow plot only.

    Examples
    --------
    >>> scores = pd.DataFrame({"silhouette": [0.58, 0.53, 0.57, 0.51],
    ...                        "calinski_harabasz": [2800.0, 3840.0, 4950.0, 4490.0],
    ...                        "davies_bouldin": [0.58, 0.66, 0.61, 0.82]}, index=[2, 3, 4, 5])
    >>> select_k(scores)
    4
    """
    ranks = (
        scores["silhouette"].rank(ascending=False, method="min")
        + scores["calinski_harabasz"].rank(ascending=False, method="min")
        + scores["davies_bouldin"].rank(ascending=True, method="min")
    )
    best = ranks[ranks == ranks.min()]
    return int(min(best.index))


def check_segment_count(n_segments: int | str, k_range: tuple[int, int]) -> None:
    """``n_segments`` is "auto" or an integer; for "auto", ``k_range`` is (low, high), 2 <= low <= high.

    Shared by both engines' segmenters, before the data is seen.
    """
    if n_segments != "auto":
        if not isinstance(n_segments, (int, np.integer)) or isinstance(n_segments, bool):
            raise ValueError(f"n_segments must be 'auto' or an integer, got {n_segments!r}.")
    else:
        low, high = k_range
        if not 2 <= low <= high:
            raise ValueError(f"k_range must be (low, high) with 2 <= low <= high, got {k_range}.")


def check_segment_count_fits(n_segments: int | str, k_range: tuple[int, int], n: int) -> None:
    """The number of segments (or the top of ``k_range``) leaves fewer segments than ``n`` customers."""
    if n_segments != "auto" and not 2 <= n_segments <= n - 1:
        raise ValueError(
            f"n_segments={n_segments} is impossible for {n} customers: choose between 2 and {n - 1}, or 'auto'."
        )
    if n_segments == "auto" and k_range[1] >= n:
        raise ValueError(
            f"k_range goes up to {k_range[1]} but there are only {n} customers: lower the upper end of "
            "k_range below the number of customers."
        )


class Segmenter(BaseEstimator):
    """Segment customers: preprocess, choose k, cluster, and label every customer.

    Parameters
    ----------
    n_segments : int or "auto"
        Number of segments. ``"auto"`` scores every k in ``k_range`` and applies
        :func:`select_k`. Ignored by ``method="hdbscan"``, which finds its own number.
    method : {"kmeans", "gmm", "ward", "hdbscan"}
        k-means on every customer (above 100,000 customers, one run started from the
        centres of the best of ``n_init`` runs on 20,000 of them); a
        full-covariance Gaussian mixture fitted on a sample of ``sample_size`` customers; Ward
        agglomerative clustering fitted on at most 5,000 of them (the rest join the nearest
        segment centre); or HDBSCAN fitted on a sample (the rest take the label of their
        nearest sampled neighbour), whose noise points get label -1.
    k_range : (int, int)
        Smallest and largest k tried when ``n_segments="auto"``.
    sample_size : int
        The k search, the Gaussian mixture, Ward (at most 5,000 of the sample) and HDBSCAN
        run on a random sample of at most this many customers; final k-means uses everyone.
    silhouette_sample : int
        The silhouette is computed on at most this many customers.
    log_features : sequence of str or "default"
        Passed to :class:`SegmentPreprocessor`.
    n_init : int
        Restarts of k-means (a third as many for the Gaussian mixture).
    min_cluster_size : int
        HDBSCAN's smallest segment.
    random_state : int or None
        Seed for sampling and every clustering run.

    Attributes
    ----------
    preprocessor_ : SegmentPreprocessor
    X_ : ndarray
        The preprocessed table the segments were found in.
    k_scores_ : DataFrame or None
        Quality indices per k from the search (None when k was fixed).
    n_segments_ : int
        Number of segments found (noise excluded).
    labels_ : ndarray of int
        Segment per customer, 0 = largest segment; -1 = noise (HDBSCAN only).
    quality_ : dict
        :func:`cluster_quality` of the final labelling.
    noise_share_ : float
        Share of customers labelled noise (0 except for HDBSCAN).
    engine_ : str
        The engine of the table it was fitted on. On Spark (``method="kmeans"`` only) the fit is
        :class:`marketing.spark.segmentation.SparkSegmenter`'s, kept as ``spark_``; ``labels_``
        is then a Spark DataFrame of ``customer_id`` and ``segment``, and there is no ``X_``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> table = pd.DataFrame({"x": np.r_[rng.normal(0, 1, 50), rng.normal(8, 1, 50)],
    ...                       "y": np.r_[rng.normal(0, 1, 50), rng.normal(8, 1, 50)]})
    >>> seg = Segmenter(k_range=(2, 4), random_state=0).fit(table)
    >>> seg.n_segments_, np.bincount(seg.labels_).tolist()
    (2, [50, 50])
    """

    def __init__(
        self,
        n_segments: int | str = "auto",
        method: str = "kmeans",
        k_range: tuple[int, int] = (2, 8),
        sample_size: int = 20_000,
        silhouette_sample: int = 5_000,
        log_features: Sequence[str] | str = "default",
        n_init: int = 10,
        min_cluster_size: int = 50,
        random_state: int | None = 0,
    ):
        self.n_segments = n_segments
        self.method = method
        self.k_range = k_range
        self.sample_size = sample_size
        self.silhouette_sample = silhouette_sample
        self.log_features = log_features
        self.n_init = n_init
        self.min_cluster_size = min_cluster_size
        self.random_state = random_state

    def _validate(self, n: int) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {list(METHODS)}, got {self.method!r}.")
        check_segment_count(self.n_segments, self.k_range)
        check_segment_count_fits(self.n_segments, self.k_range, n)
        if self.sample_size < 10:
            raise ValueError(f"sample_size must be at least 10, got {self.sample_size}.")

    def fit(self, X: pd.DataFrame, y=None) -> Segmenter:
        self.engine_ = engine_of(X)
        if self.engine_ == "spark":
            return self._fit_spark(X)
        check_table(X)
        n = len(X)
        self._validate(n)
        rng = check_random_state(self.random_state)
        self.preprocessor_ = SegmentPreprocessor(self.log_features).fit(X)
        self.X_ = self.preprocessor_.transform(X)
        sample = self._sample(rng)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        if self.method == "hdbscan":
            self.k_scores_ = None
            k = None
        elif self.n_segments == "auto":
            self.k_scores_ = self._search_k(sample, seed)
            k = select_k(self.k_scores_)
        else:
            self.k_scores_ = None
            k = int(self.n_segments)
        fit_rows = self.X_ if len(sample) == n or self.method == "kmeans" else self.X_[sample]
        labels = _fit_predict(
            fit_rows, self.X_, self.method, k, seed, self.n_init, self.min_cluster_size
        )
        self.labels_ = _relabel_by_size(np.asarray(labels))
        self.n_segments_ = int(self.labels_.max() + 1)
        self.noise_share_ = float(np.mean(self.labels_ < 0))
        self.quality_ = cluster_quality(self.X_, self.labels_, self.silhouette_sample, seed)
        return self

    def _fit_spark(self, table) -> Segmenter:
        # Spark ML k-means with this segmenter's parameters; its fitted state becomes ours, so
        # the notebook reads the same attributes on every engine. Spark keeps its own n_init
        # (best of 3 k-means|| runs, see SparkSegmenter).
        from marketing.spark.segmentation import SparkSegmenter

        self.spark_ = SparkSegmenter(
            n_segments=self.n_segments, method=self.method, k_range=self.k_range,
            sample_size=self.sample_size, silhouette_sample=self.silhouette_sample,
            log_features=self.log_features, random_state=self.random_state,
        ).fit(table)
        for name in ("preprocessor_", "log_features_", "k_scores_", "n_segments_", "labels_", "quality_",
                     "noise_share_"):
            setattr(self, name, getattr(self.spark_, name))
        return self

    def _sample(self, rng: np.random.RandomState) -> np.ndarray:
        n = len(self.X_)
        if n <= self.sample_size:
            return np.arange(n)
        return np.sort(rng.choice(n, self.sample_size, replace=False))

    def _search_k(self, sample: np.ndarray, seed: int) -> pd.DataFrame:
        Xs = self.X_[sample]
        rows = {}
        for k in range(self.k_range[0], self.k_range[1] + 1):
            labels = _fit_predict(Xs, Xs, self.method, k, seed, self.n_init, self.min_cluster_size)
            rows[k] = cluster_quality(Xs, labels, self.silhouette_sample, seed)
        scores = pd.DataFrame.from_dict(rows, orient="index")
        scores.index.name = "k"
        return scores

    def refit_labels(self, X_fit: np.ndarray, seed: int) -> np.ndarray:
        """Labels for every customer from the same method and k fitted on ``X_fit`` rows."""
        k = None if self.method == "hdbscan" else self.n_segments_
        return _fit_predict(
            X_fit, self.X_, self.method, k, seed, self.n_init, self.min_cluster_size
        )
