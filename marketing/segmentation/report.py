"""What the segmentation notebook shows, on any engine: summaries, bounded samples, the record.

In memory every customer is drawn; on Spark only bounded seeded samples are collected for the
figures that draw customers as points, and each such function says so in one printed line.
"""

from __future__ import annotations

import narwhals as nw
import numpy as np
import pandas as pd

from marketing.columns import CUSTOMER
from marketing.engines import engine_of
from marketing.frames import quantiles, scalars
from marketing.privacy import DEFAULT_MIN_SIZE
from marketing.segmentation.preprocess import SegmentPreprocessor
from marketing.segmentation.small_groups import segment_sizes, segment_warnings

#: The step of the capability table that gives the segments their lifetime value.
LIFETIME_VALUE = "lifetime value by segment (BTYD)"

#: Customers collected from Spark for a figure that draws customers as points.
PLOT_SAMPLE = 5_000


def describe_features(table) -> pd.DataFrame:
    """Count, mean, sd, min, quartiles and max of every feature (one row per feature), on any engine.

    Shaped like pandas' ``describe().T`` (sample standard deviation); the quartiles are
    :func:`marketing.frames.quantiles` (on Spark approximate, a value of the data).

    Examples
    --------
    >>> describe_features(pd.DataFrame({"x": [1.0, 2.0, 3.0]}))[["count", "mean", "max"]]
       count  mean  max
    x    3.0   2.0  3.0
    """
    frame = nw.from_native(table)
    features = [c for c in frame.columns if c != CUSTOMER]
    stats = {"count": "count", "mean": "mean", "std": "std", "min": "min", "max": "max"}
    aggregates = {f"{name}{i}": getattr(nw.col(c).cast(nw.Float64), method)() for i, c in enumerate(features)
                  for name, method in stats.items()}
    row, quartiles = scalars(frame, **aggregates), quantiles(frame, features, [0.25, 0.5, 0.75])
    out = {c: [row[f"count{i}"], row[f"mean{i}"], row[f"std{i}"], row[f"min{i}"], *quartiles[c], row[f"max{i}"]]
           for i, c in enumerate(features)}
    return pd.DataFrame(out, index=["count", "mean", "std", "min", "25%", "50%", "75%", "max"], dtype=float).T


def logged_features(table) -> list[str]:
    """The features the segmentation preprocessing log-transforms (see :data:`LOG_FEATURES`).

    Examples
    --------
    >>> logged_features(pd.DataFrame({"recency_days": [1, 9], "monetary": [5.0, 50.0]}))
    ['monetary']
    """
    if engine_of(table) == "spark":
        from marketing.spark.segmentation import SparkSegmentPreprocessor

        return SparkSegmentPreprocessor().fit(table).log_features_
    return SegmentPreprocessor().fit(table).log_features_


def plot_sample(table, random_state: int | None = 0) -> pd.DataFrame:
    """The customers a figure draws: all of them in memory, a seeded sample of at most
    :data:`PLOT_SAMPLE` collected from Spark (with a line saying so)."""
    if engine_of(table) != "spark":
        return table
    from marketing.spark.segmentation import collect_sample

    sample = collect_sample(table, PLOT_SAMPLE, random_state=random_state)
    print(f"figure drawn from a random sample of {len(sample):,} customers collected from Spark")
    return sample


