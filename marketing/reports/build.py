"""Run the report matrix: papermill in worker processes, with caching and failure isolation.

Each report is ``reports/<case>/<analysis>.ipynb`` (executed), ``.html`` and ``.json`` (the
record: status, parameters, duration, provenance, metrics). Writes go to a temporary file first
and are moved into place only when complete, so an interrupted or failed run never leaves a
half-written report and never replaces the last good one. A failed execution is kept in
``reports/<case>/_failed/<analysis>.ipynb`` for inspection. The notebook's CRM exports are held
back the same way (:class:`marketing.exports.ExportStaging`): moved into place when the report
is, deleted when the run fails.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from marketing.cases import ANALYSES, CaseStudy, get_case, list_cases
from marketing.provenance import ROOT, environment, lock_fingerprint, package_fingerprint, sha256_file
from marketing.reports.params import template_parameters, validate_parameters

NOTEBOOKS_DIR = ROOT / "notebooks"
REPORTS_DIR = ROOT / "reports"
KERNEL = "python3"
TIMEOUT_S = 900


@dataclass(frozen=True)
class Job:
    """One report to build: a case, an analysis and the parameter overrides."""

    case: CaseStudy
    analysis: str
    parameters: dict[str, Any]
    out_dir: Path
    template: Path = field(default=NOTEBOOKS_DIR)

    @property
    def name(self) -> str:
        return f"{self.case.name}/{self.analysis}"

    @property
    def notebook(self) -> Path:
        return self.out_dir / f"{self.analysis}.ipynb"

    @property
    def html(self) -> Path:
        return self.out_dir / f"{self.analysis}.html"

    @property
    def record_path(self) -> Path:
        return self.out_dir / f"{self.analysis}.json"

    @property
    def failed_notebook(self) -> Path:
        return self.out_dir / "_failed" / f"{self.analysis}.ipynb"


def template_path(analysis: str, notebooks_dir: Path = NOTEBOOKS_DIR) -> Path:
    if analysis not in ANALYSES:
        raise ValueError(f"unknown analysis {analysis!r}; choose from {list(ANALYSES)}.")
    return notebooks_dir / f"{analysis}.ipynb"


def plan(
    cases: Iterable[str] | None = None,
    analyses: Iterable[str] | None = None,
    parameters: dict[str, Any] | None = None,
    reports_dir: Path = REPORTS_DIR,
    notebooks_dir: Path = NOTEBOOKS_DIR,
) -> list[Job]:
    """The run matrix: every (case, analysis), built-in cases by default.

    Parameter overrides are validated against each template before anything runs.
    """
    studies = [get_case(c) for c in (cases or list_cases())]
    chosen = list(analyses or ANALYSES)
    jobs = []
    for case in studies:
        for analysis in chosen:
            template = template_path(analysis, notebooks_dir)
            # notebooks run in their report folder: a case file must be named absolutely
            case_study = str(Path(case.path).resolve()) if case.path else case.name
            overrides = {**(parameters or {}), "case_study": case_study}
            overrides = validate_parameters(template, overrides)
            # the data source decides which analyses apply (a public dataset may lack a log)
            on_source = case.for_source(overrides.get("data_source"))
            jobs.append(Job(on_source, analysis, overrides, Path(reports_dir) / case.name, template))
    return jobs


def full_parameters(job: Job) -> dict[str, Any]:
    """The template's defaults with the job's overrides applied: what the notebook really ran with."""
    defaults = {k: v["default"] for k, v in template_parameters(job.template).items()}
    return {**defaults, **job.parameters}


def data_fingerprint(case: CaseStudy, parameters: dict[str, Any]) -> str:
    """What identifies the input data: the generator's settings for synthetic data (its code
    is part of the package fingerprint), otherwise the case's source."""
    if case.source == "synthetic":
        return f"synthetic:{parameters.get('data_size')}:seed={parameters.get('seed')}"
    if case.source == "files":
        from marketing.datasets.files import case_file_paths

        return "files:" + ",".join(f"{name}={sha256_file(path)}" for name, path in sorted(case_file_paths(case).items()))
    from marketing.datasets.public import DATASETS

    checksums = {f.name: f.sha256 for f in DATASETS[case.source].files}
    return f"public:{case.source}:{json.dumps(checksums, sort_keys=True)}"


