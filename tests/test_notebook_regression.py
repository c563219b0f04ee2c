"""The regression template runs headless through the pipeline for every case and meets its goals."""

import pandas as pd
import pytest

from conftest import CASES, committed_report, execute_template
from marketing.regression import MODEL_NAMES

def _assert_goals(nb, metrics, case_study):
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            assert output.get("output_type") != "error"
            assert output.get("name") != "stderr", output.get("text")
    assert metrics["case_study"] == case_study
    for kind, keys in (("continuous", {"r2", "rmse", "mae"}), ("binary", {"roc_auc", "average_precision", "brier", "log_loss"})):
        record = metrics[kind]
        assert record["target"]
        assert set(record["models"]) == set(MODEL_NAMES[kind])   # every model of the suite is in the record
        assert all(keys <= set(m) for m in record["models"].values())
        assert record["best_model"] != "baseline"
        assert 0 < record["coef_coverage"] <= 1
    assert metrics["continuous"]["models"][metrics["continuous"]["best_model"]]["r2"] > 0.3
    assert metrics["binary"]["models"][metrics["binary"]["best_model"]]["roc_auc"] > 0.6


@pytest.mark.parametrize("case_study", CASES)
def test_committed_report_meets_its_goals(case_study):
    nb, metrics = committed_report("regression", case_study)
    assert metrics["engine"] == "pandas"
    _assert_goals(nb, metrics, case_study)


@pytest.mark.slow
def test_notebook_on_duckdb_equals_the_pandas_report(tmp_path):
    """DuckDB builds the features; the models and every recorded number are the pandas report's."""
    nb, metrics = execute_template("regression", tmp_path, case_study="health", engine="duckdb")
    _assert_goals(nb, metrics, "health")
    _, pandas_metrics = committed_report("regression", "health")
    assert metrics == pandas_metrics | {"engine": "duckdb"}
    contacts = pd.read_csv(tmp_path / "contact_list_crm_real_ids.csv")
    assert list(contacts.columns[:5]) == ["customer_id", "score", "decile", "band", "contact"]
    assert len(contacts) == 2000 and contacts["customer_id"].is_unique
    assert set(contacts["contact"]) <= {"yes", "no"}
    assert (contacts["contact"] == "yes").sum() == metrics["targeting"]["list_contacted"]
