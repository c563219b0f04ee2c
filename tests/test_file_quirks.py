"""File quirks a case file declares (marketing.datasets.quirks through the files loader): each on a
small hand-made file whose right answer is worked out here, and the two shapes of an event log
without its customers or items tables."""

import textwrap

import pandas as pd
import pytest
import yaml

from marketing.cases import CaseConfigError
from marketing.datasets.cleaning import FUTURE
from marketing.datasets.files import load_own_data
from marketing.datasets.quirks import derive, missing_codes, positive_label
from marketing.features import rfm
from marketing.validation import DataValidationError


def write_case(folder, files, events_columns, analyses=("segmentation",), **extra):
    """A case file over ``files`` whose events table is 'log' (no customers or items table)."""
    raw = {
        "name": "quirks", "title": "t", "question": "q", "analyses": list(analyses), "source": "files",
        "files": files, "tables": {"events": {"table": "log", "columns": events_columns}},
        "segmentation_features": ["recency_days", "frequency", "monetary"], **extra,
    }
    path = folder / "case.yml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


# Two customers, five lines: a header-less, whitespace-separated file with a decimal comma, an
# epoch-second time, a missing-value code and one exact duplicate line.
LOG = textwrap.dedent("""\
    7   1704067200   2   1,5   A
    7   1704067200   2   1,5   A
    7   1706745600   ?   3,0   B
    9   1709251200   1   10,25 A
    9   1709251200   4   2,0   C
""")
COLUMNS = ["cust", "epoch", "qty", "price", "sku"]


@pytest.fixture
def log_case(tmp_path):
    (tmp_path / "log.data").write_text(LOG)
    files = {"log": {"path": "log.data", "format": "csv", "sep": "whitespace", "names": COLUMNS, "decimal": ",",
                     "na_values": {"qty": ["?"]}, "date_format": "unix", "drop_duplicates": True,
                     "derive": {"revenue": "qty * price"}}}
    return write_case(tmp_path, files, {"customer_id": "cust", "timestamp": "epoch", "item_id": "sku",
                                        "quantity": "qty", "amount": "revenue"}, observation_end="2024-04-01")


def test_an_event_log_alone_with_every_file_quirk(log_case):
    data = load_own_data(log_case)
    # the customers and items are the ids the events name
    assert data.customers["customer_id"].tolist() == [7, 9]
    assert data.items["item_id"].tolist() == ["A", "B", "C"]
    ev = data.events
    # 2024-01-01, 2024-02-01, 2024-03-01 00:00 UTC as epoch seconds
    assert ev["timestamp"].dt.strftime("%Y-%m-%d").tolist() == ["2024-01-01", "2024-02-01", "2024-03-01", "2024-03-01"]
    # revenue = qty x price with the decimal comma read; the '?' quantity gives a missing revenue
    assert ev["amount"].tolist()[:1] == [3.0] and pd.isna(ev["amount"].iloc[1])
    assert ev["amount"].tolist()[2:] == [10.25, 8.0]
    steps = data.cleaning.to_frame().set_index("reason")
    assert steps.loc["exact duplicate rows", "rows_removed"] == 1
    assert steps.loc["missing-value codes in 'qty'", "values_set_missing"] == 1
    assert steps.loc["missing-value codes in 'qty'", "rows_removed"] == 0
    table = rfm(ev, data.observation_end)
    assert table.loc[9, "monetary"] == 18.25 and table.loc[9, "recency_days"] == 31


def test_an_event_log_without_items_runs_segmentation_only(tmp_path):
    (tmp_path / "log.csv").write_text("c,t,v\n1,2024-01-05,10\n2,2024-02-01,5\n1,2024-02-10,1\n")
    case = write_case(tmp_path, {"log": "log.csv"}, {"customer_id": "c", "timestamp": "t", "amount": "v"})
    data = load_own_data(case)
    assert data.customers["customer_id"].tolist() == [1, 2] and "item_id" not in data.events
    assert data.observation_end == pd.Timestamp("2024-02-11")
    with pytest.raises(CaseConfigError, match=r"tables.events.columns.item_id: missing \(needed by recommendation"):
        write_case(tmp_path, {"log": "log.csv"}, {"customer_id": "c", "timestamp": "t"}, analyses=["recommendation"])
        load_own_data(tmp_path / "case.yml")


