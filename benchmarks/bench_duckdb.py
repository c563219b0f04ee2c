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
   - ``pandas``: marketing.features.rfm today on the same pandas frame: the pandas engine, which
     moves the log's columns to Polars for the aggregation (marketing.frames.to_polars) and hands
     back pandas; importing Polars and the conversions both ways are part of its time;
   - ``duckdb_engine``: marketing.features.rfm on the DuckDB engine's relation over the Parquet file
     (the package's connection), collected with ``.df()``; reading the file is part of the time, as
     it is of the query below (DuckDB reads lazily);
   - ``duckdb_sql``: the same features as one hand-written DuckDB SQL query on the Parquet file, on
     a default ``duckdb.connect()``, collected with ``.df()``;
   - ``polars``: the same features as one hand-written Polars lazy query (``scan_parquet``, filter,
     ``group_by``), collected and converted with ``.to_pandas()``; importing Polars is part of its
     time.

   Every table is checked against the pandas one: same customers, integers equal, floats to 1e-12.

2. The segmentation pipeline and the regression features from Parquet (:func:`run_pipeline`), each
   in its own process: ``pipeline``: the canonical tables read with ``load_data(case, "duckdb",
   data_path=...)`` (validation and cleaning included), ``customer_table`` for the case's
   segmentation features (in DuckDB, collected), the Segmenter at k = 4 on the collected table, then
   segment_profiles + segment_actions + audience_table; ``regression``:
   ``regression_problem(load_data(case, "duckdb", data_path=...))``, the load included. Up to
   --pipeline-pandas-max events the pandas engine runs the same two beside DuckDB
   (``pandas.read_parquet`` + the canonical cleaning, as bench_spark.py does). Time per stage and
   peak memory. The log is the large one repeated with shifted customer ids up to
   --pipeline-events events.

Usage:
    python benchmarks/bench_duckdb.py [--quick] [--repeats 3] [--lines 10000000]
    python benchmarks/bench_duckdb.py --pipeline-only --pipeline-events 20000000 100000000 --name duckdb_pipeline
Full mode writes benchmarks/results/duckdb.{json,md} (or <--name>.{json,md}); --quick uses the "small" data, one run each,
and writes nothing.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit, machine, markdown_table, median, peak_rss_gib, run_child, write_results  # noqa: E402
from plots import FAMILIES, plot_family  # noqa: E402

SCRIPT = Path(__file__).resolve()
ROOT = SCRIPT.parents[1]
RFM_METHODS = ("pandas_323c0bc", "pandas", "duckdb_engine", "duckdb_sql", "polars")
BEFORE_NARWHALS = "323c0bc"
MICROS_PER_DAY = 86_400_000_000
PIPELINE_K = 4

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


def polars_rfm(path: str, end):
    """The SQL above as an analyst fluent in Polars would write it (whole days: every duration here
    is non-negative, so truncation is the SQL's floor)."""
    import polars as pl

    end = pl.lit(end).cast(pl.Datetime("us"))
    orders = pl.col("order_id").n_unique()
    return (
        pl.scan_parquet(path)
        .filter(pl.col("timestamp") < end)
        .group_by("customer_id")
        .agg(
            (end - pl.col("timestamp").max()).dt.total_days().alias("recency_days"),
            orders.alias("frequency"),
            pl.col("amount").sum().alias("monetary"),
            (pl.col("amount").sum() / orders).alias("avg_order_value"),
            (end - pl.col("timestamp").min()).dt.total_days().alias("tenure_days"),
            (pl.col("timestamp").max() - pl.col("timestamp").min()).dt.total_days().alias("first_to_last_days"),
            pl.col("item_id").n_unique().alias("n_items"),
        )
        .collect()
        .to_pandas()
    )


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
    elif method == "polars":
        start = time.perf_counter()
        table = polars_rfm(path, end.to_pydatetime())
    else:
        raise SystemExit(f"unknown method {method!r}; choose from {RFM_METHODS}")
    elapsed = time.perf_counter() - start
    if "customer_id" in table.columns:
        table = table.set_index("customer_id")
    table.sort_index().to_parquet(folder / f"rfm-{method}.parquet")
    emit({"method": method, "total_s": round(elapsed, 3), "peak_rss_gib": round(peak_rss_gib(), 3),
          "customers": len(table)})


def _pandas_read_clean(folder: Path):
    """The pandas engine from the same Parquet files: pandas.read_parquet and the canonical cleaning
    every pandas loader applies (as benchmarks/bench_spark.py does)."""
    import dataclasses

    import pandas as pd

    from marketing import get_case
    from marketing.datasets.canonical import to_canonical

    columns = ("order_id", "customer_id", "item_id", "timestamp", "quantity", "amount")
    canonical = dataclasses.replace(get_case("ecommerce"), tables={
        "customers": {"table": "customers", "id": "customer_id"},
        "items": {"table": "items", "id": "item_id"},
        "events": {"table": "events", "columns": {c: c for c in columns}},
    })
    tables = {name: pd.read_parquet(folder / f"{name}.parquet") for name in ("events", "customers", "items")}
    end = json.loads((folder / "meta.json").read_text())["observation_end"]
    return to_canonical(canonical, tables, observation_end=pd.Timestamp(end), source=str(folder))


def _load(engine: str, folder: str):
    from marketing import get_case
    from marketing.engines import load_data

    if engine == "duckdb":
        return load_data(get_case("ecommerce"), "duckdb", data_path=folder)
    return _pandas_read_clean(Path(folder))


def _child_pipeline(folder: str, engine: str = "duckdb", seed: int = 42) -> None:
    """read + validate + clean, customer_table (RFM; in DuckDB on the DuckDB engine, collected),
    Segmenter (k = 4) on the collected table, profiles + actions + audience."""
    from marketing import get_case
    from marketing.features import customer_table
    from marketing.segmentation import Segmenter, audience_table, segment_actions, segment_profiles

    case = get_case("ecommerce")
    timings = {}
    start = time.perf_counter()
    data = _load(engine, folder)
    timings["read_validate_clean"] = time.perf_counter() - start
    start = time.perf_counter()
    table = customer_table(data, case.segmentation_features)
    timings["features"] = time.perf_counter() - start
    start = time.perf_counter()
    segmenter = Segmenter(n_segments=PIPELINE_K, random_state=seed).fit(table)
    timings["segment"] = time.perf_counter() - start
    start = time.perf_counter()
    profiles = segment_profiles(table, segmenter.labels_)
    audience = audience_table(table, segmenter.labels_, segment_actions(profiles, case))
    timings["profiles"] = time.perf_counter() - start
    emit({"engine": engine, "events": len(data.events), "customers": len(table), "n_segments": segmenter.n_segments_,
          "audience_rows": len(audience),
          "totals": {"recency_days": int(table["recency_days"].sum()), "frequency": int(table["frequency"].sum()),
                     "monetary": round(float(table["monetary"].sum()), 2)},
          "segment_shares": [round(float(x), 4) for x in profiles["share"]] if "share" in profiles else None,
          "timings_s": {k: round(v, 2) for k, v in timings.items()}, "total_s": round(sum(timings.values()), 2),
          "peak_rss_gib": round(peak_rss_gib(), 3)})


def _child_regression(folder: str, engine: str = "duckdb") -> None:
    """The regression features: regression_problem(load_data(case, engine, data_path=...)), load included."""
    from marketing.regression import regression_problem

    timings = {}
    start = time.perf_counter()
    data = _load(engine, folder)
    timings["read_validate_clean"] = time.perf_counter() - start
    start = time.perf_counter()
    problem = regression_problem(data)
    timings["regression_problem"] = time.perf_counter() - start
    emit({"engine": engine, "events": len(data.events), "rows": len(problem.table),
          "feature_columns": len(problem.feature_columns),
          "target_sums": {kind: round(float(target.sum()), 2) for kind, target in problem.targets.items()},
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
    (folder / "meta.json").write_text(json.dumps({"observation_end": str(data.observation_end)}))
    shutil.rmtree(base)
    return {"events": events, "copies_of_the_large_log": copies,
            "parquet_gib": round(sum(f.stat().st_size for f in folder.glob("*.parquet")) / 2**30, 2)}


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
        methods = list(RFM_METHODS)
        records = {method: [] for method in methods}
        for r in range(repeats):
            for method in methods[r % len(methods):] + methods[: r % len(methods)]:
                records[method].append(run_child(SCRIPT, ["rfm", method, tmp]))
        runs = {}
        for method, done in records.items():
            runs[method] = {**done[0], "total_s": round(median(d["total_s"] for d in done), 3),
                            "total_s_runs": [d["total_s"] for d in done], "repeats": repeats,
                            "peak_rss_gib": max(d["peak_rss_gib"] for d in done)}
            print(json.dumps(runs[method]), flush=True)
        for method in methods:
            if method != "pandas":
                runs[method]["agrees_with_pandas"] = check_equal(folder, method)
    result["rfm"] = runs
    peers = {m: runs[m]["total_s"] for m in ("duckdb_sql", "polars") if m in runs}
    fastest = min(peers, key=peers.get)
    result["ratios"] = {
        "pandas_now_over_323c0bc": round(runs["pandas"]["total_s"] / runs["pandas_323c0bc"]["total_s"], 3),
        "duckdb_engine_over_hand_sql": round(runs["duckdb_engine"]["total_s"] / runs["duckdb_sql"]["total_s"], 3),
        "fastest_peer": fastest,
        "pandas_over_fastest_peer": round(runs["pandas"]["total_s"] / peers[fastest], 3),
    }
    result["machine_at_end"] = machine()
    return result


def run_pipeline(sizes: list[int], pandas_max: int, repeats: int = 1) -> list[dict]:
    """Per size: the segmentation pipeline and the regression features on DuckDB (and on pandas up to
    ``pandas_max`` events), each in its own process, ``repeats`` rounds taking turns."""
    rows = []
    for events in sizes:
        with tempfile.TemporaryDirectory(prefix="bench-duckdb-pipeline-") as tmp:
            start = time.perf_counter()
            prepared = prepare_pipeline(Path(tmp), events, size="medium" if events <= 1_000_000 else "large")
            prepared["prepare_s_untimed"] = round(time.perf_counter() - start, 1)
            print(json.dumps(prepared), flush=True)
            engines = ("duckdb", "pandas") if events <= pandas_max else ("duckdb",)
            jobs = [(kind, engine) for engine in engines for kind in ("pipeline", "regression")]
            done = {job: [] for job in jobs}
            for r in range(repeats):
                for job in (jobs if r % 2 == 0 else jobs[::-1]):
                    load = [round(x, 2) for x in os.getloadavg()]
                    record = run_child(SCRIPT, [job[0], tmp, job[1]])
                    record["load_average_before"] = load
                    done[job].append(record)
                    print(json.dumps(record), flush=True)
            for (kind, engine), runs in done.items():
                record = {**prepared, "stage": kind, **runs[0], "runs": len(runs),
                          "total_s": round(median(d["total_s"] for d in runs), 2),
                          "total_s_runs": [d["total_s"] for d in runs],
                          "peak_rss_gib": max(d["peak_rss_gib"] for d in runs),
                          "timings_s": {s: round(median(d["timings_s"][s] for d in runs), 2) for s in runs[0]["timings_s"]},
                          "load_average_before_runs": [d["load_average_before"] for d in runs]}
                rows.append(record)
            rows[-1]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    return rows


def pipeline_markdown(rows: list[dict]) -> list[str]:
    seg = [{**r, **r["timings_s"]} for r in rows if r["stage"] == "pipeline"]
    reg = [{**r, **r["timings_s"]} for r in rows if r["stage"] == "regression"]
    return ["", f"## Segmentation pipeline from Parquet (read + validate + clean, customer table, k-means k = {PIPELINE_K}, "
            "profiles + actions + audience)", "",
            markdown_table(seg, ["engine", "events", "customers", "runs", "read_validate_clean", "features", "segment",
                                 "profiles", "total_s", "total_s_runs", "peak_rss_gib", "load_average_before_runs"]),
            "", "Agreement: " + "; ".join(f"{r['engine']} {r['events']:,}: totals {json.dumps(r['totals'])}, "
                                          f"segment shares {r['segment_shares']}" for r in seg),
            "", "## Regression features from Parquet: regression_problem(load_data(case, engine, data_path=...))", "",
            markdown_table(reg, ["engine", "events", "rows", "feature_columns", "runs", "read_validate_clean",
                                 "regression_problem", "total_s", "total_s_runs", "peak_rss_gib",
                                 "load_average_before_runs"]),
            "", "Agreement: " + "; ".join(f"{r['engine']} {r['events']:,}: {r['rows']:,} rows, target sums {json.dumps(r['target_sums'])}"
                                          for r in reg)]


def markdown(result: dict) -> str:
    if "rfm" not in result:
        return "\n".join(["# DuckDB engine benchmark: the pipeline from Parquet", "",
                          f"Machine: {json.dumps(result['machine'])}; at the end: {json.dumps(result['machine_at_end'])}",
                          *pipeline_markdown(result["pipeline"])])
    rows = [{"method": m, **r, **r.get("agrees_with_pandas", {})} for m, r in result["rfm"].items()]
    lines = [
        "# DuckDB engine benchmark", "",
        f"RFM on {result['data']['rfm_lines']:,} ecommerce order lines ({result['data']['rfm_customers']:,} customers), "
        f"median of {rows[0]['repeats']} runs, each in its own process, the contenders taking turns.", "",
        markdown_table(rows, ["method", "total_s", "total_s_runs", "peak_rss_gib", "customers", "integers_equal",
                              "max_relative_float_difference"]),
        "",
        f"pandas now / at {BEFORE_NARWHALS}: **{result['ratios']['pandas_now_over_323c0bc']}**; "
        f"DuckDB engine / hand-written SQL: **{result['ratios']['duckdb_engine_over_hand_sql']}**; "
        f"pandas path / the fastest hand-written peer ({result['ratios']['fastest_peer']}): "
        f"**{result['ratios']['pandas_over_fastest_peer']}**.", "",
        "The pandas path aggregates on Polars (marketing.frames.to_polars) with exact sums "
        "(marketing.frames.exact_sum: the correctly rounded sum, the same on every thread count); the "
        "others' float columns differ from it by the relative amount shown (their order of adding).",
        *([f"Skipped: {json.dumps(result['skipped'])}."] if result.get("skipped") else []),
        "", f"Machine: {json.dumps(result['machine'])}; at the end: {json.dumps(result['machine_at_end'])}",
    ]
    if result.get("pipeline"):
        lines += pipeline_markdown(result["pipeline"])
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict | None:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        kind, *args = argv[1:]
        {"rfm": _child_rfm, "pipeline": _child_pipeline, "regression": _child_regression}[kind](*args)
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small data, one run, nothing written")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--lines", type=int, default=10_000_000, help="order lines of the RFM comparison")
    parser.add_argument("--pipeline-events", type=int, nargs="*", default=[],
                        help="also run the segmentation pipeline from Parquet at these sizes (e.g. 20000000 100000000)")
    parser.add_argument("--pipeline-only", action="store_true", help="skip the RFM comparison")
    parser.add_argument("--pipeline-pandas-max", type=int, default=20_000_000,
                        help="the pandas engine runs beside DuckDB up to this many events")
    parser.add_argument("--pipeline-repeats", type=int, default=1)
    parser.add_argument("--name", default="duckdb", help="results/<name>.{json,md}")
    args = parser.parse_args(argv)
    if args.quick:
        result = run_rfm("small", 1, args.lines)
        print(markdown(result))
        return result
    result = {"machine": machine()} if args.pipeline_only else run_rfm("large", args.repeats, args.lines)
    if args.pipeline_events:
        result["pipeline"] = run_pipeline(args.pipeline_events, args.pipeline_pandas_max, args.pipeline_repeats)
        result["machine_at_end"] = machine()
    if args.pipeline_only and not args.pipeline_events:
        return
    write_results(args.name, result, markdown(result))
    # the RFM comparison has one size (no plot); the pipeline's sizes are drawn from every
    # results/duckdb_pipeline*.json, this run's among them when its name matches
    if Path(f"{args.name}.json").match(FAMILIES["duckdb_pipeline"][0]):
        plot_family("duckdb_pipeline")
    print(markdown(result))


if __name__ == "__main__":
    main()
