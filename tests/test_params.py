"""Template parameters: declared types and allowed values, -p values parsed by them (issue 17)."""

from __future__ import annotations

import ast

import nbformat
import pytest

from marketing.reports import ParameterError, plan, validate_parameters
from marketing.reports.build import NOTEBOOKS_DIR
from marketing.reports.params import ALLOWED, AtLeast, parameter_declarations

SEGMENTATION = NOTEBOOKS_DIR / "segmentation.ipynb"
RECOMMENDATION = NOTEBOOKS_DIR / "recommendation.ipynb"
REGRESSION = NOTEBOOKS_DIR / "regression.ipynb"
TEMPLATES = [SEGMENTATION, RECOMMENDATION, REGRESSION]


def test_cli_values_are_yaml_scalars_read_by_the_declared_type():
    assert validate_parameters(SEGMENTATION, {"n_segments": "5"}) == {"n_segments": 5}
    assert validate_parameters(SEGMENTATION, {"n_segments": "auto"}) == {"n_segments": "auto"}
    assert validate_parameters(SEGMENTATION, {"n_segments": 4, "seed": "7"}) == {"n_segments": 4, "seed": 7}
    assert validate_parameters(RECOMMENDATION, {"sweep_values": "[10, 50]"}) == {"sweep_values": [10, 50]}
    assert validate_parameters(RECOMMENDATION, {"sweep_values": "null"}) == {"sweep_values": None}
    assert validate_parameters(REGRESSION, {"test_size": "0.3", "cv": "0"}) == {"test_size": 0.3, "cv": 0}
    assert validate_parameters(REGRESSION, {"test_size": 1}) == {"test_size": 1.0}
    # text parameters keep the text as typed: a folder named 2024 is not the number 2024
    assert validate_parameters(SEGMENTATION, {"data_path": "2024", "spark_master": "local[2]"}) == {
        "data_path": "2024", "spark_master": "local[2]"}
    assert validate_parameters(SEGMENTATION, {"data_path": "null"}) == {"data_path": None}


def test_a_misspelt_choice_names_the_allowed_values_and_the_closest():
    with pytest.raises(ParameterError) as err:
        validate_parameters(SEGMENTATION, {"method": "kmean"})
    assert str(err.value) == "method: 'kmean' is not one of kmeans, gmm, ward, hdbscan (did you mean 'kmeans'?)"
    with pytest.raises(ParameterError, match="engine: 'polars' is not one of pandas, duckdb, spark$"):
        validate_parameters(REGRESSION, {"engine": "polars"})
    with pytest.raises(ParameterError, match=r"split: 'leave-last' is not one of time, leave_last, random "
                                             r"\(did you mean 'leave_last'\?\)"):
        validate_parameters(RECOMMENDATION, {"split": "leave-last"})
    with pytest.raises(ParameterError, match="data_size: 'huge' is not one of small, medium, large"):
        validate_parameters(RECOMMENDATION, {"data_size": "huge"})


@pytest.mark.parametrize("value", ["1", "0", "-3", "five", "true", "2.5"])
def test_n_segments_is_auto_or_an_integer_of_at_least_two(value):
    with pytest.raises(ParameterError, match="n_segments"):
        validate_parameters(SEGMENTATION, {"n_segments": value})


def test_n_segments_messages():
    with pytest.raises(ParameterError, match=r"^n_segments: 1 is not 'auto' or an integer >= 2$"):
        validate_parameters(SEGMENTATION, {"n_segments": "1"})
    with pytest.raises(ParameterError, match=r"n_segments: 'aut' is not 'auto' or an integer >= 2 "
                                             r"\(did you mean 'auto'\?\)"):
        validate_parameters(SEGMENTATION, {"n_segments": "aut"})


def test_cv_is_zero_or_at_least_two_folds():
    assert validate_parameters(REGRESSION, {"cv": "3"}) == {"cv": 3}
    with pytest.raises(ParameterError, match=r"^cv: 1 is not 0 or an integer >= 2$"):
        validate_parameters(REGRESSION, {"cv": "1"})
    with pytest.raises(ParameterError, match="parameter 'cv' expects int"):
        validate_parameters(REGRESSION, {"cv": "five"})


