"""The workshop's notebooks: every solution runs and passes its checks; the learner copies are current."""

from __future__ import annotations

import re

import nbformat
import pytest

from conftest import ROOT

WORKSHOP = ROOT / "workshop"
NAMES = ("01_segmentation", "02_recommendation", "03_regression")
MODULES = {"01_segmentation": "segmentation", "02_recommendation": "recommendation", "03_regression": "regression"}


def _execute(path):
    from nbclient import NotebookClient

    nb = nbformat.read(str(path), as_version=4)
    NotebookClient(nb, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(WORKSHOP)}}).execute()
    return nb


def _check_outputs(nb) -> list[str]:
    """The text each check cell printed, in order."""
    cells = [c for c in nb.cells if "check" in c.metadata.get("tags", [])]
    return ["".join(o.get("data", {}).get("text/plain", "") for o in c.outputs) for c in cells]


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_solution_notebook_passes_every_check(name):
    import importlib

    nb = _execute(WORKSHOP / "solutions" / f"{name}.ipynb")
    module = importlib.import_module(f"marketing.workshop.{MODULES[name]}")
    exercises = sorted(n for n in dir(module) if re.fullmatch(r"exercise_\d+", n))
    said = _check_outputs(nb)
    assert len(said) == len(exercises) >= 2, f"{name}: a check cell per exercise ({exercises}), found {len(said)}"
    for i, text in enumerate(said, start=1):
        assert text.startswith(f"exercise {i}: right."), f"{name}, exercise {i}: {text}"
    stderr = [o.get("text", "") for c in nb.cells for o in c.get("outputs", []) if o.get("name") == "stderr"]
    assert stderr == [], f"{name} printed warnings: {stderr}"
    figures = [c for c in nb.cells if any("image/png" in o.get("data", {}) for o in c.get("outputs", []))]
    assert figures, f"{name} draws no figure"
    for cell in figures:  # a one-line takeaway under every figure
        following = nb.cells[nb.cells.index(cell) + 1]
        assert following.cell_type == "markdown" and following.source.startswith("*Takeaway:"), cell.source


@pytest.mark.parametrize("name", NAMES)
def test_committed_learner_notebook_is_the_built_one(name):
    from marketing.workshop.build import learner_text

    committed = (WORKSHOP / f"{name}.ipynb").read_text()
    assert committed == learner_text(WORKSHOP / "solutions" / f"{name}.ipynb"), (
        f"workshop/{name}.ipynb is stale: run `make workshop`"
    )
    learner = nbformat.reads(committed, as_version=4)
    sources = "\n".join(c.source for c in learner.cells)
    solution = nbformat.read(str(WORKSHOP / "solutions" / f"{name}.ipynb"), as_version=4)
    answers = [c.source for c in solution.cells if "solution" in c.metadata.get("tags", [])]
    assert answers and not any(a in sources for a in answers), "a solution leaked into the learner notebook"
    assert all(not c.get("outputs") for c in learner.cells if c.cell_type == "code")


def test_learner_version_strips_solutions_and_outputs():
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

    from marketing.workshop.build import learner_version

    answer = new_code_cell("answer = 4", metadata={"tags": ["solution"], "stub": "answer = ...  # your k"})
    answer.outputs = [new_output("stream", text="4")]
    plain = new_code_cell("x = 1", execution_count=3)
    nb = new_notebook(cells=[new_markdown_cell("# t"), answer, plain])
    learner = learner_version(nb)
    assert [c.source for c in learner.cells] == ["# t", "answer = ...  # your k", "x = 1"]
    assert learner.cells[1].metadata == {"tags": ["exercise"]} and learner.cells[1].outputs == []
    assert learner.cells[2].execution_count is None
    assert nb.cells[1].source == "answer = 4", "the solution notebook itself is not changed"
    with pytest.raises(ValueError, match="tag only code cells"):
        learner_version(new_notebook(cells=[new_markdown_cell("x", metadata={"tags": ["solution"]})]))


@pytest.mark.parametrize("name", NAMES)
def test_learner_notebook_runs_unanswered(name):
    """Run All on a fresh learner notebook reaches the end: no later cell needs a name only a solution defines,
    and every check answers an unanswered `...` with "Not answered" (the solution run executes the rest)."""
    import ast
    import importlib

    nb = nbformat.read(str(WORKSHOP / "solutions" / f"{name}.ipynb"), as_version=4)
    defined_by_solutions: set[str] = set()
    for cell in nb.cells:
        if cell.cell_type != "code" or cell.source.startswith("%"):
            continue
        tree = ast.parse("\n".join(line for line in cell.source.splitlines() if not line.startswith("%")))
        names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        if "solution" in cell.metadata.get("tags", []):
            assigned = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
            defined_by_solutions |= assigned - {"answer"}
        else:
            used = names & defined_by_solutions
            assert not used, f"{name}: {cell.source!r} needs {used}, which only a solution cell defines"
    module = importlib.import_module(f"marketing.workshop.{MODULES[name]}")
    for exercise in sorted(n for n in dir(module) if re.fullmatch(r"exercise_\d+", n)):
        assert "Not answered" in getattr(module, exercise)(...).message
