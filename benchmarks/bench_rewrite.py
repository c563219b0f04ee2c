"""The pandas path after the narwhals rewrite against the code before it (commit 37ce2bb).

Three workloads on the ecommerce synthetic log, "large" (1,000,000 customers x 20,000 items, about
20 million order lines), generated once (untimed) and written to Parquet; every contender runs in
its own process on the same files, the two sides taking turns (round r runs old then new, round
r + 1 new then old), and each side imports its own checkout (``PYTHONPATH``) and calls its own API:

- ``rfm``: marketing.features.rfm on the order lines of the first customers that make up about
  --lines (10 million) lines (the same subset as bench_duckdb.py); the tables must be equal;
- ``segmentation``: customer_table (the case's segmentation features, on every customer),
  Segmenter(n_segments=4) fit, then segment_profiles + segment_actions + audience_table (old:
  ``audience_table(table.index, labels, actions)``, new: ``audience_table(table, labels, actions)``);
  the labels must agree (ARI 1.0);
- ``cf``: on --cf-customers (100,000) customers sampled with a seed (all 20,000 items): the seeded
  random 80/20 split of the customer-item pairs (``random_split``), ``build_interactions`` of the
  training pairs, ItemKNN fit and the top 10 unseen items for every customer (``--cf-models itemknn als``: ALS too);
  NDCG@10 on the held-out pairs (not timed) must be equal.

Reading the Parquet files is not timed. Times are medians of --repeats runs; peak memory is the
largest VmHWM of the runs (interpreter, libraries and the loaded input included).

Usage:
    git -C . worktree add /work/wt-old 37ce2bb
    python benchmarks/bench_rewrite.py --old /work/wt-old [--repeats 3] [--workloads rfm segmentation cf] [--cf-models itemknn als]
    python benchmarks/bench_rewrite.py --quick --old /work/wt-old   # small data, one run, writes nothing
Full mode writes benchmarks/results/rewrite.{json,md}.
"""

from __future__ import annotations

import argparse
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
OLD_COMMIT = "37ce2bb"
WORKLOADS = ("rfm", "segmentation", "cf")
K = 4
TOP = 10
NEIGHBOURS = 20
SEED = 42


def _where() -> str:
    import marketing

    return str(Path(marketing.__file__).resolve().parents[1])


# --- children ------------------------------------------------------------------------------------
def _child_rfm(side: str, folder: str) -> None:
    import pandas as pd

    from marketing.features import rfm

    folder = Path(folder)
    events = pd.read_parquet(folder / "rfm" / "events.parquet")
    end = pd.Timestamp(json.loads((folder / "meta.json").read_text())["observation_end"])
    start = time.perf_counter()
    table = rfm(events, end)
    elapsed = time.perf_counter() - start
    table.sort_index().to_parquet(folder / f"rfm-{side}.parquet")
    emit({"side": side, "code": _where(), "total_s": round(elapsed, 3), "peak_rss_gib": round(peak_rss_gib(), 3),
          "customers": len(table)})


def _case_data(folder: Path):
    """A CaseData of this checkout over the Parquet tables (already canonical and clean)."""
    import dataclasses

    import pandas as pd

    from marketing import get_case
    from marketing.datasets.canonical import CaseData

    meta = json.loads((folder / "meta.json").read_text())
    fields = {f.name for f in dataclasses.fields(CaseData)}
    values = dict(case=get_case("ecommerce"), customers=pd.read_parquet(folder / "customers.parquet"),
                  items=pd.read_parquet(folder / "items.parquet"), events=pd.read_parquet(folder / "events.parquet"),
                  observation_end=pd.Timestamp(meta["observation_end"]), cleaning=None, truth=None,
                  source="bench_rewrite")
    return CaseData(**{k: v for k, v in values.items() if k in fields})


