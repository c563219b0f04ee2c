"""The regression template: stripped and parameterized, and it runs headless for every case."""

import ast

import nbformat
import pandas as pd
import pytest

from conftest import CASES, NOTEBOOKS, execute_template

TEMPLATE = NOTEBOOKS / "regression.ipynb"
PARAMETERS = {"case_study", "seed", "data_size", "test_size", "n_boot", "n_repeats", "export_dir"}


@pytest.fixture(scope="module")
def template():
    return nbformat.read(str(TEMPLATE), as_version=4)


def test_template_is_committed_without_outputs(template):
    assert template.metadata["kernelspec"]["name"] == "python3"
    assert template.metadata["kernelspec"]["display_name"] == "Python 3"
    for cell in template.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


def test_one_parameters_cell_of_commented_literals(template):
    tagged = [c for c in template.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    names = set()
    for line in tagged[0].source.splitlines():
        node = ast.parse(line).body[0]
        assert isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant), line
        assert "  # " in line, f"parameter without a comment: {line}"
        names.add(node.targets[0].id)
    assert names == PARAMETERS


def test_ends_with_the_record_then_provenance(template):
    code = [c for c in template.cells if c.cell_type == "code"]
    assert "record_metrics(" in code[-2].source
    assert code[-1].source.startswith("# NBVAL_IGNORE_OUTPUT")
    assert "show_provenance(" in code[-1].source
    assert all(f"{name}={name}" in code[-1].source for name in PARAMETERS)
    assert template.cells[-2].cell_type == "markdown" and template.cells[-2].source.startswith("## Provenance")


@pytest.mark.slow
@pytest.mark.parametrize("case_study", CASES)
def test_runs_for_every_case(tmp_path, case_study):
    nb, metrics = execute_template("regression", tmp_path, case_study=case_study, n_boot=50, n_repeats=2)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            assert output.get("output_type") != "error"
            assert output.get("name") != "stderr", output.get("text")
    assert metrics["case_study"] == case_study
    for kind, keys in (("continuous", {"r2", "rmse", "mae"}), ("binary", {"roc_auc", "average_precision", "brier", "log_loss"})):
        record = metrics[kind]
        assert record["target"]
        assert "baseline" in record["models"] and len(record["models"]) == 5
        assert all(keys <= set(m) for m in record["models"].values())
        assert record["best_model"] != "baseline"
        assert 0 < record["coef_coverage"] <= 1
    assert metrics["continuous"]["models"][metrics["continuous"]["best_model"]]["r2"] > 0.3
    assert metrics["binary"]["models"][metrics["binary"]["best_model"]]["roc_auc"] > 0.6
    contacts = pd.read_csv(tmp_path / "contact_list.csv")
    assert list(contacts.columns[:5]) == ["customer_id", "score", "decile", "band", "contact"]
    assert len(contacts) == 2000 and contacts["customer_id"].is_unique
    assert set(contacts["contact"]) <= {"yes", "no"}
    assert (contacts["contact"] == "yes").sum() == metrics["targeting"]["list_contacted"]
