"""Speed and memory of the collaboration analysis: STRtree candidates vs a dense matrix.

Synthetic zones (irregular 8-vertex polygons, 200–600 m across, on a jittered grid
1.2 km apart, i.e. constant density), 20 chains assigned at random, districts = 20 km
grid cells, log-normal jobs and output (20 % missing output). The generator is local
so that the benchmark does not depend on :mod:`geo.sample`.

What it shows
-------------
1. ``metro``: the full :func:`geo.analysis.collaboration.run` on 10,000 zones in 20
   chains (max_distance_m = 30 km): wall time and peak memory.
2. ``baseline``: on 2,000 zones, the dense approach (``shapely.distance`` between all
   N × N zones, then masks for same chain / other district / within range) against
   :func:`candidate_pairs` + :func:`nearest_partners`; the pair sets (and distances to
   1e-6 m) and the nearest-partner distances must be identical.
3. ``scaling_n``: N = 2,500 … 20,000 at constant density with max_distance_m = 10 km
   (the area stays much wider than the radius, so candidate pairs grow ~linearly in N):
   fitted exponent ``b`` of ``time ~ N^b`` for the STRtree path (≈1) and for the dense
   baseline on 500 … 2,000 zones (≈2).
4. ``scaling_distance``: N = 10,000, max_distance_m = 5 … 40 km: candidate-search time
   against the number of candidate pairs, fitted as fixed cost + µs per pair (and the
   exponent between the two largest radii, ≈1: cost follows the candidates);
   the nearest-partner step is printed beside it (it gets cheaper as more zones are
   answered from their candidate pairs and fewer need a complement-tree query).

Memory is the **tracemalloc peak** (Python and NumPy allocations; memory that GEOS
allocates internally, e.g. the tree nodes, is not counted), measured in a separate
run from the timing because tracemalloc slows allocation. Times are wall-clock
``time.perf_counter`` (best of 3 in the scaling series, one run otherwise): on a
shared machine read the ratios, not the absolute numbers.

Run::

    .venv/bin/python benchmarks/collaboration.py [--quick]

:func:`main` returns the measured numbers as a dict.
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geo._types import Study
from geo.analysis import collaboration as col
from geo.settings import settings_from_dict

CRS = "EPSG:4544"
SPACING_M = 1200.0
DISTRICT_CELL_M = 20000.0
N_CHAINS = 20
ROLES = np.array(["rd", "manufacturing", "terminal", "supporting", "mixed", None], dtype=object)


def synthetic_zones(n: int, *, seed: int = 0, spacing_m: float = SPACING_M,
                    n_chains: int = N_CHAINS) -> gpd.GeoDataFrame:
    """``n`` irregular zones at constant density (one per ``spacing_m`` grid cell)."""
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n)))
    cells = rng.permutation(side * side)[:n]
    centre = np.column_stack([cells % side, cells // side]) * spacing_m
    centre = centre + rng.uniform(-0.25, 0.25, (n, 2)) * spacing_m
    k = 8
    angle = np.linspace(0, 2 * np.pi, k, endpoint=False)[None, :] + rng.uniform(0, 0.5, (n, 1))
    radius = rng.uniform(100, 300, (n, 1)) * rng.uniform(0.6, 1.0, (n, k))
    ring = np.stack([centre[:, :1] + radius * np.cos(angle), centre[:, 1:] + radius * np.sin(angle)], axis=-1)
    ring = np.concatenate([ring, ring[:, :1]], axis=1)
    geoms = shapely.polygons(ring)
    district = (centre // DISTRICT_CELL_M).astype(int)
    jobs = np.round(rng.lognormal(7, 1, n))
    output = rng.lognormal(3, 1, n)
    output[rng.random(n) < 0.2] = np.nan
    return gpd.GeoDataFrame(
        {
            "zone_id": [f"z{i:05d}" for i in range(n)],
            "name": [f"Zone {i}" for i in range(n)],
            "chain": [f"chain{c:02d}" for c in rng.integers(0, n_chains, n)],
            "district_id": [f"d{x:02d}{y:02d}" for x, y in district],
            "jobs": jobs,
            "output": output,
            "role": ROLES[rng.integers(0, len(ROLES), n)],
        },
        geometry=geoms,
        crs=CRS,
    )


def dense_baseline(zones: gpd.GeoDataFrame, max_distance_m: float) -> tuple[pd.DataFrame, np.ndarray]:
    """All pairs and nearest partner distances from the full N × N distance matrix."""
    g = np.asarray(zones.geometry.array, dtype=object)
    chain = zones["chain"].to_numpy(dtype=object)
    dist = zones["district_id"].to_numpy(dtype=object)
    full = shapely.distance(g[:, None], g[None, :])                   # N x N float64
    partner = (chain[:, None] == chain[None, :]) & (dist[:, None] != dist[None, :])
    full[~partner] = np.inf
    nearest = full.min(axis=1)
    nearest[np.isinf(nearest)] = np.nan
    i, j = np.nonzero(np.triu(full <= max_distance_m, k=1))
    return pd.DataFrame({"i": i, "j": j, "distance_m": full[i, j]}), nearest


def strtree_path(zones: gpd.GeoDataFrame, max_distance_m: float) -> tuple[pd.DataFrame, np.ndarray]:
    pairs = col.candidate_pairs(zones, max_distance_m)
    near = col.nearest_partners(zones, pairs=pairs)
    return pairs, near["nearest_partner_m"].to_numpy(float)


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def _timed_best(fn: Callable[[], Any], repeat: int = 3) -> tuple[Any, float]:
    """Result and the smallest wall time of ``repeat`` runs (less noise on a shared machine)."""
    best = np.inf
    for _ in range(repeat):
        out, t = _timed(fn)
        best = min(best, t)
    return out, best


def _peak_mb(fn: Callable[[], Any]) -> float:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def _exponent(x: list[float], y: list[float]) -> float:
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def _settings(max_distance_m: float):
    return settings_from_dict(
        {"study": {"language": "zh"}, "layers": {"zones": {"path": "zones.gpkg"}},
         "collaboration": {"max_distance_m": max_distance_m}},
        base_dir=".",
    )


def _timed_median(fn: Callable[[], Any], repeat: int) -> tuple[Any, float]:
    """Result and the median wall time of ``repeat`` runs."""
    times, out = [], None
    for _ in range(max(1, repeat)):
        out, t = _timed(fn)
        times.append(t)
    return out, float(np.median(times))


def main(*, quick: bool = False, max_distance_m: float = 30000.0, repeats: int = 1) -> dict[str, Any]:
    """Run the benchmark, print a report, return the numbers.

    ``quick`` shrinks every size by 8 (for a smoke test). ``repeats``: the metro run and
    the STRtree-vs-dense comparison are timed as the median of that many runs.
    """
    scale = 8 if quick else 1
    n_metro = 10_000 // scale
    n_base = 2_000 // scale
    out: dict[str, Any] = {"memory_measure": "tracemalloc peak (Python + NumPy; GEOS internals not counted)"}

    # 1. full analysis at metro size
    zones = synthetic_zones(n_metro, seed=1)
    study = Study(crs=zones.crs, zones=zones)
    settings = _settings(max_distance_m)
    result, t_run = _timed_median(lambda: col.run(study, settings), repeats)
    _, t_core = _timed_median(lambda: strtree_path(zones, max_distance_m), repeats)
    peak_run = _peak_mb(lambda: col.run(study, settings))
    out["metro"] = {
        "zones": n_metro, "chains": int(zones["chain"].nunique()),
        "districts": int(zones["district_id"].nunique()), "max_distance_m": max_distance_m,
        "pairs": int(result.summary["pairs"]), "run_s": t_run, "pairs_and_nearest_s": t_core,
        "run_peak_mb": peak_run,
    }
    print(f"metro: {n_metro} zones, {out['metro']['chains']} chains, {out['metro']['districts']} districts, "
          f"max_distance_m={max_distance_m:g}: {out['metro']['pairs']} pairs")
    print(f"  run(): {t_run:.2f} s (pairs + nearest partners alone: {t_core:.2f} s), "
          f"tracemalloc peak {peak_run:.0f} MB")

    # 2. dense baseline vs STRtree at a size the baseline can hold
    small = synthetic_zones(n_base, seed=2)
    (ref_pairs, ref_near), t_dense = _timed_median(lambda: dense_baseline(small, max_distance_m), repeats)
    (got_pairs, got_near), t_tree = _timed_median(lambda: strtree_path(small, max_distance_m), repeats)
    peak_dense = _peak_mb(lambda: dense_baseline(small, max_distance_m))
    peak_tree = _peak_mb(lambda: strtree_path(small, max_distance_m))
    ref = ref_pairs.sort_values(["i", "j"]).reset_index(drop=True)
    got = got_pairs.sort_values(["i", "j"]).reset_index(drop=True)
    same_pairs = ref[["i", "j"]].equals(got[["i", "j"]].astype(ref["i"].dtype))
    same_dist = same_pairs and bool(np.allclose(ref["distance_m"], got["distance_m"], rtol=0, atol=1e-6))
    same_near = bool(np.allclose(ref_near, got_near, rtol=0, atol=1e-6, equal_nan=True))
    out["baseline"] = {
        "zones": n_base, "pairs": len(ref), "dense_s": t_dense, "strtree_s": t_tree,
        "dense_peak_mb": peak_dense, "strtree_peak_mb": peak_tree,
        "identical_pairs": bool(same_pairs), "identical_distances": same_dist,
        "identical_nearest": same_near, "speedup": t_dense / t_tree, "repeats": repeats,
    }
    print(f"baseline at {n_base} zones ({len(ref)} pairs): dense N×N {t_dense:.2f} s, "
          f"{peak_dense:.0f} MB | STRtree {t_tree:.2f} s, {peak_tree:.0f} MB "
          f"| speed-up ×{t_dense / t_tree:.1f}, memory ×{peak_dense / max(peak_tree, 1e-9):.1f} "
          f"| identical pairs: {same_pairs}, distances: {same_dist}, nearest: {same_near}")
    if not (same_pairs and same_dist and same_near):
        raise AssertionError("STRtree result differs from the dense baseline")

    # 3. growth with N at constant density. max_distance_m is smaller here so that the
    #    study area (side 1.2 km * sqrt(N)) stays much wider than the search radius and the
    #    number of candidates per zone stays constant (at 30 km the smaller areas would be
    #    covered almost entirely and the candidates would grow like N^2 by construction).
    radius_n = 10000.0
    sizes = [n_metro // 4, n_metro // 2, n_metro, 2 * n_metro]
    rows = []
    for n in sizes:
        z = synthetic_zones(n, seed=3)
        p, t_pairs = _timed_best(lambda z=z: col.candidate_pairs(z, radius_n))
        _, t_near = _timed_best(lambda z=z, p=p: col.nearest_partners(z, pairs=p))
        rows.append({"zones": n, "pairs": len(p), "pairs_s": t_pairs, "nearest_s": t_near,
                     "total_s": t_pairs + t_near})
    dense_sizes = [n_base // 4, n_base // 2, n_base]
    dense_rows = []
    for n in dense_sizes:
        z = synthetic_zones(n, seed=3)
        _, t = _timed(lambda z=z: dense_baseline(z, radius_n))
        dense_rows.append({"zones": n, "dense_s": t})
    b_tree = _exponent(sizes, [r["total_s"] for r in rows])
    b_pairs = _exponent(sizes, [max(r["pairs"], 1) for r in rows])
    b_dense = _exponent(dense_sizes, [r["dense_s"] for r in dense_rows])
    out["scaling_n"] = {"max_distance_m": radius_n, "strtree": rows, "dense": dense_rows,
                        "exponent_strtree": b_tree, "exponent_pairs": b_pairs, "exponent_dense": b_dense}
    print(f"growth with N at constant density, max_distance_m={radius_n:g} (time ~ N^b):")
    for r in rows:
        print(f"  N={r['zones']:>6}: {r['pairs']:>8} pairs, STRtree {r['total_s']:.2f} s "
              f"(pairs {r['pairs_s']:.2f} s + nearest {r['nearest_s']:.2f} s)")
    for r in dense_rows:
        print(f"  N={r['zones']:>6}: dense N×N {r['dense_s']:.2f} s")
    print(f"  b(STRtree) = {b_tree:.2f}, b(candidate pairs) = {b_pairs:.2f}, b(dense) = {b_dense:.2f}")

    # 4. growth with max_distance_m at fixed N: the candidate search follows the candidates
    rows_d = []
    for dmax in (5000.0, 10000.0, 20000.0, 40000.0):
        p, t_pairs = _timed_best(lambda dmax=dmax: col.candidate_pairs(zones, dmax))
        _, t_near = _timed_best(lambda p=p: col.nearest_partners(zones, pairs=p))
        rows_d.append({"max_distance_m": dmax, "pairs": len(p), "pairs_s": t_pairs, "nearest_s": t_near})
    pairs_d = np.array([r["pairs"] for r in rows_d], float)
    time_d = np.array([r["pairs_s"] for r in rows_d], float)
    slope, intercept = np.polyfit(pairs_d, time_d, 1)
    b_d = _exponent(pairs_d[-2:].tolist(), time_d[-2:].tolist())
    out["scaling_distance"] = {"zones": n_metro, "rows": rows_d, "fixed_s": float(intercept),
                               "us_per_pair": float(slope * 1e6), "exponent_time_vs_pairs_top": b_d}
    print(f"growth with max_distance_m at N={n_metro} (candidate search time vs candidate pairs):")
    for r in rows_d:
        print(f"  {r['max_distance_m'] / 1000:>4.0f} km: {r['pairs']:>8} pairs, candidates {r['pairs_s']:.2f} s, "
              f"nearest {r['nearest_s']:.2f} s")
    print(f"  linear fit: time = {intercept:.2f} s (trees, per-chain queries) + {slope * 1e6:.2f} µs × pairs; "
          f"exponent between the two largest radii b = {b_d:.2f}")
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="sizes / 8 (smoke test)")
    parser.add_argument("--repeats", type=int, default=1,
                        help="median of N runs for the metro run and the dense comparison")
    args = parser.parse_args()
    main(quick=args.quick, repeats=args.repeats)