def _child_segmentation(side: str, folder: str) -> None:
    import numpy as np

    from marketing.features import customer_table
    from marketing.segmentation import Segmenter, audience_table, segment_actions, segment_profiles

    folder = Path(folder)
    data = _case_data(folder)
    case = data.case
    timings = {}
    start = time.perf_counter()
    table = customer_table(data, case.segmentation_features)
    timings["features"] = time.perf_counter() - start
    start = time.perf_counter()
    segmenter = Segmenter(n_segments=K, random_state=SEED).fit(table)
    timings["segment"] = time.perf_counter() - start
    start = time.perf_counter()
    profiles = segment_profiles(table, segmenter.labels_)
    actions = segment_actions(profiles, case)
    audience = audience_table(table.index if side == "old" else table, segmenter.labels_, actions)
    timings["profiles"] = time.perf_counter() - start
    np.save(folder / f"labels-{side}.npy", np.asarray(segmenter.labels_))
    np.save(folder / f"ids-{side}.npy", np.asarray(table.index))
    emit({"side": side, "code": _where(), "customers": len(table), "audience_rows": len(audience),
          "timings_s": {k: round(v, 3) for k, v in timings.items()}, "total_s": round(sum(timings.values()), 3),
          "peak_rss_gib": round(peak_rss_gib(), 3)})


def _child_cf(side: str, folder: str, model_name: str) -> None:
    import numpy as np
    import pandas as pd
    import scipy.sparse as sp

    from marketing.recommend import ALS, ItemKNN, build_interactions, random_split
    from marketing.recommend.metrics import ndcg_at_k

    folder = Path(folder) / "cf"
    events = pd.read_parquet(folder / "events.parquet")
    items = pd.read_parquet(folder / "items.parquet")["item_id"]
    make = {"itemknn": lambda: ItemKNN(n_neighbors=NEIGHBOURS), "als": ALS}[model_name]
    timings = {}
    start = time.perf_counter()
    split = random_split(events, test_size=0.2, random_state=SEED)
    train = build_interactions(split.train, items=items)
    timings["split_interactions"] = time.perf_counter() - start
    start = time.perf_counter()
    model = make().fit(train)
    timings["fit"] = time.perf_counter() - start
    start = time.perf_counter()
    rows = np.arange(train.n_users)
    top, _ = model.recommend_positions(rows, TOP)
    timings["recommend"] = time.perf_counter() - start
    # held-out pairs as a matrix aligned with the training one (not timed, the same code on both sides)
    test = split.test
    test = test.to_pandas() if hasattr(test, "to_pandas") else test
    u = np.searchsorted(train.user_ids, test["customer_id"].to_numpy())
    i = np.searchsorted(train.item_ids, test["item_id"].to_numpy())
    ok = (u < len(train.user_ids)) & (i < len(train.item_ids))
    ok[ok] &= (train.user_ids[u[ok]] == test["customer_id"].to_numpy()[ok]) & (
        train.item_ids[i[ok]] == test["item_id"].to_numpy()[ok])
    relevant = sp.csr_matrix((np.ones(ok.sum(), np.float32), (u[ok], i[ok])), shape=train.matrix.shape)
    relevant.data[:] = 1.0
    emit({"side": side, "model": model_name, "code": _where(), "customers": int(train.n_users),
          "items": int(train.matrix.shape[1]), "train_pairs": int(train.matrix.nnz), "test_pairs": int(relevant.nnz),
          "timings_s": {k: round(v, 3) for k, v in timings.items()}, "total_s": round(sum(timings.values()), 3),
          "ndcg_at_10": round(ndcg_at_k(np.asarray(top, dtype=np.int64), relevant, TOP), 6),
          "peak_rss_gib": round(peak_rss_gib(), 3)})


