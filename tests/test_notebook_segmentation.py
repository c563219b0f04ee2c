"""The segmentation template runs headless through the pipeline for every case and recovers the truth."""

from __future__ import annotations

import pandas as pd
import pytest

from conftest import CASES, committed_report, execute_template


def _text(nb) -> str:
    return "\n".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "stream")


def _assert_clean(nb):
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            assert output.get("output_type") != "error"
            assert not (output.get("output_type") == "stream" and output.get("name") == "stderr"), (
                f"warning or error printed: {output.get('text', '')[:300]}"
            )
            text = output.get("data", {}).get("text/plain", "")
            assert "0x7f" not in text and "Pipeline(" not in text


@pytest.mark.parametrize("case_study", CASES)
def test_committed_report_recovers_planted_segments(case_study):
    nb, metrics = committed_report("segmentation", case_study)
    _assert_clean(nb)
    assert metrics["engine"] == "pandas" and metrics["n_segments"] == 4
    assert metrics["truth_ari"] >= 0.8
    assert metrics["truth_ari"] > metrics["rfm_truth_ari"]
    assert metrics["stability_ari"] >= 0.9
    assert 0 < metrics["silhouette"] <= 1
    # the planted segments are large: none is suppressed, every size is exact, and nothing is warned about
    sizes = metrics["segment_sizes"]
    assert metrics["min_group_size"] == 10 and metrics["warnings"] == []
    assert all(isinstance(n, int) and n >= metrics["min_group_size"] for n in sizes.values()), sizes
    assert sum(sizes.values()) == metrics["n_customers"] == 2000
    assert "No warnings about the segment sizes." in _text(nb)
    assert "wrote 2,000 rows for 2,000 customers to segment_audience_crm_real_ids.csv" in _text(nb)
    # lifetime value by segment where the case's btyd section names its spend target (ecommerce only)
    value = metrics["segment_clv"]
    if case_study != "ecommerce":
        assert value is None and "BTYD does not apply" in _text(nb)
        return
    assert set(value) == set(sizes) and sum(v["share_of_clv"] for v in value.values()) == pytest.approx(1, abs=0.002)
    lowest = min(value, key=lambda name: value[name]["mean_clv_12m"])
    assert "lapsed" in lowest   # the planted lapsed customers are worth the least


@pytest.mark.slow
def test_notebook_on_duckdb_equals_the_pandas_report(tmp_path):
    """The DuckDB engine builds the customer table in DuckDB; the segments are the pandas ones."""
    nb, metrics = execute_template("segmentation", tmp_path, case_study="ecommerce", engine="duckdb")
    _assert_clean(nb)
    _, pandas_metrics = committed_report("segmentation", "ecommerce")
    assert metrics == pandas_metrics | {"engine": "duckdb"}
    audience = pd.read_csv(tmp_path / "segment_audience_crm_real_ids.csv")
    assert audience.columns.tolist() == ["customer_id", "segment", "segment_name", "action"]
    assert len(audience) == 2000 and audience["customer_id"].is_unique
    assert audience["segment"].nunique() == 4 and audience["action"].nunique() == 4


@pytest.mark.slow
def test_notebook_with_hdbscan_reports_noise(tmp_path):
    nb, metrics = execute_template(
        "segmentation", tmp_path, case_study="finance", method="hdbscan", stability_runs=2
    )
    _assert_clean(nb)
    assert metrics["method"] == "hdbscan"
    assert 0 < metrics["noise_share"] < 0.5
    audience = pd.read_csv(tmp_path / "segment_audience_crm_real_ids.csv")
    assert (audience["segment"] == -1).mean() == pytest.approx(metrics["noise_share"], abs=1e-4)
