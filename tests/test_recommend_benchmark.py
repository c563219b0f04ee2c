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
    result = json.loads(out.stdout[out.stdout.index("{\n"):])
    (size,) = result["sizes"]
    runs = size["runs"]
    assert list(runs) == ["popularity", "itemknn", "implicit_cosine", "ease", "als", "implicit_als",
                          "naive_user_user"]
    ndcg = {method: run["ndcg_at_10"] for method, run in runs.items()}
    # the same algorithms as the peers: the same quality on the same held-out pairs
    assert abs(ndcg["itemknn"] - ndcg["implicit_cosine"]) < 0.01
    assert abs(ndcg["als"] - ndcg["implicit_als"]) < 0.01
    # every collaborative filter beats the popularity baseline on the held-out pairs
    assert min(v for m, v in ndcg.items() if m != "popularity") > ndcg["popularity"]
    assert "itemknn_time_over_implicit_cosine" in size["ratios"]
