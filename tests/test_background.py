"""geo._background: jobs in forked processes give what they would inline (value, the same
exception), a failure anywhere stops the other jobs, at most ``max_jobs`` run at once, and
without fork everything runs at once in this process (the sequential fallback)."""

from __future__ import annotations

import errno
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from geo._background import Background, fork_usable
from geo._errors import InputError

FORKING = sys.platform.startswith("linux") and (os.cpu_count() or 1) > 1
needs_fork = pytest.mark.skipif(not FORKING, reason="jobs run in forked processes on Linux only")


def _spin(seconds: float) -> float:
    """Busy for ``seconds`` of CPU; returns the sum of a few numbers (checked by the caller)."""
    end = time.process_time() + seconds
    total = 0
    while time.process_time() < end:
        total += sum(range(1000))
    return 499500.0


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _stamp(path: Path, seconds: float) -> Path:
    """Write when this job started and ended (perf_counter is system-wide on Linux)."""
    start = time.perf_counter()
    time.sleep(seconds)
    path.write_text(f"{start} {time.perf_counter()}", encoding="utf-8")
    return path


def _fail(exc: BaseException) -> None:
    raise exc


def _full_disk(path: Path) -> None:
    raise OSError(errno.ENOSPC, "No space left on device", str(path))


class _Odd(Exception):
    def __reduce__(self):
        raise TypeError("not picklable")


def _odd() -> None:
    raise _Odd("strange")


def _pid_then_sleep(path: Path, seconds: float) -> None:
    path.write_text(str(os.getpid()), encoding="utf-8")
    time.sleep(seconds)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:   # a zombie not yet reaped counts as ended
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except OSError:
        return True


def _wait_for_file(path: Path, timeout: float = 20.0) -> str:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if path.exists() and path.read_text(encoding="utf-8"):
            return path.read_text(encoding="utf-8")
        time.sleep(0.02)
    raise AssertionError(f"{path} was never written")


@needs_fork
def test_a_job_runs_in_its_own_process_and_returns_its_value(tmp_path):
    with Background() as bg:
        job = bg.start("write", _write, tmp_path / "a.txt", "written in a child")
        spin = bg.start("spin", _spin, 0.3)
        assert job.background and spin.background
        assert bg.wait("write") == tmp_path / "a.txt"
        assert bg.wait("spin") == 499500.0
    assert (tmp_path / "a.txt").read_text(encoding="utf-8") == "written in a child"
    times = bg.timings()
    assert times["spin"]["cpu_s"] >= 0.3 and times["spin"]["wall_s"] >= 0.3   # measured in the child
    assert times["spin"]["cpu_s"] < 5


@needs_fork
@pytest.mark.parametrize("exc", [KeyError("fr"), InputError(["zones.gpkg: layer zones: field jobs: rows 3, 7"]),
                                 ValueError("bad value")])
def test_the_childs_exception_comes_back_as_it_is(exc):
    with pytest.raises(type(exc)) as info, Background() as bg:
        bg.start("fails", _fail, exc)
        bg.wait()
    assert str(info.value) == str(exc) and type(info.value) is type(exc)
    if isinstance(exc, InputError):
        assert info.value.problems == exc.problems


@needs_fork
def test_a_full_disk_in_the_child_is_the_same_oserror(tmp_path):
    with pytest.raises(OSError) as info, Background() as bg:
        bg.start("workbook", _full_disk, tmp_path / "t.xlsx")
        bg.wait()
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(tmp_path / "t.xlsx")


@needs_fork
def test_an_exception_that_cannot_travel_back_is_a_runtime_error_with_its_text():
    with pytest.raises(RuntimeError, match=r"odd failed in its process: .*_Odd: strange"), Background() as bg:
        bg.start("odd", _odd)
        bg.wait()


@needs_fork
def test_a_child_killed_by_a_signal_is_an_error(tmp_path):
    with pytest.raises(RuntimeError, match=r"sleeper: its process was killed by signal 9"), Background() as bg:
        bg.start("sleeper", _pid_then_sleep, tmp_path / "pid", 30)
        os.kill(int(_wait_for_file(tmp_path / "pid")), signal.SIGKILL)
        bg.wait()


