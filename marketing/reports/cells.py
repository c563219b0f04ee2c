"""A template's tagged cells, read with the standard library alone.

The up-to-date check of ``make reports`` and ``python -m marketing list`` read each template's
``parameters`` cell. ``nbformat`` would validate the whole notebook against its JSON schema, and
importing it (jsonschema and its format checkers) takes seconds; reading the cell needs only
:mod:`json`.
"""

from __future__ import annotations

import json
from pathlib import Path


def tagged_sources(notebook: str | Path, tag: str) -> list[str]:
    """The source text of each cell of ``notebook`` tagged ``tag``, in order.

    Parameters
    ----------
    notebook : str or Path
        An ``.ipynb`` file (nbformat 4).
    tag : str
        A cell tag, e.g. ``"parameters"``.

    Returns
    -------
    list of str
        One string per tagged cell (a cell's source may be stored as a list of lines).

    Raises
    ------
    OSError, ValueError
        The file cannot be read or is not JSON.

    Examples
    --------
    >>> import json, tempfile, os
    >>> cell = {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": ["seed = 42  # seed\\n", "k = 3"]}
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "t.ipynb")
    ...     _ = open(path, "w").write(json.dumps({"cells": [cell], "nbformat": 4}))
    ...     tagged_sources(path, "parameters")
    ['seed = 42  # seed\\nk = 3']
    """
    nb = json.loads(Path(notebook).read_text(encoding="utf-8"))
    sources = []
    for cell in nb.get("cells", []):
        if tag in (cell.get("metadata") or {}).get("tags", []):
            source = cell.get("source", "")
            sources.append("".join(source) if isinstance(source, list) else source)
    return sources
