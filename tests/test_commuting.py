"""Observed commuting (issue 16): every indicator against a brute force written here in plain
Python loops over the flows (shapely predicates one flow at a time, no product helpers),
t_min / t_max against the linear programme solved by scipy's HiGHS, the loader on the
forms a user gives (GBK CSV, GCJ-02, line layer), the CLI end to end, the map in Chromium
and the GeoPackage / QGIS package."""

from __future__ import annotations

import json
import math
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point, box

from geo._types import Study

CRS = "EPSG:4544"
X0, Y0 = 500_000.0, 3_400_000.0


# ---------------------------------------------------------------------------
# a tiny hand-made study


def tiny_study(flows: pd.DataFrame) -> Study:
    """Two districts (west / east of x = X0 + 10 km), three zones, one innovation district."""
    districts = gpd.GeoDataFrame({"district_id": ["W", "E"], "name": ["西区", "东区"]},
                                 geometry=[box(X0, Y0, X0 + 10_000, Y0 + 10_000),
                                           box(X0 + 10_000, Y0, X0 + 20_000, Y0 + 10_000)], crs=CRS)
    zones = gpd.GeoDataFrame({"zone_id": ["Z1", "Z2", "Z3"], "name": ["甲", "乙", "丙"], "chain": ["c", "c", "c"],
                              "jobs": [100.0, 50.0, 10.0], "district_id": ["W", "W", "E"]},
                             geometry=[box(X0 + 1000, Y0 + 1000, X0 + 3000, Y0 + 3000),
                                       box(X0 + 3000, Y0 + 1000, X0 + 5000, Y0 + 3000),   # shares an edge with Z1
                                       box(X0 + 14_000, Y0 + 6000, X0 + 16_000, Y0 + 8000)], crs=CRS)
    innov = gpd.GeoDataFrame({"innov_id": ["I1"], "name": ["创新"], "chains": ["c"], "jobs": [20.0],
                              "district_id": ["E"]},
                             geometry=[box(X0 + 12_000, Y0 + 1000, X0 + 13_000, Y0 + 2000)], crs=CRS)
    return Study(crs=gpd.GeoSeries([], crs=CRS).crs, zones=zones, districts=districts,
                 innovation_districts=innov, commuting=flows)


def hand_flows() -> pd.DataFrame:
    """Flows chosen to hit every rule, plus random ones."""
    rows = [
        # home                      work                         commuters
        (X0 + 500, Y0 + 500, X0 + 3000, Y0 + 2000, 10),      # work end on the Z1/Z2 edge: Z1 (first)
        (X0 + 2000, Y0 + 7000, X0 + 2000, Y0 + 2000, 4),     # exactly 5000 m long, inside Z1
        (X0 + 2000, Y0 + 7001, X0 + 2000, Y0 + 2000, 3),     # 5001 m: not within 5 km
        (X0 + 9000, Y0 + 9000, X0 + 16_000 + 1000, Y0 + 7000, 5),  # 1000 m east of Z3: Z3 (inclusive)
        (X0 + 9000, Y0 + 9000, X0 + 16_000 + 1000.5, Y0 + 7000, 2),  # 1000.5 m: outside workplaces
        (X0 + 12_500, Y0 + 9000, X0 + 12_500, Y0 + 1500, 6),  # inside I1, home in E
        (X0 + 10_000, Y0 + 5000, X0 + 4000, Y0 + 2000, 7),   # home on the W/E border: W (first listed)
        (X0 + 1500, Y0 + 1500, X0 + 1600, Y0 + 1600, 0),     # zero commuters
    ]
    rng = np.random.default_rng(7)
    for _ in range(40):
        hx, hy = rng.uniform(X0, X0 + 20_000), rng.uniform(Y0, Y0 + 10_000)
        wx, wy = rng.uniform(X0 + 500, X0 + 17_000), rng.uniform(Y0 + 500, Y0 + 8_500)
        rows.append((hx, hy, wx, wy, int(rng.integers(1, 30))))
    f = pd.DataFrame(rows, columns=["home_x", "home_y", "work_x", "work_y", "commuters"])
    f["commuters"] = f["commuters"].astype(float)
    f["row"] = np.arange(1, len(f) + 1)
    return f


SETTINGS = SimpleNamespace(commuting=SimpleNamespace(cell_m=1000.0, top_flows=50))


# ---------------------------------------------------------------------------
# the brute force (independent of geo.analysis)


def brute_force(study: Study, cell_m: float = 1000.0, max_access_m: float = 1000.0):
    wps = [(r.zone_id, r.geometry, r.district_id) for r in study.zones.itertuples()]
    wps += [(r.innov_id, r.geometry, r.district_id) for r in study.innovation_districts.itertuples()]
    dists = [(r.district_id, r.geometry) for r in study.districts.itertuples()]
    per = []
    for f in study.commuting.itertuples():
        work, home = Point(f.work_x, f.work_y), Point(f.home_x, f.home_y)
        wp = None
        for j, (_, g, _) in enumerate(wps):
            if g.covers(work):
                wp = j
                break
        if wp is None:
            best = None
            for j, (_, g, _) in enumerate(wps):
                d = g.distance(work)
                if d <= max_access_m + 1e-6 and (best is None or d < best[0]):
                    best = (d, j)
            wp = None if best is None else best[1]
        hd = next((i for i, (_, g) in enumerate(dists) if g.covers(home)), None)
        wd = next((i for i, (_, g) in enumerate(dists) if g.covers(work)), None)
        length = math.hypot(f.work_x - f.home_x, f.work_y - f.home_y)
        per.append({"wp": wp, "hd": hd, "wd": wd, "len": length, "w": f.commuters,
                    "cell": (math.floor(f.home_x / cell_m), math.floor(f.home_y / cell_m))})
    return wps, dists, per


def test_workplace_table_equals_brute_force():
    from geo.analysis import commuting

    study = tiny_study(hand_flows())
    result = commuting.run(study, SETTINGS)
    wps, _, per = brute_force(study)
    table = result.tables["commuting_workplaces"].set_index("workplace_id")
    for j, (wid, _, _) in enumerate(wps):
        mine = [p for p in per if p["wp"] == j]
        total = sum(p["w"] for p in mine)
        row = table.loc[wid]
        assert row["commuters"] == pytest.approx(total)
        if total == 0:
            assert np.isnan(row["mean_commute_m"]) and np.isnan(row["share_within_5km"])
            continue
        assert row["mean_commute_m"] == pytest.approx(sum(p["w"] * p["len"] for p in mine) / total)
        assert row["share_within_5km"] == pytest.approx(sum(p["w"] for p in mine if p["len"] <= 5000) / total)
        known = [p for p in mine if p["hd"] is not None and p["wd"] is not None]
        same = sum(p["w"] for p in known if p["hd"] == p["wd"])
        assert row["share_same_district"] == pytest.approx(same / sum(p["w"] for p in known))
        assert np.isnan(row["mean_commute_min"]) and np.isnan(row["share_within_45min"])   # no roads


