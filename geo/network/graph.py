"""The road graph of DESIGN.md "Roads and travel time", built literally and vectorised.

* Every vertex of every road is a node; vertices closer than ``snap_tolerance_m`` to each
  other (transitively) are one node, located at the first such vertex in input order.
  First, along each line, a vertex within ``snap_tolerance_m`` of the previous vertex kept
  is dropped (:func:`thin_lines`; never at a junction): a densely drawn line keeps its
  course and length instead of collapsing, vertex after vertex, into one node.
* Every segment between two consecutive vertices of a road is a directed edge (one or two,
  by the road's ``oneway``) whose time is the segment's length (from the road's own
  vertices) / the road's speed. A segment whose two vertices fall into one node is a
  zero-length edge: counted in the report and dropped. Parallel edges keep the fastest.
* Every edge also carries its length in metres (``lengths``, the same sparsity as
  ``times``): that of the segment giving its time (equal times: the shorter segment).
* Roads connect only where they share a node: lines crossing without a shared vertex
  (bridges, flyovers) do not connect.

The graph is then simplified (:mod:`geo.network._contract`) for speed without changing any
travel time.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import shapely
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from geo._errors import InputError, format_rows
from geo.network._contract import Contraction, contract, csr_min_pair
from geo.network._parse import DEFAULT_CLASS_SPEEDS_KMH, parse_oneway, road_speeds_kmh
from geo.schema import road_class_names

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NetworkParams:
    """The ``network:`` settings of DESIGN.md (defaults as documented there)."""

    class_speeds_kmh: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_CLASS_SPEEDS_KMH))
    default_speed_kmh: float = 20.0
    access_speed_kmh: float = 5.0
    max_access_m: float = 1000.0
    snap_tolerance_m: float = 1.0


@dataclass(frozen=True)
class TopologyReport:
    """What a planner should know about a road network before trusting travel times.

    ``share_length_outside_largest`` is the share of road length (edges, by length) not in
    the largest weakly connected component; ``dangling_ends`` counts nodes touched by one
    other node only (dead ends, and often digitising gaps); ``zero_length_edges`` counts
    segments dropped as shorter than the snap tolerance: a vertex thinned out of its line
    (:func:`thin_lines`) or a segment whose two vertices became one node.
    """

    nodes: int
    edges: int
    components: int
    largest_component_nodes: int
    share_length_outside_largest: float
    dangling_ends: int
    zero_length_edges: int
    road_length_m: float

    def warnings(self, source: str = "roads") -> list[str]:
        """Messages for the run's warnings (one line each), empty when all is well."""
        out = []
        if self.components > 1:
            out.append(f"{source}: the network has {self.components} separate pieces; "
                       f"{self.share_length_outside_largest:.1%} of the road length is outside the "
                       "largest (check for gaps where roads should share a vertex)")
        if self.zero_length_edges:
            out.append(f"{source}: {self.zero_length_edges} segments shorter than network.snap_tolerance_m "
                       "(repeated or very close vertices) were merged into their neighbours")
        if self.dangling_ends and self.nodes and self.dangling_ends > 0.05 * self.nodes:
            out.append(f"{source}: {self.dangling_ends} dead ends ({self.dangling_ends / self.nodes:.1%} "
                       "of the nodes); roads that should meet may miss each other by more than "
                       "network.snap_tolerance_m")
        return out


