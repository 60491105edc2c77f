"""The balance in travel minutes (DESIGN.md "Roads and travel time", "Balance a planner can
defend") against a networkx brute force, and end to end through the CLI.

The brute force (``tests/test_network.py``: every vertex a node, its own snapping, nearest
node and entry nodes by shapely loops, networkx Dijkstra from every home) shares no code
with the product; here it is read at the balance analysis' columns: ``workers_<m>min``,
``workers`` / ``workers_shared`` on the primary horizon, ``area_jobs_<m>min`` (own jobs, the
other workplaces' representative points and the employment points reaching the workplace
within m), ``balance_minute``
and ``theoretical_min_commute_min`` (a linear programme solved by scipy's HiGHS).
"""

from __future__ import annotations

import json
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from pyproj import CRS
from scipy.optimize import linprog
from shapely.geometry import Point

import geo.network as gn
from geo._types import Study
from geo.analysis import balance
from geo.settings import settings_from_dict
from tests.conftest import run_cli
from tests.test_network import TOL, BruteForce, random_study

UPPER = 1.25


def _settings(minutes, minute, *, reach="network", max_access_m=1000.0, cell_m=None):
    cfg = {"layers": {"zones": {"path": "z.gpkg"}, "roads": {"path": "r.gpkg"}},
           "balance": {"radius_m": 500, "radii_m": [500], "workers_per_dwelling": 1.0,
                       "balanced_range": [0.8, UPPER], "reach": reach, "minutes": minutes, "minute": minute},
           "network": {"max_access_m": max_access_m}}
    if cell_m is not None:
        cfg["commuting"] = {"cell_m": cell_m}
    return settings_from_dict(cfg, base_dir=".")


def _study(roads, homes, workers, polys, jobs, emp_xy=None, emp_jobs=None):
    crs = CRS.from_user_input(roads.crs)
    zones = gpd.GeoDataFrame({"zone_id": [f"Z{i}" for i in range(len(polys))],
                              "name": [f"zone {i}" for i in range(len(polys))], "chain": "c",
                              "jobs": jobs, "district_id": "D1"}, geometry=list(polys), crs=crs)
    housing = gpd.GeoDataFrame({"housing_id": [f"H{i}" for i in range(len(homes))], "dwellings": workers},
                               geometry=[Point(xy) for xy in homes], crs=crs)
    employment = None
    if emp_xy is not None:
        employment = gpd.GeoDataFrame({"employment_id": [f"E{i}" for i in range(len(emp_xy))], "jobs": emp_jobs},
                                      geometry=[Point(xy) for xy in emp_xy], crs=crs)
    return Study(crs=crs, zones=zones, housing=housing, employment=employment, roads=roads,
                 network=gn.build_graph(roads, snap_tolerance_m=1.0))