def test_the_edge_cases_are_counted_as_designed():
    from geo.analysis.commuting import assign

    flows = hand_flows()
    study = tiny_study(flows)
    from geo.analysis.balance import workplaces_from

    wp = workplaces_from(study.zones, study.innovation_districts)
    a = assign(flows, wp.geometry.to_numpy(), study.districts.geometry.to_numpy(), max_access_m=1000.0)
    ids = wp["workplace_id"].to_numpy()
    assert ids[a.workplace[0]] == "Z1"            # on the shared edge: the first workplace
    assert a.commute_m[1] == 5000.0 and a.commute_m[2] > 5000.0
    assert ids[a.workplace[3]] == "Z3"            # exactly max_access_m away
    assert a.workplace[4] == -1                   # beyond it
    assert ids[a.workplace[5]] == "I1"
    assert a.home_district[6] == 0                # on the W/E border: the first listed


def test_district_tables_and_flows_equal_brute_force():
    from geo.analysis import commuting

    study = tiny_study(hand_flows())
    result = commuting.run(study, SETTINGS)
    _, dists, per = brute_force(study)
    table = result.tables["commuting_districts"].set_index("district_id")
    for i, (did, _) in enumerate(dists):
        res = sum(p["w"] for p in per if p["hd"] == i)
        job = sum(p["w"] for p in per if p["wd"] == i)
        internal = sum(p["w"] for p in per if p["hd"] == i and p["wd"] == i)
        row = table.loc[did]
        assert (row["resident_commuters"], row["job_commuters"], row["internal"]) == pytest.approx((res, job, internal))
        assert row["self_containment"] == pytest.approx(internal / res)
        assert row["job_self_sufficiency"] == pytest.approx(internal / job)
        assert row["mean_commute_m"] == pytest.approx(sum(p["w"] * p["len"] for p in per if p["hd"] == i) / res)
    flows = result.tables["commuting_flows"]
    expect = {}
    for p in per:
        if p["hd"] is not None and p["wd"] is not None and p["hd"] != p["wd"]:
            key = (dists[p["hd"]][0], dists[p["wd"]][0])
            expect[key] = expect.get(key, 0.0) + p["w"]
    got = {(r.district_a, r.district_b): r.commuters for r in flows.itertuples()}
    assert got == pytest.approx(expect)
    assert list(flows["rank"]) == list(range(1, len(flows) + 1))
    assert flows["commuters"].is_monotonic_decreasing
    assert flows.geom_type.eq("LineString").all()


def test_summary_and_t_obs_equal_brute_force():
    from geo.analysis import commuting

    study = tiny_study(hand_flows())
    result = commuting.run(study, SETTINGS)
    wps, _, per = brute_force(study)
    s = result.summary
    total = sum(p["w"] for p in per)
    assert s["commuters"] == pytest.approx(total)
    assert s["commuters_outside_workplaces"] == pytest.approx(sum(p["w"] for p in per if p["wp"] is None))
    assert s["mean_commute_m"] == pytest.approx(sum(p["w"] * p["len"] for p in per) / total)
    assert s["share_within_5km"] == pytest.approx(sum(p["w"] for p in per if p["len"] <= 5000) / total)
    assigned = [p for p in per if p["wp"] is not None and p["w"] > 0]
    cost = 0.0
    for p in assigned:
        cx, cy = (p["cell"][0] + 0.5) * 1000.0, (p["cell"][1] + 0.5) * 1000.0
        cost += p["w"] * wps[p["wp"]][1].distance(Point(cx, cy))
    t_obs = cost / sum(p["w"] for p in assigned)
    assert s["t_obs"] == pytest.approx(t_obs, abs=0.05)
    assert s["t_min"] <= s["t_obs"] <= s["t_max"]
    assert s["excess_commuting"] == pytest.approx((s["t_obs"] - s["t_min"]) / s["t_obs"])
    assert s["commuting_potential_used"] == pytest.approx((s["t_obs"] - s["t_min"]) / (s["t_max"] - s["t_min"]))
    assert result.tables["commuting_summary"].iloc[0]["t_obs"] == pytest.approx(s["t_obs"])
    n_out = sum(1 for p in per if p["wp"] is None)
    assert any("outside every workplace" in w and f"{n_out} flows" in w for w in result.warnings)


def _lp(cost: np.ndarray, supply: np.ndarray, demand: np.ndarray, sign: float) -> float:
    from scipy.optimize import linprog

    n, m = cost.shape
    a_eq = np.zeros((n + m, n * m))
    for i in range(n):
        a_eq[i, i * m:(i + 1) * m] = 1
    for j in range(m):
        a_eq[n + j, j::m] = 1
    res = linprog(sign * cost.ravel(), A_eq=a_eq, b_eq=np.concatenate([supply, demand]), bounds=(0, None),
                  method="highs")
    assert res.status == 0
    return float(cost.ravel() @ res.x) / float(supply.sum())


@pytest.mark.parametrize("seed", range(6))
def test_t_min_t_max_equal_the_linear_programme(seed):
    from geo.analysis.commuting import excess_commuting

    rng = np.random.default_rng(seed)
    k = int(rng.integers(3, 7))
    geoms = [box(x, y, x + rng.uniform(200, 2000), y + rng.uniform(200, 2000))
             for x, y in zip(rng.uniform(0, 15_000, k), rng.uniform(0, 15_000, k))]
    n = int(rng.integers(10, 60))
    hx, hy = rng.uniform(-2000, 18_000, n), rng.uniform(-2000, 18_000, n)
    wp = rng.integers(0, k, n)
    w = rng.integers(1, 50, n).astype(float)
    cell = float(rng.choice([500.0, 1000.0, 2500.0]))
    ex = excess_commuting(hx, hy, wp, w, np.array(geoms, dtype=object), cell_m=cell)
    # the reference: cells, supplies, demands and costs built one flow at a time
    cells: dict[tuple[int, int], int] = {}
    for x, y in zip(hx, hy):
        cells.setdefault((math.floor(x / cell), math.floor(y / cell)), len(cells))
    used = sorted(set(wp.tolist()))
    supply, demand = np.zeros(len(cells)), np.zeros(len(used))
    obs = 0.0
    cost = np.zeros((len(cells), len(used)))
    for (ci, cj), i in cells.items():
        for jj, j in enumerate(used):
            cost[i, jj] = geoms[j].distance(Point((ci + 0.5) * cell, (cj + 0.5) * cell))
    for x, y, j, v in zip(hx, hy, wp, w):
        i = cells[(math.floor(x / cell), math.floor(y / cell))]
        supply[i] += v
        demand[used.index(j)] += v
        obs += v * cost[i, used.index(j)]
    t_obs = obs / w.sum()
    t_min, t_max = _lp(cost, supply, demand, 1.0), _lp(cost, supply, demand, -1.0)
    assert ex.t_obs == pytest.approx(t_obs, abs=0.05)
    assert ex.t_min == pytest.approx(t_min, abs=0.05)
    assert ex.t_max == pytest.approx(t_max, abs=0.05)
    assert ex.t_min <= ex.t_obs <= ex.t_max


