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
# chain D: Z5 rd (0, 30 km north) D1, strongest; Z6 and Z7 manufacturing 10 and 20 km east
#          of it (9 and 19 km apart); F6 manufacturing at (15000, 30500)
# reach 5 km straight; 1 km squares.

def _leader_study() -> Study:
    zones = gpd.GeoDataFrame({
        "zone_id": ["Z1", "Z2", "Z3", "Z4", "Z5", "Z6", "Z7"], "name": ["a1", "a2", "b1", "c1", "d1", "d2", "d3"],
        "chain": ["A", "A", "B", "C", "D", "D", "D"],
        "role": ["rd", "manufacturing", "terminal", "rd", "rd", "manufacturing", "manufacturing"],
        "jobs": [1000.0, 500.0, 300.0, 200.0, 900.0, 100.0, 100.0], "output": [10.0, 5.0, 3.0, 2.0, 9.0, 1.0, 1.0],
        "district_id": ["D1", "D2", "D1", "D1", "D1", "D2", "D2"],
    }, geometry=[_sq(0, 0), _sq(3000, 0), _sq(0, 10000), _sq(0, 20000), _sq(0, 30000), _sq(10000, 30000),
                 _sq(20000, 30000)], crs=CRS)
    firms = gpd.GeoDataFrame({
        "firm_id": ["L1", "F2", "F3", "F4", "F5", "L2", "F6"],
        "name": ["lead a", "f2", "f3", "f4", "f5", "lead b", "f6"],
        "chain": ["A", "A", "A", "A", "A", "B", "D"],
        "tier": ["leader", "sme", "key", "sme", "sme", "leader", "sme"],
        "jobs": [800.0, 20.0, 50.0, np.nan, 5.0, 100.0, 10.0],
        "role": ["rd", "terminal", "manufacturing", "supporting", "rd", "terminal", "manufacturing"],
        "zone_id": ["Z1", None, "Z2", None, None, "Z3", None],
        "district_id": ["D1", "D1", "D2", None, "D1", "D1", "D2"],
    }, geometry=[shapely.Point(500, 500), shapely.Point(1500, 500), shapely.Point(3500, 500),
                 shapely.Point(2000, 2000), shapely.Point(40000, 0), shapely.Point(500, 10500),
                 shapely.Point(15000, 30500)], crs=CRS)
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
    # A has rd, manufacturing, terminal (F2), supporting (F4): complete; B, C and D are not
    comp = res.tables["chain_completeness"].set_index("chain")
    assert comp["roles_missing"].isna().tolist() == [True, False, False, False]
    assert s["complete_chains"] == 1


def test_completeness_rank_and_distant_gap_by_hand():
    res = ch.run(_leader_study(), _cfg(5000.0))
    comp = res.tables["chain_completeness"].set_index("chain")
    # A: roles 4/4; spatial: Z1 reaches Z2 (1 of its 3 other roles), Z2 reaches Z1 (1 of 3);
    # leader L1 reaches Z1 and Z2. B: 1/4, spatial empty, L2 inside Z3. C: no leader, 0.
    # D: 2/4, no zone within 5 km of another (0), no leader (0).
    want = {"A": (1.0 * (1 / 3) * 1.0) ** (1 / 3), "B": (0.25 * 1.0) ** 0.5, "C": 0.0, "D": 0.0}
    for c, v in want.items():
        assert comp.loc[c, "completeness"] == pytest.approx(v), c
    assert comp["rank"].to_dict() == {"A": 1, "B": 2, "C": 3, "D": 4}      # 1 = most complete; ties by chain
    assert [r["chain"] for r in res.summary["ranking"]] == ["A", "B", "C", "D"]
    gaps = res.tables["chain_gaps"].set_index(["chain", "role"])
    # D's manufacturing is present but 9 km (Z6), 14 km (F6) and 19 km (Z7) from its top zone Z5
    g = gaps.loc[("D", "manufacturing")]
    assert g["kind"] == "distant" and g["top_zone_id"] == "Z5"
    assert g["nearest_m"] == pytest.approx(9000.0)
    assert sorted(gaps.index[gaps["kind"] == "missing"]) == sorted(
        [("B", r) for r in ("rd", "manufacturing", "supporting")] + [("C", r) for r in ("manufacturing", "terminal", "supporting")]
        + [("D", "terminal"), ("D", "supporting")])
    assert (gaps["kind"] == "distant").sum() == 1


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
# balance in minutes: straight roads at 60 km/h (1 km a minute) 20 km apart (not joined); on
# each, a workplace Zk around its west end with 100 jobs, a home of 10 workers on that node
# (0 minutes) and one of 100 workers on the east end, ``far_km`` minutes away. Area jobs /
# workers = 10 until the far home counts, then 100 / 110 <= 1.25: the balance minute is the
# first 5-minute step >= far_km. Workplace Zoff (50 jobs) and a home of 30 workers lie 5 km
# from every road (not connected).

