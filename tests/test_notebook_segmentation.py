"""The segmentation template: its shape, and a headless papermill run for every case study."""

from __future__ import annotations

import ast

import nbformat
import pandas as pd
import pytest
from conftest import CASES, NOTEBOOKS, execute_template

TEMPLATE = NOTEBOOKS / "segmentation.ipynb"


def test_template_is_stripped_and_has_one_literal_parameters_cell():
    nb = nbformat.read(TEMPLATE, as_version=4)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    lines = [ln for ln in tagged[0].source.splitlines() if ln.strip()]
    names = []
    for line in lines:
        assert "  # " in line, f"parameter line without a trailing comment: {line!r}"
        statement = ast.parse(line).body[0]
        assert isinstance(statement, ast.Assign)
        ast.literal_eval(statement.value)  # literals only
        names.append(statement.targets[0].id)
    assert {"case_study", "seed", "data_size", "n_segments", "method", "export_dir"} <= set(names)
    assert "show_provenance" in code[-1].source and "NBVAL_IGNORE_OUTPUT" in code[-1].source


def _assert_clean(nb):
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            assert output.get("output_type") != "error"
            assert not (output.get("output_type") == "stream" and output.get("name") == "stderr"), (
                f"warning or error printed: {output.get('text', '')[:300]}"
            )
            text = output.get("data", {}).get("text/plain", "")
            assert "0x7f" not in text and "Pipeline(" not in text


@pytest.mark.slow
@pytest.mark.parametrize("case_study", CASES)
def test_notebook_runs_and_recovers_planted_segments(case_study, tmp_path):
    nb, metrics = execute_template("segmentation", tmp_path, case_study=case_study)
    _assert_clean(nb)
    assert metrics["n_segments"] == 4
    assert metrics["truth_ari"] >= 0.8
    assert metrics["truth_ari"] > metrics["rfm_truth_ari"]
    assert metrics["stability_ari"] >= 0.9
    assert 0 < metrics["silhouette"] <= 1
    assert sum(metrics["segment_sizes"].values()) == metrics["n_customers"] == 2000
    audience = pd.read_csv(tmp_path / "segment_audience.csv")
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
    audience = pd.read_csv(tmp_path / "segment_audience.csv")
    assert (audience["segment"] == -1).mean() == pytest.approx(metrics["noise_share"], abs=1e-4)
