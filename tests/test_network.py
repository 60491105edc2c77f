"""Travel time on the road network (geo.network) against hand values and a networkx brute force.

The brute force shares no code with the product: it reads DESIGN.md's definitions
literally (every vertex a node, its own snapping by pairwise distances, every segment an
edge, nearest node and entry nodes by shapely distance loops) and runs networkx Dijkstra
from every home.
"""

from __future__ import annotations

import math

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, MultiLineString, Point, box

import geo.network as gn
from geo._errors import InputError

CRS = "EPSG:3857"
TOL = 1e-6          # minutes: sums of the same segment times in another order
SPEEDS = {"motorway": 80.0, "expressway": 60.0, "arterial": 40.0, "secondary": 30.0, "local": 20.0}
ZH = {"高速公路": "motorway", "快速路": "expressway", "主干路": "arterial", "次干路": "secondary", "支路": "local"}


# ---------------------------------------------------------------- brute force (DESIGN.md, literally)

def _bf_direction(value) -> int:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return 0
    text = str(value).strip().lower()
    if isinstance(value, (int, np.integer)) or (isinstance(value, float) and value.is_integer()):
        text = str(int(value))
    if text in ("yes", "true", "1", "ft", "t"):
        return 1
    if text in ("tf", "-1"):
        return -1
    if text in ("no", "false", "0", "b", ""):
        return 0
    raise ValueError(text)


def _bf_speed(row, default_kmh) -> float:
    spd = row.get("speed_kmh")
    if spd is not None and not (isinstance(spd, float) and math.isnan(spd)):
        return float(spd)
    cls = row.get("class")
    if cls is None or (isinstance(cls, float) and math.isnan(cls)):
        return default_kmh
    return SPEEDS[ZH.get(cls, cls)]


def _bf_walk(line, idx, tol):
    """Along a piece of line (vertex positions ``idx``): keep the first vertex, every vertex
    farther than tol from the last one kept, and the last vertex (which replaces the last
    one kept when that is within tol of it and not the first)."""
    kept = [idx[0]]
    for k in idx[1:-1]:
        if math.dist(line[k], line[kept[-1]]) > tol:
            kept.append(k)
    if len(kept) > 1 and math.dist(line[idx[-1]], line[kept[-1]]) <= tol:
        kept.pop()
    return kept + [idx[-1]]


def bf_thin(lines, tol):
    """The thinning of docs/analyses.md (Graph), literally: per line (a list of vertices),
    the vertices kept. A vertex within tol of a vertex of another line, or of its own line
    more than 2 tol away along it, is a junction; the walk runs between junctions."""
    arcs = []
    for line in lines:
        arc = [0.0]
        for a, b in zip(line[:-1], line[1:]):
            arc.append(arc[-1] + math.dist(a, b))
        arcs.append(arc)
    flat = [(li, k) for li, line in enumerate(lines) for k in range(len(line))]
    out = []
    for li, line in enumerate(lines):
        junction = [any(math.dist(line[k], lines[lj][m]) <= tol
                        and (lj != li or abs(arcs[li][k] - arcs[lj][m]) > 2 * tol)
                        for lj, m in flat if (lj, m) != (li, k))
                    for k in range(len(line))]
        cuts = [0] + [k for k in range(1, len(line) - 1) if junction[k]] + [len(line) - 1]
        keep = set()
        for a, b in zip(cuts[:-1], cuts[1:]):
            keep.update(_bf_walk(line, list(range(a, b + 1)), tol))
        out.append([line[k] for k in sorted(keep)])
    return out


class BruteForce:
    def __init__(self, roads: gpd.GeoDataFrame, *, tol_m=1.0, default_kmh=20.0,
                 access_kmh=5.0, max_access_m=1000.0, no_access=()):
        self.access_mpm = access_kmh * 1000 / 60
        self.max_access_m = max_access_m
        lines, attrs = [], []
        for _, row in roads.iterrows():
            geom = row.geometry
            speed = _bf_speed(row, default_kmh)
            direction = _bf_direction(row.get("oneway"))
            cls = row.get("class")
            cls = ZH.get(cls, cls) if isinstance(cls, str) else None
            for line in (list(geom.geoms) if isinstance(geom, MultiLineString) else [geom]):
                lines.append([tuple(c) for c in line.coords])
                attrs.append((speed, direction, cls))
        verts, segs, open_vertex = [], [], []    # segs: (vertex a, vertex b, speed, direction)
        for line, (speed, direction, cls) in zip(bf_thin(lines, tol_m), attrs):
            start = len(verts)
            verts.extend(line)
            open_vertex.extend([cls not in no_access] * len(line))
            for k in range(start, len(verts) - 1):
                segs.append((k, k + 1, speed, direction))
        # snapping: vertices within tol are one node (transitively); node at its first vertex
        parent = list(range(len(verts)))

        def find(i):
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        for i in range(len(verts)):
            for j in range(i + 1, len(verts)):
                if math.dist(verts[i], verts[j]) <= tol_m:
                    ri, rj = find(i), find(j)
                    if ri != rj:
                        parent[max(ri, rj)] = min(ri, rj)
        self.node_of = [find(i) for i in range(len(verts))]
        self.nodes = sorted(set(self.node_of))
        # the nodes homes and workplaces join: a vertex of a road of a class they may join
        self.joinable = sorted({self.node_of[k] for k in range(len(verts)) if open_vertex[k]})
        self.xy = {n: verts[n] for n in self.nodes}   # the root is the group's first vertex
        g = nx.DiGraph()
        g.add_nodes_from(self.nodes)
        for a, b, speed, direction in segs:
            na, nb = self.node_of[a], self.node_of[b]
            if na == nb:
                continue
            t = math.dist(verts[a], verts[b]) / (speed * 1000 / 60)
            pairs = []
            if direction >= 0:
                pairs.append((na, nb))
            if direction <= 0:
                pairs.append((nb, na))
            for u, v in pairs:
                if not g.has_edge(u, v) or g[u][v]["weight"] > t:
                    g.add_edge(u, v, weight=t)
        self.g = g

    def home(self, xy):
        # the nearest node; of nodes equally near (within 1 µm), the smallest x, then y
        dist = {n: math.dist(xy, self.xy[n]) for n in self.joinable}
        if not dist:
            return None, None
        best = min(dist.values())
        node = min((n for n in self.joinable if dist[n] <= best + 1e-6), key=lambda n: self.xy[n])
        if dist[node] > self.max_access_m + 1e-6:     # 1 µm: at the limit counts
            return None, None
        return node, dist[node] / self.access_mpm

    def entries(self, poly):
        out = {}
        for n in self.joinable:
            d = poly.distance(Point(self.xy[n]))
            if d <= self.max_access_m + 1e-6:
                out[n] = d / self.access_mpm
        return out

    def home_times(self, homes_xy, polys):
        """(H, W) minutes home → workplace (inf when none)."""
        ents = [self.entries(p) for p in polys]
        out = np.full((len(homes_xy), len(polys)), np.inf)
        for h, xy in enumerate(homes_xy):
            node, acc = self.home(tuple(xy))
            if node is None:
                continue
            dist = nx.single_source_dijkstra_path_length(self.g, node, weight="weight")
            for w, ent in enumerate(ents):
                best = min((dist[e] + g for e, g in ent.items() if e in dist), default=math.inf)
                out[h, w] = acc + best
        return out

    def undirected_degree(self, n):
        return len(set(self.g.successors(n)) | set(self.g.predecessors(n)))

    def nodes_within(self, poly, minutes):
        """Nodes whose time to the workplace (network + egress) is ≤ minutes."""
        rev = self.g.reverse(copy=True)
        for e, g in self.entries(poly).items():
            rev.add_edge("source", e, weight=g)
        if "source" not in rev:
            return set()
        dist = nx.single_source_dijkstra_path_length(rev, "source", weight="weight")
        return {n for n, t in dist.items() if n != "source" and t <= minutes + TOL}

    def travel_min(self, polys, pairs):
        ents = [self.entries(p) for p in polys]
        out = []
        for a, b in pairs:
            best = math.inf
            for x, y in ((a, b), (b, a)):
                for ea, ga in ents[x].items():
                    dist = nx.single_source_dijkstra_path_length(self.g, ea, weight="weight")
                    for eb, gb in ents[y].items():
                        if eb in dist:
                            best = min(best, ga + dist[eb] + gb)
            out.append(best)
        return np.array(out)


