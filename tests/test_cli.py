"""The command line as a user meets it: fast start, `list` naming what exists, `make lab`.

Timings are never asserted (benchmarks/bench_startup.py measures them); what decides them is:
which modules a command imports.
"""

import json
import os
import re
import subprocess
import sys
import textwrap

import pytest

from conftest import ROOT

#: Imports that take seconds and that the light commands must not need.
HEAVY = ("pandas", "numpy", "sklearn", "scipy", "papermill", "nbformat", "nbconvert", "statsmodels",
         "marketing.datasets", "marketing.segmentation", "marketing.regression", "marketing.recommend")


def _modules_after(code: str, cwd=ROOT) -> dict:
    """Run ``code`` in a fresh interpreter; return its stdout and the heavy modules it imported."""
    script = textwrap.dedent(code) + textwrap.dedent(f"""
        import json as _json, sys as _sys
        print("\\n@@" + _json.dumps(sorted(m for m in {HEAVY!r} if m in _sys.modules)))
    """)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", script], cwd=cwd, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    text, _, loaded = out.stdout.rpartition("@@")
    return {"stdout": text, "heavy": json.loads(loaded)}


def test_import_marketing_is_light_and_names_resolve_on_first_use():
    run = _modules_after("import marketing; print(marketing.__version__)")
    assert run["heavy"] == []
    import marketing

    assert marketing.CUSTOMER == "customer_id"
    assert marketing.get_case("ecommerce").name == "ecommerce"
    assert set(marketing.__all__) <= set(dir(marketing))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        marketing.nope  # noqa: B018


@pytest.mark.parametrize("argv", [["--help"], ["list"], ["reports", "--help"], ["check", "--help"]])
def test_light_commands_import_no_data_stack(argv):
    run = _modules_after(f"""
        from marketing.cli import main
        try:
            main({argv!r})
        except SystemExit as exc:  # argparse's --help
            assert exc.code == 0
    """)
    assert run["heavy"] == [], argv
    assert run["stdout"].strip()


def test_warm_reports_with_nothing_to_do_imports_no_data_stack(tmp_path):
    # every report current (records with the fingerprints the current inputs give): the whole
    # command, up-to-date check and index page, must run without pandas, papermill or the analyses
    run = _modules_after(f"""
        import json
        from pathlib import Path
        from marketing.reports.build import inputs_fingerprint, plan
        out = Path({str(tmp_path)!r})
        for job in plan(reports_dir=out):
            job.out_dir.mkdir(parents=True, exist_ok=True)
            job.notebook.write_text("{{}}")
            inputs = inputs_fingerprint(job)
            # the HTML carries the stamp of the inputs it was exported from (a current page)
            job.html.write_text(f'<html><head><meta name="marketing-report" content="inputs={{inputs}};no_input=0">'
                                '</head></html>')
            job.record_path.write_text(json.dumps({{"case": job.case.name, "analysis": job.analysis,
                                                    "status": "ok", "inputs": inputs}}))
        from marketing.cli import main
        assert main(["reports", "-o", str(out)]) == 0
    """)
    assert run["heavy"] == []
    assert "up to date: 12 report(s)" in run["stdout"]
    assert "0 built, 0 failed, 0 not applicable, 12 up to date" in run["stdout"]
    assert (tmp_path / "index.html").stat().st_size > 0


def test_list_names_the_real_export_files_and_the_example_cases(capsys):
    from marketing.cli import main

    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in ("segment_audience_crm_real_ids.csv", "recommendation_campaign_crm_real_ids.csv",
                 "contact_list_crm_real_ids.csv"):
        assert name in out
    for example in sorted((ROOT / "data" / "examples").glob("*/case.yml")):
        assert example.relative_to(ROOT).as_posix() in out
    assert "data/examples/shop/case.yml" in out
    assert "ecommerce" in out


def test_listed_export_names_are_what_the_writers_write():
    from marketing.cli import EXPORTS
    from marketing.privacy import crm_export_path

    sources = "\n".join(p.read_text() for p in [*(ROOT / "notebooks").glob("*.ipynb"),
                                                 *(ROOT / "marketing").rglob("*.py")])
    for analysis, name in EXPORTS.items():
        stem = name.removesuffix("_crm_real_ids.csv")
        assert crm_export_path(".", stem).name == name
        # the writer names its stem literally: write_crm_export(<frame>, <folder>, "<stem>")
        assert re.search(r'write_crm_export\([^\n]*\\?"' + stem + r'\\?"\)', sources), stem


def _fake_lab(tmp_path, uid: int):
    """`make lab` with a `jupyter` that prints its arguments and an `id` that reports ``uid``."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "jupyter").write_text('#!/bin/sh\necho "jupyter $*"\n')
    (bin_dir / "id").write_text(f'#!/bin/sh\necho {uid}\n')
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    venv = tmp_path / "venv"
    venv.mkdir()
    (venv / ".installed").touch()
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    # -o: never (re)build the environment stamp, whatever its age against the lock
    return subprocess.run(["make", "-s", "-o", f"{venv}/.installed", "lab", f"VENV={venv}", f"BIN={bin_dir}"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def test_make_lab_serves_the_repository_root_and_opens_on_the_notebooks(tmp_path):
    out = _fake_lab(tmp_path, uid=1000)
    assert out.returncode == 0, out.stderr
    args = out.stdout.strip().splitlines()[-1].split()
    assert args[:2] == ["jupyter", "lab"]
    assert f"--ServerApp.root_dir={ROOT}" in args
    assert "--LabApp.default_url=/lab/tree/notebooks" in args
    assert "--allow-root" not in args
    assert "root" not in out.stdout.replace(str(ROOT), "").replace("root_dir", "")


def test_make_lab_as_root_says_which_flag_it_adds(tmp_path):
    out = _fake_lab(tmp_path, uid=0)
    assert out.returncode == 0, out.stderr
    assert "adding --allow-root" in out.stdout
    assert "--allow-root" in out.stdout.strip().splitlines()[-1].split()


def test_help_needs_no_yaml_parser():
    # --help only lists the commands: reading case files (and importing yaml) waits for a command
    script = ("import sys\nfrom marketing.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
              "assert 'yaml' not in sys.modules, 'yaml imported'\n")
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
