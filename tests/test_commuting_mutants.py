"""Tests written for hand-planted mutants of the commuting analysis that survived the
existing suite (``geo/analysis/commuting``: ``__init__``, ``_assign``, ``_excess``,
``_tables``; docs/mutation-survivors.md, section "geo/analysis/commuting ..., planted by
hand").

Each checks a real outcome against DESIGN.md ("Commuting (layers.commuting) and commuting
indicators") read literally: the brute force of tests/test_commuting.py (plain loops over
the flows, shapely predicates one flow at a time), loops written here, hand-computed values
on tiny hand-drawn road networks (60 km/h = 1 km per minute, so a route of whole
kilometres takes whole minutes, exact in floating point), or scipy's linear programme.
"""

from __future__ import annotations

import functools
import math
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point, box

from tests.test_commuting import CRS, SETTINGS, X0, Y0, _lp, brute_force, hand_flows, tiny_study

COLS = ["home_x", "home_y", "work_x", "work_y", "commuters"]


def _flows(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=COLS).astype(float)


def _graph(lines):
    from geo.network import build_graph

    roads = gpd.GeoDataFrame({"road_id": [f"r{i}" for i in range(len(lines))], "class": ["arterial"] * len(lines),
                              "speed_kmh": [60.0] * len(lines), "oneway": [None] * len(lines)},
                             geometry=[shapely.LineString(p) for p in lines], crs=CRS)
    return build_graph(roads, class_speeds_kmh={"arterial": 60.0}, default_speed_kmh=20.0, snap_tolerance_m=1.0)


def _road_settings(max_access_m: float = 1000.0):
    return SimpleNamespace(commuting=SimpleNamespace(cell_m=1000.0, top_flows=50),
                           network=SimpleNamespace(max_access_m=max_access_m, access_speed_kmh=5.0))


# ---------------------------------------------------------------------------
# the summary row


def test_summary_counts_cells_and_same_district_share_equal_brute_force():
    """commuters_in_workplaces, share_same_district (over the commuters whose both ends are
    in a district), t_cells and t_workplaces (only cells and workplaces with commuters
    enter) against the brute force. Kills: every flow counted as in a workplace; the
    same-district share over all commuters; zero-commuter flows making cells."""
    from geo.analysis import commuting

    flows = hand_flows()
    extra = _flows([(X0 + 30_000, Y0 + 30_000, X0 + 15_000, Y0 + 7000, 0.0),   # a cell of its own, nobody
                    (X0 + 30_000, Y0 + 5000, X0 + 15_000, Y0 + 7000, 4.0)])   # home outside every district
    flows = pd.concat([flows, extra.assign(row=len(flows) + 1)], ignore_index=True)
    study = tiny_study(flows)
    s = commuting.run(study, SETTINGS).summary
    _, _, per = brute_force(study)
    assert s["commuters_in_workplaces"] == pytest.approx(sum(p["w"] for p in per if p["wp"] is not None))
    known = [p for p in per if p["hd"] is not None and p["wd"] is not None]
    assert sum(p["w"] for p in known) < sum(p["w"] for p in per)      # some ends outside every district
    same = sum(p["w"] for p in known if p["hd"] == p["wd"])
    assert s["share_same_district"] == pytest.approx(same / sum(p["w"] for p in known))
    counted = [p for p in per if p["wp"] is not None and p["w"] > 0]
    assert s["t_cells"] == len({p["cell"] for p in counted})
    assert s["t_workplaces"] == len({p["wp"] for p in counted})


