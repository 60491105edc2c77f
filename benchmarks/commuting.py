"""Benchmark of observed commuting: a million OD rows with the metro sample.

Usage::

    python benchmarks/commuting.py [--scale metro|city] [--rows 1000000] [--roads] [--cache DIR]

The OD table: the sample's own gravity-model flows (``layers/commuting.csv``), resampled
with replacement to ``--rows`` rows, each home end moved uniformly within ±500 m (so that
practically every home end is distinct: the worst case for the loader's deduplication of
ends), written as a lon/lat CSV like the sample's. Timed in this process:

* **load** – reading and checking the OD table as ``load_study`` does it (CSV parsing,
  checks, reprojection, the study-extent check: ``geo.layers._commuting``), timed alone;
* **write** – the commuting tables as a run writes them (CSV files and GeoPackage layers);
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
    t0 = time.perf_counter()
    report = _Report()
    flows = load_flows(settings.layers.commuting, config.parent, report)
    frame = finish_flows(flows, study.crs, study.zones.total_bounds, report)
    out["load_added_s"] = round(time.perf_counter() - t0, 2)
    assert frame is not None and len(frame) == args.rows, report.problems

    t0 = time.perf_counter()
    import ot  # noqa: F401 - a whole run imports it in the balance step already
    out["import_ot_s"] = round(time.perf_counter() - t0, 2)
    t0 = time.perf_counter()
    result = commuting.run(study, settings)
    out["analysis_s"] = round(time.perf_counter() - t0, 2)
    s = result.summary
    out["summary"] = {k: s[k] for k in ("flows", "commuters", "share_within_5km", "t_obs", "t_min", "t_max",
                                         "excess_commuting", "commuting_potential_used", "cell_m", "t_cells",
                                         "t_workplaces")}
    import tempfile

    import pyogrio

    from geo.pipeline import write_tables

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        write_tables(Path(tmp) / "tables", study.__class__(crs=study.crs, zones=study.zones), {"commuting": result})
        for name, table in result.tables.items():
            pyogrio.write_dataframe(table, Path(tmp) / "c.gpkg", layer=name)
        out["write_s"] = round(time.perf_counter() - t0, 2)
    out["rows_written"] = {k: len(v) for k, v in result.tables.items()}
    out["added_to_a_run_s"] = round(out["load_added_s"] + out["analysis_s"] + out["write_s"], 2)

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
    t0 = time.perf_counter()
    min_mean_cost(cost, obs.sum(1), obs.sum(0))
    max_mean_cost(cost, obs.sum(1), obs.sum(0))
    out["transport_s"] = round(time.perf_counter() - t0, 2)
    out["transport_size"] = f"{len(cx)} cells x {len(used)} workplaces (max {MAX_PAIRS:,} pairs)"
    out["baseline"] = transport_baseline()

    if args.roads:
        settings_r = _settings(config, od, True)
        study_r = load_study(settings_r)
        t0 = time.perf_counter()
        res_r = commuting.run(study_r, settings_r)
        out["analysis_roads_s"] = round(time.perf_counter() - t0, 2)
        out["summary_roads"] = {k: res_r.summary.get(k) for k in ("mean_commute_min", "share_within_45min",
                                                                   "share_over_60min", "t_obs", "t_min", "t_max")}
    print(json.dumps(out, indent=1, ensure_ascii=False))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"commuting_{args.scale}.json").write_text(json.dumps(out, indent=1, ensure_ascii=False),
                                                          encoding="utf-8")
    return out


if __name__ == "__main__":
    main()
