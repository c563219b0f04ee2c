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
from matplotlib.patches import Rectangle
from sklearn.decomposition import PCA

from marketing.plots import PALETTE, colours, set_theme
from marketing.privacy import DEFAULT_MIN_SIZE, is_small, small_group_label, suppress_small_cells

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
        palette=colours(label_names.nunique()), s=12, alpha=0.6, linewidth=0, ax=ax,
    )
    share = pca.explained_variance_ratio_
    ax.set_xlabel(f"principal component 1 ({share[0]:.0%} of variance, standardised units)")
    ax.set_ylabel(f"principal component 2 ({share[1]:.0%} of variance)")
    ax.set_title(f"{len(set(labels[labels >= 0]))} segments separate in two dimensions")
    ax.legend(title="segment", fontsize=8, title_fontsize=9, loc="best", markerscale=2)
    fig.tight_layout()
    return fig


def _hatch(ax, cells: np.ndarray) -> None:
    """Hatch the heat-map cells marked True in ``cells`` (rows x columns): suppressed, not missing."""
    for row, column in zip(*np.nonzero(cells)):
        ax.add_patch(Rectangle((column, row), 1, 1, fill=False, hatch="///", edgecolor="0.6", linewidth=0))


def _suppression_note(fig: Figure, text: str) -> None:
    fig.text(0.01, 0.01, f"Hatched: {text}, suppressed (privacy).", ha="left", va="bottom", fontsize=8, color="0.35")


def profile_heatmap(profiles: pd.DataFrame, names: pd.Series, min_size: int = DEFAULT_MIN_SIZE) -> Figure:
    """Heat map of each segment's index against the whole base (100 = average).

    A segment of fewer than ``min_size`` customers (``profiles["size"]``) is drawn as a hatched
    row with neither values, share nor name (:func:`marketing.privacy.is_small`), and a note
    under the figure says so; ``min_size=1`` shows every segment.

    Examples
    --------
    >>> profiles = pd.DataFrame({"size": [40, 60, 3], "share": [0.39, 0.58, 0.03],
    ...                          "frequency_index": [150.0, 67.0, 300.0]})
    >>> fig = profile_heatmap(profiles, pd.Series(["frequent", "infrequent", "very frequent"]))
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['0: frequent (39%)', '1: infrequent (58%)', '2: <10 customers']
    >>> fig.texts[0].get_text()
    'Hatched: segments of fewer than 10 customers, suppressed (privacy).'
    >>> plt.close(fig)
    """
    if "size" not in profiles:
        raise ValueError("profiles has no 'size' column, which says which segments are too small to show; "
                         "pass segment_profiles(...).")
    set_theme()
    small = is_small(profiles["size"], min_size)
    index = profiles.filter(like="_index").rename(columns=lambda c: c.removesuffix("_index"))
    index = index.astype(float).where(~small, axis=0)
    index.index = [
        f"{s}: {small_group_label(min_size)}" if small[s] else f"{s}: {names.get(s, s)} ({profiles.loc[s, 'share']:.0%})"
        for s in index.index
    ]
    fig, ax = plt.subplots(figsize=(1.6 * index.shape[1] + 4.0, 0.7 * len(index) + 1.8 + 0.3 * small.any()))
    with _quiet_seaborn_heatmap():
        sns.heatmap(
            np.log2(index.clip(lower=1) / 100), annot=index.round(0).astype("Int64"), fmt="",
            cmap="vlag", center=0, vmin=-3, vmax=3, cbar_kws={"label": "log2(index / 100)"},
            ax=ax,
        )
    ax.set_xlabel("feature (cells: index, 100 = average customer)")
    ax.set_ylabel("segment (share of customers)")
    ax.set_title("Each segment differs from the average customer on a few features")
    if small.any():
        _hatch(ax, np.repeat(small.to_numpy()[:, None], index.shape[1], axis=1))
        _suppression_note(fig, f"segments of fewer than {min_size} customers")
        fig.tight_layout(rect=(0, 0.04, 1, 1))
    else:
        fig.tight_layout()
    return fig


def rfm_crosstab(crosstab: pd.DataFrame, min_size: int = DEFAULT_MIN_SIZE, protect_totals: bool = True) -> Figure:
    """Heat map of clusters (rows) against RFM segments (columns), shaded by row share.

    Counts from 1 to ``min_size - 1`` are suppressed, and so are the few more that the
    segments' published sizes would give away by subtraction
    (:func:`marketing.privacy.suppress_small_cells` with ``protect_totals=True``): their cells
    are blank and hatched, and a row of a segment smaller than ``min_size`` loses its name.
    The shading of the other cells is their share of the whole row. ``protect_totals=False``
    suppresses the small counts only; ``min_size=1`` shows every count.

    Examples
    --------
    >>> table = pd.DataFrame({"Champions": [50, 0], "Hibernating": [12, 40]}, index=["0: a", "1: b"])
    >>> fig = rfm_crosstab(table)
    >>> fig.axes[0].get_xlabel()
    'RFM segment (rule-based baseline)'
    >>> plt.close(fig)

    Segment 1 has 5 customers: its counts go, and with them the 50 and the 12, which the RFM
    segments' sizes (52 and 15 customers) would otherwise turn into its 2 and 3:

    >>> small = pd.DataFrame({"Champions": [50, 2], "Loyal": [12, 3], "New": [30, 0]}, index=["0: a", "1: b"])
    >>> fig = rfm_crosstab(small)
    >>> [t.get_text() for t in fig.axes[0].texts], fig.axes[0].get_yticklabels()[1].get_text()
    (['30', '0'], '1: <10 customers')
    >>> plt.close(fig)
    """
    set_theme()
    totals = crosstab.sum(axis=1)
    published = suppress_small_cells(crosstab, min_size=min_size, protect_totals=protect_totals).table
    hidden = published.isna().to_numpy() & (crosstab.to_numpy() > 0)
    shares = published.div(totals.where(totals > 0), axis=0)
    small_rows = is_small(totals, min_size)
    shares.index = [
        f"{str(label).split(': ', 1)[0]}: {small_group_label(min_size)}" if small else str(label)
        for label, small in zip(crosstab.index, small_rows)
    ]
    fig, ax = plt.subplots(figsize=(1.3 * crosstab.shape[1] + 5.0, 0.6 * len(crosstab) + 2.0 + 0.3 * hidden.any()))
    with _quiet_seaborn_heatmap():
        sns.heatmap(shares, annot=published.astype("Int64"), fmt="", cmap="Blues", vmin=0, vmax=1,
                    cbar_kws={"label": "share of the cluster's customers"}, ax=ax)
    ax.set_xlabel("RFM segment (rule-based baseline)")
    ax.set_ylabel("cluster segment")
    ax.tick_params(axis="x", labelrotation=30)
    ax.set_title("Rule-based RFM segments cut across the clusters (cells: customers)")
    if hidden.any():
        _hatch(ax, hidden)
        _suppression_note(fig, f"counts below {min_size}, and the cells that would reveal them through the totals"
                               if protect_totals else f"counts below {min_size}")
        fig.tight_layout(rect=(0, 0.04, 1, 1))
    else:
        fig.tight_layout()
    return fig
