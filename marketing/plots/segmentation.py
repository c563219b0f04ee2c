"""Figures for the segmentation notebook. Each function draws on a new figure and returns it.

Every figure has a title that states what it shows, labelled axes with units, and uses the
project theme (:func:`marketing.plots.set_theme`).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from sklearn.decomposition import PCA

from marketing.plots import PALETTE, set_theme

UNITS = {
    "recency_days": "days since last event",
    "frequency": "events",
    "tenure_days": "days",
}


@contextmanager
def _quiet_seaborn_heatmap() -> Iterator[None]:
    # seaborn 0.13's heatmap calls Colormap.set_bad, which matplotlib 3.11 marks as pending
    # deprecation; nothing in our call can avoid it, so only that warning is silenced
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="The set_bad function", category=PendingDeprecationWarning
        )
        yield


def _label(feature: str, value_measure: str | None = None) -> str:
    if feature in UNITS:
        return f"{feature} ({UNITS[feature]})"
    if feature in ("monetary", "avg_order_value") and value_measure:
        return f"{feature} ({value_measure})"
    return feature


def feature_distributions(
    table: pd.DataFrame, log_features: Sequence[str] = (), value_measure: str | None = None,
    max_points: int = 50_000, random_state: int = 0,
) -> Figure:
    """Histogram of every feature; logged features on a log scale (as the clustering sees them).

    Examples
    --------
    >>> table = pd.DataFrame({"recency_days": [3, 30, 300], "monetary": [10.0, 100.0, 1000.0]})
    >>> fig = feature_distributions(table, ["monetary"], "revenue")
    >>> [ax.get_xlabel() for ax in fig.axes if ax.get_visible()]
    ['recency_days (days since last event)', 'monetary (revenue), log scale']
    >>> plt.close(fig)
    """
    set_theme()
    if len(table) > max_points:
        table = table.sample(max_points, random_state=random_state)
    n = table.shape[1]
    cols = min(n, 3)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.0 * cols, 2.8 * rows), squeeze=False)
    for ax, feature in zip(axes.ravel(), table.columns):
        logged = feature in log_features
        values = table[feature].astype(float)
        if logged:
            values = values.clip(lower=values[values > 0].min() if (values > 0).any() else 1)
        colour = sns.color_palette(PALETTE)[0]
        sns.histplot(x=values, ax=ax, bins=40, log_scale=logged, color=colour)
        ax.set_xlabel(_label(feature, value_measure) + (", log scale" if logged else ""))
        ax.set_ylabel("customers")
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    fig.suptitle("Money and counts are right-skewed, so they are clustered on a log scale",
                 x=0.01, ha="left", fontweight="bold")
    fig.tight_layout()
    return fig


def k_selection(scores: pd.DataFrame, chosen: int) -> Figure:
    """The four quality indices against k, with the chosen k marked.

    Examples
    --------
    >>> scores = pd.DataFrame({"silhouette": [0.5, 0.6], "calinski_harabasz": [10.0, 20.0],
    ...                        "davies_bouldin": [0.9, 0.7], "inertia": [50.0, 30.0]}, index=[2, 3])
    >>> fig = k_selection(scores, 3)
    >>> fig.texts[0].get_text()[:38]
    'k = 3 has the best average rank over s'
    >>> plt.close(fig)
    """
    set_theme()
    panels = [
        ("silhouette", "silhouette", "score (higher is better)"),
        ("calinski_harabasz", "Calinski-Harabasz", "score (higher is better)"),
        ("davies_bouldin", "Davies-Bouldin", "score (lower is better)"),
        ("inertia", "inertia (elbow)", "within-segment sum of squares"),
    ]
    fig, axes = plt.subplots(1, 4, figsize=(14.0, 3.6))
    for ax, (col, name, unit) in zip(axes, panels):
        ax.plot(scores.index, scores[col], marker="o")
        ax.axvline(chosen, color="grey", linestyle="--", linewidth=1)
        ax.set_title(name, fontsize=10, fontweight="normal")
        ax.set_xlabel("number of segments k")
        ax.set_ylabel(unit)
        ax.set_xticks(list(scores.index))
    fig.suptitle(
        f"k = {chosen} has the best average rank over silhouette, Calinski-Harabasz and "
        "Davies-Bouldin (dashed line)",
        x=0.01, ha="left", fontweight="bold",
    )
    fig.tight_layout(rect=(0, 0, 1, 0.92))
    return fig


def segments_pca(
    X: np.ndarray, labels: np.ndarray, names: pd.Series, max_points: int = 5_000,
    random_state: int = 0,
) -> Figure:
    """The customers on the first two principal components, coloured by segment.

    Examples
    --------
    >>> X = np.array([[0.0, 0.0, 1.0], [0.1, 0.0, 1.0], [5.0, 5.0, 0.0], [5.1, 5.0, 0.2]])
    >>> fig = segments_pca(X, np.array([0, 0, 1, 1]), pd.Series(["a", "b"]))
    >>> fig.axes[0].get_title(loc="left")
    '2 segments separate in two dimensions'
    >>> plt.close(fig)
    """
    set_theme()
    pca = PCA(n_components=2, random_state=random_state).fit(X)
    rng = np.random.default_rng(random_state)
    if len(X) <= max_points:
        rows = np.arange(len(X))
    else:
        rows = rng.choice(len(X), max_points, replace=False)
    coords = pca.transform(X[rows])
    label_names = pd.Series(labels[rows]).map(
        lambda s: "noise" if s < 0 else f"{s}: {names.get(s, s)}"
    )
    fig, ax = plt.subplots(figsize=(8.0, 5.5))
    sns.scatterplot(
        x=coords[:, 0], y=coords[:, 1],
        hue=label_names.to_numpy(), hue_order=sorted(label_names.unique()),
        palette=PALETTE, s=12, alpha=0.6, linewidth=0, ax=ax,
    )
    share = pca.explained_variance_ratio_
    ax.set_xlabel(f"principal component 1 ({share[0]:.0%} of variance, standardised units)")
    ax.set_ylabel(f"principal component 2 ({share[1]:.0%} of variance)")
    ax.set_title(f"{len(set(labels[labels >= 0]))} segments separate in two dimensions")
    ax.legend(title="segment", fontsize=8, title_fontsize=9, loc="best", markerscale=2)
    fig.tight_layout()
    return fig


def profile_heatmap(profiles: pd.DataFrame, names: pd.Series) -> Figure:
    """Heat map of each segment's index against the whole base (100 = average).

    Examples
    --------
    >>> profiles = pd.DataFrame({"share": [0.4, 0.6], "frequency_index": [150.0, 67.0]})
    >>> fig = profile_heatmap(profiles, pd.Series(["frequent", "infrequent"]))
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['0: frequent (40%)', '1: infrequent (60%)']
    >>> plt.close(fig)
    """
    set_theme()
    index = profiles.filter(like="_index").rename(columns=lambda c: c.removesuffix("_index"))
    index.index = [f"{s}: {names.get(s, s)} ({profiles.loc[s, 'share']:.0%})" for s in index.index]
    fig, ax = plt.subplots(figsize=(1.6 * index.shape[1] + 4.0, 0.7 * len(index) + 1.8))
    with _quiet_seaborn_heatmap():
        sns.heatmap(
            np.log2(index.clip(lower=1) / 100), annot=index.round(0).astype("Int64"), fmt="",
            cmap="vlag", center=0, vmin=-3, vmax=3, cbar_kws={"label": "log2(index / 100)"},
            ax=ax,
        )
    ax.set_xlabel("feature (cells: index, 100 = average customer)")
    ax.set_ylabel("segment (share of customers)")
    ax.set_title("Each segment differs from the average customer on a few features")
    fig.tight_layout()
    return fig


def rfm_crosstab(crosstab: pd.DataFrame) -> Figure:
    """Heat map of clusters (rows) against RFM segments (columns), shaded by row share.

    Examples
    --------
    >>> table = pd.DataFrame({"Champions": [5, 0], "Hibernating": [1, 4]}, index=["0: a", "1: b"])
    >>> fig = rfm_crosstab(table)
    >>> fig.axes[0].get_xlabel()
    'RFM segment (rule-based baseline)'
    >>> plt.close(fig)
    """
    set_theme()
    shares = crosstab.div(crosstab.sum(axis=1), axis=0)
    fig, ax = plt.subplots(figsize=(1.3 * crosstab.shape[1] + 5.0, 0.6 * len(crosstab) + 2.0))
    with _quiet_seaborn_heatmap():
        sns.heatmap(shares, annot=crosstab, fmt="d", cmap="Blues", vmin=0, vmax=1,
                    cbar_kws={"label": "share of the cluster's customers"}, ax=ax)
    ax.set_xlabel("RFM segment (rule-based baseline)")
    ax.set_ylabel("cluster segment")
    ax.tick_params(axis="x", labelrotation=30)
    ax.set_title("Rule-based RFM segments cut across the clusters (cells: customers)")
    fig.tight_layout()
    return fig
