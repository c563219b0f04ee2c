"""Strict case files: the schema in marketing.case_schema, as load_case_file applies it."""

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from marketing.case_schema import FILE_OPTIONS, PLAYBOOK, file_options, keys, validate
from marketing.cases import (
    BUILTIN_DIR, DEFAULT_ACTION, REPO_ROOT, CaseConfigError, get_case, list_cases, load_case_file,
)
from marketing.datasets.files import EXAMPLE_CASE, load_own_data

EXAMPLE = EXAMPLE_CASE.parent


@pytest.fixture
def shop(tmp_path):
    """A private copy of the example shop; returns its case file's raw mapping and path."""
    folder = tmp_path / "shop"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("*.py", "*.md"))
    path = folder / "case.yml"
    return yaml.safe_load(path.read_text()), path


def write(path: Path, raw: dict) -> Path:
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(CaseConfigError) as err:
        load_case_file(path)
    lines = str(err.value).splitlines()
    # one header naming the file, then one line per problem, each naming the file too
    assert str(path) in lines[0] and len(lines) == len(err.value.problems) + 1
    assert all(line.startswith(f"  {path}: ") for line in lines[1:])
    return err.value.problems


# --- one typo at each level ---------------------------------------------------------------------


def test_typo_at_top_level(shop):
    raw, path = shop
    raw["obsevation_end"] = raw.pop("observation_end")
    assert problems_of(write(path, raw)) == ["obsevation_end: unknown key; did you mean 'observation_end'?"]


def test_typo_in_file_options(shop):
    raw, path = shop
    raw["files"]["transactions"]["date_fromat"] = raw["files"]["transactions"].pop("date_format")
    assert problems_of(write(path, raw)) == ["files.transactions.date_fromat: unknown key; did you mean 'date_format'?"]


def test_typo_in_role_name(shop):
    raw, path = shop
    raw["tables"]["customers"]["columns"] = {"signup_dat": "Created"}
    assert problems_of(write(path, raw)) == ["tables.customers.columns.signup_dat: unknown role; did you mean 'signup_date'?"]


def test_typo_in_table_key(shop):
    raw, path = shop
    raw["tables"]["events"]["tabel"] = raw["tables"]["events"].pop("table")
    assert problems_of(write(path, raw)) == [
        "tables.events.table: missing (required): the source table of the events",
        "tables.events.tabel: unknown key; did you mean 'table'?",
    ]


def test_unknown_key_without_a_close_name_lists_the_allowed_ones(shop):
    raw, path = shop
    raw["targeting"]["budget"] = 1000
    [problem] = problems_of(write(path, raw))
    assert problem == "targeting.budget: unknown key; allowed: contact_cost, response_value, currency"


def test_every_problem_is_reported_at_once(shop):
    raw, path = shop
    raw["obsevation_end"] = raw.pop("observation_end")
    raw["files"]["transactions"]["date_fromat"] = raw["files"]["transactions"].pop("date_format")
    raw["tables"]["customers"]["columns"] = {"signup_dat": "Created"}
    raw["tables"]["events"]["columns"]["amout"] = raw["tables"]["events"]["columns"].pop("amount")
    raw["targeting"]["contact_cost"] = "twelve"
    raw["analyses"] = ["segmentation", "regresion"]
    raw["feedback"] = "implict"
    raw["playbook"]["score_bands"]["hgh"] = raw["playbook"]["score_bands"].pop("high")
    raw["playbook"]["segment_rules"][0]["segment"] = "lapse"
    assert sorted(problems_of(write(path, raw))) == sorted([
        "obsevation_end: unknown key; did you mean 'observation_end'?",
        "files.transactions.date_fromat: unknown key; did you mean 'date_format'?",
        "tables.customers.columns.signup_dat: unknown role; did you mean 'signup_date'?",
        "tables.events.columns.amout: unknown role; did you mean 'amount'?",
        "targeting.contact_cost: should be a number, not 'twelve'",
        "analyses[1]: 'regresion' is not one of ['segmentation', 'recommendation', 'regression']; did you mean 'regression'?",
        "feedback: 'implict' is not one of ['implicit', 'explicit']; did you mean 'implicit'?",
        "playbook.score_bands.hgh: unknown band; did you mean 'high'?",
        "playbook.segment_rules[0].segment: 'lapse' is not a segment of playbook.segments; did you mean 'lapsed'?",
    ])


