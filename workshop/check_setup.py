"""Workshop set-up check: is this machine ready for the workshop? Prints one line per step.

    make check                         # installs .venv from the lock (make env), then runs this
    python workshop/check_setup.py --install   # the same without make (Windows): py -3.11 workshop\\check_setup.py --install

Steps: the Python version; (with --install) the locked environment in .venv; importing the stack;
starting a Jupyter kernel and running one tiny analysis in it (segment 2,000 synthetic customers and
compare with the planted segments). Each failure says what to do. Only the standard library is used
until the environment exists, so this file runs on any Python.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MINIMUM = (3, 11)
STACK = ("numpy", "pandas", "scipy", "sklearn", "statsmodels", "implicit", "matplotlib", "seaborn", "duckdb",
         "narwhals", "jupyterlab", "ipykernel", "nbclient", "papermill", "marketing")
TINY_ANALYSIS = """
from sklearn.metrics import adjusted_rand_score
from marketing import get_case, load_case_data
from marketing.features import customer_table
from marketing.segmentation import Segmenter
case = get_case("ecommerce")
data = load_case_data("ecommerce", data_size="small", seed=42)
labels = Segmenter(n_segments=4, random_state=42).fit(customer_table(data, case.segmentation_features)).labels_
print(round(adjusted_rand_score(data.truth.segments, labels), 3))
"""
WINDOWS = sys.platform == "win32"
VENV_PYTHON = ROOT / ".venv" / ("Scripts/python.exe" if WINDOWS else "bin/python")


def ok(step: str, started: float, detail: str = "") -> None:
    print(f"  ok    {step}{': ' + detail if detail else ''} ({time.perf_counter() - started:.1f} s)", flush=True)


def fail(step: str, problem: str, fix: str) -> int:
    print(f"  FAIL  {step}: {problem}\n        what to do: {fix}", flush=True)
    return 1


def check_python(version=sys.version_info) -> str | None:
    """None when ``version`` is new enough, else the message saying what to install."""
    if tuple(version[:2]) >= MINIMUM:
        return None
    found = ".".join(map(str, version[:3]))
    want = ".".join(map(str, MINIMUM))
    return (f"Python {found} is too old; the workshop needs Python {want} or newer. Install Python {want} "
            f"(python.org, your package manager, or `uv python install {want}`), then run "
            f"`make check PYTHON=python{want}` (without make: `python{want} workshop/check_setup.py --install`).")


def install() -> int:
    """Create .venv and install the locked environment, as `make env` does (for machines without make)."""
    started = time.perf_counter()
    lock = (ROOT / "requirements.lock").read_text()
    uv = re.search(r"^uv==\S+", lock, re.M).group(0)
    steps = []
    if not VENV_PYTHON.exists():
        steps.append([sys.executable, "-m", "venv", str(ROOT / ".venv")])
    steps += [
        [str(VENV_PYTHON), "-m", "pip", "install", "-q", "--disable-pip-version-check", uv],
        [str(VENV_PYTHON), "-m", "uv", "pip", "sync", "-q", "--compile-bytecode", "--python", str(VENV_PYTHON),
         str(ROOT / "requirements.lock")],
        [str(VENV_PYTHON), "-m", "uv", "pip", "install", "-q", "--python", str(VENV_PYTHON), "--no-deps", "-e", str(ROOT)],
    ]
    for command in steps:
        if subprocess.run(command).returncode != 0:
            return fail("install", f"`{' '.join(command)}` failed (see its message above)",
                        "check the internet connection (the install downloads the pinned packages once), "
                        "delete the .venv folder and run this again.")
    ok("install the locked environment into .venv", started)
    return 0


def check_imports() -> int:
    started = time.perf_counter()
    for name in STACK:
        try:
            importlib.import_module(name)
        except Exception as error:  # any import failure is the participant's problem to see
            return fail("import the stack", f"`import {name}` failed: {error}",
                        "the environment is incomplete: delete the .venv folder and run `make check` again.")
    ok("import the stack", started, f"{len(STACK)} packages")
    return 0


def check_kernel() -> int:
    started = time.perf_counter()
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(TINY_ANALYSIS)])
    try:
        # the kernel's own log (a notice about local TCP) is noise here; a failure raises below
        NotebookClient(notebook, kernel_name="python3", timeout=120).execute(stderr=subprocess.DEVNULL)
    except CellExecutionError as error:
        return fail("run a tiny analysis in a kernel", f"the analysis failed: {str(error).splitlines()[-1]}",
                    "report it to the instructor with this output.")
    except Exception as error:  # no kernel spec, a firewall blocking localhost, a timeout
        return fail("start a Jupyter kernel", f"{type(error).__name__}: {error}",
                    "run `.venv/bin/python -m ipykernel install --sys-prefix`, and allow local connections "
                    "(127.0.0.1) in the firewall.")
    ari = float(notebook.cells[0].outputs[0]["text"])
    if ari < 0.8:
        return fail("run a tiny analysis in a kernel", f"the segments agree with the planted ones at ARI {ari}",
                    "this should be about 0.9: report it to the instructor.")
    ok("start a kernel and segment 2,000 customers", started, f"agreement with the planted segments ARI {ari}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--install", action="store_true", help="create .venv from the lock first (no make needed)")
    parser.add_argument("--python-only", action="store_true", help="check the Python version only (make check's first step)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    print("Workshop set-up check")
    problem = check_python()
    if problem:
        return fail("Python version", problem, "install the newer Python, then run this again.")
    ok("Python version", started, sys.version.split()[0])
    if args.python_only:
        return 0
    if args.install:
        if install():
            return 1
    if Path(sys.prefix).resolve() != (ROOT / ".venv").resolve():
        if not VENV_PYTHON.exists():
            return fail("environment", "there is no .venv yet",
                        "run `make check`, or without make `python workshop/check_setup.py --install`.")
        # the rest runs inside the project's environment
        return subprocess.run([str(VENV_PYTHON), __file__], env=os.environ).returncode
    if check_imports() or check_kernel():
        return 1
    print(f"All set ({time.perf_counter() - started:.0f} s). Start JupyterLab with `make lab` "
          f"(without make: `{VENV_PYTHON.relative_to(ROOT)} -m jupyter lab`) and open workshop/01_segmentation.ipynb.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