def scatter_points(segmenter, table, random_state: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """Scaled features and segment of the customers a scatter draws (see :func:`plot_sample`).

    Examples
    --------
    >>> from marketing.segmentation import Segmenter
    >>> table = pd.DataFrame({"x": [0.0, 0.1, 5.0, 5.1], "y": [1.0, 1.1, 0.0, 0.2]})
    >>> X, labels = scatter_points(Segmenter(n_segments=2).fit(table), table)
    >>> X.shape, sorted(labels.tolist())
    ((4, 2), [0, 0, 1, 1])
    """
    if getattr(segmenter, "engine_", None) != "spark":
        return segmenter.X_, segmenter.labels_
    sample = segmenter.spark_.sample_points(table, PLOT_SAMPLE, random_state=random_state)
    print(f"scatter of a random sample of {len(sample):,} customers collected from Spark")
    return sample.drop(columns="segment").to_numpy(), sample["segment"].to_numpy()


def show_segment_value(case, data, table, labels, names: pd.Series, min_size: int = DEFAULT_MIN_SIZE):
    """Lifetime value by segment (:func:`marketing.regression.btyd.segment_lifetime_value`), named as
    published (``names``: :func:`~marketing.segmentation.published_names`) and with the figures of
    segments below ``min_size`` blanked; prints why there is none where BTYD does not apply or the
    engine lacks it. Returns the table (None without one).
    """
    from IPython.display import display

    from marketing.capabilities import supports, unavailable
    from marketing.privacy import is_small
    from marketing.regression.btyd import segment_lifetime_value

    engine = engine_of(table)
    if not supports("segmentation", LIFETIME_VALUE, engine):
        print(unavailable("segmentation", LIFETIME_VALUE, engine))
        return None
    value = segment_lifetime_value(case, data, table.index.to_numpy(), labels)
    if isinstance(value, str):
        print(value)
        return None
    value = value.astype({"customers": "Int64", "with_clv": "Int64"})
    value.loc[is_small(value["customers"], min_size).to_numpy(dtype=bool), :] = pd.NA
    value.index = names.reindex(value.index).to_numpy()
    value.index.name = "segment"
    print("12-month CLV from BG/NBD x Gamma-Gamma fitted on every customer's purchases before the observation end "
          "(a description; the regression report checks these models on held-out customers).")
    display(value.round(3))
    return value


def segmentation_record(data, segmenter, profiles: pd.DataFrame, actions: pd.DataFrame,
                        comparison: pd.DataFrame, stability_ari: pd.Series,
                        min_group_size: int = DEFAULT_MIN_SIZE, segment_value: pd.DataFrame | None = None) -> dict:
    """The machine-readable record of a segmentation run (what the tests and the index read).

    ``data`` is the case's data (its engine and case are recorded). Truth agreement is recorded
    only where the data has a planted truth (synthetic data). The record is published with the
    report, so small segments are suppressed in it as in the tables: ``segment_sizes`` gives a
    segment of fewer than ``min_group_size`` customers as ``{"segment <number>": "<10"}``
    (:func:`~marketing.segmentation.small_groups.segment_sizes`), ``n_customers`` stays exact,
    and ``warnings`` lists :func:`~marketing.segmentation.small_groups.segment_warnings`.
    ``segment_value`` (from :func:`show_segment_value`) is recorded as each published segment's
    mean 12-month CLV and share of the total (None where there is none; blanked segments left out).
    """
    quality = segmenter.quality_
    truth = "truth_ari" in comparison

    def truth_of(row: str, column: str):
        return comparison.loc[row, column] if truth else None

    sizes = profiles["size"]
    return {
        "case_study": data.case.name,
        "engine": engine_of(data),
        "method": segmenter.method,
        "n_segments": segmenter.n_segments_,
        "silhouette": quality["silhouette"],
        "calinski_harabasz": quality["calinski_harabasz"],
        "davies_bouldin": quality["davies_bouldin"],
        "stability_ari": stability_ari.mean(),
        "truth_ari": truth_of("clusters", "truth_ari"),
        "truth_nmi": truth_of("clusters", "truth_nmi"),
        # the baseline's row: the RFM rules, or thirds of a feature for a table without an event log
        "rfm_truth_ari": truth_of(comparison.index[1], "truth_ari"),
        "rfm_silhouette": comparison["silhouette"].iloc[1],
        "noise_share": segmenter.noise_share_,
        "segment_sizes": segment_sizes(profiles, actions["segment_name"], min_group_size),
        "n_customers": int(sizes.sum()),
        "min_group_size": int(min_group_size),
        "warnings": segment_warnings(segmenter, profiles, min_group_size),
        "segment_clv": None if segment_value is None else {
            str(name): {"mean_clv_12m": round(float(row["mean_clv_12m"]), 2), "share_of_clv": round(float(row["share_of_clv"]), 3)}
            for name, row in segment_value.dropna(subset=["mean_clv_12m"]).iterrows()
        },
    }
