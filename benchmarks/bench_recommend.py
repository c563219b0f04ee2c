"""Collaborative filtering at scale: fit + top-10 for every customer, against implicit and the naive way.

The data is the ecommerce synthetic log at increasing sizes (binary customer x item matrices):
"small" (2,000 customers x 300 items), "medium" (50,000 x 3,000; also 20,000 of its customers,
the largest size where the naive dense approach is run), and the "large" data
(1,000,000 x 20,000) at 100,000 and 400,000 sampled customers and in full. A seeded 20% of each
matrix's customer-item pairs is held out; every contender fits on the other 80% and is judged by
NDCG@10 on the held-out pairs (binary relevance, averaged over customers with a held-out item).

Contenders (each in its own process, so its peak memory is its own):

- ``popularity``: the naive baseline, marketing.recommend.PopularityRecommender;
- ``itemknn``: marketing.recommend.ItemKNN (blockwise sparse cosine, 20 neighbours per item);
- ``implicit_cosine``: implicit.nearest_neighbours.CosineRecommender(K=20), the same algorithm in C++;
- ``ease``: marketing.recommend.EASE (dense items x items inverse: run up to 3,000 items; its cost
  at 20,000 items is estimated from the cubic growth, not run);
- ``als``: marketing.recommend.ALS (implicit's ALS on every core with one BLAS thread, which gives
  the same factors on any thread count, and the package's exact top-k);
- ``implicit_als``: implicit.als.AlternatingLeastSquares, same hyper-parameters, all cores;
- ``naive_user_user``: what most tutorials write: sklearn ``cosine_similarity`` of the customers
  (a dense customers x customers matrix), scores ``S @ X``, a full sort per customer. Run while
  it needs less than --naive-max-gib; beyond, only its memory is estimated.

Times are fit plus top-10 (excluding owned items) for every customer; the medians of --repeats runs
at every size. Loading the matrix is not timed. The default sizes leave out large-400k (about four
minutes for three runs of each contender, a point between two measured ones) so that `make bench`
stays within half an hour; ``--sizes`` names it.

Usage: python benchmarks/bench_recommend.py [--quick] [--sizes small medium ...] [--repeats 3]
Full mode writes benchmarks/results/recommend.{json,md} and recommend.png; --quick runs the
"small" size once per contender and writes nothing.
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
from plots import plot_family  # noqa: E402

SCRIPT = Path(__file__).resolve()
K = 10
NEIGHBOURS = 20  # implicit's default K; both item-kNN contenders use it
METHODS = ("popularity", "itemknn", "implicit_cosine", "ease", "als", "implicit_als", "naive_user_user")
#: (label, data size, customers sampled or None for all)
SIZES = {
    "small": ("small", None),
    "medium-20k": ("medium", 20_000),
    "medium": ("medium", None),
    "large-100k": ("large", 100_000),
    "large-400k": ("large", 400_000),
    "large": ("large", None),
}
EASE_MAX_ITEMS = 3_000


# --- child: one contender on one matrix ---------------------------------------------------------
def _child(method: str, folder: str) -> None:
    import numpy as np
    import scipy.sparse as sp
    from threadpoolctl import threadpool_limits

    X = sp.load_npz(Path(folder) / "train.npz").tocsr()
    test = sp.load_npz(Path(folder) / "test.npz").tocsr()
    # imports are not timed; each child imports only what its contender needs
    from marketing.recommend import ALS, EASE, Interactions, ItemKNN, PopularityRecommender
    from marketing.recommend.metrics import ndcg_at_k

    n_users, n_items = X.shape
    users = np.arange(n_users)
    data = Interactions(X, users, np.arange(n_items))
    ours = {
        "popularity": PopularityRecommender,
        "itemknn": lambda: ItemKNN(n_neighbors=NEIGHBOURS),
        "ease": EASE,
        "als": ALS,
    }
    start = time.perf_counter()
    if method in ours:
        model = ours[method]().fit(data)
        fitted = time.perf_counter()
        top, _ = model.recommend_positions(users, K)
    elif method == "implicit_cosine":
        from implicit.nearest_neighbours import CosineRecommender

        start = time.perf_counter()
        model = CosineRecommender(K=NEIGHBOURS)
        model.fit(X, show_progress=False)
        fitted = time.perf_counter()
        top, _ = model.recommend(users, X, N=K, filter_already_liked_items=True)
    elif method == "implicit_als":
        from implicit.als import AlternatingLeastSquares

        defaults = ALS()
        start = time.perf_counter()
        # implicit asks for one BLAS thread (its own threads do the parallel work)
        with threadpool_limits(limits=1, user_api="blas"):
            model = AlternatingLeastSquares(
                factors=defaults.factors, regularization=defaults.regularization, alpha=defaults.alpha,
                iterations=defaults.iterations, random_state=defaults.random_state,
            )
            model.fit(X, show_progress=False)
            fitted = time.perf_counter()
            top, _ = model.recommend(users, X, N=K, filter_already_liked_items=True)
    elif method == "naive_user_user":
        from sklearn.metrics.pairwise import cosine_similarity

        start = time.perf_counter()
        S = cosine_similarity(X)  # customers x customers, dense
        np.fill_diagonal(S, 0.0)
        fitted = time.perf_counter()
        scores = np.asarray(S @ X)  # customers x items, dense
        scores[X.nonzero()] = -np.inf
        top = np.argsort(-scores, axis=1)[:, :K]
    else:
        raise SystemExit(f"unknown method {method!r}; choose from {METHODS}")
    end = time.perf_counter()
    emit({
        "method": method,
        "fit_s": round(fitted - start, 3),
        "recommend_s": round(end - fitted, 3),
        "total_s": round(end - start, 3),
        "peak_rss_gib": round(peak_rss_gib(), 3),
        "ndcg_at_10": round(ndcg_at_k(np.asarray(top, dtype=np.int64), test, K), 4),
    })


# --- parent --------------------------------------------------------------------------------------
def build_data(label: str, folder: Path, seed: int = 42, cache: dict | None = None) -> dict:
    """Write train.npz / test.npz for one size: 80/20 seeded hold-out of the customer-item pairs."""
    import numpy as np
    import scipy.sparse as sp

    from marketing.datasets import load_case_data
    from marketing.recommend import build_interactions

    size, n_users = SIZES[label]
    cache = {} if cache is None else cache
    if size not in cache:
        data = load_case_data("ecommerce", data_size=size, seed=seed)
        X = sp.csr_matrix(build_interactions(data.events, items=data.items["item_id"]).matrix, dtype=np.float32)
        del data
        X.data[:] = 1.0  # bought or not: implicit feedback, the same input for every contender
        cache.clear()  # one generated size in memory at a time
        cache[size] = X
    X = cache[size]
    if n_users is not None and n_users < X.shape[0]:
        rows = np.sort(np.random.default_rng(seed).choice(X.shape[0], n_users, replace=False))
        X = X[rows]
    coo = X.tocoo()
    held = np.random.default_rng(seed + 1).random(coo.nnz) < 0.2
    keep = sp.csr_matrix((coo.data[~held], (coo.row[~held], coo.col[~held])), shape=X.shape)
    test = sp.csr_matrix((coo.data[held], (coo.row[held], coo.col[held])), shape=X.shape)
    folder.mkdir(parents=True, exist_ok=True)
    sp.save_npz(folder / "train.npz", keep, compressed=False)
    sp.save_npz(folder / "test.npz", test, compressed=False)
    return {"size": label, "customers": X.shape[0], "items": X.shape[1], "train_pairs": int(keep.nnz),
            "test_pairs": int(test.nnz)}


def naive_gib(customers: int, items: int) -> float:
    """Memory of the naive approach: the dense similarity (float64) plus the dense score matrix."""
    return (customers**2 + customers * items) * 8 / 2**30


def run_size(label: str, folder: Path, repeats: int, naive_max_gib: float, cache: dict,
             methods=METHODS) -> dict:
    start = time.perf_counter()
    info = build_data(label, folder, cache=cache)
    info["build_s_untimed"] = round(time.perf_counter() - start, 1)
    print(json.dumps(info), flush=True)
    runs, skipped = {}, {}
    for method in methods:
        if method == "ease" and info["items"] > EASE_MAX_ITEMS:
            skipped[method] = f"dense {info['items']:,} x {info['items']:,} inverse: estimated, not run"
            continue
        need = naive_gib(info["customers"], info["items"])
        if method == "naive_user_user" and need > naive_max_gib:
            skipped[method] = f"needs {need:,.0f} GiB (dense customers x customers + scores)"
            continue
        # the naive way is slow: it runs once
        n = 1 if method == "naive_user_user" else repeats
        runs[method] = repeat_child(SCRIPT, [method, str(folder)], n, ("fit_s", "recommend_s", "total_s"))
        print(json.dumps({"size": label, **{k: v for k, v in runs[method].items() if not k.endswith("_runs")}}),
              flush=True)
    info["naive_user_user_gib"] = round(naive_gib(info["customers"], info["items"]), 1)
    return {"data": info, "runs": runs, "skipped": skipped}


def ratios(size_result: dict) -> dict:
    """Time and memory of each contender over the best peer of its kind, at one size."""
    runs = size_result["runs"]
    pairs = {"itemknn": ("implicit_cosine",), "ease": ("implicit_cosine",), "als": ("implicit_als",)}
    out = {}
    for ours, peers in pairs.items():
        present = [p for p in peers if p in runs]
        if ours not in runs or not present:
            continue
        best = min(present, key=lambda p: runs[p]["total_s"])
        out[f"{ours}_time_over_{best}"] = round(runs[ours]["total_s"] / runs[best]["total_s"], 2)
        out[f"{ours}_memory_over_{best}"] = round(runs[ours]["peak_rss_gib"] / runs[best]["peak_rss_gib"], 2)
    if "naive_user_user" in runs and "itemknn" in runs:
        out["naive_user_user_time_over_itemknn"] = round(
            runs["naive_user_user"]["total_s"] / runs["itemknn"]["total_s"], 1)
    return out


def estimate_ease(results: list[dict]) -> dict | None:
    """EASE's fit at the largest catalogue, from the largest measured one (inverse: cubic in items)."""
    measured = [r for r in results if "ease" in r["runs"]]
    unmeasured = [r for r in results if "ease" in r["skipped"]]
    if not measured or not unmeasured:
        return None
    ref, target = measured[-1], unmeasured[-1]
    scale = (target["data"]["items"] / ref["data"]["items"]) ** 3
    return {
        "items": target["data"]["items"],
        "fit_s_estimated": round(ref["runs"]["ease"]["fit_s"] * scale),
        "dense_matrices_gib": round(3 * 8 * target["data"]["items"] ** 2 / 2**30, 1),
        "from": f"{ref['data']['items']:,} items, fit {ref['runs']['ease']['fit_s']} s, x (items ratio)^3",
    }


