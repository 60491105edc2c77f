"""Interrupted runs, reproducibility and hostile text, end to end (issue 8)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pyogrio
import pytest

from geo._io import STAGING_PREFIX
from tests.conftest import CHILD_WARNINGS, run_cli, tree_digest, zoneatlas_command


def _start_run(config: Path, out: Path) -> subprocess.Popen:
    # a signal that lands while Python reads a module's .pyc leaves importlib's file to the
    # garbage collector, whose ResourceWarning (an error under CHILD_WARNINGS, printed with
    # "Traceback") users never see: CPython's race, not an unclosed file of ours
    env = {**os.environ, "PYTHONWARNINGS": CHILD_WARNINGS + ",ignore::ResourceWarning"}
    return subprocess.Popen([*zoneatlas_command(), "run", "-c", str(config), "-o", str(out), "-q"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _wait_for_staging(out: Path, proc: subprocess.Popen, timeout: float = 120) -> Path | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        found = _staging(out)
        if found:
            return found[0]
        time.sleep(0.01)
    return None


def _staging(out: Path) -> list[Path]:
    """Staging folders of runs into ``out`` (beside it, or inside it)."""
    return [*out.parent.glob(f"{STAGING_PREFIX}{out.name}-*"), *out.glob(f"{STAGING_PREFIX}*")]


@pytest.fixture
def previous_outputs(small_run, tmp_path) -> Path:
    """A copy of a complete earlier run's outputs in a fresh folder."""
    _, report = small_run
    out = tmp_path / "maps"
    shutil.copytree(report.output_dir, out)
    return out


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
def test_interrupted_run_keeps_previous_outputs(small_study, previous_outputs, sig):
    before = tree_digest(previous_outputs)
    proc = _start_run(small_study, previous_outputs)
    staging = _wait_for_staging(previous_outputs, proc)
    if staging is None:
        proc.wait()
        pytest.fail(f"the run finished before it could be interrupted: {proc.stderr.read()}")
    time.sleep(0.2)  # let it write some files into the staging folder
    proc.send_signal(sig)
    proc.wait(timeout=60)
    _, stderr = proc.communicate()
    assert proc.returncode != 0, stderr
    assert tree_digest(previous_outputs) == before, "previous outputs must stay complete"
    assert "Traceback" not in stderr
    stale = _staging(previous_outputs)
    if sig == signal.SIGINT:
        assert proc.returncode == 130
        assert stale == [], "SIGINT must not leave a temporary folder behind"
    # the next run succeeds and cleans up what a killed run left
    again = run_cli("run", "-c", small_study, "-o", previous_outputs, "-q")
    assert again.returncode == 0, again.stderr
    assert _staging(previous_outputs) == []


def test_two_runs_are_identical(small_study, small_run, tmp_path):
    _, first = small_run
    second = tmp_path / "again"
    done = run_cli("run", "-c", small_study, "-o", second, "-q")
    assert done.returncode == 0, done.stderr
    first_tables = sorted(p.name for p in (first.output_dir / "tables").glob("*.csv"))
    assert first_tables == sorted(p.name for p in (second / "tables").glob("*.csv"))
    for name in first_tables:
        assert (first.output_dir / "tables" / name).read_bytes() == (second / "tables" / name).read_bytes(), name
    for name in ("zoneatlas.gpkg", "zoneatlas.qgz"):
        a, b = first.output_dir / "qgis" / name, second / "qgis" / name
        assert a.read_bytes() == b.read_bytes(), f"{name} differs between two runs"
    maps = sorted(p.name for p in first.output_dir.glob("*.html") if p.name != "index.html")
    assert len(maps) >= 3
    # the map's date line is the day each run was made (Beijing time): the two runs may fall
    # either side of midnight, so it is compared apart from the page
    day = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日".encode())
    for name in maps:   # no random element ids: the same data gives the same page
        a, b = (first.output_dir / name).read_bytes(), (second / name).read_bytes()
        assert day.sub(b"<day>", a) == day.sub(b"<day>", b), name
    gpkg_a, gpkg_b = first.output_dir / "qgis" / "zoneatlas.gpkg", second / "qgis" / "zoneatlas.gpkg"
    layers_a = [name for name, _ in pyogrio.list_layers(gpkg_a)]
    assert layers_a == [name for name, _ in pyogrio.list_layers(gpkg_b)]
    for layer in layers_a:
        a = pyogrio.read_dataframe(gpkg_a, layer=layer)
        b = pyogrio.read_dataframe(gpkg_b, layer=layer)
        pd.testing.assert_frame_equal(pd.DataFrame(a), pd.DataFrame(b), check_exact=True)
