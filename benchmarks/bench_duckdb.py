"""The DuckDB engine: RFM against a hand-written DuckDB query, the pandas path against itself before narwhals,
and the segmentation pipeline from Parquet at sizes pandas cannot hold.

The data is the ecommerce synthetic log, "large" (1,000,000 customers, about 20 million order
lines); generating it is not timed. Each contender runs in its own process (its peak memory is its
own).

1. RFM features (recency, frequency = distinct orders, monetary, average order value, tenure,
   first-to-last days, distinct items) from the order lines of the first customers that make up
   about --lines (10 million) lines, written to one Parquet file:

   - ``pandas_323c0bc``: marketing.features.rfm as of commit 323c0bc (pandas only, before it was
     written in narwhals), loaded from ``git show``; the Parquet file is read into pandas untimed;
   - ``pandas``: marketing.features.rfm today (narwhals) on the same pandas frame;
   - ``duckdb_engine``: marketing.features.rfm on the DuckDB engine's relation over the Parquet file
     (the package's connection), collected with ``.df()``; reading the file is part of the time, as
     it is of the query below (DuckDB reads lazily);
   - ``duckdb_sql``: the same features as one hand-written DuckDB SQL query on the Parquet file, on
     a default ``duckdb.connect()``, collected with ``.df()``.

   Every table is checked against the pandas one: same customers, integers equal, floats to 1e-12.

2. The segmentation pipeline's features on the DuckDB engine (:func:`pipeline`): the canonical
   tables read from Parquet with ``load_data(case, "duckdb", data_path=...)`` (validation and
   cleaning included), ``customer_table`` for the case's segmentation features, then the
   Segmenter on the collected table; time per stage and peak memory. The log is the large one
   repeated with shifted customer ids up to --pipeline-events events.

Usage:
    python benchmarks/bench_duckdb.py [--quick] [--repeats 3] [--lines 10000000]
    python benchmarks/bench_duckdb.py --pipeline-events 20000000 100000000   # the big ones (minutes)
Full mode writes benchmarks/results/duckdb.{json,md}; --quick uses the "small" data, one run each,
and writes nothing.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit, machine, markdown_table, median, peak_rss_gib, run_child, write_results  # noqa: E402

SCRIPT = Path(__file__).resolve()
ROOT = SCRIPT.parents[1]
RFM_METHODS = ("pandas_323c0bc", "pandas", "duckdb_engine", "duckdb_sql")
BEFORE_NARWHALS = "323c0bc"
MICROS_PER_DAY = 86_400_000_000

# what an analyst fluent in DuckDB would write: floored whole days from epoch microseconds
SQL = f"""
SELECT customer_id,
       (epoch_us($end) - epoch_us(max(timestamp))) // {MICROS_PER_DAY} AS recency_days,
       count(DISTINCT order_id) AS frequency,
       sum(amount) AS monetary,
       sum(amount) / count(DISTINCT order_id) AS avg_order_value,
       (epoch_us($end) - epoch_us(min(timestamp))) // {MICROS_PER_DAY} AS tenure_days,
       (epoch_us(max(timestamp)) - epoch_us(min(timestamp))) // {MICROS_PER_DAY} AS first_to_last_days,
       count(DISTINCT item_id) AS n_items
