import pytest

from marketing.cases import ANALYSES, BUILTIN_DIR, CaseConfigError, get_case, list_cases, load_case_file

from conftest import CASES


def test_four_builtin_cases():
    assert list_cases() == sorted(CASES)


@pytest.mark.parametrize("name", CASES)
def test_builtin_case_is_complete(name):
    case = get_case(name)
    assert case.title and case.question and case.item_kind
    assert set(case.analyses) <= set(ANALYSES)
    assert {"continuous", "binary"} <= set(case.targets)
    for target in case.targets.values():
        assert target.meaning, f"{name}: every target needs its business meaning"
        assert target.column in case.leakage, "a target must be listed as leakage"
    assert case.segmentation_features and case.regression_features
    assert "default" in case.playbook["segments"]
    assert set(case.playbook["score_bands"]) == {"high", "medium", "low"}
    assert case.targeting["contact_cost"] > 0 and case.targeting["response_value"] > 0
    planted = [s["name"] for s in case.synthetic["segments"]]
    # every planted segment has an action, so the playbook covers what the data holds
    assert all(case.action_for_segment(s) != case.playbook["segments"]["default"] for s in planted)


def test_unknown_case_lists_the_known_ones():
    with pytest.raises(CaseConfigError, match="ecommerce, education, finance, health"):
        get_case("retail")


def test_case_file_is_loaded_like_a_builtin(tmp_path):
    path = tmp_path / "shop.yml"
    text = (BUILTIN_DIR / "ecommerce.yml").read_text()
    path.write_text(text.replace("name: ecommerce", "name: my-shop"))
    case = get_case(str(path))
    assert case.name == "my-shop" and case.path == str(path)
    assert case.targets["binary"].column == "churned_next_90d"


def test_case_file_missing_keys_is_named(tmp_path):
    path = tmp_path / "bad.yml"
    path.write_text("name: bad\ntitle: Bad\n")
    with pytest.raises(CaseConfigError, match=r"bad.yml: question: missing \(required\)"):
        load_case_file(path)


def test_case_file_unknown_analysis(tmp_path):
    text = (BUILTIN_DIR / "health.yml").read_text()
    path = tmp_path / "h.yml"
    path.write_text(text.replace("analyses: [segmentation", "analyses: [forecasting"))
    with pytest.raises(CaseConfigError, match=r"analyses\[0\]: 'forecasting' is not one of \['segmentation'"):
        load_case_file(path)


def test_missing_case_file():
    with pytest.raises(CaseConfigError, match="does not exist"):
        get_case("nowhere/case.yml")
