"""Figures of the recommendation analysis: the long tail, the model comparison, the sweep."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from marketing.plots import PALETTE, colours, set_theme


def plot_long_tail(item_users, item_kind: str = "items", ax=None):
    """Customers per item, most popular first, with the share the top 20% of items hold.

    ``item_users`` is the count per item, or the table of
    :func:`marketing.recommend.item_popularity` (pandas or Spark: one row per item, collected).

    Examples
    --------
    >>> ax = plot_long_tail(np.array([50, 5, 3, 2, 1]), "products")
    >>> ax.get_title(loc="left")
    'The top 20% of products hold 82% of customer-item pairs'
    """
    set_theme()
    if ax is None:
        _, ax = plt.subplots()
    if hasattr(item_users, "columns"):
        import narwhals as nw

        item_users = nw.from_native(item_users).lazy().collect("pandas")["n_customers"].to_numpy()
    counts = np.sort(np.asarray(item_users))[::-1]
    top = max(1, int(round(0.2 * len(counts))))
    share = counts[:top].sum() / max(counts.sum(), 1)
    ranks = np.arange(1, len(counts) + 1)
    ax.fill_between(ranks, counts, step="mid", alpha=0.4, color=sns.color_palette(PALETTE)[0])
    ax.plot(ranks, counts, drawstyle="steps-mid", color=sns.color_palette(PALETTE)[0])
    ax.axvline(top + 0.5, color="grey", linestyle="--", linewidth=1)
    ax.set_xlabel(f"{item_kind.capitalize()} ranked by popularity (rank)")
    ax.set_ylabel("Customers who have it (count)")
    ax.set_title(f"The top 20% of {item_kind} hold {share:.0%} of customer-item pairs")
    return ax


def plot_model_comparison(table: pd.DataFrame, k: int, baseline: str = "popularity", ax=None):
    """NDCG@k and recall@k of each model, the baseline in grey; the title states the gain of the best.

    Examples
    --------
    >>> t = pd.DataFrame({"ndcg": [0.1, 0.15], "recall": [0.2, 0.3]}, index=["popularity", "item_knn"])
    >>> plot_model_comparison(t, k=10).get_title(loc="left")
    'item_knn beats popularity by 50% on NDCG@10'
    """
    set_theme()
    if ax is None:
        _, ax = plt.subplots()
    long = (
        table[["ndcg", "recall"]]
        .rename(columns={"ndcg": f"NDCG@{k}", "recall": f"recall@{k}"})
        .rename_axis("model")
        .reset_index()
        .melt(id_vars="model", var_name="metric", value_name="value")
    )
    sns.barplot(data=long, y="model", x="value", hue="metric", ax=ax, palette=colours(2), saturation=1)
    best = table["ndcg"].idxmax()
    gain = table.loc[best, "ndcg"] / table.loc[baseline, "ndcg"] - 1 if table.loc[baseline, "ndcg"] > 0 else np.nan
    title = (
        f"{best} beats {baseline} by {gain:.0%} on NDCG@{k}" if best != baseline else f"No model beats {baseline} on NDCG@{k}"
    )
    ax.set_title(title)
    ax.set_xlabel("Metric value on held-out customers (0-1)")
    ax.set_ylabel("Model")
    for label in ax.get_yticklabels():
        if label.get_text() == baseline:
            label.set_color("grey")
    # room on the right so the legend never covers a bar
    ax.set_xlim(0, 1.3 * long["value"].max())
    ax.legend(title=None, loc="lower right")
    return ax


def plot_sweep(sweep: pd.DataFrame | None, model: str, k: int, baseline_ndcg: float | None = None, ax=None):
    """NDCG@k against the swept hyper-parameter, with the baseline as a dashed line; nothing
    (None) without a sweep (``sweep`` None: nothing was tuned)."""
    if sweep is None:
        return None
    set_theme()
    if ax is None:
        _, ax = plt.subplots()
    param = sweep["parameter"].iloc[0]
    ax.plot(sweep["value"], sweep["ndcg"], marker="o", color=sns.color_palette(PALETTE)[0], label=model)
    if baseline_ndcg is not None:
        ax.axhline(baseline_ndcg, color="grey", linestyle="--", label="popularity")
    best = sweep.loc[sweep["ndcg"].idxmax()]
    ax.set_title(f"{model}: NDCG@{k} peaks at {param} = {best['value']:g}")
    ax.set_xlabel(f"{param} (value)")
    ax.set_ylabel(f"NDCG@{k} (0-1)")
    ax.legend()
    return ax
