"""Tests written for hand-planted mutants of the road-network kernels that survived the
network tests (geo/network/reach.py, _search.py, isochrones.py; docs/mutation-survivors.md,
"geo/network, planted by hand"). Each checks a real outcome: the networkx brute force of
tests/test_network.py applied to DESIGN.md's definitions, or values computed by hand on a
tiny drawn network.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, Point, box

import geo.network as gn
from geo.network.isochrones import SIMPLIFY_CELLS
from tests.test_network import TOL, BruteForce, _roads, random_study


def _just_below(t: float) -> float:
    """The horizon m with m + TIME_TOLERANCE_MIN == t exactly (a time at the tolerance's edge)."""
    m = t - gn.TIME_TOLERANCE_MIN
    while m + gn.TIME_TOLERANCE_MIN > t:
        m = np.nextafter(m, -np.inf)
    while m + gn.TIME_TOLERANCE_MIN < t:
        m = np.nextafter(m, np.inf)
    assert m + gn.TIME_TOLERANCE_MIN == t
    return float(m)


# --- a time exactly at horizon + tolerance is within, for counts and reached nodes -----

def test_a_time_of_exactly_the_horizon_plus_the_tolerance_is_within():
    """Two times closer than the tolerance are equal, so a node or home whose time is
    exactly m + tolerance is within m (the brute force's ``t <= m + TOL``), in the counts
    and in the reached nodes alike. 1,000 m segments at 60 km/h: 1 minute each, exactly.
    The workplace holds the vertex at x = 1000 (inside a chain 0 - 3000): x = 0 is a kept
    end 1 minute away, x = 2000 a chain vertex 1 minute away along the chain."""
    road = LineString([(0, 0), (1000, 0), (2000, 0), (3000, 0)])
    graph = gn.build_graph(_roads([road], speed_kmh=[60.0]))
    assert graph.contraction.n_kept == 2          # x = 1000 and 2000 are inside a chain
    homes = np.array([[0.0, 0.0], [2000.0, 0.0], [3000.0, 0.0]])   # on nodes: no access time
    m = _just_below(1.0)
    res = gn.workers_within_minutes(graph, homes, np.array([1.0, 10.0, 100.0]), [box(990, -10, 1010, 10)],
                                    [0.5, m], primary_minute=m, reached_nodes="all")
    assert res.workers.tolist() == [[0.0, 11.0]]
    assert sorted(graph.node_xy[res.reached[0], 0].tolist()) == [0.0, 1000.0, 2000.0]


# --- the outline of reached nodes holds every reached vertex of a chain half in reach --

def _chain_ends(bf: BruteForce, x) -> list | None:
    """The two non-degree-2 nodes at the ends of the chain of degree-2 node ``x`` (walking
    the undirected graph), or None for a closed ring of degree-2 nodes."""
    ends = []
    nbrs = sorted(set(bf.g.successors(x)) | set(bf.g.predecessors(x)))
    for first in nbrs:
        prev, cur = x, first
        while bf.undirected_degree(cur) == 2:
            nxt = [n for n in set(bf.g.successors(cur)) | set(bf.g.predecessors(cur)) if n != prev]
            prev, cur = cur, nxt[0]
            if cur == x:
                return None
        ends.append(cur)
    return ends


@pytest.mark.parametrize("seed", range(8))
def test_the_outline_holds_every_reached_vertex_of_a_chain_with_an_end_out_of_reach(seed):
    """``reached_nodes='outline'`` leaves out only vertices of roads reached at both ends
    (they add nothing to the drawn area): a reached degree-2 vertex whose road (up to the
    next junctions or dead ends) has an end out of reach must be listed."""
    roads, homes, workers, polys = random_study(seed)
    bf = BruteForce(roads, tol_m=1.0, max_access_m=40.0)    # few entries: few chains hold one
    graph = gn.build_graph(roads, snap_tolerance_m=1.0)
    primary = 1.5
    res = gn.workers_within_minutes(graph, homes, workers, polys, [primary], primary_minute=primary,
                                    max_access_m=40.0)
    checked = 0
    for w, poly in enumerate(polys):
        within = bf.nodes_within(poly, primary)
        want = set()
        for x in within:
            if bf.undirected_degree(x) != 2:
                want.add(x)
                continue
            ends = _chain_ends(bf, x)
            if ends is not None and not set(ends) <= within:
                want.add(x)
                checked += 1
        got = set(map(tuple, graph.node_xy[res.reached[w]].tolist()))
        assert {bf.xy[n] for n in want} <= got
        assert got <= {bf.xy[n] for n in within}
    assert checked > 0        # the study has roads half in reach


# --- isochrone polygons ------------------------------------------------------------------

def test_an_isochrone_reaching_a_single_node_holds_it():
    """A workplace 100 m off the end of a road reaches only that end within 1.5 minutes
    (egress 100 m at 5 km/h = 1.2 min; the other end is 2 km away at 20 km/h): its
    isochrone is the workplace united with that node's cell, so the node lies in it or
    within SIMPLIFY_CELLS x cell_m of it (DESIGN.md: one polygon per workplace, the area
    reached)."""
    graph = gn.build_graph(_roads([LineString([(0, 0), (2000, 0)])], speed_kmh=[20.0]))
    work = [box(-300, -10, -100, 10)]
    res = gn.workers_within_minutes(graph, np.zeros((0, 2)), np.zeros(0), work, [1.5], primary_minute=1.5,
                                    max_access_m=150.0, reached_nodes="all")
    assert graph.node_xy[res.reached[0]].tolist() == [[0.0, 0.0]]
    cell = 50.0
    poly = gn.isochrone_polygons(graph, res.reached, work, cell_m=cell)[0]
    assert poly.contains(work[0])
    assert poly.distance(Point(0, 0)) <= SIMPLIFY_CELLS * cell + 1e-9
    assert poly.distance(Point(2000, 0)) > 1000          # the far end is not reached


def test_isochrone_holes_smaller_than_min_hole_cells_are_filled_and_others_kept():
    """A ring road of 100 m segments around a 3 x 3 block of 100 m cells, every node
    reached: the closing (1 cell: the ring is one chain, one kept node) shrinks the block
    to a plus of 5 cells, which stays a hole when min_hole_cells = 5 ("holes smaller than
    this many cells are filled") and is filled when it is 6."""
    ring = [(x, 0.0) for x in range(0, 400, 100)] + [(400.0, y) for y in range(0, 400, 100)]
    ring += [(x, 400.0) for x in range(400, 0, -100)] + [(0.0, y) for y in range(400, -1, -100)]
    graph = gn.build_graph(_roads([LineString(ring)], speed_kmh=[20.0]))
    assert graph.n_nodes == 16
    reached = [np.arange(graph.n_nodes)]
    work = [box(-30, -30, 10, 10)]     # over the ring's corner
    centre = Point(250, 150)           # the middle cell of the block (cells anchored at x = 0, y = 400)
    kept = gn.isochrone_polygons(graph, reached, work, cell_m=100.0, min_hole_cells=5)[0]
    filled = gn.isochrone_polygons(graph, reached, work, cell_m=100.0, min_hole_cells=6)[0]
    assert not kept.contains(centre) and filled.contains(centre)
    assert shapely.get_num_interior_rings(kept) == 1 and shapely.get_num_interior_rings(filled) == 0
    assert kept.contains(work[0]) and filled.contains(work[0])


@pytest.mark.parametrize("roads_xy", [
    [[(0, 0), (50, 0), (100, 0), (150, 0), (200, 0), (250, 0)]],               # one road: 2 kept ends
    [[(0, 0), (250, 0)], [(250, 0), (500, 0)], [(250, 0), (250, 250)]],       # a T: 4 kept nodes
])
def test_closing_bridges_the_median_spacing_of_kept_nodes_in_cells(roads_xy):
    """The closing of the isochrone cells spans the median distance from a kept node to its
    nearest kept neighbour, in cells, at least 1 and at most MAX_CLOSING_CELLS: here every
    kept node is 250 m from its nearest, so 100 m cells give 3 (2.5 rounded up) and 50 m
    cells the maximum, also when the whole network is one road (two kept nodes)."""
    from geo.network.isochrones import MAX_CLOSING_CELLS, _closing_cells

    graph = gn.build_graph(_roads([LineString(c) for c in roads_xy], speed_kmh=[30.0] * len(roads_xy)))
    assert graph.contraction.n_kept == (2 if len(roads_xy) == 1 else 4)
    assert _closing_cells(graph, 100.0) == 3
    assert _closing_cells(graph, 50.0) == min(5, MAX_CLOSING_CELLS)
    assert _closing_cells(graph, 1000.0) == 1


# --- reached nodes beyond every counted horizon; a workplace inside a long road -------

@pytest.mark.parametrize("seed", range(4))
def test_reached_nodes_follow_a_primary_horizon_beyond_every_counted_one(seed):
    """The nodes reached within the primary horizon (isochrones) are those of the brute
    force also when the primary horizon is longer than every horizon counted."""
    roads, homes, workers, polys = random_study(seed)
    bf = BruteForce(roads, tol_m=1.0)
    graph = gn.build_graph(roads, snap_tolerance_m=1.0)
    res = gn.workers_within_minutes(graph, homes, workers, polys, [0.5, 1.0], primary_minute=2.5,
                                    reached_nodes="all")
    times = bf.home_times(homes, polys)
    np.testing.assert_array_equal(res.workers[res.connected],
                                  np.array([[workers[times[:, w] <= m + TOL].sum() for m in (0.5, 1.0)]
                                            for w in np.flatnonzero(res.connected)]))
    for w, poly in enumerate(polys):
        want = sorted(bf.xy[n] for n in bf.nodes_within(poly, 2.5))
        assert sorted(map(tuple, graph.node_xy[res.reached[w]].tolist())) == want


def test_workplaces_inside_one_long_road_with_both_ends_beyond_the_horizon():
    """One road, 0 - 3000 m, a vertex every 100 m, 60 km/h (0.1 min per segment); two
    workplaces on vertices in the middle (W1 at 1500, 1 job; W2 at 2300, 3 jobs), both road
    ends beyond the 0.5-minute horizon, so every home reaches them along the road only (no
    kept node of the simplified graph is reached: the counts used to fail with a numpy
    casting error, the sum of the stars being an integer array when no star was read).
    Homes on vertices (no access time): 1300 (10 workers) 0.2 min from W1, 1.0 from W2;
    1900 (40) 0.4 from both; 2700 (20) 1.2 from W1, 0.4 from W2; 100 (5) out of reach.
    Within 0.5 min: W1 50, W2 60; shared by jobs: W1 = 10 + 40 / 4 = 20, W2 = 40 * 3 / 4 + 20 = 50."""
    road = LineString([(x, 0.0) for x in range(0, 3001, 100)])
    graph = gn.build_graph(_roads([road], speed_kmh=[60.0]))
    assert graph.contraction.n_kept == 2
    work = [box(1490, -10, 1510, 10), box(2290, -10, 2310, 10)]
    homes = np.array([[1300.0, 0.0], [1900.0, 0.0], [2700.0, 0.0], [100.0, 0.0]])
    workers = np.array([10.0, 40.0, 20.0, 5.0])
    within = gn.workers_within_minutes(graph, homes, workers, work, [0.5], max_access_m=50.0).workers
    assert within[:, 0].tolist() == [50.0, 60.0]
    for w in range(2):       # one workplace at a time: a batch of one row
        alone = gn.workers_within_minutes(graph, homes, workers, work[w:w + 1], [0.5], max_access_m=50.0)
        assert alone.workers[0, 0] == within[w, 0]
    shared = gn.workers_shared_within(graph, homes, workers, work, np.array([1.0, 3.0]), 0.5, max_access_m=50.0)
    np.testing.assert_allclose(shared, [20.0, 50.0], rtol=1e-12)
