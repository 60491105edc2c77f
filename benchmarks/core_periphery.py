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

import numpy as np
import shapely

import geopandas as gpd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geo._types import Study  # noqa: E402
from geo.analysis import core_periphery as cp  # noqa: E402
from geo.settings import CorePeripherySettings  # noqa: E402

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


def _exponent(sizes: list[int], seconds: list[float]) -> float:
    return float(np.polyfit(np.log(sizes), np.log(seconds), 1)[0])


def main(sizes: tuple[int, ...] = SIZES, *, repeat: int = 3) -> dict:
    """Time ``share`` (default settings) and ``hotspot`` (99 permutations, 5 km band)."""
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
    return result


if __name__ == "__main__":
    main()