def test_all_commuters_at_one_workplace_have_no_excess():
    from geo.analysis.commuting import excess_commuting

    ex = excess_commuting(np.array([0.0, 5000.0]), np.array([0.0, 0.0]), np.array([0, 0]), np.array([3.0, 2.0]),
                          np.array([box(10_000, 0, 11_000, 1000)], dtype=object))
    assert ex.t_min == pytest.approx(ex.t_obs) and ex.t_max == pytest.approx(ex.t_obs)
    assert ex.excess_commuting == pytest.approx(0.0, abs=1e-9)
    assert ex.commuting_potential_used is None          # t_max == t_min: undefined, not 0


def test_directions_and_sheds_add_up():
    from geo.analysis import commuting

    study = tiny_study(hand_flows())
    r = commuting.run(study, SETTINGS)
    d, sh = r.tables["commuting_directions"], r.tables["commuting_sheds"]
    wpt = r.tables["commuting_workplaces"].set_index("workplace_id")["commuters"]
    assert d.groupby("workplace_id")["commuters"].sum().to_dict() == pytest.approx(wpt[wpt > 0].to_dict())
    assert sh.groupby("workplace_id")["commuters"].sum().to_dict() == pytest.approx(wpt[wpt > 0].to_dict())
    # flow 2 (exactly 5 km, due north of its work end) is in band 0-5, direction N
    one = tiny_study(hand_flows().iloc[[1]].reset_index(drop=True))
    d1 = commuting.run(one, SETTINGS).tables["commuting_directions"]
    assert d1[["direction", "band_km"]].values.tolist() == [["N", "0-5"]]


# ---------------------------------------------------------------------------
# roads: commute_min from the road graph


def test_commute_minutes_on_roads_match_home_times():
    from geo.analysis.commuting._assign import home_workplace_minutes
    from geo.network import build_graph, home_times

    # one straight road along y = Y0 + 2000 through Z1 at 60 km/h
    roads = gpd.GeoDataFrame({"road_id": ["r1"], "class": ["arterial"], "speed_kmh": [60.0], "oneway": [None]},
                             geometry=[shapely.LineString([(X0 - 5000 + 100 * i, Y0 + 2000) for i in range(300)])],
                             crs=CRS)
    graph = build_graph(roads, class_speeds_kmh={"arterial": 60.0}, default_speed_kmh=20.0, snap_tolerance_m=1.0)
    study = tiny_study(hand_flows())
    geoms = study.zones.geometry.to_numpy()
    hx = np.array([X0 - 4000.0, X0 + 20_000.0, X0 + 500.0])
    hy = np.array([Y0 + 2000.0, Y0 + 9000.0, Y0 + 2000.0])
    wp = np.array([0, 0, -1])
    t = home_workplace_minutes(graph, hx, hy, wp, geoms, max_access_m=1000.0, access_speed_kmh=5.0)
    ref = home_times(graph, np.column_stack([hx[:1], hy[:1]]), geoms, pairs=np.array([[0, 0]]),
                     access_speed_kmh=5.0, max_access_m=1000.0)
    assert t[0] == pytest.approx(ref[0])
    assert t[0] == pytest.approx(5.0, abs=0.1)     # 5 km to Z1's west edge at 60 km/h
    assert np.isnan(t[1]) and np.isnan(t[2])       # far from every road; no workplace


def test_commute_metres_on_roads_are_the_fastest_routes_length():
    """With roads, commute_m = access + network + egress length of the fastest route; a
    route exactly 5,000 m long is within 5 km (inclusive), 5,000.5 m is not; flows with no
    travel time keep the straight line."""
    from geo.analysis import commuting
    from geo.network import build_graph

    # an L-shaped road: (X0+5000, Y0+7000) west to (X0+2000, Y0+7000), then south to Z1's
    # top edge (X0+2000, Y0+3000); its only entry to Z1 is that last node (egress 0)
    pts = [(X0 + 5000, Y0 + 7000), (X0 + 3000, Y0 + 7000), (X0 + 2000, Y0 + 7000), (X0 + 2000, Y0 + 3000)]
    roads = gpd.GeoDataFrame({"road_id": ["r1"], "class": ["arterial"], "speed_kmh": [60.0], "oneway": [None]},
                             geometry=[shapely.LineString(pts)], crs=CRS)
    graph = build_graph(roads, class_speeds_kmh={"arterial": 60.0}, default_speed_kmh=20.0, snap_tolerance_m=1.0)
    rows = [
        (X0 + 3000, Y0 + 7000, X0 + 2000, Y0 + 2000, 4.0),      # route 1000 + 4000 = 5000 m exactly
        (X0 + 3000, Y0 + 7000.5, X0 + 2000, Y0 + 2000, 3.0),    # + 0.5 m walk to the node: 5000.5 m
        (X0 + 5000, Y0 + 6990, X0 + 2500, Y0 + 1500, 2.0),      # 10 + 7000 m
        (X0 + 9000, Y0 + 500, X0 + 2500, Y0 + 2500, 5.0),       # > 1000 m from every node: no time
        (X0 + 3000, Y0 + 7000, X0 + 9000, Y0 + 9000, 1.0),      # work end outside every workplace
    ]
    flows = pd.DataFrame(rows, columns=["home_x", "home_y", "work_x", "work_y", "commuters"])
    study = tiny_study(flows)
    study.network = graph
    settings = SimpleNamespace(commuting=SimpleNamespace(cell_m=1000.0, top_flows=50),
                               network=SimpleNamespace(max_access_m=1000.0, access_speed_kmh=5.0))
    r = commuting.run(study, settings)
    straight = np.hypot(flows.work_x - flows.home_x, flows.work_y - flows.home_y).to_numpy()
    metres = np.array([5000.0, 5000.5, 7010.0, straight[3], straight[4]])
    assert straight[0] > 5000.0                       # straight would say "not within 5 km"
    w = flows.commuters.to_numpy()
    s = r.summary
    assert s["commute_m_kind"] == "network" and s["t_unit"] == "min"
    assert s["mean_commute_m"] == pytest.approx(np.sum(w * metres) / w.sum(), rel=1e-12)
    assert s["share_within_5km"] == pytest.approx(4.0 / w.sum())
    wpz = r.tables["commuting_workplaces"].set_index("workplace_id")
    z1 = wpz.loc["Z1"]
    assert z1["commuters"] == 14.0
    assert z1["mean_commute_m"] == pytest.approx((4 * 5000.0 + 3 * 5000.5 + 2 * 7010.0 + 5 * straight[3]) / 14.0)
    assert z1["share_within_5km"] == pytest.approx(4.0 / 14.0)
    assert s["mean_commute_min"] == pytest.approx((4 * 5.0 + 3 * (5.0 + 0.5 / 83.33333333333333)
                                                   + 2 * (7.0 + 10 / 83.33333333333333)) / 9.0)
    assert any("stays the straight line" in m for m in r.warnings)
    # the distance bands of the direction view use the same lengths: 5000 m is in 0-5
    d = r.tables["commuting_directions"]
    assert d.loc[d.band_km == "0-5", "commuters"].sum() == 4.0


