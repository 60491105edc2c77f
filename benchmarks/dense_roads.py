"""Benchmark of travel-time reach on densely drawn roads: the best entry along a chain
against every entry.

Usage::

    python benchmarks/dense_roads.py [--step M] [--share S]

The bundled sample (``config.yaml``: 72 workplaces, 30,000 homes, about 5,600 km of
roads) with a share (``--share``, default all) of its arterial roads redrawn with a vertex
every ``--step`` metres (default 0.6), as CAD arcs, GPS traces and densified lines have
them. The graph thins them to one vertex per snap tolerance (a node every 1.2 m), so a
workplace near such a road has hundreds of entry nodes on one chain of the simplified
graph. :func:`geo.network.workers_within_minutes` for every workplace × 15/30/45 minutes,
with the nodes reached within 30 minutes (for isochrones), in this process (one job), is
timed twice:

* **ours** – the product as it is: along a chain, a workplace with more than 16 entries
  on it has only its best entry ahead of and behind each node read;
* **baseline** – every entry read for every node of its chain (entries × nodes per
  chain, the way before), by raising that limit above any count.

Agreement: the workers of every horizon and the nodes reached must be identical. The
same two are timed on the sample as drawn (no dense chains), where both should cost the
same.

Both run after a first untimed call, which finds the workplaces' entries and the homes'
nodes (kept on the graph). Peak memory: the resident set of this process sampled every
5 ms while each runs.

:func:`main` returns the numbers as a dict.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT, ROOT / "benchmarks"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from _common import RSSSampler  # noqa: E402
from network import MINUTES, PRIMARY, WORKERS_PER_DWELLING  # noqa: E402  (the same horizons)

import geo.network as gn  # noqa: E402
from geo.layers import load_study  # noqa: E402
from geo.network import _search  # noqa: E402
from geo.settings import load_settings  # noqa: E402


def load(config: Path = ROOT / "config.yaml") -> dict[str, Any]:
    """The bundled sample's roads, workplaces and homes (loaded as a run loads them)."""
    settings = load_settings(config)
    study = load_study(settings)
    parts = [study.zones] + ([study.innovation_districts] if study.innovation_districts is not None else [])
    polys = np.concatenate([np.asarray(p.geometry.values, dtype=object) for p in parts])
    homes = study.housing
    xy = shapely.get_coordinates(shapely.point_on_surface(homes.geometry.values))
    weights = homes["dwellings"].fillna(0).to_numpy(float) * WORKERS_PER_DWELLING
    return {"settings": settings, "roads": study.roads, "polys": polys, "xy": xy, "weights": weights}


def densify(roads, step_m: float, share: float, seed: int = 0):
    """The roads with ``share`` of the arterials (drawn at random) redrawn every ``step_m``."""
    arterial = np.flatnonzero(roads["class"].to_numpy(object) == "arterial")
    rng = np.random.default_rng(seed)
    pick = rng.choice(arterial, size=int(round(share * len(arterial))), replace=False)
    geoms = np.asarray(roads.geometry.values, dtype=object).copy()
    geoms[pick] = shapely.segmentize(geoms[pick], step_m)
    return roads.set_geometry(gpd.GeoSeries(geoms, index=roads.index, crs=roads.crs)), len(pick)


def _reach(graph, data: dict[str, Any], each_max: int) -> tuple[Any, float, float, float]:
    """workers_within_minutes with the along-chain limit ``each_max``: (result, wall s, CPU s, peak MB)."""
    old = _search._EACH_MAX
    _search._EACH_MAX = each_max
    try:
        with RSSSampler() as rss:
            t, c = time.perf_counter(), time.process_time()
            res = gn.workers_within_minutes(graph, data["xy"], data["weights"], data["polys"], MINUTES,
                                            primary_minute=PRIMARY, reached_nodes="all", n_jobs=1,
                                            max_access_m=data["settings"].network.max_access_m)
            wall, cpu = time.perf_counter() - t, time.process_time() - c
    finally:
        _search._EACH_MAX = old
    return res, wall, cpu, rss.peak_mb


def _same(a, b) -> bool:
    return (np.array_equal(a.workers, b.workers, equal_nan=True)
            and all(np.array_equal(x, y) for x, y in zip(a.reached, b.reached)))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--step", type=float, default=0.6, help="vertex spacing of the redrawn roads (m)")
    parser.add_argument("--share", type=float, default=1.0, help="share of the arterial roads redrawn")
    args = parser.parse_args(argv)
    logging.getLogger("geo").setLevel(logging.ERROR)
    data = load()
    net = data["settings"].network
    out: dict[str, Any] = {"step_m": args.step, "share": args.share}
    for label, roads in (("as drawn", data["roads"]), ("dense", None)):
        n_dense = 0
        if roads is None:
            roads, n_dense = densify(data["roads"], args.step, args.share)
        t = time.perf_counter()
        graph = gn.build_graph(roads, class_speeds_kmh=net.speeds_kmh, default_speed_kmh=net.default_speed_kmh,
                               snap_tolerance_m=net.snap_tolerance_m, no_access_classes=net.no_access)
        graph_s = time.perf_counter() - t
        _reach(graph, data, _search._EACH_MAX)     # entries and home access, then kept on the graph
        ours, o_wall, o_cpu, o_mb = _reach(graph, data, _search._EACH_MAX)
        base, b_wall, b_cpu, b_mb = _reach(graph, data, 10**9)
        row = {"roads_redrawn": n_dense, "vertices": int(shapely.get_num_coordinates(roads.geometry.values).sum()),
               "nodes": graph.n_nodes, "graph_s": graph_s, "ours_s": o_wall, "ours_cpu_s": o_cpu,
               "ours_peak_mb": o_mb, "baseline_s": b_wall, "baseline_cpu_s": b_cpu, "baseline_peak_mb": b_mb,
               "ratio_cpu": b_cpu / o_cpu if o_cpu > 0 else float("nan"), "identical": _same(ours, base)}
        out[label] = row
        print(f"{label}: {row['roads_redrawn']} arterials redrawn every {args.step:g} m, {row['vertices']:,} "
              f"vertices, {row['nodes']:,} nodes (graph {graph_s:.1f} s)\n"
              f"  ours     {o_wall:6.2f} s wall, {o_cpu:6.2f} s CPU, peak {o_mb:,.0f} MB\n"
              f"  baseline {b_wall:6.2f} s wall, {b_cpu:6.2f} s CPU, peak {b_mb:,.0f} MB (every entry read)\n"
              f"  ratio {row['ratio_cpu']:.1f}x CPU; results identical: {row['identical']}", flush=True)
    return out


if __name__ == "__main__":
    main()
