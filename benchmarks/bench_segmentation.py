"""Segmentation at scale: RFM features from 10 million transactions, and k-means on a million customers.

The data is the ecommerce synthetic log, "large" (1,000,000 customers, about 20 million order
lines); generating it is not timed. Two comparisons, each contender in its own process (its peak
memory is its own; reading the input from a Parquet / .npy file is not timed):

1. RFM features (recency, frequency = distinct orders, monetary, average order value, tenure,
   first-to-last days, distinct items) from the order lines of the first customers that make up
   about 10 million lines:

   - ``marketing``: marketing.features.rfm (one vectorized groupby().agg);
   - ``duckdb``: the same aggregation as one DuckDB SQL query, returned as a pandas DataFrame (the
     fast reference; skipped with a note when duckdb, from the ``bench`` extra, is not installed);
   - ``pandas_apply``: ``groupby("customer_id").apply(f)`` with a Python function per customer, the
     common tutorial way. It is slow, so it runs once on a sample of --apply-customers customers and
     its time is extrapolated linearly to all of them (its cost is per customer).

   Every peer's table is checked against ours: same customers, equal values (floats to 1e-9).

2. k-means on every customer's scaled RFM features (the package's SegmentPreprocessor), k = 4:

   - ``marketing``: the final fit of marketing.segmentation.Segmenter: above 100,000 customers, the
     best of 10 k-means runs on 20,000 of them gives the starting centres of one k-means run on all;
   - ``minibatch``: MiniBatchKMeans(n_init=3, batch_size=4096), what Segmenter used before the
     benchmark showed it slower;
   - ``kmeans``: scikit-learn KMeans(n_init=10), the full algorithm a user would otherwise pick;
   - ``kmeans_1_init``: KMeans(n_init=1).

   Agreement: adjusted Rand index (ARI) of each labelling with full k-means and with the planted
   segments; inertia (within-cluster sum of squares) per customer.

3. The whole pipeline (features, k search on a sample, final k-means, profiles) on the million
   customers, once, against scikit-learn's KMeans(n_init=10) on every customer at the same k.

Usage: python benchmarks/bench_segmentation.py [--quick] [--repeats 3] [--pipeline-only]
Full mode writes benchmarks/results/segmentation.{json,md}; --quick uses the "small" data, one
run each, and writes nothing.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit, has_module, machine, markdown_table, peak_rss_gib, repeat_child, write_results  # noqa: E402

SCRIPT = Path(__file__).resolve()
K = 4
RFM_METHODS = ("marketing", "duckdb", "pandas_apply")
KMEANS_METHODS = ("marketing", "minibatch", "kmeans", "kmeans_1_init")
TARGET_LINES = 10_000_000

_SQL = """
SELECT customer_id,
       date_diff('day', max(timestamp), $end) - (CASE WHEN max(timestamp) + to_days(date_diff('day', max(timestamp), $end)) > $end THEN 1 ELSE 0 END) AS recency_days,
       count(DISTINCT order_id) AS frequency,
       sum(amount) AS monetary,
       sum(amount) / count(DISTINCT order_id) AS avg_order_value,
       date_diff('day', min(timestamp), $end) - (CASE WHEN min(timestamp) + to_days(date_diff('day', min(timestamp), $end)) > $end THEN 1 ELSE 0 END) AS tenure_days,
       date_diff('day', min(timestamp), max(timestamp)) - (CASE WHEN min(timestamp) + to_days(date_diff('day', min(timestamp), max(timestamp))) > max(timestamp) THEN 1 ELSE 0 END) AS first_to_last_days,
       count(DISTINCT item_id) AS n_items
FROM events
WHERE timestamp < $end
GROUP BY customer_id
ORDER BY customer_id
"""


def _rfm_apply(group):
    """One customer's RFM, the way tutorials write it (called once per customer)."""
    import pandas as pd

    end = _rfm_apply.end  # set by the child before the apply
    first, last = group["timestamp"].min(), group["timestamp"].max()
    frequency = group["order_id"].nunique()
    monetary = group["amount"].sum()
    return pd.Series({
        "recency_days": (end - last).days,
        "frequency": frequency,
        "monetary": monetary,
        "avg_order_value": monetary / frequency,
        "tenure_days": (end - first).days,
        "first_to_last_days": (last - first).days,
        "n_items": group["item_id"].nunique(),
    })


