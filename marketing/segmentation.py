"""Customer segmentation: preprocessing, RFM scores, clustering, choosing k, profiles and actions.

The pieces, in the order a notebook uses them:

- :class:`SegmentPreprocessor` log-transforms skewed money and count features and scales
  everything to unit variance.
- :func:`rfm_scores` and :func:`rfm_segments` are the classic rule-based baseline.
- :class:`Segmenter` chooses the number of segments (:func:`select_k`) and clusters with
  k-means (above 100,000 customers, started from its best run on a sample), a Gaussian
  mixture, Ward agglomerative clustering fitted on a sample, or HDBSCAN (whose noise points
  keep the label ``-1``).
- :func:`segment_profiles`, :func:`name_segments` and :func:`segment_actions` turn clusters
  into something a marketer can act on; :func:`audience_table` is the export.
- :func:`stability` and :func:`truth_agreement` say how far to trust the result.

Every function takes a customer table with one row per customer (index ``customer_id``), such
as :func:`marketing.features.customer_table` returns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.cluster import HDBSCAN, AgglomerativeClustering, KMeans
from sklearn.metrics import (
    adjusted_rand_score,
    calinski_harabasz_score,
    davies_bouldin_score,
    normalized_mutual_info_score,
    pairwise_distances_argmin,
    silhouette_score,
)
from sklearn.mixture import GaussianMixture
from sklearn.neighbors import NearestNeighbors
from sklearn.utils import check_random_state
from threadpoolctl import threadpool_limits

from marketing.validation import DataValidationError

#: Behavioural features that are logged by default. Counts and money from a transaction log
#: are multiplicative (rate x value per event) and right-skewed, so ``log1p`` makes a doubling
#: of spend the same distance at every level. Recency is left linear: it is bounded by the
#: observation window and not heavy-tailed. Customer attributes (income, balance, age) are left
#: linear too: balance often has many exact zeros, and ``log1p`` would split them off as an
#: artificial cluster. Pass ``log_features=`` to change the choice.
LOG_FEATURES = ("frequency", "monetary", "avg_order_value", "n_items")

METHODS = ("kmeans", "gmm", "ward", "hdbscan")

#: Named RFM segments: the first rule whose score ranges all hold wins. Each rule maps a score
#: (``R``, ``F``, ``M``) to an inclusive ``(low, high)`` range on the 1-5 scale.
RFM_RULES: tuple[tuple[str, dict[str, tuple[int, int]]], ...] = (
    ("Champions", {"R": (4, 5), "F": (4, 5), "M": (4, 5)}),
    ("Loyal", {"R": (3, 5), "F": (4, 5)}),
    ("New", {"R": (4, 5), "F": (1, 2)}),
    ("At risk", {"R": (1, 2), "F": (3, 5)}),
    ("Hibernating", {"R": (1, 2), "F": (1, 2)}),
)
RFM_DEFAULT = "Needs attention"

#: Words for a feature whose segment index is low or high; other features get
#: "low <feature>" / "high <feature>".
DESCRIPTORS: dict[str, tuple[str, str]] = {
    "recency_days": ("recent", "lapsed"),
    "frequency": ("infrequent", "frequent"),
    "monetary": ("low value", "high value"),
    "avg_order_value": ("small transactions", "large transactions"),
    "n_items": ("narrow range", "broad range"),
}

# --------------------------------------------------------------------------- validation


def _check_table(table: pd.DataFrame, name: str = "customer table") -> pd.DataFrame:
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame, got {type(table).__name__}.")
    if len(table) == 0 or table.shape[1] == 0:
        raise DataValidationError(
            f"{name} is empty ({table.shape[0]} rows, {table.shape[1]} columns): "
            "segmentation needs at least one customer and one feature."
        )
    bad = [c for c in table if not pd.api.types.is_numeric_dtype(table[c])
           or pd.api.types.is_bool_dtype(table[c])]
    if bad:
        raise DataValidationError(
            f"{name}: feature(s) {bad} are not numeric. Segment on numeric features only, or "
            "one-hot encode categorical attributes first."
        )
    missing = table.columns[table.isna().any()].tolist()
    if missing:
        raise DataValidationError(
            f"{name}: feature(s) {missing} have missing values "
            f"({int(table[missing].isna().sum().sum())} cells). Fill or drop them first and "
            "count what you dropped."
        )
    return table


# --------------------------------------------------------------------------- preprocessing


class SegmentPreprocessor(TransformerMixin, BaseEstimator):
    """Log-transform skewed money and count features, then scale every feature.

    Parameters
    ----------
    log_features : sequence of str or "default"
        Features transformed with ``log1p`` before scaling. ``"default"`` uses those of
        :data:`LOG_FEATURES` present in the table (the rationale is documented there).

    Attributes
    ----------
    feature_names_in_ : ndarray of str
        Features seen in :meth:`fit`, in order.
    log_features_ : list of str
        Features actually logged.
    mean_, scale_ : ndarray
        Mean and standard deviation of each (logged) feature.

    Raises
    ------
    DataValidationError
        In ``fit``: a non-numeric, missing or constant feature, a logged feature with negative
        values, or a named log feature that is not in the table.

    Examples
    --------
    >>> table = pd.DataFrame({"frequency": [0, 1, 3, 15], "age": [20.0, 30.0, 40.0, 50.0]})
    >>> prep = SegmentPreprocessor().fit(table)
    >>> prep.log_features_
    ['frequency']
    >>> prep.transform(table).round(3)
    array([[-1.183, -1.342],
           [-0.507, -0.447],
           [ 0.169,  0.447],
           [ 1.521,  1.342]])
    """

    def __init__(self, log_features: Sequence[str] | str = "default"):
        self.log_features = log_features

    def fit(self, X: pd.DataFrame, y=None) -> SegmentPreprocessor:
        _check_table(X)
        if isinstance(self.log_features, str):
            if self.log_features != "default":
                raise ValueError(
                    f"log_features must be 'default' or a list of feature names, "
                    f"got {self.log_features!r}."
                )
            logged = [c for c in X.columns if c in LOG_FEATURES]
        else:
            logged = list(self.log_features)
            unknown = [c for c in logged if c not in X.columns]
            if unknown:
                raise DataValidationError(
                    f"customer table: log_features {unknown} are not among its features "
                    f"{list(X.columns)}."
                )
        negative = [c for c in logged if (X[c] < 0).any()]
        if negative:
            raise DataValidationError(
                f"customer table: feature(s) {negative} have negative values and cannot be "
                "log-transformed; remove them from log_features or fix the values (returns "
                "netted against purchases?)."
            )
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.log_features_ = logged
        values = self._logged(X)
        self.mean_ = values.mean(axis=0)
        self.scale_ = values.std(axis=0)
        constant = X.columns[values.max(axis=0) == values.min(axis=0)].tolist()
        if constant:
            raise DataValidationError(
                f"customer table: feature(s) {constant} are constant (every customer has the "
                "same value), so they cannot separate segments. Drop them from the case's "
                "segmentation_features."
            )
        return self

    def _logged(self, X: pd.DataFrame) -> np.ndarray:
        values = X.to_numpy(dtype=float, copy=True)
        idx = [X.columns.get_loc(c) for c in self.log_features_]
        values[:, idx] = np.log1p(values[:, idx])
        return values

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        missing = [c for c in self.feature_names_in_ if c not in X.columns]
        if missing:
            raise DataValidationError(
                f"customer table is missing feature(s) {missing} seen in fit."
            )
        X = _check_table(X[list(self.feature_names_in_)])
        return (self._logged(X) - self.mean_) / self.scale_


# --------------------------------------------------------------------------- RFM baseline


def quantile_scores(values: pd.Series, n_bins: int = 5, higher_is_better: bool = True) -> pd.Series:
    """Score values 1..``n_bins`` by quantile; tied values share one score.

    The score is ``ceil(n_bins * r / n)`` where ``r`` is the value's average rank (ties get the
    mean of their ranks) among ``n`` values, so with distinct values each score holds
    ``n / n_bins`` customers. Fallback for heavy ties: rather than splitting identical customers
    arbitrarily between scores (as ranking "first come" would) a tied block gets the single
    score of its average rank, and the score groups are then unequal in size; a feature whose
    values are all equal scores ``ceil(n_bins * (n + 1) / (2 n))`` (the middle) for everyone.

    Examples
    --------
    >>> quantile_scores(pd.Series([10, 20, 30, 40, 50])).tolist()
    [1, 2, 3, 4, 5]
    >>> quantile_scores(pd.Series([1, 1, 1, 1, 9])).tolist()
    [3, 3, 3, 3, 5]
    >>> quantile_scores(pd.Series([3, 30, 300]), higher_is_better=False).tolist()
    [5, 4, 2]
    """
    if n_bins < 2:
        raise ValueError(f"n_bins must be at least 2, got {n_bins}.")
    ranks = (values if higher_is_better else -values).rank(method="average")
    score = np.ceil(n_bins * ranks.to_numpy() / len(values))
    score = np.clip(score, 1, n_bins).astype("int64")
    return pd.Series(score, index=values.index, name=values.name)


def rfm_scores(
    table: pd.DataFrame,
    n_bins: int = 5,
    *,
    recency: str = "recency_days",
    frequency: str = "frequency",
    monetary: str = "monetary",
) -> pd.DataFrame:
    """Classic RFM scores 1..``n_bins`` per customer (5 = best), see :func:`quantile_scores`.

    ``R`` is higher for *fewer* days since the last purchase; ``F`` and ``M`` are higher for
    more. ``RFM`` is the three digits as a string, e.g. ``"545"``.

    Examples
    --------
    >>> table = pd.DataFrame({"recency_days": [5, 40, 200, 90, 10],
    ...                       "frequency": [12, 3, 1, 6, 2],
    ...                       "monetary": [900.0, 80.0, 20.0, 300.0, 150.0]})
    >>> rfm_scores(table)
       R  F  M  RFM
    0  5  5  5  555
    1  3  3  2  332
    2  1  1  1  111
    3  2  4  4  244
    4  4  2  3  423
    """
    _check_table(table)
    for col in (recency, frequency, monetary):
        if col not in table:
            raise DataValidationError(
                f"customer table has no column '{col}' for RFM scoring; it has "
                f"{list(table.columns)}. Include it in the features, or name the column with "
                "recency=/frequency=/monetary=."
            )
    scores = pd.DataFrame(
        {
            "R": quantile_scores(table[recency], n_bins, higher_is_better=False),
            "F": quantile_scores(table[frequency], n_bins),
            "M": quantile_scores(table[monetary], n_bins),
        }
    )
    scores["RFM"] = scores["R"].astype(str) + scores["F"].astype(str) + scores["M"].astype(str)
    return scores


def rfm_segments(
    scores: pd.DataFrame,
    rules: Sequence[tuple[str, Mapping[str, tuple[int, int]]]] = RFM_RULES,
    default: str = RFM_DEFAULT,
) -> pd.Series:
    """Name each customer's RFM segment from a rule table (first matching rule wins).

    Parameters
    ----------
    scores : DataFrame
        ``R``, ``F``, ``M`` scores from :func:`rfm_scores`.
    rules : sequence of (name, {score: (low, high)})
        Inclusive score ranges; see :data:`RFM_RULES` for the default table.
    default : str
        Name for customers that match no rule.

    Examples
    --------
    >>> scores = pd.DataFrame({"R": [5, 4, 5, 1, 2, 3], "F": [5, 4, 1, 4, 1, 3],
    ...                        "M": [5, 2, 1, 3, 2, 3]})
    >>> rfm_segments(scores).tolist()
    ['Champions', 'Loyal', 'New', 'At risk', 'Hibernating', 'Needs attention']
    """
    names = pd.Series(default, index=scores.index, dtype="str", name="rfm_segment")
    assigned = np.zeros(len(scores), dtype=bool)
    for name, conditions in rules:
        unknown = [s for s in conditions if s not in scores]
        if unknown:
            raise ValueError(
                f"RFM rule {name!r} uses score(s) {unknown}; scores has {list(scores.columns)}."
            )
        match = ~assigned
        for score, (low, high) in conditions.items():
            match &= scores[score].between(low, high).to_numpy()
        names[match] = name
        assigned |= match
    return names


def rfm_crosstab(
    labels: Sequence[int], segment_names: pd.Series, rfm: pd.Series,
    rules: Sequence[tuple[str, Mapping]] = RFM_RULES, default: str = RFM_DEFAULT,
) -> pd.DataFrame:
    """Customers per cluster (rows, ``"<segment>: <name>"``) and RFM segment (columns).

    Columns follow the rule table's order; rows the segment numbers, with noise (-1) last
    when present. Empty RFM segments are kept as zero columns.

    Examples
    --------
    >>> names = pd.Series(["frequent", "lapsed"])
    >>> rfm = pd.Series(["Champions", "Champions", "Hibernating", "New"])
    >>> rfm_crosstab([0, 0, 1, -1], names, rfm).iloc[:, [0, 4, 5]]
    RFM segment  Champions  Hibernating  Needs attention
    cluster
    0: frequent          2            0                0
    1: lapsed            0            1                0
    -1: noise            0            0                0
    """
    labels = np.asarray(labels)
    rows = [f"{s}: {n}" for s, n in segment_names.items()]
    codes = np.where(labels < 0, len(rows), labels)
    clusters = pd.Categorical.from_codes(codes, rows + ["-1: noise"])
    order = [name for name, _ in rules] + [default]
    order += sorted(set(rfm.unique()) - set(order))
    table = pd.crosstab(
        clusters, pd.Categorical(np.asarray(rfm), order), rownames=["cluster"],
        colnames=["RFM segment"], dropna=False,
    )
    return table.loc[(table.sum(axis=1) > 0) | (table.index != "-1: noise")]


# --------------------------------------------------------------------------- clustering

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
        _check_table(X)
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


def stability(
    segmenter: Segmenter,
    n_runs: int = 5,
    sample_size: int | None = None,
    random_state: int | None = 0,
) -> pd.Series:
    """Agreement between segmentations refitted on bootstrap samples.

    Each run fits the fitted segmenter's method and k on a bootstrap sample (drawn with
    replacement, of ``sample_size`` customers, default all or ``segmenter.sample_size``,
    whichever is smaller) and labels every customer. The result is the adjusted Rand index of
    every pair of runs: 1 means the same segments every time, 0 what chance gives.

    Returns
    -------
    Series
        One ARI per pair of runs (``n_runs * (n_runs - 1) / 2`` values); report its mean.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> table = pd.DataFrame({"x": np.r_[rng.normal(0, 1, 60), rng.normal(9, 1, 60)]})
    >>> seg = Segmenter(n_segments=2, random_state=0).fit(table)
    >>> float(stability(seg, n_runs=3).mean())
    1.0
    """
    if n_runs < 2:
        raise ValueError(f"n_runs must be at least 2 to compare runs, got {n_runs}.")
    rng = check_random_state(random_state)
    n = len(segmenter.X_)
    size = min(n, sample_size or segmenter.sample_size)
    runs = []
    for _ in range(n_runs):
        rows = rng.randint(0, n, size)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        runs.append(segmenter.refit_labels(segmenter.X_[rows], seed))
    pairs = list(combinations(range(n_runs), 2))
    return pd.Series(
        [adjusted_rand_score(runs[i], runs[j]) for i, j in pairs],
        index=pd.MultiIndex.from_tuples(pairs, names=["run_a", "run_b"]),
        name="ari",
    )


def truth_agreement(labels: pd.Series, truth: pd.Series) -> dict[str, float]:
    """Adjusted Rand index and normalized mutual information against planted segments.

    Both are 1 for a perfect recovery (whatever the label names) and about 0 for a random
    labelling. Customers are matched on the index; noise (-1) counts as one more group.

    Examples
    --------
    >>> found = pd.Series([0, 0, 1, 1], index=[1, 2, 3, 4])
    >>> truth = pd.Series(["b", "b", "a", "a"], index=[1, 2, 3, 4])
    >>> truth_agreement(found, truth)
    {'ari': 1.0, 'nmi': 1.0}
    """
    missing = labels.index.difference(truth.index)
    if len(missing):
        raise DataValidationError(
            f"truth has no segment for {len(missing)} customer(s), e.g. {list(missing[:3])}."
        )
    planted = truth.reindex(labels.index).to_numpy()
    return {
        "ari": float(adjusted_rand_score(planted, labels.to_numpy())),
        "nmi": float(normalized_mutual_info_score(planted, labels.to_numpy())),
    }


# --------------------------------------------------------------------------- profiles and actions


def segment_profiles(
    table: pd.DataFrame, labels: Sequence[int] | pd.Series, value: str | None = "monetary",
    stat: str = "mean",
) -> pd.DataFrame:
    """Size, share, feature averages and index against the whole base for each segment.

    Columns: ``size`` (customers), ``share`` (of all customers), ``value_share`` (share of the
    total of ``value``, e.g. revenue; absent when ``value`` is None), then for each feature
    its segment ``stat`` (mean or median) and ``<feature>_index`` = 100 x segment statistic /
    whole-base statistic (100 = like the average customer, 200 = twice the average).

    Examples
    --------
    >>> table = pd.DataFrame({"frequency": [1, 3, 10, 10], "monetary": [10.0, 30.0, 100.0, 60.0]})
    >>> print(segment_profiles(table, [0, 0, 1, 1]).round(1).to_string())
             size  share  value_share  frequency  monetary  frequency_index  monetary_index
    segment
    0           2    0.5          0.2        2.0      20.0             33.3            40.0
    1           2    0.5          0.8       10.0      80.0            166.7           160.0
    """
    if stat not in ("mean", "median"):
        raise ValueError(f"stat must be 'mean' or 'median', got {stat!r}.")
    labels = np.asarray(labels)
    if len(labels) != len(table):
        raise ValueError(
            f"labels has {len(labels)} entries but the table has {len(table)} customers."
        )
    if value is not None and value not in table:
        raise DataValidationError(
            f"customer table has no value column {value!r} for the value share; it has "
            f"{list(table.columns)}. Pass value=None to leave the share out."
        )
    features = list(table.columns)
    grouped = table.groupby(pd.Series(labels, index=table.index, name="segment"), sort=True)
    centre = grouped[features].agg(stat).astype(float)
    base = table[features].agg(stat).astype(float)
    out = pd.DataFrame({"size": grouped.size()})
    out["share"] = out["size"] / len(table)
    if value is not None:
        out["value_share"] = grouped[value].sum() / table[value].sum()
    out = out.join(centre)
    index = 100 * centre / base.where(base != 0)
    return out.join(index.add_suffix("_index"))


def name_segments(
    profiles: pd.DataFrame,
    descriptors: Mapping[str, tuple[str, str]] = DESCRIPTORS,
    threshold: float = 25.0,
    max_terms: int = 3,
) -> pd.Series:
    """A readable name per segment from its feature indices (see :func:`segment_profiles`).

    A feature whose index is at least ``100 + threshold`` is "high", at most
    ``100 - threshold`` "low"; it is described by its word from ``descriptors`` (or
    "high <feature>" / "low <feature>"). The ``max_terms`` features furthest from average (by
    ``|log(index / 100)|``, so halving counts as much as doubling) make the name; a segment
    with none is "average". Repeated names get " (2)", " (3)".

    Examples
    --------
    >>> profiles = pd.DataFrame({"recency_days_index": [40.0, 300.0, 95.0],
    ...                          "frequency_index": [180.0, 30.0, 110.0],
    ...                          "income_index": [100.0, 100.0, 140.0]})
    >>> name_segments(profiles).tolist()
    ['recent, frequent', 'infrequent, lapsed', 'high income']
    """
    if threshold <= 0 or threshold >= 100:
        raise ValueError(f"threshold must be between 0 and 100 (index points), got {threshold}.")
    cols = [c for c in profiles if c.endswith("_index")]
    if not cols:
        raise ValueError(
            "profiles has no '<feature>_index' columns; build it with segment_profiles."
        )
    index = profiles[cols].rename(columns=lambda c: c.removesuffix("_index"))
    strength = np.abs(np.log(index.clip(lower=1e-9) / 100)).fillna(0)
    names = []
    for seg in index.index:
        row, power = index.loc[seg], strength.loc[seg].sort_values(ascending=False, kind="stable")
        terms = []
        for feature in power.index:
            value = row[feature]
            if not (value >= 100 + threshold or value <= 100 - threshold):
                continue
            low, high = descriptors.get(feature, (f"low {feature}", f"high {feature}"))
            terms.append(high if value >= 100 else low)
            if len(terms) == max_terms:
                break
        names.append(", ".join(terms) if terms else "average")
    names = pd.Series(names, index=profiles.index, name="segment_name", dtype="str")
    repeat = names.groupby(names).cumcount() + 1
    return names.where(repeat == 1, names + " (" + repeat.astype(str) + ")")


def action_rules_for(case) -> list[dict[str, Any]]:
    """The profile rules that map segments to ``case``'s playbook actions.

    They live in the case file under ``playbook: segment_rules:``, as a list of
    ``{"segment": playbook key, "when": {feature: [min_index, max_index]}}`` on the index
    against the whole base (100 = average; ``null`` leaves a side open), first match wins.
    They describe what the playbook's segment names mean (lapsed: long since the last purchase;
    high value: spends much and often), never the planted truth, so they apply to real data too.
    A case without rules maps every segment to the ``default`` action.
    """
    return list(case.playbook.get("segment_rules") or [])


def match_playbook(profiles: pd.DataFrame, rules: Sequence[Mapping[str, Any]]) -> pd.Series:
    """The playbook segment each profile matches: the first rule whose index ranges all hold.

    A rule is ``{"segment": key, "when": {feature: [min_index, max_index]}}`` (inclusive,
    ``None`` = open). Unmatched segments get ``"default"``.

    Examples
    --------
    >>> profiles = pd.DataFrame({"recency_days_index": [300.0, 50.0, 80.0],
    ...                          "monetary_index": [40.0, 220.0, 90.0]})
    >>> rules = [{"segment": "lapsed", "when": {"recency_days": [150, None]}},
    ...          {"segment": "high-value", "when": {"monetary": [150, None]}}]
    >>> match_playbook(profiles, rules).tolist()
    ['lapsed', 'high-value', 'default']
    """
    out = pd.Series("default", index=profiles.index, name="playbook_segment", dtype="str")
    done = np.zeros(len(profiles), dtype=bool)
    for rule in rules:
        if "segment" not in rule or "when" not in rule:
            raise ValueError(f"a playbook rule needs 'segment' and 'when', got {dict(rule)}.")
        match = ~done
        for feature, (low, high) in rule["when"].items():
            col = f"{feature}_index"
            if col not in profiles:
                # a rule about a feature this segmentation did not use cannot match
                match &= False
                continue
            values = profiles[col].to_numpy()
            if low is not None:
                match &= values >= low
            if high is not None:
                match &= values <= high
        out[match] = rule["segment"]
        done |= match
    return out


def segment_actions(
    profiles: pd.DataFrame, case, rules: Sequence[Mapping] | None = None
) -> pd.DataFrame:
    """Each segment's name, matched playbook segment and the case's action for it.

    Examples
    --------
    >>> from marketing.cases import get_case
    >>> profiles = pd.DataFrame({"recency_days_index": [320.0, 60.0],
    ...                          "frequency_index": [50.0, 105.0]})
    >>> segment_actions(profiles, get_case("ecommerce"))["playbook_segment"].tolist()
    ['lapsed', 'default']
    """
    rules = action_rules_for(case) if rules is None else rules
    playbook = match_playbook(profiles, rules)
    return pd.DataFrame(
        {
            "segment_name": name_segments(profiles),
            "playbook_segment": playbook,
            "action": playbook.map(case.action_for_segment).astype("str"),
        }
    )


def audience_table(
    customer_ids: Sequence, labels: Sequence[int], actions: pd.DataFrame,
    noise_action: str = "no action",
) -> pd.DataFrame:
    """One row per customer: ``customer_id``, ``segment``, ``segment_name``, ``action``.

    ``actions`` is :func:`segment_actions` (indexed by segment). Noise points (-1) are kept,
    named "unassigned (noise)", with ``noise_action`` (for example the playbook's default:
    ``case.action_for_segment("default")``).

    Examples
    --------
    >>> actions = pd.DataFrame({"segment_name": ["frequent"], "action": ["upsell"]})
    >>> audience_table([7, 9], [0, 0], actions)
       customer_id  segment segment_name  action
    0            7        0     frequent  upsell
    1            9        0     frequent  upsell
    """
    labels = np.asarray(labels)
    unknown = np.setdiff1d(labels[labels >= 0], actions.index.to_numpy())
    if len(unknown):
        raise ValueError(f"actions has no row for segment(s) {unknown.tolist()}.")
    noise = labels < 0
    names = actions["segment_name"].reindex(labels).to_numpy(dtype=object)
    acts = actions["action"].reindex(labels).to_numpy(dtype=object)
    return pd.DataFrame(
        {
            "customer_id": np.asarray(customer_ids),
            "segment": labels,
            "segment_name": np.where(noise, "unassigned (noise)", names),
            "action": np.where(noise, noise_action, acts),
        }
    ).astype({"segment_name": "str", "action": "str"})
