"""Timing of the core–periphery analysis at 200 / 2,000 / 10,000 zones.

Synthetic zones (irregular polygons at constant density, ~2.5 km apart, five chains,
log-normal indicators) so that the benchmark does not depend on the sample generator.
Run::

    .venv/bin/python benchmarks/core_periphery.py

Prints the time per size and method and the fitted growth exponent ``b`` of
``time ~ n^b``; :func:`main` returns the same numbers as a dict.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geo._types import Study
from geo.analysis import core_periphery as cp
from geo.settings import CorePeripherySettings

SIZES = (200, 2_000, 10_000)


def synthetic_zones(n: int, *, seed: int = 0, spacing_m: float = 2500.0) -> gpd.GeoDataFrame:
    """``n`` non-overlapping irregular zones on a jittered grid, projected CRS."""
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n)))
    cells = rng.permutation(side * side)[:n]
    centre = np.column_stack([cells % side, cells // side]) * spacing_m
    centre += rng.uniform(-0.2, 0.2, (n, 2)) * spacing_m
    n_vertices = 16
    angle = np.linspace(0, 2 * np.pi, n_vertices, endpoint=False)
    radius = rng.uniform(200, 0.35 * spacing_m, (n, 1)) * rng.uniform(0.6, 1.0, (n, n_vertices))
    ring = np.stack([centre[:, None, 0] + radius * np.cos(angle),
                     centre[:, None, 1] + radius * np.sin(angle)], axis=2)
    geoms = shapely.polygons(np.concatenate([ring, ring[:, :1]], axis=1))
    jobs = rng.lognormal(8, 1.2, n)
    return gpd.GeoDataFrame({
        "zone_id": [f"z{i:05d}" for i in range(n)],
        "name": [f"Zone {i}" for i in range(n)],
        "chain": rng.choice(["ai", "bio", "auto", "chip", "aero"], n),
        "district_id": [f"d{int(c // (side * 5))}" for c in cells],
        "jobs": jobs,
        "output": jobs * rng.lognormal(0, 0.5, n),
        "firms": np.round(jobs / 50 * rng.lognormal(0, 0.3, n)),
        "leader_firms": rng.poisson(0.3, n).astype(float),
        "rd_platforms": np.where(rng.random(n) < 0.2, np.nan, rng.poisson(1, n)).astype(float),
    }, geometry=geoms, crs="EPSG:32650")


def _time(zones: gpd.GeoDataFrame, settings: CorePeripherySettings, repeat: int
          ) -> tuple[float, int]:
    """Median wall time of ``repeat`` runs and the number of cores found."""
    times, n_cores = [], 0
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        res = cp.run(Study(crs=zones.crs, zones=zones), settings)
        times.append(time.perf_counter() - t0)
        n_cores = int(res.summary["n_cores"])
    return float(np.median(times)), n_cores


def attach_vs_exact(n: int, *, repeat: int = 3) -> dict:
    """Huff attachment as the analysis does it vs the exact dense baseline, ``n`` zones.

    Cores come from one ``run`` (default settings). *Ours* is :func:`cp.attach` with
    its defaults (exact boundary distances only where they can change a decision when
    non-core zones × cores exceeds ``MAX_EXACT_PAIRS``); the *baseline* computes every
    (zone, core) boundary distance with ``shapely.distance`` (``max_exact_pairs``
    unlimited). Agreement: the chosen core and the strategy of every zone, and the
    largest difference of ``attach_prob``. Times are medians of ``repeat`` runs.
    """
    zones = synthetic_zones(n)
    settings = CorePeripherySettings()
    table = cp.run(Study(crs=zones.crs, zones=zones), settings).tables["core_periphery_zones"]
    cores = table.index[table["role"].to_numpy() == "core"].to_numpy()
    cores = cores[np.argsort(table["rank"].to_numpy()[cores], kind="stable")]
    strength = table["score"].to_numpy(float)[cores]
    geoms = zones.geometry.to_numpy()
    chains = zones["chain"].to_numpy()

    def go(limit: int | None):
        kwargs = {} if limit is None else {"max_exact_pairs": limit}
        return cp.attach(geoms, chains, cores, strength, attach_max_m=settings.attach_max_m,
                         distance_decay=settings.distance_decay, **kwargs)

    def median_time(limit: int | None):
        times, out = [], None
        for _ in range(max(1, repeat)):
            t0 = time.perf_counter()
            out = go(limit)
            times.append(time.perf_counter() - t0)
        return float(np.median(times)), out

    ours_s, ours = median_time(None)
    exact_s, exact = median_time(2**62)
    same_core = ours["core_pos"].to_numpy() == exact["core_pos"].to_numpy()
    same_strategy = ours["strategy"].to_numpy() == exact["strategy"].to_numpy()
    prob_diff = np.nanmax(np.abs(ours["attach_prob"].to_numpy(float) - exact["attach_prob"].to_numpy(float)))
    pairs = (n - len(cores)) * len(cores)
    out = {"zones": n, "cores": len(cores), "pairs": pairs, "exact_mode": pairs <= cp.MAX_EXACT_PAIRS,
           "ours_s": ours_s, "exact_s": exact_s, "ratio": exact_s / ours_s,
           "same_core_share": float(same_core.mean()), "same_strategy_share": float(same_strategy.mean()),
           "max_attach_prob_diff": float(prob_diff)}
    print(f"attach, {n} zones x {len(cores)} cores ({pairs:,} pairs): ours {ours_s:.2f} s, exact dense "
          f"{exact_s:.2f} s (x{out['ratio']:.1f}); same core {same_core.mean():.2%}, same strategy "
          f"{same_strategy.mean():.2%}, max |attach_prob diff| {prob_diff:.2g}", flush=True)
    return out


def _exponent(sizes: list[int], seconds: list[float]) -> float:
    return float(np.polyfit(np.log(sizes), np.log(seconds), 1)[0])


def main(sizes: tuple[int, ...] = SIZES, *, repeat: int = 3, baseline_sizes: tuple[int, ...] = (2_000,)
         ) -> dict:
    """Time ``share`` (default settings) and ``hotspot`` (99 permutations, 5 km band) at
    ``sizes``, and :func:`attach_vs_exact` at ``baseline_sizes``."""
    logging.getLogger("geo").setLevel(logging.ERROR)  # the analysis warns about missing values
    methods = {
        "share": CorePeripherySettings(),
        "hotspot": CorePeripherySettings(method="hotspot", hotspot_band_m=5000.0, permutations=99),
    }
    result: dict = {"sizes": list(sizes), "seconds": {}, "exponent": {}, "n_cores": {}}
    for name, settings in methods.items():
        _time(synthetic_zones(min(sizes)), settings, 1)  # warm-up (imports, first-call costs)
        seconds, cores = [], []
        for n in sizes:
            zones = synthetic_zones(n)
            t, k = _time(zones, settings, repeat)
            seconds.append(t)
            cores.append(k)
            print(f"{name:8s} n={n:>6d}  {t:7.3f} s  cores={k}", flush=True)
        result["seconds"][name] = seconds
        result["n_cores"][name] = cores
        result["exponent"][name] = _exponent(list(sizes), seconds)
        result.setdefault("exponent_last", {})[name] = _exponent(list(sizes[-2:]), seconds[-2:])
        print(f"{name:8s} growth exponent b (time ~ n^b): {result['exponent'][name]:.2f} "
              f"over all sizes, {result['exponent_last'][name]:.2f} between the two largest")
    result["attach_vs_exact"] = [attach_vs_exact(n, repeat=repeat) for n in baseline_sizes]
    return result


if __name__ == "__main__":
    main()