@pytest.mark.parametrize("overrides", [
    {"seed": "forty-two"}, {"seed": "true"}, {"test_size": "a lot"}, {"sweep_values": "7"}, {"top_k": "[1]"},
])
def test_wrong_types_fail_with_the_declared_type(overrides):
    template = RECOMMENDATION if {"sweep_values", "top_k"} & set(overrides) else REGRESSION
    with pytest.raises(ParameterError, match="expects"):
        validate_parameters(template, overrides)


def test_bad_values_fail_in_plan_before_any_kernel(tmp_path):
    with pytest.raises(ParameterError, match="did you mean 'kmeans'"):
        plan(["finance"], ["segmentation"], {"method": "kmean"}, reports_dir=tmp_path)
    jobs = plan(["finance"], ["segmentation"], {"n_segments": "5"}, reports_dir=tmp_path)
    assert jobs[0].parameters["n_segments"] == 5


def test_the_cli_rejects_a_bad_value_without_building(monkeypatch, capsys):
    import marketing.reports
    from marketing.cli import main

    def no_build(*args, **kwargs):  # pragma: no cover - reached only if validation let it through
        raise AssertionError("a kernel would have started")

    monkeypatch.setattr(marketing.reports, "build", no_build)
    argv = ["run", "--case", "finance", "--analysis", "segmentation", "-p", "method", "kmean"]
    assert main(argv) == 2
    assert "method: 'kmean' is not one of kmeans, gmm, ward, hdbscan (did you mean 'kmeans'?)" in capsys.readouterr().err


def test_allowed_values_match_the_package():
    from marketing.datasets.synthetic import SIZES
    from marketing.engines import ENGINES
    from marketing.recommend.split import SPLITS
    from marketing.segmentation.clustering import METHODS

    assert ALLOWED["engine"] == ENGINES and ALLOWED["data_size"] == SIZES
    assert ALLOWED["method"] == METHODS and ALLOWED["split"] == SPLITS


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.stem)
def test_every_parameter_declares_its_type_and_documents_its_choices(template):
    nb = nbformat.read(str(template), as_version=4)
    (cell,) = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    statements = ast.parse(cell.source).body
    assert statements and all(isinstance(s, ast.AnnAssign) for s in statements), "annotate every parameter"
    for name, param in parameter_declarations(template).items():
        assert param.types, name
        assert isinstance(param.default, param.types), f"{name}: default {param.default!r} is not {param.type_name}"
        for choice in param.allowed:
            if isinstance(choice, str):
                assert choice in param.help, f"{name}: the comment does not mention {choice!r}"
            elif isinstance(choice, AtLeast):
                assert f"{choice.minimum} or more" in param.help, f"{name}: the comment does not give the minimum"


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.stem)
def test_papermill_documents_every_parameter_with_its_type(template):
    from papermill.inspection import inspect_notebook

    inferred = inspect_notebook(str(template))
    declared = parameter_declarations(template)
    assert list(inferred) == list(declared)  # papermill skips a line it cannot read: none may be lost
    for name, p in inferred.items():
        assert p["inferred_type_name"] != "None", f"{name}: papermill shows 'Unknown type'"
        assert p["help"] == declared[name].help


def test_declarations_of_a_template_without_annotations(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell('seed = 42  # seed\nname = None  # any\nx: "Optional[int]" = 3  # x',
                                          metadata={"tags": ["parameters"]})]
    path = tmp_path / "t.ipynb"
    nbformat.write(nb, str(path))
    params = parameter_declarations(path)
    assert params["seed"].types == (int,) and params["name"].types == () and params["x"].type_name == "int or None"
    assert validate_parameters(path, {"seed": "3", "name": "5", "x": "null"}) == {"seed": 3, "name": "5", "x": None}


def test_a_changed_template_is_read_again(tmp_path):
    path = tmp_path / "t.ipynb"
    for default in (42, 7):
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(f"seed: int = {default}  # seed", metadata={"tags": ["parameters"]})]
        nbformat.write(nb, str(path))
        assert parameter_declarations(path)["seed"].default == default
    with pytest.raises(ParameterError, match="cannot read the template"):
        parameter_declarations(tmp_path / "missing.ipynb")
