"""Quality indices of segments from per-segment aggregates, on any engine (narwhals).

The in-memory path computes them with scikit-learn on the scaled matrix
(:func:`marketing.segmentation.cluster_quality`); a table that stays where it is (a Spark
DataFrame of customers) is judged by :func:`frame_quality` with the same definitions: sizes and
feature sums per segment give the centres, a second pass the distances to them, and the
silhouette comes from a bounded seeded sample.
"""

from __future__ import annotations

from collections.abc import Sequence

import narwhals as nw
import numpy as np
import pandas as pd
from sklearn.metrics import silhouette_score

from marketing.columns import CUSTOMER, SEGMENT
from marketing.frames import as_frame, collect, sample_rows

#: The silhouette needs every pairwise distance: it is computed on at most this many customers.
SILHOUETTE_SAMPLE = 5_000


def frame_quality(
    points, label: str = SEGMENT, features: Sequence[str] | None = None,
    silhouette_sample: int = SILHOUETTE_SAMPLE, random_state: int | None = 0,
) -> dict[str, float]:
    """Silhouette, Calinski-Harabasz, Davies-Bouldin and inertia of a labelling, from aggregates, on any engine.

    The definitions are scikit-learn's (as :func:`marketing.segmentation.cluster_quality`), in
    Euclidean distance. Calinski-Harabasz, Davies-Bouldin and inertia are exact, from two passes:
    each segment's size and feature sums give the centres; then each customer's distance to its
    centre, summed (Davies-Bouldin's scatter) and squared (inertia, the within-segment sum of
    squares). The silhouette needs every pairwise distance, so it is scikit-learn's on a bounded
    seeded sample of ``silhouette_sample`` customers collected to the driver (see
    :func:`marketing.frames.sample_rows`): all of them when there are fewer, as on the pandas path.
    Spark's ``ClusteringEvaluator`` is not used: its silhouette uses squared distances, another index.

    Parameters
    ----------
    points : DataFrame (Spark, or pandas)
        ``customer_id``, the feature columns (in the space the segments are judged in, e.g.
        :meth:`marketing.spark.segmentation.SparkSegmentPreprocessor.transform`) and the ``label`` column.
    label : str
        The segment column, of any type; missing and negative labels (noise) are left out.
    features : sequence of str, optional
        Default: every column but ``customer_id`` and ``label``.
    silhouette_sample : int
    random_state : int or None
        Seed of the silhouette sample.

    Returns
    -------
    dict
        NaN for every index when there are fewer than two segments, or as many as customers.

    Examples
    --------
    >>> points = pd.DataFrame({"customer_id": [1, 2, 3, 4], "x": [0.0, 0.0, 10.0, 10.0],
    ...                        "y": [0.0, 1.0, 0.0, 1.0], "segment": [0, 0, 1, 1]})
    >>> {k: round(v, 3) for k, v in frame_quality(points).items()}
    {'silhouette': 0.9, 'calinski_harabasz': 200.0, 'davies_bouldin': 0.1, 'inertia': 1.0}
    """
    columns = as_frame(points, [CUSTOMER, label], "points").columns
    features = [c for c in columns if c not in (CUSTOMER, label)] if features is None else list(features)
    [quality], _ = frame_qualities(points, [label], features, silhouette_sample, random_state)
    return quality


