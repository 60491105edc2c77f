"""Isochrone polygons: the area reached from a workplace within a horizon, for maps.

An isochrone here is drawn, not measured: the concave hull (``shapely.concave_hull`` with
``ratio``) of the nodes of the simplified graph reached within the horizon, buffered by
``buffer_m`` and united with the workplace polygon. Workers are counted exactly on the
network (:func:`geo.network.workers_within_minutes`), never from this polygon.
"""

from __future__ import annotations

import numpy as np
import shapely

from geo.network.graph import RoadGraph


def isochrone_polygons(graph: RoadGraph, reached: list, workplaces, *, buffer_m: float = 250.0,
                       ratio: float = 0.3) -> np.ndarray:
    """One polygon per workplace around its reached nodes (object array of geometries).

    Parameters
    ----------
    graph : RoadGraph
    reached : list of int arrays
        ``ReachResult.reached`` (node ids reached within the primary horizon).
    workplaces : GeoSeries or array of polygons
        The workplaces, in the same order; each isochrone contains its workplace (a
        workplace that reaches no node keeps its own polygon).
    buffer_m : float
        Margin around the hull of the reached nodes (metres).
    ratio : float
        ``shapely.concave_hull`` ratio (1 = convex hull, smaller = tighter).
    """
    polys = np.asarray(getattr(workplaces, "values", workplaces), dtype=object)
    out = np.array(polys, dtype=object, copy=True)
    counts = np.array([len(r) for r in reached], dtype=np.int64)
    has = np.flatnonzero(counts > 0)
    if len(has) == 0:
        return out
    nodes = np.concatenate([reached[w] for w in has])
    owner = np.repeat(np.arange(len(has)), counts[has])
    mp = shapely.multipoints(shapely.points(graph.node_xy[nodes]), indices=owner)
    hulls = shapely.concave_hull(mp, ratio=ratio)
    out[has] = shapely.union(shapely.buffer(hulls, buffer_m), polys[has])
    return out
