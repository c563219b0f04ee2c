"""The committed reports match the code that would build them, and a build on a fresh clone
leaves the tree clean.

A change to a template, the package or the lock changes every affected report's input
fingerprint; the record of each committed report (``reports/<case>/<analysis>.json``) names
the fingerprint it was built from. No kernel runs here: the jobs are planned and their
fingerprints compared.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from marketing.reports.build import REPORTS_DIR, inputs_fingerprint, plan, read_record

from conftest import ROOT


def stale_reports(reports_dir: Path = REPORTS_DIR) -> list[str]:
    """The reports of the matrix whose committed record is missing, failed or of other inputs."""
    jobs = plan(reports_dir=reports_dir)  # what `make reports` builds
    committed = sorted(p.relative_to(reports_dir).with_suffix("").as_posix() for p in reports_dir.glob("*/*.json"))
    stale = sorted({job.name for job in jobs} ^ set(committed))
    for job in jobs:
        record = read_record(job.record_path) or {}
        if record.get("inputs") != inputs_fingerprint(job) or record.get("status") not in ("ok", "not_applicable"):
            stale.append(f"{job.name} ({record.get('status')})")
        elif record["status"] == "ok" and not job.notebook.is_file():
            stale.append(f"{job.name} (no notebook)")
    return stale


def test_every_committed_report_was_built_from_the_current_templates_package_and_lock():
    stale = stale_reports()
    assert not stale, (f"reports not built from the current templates, package and lock: {stale}; "
                       "rebuild them with `make reports` and commit reports/")


@pytest.mark.slow
def test_make_reports_on_a_fresh_clone_rewrites_no_tracked_file(tmp_path):
    if subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                      capture_output=True, text=True).stdout.strip():
        pytest.skip("the work tree has uncommitted changes: a clone would not hold them")
    if stale_reports():  # the test above fails for it; building them here would take many minutes
        pytest.fail("the committed reports are stale (see the test above): a build would rightly re-run them")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    env = {**os.environ, "PYTHONPATH": str(clone)}
    run = subprocess.run([sys.executable, "-m", "marketing", "reports"], cwd=clone, env=env,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "building" not in run.stdout, f"a current report was re-run:\n{run.stdout}"
    status = subprocess.run(["git", "status", "--porcelain"], cwd=clone, capture_output=True, text=True).stdout
    assert status == "", f"the build changed tracked files:\n{status}"
    assert (clone / "reports" / "index.html").is_file() and (clone / "reports" / "health" / "regression.html").is_file()
    # and the next build has nothing to do
    again = subprocess.run([sys.executable, "-m", "marketing", "reports"], cwd=clone, env=env,
                           capture_output=True, text=True, timeout=600)
    assert "up to date: 12 report(s)" in again.stdout and "0 built, 0 failed" in again.stdout, again.stdout