@needs_fork
def test_a_failed_job_stops_the_other_children(tmp_path):
    started = time.monotonic()
    with pytest.raises(ValueError, match="first"), Background(max_jobs=2) as bg:
        bg.start("sleeper", _pid_then_sleep, tmp_path / "pid", 60)
        pid = int(_wait_for_file(tmp_path / "pid"))
        bg.start("fails", _fail, ValueError("first"))
        bg.wait()
    assert not _alive(pid)
    assert time.monotonic() - started < 30   # not after the sleeper's 60 s


@needs_fork
def test_check_between_steps_raises_a_failure_at_once(tmp_path):
    with Background() as bg:
        bg.start("fails", _fail, ValueError("early"))
        deadline = time.monotonic() + 20
        with pytest.raises(ValueError, match="early"):
            while time.monotonic() < deadline:
                bg.check()
                time.sleep(0.02)


@needs_fork
def test_a_failed_step_of_the_caller_stops_the_children(tmp_path):
    with pytest.raises(ZeroDivisionError), Background() as bg:
        bg.start("sleeper", _pid_then_sleep, tmp_path / "pid", 60)
        pid = int(_wait_for_file(tmp_path / "pid"))
        1 / 0
    assert not _alive(pid)
    assert bg.jobs["sleeper"].wall_s is None   # cancelled: no time of its own


@needs_fork
def test_a_ctrl_c_landing_inside_the_fork_still_stops_the_child(tmp_path, monkeypatch):
    """A Ctrl-C that Python handles inside Process.start(), after the fork (one that came
    just before the fork, handled at a later bytecode), arrives once the job knows its
    child: leaving the block stops the child, which would otherwise go on writing."""
    import multiprocessing.process as mpp

    real_start = mpp.BaseProcess.start

    def start_then_ctrl_c(self):
        real_start(self)
        # what Python does with a SIGINT that came before the mask was set: it calls the
        # handler in place at a later bytecode, here after the fork
        signal.getsignal(signal.SIGINT)(signal.SIGINT, None)

    monkeypatch.setattr(mpp.BaseProcess, "start", start_then_ctrl_c)
    with pytest.raises(KeyboardInterrupt), Background() as bg:
        bg.start("sleeper", _pid_then_sleep, tmp_path / "pid", 60)
    job = bg.jobs["sleeper"]
    assert job._process is not None and job._outcome == ("cancelled", None)
    assert not job._process.is_alive()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler   # restored


@needs_fork
def test_at_most_max_jobs_children_at_once(tmp_path):
    with Background(max_jobs=1) as bg:
        for name in ("a", "b", "c"):
            bg.start(name, _stamp, tmp_path / name, 0.3)
        assert [j._process is not None for j in bg.jobs.values()] == [True, False, False]
        bg.wait()
    spans = sorted(tuple(map(float, (tmp_path / n).read_text().split())) for n in "abc")
    for (_, end), (start, _) in zip(spans, spans[1:]):
        assert start >= end   # one after the other
    with Background(max_jobs=3) as bg:
        for name in ("a", "b", "c"):
            bg.start(name, _stamp, tmp_path / name, 0.5)
        bg.wait()
    spans = [tuple(map(float, (tmp_path / n).read_text().split())) for n in "abc"]
    assert max(s for s, _ in spans) < min(e for _, e in spans)   # all three at once


def test_sequential_fallback_runs_each_job_at_once(tmp_path):
    order = []
    with Background(enabled=False) as bg:
        job = bg.start("write", _write, tmp_path / "a.txt", "inline")
        order.append((tmp_path / "a.txt").exists())   # already written when start returns
        assert not job.background and job.wall_s is not None
        assert bg.wait("write") == tmp_path / "a.txt"
        bg.check()
        with pytest.raises(OSError) as info:   # the error straight from start
            bg.start("disk", _full_disk, tmp_path / "t.xlsx")
    assert order == [True] and info.value.errno == errno.ENOSPC
    assert set(bg.timings()) == {"write", "disk"}


