"""`python -m marketing check`: a case file and its data checked in seconds, before any kernel."""

import os
import shutil
import subprocess
import sys

import pandas as pd
import pytest
import yaml

import marketing.reports
from marketing.cases import get_case
from marketing.cli import main
from marketing.datasets.files import EXAMPLE_CASE

from conftest import ROOT


@pytest.fixture
def shop(tmp_path):
    folder = tmp_path / "shop"
    shutil.copytree(EXAMPLE_CASE.parent, folder, ignore=shutil.ignore_patterns("*.py", "*.md"))
    return folder / "case.yml"


def broken(path):
    """Two typos in the case file: a top-level key and a file option."""
    raw = yaml.safe_load(path.read_text())
    raw["obsevation_end"] = raw.pop("observation_end")
    raw["files"]["transactions"]["date_fromat"] = raw["files"]["transactions"].pop("date_format")
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def test_check_the_example(capsys):
    assert main(["check", str(EXAMPLE_CASE)]) == 0
    out = capsys.readouterr().out
    assert "customers  300 rows" in out and "items      300 rows" in out
    assert "of 300 customers, 2025-01-01 to 2025-12-31; observation end 2026-01-01" in out
    for analysis in ("segmentation", "recommendation", "regression"):
        assert f"{analysis:<15} ready:" in out
    assert "targets Revenue_Next90d (continuous), Churned_Next90d (binary)" in out
    assert out.rstrip().splitlines()[-1].startswith("ok: ready to run")


def test_check_one_analysis(shop, capsys):
    raw = yaml.safe_load(shop.read_text())
    raw["analyses"] = ["segmentation"]
    shop.write_text(yaml.safe_dump(raw))
    assert main(["check", str(shop), "--analysis", "segmentation"]) == 0
    out = capsys.readouterr().out
    assert "segmentation    ready: 4 features for 300 customers" in out
    assert "regression      does not apply: not in the case's analyses" in out
    assert main(["check", str(shop), "--analysis", "regression"]) == 2
    assert "regression does not apply to case 'shop'" in capsys.readouterr().err


def test_check_a_broken_case_file_lists_every_problem(shop, capsys):
    assert main(["check", str(broken(shop))]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"error: case file {shop} has 2 problems" in captured.err
    assert f"{shop}: obsevation_end: unknown key; did you mean 'observation_end'?" in captured.err
    assert f"{shop}: files.transactions.date_fromat: unknown key; did you mean 'date_format'?" in captured.err


def test_check_bad_data_names_the_column(shop, capsys):
    folder = shop.parent
    pd.read_csv(folder / "transactions.csv").rename(columns={"Revenue": "Sales"}).to_csv(folder / "transactions.csv", index=False)
    assert main(["check", str(shop)]) == 2
    assert "missing column(s) ['Revenue']" in capsys.readouterr().err


def test_check_a_missing_target_column(shop, capsys):
    raw = yaml.safe_load(shop.read_text())
    raw["targets"]["binary"]["column"] = "Churned"
    shop.write_text(yaml.safe_dump(raw))
    assert main(["check", str(shop), "--analysis", "regression"]) == 2
    assert "no target column 'Churned'" in capsys.readouterr().err


def test_run_checks_a_case_file_before_papermill(shop, tmp_path, capsys, monkeypatch):
    def no_kernel(*args, **kwargs):
        raise AssertionError("papermill must not start on a broken case file")

    monkeypatch.setattr(marketing.reports, "build", no_kernel)
    out = tmp_path / "reports"
    assert main(["run", "--case", str(broken(shop)), "--analysis", "segmentation", "-o", str(out)]) == 2
    assert "obsevation_end: unknown key" in capsys.readouterr().err
    # bad data too, not only a bad file
    shutil.copy(EXAMPLE_CASE, shop)
    (shop.parent / "customers.csv").write_text("")
    assert main(["reports", "--case", str(shop), "--analysis", "segmentation", "-o", str(out)]) == 2
    assert "the file is empty" in capsys.readouterr().err
    assert not out.exists()


def test_check_from_the_shell_exits_2_without_traceback(shop):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "marketing", "check", str(broken(shop))],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "did you mean 'observation_end'?" in done.stderr


TILL = ROOT / "data" / "examples" / "till" / "case.yml"


