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
                   'fail = False  # raise an error on purpose\n'
                   'lose_export = False  # delete the staged export, so that moving it into place fails\n'),
    ("", 'import pandas as pd\nfrom marketing.privacy import write_crm_export\n'
         'write_crm_export(pd.DataFrame({"customer_id": [seed]}), ".", "audience")'),
    ("", 'if lose_export:\n    import json, os\n'
         '    for line in open(os.path.join(os.environ["MARKETING_EXPORT_STAGING"], "exports.jsonl")):\n'
         '        os.remove(json.loads(line)["written"])'),
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


def _exporting_runs(tmp_path):
    """A reports folder and a function that builds the exporting template's health report with
    the given parameters and returns its record."""
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    write_template(notebooks / "segmentation.ipynb", cells=EXPORTING)
    reports = tmp_path / "reports"

    def run(**parameters) -> dict:
        jobs = plan(["health"], ["segmentation"], parameters, reports_dir=reports, notebooks_dir=notebooks)
        return build(jobs, n_jobs=1, force=True, echo=quiet, reports_dir=reports).records[0]

    return reports, run


@pytest.mark.slow
def test_a_failed_run_keeps_the_export_of_the_last_good_report(tmp_path):
    reports, run = _exporting_runs(tmp_path)
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
def test_an_export_that_cannot_be_put_in_place_fails_the_run_and_keeps_the_last_good_report(tmp_path):
    reports, run = _exporting_runs(tmp_path)
    assert run()["status"] == "ok"
    folder = reports / "health"
    good = (folder / "segmentation.ipynb").read_bytes(), (folder / "segmentation.html").read_bytes()
    # the notebook ran; only moving its staged export into place fails (as a full disk or a
    # vanished file would make it): the run is failed, and says at which step
    record = run(seed=7, lose_export=True)
    assert record["status"] == "failed"
    assert record["error"]["message"].startswith("putting the CRM exports in place: ")
    assert ((folder / "segmentation.ipynb").read_bytes(), (folder / "segmentation.html").read_bytes()) == good
    assert (folder / "audience_crm_real_ids.csv").read_text().splitlines() == ["customer_id", "42"]
    assert (folder / "_failed" / "segmentation.ipynb").exists()
    assert not list(folder.rglob(".*")), "staged or partial files left behind"


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


# --- the build machinery without kernels: a report is made current by hand -----------------

def _current_report(job, outputs_text: str = "Engine pandas: every step of this analysis runs.\n") -> None:
    """Write ``job``'s executed notebook and record as a build would, without a kernel."""
    from marketing.reports.build import full_parameters, inputs_fingerprint

    nb = nbformat.v4.new_notebook()
    out = nbformat.v4.new_output("stream", name="stdout", text=outputs_text + "2000 customers\n")
    nb.cells = [nbformat.v4.new_markdown_cell("# Title"),
                nbformat.v4.new_code_cell("print(capability_note('segmentation', engine))", outputs=[out]),
                nbformat.v4.new_markdown_cell("## Try it\n\n- set `n_segments = 3`"),
                nbformat.v4.new_markdown_cell("## Record of key results"),
                nbformat.v4.new_code_cell("record_metrics({'k': 3})")]
    job.out_dir.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(job.notebook))
    job.record_path.write_text(json.dumps({"case": job.case.name, "analysis": job.analysis, "status": "ok",
                                           "parameters": full_parameters(job), "duration_s": 1.0,
                                           "inputs": inputs_fingerprint(job)}))


def test_a_no_input_build_after_a_normal_one_exports_the_stakeholder_html_without_a_kernel(dirs):
    notebooks, reports = dirs
    jobs = plan(["health"], ["segmentation"], None, reports_dir=reports, notebooks_dir=notebooks)
    _current_report(jobs[0])
    tracked = {p: p.read_bytes() for p in (jobs[0].notebook, jobs[0].record_path)}
    normal = build(jobs, echo=quiet, reports_dir=reports)
    assert normal.records == [] and normal.exported == ["health/segmentation"]
    assert "record_metrics" in jobs[0].html.read_text()
    assert build(jobs, echo=quiet, reports_dir=reports).skipped == ["health/segmentation"]

    stakeholder = build(jobs, no_input=True, echo=quiet, reports_dir=reports)
    assert stakeholder.exported == ["health/segmentation"], "a --no-input build is not 'up to date'"
    page = jobs[0].html.read_text()
    assert "2000 customers" in page
    for left_out in ("record_metrics", "capability_note", "Try it", "Record of key results", "Engine pandas"):
        assert left_out not in page, left_out
    assert build(jobs, no_input=True, echo=quiet, reports_dir=reports).skipped == ["health/segmentation"]
    assert {p: p.read_bytes() for p in tracked} == tracked, "the tracked notebook and record were rewritten"
    assert "1 HTML exported again" in summary(stakeholder)


def test_a_success_removes_the_reports_stale_failure(dirs):
    notebooks, reports = dirs
    jobs = plan(["health"], ["segmentation"], None, reports_dir=reports, notebooks_dir=notebooks)
    _current_report(jobs[0])
    jobs[0].failed_notebook.parent.mkdir()
    jobs[0].failed_notebook.write_text("{}")
    jobs[0].failed_notebook.with_suffix(".stderr.log").write_text("old")
    assert build(jobs, echo=quiet, reports_dir=reports).exported == ["health/segmentation"]
    assert not jobs[0].failed_notebook.parent.exists()