@pytest.mark.parametrize("platform", ["darwin", "win32"])
def test_no_fork_outside_linux(monkeypatch, tmp_path, platform):
    monkeypatch.setattr(sys, "platform", platform)
    assert not fork_usable()
    with Background() as bg:
        job = bg.start("spin", _spin, 0.05)
    assert not job.background and bg.wait("spin") == 499500.0


def test_no_fork_while_another_python_thread_runs(monkeypatch):
    import threading

    release = threading.Event()
    thread = threading.Thread(target=release.wait)
    thread.start()
    try:
        assert not fork_usable()
        assert not Background().forking
    finally:
        release.set()
        thread.join()


def test_no_fork_with_one_cpu(monkeypatch):
    import geo._background as bg_mod

    monkeypatch.setattr(bg_mod, "_usable_cpus", lambda: 1)
    assert not fork_usable()


def test_a_job_name_is_started_once():
    with Background(enabled=False) as bg:
        bg.start("a", _spin, 0.0)
        with pytest.raises(ValueError, match="started twice"):
            bg.start("a", _spin, 0.0)


# ---------------------------------------------------------------------------
# in a run: background steps fail as inline ones would, and leave nothing behind


def _staging_left(out: Path) -> list[Path]:
    from geo._io import STAGING_PREFIX

    return [*out.parent.glob(f"{STAGING_PREFIX}*"), *out.glob(f"{STAGING_PREFIX}*")]


def test_a_run_reports_its_background_steps(small_run):
    from geo.pipeline import BACKGROUND_STEPS, BACKGROUND_WAIT, BESIDE_JOB

    _, report = small_run
    manifest = report.manifest
    steps = manifest["background_steps"]
    assert set(BACKGROUND_STEPS) == {"QGIS input layers", "workbook", "QGIS package"}
    assert set(steps) == set(BACKGROUND_STEPS) | ({BESIDE_JOB} if FORKING else set())
    for name, t in steps.items():
        assert t["forked"] is FORKING
        assert t["wall_s"] > 0 and t["cpu_s"] > 0
        assert manifest["timings_s"][name] == t["wall_s"]   # the step's own time, not a wait
    assert BACKGROUND_WAIT in manifest["timings_s"]
    # the analyses beside the balance report their own durations, as if run here
    assert {"core_periphery", "collaboration", "balance", "chains", "commuting"} <= set(manifest["timings_s"])
    assert list(manifest["summary"]) == list(manifest["analyses"])   # in run order, wherever they ran
    assert {"qgis/zoneatlas.gpkg", "qgis/zoneatlas.qgz", "tables.xlsx"} <= set(manifest["outputs"])


# the package's result part (after the analyses) and its input layers (beside them)
@pytest.mark.parametrize("writer", ["write_qgis_package", "write_qgis_inputs"])
def test_a_full_disk_in_a_background_step_is_one_error_and_keeps_previous_outputs(
        small_run, tmp_path, monkeypatch, cli_in_process, writer):
    import geo.qgis
    from tests.conftest import tree_digest

    settings, _ = small_run
    out = tmp_path / "out"
    assert cli_in_process("run", "-c", settings.config_path, "-o", out, "-q").returncode == 0
    before = tree_digest(out)

    def full(out_dir, *args, **kwargs):
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        (Path(out_dir) / "zoneatlas.gpkg").write_bytes(b"half")
        raise OSError(errno.ENOSPC, "No space left on device", str(Path(out_dir) / "zoneatlas.gpkg"))

    monkeypatch.setattr(geo.qgis, writer, full)
    proc = cli_in_process("run", "-c", settings.config_path, "-o", out, "-q")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "disk is full" in lines[0]
    assert tree_digest(out) == before
    assert _staging_left(out) == []


