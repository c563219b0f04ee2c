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


def test_template_is_engine_free_and_short():
    """No engine branches, no "pandas engine only", at most 100 code lines, no long cells."""
    import re

    import nbformat

    from conftest import NOTEBOOKS

    nb = nbformat.read(str(NOTEBOOKS / "recommendation.ipynb"), as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    text = "\n".join(c.source for c in nb.cells)
    assert not re.search(r"\bif\s+engine\b|\bengine\s*[!=]=|==\s*engine\b|\bengine\s+in\b", text)
    assert "pandas engine only" not in text and "spark_rec" not in text
    lines = lambda cell: [line for line in cell.source.splitlines() if line.strip()]  # noqa: E731
    assert sum(len(lines(c)) for c in code) <= 100
    for i, cell in enumerate(code):
        if i == 0 or "parameters" in cell.metadata.get("tags", []):  # the imports, the parameters
            continue
        assert len(lines(cell)) <= 12, f"code cell {i} has {len(lines(cell))} lines"
    # what an engine lacks is printed by the package, once at the top
    assert sum("capability_note(" in c.source for c in code) == 1
    # Spark is named in one "Try it" line and the parameters, not a paragraph per section
    markdown = [c.source for c in nb.cells if c.cell_type == "markdown"]
    assert sum("spark" in s.lower() for s in markdown) == 1
