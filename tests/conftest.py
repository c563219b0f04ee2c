"""Shared test fixtures: the project's paths and a papermill runner for the templates."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import matplotlib

# unit tests draw off-screen; set in-process only (an MPLBACKEND variable would be inherited
# by notebook kernels and switch off their inline figures)
matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
REQUIRE_SPARK = os.environ.get("MARKETING_REQUIRE_SPARK") == "1"
NOTEBOOKS = ROOT / "notebooks"
CASES = ("ecommerce", "finance", "education", "health")


def execute_template(analysis: str, tmp_path: Path, **parameters):
    """Run notebooks/<analysis>.ipynb through the report pipeline; return (notebook, metrics).

    The report, its record and its exports are written to ``tmp_path`` (the notebook's working
    directory). Parameters are validated as the command line would; a failed run fails the
    test with the failing cell's error.
    """
    from dataclasses import replace

    import nbformat

    from marketing.reports import build, plan

    case = parameters.pop("case_study", "ecommerce")
    [job] = plan([case], [analysis], parameters, reports_dir=tmp_path, notebooks_dir=NOTEBOOKS)
    job = replace(job, out_dir=tmp_path)
    result = build([job], n_jobs=1, force=True, echo=lambda _: None, reports_dir=tmp_path)
    [record] = result.records
    assert record["status"] == "ok", f"{job.name} failed: {record.get('error')} (see {job.failed_notebook})"
    return nbformat.read(str(job.notebook), as_version=4), record["metrics"]


def committed_report(analysis: str, case: str):
    """The committed report reports/<case>/<analysis>.ipynb and its recorded metrics.

    The report must be the current template executed: every cell but papermill's injected
    parameters is the template's, so a template change without rebuilt reports fails here. That
    the outputs reproduce with the current package is nbval's job (``make test`` runs it on the
    same files), so tests that read a committed report test the code as it is now.
    """
    import nbformat

    from marketing.notebook import read_metrics

    report = nbformat.read(str(ROOT / "reports" / case / f"{analysis}.ipynb"), as_version=4)
    template = nbformat.read(str(NOTEBOOKS / f"{analysis}.ipynb"), as_version=4)
    cells = [c for c in report.cells if "injected-parameters" not in c.metadata.get("tags", [])]
    stale = [i for i, (a, b) in enumerate(zip(cells, template.cells)) if (a.cell_type, a.source) != (b.cell_type, b.source)]
    assert len(cells) == len(template.cells) and not stale, (
        f"reports/{case}/{analysis}.ipynb is not the current template (cells {stale}): run `make reports`"
    )
    return report, read_metrics(report)


def require_spark() -> None:
    """The one skip idiom of the Spark tests: skip with the reason where pyspark or Java 17+ is
    missing, fail instead under MARKETING_REQUIRE_SPARK=1 (CI), so Spark tests never vanish there.

    Test modules that import the Spark engine call it before those imports; tests get it through
    the ``spark`` fixture.
    """
    try:
        from marketing.spark.session import SparkUnavailableError, require_java, require_pyspark
    except ImportError as error:  # marketing.spark imports pyspark
        if REQUIRE_SPARK:
            raise
        pytest.skip(f"the Spark engine cannot run here: {error}", allow_module_level=True)
    try:
        require_pyspark()
        require_java()
    except (ImportError, SparkUnavailableError) as error:
        if REQUIRE_SPARK:
            raise
        pytest.skip(f"the Spark engine cannot run here: {error}", allow_module_level=True)