@needs_fork
def test_a_failed_step_of_a_run_stops_its_background_steps(small_run, tmp_path, monkeypatch):
    import geo.pipeline as pipeline
    import geo.webmap
    import geo.workbook

    settings, _ = small_run
    pid_file = tmp_path / "pid"

    def slow_workbook(path, *args, **kwargs):
        pid_file.write_text(str(os.getpid()), encoding="utf-8")
        time.sleep(120)

    def broken_maps(*args, **kwargs):
        _wait_for_file(pid_file)
        raise ValueError("the web maps failed")

    monkeypatch.setattr(geo.workbook, "write_workbook", slow_workbook)
    monkeypatch.setattr(geo.webmap, "write_maps", broken_maps)
    out = tmp_path / "out"
    started = time.monotonic()
    with pytest.raises(ValueError, match="the web maps failed"):
        pipeline.run(settings, output_dir=out)
    assert time.monotonic() - started < 60
    assert not _alive(int(pid_file.read_text(encoding="utf-8")))
    assert not out.exists() and _staging_left(out) == []


def test_a_run_without_fork_writes_the_same_outputs_in_its_own_process(small_run, tmp_path, monkeypatch):
    import openpyxl
    import pyogrio

    import geo._background as bg_mod
    from geo.pipeline import run

    settings, forked = small_run
    monkeypatch.setattr(bg_mod, "fork_usable", lambda: False)
    report = run(settings, output_dir=tmp_path / "out")
    steps = report.manifest["background_steps"]
    assert {name: t["forked"] for name, t in steps.items()} == {"QGIS input layers": False, "workbook": False,
                                                                "QGIS package": False}
    assert sorted(report.manifest["outputs"]) == sorted(forked.manifest["outputs"])
    # the analyses (beside the balance in a process of their own when forked) agree to the byte
    assert report.manifest["summary"] == forked.manifest["summary"]
    assert report.manifest["warnings"] == forked.manifest["warnings"]
    for table in sorted((forked.output_dir / "tables").glob("*.csv")):
        assert (report.output_dir / "tables" / table.name).read_bytes() == table.read_bytes(), table.name
    gpkg = "qgis/zoneatlas.gpkg"
    layers = [tuple(x) for x in pyogrio.list_layers(report.output_dir / gpkg)]
    assert layers == [tuple(x) for x in pyogrio.list_layers(forked.output_dir / gpkg)]
    for name, _ in layers:   # the input layers written first (forked: beside the analyses), then the rest
        assert (pyogrio.read_info(report.output_dir / gpkg, layer=name)["features"]
                == pyogrio.read_info(forked.output_dir / gpkg, layer=name)["features"]), name
    sheets = openpyxl.load_workbook(report.output_dir / "tables.xlsx", read_only=True).sheetnames
    assert sheets == openpyxl.load_workbook(forked.output_dir / "tables.xlsx", read_only=True).sheetnames


# ---------------------------------------------------------------------------
# a job taking another job's value


def _after(stamp: Path, out: Path) -> tuple[float, float]:
    """Started once ``stamp`` (the other job's value) was written: that job's end and this one's start."""
    start = time.perf_counter()
    out.write_text("second", encoding="utf-8")
    return float(stamp.read_text(encoding="utf-8").split()[1]), start


@pytest.mark.parametrize("enabled", [True, False])
def test_a_job_taking_another_jobs_value_starts_after_it_and_gets_the_value(tmp_path, enabled):
    with Background(enabled=enabled) as bg:
        first = bg.start("first", _stamp, tmp_path / "first", 0.4)
        second = bg.start("second", _after, bg.value_of("first"), out=tmp_path / "second")
        assert first.background is second.background is (enabled and FORKING)
        if second.background:
            assert not (tmp_path / "second").exists()   # queued while "first" runs
        first_end, second_start = bg.wait("second")
    assert second_start >= first_end
    assert (tmp_path / "second").read_text(encoding="utf-8") == "second"