# --- children ------------------------------------------------------------------------------------
def _child_rfm(method: str, folder: str) -> None:
    import pandas as pd

    folder = Path(folder)
    events = pd.read_parquet(folder / "events.parquet")
    end = pd.Timestamp(json.loads((folder / "meta.json").read_text())["observation_end"])
    extra = {}
    if method == "marketing":
        from marketing.features import rfm

        start = time.perf_counter()
        table = rfm(events, end)
    elif method == "duckdb":
        import duckdb

        start = time.perf_counter()
        con = duckdb.connect()
        con.register("events", events)
        table = con.execute(_SQL, {"end": end.to_pydatetime()}).df().set_index("customer_id")
    elif method == "pandas_apply":
        sample = json.loads((folder / "meta.json").read_text())["apply_customers"]
        events = events.loc[events["customer_id"].isin(events["customer_id"].unique()[:sample])]
        _rfm_apply.end = end
        start = time.perf_counter()
        table = events.groupby("customer_id")[["timestamp", "order_id", "amount", "item_id"]].apply(_rfm_apply)
        extra["customers_computed"] = len(table)
    else:
        raise SystemExit(f"unknown method {method!r}; choose from {RFM_METHODS}")
    elapsed = time.perf_counter() - start
    table.to_parquet(folder / f"rfm-{method}.parquet")
    emit({"method": method, "total_s": round(elapsed, 3), "peak_rss_gib": round(peak_rss_gib(), 3),
          "customers": len(table), **extra})


def _child_kmeans(method: str, folder: str) -> None:
    import numpy as np
    from sklearn.cluster import KMeans, MiniBatchKMeans

    X = np.load(Path(folder) / "X.npy")
    models = {
        "minibatch": lambda: MiniBatchKMeans(K, n_init=3, batch_size=4096, random_state=42),
        "kmeans": lambda: KMeans(K, n_init=10, random_state=42),
        "kmeans_1_init": lambda: KMeans(K, n_init=1, random_state=42),
    }
    start = time.perf_counter()
    if method == "marketing":
        from marketing.segmentation.clustering import _fit_predict

        # the final fit of Segmenter(method="kmeans") at the chosen k (seeded from a sample above
        # 100,000 customers); its k search is not part of this comparison
        labels = _fit_predict(X, X, "kmeans", K, 42, 10, 5)
        elapsed = time.perf_counter() - start
        centres = np.vstack([X[labels == j].mean(axis=0) for j in range(K)])
        inertia = float(((X - centres[labels]) ** 2).sum())
    else:
        model = models[method]().fit(X)
        labels = model.predict(X)
        elapsed = time.perf_counter() - start
        inertia = float(model.inertia_)
    np.save(Path(folder) / f"labels-{method}.npy", labels)
    emit({"method": method, "total_s": round(elapsed, 3), "peak_rss_gib": round(peak_rss_gib(), 3),
          "inertia_per_customer": round(inertia / len(X), 4)})


# --- the whole pipeline (one process) ---------------------------------------------------------
def _rss_gib() -> float:
    import resource

    # ru_maxrss is in KiB on Linux (bytes on macOS)
    scale = 2**30 if sys.platform == "darwin" else 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