def _line_study(*fars: float) -> Study:
    from shapely.geometry import LineString, Point

    import geo.network as gn

    ys = [20000.0 * k for k in range(len(fars))]
    roads = gpd.GeoDataFrame({"road_id": [f"R{k}" for k in range(len(fars))], "speed_kmh": 60.0},
                             geometry=[LineString([(0.0, y), (f * 1000.0, y)]) for f, y in zip(fars, ys)], crs=CRS)
    zones = gpd.GeoDataFrame({"zone_id": [*(f"Z{k}" for k in range(len(fars))), "Zoff"],
                              "name": [*(f"line {k}" for k in range(len(fars))), "off the roads"],
                              "chain": "c", "jobs": [*(100.0 for _ in fars), 50.0], "district_id": "D1"},
                             geometry=[*(shapely.box(-50, y - 50, 50, y + 50) for y in ys),
                                       shapely.box(0, 5000, 100, 5100)], crs=CRS)
    homes = [Point(0.0, y) for y in ys] + [Point(f * 1000.0, y) for f, y in zip(fars, ys)] + [Point(50.0, 5050.0)]
    housing = gpd.GeoDataFrame({"housing_id": [f"H{i}" for i in range(len(homes))],
                                "dwellings": [*(10.0 for _ in fars), *(100.0 for _ in fars), 30.0]},
                               geometry=homes, crs=CRS)
    return Study(crs=zones.crs, zones=zones, housing=housing, roads=roads,
                 network=gn.build_graph(roads, snap_tolerance_m=1.0))


def _line_balance(fars, minutes, primary):
    from geo.analysis import balance
    from tests.test_balance_network import _settings

    return balance.run(_line_study(*fars), _settings(minutes, primary))


def test_balance_minute_by_hand_before_and_beyond_the_reported_horizons():
    """The balance minute is searched in 5-minute steps up to 90 (inclusive): within the
    reported horizons (5; 30, the largest of them) and beyond them (45; 90, the last step)."""
    fars = (3.0, 27.0, 42.0, 87.0)
    res = _line_balance(fars, [15, 30], 15)
    table = res.tables["balance_workplaces"].set_index("workplace_id")
    assert table["balance_minute"].tolist()[:4] == [5.0, 30.0, 45.0, 90.0]
    assert np.isnan(table.loc["Zoff", "balance_minute"])
    assert table["workers_15min"].tolist()[:4] == [110.0, 10.0, 10.0, 10.0]
    assert table["workers_30min"].tolist()[:4] == [110.0, 110.0, 10.0, 10.0]
    s = res.summary
    assert s["balance_minute_reached"] == 4 and s["workplaces_connected"] == 4
    assert s["balance_minute_median"] == (30.0 + 45.0) / 2                   # not the mean, 42.5
    assert s["housing_connected_share"] == pytest.approx(4 * 110.0 / (4 * 110.0 + 30.0))



def test_housing_connected_share_is_one_without_resident_workers():
    """docs/outputs.md: with no resident workers, none is left off the roads (1, not 0 / 0)."""
    from geo.analysis import balance
    from tests.test_balance_network import _settings

    study = _line_study(3.0, 27.0)
    study.housing["dwellings"] = 0.0
    res = balance.run(study, _settings([15, 30], 15))
    assert res.summary["housing_connected_share"] == 1.0
    assert (res.tables["balance_workplaces"]["workers_15min"].dropna() == 0).all()

def test_unconnected_workplace_has_empty_minute_columns_and_the_isochrone_counts_the_primary_horizon():
    """DESIGN.md: a workplace with no entry node is not connected, its network columns are
    empty (area jobs included); the isochrone layer's workers are those of the primary
    horizon (15 minutes: the near home only), not of the largest one."""
    res = _line_balance([27.0], [15, 30], 15)
    table = res.tables["balance_workplaces"].set_index("workplace_id")
    for col in ("workers_15min", "workers_30min", "area_jobs_15min", "area_jobs_30min",
                "area_jhr_15min", "area_jhr_30min", "balance_minute"):
        assert np.isnan(table.loc["Zoff", col]), col
    assert table.loc["Z0", "area_jobs_15min"] == 100.0 and table.loc["Z0", "area_jobs_30min"] == 100.0
    iso = res.tables["balance_isochrones"]
    assert iso["workplace_id"].tolist() == ["Z0"]
    assert iso["minute"].tolist() == [15.0] and iso["workers"].tolist() == [10.0]


