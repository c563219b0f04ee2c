"""Lifetime-value models at scale: BTYD summary, BG/NBD and Gamma-Gamma fits and predictions.

Customers are simulated from known BG/NBD and Gamma-Gamma parameters (an event log, so the
summary is timed too), and the fitted parameters are compared with the planted ones. With
``--lifetimes-python`` the classic ``lifetimes`` package (installed in another environment,
since it is not a dependency) fits the same summary, for time and agreement.

Usage: python benchmarks/bench_clv.py [--quick] [--customers N] [--lifetimes-python PATH]
``--quick``: 20,000 customers, prints, writes nothing. Otherwise writes results/clv.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit, machine, markdown_table, peak_rss_gib, run_child, write_results  # noqa: E402

#: The planted parameters: the CDNOW estimates, rounded.
PLANTED = {"r": 0.25, "alpha": 4.4, "a": 0.8, "b": 2.4, "p": 6.25, "q": 3.75, "gamma": 15.4}
SCRIPT = Path(__file__).resolve()

_LIFETIMES_CHILD = """
import json, sys, time
import numpy as np, pandas as pd
start = time.perf_counter()
from lifetimes import BetaGeoFitter, GammaGammaFitter
imported = time.perf_counter() - start
data = np.load(sys.argv[1])
x, tx, T, m = data["frequency"], data["recency"], data["T"], data["monetary_value"]
start = time.perf_counter()
bg = BetaGeoFitter().fit(x, tx, T)
bg_s = time.perf_counter() - start
start = time.perf_counter()
repeat = x > 0
gg = GammaGammaFitter().fit(x[repeat], m[repeat])
gg_s = time.perf_counter() - start
start = time.perf_counter()
expected = np.asarray(bg.conditional_expected_number_of_purchases_up_to_time(52, x, tx, T))
alive = np.asarray(bg.conditional_probability_alive(x, tx, T))
spend = np.asarray(gg.conditional_expected_average_profit(x[repeat], m[repeat]))
pred_s = time.perf_counter() - start
np.savez(sys.argv[2], expected=expected, alive=alive, spend=spend)
print(json.dumps({"import_s": round(imported, 2), "bgnbd_fit_s": round(bg_s, 2), "gamma_gamma_fit_s": round(gg_s, 2),
                  "predict_s": round(pred_s, 2), "params": {**{k: float(v) for k, v in bg.params_.items()},
                  **{("gamma" if k == "v" else k): float(v) for k, v in gg.params_.items()}}}))
