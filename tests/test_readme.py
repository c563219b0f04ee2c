"""The README's ``python -m marketing`` examples work as written (issue 17).

Every such line of the README (its bash blocks and its inline code) is run through the CLI's own
``main`` with the README's exact arguments. ``list``, ``check`` and ``--help`` run for real. ``run``
and ``reports`` run everything before the first kernel for real (argument parsing, the -p / -f
values parsed and validated against the templates, case files checked with their data, the run
matrix planned) and stop at the build, which is replaced by a recorder; one example then runs for
real, kernel included, into a temporary folder. Two placeholders a reader replaces are replaced
here too: ``path/to/my_case.yml`` by the example case file and ``my-params.yaml`` by a file written
for the test.
"""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

import pytest

import marketing.reports
from marketing.cli import main
from marketing.provenance import ROOT
from marketing.reports.build import BuildResult

README = ROOT / "README.md"
PLACEHOLDER_CASE = ("path/to/my_case.yml", "data/examples/shop/case.yml")


def readme_commands() -> list[str]:
    """Each README line that runs ``python -m marketing``, from bash blocks and inline code."""
    text = README.read_text()
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.S)
    lines = [line.strip() for block in blocks for line in block.splitlines() if "python -m marketing" in line]
    inline = re.findall(r"`([^`\n]*python -m marketing[^`\n]*)`", text)
    return lines + inline


def split_command(line: str) -> tuple[dict[str, str], list[str]]:
    """The environment assignments and the arguments after ``python -m marketing``."""
    tokens = shlex.split(line, comments=True)
    env = {}
    while tokens and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", tokens[0]):
        key, _, value = tokens.pop(0).partition("=")
        env[key] = value
    start = tokens.index("-m")
    assert tokens[start + 1] == "marketing" and tokens[start - 1].endswith("python"), line
    return env, tokens[start + 2:]


COMMANDS = readme_commands()


def test_the_readme_has_examples_of_every_command():
    commands = {split_command(line)[1][0] for line in COMMANDS}
    assert {"list", "check", "run", "reports"} <= commands
    assert any("-p n_segments 5" in line for line in COMMANDS)


@pytest.fixture
def recorded_builds(monkeypatch):
    """Replace the build (where kernels start) by a recorder of what it was asked to do."""
    calls = []

    def record(jobs, **kwargs):
        calls.append((jobs, kwargs))
        return BuildResult(records=[], skipped=[])

    # both names the CLI may import it by
    monkeypatch.setattr(marketing.reports, "build", record)
    monkeypatch.setattr(sys.modules["marketing.reports.build"], "build", record)
    return calls


@pytest.mark.parametrize("line", COMMANDS)
def test_readme_example(line, tmp_path, monkeypatch, recorded_builds, capsys):
    env, argv = split_command(line)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(ROOT)  # the README's paths are relative to the repository
    argv = [PLACEHOLDER_CASE[1] if a == PLACEHOLDER_CASE[0] else a for a in argv]
    if "my-params.yaml" in argv:
        params = tmp_path / "my-params.yaml"
        params.write_text("seed: 7\ncv: 3\n")
        argv[argv.index("my-params.yaml")] = str(params)
    assert main(argv) == 0, capsys.readouterr().err
    if argv[0] in ("run", "reports"):
        ((jobs, kwargs),) = recorded_builds
        assert jobs, line
        if argv[0] == "run":
            assert kwargs["force"] is True and len(jobs) == 1
        pairs = [argv[i + 1:i + 3] for i, a in enumerate(argv) if a == "-p"]
        for name, _ in pairs:
            assert name in jobs[0].parameters
        if "-o" in argv:
            assert Path(kwargs["reports_dir"]) == Path(argv[argv.index("-o") + 1])
        assert kwargs["no_input"] is ("--no-input" in argv)
    else:
        assert not recorded_builds


def test_readme_parameter_example_reaches_the_notebook_typed(recorded_builds):
    (line,) = [c for c in COMMANDS if "-p n_segments 5" in c]
    assert main(split_command(line)[1]) == 0
    ((jobs, _),) = recorded_builds
    assert jobs[0].parameters["n_segments"] == 5  # the int, not the text "5"


@pytest.mark.parametrize("argv", [["--help"], ["list", "--help"], ["check", "--help"], ["run", "--help"],
                                  ["reports", "--help"]])
def test_help(argv, capsys):
    with pytest.raises(SystemExit) as done:
        main(argv)
    assert done.value.code == 0 and "usage: python -m marketing" in capsys.readouterr().out


@pytest.mark.slow
def test_a_readme_run_example_for_real(tmp_path, monkeypatch):
    """The README's own-data run, kernel included, into a temporary folder (about a minute)."""
    (line,) = [c for c in COMMANDS if "run --case data/examples/shop/case.yml --analysis segmentation" in c]
    monkeypatch.chdir(ROOT)
    argv = split_command(line)[1] + ["-o", str(tmp_path)]
    assert main(argv) == 0
    assert (tmp_path / "shop" / "segmentation.html").stat().st_size > 0
    assert (tmp_path / "shop" / "segmentation.json").is_file()
