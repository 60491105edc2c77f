"""Isochrone polygons: the area reached from a workplace within a horizon, for maps.

An isochrone here is drawn, not measured: the square cells of ``cell_m`` (working CRS)
that hold a node reached within the horizon, merged into polygons (holes of fewer than
``min_hole_cells`` cells filled), united with the workplace polygon. Areas the network
does not reach (across a river without a bridge in time, beyond a ridge) stay outside.
Workers are counted exactly on the network (:func:`geo.network.workers_within_minutes`),
never from this polygon.
"""

from __future__ import annotations

import numpy as np
import shapely
from affine import Affine
from rasterio import features

from geo.network.graph import RoadGraph


def _fill_small_holes(geom, max_area: float):
    parts = shapely.get_parts(geom)
    out = []
    for poly in parts:
        holes = [r for r in poly.interiors if shapely.Polygon(r).area > max_area]
        out.append(shapely.Polygon(poly.exterior, holes))
    return shapely.union_all(out)


def isochrone_polygons(graph: RoadGraph, reached: list, workplaces, *, cell_m: float = 500.0,
                       min_hole_cells: int = 4) -> np.ndarray:
    """One polygon per workplace covering its reached nodes (object array of geometries).

    Parameters
    ----------
    graph : RoadGraph
    reached : list of int arrays
        ``ReachResult.reached`` (node ids reached within the primary horizon; the default
        outline is enough).
    workplaces : GeoSeries or array of polygons
        The workplaces, in the same order; each isochrone contains its workplace (a
        workplace that reaches no node keeps its own polygon).
    cell_m : float
        Cell size (metres); about the street spacing gives a closed area.
    min_hole_cells : int
        Holes smaller than this many cells are filled.
    """
    polys = np.asarray(getattr(workplaces, "values", workplaces), dtype=object)
    out = np.array(polys, dtype=object, copy=True)
    for w, nodes in enumerate(reached):         # one small raster per workplace
        if len(nodes) == 0:
            continue
        xy = graph.node_xy[nodes]
        x0, y1 = xy[:, 0].min() - cell_m, xy[:, 1].max() + cell_m
        ix = ((xy[:, 0] - x0) // cell_m).astype(np.int64)
        iy = ((y1 - xy[:, 1]) // cell_m).astype(np.int64)
        grid = np.zeros((iy.max() + 2, ix.max() + 2), dtype=np.uint8)
        grid[iy, ix] = 1
        transform = Affine(cell_m, 0.0, x0, 0.0, -cell_m, y1)
        shapes = [shapely.geometry.shape(g) for g, v in features.shapes(grid, mask=grid.astype(bool),
                                                                         transform=transform) if v]
        area = _fill_small_holes(shapely.union_all(shapes), min_hole_cells * cell_m * cell_m)
        out[w] = shapely.union(area, polys[w])
    return out
