"""The length of the fastest route home -> workplace (``commute_m`` with roads) against a
networkx brute force on the full graph, built literally from DESIGN.md.

Speeds are chosen so that every segment time is an exact binary fraction (61.44 km/h =
1024 m/min; lengths are whole metres): equal-time routes then tie to the last bit, and the
tie rule ("the shortest of the fastest routes") is tested, not left to rounding.
"""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, box

import geo.network as gn
from geo.network.routes import home_routes

CRS = "EPSG:3857"
#: m/min = 1024, 512, 256: segment times of whole metres are exact binary fractions
SPEEDS = (61.44, 30.72, 15.36)
ACCESS_KMH = 61.44


def _roads(geoms, **cols):
    return gpd.GeoDataFrame(cols, geometry=geoms, crs=CRS)


# ---------------------------------------------------------------- brute force

def brute_force(roads, homes, polys, pairs, access_kmh, max_access_m):
    """(minutes, metres) per pair: nearest node, entries, then on the full graph the fastest
    time to the workplace (networkx Dijkstra) and, over the tight edges only (those on some
    fastest route), the shortest length (networkx Dijkstra again)."""
    xy, index = {}, []
    edges = {}
    for geom, speed, oneway in zip(roads.geometry, roads["speed_kmh"], roads["oneway"]):
        c = [tuple(map(float, p)) for p in geom.coords]
        for a, b in zip(c[:-1], c[1:]):
            if a == b:
                continue
            for p in (a, b):
                if p not in xy:
                    xy[p] = len(xy)
                    index.append(p)
            m = float(np.hypot(b[0] - a[0], b[1] - a[1]))
            t = m / (speed * 1000.0 / 60.0)
            dirs = {"yes": [(a, b)], "TF": [(b, a)]}.get(oneway, [(a, b), (b, a)])
            for u, v in dirs:
                key = (xy[u], xy[v])
                edges[key] = min(edges.get(key, (np.inf, np.inf)), (t, m))   # fastest, then shorter
    nodes = np.array(index)
    mpm = 60.0 / (access_kmh * 1000.0)
    out_t, out_m = np.full(len(pairs), np.nan), np.full(len(pairs), np.nan)
    for w in sorted(set(pairs[:, 1].tolist())):
        g = nx.DiGraph()
        g.add_nodes_from(range(len(nodes)))
        for (u, v), (t, m) in edges.items():
            g.add_edge(v, u, t=t, m=m)                       # reversed: towards the workplace
        src = "S"
        for k, p in enumerate(nodes):
            dist = shapely.distance(polys[w], shapely.Point(p))
            if dist <= max_access_m + 1e-6:
                g.add_edge(src, k, t=dist * mpm, m=dist)
        if src not in g:
            continue
        T = nx.single_source_dijkstra_path_length(g, src, weight="t")
        tight = nx.DiGraph()
        tight.add_edges_from((u, v, {"m": d["m"]}) for u, v, d in g.edges(data=True)
                             if u in T and v in T and T[u] + d["t"] == T[v])
        L = nx.single_source_dijkstra_path_length(tight, src, weight="m") if src in tight else {}
        for i in np.flatnonzero(pairs[:, 1] == w):
            h = homes[pairs[i, 0]]
            d = np.hypot(nodes[:, 0] - h[0], nodes[:, 1] - h[1])
            c = np.flatnonzero(d <= d.min() + 1e-6)     # equally near (1 µm): smallest x, then y
            k = int(c[np.lexsort((nodes[c, 1], nodes[c, 0]))[0]])
            if d[k] > max_access_m + 1e-6 or k not in T:
                continue
            out_t[i] = T[k] + d[k] * mpm
            out_m[i] = L[k] + d[k]
    return out_t, out_m