# --- parent --------------------------------------------------------------------------------------
def prepare(folder: Path, size: str, lines: int, cf_customers: int, workloads) -> dict:
    import numpy as np

    from marketing import load_case_data

    start = time.perf_counter()
    data = load_case_data("ecommerce", size, seed=SEED)
    info = {"generate_s_untimed": round(time.perf_counter() - start, 1), "events": len(data.events),
            "customers": len(data.customers), "items": len(data.items)}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "meta.json").write_text(json.dumps({"observation_end": str(data.observation_end)}))
    events = data.events
    if "segmentation" in workloads:
        events.to_parquet(folder / "events.parquet", index=False)
        data.customers.to_parquet(folder / "customers.parquet", index=False)
        data.items.to_parquet(folder / "items.parquet", index=False)
    if "rfm" in workloads:
        rfm_events = events[["customer_id", "order_id", "item_id", "timestamp", "amount"]]
        counts = rfm_events.groupby("customer_id", sort=True).size()
        keep = counts.index[: int(np.searchsorted(counts.cumsum().to_numpy(), lines)) + 1]
        subset = rfm_events.loc[rfm_events["customer_id"].isin(keep)]
        (folder / "rfm").mkdir()
        subset.to_parquet(folder / "rfm" / "events.parquet", index=False)
        info.update(rfm_lines=len(subset), rfm_customers=len(keep))
    if "cf" in workloads:
        ids = data.customers["customer_id"].to_numpy()
        n = min(cf_customers, len(ids))
        chosen = np.random.default_rng(SEED).choice(ids, n, replace=False)
        (folder / "cf").mkdir()
        cf_events = events.loc[events["customer_id"].isin(chosen)]
        cf_events.to_parquet(folder / "cf" / "events.parquet", index=False)
        data.items.to_parquet(folder / "cf" / "items.parquet", index=False)
        info.update(cf_customers_sampled=n, cf_events=len(cf_events))
    return info


def _rounds(args_of, old: str, repeats: int, key: str = "total_s") -> dict:
    """Run old and new ``repeats`` times each, taking turns; medians and the largest peak."""
    envs = {"old": {"PYTHONPATH": old}, "new": {"PYTHONPATH": str(ROOT)}}
    done = {"old": [], "new": []}
    for r in range(repeats):
        for side in (("old", "new") if r % 2 == 0 else ("new", "old")):
            done[side].append(run_child(SCRIPT, args_of(side), env=envs[side]))
            print(json.dumps(done[side][-1]), flush=True)
    out = {}
    for side, runs in done.items():
        record = {**runs[0], key: round(median(d[key] for d in runs), 3), f"{key}_runs": [d[key] for d in runs],
                  "peak_rss_gib": max(d["peak_rss_gib"] for d in runs), "repeats": len(runs)}
        if "timings_s" in runs[0]:
            record["timings_s"] = {s: round(median(d["timings_s"][s] for d in runs), 3) for s in runs[0]["timings_s"]}
        out[side] = record
    out["new_over_old"] = round(out["new"][key] / out["old"][key], 3)
    return out


def _rfm_equal(folder: Path) -> dict:
    import numpy as np
    import pandas as pd

    new = pd.read_parquet(folder / "rfm-new.parquet")
    old = pd.read_parquet(folder / "rfm-old.parquet")
    same = bool(new.index.equals(old.index)) and list(new.columns) == list(old.columns)
    if not same:
        return {"same_customers_and_columns": False, "equal": False}
    floats = [c for c in new if pd.api.types.is_float_dtype(new[c])]
    ints = [c for c in new if c not in floats]
    ints_equal = bool((new[ints].to_numpy() == old[ints].to_numpy()).all())
    worst = float(np.max(np.abs(new[floats].to_numpy() - old[floats].to_numpy()))) if floats else 0.0
    return {"same_customers_and_columns": True, "integers_equal": ints_equal, "max_abs_float_difference": worst,
            "dtypes_equal": bool((new.dtypes == old.dtypes).all()), "equal": ints_equal and worst == 0.0}


def _labels_equal(folder: Path) -> dict:
    import numpy as np
    from sklearn.metrics import adjusted_rand_score

    ids = [np.load(folder / f"ids-{s}.npy", allow_pickle=True) for s in ("old", "new")]
    labels = [np.load(folder / f"labels-{s}.npy") for s in ("old", "new")]
    same_ids = bool(np.array_equal(ids[0], ids[1]))
    return {"same_customers_in_order": same_ids,
            "ari_old_new": round(float(adjusted_rand_score(labels[0], labels[1])), 6) if same_ids else None,
            "labels_identical": same_ids and bool(np.array_equal(labels[0], labels[1]))}


