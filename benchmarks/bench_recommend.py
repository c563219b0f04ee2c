"""Item-based kNN at scale: fit + top-10 for every customer, against implicit and the naive dense way.

The data (ecommerce synthetic, binary customer x item matrix) is built once, saved, and each
method runs in its own process so its peak memory (max RSS above the loaded matrix) is its own:

- ``marketing``: marketing.recommend.ItemKNN (blockwise sparse cosine, top-n neighbours, sparse top-k)
- ``implicit``: implicit.nearest_neighbours.CosineRecommender (C++, the well-kept library peer)
- ``naive_dense``: sklearn cosine_similarity giving a dense items x items matrix, dense scores
  X @ S and a full argsort per customer, run on a sample of customers and extrapolated linearly
  (the dense score matrix for everyone would not fit); the naive *user x user* dense similarity
  is not run, only its size is estimated.

Usage: python benchmarks/bench_recommend.py [--quick] [--users N] [--neighbors K]
Full mode uses "large" data and writes benchmarks/results/recommend.json; --quick uses "small"
data and writes nothing. Generating the data is not timed.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"

_CHILD = r"""
import json, sys, time
import numpy as np, scipy.sparse as sp


def peak_gib():
    # VmHWM is this process's own high-water mark; ru_maxrss would carry over the parent's
    # peak across fork + exec
    with open("/proc/self/status") as status:
        line = next(l for l in status if l.startswith("VmHWM:"))
    return int(line.split()[1]) / 2**20


from threadpoolctl import threadpool_limits
method, path, k, n_neighbors, sample = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
X = sp.load_npz(path).tocsr().astype(np.float32)
# imports are not timed
from marketing.recommend import Interactions, ItemKNN
from implicit.nearest_neighbours import CosineRecommender
from sklearn.metrics.pairwise import cosine_similarity
base = peak_gib()
start = time.perf_counter()
extra = {}
if method == "marketing":
    data = Interactions(X, np.arange(X.shape[0]), np.arange(X.shape[1]))
    model = ItemKNN(n_neighbors=n_neighbors).fit(data)
    fitted = time.perf_counter()
    top, _ = model.recommend_positions(np.arange(X.shape[0]), k)
    users = X.shape[0]
elif method == "implicit":
    model = CosineRecommender(K=n_neighbors)
    model.fit(X, show_progress=False)
    fitted = time.perf_counter()
    top, _ = model.recommend(np.arange(X.shape[0]), X, N=k, filter_already_liked_items=True)
    users = X.shape[0]
else:
    S = cosine_similarity(X.T, dense_output=True)  # items x items, dense
    np.fill_diagonal(S, 0.0)
    fitted = time.perf_counter()
    rows = np.arange(min(sample, X.shape[0]))
    scores = np.asarray(X[rows] @ S)
    scores[X[rows].nonzero()] = -np.inf
    top = np.argsort(-scores, axis=1)[:, :k]
    users = len(rows)
    extra = {"sampled_customers": users}
end = time.perf_counter()
print(json.dumps({
    "method": method, "customers_scored": users,
    "fit_s": round(fitted - start, 2), "recommend_s": round(end - fitted, 2), "total_s": round(end - start, 2),
    "peak_rss_gib": round(peak_gib(), 3),
    "peak_rss_above_data_gib": round(peak_gib() - base, 3),
    "top_sample": np.asarray(top[:50]).tolist(), **extra,
}))
"""


def build_matrix(size: str, n_users: int | None, seed: int, path: Path) -> dict:
    """Binary customer x item matrix of ecommerce data, optionally a seeded sample of customers."""
    import numpy as np
    import scipy.sparse as sp

    from marketing.datasets import load_case_data
    from marketing.recommend import build_interactions

    data = load_case_data("ecommerce", data_size=size, seed=seed)
    X = build_interactions(data.events, items=data.items["item_id"]).matrix
    events = len(data.events)
    if n_users is not None and n_users < X.shape[0]:
        rows = np.sort(np.random.default_rng(seed).choice(X.shape[0], n_users, replace=False))
        X = X[rows]
    sp.save_npz(path, sp.csr_matrix(X))
    return {"size": size, "customers": X.shape[0], "items": X.shape[1], "interactions": int(X.nnz),
            "events_in_full_log": events}


def run(method: str, path: Path, k: int, n_neighbors: int, sample: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, method, str(path), str(k), str(n_neighbors), str(sample)],
        check=True, capture_output=True, text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small data, no results file")
    parser.add_argument("--users", type=int, default=400_000, help="customers sampled from the large data")
    parser.add_argument("--neighbors", type=int, default=20, help="neighbours per item (implicit's default K)")
    parser.add_argument("--naive-sample", type=int, default=20_000, help="customers scored by the naive way")
    parser.add_argument("--k", type=int, default=10)
    args = parser.parse_args(argv)
    size, n_users = ("small", None) if args.quick else ("large", args.users)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "X.npz"
        start = time.perf_counter()
        data = build_matrix(size, n_users, 42, path)
        data["build_s_untimed"] = round(time.perf_counter() - start, 1)
        print(json.dumps(data), flush=True)
        runs = {}
        for method in ("marketing", "implicit", "naive_dense"):
            runs[method] = run(method, path, args.k, args.neighbors, args.naive_sample)
            print(json.dumps({key: v for key, v in runs[method].items() if key != "top_sample"}), flush=True)
    naive = runs["naive_dense"]
    scale = data["customers"] / naive["customers_scored"]
    naive["total_s_extrapolated"] = round(naive["fit_s"] + naive["recommend_s"] * scale, 1)
    naive["dense_scores_all_customers_gib"] = round(data["customers"] * data["items"] * 8 / 2**30, 1)
    ours, peer = runs["marketing"], runs["implicit"]
    same = sum(len(set(a) & set(b)) for a, b in zip(ours["top_sample"], peer["top_sample"]))
    for r in runs.values():
        r.pop("top_sample")
    result = {
        "data": data,
        "k": args.k,
        "n_neighbors": args.neighbors,
        "runs": runs,
        "naive_user_user_dense_gib": round(data["customers"] ** 2 * 8 / 2**30, 1),
        "ratios": {
            "implicit_time_over_marketing": round(peer["total_s"] / ours["total_s"], 2),
            "naive_dense_time_over_marketing": round(naive["total_s_extrapolated"] / ours["total_s"], 2),
            "implicit_memory_over_marketing": round(peer["peak_rss_above_data_gib"] / max(ours["peak_rss_above_data_gib"], 1e-3), 2),
            "naive_dense_memory_over_marketing": round(naive["peak_rss_above_data_gib"] / max(ours["peak_rss_above_data_gib"], 1e-3), 2),
        },
        "top_k_overlap_with_implicit_first_50_customers": round(same / (50 * args.k), 3),
    }
    print(json.dumps(result, indent=1))
    if not args.quick:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "recommend.json").write_text(json.dumps(result, indent=1) + "\n")
    return result


if __name__ == "__main__":
    main()