@dataclass
class RoadGraph:
    """A directed road graph; travel times in minutes.

    Attributes
    ----------
    node_xy : (N, 2) float array, node positions (working CRS, metres).
    times : (N, N) CSR matrix; ``times[i, j]`` = minutes from node i to node j along one
        segment (explicit entries only; the fastest of parallel segments).
    component : (N,) int, weakly connected component of each node (0 = the largest).
    report : TopologyReport.
    contraction : the simplified graph used for searches (exact).
    road_of_edge / edge arrays : ``edge_from``, ``edge_to``, ``edge_min``, ``edge_road``
        (positional road index) of every kept directed edge, for drawing and checks.
    road_component : (n_roads,) component of each road (of its first vertex), -1 when the
        road has no edge.
    road_speed_kmh, road_class, road_oneway : parsed per road (positional).
    """

    node_xy: np.ndarray
    times: sparse.csr_matrix
    component: np.ndarray
    report: TopologyReport
    contraction: Contraction
    edge_from: np.ndarray
    edge_to: np.ndarray
    edge_min: np.ndarray
    edge_road: np.ndarray
    road_component: np.ndarray
    road_speed_kmh: np.ndarray
    road_class: np.ndarray
    road_oneway: np.ndarray
    lengths: sparse.csr_matrix | None = None
    edge_m: np.ndarray | None = None
    #: the nodes homes and workplaces may join, ascending (None: every node); without the
    #: nodes only roads of ``network.no_access_classes`` touch
    access_nodes: np.ndarray | None = None
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def remembered(self, name: str, key, compute, keep: int):
        """``compute()``, remembered on the graph under ``(name, key)``; the ``keep`` most
        recently used results of ``name`` are kept. The result must not be modified."""
        cache = self._cache.setdefault(name, {})
        if key in cache:
            cache[key] = cache.pop(key)          # most recently used last
        else:
            cache[key] = compute()
            while len(cache) > keep:
                cache.pop(next(iter(cache)))
        return cache[key]

    def joinable(self) -> np.ndarray:
        """Node ids homes and workplaces may join (:attr:`access_nodes`, or every node)."""
        return np.arange(self.n_nodes) if self.access_nodes is None else self.access_nodes

    def node_kdtree(self) -> cKDTree:
        """cKDTree of the joinable nodes' positions (built once); its point ``i`` is node
        ``joinable()[i]``."""
        if "kdtree" not in self._cache:
            self._cache["kdtree"] = cKDTree(self.node_xy[self.joinable()], balanced_tree=False,
                                            compact_nodes=False)
        return self._cache["kdtree"]

    def node_strtree(self) -> tuple[np.ndarray, shapely.STRtree]:
        """The joinable nodes' points and their STRtree (built once); point ``i`` is node
        ``joinable()[i]``."""
        if "strtree" not in self._cache:
            pts = shapely.points(self.node_xy[self.joinable()])
            self._cache["strtree"] = (pts, shapely.STRtree(pts))
        return self._cache["strtree"]

    @property
    def n_nodes(self) -> int:
        return int(self.node_xy.shape[0])

    @property
    def n_edges(self) -> int:
        return int(self.times.nnz)


def close_pairs(xy: np.ndarray, tolerance_m: float) -> np.ndarray:
    """(i, j) with i < j of every two vertices at most ``tolerance_m`` apart."""
    if len(xy) < 2:
        return np.zeros((0, 2), dtype=np.int64)
    tree = cKDTree(xy, balanced_tree=False, compact_nodes=False)
    return tree.query_pairs(r=max(float(tolerance_m), 0.0), output_type="ndarray").astype(np.int64)


def thin_lines(xy: np.ndarray, part: np.ndarray, tolerance_m: float,
               pairs: np.ndarray | None = None) -> np.ndarray:
    """Vertices kept (bool mask): along each line part, a vertex within ``tolerance_m`` of
    the previous vertex kept is dropped, the last vertex always kept (GEOS'
    ``remove_repeated_points``: when the last vertex is that near the previous one kept,
    that one is dropped instead; a line of two vertices keeps both).

    Junctions are never dropped: a vertex within ``tolerance_m`` of a vertex of another
    part, or of its own part more than twice ``tolerance_m`` away along the line (a road
    touching itself), is kept, and the thinning runs between such vertices. Without this
    step, snapping (transitive) would make one node of a line drawn with vertices closer
    than the tolerance, however long: its segments would all be zero-length and its travel
    time lost.

    ``xy`` and ``part`` as ``shapely.get_coordinates(parts, return_index=True)`` give them
    (the vertices of each part consecutive); ``pairs``: :func:`close_pairs` of ``xy``.
    """
    n = len(xy)
    keep = np.ones(n, dtype=bool)
    if n < 3:
        return keep
    tol = max(float(tolerance_m), 0.0)
    same = part[1:] == part[:-1]
    seg = np.hypot(xy[1:, 0] - xy[:-1, 0], xy[1:, 1] - xy[:-1, 1])
    close = same & (seg <= tol)
    if not close.any():
        return keep
    pairs = close_pairs(xy, tol) if pairs is None else pairs
    arc = np.concatenate([[0.0], np.cumsum(np.where(same, seg, 0.0))])   # along each part
    i, j = pairs[:, 0], pairs[:, 1]
    junction = (part[i] != part[j]) | (np.abs(arc[i] - arc[j]) > 2.0 * tol)
    protected = np.zeros(n, dtype=bool)
    protected[i[junction]] = True
    protected[j[junction]] = True
    thinned = np.zeros(int(part.max()) + 1, dtype=bool)
    thinned[part[1:][close]] = True
    v = np.flatnonzero(thinned[part])          # the vertices of the parts to thin, in order
    first = np.concatenate([[True], part[v[1:]] != part[v[:-1]]])
    last = np.concatenate([part[v[1:]] != part[v[:-1]], [True]])
    split = protected[v] & ~first & ~last      # ends one piece and starts the next
    rep = 1 + split.astype(np.int64)
    seq = np.repeat(v, rep)
    starts = np.zeros(len(seq), dtype=bool)
    starts[(np.cumsum(rep) - rep)[first]] = True
    starts[(np.cumsum(rep) - 1)[split]] = True
    piece = np.cumsum(starts) - 1
    # the vertex index rides along as z (GEOS measures in x, y and keeps the coordinates)
    lines = shapely.linestrings(np.column_stack([xy[seq], seq.astype(float)]), indices=piece)
    kept = shapely.get_coordinates(shapely.remove_repeated_points(lines, tol), include_z=True)[:, 2]
    keep[v] = False
    keep[kept.astype(np.int64)] = True
    return keep