FROM read_parquet($path)
WHERE timestamp < $end
GROUP BY customer_id
"""


# --- children ------------------------------------------------------------------------------------
def _child_rfm(method: str, folder: str) -> None:
    import pandas as pd

    folder = Path(folder)
    path = str(folder / "events.parquet")
    end = pd.Timestamp(json.loads((folder / "meta.json").read_text())["observation_end"])
    if method in ("pandas", "pandas_323c0bc"):
        events = pd.read_parquet(path)
        if method == "pandas":
            from marketing.features import rfm
        else:
            spec = importlib.util.spec_from_file_location("features_323c0bc", folder / "features_323c0bc.py")
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            rfm = module.rfm
        start = time.perf_counter()
        table = rfm(events, end)
    elif method == "duckdb_engine":
        from marketing.duckdb_engine import connection
        from marketing.features import rfm

        start = time.perf_counter()
        table = rfm(connection().read_parquet(path), end).df()
    elif method == "duckdb_sql":
        import duckdb

        start = time.perf_counter()
        table = duckdb.connect().execute(SQL, {"end": end.to_pydatetime(), "path": path}).df()
    else:
        raise SystemExit(f"unknown method {method!r}; choose from {RFM_METHODS}")
    elapsed = time.perf_counter() - start
    if "customer_id" in table.columns:
        table = table.set_index("customer_id")
    table.sort_index().to_parquet(folder / f"rfm-{method}.parquet")
    emit({"method": method, "total_s": round(elapsed, 3), "peak_rss_gib": round(peak_rss_gib(), 3),
          "customers": len(table)})


def _child_pipeline(folder: str, seed: int = 42) -> None:
    from marketing import get_case
    from marketing.engines import load_data
    from marketing.features import customer_table
    from marketing.segmentation import Segmenter

    case = get_case("ecommerce")
    timings = {}
    start = time.perf_counter()
    data = load_data(case, "duckdb", data_path=folder)
    timings["read_validate_clean"] = time.perf_counter() - start
    start = time.perf_counter()
    table = customer_table(data, case.segmentation_features)
    timings["features"] = time.perf_counter() - start
    start = time.perf_counter()
    segmenter = Segmenter(random_state=seed).fit(table)
    timings["segment"] = time.perf_counter() - start
    emit({"events": len(data.events), "customers": len(table), "n_segments": segmenter.n_segments_,
          "timings_s": {k: round(v, 2) for k, v in timings.items()}, "total_s": round(sum(timings.values()), 2),
          "peak_rss_gib": round(peak_rss_gib(), 3)})


# --- parent --------------------------------------------------------------------------------------
def prepare_rfm(size: str, folder: Path, lines: int, seed: int = 42) -> dict:
    """events.parquet: the order lines of the first customers that add up to about ``lines``."""
    import numpy as np

    from marketing import load_case_data

    start = time.perf_counter()
    data = load_case_data("ecommerce", size, seed=seed)
    generate_s = time.perf_counter() - start
    events = data.events[["customer_id", "order_id", "item_id", "timestamp", "amount"]]
    counts = events.groupby("customer_id", sort=True).size()
    keep = counts.index[: int(np.searchsorted(counts.cumsum().to_numpy(), lines)) + 1]
    subset = events.loc[events["customer_id"].isin(keep)]
    folder.mkdir(parents=True, exist_ok=True)
    subset.to_parquet(folder / "events.parquet", index=False, coerce_timestamps="us", allow_truncated_timestamps=True)
    (folder / "meta.json").write_text(json.dumps({"observation_end": str(data.observation_end)}))
    old = subprocess.run(["git", "-C", str(ROOT), "show", f"{BEFORE_NARWHALS}:marketing/features.py"],
                         capture_output=True, text=True, check=True).stdout
    (folder / "features_323c0bc.py").write_text(old)
    return {"generate_s_untimed": round(generate_s, 1), "rfm_lines": len(subset), "rfm_customers": len(keep)}


def prepare_pipeline(folder: Path, events: int, size: str = "large", seed: int = 42) -> dict:
    """The canonical tables as Parquet, the generated log repeated with shifted ids up to ``events`` lines."""
    import duckdb

    from marketing import load_case_data
    from marketing.spark.data import write_tables

    data = load_case_data("ecommerce", size, seed=seed)
    base = folder / "base"
    write_tables(data, base)
    copies = -(-events // len(data.events))
    shift = int(data.customers["customer_id"].max()) + 1
    con = duckdb.connect()
    folder.mkdir(parents=True, exist_ok=True)
    # copy k is the same customers under ids shifted by k * shift: a bigger population, same shape;
    # the customers kept are those with events in the (cut) log, as in the generated data
    copy = "SELECT * REPLACE (customer_id + k * {shift} AS customer_id) FROM read_parquet('{path}'), range({copies}) AS r(k)"
    con.execute(f"COPY ({copy.format(shift=shift, path=base / 'events.parquet', copies=copies)} LIMIT {events}) "
                f"TO '{folder / 'events.parquet'}' (FORMAT parquet)")
    con.execute(f"COPY (SELECT * FROM ({copy.format(shift=shift, path=base / 'customers.parquet', copies=copies)}) "
                f"SEMI JOIN read_parquet('{folder / 'events.parquet'}') USING (customer_id)) "
                f"TO '{folder / 'customers.parquet'}' (FORMAT parquet)")
    (base / "items.parquet").rename(folder / "items.parquet")
    return {"events": events, "copies_of_the_large_log": copies}


def check_equal(folder: Path, method: str) -> dict:
    """Does a contender's RFM table equal the pandas path's on every customer?"""
    import numpy as np
    import pandas as pd

    ours = pd.read_parquet(folder / "rfm-pandas.parquet")
    theirs = pd.read_parquet(folder / f"rfm-{method}.parquet")[list(ours.columns)]
    same_customers = bool(ours.index.equals(theirs.index))
    integers = [c for c in ours if not pd.api.types.is_float_dtype(ours[c])]
    floats = [c for c in ours if c not in integers]
    exact = same_customers and bool((ours[integers].to_numpy() == theirs[integers].to_numpy()).all())
    worst = float(np.max(np.abs(ours[floats].to_numpy() - theirs[floats].to_numpy()) /
                         np.maximum(1.0, np.abs(ours[floats].to_numpy())))) if same_customers else None
    return {"same_customers": same_customers, "integers_equal": exact, "max_relative_float_difference": worst,
            "equal": bool(exact and worst is not None and worst < 1e-12)}


def run_rfm(size: str, repeats: int, lines: int) -> dict:
    result = {"machine": machine(), "data_size": size}
    with tempfile.TemporaryDirectory(prefix="bench-duckdb-") as tmp:
        folder = Path(tmp)
        result["data"] = prepare_rfm(size, folder, lines)
        print(json.dumps(result["data"]), flush=True)
        # the contenders take turns (round r runs each once, in a rotated order), so a change of
        # the machine's load during the run falls on all of them rather than on one
        records = {method: [] for method in RFM_METHODS}
        for r in range(repeats):
            for method in RFM_METHODS[r % len(RFM_METHODS):] + RFM_METHODS[: r % len(RFM_METHODS)]:
                records[method].append(run_child(SCRIPT, ["rfm", method, tmp]))
        runs = {}
        for method, done in records.items():
            runs[method] = {**done[0], "total_s": round(median(d["total_s"] for d in done), 3),
                            "total_s_runs": [d["total_s"] for d in done], "repeats": repeats,
                            "peak_rss_gib": max(d["peak_rss_gib"] for d in done)}
            print(json.dumps(runs[method]), flush=True)
        for method in RFM_METHODS:
            if method != "pandas":
                runs[method]["agrees_with_pandas"] = check_equal(folder, method)
    result["rfm"] = runs
    result["ratios"] = {
        "pandas_now_over_323c0bc": round(runs["pandas"]["total_s"] / runs["pandas_323c0bc"]["total_s"], 3),
        "duckdb_engine_over_hand_sql": round(runs["duckdb_engine"]["total_s"] / runs["duckdb_sql"]["total_s"], 3),
    }
    result["machine_at_end"] = machine()
    return result


def run_pipeline(sizes: list[int]) -> list[dict]:
    rows = []
    for events in sizes:
        with tempfile.TemporaryDirectory(prefix="bench-duckdb-pipeline-") as tmp:
            prepared = prepare_pipeline(Path(tmp), events, size="medium" if events <= 1_000_000 else "large")
            rows.append({**prepared, **run_child(SCRIPT, ["pipeline", tmp])})
            print(json.dumps(rows[-1]), flush=True)
    return rows


def markdown(result: dict) -> str:
    rows = [{"method": m, **r, **r.get("agrees_with_pandas", {})} for m, r in result["rfm"].items()]
    lines = [
        "# DuckDB engine benchmark", "",
        f"RFM on {result['data']['rfm_lines']:,} ecommerce order lines ({result['data']['rfm_customers']:,} customers), "
        f"median of {rows[0]['repeats']} runs, each in its own process, the contenders taking turns.", "",
        markdown_table(rows, ["method", "total_s", "total_s_runs", "peak_rss_gib", "customers", "integers_equal",
                              "max_relative_float_difference"]),
        "",
        f"pandas now / at {BEFORE_NARWHALS}: **{result['ratios']['pandas_now_over_323c0bc']}**; "
        f"DuckDB engine / hand-written SQL: **{result['ratios']['duckdb_engine_over_hand_sql']}**.",
        "", f"Machine: {json.dumps(result['machine'])}; at the end: {json.dumps(result['machine_at_end'])}",
    ]
    if result.get("pipeline"):
        lines += ["", "## Segmentation pipeline on the DuckDB engine, from Parquet", "",
                  markdown_table([{**r, **r["timings_s"]} for r in result["pipeline"]],
                                 ["events", "customers", "read_validate_clean", "features", "segment", "total_s",
                                  "peak_rss_gib"])]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict | None:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        kind, *args = argv[1:]
        {"rfm": _child_rfm, "pipeline": _child_pipeline}[kind](*args)
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small data, one run, nothing written")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--lines", type=int, default=10_000_000, help="order lines of the RFM comparison")
    parser.add_argument("--pipeline-events", type=int, nargs="*", default=[],
                        help="also run the segmentation pipeline from Parquet at these sizes (e.g. 20000000 100000000)")
    parser.add_argument("--pipeline-only", action="store_true", help="skip the RFM comparison")
    args = parser.parse_args(argv)
    if args.quick:
        result = run_rfm("small", 1, args.lines)
        print(markdown(result))
        return result
    result = {} if args.pipeline_only else run_rfm("large", args.repeats, args.lines)
    if args.pipeline_events:
        result["pipeline"] = run_pipeline(args.pipeline_events)
    if args.pipeline_only:
        print(json.dumps(result, indent=1))
        return
    write_results("duckdb", result, markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
