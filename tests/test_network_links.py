"""Travel times that link zones (collaboration, core attachment, chain reach) against a
networkx brute force applying DESIGN.md's definitions literally.

The brute force (tests/test_network.py ``BruteForce``) builds its own graph from the
vertices, its own entries (every node within ``max_access_m`` with its egress time) and
runs networkx Dijkstra; a point (a firm) joins at its nearest node like a home. Random
small studies have one-way streets, gaps (disconnected pieces), a flyover crossing the
grid without a shared vertex, an island and a workplace far from every road.
"""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest
from shapely.geometry import Point

import geo.network as gn
from tests.test_network import BruteForce, random_study


def _bf_between(bf: BruteForce, ents_a: list[dict], ents_b: list[dict], pairs) -> np.ndarray:
    """min over entries of egress + directed network time + egress, the faster direction."""
    out = []
    for a, b in pairs:
        best = math.inf
        for src, dst in ((ents_a[a], ents_b[b]), (ents_b[b], ents_a[a])):
            for e, g in src.items():
                dist = nx.single_source_dijkstra_path_length(bf.g, e, weight="weight")
                for f, h in dst.items():
                    if f in dist:
                        best = min(best, g + dist[f] + h)
        out.append(best)
    return np.array(out)


def _bf_point_entries(bf: BruteForce, xy) -> dict:
    node, acc = bf.home(tuple(xy))
    return {} if node is None else {node: acc}


def _nan_inf(values):
    return np.where(np.isfinite(values), values, np.nan)


@pytest.mark.parametrize("seed", range(6))
def test_travel_matrix_both_ways_equals_brute_force(seed):
    roads, _, _, polys = random_study(200 + seed)
    bf = BruteForce(roads, max_access_m=300.0)
    graph = gn.build_graph(roads)
    zones, cores = polys, polys[:2]
    got = gn.travel_matrix(graph, zones, cores, max_access_m=300.0, both_ways=True)
    ents = [bf.entries(p) for p in polys]
    pairs = [(i, j) for i in range(len(zones)) for j in range(len(cores))]
    want = _bf_between(bf, ents, ents, pairs).reshape(len(zones), len(cores))
    np.testing.assert_allclose(got, _nan_inf(want), rtol=0, atol=1e-9)
    # one direction each way: the reversed graph gives the other direction exactly
    fwd = gn.travel_matrix(graph, zones, cores, max_access_m=300.0)
    bwd = gn.travel_matrix(gn.reversed_graph(graph), zones, cores, max_access_m=300.0)
    back = gn.travel_matrix(graph, cores, zones, max_access_m=300.0).T
    np.testing.assert_allclose(bwd, back, rtol=0, atol=1e-9)
    np.testing.assert_allclose(np.fmin(fwd, bwd), got, rtol=0, atol=0)


@pytest.mark.parametrize("seed", range(6))
def test_travel_between_sets_points_and_polygons(seed):
    roads, homes, _, polys = random_study(300 + seed)
    max_access = 250.0 if seed % 2 else 600.0
    bf = BruteForce(roads, max_access_m=max_access)
    graph = gn.build_graph(roads)
    points = [Point(xy) for xy in homes[:12]]
    feats_a = np.array(polys[:3] + points[:3], dtype=object)        # mixed
    feats_b = np.array(points + polys[3:], dtype=object)
    ea = gn.feature_entries(graph, feats_a, max_access_m=max_access)
    eb = gn.feature_entries(graph, feats_b, max_access_m=max_access)
    bf_a = [bf.entries(g) if g.geom_type != "Point" else _bf_point_entries(bf, g.coords[0]) for g in feats_a]
    bf_b = [bf.entries(g) if g.geom_type != "Point" else _bf_point_entries(bf, g.coords[0]) for g in feats_b]
    # the entries themselves (nodes as positions, egress minutes)
    for e, ref, g in ((ea, bf_a, feats_a), (eb, bf_b, feats_b)):
        for k in range(len(g)):
            s = slice(e.offsets[k], e.offsets[k + 1])
            got = {tuple(graph.node_xy[n]): m for n, m in zip(e.node[s], e.egress_min[s])}
            want = {bf.xy[n]: m for n, m in ref[k].items()}
            assert got.keys() == want.keys()
            for key in want:
                assert got[key] == pytest.approx(want[key], abs=1e-9)
    pairs = np.array([(i, j) for i in range(len(feats_a)) for j in range(len(feats_b))])
    want = _bf_between(bf, bf_a, bf_b, pairs)
    got = gn.travel_between_sets(graph, ea, eb, pairs)
    np.testing.assert_allclose(got, _nan_inf(want), rtol=0, atol=1e-9)
    # searches towards the other side give the same answer (few a's vs few b's)
    swapped = gn.travel_between_sets(graph, eb, ea, pairs[:, ::-1])
    np.testing.assert_allclose(swapped, got, rtol=0, atol=1e-9)
    # a limit: slower pairs come out empty, a pair exactly at the limit stays
    finite = np.sort(got[np.isfinite(got)])
    if len(finite):
        limit = float(finite[len(finite) // 2])
        lim = gn.travel_between_sets(graph, ea, eb, pairs, limit_min=limit)
        keep = got <= limit + 1e-9
        np.testing.assert_allclose(lim[keep], got[keep], rtol=0, atol=1e-9)
        assert np.isnan(lim[~keep]).all()


def test_straight_bound_never_cuts_a_connection():
    """No connection is faster than its straight line at the fastest speed (the bound's premise)."""
    for seed in range(4):
        roads, homes, _, polys = random_study(400 + seed)
        graph = gn.build_graph(roads)
        feats = np.array(polys + [Point(xy) for xy in homes[:10]], dtype=object)
        e = gn.feature_entries(graph, feats)
        pairs = np.array([(i, j) for i in range(len(feats)) for j in range(i + 1, len(feats))])
        t = gn.travel_between_sets(graph, e, e, pairs)
        d = np.array([feats[i].distance(feats[j]) for i, j in pairs])
        ok = np.isfinite(t)
        assert ok.sum() > 5
        vmax = max(float(graph.road_speed_kmh.max()), 5.0)
        covered = t[ok] / gn.minutes_per_metre(vmax)       # metres at the fastest speed
        assert (d[ok] <= covered + 2.0).all()               # 2 m: snapping (1 m tolerance)
        for minutes in (0.5, 1.0, 3.0):
            linked = ok & (t <= minutes)
            assert (d[linked] <= gn.straight_bound_m(graph, minutes)).all()
