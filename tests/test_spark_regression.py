"""Regression on the Spark engine against the pandas engine on the same data, through the one API.

The relational steps are one implementation (narwhals) for both engines, so their tables must be
equal; the models differ per engine, within the tolerances below.

Tolerances, and why (measured on the four built-in cases, seed 42, "small"):

- coefficients and standard errors of the linear model against statsmodels OLS: relative 1e-8
  (measured: at most 2e-11); of the logistic model against statsmodels Logit: relative 1e-6
  (measured: at most 6e-11; both fits are exact maximum likelihood, Spark's IRLS converged to
  1e-10); p-values: 1e-8 absolute;
- held-out RMSE, MAE and R² of the linear model against scikit-learn's: relative 1e-8
  (measured: 1e-14);
- held-out ROC AUC of the logistic model against scikit-learn's: 1e-3, log loss 1e-4 (scikit-learn's
  lbfgs stops at a tolerance of 1e-4, so its probabilities differ from the exact fit in the fifth
  decimal; measured: AUC at most 1e-4 apart, log loss 3e-5);
- the baselines, and every metric and ranking table computed from the same numbers: 1e-12.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import pandas as pd
import pytest

from conftest import CASES, execute_template, require_spark
from marketing import get_case, load_case_data
from marketing import regression
from marketing.capabilities import FLEXIBLE_MODELS
from marketing.frames import positions, running_sums
from marketing.regression.splits import frame_holdout
from marketing.regression import report
from marketing.validation import DataValidationError

require_spark()  # skips with the reason without pyspark or Java (fails in CI)

from marketing.spark import regression as spark_engine  # noqa: E402
from marketing.spark.data import to_spark  # noqa: E402

GLM = {"continuous": "linear", "binary": "logistic"}
COEFFICIENT_RTOL = {"continuous": 1e-8, "binary": 1e-6}


def _ids(frame) -> list:
    return sorted(r[0] for r in frame.select("customer_id").collect())


@pytest.mark.slow
@pytest.mark.parametrize("case_name", CASES)
def test_both_engines_agree_on_split_coefficients_and_metrics(spark, case_name):
    data = load_case_data(case_name)
    problem = regression.regression_problem(data)
    sproblem = regression.regression_problem(to_spark(data, spark))
    assert sproblem.feature_columns == problem.feature_columns and sproblem.levels == problem.levels
    # the summaries are one implementation: the same table on both engines
    pd.testing.assert_frame_equal(regression.feature_overview(sproblem), regression.feature_overview(problem))
    assert regression.target_summary(sproblem) == pytest.approx(regression.target_summary(problem), rel=1e-12)
    splits, ssplits = regression.holdouts(problem), regression.holdouts(sproblem)
    for kind in ("continuous", "binary"):
        split, ssplit = splits[kind], ssplits[kind]
        # the same customers held out, described in the same words
        assert _ids(ssplit.test) == sorted(problem.features.index[split.test])
        assert (ssplit.description, ssplit.cutoff, ssplit.n_test) == (split.description, split.cutoff, split.n_test)

        ours = regression.fit_suite(kind, sproblem, ssplit)
        theirs = regression.fit_suite(kind, problem, split, n_boot=1, names=[GLM[kind]])
        assert ours.intervals is None and ours.label == theirs.label
        for scale in ("raw", "standardized"):
            expected = theirs.coefficient_table(scale=scale)
            got = ours.coefficient_table(scale=scale)
            assert list(got.index) == list(expected.index)
            columns = ["estimate", "std_err", "low", "high"]
            np.testing.assert_allclose(got[columns], expected[columns], rtol=COEFFICIENT_RTOL[kind], atol=0)
            np.testing.assert_allclose(got["p_value"], expected["p_value"], rtol=0, atol=1e-8)

        metrics, reference = ours.metrics, theirs.metrics
        np.testing.assert_allclose(metrics.loc["baseline"], reference.loc["baseline"], rtol=1e-12, atol=1e-12)
        if kind == "continuous":
            np.testing.assert_allclose(metrics.loc["linear"], reference.loc["linear"], rtol=1e-8)
            assert metrics.loc["linear", "rmse"] < metrics.loc["baseline", "rmse"]
            assert metrics.loc["linear", "r2"] > 0.3
        else:
            assert abs(metrics.loc["logistic", "roc_auc"] - reference.loc["logistic", "roc_auc"]) < 1e-3
            assert abs(metrics.loc["logistic", "log_loss"] - reference.loc["logistic", "log_loss"]) < 1e-4
            assert metrics.loc["logistic", "log_loss"] < metrics.loc["baseline", "log_loss"]
            assert metrics.loc["logistic", "roc_auc"] > 0.6
        assert ours.best == GLM[kind]

        # the planted coefficients are covered exactly as on the pandas path
        truth = data.truth.coefficients(problem.target_column(kind))
        covered = regression.coverage(ours.coefficient_table(), truth)["covered"]
        expected_covered = regression.coverage(theirs.coefficient_table(), truth)["covered"]
        pd.testing.assert_series_equal(covered, expected_covered)
        assert covered.mean() >= 0.5


@pytest.fixture
def sorted_in_pieces(spark):
    """Sorts spread over four partitions, as at scale (adaptive execution would merge small ones into one)."""
    key = "spark.sql.adaptive.coalescePartitions.enabled"
    before = spark.conf.get(key)
    spark.conf.set(key, "false")
    yield spark
    spark.conf.set(key, before)


def test_metrics_equal_hand_worked_examples_and_spark_evaluators(sorted_in_pieces):
    spark = sorted_in_pieces
    from pyspark.ml.evaluation import BinaryClassificationEvaluator, RegressionEvaluator

    metric_table = regression.metric_table
    frame = spark.createDataFrame(pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0], "f": [1.0, 2.0, 3.0, 6.0]}))
    # squared errors 0, 0, 0, 4 (mean 1); absolute errors sum 2; sum of squares about the mean 5
    assert metric_table("continuous", frame, "y", ["f"]).loc["f"].to_dict() == pytest.approx({"r2": 0.2, "rmse": 1.0, "mae": 0.5})

    # four rows: 3 of the 4 positive-negative pairs are ordered right; precision 1 at recall 1/2,
    # then 2/3 at recall 1; a constant score ranks nothing (AUC 1/2, AP the positive rate)
    frame = spark.createDataFrame(pd.DataFrame({"y": [0, 0, 1, 1], "p": [0.1, 0.6, 0.4, 0.8], "c": 0.3}))
    got = metric_table("binary", frame, "y", ["p", "c"])
    assert got.loc["p", "roc_auc"] == 0.75
    assert got.loc["p", "average_precision"] == pytest.approx(1 / 2 + 1 / 2 * 2 / 3)
    assert got.loc["p", "brier"] == pytest.approx((0.01 + 0.36 + 0.36 + 0.04) / 4)
    assert got.loc["p", "log_loss"] == pytest.approx(-np.log([0.9, 0.4, 0.4, 0.8]).mean())
    assert (got.loc["c", "roc_auc"], got.loc["c", "average_precision"]) == (0.5, 0.5)
    single = spark.createDataFrame(pd.DataFrame({"y": [1, 1], "p": [0.2, 0.7]}))
    assert np.isnan(metric_table("binary", single, "y", ["p"]).loc["p", "roc_auc"])

    # many ties, spread over several partitions: the pandas definitions and Spark's evaluators
    rng = np.random.default_rng(0)
    n = 3001
    y = (rng.random(n) < 0.3).astype(int)
    p = np.round(np.clip(0.3 + 0.2 * (y - 0.3) + rng.normal(0, 0.2, n), 0, 1), 2)   # ties, and 0 and 1 exactly
    frame = spark.createDataFrame(pd.DataFrame({"y": y, "p": p, "f": p * 10})).repartition(5)
    got = metric_table("binary", frame, "y", ["p"]).loc["p"]
    expected = regression.binary_metrics(y, p)
    np.testing.assert_allclose(got[list(expected)].to_numpy(dtype=float), list(expected.values()), rtol=1e-12)
    evaluator = BinaryClassificationEvaluator(rawPredictionCol="p", labelCol="y", numBins=0)
    assert got["roc_auc"] == pytest.approx(evaluator.evaluate(frame.withColumn("y", frame["y"].cast("double"))), rel=1e-12)
    got = metric_table("continuous", frame, "f", ["p"]).loc["p"]
    expected = regression.continuous_metrics(p * 10, p)
    np.testing.assert_allclose(got[list(expected)].to_numpy(dtype=float), list(expected.values()), rtol=1e-12)
    for metric in ("rmse", "mae", "r2"):
        evaluator = RegressionEvaluator(predictionCol="p", labelCol="f", metricName=metric)
        assert got[metric] == pytest.approx(evaluator.evaluate(frame), rel=1e-12)


def test_gains_calibration_profit_and_campaign_list_equal_the_pandas_path(sorted_in_pieces):
    from pyspark.sql import functions as F

    spark = sorted_in_pieces
    rng = np.random.default_rng(1)
    n = 1003   # not a multiple of ten: the first deciles are one customer smaller
    ids = rng.permutation(np.arange(100, 100 + n))
    y = (rng.random(n) < 0.25).astype(int)
    p = np.round(np.clip(0.25 + 0.3 * (y - 0.25) + rng.normal(0, 0.15, n), 0.001, 0.999), 2)   # many ties
    local = pd.DataFrame({"customer_id": ids, "y": y, "p": p})
    frame = spark.createDataFrame(local).repartition(4)
    # the running sums cross partition boundaries (each partition adds the totals of those before it)
    ordered, totals = running_sums(frame, ["p", "customer_id"], [True, False], ["y"])
    ordered = ordered.to_native()
    assert ordered.select(F.spark_partition_id()).distinct().count() == 4
    assert totals == {"y": int(y.sum())}
    got = ordered.toPandas().sort_values(["p", "customer_id"], ascending=[False, True])
    expected = local.sort_values(["p", "customer_id"], ascending=[False, True])
    assert got["customer_id"].tolist() == expected["customer_id"].tolist()
    assert got["_cum_y"].tolist() == expected["y"].cumsum().tolist()
    # ranks keep the sorted layout: collected, the rows come in rank order
    ranks, count = positions(frame, ["p", "customer_id"], [True, False])
    assert count == n and ranks.to_native().toPandas()["customer_id"].tolist() == expected["customer_id"].tolist()

    # one implementation: the same tables from the Spark frame and from the pandas frame
    exact = {"check_exact": False, "rtol": 1e-12}
    pd.testing.assert_frame_equal(regression.gains_table(frame, "y", "p"), regression.gains_table(local, "y", "p"), **exact)
    pd.testing.assert_frame_equal(
        regression.calibration_table(frame, "y", "p", n_bins=7), regression.calibration_table(local, "y", "p", n_bins=7), **exact
    )
    cost, value = 12.0, 40.0
    curve = regression.profit_curve(frame, "y", "p", cost, value, n_points=20)
    pd.testing.assert_frame_equal(curve, regression.profit_curve(local, "y", "p", cost, value, n_points=20), **exact)
    # the points: nobody, the end of each twentieth (ceil(b n / 20) customers), the rule's cut and
    # the best cut in hindsight, which the curve's maximum finds as on the full curve
    full = regression.profit_curve(local, "y", "p", cost, value, n_points=n)
    assert full["contacted"].tolist() == list(range(n + 1))
    k = int((p > regression.break_even_probability(cost, value)).sum())
    best = int(full["realised_profit"].idxmax())
    assert list(curve["contacted"]) == sorted({0, k, best, *(-(-b * n // 20) for b in range(1, 21))})
    pd.testing.assert_frame_equal(curve, full.loc[curve["contacted"]].reset_index(drop=True), **exact)

    actions = get_case("ecommerce").playbook["score_bands"]
    got = regression.campaign_list(frame, "p", cost, value, actions=actions)
    expected = regression.campaign_list(local, "p", cost, value, actions=actions)
    pd.testing.assert_frame_equal(got.toPandas(), expected, check_dtype=False, **exact)
    assert regression.contact_totals(got) == pytest.approx(regression.contact_totals(expected), rel=1e-12)


def test_design_imputes_and_encodes_like_the_pandas_path(spark):
    X = pd.DataFrame(
        {
            "age": [30.0, None, 50.0, 20.0, 41.0, None],
            # 'b' and 'a' are tied as the most frequent level: the first listed wins, as in design_matrix
            "mode": pd.Categorical(["b", "a", None, "a", "b", "c"], categories=["b", "a", "c"]),
            "visits": [1, 2, 3, 4, 5, 6],
        },
        index=pd.Index([1, 2, 3, 4, 5, 6], name="customer_id"),
    )
    frame = spark.createDataFrame(X.reset_index().astype({"mode": object}))
    encoder = spark_engine.DesignEncoder(["age", "mode", "visits"], {"mode": ["b", "a", "c"]}).fit(frame)
    assert encoder.medians_ == {"age": 35.5, "visits": 3.5}   # the median of an even count averages the middle two
    assert encoder.modes_ == {"mode": "b"}
    got = encoder.term_columns(frame).toPandas().set_index("customer_id").sort_index()
    expected = regression.design_matrix(X).drop(columns="intercept")
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    # a level never seen in training is encoded like the reference level
    unseen = spark.createDataFrame(pd.DataFrame({"customer_id": [9], "age": [1.0], "mode": ["z"], "visits": [1]}))
    assert encoder.term_columns(unseen).first().asDict() == {"customer_id": 9, "age": 1.0, "mode_a": 0.0, "mode_c": 0.0, "visits": 1.0}


@pytest.fixture(scope="module")
def finance(spark):
    return regression.regression_problem(to_spark(load_case_data("finance"), spark))


def test_stratified_holdout_without_time_is_reproducible_and_keeps_the_class_mix(finance):
    problem = dataclasses.replace(finance, time=None)
    split = frame_holdout(problem, "binary", test_size=0.25, random_state=3)
    assert split.method == "stratified" and split.cutoff is None
    counts = problem.table.groupBy("campaign_response").count().toPandas().set_index("campaign_response")["count"]
    test_counts = split.test.groupBy("campaign_response").count().toPandas().set_index("campaign_response")["count"]
    pd.testing.assert_series_equal(test_counts.sort_index(), np.ceil(0.25 * counts).astype("int64").sort_index())
    test, train = _ids(split.test), _ids(split.train)
    assert (len(test), len(train)) == (split.n_test, split.n_train)
    assert not set(test) & set(train) and len(test) + len(train) == problem.n_customers
    assert _ids(frame_holdout(problem, "binary", test_size=0.25, random_state=3).test) == test
    assert _ids(frame_holdout(problem, "binary", test_size=0.25, random_state=4).test) != test
    continuous = frame_holdout(problem, "continuous", test_size=0.25, random_state=3)
    assert continuous.n_test == 500 and len(_ids(continuous.test)) == 500   # five equal fifths of 2,000


def _with_customers(data, change):
    return dataclasses.replace(data, customers=change(data.customers))


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda d: dataclasses.replace(d, case=dataclasses.replace(d.case, regression_features=["age", "call_duration"])),
         r"regression_features \['call_duration'\] are listed under leakage"),
        (lambda d: _with_customers(d, lambda c: c.drop("campaign_response")), r"no target column 'campaign_response'"),
        (lambda d: _with_customers(d, lambda c: c.withColumn("campaign_response", c["campaign_response"] * 2)),
         r"binary target 'campaign_response' must hold 0/1 but has values \[0, 2\]"),
        (lambda d: _with_customers(d, lambda c: c.withColumn("card_spend_next_year", c["age"] * 0 + 3.0)),
         r"target 'card_spend_next_year' is constant"),
        (lambda d: _with_customers(d, lambda c: c.withColumn("campaign_response", c["campaign_response"].cast("string"))),
         r"target 'campaign_response' must be numeric but has type String, such as '\d'"),
        (lambda d: _with_customers(d, lambda c: c.withColumn("age", c["signup_date"])), r"column 'age' holds dates"),
        (lambda d: _with_customers(d, lambda c: c.withColumn("income", c["income"] * None)), r"column 'income' has no values at all"),
    ],
    ids=["leakage", "no target", "not 0/1", "constant", "text target", "dates", "all missing"],
)
def test_bad_input_gets_a_clear_error(spark, make, message):
    data = to_spark(load_case_data("finance"), spark)
    with pytest.raises(DataValidationError, match=message):
        regression.regression_problem(make(data))


def test_bad_parameters_and_constant_terms_are_refused(finance):
    from pyspark.sql import functions as F

    with pytest.raises(DataValidationError, match="a test_size of 0.9995 leaves 1 training"):
        frame_holdout(finance, test_size=0.9995)
    with pytest.raises(ValueError, match="kind must be one of"):
        frame_holdout(finance, kind="ordinal")
    undated = finance.table.withColumn("signup_date", F.when(F.col("customer_id") != 5, F.col("signup_date")))
    with pytest.raises(DataValidationError, match="time column 'signup_date' has 1 missing"):
        frame_holdout(dataclasses.replace(finance, table=undated))
    split = frame_holdout(finance)
    constant = dataclasses.replace(split, train=split.train.withColumn("region", F.lit("north")))
    with pytest.raises(DataValidationError, match=r"constant terms: \['region_east', 'region_south', 'region_west'\]"):
        regression.fit_suite("binary", finance, constant)
    collinear = dataclasses.replace(split, train=split.train.withColumn("income", F.col("age") * 2 + 1))
    with pytest.raises(DataValidationError, match="rank-deficient .*some columns are collinear"):
        regression.fit_suite("continuous", finance, collinear)
    with pytest.raises(ValueError, match=r"\['ridge'\]: ridge, penalised .* not on engine spark"):
        regression.fit_suite("continuous", finance, split, names=["ridge"])
    result = regression.fit_suite("continuous", finance, split)
    with pytest.raises(ValueError, match="scale must be 'raw' or 'standardized'"):
        result.coefficient_table(scale="log")
    with pytest.raises(ValueError, match="contact_cost must be >= 0"):
        regression.profit_curve(result.predictions, "card_spend_next_year", "linear", -1.0, 10.0)


def test_contact_list_for_every_customer_is_written_by_spark(finance, tmp_path, capsys):
    result = regression.fit_suite("binary", finance, regression.holdouts(finance)["binary"])
    # the steps Spark lacks say so, in the capability table's words, instead of failing
    report.show_tree(result)
    report.show_intervals(result, "roc_auc")
    assert report.importances({"binary": result}, finance, {}) is None
    assert "permutation importance: not on engine spark" in capsys.readouterr().out
    assert f"{FLEXIBLE_MODELS}: not on engine spark" in report.suite_note(result)
    scored = result.predict(finance.table)
    contacts = regression.campaign_list(scored, "score", 5.0, 120.0, actions={"high": "call", "medium": "mail", "low": "none"})
    folder = regression.export_campaign_list(contacts, tmp_path)
    assert str(folder).endswith("contact_list_crm_real_ids.csv")
    parts = sorted((tmp_path / "contact_list_crm_real_ids.csv").glob("part-*.csv"))
    written = pd.concat([pd.read_csv(part) for part in parts], ignore_index=True)
    assert list(written.columns) == ["customer_id", "score", "decile", "band", "contact", "expected_profit", "action"]
    assert len(written) == 2000 and written["customer_id"].is_unique
    assert written["score"].is_monotonic_decreasing   # part files in name order: best scores first
    assert (written["decile"].value_counts() == 200).all()
    assert ((written["contact"] == "yes") == (written["score"] > 5.0 / 120.0)).all()
    assert written.groupby("band")["action"].first().to_dict() == {"high": "call", "low": "none", "medium": "mail"}


@pytest.mark.slow
def test_notebook_runs_on_spark_and_agrees_with_the_pandas_engine(tmp_path):
    nb, metrics = execute_template("regression", tmp_path, case_study="ecommerce", engine="spark")
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            assert output.get("output_type") != "error"
            assert output.get("name") != "stderr", output.get("text")
    assert metrics["engine"] == "spark"
    data = load_case_data("ecommerce")
    problem = regression.regression_problem(data)
    splits = regression.holdouts(problem)
    for kind in ("continuous", "binary"):
        record = metrics[kind]
        assert set(record["models"]) == {"baseline", GLM[kind]} and record["best_model"] == GLM[kind]
        reference = regression.fit_suite(kind, problem, splits[kind], n_boot=1, names=[GLM[kind]])
        for model, row in record["models"].items():
            # a Spark record rounds to 3 decimals (half a unit: 5e-4, and a hair more for a value
            # that ends in exactly 5); the AUC tolerance is that of the package tests
            for metric, value in row.items():
                tolerance = 5e-4 + 1e-9 + (1e-3 if metric in ("roc_auc", "average_precision") and model != "baseline" else 0)
                assert value == pytest.approx(reference.metrics.loc[model, metric], abs=tolerance), (kind, model, metric)
        assert 0.5 <= record["coef_coverage"] <= 1
    assert metrics["continuous"]["models"]["linear"]["r2"] > 0.3
    assert metrics["binary"]["models"]["logistic"]["roc_auc"] > 0.6
    written = pd.concat(
        [pd.read_csv(part) for part in sorted((tmp_path / "contact_list_crm_real_ids.csv").glob("part-*.csv"))]
    )
    assert len(written) == 2000 and written["customer_id"].is_unique
    assert (written["contact"] == "yes").sum() == metrics["targeting"]["list_contacted"]
