"""Shared fixtures: the small synthetic study and a runner for the real CLI entry point."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

ROOT = Path(__file__).resolve().parents[1]

# Hypothesis: derandomised in CI (the same examples on every run, so a red build is
# reproducible and a green one is not luck); random locally, to keep finding new cases.
# Tests that run whole pipelines set their own max_examples (tests/test_fuzz.py).
hypothesis_settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
hypothesis_settings.register_profile("dev", deadline=None)
# mutation testing (docs/testing.md): the same examples, fewer of them, so that each of
# the hundreds of mutants runs its tests in seconds
hypothesis_settings.register_profile("mutation", derandomize=True, deadline=None, max_examples=15)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


#: Warning filters of CLI subprocesses: every warning is an error (as pytest's
#: ``filterwarnings = error`` in-process), except the PySAL deprecations that
#: pyproject.toml ignores too (libpysal/esda internals, not our code).
CHILD_WARNINGS = ",".join([
    "error",
    "ignore::DeprecationWarning:libpysal",
    "ignore::FutureWarning:libpysal",
    "ignore::DeprecationWarning:esda",
    "ignore::FutureWarning:esda",
])


def zoneatlas_command() -> list[str]:
    """The installed console script next to this interpreter, else ``python -m geo``."""
    script = Path(sys.executable).with_name("zoneatlas")
    if script.exists():
        return [str(script)]
    found = shutil.which("zoneatlas")
    return [found] if found else [sys.executable, "-m", "geo"]


def run_cli(*args: str | os.PathLike, cwd: Path | None = None, timeout: float = 600,
            env: dict | None = None) -> subprocess.CompletedProcess:
    """Run ``zoneatlas ARGS`` as a user would; returns the completed process (text).

    Warnings are not silenced: the child runs with :data:`CHILD_WARNINGS`, so a
    deprecation in the CLI's code path fails its test as it would in-process.
    """
    full_env = {**os.environ, "PYTHONWARNINGS": CHILD_WARNINGS, **(env or {})}
    return subprocess.run([*zoneatlas_command(), *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, env=full_env)


@contextlib.contextmanager
def geo_logging_kept():
    """Leave the ``geo`` logger as it was (handlers, level, ``propagate``, and
    :func:`logging.captureWarnings`) whatever runs inside: :func:`geo.cli.main` sets it up
    for a terminal, a benchmark script quiets it."""
    geo_log = logging.getLogger("geo")
    saved = (geo_log.handlers[:], geo_log.level, geo_log.propagate,
             getattr(logging, "_warnings_showwarning", None) is not None)
    try:
        yield
    finally:
        geo_log.handlers[:] = saved[0]
        geo_log.setLevel(saved[1])
        geo_log.propagate = saved[2]
        if not saved[3]:
            logging.captureWarnings(False)


@pytest.fixture(autouse=True)
def _geo_logging_restored():
    """Every test ends with the ``geo`` logger as it began: a test that runs the CLI or a
    benchmark script in this process cannot change what the log assertions of later tests
    see (a benchmark left the level at ERROR, and a later ``caplog`` test of a warning saw
    nothing, in the full suite only)."""
    with geo_logging_kept():
        yield


@pytest.fixture
def cli_in_process(capfd):
    """``run(*args)``: ``zoneatlas ARGS`` through :func:`geo.cli.main` in this process, as a
    :class:`subprocess.CompletedProcess` (returncode, stdout, stderr text).

    Seconds faster than :func:`run_cli` (no interpreter start, no imports), for the large
    corpora; a few cases of each still go through the real entry point. ``main`` configures
    logging for a terminal (the ``geo`` logger's handlers, level and ``propagate``, and
    :func:`logging.captureWarnings`): that state is restored after every call, so the rest
    of the suite's log and warning assertions see pytest's defaults. Warnings are errors
    here as in a child run (``filterwarnings = error`` / :data:`CHILD_WARNINGS`).
    """
    def run(*args: str | os.PathLike) -> subprocess.CompletedProcess:
        from geo.cli import main

        argv = [str(a) for a in args]
        capfd.readouterr()           # output of earlier steps is not this run's
        with geo_logging_kept():
            try:
                code = main(argv)
            except SystemExit as exc:   # argparse: usage errors exit 2, --help / --version 0
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            captured = capfd.readouterr()
        return subprocess.CompletedProcess(["zoneatlas", *argv], code, captured.out, captured.err)

    return run


def tree_digest(folder: Path) -> dict[str, str]:
    """sha256 of every file below ``folder`` (relative path → digest)."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(Path(folder).rglob("*")) if p.is_file()}


@pytest.fixture(scope="session")
def small_study(tmp_path_factory) -> Path:
    """A freshly generated ``small`` sample study; returns its config.yaml (do not modify)."""
    from geo.sample import write_sample

    folder = tmp_path_factory.mktemp("small_study")
    return write_sample(folder, scale="small", seed=0)


@pytest.fixture
def small_study_copy(small_study, tmp_path) -> Path:
    """A private copy of the small study that a test may modify; returns its config.yaml."""
    dest = tmp_path / "study"
    shutil.copytree(small_study.parent, dest)
    return dest / small_study.name


@pytest.fixture(scope="session")
def small_run(small_study, tmp_path_factory):
    """One complete in-process run on the small study: (settings, RunReport)."""
    from geo.pipeline import run
    from geo.settings import load_settings

    settings = load_settings(small_study)
    out = tmp_path_factory.mktemp("small_run") / "maps"
    return settings, run(settings, output_dir=out)


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium with the network cut off (tests/_browser.py).

    Skipped when Chromium or playwright is missing, except in CI (``CI`` set), where a
    skipped real-browser test would hide a broken map: there it fails.
    """
    from tests._browser import Browser, browser_available

    ok, why = browser_available()
    if not ok:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests must run in CI: {why}")
        pytest.skip(why)
    b = Browser()
    yield b
    b.close()
