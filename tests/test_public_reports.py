"""The templates on the real public datasets, through the report pipeline.

Runs where a local mirror of the datasets is configured (CI sets MARKETING_DATA_MIRROR to
../shared/datasets); skipped otherwise, since the project must not depend on it.
"""

from __future__ import annotations

import json
import os

import nbformat
import pytest

from marketing.reports import build, plan

from conftest import CASES

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not os.environ.get("MARKETING_DATA_MIRROR"),
                       reason="MARKETING_DATA_MIRROR is not set (e.g. ../shared/datasets)"),
]


@pytest.fixture(scope="module")
def public_reports(tmp_path_factory):
    reports = tmp_path_factory.mktemp("public-reports")
    public = {"data_source": "public"}
    # the regression reports choose their models on one validation split, not by 5-fold CV, and
    # shuffle each feature once for permutation importance, not five times (on the 9,000 held-out
    # bank customers the five shuffles of seven models took 97 of the report's 248 s): what is
    # checked here is held-out figures of named models, which neither changes, and both paths run
    # in full in every synthetic report
    jobs = (plan(CASES, ["segmentation", "recommendation"], public, reports_dir=reports)
            + plan(CASES, ["regression"], {**public, "cv": 0, "n_repeats": 1}, reports_dir=reports))
    result = build(jobs, n_jobs=2, echo=lambda _: None, reports_dir=reports)
    return reports, {(r["case"], r["analysis"]): r for r in result.records}


def test_every_public_report_runs_or_says_why_not(public_reports):
    _, records = public_reports
    assert len(records) == 12
    for (case, analysis), record in records.items():
        applies = case == "ecommerce" or analysis == "regression"
        assert record["status"] == ("ok" if applies else "not_applicable"), (case, analysis, record.get("error"))
        if not applies:
            assert "the data" in record["reason"]


def test_bank_marketing_without_duration_matches_the_published_auc(public_reports):
    _, records = public_reports
    binary = records[("finance", "regression")]["metrics"]["binary"]
    assert binary["target"] == "campaign_response"
    # published: about 0.77 cross-validated without `duration`; here on a stratified holdout
    assert 0.72 <= binary["models"]["logistic"]["roc_auc"] <= 0.80
    assert binary["models"][binary["best_model"]]["average_precision"] > 2 * binary["models"]["baseline"]["average_precision"]


def test_insurance_charges_are_mostly_explained(public_reports):
    _, records = public_reports
    continuous = records[("health", "regression")]["metrics"]["continuous"]
    # in-sample R^2 of the linear model is 0.751 (tests/test_public_adapters.py); held out it stays close
    assert 0.68 <= continuous["models"]["linear"]["r2"] <= 0.82
    assert continuous["models"]["gradient_boosting"]["r2"] > continuous["models"]["linear"]["r2"]


def test_online_retail_recommenders_beat_popularity(public_reports):
    _, records = public_reports
    metrics = records[("ecommerce", "recommendation")]["metrics"]
    assert metrics["models"][metrics["best_model"]]["ndcg"] > 1.2 * metrics["models"]["popularity"]["ndcg"]
    segmentation = records[("ecommerce", "segmentation")]["metrics"]
    assert segmentation["truth_ari"] is None and segmentation["n_segments"] >= 2
    # a published record never describes a segment smaller than the minimum group size
    least = segmentation["min_group_size"]
    assert all(n == f"<{least}" if isinstance(n, str) else n >= least for n in segmentation["segment_sizes"].values())


def test_real_data_reports_show_pseudonyms_and_exports_keep_real_ids(public_reports):
    reports, _ = public_reports
    nb = nbformat.read(str(reports / "ecommerce" / "recommendation.ipynb"), as_version=4)
    shown = json.dumps([c.get("outputs", []) for c in nb.cells if "show_campaign(" in c.source])
    assert "c_" in shown
    export = (reports / "ecommerce" / "recommendation_campaign_crm_real_ids.csv").read_text().splitlines()
    assert export[1].split(",")[0].isdigit()  # the CRM file keeps the real customer id