# ---------------------------------------------------------------------------
# the loader: the forms a user gives


def _write_tiny(tmp_path, commuting_cfg: dict):
    import pyogrio

    from geo.settings import settings_from_dict

    study = tiny_study(hand_flows())
    gpkg = tmp_path / "study.gpkg"
    pyogrio.write_dataframe(study.zones, gpkg, layer="zones")
    pyogrio.write_dataframe(study.districts, gpkg, layer="districts")
    cfg = {"crs": {"working": CRS},
           "layers": {"zones": {"path": "study.gpkg", "layer": "zones"},
                      "districts": {"path": "study.gpkg", "layer": "districts"},
                      "commuting": commuting_cfg}}
    return settings_from_dict(cfg, base_dir=tmp_path)


def _projected(lon, lat):
    from pyproj import Transformer

    return Transformer.from_crs("EPSG:4326", CRS, always_xy=True).transform(lon, lat)


def test_gcj02_gbk_csv_is_converted_and_reprojected(tmp_path):
    from geo._coords import wgs84_to_gcj02
    from geo.layers import load_study

    lon, lat = [104.99, 105.05], [30.72, 30.74]     # WGS84, inside the tiny study's area
    glon, glat = wgs84_to_gcj02(np.array(lon), np.array(lat))
    text = "居住经度,居住纬度,工作经度,工作纬度,人数\n" + "".join(
        f"{glon[i]:.9f},{glat[i]:.9f},{glon[1 - i]:.9f},{glat[1 - i]:.9f},{i + 2}\n" for i in range(2))
    (tmp_path / "od.csv").write_bytes(text.encode("gbk"))
    settings = _write_tiny(tmp_path, {"path": "od.csv", "crs": "EPSG:4326", "coordinates": "gcj02",
                                      "encoding": "gbk",
                                      "fields": {"home_x": "居住经度", "home_y": "居住纬度", "work_x": "工作经度",
                                                 "work_y": "工作纬度", "commuters": "人数"}})
    flows = load_study(settings).commuting
    x, y = _projected(np.array(lon), np.array(lat))
    assert flows["home_x"].to_numpy() == pytest.approx(x, abs=0.01)
    assert flows["home_y"].to_numpy() == pytest.approx(y, abs=0.01)
    assert flows["work_x"].to_numpy() == pytest.approx(x[::-1], abs=0.01)
    assert flows["commuters"].tolist() == [2.0, 3.0]
    # without the datum conversion the ends are a few hundred metres off
    plain = load_study(_write_tiny(tmp_path, {"path": "od.csv", "crs": "EPSG:4326", "encoding": "gbk",
                                              "fields": {"home_x": "居住经度", "home_y": "居住纬度",
                                                         "work_x": "工作经度", "work_y": "工作纬度",
                                                         "commuters": "人数"}})).commuting
    assert 100 < abs(plain["home_x"].to_numpy() - x).max() < 1000


def test_a_header_only_sheet_with_canonical_names_has_no_rows(tmp_path):
    from openpyxl import Workbook

    from geo._errors import InputError
    from geo.layers import load_study

    book = Workbook()
    book.active.append(["home_x", "home_y", "work_x", "work_y", "commuters"])
    book.save(tmp_path / "od.xlsx")
    settings = _write_tiny(tmp_path, {"path": "od.xlsx", "crs": "EPSG:4326"})
    with pytest.raises(InputError, match="od.xlsx.*the table has no rows"):
        load_study(settings)


@pytest.mark.parametrize("rows", [2, 0])
def test_an_excel_sheet_of_text_cells_has_its_header_row_read_as_the_header(tmp_path, rows):
    """Every cell stored as text (a common Excel export): GDAL took the header for data
    (Field1, Field2, ...), so every field was 'not found'; a sheet with its header only
    is 'no rows', as a CSV with its header only is."""
    from openpyxl import Workbook

    from geo._errors import InputError
    from geo.layers import load_study

    lon, lat = [104.99, 105.05], [30.72, 30.74]
    book = Workbook()
    sheet = book.active
    sheet.append(["居住经度", "居住纬度", "工作经度", "工作纬度", "人数"])
    for i in range(rows):
        sheet.append([f"{lon[i]}", f"{lat[i]}", f"{lon[1 - i]}", f"{lat[1 - i]}", f"{(i + 2) * 1000:,}"])
    book.save(tmp_path / "od.xlsx")
    settings = _write_tiny(tmp_path, {"path": "od.xlsx", "crs": "EPSG:4326",
                                      "fields": {"home_x": "居住经度", "home_y": "居住纬度", "work_x": "工作经度",
                                                 "work_y": "工作纬度", "commuters": "人数"}})
    if not rows:
        with pytest.raises(InputError, match="layers.commuting .*od.xlsx.*the table has no rows"):
            load_study(settings)
        return
    study = load_study(settings)
    flows = study.commuting
    assert flows["commuters"].tolist() == [2000.0, 3000.0]
    # the text numbers are said to be read, with examples as for every other layer
    said = [w for w in study.warnings if "layers.commuting" in w and "written as text" in w]
    assert len(said) == 1 and "'2,000' -> 2000, '3,000' -> 3000" in said[0], study.warnings
    x, _ = _projected(np.array(lon), np.array(lat))
    assert flows["home_x"].to_numpy() == pytest.approx(x, abs=0.01)


