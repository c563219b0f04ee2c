"""How fast does the command line start? Each command in a fresh process, against `python -c pass`.

- `python -c pass` and `import marketing`: the interpreter's floor and the package's own cost;
  `import pandas`: the floor of `check`;
- `python -m marketing --help`, `list`, `check data/examples/shop/case.yml --analysis segmentation`
  (check reads the data, so it needs pandas);
- the warm build, `python -m marketing reports` with nothing to do, and the same through
  `make reports`. It runs on a copy of the committed reports whose records carry the
  fingerprints the current templates, package and lock give (so it measures the up-to-date check
  and the index page, whatever the state of the committed reports); the repository is untouched.

Each figure is the median wall time of 5 runs (1 with --quick), after one untimed run that fills
a bytecode cache (see :func:`time_command`). Usage:
python benchmarks/bench_startup.py [--quick]. Writes benchmarks/results/startup.json and .md
(not with --quick).
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, markdown_table, median, write_results  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _warm_reports(folder: Path) -> Path:
    """A copy of reports/ whose records are current for the present inputs (HTML touched)."""
    sys.path.insert(0, str(ROOT))
    from marketing.reports.build import inputs_fingerprint, plan

    out = folder / "reports"
    for job in plan(reports_dir=out):
        committed = ROOT / "reports" / job.case.name
        job.out_dir.mkdir(parents=True, exist_ok=True)
        for suffix in (".ipynb", ".json"):
            source = committed / f"{job.analysis}{suffix}"
            if source.is_file():
                shutil.copy2(source, job.out_dir / source.name)
        record = json.loads(job.record_path.read_text()) if job.record_path.is_file() else {
            "case": job.case.name, "analysis": job.analysis, "status": "ok"}
        record["inputs"] = inputs_fingerprint(job)
        job.record_path.write_text(json.dumps(record, indent=1) + "\n")
        if not job.notebook.is_file():
            job.notebook.write_text("{}")
        job.html.touch()
    return out


def commands(out: Path) -> dict[str, list[str]]:
    python = sys.executable
    stamp = Path(python).parent.parent / ".installed"
    return {
        "python -c pass": [python, "-c", "pass"],
        "import marketing": [python, "-c", "import marketing"],
        # the floor of `check`, which reads the data with pandas
        "import pandas": [python, "-c", "import pandas"],
        "python -m marketing --help": [python, "-m", "marketing", "--help"],
        "python -m marketing list": [python, "-m", "marketing", "list"],
        "check shop --analysis segmentation": [python, "-m", "marketing", "check", "data/examples/shop/case.yml",
                                               "--analysis", "segmentation"],
        "reports, nothing to do": [python, "-m", "marketing", "reports", "-o", str(out)],
        # -o: make must never rebuild the environment's stamp here, however old it is
        "make reports, nothing to do": ["make", "-s", "-o", str(stamp), "reports", f"VENV={stamp.parent}",
                                        f"BIN={BIN}", f"OUT={out}"],
    }


def time_command(argv: list[str], repeats: int, pycache: Path | None) -> dict:
    """Median wall time of ``repeats`` fresh runs, after one untimed run that fills the bytecode cache.

    A user's Python writes ``__pycache__`` on the first run and reads it after; an environment
    with ``PYTHONDONTWRITEBYTECODE`` (as some containers set) would compile every module on every
    start instead, so the children get a bytecode cache of their own under ``pycache``
    (None: the environment as it is).
    """
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if pycache is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    subprocess.run(argv, cwd=ROOT, env=env, capture_output=True)
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True)
        runs.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} exited {done.returncode}:\n{done.stderr[-2000:]}")
    return {"wall_s": round(median(runs), 3), "wall_s_runs": [round(r, 3) for r in runs], "tail": done.stdout.strip().splitlines()[-1:]}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one run of each command, no results file")
    parser.add_argument("--repeats", type=int, default=5, help="fresh processes per command (median)")
    parser.add_argument("--as-is", action="store_true",
                        help="no bytecode cache of the benchmark's own: the environment as it is "
                             "(with PYTHONDONTWRITEBYTECODE every start compiles); results in startup_as_is.*")
    args = parser.parse_args(argv)
    repeats = 1 if args.quick else args.repeats
    with tempfile.TemporaryDirectory() as tmp:
        out = _warm_reports(Path(tmp))
        rows = []
        for name, command in commands(out).items():
            rows.append({"command": name, **time_command(command, repeats, None if args.as_is else Path(tmp) / "pycache")})
    cache = "as is" if args.as_is else "own bytecode cache"
    result = {"machine": machine(), "repeats": repeats, "bytecode": cache,
              "PYTHONDONTWRITEBYTECODE": os.environ.get("PYTHONDONTWRITEBYTECODE"), "rows": rows}
    if not args.quick:
        table = markdown_table(rows, ["command", "wall_s", "wall_s_runs"])
        how = ("with the environment's bytecode setting as it is (PYTHONDONTWRITEBYTECODE="
               f"{result['PYTHONDONTWRITEBYTECODE']})" if args.as_is else
               "after one untimed run that fills a bytecode cache of the benchmark's own (as a user's second run)")
        write_results("startup_as_is" if args.as_is else "startup", result,
                      f"# Command-line startup\n\nMedian wall time of {repeats} fresh processes each, {how}; "
                      f"machine: {json.dumps(result['machine'])}.\n"
                      f"Command: `python benchmarks/bench_startup.py{' --as-is' if args.as_is else ''}`\n\n{table}\n")
    for row in rows:
        print(f"{row['command']:<36} {row['wall_s']:.3f} s")
    return result


if __name__ == "__main__":
    main()