def test_check_the_till_log_example(capsys):
    # a sales log alone, every quirk declared: no customers or products file, no pandas step
    assert main(["check", str(TILL)]) == 0
    out = capsys.readouterr().out
    assert "customers  300 rows" in out and "events     5,877 rows of 300 customers" in out
    assert "12 exact duplicate rows" in out and "12 missing-value codes in 'qty'" in out
    assert "recommendation  ready" in out and "segmentation    ready" in out


def test_the_till_log_example_runs_the_segmentation_report(tmp_path):
    from conftest import execute_template

    _, metrics = execute_template("segmentation", tmp_path, case_study=str(TILL), k_max=5, stability_runs=2)
    assert metrics["case_study"] == "till" and metrics["n_customers"] == 300
    assert metrics["silhouette"] > 0.2


def test_check_the_ratings_example(capsys):
    # ratings alone, times with summer and winter UTC offsets: explicit feedback for recommendation
    assert main(["check", str(ROOT / "data" / "examples" / "ratings" / "case.yml")]) == 0
    out = capsys.readouterr().out
    assert "customers  2,000 rows" in out and "items      120 rows" in out
    assert "recommendation  ready: 120 courses with events" in out


STUDENTS = ROOT / "data" / "examples" / "students" / "case.yml"


def test_the_students_example_runs_the_regression_report(tmp_path, capsys):
    # one row per person, no ids, no event log: check, then the report, with no pandas step
    assert main(["check", str(STUDENTS)]) == 0
    out = capsys.readouterr().out
    assert "events     none: one row per person" in out and "targets final (continuous), final_positive (binary)" in out
    from conftest import execute_template

    _, metrics = execute_template("regression", tmp_path, case_study=str(STUDENTS), n_boot=20, n_repeats=2)
    assert metrics["case_study"] == "students" and metrics["binary"]["target"] == "final_positive"
    # the models beat the mean on students they were not fitted on
    models = metrics["continuous"]["models"]
    assert models[metrics["continuous"]["best_model"]]["rmse"] < models["baseline"]["rmse"]


def test_items_derived_from_the_events_are_named_by_their_ids():
    # a catalogue derived from a ratings log has no name column: the explanations use the ids
    from marketing.recommend import ItemKNN, build_interactions
    from marketing.recommend.evaluation import explain_recommendations

    events = pd.DataFrame({"customer_id": [1, 1, 2, 2, 3], "item_id": ["A", "B", "A", "C", "B"]})
    model = ItemKNN(n_neighbors=2).fit(build_interactions(events))
    recommendations = pd.DataFrame({"customer_id": [3], "item_id": ["A"], "cold_start": [False]})
    out = explain_recommendations(model, recommendations, pd.DataFrame({"item_id": ["A", "B", "C"]}))
    assert out["because"].tolist() == ["because you have B"]


def with_content(shop, **content):
    raw = yaml.safe_load(shop.read_text())
    raw["content"] = content
    shop.write_text(yaml.safe_dump(raw, sort_keys=False))
    return shop


def test_check_shows_the_content_columns(shop, capsys):
    with_content(shop, customer_columns=["Region", "Channel", "Age"], item_columns=["category", "price"], text_column="name")
    assert main(["check", str(shop), "--analysis", "recommendation"]) == 0
    out = capsys.readouterr().out
    assert "customer-item pairs; content: 3 customer and 2 item columns, text 'name'" in out


@pytest.mark.parametrize("content, named", [
    ({"customer_columns": ["Regin"]}, "content.customer_columns names column 'Regin', which the customers table does not have"),
    ({"item_columns": ["category", "Colour"]}, "content.item_columns names column 'Colour', which the products table does not have"),
    # the source's name of a column the items' role mapping renamed: the message lists the names to use
    ({"text_column": "Description"}, "content.text_column names column 'Description', which the products table does not have; it has ['item_id', 'name'"),
    ({"customer_columns": ["Region", "Churned_Next90d"]}, "content.customer_columns names ['Churned_Next90d'], a target or leakage column of the customers table"),
])
def test_check_names_a_content_column_the_data_lack(shop, capsys, content, named):
    with_content(shop, **content)
    assert main(["check", str(shop), "--analysis", "recommendation"]) == 2
    assert named in capsys.readouterr().err


def test_builtin_cases_name_content_columns_their_data_have():
    from marketing.datasets import content_columns, load_case_data

    for name in ("ecommerce", "finance", "education", "health"):
        content = content_columns(load_case_data(name))
        assert content.customer_columns and content.item_columns == ("category", "price"), name
    assert get_case("ecommerce").for_source("online_retail_ii").content == {
        "customer_columns": ["country"], "item_columns": ["category", "price"], "text_column": "name"}
