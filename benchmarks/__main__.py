"""`make bench`: run every benchmark script in full mode, one after another.

Each script writes its JSON into benchmarks/results/; see benchmarks/README.md for what each
line means. Pass script names to run a subset: python -m benchmarks generate reports
"""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = ("generate", "segmentation", "recommend", "reports", "spark", "duckdb", "startup", "clv")


def main(names: list[str]) -> int:
    failed = []
    for name in names or SCRIPTS:
        script = HERE / f"bench_{name}.py"
        print(f"== {script.name}", flush=True)
        if subprocess.run([sys.executable, str(script)]).returncode != 0:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


sys.exit(main(sys.argv[1:]))
