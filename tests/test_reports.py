"""The report pipeline: records, HTML, index, caching, failure isolation and interruption.

These tests run small stand-in templates (a few cells each) so they exercise the pipeline, not
the analyses; the real templates are covered by the notebook and reproducibility tests.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from marketing.reports import ParameterError, build, plan, summary, template_parameters, validate_parameters

from conftest import ROOT

STAND_IN = [
    ("parameters", 'case_study = "ecommerce"  # the case study\nseed = 42  # random seed\n'
                   'fail = False  # raise an error on purpose\nsleep = 0.0  # seconds to wait\n'),
    ("", "import time\ntime.sleep(sleep)"),
    ("", 'if fail:\n    raise RuntimeError("planned failure")'),
    ("", 'from marketing.notebook import record_metrics\n'
         'record_metrics({"n_segments": 3, "seed": seed, "case": case_study})'),
]


#: A stand-in that writes a CRM export, then may fail.
EXPORTING = [
    ("parameters", 'case_study = "ecommerce"  # the case study\nseed = 42  # random seed\n'
                   'fail = False  # raise an error on purpose\n'),
    ("", 'import pandas as pd\nfrom marketing.privacy import write_crm_export\n'
         'write_crm_export(pd.DataFrame({"customer_id": [seed]}), ".", "audience")'),
    ("", 'if fail:\n    raise RuntimeError("planned failure")'),
]


def write_template(path: Path, extra: str = "", cells=STAND_IN) -> None:
    nb = nbformat.v4.new_notebook()
    for tag, source in cells:
        cell = nbformat.v4.new_code_cell(source)
        if tag:
            cell.metadata["tags"] = [tag]
        nb.cells.append(cell)
    if extra:
        nb.cells.append(nbformat.v4.new_code_cell(extra))
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(path))


@pytest.fixture
def dirs(tmp_path):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    for analysis in ("segmentation", "recommendation", "regression"):
        write_template(notebooks / f"{analysis}.ipynb")
    return notebooks, tmp_path / "reports"


def quiet(_line: str) -> None:
    pass


def test_template_parameters_and_their_comments(dirs):
    notebooks, _ = dirs
    params = template_parameters(notebooks / "segmentation.ipynb")
    assert params["seed"] == {"default": 42, "help": "random seed"}
    assert params["fail"]["default"] is False and params["sleep"]["default"] == 0.0


def test_parameter_validation(dirs):
    notebooks, _ = dirs
    template = notebooks / "regression.ipynb"
    assert validate_parameters(template, {"seed": "7", "sleep": "1.5", "fail": "true"}) == {
        "seed": 7, "sleep": 1.5, "fail": True}
    with pytest.raises(ParameterError, match=r"unknown parameter\(s\) \['sed'\]. It accepts: case_study"):
        validate_parameters(template, {"sed": 1})
    with pytest.raises(ParameterError, match="parameter 'seed' expects int"):
        validate_parameters(template, {"seed": "forty-two"})


@pytest.mark.slow
def test_build_records_html_index_cache_and_failure(dirs):
    notebooks, reports = dirs
    jobs = plan(["health"], None, None, reports_dir=reports, notebooks_dir=notebooks)
    result = build(jobs, n_jobs=2, echo=quiet, reports_dir=reports)
    assert [r["status"] for r in result.records] == ["ok"] * 3, result.records
    for analysis in ("segmentation", "recommendation", "regression"):
        record = json.loads((reports / "health" / f"{analysis}.json").read_text())
        assert {"case", "analysis", "status", "parameters", "duration_s", "provenance", "metrics"} <= set(record)
        assert record["parameters"] == {"case_study": "health", "seed": 42, "fail": False, "sleep": 0.0}
        assert record["metrics"] == {"n_segments": 3, "seed": 42, "case": "health"}
        prov = record["provenance"]
        assert {"git", "lock_sha256", "python", "libraries", "data", "started_at", "duration_s"} <= set(prov)
        html = (reports / "health" / f"{analysis}.html").read_text()
        assert "Traceback" not in html and "record_metrics" in html
        assert "src=\"http" not in html and "href=\"http" not in html.split("<body")[0]
    index = (reports / "index.html").read_text()
    assert index.count("<tr class='ok'>") == 3 and 'href="health/regression.html"' in index

    # nothing changed: nothing re-runs
    again = build(jobs, n_jobs=2, echo=quiet, reports_dir=reports)
    assert again.records == [] and len(again.skipped) == 3

    # one template changed: only its report re-runs
    write_template(notebooks / "recommendation.ipynb", extra="1 + 1")
    changed = build(jobs, n_jobs=2, echo=quiet, reports_dir=reports)
    assert [r["analysis"] for r in changed.records] == ["recommendation"]

    # a failing run keeps the last good report, saves the failure and names the cell
    good = (reports / "health" / "segmentation.ipynb").read_bytes()
    failing = plan(["health"], ["segmentation"], {"fail": True}, reports_dir=reports, notebooks_dir=notebooks)
    failed = build(failing, n_jobs=1, echo=quiet, reports_dir=reports)
    record = failed.records[0]
    assert record["status"] == "failed" and record["error"]["error"] == "RuntimeError"
    assert record["error"]["cell"] == 4  # In [4]: papermill injected a parameters cell before it
    assert (reports / "health" / "segmentation.ipynb").read_bytes() == good
    kept = nbformat.read(str(reports / "health" / "_failed" / "segmentation.ipynb"), as_version=4)
    assert any("planned failure" in json.dumps(c.get("outputs", [])) for c in kept.cells)
    assert "FAILED health/segmentation at cell [4]: RuntimeError: planned failure" in summary(failed)
    assert not list((reports / "health").glob(".*partial*"))

    # force re-runs everything
    forced = build(jobs, n_jobs=2, force=True, echo=quiet, reports_dir=reports)
    assert len(forced.records) == 3 and not (reports / "health" / "_failed" / "segmentation.ipynb").exists()


@pytest.mark.slow
def test_a_failed_run_keeps_the_export_of_the_last_good_report(tmp_path):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    write_template(notebooks / "segmentation.ipynb", cells=EXPORTING)
    reports = tmp_path / "reports"

    def run(**parameters) -> dict:
        jobs = plan(["health"], ["segmentation"], parameters, reports_dir=reports, notebooks_dir=notebooks)
        return build(jobs, n_jobs=1, force=True, echo=quiet, reports_dir=reports).records[0]

    export = reports / "health" / "audience_crm_real_ids.csv"
    assert run()["status"] == "ok"
    assert export.read_text().splitlines() == ["customer_id", "42"]
    # the failing run wrote its export before it failed: it is dropped, the last good one stays
    assert run(seed=7, fail=True)["status"] == "failed"
    assert export.read_text().splitlines() == ["customer_id", "42"]
    assert not list((reports / "health").rglob(".*")), "staged or partial files left behind"
    assert run(seed=7)["status"] == "ok"
    assert export.read_text().splitlines() == ["customer_id", "7"]


@pytest.mark.slow
def test_not_applicable_analysis_is_recorded_with_its_reason(dirs, tmp_path):
    notebooks, reports = dirs
    text = (ROOT / "marketing" / "case_studies" / "health.yml").read_text()
    case_file = tmp_path / "clinic.yml"
    case_file.write_text(text.replace("name: health", "name: clinic")
                         .replace("analyses: [segmentation, recommendation, regression]", "analyses: [regression]"))
    jobs = plan([str(case_file)], ["segmentation", "regression"], None, reports_dir=reports, notebooks_dir=notebooks)
    result = build(jobs, n_jobs=2, echo=quiet, reports_dir=reports)
    by_analysis = {r["analysis"]: r for r in result.records}
    assert by_analysis["regression"]["status"] == "ok"
    assert by_analysis["segmentation"]["status"] == "not_applicable"
    assert "do not support segmentation" in by_analysis["segmentation"]["reason"]
    assert "do not support segmentation" in (reports / "index.html").read_text()


def _cli(*args: str, cwd: Path, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "marketing", *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, **kw)


def test_cli_rejects_bad_parameters_before_any_kernel_starts(tmp_path):
    proc = _cli("run", "--case", "health", "--analysis", "segmentation", "-p", "sed", "1",
                "-o", str(tmp_path), cwd=ROOT)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "unknown parameter(s) ['sed']" in out and "case_study" in out
    assert not any(tmp_path.iterdir())


@pytest.mark.slow
def test_interrupting_leaves_no_half_written_report(tmp_path):
    # the stand-in templates must sit where the CLI looks for them: a copy of the package tree
    # would be heavy, so drive the pipeline through a small script that uses our notebooks dir
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    write_template(notebooks / "segmentation.ipynb")
    reports = tmp_path / "reports"
    script = tmp_path / "drive.py"
    script.write_text(
        "import sys\n"
        "from pathlib import Path\n"
        "from marketing.reports import build, plan, summary\n"
        "if __name__ == '__main__':\n"
        f" jobs = plan(['finance'], ['segmentation'], {{'sleep': 60.0}}, reports_dir=Path({str(reports)!r}),"
        f" notebooks_dir=Path({str(notebooks)!r}))\n"
        f" r = build(jobs, n_jobs=1, reports_dir=Path({str(reports)!r}))\n"
        " print(summary(r)); sys.exit(130 if r.interrupted else 0)\n"
    )
    proc = subprocess.Popen([sys.executable, str(script)], cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    deadline = time.time() + 60
    while time.time() < deadline and not list((reports / "finance").glob(".*partial*")):
        time.sleep(0.2)
    time.sleep(3)  # the kernel is inside time.sleep(60)
    os.killpg(proc.pid, signal.SIGINT)  # as Ctrl-C does: the whole process group
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130, out
    assert "interrupted" in out
    assert not (reports / "finance" / "segmentation.ipynb").exists()
    assert not list((reports / "finance").glob(".*partial*"))


def test_the_index_shows_the_chosen_models_score_not_the_best_test_score():
    from marketing.reports.publish import _key_metrics

    record = {"analysis": "regression", "metrics": {
        "binary": {"target": "churned", "best_model": "logistic",
                   "models": {"baseline": {"roc_auc": 0.5}, "logistic": {"roc_auc": 0.71}, "tree": {"roc_auc": 0.74}}},
    }}
    assert _key_metrics(record) == "churned: logistic ROC_AUC 0.710"
