"""Write the learner notebooks from the solution notebooks: solution cells become stubs, outputs go.

The solutions in ``workshop/solutions/`` are the one source. A code cell tagged ``solution`` holds
the answer; its ``stub`` metadata (``answer = ...``) is what the learner sees instead. Everything
else is copied, with outputs and execution counts cleared, so the learner notebooks are a pure
function of the solutions (a test checks the committed ones are current).

Run ``python -m marketing.workshop.build`` (``make workshop``) after editing a solution notebook;
``--check`` only reports which learner notebooks are stale (exit code 1).
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

import nbformat

SOLUTION_TAG = "solution"
DEFAULT_STUB = "answer = ...  # your answer"
WORKSHOP = Path(__file__).resolve().parents[2] / "workshop"


def learner_version(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The learner's copy of a solution notebook: solution cells replaced by their stubs, no outputs.

    Examples
    --------
    >>> from nbformat.v4 import new_code_cell, new_notebook
    >>> cell = new_code_cell("answer = 4", metadata={"tags": ["solution"], "stub": "answer = ..."})
    >>> learner = learner_version(new_notebook(cells=[cell]))
    >>> learner.cells[0].source, learner.cells[0].metadata["tags"]
    ('answer = ...', ['exercise'])
    """
    learner = copy.deepcopy(notebook)
    for cell in learner.cells:
        tags = cell.metadata.get("tags", [])
        if SOLUTION_TAG in tags:
            if cell.cell_type != "code":
                raise ValueError(f"cell {cell.get('id', '?')} is tagged {SOLUTION_TAG!r} but is {cell.cell_type}: "
                                 "tag only code cells.")
            cell.source = cell.metadata.pop("stub", DEFAULT_STUB)
            cell.metadata["tags"] = ["exercise" if t == SOLUTION_TAG else t for t in tags]
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return learner


def learner_text(solution: Path) -> str:
    """The learner notebook's file contents for the solution notebook at ``solution``."""
    return nbformat.writes(learner_version(nbformat.read(str(solution), as_version=4))) + "\n"


def build(workshop: Path = WORKSHOP, check: bool = False) -> list[Path]:
    """Write (or, with ``check``, only compare) ``workshop/<name>.ipynb`` for each solution notebook.

    Returns the learner notebooks that were written (or that are stale, with ``check``).
    """
    solutions = sorted((workshop / "solutions").glob("*.ipynb"))
    if not solutions:
        raise FileNotFoundError(f"no solution notebooks in {workshop / 'solutions'}")
    changed = []
    for solution in solutions:
        target = workshop / solution.name
        text = learner_text(solution)
        if not target.exists() or target.read_text() != text:
            changed.append(target)
            if not check:
                target.write_text(text)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m marketing.workshop.build", description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="only report stale learner notebooks (exit 1)")
    args = parser.parse_args(argv)
    changed = build(check=args.check)
    verb = "stale" if args.check else "wrote"
    for path in changed:
        print(f"{verb} {path.relative_to(WORKSHOP.parent)}")
    if not changed:
        print("learner notebooks are current")
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    sys.exit(main())
