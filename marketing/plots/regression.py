"""Figures of the regression analysis. Each function draws on new axes and returns the figure.

Every figure's default title states what it shows in words a reader can act on; pass ``title``
to override it. Call :func:`marketing.plots.set_theme` once before drawing.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from marketing.plots import PALETTE, colours

_LABELS = {
    "r2": "R² (higher is better)", "rmse": "RMSE (lower is better)", "mae": "MAE (lower is better)",
    "roc_auc": "ROC AUC (higher is better)", "average_precision": "average precision (higher is better)",
    "log_loss": "log loss (lower is better)", "brier": "Brier score (lower is better)",
}


def model_comparison(intervals: pd.DataFrame, metric: str, *, chosen: str, unit: str = "", title: str | None = None) -> Figure:
    """Held-out ``metric`` of every model with its bootstrap interval; the baseline in grey.

    ``intervals`` is :attr:`marketing.regression.SuiteResult.intervals`; ``chosen`` the model the
    report uses (chosen on the training part); the title says whether it beats the baseline here.

    Examples
    --------
    >>> from marketing.plots import set_theme
    >>> set_theme()
    >>> intervals = pd.DataFrame({"model": ["baseline", "linear"], "metric": "rmse",
    ...                           "value": [10.0, 4.0], "low": [9.0, 3.5], "high": [11.0, 4.5]})
    >>> model_comparison(intervals, "rmse", chosen="linear").axes[0].get_title(loc="left")  # set_theme titles sit left
    'The chosen model, linear, beats the baseline on held-out customers: rmse 4.000 vs 10.000'
    """
    rows = intervals.loc[intervals["metric"] == metric].reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(8, 3.6))
    colors = sns.color_palette(PALETTE, len(rows))
    for i, row in rows.iterrows():
        color = "0.55" if row["model"] == "baseline" else colors[i]
        ax.errorbar(
            row["value"], i, xerr=[[row["value"] - row["low"]], [row["high"] - row["value"]]],
            fmt="o", color=color, capsize=4, markersize=7,
        )
    ax.set_yticks(range(len(rows)), rows["model"])
    ax.invert_yaxis()
    ax.set_xlabel(_LABELS.get(metric, metric) + (f" [{unit}]" if unit else "") + ", 95% bootstrap interval")
    ax.set_ylabel("model")
    if title is None:
        base = rows.set_index("model")["value"]
        lower_is_better = metric in ("rmse", "mae", "log_loss", "brier")
        if chosen == "baseline":
            title = f"The baseline was chosen: no model beat it on the training customers ({metric} shown on held-out ones)"
        else:
            beats = (base[chosen] < base["baseline"]) if lower_is_better else (base[chosen] > base["baseline"])
            title = (f"The chosen model, {chosen}, {'beats' if beats else 'does not beat'} the baseline on held-out "
                     f"customers: {metric} {base[chosen]:.3f} vs {base['baseline']:.3f}")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def tree_diagram(pipeline, *, target_label: str, title: str | None = None) -> Figure:
    """Draw the fitted shallow decision tree of a suite pipeline (``prepare`` + ``model``)."""
    from sklearn.tree import plot_tree

    names = list(pipeline.named_steps["prepare"].get_feature_names_out())
    fig, ax = plt.subplots(figsize=(14, 6))
    plot_tree(
        pipeline.named_steps["model"], feature_names=names, filled=True, rounded=True,
        impurity=False, precision=1, fontsize=8, ax=ax,
    )
    ax.set_title(title or f"A depth-3 tree: the splits that best separate {target_label}")
    fig.tight_layout()
    return fig


def residual_diagnostics(frame: pd.DataFrame, *, unit: str = "", title: str | None = None) -> Figure:
    """Residuals against fitted values and a normal Q-Q plot (``frame`` from ``residual_frame``)."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    suffix = f" [{unit}]" if unit else ""
    sns.scatterplot(data=frame, x="fitted", y="residual", ax=left, s=12, alpha=0.5, linewidth=0)
    left.axhline(0, color="0.3", linewidth=1)
    left.set_xlabel("fitted value" + suffix)
    left.set_ylabel("residual (observed − fitted)" + suffix)
    left.set_title("Residuals against fitted values")
    right.scatter(frame["theoretical"], frame["sample"], s=10, alpha=0.6)
    lims = [min(frame["theoretical"].min(), frame["sample"].min()), max(frame["theoretical"].max(), frame["sample"].max())]
    right.plot(lims, lims, color="0.3", linewidth=1)
    right.set_xlabel("normal quantile")
    right.set_ylabel("standardized residual quantile")
    right.set_title("Normal Q-Q plot")
    fig.suptitle(title or "Residual diagnostics: no pattern against fitted values means the model is not missing structure",
                 x=0.01, ha="left", fontweight="bold", fontsize=12)
    fig.tight_layout()
    return fig


