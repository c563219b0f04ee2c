"""The recommendation template runs headless through the pipeline for every case and meets its goals."""

import pandas as pd
import pytest

from conftest import CASES, execute_template

METRIC_KEYS = {"precision", "recall", "ndcg", "hit_rate", "coverage"}


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
    campaign = pd.read_csv(tmp_path / "recommendation_campaign_crm_real_ids.csv")
    assert campaign.columns.tolist() == ["customer_id", "rank", "item_id", "item_name", "score", "cold_start"]
    assert campaign["customer_id"].nunique() == 2000
    # nothing on stderr: no warnings leak into the report
    streams = [o for c in nb.cells for o in c.get("outputs", []) if o.get("name") == "stderr"]
    assert streams == []
