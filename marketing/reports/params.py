"""A template's parameters, read from its ``parameters`` cell, and validation of overrides.

Each parameter is declared once: its type by the annotation in the template's ``parameters`` cell
(``seed: int = 42  # ...``, which ``papermill --help-notebook`` shows too), its allowed values, where
it has a closed set, in :data:`ALLOWED` below (one table for the three templates, whose shared
parameters mean the same everywhere). Overrides are checked against both before any kernel starts:
an unknown name or a bad value fails at once with a message that lists what the template accepts.
"""

from __future__ import annotations

import ast
import copy
import difflib
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


class ParameterError(ValueError):
    """An override the template does not accept."""


@dataclass(frozen=True)
class AtLeast:
    """Any integer from ``minimum`` up, as one of a parameter's allowed values."""

    minimum: int

    def __contains__(self, value: Any) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and value >= self.minimum

    def __str__(self) -> str:
        return f"an integer >= {self.minimum}"


#: Allowed values of the parameters that have a closed set; the others take any value of their
#: type. The package's own constants (``ENGINES``, ``SIZES``, ``METHODS``, ``SPLITS``) are not
#: imported here so that checking a parameter never loads the analyses; a test keeps them equal.
ALLOWED: dict[str, tuple] = {
    "engine": ("pandas", "duckdb", "spark"),
    "data_size": ("small", "medium", "large"),
    "method": ("kmeans", "gmm", "ward", "hdbscan"),
    "split": ("time", "leave_last", "random"),
    "n_segments": ("auto", AtLeast(2)),
    "cv": (0, AtLeast(2)),  # 1 fold cannot validate anything
}

# the annotations a parameters cell may use, by their spelling there
_TYPES: dict[str, type] = {"str": str, "int": int, "float": float, "bool": bool, "list": list, "dict": dict,
                           "None": type(None)}


@dataclass(frozen=True)
class Parameter:
    """One template parameter: its default, declared types, allowed values and help text."""

    name: str
    default: Any
    types: tuple[type, ...]
    help: str
    allowed: tuple = ()

    @property
    def type_name(self) -> str:
        """The declared type in words, e.g. ``"int or str"``."""
        return " or ".join("None" if t is type(None) else t.__name__ for t in self.types)


def _annotation_types(node: ast.expr | None, default: Any, where: str) -> tuple[type, ...]:
    """The types an annotation names: ``int``, or a quoted ``"Optional[str]"`` / ``"Union[int, str]"``
    (quoted because papermill's reader accepts no ``|`` and the cell imports nothing)."""
    if node is None:  # no annotation: the default's type (any value when it is None)
        return () if default is None else (type(default),)
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        node = ast.parse(node.value, mode="eval").body
    if isinstance(node, ast.Name) and node.id in _TYPES:
        return (_TYPES[node.id],)
    if isinstance(node, ast.Constant) and node.value is None:
        return (type(None),)
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id in ("Optional", "Union"):
        parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        types = tuple(t for p in parts for t in _annotation_types(p, default, where))
        return types + (type(None),) if node.value.id == "Optional" else types
    raise ParameterError(f"{where}: unsupported annotation {ast.unparse(node)!r}; use str, int, float, bool, list, "
                         "dict, or a quoted Optional[...] or Union[...] of them.")