def test_the_max_access_setting_bounds_the_nearest_workplace():
    """network.max_access_m (here 500 m, without roads) is the limit of "the nearest
    workplace within max_access_m": hand flow 4 (work end 1000 m east of Z3) is then
    outside every workplace. Kills: the assignment using the 1000 m default."""
    from geo.analysis import commuting

    study = tiny_study(hand_flows())
    settings = SimpleNamespace(commuting=SETTINGS.commuting, network=SimpleNamespace(max_access_m=500.0))
    r = commuting.run(study, settings)
    wps, _, per = brute_force(study, max_access_m=500.0)
    assert per[3]["wp"] is None
    assert r.summary["commuters_outside_workplaces"] == pytest.approx(sum(p["w"] for p in per if p["wp"] is None))
    table = r.tables["commuting_workplaces"].set_index("workplace_id")
    for j, (wid, _, _) in enumerate(wps):
        assert table.loc[wid, "commuters"] == pytest.approx(sum(p["w"] for p in per if p["wp"] == j))


def test_home_workplace_minutes_follows_max_access():
    """A home 800 m from the only road reaches Z1 with max_access_m = 1000 (800 m walked at
    5 km/h = 9.6 min, then 5 km at 60 km/h), not with 500. Kills: the limit ignored."""
    from geo.analysis.commuting._assign import home_workplace_minutes

    graph = _graph([[(X0 - 5000 + 100 * i, Y0 + 2000) for i in range(300)]])
    geoms = tiny_study(hand_flows()).zones.geometry.to_numpy()
    hx, hy, wp = np.array([X0 - 4000.0]), np.array([Y0 + 2800.0]), np.array([0])
    near = home_workplace_minutes(graph, hx, hy, wp, geoms, max_access_m=1000.0, access_speed_kmh=5.0)
    assert near[0] == pytest.approx(9.6 + 5.0, abs=1e-6)
    far = home_workplace_minutes(graph, hx, hy, wp, geoms, max_access_m=500.0, access_speed_kmh=5.0)
    assert np.isnan(far[0])


def test_a_work_end_at_exactly_the_limit_plus_the_tolerance_is_within():
    """nearest_within is inclusive up to max_m + DISTANCE_TOLERANCE_M: a point at exactly
    that distance (exact in floating point: the polygon edge is x = 0 and its length a
    power of two) finds the polygon; the next float beyond does not. Kills: ``<=`` -> ``<``."""
    from geo.analysis.commuting._assign import nearest_within
    from geo.schema import DISTANCE_TOLERANCE_M

    poly = np.array([box(-8.0, -8.0, 0.0, 8.0)], dtype=object)
    reach = 1000.0 + DISTANCE_TOLERANCE_M
    assert shapely.distance(poly[0], Point(reach, 0.0)) == reach
    beyond = np.nextafter(reach, np.inf)
    got = nearest_within(poly, np.array([reach, beyond]), np.array([0.0, 0.0]), 1000.0)
    assert got.tolist() == [0, -1]


# ---------------------------------------------------------------------------
# cells of t_min / t_max: doubled while cells × workplaces > max_pairs


def _cells_brute_force(hx, hy, wp, w, cell_m, max_pairs):
    """Cell side and cell count by the rule, one flow at a time."""
    counted = [(x, y, j) for x, y, j, v in zip(hx, hy, wp, w) if j >= 0 and v > 0]
    used = {j for _, _, j in counted}
    size = cell_m
    while True:
        cells = {(math.floor(x / size), math.floor(y / size)) for x, y, _ in counted}
        if len(cells) * len(used) <= max_pairs or len(cells) <= 1:
            return size, len(cells)
        size *= 2