# ---------------------------------------------------------------- random small studies

ONEWAYS = ["yes", "-1", "no", None, "FT", "TF", "B", "", "true", "0", "T", "false", 1, -1]
CLASSES = ["local", "arterial", "主干路", "支路", "secondary", "快速路", None]


def random_study(seed: int):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 6))
    step = 300.0
    gx = np.arange(n) * step
    jit = rng.normal(0, 20, size=(n, n, 2))
    pts = np.stack(np.meshgrid(gx, gx, indexing="ij"), axis=-1) + jit   # pts[i, j]
    geoms, rows = [], []

    def add(coords, multi=False):
        geoms.append(LineString(coords))
        rows.append({"class": CLASSES[rng.integers(len(CLASSES))],
                     "oneway": ONEWAYS[rng.integers(len(ONEWAYS))],
                     "speed_kmh": float(rng.choice([np.nan, np.nan, 25.0, 50.0]))})

    for i in range(n):
        for j in range(n - 1):
            for a, b in (((i, j), (i, j + 1)), ((j, i), (j + 1, i))):
                if rng.random() < 0.12:
                    continue                      # gaps: disconnected pieces, dead ends
                p, q = pts[a], pts[b]
                k = int(rng.integers(0, 4))       # intermediate vertices (degree-2 nodes)
                mids = [p + (q - p) * t + rng.normal(0, 8, 2) for t in np.sort(rng.random(k))]
                start = p + (rng.normal(0, 0.3, 2) if rng.random() < 0.2 else 0)    # snapped
                end = q + (np.array([2.5, 0.0]) if rng.random() < 0.05 else 0)       # not snapped
                add([tuple(start), *map(tuple, mids), tuple(end)])
    # a flyover: crosses the grid without a shared vertex, joined at its two ends only
    a, b = pts[0, 0], pts[n - 1, n - 1]
    mid = (a + b) / 2 + np.array([7.0, -11.0])
    add([tuple(a), tuple(mid), tuple(b)])
    rows[-1].update({"class": "motorway", "oneway": "no", "speed_kmh": np.nan})
    # an island far away
    add([(5000.0, 5000.0), (5100.0, 5000.0), (5100.0, 5200.0)])
    # a repeated vertex (zero-length segment)
    add([tuple(pts[0, 1]), tuple(pts[0, 1]), tuple(pts[1, 1])])
    roads = gpd.GeoDataFrame(rows, geometry=geoms, crs=CRS)
    extent = (n - 1) * step
    homes = rng.uniform(-200, extent + 200, size=(int(rng.integers(15, 30)), 2))
    homes = np.vstack([homes, [[5050.0, 5010.0], [9000.0, 9000.0]]])
    workers = rng.integers(1, 50, len(homes)).astype(float)
    polys = []
    for _ in range(int(rng.integers(3, 6))):
        cx, cy = rng.uniform(0, extent, 2)
        w, h = rng.uniform(20, 200, 2)
        polys.append(box(cx - w, cy - h, cx + w, cy + h))
    polys.append(box(5080, 5150, 5150, 5250))     # on the island
    polys.append(box(20000, 20000, 20100, 20100))  # far from every road
    return roads, homes, workers, polys


