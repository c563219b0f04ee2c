"""The benchmark scripts keep working: their quick modes run here (timings are never asserted),
and the pieces that decide the numbers (medians, tables, the DuckDB query) are checked by hand."""

import json
import subprocess
import sys

import pandas as pd
import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import _common  # noqa: E402
import bench_duckdb  # noqa: E402
import bench_segmentation  # noqa: E402


def test_median_of_odd_and_even_counts():
    assert _common.median([3.0, 1.0, 2.0]) == 2.0
    assert _common.median([4.0, 1.0, 3.0, 2.0]) == 2.5
    with pytest.raises(ValueError):
        _common.median([])


def test_markdown_table_formats_numbers_and_missing_cells():
    table = _common.markdown_table([{"a": 1234, "b": 0.98765}, {"a": "x"}], ["a", "b"])
    assert table.splitlines() == ["| a | b |", "| --- | --- |", "| 1,234 | 0.9877 |", "| x | – |"]


def test_repeat_child_reports_median_time_and_largest_peak(tmp_path):
    script = tmp_path / "child.py"
    # the child reports the run number as its time and a peak that grows with it
    script.write_text(
        "import json, sys, pathlib\n"
        "counter = pathlib.Path(sys.argv[2])\n"
        "n = int(counter.read_text()) if counter.exists() else 0\n"
        "counter.write_text(str(n + 1))\n"
        "print(json.dumps({'total_s': [5.0, 1.0, 2.0][n], 'peak_rss_gib': [0.1, 0.3, 0.2][n]}))\n"
    )
    record = _common.repeat_child(script, [str(tmp_path / "n")], 3, ("total_s",))
    assert record["total_s"] == 2.0
    assert record["total_s_runs"] == [5.0, 1.0, 2.0]
    assert record["peak_rss_gib"] == 0.3
    assert record["repeats"] == 3


def test_duckdb_query_equals_marketing_rfm():
    import duckdb
    from marketing.features import rfm

    # times of day matter: 1.5 days before the end is 1 whole day (pandas floors)
    events = pd.DataFrame({
        "customer_id": [1, 1, 2, 2, 2],
        "order_id": [10, 11, 20, 20, 21],
        "item_id": [100, 100, 100, 101, 102],
        "timestamp": pd.to_datetime(["2024-01-01 18:00", "2024-01-30 12:00", "2024-01-15 00:00",
                                     "2024-01-15 00:00", "2024-02-02 00:00"]),
        "amount": [10.0, 30.0, 5.0, 7.0, 100.0],
    })
    end = pd.Timestamp("2024-02-01")
    con = duckdb.connect()
    con.register("events", events)
    theirs = con.execute(bench_segmentation._SQL, {"end": end.to_pydatetime()}).df().set_index("customer_id")
    ours = rfm(events, end)
    assert ours.loc[1, "recency_days"] == 1 and ours.loc[1, "tenure_days"] == 30
    assert ours.loc[1, "first_to_last_days"] == 28
    pd.testing.assert_frame_equal(theirs[list(ours.columns)].astype(float), ours.astype(float),
                                  check_names=False)


def _hand_worked_log(tmp_path):
    """Four order lines, written to events.parquet; 10 days 9 hours before the end is 10 whole
    days, and the event at the end is not seen."""
    events = pd.DataFrame({
        "customer_id": [1, 1, 2, 2], "order_id": [10, 11, 20, 21], "item_id": [100, 101, 100, 100],
        "timestamp": pd.to_datetime(["2024-01-01 00:00", "2024-01-21 15:00", "2024-01-30 23:59", "2024-02-01 00:00"]),
        "amount": [10.0, 30.0, 5.0, 99.0],
    })
    events.to_parquet(tmp_path / "events.parquet", coerce_timestamps="us")
    end = pd.Timestamp("2024-02-01")
    return events, end


def test_hand_written_duckdb_sql_equals_rfm_on_parquet(tmp_path):
    import duckdb

    from marketing.features import rfm

    events, end = _hand_worked_log(tmp_path)
    theirs = duckdb.connect().execute(
        bench_duckdb.SQL, {"end": end.to_pydatetime(), "path": str(tmp_path / "events.parquet")}
    ).df().set_index("customer_id").sort_index()
    ours = rfm(events, end)
    assert ours["recency_days"].tolist() == [10, 1] and ours["first_to_last_days"].tolist() == [20, 0]
    pd.testing.assert_frame_equal(theirs[list(ours.columns)], ours, check_dtype=False)


def test_hand_written_polars_query_equals_rfm_on_parquet(tmp_path):
    from marketing.features import rfm

    events, end = _hand_worked_log(tmp_path)
    theirs = bench_duckdb.polars_rfm(str(tmp_path / "events.parquet"), end.to_pydatetime())
    theirs = theirs.set_index("customer_id").sort_index()
    ours = rfm(events, end)
    assert theirs["recency_days"].tolist() == [10, 1] and theirs["tenure_days"].tolist() == [31, 1]
    pd.testing.assert_frame_equal(theirs[list(ours.columns)], ours, check_dtype=False, check_index_type=False)


@pytest.mark.slow
def test_duckdb_benchmark_quick():
    result = bench_duckdb.main(["--quick"])
    assert set(result["rfm"]) == set(bench_duckdb.RFM_METHODS)
    assert all(run["agrees_with_pandas"]["equal"] for m, run in result["rfm"].items() if m != "pandas")


@pytest.mark.slow
def test_segmentation_benchmark_quick_without_duckdb(monkeypatch):
    # the test environment may lack the bench extra: duckdb is then skipped with a note
    monkeypatch.setattr(bench_segmentation, "has_module", lambda name: False)
    result = bench_segmentation.main(["--quick"])
    rfm_runs = result["rfm"]["runs"]
    assert set(rfm_runs) == {"marketing", "pandas_apply"}
    assert "bench extra" in result["rfm"]["skipped"]["duckdb"]
    assert rfm_runs["pandas_apply"]["agrees_with_marketing"]["equal"]
    runs = result["kmeans"]["runs"]
    assert set(runs) == {"marketing", "minibatch", "kmeans", "kmeans_1_init"}
    # every contender finds the same segments as full k-means on the small data
    assert min(run["ari_with_kmeans"] for run in runs.values()) > 0.9


@pytest.mark.slow
def test_generate_benchmark_quick():
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_generate.py"), "--quick"],
        check=True, capture_output=True, text=True,
    )
    assert out.stdout.count('"size": "small"') == 4


@pytest.mark.slow
def test_reports_benchmark_quick():
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_reports.py"), "--quick"],
        check=True, capture_output=True, text=True, cwd=ROOT,
    )
    result = json.loads(out.stdout[out.stdout.index("{\n"):])
    assert result["reports"] == 1
    # nothing changed: the warm build re-runs nothing; one template changed: one report re-runs
    assert result["one_template_changed_reran"] == 1


def test_bench_cold_start_quick_runs_every_contender():
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_cold_start.py"), "--quick"],
                         capture_output=True, text=True, timeout=300, check=True, cwd=ROOT)
    result = json.loads(out.stdout[out.stdout.index("\n{\n") + 1:])
    runs = result["sizes"][0]["runs"]
    assert set(runs) == {"popularity", "content", "hybrid"}
    # the hybrid's weight comes from its training hold-out, one NDCG per grid value
    assert runs["hybrid"]["weight"] in (0.0, 0.25, 0.5, 0.75, 1.0)
    assert len(runs["hybrid"]["validation_ndcg"]) == 5
    assert all(0 <= run["ndcg_at_10"] <= 1 for run in runs.values())