def inputs_fingerprint(job: Job) -> str:
    """SHA-256 of everything a report depends on: template, parameters, package source, lock
    and data. A report whose fingerprint is unchanged is not re-run."""
    params = full_parameters(job)
    parts = {
        "template": sha256_file(job.template),
        "parameters": params,
        "package": package_fingerprint(),
        "lock": lock_fingerprint(),
        "data": data_fingerprint(job.case, params),
        "case_file": sha256_file(job.case.path) if job.case.path else None,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def read_record(path: Path) -> dict | None:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


def notebook_is_current(job: Job, fingerprint: str) -> bool:
    """Whether the executed notebook and record on disk were made from these inputs (a report
    that does not apply counts as current: there is nothing to run)."""
    record = read_record(job.record_path)
    return bool(
        record
        and record.get("inputs") == fingerprint
        and (record.get("status") == "not_applicable" or (record.get("status") == "ok" and job.notebook.is_file()))
    )


def html_is_current(job: Job, fingerprint: str, no_input: bool = False) -> bool:
    """Whether the HTML was exported from these inputs in this version (code or stakeholder)."""
    from marketing.reports.publish import html_stamp

    return html_stamp(job.html) == (fingerprint, no_input)


def is_current(job: Job, fingerprint: str, no_input: bool = False) -> bool:
    """Whether nothing of the report needs doing: its notebook and its HTML (in the version
    asked for) are current."""
    if not notebook_is_current(job, fingerprint):
        return False
    return (read_record(job.record_path) or {}).get("status") == "not_applicable" or html_is_current(
        job, fingerprint, no_input)


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        tmp.write_text(text)
        os.replace(tmp, path)
    finally:  # a full disk must not leave a 0-byte partial file behind
        tmp.unlink(missing_ok=True)


def _clear_failed(job: Job) -> None:
    """A success makes the kept failure stale: remove its notebook and kernel log."""
    for stale in (job.failed_notebook, job.failed_notebook.with_suffix(".stderr.log")):
        stale.unlink(missing_ok=True)
    try:
        job.failed_notebook.parent.rmdir()
    except OSError:
        pass  # absent, or other reports' failures are kept there


def _machinery_failure(job: Job | None, exc: BaseException, step: str) -> dict:
    """The record of an error of the build itself (not of the notebook); kept in memory only,
    so the last good record on disk stays."""
    case, analysis = (job.case.name, job.analysis) if job else ("(build)", step)
    return {"case": case, "analysis": analysis, "status": "failed", "duration_s": None,
            "error": {"cell": None, "cell_index": None, "error": type(exc).__name__,
                      "message": f"{step}: {exc}"}}


def reexport(job: Job, fingerprint: str, no_input: bool = False) -> dict:
    """Export the HTML of a current report from its notebook (no kernel); return its record.

    Only the untracked HTML is written: the committed notebook and record stay as they are.
    """
    from marketing.reports.publish import export_html

    html_partial = job.out_dir / f".{job.analysis}.{os.getpid()}.partial.html"
    try:
        export_html(job.notebook, html_partial, no_input=no_input, inputs=fingerprint)
        os.replace(html_partial, job.html)
    except Exception as exc:
        return _machinery_failure(job, exc, "exporting the HTML")
    finally:
        html_partial.unlink(missing_ok=True)
    _clear_failed(job)
    return {**(read_record(job.record_path) or {}), "exported": True}


def _write_record(job: Job, record: dict) -> dict:
    _write_atomic(job.record_path, json.dumps(record, indent=1, sort_keys=False) + "\n")
    return record


def execute(job: Job, fingerprint: str, kernel: str = KERNEL, timeout: int = TIMEOUT_S,
            no_input: bool = False) -> dict:
    """Execute one report (in a worker process) and write its notebook, HTML and record.

    An error of the machinery around the kernel (an unwritable folder, a full disk) is returned
    as this report's failure, never raised: the other reports go on.
    """
    try:
        return _execute(job, fingerprint, kernel, timeout, no_input)
    except Exception as exc:
        return _machinery_failure(job, exc, "writing the report")


def _execute(job: Job, fingerprint: str, kernel: str, timeout: int, no_input: bool) -> dict:
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    from marketing.exports import ExportStaging
    from marketing.notebook import read_metrics
    from marketing.reports.publish import export_html

    params = full_parameters(job)
    record = {
        "case": job.case.name,
        "analysis": job.analysis,
        "status": None,
        "parameters": params,
        "duration_s": None,
        "provenance": None,
        "metrics": None,
        "inputs": fingerprint,
    }
    if not job.case.applies(job.analysis):
        reason = job.case.not_applicable.get(job.analysis) or (
            f"the {job.case.name} data ({job.case.source}) do not support {job.analysis}; "
            f"this case runs {', '.join(job.case.analyses)}")
        return _write_record(job, {**record, "status": "not_applicable", "reason": reason, "duration_s": 0.0})

    job.out_dir.mkdir(parents=True, exist_ok=True)
    started = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    partial = job.out_dir / f".{job.analysis}.{os.getpid()}.partial.ipynb"
    # the kernel inherits this worker's stderr: keep its chatter out of the terminal, in a log
    # that is kept beside the failed notebook when the run fails
    kernel_log = job.out_dir / f".{job.analysis}.{os.getpid()}.partial.log"
    log_fd = os.open(kernel_log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)  # raises in an unwritable folder
    saved_stderr = os.dup(2)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    provenance = {
        **environment(),
        "data": data_fingerprint(job.case, params),
        "template_sha256": sha256_file(job.template),
        "kernel": kernel,
        "started_at": started.isoformat(timespec="seconds"),
    }
    status = "failed"
    # the kernel inherits the staging: its CRM exports wait under temporary names until the
    # report is in place, so a failed run never replaces the export of the last good report
    staging = ExportStaging(job.out_dir / f".{job.analysis}.{os.getpid()}.exports.partial").start()
    try:
        pm.execute_notebook(
            str(job.template), str(partial), parameters=job.parameters, kernel_name=kernel,
            cwd=str(job.out_dir), execution_timeout=timeout, progress_bar=False,
        )
        metrics = read_metrics(partial)
        html_partial = partial.with_suffix(".html")
        export_html(partial, html_partial, no_input=no_input, inputs=fingerprint)
        # exports first: when one cannot be put in place the run fails and the last good
        # report, which describes the exports that are there, stays
        try:
            staging.commit()
        except OSError as exc:
            raise OSError(f"putting the CRM exports in place: {exc}") from exc
        os.replace(partial, job.notebook)
        os.replace(html_partial, job.html)
        _clear_failed(job)
        status, error = "ok", None
    except PapermillExecutionError as exc:
        status = "failed"
        error = {"cell": exc.exec_count, "cell_index": exc.cell_index, "error": exc.ename,
                 "message": str(exc.evalue)}
        metrics = None
    except Exception as exc:  # a timeout, a dead kernel: still isolate it to this report
        status = "failed"
        error = {"cell": None, "cell_index": None, "error": type(exc).__name__, "message": str(exc)}
        metrics = None
    finally:
        os.dup2(saved_stderr, 2)
        os.close(saved_stderr)
        staging.close()  # drops the exports of a failed run
        duration = round(time.perf_counter() - t0, 1)
        if status != "ok" and kernel_log.exists():
            job.failed_notebook.parent.mkdir(exist_ok=True)
            os.replace(kernel_log, job.failed_notebook.with_suffix(".stderr.log"))
        if partial.exists():
            # a failed execution is kept for inspection; never in place of the last good report
            job.failed_notebook.parent.mkdir(exist_ok=True)
            os.replace(partial, job.failed_notebook)
        for leftover in job.out_dir.glob(f".{job.analysis}.{os.getpid()}.partial*"):
            leftover.unlink()
    provenance["duration_s"] = duration
    record.update(status=status, duration_s=duration, provenance=provenance, metrics=metrics)
    if error:
        record["error"] = error
        record["failed_notebook"] = str(job.failed_notebook.relative_to(job.out_dir))
    return _write_record(job, record)


@dataclass
class BuildResult:
    records: list[dict]
    skipped: list[str]
    interrupted: bool = False
    #: reports whose notebook was current and whose HTML alone was exported again
    exported: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[dict]:
        return [r for r in self.records if r["status"] == "failed"]


def _workers(n_jobs: int | None) -> int:
    """Worker processes for ``n_jobs``, as scikit-learn counts them: None is every core, -1 every
    core, -2 all but one; 0 is an error.

    Examples
    --------
    >>> _workers(2)
    2
    >>> _workers(-1) == (os.cpu_count() or 1)
    True
    """
    cores = os.cpu_count() or 1
    if n_jobs is None:
        return cores
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0 or n_jobs < -cores:
        raise ValueError(f"-j/n_jobs must be a positive number of worker processes, or -1 for every core "
                         f"(-2 all but one, down to -{cores}); got {n_jobs!r}")
    return n_jobs if n_jobs > 0 else cores + 1 + n_jobs


def build(
    jobs: list[Job],
    n_jobs: int | None = None,
    force: bool = False,
    kernel: str = KERNEL,
    timeout: int = TIMEOUT_S,
    no_input: bool = False,
    echo: Callable[[str], None] = print,
    reports_dir: Path = REPORTS_DIR,
) -> BuildResult:
    """Build ``jobs`` in up to ``n_jobs`` worker processes (default: the number of cores; -1 too).

    Reports whose inputs are unchanged are skipped unless ``force``; one whose notebook is current
    but whose HTML is missing or of the other version (``no_input``) only has its HTML exported.
    Returns every record of this run; the index page is refreshed from all records on disk.
    An error of the build itself (a bad ``n_jobs``, a cache key that cannot be computed, an index
    that cannot be written) is a failed record in the result, never a traceback: the other
    reports and the last good index stay.
    """
    records: list[dict] = []
    try:
        n_jobs = _workers(n_jobs)
    except ValueError as exc:
        return BuildResult([_machinery_failure(None, exc, "-j")], [])
    todo, reexports, skipped = [], [], []
    for job in jobs:
        try:
            fingerprint = inputs_fingerprint(job)
        except Exception as exc:  # a file gone missing: this report fails, the others go on
            records.append(_machinery_failure(job, exc, "computing the cache key"))
            continue
        if force or not notebook_is_current(job, fingerprint):
            todo.append((job, fingerprint))
        elif is_current(job, fingerprint, no_input):
            skipped.append(job.name)
        else:
            reexports.append((job, fingerprint))
    if skipped:
        echo(f"up to date: {len(skipped)} report(s) ({', '.join(skipped)})")
    exported: list[str] = []
    for job, fingerprint in reexports:
        record = reexport(job, fingerprint, no_input)
        if record["status"] == "failed":
            records.append(record)
        else:
            exported.append(job.name)
    if exported:
        echo(f"HTML exported again from the current notebook: {len(exported)} report(s) ({', '.join(exported)})")
    # longest first (by the last run's duration) keeps both cores busy to the end
    todo.sort(key=lambda jf: -((read_record(jf[0].record_path) or {}).get("duration_s") or 1e9))
    interrupted = False
    if todo:
        interrupted = _run_pool(todo, n_jobs, kernel, timeout, no_input, echo, records)
    if todo or reexports or not (Path(reports_dir) / "index.html").exists():
        from marketing.reports.publish import write_index

        try:
            write_index(reports_dir)
        except Exception as exc:  # the reports are built: say so, and keep the last good index
            records.append(_machinery_failure(None, exc, f"writing {Path(reports_dir) / 'index.html'}"))
    return BuildResult(records, skipped, interrupted, exported)


def _run_pool(todo: list, n_jobs: int, kernel: str, timeout: int, no_input: bool,
              echo: Callable[[str], None], records: list[dict]) -> bool:
    """Execute ``todo`` in worker processes, appending each record; return whether interrupted."""
    # the pool's modules are imported only when there is work: the up-to-date check stays light
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from marketing.provenance import GIT_STATE_ENV, git_state

    echo(f"building {len(todo)} report(s) with {min(n_jobs, len(todo))} worker process(es)")
    t0 = time.perf_counter()
    # read once, before any report is written: the build's own writes must not make it "dirty"
    saved = os.environ.get(GIT_STATE_ENV)
    os.environ[GIT_STATE_ENV] = saved or json.dumps(git_state())
    context = multiprocessing.get_context("spawn")
    workers = min(n_jobs, len(todo))
    interrupted = False
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            futures = {pool.submit(execute, job, fp, kernel, timeout, no_input): job for job, fp in todo}
            # the pool starts jobs in submission order as workers free up
            for job, _ in todo[:workers]:
                echo(f"  started  {job.name}")
            try:
                for done, future in enumerate(as_completed(futures), 1):
                    job = futures[future]
                    try:
                        record = future.result()
                    except Exception as exc:  # the worker itself died
                        record = _machinery_failure(job, exc, "the worker process")
                    if record.get("failed_notebook"):
                        record = {**record, "failed_path": str(job.out_dir / record["failed_notebook"])}
                    records.append(record)
                    where = f" at cell [{record['error']['cell']}]" if record.get("error", {}).get("cell") else ""
                    echo(f"[{done}/{len(todo)}] {record['status']:<14} {job.name} "
                         f"{record.get('duration_s') or 0:.1f}s{where}  (elapsed {time.perf_counter() - t0:.0f}s)")
                    if done + workers - 1 < len(todo):
                        echo(f"  started  {todo[done + workers - 1][0].name}")
            except KeyboardInterrupt:
                interrupted = True
                echo("interrupted: stopping the running reports; finished reports are kept")
                for future in futures:
                    future.cancel()
                pool.shutdown(wait=True, cancel_futures=True)
    finally:
        if saved is None:
            os.environ.pop(GIT_STATE_ENV, None)
    return interrupted


def _shown(path: str) -> str:
    """A path as the user can use it: relative to the working directory when inside it."""
    try:
        return os.path.relpath(path) if Path(path).resolve().is_relative_to(Path.cwd()) else path
    except (OSError, ValueError):
        return path


def summary(result: BuildResult) -> str:
    """A closing summary naming each failed case, analysis and cell, with the whole message and
    where the failed run was kept (in the reports folder the build wrote to)."""
    ok = sum(r["status"] == "ok" for r in result.records)
    na = sum(r["status"] == "not_applicable" for r in result.records)
    line = f"{ok} built, {len(result.failed)} failed, {na} not applicable, {len(result.skipped)} up to date"
    lines = [line + (f", {len(result.exported)} HTML exported again" if result.exported else "")]
    for r in result.failed:
        err = r.get("error", {})
        cell = f"cell [{err['cell']}]" if err.get("cell") else "execution"
        where = f"  (see {_shown(r['failed_path'])})" if r.get("failed_path") else ""
        lines.append(f"  FAILED {r['case']}/{r['analysis']} at {cell}: {err.get('error')}: {err.get('message', '')}{where}")
    if result.interrupted:
        lines.append("  interrupted before all reports were built")
    return "\n".join(lines)
