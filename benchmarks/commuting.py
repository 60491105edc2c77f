"""Benchmark of observed commuting: a million OD rows with the metro sample.

Usage::

    python benchmarks/commuting.py [--scale metro|city] [--rows 1000000] [--roads] [--cache DIR]

The OD table: the sample's own gravity-model flows (``layers/commuting.csv``), resampled
with replacement to ``--rows`` rows, each home end moved uniformly within ±500 m (so that
practically every home end is distinct: the worst case for the loader's deduplication of
ends), written as a lon/lat CSV like the sample's. Timed in this process, wall and CPU seconds (``time.process_time``; the development machine
is shared, so CPU is the steadier number):

* **load** – reading and checking the OD table as ``load_study`` does it (CSV parsing,
  checks, reprojection, the study-extent check: ``geo.layers._commuting``), timed alone;
* **outputs** – what the result adds to each writer of a run (tables CSV, QGIS package,
  print figure, workbook, web maps): each writer timed on the study's zones, districts and
  innovation districts with and without the commuting result;
* **plain_baseline** – the first steps done the plain way (``pandas.read_csv``,
  ``to_crs``, ``geopandas.sjoin`` on workplaces and districts, ``groupby``), against the
  loader plus the whole analysis (``ratio_cpu``);
* **analysis** – :func:`geo.analysis.commuting.run` (straight line; with ``--roads`` also
  with travel times on the sample's roads);
* **import_ot** – importing POT (it pulls in scikit-learn); a whole run pays it once, in
  the balance step, so it is reported apart from the analysis;
* **transport** – the t_min + t_max transportation problems alone at the size the run
  solves (cells × workplaces), POT's ``ot.emd``; and the baseline on a 300 × 100
  sub-problem: scipy's HiGHS linear programme against ``ot.emd`` on the same matrix (same
  optimum checked).

:func:`main` returns the numbers as a dict.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT, ROOT / "benchmarks"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from _common import RESULTS, cached_sample


def od_table(config: Path, rows: int, seed: int = 0) -> Path:
    """The ``rows``-row OD CSV beside the sample (written once)."""
    from pyproj import Transformer

    out = config.parent / "layers" / f"commuting_{rows}.csv"
    if out.exists():
        return out
    od = pd.read_csv(config.parent / "layers" / "commuting.csv")
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(od), rows)
    big = od.iloc[pick].reset_index(drop=True)
    to_xy = Transformer.from_crs("EPSG:4326", "EPSG:4544", always_xy=True)
    to_ll = Transformer.from_crs("EPSG:4544", "EPSG:4326", always_xy=True)
    x, y = to_xy.transform(big["home_lon"].to_numpy(), big["home_lat"].to_numpy())
    lon, lat = to_ll.transform(x + rng.uniform(-500, 500, rows), y + rng.uniform(-500, 500, rows))
    big["home_lon"], big["home_lat"] = np.round(lon, 6), np.round(lat, 6)
    big.to_csv(out, index=False, lineterminator="\n")
    return out


def _settings(config: Path, od: Path | None, roads: bool):
    from geo.settings import load_settings

    s = load_settings(config)
    if od is None:
        s.layers.commuting = None
    else:
        s.layers.commuting.path = od
    if not roads:
        s.layers.roads = None
    return s


def transport_baseline(seed: int = 0) -> dict[str, Any]:
    """HiGHS vs ot.emd on a 300 × 100 problem (same optimum)."""
    from scipy import sparse
    from scipy.optimize import linprog

    from geo.analysis._transport import solve_transport

    rng = np.random.default_rng(seed)
    n, m = 300, 100
    cost = rng.uniform(0, 30_000, (n, m))
    supply = rng.integers(1, 100, n).astype(float)
    demand = rng.uniform(0.5, 1.5, m)
    demand *= supply.sum() / demand.sum()
    t0 = time.perf_counter()
    _, ours = solve_transport(cost, supply, demand)
    t_ours = time.perf_counter() - t0
    rows = sparse.vstack([sparse.kron(sparse.eye(n), np.ones((1, m))), sparse.kron(np.ones((1, n)), sparse.eye(m))])
    t0 = time.perf_counter()
    res = linprog(cost.ravel(), A_eq=rows.tocsr(), b_eq=np.concatenate([supply, demand]), bounds=(0, None),
                  method="highs")
    t_highs = time.perf_counter() - t0
    return {"size": f"{n} x {m}", "ours_s": round(t_ours, 4), "highs_s": round(t_highs, 3),
            "ratio": round(t_highs / max(t_ours, 1e-9), 1),
            "same_optimum": bool(abs(res.fun - ours) <= 1e-6 * max(abs(ours), 1.0))}


def _timed(fn) -> tuple[Any, float, float]:
    """``(result, wall s, CPU s of this process)``."""
    c0, w0 = time.process_time(), time.perf_counter()
    result = fn()
    return result, round(time.perf_counter() - w0, 2), round(time.process_time() - c0, 2)


def plain_baseline(od: Path, study) -> dict[str, Any]:
    """The same first steps done the plain way: ``pandas.read_csv``, GeoSeries of the ends,
    ``to_crs``, ``geopandas.sjoin`` of the work ends on the workplaces and of both ends on
    the districts, and ``groupby`` sums per workplace (not the whole analysis)."""
    import geopandas as gpd

    from geo.analysis.balance import workplaces_from

    def run() -> int:
        f = pd.read_csv(od)
        home = gpd.GeoDataFrame(f[["commuters"]], geometry=gpd.points_from_xy(f["home_lon"], f["home_lat"]),
                                crs="EPSG:4326").to_crs(study.crs)
        work = gpd.GeoDataFrame(f[["commuters"]], geometry=gpd.points_from_xy(f["work_lon"], f["work_lat"]),
                                crs="EPSG:4326").to_crs(study.crs)
        wp = workplaces_from(study.zones, study.innovation_districts)[["workplace_id", "geometry"]]
        j = gpd.sjoin(work, wp, how="left", predicate="intersects")
        j = j[~j.index.duplicated()]
        d = study.districts[["district_id", "geometry"]]
        hd = gpd.sjoin(home, d, how="left", predicate="intersects")
        wd = gpd.sjoin(work, d, how="left", predicate="intersects")
        length = home.distance(work)
        per = pd.DataFrame({"wp": j["workplace_id"], "w": f["commuters"], "wl": f["commuters"] * length})
        per.groupby("wp")[["w", "wl"]].sum()
        return len(hd) + len(wd)

    _, wall, cpu = _timed(run)
    return {"what": "read_csv + to_crs + sjoin (workplaces, districts) + groupby", "wall_s": wall, "cpu_s": cpu}


def output_costs(study, settings, result) -> dict[str, Any]:
    """What the commuting result adds to each writer of a run: every writer run on the
    study's zones, districts and innovation districts with and without the result."""
    import dataclasses
    import tempfile
    from datetime import datetime, timezone

    from geo.figures import write_figures
    from geo.pipeline import build_manifest, write_tables
    from geo.qgis import write_qgis_package
    from geo.webmap import write_maps
    from geo.workbook import run_tables, write_workbook

    base = dataclasses.replace(study, housing=None, firms=None, population=None, landuse=None, employment=None,
                               employment_raster=None, roads=None, network=None, commuting=None)
    out: dict[str, Any] = {}
    for label, st, res in (("without", base, {}),
                           ("with", dataclasses.replace(base, commuting=study.commuting), {"commuting": result})):
        with tempfile.TemporaryDirectory() as tmp:
            d = Path(tmp)
            man = build_manifest(st, settings, res, started=datetime.now(timezone.utc), timings={},
                                 only=list(res) or ["core_periphery"])
            for name, fn in (("tables", lambda: write_tables(d / "tables", st, res)),
                             ("qgis", lambda: write_qgis_package(d / "qgis", st, res, settings)),
                             ("figures", lambda: write_figures(d / "figures", st, res, settings, man)),
                             ("workbook", lambda: write_workbook(d / "t.xlsx", run_tables(st, res),
                                                                settings.study.language)),
                             ("maps", lambda: write_maps(d / "maps", st, res, settings, man))):
                _, wall, cpu = _timed(fn)
                out.setdefault(name, {})[label] = [wall, cpu]
    return {k: {"added_wall_s": round(v["with"][0] - v["without"][0], 2),
                "added_cpu_s": round(v["with"][1] - v["without"][1], 2)} for k, v in out.items()}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", default="metro")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--roads", action="store_true", help="also time the analysis with travel times")
    parser.add_argument("--cache", type=Path, default=None)
    args = parser.parse_args(argv)

    from geo.analysis import commuting
    from geo.analysis.commuting._excess import MAX_PAIRS, cell_index
    from geo.layers import load_study

    config = cached_sample(args.scale, cache=args.cache)
    od = od_table(config, args.rows)
    out: dict[str, Any] = {"scale": args.scale, "rows": args.rows}

    from geo.layers._commuting import finish_flows, load_flows
    from geo.layers._report import _Report

    settings = _settings(config, od, False)
    study = load_study(settings)

    def load():
        report = _Report()
        flows = load_flows(settings.layers.commuting, config.parent, report)
        return finish_flows(flows, study.crs, study.zones.total_bounds, report), report

    (frame, report), wall, cpu = _timed(load)
    out["load"] = {"wall_s": wall, "cpu_s": cpu}
    assert frame is not None and len(frame) == args.rows, report.problems

    _, out["import_ot_s"], _ = _timed(lambda: __import__("ot"))  # a whole run imports it in the balance step
    result, wall, cpu = _timed(lambda: commuting.run(study, settings))
    out["analysis"] = {"wall_s": wall, "cpu_s": cpu}
    s = result.summary
    out["summary"] = {k: s[k] for k in ("flows", "commuters", "share_within_5km", "t_obs", "t_min", "t_max",
                                         "excess_commuting", "commuting_potential_used", "cell_m", "t_cells",
                                         "t_workplaces")}
    out["outputs"] = output_costs(study, settings, result)
    out["rows_written"] = {k: len(v) for k, v in result.tables.items()}
    writers = out["outputs"]
    out["added_to_a_run"] = {
        "wall_s": round(out["load"]["wall_s"] + out["analysis"]["wall_s"]
                        + sum(v["added_wall_s"] for v in writers.values()), 2),
        "cpu_s": round(out["load"]["cpu_s"] + out["analysis"]["cpu_s"]
                       + sum(v["added_cpu_s"] for v in writers.values()), 2),
        "of_which_load_and_analysis_cpu_s": round(out["load"]["cpu_s"] + out["analysis"]["cpu_s"], 2)}
    base = plain_baseline(od, study)
    out["plain_baseline"] = base
    out["plain_baseline"]["ratio_cpu"] = round(base["cpu_s"] / max(out["load"]["cpu_s"] + out["analysis"]["cpu_s"],
                                                                   1e-9), 1)

    # the transportation problems alone, at the size the run solved
    from geo.analysis._transport import max_mean_cost, min_mean_cost
    from geo.analysis.balance import workplaces_from
    from geo.analysis.balance._potential import point_polygon_distances

    geoms = workplaces_from(study.zones, study.innovation_districts).geometry.to_numpy()
    a = commuting.assign(study.commuting, geoms, None, max_access_m=1000.0)
    sel = a.workplace >= 0
    used, wpos = np.unique(a.workplace[sel], return_inverse=True)
    pos, cx, cy = cell_index(study.commuting["home_x"].to_numpy()[sel], study.commuting["home_y"].to_numpy()[sel],
                             float(s["cell_m"]))
    w = study.commuting["commuters"].to_numpy()[sel]
    obs = np.bincount(pos * len(used) + wpos.ravel(), weights=w, minlength=len(cx) * len(used)).reshape(len(cx), -1)
    cost = point_polygon_distances(cx, cy, geoms[used])
    _, wall, cpu = _timed(lambda: (min_mean_cost(cost, obs.sum(1), obs.sum(0)),
                                   max_mean_cost(cost, obs.sum(1), obs.sum(0))))
    out["transport"] = {"wall_s": wall, "cpu_s": cpu,
                        "size": f"{len(cx)} cells x {len(used)} workplaces (max {MAX_PAIRS:,} pairs)"}
    out["baseline"] = transport_baseline()

    if args.roads:
        settings_r = _settings(config, od, True)
        study_r = load_study(settings_r)
        res_r, wall, cpu = _timed(lambda: commuting.run(study_r, settings_r))
        out["analysis_roads"] = {"wall_s": wall, "cpu_s": cpu}
        out["summary_roads"] = {k: res_r.summary.get(k) for k in ("mean_commute_min", "share_within_45min",
                                                                   "share_over_60min", "t_obs", "t_min", "t_max")}
    print(json.dumps(out, indent=1, ensure_ascii=False))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"commuting_{args.scale}.json").write_text(json.dumps(out, indent=1, ensure_ascii=False),
                                                          encoding="utf-8")
    return out


if __name__ == "__main__":
    main()
