"""The regression template runs headless through the pipeline for every case and meets its goals."""

import pandas as pd
import pytest

from conftest import CASES, execute_template

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
    contacts = pd.read_csv(tmp_path / "contact_list_crm_real_ids.csv")
    assert list(contacts.columns[:5]) == ["customer_id", "score", "decile", "band", "contact"]
    assert len(contacts) == 2000 and contacts["customer_id"].is_unique
    assert set(contacts["contact"]) <= {"yes", "no"}
    assert (contacts["contact"] == "yes").sum() == metrics["targeting"]["list_contacted"]