# seed 1010: a home exactly midway between two nodes, where the spatial index's nearest
# (k=1) was the eastern one; the answer differs by 0.15 minutes (the nearest-node tie rule)
@pytest.mark.parametrize("seed", [*range(12), 1010])
def test_workers_within_minutes_equal_brute_force(seed):
    roads, homes, workers, polys = random_study(seed)
    max_access = 250.0 if seed % 2 else 1000.0
    bf = BruteForce(roads, tol_m=1.0, max_access_m=max_access)
    times = bf.home_times(homes, polys)
    finite = np.sort(times[np.isfinite(times)])
    # horizons: round ones plus times of actual homes (a home exactly at the horizon counts)
    minutes = [2.0, 5.0, 10.0, *finite[:: max(1, len(finite) // 4)][:4].tolist()]
    graph = gn.build_graph(roads, snap_tolerance_m=1.0)
    res = gn.workers_within_minutes(graph, homes, workers, polys, minutes, max_access_m=max_access,
                                    primary_minute=5.0, reached_nodes="all")
    outline = gn.workers_within_minutes(graph, homes, workers, polys, minutes, max_access_m=max_access,
                                        primary_minute=5.0).reached
    expected = np.array([[workers[times[:, w] <= m + TOL].sum() for m in minutes]
                         for w in range(len(polys))])
    connected = np.array([bool(bf.entries(p)) for p in polys])
    assert (res.connected == connected).all()
    assert not connected[-1]
    np.testing.assert_array_equal(res.workers[connected], expected[connected])
    assert np.isnan(res.workers[~connected]).all()
    # the nodes reached within the primary horizon (for isochrones), as node positions
    for w, poly in enumerate(polys):
        want = sorted(bf.xy[n] for n in bf.nodes_within(poly, 5.0))
        got = sorted(map(tuple, graph.node_xy[res.reached[w]].tolist()))
        assert got == want
        # the outline: a subset holding every reached node not in the middle of a road
        part = set(map(tuple, graph.node_xy[outline[w]].tolist()))
        assert part <= set(want)
        assert {bf.xy[n] for n in bf.nodes_within(poly, 5.0) if bf.undirected_degree(n) != 2} <= part
    # home → workplace minutes of every point (commute_min), matrix and pairs
    ht = gn.home_times(graph, homes, polys, max_access_m=max_access)
    np.testing.assert_allclose(ht, np.where(np.isfinite(times), times, np.nan), rtol=0, atol=1e-9)
    pairs = np.array([(h, (h * 7) % len(polys)) for h in range(len(homes))])
    hp = gn.home_times(graph, homes, polys, pairs=pairs, max_access_m=max_access)
    np.testing.assert_allclose(hp, ht[pairs[:, 0], pairs[:, 1]], rtol=0, atol=0)
    # workers_shared on the 5-minute horizon: each home's workers split among the
    # workplaces within 5 minutes by jobs (equally when all of those have no jobs)
    jobs = np.array([float(rng_jobs) for rng_jobs in (np.arange(len(polys)) * 37 % 5)])
    within = times <= 5.0 + TOL
    shared = np.zeros(len(polys))
    for h in range(len(homes)):
        ws = np.flatnonzero(within[h])
        if len(ws) == 0:
            continue
        total = jobs[ws].sum()
        for w in ws:
            shared[w] += workers[h] * (jobs[w] / total if total > 0 else 1 / len(ws))
    got_shared = gn.workers_shared_within(graph, homes, workers, polys, jobs, 5.0, max_access_m=max_access)
    np.testing.assert_allclose(got_shared[connected], shared[connected], rtol=1e-9, atol=1e-9)
    assert np.isnan(got_shared[~connected]).all()
    # housing connected as the brute force says
    assert [bf.home(tuple(h))[0] is not None for h in homes] == res.housing_connected.tolist()


@pytest.mark.parametrize("seed", range(6))
def test_travel_between_equal_brute_force(seed):
    roads, _, _, polys = random_study(100 + seed)
    bf = BruteForce(roads, tol_m=1.0, max_access_m=300.0)
    pairs = np.array([(a, b) for a in range(len(polys)) for b in range(a + 1, len(polys))])
    expected = bf.travel_min(polys, pairs)
    graph = gn.build_graph(roads, snap_tolerance_m=1.0)
    got = gn.travel_between(graph, polys, pairs, max_access_m=300.0)
    np.testing.assert_allclose(np.where(np.isfinite(expected), expected, np.nan), got, rtol=0, atol=1e-9)


def test_travel_matrix_one_direction_against_brute_force():
    roads, _, _, polys = random_study(7)
    bf = BruteForce(roads, max_access_m=300.0)
    graph = gn.build_graph(roads)
    zones, cores = polys[:3], polys[3:]
    got = gn.travel_matrix(graph, zones, cores, max_access_m=300.0)
    ents = [bf.entries(p) for p in polys]
    for i in range(3):
        for j in range(len(cores)):
            best = math.inf
            for ea, ga in ents[i].items():
                dist = nx.single_source_dijkstra_path_length(bf.g, ea, weight="weight")
                best = min([best] + [ga + dist[eb] + gb for eb, gb in ents[3 + j].items() if eb in dist])
            if math.isinf(best):
                assert np.isnan(got[i, j])
            else:
                assert got[i, j] == pytest.approx(best, abs=1e-9)


# ---------------------------------------------------------------- hand-computed cases

def _roads(geoms, **cols):
    return gpd.GeoDataFrame(cols, geometry=geoms, crs=CRS)


def test_home_exactly_at_the_horizon_counts():
    # 1,000 m at 60 km/h = 1 minute, in ten segments of 0.1 minute (sums round); access at
    # 6 km/h = 100 m/min: a home 50 m from the first node is 0.5 + 1.0 = 1.5 minutes away
    road = LineString([(x, 0.0) for x in range(0, 1001, 100)])
    graph = gn.build_graph(_roads([road], speed_kmh=[60.0]))
    work = [box(990, -10, 1010, 10)]
    res = gn.workers_within_minutes(graph, np.array([[0.0, 50.0]]), np.array([7.0]), work,
                                    [1.4999, 1.5, 2.0], access_speed_kmh=6.0, max_access_m=100.0)
    assert res.workers.tolist() == [[0.0, 7.0, 7.0]]


def test_a_home_equally_near_several_nodes_joins_the_westmost():
    # a home at (50, 10) is sqrt(2600) = 50.99 m from (0, 0) and from (100, 0); the workplace
    # is at the top of the road up from (100, 0): 200 m of road from there, 300 m from
    # (0, 0), at 12 km/h = 200 m/min. Of nodes equally near, the one with the smallest x
    # (then y) is taken, whatever the order of the roads and whatever the spatial index finds.
    left, up = LineString([(0, 0), (100, 0)]), LineString([(100, 0), (100, 200)])
    work = [box(90, 190, 110, 210)]
    home = np.array([[50.0, 10.0]])
    access = math.sqrt(2600.0) / (5.0 * 1000 / 60)
    for roads in ([left, up], [up, left], [up, LineString([(100, 0), (0, 0)])]):
        graph = gn.build_graph(_roads(roads, speed_kmh=[12.0, 12.0]))
        assert graph.node_xy[gn.housing_access(graph, home).node[0]].tolist() == [0.0, 0.0]
        assert gn.home_times(graph, home, work)[0, 0] == pytest.approx(access + 1.5, abs=1e-12)
        res = gn.workers_within_minutes(graph, home, np.array([3.0]), work, [access + 1.4, access + 1.5])
        assert res.workers.tolist() == [[0.0, 3.0]]
    # a cell centre in the middle of a square block: four nodes equally near (and still
    # equally near 0.1 µm off the centre), then two of them
    ring = LineString([(100, 100), (0, 100), (0, 0), (100, 0), (100, 100)])
    graph = gn.build_graph(_roads([ring], speed_kmh=[12.0]))
    got = gn.housing_access(graph, np.array([[50.0, 50.0], [50.0, 50.0 + 1e-7], [50.0, 51.0], [49.0, 50.0]]))
    assert graph.node_xy[got.node].tolist() == [[0.0, 0.0], [0.0, 0.0], [0.0, 100.0], [0.0, 0.0]]
    assert got.distance_m[0] == pytest.approx(math.sqrt(5000.0), abs=1e-12)


def test_one_way_respected_home_to_work():
    # 1 km at 60 km/h = 1 minute; homes at both ends; each zone's own end node is inside it
    # (egress 0), the far end is 990 m from it (egress 990 / 83.3 = 11.88 min > 5)
    road = LineString([(0, 0), (500, 0), (1000, 0)])
    work_east, work_west = box(990, -10, 1010, 10), box(-10, -10, 10, 10)
    homes = np.array([[0.0, 0.0], [1000.0, 0.0]])
    workers = np.array([1.0, 10.0])
    graph = gn.build_graph(_roads([road], speed_kmh=[60.0], oneway=["yes"]))
    res = gn.workers_within_minutes(graph, homes, workers, [work_east, work_west], [5.0])
    assert res.workers[:, 0].tolist() == [11.0, 1.0]     # only eastwards
    graph_back = gn.build_graph(_roads([road], speed_kmh=[60.0], oneway=["TF"]))
    res = gn.workers_within_minutes(graph_back, homes, workers, [work_east, work_west], [5.0])
    assert res.workers[:, 0].tolist() == [10.0, 11.0]    # only westwards
    both = gn.build_graph(_roads([road], speed_kmh=[60.0], oneway=[None]))
    res = gn.workers_within_minutes(both, homes, workers, [work_east, work_west], [5.0])
    assert res.workers[:, 0].tolist() == [11.0, 11.0]
    # travel_min takes the faster direction: 1 minute either way round
    assert gn.travel_between(graph, [work_east, work_west], np.array([[0, 1]]))[0] == pytest.approx(1.0)
    assert gn.travel_between(graph_back, [work_east, work_west], np.array([[0, 1]]))[0] == pytest.approx(1.0)


def test_flyover_without_shared_vertex_does_not_connect():
    ew = LineString([(0, 0), (1000, 0)])
    ns = LineString([(500, -500), (500, 500)])
    ew_joined = LineString([(0, 0), (500, 0), (1000, 0)])
    ns_joined = LineString([(500, -500), (500, 0), (500, 500)])
    home = np.array([[0.0, 0.0]])
    work = [box(495, 495, 505, 505)]
    kw = dict(max_access_m=100.0)
    g = gn.build_graph(_roads([ew, ns], speed_kmh=[60.0, 60.0]))
    assert g.report.components == 2
    assert np.isnan(gn.travel_between(g, [box(-5, -5, 5, 5), work[0]], np.array([[0, 1]]), **kw))[0]
    assert gn.workers_within_minutes(g, home, np.array([1.0]), work, [60], **kw).workers[0, 0] == 0
    g2 = gn.build_graph(_roads([ew_joined, ns_joined], speed_kmh=[60.0, 60.0]))
    assert g2.report.components == 1
    # 500 m east + 500 m north at 1,000 m/min = 1 minute
    assert gn.travel_between(g2, [box(-5, -5, 5, 5), work[0]], np.array([[0, 1]]), **kw)[0] == pytest.approx(1.0)
    assert gn.workers_within_minutes(g2, home, np.array([1.0]), work, [1.0], **kw).workers[0, 0] == 1.0


def test_snap_tolerance_merges_close_vertices():
    a = LineString([(0, 0), (100, 0)])
    b = LineString([(100.8, 0), (200, 0)])
    assert gn.build_graph(_roads([a, b]), snap_tolerance_m=1.0).report.components == 1
    g = gn.build_graph(_roads([a, b]), snap_tolerance_m=0.5)
    assert g.report.components == 2
    assert g.report.share_length_outside_largest == pytest.approx(99.2 / 199.2)
    assert g.report.dangling_ends == 4
    merged = gn.build_graph(_roads([a, b]), snap_tolerance_m=1.0)
    assert merged.n_nodes == 3 and merged.report.dangling_ends == 2
    assert merged.node_xy[1].tolist() == [100.0, 0.0]        # the node sits at the first vertex


def test_topology_report_counts():
    roads = _roads([LineString([(0, 0), (0, 0), (100, 0), (100, 0.2), (200, 0)]),
                    LineString([(1000, 1000), (1100, 1000)])])
    g = gn.build_graph(roads, snap_tolerance_m=1.0)
    rep = g.report
    assert rep.zero_length_edges == 2
    assert rep.components == 2 and rep.largest_component_nodes == 3
    assert rep.nodes == 5 and rep.dangling_ends == 4
    # kept edges: (100, 0.2) is within 1 m of the vertex before it and is thinned out
    assert rep.road_length_m == pytest.approx(100 + 100 + 100)
    assert rep.share_length_outside_largest == pytest.approx(100 / rep.road_length_m)
    assert g.component.tolist() == [0, 0, 0, 1, 1]
    assert rep.warnings()



def test_a_densely_drawn_road_keeps_its_length_and_time():
    """A road drawn with a vertex every 0.5 m (a CAD export, a GPS trace) used to snap,
    vertex after vertex, into one node: its 498 m took no time. Thinned first, it keeps one
    vertex in three (1.5 m apart: 0.5 and 1.0 m are within the 1 m tolerance of the last one
    kept) and its whole length: 498 + 2 + 1000 m at 20 km/h = 4.5 minutes."""
    dense = LineString([(x, 0.0) for x in np.arange(0.0, 498.01, 0.5)] + [(500.0, 0.0)])
    roads = _roads([dense, LineString([(500, 0), (1500, 0)])])
    graph = gn.build_graph(roads, snap_tolerance_m=1.0)
    assert graph.n_nodes == 333 + 1 + 1
    assert graph.report.road_length_m == pytest.approx(1500.0, abs=1e-9)
    assert graph.report.zero_length_edges == 997 - 333           # vertices thinned out
    assert "merged into their neighbours" in " ".join(graph.report.warnings())
    work = [box(1490, -5, 1510, 5)]
    t = gn.home_times(graph, np.array([[0.0, 0.0]]), work, pairs=np.array([[0, 0]]), max_access_m=20.0)
    assert t[0] == pytest.approx(1500 / (20_000 / 60), abs=1e-9)
    bf = BruteForce(roads, tol_m=1.0, max_access_m=20.0)
    assert bf.home_times(np.array([[0.0, 0.0]]), work)[0, 0] == pytest.approx(t[0], abs=TOL)


def test_two_densely_drawn_roads_crossing_at_a_shared_vertex_stay_connected():
    """Two roads with a vertex every 0.9 m cross at a vertex they share. Thinning alone would
    keep every second vertex of each and drop the shared one (the kept ones nearest the
    crossing, 0.9 m from it on each road, are 1.27 m from each other: no snapping, no
    crossing). A vertex within the tolerance of another road's vertex is a junction and is
    kept, so the roads still meet there, as the brute force (the rule applied literally) says."""
    ks = np.arange(199)
    east = LineString([(0.9 * k - 89.1, 0.0) for k in ks])       # k = 99 at (0, 0)
    north = LineString([(0.0, 0.9 * k - 89.1) for k in ks])
    roads = _roads([east, north])
    graph = gn.build_graph(roads, snap_tolerance_m=1.0)
    assert graph.report.components == 1
    home, work = np.array([[-89.1, 0.0]]), [box(-5, 88, 5, 95)]
    t = gn.home_times(graph, home, work, pairs=np.array([[0, 0]]), max_access_m=3.0)
    bf = BruteForce(roads, tol_m=1.0, max_access_m=3.0)
    assert np.isfinite(t[0]) and t[0] == pytest.approx(bf.home_times(home, work)[0, 0], abs=TOL)
    # along the roads: 89.1 m to the crossing, then north to the workplace's entry; the
    # crossing's node spans at most 2 x 0.9 m of each road
    mpm = 20_000 / 60
    assert 89.1 / mpm + 86.0 / mpm <= t[0] <= (89.1 + 88.0 + 2 * 0.9) / mpm + 1e-9


@pytest.mark.parametrize("seed", range(12))
def test_thinning_equals_the_rule_applied_literally(seed):
    """Lines with vertices drawn 0.2 - 3 m apart, some sharing or nearly sharing vertices,
    one touching itself: the vertices ``thin_lines`` keeps (GEOS underneath) are those of
    the rule walked vertex by vertex (``bf_thin``)."""
    from geo.network.graph import thin_lines

    rng = np.random.default_rng(seed)
    lines = []
    for _ in range(int(rng.integers(2, 6))):
        steps = rng.uniform(0.2, 3.0, int(rng.integers(2, 40)))
        heading = rng.uniform(0, 2 * np.pi) + np.cumsum(rng.normal(0, 0.4, len(steps)))
        start = rng.uniform(0, 20, 2)
        pts = np.vstack([start, start + np.cumsum(np.column_stack([np.cos(heading), np.sin(heading)]) * steps[:, None],
                                                  axis=0)])
        lines.append([tuple(map(float, p)) for p in pts])
    if len(lines[0]) > 4:           # a road ending on its own third vertex (a loop)
        lines[0].append(lines[0][2])
    lines[1].insert(1, lines[0][len(lines[0]) // 2])     # a shared vertex
    xy = np.array([p for line in lines for p in line])
    part = np.repeat(np.arange(len(lines)), [len(line) for line in lines])
    keep = thin_lines(xy, part, 1.0)
    got = [[tuple(p) for p in xy[(part == k) & keep].tolist()] for k in range(len(lines))]
    assert got == bf_thin(lines, 1.0)
    assert (~keep).any() or seed > 3      # most seeds thin something


@pytest.mark.parametrize("seed", range(3))
def test_densely_drawn_roads_equal_brute_force(seed):
    """A random study whose first roads are redrawn with a vertex every 0.45 m or less (and
    some extra vertices a few cm from their neighbours): workers within each horizon and
    the nodes reached equal the brute force, which thins and snaps literally."""
    roads, homes, workers, polys = random_study(seed)
    rng = np.random.default_rng(seed)
    geoms = np.asarray(roads.geometry.values, dtype=object)
    geoms[:3] = shapely.segmentize(geoms[:3], 0.45)
    coords = [np.asarray(g.coords) for g in geoms[3:6]]
    for k, c in enumerate(coords):       # near-duplicates of interior vertices
        extra = c[1:-1] + rng.normal(0, 0.05, c[1:-1].shape)
        both = np.vstack([c[:1], np.column_stack([c[1:-1], extra]).reshape(-1, 2), c[-1:]])
        geoms[3 + k] = LineString(both)
    roads = roads.set_geometry(geoms)
    bf = BruteForce(roads, tol_m=1.0)
    graph = gn.build_graph(roads, snap_tolerance_m=1.0)
    assert graph.report.zero_length_edges > 1000                  # thinned
    times = bf.home_times(homes, polys)
    finite = np.sort(times[np.isfinite(times)])
    minutes = [2.0, 5.0, *finite[:: max(1, len(finite) // 3)][:3].tolist()]
    res = gn.workers_within_minutes(graph, homes, workers, polys, minutes, primary_minute=5.0,
                                    reached_nodes="all")
    ok = res.connected
    expected = np.array([[workers[times[:, w] <= m + TOL].sum() for m in minutes] for w in range(len(polys))])
    np.testing.assert_array_equal(res.workers[ok], expected[ok])
    for w, poly in enumerate(polys):
        want = sorted(bf.xy[n] for n in bf.nodes_within(poly, 5.0))
        assert sorted(map(tuple, graph.node_xy[res.reached[w]].tolist())) == want

@pytest.mark.parametrize("seed", range(3))
def test_ways_along_chains_from_the_best_entries_equal_every_entry(seed, monkeypatch):
    """Roads drawn with a vertex every 2.5 m, one-way pieces inside chains: a workplace has
    up to hundreds of entries on one chain. The ways along the chain read from only the best
    entry ahead of and behind each node equal, to the last bit, those read from every entry;
    and both equal the chain walked segment by segment through the full graph."""
    from geo.network import _search
    from geo.network.access import workplace_entries

    roads, _, _, polys = random_study(seed)
    roads = roads.set_geometry(shapely.segmentize(np.asarray(roads.geometry.values, dtype=object), 2.5))
    graph = gn.build_graph(roads, snap_tolerance_m=1.0)
    s = _search._Searcher(graph, workplace_entries(graph, polys, max_access_m=300.0))
    cg = graph.contraction
    q = _search._Query(graph, cg.removed)         # query position = removed position
    e = np.arange(len(s.ce_owner))
    _, size = np.unique(s.ce_owner * s.nch + s.ce_chain, return_counts=True)
    assert size.max() > 4 * _search._EACH_MAX

    def minima(each_max, e=e):
        monkeypatch.setattr(_search, "_EACH_MAX", each_max)
        ei, pos, cost = s.along_chains(e, q)
        ei = e[ei]
        key = s.ce_owner[ei] * q.n + pos
        u, inv = np.unique(key, return_inverse=True)
        m = np.full(len(u), np.inf)
        np.minimum.at(m, inv.ravel(), cost)
        return u, m

    every = minima(10**9)
    for each_max in (0, 16):
        got = minima(each_max)
        np.testing.assert_array_equal(got[0], every[0])
        np.testing.assert_array_equal(got[1], every[1])
    for w in range(len(polys)):      # one workplace at a time, the nodes at the chains' ends
        one = np.arange(s.ce_ptr[w], s.ce_ptr[w + 1])
        got, ref = minima(0, one), minima(10**9, one)
        np.testing.assert_array_equal(got[0], ref[0])
        np.testing.assert_array_equal(got[1], ref[1])
    # literally: per chain, its nodes from u to v and each segment's time in both directions
    t = graph.times.tocoo()
    seg = dict(zip(zip(t.row.tolist(), t.col.tolist()), t.data.tolist()))
    want = {}
    for ch in np.unique(s.ce_chain):
        rem = np.flatnonzero(cg.chain == ch)
        rem = rem[np.argsort(cg.rank[rem])]
        r0 = rem[0]
        nodes = [cg.kept_nodes[cg.ku[r0]], *cg.removed[rem], cg.kept_nodes[cg.kv[r0]]]
        fwd = np.array([seg.get((a, b), np.inf) for a, b in zip(nodes[:-1], nodes[1:])])
        bwd = np.array([seg.get((b, a), np.inf) for a, b in zip(nodes[:-1], nodes[1:])])
        rank = cg.rank[rem]
        assert (rank == np.arange(1, len(rem) + 1)).all()
        for w in np.unique(s.ce_owner[s.ce_chain == ch]):
            mine = np.flatnonzero((s.ce_chain == ch) & (s.ce_owner == w))
            for qi, rq in zip(rem, rank):
                ways = [fwd[rq:rx].sum() if rx >= rq else bwd[rx:rq].sum() for rx in s.ce_rank[mine]]
                best = float(np.min(np.array(ways) + s.ce_g[mine]))
                if np.isfinite(best):
                    want[w * q.n + qi] = best
    keys = np.array(sorted(want))
    np.testing.assert_array_equal(every[0], keys)
    np.testing.assert_allclose(every[1], [want[k] for k in keys], rtol=0, atol=1e-9)


@pytest.mark.parametrize("seed", range(8))
def test_roads_homes_and_workplaces_do_not_join_equal_brute_force(seed):
    """``no_access_classes``: homes and workplaces join only nodes of other roads (an
    expressway's node shared with a local road is joined there). Every minute, count,
    reached node and travel time equals the brute force with the rule applied literally."""
    roads, homes, workers, polys = random_study(seed)
    shut = ("expressway", "arterial")
    bf = BruteForce(roads, tol_m=1.0, max_access_m=400.0, no_access=shut)
    graph = gn.build_graph(roads, snap_tolerance_m=1.0, no_access_classes=["快速路", "Arterial"])
    assert 0 < len(graph.access_nodes) < graph.n_nodes
    assert sorted(graph.node_xy[graph.access_nodes].tolist()) == sorted(list(bf.xy[n]) for n in bf.joinable)
    times = bf.home_times(homes, polys)
    np.testing.assert_allclose(gn.home_times(graph, homes, polys, max_access_m=400.0),
                               np.where(np.isfinite(times), times, np.nan), rtol=0, atol=1e-9)
    finite = np.sort(times[np.isfinite(times)])
    minutes = [2.0, 5.0, *finite[:: max(1, len(finite) // 3)][:3].tolist()]
    res = gn.workers_within_minutes(graph, homes, workers, polys, minutes, max_access_m=400.0,
                                    primary_minute=5.0, reached_nodes="all")
    ok = res.connected
    assert ok.tolist() == [bool(bf.entries(p)) for p in polys]
    expected = np.array([[workers[times[:, w] <= m + TOL].sum() for m in minutes] for w in range(len(polys))])
    np.testing.assert_array_equal(res.workers[ok], expected[ok])
    for w, poly in enumerate(polys):
        want = sorted(bf.xy[n] for n in bf.nodes_within(poly, 5.0))
        assert sorted(map(tuple, graph.node_xy[res.reached[w]].tolist())) == want
    pairs = np.array([(a, b) for a in range(len(polys)) for b in range(a + 1, len(polys))])
    expected = bf.travel_min(polys, pairs)
    got = gn.travel_between(graph, polys, pairs, max_access_m=400.0)
    np.testing.assert_allclose(np.where(np.isfinite(expected), expected, np.nan), got, rtol=0, atol=1e-9)


def test_a_home_beside_an_expressway_walks_to_the_road_it_may_join():
    """A home 10 m from the middle of a 2 km expressway and 300 m from a local road that
    meets the expressway at an interchange 1 km away. With the expressway shut to access
    it walks 300 m to the local road; the interchange node (shared) may be joined."""
    expressway = LineString([(0, 0), (1000, 0), (2000, 0)])
    local = LineString([(1000, 0), (1000, 300), (0, 300)])     # meets it at (1000, 0)
    roads = _roads([expressway, local], **{"class": ["expressway", "local"]})
    home = np.array([[0.0, 10.0]])
    graph = gn.build_graph(roads, no_access_classes=["expressway"])
    assert sorted(graph.node_xy[graph.access_nodes].tolist()) == [[0, 300], [1000, 0], [1000, 300]]
    acc = gn.housing_access(graph, home)
    assert graph.node_xy[acc.node[0]].tolist() == [0.0, 300.0] and acc.distance_m[0] == pytest.approx(290.0)
    # a workplace at the expressway's far end is entered at the interchange only
    work = [box(1990, -5, 2010, 5)]
    ent = gn.workplace_entries(graph, work, max_access_m=1000.0)
    assert graph.node_xy[ent.node].tolist() == [[1000.0, 0.0]]
    # home: 290 m on foot, 1,300 m of local road (20 km/h), then 990 m on foot to the workplace
    t = gn.home_times(graph, home, work, max_access_m=1000.0)
    walk, drive = 5_000 / 60, 20_000 / 60
    assert t[0, 0] == pytest.approx(290 / walk + 1300 / drive + 990 / walk)
    # without the setting it joins the expressway's own vertex 10 m away
    open_graph = gn.build_graph(roads)
    assert open_graph.access_nodes is None
    assert gn.housing_access(open_graph, home).distance_m[0] == pytest.approx(10.0)


def test_class_and_oneway_parsing():
    geoms = [LineString([(i * 1000, 0), (i * 1000, 1000)]) for i in range(8)]
    roads = _roads(geoms, **{"class": ["高速公路", "快速路", "主干路", "次干路", "支路", "Arterial", None, "local"],
                             "speed_kmh": [np.nan] * 7 + [33.0],
                             "oneway": ["yes", "TF", "B", None, "", "FT", "-1", "false"]})
    g = gn.build_graph(roads, default_speed_kmh=12.0)
    assert g.road_speed_kmh.tolist() == [80, 60, 40, 30, 20, 40, 12, 33]
    assert g.road_class.tolist() == ["motorway", "expressway", "arterial", "secondary", "local",
                                     "arterial", None, "local"]
    assert g.road_oneway.tolist() == [1, -1, 0, 0, 0, 1, -1, 0]
    # a 1 km motorway (80 km/h) takes 0.75 min, forward only
    t = g.times.toarray()
    assert t[0, 1] == pytest.approx(0.75) and g.times[1, 0] == 0 and (1, 0) not in zip(*g.times.nonzero())


def test_unknown_oneway_class_and_bad_speed_are_errors():
    geoms = [LineString([(0, 0), (1, 1)])] * 3
    with pytest.raises(InputError, match=r"oneway.*'maybe' in row 1;"):
        gn.build_graph(_roads(geoms, oneway=["yes", "maybe", "no"]))
    with pytest.raises(InputError, match=r"unknown road class 'footpath' in row 2.*network.class_speeds_kmh"):
        gn.build_graph(_roads(geoms, **{"class": ["local", "支路", "footpath"]}))
    with pytest.raises(InputError) as err:
        gn.build_graph(_roads(geoms, speed_kmh=[0.0, "fast", 30.0]))
    assert len(err.value.problems) == 2
    # Geofabrik's F/T/B: T is backward there, forward here; the error says to recode both
    with pytest.raises(InputError, match=r"'F' in row 0;.*Geofabrik's codes.*recode F as FT and T as TF"):
        gn.build_graph(_roads(geoms, oneway=["F", "T", "B"]))
    # every kind of problem at once (validate lists them all): class, speed and one-way
    with pytest.raises(InputError) as err:
        gn.build_graph(_roads(geoms, **{"class": ["footway", "local", "local"]}, speed_kmh=[30.0, "50 mph", 30.0],
                              oneway=["yes", "no", "reversible"]))
    assert [p.split("field ")[1][:10] for p in err.value.problems] == ["'class': u", "'speed_kmh", "'oneway': "]
    # a user class with its own speed is known
    g = gn.build_graph(_roads(geoms[:1], **{"class": ["busway"]}), class_speeds_kmh={**SPEEDS, "busway": 25})
    assert g.road_speed_kmh.tolist() == [25.0]


@pytest.mark.parametrize("key", ["Arterial", "ARTERIAL", "主干路"])
def test_a_class_speed_key_names_the_class_as_a_road_value_would(key):
    """network.class_speeds_kmh {Arterial: 50} (or 主干路, or OSM's primary) sets the speed of
    every arterial road, whichever way the roads spell the class; it used to add a class
    'Arterial' that no road had, silently leaving arterials at 40 km/h."""
    from geo.settings import NetworkSettings

    speeds = NetworkSettings(class_speeds_kmh={key: 50}).speeds_kmh
    assert speeds["arterial"] == 50 and key not in speeds
    geoms = [LineString([(0, 0), (1000, 0)])] * 3
    g = gn.build_graph(_roads(geoms, **{"class": ["arterial", "主干路", "Arterial"]}), class_speeds_kmh=speeds)
    assert g.road_speed_kmh.tolist() == [50.0, 50.0, 50.0]


def test_an_openstreetmap_class_speed_key_is_a_class_of_its_own():
    """{residential: 15} slows the roads tagged residential only, not every local road (支路,
    service, ...), as it always did."""
    from geo.settings import NetworkSettings

    speeds = NetworkSettings(class_speeds_kmh={"residential": 15}).speeds_kmh
    geoms = [LineString([(0, 0), (1000, 0)])] * 3
    g = gn.build_graph(_roads(geoms, **{"class": ["residential", "支路", "service"]}), class_speeds_kmh=speeds)
    assert g.road_speed_kmh.tolist() == [15.0, 20.0, 20.0]


def test_two_class_speed_keys_for_one_class_are_an_error():
    from pydantic import ValidationError

    from geo.settings import NetworkSettings

    with pytest.raises(ValidationError, match=r"keys 'arterial' and '主干路' both set the speed of the road class"):
        NetworkSettings(class_speeds_kmh={"arterial": 40, "主干路": 50})


def test_polygons_are_not_roads():
    with pytest.raises(InputError, match="must be lines"):
        gn.build_graph(_roads([box(0, 0, 1, 1), LineString([(0, 0), (1, 0)])]))


def test_contraction_keeps_times_and_shrinks():
    roads, *_ = random_study(3)
    g = gn.build_graph(roads)
    from scipy.sparse.csgraph import dijkstra
    full = dijkstra(g.times, directed=True)
    cg = g.contraction
    small = dijkstra(cg.times, directed=True)
    k = cg.kept_nodes
    np.testing.assert_allclose(small, full[np.ix_(k, k)], atol=1e-9)
    assert cg.n_kept < g.n_nodes


def test_synthetic_network_has_bridges_oneways_and_a_flyover():
    from geo.network._synthetic import synthetic_roads
    roads = synthetic_roads((0, 0, 8000, 6000), seed=1)
    g = gn.build_graph(roads)
    assert set(roads["class"]) >= {"local", "arterial", "secondary", "motorway"}
    assert (g.road_oneway != 0).any()
    assert g.report.components >= 1 and g.contraction.n_kept < g.n_nodes / 2


def _synthetic_reach_study(seed: int, n_homes: int, n_workplaces: int):
    """Roads of geo.network._synthetic, random homes (workers) and square workplaces."""
    from geo.network._synthetic import synthetic_roads
    graph = gn.build_graph(synthetic_roads((0, 0, 6000, 5000), seed=2))
    rng = np.random.default_rng(seed)
    homes = rng.uniform(0, 6000, size=(n_homes, 2))
    workers = rng.integers(1, 5, len(homes)).astype(float)
    polys = [box(x, y, x + 150, y + 150) for x, y in rng.uniform(0, 5000, size=(n_workplaces, 2))]
    return graph, homes, workers, polys, rng


def test_worker_processes_give_the_same_counts(monkeypatch):
    from geo.network import reach
    monkeypatch.setattr(reach, "_free_cpus", lambda: 2.0)    # processes even on a busy machine
    graph, homes, workers, polys, rng = _synthetic_reach_study(0, 3000, 150)
    one = gn.workers_within_minutes(graph, homes, workers, polys, [5, 10, 20], n_jobs=1, primary_minute=10)
    two = gn.workers_within_minutes(graph, homes, workers, polys, [5, 10, 20], n_jobs=2, primary_minute=10)
    np.testing.assert_array_equal(one.workers, two.workers)
    assert all(np.array_equal(a, b) for a, b in zip(one.reached, two.reached))
    assert (one.workers[:, 0] <= one.workers[:, 1]).all() and (one.workers[:, 1] <= one.workers[:, 2]).all()
    jobs = rng.integers(0, 3, len(polys)).astype(float)
    s1 = gn.workers_shared_within(graph, homes, workers, polys, jobs, 10, n_jobs=1)
    s2 = gn.workers_shared_within(graph, homes, workers, polys, jobs, 10, n_jobs=2)
    np.testing.assert_allclose(s1, s2, rtol=1e-12)
    # on a busy machine the work stays in this process, with the same answer
    monkeypatch.setattr(reach, "_free_cpus", lambda: 0.2)
    spawned = []
    monkeypatch.setattr(reach, "ProcessPoolExecutor", lambda *a, **k: spawned.append(1))
    busy = gn.workers_within_minutes(graph, homes, workers, polys, [5, 10, 20], n_jobs=2, primary_minute=10)
    np.testing.assert_array_equal(busy.workers, one.workers)
    assert not spawned
    # a share never exceeds the workers in reach
    assert (s1 <= one.workers[:, 1] + 1e-9).all()


def test_the_shared_workers_hold_one_batch_of_per_home_sums_at_a_time(monkeypatch):
    # each batch's per-home sums are dense arrays over all homes: added up as they come,
    # not kept as a list until the last batch is done (630 MB on the metro sample)
    from geo.network import reach
    graph, homes, workers, polys, rng = _synthetic_reach_study(1, 2000, 40)
    jobs = rng.integers(1, 3, len(polys)).astype(float)
    whole = gn.workers_shared_within(graph, homes, workers, polys, jobs, 10)
    monkeypatch.setattr(reach, "_BATCH_BYTES", 1)       # one workplace per batch
    alive, most, original = [0], [0], reach._batch_reach_sums

    class Held(np.ndarray):
        def __del__(self):
            alive[0] -= 1

    def counted(batch):
        out = tuple(a.view(Held) for a in original(batch))
        alive[0] += len(out)
        most[0] = max(most[0], alive[0])
        return out

    monkeypatch.setattr(reach, "_batch_reach_sums", counted)
    np.testing.assert_allclose(gn.workers_shared_within(graph, homes, workers, polys, jobs, 10), whole,
                               rtol=1e-12)
    assert most[0] <= 8, most[0]        # four arrays per batch: at most two batches alive


def test_isochrone_polygons_hold_the_reached_nodes_and_the_workplace():
    road = LineString([(x, 0.0) for x in range(0, 3001, 100)])
    graph = gn.build_graph(_roads([road], speed_kmh=[60.0]))
    work = [box(-10, -10, 10, 10)]
    res = gn.workers_within_minutes(graph, np.zeros((0, 2)), np.zeros(0), work, [0.5], primary_minute=1.0,
                                    reached_nodes="all")
    # within 1 minute at 60 km/h: the vertices up to 1 km (sums of 0.1 min: within tolerance)
    assert sorted(graph.node_xy[res.reached[0]][:, 0].tolist()) == [float(x) for x in range(0, 1001, 100)]
    poly = gn.isochrone_polygons(graph, res.reached, work, cell_m=50)[0]
    assert poly.contains(work[0]) and not poly.contains(Point(2000, 0))


@pytest.mark.slow
def test_benchmark_runs_on_the_small_sample(tmp_path):
    import sys
    from pathlib import Path
    bench = Path(__file__).resolve().parents[1] / "benchmarks"
    sys.path.insert(0, str(bench))
    import network as network_bench

    out = network_bench.main("small", subset=4, jobs=2, cache=tmp_path)
    assert out["identical"] and out["same_homes"]
    assert out["kept_nodes"] < out["nodes"] / 4
    assert out["baseline_subset"] == 4 and out["ratio"] > 0 and out["isochrones_s"] >= 0


def test_counts_by_star_group_node_and_home_equal_the_plain_search_on_the_full_graph():
    """Mid-sized network: the counting levels (stars, chain groups, nodes, homes by
    bisection) and the reached nodes equal one plain search per workplace on the full
    graph, homes compared one by one (as the benchmark's baseline does)."""
    from scipy import sparse
    from scipy.sparse.csgraph import dijkstra

    from geo.network._synthetic import synthetic_roads
    roads = synthetic_roads((0, 0, 6000, 5000), vertex_spacing_m=80.0, seed=3)
    graph = gn.build_graph(roads)
    rng = np.random.default_rng(5)
    homes = np.vstack([rng.uniform(-300, 6300, size=(12000, 2)),
                       graph.node_xy[rng.choice(graph.n_nodes, 500)],      # exactly on nodes
                       np.repeat(rng.uniform(0, 6000, size=(200, 2)), 30, axis=0)])  # many at one node
    workers = rng.integers(1, 6, len(homes)).astype(float)
    sizes = rng.uniform(20, 700, size=(40, 2))
    polys = [box(x, y, x + w, y + h) for (x, y), (w, h) in zip(rng.uniform(0, 5000, size=(40, 2)), sizes)]
    entries = gn.workplace_entries(graph, polys)
    acc = gn.housing_access(graph, homes)
    n = graph.n_nodes
    rev = graph.times.T.tocsr()
    ents = [slice(entries.offsets[w], entries.offsets[w + 1]) for w in range(len(polys))]
    aug = sparse.csr_matrix(
        (np.concatenate([rev.data, entries.egress_min]),
         np.concatenate([rev.indices, entries.node]).astype(np.int32),
         np.concatenate([rev.indptr, rev.nnz + entries.offsets[1:]])), shape=(n + len(polys),) * 2)
    full = dijkstra(aug, directed=True, indices=n + np.arange(len(polys)), limit=40.0)[:, :n]
    ok = acc.node >= 0
    t_home = acc.access_min[ok] + full[:, acc.node[ok]]           # workplaces × connected homes
    exact = float(t_home[0][np.isfinite(t_home[0])][len(t_home[0]) // 3])   # a home exactly at it
    minutes = [2.0, 4.5, exact, 7.0, 11.0]
    res = gn.workers_within_minutes(graph, homes, workers, polys, minutes, primary_minute=4.5,
                                    reached_nodes="all", entries=entries)
    expected = np.array([[workers[ok][t_home[w] <= m + TOL].sum() for m in minutes] for w in range(len(polys))])
    connected = np.array([s.stop > s.start for s in ents])
    np.testing.assert_array_equal(res.workers[connected], expected[connected])
    assert (expected[:, 2] > 0).any() and (expected[:, 0] < expected[:, -1]).all()
    for w in np.flatnonzero(connected):
        np.testing.assert_array_equal(res.reached[w], np.flatnonzero(full[w] <= 4.5 + TOL))
    outline = gn.workers_within_minutes(graph, homes, workers, polys, minutes, primary_minute=4.5,
                                        entries=entries)
    np.testing.assert_array_equal(outline.workers, res.workers)
    # horizons far from the workplace: whole stars around its entries count at once
    far = gn.workers_within_minutes(graph, homes, workers, polys, [11.0, 7.0], entries=entries).workers
    np.testing.assert_array_equal(far[connected], expected[connected][:, [4, 3]])
    for w in np.flatnonzero(connected):
        assert set(outline.reached[w]) <= set(res.reached[w])
