"""Tests written for hand-planted mutants of the chains analysis (geo/analysis/chains) and
of the balance in minutes (geo/analysis/balance/_network.py, _mincommute.py) that survived
the existing tests (docs/mutation-survivors.md, "chains and the balance in minutes, planted
by hand"). Each checks a real outcome: values computed by hand on a tiny drawn study, a
plain loop applying DESIGN.md's definitions literally, or the networkx brute force of
tests/test_network.py.
"""

from __future__ import annotations

from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo._types import Study
from geo.analysis import chains as ch

CRS = "EPSG:3857"


def _cfg(reach_m: float = 5000.0):
    return SimpleNamespace(chains=SimpleNamespace(reach_m=reach_m, reach_min=45.0),
                           core_periphery=SimpleNamespace(weights={"jobs": 1, "output": 1}),
                           study=SimpleNamespace(language="en"))


def _sq(x: float, y: float, side: float = 1000.0):
    return shapely.box(x, y, x + side, y + side)


# ---------------------------------------------------------------------------
# chains: a study with two leaders, firms in three districts (one without), three chains
#
# chain A: Z1 rd (0, 0) D1, Z2 manufacturing (3 km east) D2; firms L1 leader at (500, 500) D1,
#          F2 terminal at (1500, 500) D1, F3 manufacturing at (3500, 500) D2, F4 supporting at
#          (2000, 2000) without a district and without jobs, F5 rd 40 km east (out of reach)
# chain B: Z3 terminal (0, 10 km north) D1; L2 leader at (500, 10500)
# chain C: Z4 rd (0, 20 km north) D1; no firms
# reach 5 km straight; 1 km squares.

def _leader_study() -> Study:
    zones = gpd.GeoDataFrame({
        "zone_id": ["Z1", "Z2", "Z3", "Z4"], "name": ["a1", "a2", "b1", "c1"],
        "chain": ["A", "A", "B", "C"], "role": ["rd", "manufacturing", "terminal", "rd"],
        "jobs": [1000.0, 500.0, 300.0, 200.0], "output": [10.0, 5.0, 3.0, 2.0],
        "district_id": ["D1", "D2", "D1", "D1"],
    }, geometry=[_sq(0, 0), _sq(3000, 0), _sq(0, 10000), _sq(0, 20000)], crs=CRS)
    firms = gpd.GeoDataFrame({
        "firm_id": ["L1", "F2", "F3", "F4", "F5", "L2"],
        "name": ["lead a", "f2", "f3", "f4", "f5", "lead b"],
        "chain": ["A", "A", "A", "A", "A", "B"],
        "tier": ["leader", "sme", "key", "sme", "sme", "leader"],
        "jobs": [800.0, 20.0, 50.0, np.nan, 5.0, 100.0],
        "role": ["rd", "terminal", "manufacturing", "supporting", "rd", "terminal"],
        "zone_id": ["Z1", None, "Z2", None, None, "Z3"],
        "district_id": ["D1", "D1", "D2", None, "D1", "D1"],
    }, geometry=[shapely.Point(500, 500), shapely.Point(1500, 500), shapely.Point(3500, 500),
                 shapely.Point(2000, 2000), shapely.Point(40000, 0), shapely.Point(500, 10500)], crs=CRS)
    return Study(crs=zones.crs, zones=zones, firms=firms)


def test_leader_reach_and_summary_by_hand():
    res = ch.run(_leader_study(), _cfg(5000.0))
    lf = res.tables["leader_firms"].set_index("firm_id")
    # L1: F2 (1 km), F3 (3 km), F4 (2.1 km) within 5 km, F5 (39.5 km) not; itself excluded
    assert lf.loc["L1", "firms_within"] == 3
    assert lf.loc["L1", "jobs_within"] == pytest.approx(20.0 + 50.0 + 0.0)     # F4's missing jobs count 0
    # of those, only F3 lies in another district (F4 has none: not counted)
    assert lf.loc["L1", "firms_other_district"] == 1
    assert lf.loc["L1", "zones_within"] == 2                                   # Z1 (inside), Z2 (2.5 km)
    assert lf.loc["L2", "firms_within"] == 0 and lf.loc["L2", "zones_within"] == 1
    s = res.summary
    assert s["leader_firms_n"] == 2
    assert s["mean_firms_within_per_leader"] == pytest.approx((3 + 0) / 2)
    # firms in another district / all firms within reach of a leader: 1 / 3 (not / leaders)
    assert s["share_within_other_district"] == pytest.approx(round(1 / 3, 4))
    # A has rd, manufacturing, terminal (F2), supporting (F4): complete; B and C are not
    comp = res.tables["chain_completeness"].set_index("chain")
    assert comp["roles_missing"].isna().tolist() == [True, False, False]
    assert s["complete_chains"] == 1


@pytest.mark.parametrize("seed", range(4))
def test_reach_pairs_in_groups_equal_a_plain_loop_sorted_by_i_then_j(seed):
    """``Reach.pairs`` with groups: exactly the same-group pairs within reach_m (boundary to
    boundary, inclusive), listed by i then j as documented, for points and for polygons."""
    rng = np.random.default_rng(seed)
    na, nb, reach_m = 25, 30, 1500.0
    xa, xb = rng.uniform(0, 6000, (na, 2)), rng.uniform(0, 6000, (nb, 2))
    ga, gb = rng.integers(0, 3, na), rng.integers(0, 3, nb)
    for kind in ("points", "polygons"):
        if kind == "points":
            a = shapely.points(xa)
            b = shapely.points(xb)
        else:
            a = np.array([_sq(x, y, 300.0) for x, y in xa], dtype=object)
            b = np.array([_sq(x, y, 200.0) for x, y in xb], dtype=object)
        want = [(i, j) for i in range(na) for j in range(nb)
                if ga[i] == gb[j] and shapely.distance(a[i], b[j]) <= reach_m]
        ia, ib = ch.Reach(reach_m).pairs(a, b, ga, gb)
        assert list(zip(ia.tolist(), ib.tolist())) == want, kind


