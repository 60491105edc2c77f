"""Helpers shared by the benchmark scripts and the harness ``run_all.py``.

* :func:`timed` – median (and all) wall times of ``repeats`` runs (``time.perf_counter``).
* :class:`RSSSampler` – peak resident set size of *this* process while a block runs,
  sampled from ``/proc/self/statm`` every 5 ms in a thread (Linux; no psutil needed).
* :func:`run_child` – run a command as a child process and return its wall time and
  its peak RSS from ``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` read in a fresh
  helper process (so the number belongs to that one child, not to earlier children).
* :func:`exponent` – least-squares growth exponent ``b`` of ``y ~ x^b`` (log–log fit).
* :func:`cached_sample` – the synthetic study written once under ``benchmarks/.cache/``
  (git-ignored) and regenerated when :mod:`geo.sample` changes.
* :func:`format_table` – fixed-width text table.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "benchmarks" / ".cache"
RESULTS = ROOT / "benchmarks" / "results"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def timed(fn: Callable[[], Any], repeats: int = 3) -> tuple[float, list[float], Any]:
    """Median wall time of ``repeats`` calls of ``fn``, every time, and the last result."""
    times: list[float] = []
    result = None
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times, result


def current_rss_mb() -> float:
    """Resident set size of this process now (MB), from /proc/self/statm; 0 elsewhere."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return 0.0
    return pages * resource.getpagesize() / 2**20


class RSSSampler:
    """Peak RSS of this process while a ``with`` block runs (sampled every ``interval_s``).

    ``before_mb`` is the RSS on entry, ``peak_mb`` the largest sample (the block's own
    growth is ``peak_mb - before_mb``). Short spikes between two samples can be missed.
    """

    def __init__(self, interval_s: float = 0.005) -> None:
        self.interval_s = interval_s
        self.before_mb = 0.0
        self.peak_mb = 0.0

    def __enter__(self) -> RSSSampler:  # noqa: PYI034
        self.before_mb = self.peak_mb = current_rss_mb()
        self._stop = threading.Event()

        def poll() -> None:
            while not self._stop.wait(self.interval_s):
                self.peak_mb = max(self.peak_mb, current_rss_mb())

        self._thread = threading.Thread(target=poll, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_mb = max(self.peak_mb, current_rss_mb())


_CHILD_WRAPPER = """
import resource, subprocess, sys, time, json
t0 = time.perf_counter()
proc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
wall = time.perf_counter() - t0
print(json.dumps({"rc": proc.returncode, "wall_s": wall,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
                  "stderr": proc.stderr.decode("utf-8", "replace")[-4000:]}))
"""


def run_child(cmd: Sequence[str], *, env: dict[str, str] | None = None,
              cwd: Path | None = None) -> dict[str, Any]:
    """Run ``cmd`` once; its wall time and peak RSS (MB, ``ru_maxrss`` of that child).

    A small Python wrapper process starts ``cmd`` and reads ``RUSAGE_CHILDREN`` after it
    ended, so the peak belongs to ``cmd`` (and its own children) alone. Linux reports
    ``ru_maxrss`` in KiB.
    """
    out = subprocess.run([sys.executable, "-c", _CHILD_WRAPPER, *map(str, cmd)],
                         capture_output=True, text=True, env=env, cwd=cwd, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def exponent(x: Sequence[float], y: Sequence[float]) -> float:
    """Growth exponent ``b`` of ``y ~ x^b`` (least squares on log–log)."""
    x = np.asarray(x, float)
    y = np.maximum(np.asarray(y, float), 1e-9)
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def _sample_fingerprint() -> str:
    """Changes whenever the sample generator changes (then the cache is rebuilt)."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "geo" / "sample").glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def cached_sample(scale: str = "metro", *, seed: int = 0, fmt: str = "gpkg",
                  cache: Path | None = None) -> Path:
    """config.yaml of the sample study under ``cache`` (default ``benchmarks/.cache/``),
    written once.

    The folder is ``sample_<scale>_<fmt>_seed<seed>``; a stamp file records the
    fingerprint of :mod:`geo.sample`, and a stale or incomplete folder is rewritten.
    """
    from geo.sample import write_sample

    folder = Path(cache or CACHE) / f"sample_{scale}_{fmt}_seed{seed}"
    stamp = folder / ".stamp"
    config = folder / "config.yaml"
    key = _sample_fingerprint()
    if config.exists() and stamp.exists() and stamp.read_text() == key:
        return config
    if folder.exists():
        shutil.rmtree(folder)
    tmp = folder.with_name(folder.name + f".tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    write_sample(tmp, scale=scale, seed=seed, fmt=fmt)
    (tmp / ".stamp").write_text(key)
    os.replace(tmp, folder)
    return config


def fmt_num(value: Any, spec: str = ".2f") -> str:
    """A number formatted with ``spec``; ``-`` for None/NaN; strings unchanged."""
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "yes" if value else "NO"
    try:
        if np.isnan(value):
            return "-"
    except TypeError:
        return str(value)
    return format(value, spec)


def format_table(rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str, str]]) -> str:
    """Rows as a text table; ``columns`` = (key, header, format spec)."""
    cells = [[h for _, h, _ in columns]]
    for row in rows:
        cells.append([fmt_num(row.get(k), spec) for k, _, spec in columns])
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    lines = []
    for n, r in enumerate(cells):
        line = "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
        lines.append(line.rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)
