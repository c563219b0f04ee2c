"""The shared figure style. Each analysis keeps its figures in a submodule of this package."""

from __future__ import annotations

import matplotlib as mpl
import seaborn as sns

#: Qualitative palette used for segments, models and classes everywhere.
PALETTE = "colorblind"


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
