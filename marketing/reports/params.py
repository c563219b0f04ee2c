"""A template's parameters, read from its ``parameters`` cell, and validation of overrides.

Overrides are checked against the defaults before any kernel starts: an unknown name or a value
of the wrong type fails at once with a message that lists what the template accepts.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import yaml


class ParameterError(ValueError):
    """An override the template does not accept."""


def template_parameters(template: str | Path) -> dict[str, dict]:
    """Name -> ``{"default": value, "help": comment}`` for a template's ``parameters`` cell.

    Defaults must be Python literals (the template rule); the help text is the trailing comment.
    """
    from marketing.reports.cells import tagged_sources  # json only: nbformat takes seconds to import

    cells = tagged_sources(template, "parameters")
    if len(cells) != 1:
        raise ParameterError(f"{template}: expected exactly one cell tagged 'parameters', found {len(cells)}.")
    params = {}
    for line in cells[0].splitlines():
        code, _, comment = line.partition("#")
        if "=" not in code:
            continue
        name, _, value = code.partition("=")
        try:
            default = ast.literal_eval(value.strip())
        except (ValueError, SyntaxError) as exc:
            raise ParameterError(
                f"{template}: parameter {name.strip()!r} must be a literal, got {value.strip()!r}."
            ) from exc
        params[name.strip()] = {"default": default, "help": comment.strip()}
    return params


def _coerce(name: str, value: Any, default: Any, template: str) -> Any:
    expected = type(default)
    if default is None or isinstance(value, expected) and not (isinstance(value, bool) and expected is not bool):
        return value
    if isinstance(value, str):
        text = value.strip()
        if expected is bool and text.lower() in ("true", "false"):
            return text.lower() == "true"
        if expected in (int, float):
            try:
                return expected(text)
            except ValueError:
                pass
        if expected in (list, dict):
            try:
                parsed = yaml.safe_load(text)
            except yaml.YAMLError:
                parsed = None
            if isinstance(parsed, expected):
                return parsed
    elif expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    elif expected is str and isinstance(value, (int, float)) and not isinstance(value, bool):
        # e.g. n_segments = "auto" also accepts a number of segments
        return value
    raise ParameterError(
        f"{template}: parameter {name!r} expects {expected.__name__} (default {default!r}), "
        f"got {value!r}."
    )


def validate_parameters(template: str | Path, overrides: dict[str, Any]) -> dict[str, Any]:
    """Check ``overrides`` against the template's parameters; return them with types coerced.

    Command-line values arrive as strings and are converted to the default's type.

    Raises
    ------
    ParameterError
        For an unknown name (the message lists the accepted ones) or a value of the wrong type.
    """
    known = template_parameters(template)
    name = Path(template).stem
    unknown = sorted(set(overrides) - set(known))
    if unknown:
        raise ParameterError(
            f"{name}: unknown parameter(s) {unknown}. It accepts: "
            + ", ".join(f"{k} (default {v['default']!r})" for k, v in known.items())
        )
    return {k: _coerce(k, v, known[k]["default"], name) for k, v in overrides.items()}


def read_parameter_file(path: str | Path) -> dict[str, Any]:
    """Parameters from a YAML file (a mapping of name to value)."""
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"parameter file {path} does not exist.")
    values = yaml.safe_load(path.read_text()) or {}
    if not isinstance(values, dict):
        raise ParameterError(f"parameter file {path} must hold a mapping of parameter names to values.")
    return values