def test_cells_are_doubled_until_cells_times_workplaces_fit():
    """Eight homes one per 1000 m cell along a line (x = 500 .. 7500), three workplaces:
    24 pairs of 1000 m cells. max_pairs = 24 keeps 1000 m (exactly max_pairs fits), 23
    doubles to 2000 m (4 cells, 12 pairs), 11 to 4000 m (2 cells). t_obs, t_min, t_max on
    the cells used equal the linear programme. Kills: ``<=`` -> ``<``, growth by 1.5,
    max_pairs not passed on."""
    from geo.analysis.commuting import excess_commuting

    geoms = np.array([box(20_000, 0, 21_000, 1000), box(0, 20_000, 1000, 21_000), box(-9000, -9000, -8000, -8000)],
                     dtype=object)
    hx = np.arange(8) * 1000.0 + 500.0
    hy = np.full(8, 300.0)
    wp = np.array([0, 1, 2, 0, 1, 2, 0, 1])
    w = np.array([3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0])
    for max_pairs, size, n in ((24, 1000.0, 8), (23, 2000.0, 4), (11, 4000.0, 2)):
        assert _cells_brute_force(hx, hy, wp, w, 1000.0, max_pairs) == (size, n)
        ex = excess_commuting(hx, hy, wp, w, geoms, cell_m=1000.0, max_pairs=max_pairs)
        assert (ex.cell_m, ex.cells) == (size, n)
        cells: dict[tuple[int, int], int] = {}
        for x, y in zip(hx, hy):
            cells.setdefault((math.floor(x / size), math.floor(y / size)), len(cells))
        cost = np.array([[g.distance(Point((ci + 0.5) * size, (cj + 0.5) * size)) for g in geoms]
                         for (ci, cj) in cells])
        supply, demand, obs = np.zeros(len(cells)), np.zeros(3), 0.0
        for x, y, j, v in zip(hx, hy, wp, w):
            i = cells[(math.floor(x / size), math.floor(y / size))]
            supply[i] += v
            demand[j] += v
            obs += v * cost[i, j]
        assert ex.t_obs == pytest.approx(obs / w.sum(), abs=0.05)     # float32 distances: centimetres
        assert ex.t_min == pytest.approx(_lp(cost, supply, demand, 1.0), abs=0.05)   # HiGHS's tolerance
        assert ex.t_max == pytest.approx(_lp(cost, supply, demand, -1.0), abs=0.05)


def test_sheds_use_the_cells_of_t_min_t_max_when_they_were_doubled(monkeypatch):
    """When the cells of t_min / t_max were doubled, commuting_sheds uses that same cell
    side (the one summary.cell_m reports). max_pairs is made small here so that the tiny
    study doubles. Kills: sheds on the configured 1000 m cells."""
    from geo.analysis import commuting
    from geo.analysis.commuting import _excess

    monkeypatch.setattr(commuting, "origin_cells", functools.partial(_excess.origin_cells, max_pairs=12))
    study = tiny_study(hand_flows())
    r = commuting.run(study, SETTINGS)
    size = r.summary["cell_m"]
    wps, _, per = brute_force(study)
    counted = [p for p, f in zip(per, study.commuting.itertuples()) if p["wp"] is not None and p["w"] > 0]
    assert size > 1000.0
    assert size == _cells_brute_force(study.commuting.home_x, study.commuting.home_y,
                                      [-1 if p["wp"] is None else p["wp"] for p in per],
                                      study.commuting.commuters, 1000.0, 12)[0]
    expect: dict[tuple, float] = {}
    for p, f in zip(per, study.commuting.itertuples()):
        if p["wp"] is None or p["w"] <= 0:
            continue
        key = (wps[p["wp"]][0], (math.floor(f.home_x / size) + 0.5) * size, (math.floor(f.home_y / size) + 0.5) * size)
        expect[key] = expect.get(key, 0.0) + p["w"]
    sheds = r.tables["commuting_sheds"]
    got = {(t.workplace_id, t.cell_x, t.cell_y): t.commuters for t in sheds.itertuples()}
    assert got == pytest.approx(expect)
    assert len(counted) > len(got)       # several flows share a doubled cell


# ---------------------------------------------------------------------------
# directions: 45° sectors centred on north, from the work end towards the home