def calibration(tables: dict[str, pd.DataFrame], *, title: str | None = None) -> Figure:
    """Observed rate against mean predicted probability per bin, one line per model."""
    fig, ax = plt.subplots(figsize=(6, 5))
    top = max(max(t["predicted"].max(), t["observed"].max()) for t in tables.values())
    ax.plot([0, top], [0, top], color="0.5", linestyle="--", linewidth=1, label="perfectly calibrated")
    for name, table in tables.items():
        ax.plot(table["predicted"], table["observed"], marker="o", label=name)
    ax.set_xlabel("mean predicted probability (per tenth of customers)")
    ax.set_ylabel("observed share positive")
    ax.legend(frameon=False)
    ax.set_title(title or "Calibration: points on the diagonal mean the probabilities can be taken at face value")
    fig.tight_layout()
    return fig


def btyd_by_frequency(tables: dict[str, pd.DataFrame], *, ylabels: dict[str, str], titles: dict[str, str],
                      title: str = "BTYD against the held-out outcome, by repeat purchases before the observation end") -> Figure:
    """BTYD's prediction against the outcome by calibration frequency, one panel per target
    (:func:`marketing.regression.btyd.by_frequency`); the bars (right axis) count the customers."""
    fig, axes = plt.subplots(1, len(tables), figsize=(5.5 * len(tables), 4), squeeze=False)
    for ax, (kind, table) in zip(axes[0], tables.items()):
        x = np.arange(len(table))
        counts = ax.twinx()
        counts.bar(x, table["customers"], color="0.85", zorder=0)
        counts.set_ylabel("held-out customers")
        counts.grid(False)
        ax.set_zorder(counts.get_zorder() + 1)
        ax.patch.set_visible(False)
        ax.plot(x, table["observed"], marker="o", label="observed")
        ax.plot(x, table["predicted"], marker="s", linestyle="--", label="BTYD prediction")
        ax.set_xticks(x, table.index.astype(str))
        ax.set_xlabel("repeat purchases before the observation end")
        ax.set_ylabel(ylabels[kind])
        ax.set_title(titles[kind], fontweight="normal", fontsize=11)
        ax.legend(frameon=False)
    fig.suptitle(title, x=0.01, ha="left", fontweight="bold", fontsize=12)
    fig.tight_layout()
    return fig


def btyd_tracking(table: pd.DataFrame, *, unit_label: str = "weeks", title: str | None = None) -> Figure:
    """Cumulative repeat purchases, observed and expected by BG/NBD, per period of the calibration
    (:func:`marketing.clv.tracking.cumulative_repeat_purchases`)."""
    fig, ax = plt.subplots(figsize=(7, 3.8))
    ax.plot(table.index, table["observed"], label="observed")
    ax.plot(table.index, table["expected"], linestyle="--", label="BG/NBD expectation")
    ax.set_xlabel(f"{unit_label} since the first purchase in the log")
    ax.set_ylabel("cumulative repeat purchases")
    ax.legend(frameon=False)
    ax.set_title(title or "Tracking: repeat purchases over the calibration period", fontsize=11)
    fig.tight_layout()
    return fig


