"""Shared plumbing of the benchmark scripts: child processes, medians, peak memory, results files.

Every contender runs in its own child process (the script re-invoked with ``--child``), so the
peak resident memory it reports is its own: the child reads its high-water mark (``VmHWM``) from
/proc, which, unlike ``ru_maxrss``, does not carry the parent's peak over fork + exec.
"""

from __future__ import annotations

import importlib.util
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterable, Sequence

RESULTS = Path(__file__).resolve().parent / "results"


def peak_rss_gib() -> float:
    """This process's peak resident memory in GiB (VmHWM on Linux, ru_maxrss elsewhere)."""
    try:
        with open("/proc/self/status") as status:
            line = next(entry for entry in status if entry.startswith("VmHWM:"))
        return int(line.split()[1]) / 2**20
    except (OSError, StopIteration):
        import resource

        # ru_maxrss is KiB on Linux and bytes on macOS
        scale = 2**30 if sys.platform == "darwin" else 2**20
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


def has_module(name: str) -> bool:
    """Whether an optional peer (e.g. duckdb, from the ``bench`` extra) is importable."""
    return importlib.util.find_spec(name) is not None


def emit(record: dict) -> None:
    """A child's result: one JSON line on stdout, read back by :func:`run_child`."""
    print(json.dumps(record), flush=True)


def run_child(script: Path, args: Sequence[str], timeout: float | None = None,
              env: dict | None = None) -> dict:
    """Run ``script --child *args`` in a fresh interpreter and return its last JSON line.

    ``env``: extra environment variables of the child (e.g. ``PYTHONPATH`` of another checkout).
    """
    out = subprocess.run(
        [sys.executable, str(script), "--child", *map(str, args)],
        capture_output=True, text=True, timeout=timeout, env=None if env is None else {**os.environ, **env},
    )
    if out.returncode != 0:
        raise RuntimeError(f"{script.name} --child {' '.join(map(str, args))} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def median(values: Iterable[float]) -> float:
    """The median (the mean of the two middle values for an even count)."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("median of no values")
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def repeat_child(script: Path, args: Sequence[str], repeats: int, time_keys: Sequence[str]) -> dict:
    """Run a contender ``repeats`` times, each in its own process.

    Returns the first run's record with each of ``time_keys`` replaced by the median over the
    runs (the individual times are kept under ``<key>_runs``) and the peak memory by the largest
    of the runs (``peak_rss_gib``), so a number in the table is never the luckiest run.
    """
    runs = [run_child(script, args) for _ in range(repeats)]
    record = dict(runs[0])
    for key in time_keys:
        record[f"{key}_runs"] = [run[key] for run in runs]
        record[key] = round(median(run[key] for run in runs), 3)
    record["peak_rss_gib"] = round(max(run["peak_rss_gib"] for run in runs), 3)
    record["repeats"] = repeats
    return record


def machine() -> dict:
    """The machine and its load, written beside every result (the numbers depend on both)."""
    info: dict[str, Any] = {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()],
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
    }
    try:
        with open("/proc/meminfo") as meminfo:
            total = next(line for line in meminfo if line.startswith("MemTotal:"))
        info["memory_gib"] = round(int(total.split()[1]) / 2**20, 1)
    except (OSError, StopIteration):
        pass
    return info


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def markdown_table(rows: Sequence[dict], columns: Sequence[str]) -> str:
    """A GitHub Markdown table of ``rows`` (dicts) with the given columns; missing cells show –.

    Examples
    --------
    >>> print(markdown_table([{"a": 1, "b": 0.12345}, {"a": 20000}], ["a", "b"]))
    | a | b |
    | --- | --- |
    | 1 | 0.1235 |
    | 20,000 | – |
    """
    lines = ["| " + " | ".join(columns) + " |", "| " + " | ".join("---" for _ in columns) + " |"]
    lines += ["| " + " | ".join(_cell(row.get(c)) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def write_results(name: str, result: dict, markdown: str) -> None:
    """benchmarks/results/<name>.json and <name>.md."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=1) + "\n")
    (RESULTS / f"{name}.md").write_text(markdown.rstrip() + "\n")


def machine_label(info: dict | None) -> str:
    """A results file's machine in a few words, for a plot's title: "2 cores, 23.5 GiB, 2026-11-23"."""
    if not info:
        return "machine not recorded"
    parts = [f"{info['cores']} cores" if info.get("cores") else None,
             f"{info['memory_gib']} GiB" if info.get("memory_gib") else None,
             str(info["date"]).split()[0] if info.get("date") else None]
    return ", ".join(p for p in parts if p) or "machine not recorded"


def plot_times(series: dict[str, Sequence[tuple[float, float]]], path: Path | None, *, title: str,
               xlabel: str, ylabel: str = "seconds (log scale)", peers: Iterable[str] = ()):
    """The one plotting idiom of the benchmarks: time against size, log-log, a line per contender.

    ``series`` maps each contender to its measured ``(size, seconds)`` points (in any order; a
    contender without points is left out); ``peers`` are drawn dashed, ours solid. Writes ``path``
    (PNG, without the software stamp in its metadata, so the same results give the same bytes)
    unless it is None, and returns the matplotlib Figure.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    from marketing.plots import PALETTE, set_theme

    set_theme()
    peers = set(peers)
    drawn = {name: sorted(points) for name, points in series.items() if points}
    colours = sns.color_palette(PALETTE, max(len(drawn), 1))
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    for colour, (name, points) in zip(colours, drawn.items()):
        x, y = zip(*points)
        ax.plot(x, y, marker="o", label=name, color=colour, linestyle="--" if name in peers else "-")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)
    return fig
