"""benchmarks/bench_startup.py keeps working: its quick mode runs here (timings are never asserted)."""

import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import bench_startup  # noqa: E402


def test_quick_mode_times_every_command_and_the_warm_build_has_nothing_to_do():
    result = bench_startup.main(["--quick"])
    rows = {row["command"]: row for row in result["rows"]}
    assert list(rows) == ["python -c pass", "import marketing", "import pandas", "python -m marketing --help",
                          "python -m marketing list", "check shop --analysis segmentation",
                          "reports, nothing to do", "make reports, nothing to do"]
    assert all(row["wall_s"] > 0 and len(row["wall_s_runs"]) == 1 for row in rows.values())
    # the warm build really was warm: every report current, nothing executed
    for name in ("reports, nothing to do", "make reports, nothing to do"):
        assert rows[name]["tail"] == ["0 built, 0 failed, 0 not applicable, 12 up to date"]
    assert rows["check shop --analysis segmentation"]["tail"][0].startswith("ok: ready to run")