def test_directions_equal_brute_force():
    """commuting_directions against a loop over the flows: the sector whose centre (N = 0°,
    NE = 45°, ... clockwise) is within 22.5° of the bearing work end -> home (the lower
    edge included), the distance band by commute_m (upper bounds inclusive); only flows
    with commuters (no row of 0). Hand flows at bearings 30° (NE, not N) and 340° (N), and
    a flow of nobody in a direction and band of its own. Kills: sectors starting at north
    instead of centred on it; zero-commuter rows."""
    from geo.analysis import commuting
    from geo.analysis.commuting import BAND_LABELS, SECTORS

    flows = hand_flows()
    r30, r340 = math.radians(30.0), math.radians(340.0)
    extra = _flows([(X0 + 2000 + 3000 * math.sin(r30), Y0 + 2000 + 3000 * math.cos(r30), X0 + 2000, Y0 + 2000, 2.0),
                    (X0 + 2000 + 4000 * math.sin(r340), Y0 + 2000 + 4000 * math.cos(r340), X0 + 2000, Y0 + 2000, 3.0),
                    (X0 + 12_500, Y0 + 90_000, X0 + 12_500, Y0 + 1500, 0.0)])    # nobody, I1 from 88.5 km north
    flows = pd.concat([flows, extra.assign(row=0)], ignore_index=True)
    study = tiny_study(flows)
    d = commuting.run(study, SETTINGS).tables["commuting_directions"]
    wps, _, per = brute_force(study)
    expect: dict[tuple, float] = {}
    for p, f in zip(per, study.commuting.itertuples()):
        if p["wp"] is None or p["w"] <= 0:
            continue
        bearing = math.degrees(math.atan2(f.home_x - f.work_x, f.home_y - f.work_y)) % 360.0
        sector = [s for i, s in enumerate(SECTORS) if -22.5 <= (bearing - 45.0 * i + 180.0) % 360.0 - 180.0 < 22.5]
        assert len(sector) == 1
        bounds = [5000.0, 10_000.0, 25_000.0, 50_000.0]
        band = next((BAND_LABELS[i] for i, b in enumerate(bounds) if p["len"] <= b), BAND_LABELS[-1])
        key = (wps[p["wp"]][0], sector[0], band)
        expect[key] = expect.get(key, 0.0) + p["w"]
    assert ("Z1", "NE", "0-5") in expect and ("Z1", "N", "0-5") in expect and ("I1", "N", "50+") not in expect
    got = {(t.workplace_id, t.direction, t.band_km): t.commuters for t in d.itertuples()}
    assert got == pytest.approx(expect)


# ---------------------------------------------------------------------------
# roads: minute shares at exactly 45 and 60 minutes


def test_minute_shares_at_exactly_45_and_60_minutes():
    """One road north from Z1's top edge at 60 km/h: homes on its vertices 45, 50 and 60 km
    away take exactly 45, 50 and 60 minutes (4, 3, 2 commuters); a fourth flow to Z1 (5
    commuters) has no time, a fifth ends outside every workplace. Within 45 minutes
    (inclusive) = 4 / 9 of the timed commuters, over 60 (exclusive) = 0, in the summary
    and in Z1's row; one flow to a workplace has no time (the warning). Kills: ``<=`` ->
    ``<`` for 45, ``>`` -> ``>=`` for 60, 45 -> 60, per-workplace shares over all
    commuters, the untimed warning counting the flow outside workplaces."""
    from geo.analysis import commuting

    top = Y0 + 3000
    graph = _graph([[(X0 + 2000, top), (X0 + 2000, top + 45_000), (X0 + 2000, top + 50_000),
                     (X0 + 2000, top + 60_000)]])
    flows = _flows([(X0 + 2000, top + 45_000, X0 + 2000, Y0 + 2000, 4),
                    (X0 + 2000, top + 50_000, X0 + 2500, Y0 + 2500, 3),
                    (X0 + 2000, top + 60_000, X0 + 1500, Y0 + 1500, 2),
                    (X0 + 9000, Y0 + 500, X0 + 2500, Y0 + 2500, 5),       # > 1000 m from every node
                    (X0 + 2000, top + 45_000, X0 + 9000, Y0 + 9000, 1)])  # outside every workplace
    study = tiny_study(flows)
    study.network = graph
    r = commuting.run(study, _road_settings())
    s = r.summary
    assert s["commuters_timed"] == 9.0
    assert s["mean_commute_min"] == pytest.approx((4 * 45.0 + 3 * 50.0 + 2 * 60.0) / 9.0, abs=1e-9)
    assert s["share_within_45min"] == pytest.approx(4.0 / 9.0)
    assert s["share_over_60min"] == 0.0
    z1 = r.tables["commuting_workplaces"].set_index("workplace_id").loc["Z1"]
    assert z1["commuters"] == 14.0
    assert z1["mean_commute_min"] == pytest.approx(50.0, abs=1e-9)
    assert z1["share_within_45min"] == pytest.approx(4.0 / 9.0)
    assert z1["share_over_60min"] == 0.0
    assert any(m.startswith("commuting: 1 flows to a workplace have no travel time") for m in r.warnings)


