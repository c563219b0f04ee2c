"""How far to trust a segmentation: stability under bootstrap refits, agreement with planted segments."""

from __future__ import annotations

from itertools import combinations

import narwhals as nw
import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from sklearn.utils import check_random_state

from marketing.columns import CUSTOMER
from marketing.engines import engine_of
from marketing.frames import collect
from marketing.segmentation.clustering import Segmenter, cluster_quality
from marketing.segmentation.quality import frame_quality
from marketing.validation import DataValidationError

RFM = "rfm_segment"


def stability(
    segmenter: Segmenter,
    table,
    n_runs: int = 5,
    sample_size: int | None = None,
    random_state: int | None = 0,
) -> pd.Series:
    """Agreement between segmentations refitted on bootstrap samples.

    Each run fits the fitted segmenter's method and k on a bootstrap sample (drawn with
    replacement, of ``sample_size`` customers, default all or ``segmenter.sample_size``,
    whichever is smaller) and labels every customer. The result is the adjusted Rand index of
    every pair of runs: 1 means the same segments every time, 0 what chance gives.

    ``table`` is the customer table the segmenter was fitted on. On Spark the refits are Spark
    k-means on Spark bootstrap samples (:func:`marketing.spark.segmentation.stability`).

    Returns
    -------
    Series
        One ARI per pair of runs (``n_runs * (n_runs - 1) / 2`` values); report its mean.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> table = pd.DataFrame({"x": np.r_[rng.normal(0, 1, 60), rng.normal(9, 1, 60)]})
    >>> seg = Segmenter(n_segments=2, random_state=0).fit(table)
    >>> float(stability(seg, table, n_runs=3).mean())
    1.0
    """
    if getattr(segmenter, "engine_", None) == "spark":
        from marketing.spark.segmentation import stability as spark_stability

        return spark_stability(segmenter.spark_, table, n_runs=n_runs, sample_size=sample_size,
                               random_state=random_state)
    if len(table) != len(segmenter.X_):
        raise ValueError(f"table has {len(table)} customers but the segmenter was fitted on {len(segmenter.X_)}.")
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
    return pairwise_agreement(runs)


def pairwise_agreement(runs) -> pd.Series:
    """The adjusted Rand index of every pair of labellings of the same customers (index ``run_a``, ``run_b``).

    Examples
    --------
    >>> pairwise_agreement([[0, 0, 1], [1, 1, 0], [0, 1, 1]]).round(2).tolist()
    [1.0, -0.5, -0.5]
    """
    pairs = list(combinations(range(len(runs)), 2))
    return pd.Series(
        [adjusted_rand_score(runs[i], runs[j]) for i, j in pairs],
        index=pd.MultiIndex.from_tuples(pairs, names=["run_a", "run_b"]),
        name="ari",
    )


def truth_agreement(labels, truth: pd.Series, label: str = "segment") -> dict[str, float]:
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
    if engine_of(labels) == "spark":
        # a planted truth exists only for generated data, and is as large as it: collect the pairs
        labels = labels.select(CUSTOMER, label).toPandas().set_index(CUSTOMER)[label]
    missing = np.flatnonzero(~labels.index.isin(truth.index))
    if len(missing):
        # positions, not ids: an id may be personal, and the message may end in a report
        raise DataValidationError(
            f"truth has no segment for {len(missing)} customer(s), e.g. the labels' rows {missing[:3].tolist()} "
            "(counting from 0)."
        )
    planted = truth.reindex(labels.index).to_numpy()
    return {
        "ari": float(adjusted_rand_score(planted, labels.to_numpy())),
        "nmi": float(normalized_mutual_info_score(planted, labels.to_numpy())),
    }


def baseline_comparison(segmenter: Segmenter, table, rfm, truth=None, random_state: int | None = 0) -> pd.DataFrame:
    """The clusters against the RFM baseline, judged the same way, on any engine.

    Rows ``clusters`` and ``RFM baseline``; columns the :func:`cluster_quality` indices of each
    labelling in the segmenter's scaled feature space, ``segments`` (how many), and with
    ``truth`` (the planted segments: a Series by customer id, or the data's
    :class:`~marketing.datasets.synthetic.Truth`) ``truth_ari`` and ``truth_nmi``
    (:func:`truth_agreement`).

    Parameters
    ----------
    segmenter : Segmenter
        Fitted on ``table`` (on Spark, or the :class:`~marketing.spark.segmentation.SparkSegmenter`
        it wraps; the clusters' row is then its ``quality_``).
    table : DataFrame
        The customer table (a Spark DataFrame on Spark).
    rfm : Series or Spark DataFrame
        :func:`~marketing.segmentation.rfm_segments` of the same customers.
    truth : Series or Truth, optional
    random_state : int or None
        Seed of the silhouette samples.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> table = pd.DataFrame({"x": np.r_[rng.normal(0, 1, 30), rng.normal(9, 1, 30)]})
    >>> seg = Segmenter(n_segments=2, random_state=0).fit(table)
    >>> rfm = pd.Series(np.where(table["x"] > 4, "Champions", "New"), index=table.index)
    >>> baseline_comparison(seg, table, rfm, truth=pd.Series(seg.labels_)).round(2)[["silhouette", "segments", "truth_ari"]]
                  silhouette  segments  truth_ari
    clusters            0.89         2        1.0
    RFM baseline        0.89         2        1.0
    """
    from marketing.segmentation.rfm import is_rfm

    spark = segmenter.spark_ if getattr(segmenter, "engine_", None) == "spark" else None
    spark = segmenter if spark is None and engine_of(table) == "spark" else spark  # a SparkSegmenter
    if spark is not None:
        names = collect(nw.from_native(rfm).select(RFM).unique())[RFM].tolist()
    else:
        rfm_codes, names = pd.factorize(np.asarray(rfm))
    # the row of the RFM rules, or of the thirds of a feature (marketing.segmentation.rfm.baseline_segments)
    baseline = "RFM baseline" if is_rfm(names) else "baseline"
    if spark is not None:
        # the baseline's labels judged in the clusters' scaled feature space, as the clusters were
        points = nw.from_native(spark.scaled(table)).join(nw.from_native(rfm).select(CUSTOMER, RFM), on=CUSTOMER)
        features = list(spark.preprocessor_.feature_names_in_)
        rfm_quality = frame_quality(points, RFM, features, spark.silhouette_sample, random_state)
        qualities = {"clusters": spark.quality_, baseline: rfm_quality}
        found = {"clusters": (spark.labels_, "segment"), baseline: (rfm, RFM)}
    else:
        qualities = {
            "clusters": cluster_quality(segmenter.X_, segmenter.labels_, random_state=random_state),
            baseline: cluster_quality(segmenter.X_, rfm_codes, random_state=random_state),
        }
        found = {"clusters": (pd.Series(segmenter.labels_, index=table.index), "segment"),
                 baseline: (pd.Series(rfm_codes, index=table.index), "segment")}
    n_rfm = len(names)
    comparison = pd.DataFrame(qualities).T
    comparison["segments"] = [segmenter.n_segments_, int(n_rfm)]
    if truth is not None:
        truth = getattr(truth, "segments", truth)
        agreement = {row: truth_agreement(labels, truth, label=label) for row, (labels, label) in found.items()}
        comparison = comparison.join(pd.DataFrame(agreement).T.add_prefix("truth_"))
    return comparison