@needs_fork
def test_a_failed_job_never_starts_the_job_taking_its_value(tmp_path):
    with pytest.raises(OSError) as info, Background() as bg:
        bg.start("first", _full_disk, tmp_path / "t.gpkg")
        bg.start("second", _write, tmp_path / "second", bg.value_of("first"))
        bg.wait()
    assert info.value.errno == errno.ENOSPC
    assert not (tmp_path / "second").exists()


def test_a_job_takes_the_value_of_a_started_job_only():
    with Background(enabled=False) as bg:
        with pytest.raises(ValueError, match="not started"):
            bg.value_of("nothing")


# ---------------------------------------------------------------------------
# the QGIS input layers, written while the analyses run


@needs_fork
def test_an_analysis_failing_beside_the_balance_fails_the_run_as_inline(small_run, tmp_path, monkeypatch,
                                                                        cli_in_process):
    """Bad input met by an analysis in the process beside the balance: the same one error
    line and exit code 2, the balance (still running here) stopped, nothing left behind."""
    import geo.analysis.balance
    import geo.analysis.chains

    settings, _ = small_run
    pid_file = tmp_path / "pid"
    real_balance = geo.analysis.balance.run

    def bad_chains(*args, **kwargs):
        pid_file.write_text(str(os.getpid()), encoding="utf-8")
        raise InputError(["chains.gpkg, layer firms, field tier: rows 3, 7: unknown tier 'x'"])

    def slow_balance(*args, **kwargs):
        _wait_for_file(pid_file)   # the chains failed meanwhile, in the other process
        return real_balance(*args, **kwargs)

    monkeypatch.setattr(geo.analysis.chains, "run", bad_chains)
    monkeypatch.setattr(geo.analysis.balance, "run", slow_balance)
    out = tmp_path / "out"
    proc = cli_in_process("run", "-c", settings.config_path, "-o", out, "-q")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == ["error: chains.gpkg, layer firms, field tier: rows 3, 7: "
                                                "unknown tier 'x'"]
    assert int(pid_file.read_text(encoding="utf-8")) != os.getpid()   # it ran beside the balance
    assert not out.exists() and _staging_left(out) == []


def _pool_sum(batch):
    return sum(batch)


def _reach_run_in_a_job():
    from geo.network.reach import _run

    return _run(_pool_sum, [[1, 2], [3], [4, 5, 6]], n_jobs=4)


@needs_fork
def test_a_background_job_runs_the_network_batches_itself():
    """A daemonic job process may not have children: the road searches' process pool
    (geo.network.reach._run) runs the batches in the job's own process there."""
    with Background() as bg:
        job = bg.start("reach", _reach_run_in_a_job)
        assert job.background
        assert bg.wait("reach") == [3, 3, 15]


@needs_fork
def test_a_failed_analysis_stops_the_qgis_input_layers(small_run, tmp_path, monkeypatch):
    import geo.analysis.balance
    import geo.pipeline as pipeline
    import geo.qgis

    settings, _ = small_run
    pid_file = tmp_path / "pid"

    def slow_inputs(out_dir, *args, **kwargs):
        pid_file.write_text(str(os.getpid()), encoding="utf-8")
        time.sleep(120)

    def broken_balance(*args, **kwargs):
        _wait_for_file(pid_file)   # the input layers are being written beside the analyses
        raise ValueError("the balance failed")

    monkeypatch.setattr(geo.qgis, "write_qgis_inputs", slow_inputs)
    monkeypatch.setattr(geo.analysis.balance, "run", broken_balance)
    out = tmp_path / "out"
    started = time.monotonic()
    with pytest.raises(ValueError, match="the balance failed"):
        pipeline.run(settings, output_dir=out)
    assert time.monotonic() - started < 60
    assert int(pid_file.read_text(encoding="utf-8")) != os.getpid()
    assert not _alive(int(pid_file.read_text(encoding="utf-8")))
    assert not out.exists() and _staging_left(out) == []


