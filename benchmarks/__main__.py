"""`make bench`: run every benchmark script in full mode, one after another.

Each script writes its JSON into benchmarks/results/; see benchmarks/README.md for what each
line means. Pass script names to run a subset: python -m benchmarks generate reports. A run of
every script also writes how long each took (results/bench_run.{json,md}).
"""

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
SCRIPTS = ("generate", "segmentation", "recommend", "cold_start", "reports", "spark", "duckdb", "startup", "clv")


def main(names: list[str]) -> int:
    from _common import machine, markdown_table, write_results

    failed, rows, info = [], [], machine()
    start = time.perf_counter()
    for name in names or SCRIPTS:
        script = HERE / f"bench_{name}.py"
        print(f"== {script.name}", flush=True)
        began = time.perf_counter()
        code = subprocess.run([sys.executable, str(script)]).returncode
        rows.append({"script": script.name, "minutes": round((time.perf_counter() - began) / 60, 1),
                     "ok": code == 0})
        print(f"== {script.name}: {rows[-1]['minutes']} min", flush=True)
        if code != 0:
            failed.append(name)
    total = round((time.perf_counter() - start) / 60, 1)
    if not names:
        info["load_average_at_end"] = machine()["load_average_1_5_15"]
        write_results("bench_run", {"machine": info, "scripts": rows, "total_minutes": total}, "\n".join([
            "# One whole `make bench`: minutes per script", "",
            f"Started {info['date']} on {info['cores']} cores, load average at the start "
            f"{info['load_average_1_5_15']}, at the end {info['load_average_at_end']}.", "",
            markdown_table(rows + [{"script": "total", "minutes": total, "ok": not failed}], ["script", "minutes", "ok"]),
        ]))
    print(f"== all: {total} min", flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


sys.exit(main(sys.argv[1:]))