def test_a_future_event_does_not_move_the_end_and_is_counted(tmp_path):
    (tmp_path / "log.csv").write_text("c,t,v\n1,2024-01-05,10\n2,2024-02-01,5\n1,2099-02-10,1\n")
    data = load_own_data(write_case(tmp_path, {"log": "log.csv"}, {"customer_id": "c", "timestamp": "t", "amount": "v"}))
    assert data.observation_end == pd.Timestamp("2024-02-02")
    assert data.cleaning.to_frame().set_index("reason").loc[FUTURE, "rows_removed"] == 1


def test_nominal_codes_become_levels(tmp_path):
    (tmp_path / "log.csv").write_text("c,t,v\n1,2024-01-05,10\n2,2024-02-01,5\n")
    (tmp_path / "people.csv").write_text("id,sex,age\n1,1,30\n2,2,41\n")
    case = write_case(tmp_path, {"log": "log.csv", "people": {"path": "people.csv", "nominal": ["sex"]}},
                      {"customer_id": "c", "timestamp": "t", "amount": "v"})
    raw = yaml.safe_load(case.read_text())
    raw["tables"]["customers"] = {"table": "people", "id": "id"}
    case.write_text(yaml.safe_dump(raw))
    customers = load_own_data(case).customers
    assert customers["sex"].tolist() == ["1", "2"] and pd.api.types.is_numeric_dtype(customers["age"])


@pytest.mark.parametrize("positive, expected", [
    ("num > 0", [0, 1, 1, 0]), ("> 1", [0, 1, 0, 0]), ([2, 3], [0, 1, 0, 0]), (1, [0, 0, 1, 0]),
])
def test_binary_targets_from_any_column(positive, expected):
    num = pd.Series([0, 2, 1, 0], name="num")
    assert positive_label(num, positive, "here").tolist() == expected


def test_positive_errors_name_the_column_and_its_values():
    with pytest.raises(CaseConfigError, match="compares column 'G3', but the target column is 'num'"):
        positive_label(pd.Series([1, 2], name="num"), "G3 >= 10", "case.yml: targets.binary")
    with pytest.raises(DataValidationError, match=r"positive 'Yes' matches no value of column 'y'; its values are \['no', 'yes'\]"):
        positive_label(pd.Series(["yes", "no"], name="y"), "Yes", "case.yml: targets.binary")


def test_a_grade_and_its_pass_mark_are_two_targets(tmp_path):
    (tmp_path / "log.csv").write_text("c,t,v\n1,2024-01-05,10\n2,2024-02-01,5\n3,2024-02-03,5\n")
    (tmp_path / "people.csv").write_text("id,G3\n1,12\n2,9\n3,10\n")
    case = write_case(tmp_path, {"log": "log.csv", "people": "people.csv"}, {"customer_id": "c", "timestamp": "t", "amount": "v"},
                      analyses=["regression"], regression_features=["frequency"],
                      targets={"continuous": {"column": "G3"}, "binary": {"column": "G3", "positive": "G3 >= 10"}},
                      targeting={"contact_cost": 1.0, "response_value": 2.0})
    raw = yaml.safe_load(case.read_text())
    raw["tables"]["customers"] = {"table": "people", "id": "id"}
    case.write_text(yaml.safe_dump(raw))
    data = load_own_data(case)
    assert data.case.targets["binary"].column == "G3_positive" and data.case.targets["binary"].source == "G3"
    assert data.customers["G3_positive"].tolist() == [1, 0, 1] and data.customers["G3"].tolist() == [12, 9, 10]


def test_derived_columns_allow_arithmetic_only():
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]})
    assert derive(frame, "x", "(a + b) / 2 - -1", "here").tolist() == [3.0, 4.0]
    for expression, found in [("a.__class__", "an attribute"), ("open('f')", "a function call"), ("a[0]", "an index")]:
        with pytest.raises(CaseConfigError, match=found):
            derive(frame, "x", expression, "here")
    with pytest.raises(DataValidationError, match="names column 'c' that the file does not have"):
        derive(frame, "x", "a * c", "here")


def test_missing_codes_in_every_column_and_numbers_after_them():
    table = pd.DataFrame({"x": ["1,5", "?", "-1"], "y": ["a", "unknown", "b"], "z": [999.0, 3.5, 999.0]})
    out, counts = missing_codes(table, ["?", "unknown", 999], "here", decimal=",")
    assert out["x"].tolist()[0] == 1.5 and out["x"].isna().tolist() == [False, True, False]
    assert counts == {"x": 1, "y": 1, "z": 2} and out["z"].isna().sum() == 2


