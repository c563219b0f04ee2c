"""The notebook templates follow the house rules: stripped, one literal parameters cell, a
metrics record and provenance last."""

import ast

import nbformat
import pytest

from marketing.cases import ANALYSES
from marketing.reports import template_parameters

from conftest import NOTEBOOKS

TEMPLATES = [NOTEBOOKS / f"{a}.ipynb" for a in ANALYSES]
COMMON = {"case_study", "seed", "data_size", "data_source", "engine", "spark_master", "data_path", "export_dir"}
PARAMETERS = {
    "segmentation": COMMON | {"n_segments", "method", "k_min", "k_max", "stability_runs"},
    "recommendation": COMMON | {"top_k", "split"},
    "regression": COMMON | {"test_size", "n_boot", "n_repeats"},
}


@pytest.fixture(params=TEMPLATES, ids=lambda p: p.stem)
def template(request):
    return request.param


def test_template_is_committed_stripped(template):
    nb = nbformat.read(str(template), as_version=4)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{template.name} cell {i} has outputs: strip them"
            assert cell.execution_count is None, f"{template.name} cell {i} has an execution count"
    assert nb.metadata["kernelspec"]["name"] == "python3"


def test_one_parameters_cell_of_commented_literals(template):
    nb = nbformat.read(str(template), as_version=4)
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1
    for line in cells[0].source.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            code, sep, comment = line.partition("#")
            assert sep and comment.strip(), f"{template.name}: parameter line needs a comment: {line!r}"
            name, _, value = code.partition("=")
            ast.literal_eval(value.strip())  # literals only
    params = template_parameters(template)
    assert PARAMETERS[template.stem] <= set(params)
    assert params["case_study"]["default"] == "ecommerce" and params["data_size"]["default"] == "small"


def test_records_metrics_and_ends_with_provenance(template):
    nb = nbformat.read(str(template), as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert any("record_metrics(" in s for s in code)
    assert "show_provenance(" in code[-1] and code[-1].startswith("# NBVAL_IGNORE_OUTPUT")
    # the provenance reads every parameter from the template itself (none listed by hand)
    assert f'show_provenance("{template.stem}", globals()' in code[-1]
    assert nb.cells[-2].cell_type == "markdown" and nb.cells[-2].source.startswith("## Provenance")
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "Try it" in text


def test_provenance_lists_exactly_the_template_parameters(template):
    from marketing.notebook import template_values

    params = template_parameters(template)
    namespace = {name: spec["default"] for name, spec in params.items()} | {"case": object(), "data": None}
    namespace["seed"] = 7  # an override, as papermill injects it
    values = template_values(template.stem, namespace)
    assert list(values) == list(params) and values["seed"] == 7


def _code_cells(template):
    nb = nbformat.read(str(template), as_version=4)
    return [c for c in nb.cells if c.cell_type == "code"]


def test_templates_are_engine_free(template):
    """The engine is a detail of the package: no branch on it, no per-engine prints (issue 14)."""
    for i, cell in enumerate(_code_cells(template)):
        if "parameters" in cell.metadata.get("tags", []):
            continue
        for needle in ("if engine", "engine ==", "engine !=", "engine in", "pandas engine only", "marketing.spark"):
            assert needle not in cell.source, f"{template.name} code cell {i}: {needle!r}"
    # what an engine lacks is printed by the package, once at the top
    assert sum("capability_note(" in c.source for c in _code_cells(template)) == 1
    # Spark is named in one "Try it" line and the parameters, not a paragraph per section
    nb = nbformat.read(str(template), as_version=4)
    assert sum("spark" in c.source.lower() for c in nb.cells if c.cell_type == "markdown") <= 1


def test_templates_are_thin(template):
    """At most 100 code lines, and no cell over 12 lines but the imports and the parameters."""
    cells = _code_cells(template)
    sizes = [len(c.source.splitlines()) for c in cells]
    assert sum(sizes) <= 100, f"{template.name}: {sum(sizes)} code lines"
    narrative = [n for c, n in zip(cells[1:], sizes[1:]) if "parameters" not in c.metadata.get("tags", [])]
    assert max(narrative) <= 12, f"{template.name}: a code cell of {max(narrative)} lines"