def markdown(result: dict) -> str:
    rows = []
    for size in result["sizes"]:
        for method, run in size["runs"].items():
            rows.append({"size": size["data"]["size"], "customers": size["data"]["customers"],
                         "items": size["data"]["items"], "method": method, "runs": run["repeats"],
                         "fit s": run["fit_s"], "top-10 s": run["recommend_s"], "total s": run["total_s"],
                         "peak GiB": run["peak_rss_gib"], "NDCG@10": run["ndcg_at_10"]})
        for method, why in size["skipped"].items():
            rows.append({"size": size["data"]["size"], "customers": size["data"]["customers"],
                         "items": size["data"]["items"], "method": method, "runs": 0, "fit s": why})
    lines = [
        "# Collaborative filtering: fit + top-10 for every customer",
        "",
        f"Machine: {result['machine']['cores']} cores, {result['machine'].get('memory_gib')} GiB; "
        f"load average at the start {result['machine']['load_average_1_5_15']}. "
        "Times are medians over `runs` processes; peak GiB is the largest resident set of those runs "
        "(the loaded matrix included).",
        "",
        markdown_table(rows, ["size", "customers", "items", "method", "runs", "fit s", "top-10 s", "total s",
                              "peak GiB", "NDCG@10"]),
        "",
        "Ratios (ours over the best peer of the same kind; below 1 means we are faster / smaller):",
        "",
    ]
    for size in result["sizes"]:
        if size["ratios"]:
            lines.append(f"- {size['data']['size']}: " + ", ".join(f"{k} {v}" for k, v in size["ratios"].items()))
    if result.get("ease_estimate"):
        e = result["ease_estimate"]
        lines += ["", f"EASE at {e['items']:,} items (not run): fit about {e['fit_s_estimated']:,} s "
                      f"({e['from']}), {e['dense_matrices_gib']} GiB of dense matrices."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small data, one run each, no results file")
    parser.add_argument("--sizes", nargs="+", default=[s for s in SIZES if s != "large-400k"], choices=list(SIZES))
    parser.add_argument("--repeats", type=int, default=3, help="runs per contender (median reported)")
    parser.add_argument("--naive-max-gib", type=float, default=6.0,
                        help="largest memory the naive user x user approach may use")
    parser.add_argument("--methods", nargs="+", choices=METHODS,
                        help="only these contenders (printed, no results file: the file holds every contender)")
    parser.add_argument("--child", nargs=2, metavar=("METHOD", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(*args.child)
        return {}
    sizes = ["small"] if args.quick else args.sizes
    result = {"machine": machine(), "k": K, "neighbours": NEIGHBOURS, "sizes": []}
    cache: dict = {}
    with tempfile.TemporaryDirectory(prefix="bench-recommend-") as tmp:
        for label in sizes:
            repeats = 1 if args.quick else args.repeats
            size_result = run_size(label, Path(tmp) / label, repeats, args.naive_max_gib, cache,
                                   args.methods or METHODS)
            size_result["ratios"] = ratios(size_result)
            result["sizes"].append(size_result)
    result["ease_estimate"] = estimate_ease(result["sizes"])
    result["machine"]["load_average_at_end"] = machine()["load_average_1_5_15"]
    print(json.dumps(result, indent=1))
    if not args.quick and not args.methods:
        write_results("recommend", result, markdown(result))
        plot_family("recommend")
    return result


if __name__ == "__main__":
    main()