def frame_qualities(
    points, labels: Sequence[str], features: Sequence[str], silhouette_sample: int = SILHOUETTE_SAMPLE,
    random_state: int | None = 0,
) -> tuple[list[dict[str, float]], list[pd.Series]]:
    """:func:`frame_quality` of several labellings of the same points (label columns of one type)
    in two passes and one sample, and the size of each segment.

    The labellings are stacked (``unpivot``: each customer once per labelling), so one grouped
    aggregate gives every labelling's centres and a second one every distance to them.
    """
    frame = as_frame(points, [CUSTOMER, *labels, *features], "points")
    numeric = frame.collect_schema()[labels[0]].is_numeric()
    xs = [f"_x{j}" for j in range(len(features))]
    stacked = frame.select(
        *[nw.col(c).cast(nw.Float64).alias(x) for c, x in zip(features, xs)],
        *[nw.col(label).alias(f"_k{i}") for i, label in enumerate(labels)],
    ).unpivot(on=[f"_k{i}" for i in range(len(labels))], index=xs, variable_name="_i", value_name="_l")
    keep = ~nw.col("_l").is_null()
    stacked = stacked.filter(keep & (nw.col("_l") >= 0) if numeric else keep)
    sums = collect(stacked.group_by("_i", "_l").agg(nw.len().alias("_n"), *[nw.col(x).sum().alias(f"_s{x}") for x in xs]))
    sums["_centre"] = list(sums[[f"_s{x}" for x in xs]].to_numpy(dtype=float) / sums["_n"].to_numpy(dtype=float)[:, None])

    def centre_of(j: int) -> nw.Expr:
        centre = nw.lit(None, nw.Float64)
        for i, level, c in zip(sums["_i"], sums["_l"], sums["_centre"]):
            level = level.item() if hasattr(level, "item") else level
            centre = nw.when((nw.col("_i") == i) & (nw.col("_l") == level)).then(nw.lit(float(c[j]))).otherwise(centre)
        return centre

    squared = nw.sum_horizontal(*[(nw.col(x) - centre_of(j)) * (nw.col(x) - centre_of(j)) for j, x in enumerate(xs)])
    spread = collect(
        stacked.with_columns(_d2=squared).with_columns(_d=nw.col("_d2").sqrt())
        .group_by("_i", "_l").agg(nw.col("_d").sum(), nw.col("_d2").sum())
    )
    sums = sums.merge(spread, on=["_i", "_l"])
    sample = sample_rows(frame.select(CUSTOMER, *labels, *features), silhouette_sample, random_state)
    X = sample[list(features)].to_numpy(dtype=float)
    qualities, sizes = [], []
    for i, label in enumerate(labels):
        groups = sums[sums["_i"] == f"_k{i}"].sort_values("_l")
        sizes.append(pd.Series(groups["_n"].to_numpy(dtype="int64"), index=groups["_l"].to_numpy(), name="size"))
        in_sample = sample[label].notna().to_numpy()
        if numeric:
            in_sample = in_sample & (sample[label].fillna(-1).to_numpy() >= 0)
        qualities.append(_indices(groups, X[in_sample], sample[label].to_numpy()[in_sample]))
    return qualities, sizes


def _indices(groups: pd.DataFrame, X_sample: np.ndarray, labels_sample: np.ndarray) -> dict[str, float]:
    """The four indices from per-segment sizes, centres and distance sums (scikit-learn's formulas)."""
    nan = float("nan")
    counts = groups["_n"].to_numpy(dtype=float)
    n, n_labels = counts.sum(), len(groups)
    if n_labels < 2 or n_labels >= n:
        return {"silhouette": nan, "calinski_harabasz": nan, "davies_bouldin": nan, "inertia": nan}
    centres = np.vstack(groups["_centre"].to_numpy())
    within = float(groups["_d2"].sum())
    overall = (centres * counts[:, None]).sum(axis=0) / n
    between = float((counts * ((centres - overall) ** 2).sum(axis=1)).sum())
    calinski = 1.0 if within == 0.0 else between * (n - n_labels) / (within * (n_labels - 1.0))
    intra = groups["_d"].to_numpy(dtype=float) / counts
    distances = np.sqrt(((centres[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2))
    if np.allclose(intra, 0) or np.allclose(distances, 0):
        davies = 0.0
    else:
        distances[distances == 0] = np.inf
        davies = float(np.mean(np.max((intra[:, None] + intra[None, :]) / distances, axis=1)))
    found = len(np.unique(labels_sample))
    silhouette = float(silhouette_score(X_sample, labels_sample)) if 2 <= found < len(labels_sample) else nan
    return {"silhouette": silhouette, "calinski_harabasz": float(calinski), "davies_bouldin": davies,
            "inertia": within}