def run(old: str, size: str, repeats: int, lines: int, cf_customers: int, workloads, cf_models) -> dict:
    result = {"machine": machine(), "old_commit": OLD_COMMIT, "old_checkout": old,
              "new_commit": subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                                           capture_output=True, text=True).stdout.strip(),
              "data_size": size, "repeats": repeats}
    with tempfile.TemporaryDirectory(prefix="bench-rewrite-") as tmp:
        folder = Path(tmp)
        result["data"] = prepare(folder, size, lines, cf_customers, workloads)
        print(json.dumps(result["data"]), flush=True)
        result["machine_after_prepare"] = machine()
        if "rfm" in workloads:
            result["rfm"] = _rounds(lambda side: ["rfm", side, tmp], old, repeats)
            result["rfm"]["agreement"] = _rfm_equal(folder)
        if "segmentation" in workloads:
            result["segmentation"] = _rounds(lambda side: ["segmentation", side, tmp], old, repeats)
            result["segmentation"]["agreement"] = _labels_equal(folder)
        if "cf" in workloads:
            for name in cf_models:
                rec = _rounds(lambda side: ["cf", side, tmp, name], old, repeats)
                rec["agreement"] = {"ndcg_equal": rec["old"]["ndcg_at_10"] == rec["new"]["ndcg_at_10"]}
                result[f"cf_{name}"] = rec
        result["machine_at_end"] = machine()
    return result


def markdown(result: dict) -> str:
    rows = []
    for name in ("rfm", "segmentation", "cf_itemknn", "cf_als"):
        rec = result.get(name)
        if not rec:
            continue
        for side in ("old", "new"):
            r = rec[side]
            rows.append({"workload": name, "side": f"{side} ({OLD_COMMIT if side == 'old' else result['new_commit']})",
                         "median s": r["total_s"], "runs s": r["total_s_runs"], "stages s (medians)": r.get("timings_s"),
                         "peak GiB": r["peak_rss_gib"], "new/old": rec["new_over_old"] if side == "new" else None,
                         "agreement": json.dumps(rec["agreement"]) if side == "new" else None})
    d = result["data"]
    return "\n".join([
        "# The pandas path after the narwhals rewrite against before it", "",
        f"Ecommerce synthetic log \"{result['data_size']}\" ({d['customers']:,} customers, {d['items']:,} items, "
        f"{d['events']:,} events). RFM on {d.get('rfm_lines', 0):,} lines ({d.get('rfm_customers', 0):,} customers); "
        f"segmentation on every customer (k = {K}); CF on {d.get('cf_customers_sampled', 0):,} sampled customers "
        f"({d.get('cf_events', 0):,} events) x all items. Old = {OLD_COMMIT} (worktree, its own API), "
        f"new = {result['new_commit']}; each run its own process, the sides taking turns; medians of "
        f"{result['repeats']} runs; peak GiB = the largest VmHWM of the runs (input included).", "",
        markdown_table(rows, ["workload", "side", "median s", "runs s", "stages s (medians)", "peak GiB", "new/old",
                              "agreement"]),
        "", f"Machine at the start: {json.dumps(result['machine'])}; after generating the data: "
        f"{json.dumps(result['machine_after_prepare'])}; at the end: {json.dumps(result['machine_at_end'])}",
    ])


def main(argv: list[str] | None = None) -> dict | None:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        kind, *args = argv[1:]
        {"rfm": _child_rfm, "segmentation": _child_segmentation, "cf": _child_cf}[kind](*args)
        return None
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--old", required=True, help=f"a checkout of {OLD_COMMIT} (git worktree add ... {OLD_COMMIT})")
    parser.add_argument("--quick", action="store_true", help="small data, one run, nothing written")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--cf-customers", type=int, default=100_000)
    parser.add_argument("--workloads", nargs="*", default=list(WORKLOADS), choices=WORKLOADS)
    parser.add_argument("--cf-models", nargs="+", default=["itemknn"], choices=("itemknn", "als"),
                        help="the CF models timed (e.g. --cf-models itemknn als)")
    parser.add_argument("--name", default="rewrite", help="results/<name>.{json,md}")
    args = parser.parse_args(argv)
    if args.quick:
        result = run(args.old, "small", 1, 20_000, 1_000, args.workloads, args.cf_models)
        print(markdown(result))
        return result
    result = run(args.old, "large", args.repeats, args.lines, args.cf_customers, args.workloads, args.cf_models)
    write_results(args.name, result, markdown(result))
    print(markdown(result))
    return result


if __name__ == "__main__":
    main()
