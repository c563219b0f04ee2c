"""Every figure is readable with colour-blind vision: one safe palette, categories in it, the rest grey."""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.colors as mcolors
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import marketing.plots
from marketing.plots import PALETTE, colours

# Machado, Oliveira and Fernandes (2009), severity 1, on linear RGB
DICHROMACY = {
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]],
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]],
    "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]],
}
SAFE_COLORMAPS = {"vlag", "Blues"}  # diverging blue-red and one-hue sequential: both read without red-green


def _lab(rgb: np.ndarray) -> np.ndarray:
    """CIELAB (D65) of linear-RGB rows."""
    xyz = rgb @ np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]).T
    xyz = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.stack([116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])], axis=1)


def min_distance(palette, vision: str) -> float:
    """The smallest CIE76 colour difference between two of ``palette``'s colours seen with ``vision``."""
    srgb = np.array([mcolors.to_rgb(c) for c in palette])
    linear = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    if vision != "normal":
        linear = np.clip(linear @ np.array(DICHROMACY[vision]).T, 0, 1)
    lab = _lab(linear)
    return min(float(np.linalg.norm(lab[i] - lab[j])) for i, j in itertools.combinations(range(len(lab)), 2))


def test_simulation_tells_red_from_green_only_with_normal_vision():
    # a planted pair: pure red and a green of equal luminance look alike to a deuteranope
    red_green = ["#d00000", "#6f8a00"]
    assert min_distance(red_green, "normal") > 50 > 12 > min_distance(red_green, "deuteranopia")


@pytest.mark.parametrize("vision", ["normal", *DICHROMACY])
@pytest.mark.parametrize("n", range(2, 9))
def test_the_first_n_palette_colours_stay_apart(n, vision):
    assert min_distance(PALETTE[:n], vision) >= 15, (n, vision)


def test_seaborns_colorblind_palette_fails_the_same_bar():
    import seaborn as sns

    assert min_distance(sns.color_palette("colorblind", 4), "deuteranopia") < 15  # orange beside vermillion


def _is_grey(value) -> bool:
    r, g, b = mcolors.to_rgb(value)
    return max(r, g, b) - min(r, g, b) < 1e-9


def _literal_colours(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg in {"color", "colors", "c", "edgecolor", "facecolor", "palette", "cmap"}:
            try:
                yield node.arg, ast.literal_eval(node.value)
            except ValueError:
                continue  # computed: from the palette (checked by drawing below)


@pytest.mark.parametrize("module", sorted(Path(marketing.plots.__file__).parent.glob("*.py")), ids=lambda p: p.name)
def test_no_plot_hard_codes_a_colour_outside_the_palette(module):
    for arg, value in _literal_colours(ast.parse(module.read_text())):
        if arg == "cmap":
            assert value in SAFE_COLORMAPS, f"{module.name}: colormap {value!r}"
        else:
            assert arg != "palette", f"{module.name}: palette={value!r}: use colours(n) or PALETTE"
            assert _is_grey(value), f"{module.name}: {arg}={value!r} is neither grey nor from the palette"


def _drawn_colours(fig) -> set[tuple[float, float, float]]:
    drawn = set()
    for ax in fig.axes:
        for artist in [*ax.collections, *ax.patches, *ax.lines]:
            for getter in ("get_facecolor", "get_color", "get_edgecolor"):
                if hasattr(artist, getter):
                    values = np.atleast_2d(np.asarray(mcolors.to_rgba_array(getattr(artist, getter)())))
                    drawn |= {tuple(np.round(v[:3], 4)) for v in values if v[3] > 0}
    return drawn


def _allowed(drawn) -> set:
    palette = {tuple(np.round(c, 4)) for c in colours(8)}
    return {c for c in drawn if c not in palette and not _is_grey(c) and c != (1.0, 1.0, 1.0)}


def test_segment_scatter_draws_each_segment_in_a_palette_colour():
    from marketing.plots.segmentation import segments_pca

    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(4 * i, 1, (50, 3)) for i in range(4)])
    labels = np.repeat(np.arange(4), 50)
    fig = segments_pca(X, labels, pd.Series({i: f"s{i}" for i in range(4)}))
    scatter = fig.axes[0].collections[0]
    faces = {tuple(np.round(c[:3], 4)) for c in scatter.get_facecolor()}
    assert faces == {tuple(np.round(c, 4)) for c in colours(4)}
    assert not _allowed(_drawn_colours(fig))
    plt.close(fig)


def test_model_comparison_uses_palette_colours_only():
    from marketing.plots.recommendation import plot_model_comparison

    table = pd.DataFrame({"ndcg": [0.1, 0.2], "recall": [0.2, 0.3]}, index=["popularity", "item_knn"])
    ax = plot_model_comparison(table, k=10)
    assert not _allowed(_drawn_colours(ax.figure))
    plt.close(ax.figure)


def test_importances_use_palette_colours_only():
    from marketing.plots.regression import importances

    table = pd.DataFrame({"feature": ["a", "b", "a", "b"], "importance": [0.3, 0.1, 0.2, 0.05],
                          "model": ["linear", "linear", "tree", "tree"]})
    fig = importances(table, score_label="RMSE")
    assert not _allowed(_drawn_colours(fig))
    plt.close(fig)


@pytest.mark.parametrize("template", ["segmentation", "recommendation", "regression"])
def test_every_figure_in_the_template_has_a_takeaway_line(template):
    import re

    import nbformat

    from conftest import NOTEBOOKS

    cells = nbformat.read(str(NOTEBOOKS / f"{template}.ipynb"), as_version=4).cells
    drawing = [i for i, c in enumerate(cells)
               if c.cell_type == "code" and ("plt.show()" in c.source or re.search(r"\bplots\.\w+\(", c.source))]
    assert len(drawing) >= 3
    for i in drawing:
        below = cells[i + 1]
        assert below.cell_type == "markdown" and re.fullmatch(r"\*Takeaway: [^\n]+\*", below.source), (
            f"{template}: no one-line takeaway under the figure of {cells[i].source[:60]!r}"
        )
