"""The generators: deterministic, the right schema, and the planted structure visible in the data."""

import numpy as np
import pandas as pd
import pytest

from marketing.cases import get_case
from marketing.datasets import generate, load_case_data
from marketing.features import rfm

from conftest import CASES


@pytest.fixture(scope="module", params=CASES)
def data(request):
    return load_case_data(request.param, seed=42)


@pytest.mark.parametrize("case", CASES)
def test_same_seed_same_tables(case):
    a, b = generate(case, seed=3), generate(case, seed=3)
    assert a.tables.keys() == b.tables.keys()
    for name in a.tables:
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name])
    pd.testing.assert_series_equal(a.truth.segments, b.truth.segments)
    c = generate(case, seed=4)
    name = get_case(case).tables["events"]["table"]
    assert not a.tables[name].equals(c.tables[name])


EXPECTED_TABLES = {
    "ecommerce": {"customers", "products", "orders", "order_lines"},
    "finance": {"customers", "products", "transactions"},
    "education": {"learners", "courses", "enrolments"},
    "health": {"members", "programmes", "participation"},
}


@pytest.mark.parametrize("case", CASES)
def test_domain_schema(case):
    tables = generate(case, seed=1).tables
    assert set(tables) == EXPECTED_TABLES[case]
    spec = get_case(case).tables
    events = tables[spec["events"]["table"]]
    for role, column in spec["events"]["columns"].items():
        owner = tables[spec["events"]["join"]["table"]] if spec["events"].get("join") and role in ("customer_id", "timestamp") else events
        assert column in owner.columns, f"{case}: {column} ({role}) missing"


def test_canonical_schema_and_coverage(data):
    events, customers = data.events, data.customers
    assert pd.api.types.is_datetime64_any_dtype(events["timestamp"])
    assert (events["amount"] >= 0).all()
    span = events["timestamp"].max() - events["timestamp"].min()
    assert span >= pd.Timedelta(days=360), "at least a year of events"
    assert events["timestamp"].max() < data.observation_end
    assert customers["customer_id"].is_unique
    assert set(events["customer_id"]) == set(customers["customer_id"]), "every customer has events"
    for target in data.case.targets.values():
        assert target.column in customers
    if data.case.feedback == "explicit":
        assert events["rating"].between(1, 5).all()


def test_every_segment_and_class_appears_in_small(data):
    counts = data.truth.segments.value_counts()
    assert set(counts.index) == set(data.truth.segment_names)
    assert counts.min() >= 200
    binary = data.customers[data.case.targets["binary"].column]
    assert 0.05 < binary.mean() < 0.95


def test_segments_differ_as_planted(data):
    features = rfm(data.events, data.observation_end)
    segments = data.truth.segments.loc[features.index]
    spec = {s["name"]: s for s in data.case.synthetic["segments"]}
    by_segment = features.groupby(segments.values).median()
    rates = pd.Series({name: s["events_per_year"] * s.get("active_share", 1.0) for name, s in spec.items()})
    # the segment ranking by planted purchase rate is the ranking by observed frequency
    assert by_segment["frequency"].rank().loc[rates.index].tolist() == rates.rank().tolist()
    value = pd.Series({name: s["value_multiplier"] for name, s in spec.items()})
    assert by_segment["avg_order_value"].rank().loc[value.index].tolist() == value.rank().tolist()
    lapsed = [name for name, s in spec.items() if s.get("active_share", 1.0) < 1]
    active = [name for name in spec if name not in lapsed]
    assert by_segment.loc[lapsed, "recency_days"].min() > 2 * by_segment.loc[active, "recency_days"].max()


def test_preferences_are_concentrated_in_favourite_categories(data):
    events = data.events
    category = data.truth.item_category.loc[events["item_id"]].to_numpy()
    fav = data.truth.favourite_categories.loc[events["customer_id"]]
    share = np.mean((category == fav["first"].to_numpy()) | (category == fav["second"].to_numpy()))
    # 70% planted from the favourites, plus their share of the background mix
    assert 0.7 < share < 0.9
    # while the popularity list is the same for everyone
    top = events["item_id"].value_counts()
    assert top.iloc[0] > 3 * top.median()


def test_explicit_ratings_are_higher_in_favourite_categories():
    data = load_case_data("education", seed=42)
    events = data.events
    category = data.truth.item_category.loc[events["item_id"]].to_numpy()
    fav = data.truth.favourite_categories.loc[events["customer_id"]]
    is_fav = (category == fav["first"].to_numpy()) | (category == fav["second"].to_numpy())
    assert events["rating"][is_fav].mean() - events["rating"][~is_fav].mean() > 1.0


def test_continuous_target_follows_the_planted_effects(data):
    """Least squares on the true design recovers the coefficients (the truth is consistent)."""
    target = data.case.targets["continuous"].column
    truth = data.truth.coefficients(target)
    features = rfm(data.events, data.observation_end)
    customers = data.customers.set_index("customer_id").join(features["frequency"])
    design = pd.DataFrame({"intercept": 1.0}, index=customers.index)
    for name in truth.index[1:]:
        if name in customers:
            design[name] = customers[name].astype(float)
        else:
            column, level = name.rsplit("_", 1) if name.rsplit("_", 1)[0] in customers else (None, None)
            design[name] = (customers[column].astype(str) == level).astype(float)
    coef, *_ = np.linalg.lstsq(design.to_numpy(), customers[target].to_numpy(), rcond=None)
    fitted = pd.Series(coef, index=design.columns)
    noise = data.truth.effects[target]["noise_sd"]
    residual_sd = np.std(customers[target].to_numpy() - design.to_numpy() @ coef)
    assert residual_sd == pytest.approx(noise, rel=0.1)
    x = design.to_numpy()
    standard_error = residual_sd * np.sqrt(np.diag(np.linalg.inv(x.T @ x)))
    z = (fitted - truth.loc[design.columns]) / standard_error
    assert (z.abs() < 4).all(), z.round(2).to_dict()


def test_ecommerce_has_returns_that_cleaning_counts():
    data = load_case_data("ecommerce", seed=42)
    removed = data.cleaning.to_frame().set_index("reason")["rows_removed"]
    returns = removed["returns or cancellations (negative quantity or amount)"]
    raw = generate("ecommerce", seed=42).tables["order_lines"]
    assert returns == (raw["quantity"] < 0).sum() > 0
    assert len(data.events) == len(raw) - returns


def test_unknown_size():
    with pytest.raises(ValueError, match="unknown data_size 'huge'"):
        generate("health", size="huge")
