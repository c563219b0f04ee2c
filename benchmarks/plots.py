"""A plot per benchmark family with a size axis: time against size, log-log, a line per contender.

Each family's plot is drawn from its results JSON in benchmarks/results/ (never by re-running
anything) into results/<family>.png. The benchmark scripts call :func:`plot_family` after writing
their results in full mode, so ``make bench`` regenerates the plots; to regenerate every plot from
the committed JSON files:

    python benchmarks/plots.py            # or: python -m benchmarks.plots; names for a subset

Families without a size axis (reports, startup, clv, segmentation, duckdb's RFM comparison,
rewrite: each contender is measured at one size) have no plot.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, machine_label, plot_times  # noqa: E402

Series = dict[str, list[tuple[float, float]]]


def recommend(results: list[dict]) -> dict:
    (result,) = results
    series: Series = {}
    for size in result["sizes"]:
        for method, run in size["runs"].items():
            if run.get("total_s") is not None:
                series.setdefault(method, []).append((size["data"]["customers"], run["total_s"]))
    return {
        "series": series,
        "peers": [m for m in series if m.startswith(("implicit", "naive"))],
        "xlabel": "customers (log scale; items: 300, 3,000, then 20,000)",
        "ylabel": "fit + top-10 for every customer (s, log scale)",
        "title": "Collaborative filtering: fit + top-10 for every customer,\nours (solid) and the peers (dashed); "
                 f"{machine_label(result.get('machine'))}",
    }


def generate(results: list[dict]) -> dict:
    (result,) = results
    series: Series = {}
    for run in result["runs"]:
        series.setdefault(run["case"], []).append((run["events"], run["generate_s"]))
    return {
        "series": series,
        "xlabel": "events generated (log scale; sizes small, medium, large)",
        "ylabel": "generation time (s, log scale)",
        "title": "Synthetic data: generating each case's tables, one run per size\n(no peer); "
                 f"{machine_label(result.get('machine'))}",
    }


def spark(results: list[dict]) -> dict:
    names = {"pandas": "pandas engine", "spark": "Spark engine (local mode)"}
    # a size measured in several runs (results/spark.json and spark_large.json) is drawn from the newest
    newest: dict[tuple, tuple] = {}
    for result in sorted(results, key=lambda r: r.get("machine", {}).get("date", "")):
        for run in result["runs"]:
            if run.get("pipeline") == "segmentation" and run.get("total_s") is not None:
                newest[(run["engine"], run["events"])] = (run["events"], run["total_s"])
    series: Series = {}
    for (engine, _), point in sorted(newest.items()):
        series.setdefault(names.get(engine, engine), []).append(point)
    dates = sorted({machine_label(r.get("machine")) for r in results})
    return {
        "series": series,
        "xlabel": "events in the log (log scale)",
        "ylabel": "read + clean, features, k-means, profiles (s, log)",
        "title": "Segmentation pipeline, pandas and Spark local engines (pandas runs while\n"
                 f"it fits in memory); {'; '.join(dates)}",
    }


def duckdb_pipeline(results: list[dict]) -> dict:
    stages = {"pipeline": "segmentation pipeline", "regression": "regression features"}
    engines = {"duckdb": "DuckDB engine", "pandas": "pandas engine"}
    series: Series = {}
    for result in results:
        for run in result.get("pipeline", []):
            if run.get("total_s") is not None:
                name = f"{engines.get(run['engine'], run['engine'])}: {stages.get(run['stage'], run['stage'])}"
                series.setdefault(name, []).append((run["events"], run["total_s"]))
    dates = sorted({machine_label(r.get("machine")) for r in results})
    return {
        "series": series,
        "peers": [name for name in series if name.startswith("pandas")],
        "xlabel": "events in the Parquet log (log scale)",
        "ylabel": "total of the stages (s, log scale)",
        "title": "From Parquet: segmentation pipeline and regression features, DuckDB (solid)\n"
                 f"and pandas (dashed, run at 20M events only), one run each\n{'; '.join(dates)}",
    }


#: family -> (the results files it is drawn from, in results/; what to draw)
FAMILIES: dict[str, tuple[str, Callable[[list[dict]], dict]]] = {
    "recommend": ("recommend.json", recommend),
    "generate": ("generate.json", generate),
    "spark": ("spark*.json", spark),
    "duckdb_pipeline": ("duckdb_pipeline*.json", duckdb_pipeline),
}


def plot_results(family: str, results: list[dict], path: Path | None):
    """Draw ``family``'s plot from its results dicts into ``path``; returns the Figure."""
    spec = FAMILIES[family][1](results)
    return plot_times(spec.pop("series"), path, **spec)


def plot_family(family: str, results_dir: Path = RESULTS, out_dir: Path | None = None):
    """Draw results_dir/<family>.png (or out_dir/<family>.png) from the family's JSON files there."""
    pattern = FAMILIES[family][0]
    files = sorted(results_dir.glob(pattern))
    if not files:
        raise FileNotFoundError(f"no {pattern} in {results_dir}")
    results = [json.loads(f.read_text()) for f in files]
    return plot_results(family, results, (out_dir or results_dir) / f"{family}.png")


def main(argv: list[str] | None = None) -> int:
    names = (sys.argv[1:] if argv is None else argv) or list(FAMILIES)
    unknown = [n for n in names if n not in FAMILIES]
    if unknown:
        print(f"no plot for {', '.join(unknown)}; families with a size axis: {', '.join(FAMILIES)}", file=sys.stderr)
        return 2
    for name in names:
        plot_family(name)
        print(f"wrote {RESULTS / name}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