def clv_deciles(table: pd.DataFrame, *, currency: str = "", window_days: int,
                title: str = "Lifetime value by decile, and what the held-out customers then spent") -> Figure:
    """Left: mean 12-month CLV per CLV decile, each bar labelled with its share of the total. Right:
    the spend target's held-out customers by the same deciles, observed against BTYD-predicted mean
    spend in the window (:func:`marketing.regression.btyd.clv_deciles`; blanked groups are gaps)."""
    unit = f" [{currency}]" if currency else ""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    x = np.arange(len(table))
    bars = left.bar(x, table["mean_clv"])
    left.bar_label(bars, labels=[f"{v:.0%}" for v in table["share_of_clv"]], fontsize=8)
    left.set_xticks(x, table.index.astype(str))
    left.set_xlabel("CLV decile (1 = highest)")
    left.set_ylabel(f"mean 12-month CLV{unit}")
    left.set_title("Share of the total CLV above each bar", fontweight="normal", fontsize=11)
    right.plot(x, table["observed"], marker="o", label="observed")
    right.plot(x, table["predicted"], marker="s", linestyle="--", label="BTYD prediction")
    right.set_xticks(x, table.index.astype(str))
    right.set_xlabel("CLV decile (1 = highest)")
    right.set_ylabel(f"mean spend in the {window_days}-day window{unit}")
    right.set_title("Held-out customers", fontweight="normal", fontsize=11)
    right.legend(frameon=False)
    fig.suptitle(title, x=0.01, ha="left", fontweight="bold", fontsize=12)
    fig.tight_layout()
    return fig


def coefficients(table: pd.DataFrame, *, xlabel: str, title: str | None = None) -> Figure:
    """Estimates with confidence intervals (``coefficient_table``), intercept left out."""
    terms = table.drop(index="intercept", errors="ignore").sort_values("estimate")
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(terms) + 1.5))
    significant = (terms["low"] > 0) | (terms["high"] < 0)
    highlight = sns.color_palette(PALETTE)[0]
    colors = [highlight if s else (0.6, 0.6, 0.6) for s in significant]
    for i, ((_, row), color) in enumerate(zip(terms.iterrows(), colors)):
        ax.errorbar(row["estimate"], i, xerr=[[row["estimate"] - row["low"]], [row["high"] - row["estimate"]]],
                    fmt="o", color=color, capsize=3)
    ax.axvline(0, color="0.3", linewidth=1)
    ax.set_yticks(range(len(terms)), terms.index)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("feature (levels against the reference level)")
    ax.set_title(title or "What moves the outcome: effects with 95% confidence intervals (grey: not distinguishable from 0)")
    fig.tight_layout()
    return fig


def importances(table: pd.DataFrame, *, score_label: str, title: str | None = None) -> Figure:
    """Permutation importance of every feature for every model (``permutation_importances``)."""
    order = table.groupby("feature")["importance"].mean().sort_values(ascending=False).index
    fig, ax = plt.subplots(figsize=(8, 0.5 * len(order) + 2))
    sns.barplot(data=table, y="feature", x="importance", hue="model", order=order, ax=ax,
                palette=colours(table["model"].nunique()), saturation=1)
    ax.set_xlabel(f"drop in held-out {score_label} when the feature is shuffled")
    ax.set_ylabel("feature")
    ax.legend(frameon=False, title="model", fontsize=8, loc="lower right")
    ax.set_title(title or f"{order[0]} matters most, whichever model is asked")
    fig.tight_layout()
    return fig


