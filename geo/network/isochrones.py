"""Isochrone polygons: the area reached from a workplace within a horizon, for maps.

An isochrone here is drawn, not measured: the square cells of ``cell_m`` (working CRS)
that hold a node reached within the horizon, closed over the gaps between neighbouring
reached nodes (a morphological closing by about the typical spacing of the simplified
graph's nodes, since the default ``outline`` of reached nodes leaves out the vertices
inside fully reached roads), holes of fewer than ``min_hole_cells`` cells filled, merged
into polygons, simplified (the cells' staircase) and united with the workplace polygon. Areas the network does not reach
(across a river without a bridge in time, beyond a ridge) stay outside. Workers are
counted exactly on the network (:func:`geo.network.workers_within_minutes`), never from
this polygon.

One grid covers every node; each workplace is drawn in the window of its reached
nodes, so the cost grows with the reached area, not with the study.
"""

from __future__ import annotations

import numpy as np
import shapely
from affine import Affine
from rasterio import features
from scipy import ndimage

from geo.network.graph import RoadGraph

#: The cell outline is simplified by this share of a cell (a staircase becomes a slope;
#: a reached node may then lie up to this far outside).
SIMPLIFY_CELLS = 0.75

#: The closing never bridges more than this many cells (a long road without junctions
#: must not fill a whole valley).
MAX_CLOSING_CELLS = 3


def _closing_cells(graph: RoadGraph, cell_m: float) -> int:
    """Cells to bridge: the median distance between a kept node and its nearest kept
    neighbour, in cells (at least 1, at most :data:`MAX_CLOSING_CELLS`)."""
    key = ("closing_cells", float(cell_m))
    if key not in graph._cache:
        kept = graph.node_xy[graph.contraction.kept_nodes]
        steps = 1
        if len(kept) > 1:
            from scipy.spatial import cKDTree

            sample = kept[:: max(1, len(kept) // 20_000)]
            d, _ = cKDTree(kept).query(sample, k=2)
            spacing = float(np.median(d[:, 1]))
            steps = int(np.clip(np.ceil(spacing / cell_m), 1, MAX_CLOSING_CELLS))
        graph._cache[key] = steps
    return graph._cache[key]


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

    Returns
    -------
    ndarray of (Multi)Polygon, one per workplace; every reached node lies in it or within
    ``SIMPLIFY_CELLS × cell_m`` of it.
    """
    polys = np.asarray(getattr(workplaces, "values", workplaces), dtype=object)
    out = np.array(polys, dtype=object, copy=True)
    if graph.n_nodes == 0:
        return out
    pad = _closing_cells(graph, cell_m) + 1
    structure = ndimage.generate_binary_structure(2, 1)
    x0 = float(graph.node_xy[:, 0].min()) - pad * cell_m
    y1 = float(graph.node_xy[:, 1].max()) + pad * cell_m
    col = ((graph.node_xy[:, 0] - x0) // cell_m).astype(np.int64)
    row = ((y1 - graph.node_xy[:, 1]) // cell_m).astype(np.int64)
    steps = pad - 1
    for w, nodes in enumerate(reached):         # one small window per workplace
        if len(nodes) == 0:
            continue
        c, r = col[nodes], row[nodes]
        c0, r0 = int(c.min()) - pad, int(r.min()) - pad
        grid = np.zeros((int(r.max()) - r0 + pad + 1, int(c.max()) - c0 + pad + 1), dtype=bool)
        grid[r - r0, c - c0] = True
        closed = ndimage.binary_closing(grid, structure=structure, iterations=steps) | grid
        holes, n_holes = ndimage.label(~closed)
        if n_holes:
            sizes = np.bincount(holes.ravel())
            edge = np.unique(np.concatenate([holes[0], holes[-1], holes[:, 0], holes[:, -1]]))
            small = sizes < min_hole_cells
            small[0] = False
            small[edge] = False
            closed |= small[holes]
        transform = Affine(cell_m, 0.0, x0 + c0 * cell_m, 0.0, -cell_m, y1 - r0 * cell_m)
        shapes = [shapely.geometry.shape(g) for g, v in
                  features.shapes(closed.astype(np.uint8), mask=closed, transform=transform) if v]
        area = shapely.multipolygons(shapes) if len(shapes) > 1 else shapes[0]   # disjoint cells
        area = shapely.simplify(area, SIMPLIFY_CELLS * cell_m)     # the staircase of the cells
        out[w] = shapely.union(area, polys[w])
    return out
