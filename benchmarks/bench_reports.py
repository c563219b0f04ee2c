"""How fast is the report build? Cold, warm, one template changed, against the floor and the naive loop.

- floor: the time to start a kernel and import the stack, times the number of reports, divided by
  the cores: no build of these notebooks can beat it;
- naive: `papermill` then `jupyter nbconvert --to html` per notebook, one after another (what a
  Makefile loop would do);
- cold: `build()` of the whole matrix with every report forced;
- warm: `build()` again with nothing changed (everything is cached);
- one template changed: a comment added to one template, `build()` again.

All runs use copies of the templates and a temporary reports folder, so the repository's reports
are untouched. Usage: python benchmarks/bench_reports.py [--quick]
(--quick: one case, one analysis, one repeat, no naive loop). Writes benchmarks/results/reports.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, write_results  # noqa: E402

from marketing.cases import list_cases
from marketing.reports import build, plan

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
BIN = Path(sys.executable).parent


def _floor_once(workdir: Path) -> float:
    """Kernel start plus the notebooks' imports, through papermill."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "import marketing, pandas, numpy, sklearn, scipy, seaborn, matplotlib.pyplot, statsmodels.api\n"
        "from marketing.notebook import record_metrics")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    src = workdir / "floor.ipynb"
    nbformat.write(nb, str(src))
    start = time.perf_counter()
    subprocess.run([str(BIN / "papermill"), str(src), str(workdir / "floor-out.ipynb"), "-k", "python3",
                    "--no-progress-bar"], check=True, capture_output=True)
    return time.perf_counter() - start


def _naive(notebooks: Path, out: Path, cases: list[str]) -> float:
    start = time.perf_counter()
    for case in cases:
        for template in sorted(notebooks.glob("*.ipynb")):
            target = out / case / template.name
            target.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run([str(BIN / "papermill"), str(template), str(target), "-p", "case_study", case,
                            "-k", "python3", "--cwd", str(target.parent), "--no-progress-bar"],
                           check=True, capture_output=True)
            subprocess.run([str(BIN / "jupyter"), "nbconvert", "--to", "html", str(target)],
                           check=True, capture_output=True)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="one case, one analysis, one repeat, no naive loop, no results file")
    parser.add_argument("--repeats", type=int, default=3, help="runs of the floor and the warm build")
    args = parser.parse_args(argv)
    cases = ["health"] if args.quick else list_cases()
    # quick mode checks the script works: the fastest analysis, one repeat
    analyses = ["recommendation"] if args.quick else None
    repeats = 1 if args.quick else args.repeats
    cores = os.cpu_count() or 1
    work = Path(tempfile.mkdtemp(prefix="bench-reports-"))
    try:
        notebooks = work / "notebooks"
        shutil.copytree(ROOT / "notebooks", notebooks)
        reports = work / "reports"
        floor_one = sorted(_floor_once(work) for _ in range(repeats))[repeats // 2]
        jobs = plan(cases, analyses, None, reports_dir=reports, notebooks_dir=notebooks)
        n = len(jobs)
        start = time.perf_counter()
        cold = build(jobs, force=True, reports_dir=reports, echo=lambda _: None)
        cold_s = time.perf_counter() - start
        failed = [r for r in cold.records if r["status"] != "ok"]
        if failed:
            raise SystemExit(f"cold build failed: {failed}")
        warm = []
        for _ in range(repeats):
            start = time.perf_counter()
            build(jobs, reports_dir=reports, echo=lambda _: None)
            warm.append(time.perf_counter() - start)
        template = notebooks / f"{jobs[0].analysis}.ipynb"
        nb = nbformat.read(str(template), as_version=4)
        nb.cells.append(nbformat.v4.new_markdown_cell("A comment added by the benchmark."))
        nbformat.write(nb, str(template))
        start = time.perf_counter()
        changed = build(jobs, reports_dir=reports, echo=lambda _: None)
        changed_s = time.perf_counter() - start
        naive_s = None if args.quick else _naive(ROOT / "notebooks", work / "naive", cases)
        result = {
            "reports": n,
            "cores": cores,
            "floor_one_kernel_s": round(floor_one, 2),
            "floor_s": round(floor_one * n / cores, 1),
            "cold_s": round(cold_s, 1),
            "cold_over_floor": round(cold_s / (floor_one * n / cores), 2),
            "naive_serial_s": None if naive_s is None else round(naive_s, 1),
            "naive_over_cold": None if naive_s is None else round(naive_s / cold_s, 2),
            "warm_s_median": round(sorted(warm)[len(warm) // 2], 2),
            "one_template_changed_s": round(changed_s, 1),
            "one_template_changed_reran": len(changed.records),
            "per_report_s": {f"{r['case']}/{r['analysis']}": r["duration_s"] for r in cold.records},
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result, indent=1))
    if not args.quick:
        result["machine"] = machine()
        write_results("reports", result, markdown(result))
    return result


def markdown(result: dict) -> str:
    m = result.get("machine", {})
    rows = [
        ("floor: kernel start + imports x reports / cores", result["floor_s"], 1.0),
        ("cold build, every report forced", result["cold_s"], result["cold_over_floor"]),
        ("naive serial papermill + nbconvert loop", result["naive_serial_s"],
         None if result["naive_serial_s"] is None else round(result["naive_serial_s"] / result["floor_s"], 2)),
        ("warm re-run, nothing changed (median)", result["warm_s_median"],
         round(result["warm_s_median"] / result["floor_s"], 3)),
        (f"one template changed ({result['one_template_changed_reran']} reports re-run)",
         result["one_template_changed_s"], round(result["one_template_changed_s"] / result["floor_s"], 2)),
    ]
    lines = [
        "# The report build",
        "",
        f"{result['reports']} reports on {result['cores']} cores"
        + (f", load average at the end {m['load_average_1_5_15']}" if m else "") + ".",
        "",
        "| build | seconds | over the floor |",
        "| --- | --- | --- |",
    ]
    lines += [f"| {name} | {s} | {'–' if r is None else r} |" for name, s, r in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