def test_commute_cells_take_connected_workplaces_with_jobs_and_double_until_they_fit(monkeypatch):
    """The minimum-commute cells (DESIGN.md "Commuting"): workplaces taking part are the
    connected ones with jobs; cells of 1 km are doubled while cells × those workplaces
    exceed MAX_PAIRS (3 here): 7 cells of 1 km, 4 of 2 km, 2 of 4 km (2 × 1 <= 3)."""
    from geo.analysis.balance import _mincommute as mc

    monkeypatch.setattr(mc, "MAX_PAIRS", 3)
    x = np.array([500.0, 1500.0, 2500.0, 3500.0, 4500.0, 5500.0, 6500.0])
    y = np.full(7, 500.0)
    workers = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0])
    jobs = np.array([100.0, 0.0, 0.0, 40.0])
    connected = np.array([True, True, True, False])
    cells = mc.cells_from(x, y, workers, jobs, connected)
    assert cells.used.tolist() == [0] and cells.jobs.tolist() == [100.0]
    assert cells.cell_m == 4000.0
    order = np.argsort(cells.xy[:, 0])
    assert cells.xy[order].tolist() == [[2000.0, 2000.0], [6000.0, 2000.0]]
    assert cells.supply[order].tolist() == [1.0 + 2 + 3 + 4, 5.0 + 6 + 7]


def _cells(supply, jobs):
    from geo.analysis.balance._mincommute import CommuteCells

    n = len(supply)
    return CommuteCells(np.column_stack([np.arange(n) * 1000.0, np.zeros(n)]), np.asarray(supply, float),
                        np.arange(len(jobs)), np.asarray(jobs, float), 1000.0)


def test_min_commute_on_two_network_pieces_by_hand(caplog):
    """Two pieces the roads do not join: cell 0 -> workplace 0 takes 1 minute, cell 1 ->
    workplace 1 takes 2; cell 2 reaches nothing (takes no part). Supplies 10 and 30, demands
    20 and 20: 10 workers of cell 1 must cross to workplace 0, which the optimum does only
    because nothing else balances the totals (a warning). The mean is over the joined flows:
    (10 × 1 + 20 × 2) / 30."""
    from geo.analysis.balance._mincommute import mean_min_commute

    nan = np.nan
    cost = np.array([[1.0, nan], [nan, 2.0], [nan, nan]])
    with caplog.at_level("WARNING"):
        got = mean_min_commute(_cells([10.0, 30.0, 1000.0], [20.0, 20.0]), cost)
    assert got == pytest.approx(50.0 / 30.0)
    assert "does not join" in caplog.text
    # balanced pieces: nobody crosses, each piece keeps its own commute; no warning
    caplog.clear()
    with caplog.at_level("WARNING"):
        got = mean_min_commute(_cells([10.0, 10.0], [10.0, 10.0]), cost[:2])
    assert got == pytest.approx((10.0 * 1 + 10.0 * 2) / 20.0)
    assert "does not join" not in caplog.text


def test_min_commute_never_crosses_pieces_when_joined_pairs_balance_the_totals():
    """A long commute within a piece (100 minutes) beats crossing to the other piece: cells
    0 and 1 ship 10 each to their own workplace, (10 × 5 + 10 × 100) / 20 minutes."""
    from geo.analysis.balance._mincommute import mean_min_commute

    cost = np.array([[5.0, np.nan], [np.nan, 100.0]])
    assert mean_min_commute(_cells([10.0, 10.0], [10.0, 10.0]), cost) == pytest.approx(52.5)


def test_commute_cells_of_a_study_leave_out_the_unconnected_workplace():
    """commute_cells (the run's minimum-commute part): the workplace 5 km from every road
    has jobs but takes no part; the three homes fall in three 1 km cells."""
    from geo.analysis.balance._mincommute import commute_cells
    from tests.test_balance_network import _settings

    cells = commute_cells(_line_study(27.0), _settings([15, 30], 15))
    assert cells.used.tolist() == [0] and cells.jobs.tolist() == [100.0]
    assert cells.cell_m == 1000.0
    assert sorted(cells.supply.tolist()) == [10.0, 30.0, 100.0]      # every home; unreached cells drop later
