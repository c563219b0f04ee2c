"""Tests of marketing.segmentation against hand-worked examples and the planted segments."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from marketing import DataValidationError, get_case, load_case_data
from marketing.features import customer_table
from marketing.privacy import write_crm_export
from marketing.segmentation import (
    SegmentPreprocessor,
    Segmenter,
    audience_table,
    cluster_quality,
    match_playbook,
    name_segments,
    quantile_scores,
    rfm_crosstab,
    rfm_scores,
    rfm_segments,
    segment_actions,
    segment_profiles,
    select_k,
    stability,
    truth_agreement,
)

CASES = ("ecommerce", "finance", "education", "health")


def blobs(n_per: int = 40, centres=((0, 0), (10, 0), (0, 10)), seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    points = np.vstack([rng.normal(c, 0.5, size=(n_per, 2)) for c in centres])
    index = pd.RangeIndex(len(points), name="customer_id")
    return pd.DataFrame(points, columns=["x", "y"], index=index)


@pytest.fixture(scope="module")
def tiny_rfm() -> pd.DataFrame:
    # ten customers; by hand: recency ranks reversed, frequency has a 4-way tie at 1
    return pd.DataFrame(
        {
            "recency_days": [1, 3, 5, 10, 20, 40, 80, 160, 200, 300],
            "frequency": [20, 15, 9, 9, 5, 1, 1, 1, 1, 2],
            "monetary": [1000.0, 700.0, 400.0, 300.0, 150.0, 40.0, 30.0, 20.0, 10.0, 60.0],
        }
    )


# ------------------------------------------------------------------ RFM baseline


def test_rfm_scores_by_hand(tiny_rfm):
    scores = rfm_scores(tiny_rfm)
    # R: ten distinct recencies, two per quintile, most recent first
    assert scores["R"].tolist() == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    # F: the four customers with frequency 1 share average rank 2.5 -> ceil(5 * 2.5 / 10) = 2;
    # frequency 2 has rank 5 -> 3; the tied 9s have rank 7.5 -> 4; 15 and 20 -> 5
    assert scores["F"].tolist() == [5, 5, 4, 4, 3, 2, 2, 2, 2, 3]
    # M: distinct values, rank r -> ceil(r / 2): 60 has rank 5 -> 3, 30 has rank 3 -> 2
    assert scores["M"].tolist() == [5, 5, 4, 4, 3, 2, 2, 1, 1, 3]
    assert scores["RFM"].iloc[0] == "555"


def test_quantile_scores_all_tied_is_middle():
    assert quantile_scores(pd.Series([7.0] * 6)).tolist() == [3] * 6
    with pytest.raises(ValueError, match="n_bins"):
        quantile_scores(pd.Series([1, 2]), n_bins=1)


def test_rfm_segments_rule_table_and_custom_rules(tiny_rfm):
    names = rfm_segments(rfm_scores(tiny_rfm))
    # 555 555 444 444 333 322 222 221 121 133
    assert names.tolist() == [
        "Champions", "Champions", "Champions", "Champions", "Needs attention",
        "Needs attention", "Hibernating", "Hibernating", "Hibernating", "At risk",
    ]
    custom = rfm_segments(rfm_scores(tiny_rfm), rules=[("Best", {"M": (5, 5)})], default="Rest")
    assert custom.value_counts().to_dict() == {"Rest": 8, "Best": 2}
    with pytest.raises(ValueError, match="score"):
        rfm_segments(rfm_scores(tiny_rfm), rules=[("Bad", {"X": (1, 5)})])


def test_rfm_scores_missing_column_names_it(tiny_rfm):
    with pytest.raises(DataValidationError, match="'monetary'"):
        rfm_scores(tiny_rfm.drop(columns="monetary"))


# ------------------------------------------------------------------ preprocessing


def test_preprocessor_logs_only_money_and_counts():
    table = pd.DataFrame({"recency_days": [1, 50, 300], "monetary": [0.0, np.e - 1, np.e**2 - 1],
                          "income": [1.0, 2.0, 3.0]})
    prep = SegmentPreprocessor().fit(table)
    assert prep.log_features_ == ["monetary"]
    out = prep.transform(table)
    # log1p(monetary) = 0, 1, 2: standardised to -1.2247, 0, 1.2247
    np.testing.assert_allclose(out[:, 1], [-1.2247449, 0.0, 1.2247449], atol=1e-6)
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=0), 1.0)


def test_preprocessor_does_not_modify_input():
    table = pd.DataFrame({"frequency": [1, 2, 3], "x": [1.0, 5.0, 2.0]})
    before = table.copy()
    SegmentPreprocessor().fit(table).transform(table)
    pd.testing.assert_frame_equal(table, before)


@pytest.mark.parametrize(
    "table, match",
    [
        (pd.DataFrame({"frequency": [1, 2, 3], "age": [30.0, 30.0, 30.0]}), "'age'.*constant"),
        (pd.DataFrame({"frequency": [1, 2, 3], "region": ["a", "b", "a"]}), "not numeric"),
        (pd.DataFrame({"frequency": [1, np.nan, 3], "x": [1.0, 2.0, 3.0]}), "missing values"),
        (pd.DataFrame({"monetary": [1.0, -5.0, 3.0]}), "negative"),
        (pd.DataFrame({"monetary": pd.Series([], dtype=float)}), "empty"),
    ],
)
def test_preprocessor_bad_input(table, match):
    with pytest.raises(DataValidationError, match=match):
        SegmentPreprocessor().fit(table)


def test_preprocessor_unknown_log_feature():
    with pytest.raises(DataValidationError, match=r"\['spend'\]"):
        SegmentPreprocessor(log_features=["spend"]).fit(pd.DataFrame({"x": [1.0, 2.0]}))


# ------------------------------------------------------------------ choosing k and clustering


def test_select_k_borda_rule_by_hand():
    scores = pd.DataFrame(
        {"silhouette": [0.50, 0.60, 0.55], "calinski_harabasz": [100.0, 90.0, 120.0],
         "davies_bouldin": [0.9, 0.7, 0.8]},
        index=[2, 3, 4],
    )
    # ranks: k=2: 3+2+3=8, k=3: 1+3+1=5, k=4: 2+1+2=5 -> tie, the smaller k wins
    assert select_k(scores) == 3


def test_cluster_quality_by_hand():
    X = np.array([[0.0], [2.0], [10.0], [12.0]])
    q = cluster_quality(X, np.array([0, 0, 1, 1]))
    # within-cluster squared distances: 1 + 1 + 1 + 1
    assert q["inertia"] == pytest.approx(4.0)
    # silhouette of point 0: a = 2, b = mean(10, 12) = 11 -> 9/11; point 1: a=2, b=9 -> 7/9
    assert q["silhouette"] == pytest.approx((9 / 11 + 7 / 9 + 7 / 9 + 9 / 11) / 4)
    # noise points are left out
    q_noise = cluster_quality(np.vstack([X, [[100.0]]]), np.array([0, 0, 1, 1, -1]))
    assert q_noise["inertia"] == pytest.approx(4.0)


@pytest.mark.parametrize("method", ["kmeans", "gmm", "ward"])
def test_methods_recover_three_blobs(method):
    table = blobs()
    seg = Segmenter(method=method, k_range=(2, 5), random_state=0).fit(table)
    assert seg.n_segments_ == 3
    truth = pd.Series(np.repeat(["a", "b", "c"], 40), index=table.index)
    assert truth_agreement(pd.Series(seg.labels_, index=table.index), truth)["ari"] == 1.0
    # labels are numbered from the largest segment
    assert np.all(np.diff(np.bincount(seg.labels_)) <= 0)


def test_hdbscan_reports_noise():
    table = blobs(n_per=60)
    outliers = pd.DataFrame(
        {"x": [50.0, -40.0, 30.0], "y": [-40.0, 45.0, 60.0]}, index=[900, 901, 902]
    )
    seg = Segmenter(method="hdbscan", min_cluster_size=10, random_state=0)
    seg.fit(pd.concat([table, outliers]))
    assert seg.n_segments_ == 3
    assert seg.k_scores_ is None
    assert set(seg.labels_[-3:]) == {-1}
    assert seg.noise_share_ == pytest.approx(np.mean(seg.labels_ == -1)) and seg.noise_share_ > 0


def test_sampled_methods_label_every_customer():
    table = blobs(n_per=100)
    for method in ("ward", "hdbscan", "gmm"):
        seg = Segmenter(n_segments=3, method=method, sample_size=60, min_cluster_size=5,
                        random_state=1).fit(table)
        assert len(seg.labels_) == len(table)
        truth = np.repeat([0, 1, 2], 100)
        found = seg.labels_[seg.labels_ >= 0]
        assert truth_agreement(pd.Series(found), pd.Series(truth[seg.labels_ >= 0]))["ari"] > 0.95


def test_fixed_k_skips_the_search_and_is_reproducible():
    table = blobs()
    a = Segmenter(n_segments=4, random_state=3).fit(table)
    b = Segmenter(n_segments=4, random_state=3).fit(table)
    assert a.k_scores_ is None and a.n_segments_ == 4
    np.testing.assert_array_equal(a.labels_, b.labels_)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"n_segments": 500}, "n_segments=500 is impossible for 120 customers"),
        ({"n_segments": 1}, "between 2 and 119"),
        ({"n_segments": "many"}, "'auto' or an integer"),
        ({"method": "dbscan"}, "method must be one of"),
        ({"k_range": (2, 200)}, "only 120 customers"),
        ({"k_range": (5, 3)}, "k_range"),
    ],
)
def test_segmenter_bad_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        Segmenter(**params).fit(blobs())


def test_segmenter_constant_feature_is_an_error():
    table = blobs().assign(z=1.0)
    with pytest.raises(DataValidationError, match=r"\['z'\] are constant"):
        Segmenter().fit(table)


def test_stability_separates_clear_from_arbitrary_structure():
    clear = Segmenter(n_segments=3, random_state=0).fit(blobs())
    assert stability(clear, blobs(), n_runs=4, random_state=0).mean() == pytest.approx(1.0)
    rng = np.random.default_rng(0)
    noise = pd.DataFrame(rng.uniform(size=(300, 2)), columns=["x", "y"])
    arbitrary = Segmenter(n_segments=7, random_state=0).fit(noise)
    assert stability(arbitrary, noise, n_runs=4, random_state=0).mean() < 0.9
    with pytest.raises(ValueError, match="n_runs"):
        stability(clear, blobs(), n_runs=1)


def test_truth_agreement_limits():
    truth = pd.Series(["a", "a", "b", "b"], index=[1, 2, 3, 4])
    relabelled = pd.Series([5, 5, 2, 2], index=[4, 3, 2, 1])
    assert truth_agreement(relabelled, truth) == {"ari": 1.0, "nmi": 1.0}
    assert truth_agreement(pd.Series([0, 1, 0, 1], index=[1, 2, 3, 4]), truth)["ari"] < 0
    with pytest.raises(DataValidationError, match="no segment for 1"):
        truth_agreement(pd.Series([0, 1], index=[1, 99]), truth)


# ------------------------------------------------------------------ profiles, names, actions


def test_segment_profiles_by_hand():
    table = pd.DataFrame({"frequency": [2, 4, 6, 12], "monetary": [10.0, 30.0, 60.0, 100.0]})
    prof = segment_profiles(table, [1, 1, 0, 0])
    assert prof["size"].tolist() == [2, 2]
    assert prof["share"].tolist() == [0.5, 0.5]
    # revenue: segment 0 has 160 of 200
    assert prof["value_share"].tolist() == pytest.approx([0.8, 0.2])
    # frequency mean 9 vs base mean 6 -> 150; 3 vs 6 -> 50
    assert prof["frequency_index"].tolist() == pytest.approx([150.0, 50.0])
    median = segment_profiles(table, [1, 1, 0, 0], value=None, stat="median")
    assert "value_share" not in median
    assert median["monetary"].tolist() == [80.0, 20.0]
    # base median 45: 80/45 and 20/45
    assert median["monetary_index"].tolist() == pytest.approx([177.78, 44.44], abs=0.01)
    with pytest.raises(DataValidationError, match="value column 'revenue'"):
        segment_profiles(table, [0, 0, 1, 1], value="revenue")
    with pytest.raises(ValueError, match="3 entries"):
        segment_profiles(table, [0, 0, 1])


def test_name_segments_rules():
    profiles = pd.DataFrame(
        {
            "recency_days_index": [20.0, 400.0, 100.0, 100.0, 100.0],
            "frequency_index": [200.0, 10.0, 90.0, 126.0, 126.0],
            "monetary_index": [300.0, 50.0, 110.0, 100.0, 100.0],
            "balance_index": [100.0, 100.0, 74.0, 100.0, 100.0],
        }
    )
    assert name_segments(profiles).tolist() == [
        # strongest first: |log 0.2| = 1.61 > |log 3| = 1.10 > |log 2| = 0.69
        "recent, high value, frequent",
        # |log 0.1| = 2.30 > |log 4| = 1.39 > |log 0.5| = 0.69
        "infrequent, lapsed, low value",
        "low balance",
        "frequent",
        "frequent (2)",
    ]
    assert name_segments(profiles, threshold=95).tolist()[2:4] == ["average", "average (2)"]
    assert name_segments(profiles, max_terms=1)[0] == "recent"
    with pytest.raises(ValueError, match="_index"):
        name_segments(pd.DataFrame({"size": [1]}))


def test_match_playbook_first_rule_wins_and_default():
    profiles = pd.DataFrame({"recency_days_index": [300.0, 300.0, 60.0, 90.0],
                             "monetary_index": [200.0, 50.0, 200.0, 100.0]})
    rules = [
        {"segment": "lapsed", "when": {"recency_days": [150, None]}},
        {"segment": "high-value", "when": {"monetary": [150, None]}},
        {"segment": "never", "when": {"tenure_days": [0, None]}},
    ]
    assert match_playbook(profiles, rules).tolist() == ["lapsed", "lapsed", "high-value", "default"]
    with pytest.raises(ValueError, match="'segment' and 'when'"):
        match_playbook(profiles, [{"when": {}}])


def test_action_rules_name_only_playbook_segments():
    for name in CASES:
        case = get_case(name)
        keys = set(case.playbook["segments"])
        rules = case.playbook["segment_rules"]
        assert len(rules) == len(case.synthetic["segments"])
        assert {rule["segment"] for rule in rules} <= keys


def test_segment_actions_and_audience_export(tmp_path):
    case = get_case("ecommerce")
    profiles = pd.DataFrame(
        {
            "recency_days_index": [320.0, 40.0, 90.0],
            "frequency_index": [30.0, 180.0, 100.0],
            "monetary_index": [20.0, 260.0, 100.0],
            "avg_order_value_index": [80.0, 140.0, 100.0],
        }
    )
    actions = segment_actions(profiles, case)
    assert actions["playbook_segment"].tolist() == ["lapsed", "high-value", "default"]
    assert actions.loc[2, "action"] == case.playbook["segments"]["default"]
    default = case.action_for_segment("default")
    audience = audience_table(pd.DataFrame(index=pd.Index([11, 12, 13, 14], name="customer_id")), [1, 0, 2, -1], actions,
                              noise_action=default)
    assert audience.columns.tolist() == ["customer_id", "segment", "segment_name", "action"]
    assert audience.loc[0, "action"] == case.playbook["segments"]["high-value"]
    assert audience.loc[3, "segment_name"] == "unassigned (noise)"
    assert audience.loc[3, "action"] == case.playbook["segments"]["default"]
    path = write_crm_export(audience, tmp_path / "report", "segment_audience")
    assert path.name == "segment_audience_crm_real_ids.csv"
    back = pd.read_csv(path)
    assert back["customer_id"].tolist() == [11, 12, 13, 14]
    with pytest.raises(ValueError, match=r"segment\(s\) \[5\]"):
        audience_table(pd.DataFrame(index=[1]), [5], actions)


def test_rfm_crosstab_counts():
    names = pd.Series(["a", "b"])
    rfm = pd.Series(["New", "Champions", "New", "Loyal"])
    table = rfm_crosstab([0, 0, 1, 1], names, rfm)
    assert table.index.tolist() == ["0: a", "1: b"]
    assert table.loc["0: a", ["Champions", "New"]].tolist() == [1, 1]
    assert int(table.to_numpy().sum()) == 4


# ------------------------------------------------------------------ the planted truth


@pytest.fixture(scope="module")
def case_tables():
    out = {}
    for name in CASES:
        case = get_case(name)
        data = load_case_data(case, "small", seed=42)
        out[name] = (case, data, customer_table(data, case.segmentation_features))
    return out


@pytest.mark.parametrize("name", CASES)
def test_default_segmentation_recovers_planted_segments(case_tables, name):
    case, data, table = case_tables[name]
    seg = Segmenter(random_state=42).fit(table)
    assert seg.n_segments_ == len(data.truth.segment_names) == 4
    agreement = truth_agreement(pd.Series(seg.labels_, index=table.index), data.truth.segments)
    assert agreement["ari"] >= 0.8
    # the rule-based baseline is much worse at it
    rfm_codes = pd.Series(pd.factorize(rfm_segments(rfm_scores(table)))[0], index=table.index)
    assert truth_agreement(rfm_codes, data.truth.segments)["ari"] < agreement["ari"] - 0.2
    # every found segment maps to the playbook action of the planted segment it mostly holds
    actions = segment_actions(segment_profiles(table, seg.labels_), case)
    planted = data.truth.segments.reindex(table.index).to_numpy()
    majority = pd.crosstab(seg.labels_, planted).idxmax(axis=1)
    assert actions["playbook_segment"].tolist() == majority.tolist()


# ------------------------------------------------------------------ small segments: suppressed everywhere, warned about


def outlier_blobs() -> pd.DataFrame:
    """Three segments of 40 customers and one of 3 far away, which "auto" k selection picks out."""
    rng = np.random.default_rng(0)
    parts = [rng.normal(c, 0.5, size=(n, 2)) for c, n in (((0, 0), 40), ((10, 0), 40), ((0, 10), 40), ((30, 30), 3))]
    return pd.DataFrame(np.vstack(parts), columns=["x", "y"], index=pd.RangeIndex(123, name="customer_id"))


@pytest.fixture(scope="module")
def small_segment():
    table = outlier_blobs()
    segmenter = Segmenter(k_range=(2, 5), random_state=0).fit(table)
    profiles = segment_profiles(table, segmenter.labels_, value="x")
    return table, segmenter, profiles, segment_actions(profiles, get_case("ecommerce"))


def test_auto_k_finds_the_small_segment(small_segment):
    _, segmenter, profiles, _ = small_segment
    assert segmenter.n_segments_ == 4 and profiles["size"].tolist() == [40, 40, 40, 3]


def test_segment_summary_keeps_only_the_number_of_a_small_segment(small_segment):
    from marketing.segmentation import segment_summary

    _, _, profiles, actions = small_segment
    summary = segment_summary(profiles, actions, min_size=10)
    assert summary.table.columns.tolist() == ["size", "share", "value_share", "segment_name", "playbook_segment", "action"]
    assert summary.table.loc[3].isna().all()  # size, shares, and the name and action its profile gave it
    assert summary.table.loc[:2, "size"].tolist() == [40, 40, 40]
    assert summary.table.loc[:2, "segment_name"].tolist() == actions.loc[:2, "segment_name"].tolist()
    assert summary.cells_suppressed == 6 and summary.rows_affected == 1
    assert segment_summary(profiles, actions, min_size=3).cells_suppressed == 0


def test_profile_heatmap_draws_a_small_segment_hatched_without_values_or_name(small_segment):
    import matplotlib.pyplot as plt

    from marketing.plots.segmentation import profile_heatmap

    _, _, profiles, actions = small_segment
    fig = profile_heatmap(profiles, actions["segment_name"], min_size=10)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[3] == "3: <10 customers" and labels[0].endswith("(33%)")
    assert len(ax.texts) == 3 * 2  # the index of x and y for the three large segments only
    assert sum(1 for p in ax.patches if p.get_hatch()) == 2  # one hatched cell per feature
    assert "fewer than 10 customers, suppressed" in fig.texts[0].get_text()
    plt.close(fig)
    fig = profile_heatmap(profiles, actions["segment_name"], min_size=1)
    assert len(fig.axes[0].texts) == 4 * 2 and not fig.texts
    plt.close(fig)


def test_rfm_crosstab_figure_hides_small_counts_and_the_cells_that_give_them_away():
    import matplotlib.pyplot as plt

    from marketing.plots.segmentation import rfm_crosstab as crosstab_figure

    # by hand: the 4 is small. Row 1's total (the segment's size, 154) would give it away, so its
    # smallest other count goes, the 50; then the New and the Loyal column each hide one cell,
    # which their totals (the RFM segments' sizes) would give away: the 20 and the 40 go. Every
    # row and column now hides two cells or none, and the 4 could be anything from 0 to 24.
    table = pd.DataFrame({"Champions": [30, 100], "New": [20, 4], "Loyal": [40, 50]}, index=["0: a", "1: b"])
    fig = crosstab_figure(table, min_size=10)
    shown = [t.get_text() for t in fig.axes[0].texts]
    assert shown == ["30", "100"] and sum(1 for p in fig.axes[0].patches if p.get_hatch()) == 4
    assert "and the cells that would reveal them through the totals" in fig.texts[0].get_text()
    plt.close(fig)
    fig = crosstab_figure(table, min_size=10, protect_totals=False)
    assert [t.get_text() for t in fig.axes[0].texts] == ["30", "20", "40", "100", "50"]
    plt.close(fig)
    small_row = pd.DataFrame({"Champions": [30, 3], "New": [20, 0]}, index=["0: a", "1: lapsed big spenders"])
    fig = crosstab_figure(small_row, min_size=10)
    assert fig.axes[0].get_yticklabels()[1].get_text() == "1: <10 customers"
    plt.close(fig)


def test_published_names_and_rfm_counts_suppress_small_groups(small_segment):
    from marketing.segmentation import published_names, segment_counts

    _, _, profiles, actions = small_segment
    names = published_names(profiles, actions["segment_name"], min_size=10)
    assert names[3] == "<10 customers" and names[:2].tolist() == actions["segment_name"][:2].tolist()
    rfm = pd.Series(["New"] * 12 + ["Loyal"] * 3)
    assert segment_counts(rfm, min_size=10)["customers"].isna().tolist() == [False, True]
    assert segment_counts(rfm)["customers"].tolist() == [12, 3]


def test_record_suppresses_small_sizes_states_the_minimum_and_warns(small_segment):
    import json
    from types import SimpleNamespace

    from marketing.segmentation import segmentation_record

    _, segmenter, profiles, actions = small_segment
    data = SimpleNamespace(case=SimpleNamespace(name="blobs"), engine="pandas")
    comparison = pd.DataFrame({"silhouette": [0.9, 0.4]}, index=["clusters", "RFM rules"])
    record = segmentation_record(data, segmenter, profiles, actions, comparison, pd.Series([1.0]), min_group_size=10)
    names = actions["segment_name"]
    assert record["segment_sizes"] == {names[0]: 40, names[1]: 40, names[2]: 40, "segment 3": "<10"}
    assert record["n_customers"] == 123 and record["min_group_size"] == 10
    assert record["warnings"] == [
        "1 of 4 segments have fewer than 10 customers (suppressed in the report): set k_max below 4, "
        "or lower min_group_size if smaller groups may be published"
    ]
    json.dumps(record)
    exact = segmentation_record(data, segmenter, profiles, actions, comparison, pd.Series([1.0]), min_group_size=3)
    assert list(exact["segment_sizes"].values()) == [40, 40, 40, 3] and exact["warnings"] == []


def test_warnings_about_too_many_segments():
    from types import SimpleNamespace

    from marketing.segmentation import segment_warnings

    fixed = SimpleNamespace(method="kmeans", n_segments=1000, n_segments_=1000)
    # 1,000 segments of 1 to 4 customers: the median is 2, and 2,500 customers allow 250 of 10
    sizes = pd.DataFrame({"size": [1, 2, 3, 4] * 250})
    assert segment_warnings(fixed, sizes, min_size=10) == [
        "too many segments: 1,000 for 2,500 customers, median size 2.5 (min_group_size 10); use at most 250",
        "1,000 of 1,000 segments have fewer than 10 customers (suppressed in the report): choose fewer than "
        "1,000 (n_segments), or lower min_group_size if smaller groups may be published",
    ]
    # a median of 10 but 5 segments for 32 customers: more segments than 32 / 10
    few = SimpleNamespace(method="kmeans", n_segments=5, n_segments_=5)
    assert segment_warnings(few, pd.DataFrame({"size": [10, 10, 10, 1, 1]}), min_size=10)[0].startswith(
        "too many segments: 5 for 32 customers, median size 10")
    # HDBSCAN: noise (-1) counts as customers, not as a segment
    hdbscan = SimpleNamespace(method="hdbscan", n_segments="auto", n_segments_=2)
    noisy = pd.DataFrame({"size": [50, 60, 5]}, index=[0, 1, -1])
    assert segment_warnings(hdbscan, noisy, min_size=10) == []
    small = segment_warnings(hdbscan, pd.DataFrame({"size": [50, 6]}), min_size=10)
    assert small == ["1 of 2 segments have fewer than 10 customers (suppressed in the report): raise "
                     "min_cluster_size to 10 or more, or lower min_group_size if smaller groups may be published"]