def snap_vertices(xy: np.ndarray, tolerance_m: float,
                  pairs: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Node of every vertex and node positions.

    Vertices within ``tolerance_m`` of each other (transitively) are one node; the node
    sits at the group's first vertex; nodes are numbered by their first vertex.
    ``pairs``: :func:`close_pairs` of ``xy`` when known.
    """
    n = len(xy)
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros((0, 2))
    pairs = close_pairs(xy, tolerance_m) if pairs is None else pairs
    if len(pairs):
        adj = sparse.coo_matrix((np.ones(len(pairs), dtype=np.int8), (pairs[:, 0], pairs[:, 1])),
                                shape=(n, n)).tocsr()
        _, label = connected_components(adj, directed=False)
    else:
        label = np.arange(n)
    # renumber groups by their first vertex
    first = np.full(label.max() + 1, n, dtype=np.int64)
    np.minimum.at(first, label, np.arange(n))
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    node = rank[label]
    return node.astype(np.int64), xy[first[order]]


def build_graph(roads: gpd.GeoDataFrame, *, class_speeds_kmh: Mapping[str, float] | None = None,
                default_speed_kmh: float = 20.0, snap_tolerance_m: float = 1.0,
                source: str = "roads", no_access_classes: Sequence[str] = ()) -> RoadGraph:
    """Build the directed road graph of DESIGN.md from road centrelines.

    Parameters
    ----------
    roads : GeoDataFrame
        LineString / MultiLineString roads in a projected CRS (metres), with optional
        columns ``class`` (English or Chinese class), ``speed_kmh`` and ``oneway``.
    class_speeds_kmh : mapping, optional
        Speed of each class (default DESIGN.md's); keys may add classes.
    default_speed_kmh : float
        Speed of a road with neither ``speed_kmh`` nor a class.
    snap_tolerance_m : float
        Vertices closer than this are one node.
    source : str
        Layer name used in error messages.
    no_access_classes : sequence of str
        Road classes (``network.no_access_classes``) whose nodes homes and workplaces do not
        join, unless a road of another class (or without a class) shares the node.

    Returns
    -------
    RoadGraph

    Raises
    ------
    InputError
        Non-line geometries, no lines, unknown classes or one-way values, bad speeds.
    """
    speeds_cfg = dict(DEFAULT_CLASS_SPEEDS_KMH if class_speeds_kmh is None else class_speeds_kmh)
    geoms = np.asarray(roads.geometry.values, dtype=object)
    n_roads = len(geoms)
    gtype = shapely.get_type_id(geoms)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    bad_type = ~missing & ~np.isin(gtype, [1, 5])  # LineString, MultiLineString
    problems = []
    if bad_type.any():
        kinds = sorted(set(shapely.get_type_id(geoms[bad_type]).tolist()))
        names = {0: "Point", 2: "LinearRing", 3: "Polygon", 4: "MultiPoint", 6: "MultiPolygon", 7: "GeometryCollection"}
        problems.append(f"{source}: geometries must be lines (LineString/MultiLineString); found "
                        f"{', '.join(names.get(k, str(k)) for k in kinds)} in {format_rows(roads.index[bad_type])}")
    # every problem of the attributes at once (validate lists them all), not the first kind only
    try:
        speeds, classes = road_speeds_kmh(roads, class_speeds_kmh=speeds_cfg,
                                          default_speed_kmh=default_speed_kmh, source=source)
    except InputError as exc:
        problems += exc.problems
    try:
        oneway = (parse_oneway(roads["oneway"], source=source) if "oneway" in roads.columns
                  else np.zeros(n_roads, dtype=np.int8))
    except InputError as exc:
        problems += exc.problems
    if problems:
        raise InputError(problems)
    parts, part_road = shapely.get_parts(geoms[~missing], return_index=True)
    part_road = np.flatnonzero(~missing)[part_road]
    xy, part_of_vertex = shapely.get_coordinates(parts, return_index=True)
    if len(xy) < 2:
        raise InputError(f"{source}: no road lines (need LineString/MultiLineString features with vertices)")
    pairs = close_pairs(xy, snap_tolerance_m)
    keep = thin_lines(xy, part_of_vertex, snap_tolerance_m, pairs)
    n_thinned = int(len(keep) - keep.sum())
    if n_thinned:
        at = np.cumsum(keep) - 1
        pairs = at[pairs[keep[pairs[:, 0]] & keep[pairs[:, 1]]]]
        xy, part_of_vertex = xy[keep], part_of_vertex[keep]
    node, node_xy = snap_vertices(xy, snap_tolerance_m, pairs)
    n = len(node_xy)
    access_nodes = None
    if len(no_access_classes):
        shut = road_class_names(no_access_classes, speeds_cfg)
        open_road = ~np.isin(np.asarray(classes, dtype=object), shut)
        joinable = np.zeros(n, dtype=bool)
        joinable[node[open_road[part_road[part_of_vertex]]]] = True
        access_nodes = np.flatnonzero(joinable)
    # segments: consecutive vertices of one part
    same = part_of_vertex[1:] == part_of_vertex[:-1]
    a = np.flatnonzero(same)
    b = a + 1
    seg_road = part_road[part_of_vertex[a]]
    seg_len = np.hypot(xy[b, 0] - xy[a, 0], xy[b, 1] - xy[a, 1])
    na, nb = node[a], node[b]
    zero = na == nb
    n_zero = int(zero.sum()) + n_thinned      # every vertex dropped took a short segment with it
    na, nb, seg_road, seg_len = na[~zero], nb[~zero], seg_road[~zero], seg_len[~zero]
    seg_min = seg_len / (speeds[seg_road] * 1000.0 / 60.0)
    direction = oneway[seg_road]
    fwd = direction >= 0
    bwd = direction <= 0
    ei = np.concatenate([na[fwd], nb[bwd]])
    ej = np.concatenate([nb[fwd], na[bwd]])
    ew = np.concatenate([seg_min[fwd], seg_min[bwd]])
    er = np.concatenate([seg_road[fwd], seg_road[bwd]])
    em = np.concatenate([seg_len[fwd], seg_len[bwd]])
    times, lengths = csr_min_pair(ei, ej, ew, em, n)
    # components (weak) and the topology report
    und = sparse.coo_matrix((np.ones(len(na), dtype=np.int8), (na, nb)), shape=(n, n)).tocsr()
    und = ((und + und.T) > 0).astype(np.int8)
    n_comp, label = connected_components(und, directed=False)
    sizes = np.bincount(label, minlength=n_comp)
    # renumber so that 0 is the largest (ties: lowest label)
    order = np.argsort(-sizes, kind="stable")
    relabel = np.empty_like(order)
    relabel[order] = np.arange(n_comp)
    component = relabel[label]
    total_len = float(seg_len.sum())
    outside = float(seg_len[component[na] != 0].sum())
    degree = np.diff(und.indptr)
    report = TopologyReport(
        nodes=n, edges=int(times.nnz), components=int(n_comp),
        largest_component_nodes=int(sizes.max()) if n_comp else 0,
        share_length_outside_largest=outside / total_len if total_len > 0 else 0.0,
        dangling_ends=int((degree == 1).sum()), zero_length_edges=n_zero, road_length_m=total_len)
    road_component = np.full(n_roads, -1, dtype=np.int64)
    road_component[seg_road[::-1]] = component[na[::-1]]   # first segment of each road wins
    contraction = contract(times, und, lengths, node_xy)
    log.debug("road graph: %d nodes, %d edges, %d components; simplified to %d nodes, %d edges",
              n, times.nnz, n_comp, contraction.n_kept, contraction.times.nnz)
    return RoadGraph(node_xy=node_xy, times=times, component=component, report=report,
                     contraction=contraction, edge_from=ei, edge_to=ej, edge_min=ew, edge_road=er,
                     road_component=road_component, road_speed_kmh=speeds, road_class=classes,
                     road_oneway=oneway, lengths=lengths, edge_m=em, access_nodes=access_nodes)
