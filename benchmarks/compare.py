"""Benchmark of ``zoneatlas compare`` against a plain pandas merge of the same tables.

Usage::

    python benchmarks/compare.py BASE_RUN PLAN_RUN [--repeats 3]

BASE_RUN and PLAN_RUN are finished run folders (e.g. the ``metro`` sample and its plan::

    zoneatlas sample -o /tmp/metro --scale metro
    python -c "from geo.sample_plan import write_plan; write_plan('/tmp/metro/config.yaml')"
    zoneatlas run -c /tmp/metro/config.yaml -o /tmp/metro/maps
    zoneatlas run -c /tmp/metro/config-plan.yaml -o /tmp/metro/maps_plan

). Measured in the same process, median of ``--repeats``, as wall time and as CPU time of the
process (on a shared machine the CPU time is the load-independent figure):

* ``baseline``: for every table both runs have, ``pd.read_csv`` both, outer ``merge`` on
  the key with ``indicator=True`` and ``plan − base`` of every numeric column — what a
  analyst would write by hand (no statuses, no class changes, nothing written);
* ``compare (compute)``: :func:`geo.comparison.compare` without an output folder;
* ``compare (write)``: the full command, CSVs, compare.json and compare.html written
  (into a temporary folder).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from geo.comparison import TABLE_KEYS, compare


def baseline(base: Path, plan: Path) -> int:
    """Plain pandas: read, outer-merge and subtract every table; returns the rows joined."""
    rows = 0
    for path in sorted((base / "tables").glob("*.csv")):
        other = plan / "tables" / path.name
        if not other.is_file():
            continue
        b = pd.read_csv(path, encoding="utf-8-sig", low_memory=False)
        p = pd.read_csv(other, encoding="utf-8-sig", low_memory=False)
        key = list(TABLE_KEYS.get(path.stem, ())) or None
        if key is None:
            b, p = b.assign(row=range(len(b))), p.assign(row=range(len(p)))
            key = ["row"]
        merged = b.merge(p, on=key, how="outer", suffixes=("_base", "_plan"), indicator=True)
        for col in b.columns:
            if col in key or col not in p.columns:
                continue
            numeric = [pd.api.types.is_numeric_dtype(f[col]) and not pd.api.types.is_bool_dtype(f[col]) for f in (b, p)]
            if all(numeric):
                merged[f"{col}_delta"] = merged[f"{col}_plan"] - merged[f"{col}_base"]
        rows += len(merged)
    return rows


def _median(fn, repeats: int) -> tuple[float, list[float], float]:
    """Median wall time, every wall time, and the median CPU time of this process (the
    machine may be shared: CPU time is the number that does not depend on its load)."""
    times, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(times), times, statistics.median(cpu)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base", type=Path)
    parser.add_argument("plan", type=Path)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    rows = 0
    for path in (args.base / "tables").glob("*.csv"):
        with open(path, "rb") as handle:
            rows += sum(1 for _ in handle) - 1
    print(f"BASE {args.base} ({rows:,} table rows), PLAN {args.plan}")
    results = {"baseline (pandas merge)": _median(lambda: baseline(args.base, args.plan), args.repeats),
               "compare (compute)": _median(lambda: compare(args.base, args.plan), args.repeats)}
    with tempfile.TemporaryDirectory(prefix="zoneatlas-bench-compare-") as tmp:
        results["compare (write DIR)"] = _median(
            lambda: compare(args.base, args.plan, Path(tmp) / "cmp"), args.repeats)
    for name, (median, times, cpu) in results.items():
        print(f"{name:<26} median {median:6.2f} s wall, {cpu:6.2f} s CPU   runs {', '.join(f'{t:.2f}' for t in times)}")
    base_s = results["baseline (pandas merge)"][0]
    print(f"compare (write DIR) / baseline = {results['compare (write DIR)'][0] / base_s:.2f}x; "
          f"target: ≤ 10 s on two metro runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