@pytest.mark.parametrize("text", [False, True])
def test_a_sheet_under_a_title_keeps_its_values_and_names_its_rows_as_the_sheet(tmp_path, text):
    """Header on row 3 under a title and an empty row, an empty row inside the data: the
    flows are the sheet's rows 4 and 6 with their values to the last digit (numbers as
    Excel stores them, or cells of text), and Study.commuting.row says so."""
    from openpyxl import Workbook

    from geo.layers import load_study

    lon, lat = [104.990123456789, 105.05], [30.72, 30.7412345678912]
    book = Workbook()
    sheet = book.active
    sheet["A1"] = "2023年职住OD（单位：人）"
    for c, name in enumerate(["经度h", "纬度h", "经度w", "纬度w", "人数"], start=1):
        sheet.cell(row=3, column=c, value=name)
    for r, i in ((4, 0), (6, 1)):
        for c, v in enumerate([lon[i], lat[i], lon[1 - i], lat[1 - i], i + 2], start=1):
            sheet.cell(row=r, column=c, value=repr(v) if text else v)
    book.save(tmp_path / "od.xlsx")
    study = load_study(_write_tiny(tmp_path, {"path": "od.xlsx", "crs": "EPSG:4326", "encoding": "gbk", "fields": {
        "home_x": "经度h", "home_y": "纬度h", "work_x": "经度w", "work_y": "纬度w", "commuters": "人数"}}))
    flows = study.commuting
    assert flows["row"].tolist() == [4, 6]
    # a CSV's encoding set for a workbook: said to be ignored (it would garble the text)
    said = [w for w in study.warnings if "layers.commuting" in w]
    assert len(said) == 1 and "encoding (gbk) ignored" in said[0] and "Unicode" in said[0], said
    assert flows["commuters"].tolist() == [2.0, 3.0]
    x, y = _projected(np.array(lon), np.array(lat))
    assert flows["home_x"].to_numpy() == pytest.approx(x, abs=1e-6)
    assert flows["work_y"].to_numpy() == pytest.approx(y[::-1], abs=1e-6)


def test_an_xls_workbook_is_refused_with_the_way_to_save_it(tmp_path):
    from geo._errors import InputError
    from geo.layers import load_study

    (tmp_path / "od.xls").write_bytes(bytes.fromhex("d0cf11e0a1b11ae1") + bytes(504))   # an OLE2 header
    with pytest.raises(InputError, match=r"od.xls.*Excel 97-2003.*save it as .xlsx"):
        load_study(_write_tiny(tmp_path, {"path": "od.xls", "crs": "EPSG:4326"}))


def test_csv_lines_ending_in_a_separator_keep_their_columns(tmp_path):
    """Every data line ends in ',' (an empty last value, as some exports write): pandas would
    read the first column as an index and shift every value one column left; read as written."""
    from geo.layers import load_study

    lon, lat = [104.99, 105.05], [30.72, 30.74]
    (tmp_path / "od.csv").write_text("hx,hy,wx,wy,n\n" + "".join(
        f"{lon[i]},{lat[i]},{lon[1 - i]},{lat[1 - i]},{i + 2},\n" for i in range(2)), encoding="utf-8")
    flows = load_study(_write_tiny(tmp_path, {"path": "od.csv", "crs": "EPSG:4326", "fields": {
        "home_x": "hx", "home_y": "hy", "work_x": "wx", "work_y": "wy", "commuters": "n"}})).commuting
    assert flows["commuters"].tolist() == [2.0, 3.0]
    x, y = _projected(np.array(lon), np.array(lat))
    assert flows["home_x"].to_numpy() == pytest.approx(x, abs=0.01)
    assert flows["work_y"].to_numpy() == pytest.approx(y[::-1], abs=0.01)


def test_flows_all_of_zero_commuters_are_said_to_give_nothing(tmp_path):
    from geo.layers import load_study

    lon, lat = [104.99, 105.05], [30.72, 30.74]
    (tmp_path / "od.csv").write_text("hx,hy,wx,wy,n\n" + "".join(
        f"{lon[i]},{lat[i]},{lon[1 - i]},{lat[1 - i]},0\n" for i in range(2)), encoding="utf-8")
    settings = _write_tiny(tmp_path, {"path": "od.csv", "crs": "EPSG:4326", "fields": {
        "home_x": "hx", "home_y": "hy", "work_x": "wx", "work_y": "wy", "commuters": "n"}})
    said = [w for w in load_study(settings).warnings if "every flow has 0 commuters" in w]
    assert len(said) == 1 and "layers.commuting" in said[0] and "field 'commuters'" in said[0]


def test_a_layer_name_on_a_csv_table_is_said_to_be_ignored(tmp_path):
    from geo.layers import load_study

    lon, lat = [104.99, 105.05], [30.72, 30.74]
    (tmp_path / "od.csv").write_text("hx,hy,wx,wy,n\n" + "".join(
        f"{lon[i]},{lat[i]},{lon[1 - i]},{lat[1 - i]},{i + 2}\n" for i in range(2)), encoding="utf-8")
    study = load_study(_write_tiny(tmp_path, {"path": "od.csv", "crs": "EPSG:4326", "layer": "flows",
                                              "fields": {"home_x": "hx", "home_y": "hy", "work_x": "wx",
                                                         "work_y": "wy", "commuters": "n"}}))
    assert study.commuting["commuters"].tolist() == [2.0, 3.0]
    assert [w for w in study.warnings if "layers.commuting.layer ('flows') is ignored" in w]


def test_line_layer_first_vertex_home_last_vertex_work(tmp_path):
    import pyogrio

    from geo.layers import load_study

    lines = gpd.GeoDataFrame({"n": [5, 1]}, geometry=[
        shapely.LineString([(104.99, 30.72), (105.0, 30.73), (105.05, 30.74)]),
        shapely.MultiLineString([[(105.01, 30.71), (105.02, 30.71)], [(105.02, 30.71), (105.03, 30.70)]])],
        crs="EPSG:4326")
    pyogrio.write_dataframe(lines, tmp_path / "od_lines.gpkg")
    flows = load_study(_write_tiny(tmp_path, {"path": "od_lines.gpkg", "fields": {"commuters": "n"}})).commuting
    hx, hy = _projected(np.array([104.99, 105.01]), np.array([30.72, 30.71]))
    wx, wy = _projected(np.array([105.05, 105.03]), np.array([30.74, 30.70]))
    assert flows["home_x"].to_numpy() == pytest.approx(hx, abs=1e-6)
    assert flows["home_y"].to_numpy() == pytest.approx(hy, abs=1e-6)
    assert flows["work_x"].to_numpy() == pytest.approx(wx, abs=1e-6)
    assert flows["work_y"].to_numpy() == pytest.approx(wy, abs=1e-6)
    assert flows["commuters"].tolist() == [5.0, 1.0]


