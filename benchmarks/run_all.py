"""All zoneatlas benchmarks in one command, one table.

Run from the repository root::

    .venv/bin/python benchmarks/run_all.py            # metro scale (about 10 min)
    .venv/bin/python benchmarks/run_all.py --quick    # city-scale smoke run (under a minute)

What it does, in this order:

1. writes the synthetic ``metro`` study (about 2,000 zones, 1,000,000 housing points,
   100 m rasters) once as GeoPackage and once as GeoParquet under
   ``benchmarks/.cache/`` (git-ignored; rebuilt when ``geo/sample/`` changes);
2. runs the ``main()`` of each per-analysis benchmark: ``balance.py`` (ours vs the
   geopandas ``sjoin`` of buffered workplaces), ``collaboration.py`` (STRtree vs a
   dense N × N distance matrix), ``core_periphery.py`` (200 / 2,000 / 10,000 zones)
   and ``maps.py`` (HTML size and headless-Chromium load time, when a browser is
   available);
3. times the balance kernel at 10k / 100k / 1M housing points (growth exponent);
4. runs the real CLI ``zoneatlas run`` on the metro study as a child process, with
   GeoPackage input and with GeoParquet input, ``--repeats`` times each;
5. prints one table (benchmark, our time, baseline time measured in the same run,
   ratio, peak memory, whether the results agree), the scaling exponents and the
   end-to-end step times, and writes everything to ``benchmarks/results/latest.json``
   (git-ignored).

Times are medians of ``--repeats`` runs (3 by default) of ``time.perf_counter``
wall time; the machine is shared and noisy, so read the ratios. Peak memory is
measured three ways and the table says which: ``rss`` = this process's resident set
sampled from ``/proc/self/statm`` every 5 ms while the benchmark ran (includes what
the process already held); ``tracemalloc`` = Python/NumPy allocations only (GEOS
internals not seen); ``child`` = ``ru_maxrss`` of the ``zoneatlas`` child process
(``resource.getrusage(RUSAGE_CHILDREN)`` read by a wrapper that started only that
child).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from _common import (
    RESULTS,
    ROOT,
    RSSSampler,
    cached_sample,
    exponent,
    format_table,
    run_child,
    timed,
)

#: End-to-end budget of ``zoneatlas run`` on the metro sample (issue 9).
BUDGET_S = 60.0
BUDGET_MB = 4096.0

TABLE_COLUMNS = (
    ("benchmark", "benchmark", ""),
    ("size", "size", ""),
    ("ours_s", "ours s", ".2f"),
    ("baseline", "baseline", ""),
    ("baseline_s", "baseline s", ".2f"),
    ("ratio", "ratio", ".1f"),
    ("peak_mb", "peak MB", ".0f"),
    ("memory", "memory", ""),
    ("agree", "agree", ""),
)


def _row(benchmark: str, size: str, ours_s: float | None, *, baseline: str = "-",
         baseline_s: float | None = None, peak_mb: float | None = None, memory: str = "-",
         agree: str = "-", **extra: Any) -> dict[str, Any]:
    ratio = baseline_s / ours_s if baseline_s and ours_s else None
    return {"benchmark": benchmark, "size": size, "ours_s": ours_s, "baseline": baseline,
            "baseline_s": baseline_s, "ratio": ratio, "peak_mb": peak_mb, "memory": memory,
            "agree": agree, **extra}


# ---------------------------------------------------------------------------
# the per-analysis benchmarks


def bench_balance(scale: str, repeats: int, layers: dict[str, Any]) -> tuple[list[dict], dict]:
    """benchmarks/balance.py: exact kernel vs geopandas sjoin with buffers."""
    import balance as bench

    res = bench.main(["--scale", scale, "--repeats", str(repeats),
                      "--baseline-repeats", str(repeats)], layers=layers)
    agree = (f"exact {'yes' if res['exact_agreement'] else 'NO'} "
             f"({res['exact_sample']} wp brute force); sjoin misses "
             f"{res['baseline_missing_workers_share']:.1e} (buffer chords)")
    rows = [_row("balance: workers within 3/5/10 km", f"{res['workplaces']} wp x {res['points']:,} pts",
                 res["ours_s"], baseline="geopandas buffer+sjoin", baseline_s=res.get("baseline_s"),
                 peak_mb=res["rss_peak_during_ours_mb"],
                 memory=(f"rss (process incl. layers; baseline: {res['rss_peak_after_baseline_mb']:.0f} MB)"
                         if "rss_peak_after_baseline_mb" in res else "rss (process incl. layers)"),
                 agree=agree,
                 ok=bool(res["exact_agreement"]))]
    if "full_run_s" in res:
        rows.append(_row("balance.run (complete analysis)", f"{res['workplaces']} wp x {res['points']:,} pts",
                         res["full_run_s"], memory="-", agree="-"))
    return rows, res


def bench_balance_scaling(layers: dict[str, Any], sizes: list[int], repeats: int, *,
                          vary: str = "points") -> dict[str, Any]:
    """The balance kernel on random subsets of the housing points (all workplaces) or,
    with ``vary="workplaces"``, of the workplaces (all points)."""
    from geo.analysis import balance

    rng = np.random.default_rng(0)
    geoms, x, y, w = layers["geoms"], layers["x"], layers["y"], layers["workers"]
    seconds = []
    for n in sizes:
        if vary == "points":
            pick = np.sort(rng.choice(len(x), min(n, len(x)), replace=False))
            args = (geoms, x[pick], y[pick], w[pick])
        else:
            pick = np.sort(rng.choice(len(geoms), min(n, len(geoms)), replace=False))
            args = (geoms[pick], x, y, w)
        t, _, _ = timed(lambda args=args: balance.workers_within(*args, (3000.0, 5000.0, 10000.0)), repeats)
        seconds.append(t)
        print(f"balance kernel, {len(args[0]):>5} workplaces x {len(args[1]):>9,} points: {t:.3f} s", flush=True)
    b = exponent(sizes, seconds)
    print(f"balance growth exponent b (time ~ {vary}^b): {b:.2f}")
    return {"variable": "housing points" if vary == "points" else "workplaces (all points)",
            "sizes": sizes, "seconds": seconds, "exponent": b,
            "exponent_last": exponent(sizes[-2:], seconds[-2:])}


def bench_collaboration(quick: bool, repeats: int) -> tuple[list[dict], dict]:
    import collaboration as bench

    res = bench.main(quick=quick, repeats=repeats)
    base, metro = res["baseline"], res["metro"]
    agree = ("identical pairs, distances, nearest" if base["identical_pairs"] and base["identical_distances"]
             and base["identical_nearest"] else "DIFFERENT")
    rows = [
        _row("collaboration: pairs + nearest", f"{base['zones']} zones", base["strtree_s"],
             baseline="dense N x N distances", baseline_s=base["dense_s"], peak_mb=base["strtree_peak_mb"],
             memory=f"tracemalloc (dense: {base['dense_peak_mb']:.0f} MB)", agree=agree,
             ok=agree.startswith("identical")),
        _row("collaboration.run (complete)", f"{metro['zones']} zones, {metro['pairs']:,} pairs",
             metro["run_s"], peak_mb=metro["run_peak_mb"], memory="tracemalloc"),
    ]
    return rows, res


def bench_core_periphery(quick: bool, repeats: int) -> tuple[list[dict], dict]:
    import core_periphery as bench

    sizes = (100, 400, 1_600) if quick else bench.SIZES
    with RSSSampler() as rss:
        res = bench.main(sizes, repeat=repeats, baseline_sizes=(1_600,) if quick else (2_000,))
    rows = []
    for b in res["attach_vs_exact"]:
        same = b["same_core_share"] == 1 and b["same_strategy_share"] == 1
        rows.append(_row("core_periphery: Huff attachment", f"{b['zones']:,} zones x {b['cores']} cores",
                         b["ours_s"], baseline="exact dense zone x core", baseline_s=b["exact_s"],
                         agree=(f"{'same' if same else 'DIFFERENT'} core+strategy "
                                f"({b['same_core_share']:.2%}); |dP| <= {b['max_attach_prob_diff']:.1g}"),
                         ok=same))
    rows += [_row(f"core_periphery.run ({method})", f"{sizes[-1]:,} zones, {res['n_cores'][method][-1]} cores",
                 res["seconds"][method][-1], peak_mb=rss.peak_mb, memory="rss (process)")
            for method in res["seconds"]]
    return rows, res


def bench_maps(scale: str, repeats: int) -> tuple[list[dict], dict]:
    import maps as bench

    with RSSSampler() as rss:
        res = bench.main(["--scale", scale, "--repeat", str(repeats)])
    rows = [_row("maps: write_maps (4 pages)", f"{scale} sample", res["_write_s"], peak_mb=rss.peak_mb,
                 memory="rss (process, incl. analyses)")]
    for name, page in res.items():
        if name.startswith("_") or name == "index":
            continue
        load = page.get("load_s")
        rows.append(_row(f"maps: {name}.html load in Chromium", f"{page['mb']:.1f} MB",
                         load, agree=("ok" if page["ok"] else "MISSED") + " (<10 MB, <3 s)"
                         + (f", {page['errors']} JS errors" if page.get("errors") else ""),
                         ok=bool(page["ok"]) and not page.get("errors")))
    return rows, res


# ---------------------------------------------------------------------------
# end to end


def _zoneatlas() -> list[str]:
    exe = Path(sys.executable).with_name("zoneatlas")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "geo"]


def _tables_identical(a: Path, b: Path) -> tuple[bool, list[str]]:
    names = sorted(p.name for p in (a / "tables").glob("*.csv"))
    other = sorted(p.name for p in (b / "tables").glob("*.csv"))
    differing = [n for n in names if (a / "tables" / n).read_bytes() != (b / "tables" / n).read_bytes()]
    return names == other and not differing, differing or sorted(set(names) ^ set(other))


def bench_e2e(scale: str, repeats: int, work: Path, cache: Path | None = None) -> tuple[list[dict], dict]:
    """``zoneatlas run`` as a child process on the GeoPackage and the GeoParquet study."""
    out: dict[str, Any] = {"budget_s": BUDGET_S, "budget_mb": BUDGET_MB}
    env = dict(os.environ)
    env.pop("SOURCE_DATE_EPOCH", None)
    expected = ["index.html", "balance.html", "collaboration.html", "core_periphery.html",
                "qgis/zoneatlas.gpkg", "qgis/zoneatlas.qgz", "run.json"]
    for fmt in ("gpkg", "parquet"):
        config = cached_sample(scale, seed=0, fmt=fmt, cache=cache)
        target = work / f"out_{fmt}"
        runs = []
        for _ in range(repeats):
            r = run_child([*_zoneatlas(), "run", "-c", config, "-o", target, "-q"], env=env, cwd=ROOT)
            if r["rc"] != 0:
                raise RuntimeError(f"zoneatlas run ({fmt}) failed with exit code {r['rc']}:\n{r['stderr']}")
            manifest = json.loads((target / "run.json").read_text(encoding="utf-8"))
            runs.append({"wall_s": r["wall_s"], "peak_rss_mb": r["peak_rss_mb"],
                         "steps_s": manifest["timings_s"]})
            print(f"zoneatlas run ({fmt}): {r['wall_s']:.1f} s, peak RSS {r['peak_rss_mb']:.0f} MB; "
                  f"steps {manifest['timings_s']}", flush=True)
        missing = [e for e in expected if not (target / e).is_file()]
        steps = {k: statistics.median(run["steps_s"].get(k, 0.0) for run in runs) for k in runs[0]["steps_s"]}
        out[fmt] = {"runs": runs, "wall_s": statistics.median(r["wall_s"] for r in runs),
                    "peak_rss_mb": max(r["peak_rss_mb"] for r in runs), "steps_s": steps,
                    "missing_outputs": missing,
                    "output_mb": {p.name: round(p.stat().st_size / 1e6, 2)
                                  for p in sorted(target.rglob("*")) if p.is_file() and p.suffix != ".csv"},
                    "counts": manifest["counts"]}
    same, differing = _tables_identical(work / "out_gpkg", work / "out_parquet")
    out["tables_identical"] = same
    out["tables_differing"] = differing
    rows = []
    counts = out["gpkg"]["counts"]
    size = f"{counts.get('zones', 0):,} zones, {counts.get('housing', 0):,} housing"
    for fmt in ("gpkg", "parquet"):
        e = out[fmt]
        within = e["wall_s"] < BUDGET_S and e["peak_rss_mb"] < BUDGET_MB and not e["missing_outputs"]
        e["within_budget"] = within
        agree = ("tables identical gpkg/parquet" if same else f"tables DIFFER: {', '.join(differing)}")
        agree += f"; budget {'met' if within else 'MISSED'}"
        if e["missing_outputs"]:
            agree += f"; missing {', '.join(e['missing_outputs'])}"
        rows.append(_row(f"zoneatlas run, {fmt} input (e2e)", size, e["wall_s"], baseline="budget (ratio = headroom)",
                         baseline_s=BUDGET_S, peak_mb=e["peak_rss_mb"], memory="child ru_maxrss",
                         agree=agree, ok=within and same))
    return rows, out


def bench_e2e_scaling(scales: list[str], repeats: int, work: Path, cache: Path | None,
                      known: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """``zoneatlas run`` (GeoPackage input) on the sample at each scale: wall time vs housing
    points. ``known``: scale → already measured ``{"wall_s", "housing"}``."""
    sizes, seconds = [], []
    for scale in scales:
        if scale in known:
            sizes.append(known[scale]["housing"])
            seconds.append(known[scale]["wall_s"])
            continue
        config = cached_sample(scale, seed=0, fmt="gpkg", cache=cache)
        target = work / f"scale_{scale}"
        walls = []
        for _ in range(repeats):
            r = run_child([*_zoneatlas(), "run", "-c", config, "-o", target, "-q"], cwd=ROOT)
            if r["rc"] != 0:
                raise RuntimeError(f"zoneatlas run ({scale}) failed with exit code {r['rc']}:\n{r['stderr']}")
            walls.append(r["wall_s"])
        housing = json.loads((target / "run.json").read_text(encoding="utf-8"))["counts"]["housing"]
        sizes.append(housing)
        seconds.append(statistics.median(walls))
        print(f"zoneatlas run ({scale}, {housing:,} housing points): {seconds[-1]:.1f} s", flush=True)
    return {"variable": "housing points (samples " + " / ".join(scales) + ")", "sizes": sizes,
            "seconds": seconds, "exponent": exponent(sizes, seconds),
            "exponent_last": exponent(sizes[-2:], seconds[-2:])}


# ---------------------------------------------------------------------------


def _step_table(e2e: dict[str, Any]) -> str:
    steps = list(dict.fromkeys([*e2e["gpkg"]["steps_s"], *e2e["parquet"]["steps_s"]]))
    rows = [{"step": s, "gpkg": e2e["gpkg"]["steps_s"].get(s), "parquet": e2e["parquet"]["steps_s"].get(s)}
            for s in steps]
    rows.append({"step": "wall (process)", "gpkg": e2e["gpkg"]["wall_s"], "parquet": e2e["parquet"]["wall_s"]})
    return format_table(rows, [("step", "zoneatlas run step", ""), ("gpkg", "gpkg s", ".2f"),
                               ("parquet", "parquet s", ".2f")])


def _scaling_table(scaling: dict[str, dict[str, Any]]) -> str:
    rows = []
    for name, s in scaling.items():
        rows.append({"analysis": name, "variable": s["variable"],
                     "sizes": " / ".join(f"{n:,}" for n in s["sizes"]),
                     "seconds": " / ".join(f"{t:.3g}" for t in s["seconds"]),
                     "b": s["exponent"], "b_last": s.get("exponent_last")})
    return format_table(rows, [("analysis", "analysis", ""), ("variable", "grows with", ""),
                               ("sizes", "sizes", ""), ("seconds", "seconds", ""),
                               ("b", "exponent b", ".2f"), ("b_last", "b (two largest)", ".2f")])


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run every benchmark, print the table, write benchmarks/results/latest.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="city-scale sample and smaller sizes (smoke run, under a minute)")
    parser.add_argument("--repeats", type=int, default=None,
                        help="runs per timing, median reported (default 3; 1 with --quick)")
    parser.add_argument("--only", default=None,
                        help="comma-separated subset of: balance,collaboration,core_periphery,maps,e2e")
    parser.add_argument("--scale", choices=("small", "city", "metro"), default=None,
                        help="sample for balance, maps and e2e (default metro; city with --quick)")
    parser.add_argument("--cache", type=Path, default=None,
                        help="folder of the cached samples (default benchmarks/.cache)")
    parser.add_argument("--output", type=Path, default=RESULTS / "latest.json", help="JSON written here")
    args = parser.parse_args(argv)
    repeats = args.repeats or (1 if args.quick else 3)
    scale = args.scale or ("city" if args.quick else "metro")
    parts = ("balance", "collaboration", "core_periphery", "maps", "e2e")
    only = parts if args.only is None else tuple(p.strip() for p in args.only.split(","))
    unknown = set(only) - set(parts)
    if unknown:
        parser.error(f"--only: unknown {', '.join(sorted(unknown))}")
    logging.basicConfig(level=logging.ERROR)

    started = time.perf_counter()
    t0 = time.perf_counter()
    formats = ("gpkg", "parquet") if "e2e" in only else ("gpkg",) if "maps" in only else ()
    for fmt in formats:
        cached_sample(scale, seed=0, fmt=fmt, cache=args.cache)
    sample_s = time.perf_counter() - t0
    if formats:
        print(f"{scale} sample ready under {args.cache or 'benchmarks/.cache'}/ ({sample_s:.1f} s)\n",
              flush=True)

    rows: list[dict[str, Any]] = []
    details: dict[str, Any] = {}
    scaling: dict[str, dict[str, Any]] = {}
    if "balance" in only:
        import balance as bench_bal

        layers = bench_bal.load_layers(scale, 0)
        r, details["balance"] = bench_balance(scale, repeats, layers)
        rows += r
        n_points = len(layers["x"])
        sizes = [n_points // 100, n_points // 10, n_points]  # metro: 10k, 100k, 1M
        scaling["balance"] = bench_balance_scaling(layers, sizes, repeats)
        n_wp = len(layers["geoms"])
        scaling["balance (workplaces)"] = bench_balance_scaling(
            layers, [max(1, n_wp // 10), max(1, n_wp // 3), n_wp], repeats, vary="workplaces")
        del layers
        print()
    if "collaboration" in only:
        r, details["collaboration"] = bench_collaboration(args.quick, repeats)
        rows += r
        sn = details["collaboration"]["scaling_n"]
        scaling["collaboration"] = {"variable": "zones (const. density, 10 km)",
                                    "sizes": [x["zones"] for x in sn["strtree"]],
                                    "seconds": [x["total_s"] for x in sn["strtree"]],
                                    "exponent": sn["exponent_strtree"]}
        scaling["collaboration"]["exponent_last"] = exponent(scaling["collaboration"]["sizes"][-2:],
                                                             scaling["collaboration"]["seconds"][-2:])
        scaling["collaboration (dense baseline)"] = {
            "variable": "zones", "sizes": [x["zones"] for x in sn["dense"]],
            "seconds": [x["dense_s"] for x in sn["dense"]], "exponent": sn["exponent_dense"]}
        print()
    if "core_periphery" in only:
        r, details["core_periphery"] = bench_core_periphery(args.quick, repeats)
        rows += r
        cp = details["core_periphery"]
        for method in cp["seconds"]:
            scaling[f"core_periphery ({method})"] = {
                "variable": "zones", "sizes": cp["sizes"], "seconds": cp["seconds"][method],
                "exponent": cp["exponent"][method], "exponent_last": cp["exponent_last"][method]}
        print()
    if "maps" in only:
        r, details["maps"] = bench_maps(scale, repeats)
        rows += r
        print()
    if "e2e" in only:
        work = Path(tempfile.mkdtemp(prefix="zoneatlas-e2e-"))
        try:
            r, details["e2e"] = bench_e2e(scale, repeats, work, args.cache)
            if scale == "metro":
                known = {"metro": {"wall_s": details["e2e"]["gpkg"]["wall_s"],
                                   "housing": details["e2e"]["gpkg"]["counts"]["housing"]}}
                scaling["zoneatlas run (e2e, gpkg)"] = bench_e2e_scaling(
                    ["small", "city", "metro"], repeats, work, args.cache, known)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        rows += r
        print()

    table = format_table(rows, TABLE_COLUMNS)
    print(f"zoneatlas benchmarks ({scale} sample, median of {repeats}; "
          f"{os.cpu_count()} CPUs; read the ratios, the machine is shared)")
    print(table)
    if scaling:
        print("\nscaling (time ~ size^b):")
        print(_scaling_table(scaling))
    if "e2e" in details:
        print("\nend to end (steps from run.json, median):")
        print(_step_table(details["e2e"]))
    total_s = time.perf_counter() - started
    print(f"\nharness wall time {total_s:.0f} s")

    report = {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "scale": scale, "quick": args.quick, "repeats": repeats, "cpus": os.cpu_count(),
        "python": platform.python_version(), "sample_s": sample_s, "harness_s": total_s,
        "table": rows, "scaling": scaling, "details": details,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(_jsonable(report), indent=2, ensure_ascii=False) + "\n",
                           encoding="utf-8")
    print(f"wrote {args.output}")
    return report


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, Path):
        return str(value)
    return value


if __name__ == "__main__":
    main()