def random_case(seed: int):
    """A grid of whole-metre roads (256 m blocks, mid-block vertices: chains), speeds of
    1024 / 512 / 256 m per minute (many equal-time routes of different lengths), one-way
    streets, gaps, an island; homes at random points; box workplaces."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(4, 7))
    step = 256
    geoms, speed, oneway = [], [], []
    for i in range(n):
        for j in range(n - 1):
            for a, b in (((i * step, j * step), (i * step, (j + 1) * step)),
                         ((j * step, i * step), ((j + 1) * step, i * step))):
                if rng.random() < 0.1:
                    continue
                k = int(rng.integers(0, 3))
                mids = [(a[0] + (b[0] - a[0]) * f // 4, a[1] + (b[1] - a[1]) * f // 4)
                        for f in sorted(rng.choice([1, 2, 3], k, replace=False))]
                geoms.append(LineString([a, *mids, b]))
                speed.append(float(rng.choice(SPEEDS)))
                oneway.append(str(rng.choice(["no", "no", "no", "yes", "TF"])))
    # a parallel road with the same time and another length (a detour at twice the speed)
    geoms.append(LineString([(0, 0), (0, -step // 2), (step, -step // 2), (step, 0)]))
    speed.append(SPEEDS[0])
    oneway.append("no")
    geoms.append(LineString([(9000, 9000), (9256, 9000), (9256, 9512)]))      # an island
    speed.append(SPEEDS[1])
    oneway.append("no")
    roads = _roads(geoms, speed_kmh=speed, oneway=oneway)
    ext = (n - 1) * step
    homes = np.vstack([rng.uniform(-100, ext + 100, size=(40, 2)), [[9100.3, 9010.7], [20000.0, 0.0]]])
    polys = []
    for _ in range(int(rng.integers(3, 6))):
        cx, cy = rng.integers(0, ext, 2)
        w, h = rng.integers(10, 200, 2)
        polys.append(box(cx - w, cy - h, cx + w, cy + h))
    polys.append(box(9200, 9400, 9300, 9600))          # on the island
    polys.append(box(30000, 30000, 30100, 30100))      # far from every road
    polys = np.array(polys, dtype=object)
    pairs = np.array([(h, w) for h in range(len(homes)) for w in range(len(polys))], dtype=np.int64)
    return roads, homes, polys, pairs


@pytest.mark.parametrize("seed", range(10))
def test_fastest_route_metres_equal_brute_force(seed):
    roads, homes, polys, pairs = random_case(seed)
    max_access = 300.0 if seed % 2 else 1000.0
    graph = gn.build_graph(roads)
    t, m = home_routes(graph, homes, polys, pairs, access_speed_kmh=ACCESS_KMH, max_access_m=max_access)
    bt, bm = brute_force(roads, homes, polys, pairs, ACCESS_KMH, max_access)
    np.testing.assert_array_equal(np.isnan(t), np.isnan(bt))
    np.testing.assert_allclose(t, bt, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(np.isnan(m), np.isnan(bt))
    np.testing.assert_allclose(m, bm, rtol=0, atol=1e-6)
    assert np.isfinite(t).sum() > len(pairs) // 4          # the case is not trivially empty
    # the minutes are those of home_times (the same searches)
    np.testing.assert_array_equal(t, gn.home_times(graph, homes, polys, pairs=pairs, access_speed_kmh=ACCESS_KMH,
                                                   max_access_m=max_access))
    # the reversed graph carries its lengths: it equals the graph of the roads driven the
    # other way (one-way streets flipped)
    flipped = roads.assign(oneway=roads["oneway"].map({"yes": "TF", "TF": "yes", "no": "no"}))
    rt, rm = home_routes(gn.reversed_graph(graph), homes, polys, pairs, access_speed_kmh=ACCESS_KMH,
                         max_access_m=max_access)
    ft, fm = home_routes(gn.build_graph(flipped), homes, polys, pairs, access_speed_kmh=ACCESS_KMH,
                         max_access_m=max_access)
    np.testing.assert_array_equal(rt, ft)
    np.testing.assert_array_equal(rm, fm)


def test_equal_time_routes_the_shorter_wins():
    # home at (0, 0); workplace around (1024, 0). Direct: 1024 m at 512 m/min = 2 min.
    # Detour: 2048 m at 1024 m/min = 2 min. Equal times: the shorter (1024 m) is reported,
    # whichever road is listed first. A third, slower-but-shorter way cannot win on length.
    direct = LineString([(0, 0), (512, 0), (1024, 0)])
    detour = LineString([(0, 0), (0, 512), (1024, 512), (1024, 0)])
    work = np.array([box(1014, -10, 1034, 10)], dtype=object)
    pairs = np.array([[0, 0]])
    for order in ((direct, detour), (detour, direct)):
        speeds = [30.72 if g is direct else 61.44 for g in order]
        graph = gn.build_graph(_roads(list(order), speed_kmh=speeds, oneway=["no", "no"]))
        t, m = home_routes(graph, np.array([[0.0, 0.0]]), work, pairs, access_speed_kmh=ACCESS_KMH,
                           max_access_m=20.0)
        assert t[0] == 2.0 and m[0] == 1024.0
    # make the detour faster by one metre: the fastest route is now the long one
    detour = LineString([(0, 0), (0, 511.5), (1024, 511.5), (1024, 0)])
    graph = gn.build_graph(_roads([direct, detour], speed_kmh=[30.72, 61.44], oneway=["no", "no"]))
    t, m = home_routes(graph, np.array([[0.0, 0.0]]), work, pairs, access_speed_kmh=ACCESS_KMH,
                           max_access_m=20.0)
    assert t[0] == 2047.0 / 1024.0 and m[0] == 2047.0


def test_access_and_egress_legs_count_their_straight_length():
    # home 30 m beside node (0, 0); 1000 m of road; workplace 40 m beyond the far node
    road = LineString([(0, 0), (500, 0), (1000, 0)])
    graph = gn.build_graph(_roads([road], speed_kmh=[60.0], oneway=["yes"]))
    work = np.array([box(1040, -5, 1100, 5)], dtype=object)
    t, m = home_routes(graph, np.array([[0.0, 30.0]]), work, np.array([[0, 0]]), access_speed_kmh=6.0)
    assert m[0] == pytest.approx(30.0 + 1000.0 + 40.0)
    assert t[0] == pytest.approx((30.0 + 40.0) / 100.0 + 1.0)
    # against the one-way street: not reachable, no length
    graph = gn.build_graph(_roads([road], speed_kmh=[60.0], oneway=["TF"]))
    t, m = home_routes(graph, np.array([[0.0, 30.0]]), work, np.array([[0, 0]]), access_speed_kmh=6.0)
    assert np.isnan(t[0]) and np.isnan(m[0])


def test_entry_on_a_chain_and_home_inside_the_same_chain():
    # one long road with mid vertices (a chain): home near x=300, workplace around x=700;
    # the route runs along the chain; metres = 5 + 400 + 0
    road = LineString([(0, 0), (100, 0), (300, 0), (700, 0), (900, 0), (1000, 0)])
    graph = gn.build_graph(_roads([road], speed_kmh=[30.0], oneway=["no"]))
    work = np.array([box(690, -10, 710, 10)], dtype=object)
    t, m = home_routes(graph, np.array([[300.0, 5.0]]), work, np.array([[0, 0]]), access_speed_kmh=6.0,
                       max_access_m=50.0)
    assert m[0] == pytest.approx(405.0)
    assert t[0] == pytest.approx(5.0 / 100.0 + 400.0 / 500.0)