def partial_dependence(frame: pd.DataFrame, *, ylabel: str, title: str | None = None) -> Figure:
    """Average prediction as each feature varies (``partial_dependence_frame``), one panel each."""
    features = list(dict.fromkeys(frame["feature"]))
    fig, axes = plt.subplots(1, len(features), figsize=(4 * len(features), 3.6), sharey=True, squeeze=False)
    for ax, feature in zip(axes[0], features):
        part = frame.loc[frame["feature"] == feature]
        if part["categorical"].iloc[0]:
            ax.bar(part["value"].astype(str), part["average"], color=sns.color_palette(PALETTE)[0])
        else:
            ax.plot(part["value"].astype(float), part["average"], marker="o", markersize=3)
        ax.set_xlabel(feature)
    axes[0][0].set_ylabel(ylabel)
    fig.suptitle(title or "How the prediction changes with the top features (others held as observed)",
                 x=0.01, ha="left", fontweight="bold", fontsize=12)
    fig.tight_layout()
    return fig


def gains(table: pd.DataFrame, *, title: str | None = None) -> Figure:
    """Cumulative gains against random targeting, and lift per decile (``gains_table``).

    Examples
    --------
    >>> from marketing.regression import gains_table
    >>> held_out = pd.DataFrame({"customer_id": range(10), "y": [1, 1, 0, 1, 0, 0, 0, 0, 0, 0], "p": np.arange(10, 0, -1)})
    >>> fig = gains(gains_table(held_out, "y", "p"))
    >>> fig._suptitle.get_text()
    'The top decile has 3.3x the average rate; the top 30% hold 67% of positives'
    """
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    x = np.r_[0.0, table["cum_share_contacted"].to_numpy()] * 100
    y = np.r_[0.0, table["cum_gain"].to_numpy()] * 100
    left.plot(x, y, marker="o", label="model")
    left.plot([0, 100], [0, 100], color="0.5", linestyle="--", label="random")
    left.set_xlabel("customers contacted, highest scores first [%]")
    left.set_ylabel("positives reached [%]")
    left.legend(frameon=False)
    left.set_title("Cumulative gains")
    right.bar(table.index.astype(str), table["lift"], color=sns.color_palette(PALETTE)[0])
    right.axhline(1, color="0.3", linewidth=1)
    right.set_xlabel("score decile (1 = highest)")
    right.set_ylabel("lift (decile rate / overall rate)")
    right.set_title("Lift by decile")
    top = table.iloc[0]
    fig.suptitle(title or f"The top decile has {top['lift']:.1f}x the average rate; the top 30% hold {table['cum_gain'].iloc[2]:.0%} of positives",
                 x=0.01, ha="left", fontweight="bold", fontsize=12)
    fig.tight_layout()
    return fig


def profit(curve: pd.DataFrame, *, n_rule: int, currency: str = "", title: str | None = None) -> Figure:
    """Expected and realised profit by share contacted; the contact rule's choice marked.

    ``curve`` is :func:`marketing.regression.profit_curve` (on any engine); ``n_rule`` is the
    number of customers the rule contacts (a value of ``curve["contacted"]``); ``currency`` the
    unit of the case's costs (its ``targeting.currency``), left out when the case does not say.
    """
    fig, ax = plt.subplots(figsize=(8, 4))
    share = curve["share_contacted"] * 100
    # the curve lists the rule's cut among its points
    rule = curve.index[curve["contacted"] == n_rule][0]
    ax.plot(share, curve["expected_profit"], label="expected (from the scores)")
    ax.plot(share, curve["realised_profit"], label="realised (observed outcomes)", alpha=0.8)
    ax.axvline(share[rule], color="0.3", linestyle="--", linewidth=1, label="contact rule: p > break-even")
    ax.axhline(0, color="0.5", linewidth=0.8)
    ax.set_xlabel("customers contacted, highest scores first [%]")
    ax.set_ylabel("campaign profit" + (f" [{currency}]" if currency else ""))
    ax.legend(frameon=False)
    earned = f"{curve['realised_profit'][rule]:,.0f}" + (f" {currency}" if currency else "")
    ax.set_title(title or f"Contacting the {share[rule]:.0f}% above break-even earns {earned} on held-out customers")
    fig.tight_layout()
    return fig
