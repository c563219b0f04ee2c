"""Shared test fixtures: the project's paths and a papermill runner for the templates."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
CASES = ("ecommerce", "finance", "education", "health")


def execute_template(analysis: str, tmp_path: Path, **parameters):
    """Run notebooks/<analysis>.ipynb with papermill in ``tmp_path``; return (notebook, metrics).

    The notebook runs with ``tmp_path`` as its working directory, so its exports land there.
    """
    import papermill as pm

    from marketing.notebook import read_metrics

    out = tmp_path / f"{analysis}-{parameters.get('case_study', 'default')}.ipynb"
    nb = pm.execute_notebook(
        str(NOTEBOOKS / f"{analysis}.ipynb"),
        str(out),
        parameters=parameters,
        kernel_name="python3",
        cwd=str(tmp_path),
        progress_bar=False,
        execution_timeout=600,
    )
    return nb, read_metrics(nb)


@pytest.fixture(autouse=True, scope="session")
def _quiet_matplotlib():
    # headless: never try to open a window
    os.environ.setdefault("MPLBACKEND", "Agg")
