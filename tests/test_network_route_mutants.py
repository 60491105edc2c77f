"""Tests written for hand-planted mutants of the road-network kernels that survived the
existing suite (routes, access, links, travel, _contract; docs/mutation-survivors.md,
"geo/network, planted by hand"). Each checks a real outcome against a hand-computed value on a tiny
hand-drawn network or against the networkx brute force of tests/test_network_routes.py
and tests/test_network.py, which read DESIGN.md ("Roads and travel time") literally.

Speeds of 61.44 and 30.72 km/h are 1024 and 512 m per minute: segment times of whole
metres are exact binary fractions, so equal-time routes tie to the last bit and the tie
rule ("the shortest of the fastest routes") is tested, not left to rounding.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, Point, box

import geo.network as gn
from geo.network.routes import home_routes
from tests.test_network_routes import ACCESS_KMH, _roads, brute_force


def _check_against_brute_force(roads, homes, polys, pairs, max_access_m):
    graph = gn.build_graph(roads)
    t, m = home_routes(graph, homes, polys, pairs, access_speed_kmh=ACCESS_KMH, max_access_m=max_access_m)
    bt, bm = brute_force(roads, homes, polys, pairs, ACCESS_KMH, max_access_m)
    np.testing.assert_allclose(t, bt, rtol=0, atol=1e-9)
    np.testing.assert_allclose(m, bm, rtol=0, atol=1e-6)
    return t, m


# ---------------------------------------------------------------- _contract: parallel chains

def test_parallel_chains_of_equal_time_the_shorter_counts():
    # kept nodes u = (0, 0) and v = (1024, 0) (each has a stub road: degree 3), joined by
    # two chains of 2 minutes: 1024 m at 512 m/min (mid vertex (512, 0)) and 2048 m at
    # 1024 m/min (round by y = 512). Home at the west stub's end, workplace at the east
    # one's: 256 + 1024 + 256 m, 0.25 + 2 + 0.25 minutes, whichever chain is listed first.
    direct = LineString([(0, 0), (512, 0), (1024, 0)])
    detour = LineString([(0, 0), (0, 512), (1024, 512), (1024, 0)])
    stubs = [LineString([(-256, 0), (0, 0)]), LineString([(1024, 0), (1280, 0)])]
    home = np.array([[-256.0, 0.0]])
    work = np.array([box(1270, -10, 1290, 10)], dtype=object)
    pairs = np.array([[0, 0]])
    for chains in ((direct, detour), (detour, direct)):
        speeds = [30.72 if g is direct else 61.44 for g in chains] + [61.44, 61.44]
        roads = _roads([*chains, *stubs], speed_kmh=speeds, oneway=["no"] * 4)
        t, m = _check_against_brute_force(roads, home, work, pairs, 20.0)
        assert t[0] == 2.5 and m[0] == 1536.0


# ---------------------------------------------------------------- access: the nearest-node tie rule

def test_nodes_within_a_micrometre_of_the_nearest_are_equally_near():
    # nodes (-100, 0) and (100, 0); a home 0.2 µm east of the midpoint is 0.4 µm nearer the
    # east node, which the spatial index returns first. Within 1 µm they are equally near
    # (access.py, DESIGN's tie rule): the west one (smallest x) is taken, with its distance.
    graph = gn.build_graph(_roads([LineString([(-100, 0), (0, 500), (100, 0)])], speed_kmh=[30.0], oneway=["no"]))
    home = np.array([[2e-7, 0.0]])
    acc = gn.housing_access(graph, home)
    assert graph.node_xy[acc.node[0]].tolist() == [-100.0, 0.0]
    assert acc.distance_m[0] == pytest.approx(100.0 + 2e-7, abs=1e-9)
    assert acc.distance_m[0] > 100.0          # the farther of the two, not the nearest
    # 2 µm off the midpoint: no longer equally near, the nearest (east) node
    acc = gn.housing_access(graph, np.array([[2e-6, 0.0]]))
    assert graph.node_xy[acc.node[0]].tolist() == [100.0, 0.0]


def test_equally_near_nodes_smallest_x_before_smallest_y():
    # a home at (50, 50) is equally near (0, 100) and (100, 0) (no other node is as near):
    # the smallest x wins, although (100, 0) has the smaller y; the minutes follow that
    # node (the workplace lies up the road from (0, 100): 100 m at 6 km/h = 1 minute).
    road = LineString([(100, 0), (0, 100), (0, 200)])
    for geoms in ([road], [LineString(road.coords[::-1])]):
        graph = gn.build_graph(_roads(geoms, speed_kmh=[6.0], oneway=["no"]))
        home = np.array([[50.0, 50.0]])
        acc = gn.housing_access(graph, home)
        assert graph.node_xy[acc.node[0]].tolist() == [0.0, 100.0]
        work = [box(-5, 195, 5, 205)]
        access = math.sqrt(5000.0) / (5.0 * 1000 / 60)
        assert gn.home_times(graph, home, work, max_access_m=100.0)[0, 0] == pytest.approx(access + 1.0, abs=1e-12)


# ---------------------------------------------------------------- links: the straight-line bound

def test_straight_bound_holds_across_a_snapped_gap():
    # road A ends at (0, 0), road B starts 0.9 m east of it: one node (snap tolerance 1 m),
    # placed at (0, 0), while B's segment keeps its own 10 m. P and Q, 20.9 m apart, are
    # linked in 20 m of road at 6 km/h = 0.2 minutes: the bound for 0.2 minutes must not
    # cut them off (the 1 % margin alone, 0.2 m, is less than the 0.9 m jump).
    roads = _roads([LineString([(-10, 0), (0, 0)]), LineString([(0.9, 0), (10.9, 0)])],
                   speed_kmh=[6.0, 6.0], oneway=["no", "no"])
    graph = gn.build_graph(roads, snap_tolerance_m=1.0)
    feats = np.array([Point(-10, 0), Point(10.9, 0)], dtype=object)
    e = gn.feature_entries(graph, feats)
    t = gn.travel_between_sets(graph, e, e, np.array([[0, 1]]))
    assert t[0] == pytest.approx(0.2, abs=1e-12)
    assert shapely.distance(feats[0], feats[1]) <= gn.straight_bound_m(graph, float(t[0]))


# ---------------------------------------------------------------- access: max_access_m + 1 µm

def test_workplace_entry_and_home_agree_at_max_access_plus_the_tolerance():
    # every straight-line "within r" decision compares with r + DISTANCE_TOLERANCE_M,
    # inclusive (tests/test_distance_tolerance.py): a node measured exactly 500 m + 1 µm
    # from a workplace is an entry, as a home exactly that far from the node is connected
    from geo.schema import DISTANCE_TOLERANCE_M

    limit = 500.0 + DISTANCE_TOLERANCE_M
    road = LineString([(limit, -50.0), (limit + 500.0, -50.0)])
    graph = gn.build_graph(_roads([road], speed_kmh=[30.0], oneway=["no"]))
    work = box(-100.0, -100.0, 0.0, 0.0)
    assert shapely.distance(work, Point(limit, -50.0)) == limit        # measured exactly
    entries = gn.workplace_entries(graph, [work], max_access_m=500.0, access_speed_kmh=5.0)
    assert graph.node_xy[entries.node].tolist() == [[limit, -50.0]]
    assert entries.egress_min[0] == pytest.approx(limit * 60.0 / 5000.0, abs=1e-12)
    home = np.array([[0.0, -50.0]])
    acc = gn.housing_access(graph, home, max_access_m=500.0)
    assert acc.connected.tolist() == [True] and acc.distance_m[0] == limit
    # the home at the workplace's corner region: access + egress, no road
    assert gn.home_times(graph, home, [work], max_access_m=500.0)[0, 0] == pytest.approx(
        2 * limit * 60.0 / 5000.0, abs=1e-12)


# ---------------------------------------------------------------- links: what is remembered

def test_a_larger_limit_replaces_the_remembered_minutes(monkeypatch):
    # linked_minutes: "a request is answered from memory when every pair was computed before
    # with at least its limit". After limits 2 then 4, a request at 4 (or 3) is answered
    # from memory with the minutes of a fresh search at that limit.
    import geo.network.links as links
    from tests.test_network import random_study

    roads, _, _, polys = random_study(3)
    graph = gn.build_graph(roads)
    zg = np.array(polys, dtype=object)
    pairs = np.array([(i, j) for i in range(len(zg)) for j in range(i + 1, len(zg))])
    e = gn.feature_entries(graph, zg)
    fresh = {lim: gn.travel_between_sets(graph, e, e, pairs, limit_min=lim) for lim in (2.0, 3.0, 4.0)}
    assert np.isfinite(fresh[4.0]).sum() > np.isfinite(fresh[2.0]).sum()     # the limits matter
    for lim in (2.0, 4.0):
        np.testing.assert_array_equal(gn.linked_minutes(graph, zg, zg, pairs, limit_min=lim), fresh[lim])

    def boom(*args, **kwargs):
        raise AssertionError("searched again")

    monkeypatch.setattr(links, "travel_between_sets", boom)
    for lim in (4.0, 3.0, 2.0):
        np.testing.assert_array_equal(gn.linked_minutes(graph, zg, zg, pairs, limit_min=lim), fresh[lim])


def test_link_many_remembers_each_set_under_its_own_pairs(monkeypatch):
    # link_many: "each result is remembered as if asked on its own, so later linked_minutes
    # calls are answered from memory" -- also for a second set of another size than the first
    import geo.network.links as links
    from tests.test_network import random_study

    roads, homes, _, polys = random_study(5)
    graph = gn.build_graph(roads)
    a = np.array(polys, dtype=object)
    bs = [np.array([Point(xy) for xy in homes[:3]], dtype=object),
          np.array([Point(xy) for xy in homes[3:12]], dtype=object)]
    pairs = [np.array([(i, j) for i in range(len(a)) for j in range(len(b))]) for b in bs]
    want = [gn.travel_between_sets(graph, gn.feature_entries(graph, a), gn.feature_entries(graph, b), p)
            for b, p in zip(bs, pairs)]
    assert all(np.isfinite(w).sum() > 3 for w in want)
    got = gn.link_many(graph, a, bs, pairs)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=0, atol=1e-12)

    def boom(*args, **kwargs):
        raise AssertionError("searched again")

    monkeypatch.setattr(links, "travel_between_sets", boom)
    for b, p, w in zip(bs, pairs, want):
        np.testing.assert_allclose(gn.linked_minutes(graph, a, b, p), w, rtol=0, atol=1e-12)
        np.testing.assert_allclose(gn.linked_minutes(graph, b, a, p[:, ::-1]), w, rtol=0, atol=1e-12)


# ---------------------------------------------------------------- routes: entries inside chains

def test_chain_entries_of_one_workplace_are_not_read_for_another():
    # two chains: (100, 0) between (0, 0) and (200, 0), and (200, 100) between (200, 0) and
    # (200, 200). Workplace 0 holds (200, 100), workplace 1 holds (200, 200) only. From the
    # home at (100, 0): 200 m to workplace 0 and 300 m to workplace 1 at 30 km/h (500 m/min).
    # The ways along a chain are keyed by (workplace, chain): the entry of workplace 0 on the
    # second chain is no way into workplace 1.
    lines = [[(0, 0), (100, 0), (200, 0)], [(200, 0), (200, 100), (200, 200)], [(200, 0), (300, 0)]]
    roads = _roads([LineString(c) for c in lines], speed_kmh=[30.0] * 3, oneway=["no"] * 3)
    polys = np.array([box(190, 90, 210, 110), box(190, 190, 210, 210)], dtype=object)
    home = np.array([[100.0, 0.0]])
    pairs = np.array([[0, 0], [0, 1]])
    graph = gn.build_graph(roads)
    t, m = home_routes(graph, home, polys, pairs, access_speed_kmh=5.0, max_access_m=5.0)
    np.testing.assert_allclose(m, [200.0, 300.0], rtol=0, atol=1e-9)
    np.testing.assert_allclose(t, [0.4, 0.6], rtol=0, atol=1e-12)
    bt, bm = brute_force(roads, home, polys, pairs, 5.0, 5.0)
    np.testing.assert_allclose(t, bt, rtol=0, atol=1e-9)
    np.testing.assert_allclose(m, bm, rtol=0, atol=1e-6)
    np.testing.assert_allclose(t, gn.home_times(graph, home, polys, pairs=pairs, max_access_m=5.0), rtol=0, atol=1e-12)


# ---------------------------------------------------------------- travel: unconnected origins, the limit

def test_origins_without_entries_have_no_minutes_even_when_alone():
    # a home 20 km from every road and a workplace 20 km from every road: not connected
    # (DESIGN "Access"), so no minutes, also when they are the only origins asked about
    road = LineString([(0, 0), (512, 0), (1024, 0)])
    graph = gn.build_graph(_roads([road], speed_kmh=[61.44], oneway=["no"]))
    polys = [box(1014, -10, 1034, 10), box(20000, 0, 20100, 100)]
    homes = np.array([[0.0, 0.0], [20000.0, -20000.0]])
    assert gn.home_times(graph, homes, polys, pairs=np.array([[0, 0]]))[0] == 1.0       # 1024 m at 1024 m/min
    assert np.isnan(gn.home_times(graph, homes, polys, pairs=np.array([[1, 0]]))).all()
    assert np.isnan(gn.home_times(graph, homes, polys, pairs=np.array([[1, 0], [1, 1]]))).all()
    assert np.isnan(gn.travel_between(graph, polys, np.array([[1, 0]]))).all()
    assert np.isnan(gn.travel_between(graph, polys, np.array([[0, 1]]))).all()
    ht = gn.home_times(graph, homes, polys)
    assert ht[0, 0] == 1.0 and np.isnan(ht[1]).all() and np.isnan(ht[:, 1]).all()


def test_travel_between_keeps_a_pair_at_the_limit_within_the_tolerance():
    # 1024 m at 1024 m/min between two workplaces holding the road's ends: exactly 1 minute.
    # Slower than the limit is dropped; the limit is compared with TIME_TOLERANCE_MIN
    # (1e-6 min), inclusive, as every limit is: at limit + tolerance the pair stays.
    from geo.network.reach import TIME_TOLERANCE_MIN

    road = LineString([(0, 0), (512, 0), (1024, 0)])
    graph = gn.build_graph(_roads([road], speed_kmh=[61.44], oneway=["no"]))
    polys = [box(-10, -10, 10, 10), box(1014, -10, 1034, 10)]
    pairs = np.array([[0, 1]])
    limit = 1.0 - TIME_TOLERANCE_MIN
    while limit + TIME_TOLERANCE_MIN < 1.0:
        limit = np.nextafter(limit, 2.0)
    while limit + TIME_TOLERANCE_MIN > 1.0:
        limit = np.nextafter(limit, 0.0)
    assert limit + TIME_TOLERANCE_MIN == 1.0
    assert gn.travel_between(graph, polys, pairs, limit_min=limit)[0] == 1.0
    assert gn.travel_between(graph, polys, pairs, limit_min=1.0)[0] == 1.0
    assert np.isnan(gn.travel_between(graph, polys, pairs, limit_min=0.999)[0])
    e = gn.workplace_entries(graph, polys)
    assert gn.travel_between_sets(graph, e, e, pairs, limit_min=limit)[0] == 1.0


# ---------------------------------------------------------------- _contract without lengths

def test_contraction_without_lengths_keeps_the_shortest_times():
    # DESIGN of _contract: "shortest times between kept nodes are unchanged", also when the
    # graph is contracted without lengths (times only); two parallel chains of different
    # times between the same kept nodes, and the random studies of test_network.py
    from scipy.sparse.csgraph import dijkstra

    from geo.network._contract import contract
    from tests.test_network import random_study

    slow = LineString([(0, 0), (512, 0), (1024, 0)])
    fast = LineString([(0, 0), (0, 512), (1024, 512), (1024, 0)])
    stubs = [LineString([(-256, 0), (0, 0)]), LineString([(1024, 0), (1280, 0)])]
    cases = [_roads([slow, fast, *stubs], speed_kmh=[15.36, 61.44, 61.44, 61.44], oneway=["no"] * 4),
             _roads([fast, slow, *stubs], speed_kmh=[61.44, 15.36, 61.44, 61.44], oneway=["no", "yes", "no", "no"])]
    cases += [random_study(seed)[0] for seed in (3, 8)]
    for c, roads in enumerate(cases):
        g = gn.build_graph(roads)
        und = ((g.times + g.times.T) > 0).astype(np.int8)
        cg = contract(g.times, und, xy=g.node_xy)     # kept nodes numbered as the graph's
        assert cg.lengths is None
        k = cg.kept_nodes
        np.testing.assert_array_equal(k, g.contraction.kept_nodes)
        np.testing.assert_allclose(dijkstra(cg.times, directed=True), dijkstra(g.times, directed=True)[np.ix_(k, k)],
                                   rtol=0, atol=1e-9)
        if c < 2:       # the parallel chains: (0, 0) -> (1024, 0) over the fast one, 2048 m at 1024 m/min
            u, v = (cg.kidx[np.flatnonzero((g.node_xy == xy).all(axis=1))[0]] for xy in ([0, 0], [1024, 0]))
            assert cg.times[u, v] == 2.0


def test_kept_nodes_along_a_z_curve_change_no_time_or_length():
    # _contract: with the nodes' coordinates the kept nodes are numbered along a Z-order
    # curve (memory locality for the searches); the same nodes, edges, times and metres as
    # numbered by node id, and the order does follow the curve
    from geo.network._contract import contract, z_order
    from tests.test_network import random_study

    for seed in (3, 8, 11):
        g = gn.build_graph(random_study(seed)[0])
        und = ((g.times + g.times.T) > 0).astype(np.int8)
        by_id = contract(g.times, und, g.lengths)
        by_z = g.contraction
        assert np.array_equal(by_id.kept_nodes, np.sort(by_z.kept_nodes))
        assert not np.array_equal(by_id.kept_nodes, by_z.kept_nodes)     # reordered indeed
        assert np.array_equal(by_z.kept_nodes, by_id.kept_nodes[z_order(g.node_xy[by_id.kept_nodes])])
        perm = by_id.kidx[by_z.kept_nodes]          # by_z's kept index -> by_id's
        for a, b in ((by_z.times, by_id.times), (by_z.lengths, by_id.lengths), (by_z.rev, by_id.rev)):
            assert (a != b[perm][:, perm]).nnz == 0
        for name in ("ku", "kv"):                   # chain ends: the same nodes
            assert np.array_equal(by_z.kept_nodes[getattr(by_z, name)], by_id.kept_nodes[getattr(by_id, name)])
        for name in ("to_u", "to_v", "from_u", "from_v", "rank", "chain"):
            assert np.array_equal(getattr(by_z, name), getattr(by_id, name))


def test_z_order_follows_the_curve_on_a_grid():
    from geo.network._contract import z_order

    xy = np.array([(x, y) for y in range(4) for x in range(4)], dtype=float)   # row by row
    order = z_order(xy)
    # Z curve over 4 × 4: the four 2 × 2 quadrants one after the other, each as a "Z"
    quads = [tuple(sorted(map(tuple, xy[order[i:i + 4]].astype(int).tolist()))) for i in range(0, 16, 4)]
    assert quads == [((0, 0), (0, 1), (1, 0), (1, 1)), ((2, 0), (2, 1), (3, 0), (3, 1)),
                     ((0, 2), (0, 3), (1, 2), (1, 3)), ((2, 2), (2, 3), (3, 2), (3, 3))]
    assert xy[order[:4]].tolist() == [[0, 0], [1, 0], [0, 1], [1, 1]]
    assert sorted(order.tolist()) == list(range(16)) and z_order(np.zeros((0, 2))).shape == (0,)
