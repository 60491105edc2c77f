"""Steps of a run written in forked processes while the run goes on (the workbook, the
QGIS package): a small job runner with a sequential fallback.

On Linux a job runs in a process forked from the run, so it shares the loaded study and
results without copying or pickling them, and its CPU time overlaps the steps that follow
on another core. What the run sees is the same as if the job had run inline:

- :meth:`Background.wait` returns the job's return value, or raises the job's exception
  itself (pickled back from the child: a full disk is the same ``OSError`` ``ENOSPC``, a
  bad input the same :class:`~geo._errors.ZoneAtlasError`); an exception that cannot be
  pickled comes back as a ``RuntimeError`` with its text.
- A failure anywhere (a job, or a step of the run inside the ``with`` block) stops every
  other job: leaving the block with an exception terminates and joins the children, so
  the caller (e.g. :func:`geo._io.staged_output`) can remove what they were writing.
- At most ``max_jobs`` children run at once (default: the usable CPUs); later jobs wait
  and start as soon as one ends (checked whenever the run calls :meth:`check` or waits).
- A job may take another job's value as an argument (:meth:`Background.value_of`): it
  starts once that job has ended, and gets the value as it would inline (e.g. a writer
  that appends to a file another job created, never two writers at once).

Elsewhere (not Linux, no ``fork``, inside a daemonic process, with Python threads running,
one CPU, or ``enabled=False``) every job runs at once in this process when started; its
exception is raised right there.

Examples
--------
>>> with Background(enabled=False) as bg:
...     job = bg.start("sum", sum, [1, 2, 3])
...     bg.wait("sum"), job.background
(6, False)
"""

from __future__ import annotations

import logging
import os
import pickle
import signal
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Background", "Job", "ValueOf", "fork_usable"]

log = logging.getLogger(__name__)


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


#: Threads that may be alive at a fork: tqdm's monitor (started by any progress bar) only
#: sleeps and checks bars, which the children never draw.
_HARMLESS_THREADS = ("tqdm_monitor",)


def _other_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate()
            if t is not threading.current_thread() and not (t.daemon and t.name in _HARMLESS_THREADS)]


def fork_usable() -> bool:
    """True when jobs can run in forked processes here: Linux with ``fork``, not inside a
    daemonic process (which may not have children), no other Python thread alive (a lock
    it holds would stay locked in the child) and more than one usable CPU."""
    import multiprocessing as mp

    return (sys.platform.startswith("linux") and hasattr(os, "fork")
            and "fork" in mp.get_all_start_methods() and not mp.current_process().daemon
            and not _other_threads() and _usable_cpus() > 1)


@dataclass
class Job:
    """One job: its name, whether it ran in a process of its own, and (once ended) its own
    wall and CPU seconds (measured in the child when it ran there)."""

    name: str
    background: bool
    wall_s: float | None = None
    cpu_s: float | None = None
    _call: tuple | None = field(default=None, repr=False)     # (fn, args, kwargs) until started
    _process: Any = field(default=None, repr=False)
    _reader: Any = field(default=None, repr=False)
    _outcome: tuple | None = field(default=None, repr=False)  # ("ok", value) or ("error", exc)

    @property
    def done(self) -> bool:
        return self._outcome is not None


@dataclass(frozen=True)
class ValueOf:
    """Placeholder for the value of job ``name`` among another job's arguments."""

    name: str


def _placeholders(args: tuple, kwargs: dict) -> list[str]:
    return [a.name for a in (*args, *kwargs.values()) if isinstance(a, ValueOf)]