def parameter_declarations(template: str | Path) -> dict[str, Parameter]:
    """Name -> :class:`Parameter` for a template's ``parameters`` cell.

    Defaults must be Python literals (the template rule); the type is the annotation (or the
    default's type), the help text the trailing comment, the allowed values from :data:`ALLOWED`.

    Examples
    --------
    >>> p = parameter_declarations("notebooks/segmentation.ipynb")["n_segments"]
    >>> p.default, p.type_name, [str(v) for v in p.allowed]
    ('auto', 'int or str', ['auto', 'an integer >= 2'])
    """
    path = Path(template)
    try:
        stat = path.stat()
    except OSError as exc:
        raise ParameterError(f"{template}: cannot read the template: {exc.strerror}.") from exc
    # a build asks for each template once per report: read it once while it is unchanged
    # (a copy: a caller may change a list default without changing the cached one)
    return copy.deepcopy(_declarations(str(path.resolve()), stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=32)
def _declarations(template: str, _mtime_ns: int, _size: int) -> dict[str, Parameter]:
    from marketing.reports.cells import tagged_sources  # json only: nbformat takes seconds to import

    try:
        cells = tagged_sources(template, "parameters")
    except (OSError, ValueError) as exc:
        raise ParameterError(f"{template}: not a readable notebook: {exc}") from exc
    if len(cells) != 1:
        raise ParameterError(f"{template}: expected exactly one cell tagged 'parameters', found {len(cells)}.")
    source = cells[0]
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ParameterError(f"{template}: the parameters cell is not valid Python: {exc}") from exc
    lines = source.splitlines()
    params = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target, value, annotation = stmt.targets[0], stmt.value, None
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            target, value, annotation = stmt.target, stmt.value, stmt.annotation
        else:
            continue
        if not isinstance(target, ast.Name):
            continue
        name = target.id
        try:
            default = ast.literal_eval(value)
        except ValueError as exc:
            raise ParameterError(
                f"{template}: parameter {name!r} must be a literal, got {ast.unparse(value)!r}."
            ) from exc
        # the help is the comment on the statement's last line
        _, _, comment = lines[stmt.end_lineno - 1][stmt.end_col_offset:].partition("#")
        types = _annotation_types(annotation, default, f"{template}: parameter {name!r}")
        params[name] = Parameter(name, default, types, comment.strip(), ALLOWED.get(name, ()))
    return params


def template_parameters(template: str | Path) -> dict[str, dict]:
    """Name -> ``{"default": value, "help": comment}`` for a template's ``parameters`` cell.

    See :func:`parameter_declarations` for the types and allowed values.
    """
    return {n: {"default": p.default, "help": p.help} for n, p in parameter_declarations(template).items()}


def _is(value: Any, types: tuple[type, ...]) -> bool:
    # bool is an int to Python, never to a user
    return any(isinstance(value, t) and not (isinstance(value, bool) and t is not bool) for t in types)


def _parse(param: Parameter, value: Any, template: str) -> Any:
    """A value of the declared type: text (a -p value) is read as a YAML scalar first."""
    types = param.types
    if not types:
        return value
    if isinstance(value, str):
        try:
            parsed = yaml.safe_load(value)
        except yaml.YAMLError:
            parsed = value
        if not isinstance(parsed, str) and _is(parsed, types):
            return parsed
        if float in types and isinstance(parsed, str):
            try:  # YAML 1.1 reads 1e-3 as text
                return float(parsed)
            except ValueError:
                pass
        if str in types:
            return value  # text stays text: -p data_path 2024 is the folder "2024"
        value = parsed
    if float in types and _is(value, (int,)) and not _is(value, types):
        return float(value)
    if _is(value, types):
        return value
    raise ParameterError(f"{template}: parameter {param.name!r} expects {param.type_name} "
                         f"(default {param.default!r}), got {value!r}.")


def _allows(allowed: Any, value: Any) -> bool:
    if isinstance(allowed, AtLeast):
        return value in allowed
    return value == allowed and type(value) is type(allowed)  # True is not the 1 of a choice


def _check_allowed(param: Parameter, value: Any) -> None:
    if not param.allowed or any(_allows(a, value) for a in param.allowed):
        return
    words = [a if isinstance(a, str) else str(a) for a in param.allowed]
    if all(isinstance(a, str) for a in param.allowed):
        listed = "one of " + ", ".join(words)
    else:
        listed = " or ".join(repr(a) if isinstance(a, str) else str(a) for a in param.allowed)
    choices = [a for a in param.allowed if isinstance(a, str)]
    close = difflib.get_close_matches(value, choices, n=1) if isinstance(value, str) else []
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ParameterError(f"{param.name}: {value!r} is not {listed}{hint}")


def validate_parameters(template: str | Path, overrides: dict[str, Any]) -> dict[str, Any]:
    """Check ``overrides`` against the template's declarations; return them parsed.

    Text values (from ``-p NAME VALUE``) are read as YAML scalars, so ``"5"`` is the integer 5,
    ``"null"`` is None and ``"[10, 50]"`` a list, unless the parameter takes text.

    Raises
    ------
    ParameterError
        For an unknown name (the message lists the accepted ones), a value of the wrong type, or
        one outside the parameter's allowed values (the message lists them).

    Examples
    --------
    >>> validate_parameters("notebooks/segmentation.ipynb", {"n_segments": "5", "method": "gmm"})
    {'n_segments': 5, 'method': 'gmm'}
    >>> validate_parameters("notebooks/segmentation.ipynb", {"method": "kmean"})
    Traceback (most recent call last):
    ...
    marketing.reports.params.ParameterError: method: 'kmean' is not one of kmeans, gmm, ward, hdbscan (did you mean 'kmeans'?)
    """
    known = parameter_declarations(template)
    name = Path(template).stem
    unknown = sorted(set(overrides) - set(known))
    if unknown:
        raise ParameterError(
            f"{name}: unknown parameter(s) {unknown}. It accepts: "
            + ", ".join(f"{k} (default {v.default!r})" for k, v in known.items())
        )
    values = {}
    for key, value in overrides.items():
        values[key] = _parse(known[key], value, name)
        _check_allowed(known[key], values[key])
    return values


def read_parameter_file(path: str | Path) -> dict[str, Any]:
    """Parameters from a YAML file (a mapping of name to value)."""
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"parameter file {path} does not exist.")
    values = yaml.safe_load(path.read_text()) or {}
    if not isinstance(values, dict):
        raise ParameterError(f"parameter file {path} must hold a mapping of parameter names to values.")
    return values
