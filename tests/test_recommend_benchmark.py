"""The recommendation benchmark keeps working: its quick mode runs here (timings are never asserted)."""

import json
import subprocess
import sys

import pytest

from conftest import ROOT


@pytest.mark.slow
def test_recommend_benchmark_quick():
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_recommend.py"), "--quick"],
        check=True, capture_output=True, text=True,
    )
    lines = out.stdout.splitlines()
    methods = [json.loads(line)["method"] for line in lines if line.startswith('{"method"')]
    assert methods == ["marketing", "implicit", "naive_dense"]
    # the same algorithm as implicit's item-item cosine: most of the top-10 lists agree
    result = json.loads(out.stdout[out.stdout.index("{\n"):])
    assert result["top_k_overlap_with_implicit_first_50_customers"] > 0.6