# ---------------------------------------------------------------------------
# roads: unreachable pairs and several cost matrices from the same searches


def _two_islands():
    """Road a along y = Y0 + 2500 (x = 500 .. 10500, through Z1), road b along y = Y0 + 7500
    (x = 14500 .. 20500, through Z3), not joined; vertices on cell centres."""
    graph = _graph([[(X0 + 500 + 1000 * i, Y0 + 2500) for i in range(11)],
                    [(X0 + 14_500 + 1000 * i, Y0 + 7500) for i in range(7)]])
    flows = _flows([(X0 + 8500, Y0 + 2500, X0 + 2000, Y0 + 2000, 2),    # 6 km to Z1's node at x = 2500
                    (X0 + 8500, Y0 + 2500, X0 + 15_000, Y0 + 7000, 1),  # Z3 not reachable from road a
                    (X0 + 18_500, Y0 + 7500, X0 + 15_000, Y0 + 7000, 1)])  # 3 km to Z3's node at x = 15500
    study = tiny_study(flows)
    study.network = graph
    return study


def test_unreachable_pairs_cost_the_longest_time_of_the_matrix():
    """Cells A (road a) and B (road b), workplaces Z1 (demand 2) and Z3 (demand 2): c(A, Z1)
    = 6 min, c(B, Z3) = 3 min, the two other pairs unreachable, so they cost 6 (the
    longest). With x = B's commuter sent to Z1: total 6(2 - x) + 6(1 + x) + 6x + 3(1 - x)
    = 21 + 3x, so t_obs = t_min = 21 / 4, t_max = 24 / 4 (checked by the linear
    programme too). Kills: unreachable pairs at the shortest time."""
    from geo.analysis import commuting

    r = commuting.run(_two_islands(), _road_settings())
    s = r.summary
    assert s["t_unreachable_pairs"] == 2
    cost = np.array([[6.0, 6.0], [6.0, 3.0]])
    supply, demand = np.array([3.0, 1.0]), np.array([2.0, 2.0])
    assert _lp(cost, supply, demand, 1.0) == pytest.approx(21 / 4)
    assert _lp(cost, supply, demand, -1.0) == pytest.approx(6.0)
    assert s["t_obs"] == pytest.approx(21 / 4, abs=1e-9)
    assert s["t_min"] == pytest.approx(21 / 4, abs=1e-9)
    assert s["t_max"] == pytest.approx(6.0, abs=1e-9)