@pytest.mark.parametrize("seed", [*range(8), 1010])    # 1010: a home equally near two nodes
def test_minute_columns_equal_brute_force(seed):
    roads, homes, workers, polys = random_study(seed)
    rng = np.random.default_rng(1000 + seed)
    max_access = 250.0 if seed % 2 else 1000.0
    bf = BruteForce(roads, tol_m=1.0, max_access_m=max_access)
    times = bf.home_times(homes, polys)                     # (H, W)
    finite = np.unique(times[np.isfinite(times) & (times > 0)])
    # round horizons, and times of actual homes (a home exactly at the horizon counts)
    picked = finite[:: max(1, len(finite) // 3)][:3].tolist()
    minutes = sorted({2.0, 5.0, 10.0, *picked})
    jobs = rng.integers(0, 400, len(polys)).astype(float)
    jobs[1] = 0.0
    emp_xy = rng.uniform(-200, 1400, size=(12, 2))
    emp_jobs = rng.integers(1, 80, 12).astype(float)
    study = _study(roads, homes, workers, polys, jobs, emp_xy, emp_jobs)
    result = balance.run(study, _settings(minutes, 5.0, max_access_m=max_access))
    table = result.tables["balance_workplaces"]
    connected = np.array([bool(bf.entries(p)) for p in polys])
    assert not connected[-1]                                  # the polygon far from every road

    for m in minutes:
        col = balance.minute_column(m)
        want = np.array([workers[times[:, w] <= m + TOL].sum() for w in range(len(polys))])
        got = table[col].to_numpy(float)
        np.testing.assert_allclose(got[connected], want[connected], rtol=0, atol=1e-6, err_msg=col)
        assert np.isnan(got[~connected]).all()
    # the primary columns use the primary horizon (5 minutes)
    np.testing.assert_array_equal(table["workers"].to_numpy(float), table["workers_5min"].to_numpy(float))
    within = times <= 5.0 + TOL
    shared = np.zeros(len(polys))
    for h in range(len(homes)):
        ws = np.flatnonzero(within[h])
        if len(ws):
            total = jobs[ws].sum()
            for w in ws:
                shared[w] += workers[h] * (jobs[w] / total if total > 0 else 1 / len(ws))
    np.testing.assert_allclose(table["workers_shared"].to_numpy(float)[connected], shared[connected], atol=1e-5)
    assert table.loc[~connected, "balance_class"].isna().all()
    # area jobs: own + the other workplaces (at a point inside each) and the employment
    # points whose travel time to the workplace, as a home's, is within m
    reps = [p.representative_point() for p in polys]
    rep_times = bf.home_times(np.array([(q.x, q.y) for q in reps]), polys)
    emp_times = bf.home_times(emp_xy, polys)

    def area_jobs(w, m):
        own = jobs[w] + sum(jobs[j] for j in range(len(polys)) if j != w and rep_times[j, w] <= m + TOL)
        return own + emp_jobs[emp_times[:, w] <= m + TOL].sum()

    for m in minutes:
        got = table[balance.minute_column(m, "area_jobs")].to_numpy(float)
        want = np.array([area_jobs(w, m) for w in range(len(polys))])
        np.testing.assert_allclose(got[connected], want[connected], atol=1e-6)
    # the balance minute: first 5-minute step up to 90 at which area jobs / workers <= upper
    for w in np.flatnonzero(connected):
        first = None
        for m in np.arange(5.0, 90.1, 5.0):
            wk = workers[times[:, w] <= m + TOL].sum()
            if wk > 0 and area_jobs(w, m) / wk <= UPPER:
                first = m
                break
        got = table["balance_minute"].iloc[w]
        assert (np.isnan(got) if first is None else got == first), (w, got, first)
    # the straight-line columns stay beside them
    assert {"workers_500", "area_jobs_500", "balance_radius_m"} <= set(table.columns)
    iso = result.tables["balance_isochrones"]
    assert list(iso["workplace_id"]) == [f"Z{i}" for i in np.flatnonzero(connected)]
    assert all(g.covers(polys[i]) for g, i in zip(iso.geometry, np.flatnonzero(connected)))
    assert result.summary["reach"] == "network" and result.summary["workplaces_connected"] == connected.sum()


def _bf_min_commute(bf: BruteForce, polys, jobs, homes, workers, cell_m=1000.0) -> float:
    """Least mean travel time of the potential transportation problem, by linprog."""
    cells = {}
    for (x, y), w in zip(homes, workers):
        key = (math.floor(x / cell_m), math.floor(y / cell_m))
        cells[key] = cells.get(key, 0.0) + w
    keys = [k for k, v in cells.items() if v > 0]
    centres = np.array([((i + 0.5) * cell_m, (j + 0.5) * cell_m) for i, j in keys])
    supply = np.array([cells[k] for k in keys])
    use = [w for w, p in enumerate(polys) if bf.entries(p) and jobs[w] > 0]
    cost = bf.home_times(centres, [polys[w] for w in use])
    rows = np.isfinite(cost).any(axis=1)
    cols = np.isfinite(cost).any(axis=0)
    cost, supply, demand = cost[np.ix_(rows, cols)], supply[rows], jobs[use][cols]
    assert np.isfinite(cost).all()          # one connected network in this case
    scale = min(supply.sum(), demand.sum())
    supply, demand = supply * scale / supply.sum(), demand * scale / demand.sum()
    n, m = cost.shape
    a_eq = np.vstack([np.kron(np.eye(n), np.ones(m)), np.kron(np.ones(n), np.eye(m))])
    res = linprog(cost.ravel(), A_eq=a_eq, b_eq=np.concatenate([supply, demand]), method="highs")
    assert res.success
    return res.fun / scale


def test_theoretical_min_commute_in_minutes_equals_linprog():
    roads, homes, workers, polys = random_study(3)
    # keep the connected part: the grid and its workplaces (the island and the far box out)
    polys = polys[:-2]
    homes = homes[:-2]
    workers = workers[:-2]
    bf = BruteForce(roads, tol_m=1.0)
    jobs = np.linspace(50, 300, len(polys))
    study = _study(roads, homes, workers, polys, jobs)
    result = balance.run(study, _settings([5, 10], 5.0))
    want = _bf_min_commute(bf, polys, jobs, homes, workers)
    assert result.summary["theoretical_min_commute_min"] == pytest.approx(want, rel=1e-9)


def test_theoretical_min_commute_uses_the_commuting_cell_size():
    """DESIGN.md "Commuting": the balance's potential problem is the commuting's problem on
    potential flows, so its home cells are ``commuting.cell_m`` (here 400 m) even without an
    OD table, in minutes and in metres alike."""
    from geo.analysis.balance._potential import theoretical_min_commute

    roads, homes, workers, polys = random_study(3)
    polys, homes, workers = polys[:-2], homes[:-2], workers[:-2]
    bf = BruteForce(roads, tol_m=1.0)
    jobs = np.linspace(50, 300, len(polys))
    study = _study(roads, homes, workers, polys, jobs)
    result = balance.run(study, _settings([5, 10], 5.0, cell_m=400.0))
    s = result.summary
    assert s["theoretical_min_commute_min_cell_m"] == 400.0 and s["theoretical_min_commute_cell_m"] == 400.0
    want = _bf_min_commute(bf, polys, jobs, homes, workers, cell_m=400.0)
    assert want != pytest.approx(_bf_min_commute(bf, polys, jobs, homes, workers), rel=1e-6)   # it matters here
    assert s["theoretical_min_commute_min"] == pytest.approx(want, rel=1e-9)
    straight = theoretical_min_commute(np.asarray(polys, dtype=object), jobs, np.asarray(homes)[:, 0],
                                       np.asarray(homes)[:, 1], np.asarray(workers, dtype=float), cell_m=400.0)
    assert s["theoretical_min_commute_m"] == straight.mean_m


def test_euclidean_reach_keeps_straight_primary_columns_and_adds_minutes():
    roads, homes, workers, polys = random_study(5)
    jobs = np.full(len(polys), 100.0)
    study = _study(roads, homes, workers, polys, jobs)
    net = balance.run(study, _settings([5, 10], 5.0))
    euc = balance.run(study, _settings([5, 10], 5.0, reach="euclidean"))
    t_net, t_euc = net.tables["balance_workplaces"], euc.tables["balance_workplaces"]
    np.testing.assert_array_equal(t_euc["workers"], t_euc["workers_500"])
    np.testing.assert_array_equal(t_euc["workers_10min"].fillna(-1), t_net["workers_10min"].fillna(-1))
    np.testing.assert_array_equal(t_net["workers"].fillna(-1), t_net["workers_5min"].fillna(-1))
    assert euc.summary["reach"] == "euclidean" and net.summary["reach"] == "network"
    assert list(t_net.columns) == list(t_euc.columns)


def test_minute_column_names():
    assert balance.minute_column(30) == "workers_30min"
    assert balance.minute_column(7.5, "area_jhr") == "area_jhr_7.5min"


@pytest.mark.slow
def test_cli_balance_in_minutes_on_the_sample(small_study, tmp_path):
    out = tmp_path / "maps"
    proc = run_cli("run", "-c", small_study, "-o", out, "--only", "balance", "-q")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    table = pd.read_csv(out / "tables" / "balance_workplaces.csv", encoding="utf-8-sig")
    for m in (15, 30, 45):
        assert {f"workers_{m}min", f"area_jobs_{m}min", f"area_jhr_{m}min"} <= set(table.columns)
    assert "balance_minute" in table.columns
    manifest = json.loads((out / "run.json").read_text(encoding="utf-8"))
    summary = manifest["summary"]["balance"] if "balance" in manifest["summary"] else manifest["summary"]
    assert manifest["reach"] == "network"
    assert summary["theoretical_min_commute_min"] > 0
    # the sample shuts motorways and expressways to access: fewer nodes may be joined
    assert manifest["parameters"]["network"]["no_access_classes"] == ["motorway", "expressway"]
    assert 0 < manifest["network"]["joinable_nodes"] < manifest["network"]["nodes"]
    # the primary columns are those of balance.minute, and straight line and roads disagree
    minute = manifest["parameters"]["balance"]["minute"]
    np.testing.assert_array_equal(table["workers"], table[f"workers_{minute:g}min"])
    assert not np.allclose(table["workers_5000"], table["workers_30min"])
    straight_rank = table["workers_5000"].rank().to_numpy()
    road_rank = table["workers_15min"].rank().to_numpy()
    assert (straight_rank != road_rank).any()
    layers = {name for name, _ in pyogrio.list_layers(out / "qgis" / "zoneatlas.gpkg")}
    assert {"roads", "balance_isochrones"} <= layers
    iso = pyogrio.read_dataframe(out / "qgis" / "zoneatlas.gpkg", layer="balance_isochrones")
    assert len(iso) == table[f"workers_{minute:g}min"].notna().sum()
    page = (out / "balance.html").read_text(encoding="utf-8")
    assert '"ringLayer": "isochrones"' in page or '"ringLayer":"isochrones"' in page
    assert "za-l-roads" in page or '"id": "roads"' in page or '"id":"roads"' in page


def test_own_jobs_count_once_when_the_own_point_needs_a_search():
    """A long zone whose representative point's nearest node lies outside it: the point
    reaches the zone faster over a motorway to a node inside (2.19 min) than by walking
    from that node (3.0 min); at 2.5 minutes its own jobs count once, not twice."""
    from shapely.geometry import LineString, box

    roads = gpd.GeoDataFrame({"road_id": ["R1"], "class": ["motorway"]},
                             geometry=[LineString([(500, 200), (990, 50)])], crs="EPSG:3857")
    zone = box(0, 0, 1000, 100)
    assert tuple(zone.representative_point().coords[0]) == (500.0, 50.0)
    homes = np.array([[990.0, 60.0]])
    study = _study(roads, homes, np.array([10.0]), [zone], np.array([70.0]))
    table = balance.run(study, _settings([2.5], 2.5)).tables["balance_workplaces"]
    assert table["area_jobs_2.5min"].iloc[0] == 70.0
    assert table["workers_2.5min"].iloc[0] == 10.0