class Background:
    """Run jobs in forked processes (see the module docstring); use as a context manager.

    Parameters
    ----------
    enabled : bool
        ``False``: run every job inline when started (the sequential fallback).
    max_jobs : int, optional
        Children running at once (default: the usable CPUs).
    """

    def __init__(self, *, enabled: bool = True, max_jobs: int | None = None) -> None:
        self.forking = enabled and fork_usable()
        self.max_jobs = max(1, max_jobs if max_jobs is not None else _usable_cpus())
        self.jobs: dict[str, Job] = {}
        self._queue: list[Job] = []

    def __enter__(self) -> Background:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.cancel()

    # -- starting -------------------------------------------------------------------

    def value_of(self, name: str) -> ValueOf:
        """An argument of :meth:`start` standing for the value of job ``name`` (started
        before): the new job waits for that one to end, then gets its value."""
        if name not in self.jobs:
            raise ValueError(f"background job {name!r} is not started")
        return ValueOf(name)

    def start(self, name: str, fn: Callable, /, *args: Any, **kwargs: Any) -> Job:
        """Run ``fn(*args, **kwargs)`` as job ``name``: in a child process (started now, or
        queued while ``max_jobs`` run or a job whose :meth:`value_of` it takes has not
        ended), else at once in this process."""
        if name in self.jobs:
            raise ValueError(f"background job {name!r} started twice")
        for dep in _placeholders(args, kwargs):
            if dep not in self.jobs:
                raise ValueError(f"background job {name!r} takes the value of {dep!r}, which is not started")
        # checked again for each job: one started later than others (e.g. after the
        # analyses) may find a Python thread alive that was not there at first
        forking = self.forking and fork_usable()
        job = Job(name, background=forking, _call=(fn, args, kwargs))
        if not forking:
            for dep in _placeholders(args, kwargs):
                self.wait(dep)   # a job whose value it takes may still run in a child
        self.jobs[name] = job
        if not forking:
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                args, kwargs = self._resolve(args, kwargs)
                job._outcome = ("ok", fn(*args, **kwargs))
            finally:
                job.wall_s, job.cpu_s = time.perf_counter() - wall, time.process_time() - cpu
                job._call = None
            return job
        self._queue.append(job)
        self._poll(block=False)   # collects ended jobs (a value this one takes), then starts
        return job

    def _resolve(self, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
        """The arguments with each :class:`ValueOf` replaced by that job's value."""
        def value(a: Any) -> Any:
            return self.jobs[a.name]._outcome[1] if isinstance(a, ValueOf) else a

        return tuple(value(a) for a in args), {k: value(v) for k, v in kwargs.items()}

    def _ready(self, job: Job) -> bool:
        """Every job whose value ``job`` takes has ended well."""
        fn, args, kwargs = job._call
        return all(self.jobs[dep]._outcome is not None and self.jobs[dep]._outcome[0] == "ok"
                   for dep in _placeholders(args, kwargs))

    def _running(self) -> list[Job]:
        return [j for j in self.jobs.values() if j._process is not None and j._outcome is None]

    def _start_queued(self) -> None:
        for job in list(self._queue):
            if len(self._running()) >= self.max_jobs:
                break
            if self._ready(job):
                self._queue.remove(job)
                self._fork(job)

    def _fork(self, job: Job) -> None:
        import multiprocessing as mp

        ctx = mp.get_context("fork")
        reader, sender = ctx.Pipe(duplex=False)
        fn, args, kwargs = job._call
        args, kwargs = self._resolve(args, kwargs)
        job._call = None
        process = ctx.Process(target=_child, args=(sender, fn, args, kwargs), name=f"zoneatlas-{job.name}",
                              daemon=True)
        with warnings.catch_warnings():
            # Python 3.12+ warns on fork() in a process with threads; the only ones here are
            # native pools (BLAS, Arrow, GDAL) with their own fork handlers: no Python
            # thread is alive (fork_usable), so no Python lock is held across the fork
            warnings.filterwarnings("ignore", message=r".*fork\(\) may lead to deadlocks",
                                    category=DeprecationWarning)
            # Ctrl-C held back during the fork: Python would run its handler inside the fork's
            # own callbacks (logging's lock release), which swallow the KeyboardInterrupt and
            # the run would go on, or inside Process.start() after the fork, before the job
            # knows its child (cancel() would then leave it writing into a staging folder
            # the run removes); held back, it arrives right after, in the run's own code
            with _sigint_held():
                process.start()
                job._process, job._reader = process, reader
        sender.close()
        log.debug("background job %s: process %s", job.name, process.pid)

    # -- ending ---------------------------------------------------------------------

    def _collect(self, job: Job) -> None:
        """Read the ended (or ending) child's message and join it."""
        try:
            message = job._reader.recv()
        except (EOFError, OSError):   # the process died without a word
            message = None
        job._process.join()
        code = job._process.exitcode
        job._reader.close()
        if message is None:
            how = f"was killed by signal {-code}" if code is not None and code < 0 else f"ended with exit code {code}"
            job._outcome = ("error", RuntimeError(f"{job.name}: its process {how} before finishing"))
            return
        kind, value, text, job.wall_s, job.cpu_s = message
        if kind == "ok":
            job._outcome = ("ok", value)
        else:
            job._outcome = ("error", value if value is not None
                            else RuntimeError(f"{job.name} failed in its process: {text}"))

    def _poll(self, block: bool) -> None:
        """Collect children that have ended (``block``: wait for at least one)."""
        from multiprocessing.connection import wait

        running = self._running()
        if running:
            ready = wait([j._reader for j in running], timeout=None if block else 0)
            for job in running:
                if job._reader in ready:
                    self._collect(job)
        self._start_queued()

    def _raise_failure(self) -> None:
        for job in self.jobs.values():
            if job._outcome is not None and job._outcome[0] == "error":
                exc = job._outcome[1]
                job._outcome = ("raised", None)
                self.cancel()
                raise exc

    def check(self) -> None:
        """Start queued jobs when a child has ended; raise (stopping the others) if one failed."""
        self._poll(block=False)
        self._raise_failure()

    def wait(self, name: str | None = None) -> Any:
        """Wait for job ``name`` (default: every job) and return its value (``None`` for all).

        Raises the first failure of any job, after stopping the others."""
        while True:
            self._raise_failure()
            pending = [j for j in self.jobs.values() if (name is None or j.name == name) and j._outcome is None]
            if not pending:
                break
            if not self._running():   # pragma: no cover - a queued job whose value never comes
                raise RuntimeError(f"background jobs {', '.join(j.name for j in pending)} cannot start")
            self._poll(block=True)
        if name is None:
            return None
        outcome = self.jobs[name]._outcome
        return outcome[1] if outcome[0] == "ok" else None

    def cancel(self) -> None:
        """Stop every job still running or queued (their children are terminated and joined)."""
        self._queue.clear()
        for job in self.jobs.values():
            if job._process is not None and job._outcome is None:
                job._process.terminate()
                job._process.join()
                job._reader.close()
                job._outcome = ("cancelled", None)
            elif job._outcome is None:
                job._outcome = ("cancelled", None)

    def timings(self) -> dict[str, dict[str, float]]:
        """``{job: {"wall_s", "cpu_s"}}`` of the jobs that ended (rounded to ms)."""
        return {j.name: {"wall_s": round(j.wall_s, 3), "cpu_s": round(j.cpu_s, 3)}
                for j in self.jobs.values() if j.wall_s is not None}


def _exit_with_parent() -> None:
    """Linux: have the kernel terminate this child when the run's process dies (a killed
    run must not leave a writer behind in its staging folder)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)   # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - informational only
        pass


@contextmanager
def _sigint_held() -> Iterator[None]:
    """Ctrl-C held back for the block, raised after it (main thread, POSIX; elsewhere no
    Ctrl-C arrives). SIGINT is blocked; one that had arrived just before (Python runs the
    handler at a later bytecode, which could be inside the block) is recorded instead of
    raised there, and raised again once the block is done."""
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
        yield   # pragma: no cover - not POSIX, or a worker thread
        return
    came: list[int] = []
    previous = signal.getsignal(signal.SIGINT)
    if previous is not None:   # None: a handler Python did not install, left alone
        signal.signal(signal.SIGINT, lambda signum, frame: came.append(signum))
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)   # one that came meanwhile: recorded
        if previous is not None:
            signal.signal(signal.SIGINT, previous)   # runs the pending handler first (CPython)
            if came:
                signal.raise_signal(signal.SIGINT)


def _child(sender, fn: Callable, args: tuple, kwargs: dict) -> None:
    _exit_with_parent()
    # Ctrl-C reaches the whole process group: the run stops its children itself (the
    # mask held back during the fork is inherited: ignored first, then unblocked)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        value = fn(*args, **kwargs)
        try:
            pickle.dumps(value)
        except Exception:  # noqa: BLE001 - a value that cannot travel back is dropped
            value = None
        message = ("ok", value, "", time.perf_counter() - wall, time.process_time() - cpu)
    except BaseException as exc:  # noqa: BLE001 - handed to the parent, which raises it
        log.debug("background job failed", exc_info=True)   # the child's traceback (--debug)
        text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        try:   # the exception itself, so that e.g. a full disk (OSError ENOSPC) reads as it would inline
            pickle.loads(pickle.dumps(exc))   # it must survive the way back too
        except Exception:  # noqa: BLE001 - not picklable: its text only
            exc = None
        message = ("error", exc, text, time.perf_counter() - wall, time.process_time() - cpu)
    try:
        sender.send(message)
    finally:
        sender.close()
