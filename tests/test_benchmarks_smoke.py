"""Smoke test of the benchmark harness (benchmarks/run_all.py) and its helpers.

Runs the harness on the ``small`` sample with the smallest sizes (no browser), in a
temporary cache folder, and checks the measuring helpers against known answers.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))

import _common


def test_exponent_recovers_known_powers():
    x = [10, 100, 1000]
    assert _common.exponent(x, [3 * v for v in x]) == pytest.approx(1.0)
    assert _common.exponent(x, [0.5 * v**2 for v in x]) == pytest.approx(2.0)
    assert _common.exponent([1, 2, 4, 8], [7, 7, 7, 7]) == pytest.approx(0.0, abs=1e-12)


def test_timed_reports_the_median_run():
    pauses = iter([0.12, 0.0, 0.04])

    def fn():
        time.sleep(next(pauses))
        return "done"

    median, runs, result = _common.timed(fn, 3)
    assert result == "done" and len(runs) == 3
    assert sorted(runs)[1] == median
    assert 0.03 <= median < 0.11  # the 0.04 s run, not the slow or the fast one


def test_rss_sampler_sees_an_allocation():
    with _common.RSSSampler() as rss:
        block = np.ones(200 * 2**20 // 8)  # 200 MB, touched
        time.sleep(0.05)
        del block
    assert rss.peak_mb - rss.before_mb > 150


def test_run_child_measures_each_child_alone():
    big = _common.run_child([sys.executable, "-c", "import numpy as np; a = np.ones(300 * 2**20 // 8)"])
    small = _common.run_child([sys.executable, "-c", "pass"])
    assert big["rc"] == 0 and small["rc"] == 0
    assert big["peak_rss_mb"] > 300
    assert small["peak_rss_mb"] < big["peak_rss_mb"] - 250  # not the earlier child's peak
    failed = _common.run_child([sys.executable, "-c", "import sys; sys.exit(3)"])
    assert failed["rc"] == 3


def test_format_table_aligns_and_marks_missing():
    text = _common.format_table(
        [{"name": "a", "t": 1.234, "ok": True}, {"name": "longer", "t": None, "ok": False}],
        [("name", "bench", ""), ("t", "time s", ".1f"), ("ok", "agree", "")])
    lines = text.splitlines()
    assert lines[0].split() == ["bench", "time", "s", "agree"]
    assert lines[2].split() == ["a", "1.2", "yes"]
    assert lines[3].split() == ["longer", "-", "NO"]
    assert len({len(line) for line in lines[:2]}) == 1


def test_cached_sample_is_written_once_and_rebuilt_when_stale(tmp_path):
    config = _common.cached_sample("small", seed=0, fmt="gpkg", cache=tmp_path)
    assert config.is_file() and (config.parent / "layers" / "sample.gpkg").is_file()
    mtime = config.stat().st_mtime_ns
    assert _common.cached_sample("small", seed=0, fmt="gpkg", cache=tmp_path) == config
    assert config.stat().st_mtime_ns == mtime  # cached
    (config.parent / ".stamp").write_text("old generator")
    _common.cached_sample("small", seed=0, fmt="gpkg", cache=tmp_path)
    assert (config.parent / ".stamp").read_text() != "old generator"


def test_run_all_smoke(tmp_path):
    import run_all

    out = tmp_path / "latest.json"
    run_all.main(["--quick", "--scale", "small", "--only", "balance,core_periphery,e2e",
                  "--cache", str(tmp_path / "cache"), "--output", str(out)])
    report = json.loads(out.read_text(encoding="utf-8"))
    rows = {r["benchmark"]: r for r in report["table"]}
    bal = rows["balance: workers within 3/5/10 km"]
    assert bal["ok"] and bal["baseline_s"] > 0 and bal["ratio"] == pytest.approx(bal["baseline_s"] / bal["ours_s"])
    for fmt in ("gpkg", "parquet"):
        e2e = rows[f"zoneatlas run, {fmt} input (e2e)"]
        assert e2e["ok"], e2e  # outputs complete, tables identical, within budget
        assert e2e["peak_mb"] > 50 and e2e["ours_s"] > 0
    assert report["details"]["e2e"]["tables_identical"]
    assert set(report["scaling"]) >= {"balance", "core_periphery (share)", "core_periphery (hotspot)"}
    assert len(report["scaling"]["balance"]["sizes"]) == 3
    assert np.isfinite(report["scaling"]["balance"]["exponent"])


def test_dense_roads_benchmark_runs_and_agrees():
    """benchmarks/dense_roads.py on 5 % of the sample's arterials redrawn every 0.6 m: the
    best-entry reading and the every-entry baseline give identical results (times are
    printed, not asserted)."""
    import dense_roads

    out = dense_roads.main(["--share", "0.05"])
    assert out["as drawn"]["identical"] and out["dense"]["identical"]
    assert out["dense"]["roads_redrawn"] > 0
    assert out["dense"]["nodes"] > 2 * out["as drawn"]["nodes"]