@needs_fork
def test_a_job_started_while_a_python_thread_runs_is_inline_after_the_job_whose_value_it_takes(tmp_path):
    import threading

    release = threading.Event()
    with Background() as bg:
        first = bg.start("first", _stamp, tmp_path / "first", 0.3)
        thread = threading.Thread(target=release.wait)
        thread.start()
        try:
            second = bg.start("second", _after, bg.value_of("first"), out=tmp_path / "second")
        finally:
            release.set()
            thread.join()
        assert first.background and not second.background
        first_end, second_start = bg.wait("second")
    assert second_start >= first_end


def test_the_balance_side_writes_its_tables_while_the_other_analyses_run(small_study, tmp_path, monkeypatch):
    """While the analyses beside the balance still run, the run's process writes the input
    layers' and the balance's tables and the balance's print figure; the rest come after,
    each table and figure once."""
    import geo.figures as figures
    import geo.pipeline as pl
    from geo.analysis import commuting
    from geo.settings import load_settings

    calls: list[tuple[tuple, bool, bool]] = []
    drawn: list[tuple[tuple, bool]] = []
    real = pl.write_tables
    real_figures = figures.write_figures
    slow = tmp_path / "beside-done"

    def recording(folder, study, results, inputs=True):
        calls.append((tuple(results), inputs, slow.exists()))
        return real(folder, study, results, inputs)

    def drawing(folder, study, results, *args):
        drawn.append((tuple(results), slow.exists()))
        return real_figures(folder, study, results, *args)

    real_commuting = commuting.run_with_cells

    def slow_commuting(*args, **kwargs):   # runs in the forked job: the other side waits for it
        time.sleep(1.5)
        out = real_commuting(*args, **kwargs)
        slow.write_text("done", encoding="utf-8")
        return out

    monkeypatch.setattr(pl, "write_tables", recording)
    monkeypatch.setattr(figures, "write_figures", drawing)
    monkeypatch.setattr(commuting, "run_with_cells", slow_commuting)
    report = pl.run(load_settings(small_study), output_dir=tmp_path / "out")
    assert [c[:2] for c in calls] == [(("balance",), True),
                                      (("core_periphery", "collaboration", "chains", "commuting"), False)]
    assert calls[0][2] is False          # the first part while the commuting still ran
    tables = sorted(p.name for p in (report.output_dir / "tables").glob("*.csv"))
    assert {"housing.csv", "balance_workplaces.csv", "commuting_summary.csv"} <= set(tables)
    assert report.manifest["timings_s"]["tables"] > 0
    assert drawn == [(("balance",), False),
                     (("core_periphery", "collaboration", "chains", "commuting"), True)]
    pages = sorted(p.name for p in (report.output_dir / "figures").iterdir())
    assert pages == sorted(f"{n}.{ext}" for n in ("balance", "chains", "collaboration", "commuting",
                                                  "core_periphery") for ext in ("pdf", "png"))


def test_the_balance_beside_the_other_analyses_runs_its_search_batches_itself(small_study, tmp_path, monkeypatch):
    """With the analyses beside it in another process, the balance forks no search workers,
    whatever the (lagging) load average says; outside a run it may."""
    import geo.network.reach as reach
    import geo.pipeline as pl
    from geo.analysis import balance
    from geo.settings import load_settings

    monkeypatch.setattr(reach, "_free_cpus", lambda: 8.0)
    pids = reach._run(_pid_of, [1, 2, 3], 2)
    assert len(set(pids)) >= 1 and os.getpid() not in pids        # workers when CPUs look free
    with reach.one_process():
        assert reach._run(_pid_of, [1, 2, 3], 2) == [os.getpid()] * 3
    seen: list[bool] = []
    real = balance.run

    def recording(*args, **kwargs):
        seen.append(bool(reach._ONE_PROCESS))
        return real(*args, **kwargs)

    monkeypatch.setattr(balance, "run", recording)
    pl.run(load_settings(small_study), output_dir=tmp_path / "out")
    assert seen == [True]
    assert not reach._ONE_PROCESS


def _pid_of(_batch) -> int:
    return os.getpid()