def test_wrong_types_name_the_key(shop):
    raw, path = shop
    raw["analyses"] = "segmentation"
    raw["files"]["customers"] = 42
    raw["rating_scale"] = [1, 5, 10]
    raw["tables"]["events"]["columns"] = ["customer_id"]
    problems = problems_of(write(path, raw))
    assert "analyses: should be a list of analyses, not 'segmentation'" in problems
    assert "files.customers: should be a string or a mapping of options, not 42" in problems
    assert "rating_scale: should hold 2 values, not 3 ([1, 5, 10])" in problems
    assert "tables.events.columns: should be a mapping, not ['customer_id']" in problems


def test_file_name_typo_is_caught_before_reading(shop):
    raw, path = shop
    raw["files"]["transaction"] = raw["files"].pop("transactions")
    problems = problems_of(write(path, raw))
    assert any(p.startswith("files.transaction: names no table") and p.endswith("did you mean 'transactions'?") for p in problems)


def test_yaml_syntax_error_names_file_and_line(tmp_path):
    path = tmp_path / "case.yml"
    path.write_text("name: shop\ntitle: Shop\nquestion: [who, what\nanalyses: [segmentation]\n")
    with pytest.raises(CaseConfigError, match=r"case\.yml, line \d+, column \d+: not valid YAML") as err:
        load_case_file(path)
    line = int(re.search(r"line (\d+)", str(err.value)).group(1))
    assert line == 4  # where the parser noticed the unclosed list of line 3, and names it
    assert "(the construct began on line 3)" in str(err.value)


def test_yaml_tab_indent_points_at_the_line(tmp_path):
    path = tmp_path / "case.yml"
    path.write_text("name: shop\ntables:\n\tcustomers: {}\n")
    with pytest.raises(CaseConfigError, match=r"line 3, column 1: not valid YAML"):
        load_case_file(path)


def test_a_file_that_is_not_a_mapping(tmp_path):
    path = tmp_path / "case.yml"
    path.write_text("- just\n- a list\n")
    with pytest.raises(CaseConfigError, match="should hold a mapping of keys to values, not list"):
        load_case_file(path)


# --- only what an analysis needs is required ---------------------------------------------------


def segmentation_only(raw: dict) -> dict:
    """The shop's case with only what segmentation reads."""
    drop = ("targets", "playbook", "targeting", "leakage", "regression_features", "item_kind", "personal_columns")
    return {**{k: v for k, v in raw.items() if k not in drop}, "analyses": ["segmentation"]}


def test_segmentation_only_case_runs_the_segmentation_path(shop):
    from marketing.features import customer_table
    from marketing.segmentation import Segmenter, audience_table, segment_actions, segment_profiles

    raw, path = shop
    case = load_case_file(write(path, segmentation_only(raw)))
    assert case.targets == {} and case.playbook == {} and case.targeting == {}
    data = load_own_data(case)
    table = customer_table(data, case.segmentation_features)
    segmenter = Segmenter(n_segments=3, n_init=2, random_state=0).fit(table)
    actions = segment_actions(segment_profiles(table, segmenter.labels_, value="monetary"), case)
    assert set(actions["action"]) == {DEFAULT_ACTION}
    audience = audience_table(table, segmenter.labels_, actions, noise_action=case.action_for_segment("default"))
    assert len(audience) == 300 and set(audience["action"]) == {DEFAULT_ACTION}


def test_regression_needs_targets_and_targeting(shop):
    raw, path = shop
    raw = {**segmentation_only(raw), "analyses": ["segmentation", "regression"]}
    problems = problems_of(write(path, raw))
    assert {p.split(":")[0] for p in problems} == {"regression_features", "targets"}
    assert all("needed by regression (in 'analyses')" in p for p in problems)
    # one target is enough; a binary one needs the economics of a contact
    raw = {**raw, "regression_features": ["frequency"], "targets": {"binary": {"column": "Churned_Next90d"}}}
    assert [p.split(":")[0] for p in problems_of(write(path, raw))] == ["targeting"]
    raw["targets"] = {"continuous": {"column": "Revenue_Next90d"}}
    assert load_case_file(write(path, raw)).targets["continuous"].column == "Revenue_Next90d"


def test_recommendation_needs_item_kind(shop):
    raw, path = shop
    raw = {**segmentation_only(raw), "analyses": ["recommendation"]}
    raw.pop("segmentation_features")
    assert problems_of(write(path, raw)) == [
        "item_kind: missing (needed by recommendation (in 'analyses')): what the items are, e.g. products"
    ]


def test_explicit_feedback_needs_a_rating_column(shop):
    raw, path = shop
    raw["feedback"] = "explicit"
    assert problems_of(write(path, raw)) == [
        "tables.events.columns: feedback is 'explicit', so the 'rating' role needs a column"
    ]


# --- built-in cases, paths, documentation ------------------------------------------------------


