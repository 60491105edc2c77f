"""A feature exactly at a straight-line limit counts, whatever the rounding of its distance.

GEOS measures a point exactly 500 m from a polygon edge 1,316 m long as
500.00000000000006 m (the point-to-segment formula divides by the squared edge length,
then multiplies by the length). Every straight-line "within r" decision compares with
``r + DISTANCE_TOLERANCE_M`` (1 µm), so such a point is in reach, as DESIGN.md's "≤ r"
says; 1 cm beyond it is not. Found by tests/test_fuzz.py (a random study with a home
on the vertex of another zone, exactly 500 m from Z3's edge). The roads' ``max_access_m``
follows the same rule (a node at that distance from a workplace's edge is an entry).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from geo.analysis._decide import decide_within
from geo.analysis._reach import DISTANCE_TOLERANCE_M, PointIndex
from geo.analysis.balance import jobs_by_threshold, workers_within, workplace_pairs
from geo.analysis.chains._reach import Reach
from geo.analysis.collaboration._pairs import candidate_pairs
from geo.analysis.commuting._assign import nearest_within
from geo.analysis.core_periphery._attachment import attach

EDGE = shapely.box(0.0, 0.0, 100.0, 1316.0)        # right edge x = 100, 1,316 m long
ON = (600.0, 960.0)                                # exactly 500 m from that edge
BEYOND = (600.01, 960.0)                           # 1 cm farther


def test_the_rounding_is_real():
    # the premise: a strict test on GEOS's distance would drop the point on the radius
    assert shapely.distance(EDGE, shapely.Point(*ON)) > 500.0
    assert shapely.distance(EDGE, shapely.box(600.0, 100.0, 700.0, 1200.0)) > 500.0
    assert DISTANCE_TOLERANCE_M <= 1e-6


def test_balance_counts_a_home_on_the_radius():
    x, y = np.array([ON[0], BEYOND[0]]), np.array([ON[1], BEYOND[1]])
    got = workers_within([EDGE], x, y, np.array([1.0, 10.0]), [500.0, 600.0])
    assert got.tolist() == [[1.0, 11.0]]


def test_decide_within_sums_a_home_on_the_radius():
    index = PointIndex.build(np.array([ON[0], BEYOND[0]]), np.array([ON[1], BEYOND[1]]),
                             np.array([1.0, 10.0]))
    state, sums = decide_within(np.array([EDGE], dtype=object), index, np.array([500.0]),
                                lambda ids, lo, hi: np.zeros(len(ids), dtype=np.int8))
    assert state.tolist() == [0]
    assert sums[:, 0].tolist() == [1.0]


def test_workplaces_on_the_radius_are_paired_and_counted():
    other = shapely.box(600.0, 100.0, 700.0, 1200.0)          # 500 m away (GEOS: a hair more)
    far = shapely.box(600.01, 100.0, 700.0, 1200.0)
    geoms = np.array([EDGE, other, far], dtype=object)
    i, j, d = workplace_pairs(geoms, 500.0)
    pairs = {(int(a), int(b)) for a, b in zip(i, j)}
    assert (0, 1) in pairs and (1, 0) in pairs
    assert (0, 2) not in pairs
    own = jobs_by_threshold(i, j, d, np.array([1.0, 10.0, 100.0]), np.array([400.0, 500.0]), 3)
    assert own[0].tolist() == [1.0, 11.0]


def test_collaboration_partner_on_the_limit():
    zones = gpd.GeoDataFrame(
        {"zone_id": ["a", "b", "c"], "chain": ["x", "x", "x"], "district_id": ["d1", "d2", "d3"]},
        geometry=[EDGE, shapely.box(600.0, 100.0, 700.0, 1200.0), shapely.box(600.01, 100.0, 700.0, 1200.0)],
        crs="EPSG:4544")
    pairs = candidate_pairs(zones, 500.0)
    found = {(int(a), int(b)) for a, b in zip(pairs["i"], pairs["j"])}
    assert (0, 1) in found
    assert (0, 2) not in found


def test_chain_reach_on_the_limit():
    a = np.array([EDGE], dtype=object)
    b = np.array([shapely.Point(*ON), shapely.Point(*BEYOND)], dtype=object)
    ia, ib = Reach(500.0).pairs(a, b)
    assert list(zip(ia.tolist(), ib.tolist())) == [(0, 0)]


def test_core_attachment_on_the_limit():
    geoms = np.array([EDGE, shapely.box(600.0, 100.0, 700.0, 1200.0), shapely.box(600.01, 100.0, 700.0, 1200.0)],
                     dtype=object)
    out = attach(geoms, np.array(["x", "x", "x"], dtype=object), np.array([0]), np.array([1.0]),
                 attach_max_m=500.0, distance_decay=2.0)
    assert out["strategy"].tolist() == ["independent_pole", "collaborative_subordinate", "isolated"]


def test_flow_end_on_the_limit_finds_its_workplace():
    got = nearest_within(np.array([EDGE], dtype=object), np.array([ON[0], BEYOND[0]]),
                         np.array([ON[1], BEYOND[1]]), 500.0)
    assert got.tolist() == [0, -1]


def test_a_node_at_max_access_is_an_entry_and_a_home_there_is_connected():
    import geo.network as gn

    def graph_from(start):
        road = shapely.LineString([start, (start[0] + 500.0, start[1])])
        return gn.build_graph(gpd.GeoDataFrame({"speed_kmh": [30.0]}, geometry=[road], crs="EPSG:32650"))

    on, beyond = graph_from(ON), graph_from(BEYOND)
    # the workplace is entered at the node exactly max_access_m (500 m) from its edge
    entries = gn.workplace_entries(on, [EDGE], max_access_m=500.0, access_speed_kmh=6.0)
    assert on.node_xy[entries.node].tolist() == [list(ON)]
    assert entries.egress_min[0] == np.float64(shapely.distance(EDGE, shapely.Point(*ON))) * 60 / 6000
    assert gn.workplace_entries(beyond, [EDGE], max_access_m=500.0).node.size == 0
    # a home exactly max_access_m from its nearest node joins it; 1 cm farther it does not
    homes = np.array([[ON[0] - 300.0, ON[1] - 400.0], [ON[0] - 300.0, ON[1] - 400.01]])
    acc = gn.housing_access(on, homes, max_access_m=500.0)
    assert acc.connected.tolist() == [True, False]
