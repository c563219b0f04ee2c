"""Time and peak memory of the synthetic generators, per case and size.

Each (case, size) runs in its own process so peak memory (max RSS) is that run's alone.
Usage: python benchmarks/bench_generate.py [--quick] [--sizes small medium large]
Writes benchmarks/results/generate.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, markdown_table, write_results  # noqa: E402
from plots import plot_family  # noqa: E402

CASES = ("ecommerce", "finance", "education", "health")
RESULTS = Path(__file__).resolve().parent / "results"

_CHILD = """
import json, resource, sys, time
from marketing.datasets import generate, load_case_data
case, size = sys.argv[1], sys.argv[2]
start = time.perf_counter()
raw = generate(case, size=size, seed=42)
generated = time.perf_counter() - start
del raw
start = time.perf_counter()
data = load_case_data(case, data_size=size, seed=42)
loaded = time.perf_counter() - start
print(json.dumps({
    "case": case, "size": size,
    "customers": len(data.customers), "items": len(data.items), "events": len(data.events),
    "generate_s": round(generated, 2), "generate_and_clean_s": round(loaded, 2),
    "peak_rss_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
}))
"""


def run(case: str, size: str) -> dict:
    out = subprocess.run([sys.executable, "-c", _CHILD, case, size], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small size only, no results file")
    parser.add_argument("--sizes", nargs="+", default=["small", "medium", "large"])
    args = parser.parse_args(argv)
    sizes = ["small"] if args.quick else args.sizes
    rows = [run(case, size) for size in sizes for case in CASES]
    for row in rows:
        print(json.dumps(row))
    if not args.quick:
        write_results("generate", {"machine": machine(), "runs": rows}, markdown({"machine": machine(), "runs": rows}))
        plot_family("generate")
    return rows


def markdown(result: dict) -> str:
    m = result["machine"]
    return "\n".join([
        "# Synthetic data: generation time and peak memory",
        "",
        f"Machine: {m['cores']} cores, {m.get('memory_gib')} GiB, load average {m['load_average_1_5_15']}. "
        "One run per case and size, each in its own process.",
        "",
        markdown_table(result["runs"], ["case", "size", "customers", "items", "events", "generate_s",
                                        "generate_and_clean_s", "peak_rss_gib"]),
    ])


if __name__ == "__main__":
    main()