@pytest.mark.parametrize("name", list_cases())
def test_builtin_cases_and_their_public_overlays_pass(name):
    raw = yaml.safe_load((BUILTIN_DIR / f"{name}.yml").read_text())
    assert validate(raw) == []
    case = get_case(name)
    assert case.public_sources, "every built-in case has a public dataset"
    for source, overlay in case.public_sources.items():
        assert validate({**raw, **overlay, "source": source, "public_sources": {}}) == []
        assert case.for_source(source).source == source


def test_overlay_typo_is_an_error(tmp_path):
    raw = yaml.safe_load((BUILTIN_DIR / "finance.yml").read_text())
    raw["name"] = "my-bank"
    raw["public_sources"]["bank_marketing"]["regression_feature"] = ["age"]
    problems = problems_of(write(tmp_path / "bank.yml", raw))
    assert problems == ["public_sources.bank_marketing.regression_feature: unknown key; did you mean 'regression_features'?"]


def test_case_path_from_the_repository_root(monkeypatch):
    # JupyterLab runs a notebook in notebooks/; the README's path is from the repository root
    monkeypatch.chdir(REPO_ROOT / "notebooks")
    case = get_case("data/examples/shop/case.yml")
    assert Path(case.path) == REPO_ROOT / "data" / "examples" / "shop" / "case.yml"
    assert len(load_own_data(case).customers) == 300


def test_paths_inside_a_case_file_are_relative_to_it(shop, tmp_path, monkeypatch):
    _, path = shop
    monkeypatch.chdir(tmp_path)
    data = load_own_data("shop/case.yml")
    assert len(data.items) == 300


def test_missing_case_file_names_both_places():
    with pytest.raises(CaseConfigError, match=r"does not exist \(looked for .* and .*nowhere"):
        get_case("nowhere/case.yml")


def test_every_schema_key_is_documented():
    readme = (REPO_ROOT / "data" / "README.md").read_text()
    undocumented = [k for k in keys() if f"`{k}`" not in readme]
    assert not undocumented, f"document these case-file keys in data/README.md: {undocumented}"


def test_score_bands_are_the_targeting_bands():
    from marketing.regression.targeting import SCORE_BANDS

    assert set(PLAYBOOK.fields["score_bands"].kind.fields) == set(SCORE_BANDS)


def test_file_options_per_format():
    assert file_options("csv")[:5] == ("path", "sep", "encoding", "date_format", "dates")
    assert {"sheet", "sep", "names", "decimal"}.isdisjoint(file_options("parquet"))
    assert "sheet" in file_options("excel") and "sep" not in file_options("excel")
    assert set(FILE_OPTIONS) == {k for kind in ("csv", "parquet", "excel") for k in file_options(kind)}


# --- the content section (content-based recommendations) ---------------------------------------


def test_content_section_is_checked_key_by_key(shop):
    raw, path = shop
    raw["content"] = {"customer_columns": ["Region"], "item_colums": ["category"], "text_column": 3}
    problems = problems_of(write(path, raw))
    assert "content.item_colums: unknown key; did you mean 'item_columns'?" in problems
    assert "content.text_column: should be a column name or null, not 3" in problems
    raw["content"] = {"customer_columns": "Region", "text_column": None}
    assert problems_of(write(path, raw)) == ["content.customer_columns: should be a list of strings, not 'Region'"]


def test_content_section_reaches_the_case(shop):
    raw, path = shop
    raw["content"] = {"customer_columns": ["Region"], "item_columns": ["category", "price"], "text_column": None}
    case = load_case_file(write(path, raw))
    assert case.content == raw["content"]
    assert get_case("education").content["customer_columns"] == ["prior_qualification", "study_mode", "age"]


def test_items_launch_date_role_is_read_as_a_date(shop):
    raw, path = shop
    folder = path.parent
    products = pd.read_csv(folder / "products.csv")
    products["Launched"] = "2025-06-01"
    products.to_csv(folder / "products.csv", index=False)
    raw["tables"]["items"]["columns"]["launch_date"] = "Launched"
    data = load_own_data(load_case_file(write(path, raw)))
    assert data.items["launch_date"].dtype.kind == "M"
    assert (data.items["launch_date"] == pd.Timestamp("2025-06-01")).all()


def test_synthetic_category_affinity_by_is_a_column_or_a_list():
    raw = yaml.safe_load((BUILTIN_DIR / "ecommerce.yml").read_text())
    raw["synthetic"]["category_affinity_by"] = ["region", "channel"]
    assert validate(raw) == []
    raw["synthetic"]["category_affinity_by"] = 3
    assert validate(raw) == ["synthetic.category_affinity_by: should be a string or a list of strings, not 3"]