def test_several_cell_sets_each_get_their_own_matrix():
    """road_minutes_sets with two cell sets of different sizes gives each the matrix it
    gives alone and that home_times gives (cells as homes, NaN where not connected); a
    run given an extra cell set reports the same summary as a run without. Kills: the
    second set indexing the first set's points, both sets read at the same offset, the
    commuting's own matrix taken from the last set."""
    from geo.analysis import commuting
    from geo.analysis.balance import workplaces_from
    from geo.analysis.commuting._assign import road_minutes_sets
    from geo.network import home_times

    study = _two_islands()
    geoms = workplaces_from(study.zones, study.innovation_districts).geometry.to_numpy()
    f = study.commuting
    hx, hy = f.home_x.to_numpy(), f.home_y.to_numpy()
    wp = np.array([0, 2, 2])
    kw = dict(max_access_m=1000.0, access_speed_kmh=5.0)
    set1 = (np.array([[X0 + 4500, Y0 + 2500], [X0 + 16_500, Y0 + 7500]]), np.array([0, 2]))
    set2 = (np.array([[X0 + 9500, Y0 + 2500], [X0 + 19_500, Y0 + 7500], [X0 + 600, Y0 + 2400]]), np.array([2, 3, 0]))
    minutes, costs, metres = road_minutes_sets(study.network, hx, hy, wp, geoms, [set1, set2], **kw)
    for (xy, used), got in zip((set1, set2), costs):
        ref = home_times(study.network, xy, geoms[used], **kw)
        assert got.shape == (len(xy), len(used))
        np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
        np.testing.assert_allclose(got[np.isfinite(got)], ref[np.isfinite(ref)], rtol=1e-12, atol=0)
        alone = road_minutes_sets(study.network, hx, hy, wp, geoms, [(xy, used)], **kw)[1][0]
        np.testing.assert_array_equal(got, alone)
    assert costs[0][0, 0] == pytest.approx(2.0) and costs[1][1, 0] == pytest.approx(4.0)
    plain = commuting.run(study, _road_settings()).summary
    res, extra = commuting.run_with_cells(study, _road_settings(), [set2])
    for key in ("t_obs", "t_min", "t_max", "t_cells", "t_unreachable_pairs"):
        assert res.summary[key] == plain[key]
    np.testing.assert_array_equal(extra[0], costs[1])


# ---------------------------------------------------------------------------
# the label raster of many points


def test_raster_lookup_equals_the_exact_test_near_irregular_boundaries():
    """Points jittered within a few pixels of the boundaries of random irregular polygons
    (seed 6: one of them lies in a pixel that its polygon's edge only clips) get from the
    label raster the polygon the STRtree gives. Kills: the boundary raster drawn without
    ``all_touched`` (a pixel an edge crosses then counts as far from every boundary)."""
    from shapely.geometry import Polygon

    from geo.analysis.commuting._assign import _containing_raster, _containing_tree

    rng = np.random.default_rng(6)
    polys = []
    for _ in range(int(rng.integers(3, 9))):
        cx, cy, r = rng.uniform(0, 10_000), rng.uniform(0, 10_000), rng.uniform(300, 3000)
        ang = np.sort(rng.uniform(0, 2 * np.pi, int(rng.integers(3, 12))))
        rad = r * rng.uniform(0.3, 1.0, len(ang))
        p = Polygon(np.column_stack([cx + rad * np.cos(ang), cy + rad * np.sin(ang)])).buffer(0)
        if not p.is_empty:
            polys.append(p)
    geoms = np.array(polys, dtype=object)
    x0, y0, x1, y1 = shapely.total_bounds(geoms)
    pixel = max(x1 - x0, y1 - y0) / 2048
    pts = []
    for g in polys:
        q = shapely.line_interpolate_point(g.boundary, rng.uniform(0, g.boundary.length, 20_000))
        pts.append(np.column_stack([shapely.get_x(q), shapely.get_y(q)]) + rng.normal(0, 1.5 * pixel, (20_000, 2)))
    pts.append(np.column_stack([rng.uniform(-100, 10_100, 40_000), rng.uniform(-100, 10_100, 40_000)]))
    xy = np.concatenate(pts)
    assert len(xy) > 100_000
    np.testing.assert_array_equal(_containing_raster(geoms, xy[:, 0], xy[:, 1]),
                                  _containing_tree(geoms, xy[:, 0], xy[:, 1]))
