"""The Spark scale-out benchmark keeps working: its quick mode runs both engines on the same
200,000-event Parquet log and they must agree (timings are never asserted); the pieces that decide
its numbers (the pandas projection, the process-tree memory, the data store) are checked by hand."""

import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT, require_spark

sys.path.insert(0, str(ROOT / "benchmarks"))
import bench_spark  # noqa: E402



def test_projection_is_linear_in_the_events():
    one = [{"events": 1_000, "peak_gib": 0.5, "total_s": 2.0}]
    # one size: proportional
    assert bench_spark.projection(one, 4_000) == {"peak_gib": 2.0, "total_s": 8.0}
    # several: the least-squares line (here exact: 0.2 GiB + 0.1 GiB per 1,000 events)
    runs = [{"events": 1_000, "peak_gib": 0.3, "total_s": 1.0}, {"events": 2_000, "peak_gib": 0.4, "total_s": 3.0},
            {"events": 3_000, "peak_gib": 0.5, "total_s": 5.0}]
    assert bench_spark.projection(runs, 10_000) == {"peak_gib": 1.2, "total_s": 19.0}
    # a falling trend (noise) is not extrapolated downwards
    falling = [{"events": 1_000, "peak_gib": 0.5, "total_s": 2.0}, {"events": 2_000, "peak_gib": 0.4, "total_s": 2.0}]
    assert bench_spark.projection(falling, 10_000)["peak_gib"] == 0.45


def test_agreement_compares_counts_totals_and_segment_shares():
    pandas_run = {"pipeline": "segmentation", "events": 10, "removed": {"returns": 1},
                  "totals": {"customers": 3, "recency_days": 30, "frequency": 7, "monetary": 100.0},
                  "segment_shares": [0.5, 0.3, 0.2]}
    spark_run = pandas_run | {"totals": pandas_run["totals"] | {"monetary": 100.0 + 1e-11},
                              "segment_shares": [0.5, 0.32, 0.18]}
    found = bench_spark.agreement(pandas_run, spark_run)
    assert found["rfm_totals_equal"] and found["same_rows_cleaned"]
    assert found["segment_share_max_difference"] == 0.02
    other = spark_run | {"totals": spark_run["totals"] | {"frequency": 8}}
    assert not bench_spark.agreement(pandas_run, other)["rfm_totals_equal"]


def test_ratios_pair_the_engines_at_each_size():
    records = [
        {"engine": "pandas", "events": 100, "total_s": 2.0, "cpu_s": 2.0, "peak_gib": 1.0},
        {"engine": "spark", "events": 100, "total_s": 10.0, "cpu_s": 15.0, "peak_gib": 3.0},
        {"engine": "pandas", "events": 500, "note": "not run: would need ~20 GiB"},
        {"engine": "spark", "events": 500, "total_s": 30.0, "cpu_s": 50.0, "peak_gib": 3.5},
    ]
    # only the size both engines ran is compared
    assert bench_spark.ratios(records) == [{"events": 100, "time": 5.0, "cpu": 7.5, "memory": 3.0}]
    assert bench_spark._ratio_line(records) == "Spark over pandas: 100 events: time 5.0x, CPU time 7.5x, peak memory 3.0x."


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads Linux /proc")
def test_tree_memory_counts_child_processes():
    # a child holding 300 MiB: this process's own high-water mark would not see it
    child = subprocess.Popen([sys.executable, "-c", "import sys, time; b = bytearray(300 * 2**20); "
                              "b[::4096] = b'x' * len(b[::4096]); print('ready', flush=True); time.sleep(30)"],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "ready"
        with bench_spark.TreeMemory(interval=0.05) as memory:
            assert child.pid in bench_spark.process_tree()
            hwm = memory.hwm_sum_gib()
    finally:
        child.kill()
        child.wait()
    assert hwm > 0.3 and memory.polled_peak_gib > 0.3


@pytest.mark.slow
def test_pandas_is_not_run_beyond_its_limits(tmp_path):
    # pandas only, two tiny sizes, a memory limit below any real run: the first size runs, the
    # second is projected past the limit and gets a "not run" row instead of a run
    # one chunk of the small generator holds 2,000 customers and 37,954 events: 3e4 is one chunk
    result = bench_spark.main(["--quick", "--engines", "pandas", "--sizes", "3e4", "6e4",
                               "--pandas-max-gib", "0.01", "--als-events", "3e4", "--data", str(tmp_path)])
    first, second = result["runs"]
    assert first["engine"] == "pandas" and first["total_s"] > 0 and first["totals"]["customers"] == 2_000
    assert second["note"].startswith("not run: would need ~") and "total_s" not in second
    # the limit is for the segmentation sizes; ALS ran at its size: ten items for every customer
    [als] = result["als"]
    assert als["totals"]["lists"] == als["totals"]["customers"] == 2_000 and als["totals"]["rows"] == 20_000
    # the store is reused when the same specification is asked for again
    manifest = json.loads(next(tmp_path.glob("*/manifest.json")).read_text())
    again = bench_spark.ensure_store(tmp_path, bench_spark.store_spec("small", 1, bench_spark.SEED), 60_000)
    assert again["chunks"] == manifest["chunks"] and len(again["chunks"]) == 2


@pytest.mark.slow
def test_quick_benchmark_engines_agree():
    require_spark()
    # segmentation only: every Spark run starts a JVM, and the suite's time is shared (the ALS
    # pipeline runs with `bench_spark.py --quick`, and on pandas in the test above)
    result = bench_spark.main(["--quick", "--als-events", "0"])
    for run in result["runs"] + result["als"]:
        assert "total_s" in run, f"{run['engine']} {run['pipeline']}: {run.get('note')}"
    runs = {run["engine"]: run for run in result["runs"]}
    assert set(runs) == {"pandas", "spark"}
    pandas_run, spark_run = runs["pandas"], runs["spark"]
    # six chunks (37,954 events each, for 200,000) of 2,000 customers whose ids were shifted apart
    assert pandas_run["totals"]["customers"] == spark_run["totals"]["customers"] == 12_000
    assert pandas_run["events"] == spark_run["events"] >= 200_000
    # the same rows cleaned away and the same RFM totals
    assert pandas_run["removed"] == spark_run["removed"]
    assert pandas_run["removed"]["returns or cancellations (negative quantity or amount)"] > 0
    for column in ("recency_days", "frequency"):
        assert pandas_run["totals"][column] == spark_run["totals"][column]
    assert spark_run["totals"]["monetary"] == pytest.approx(pandas_run["totals"]["monetary"], rel=1e-9)
    assert result["agreement"][0] == bench_spark.agreement(pandas_run, spark_run)
    assert result["agreement"][0]["rfm_totals_equal"] and result["als"] == []
    # the Spark run's memory covers the JVM (a child process), not only Python
    assert spark_run["processes"] >= 2 and spark_run["peak_gib"] > 0.4