def test_geopackage_table_without_geometry(tmp_path):
    import pyogrio

    from geo.layers import load_study

    study = tiny_study(hand_flows())
    table = pd.DataFrame(study.commuting.drop(columns="row"))
    pyogrio.write_dataframe(table, tmp_path / "od_table.gpkg", layer="od")
    flows = load_study(_write_tiny(tmp_path, {"path": "od_table.gpkg", "crs": CRS})).commuting
    assert flows[["home_x", "home_y", "work_x", "work_y", "commuters"]].to_numpy() == pytest.approx(
        table.to_numpy())



def test_geopackage_table_rows_are_named_by_fid(tmp_path):
    """A GeoPackage table whose rows were deleted in QGIS keeps its fids (1, 3, 4, ...): a
    message names a bad row by the fid the attribute table shows, not by its position."""
    import sqlite3

    import pyogrio

    from geo._errors import InputError
    from geo.layers import load_study

    study = tiny_study(hand_flows())
    table = pd.DataFrame(study.commuting.drop(columns="row")).head(5).reset_index(drop=True)
    table.loc[3, "commuters"] = -4.0            # fid 4
    pyogrio.write_dataframe(table, tmp_path / "od_table.gpkg", layer="od")
    with sqlite3.connect(tmp_path / "od_table.gpkg") as con:
        con.execute("DELETE FROM od WHERE fid = 2")
    with pytest.raises(InputError) as info:
        load_study(_write_tiny(tmp_path, {"path": "od_table.gpkg", "crs": CRS}))
    [line] = [p for p in info.value.problems if "layers.commuting" in p]
    assert "negative" in line and "fid 4" in line and "row 3" not in line

# ---------------------------------------------------------------------------
# end to end: the CLI on the sample, the GeoPackage, the atlas, the map in Chromium


@pytest.fixture(scope="module")
def commuting_run(small_study, tmp_path_factory):
    from tests.conftest import run_cli

    out = tmp_path_factory.mktemp("commuting_run") / "maps"
    proc = run_cli("run", "-c", small_study, "-o", out, "--only", "commuting", "-q")
    assert proc.returncode == 0, proc.stderr
    return out


def test_cli_run_only_commuting_writes_every_output(commuting_run):
    import pyogrio

    manifest = json.loads((commuting_run / "run.json").read_text(encoding="utf-8"))
    assert manifest["analyses"] == ["commuting"]
    s = manifest["summary"]["commuting"]
    assert manifest["counts"]["commuting"] == s["flows"] > 1000
    assert 0 < s["share_within_5km"] < 1 and s["t_min"] <= s["t_obs"] <= s["t_max"]
    assert 0 < s["excess_commuting"] < 1 and 0 < s["commuting_potential_used"] < 1
    for name in ("commuting_workplaces", "commuting_districts", "commuting_flows", "commuting_sheds",
                 "commuting_directions", "commuting_summary"):
        assert (commuting_run / "tables" / f"{name}.csv").is_file(), name
    assert not (commuting_run / "tables" / "commuting.csv").exists()    # the input is not copied
    layers = dict(pyogrio.list_layers(commuting_run / "qgis" / "zoneatlas.gpkg"))
    assert layers["commuting_flows"] == "LineString" and layers["commuting_sheds"] == "Point"
    assert layers["commuting_workplaces"] in ("Polygon", "MultiPolygon")
    wp = pd.read_csv(commuting_run / "tables" / "commuting_workplaces.csv", encoding="utf-8-sig")
    assert wp["commuters"].sum() == pytest.approx(s["commuters_in_workplaces"])
    atlas = (commuting_run / "index.html").read_text(encoding="utf-8")
    assert "commuting.html" in atlas and "本地就业率" in atlas and "76.0%" in atlas


def test_qgis_shed_sizes_are_the_web_circles_of_their_class(commuting_run):
    """commuting.html draws a shed cell as a circle of radius a + b·√(commuters / largest) px
    (its config holds a, b); the package's graduated sizes (mm) lie, class by class, between
    the web circles of the class's ends at the print scale (0.55 pt per px), not by hand."""
    import re
    import sqlite3

    from tests.test_qgis import MM_PER_WEB_PX

    html = (commuting_run / "commuting.html").read_text(encoding="utf-8")
    assert "radius: cfg.shedRadius[0] + cfg.shedRadius[1] * Math.sqrt(top > 0 ? c[2] / top : 0)" in html
    a, b = json.loads(re.search(r'"shedRadius":\s*(\[[^\]]*\])', html).group(1))
    with sqlite3.connect(commuting_run / "qgis" / "zoneatlas.gpkg") as con:
        [(qml,)] = con.execute("SELECT styleQML FROM layer_styles WHERE f_table_name = 'commuting_sheds'")
    ranges = [(float(lo), float(hi), sym) for lo, sym, hi in
              re.findall(r'<range [^>]*lower="([^"]+)"[^>]*symbol="(\d+)"[^>]*upper="([^"]+)"', qml)]
    sizes = {}
    for name, body in re.findall(r'<symbol [^>]*name="(\d+)" type="marker">(.*?)</symbol>', qml, re.S):
        sizes[name] = float(re.search(r'name="size" type="QString" value="([^"]+)"', body).group(1))
    top = ranges[-1][1]
    assert len(ranges) == 5
    for lo, hi, sym in ranges:
        low, high = (2 * (a + b * np.sqrt(v / top)) * MM_PER_WEB_PX for v in (lo, hi))
        assert low <= sizes[sym] <= high, (lo, hi, sizes[sym], low, high)


def test_indicator_rows_say_what_is_observed_and_what_is_not():
    from geo.webmap.commuting import indicator_rows

    base = {"share_within_5km": 0.4, "mean_commute_m": 6000.0, "t_obs": 5000.0, "t_min": 3000.0,
            "t_max": 9000.0, "excess_commuting": 0.4, "commuting_potential_used": 1 / 3, "t_unit": "m",
            "share_within_45min": None, "share_over_60min": None, "mean_commute_min": None,
            "share_same_district": 0.5}
    rows = {r["key"]: r for r in indicator_rows(base, "zh")}
    assert rows["share_within_45min"]["kind"] == "not_measured" and rows["share_within_45min"]["value"] == "—"
    assert "需道路图层" in rows["share_within_45min"]["status"]
    assert rows["share_within_45min"]["reference"].startswith("76.0%") and "80%" in rows["share_within_45min"]["reference"]
    assert rows["share_within_5km"] == {**rows["share_within_5km"], "value": "40.0%", "reference": "50.0%",
                                        "kind": "observed"}
    assert rows["share_over_60min"]["reference"] == "12.0%"
    assert rows["t_min"]["kind"] == "optimum" and rows["t_obs"]["kind"] == "observed"
    timed = {r["key"]: r for r in indicator_rows({**base, "share_within_45min": 0.8, "t_unit": "min",
                                                  "t_min": 30.0}, "en")}
    assert timed["share_within_45min"]["kind"] == "observed" and timed["share_within_45min"]["value"] == "80.0%"
    assert timed["t_min"]["value"] == "30.0 min"
    # the metre indicators say which length they measure
    assert rows["mean_commute_m"]["label"].endswith("（直线）")
    assert timed["share_within_5km"]["label"].endswith("(straight line)")
    routed = {r["key"]: r for r in indicator_rows({**base, "t_unit": "min", "commute_m_kind": "network"}, "en")}
    assert routed["mean_commute_m"]["label"].endswith("(road network)")
    assert routed["share_within_5km"]["label"].endswith("(road network)")
    assert routed["mean_commute_min"]["label"] == timed["mean_commute_min"]["label"]