"""


def child(n_customers: int, seed: int, out: str) -> None:
    """Simulate, then time each stage of our pipeline; save the summary and predictions to ``out``."""
    from marketing.clv import BetaGeo, GammaGamma, btyd_summary, clv, per_period_rate
    from marketing.clv.simulate import simulate_events

    events, truth = simulate_events(n_customers, calibration_weeks=39.0, random_state=seed, **PLANTED)
    times = {}
    start = time.perf_counter()
    summary = btyd_summary(events, "2024-09-30")  # 39 weeks after 2024-01-01
    times["summary_s"] = time.perf_counter() - start
    start = time.perf_counter()
    bg = BetaGeo().fit(summary)
    times["bgnbd_fit_s"] = time.perf_counter() - start
    start = time.perf_counter()
    gg = GammaGamma().fit(summary)
    times["gamma_gamma_fit_s"] = time.perf_counter() - start
    start = time.perf_counter()
    expected = bg.predict(summary, 52).to_numpy()
    alive = bg.p_alive(summary).to_numpy()
    spend = gg.conditional_expected_spend(summary).to_numpy()
    times["predict_s"] = time.perf_counter() - start
    start = time.perf_counter()
    value = clv(bg, gg, summary, 52, step=52 / 12, discount_rate=per_period_rate(0.10, 12))
    times["clv_12_months_s"] = time.perf_counter() - start
    times["total_s"] = sum(times.values())
    fitted = {"r": bg.r_, "alpha": bg.alpha_, "a": bg.a_, "b": bg.b_, "p": gg.p_, "q": gg.q_, "gamma": gg.gamma_}
    np.savez(out, frequency=summary["frequency"].to_numpy(), recency=summary["recency"].to_numpy(),
             T=summary["T"].to_numpy(), monetary_value=summary["monetary_value"].fillna(0.0).to_numpy(),
             expected=expected, alive=alive, spend=spend)
    emit({
        "customers": n_customers, "events": len(events), "repeat_buyers": int((summary["frequency"] > 0).sum()),
        **{k: round(v, 2) for k, v in times.items()},
        "params": fitted,
        "max_relative_error": max(abs(fitted[k] / PLANTED[k] - 1) for k in PLANTED),
        "mean_clv": float(value.mean()),
        "peak_rss_gib": round(peak_rss_gib(), 2),
    })


def compare_lifetimes(python: str, ours_file: str, tmp: Path) -> dict:
    out = tmp / "lifetimes.npz"
    done = subprocess.run([python, "-W", "ignore", "-c", _LIFETIMES_CHILD, ours_file, str(out)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"}
    record = json.loads(done.stdout.strip().splitlines()[-1])
    ours, theirs = np.load(ours_file), np.load(out)
    repeat = ours["frequency"] > 0
    record["max_abs_diff_expected_purchases"] = float(np.max(np.abs(ours["expected"] - theirs["expected"])))
    record["max_abs_diff_p_alive"] = float(np.max(np.abs(ours["alive"] - theirs["alive"])))
    record["max_rel_diff_spend"] = float(np.max(np.abs(ours["spend"][repeat] / theirs["spend"] - 1)))
    return record


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 customers, no results file")
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lifetimes-python", help="an interpreter with lifetimes installed, to compare against")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("out", nargs="?", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    n = 20_000 if args.quick else args.customers
    if args.child:
        child(n, args.seed, args.out)
        return {}
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        ours_file = str(tmp / "ours.npz")
        child_args = ["--customers", n, "--seed", args.seed, ours_file]
        ours = run_child(SCRIPT, child_args)
        result = {"machine": machine(), "planted": PLANTED, "ours": ours}
        if args.lifetimes_python:
            result["lifetimes"] = compare_lifetimes(args.lifetimes_python, ours_file, tmp)
    result["machine_after"] = machine()
    fitted = ", ".join(f"{k} {v:.4g}" for k, v in ours["params"].items())
    print(f"{n:,} customers: total {ours['total_s']} s; recovered {fitted} "
          f"(planted {PLANTED}; largest relative error {ours['max_relative_error']:.3f})")
    print(json.dumps(result, indent=1))
    if not args.quick:
        write_results("clv", result, markdown(result))
    return result


def markdown(result: dict) -> str:
    m, ours = result["machine"], result["ours"]
    stages = ["summary_s", "bgnbd_fit_s", "gamma_gamma_fit_s", "predict_s", "clv_12_months_s", "total_s"]
    lines = [
        "# Lifetime value: BTYD summary, BG/NBD and Gamma-Gamma at scale",
        "",
        f"Machine: {m['cores']} cores, {m.get('memory_gib')} GiB, load average {m['load_average_1_5_15']} "
        f"(after: {result['machine_after']['load_average_1_5_15']}). One run, its own process.",
        "",
        f"{ours['customers']:,} simulated customers ({ours['events']:,} purchases, {ours['repeat_buyers']:,} repeat "
        "buyers over 39 weeks), planted parameters " + ", ".join(f"{k} = {v}" for k, v in result["planted"].items()) + ".",
        "Predictions: expected purchases in the next 52 weeks, P(alive), expected spend; CLV: 12 monthly periods at 10% a year.",
        "",
        markdown_table([{k: ours[k] for k in stages} | {"peak_rss_gib": ours["peak_rss_gib"]}], stages + ["peak_rss_gib"]),
        "",
        "| parameter | planted | fitted |",
        "| --- | --- | --- |",
        *[f"| {k} | {v} | {ours['params'][k]:.4f} |" for k, v in result["planted"].items()],
    ]
    if "lifetimes" in result:
        lt = result["lifetimes"]
        lines += ["", "## lifetimes on the same summary", ""]
        if "error" in lt:
            lines.append(f"lifetimes failed: {lt['error']}")
        else:
            keys = ["import_s", "bgnbd_fit_s", "gamma_gamma_fit_s", "predict_s", "max_abs_diff_expected_purchases",
                    "max_abs_diff_p_alive", "max_rel_diff_spend"]
            lines.append(markdown_table([{k: lt[k] for k in keys}], keys))
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
