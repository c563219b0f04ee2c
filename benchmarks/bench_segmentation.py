"""Segmenting a million customers: features, the k search on a sample, mini-batch k-means, profiles.

The data (a case's synthetic event log) is generated first and is not timed. The timed stages:

- ``features``: RFM features per customer from the event log (marketing.features.customer_table);
- ``segment``: log transform and scaling, the k search (k-means on a sample of 20,000 customers,
  silhouette on 5,000 of them) and the final k-means on every customer (mini-batch above 100,000);
- ``profiles``: segment profiles, names, playbook actions and the audience table;
- ``stability`` (reported apart from the total): bootstrap refits on 20,000-customer samples.

Memory: the process's peak resident set size after generating the data and after the timed
stages, and the peak of memory allocated by the timed stages themselves (tracemalloc, measured
on a second, untimed pass because tracing slows allocation-heavy code down).

For comparison, the same run's ``baseline_full_kmeans`` is what a user would otherwise pick:
scikit-learn's KMeans (n_init=10) on every customer at the chosen k. A silhouette on every
customer is not attempted: it needs all n^2 pairwise distances (10^12 for a million).

Usage: python benchmarks/bench_segmentation.py [--quick] [--case ecommerce] [--no-baseline]
Full mode uses "large" data and writes benchmarks/results/segmentation.json; --quick uses
"small" data, prints the same JSON and writes nothing.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import sys
import time
import tracemalloc
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def _rss_gib() -> float:
    # ru_maxrss is in KiB on Linux (bytes on macOS)
    scale = 2**30 if sys.platform == "darwin" else 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


def run(case_name: str, size: str, seed: int, baseline: bool) -> dict:
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
        audience = audience_table(table.index, segmenter.labels_, actions)
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
    stability_ari = float(stability(segmenter, n_runs=5, random_state=seed).mean())
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


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small data, seconds; writes nothing")
    parser.add_argument("--case", default="ecommerce", help="case study (default ecommerce)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--no-baseline", action="store_true", help="skip the full-data KMeans comparison"
    )
    args = parser.parse_args(argv)
    size = "small" if args.quick else "large"
    result = run(args.case, size, args.seed, baseline=not args.no_baseline)
    print(json.dumps(result, indent=1))
    if not args.quick:
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "segmentation.json").write_text(json.dumps(result, indent=1) + "\n")
    return result


if __name__ == "__main__":
    main()