def test_only_commuting_without_the_layer_is_a_config_error(small_study_copy):
    import yaml

    from tests.conftest import run_cli

    cfg = yaml.safe_load(small_study_copy.read_text(encoding="utf-8"))
    cfg["layers"].pop("commuting")
    small_study_copy.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    proc = run_cli("run", "-c", small_study_copy, "--only", "commuting", "-q")
    assert proc.returncode == 2 and proc.stderr.startswith("error: --only commuting") and "Traceback" not in proc.stderr


@pytest.mark.browser
def test_commuting_map_in_browser(browser, commuting_run):
    from tests._browser import overlay_counts

    flows = pd.read_csv(commuting_run / "tables" / "commuting_flows.csv", encoding="utf-8-sig")
    wp = pd.read_csv(commuting_run / "tables" / "commuting_workplaces.csv", encoding="utf-8-sig")
    sheds = pd.read_csv(commuting_run / "tables" / "commuting_sheds.csv", encoding="utf-8-sig")
    with browser.open(commuting_run / "commuting.html") as run:
        page = run.page
        assert page.evaluate("typeof L === 'object' && typeof L.map === 'function'")
        counts = overlay_counts(page)
        assert counts["commuting_flows"] == min(len(flows), 50) > 0
        assert counts["commuting_workplaces"] == len(wp)
        # flows drawn as SVG paths, the widest for the largest flow
        widths = page.evaluate("""() => Array.from(document.querySelectorAll('path.za-l-commuting_flows'))
            .map(p => parseFloat(p.getAttribute('stroke-width')))""")
        assert len(widths) == counts["commuting_flows"] and max(widths) > min(widths)
        # the indicator panel: the sample has roads, so the minute shares are observed too
        status = dict(page.evaluate("""() => Array.from(document.querySelectorAll('.za-indicators tr[data-key]'))
            .map(r => [r.getAttribute('data-key'), r.getAttribute('data-status')])"""))
        assert status["share_within_5km"] == "observed" and status["share_within_45min"] == "observed"
        assert status["t_min"] == "optimum"
        assert page.locator(".za-rose-sector").count() > 0
        # click the busiest workplace: its shed is drawn
        top = wp.sort_values("commuters", ascending=False).iloc[0]["workplace_id"]
        page.evaluate("""(id) => { const gj = window.zoneatlas.overlays.commuting_workplaces;
            gj.eachLayer(l => { if (l.feature.properties.workplace_id === id) { l.fire('click'); } }); }""", top)
        assert page.evaluate("document.documentElement.getAttribute('data-za-shed')") == top
        expected = min(int((sheds["workplace_id"] == top).sum()), 200)
        assert page.locator("path.za-shed-cell").count() == expected
        assert run.console_errors == [] and run.page_errors == [] and run.blocked == []


def test_raster_lookup_of_points_equals_the_exact_test():
    """Many points go through a label raster; the answer must equal the STRtree's, also for
    points exactly on shared edges and vertices and for overlapping polygons (first wins)."""
    from geo.analysis.commuting._assign import _containing_raster, _containing_tree

    rng = np.random.default_rng(3)
    geoms = np.array([box(0, 0, 1000, 1000), box(1000, 0, 2000, 1000), box(500, 500, 1500, 1500),
                      shapely.Polygon([(2000, 0), (3000, 1000), (2000, 1000)]),
                      box(2500, -500, 2600, -400)], dtype=object)
    x = np.concatenate([rng.uniform(-200, 3200, 200_000), [1000.0, 1000.0, 0.0, 2000.0, 2500.0, 500.0, 2600.0]])
    y = np.concatenate([rng.uniform(-700, 1700, 200_000), [500.0, 1000.0, 0.0, 0.0, 500.0, 500.0, -400.0]])
    # points on the diagonal edge of the triangle
    t = rng.uniform(0, 1, 2000)
    x, y = np.concatenate([x, 2000 + 1000 * t]), np.concatenate([y, 1000 * t])
    assert np.array_equal(_containing_raster(geoms, x, y), _containing_tree(geoms, x, y))


def test_python_api_equals_the_cli_tables(small_study, commuting_run, tmp_path):
    import geo
    from geo._io import write_csv

    study = geo.load_study(small_study)
    result = geo.commuting(study)
    for name, table in result.tables.items():
        api_csv = write_csv(table, tmp_path / f"{name}.csv")
        assert api_csv.read_bytes() == (commuting_run / "tables" / f"{name}.csv").read_bytes(), name
    no_flows = geo.load_study(small_study, overrides={"layers": {"commuting": None}})
    with pytest.raises(geo.ConfigError, match="layers.commuting is not configured"):
        geo.commuting(no_flows)