def test_a_missing_file_fails_its_own_report_only(dirs, tmp_path):
    notebooks, reports = dirs
    text = (ROOT / "marketing" / "case_studies" / "health.yml").read_text()
    case_file = tmp_path / "clinic.yml"
    case_file.write_text(text.replace("name: health", "name: clinic"))
    jobs = plan(["health", str(case_file)], ["segmentation"], None, reports_dir=reports, notebooks_dir=notebooks)
    _current_report(jobs[0])
    case_file.unlink()  # gone between planning and building: its cache key cannot be computed
    result = build(jobs, echo=quiet, reports_dir=reports)
    assert result.exported == ["health/segmentation"]
    [failed] = result.failed
    assert failed["case"] == "clinic" and "computing the cache key" in failed["error"]["message"]
    assert "FAILED clinic/segmentation" in summary(result) and (reports / "index.html").is_file()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder")
def test_a_read_only_reports_folder_fails_per_report_and_keeps_the_last_good_index(dirs):
    notebooks, reports = dirs
    jobs = plan(["health"], ["segmentation", "regression"], None, reports_dir=reports, notebooks_dir=notebooks)
    for job in jobs:
        _current_report(job)
    (reports / "index.html").write_text("last good index")
    for folder in (reports / "health", reports):
        folder.chmod(0o555)
    try:
        result = build(jobs, echo=quiet, reports_dir=reports)
    finally:
        for folder in (reports, reports / "health"):
            folder.chmod(0o755)
    messages = [r["error"]["message"] for r in result.failed]
    assert [r["analysis"] for r in result.failed][:2] == ["segmentation", "regression"], messages
    assert len(messages) == 3 and result.failed[2]["case"] == "(build)"
    assert "exporting the HTML" in messages[0] and "index.html" in messages[2]
    assert (reports / "index.html").read_text() == "last good index"
    assert not [p for p in reports.rglob("*") if p.name.startswith(".") or p.stat().st_size == 0]


def test_bad_n_jobs_is_reported_and_minus_one_means_every_core(dirs):
    notebooks, reports = dirs
    jobs = plan(["health"], ["segmentation"], None, reports_dir=reports, notebooks_dir=notebooks)
    _current_report(jobs[0])
    for bad in (0, -10_000):
        result = build(jobs, n_jobs=bad, echo=quiet, reports_dir=reports)
        assert result.failed and "-j" in summary(result) and not jobs[0].html.exists()
    assert build(jobs, n_jobs=-1, echo=quiet, reports_dir=reports).exported == ["health/segmentation"]


def test_the_summary_points_into_the_output_folder_and_keeps_the_whole_message(tmp_path):
    from marketing.reports import BuildResult

    message = "x" * 150 + " the end of a long message that says what to fix"
    record = {"case": "health", "analysis": "segmentation", "status": "failed",
              "error": {"cell": 5, "error": "ValueError", "message": message},
              "failed_notebook": "_failed/segmentation.ipynb",
              "failed_path": str(tmp_path / "out" / "health" / "_failed" / "segmentation.ipynb")}
    text = summary(BuildResult([record], []))
    assert message in text and str(tmp_path / "out" / "health" / "_failed" / "segmentation.ipynb") in text
    assert "reports/health" not in text


def test_the_git_state_read_before_the_build_is_what_kernels_report(monkeypatch):
    from marketing.provenance import GIT_STATE_ENV, git_state

    monkeypatch.setenv(GIT_STATE_ENV, json.dumps({"commit": "abc", "dirty": False}))
    assert git_state() == {"commit": "abc", "dirty": False}


_FULL_DISK_BUILD = """
import json, resource, signal, sys
from pathlib import Path
from marketing.reports import build, plan
# a full disk, for root too: any write beyond 0 bytes fails with EFBIG instead of killing the process
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
notebooks, reports = map(Path, sys.argv[1:3])
jobs = plan(["health"], ["segmentation", "regression"], None, reports_dir=reports, notebooks_dir=notebooks)
result = build(jobs, echo=lambda _: None, reports_dir=reports)
print(json.dumps([[r["case"], r["analysis"], r["error"]["message"]] for r in result.failed]))
"""


@pytest.mark.skipif(not hasattr(os, "geteuid") or sys.platform != "linux", reason="uses Linux resource limits")
def test_a_full_disk_fails_per_report_and_keeps_the_last_good_index(dirs):
    # the read-only-folder test above cannot run as root; a file-size limit of 0 fails every write for anyone
    notebooks, reports = dirs
    jobs = plan(["health"], ["segmentation", "regression"], None, reports_dir=reports, notebooks_dir=notebooks)
    for job in jobs:
        _current_report(job)  # current notebooks without HTML: the build only exports the HTML
    (reports / "index.html").write_text("last good index")
    before = {p: p.read_bytes() for p in reports.rglob("*") if p.is_file()}
    out = subprocess.run([sys.executable, "-c", _FULL_DISK_BUILD, str(notebooks), str(reports)],
                         capture_output=True, text=True, cwd=ROOT, check=True)
    failed = json.loads(out.stdout.strip().splitlines()[-1])
    assert [f[:2] for f in failed] == [["health", "segmentation"], ["health", "regression"], ["(build)", failed[2][1]]]
    assert "exporting the HTML" in failed[0][2] and "index.html" in failed[2][2]
    # nothing that was there changed, and no empty or partial file was left behind
    assert {p: p.read_bytes() for p in reports.rglob("*") if p.is_file()} == before