def pipeline(case_name: str, size: str, seed: int, baseline: bool) -> dict:
    """The whole Segmenter pipeline on one case (features, k search and fit, profiles), in this process."""
    import pandas as pd
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score

    from marketing import get_case, load_case_data
    from marketing.features import customer_table
    from marketing.segmentation import (
        Segmenter, audience_table, segment_actions, segment_profiles, stability, truth_agreement,
    )

    case = get_case(case_name)
    start = time.perf_counter()
    data = load_case_data(case, size, seed=seed)
    generate_s = time.perf_counter() - start
    rss_data = _rss_gib()

    def stages(timings: dict) -> tuple:
        start = time.perf_counter()
        table = customer_table(data, case.segmentation_features)
        timings["features"] = time.perf_counter() - start

        start = time.perf_counter()
        segmenter = Segmenter(random_state=seed).fit(table)
        timings["segment"] = time.perf_counter() - start

        start = time.perf_counter()
        profiles = segment_profiles(table, segmenter.labels_)
        actions = segment_actions(profiles, case)
        audience = audience_table(table, segmenter.labels_, actions)
        timings["profiles"] = time.perf_counter() - start
        return table, segmenter, audience

    timings: dict[str, float] = {}
    table, segmenter, audience = stages(timings)
    total = sum(timings.values())
    rss_after = _rss_gib()

    # tracemalloc slows allocation-heavy code, so memory is measured on a second, untimed pass
    tracemalloc.start()
    stages({})
    traced_peak = tracemalloc.get_traced_memory()[1] / 2**30
    tracemalloc.stop()

    start = time.perf_counter()
    stability_ari = float(stability(segmenter, table, n_runs=5, random_state=seed).mean())
    timings["stability"] = time.perf_counter() - start

    result = {
        "case": case_name,
        "data_size": size,
        "customers": len(table),
        "events": len(data.events),
        "features": list(case.segmentation_features),
        "generate_s_untimed": round(generate_s, 2),
        "timings_s": {k: round(v, 2) for k, v in timings.items()},
        "total_s": round(total, 2),
        "n_segments": segmenter.n_segments_,
        "silhouette_on_sample": round(segmenter.quality_["silhouette"], 4),
        "stability_ari": round(stability_ari, 4),
        "audience_rows": len(audience),
        "peak_traced_gib_timed_stages": round(traced_peak, 3),
        "peak_rss_gib_after_data": round(rss_data, 3),
        "peak_rss_gib_after_timed_stages": round(rss_after, 3),
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    if data.truth is not None:
        found = pd.Series(segmenter.labels_, index=table.index)
        result["truth_ari"] = round(truth_agreement(found, data.truth.segments)["ari"], 4)
    if baseline:
        start = time.perf_counter()
        full = KMeans(segmenter.n_segments_, n_init=10, random_state=seed).fit(segmenter.X_)
        elapsed = time.perf_counter() - start
        result["baseline_full_kmeans"] = {
            "fit_s": round(elapsed, 2),
            "ratio_to_our_segment_stage": round(elapsed / timings["segment"], 2),
            "ari_with_ours": round(float(adjusted_rand_score(full.labels_, segmenter.labels_)), 4),
        }
    return result



# --- parent --------------------------------------------------------------------------------------
def prepare(size: str, folder: Path, apply_customers: int, seed: int = 42) -> dict:
    """events.parquet (about 10 million lines, or the whole small log) and X.npy (every customer)."""
    import numpy as np

    from marketing import get_case, load_case_data
    from marketing.features import customer_table
    from marketing.segmentation import SegmentPreprocessor

    case = get_case("ecommerce")
    start = time.perf_counter()
    data = load_case_data(case, size, seed=seed)
    generate_s = time.perf_counter() - start
    events = data.events[["customer_id", "order_id", "item_id", "timestamp", "amount"]]
    # the first customers whose lines add up to about TARGET_LINES (all of them when fewer)
    counts = events.groupby("customer_id", sort=True).size()
    keep = counts.index[: int(np.searchsorted(counts.cumsum().to_numpy(), TARGET_LINES)) + 1]
    subset = events.loc[events["customer_id"].isin(keep)]
    folder.mkdir(parents=True, exist_ok=True)
    subset.to_parquet(folder / "events.parquet")
    (folder / "meta.json").write_text(json.dumps({
        "observation_end": str(data.observation_end), "apply_customers": apply_customers}))
    table = customer_table(data, case.segmentation_features)
    X = SegmentPreprocessor().fit_transform(table)
    np.save(folder / "X.npy", np.ascontiguousarray(X))
    np.save(folder / "truth.npy", data.truth.segments.reindex(table.index).to_numpy().astype(str))
    return {"generate_s_untimed": round(generate_s, 1), "rfm_lines": len(subset), "rfm_customers": len(keep),
            "kmeans_customers": int(X.shape[0]), "kmeans_features": list(table.columns)}


def check_equal(folder: Path, method: str) -> dict:
    """Does a peer's RFM table equal ours on the customers it computed?"""
    import numpy as np
    import pandas as pd

    ours = pd.read_parquet(folder / "rfm-marketing.parquet")
    theirs = pd.read_parquet(folder / f"rfm-{method}.parquet")
    same_customers = theirs.index.isin(ours.index).all() and (method == "pandas_apply" or len(theirs) == len(ours))
    ours = ours.loc[theirs.index, list(ours.columns)]
    theirs = theirs[list(ours.columns)]
    worst = float(np.max(np.abs(ours.to_numpy(float) - theirs.to_numpy(float)) /
                         np.maximum(1.0, np.abs(ours.to_numpy(float)))))
    return {"same_customers": bool(same_customers), "max_relative_difference": worst,
            "equal": bool(same_customers and worst < 1e-9)}


def run(size: str, repeats: int, apply_customers: int) -> dict:
    import numpy as np
    from sklearn.metrics import adjusted_rand_score

    result = {"machine": machine(), "data_size": size, "k": K}
    with tempfile.TemporaryDirectory(prefix="bench-segmentation-") as tmp:
        folder = Path(tmp)
        result["data"] = prepare(size, folder, apply_customers)
        print(json.dumps(result["data"]), flush=True)
        rfm_runs, skipped = {}, {}
        for method in RFM_METHODS:
            if method == "duckdb" and not has_module("duckdb"):
                skipped[method] = "duckdb is not installed (it comes with the bench extra: make bench)"
                continue
            # the row-wise apply is slow: one run, on a sample of customers
            n = 1 if method == "pandas_apply" else repeats
            rfm_runs[method] = repeat_child(SCRIPT, ["rfm", method, tmp], n, ("total_s",))
            if method != "marketing":
                rfm_runs[method]["agrees_with_marketing"] = check_equal(folder, method)
            print(json.dumps(rfm_runs[method]), flush=True)
        apply = rfm_runs["pandas_apply"]
        apply["total_s_extrapolated"] = round(
            apply["total_s"] * result["data"]["rfm_customers"] / apply["customers_computed"], 1)
        km_runs = {}
        for method in KMEANS_METHODS:
            km_runs[method] = repeat_child(SCRIPT, ["kmeans", method, tmp], repeats, ("total_s",))
            print(json.dumps(km_runs[method]), flush=True)
        full = np.load(folder / "labels-kmeans.npy")
        truth = np.load(folder / "truth.npy")
        for method, run_ in km_runs.items():
            labels = np.load(folder / f"labels-{method}.npy")
            run_["ari_with_kmeans"] = round(float(adjusted_rand_score(full, labels)), 4)
            run_["ari_with_truth"] = round(float(adjusted_rand_score(truth, labels)), 4)
    best_rfm_peer = "duckdb" if "duckdb" in rfm_runs else "pandas_apply"
    peer_time = rfm_runs[best_rfm_peer].get("total_s_extrapolated", rfm_runs[best_rfm_peer]["total_s"])
    result["rfm"] = {"runs": rfm_runs, "skipped": skipped, "ratios": {
        f"marketing_time_over_{best_rfm_peer}": round(rfm_runs["marketing"]["total_s"] / peer_time, 2),
        f"marketing_memory_over_{best_rfm_peer}": round(
            rfm_runs["marketing"]["peak_rss_gib"] / rfm_runs[best_rfm_peer]["peak_rss_gib"], 2),
        "pandas_apply_extrapolated_over_marketing": round(
            apply["total_s_extrapolated"] / rfm_runs["marketing"]["total_s"], 1),
    }}
    best_peer = min((m for m in km_runs if m != "marketing"), key=lambda m: km_runs[m]["total_s"])
    result["kmeans"] = {"runs": km_runs, "ratios": {
        f"marketing_time_over_{best_peer}": round(km_runs["marketing"]["total_s"] / km_runs[best_peer]["total_s"], 2),
        "minibatch_time_over_kmeans": round(km_runs["minibatch"]["total_s"] / km_runs["kmeans"]["total_s"], 2),
        "minibatch_time_over_kmeans_1_init": round(
            km_runs["minibatch"]["total_s"] / km_runs["kmeans_1_init"]["total_s"], 2),
    }}
    result["machine"]["load_average_at_end"] = machine()["load_average_1_5_15"]
    return result


def markdown(result: dict) -> str:
    data, m = result["data"], result["machine"]
    rfm_rows = [{"method": k, "runs": r["repeats"], "time s": r["total_s"],
                 "time s (all customers)": r.get("total_s_extrapolated", r["total_s"]),
                 "peak GiB": r["peak_rss_gib"],
                 "equals ours": r["agrees_with_marketing"]["equal"] if "agrees_with_marketing" in r else "–"}
                for k, r in result["rfm"]["runs"].items()]
    rfm_rows += [{"method": k, "runs": 0, "time s": why} for k, why in result["rfm"]["skipped"].items()]
    km_rows = [{"method": k, "runs": r["repeats"], "time s": r["total_s"], "peak GiB": r["peak_rss_gib"],
                "inertia / customer": r["inertia_per_customer"], "ARI with k-means": r["ari_with_kmeans"],
                "ARI with truth": r["ari_with_truth"]} for k, r in result["kmeans"]["runs"].items()]
    return "\n".join([
        "# Segmentation at scale",
        "",
        f"Machine: {m['cores']} cores, {m.get('memory_gib')} GiB; load average at the start "
        f"{m['load_average_1_5_15']}. Times are medians over `runs` processes (reading the input not timed).",
        "",
        f"## RFM features from {data['rfm_lines']:,} order lines ({data['rfm_customers']:,} customers)",
        "",
        markdown_table(rfm_rows, ["method", "runs", "time s", "time s (all customers)", "peak GiB", "equals ours"]),
        "",
        "The row-wise `groupby().apply` ran once on a sample of customers; its time for all of them is "
        "extrapolated linearly. Ratios: " + ", ".join(f"{k} {v}" for k, v in result["rfm"]["ratios"].items()),
        "",
        f"## k-means (k = {result['k']}) on {data['kmeans_customers']:,} customers",
        "",
        markdown_table(km_rows, ["method", "runs", "time s", "peak GiB", "inertia / customer",
                                 "ARI with k-means", "ARI with truth"]),
        "",
        "Ratios: " + ", ".join(f"{k} {v}" for k, v in result["kmeans"]["ratios"].items()),
        *_pipeline_markdown(result.get("pipeline")),
    ])


def _pipeline_markdown(p: dict | None) -> list[str]:
    if not p:
        return []
    base = p.get("baseline_full_kmeans", {})
    return [
        "",
        f"## The whole Segmenter pipeline on {p['customers']:,} customers ({p['events']:,} events)",
        "",
        "One run, in one process: " + ", ".join(f"{k} {v} s" for k, v in p["timings_s"].items())
        + f"; total (without stability) {p['total_s']} s; {p['n_segments']} segments, ARI with the planted "
        f"segments {p.get('truth_ari')}, peak memory of the timed stages {p['peak_traced_gib_timed_stages']} GiB "
        f"(tracemalloc). Full-data KMeans(n_init=10) at the same k: {base.get('fit_s')} s, ARI with ours "
        f"{base.get('ari_with_ours')}.",
    ]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small data, one run each; writes nothing")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--apply-customers", type=int, default=20_000,
                        help="customers the row-wise groupby().apply computes (then extrapolated)")
    parser.add_argument("--pipeline-only", dest="pipeline_only", action="store_true",
                        help="only the Segmenter pipeline, without the full-data KMeans baseline or the peers")
    parser.add_argument("--child", nargs=3, metavar=("PART", "METHOD", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        part, method, folder = args.child
        (_child_rfm if part == "rfm" else _child_kmeans)(method, folder)
        return {}
    size = "small" if args.quick else "large"
    if args.pipeline_only:
        result = pipeline("ecommerce", size, 42, baseline=False)
        print(json.dumps(result, indent=1))
        return result
    result = run(size, 1 if args.quick else args.repeats, args.apply_customers)
    if not args.quick:
        # the whole pipeline with the full-data KMeans baseline, in this process (see pipeline())
        result["pipeline"] = pipeline("ecommerce", size, 42, baseline=True)
    print(json.dumps(result, indent=1))
    if not args.quick:
        write_results("segmentation", result, markdown(result))
    return result


if __name__ == "__main__":
    main()