# --- errors that used to be pandas' own messages ----------------------------------------------


def test_one_column_mapped_to_two_roles_is_named(tmp_path):
    (tmp_path / "log.csv").write_text("c,t,v\n1,2024-01-05,10\n")
    with pytest.raises(CaseConfigError, match=r"tables.events.columns: column 'c' is mapped to 2 roles \(customer_id, item_id\)"):
        load_own_data(write_case(tmp_path, {"log": "log.csv"}, {"customer_id": "c", "item_id": "c", "timestamp": "t"}))


def test_times_with_summer_and_winter_offsets_are_put_on_utc_and_mixed_ones_are_refused(tmp_path):
    (tmp_path / "log.csv").write_text("c,t,v\n1,2024-03-30 10:00+01:00,10\n2,2024-04-01 10:00+02:00,5\n")
    case = write_case(tmp_path, {"log": "log.csv"}, {"customer_id": "c", "timestamp": "t", "amount": "v"})
    times = load_own_data(case).events["timestamp"]
    assert times.tolist() == [pd.Timestamp("2024-03-30 09:00"), pd.Timestamp("2024-04-01 08:00")]
    (tmp_path / "log.csv").write_text("c,t,v\n1,2024-03-30 10:00,10\n2,2024-04-01 10:00+02:00,5\n")
    with pytest.raises(DataValidationError, match=r"files.log: column 't': some times have a UTC offset \('2024-04-01 10:00\+02:00'\) and some do not"):
        load_own_data(case)


def test_the_three_recency_features_together_are_refused(tmp_path):
    (tmp_path / "log.csv").write_text("c,t,v\n1,2024-01-05,10\n")
    with pytest.raises(CaseConfigError, match="first_to_last_days = tenure_days - recency_days"):
        load_own_data(write_case(tmp_path, {"log": "log.csv"}, {"customer_id": "c", "timestamp": "t", "amount": "v"},
                                 regression_features=["tenure_days", "recency_days", "first_to_last_days"]))


def test_a_rank_deficient_design_names_its_columns():
    from marketing.regression.interpret import coefficient_table

    # as in the bank data: a client whose housing loan is unknown has an unknown personal loan too
    housing = ["yes", "no", "unknown", "yes", "no", "unknown", "no", "yes"]
    X = pd.DataFrame({"housing": housing, "loan": [h if h == "unknown" else "no" for h in housing],
                      "age": [30.0, 41, 52, 33, 45, 29, 60, 38]}).astype({"housing": "category", "loan": "category"})
    y = pd.Series([1.0, 2, 3, 2, 5, 1, 4, 3], name="y")
    with pytest.raises(DataValidationError, match=r"equal to another: loan_unknown = housing_unknown"):
        coefficient_table(X, y, "continuous")


def test_a_missing_role_is_the_one_named_in_the_example():
    import dataclasses

    from marketing.cases import get_case
    from marketing.datasets.canonical import to_canonical
    from marketing.datasets.synthetic import generate

    case = get_case("ecommerce")
    events = {**case.tables["events"], "columns": {k: v for k, v in case.tables["events"]["columns"].items() if k != "timestamp"}}
    broken = dataclasses.replace(case, tables={**case.tables, "events": events})
    with pytest.raises(DataValidationError, match=r"role\(s\) \['timestamp'\]. Add them, for example `timestamp: "):
        to_canonical(broken, generate(case, size="small", seed=1).tables)


def test_the_package_errors_show_without_a_traceback_in_notebooks():
    error = DataValidationError("table 'events': column 'x' is missing. Add it.")
    assert error._render_traceback_() == ["DataValidationError: table 'events': column 'x' is missing. Add it."]


# --- a table with one row per person ------------------------------------------------------------


