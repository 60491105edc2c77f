"""Travel times between features of two sets (workplaces and points), for the analyses that
link zones: collaboration partners, core attachment, chain reach.

* A **workplace** (polygon) is entered as DESIGN.md says: every node inside it or within
  ``max_access_m`` of its boundary, egress = distance to the polygon / access speed.
* A **point** (a firm) is treated like a home: its nearest node, access = distance /
  access speed; farther than ``max_access_m`` it is not connected.
* Between a and b: min over entries of egress(a) + network time + egress(b), the faster of
  the two directions (DESIGN.md "Travel time between two workplaces").

:func:`straight_bound_m` turns a time limit into a straight-line distance no faster
connection can exceed, so that candidate pairs are found with a spatial index first.
"""

from __future__ import annotations

import numpy as np
import shapely

from geo.network._reverse import reversed_graph
from geo.network.access import Entries, housing_access, minutes_per_metre, workplace_entries
from geo.network.graph import RoadGraph
from geo.network.reach import TIME_TOLERANCE_MIN
from geo.network.travel import _directed_times

__all__ = ["feature_entries", "point_entries", "reversed_graph", "straight_bound_m", "travel_between_sets"]


def point_entries(graph: RoadGraph, points_xy: np.ndarray, *, access_speed_kmh: float = 5.0,
                  max_access_m: float = 1000.0) -> Entries:
    """Entries of points treated like homes: the nearest node, access minutes as egress."""
    acc = housing_access(graph, points_xy, access_speed_kmh=access_speed_kmh, max_access_m=max_access_m)
    ok = acc.node >= 0
    offsets = np.concatenate([[0], np.cumsum(ok)]).astype(np.int64)
    return Entries(offsets=offsets, node=acc.node[ok], egress_min=acc.access_min[ok])


def feature_entries(graph: RoadGraph, geometries, *, access_speed_kmh: float = 5.0,
                    max_access_m: float = 1000.0) -> Entries:
    """Entries of mixed features: points like homes, every other geometry like a workplace.

    Missing or empty geometries get no entry (not connected).
    """
    geoms = np.asarray(getattr(geometries, "values", geometries), dtype=object)
    n = len(geoms)
    bad = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    is_point = ~bad & (shapely.get_type_id(geoms) == 0)
    is_poly = ~bad & ~is_point
    parts = []          # (owner positions, Entries)
    if is_point.any():
        pos = np.flatnonzero(is_point)
        parts.append((pos, point_entries(graph, shapely.get_coordinates(geoms[pos]),
                                         access_speed_kmh=access_speed_kmh, max_access_m=max_access_m)))
    if is_poly.any():
        pos = np.flatnonzero(is_poly)
        parts.append((pos, workplace_entries(graph, geoms[pos], access_speed_kmh=access_speed_kmh,
                                             max_access_m=max_access_m)))
    if len(parts) == 1 and len(parts[0][0]) == n:
        return parts[0][1]
    owner = [np.zeros(0, np.int64)]
    node = [np.zeros(0, np.int64)]
    egress = [np.zeros(0)]
    for pos, e in parts:
        owner.append(pos[e.owner()])
        node.append(e.node)
        egress.append(e.egress_min)
    owner, node, egress = np.concatenate(owner), np.concatenate(node), np.concatenate(egress)
    order = np.lexsort((node, owner))
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(owner, minlength=n), out=offsets[1:])
    return Entries(offsets=offsets, node=node[order].astype(np.int64), egress_min=egress[order])


def straight_bound_m(graph: RoadGraph, minutes: float, *, access_speed_kmh: float = 5.0) -> float:
    """A straight-line distance that no connection of ``minutes`` or less can exceed.

    Every leg (walking access, road segments) covers at most the fastest speed × its time,
    so two features farther apart than ``minutes`` × the fastest speed cannot be linked
    within ``minutes``. Snapping joins vertices a little apart: a margin (1 % + 1 km) is added.
    """
    speeds = np.asarray(graph.road_speed_kmh, dtype=float)
    vmax = max(float(np.nanmax(speeds)) if speeds.size else 0.0, float(access_speed_kmh))
    reach = float(minutes) / minutes_per_metre(vmax)
    return reach * 1.01 + 1000.0


def travel_between_sets(graph: RoadGraph, a: Entries, b: Entries, pairs: np.ndarray, *,
                        limit_min: float = np.inf, n_jobs: int = 1) -> np.ndarray:
    """Minutes between ``a[i]`` and ``b[j]`` for each pair ``(i, j)``: the faster direction.

    Searches run towards the side with fewer distinct features in the pairs (the other
    direction on the reversed graph), one search per feature, bounded at ``limit_min``.

    Returns
    -------
    ndarray
        One value per pair; NaN when not connected, no path, or slower than ``limit_min``.
    """
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    i, j = pairs[:, 0], pairs[:, 1]
    if len(pairs) == 0:
        return np.zeros(0)
    rev = reversed_graph(graph)
    if len(np.unique(i)) < len(np.unique(j)):
        # searches towards a: b → a on the graph, a → b on the reversed graph
        t1 = _directed_times(graph, b, a, j, i, limit_min=limit_min, n_jobs=n_jobs)
        t2 = _directed_times(rev, b, a, j, i, limit_min=limit_min, n_jobs=n_jobs)
    else:
        t1 = _directed_times(graph, a, b, i, j, limit_min=limit_min, n_jobs=n_jobs)
        t2 = _directed_times(rev, a, b, i, j, limit_min=limit_min, n_jobs=n_jobs)
    best = np.minimum(t1, t2)
    best[~np.isfinite(best) | (best > limit_min + TIME_TOLERANCE_MIN)] = np.nan
    return best
