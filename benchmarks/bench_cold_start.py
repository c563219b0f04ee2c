"""Cold-start models at scale: fit + top-10 for every customer, content-based and hybrid.

The data is the ecommerce synthetic log of benchmarks/bench_recommend.py (binary customer x item
matrices, a seeded 20% of the pairs held out and judged by NDCG@10), "large" = 1,000,000 customers
x 20,000 items; items get seeded attributes (12 categories x a price drawn log-normally, which the
model cuts into 4 quantile bands), customers a region (4 values).

Contenders (each in its own process, so its peak memory is its own):

- ``popularity``: marketing.recommend.PopularityRecommender, the reference;
- ``content``: marketing.recommend.ContentRecommender(item_columns=("category", "price")): the
  16 features give 48 distinct item vectors, so the top 10 is found from customers x 48 scores
  expanded in popularity order (exact), never a customers x items block;
- ``hybrid``: marketing.recommend.HybridRecommender(ItemKNN(20 neighbours), that content model,
  weight="auto"): the fit includes both models and the weight chosen on a training hold-out
  (5 grid values, 20,000 validation customers, both models refitted on the rest).

There are no timestamps in a matrix, so the content model's newness bonus is 0 here (it is learned
from events only). Times are fit plus top-10 (excluding owned items) for every customer; loading
the matrix is not timed.

Usage: python benchmarks/bench_cold_start.py [--quick] [--repeats 1]
Full mode ("large") writes benchmarks/results/cold_start.{json,md}; --quick runs "small" once per
contender and writes nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit, machine, markdown_table, peak_rss_gib, repeat_child, write_results  # noqa: E402
from bench_recommend import build_data  # noqa: E402

SCRIPT = Path(__file__).resolve()
K = 10
NEIGHBOURS = 20
METHODS = ("popularity", "content", "hybrid")
N_CATEGORIES = 12


def attributes(n_items: int, n_users: int, seed: int = 42):
    """Seeded item (category, price) and customer (region) tables for matrix positions."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    items = pd.DataFrame({"item_id": np.arange(n_items),
                          "category": np.array([f"c{i:02d}" for i in range(N_CATEGORIES)])[rng.integers(0, N_CATEGORIES, n_items)],
                          "price": np.round(rng.lognormal(3.0, 0.6, n_items), 2)})
    customers = pd.DataFrame({"customer_id": np.arange(n_users),
                              "region": np.array(["north", "south", "east", "west"])[rng.integers(0, 4, n_users)]})
    return items, customers


def _child(method: str, folder: str) -> None:
    import numpy as np
    import scipy.sparse as sp

    X = sp.load_npz(Path(folder) / "train.npz").tocsr()
    test = sp.load_npz(Path(folder) / "test.npz").tocsr()
    from marketing.recommend import ContentRecommender, HybridRecommender, Interactions, ItemKNN, PopularityRecommender
    from marketing.recommend.metrics import ndcg_at_k

    n_users, n_items = X.shape
    items, customers = attributes(n_items, n_users)
    data = Interactions(X, np.arange(n_users), np.arange(n_items))
    content = ContentRecommender(item_columns=("category", "price"), customer_columns=("region",))
    start = time.perf_counter()
    if method == "popularity":
        model = PopularityRecommender().fit(data)
    elif method == "content":
        model = content.fit(data, items=items, customers=customers)
    else:
        model = HybridRecommender(ItemKNN(n_neighbors=NEIGHBOURS), content).fit(data, items=items, customers=customers)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    top, _ = model.recommend_positions(np.arange(n_users), K)
    recommend_s = time.perf_counter() - start
    record = {"method": method, "fit_s": round(fit_s, 2), "recommend_s": round(recommend_s, 2),
              "total_s": round(fit_s + recommend_s, 2), "peak_rss_gib": round(peak_rss_gib(), 2),
              "ndcg_at_10": round(float(ndcg_at_k(top, test, K)), 4)}
    if method == "hybrid":
        record["weight"] = model.weight_
        record["validation_ndcg"] = model.validation_
    emit(record)


def markdown(result: dict) -> str:
    rows = [{"size": r["size"], "customers": r["customers"], "items": r["items"], "method": m, "runs": run["repeats"],
             "fit s": run["fit_s"], "top-10 s": run["recommend_s"], "total s": run["total_s"],
             "peak GiB": run["peak_rss_gib"], "NDCG@10": run["ndcg_at_10"]}
            for r in result["sizes"] for m, run in r["runs"].items()]
    lines = [
        "# Cold-start models: fit + top-10 for every customer",
        "",
        f"Machine: {result['machine']['cores']} cores, {result['machine'].get('memory_gib')} GiB; load average "
        f"at the start {result['machine']['load_average_1_5_15']}, at the end "
        f"{result['machine'].get('load_average_at_end')} (the machine is shared). Times are medians over `runs` "
        "processes; peak GiB is the largest resident set (the loaded matrix included). NDCG@10 on a seeded 20% "
        "hold-out of the pairs (warm customers: the content models have no cold-start advantage here).",
        "",
        markdown_table(rows, ["size", "customers", "items", "method", "runs", "fit s", "top-10 s", "total s",
                              "peak GiB", "NDCG@10"]),
    ]
    for r in result["sizes"]:
        hybrid = r["runs"].get("hybrid", {})
        if "weight" in hybrid:
            lines += ["", f"Hybrid at {r['size']}: weight {hybrid['weight']} chosen on the training hold-out "
                          f"(validation NDCG@10 per weight: {hybrid['validation_ndcg']})."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small data, one run each, no results file")
    parser.add_argument("--repeats", type=int, default=3, help="runs per contender (median reported)")
    parser.add_argument("--child", nargs=2, metavar=("METHOD", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(*args.child)
        return {}
    label = "small" if args.quick else "large"
    result = {"machine": machine(), "k": K, "neighbours": NEIGHBOURS, "sizes": []}
    with tempfile.TemporaryDirectory(prefix="bench-cold-start-") as tmp:
        folder = Path(tmp) / label
        info = build_data(label, folder)
        runs = {}
        for method in METHODS:
            runs[method] = repeat_child(SCRIPT, [method, str(folder)], 1 if args.quick else args.repeats,
                                        ("fit_s", "recommend_s", "total_s"))
            print(json.dumps({"size": label, "method": method,
                              **{k: v for k, v in runs[method].items() if not k.endswith("_runs")}}), flush=True)
        result["sizes"].append({"size": label, "customers": info["customers"], "items": info["items"], "runs": runs})
    result["machine"]["load_average_at_end"] = machine()["load_average_1_5_15"]
    print(json.dumps(result, indent=1))
    if not args.quick:
        write_results("cold_start", result, markdown(result))
    return result


if __name__ == "__main__":
    main()
