"""The recommendation template: its shape, and headless runs for every case study."""

import ast

import nbformat
import pandas as pd
import pytest

from conftest import CASES, NOTEBOOKS, execute_template

TEMPLATE = NOTEBOOKS / "recommendation.ipynb"
METRIC_KEYS = {"precision", "recall", "ndcg", "hit_rate", "coverage"}


def test_template_is_stripped_and_parameterized():
    nb = nbformat.read(str(TEMPLATE), as_version=4)
    assert nb.metadata.kernelspec.name == "python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    lines = [line for line in tagged[0].source.splitlines() if line.strip()]
    names = set()
    for line in lines:
        assert "  # " in line, f"parameter without a comment: {line}"
        statement = ast.parse(line).body[0]
        ast.literal_eval(statement.value)  # literals only
        names.add(statement.targets[0].id)
    assert {"case_study", "seed", "data_size", "top_k", "split", "export_dir"} <= names
    assert nb.cells[-2].cell_type == "markdown" and "Provenance" in nb.cells[-2].source
    assert "show_provenance" in nb.cells[-1].source and "NBVAL_IGNORE_OUTPUT" in nb.cells[-1].source


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
def test_notebook_runs_and_records_results(tmp_path, case):
    nb, metrics = execute_template("recommendation", tmp_path, case_study=case)
    assert metrics["k"] == 10
    models = metrics["models"]
    assert "popularity" in models and len(models) >= 5
    assert all(METRIC_KEYS <= set(values) for values in models.values())
    best = metrics["best_model"]
    assert models[best]["ndcg"] >= 1.2 * models["popularity"]["ndcg"]
    assert (metrics["ratings"] is not None) == (case == "education")
    campaign = pd.read_csv(tmp_path / "recommendation_campaign.csv")
    assert campaign.columns.tolist() == ["customer_id", "rank", "item_id", "item_name", "score", "cold_start"]
    assert campaign["customer_id"].nunique() == 2000
    # nothing on stderr: no warnings leak into the report
    streams = [o for c in nb.cells for o in c.get("outputs", []) if o.get("name") == "stderr"]
    assert streams == []
