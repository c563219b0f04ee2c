"""The shared figure style. Each analysis keeps its figures in a submodule of this package."""

from __future__ import annotations

import matplotlib as mpl
import seaborn as sns

#: Okabe and Ito's colour-blind-safe qualitative palette, ordered so that the first few colours
#: stay apart for protanopes, deuteranopes and tritanopes too (seaborn's "colorblind" put orange
#: next to vermillion, which deuteranopes can hardly tell apart). Figures draw categories in these
#: colours and everything else in greys.
OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")

#: The palette used for segments, models and classes everywhere.
PALETTE = list(OKABE_ITO)


def colours(n: int) -> list[tuple[float, float, float]]:
    """The first ``n`` palette colours as RGB tuples (cycling after eight).

    >>> colours(2)
    [(0.0, 0.4470588235294118, 0.6980392156862745), (0.8352941176470589, 0.3686274509803922, 0.0)]
    """
    return sns.color_palette(PALETTE, n)


def set_theme() -> None:
    """Apply the project's seaborn theme: white grid, readable fonts, colour-blind palette.

    Figures are rendered at a fixed size and resolution so reports look the same everywhere.
    """
    sns.set_theme(context="notebook", style="whitegrid", palette=PALETTE)
    mpl.rcParams.update(
        {
            "figure.figsize": (8.0, 4.5),
            "figure.dpi": 100,
            "savefig.dpi": 100,
            "axes.titleweight": "bold",
            "axes.titlesize": 12,
            "axes.titlelocation": "left",
        }
    )
