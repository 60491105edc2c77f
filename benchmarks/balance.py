"""Benchmark of the jobs–housing balance counting against the plain geopandas way.

Usage::

    python benchmarks/balance.py [--scale metro|city] [--repeats N] [--baseline-repeats N]

On the ``metro`` sample (about 2,150 workplaces × 1,000,000 housing points, radii 3, 5
and 10 km) it times, in this process:

* **ours** – :func:`geo.analysis.balance.workers_within` (exact quadtree kernel);
* **baseline** – ``geopandas.sjoin`` of the housing points with the workplaces
  buffered by each radius (default ``quad_segs``), then ``groupby().sum()``;
* the complete analysis ``balance.run`` (shares, districts, land-use mix) once.

Agreement is checked three ways: ours against an exact brute force
(``shapely.distance`` ≤ r) on a sample of workplaces; on the same sample, point by
point, buffer membership (``quad_segs`` 8 and 512) against the exact test, reporting
how far from the radius the differing points are (the buffer polygon's rounded
parts are chords inscribed in the exact r-region, so buffers miss a sliver whose width
shrinks with ``quad_segs``); and the baseline's sums against ours on every workplace.

Peak memory: ``tracemalloc`` peak of one extra run of ours (Python and numpy
allocations; GEOS allocations are not seen); the resident set size sampled from
``/proc/self/statm`` every 5 ms while ours runs (before / peak, the process then
already holds the layers); and the process's peak RSS high-water mark
(``resource.getrusage``) after the baseline. Timings are the median of the repeats.

:func:`main` returns the numbers as a dict (used by a benchmark harness).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from geo.analysis import balance

RADII_M = (3000.0, 5000.0, 10000.0)
WORKERS_PER_DWELLING = 1.4
BRUTE_SAMPLE = 25


def _rss_mb() -> float:
    """Peak resident set size of this process so far (MB; Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _current_rss_mb() -> float:
    """Resident set size now (MB), from /proc/self/statm (Linux); 0 elsewhere."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return 0.0
    return pages * resource.getpagesize() / 2**20


class _RSSSampler:
    """Peak RSS while a block runs, sampled every 5 ms in a thread."""

    def __enter__(self) -> _RSSSampler:  # noqa: PYI034
        import threading

        self.before_mb = _current_rss_mb()
        self.peak_mb = self.before_mb
        self._stop = threading.Event()

        def poll() -> None:
            while not self._stop.wait(0.005):
                self.peak_mb = max(self.peak_mb, _current_rss_mb())

        self._thread = threading.Thread(target=poll, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_mb = max(self.peak_mb, _current_rss_mb())


def load_layers(scale: str, seed: int = 0) -> dict[str, Any]:
    """Workplace polygons, housing points and workers of the sample study.

    Uses :func:`geo.sample.generate_study`; falls back to a comparable numpy-made
    layer set when that module is not available.
    """
    try:
        from geo.sample import generate_study
    except ImportError:  # pragma: no cover - only before geo.sample existed
        return _numpy_layers(scale, seed)
    study = generate_study(scale, seed=seed)
    geoms = np.concatenate([study.zones.geometry.to_numpy(),
                            study.innovation_districts.geometry.to_numpy()])
    xy = shapely.get_coordinates(study.housing.geometry.to_numpy())
    workers = study.housing["dwellings"].to_numpy(dtype=float) * WORKERS_PER_DWELLING
    return {"geoms": geoms, "x": xy[:, 0].copy(), "y": xy[:, 1].copy(), "workers": workers,
            "crs": study.crs, "study": study, "source": "geo.sample.generate_study"}


def _numpy_layers(scale: str, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    n_wp, n_pts, radius = (2150, 1_000_000, 75_000) if scale == "metro" else (72, 30_000, 28_000)
    angle = rng.uniform(0, 2 * np.pi, n_pts)
    dist = np.minimum(rng.exponential(radius / 3, n_pts), radius)
    x, y = 500_000 + dist * np.cos(angle), 3_400_000 + dist * np.sin(angle)
    wa = rng.uniform(0, 2 * np.pi, n_wp)
    wd = rng.uniform(0, radius, n_wp)
    cx, cy = 500_000 + wd * np.cos(wa), 3_400_000 + wd * np.sin(wa)
    k = np.arange(16) * np.pi / 8
    rad = rng.uniform(300, 800, (n_wp, 1)) * np.where(np.arange(16) % 2 == 0, 1.0, 0.6)
    ring = np.stack([cx[:, None] + rad * np.cos(k), cy[:, None] + rad * np.sin(k)], axis=-1)
    geoms = shapely.polygons(np.concatenate([ring, ring[:, :1]], axis=1))
    workers = rng.integers(20, 600, n_pts) * WORKERS_PER_DWELLING
    return {"geoms": geoms, "x": x, "y": y, "workers": workers.astype(float),
            "crs": "EPSG:4544", "study": None, "source": "numpy fallback"}


def ours(layers: dict[str, Any]) -> np.ndarray:
    return balance.workers_within(layers["geoms"], layers["x"], layers["y"], layers["workers"],
                                  RADII_M)


def baseline(layers: dict[str, Any], radii=RADII_M, *, quad_segs: int = 8,
             only: np.ndarray | None = None) -> np.ndarray:
    """Plain geopandas: sjoin points with buffered workplaces, sum per workplace."""
    geoms = layers["geoms"] if only is None else layers["geoms"][only]
    points = gpd.GeoDataFrame({"workers": layers["workers"]},
                              geometry=gpd.points_from_xy(layers["x"], layers["y"]),
                              crs=layers["crs"])
    out = np.zeros((len(geoms), len(radii)))
    for j, r in enumerate(radii):
        zones = gpd.GeoDataFrame({"wp": np.arange(len(geoms))},
                                 geometry=gpd.GeoSeries(geoms, crs=layers["crs"]).buffer(
                                     r, quad_segs=quad_segs), crs=layers["crs"])
        joined = gpd.sjoin(points, zones, predicate="intersects", how="inner")
        sums = joined.groupby("wp")["workers"].sum()
        out[sums.index.to_numpy(), j] = sums.to_numpy()
        del joined
    return out


def brute(layers: dict[str, Any], ids: np.ndarray, radii=RADII_M,
          quad_segs: tuple[int, ...] = (8, 512)) -> tuple[np.ndarray, dict[int, dict[str, float]]]:
    """Exact reference: shapely.distance from each sampled polygon to nearby points.

    Also compares, point by point, the membership in ``polygon.buffer(r, quad_segs)``
    with the exact test: for each ``quad_segs``, the number of (workplace, radius,
    point) memberships that differ and the largest ``|distance - r|`` among them.
    """
    out = np.zeros((len(ids), len(radii)))
    stats = {q: {"points_differing": 0, "max_gap_m": 0.0} for q in quad_segs}
    rmax = max(radii)
    x, y, w = layers["x"], layers["y"], layers["workers"]
    for k, i in enumerate(ids):
        g = layers["geoms"][i]
        x0, y0, x1, y1 = shapely.bounds(g)
        near = (x >= x0 - rmax) & (x <= x1 + rmax) & (y >= y0 - rmax) & (y <= y1 + rmax)
        pts = shapely.points(x[near], y[near])
        d = shapely.distance(pts, g)
        for j, r in enumerate(radii):
            inside = d <= r
            out[k, j] = w[near][inside].sum()
            for q in quad_segs:
                buf = shapely.buffer(g, r, quad_segs=q)
                shapely.prepare(buf)
                differ = shapely.intersects(buf, pts) != inside
                if differ.any():
                    stats[q]["points_differing"] += int(differ.sum())
                    stats[q]["max_gap_m"] = max(stats[q]["max_gap_m"],
                                                float(np.abs(d[differ] - r).max()))
    return out, stats


def _timed(fn, repeats: int) -> tuple[float, list[float], Any]:
    times = []
    result = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times, result


def _canonical_study(layers: dict[str, Any]):
    """The sample as a validated-looking Study (canonical field names) for balance.run."""
    from affine import Affine  # noqa: F401  (Raster needs it)
    from pyproj import CRS

    from geo._types import Raster, Study
    from geo.settings import settings_from_dict

    s = layers["study"]
    study = Study(
        crs=CRS.from_user_input(s.crs),
        districts=s.districts.rename(columns={"code": "district_id"}),
        zones=s.zones.rename(columns={"id": "zone_id", "district": "district_id"}),
        innovation_districts=s.innovation_districts.rename(columns={"id": "innov_id"}),
        housing=s.housing.rename(columns={"id": "housing_id"}),
        landuse=Raster(np.where(s.landuse == 0, np.nan, s.landuse.astype(float)), s.transform,
                       CRS.from_user_input(s.crs)),
        landuse_classes={1: "residential", 2: "office", 3: "industrial", 4: "retail",
                         5: "public", 6: "green"},
    )
    settings = settings_from_dict({"layers": {"zones": {"path": "z.gpkg"},
                                              "landuse": {"path": "l.tif"}},
                                   "balance": {"radius_m": 5000, "radii_m": list(RADII_M)}},
                                  base_dir=".")
    return study, settings


def main(argv: list[str] | None = None, *, layers: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run the benchmark, print a report, return the numbers.

    ``layers`` (from :func:`load_layers`) skips generating the sample again.
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=("metro", "city", "small"), default="metro")
    parser.add_argument("--repeats", type=int, default=3, help="repeats of ours (median)")
    parser.add_argument("--baseline-repeats", type=int, default=1,
                        help="repeats of the geopandas baseline (slow at metro scale)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-baseline", action="store_true", help="skip the geopandas baseline")
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    if layers is None:
        layers = load_layers(args.scale, args.seed)
    gen_s = time.perf_counter() - t0
    n_wp, n_pts = len(layers["geoms"]), len(layers["x"])
    print(f"{args.scale} sample ({layers['source']}, {gen_s:.1f} s): {n_wp} workplaces x "
          f"{n_pts:,} housing points x radii {', '.join(f'{r:g}' for r in RADII_M)} m")

    with _RSSSampler() as rss:
        ours_s, ours_all, ours_sums = _timed(lambda: ours(layers), args.repeats)
    tracemalloc.start()
    ours(layers)
    ours_peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    rss_after_ours = _rss_mb()
    print(f"ours:     {ours_s:8.2f} s (median of {args.repeats}: "
          f"{', '.join(f'{t:.2f}' for t in ours_all)})")
    print(f"memory:   tracemalloc peak of one run {ours_peak_mb:.0f} MB; RSS (sampled from "
          f"/proc every 5 ms) {rss.before_mb:.0f} MB before -> {rss.peak_mb:.0f} MB peak during "
          f"ours (+{rss.peak_mb - rss.before_mb:.0f} MB; the layers themselves are in 'before')")

    result: dict[str, Any] = {
        "scale": args.scale, "workplaces": n_wp, "points": n_pts, "radii_m": list(RADII_M),
        "ours_s": ours_s, "ours_runs_s": ours_all, "ours_tracemalloc_peak_mb": ours_peak_mb,
        "rss_before_ours_mb": rss.before_mb, "rss_peak_during_ours_mb": rss.peak_mb,
        "rss_peak_after_ours_mb": rss_after_ours, "sample_source": layers["source"],
    }

    # exact reference on a sample of workplaces
    rng = np.random.default_rng(args.seed)
    sample = np.sort(rng.choice(n_wp, min(BRUTE_SAMPLE, n_wp), replace=False))
    exact, buffer_stats = brute(layers, sample)
    exact_ok = bool(np.allclose(ours_sums[sample], exact, rtol=1e-9, atol=1e-6))
    result["exact_sample"] = len(sample)
    result["exact_agreement"] = exact_ok
    result["buffer_vs_exact"] = {str(q): v for q, v in buffer_stats.items()}
    print(f"exact brute force on {len(sample)} workplaces: "
          f"{'identical' if exact_ok else 'DIFFERENT'} (max |diff| "
          f"{np.abs(ours_sums[sample] - exact).max():.3g} workers)")
    for q, v in buffer_stats.items():
        where = (f", all within {v['max_gap_m']:.3g} m of the radius" if v["points_differing"]
                 else "")
        print(f"  buffer(quad_segs={q}) vs exact on that sample: {v['points_differing']} point "
              f"memberships differ{where}")

    if not args.no_baseline:
        base_s, base_all, base_sums = _timed(lambda: baseline(layers), args.baseline_repeats)
        rss_after_base = _rss_mb()
        diff = ours_sums - base_sums
        n_diff = int((np.abs(diff) > 1e-6 * np.maximum(1, np.abs(ours_sums))).sum())
        result.update({
            "baseline_s": base_s, "baseline_runs_s": base_all,
            "rss_peak_after_baseline_mb": rss_after_base,
            "ratio": base_s / ours_s,
            "baseline_cells_differing": n_diff,
            "baseline_cells": int(diff.size),
            "baseline_min_diff": float(diff.min()),
            "baseline_missing_workers_share": float(diff.sum() / max(ours_sums.sum(), 1e-9)),
        })
        print(f"baseline: {base_s:8.2f} s (geopandas sjoin with buffers, median of "
              f"{args.baseline_repeats}); process peak RSS {rss_after_base:.0f} MB")
        print(f"ratio:    {base_s / ours_s:8.1f}x faster")
        print(f"baseline vs ours: {n_diff} of {diff.size} (workplace, radius) sums differ; "
              f"ours - baseline >= {diff.min():.3g} (the buffer polygon is inscribed in the exact "
              f"region, so the baseline can only miss points); missed share "
              f"{result['baseline_missing_workers_share']:.2e} of all counted workers")

    if layers["study"] is not None:
        study, settings = _canonical_study(layers)
        t0, c0 = time.perf_counter(), time.process_time()
        full = balance.run(study, settings)
        result["full_run_s"] = time.perf_counter() - t0
        result["full_run_cpu_s"] = time.process_time() - c0
        result["full_run_summary"] = {k: full.summary[k] for k in
                                      ("worker_source", "workers_in_reach", "balance_classes",
                                       "balance_radius_reached", "theoretical_min_commute_m")}
        print(f"complete balance.run (3 radii, shares, districts, land-use mix, area measures, "
              f"balance radius, theoretical minimum commute): {result['full_run_s']:.2f} s wall, "
              f"{result['full_run_cpu_s']:.2f} s CPU")
    return result


if __name__ == "__main__":
    main()