def people_case(tmp_path, **extra):
    (tmp_path / "students.csv").write_text(
        "sex;age;absences;G3\n" + "\n".join(f"{'FM'[i % 2]};{15 + i % 4};{i % 7};{(i * 7) % 21}" for i in range(40)) + "\n")
    raw = {"name": "students", "title": "t", "question": "q", "analyses": ["regression", "segmentation"],
           "source": "files", "files": {"students": {"path": "students.csv", "sep": ";"}},
           "tables": {"customers": {"table": "students"}},
           "segmentation_features": ["age", "absences"], "regression_features": ["sex", "age", "absences"],
           "targets": {"continuous": {"column": "G3"}, "binary": {"column": "G3", "positive": "G3 >= 10"}},
           "targeting": {"contact_cost": 1.0, "response_value": 5.0}, **extra}
    path = tmp_path / "case.yml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def test_a_table_of_people_needs_no_event_log_nor_ids(tmp_path, capsys):
    from marketing.features import customer_table
    from marketing.notebook import data_overview
    from marketing.regression.problem import regression_problem

    data = load_own_data(people_case(tmp_path))
    assert data.customers["customer_id"].tolist() == list(range(1, 41))  # the row numbers
    assert data.observation_end is None and data.events.empty
    data_overview(data)
    assert "40 rows, one per person; no event log." in capsys.readouterr().out
    assert list(customer_table(data, ["age", "absences"]).columns) == ["age", "absences"]
    problem = regression_problem(data)
    grades = data.customers["G3"]
    assert problem.targets["binary"].tolist() == (grades >= 10).astype(int).tolist()
    assert problem.targets["continuous"].tolist() == grades.tolist()


def test_event_features_of_a_table_of_people_are_refused_by_name(tmp_path):
    from marketing.features import customer_table

    data = load_own_data(people_case(tmp_path, segmentation_features=["recency_days", "age"]))
    with pytest.raises(DataValidationError, match=r"\['recency_days'\] are computed from an event log, and this case has none"):
        customer_table(data, data.case.segmentation_features)


def test_recommendation_needs_the_event_log(tmp_path):
    with pytest.raises(CaseConfigError, match=r"tables.events: missing \(needed by recommendation"):
        load_own_data(people_case(tmp_path, analyses=["recommendation"], item_kind="courses"))


def test_targets_from_the_event_log_are_built_leak_free(tmp_path):
    from marketing.features import customer_table

    # customer 1 buys again 10 days after the end, customer 2 does not, customer 3 only after it
    (tmp_path / "log.csv").write_text(
        "c,t,v\n1,2024-01-05,10\n2,2024-02-01,5\n1,2024-03-11,7\n3,2024-03-20,4\n1,2024-06-30,99\n")
    case = write_case(tmp_path, {"log": "log.csv"}, {"customer_id": "c", "timestamp": "t", "amount": "v"},
                      analyses=["regression"], regression_features=["frequency", "monetary"],
                      observation_end="2024-03-01", label_window_days=30,
                      targets={"continuous": {"column": "spend_next"}, "binary": {"column": "churned"}},
                      targeting={"contact_cost": 1.0, "response_value": 2.0})
    data = load_own_data(case)
    assert data.customers.set_index("customer_id")[["spend_next", "churned"]].to_dict("index") == {
        1: {"spend_next": 7.0, "churned": 0}, 2: {"spend_next": 0.0, "churned": 1}}
    # the features see only the events before the end (the 7 and the 99 are the future)
    assert customer_table(data, ["monetary"])["monetary"].tolist() == [10.0, 5.0]
    steps = data.cleaning.to_frame().set_index("reason")["rows_removed"]
    assert steps["no event before the observation end 2024-03-01 (no features, no label)"] == 1


def test_a_table_of_people_is_segmented_on_its_columns_against_thirds_of_the_first(capsys):
    from conftest import ROOT

    from marketing.features import customer_table
    from marketing.segmentation import Segmenter, baseline_comparison, baseline_segments, rfm_crosstab

    data = load_own_data(ROOT / "data" / "examples" / "students" / "case.yml")
    table = customer_table(data, data.case.segmentation_features)
    baseline = baseline_segments(table)
    assert "cuts its first feature, midterm, into thirds" in capsys.readouterr().out
    # three equal-count groups of the midterm grade (ties share one): the lowest third is "low midterm"
    shares = baseline.value_counts(normalize=True)
    assert set(shares.index) == {"low midterm", "middle midterm", "high midterm"} and shares.min() > 0.25
    assert table.loc[baseline == "low midterm", "midterm"].max() <= table.loc[baseline == "middle midterm", "midterm"].min()
    segmenter = Segmenter(n_segments=3, random_state=0).fit(table)
    comparison = baseline_comparison(segmenter, table, baseline)
    assert list(comparison.index) == ["clusters", "baseline"] and comparison.loc["baseline", "segments"] == 3
    crosstab = rfm_crosstab(segmenter.labels_, pd.Series(["a", "b", "c"]), baseline)
    assert list(crosstab.columns) == ["low midterm", "middle midterm", "high midterm"]
    assert crosstab.to_numpy().sum() == len(table)
