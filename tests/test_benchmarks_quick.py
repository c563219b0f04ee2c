"""The benchmark scripts keep working: their quick modes run here (timings are never asserted)."""

import subprocess
import sys

import pytest

from conftest import ROOT


@pytest.mark.slow
def test_generate_benchmark_quick():
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_generate.py"), "--quick"],
        check=True, capture_output=True, text=True,
    )
    assert out.stdout.count('"size": "small"') == 4
