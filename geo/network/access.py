"""How housing and workplaces join the road network (DESIGN.md "Access").

* A housing feature joins at its nearest node; access time = straight distance /
  ``access_speed_kmh``; farther than ``max_access_m`` from every node: not connected.
  Distances are compared with :data:`~geo.schema.DISTANCE_TOLERANCE_M` (1 µm): a node at
  ``max_access_m`` is within it however the distance rounds, and nodes within 1 µm of the
  nearest distance are equally near; of them the one with the smallest x, then the smallest
  y, is taken (:func:`housing_access`), so a point midway between two nodes joins the same
  one whatever the order of the roads.
* A workplace polygon is entered at every node inside it or within ``max_access_m`` of its
  boundary; egress time = distance from the node to the polygon (0 inside) /
  ``access_speed_kmh`` (within ``max_access_m`` + 1 µm). No such node: not connected.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass

import numpy as np
import shapely

from geo.network.graph import RoadGraph
from geo.schema import DISTANCE_TOLERANCE_M


def minutes_per_metre(speed_kmh: float) -> float:
    """Minutes to cover one metre at ``speed_kmh``."""
    return 60.0 / (float(speed_kmh) * 1000.0)


@dataclass
class HousingAccess:
    """Per housing feature: its node (-1 = not connected), access minutes and metres."""

    node: np.ndarray
    access_min: np.ndarray
    distance_m: np.ndarray

    @property
    def connected(self) -> np.ndarray:
        return self.node >= 0


@dataclass
class Entries:
    """Entry nodes of each workplace, as a ragged array.

    The entries of workplace ``w`` are ``node[offsets[w]:offsets[w + 1]]`` with egress
    minutes ``egress_min[...]``.
    """

    offsets: np.ndarray
    node: np.ndarray
    egress_min: np.ndarray

    @property
    def n(self) -> int:
        return len(self.offsets) - 1

    @property
    def connected(self) -> np.ndarray:
        return np.diff(self.offsets) > 0

    def owner(self) -> np.ndarray:
        """Workplace of each entry."""
        return np.repeat(np.arange(self.n), np.diff(self.offsets))


def _spatial_order(xy: np.ndarray) -> np.ndarray:
    """Order of the points along a Z-order curve over their bounds (2^16 cells a side)."""
    ok = np.isfinite(xy).all(axis=1)
    if not ok.any():
        return np.arange(len(xy))
    lo = xy[ok].min(axis=0)
    span = np.maximum(xy[ok].max(axis=0) - lo, 1e-9)
    cell = np.clip(np.nan_to_num((xy - lo) / span * 65535.0), 0, 65535).astype(np.uint64)

    def spread(v: np.ndarray) -> np.ndarray:
        for shift, mask in ((8, 0x00FF00FF), (4, 0x0F0F0F0F), (2, 0x33333333), (1, 0x55555555)):
            v = (v | (v << np.uint64(shift))) & np.uint64(mask)
        return v

    return np.argsort(spread(cell[:, 0]) | (spread(cell[:, 1]) << np.uint64(1)), kind="stable")


def _westmost(node_xy: np.ndarray, candidates) -> np.ndarray:
    """Of each list of node numbers, the node with the smallest x, then the smallest y."""
    lens = np.fromiter(map(len, candidates), dtype=np.int64, count=len(candidates))
    flat = np.fromiter(itertools.chain.from_iterable(candidates), dtype=np.int64, count=int(lens.sum()))
    row = np.repeat(np.arange(len(candidates)), lens)
    order = np.lexsort((node_xy[flat, 1], node_xy[flat, 0], row))
    return flat[order[np.concatenate([[0], np.cumsum(lens)[:-1]])]]


def housing_access(graph: RoadGraph, housing_xy: np.ndarray, *, access_speed_kmh: float = 5.0,
                   max_access_m: float = 1000.0) -> HousingAccess:
    """Nearest node of each housing point and its access time.

    Parameters
    ----------
    graph : RoadGraph
    housing_xy : (H, 2) array
        Housing points (a polygon's representative point, a raster cell's centre).
    access_speed_kmh, max_access_m : float
        DESIGN.md ``network.access_speed_kmh`` and ``network.max_access_m``.
    """
    xy = np.asarray(housing_xy, dtype=float).reshape(-1, 2)
    tree = graph.node_kdtree()
    ids = graph.joinable()
    order = _spatial_order(xy)   # neighbouring queries walk the same branches of the tree
    # the two nearest: when the second is as near as the first (within the tolerance), of
    # all the nodes equally near the one with the smallest x, then y (not the tree's pick)
    tol = DISTANCE_TOLERANCE_M
    limit = float(max_access_m) + tol
    two_d, two_n = np.empty((len(xy), 2)), np.empty((len(xy), 2), dtype=np.int64)
    two_d[order], two_n[order] = tree.query(xy[order], k=2, distance_upper_bound=limit * (1 + 1e-12) + tol,
                                            workers=-1)
    dist, node = two_d[:, 0].copy(), two_n[:, 0].copy()     # node: tree positions
    tied = np.flatnonzero(np.isfinite(two_d[:, 1]) & (two_d[:, 1] <= two_d[:, 0] + tol))
    if len(tied):
        node[tied] = _westmost(tree.data, tree.query_ball_point(xy[tied], r=two_d[tied, 0] + tol))
        gap = xy[tied] - tree.data[node[tied]]
        dist[tied] = np.sqrt(np.sum(gap * gap, axis=1))
    ok = np.isfinite(dist) & (dist <= limit)
    node = np.where(ok, ids[np.where(ok, node, 0)] if len(ids) else -1, -1).astype(np.int64)
    dist = np.where(ok, dist, np.nan)
    return HousingAccess(node=node, access_min=dist * minutes_per_metre(access_speed_kmh), distance_m=dist)


def workplace_entries(graph: RoadGraph, polygons, *, access_speed_kmh: float = 5.0,
                      max_access_m: float = 1000.0, parts: list | None = None) -> Entries:
    """Entry nodes and egress minutes of each workplace polygon (STRtree bulk query).

    Cached on the graph for the last few sets of polygons (the analyses ask for the same
    workplaces several times); the result must not be modified. ``parts``: the polygons
    are these sets one after the other (e.g. the zones, then the innovation districts):
    their entries, each remembered on its own, are joined instead of searched again (the
    same entries), and remembered for the whole set too.
    """
    polys = np.asarray(getattr(polygons, "values", polygons), dtype=object)
    key = (geometry_key(polys), float(access_speed_kmh), float(max_access_m))

    def compute() -> Entries:
        if parts is not None:
            return concat_entries([workplace_entries(graph, p, access_speed_kmh=access_speed_kmh,
                                                     max_access_m=max_access_m) for p in parts])
        return _workplace_entries(graph, polys, access_speed_kmh, max_access_m)

    return graph.remembered("entries_lru", key, compute, keep=4)


def geometry_key(geoms: np.ndarray) -> str:
    """A digest of the geometries (order included): the same features give the same key."""
    h = hashlib.sha1(str(len(geoms)).encode())
    for chunk in range(0, len(geoms), 20000):
        wkb = shapely.to_wkb(geoms[chunk:chunk + 20000])
        h.update(b"".join(x if x is not None else b"-" for x in wkb))
    return h.hexdigest()


def _workplace_entries(graph: RoadGraph, polys: np.ndarray, access_speed_kmh: float,
                       max_access_m: float) -> Entries:
    pts, tree = graph.node_strtree()
    limit = float(max_access_m) + DISTANCE_TOLERANCE_M     # a node at max_access_m is within it
    wi, ni = tree.query(polys, predicate="dwithin", distance=limit)
    dist = shapely.distance(polys[wi], pts[ni])
    keep = dist <= limit
    wi, ni, dist = wi[keep], graph.joinable()[ni[keep]], dist[keep]
    order = np.lexsort((ni, wi))
    wi, ni, dist = wi[order], ni[order], dist[order]
    offsets = np.zeros(len(polys) + 1, dtype=np.int64)
    np.cumsum(np.bincount(wi, minlength=len(polys)), out=offsets[1:])
    return Entries(offsets=offsets, node=ni.astype(np.int64),
                   egress_min=dist * minutes_per_metre(access_speed_kmh))


def subset_entries(entries: Entries, sel: np.ndarray) -> Entries:
    """The entries of the workplaces ``sel`` (positions), in that order."""
    sel = np.asarray(sel, dtype=np.int64)
    starts = entries.offsets[sel]
    counts = entries.offsets[sel + 1] - starts
    offsets = np.zeros(len(sel) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    idx = (np.repeat(starts - offsets[:-1], counts) + np.arange(int(offsets[-1]))) if len(sel) else np.zeros(0, np.int64)
    return Entries(offsets=offsets, node=entries.node[idx], egress_min=entries.egress_min[idx])


def concat_entries(parts: list[Entries]) -> Entries:
    """The entries of several sets of workplaces, one after the other (positions shift)."""
    if not parts:
        return Entries(offsets=np.zeros(1, dtype=np.int64), node=np.zeros(0, dtype=np.int64),
                       egress_min=np.zeros(0))
    offsets = [np.asarray(parts[0].offsets, dtype=np.int64)]
    for e in parts[1:]:
        offsets.append(np.asarray(e.offsets[1:], dtype=np.int64) + offsets[-1][-1])
    return Entries(offsets=np.concatenate(offsets), node=np.concatenate([e.node for e in parts]),
                   egress_min=np.concatenate([e.egress_min for e in parts]))