def test_a_district_without_jobs_has_no_top_chain():
    """chain_lq: a district whose zones have no jobs has no shares, no location quotient,
    no Krugman index and no top chain (not the first chain with 0)."""
    zones = gpd.GeoDataFrame({
        "zone_id": ["Z1", "Z2", "Z3", "Z4"], "chain": ["A", "B", "A", "B"],
        "jobs": [300.0, 100.0, 0.0, 0.0], "district_id": ["D1", "D1", "D2", "D2"],
    }, geometry=[_sq(0, 0), _sq(2000, 0), _sq(4000, 0), _sq(6000, 0)], crs=CRS)
    lq, spec = ch.chain_lq(zones)
    spec = spec.set_index("district_id")
    # D1 holds every job: its shares equal the study's, lq 1 for both chains, Krugman 0
    assert lq[lq["district_id"] == "D1"]["lq"].tolist() == pytest.approx([1.0, 1.0])
    assert spec.loc["D1", "krugman"] == pytest.approx(0.0)
    assert spec.loc["D1", "top_chain"] == "A" and spec.loc["D1", "top_lq"] == pytest.approx(1.0)
    assert lq[lq["district_id"] == "D2"]["lq"].isna().all()
    assert np.isnan(spec.loc["D2", "krugman"])
    assert pd.isna(spec.loc["D2", "top_chain"]) and np.isnan(spec.loc["D2", "top_lq"])
    assert spec.loc["D2", "n_chains"] == 0


# ---------------------------------------------------------------------------
# balance in minutes: one straight road at 60 km/h (1 km a minute), a workplace around its
# west end, a home of 10 workers on that node (0 minutes) and one of 100 workers on the east
# end, ``far_km`` minutes away; 100 jobs. area jobs / workers = 10 until the far home counts,
# then 100 / 110 <= 1.25: the balance minute is the first 5-minute step >= far_km. A second
# workplace lies 5 km from every road (not connected).

def _line_balance(far_km: float, minutes, primary):
    from shapely.geometry import LineString, Point

    import geo.network as gn
    from geo.analysis import balance
    from tests.test_balance_network import _settings

    roads = gpd.GeoDataFrame({"road_id": ["R1"], "speed_kmh": [60.0]},
                             geometry=[LineString([(0.0, 0.0), (far_km * 1000.0, 0.0)])], crs=CRS)
    zones = gpd.GeoDataFrame({"zone_id": ["Z0", "Z1"], "name": ["on the road", "off the roads"],
                              "chain": "c", "jobs": [100.0, 50.0], "district_id": "D1"},
                             geometry=[shapely.box(-50, -50, 50, 50), shapely.box(0, 5000, 100, 5100)], crs=CRS)
    housing = gpd.GeoDataFrame({"housing_id": ["H0", "H1"], "dwellings": [10.0, 100.0]},
                               geometry=[Point(0.0, 0.0), Point(far_km * 1000.0, 0.0)], crs=CRS)
    study = Study(crs=zones.crs, zones=zones, housing=housing, roads=roads,
                  network=gn.build_graph(roads, snap_tolerance_m=1.0))
    return balance.run(study, _settings(minutes, primary))


@pytest.mark.parametrize("far_km, want", [(27.0, 30.0), (42.0, 45.0), (87.0, 90.0)])
def test_balance_minute_by_hand_before_and_beyond_the_reported_horizons(far_km, want):
    """The balance minute is searched in 5-minute steps up to 90 (inclusive): within the
    reported horizons (30) and beyond them (45, and 90, the last step)."""
    res = _line_balance(far_km, [15, 30], 15)
    table = res.tables["balance_workplaces"].set_index("workplace_id")
    assert table.loc["Z0", "balance_minute"] == want
    assert table.loc["Z0", "workers_15min"] == 10.0
    assert table.loc["Z0", "workers_30min"] == (110.0 if far_km <= 30 else 10.0)
    assert res.summary["balance_minute_reached"] == 1
    assert res.summary["balance_minute_median"] == want


def test_unconnected_workplace_has_empty_minute_columns_and_the_isochrone_counts_the_primary_horizon():
    """DESIGN.md: a workplace with no entry node is not connected, its network columns are
    empty (area jobs included); the isochrone layer's workers are those of the primary
    horizon (15 minutes: the near home only), not of the largest one."""
    res = _line_balance(27.0, [15, 30], 15)
    table = res.tables["balance_workplaces"].set_index("workplace_id")
    for col in ("workers_15min", "workers_30min", "area_jobs_15min", "area_jobs_30min",
                "area_jhr_15min", "area_jhr_30min", "balance_minute"):
        assert np.isnan(table.loc["Z1", col]), col
    assert table.loc["Z0", "area_jobs_15min"] == 100.0 and table.loc["Z0", "area_jobs_30min"] == 100.0
    iso = res.tables["balance_isochrones"]
    assert iso["workplace_id"].tolist() == ["Z0"]
    assert iso["minute"].tolist() == [15.0] and iso["workers"].tolist() == [10.0]
