"""The benchmark plots: time against size, log-log, one line per contender, drawn from results JSON.

Fast (no benchmark runs): a hand-made results dict, then every committed results family."""

import hashlib
import sys

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import _common  # noqa: E402
import plots  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"


def _lines(fig):
    (ax,) = fig.axes
    return ax, {line.get_label(): line for line in ax.get_lines()}


def test_plot_times_draws_a_log_log_line_per_contender(tmp_path):
    series = {"ours": [(1_000, 0.5), (100, 0.1), (10_000, 4.0)],   # unsorted: drawn by size
              "peer": [(100, 0.3), (1_000, 2.0), (10_000, 25.0)]}
    fig = _common.plot_times(series, tmp_path / "x.png", title="t", xlabel="customers", peers=["peer"])
    assert (tmp_path / "x.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    ax, lines = _lines(fig)
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert set(lines) == {"ours", "peer"}
    assert list(lines["ours"].get_xdata()) == [100, 1_000, 10_000]
    assert list(lines["ours"].get_ydata()) == [0.1, 0.5, 4.0]
    assert list(lines["peer"].get_ydata()) == [0.3, 2.0, 25.0]
    assert lines["ours"].get_marker() == "o" and lines["ours"].get_linestyle() == "-"
    assert lines["peer"].get_linestyle() == "--"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["ours", "peer"]


def test_a_fake_spark_results_file_gives_one_line_per_engine_and_skips_sizes_not_run(tmp_path):
    machine = {"cores": 2, "memory_gib": 23.5, "date": "2026-11-23 23:50 UTC"}
    runs = [{"engine": e, "pipeline": "segmentation", "events": n, "total_s": t}
            for e, scale in (("pandas", 1.0), ("spark", 10.0))
            for n, t in ((1e6, 1.0 * scale), (1e7, 9.0 * scale), (1e8, 95.0 * scale))]
    runs[2]["total_s"] = None  # pandas not run at the largest size
    runs.append({"engine": "spark", "pipeline": "als", "events": 1e6, "total_s": 99.0})
    fig = plots.plot_results("spark", [{"machine": machine, "runs": runs}], tmp_path / "spark.png")
    ax, lines = _lines(fig)
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert len(lines) == 2
    assert list(lines["pandas engine"].get_xdata()) == [1e6, 1e7]
    assert list(lines["Spark engine (local mode)"].get_ydata()) == [10.0, 90.0, 950.0]
    assert "2 cores" in ax.get_title(loc="left") + ax.get_title()


def test_the_same_results_give_the_same_png_bytes(tmp_path):
    series = {"a": [(1, 1.0), (10, 3.0)]}
    for name in ("one.png", "two.png"):
        _common.plot_times(series, tmp_path / name, title="t", xlabel="x")
    assert hashlib.sha256((tmp_path / "one.png").read_bytes()).digest() == hashlib.sha256((tmp_path / "two.png").read_bytes()).digest()


def test_machine_label():
    assert _common.machine_label({"cores": 2, "memory_gib": 23.5, "date": "2026-12-01 09:14 UTC"}) \
        == "2 cores, 23.5 GiB, 2026-12-01"
    assert _common.machine_label(None) == "machine not recorded"


@pytest.mark.parametrize("family", sorted(plots.FAMILIES))
def test_each_committed_results_family_plots(family, tmp_path):
    fig = plots.plot_family(family, RESULTS, out_dir=tmp_path)
    assert (tmp_path / f"{family}.png").stat().st_size > 10_000
    ax, lines = _lines(fig)
    assert ax.get_xscale() == "log" and len(lines) >= 2
    assert all(len(line.get_xdata()) >= 1 for line in lines.values())
    # the committed PNG is this plot (regenerated with python benchmarks/plots.py)
    # compared by digest: pytest's diff of two 80 KB byte strings runs for hours when they differ
    digest = [hashlib.sha256(p.read_bytes()).hexdigest() for p in (RESULTS / f"{family}.png", tmp_path / f"{family}.png")]
    assert digest[0] == digest[1], f"{family}.png is stale: redraw it with python benchmarks/plots.py"


def test_plots_main_refuses_a_family_without_a_size_axis(capsys):
    assert plots.main(["startup"]) == 2
    assert "no plot for startup" in capsys.readouterr().err
