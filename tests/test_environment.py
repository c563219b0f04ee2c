"""The environment files agree with each other, and the Makefile/CI wiring holds together."""

import re

import yaml

from conftest import ROOT


def _lock_pins() -> dict[str, str]:
    text = (ROOT / "requirements.lock").read_text()
    return {n.lower(): v for n, v in re.findall(r"^([A-Za-z0-9_.-]+)==([^\s;]+)", text, re.M)}


def _conda_pins() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pins = {}
    for dep in env["dependencies"]:
        if isinstance(dep, str) and "=" in dep:
            name, version = re.split(r"==?", dep, maxsplit=1)
            pins[name.strip().lower()] = version.strip()
    return pins


def test_environment_yml_matches_the_lock():
    lock, conda = _lock_pins(), _conda_pins()
    shared = sorted(set(lock) & set(conda))
    assert len(shared) >= 15, f"expected the core stack pinned in both files, found {shared}"
    mismatched = {n: (conda[n], lock[n]) for n in shared if conda[n] != lock[n]}
    assert not mismatched, f"environment.yml vs requirements.lock (conda, lock): {mismatched}"


def test_every_direct_dependency_is_pinned_in_both_files():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    direct = [re.split(r"[<>=!~ ;\[]", d, maxsplit=1)[0].lower() for d in project["dependencies"]]
    lock, conda = _lock_pins(), _conda_pins()
    assert not [d for d in direct if d not in lock], "direct dependency missing from the lock"
    assert not [d for d in direct if d not in conda], "direct dependency missing from environment.yml"


def test_conda_environment_installs_the_package_for_binder():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-e ." in pip


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in readme and "make reports" in readme
    assert re.search(r"^make test$", ci, re.M)  # and nothing else runs tests


def test_make_help_lists_every_target():
    makefile = (ROOT / "Makefile").read_text()
    for target in ("reports", "test", "lab", "help", "clean", "bench"):
        assert re.search(rf"^{target}:.*## ", makefile, re.M), f"target {target} lacks a ## comment"


def test_spark_is_optional_and_pinned_alike_everywhere():
    spark_lock = (ROOT / "requirements-spark.lock").read_text()
    pin = re.search(r"^pyspark==(\S+)", spark_lock, re.M).group(1)
    assert "pyspark" not in _lock_pins(), "pyspark belongs to the optional spark extra, not the core lock"
    assert f"pyspark=={pin}" in (ROOT / "requirements-bench.lock").read_text()
    # conda users uncomment the line in environment.yml: it must name the same version
    assert re.search(rf"^\s*#\s*- pyspark={re.escape(pin)}$", (ROOT / "environment.yml").read_text(), re.M)
    core = {n: v for n, v in re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", spark_lock, re.M) if n.lower() in _lock_pins()}
    assert all(_lock_pins()[n.lower()] == v for n, v in core.items()), "the spark lock moved a core pin"


def test_ci_requires_the_spark_tests_to_run():
    import subprocess

    assert subprocess.run(["bash", "-n", str(ROOT / ".ci" / "run")]).returncode == 0, ".ci/run is not valid bash"
    assert re.search(r"^export MARKETING_REQUIRE_SPARK=1$", (ROOT / ".ci" / "run").read_text(), re.M)
    assert re.search(r"^test: \$\(SPARK_STAMP\)", (ROOT / "Makefile").read_text(), re.M)


def test_every_install_compiles_bytecode():
    # uv leaves packages uncompiled unless asked (pip compiles by default); where
    # PYTHONDONTWRITEBYTECODE is set, every kernel would then compile the whole stack again
    makefile = (ROOT / "Makefile").read_text()
    installs = [line for line in makefile.splitlines() if re.search(r"uv pip (sync|install) .*requirements[\w-]*\.lock", line)]
    assert len(installs) == 3 and all("--compile-bytecode" in line for line in installs), installs