def test_shared_road_searches_equal_the_separate_ones():
    """road_minutes reads one search per workplace at the flows' homes and at the cells: the
    same numbers as the two separate home_times calls it replaced (flow pairs; cell matrix)."""
    from geo.analysis.commuting._assign import road_minutes
    from geo.network import build_graph, home_times, synthetic_roads

    rng = np.random.default_rng(7)
    roads = synthetic_roads((X0, Y0, X0 + 20_000, Y0 + 10_000), street_spacing_m=1000.0, seed=3)
    graph = build_graph(roads.set_crs(CRS, allow_override=True), class_speeds_kmh={
        "motorway": 80, "expressway": 60, "arterial": 40, "secondary": 30, "local": 20},
        default_speed_kmh=20.0, snap_tolerance_m=1.0)
    study = tiny_study(hand_flows())
    geoms = np.concatenate([study.zones.geometry.to_numpy(), study.innovation_districts.geometry.to_numpy()])
    n = 400
    hx = rng.uniform(X0 - 2000, X0 + 22_000, n).round(-1)    # some homes repeat, some beyond the roads
    hy = rng.uniform(Y0 - 2000, Y0 + 12_000, n).round(-1)
    wp = rng.integers(-1, len(geoms), n)
    cx, cy = rng.uniform(X0, X0 + 20_000, 7), rng.uniform(Y0, Y0 + 10_000, 7)
    used = np.array([0, 2, 3])
    flows_min, cost, flows_m = road_minutes(graph, hx, hy, wp, geoms, np.column_stack([cx, cy]), used,
                                            max_access_m=1000.0, access_speed_kmh=5.0)
    sel = wp >= 0
    ref = np.full(n, np.nan)
    ref[sel] = home_times(graph, np.column_stack([hx[sel], hy[sel]]), geoms,
                          pairs=np.column_stack([np.arange(sel.sum()), wp[sel]]), access_speed_kmh=5.0,
                          max_access_m=1000.0)
    ref_cost = home_times(graph, np.column_stack([cx, cy]), geoms[used], access_speed_kmh=5.0, max_access_m=1000.0)
    assert np.isfinite(ref).sum() > 100 and np.isnan(ref[sel]).any()   # the case has both kinds
    np.testing.assert_array_equal(flows_min, ref)
    np.testing.assert_array_equal(cost, ref_cost)
    # the metres are those of the flows' own routes, wherever there is a time
    from geo.network import home_routes
    ref_t, ref_m = home_routes(graph, np.column_stack([hx[sel], hy[sel]]), geoms,
                               np.column_stack([np.arange(sel.sum()), wp[sel]]), access_speed_kmh=5.0,
                               max_access_m=1000.0)
    np.testing.assert_array_equal(flows_min[sel], ref_t)
    np.testing.assert_array_equal(flows_m[sel], ref_m)
    np.testing.assert_array_equal(np.isnan(flows_m), np.isnan(flows_min))


def test_unique_keys_equals_numpy_unique():
    from geo.analysis.commuting._excess import unique_keys

    rng = np.random.default_rng(3)
    for keys in (rng.integers(0, 50, 1000), rng.integers(0, 2**40, 1000), np.array([5]), np.zeros(0, np.int64),
                 rng.integers(0, 1 << 24, 10)):
        u, inv = unique_keys(keys)
        ru, rinv = np.unique(keys, return_inverse=True)
        np.testing.assert_array_equal(u, ru)
        np.testing.assert_array_equal(inv, rinv.ravel())


def test_run_with_roads_equals_the_two_search_composition():
    """The run reads flows' minutes and the t_min / t_max matrix from one set of searches; the
    answer equals the previous composition (assign with the graph, then home_times for the
    cell matrix) on a random case."""
    import dataclasses

    from geo.analysis import commuting
    from geo.analysis.balance import workplaces_from
    from geo.analysis.commuting import assign, excess_commuting
    from geo.network import build_graph, home_times, synthetic_roads

    roads = synthetic_roads((X0, Y0, X0 + 20_000, Y0 + 10_000), street_spacing_m=800.0, seed=5, crs=CRS)
    graph = build_graph(roads, class_speeds_kmh={"motorway": 80, "expressway": 60, "arterial": 40,
                                                 "secondary": 30, "local": 20},
                        default_speed_kmh=20.0, snap_tolerance_m=1.0)
    study = dataclasses.replace(tiny_study(hand_flows()), network=graph)
    settings = SimpleNamespace(commuting=SimpleNamespace(cell_m=2000.0, top_flows=50),
                               network=SimpleNamespace(max_access_m=1000.0, access_speed_kmh=5.0))
    r = commuting.run(study, settings)

    f = study.commuting
    geoms = workplaces_from(study.zones, study.innovation_districts).geometry.to_numpy()
    a = assign(f, geoms, study.districts.geometry.to_numpy(), max_access_m=1000.0, graph=graph,
               access_speed_kmh=5.0)
    ex = excess_commuting(f["home_x"].to_numpy(), f["home_y"].to_numpy(), a.workplace, f["commuters"].to_numpy(),
                          geoms, cell_m=2000.0, cost_fn=lambda cx, cy, used: home_times(
                              graph, np.column_stack([cx, cy]), geoms[used], access_speed_kmh=5.0,
                              max_access_m=1000.0))
    assert np.isfinite(a.commute_min).sum() >= 20     # not a trivial case
    s = r.summary
    assert (s["t_obs"], s["t_min"], s["t_max"]) == (ex.t_obs, ex.t_min, ex.t_max)
    assert s["t_unit"] == "min" and ex.t_min < ex.t_obs < ex.t_max
    w = f["commuters"].to_numpy()
    timed = np.isfinite(a.commute_min)
    assert s["mean_commute_min"] == pytest.approx(np.sum(w[timed] * a.commute_min[timed]) / w[timed].sum(), rel=1e-15)
    got = r.tables["commuting_workplaces"]["mean_commute_min"].to_numpy()
    ref = commuting.commuting_workplaces(workplaces_from(study.zones, study.innovation_districts), w, a)
    np.testing.assert_array_equal(got, ref["mean_commute_min"].to_numpy())


@pytest.mark.parametrize("layout", ["plain", "blank_lines", "leading_blank_lines", "crlf", "quoted_line_break"])
def test_csv_lines_agree_with_the_parsers_own_line_numbers(layout):
    """The line a message names for a data row is the line pandas' parser names for the same
    row when it cannot parse it (blank lines count; a quoted line break does not start a line)."""
    import io

    from geo.layers._csvlines import csv_lines, parser_message

    rows = [f"{i},{i + 1}" for i in range(1, 9)]
    if layout == "quoted_line_break":
        rows[2] = '3,"four\nand a half"'
    parts = ["a,b"] + rows
    if layout == "blank_lines":
        parts = parts[:3] + ["", "  "] + parts[3:]
    if layout == "leading_blank_lines":
        parts = ["", ""] + parts
    newline = "\r\n" if layout == "crlf" else "\n"
    good = newline.join(parts) + newline
    lines = csv_lines(good.encode(), 8)
    assert lines is not None and len(lines) == 8
    for k in (1, 4, 7):   # data row k+1 made ragged (not the first: pandas takes that for an index)
        bad = newline.join(p + ",9" if p == rows[k] else p for p in parts) + newline
        with pytest.raises(pd.errors.ParserError) as info:
            pd.read_csv(io.BytesIO(bad.encode()))
        assert parser_message(str(info.value)).startswith(f"line {lines[k]} has 3 values"), (layout, k)
    with pytest.raises(pd.errors.ParserError) as info:   # an unclosed quote: pandas counts that row from 0
        pd.read_csv(io.BytesIO((good + '9,"10' + newline).encode()))
    assert f"starting on line {lines[-1] + 1} is not closed" in parser_message(str(info.value))
