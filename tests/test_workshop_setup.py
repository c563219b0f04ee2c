"""The workshop's set-up: the participants' check, the Binder configuration and its postBuild."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "workshop"))
import check_setup  # noqa: E402 (the script lives beside the notebooks, not in the package)


def _pins(text: str) -> dict[str, str]:
    return {n.lower(): v for n, v in re.findall(r"^([A-Za-z0-9_.-]+)==([^\s;]+)", text, re.M)}


def test_old_python_is_told_which_version_to_install():
    message = check_setup.check_python((3, 10, 4))
    assert "Python 3.10.4 is too old" in message and "Python 3.11 or newer" in message
    assert "make check PYTHON=python3.11" in message and "check_setup.py --install" in message
    assert check_setup.check_python((3, 11, 0)) is None and check_setup.check_python((3, 13, 1)) is None


def test_python_only_step_passes_here(capsys):
    assert check_setup.main(["--python-only"]) == 0
    assert "ok    Python version" in capsys.readouterr().out


def test_make_check_checks_python_then_installs_then_runs_the_script():
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^check:.*## .*\n((?:\t.*\n)+)", makefile, re.M)
    assert recipe, "make check needs a ## comment for make help"
    lines = recipe.group(1).splitlines()
    assert "--python-only" in lines[0] and "env" in lines[1] and "check_setup.py" in lines[2], lines


def test_binder_pins_equal_the_lock():
    lock = _pins((ROOT / "requirements.lock").read_text())
    binder = _pins((ROOT / "binder" / "requirements.txt").read_text())
    assert len(lock) > 100 and binder == lock
    assert (ROOT / "binder" / "runtime.txt").read_text().strip() == "python-3.11"
    # repo2docker reads binder/ and then ignores the root: nothing else there to contradict it
    assert sorted(p.name for p in (ROOT / "binder").iterdir()) == ["postBuild", "requirements.txt", "runtime.txt"]


def test_binder_postbuild_is_an_executable_script_installing_the_package():
    post = ROOT / "binder" / "postBuild"
    assert os.access(post, os.X_OK) and post.read_text().startswith("#!/bin/bash\n")
    assert subprocess.run(["bash", "-n", str(post)]).returncode == 0
    assert re.search(r"^pip install .*--no-deps -e \.$", post.read_text(), re.M)


def test_readme_badge_opens_the_first_workshop_notebook():
    readme = (ROOT / "README.md").read_text()
    badge = re.search(r"\[!\[Binder\]\(https://mybinder.org/badge_logo.svg\)\]\((\S+)\)", readme)
    assert badge and badge.group(1).endswith("/HEAD?labpath=workshop%2F01_segmentation.ipynb"), badge
    assert (ROOT / "workshop" / "01_segmentation.ipynb").exists()
    assert "workshop/README.md" in readme
    assert not re.search(r"run `make test` at home", readme), "participants' install check is make check"


@pytest.mark.slow
def test_postbuild_runs_in_a_fresh_virtual_environment(tmp_path):
    """A new venv, the lock installed (uv, as Binder's pip would), then postBuild in a copy of the repository."""
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "binder", repo / "binder")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, repo / name)
    shutil.copytree(ROOT / "marketing", repo / "marketing", ignore=shutil.ignore_patterns("__pycache__"))
    uv = shutil.which("uv", path=str(ROOT / ".venv" / "bin")) or shutil.which("uv", path=os.path.dirname(sys.executable))
    assert uv, "uv (pinned in the lock) is needed to install the lock quickly"
    venv = tmp_path / "venv"
    # a new venv with pip in it, as `python -m venv` makes (uv seeds pip from its cache: ~1 s, not ~15 s)
    subprocess.run([uv, "venv", "-q", "--seed", "--python", sys.executable, str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([uv, "pip", "install", "-q", "--python", str(python), "-r", str(repo / "binder" / "requirements.txt")],
                   check=True)
    env = dict(os.environ, PATH=f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}")
    env.pop("PYTHONPATH", None)
    run = subprocess.run(["bash", str(repo / "binder" / "postBuild")], cwd=repo, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    where = subprocess.run([str(python), "-c", "import marketing.workshop.segmentation as m; print(m.__file__)"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, check=True).stdout.strip()
    assert where == str(repo / "marketing" / "workshop" / "segmentation.py")


def test_instructor_guide_covers_what_a_teacher_needs():
    guide = (ROOT / "workshop" / "README.md").read_text()
    for heading in ("## Learning goals", "## Timings", "### Two hours", "### Half a day", "## What to prepare",
                    "## Common mistakes", "### On Binder", "### In JupyterLab on a laptop",
                    "### On a classroom server (JupyterHub)"):
        assert heading in guide, heading
    assert "make check" in guide and "check_setup.py --install" in guide
    assert "needs Java" in guide and "No workshop notebook needs Java" in guide
    for name in ("01_segmentation", "02_recommendation", "03_regression"):
        assert re.search(rf"^\| {name} \| \d+ s \| \d+ s \|", guide, re.M), f"measured timings of {name}"
    # the workshop notebooks never reach for the Spark engine
    for path in (ROOT / "workshop").rglob("*.ipynb"):
        assert "spark" not in path.read_text().lower(), path


def test_a_failed_import_says_what_to_do(monkeypatch, capsys):
    monkeypatch.setattr(check_setup, "STACK", ("json", "no_such_package_for_the_workshop"))
    assert check_setup.check_imports() == 1
    out = capsys.readouterr().out
    assert "FAIL  import the stack: `import no_such_package_for_the_workshop` failed" in out
    assert "delete the .venv folder and run `make check` again" in out


def test_outside_the_environment_without_a_venv_says_how_to_install(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(check_setup, "ROOT", tmp_path)
    monkeypatch.setattr(check_setup, "VENV_PYTHON", tmp_path / ".venv" / "bin" / "python")
    assert check_setup.main([]) == 1
    assert "python workshop/check_setup.py --install" in capsys.readouterr().out
