"""Which workplace and which districts each flow belongs to, and how long it is.

Flow ends are deduplicated first (OD tables are usually between grid cells, so a million
flows have a few thousand distinct ends), then located with one STRtree bulk query.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from geo.analysis._reach import DISTANCE_TOLERANCE_M


@dataclass
class Assigned:
    """Per flow (positional, aligned with ``Study.commuting``)."""

    workplace: np.ndarray      # workplace position, -1: outside every workplace
    home_district: np.ndarray  # district position, -1: none
    work_district: np.ndarray
    commute_m: np.ndarray      # metres: straight line home -> work; with roads the fastest route's
    commute_min: np.ndarray | None  # travel minutes home -> workplace (roads), NaN: unknown
    straight_m: np.ndarray | None = None  # with roads: the straight-line length (the fallback)
    network_m: np.ndarray | None = None   # with roads: True where commute_m is a route length


def with_routes(a: Assigned, minutes: np.ndarray, metres: np.ndarray) -> Assigned:
    """``a`` with road minutes, and ``commute_m`` = the fastest route's metres where there is
    one (flows without a travel time keep the straight line)."""
    routed = np.isfinite(minutes) & np.isfinite(metres)
    return Assigned(a.workplace, a.home_district, a.work_district, np.where(routed, metres, a.commute_m),
                    minutes, straight_m=a.commute_m, network_m=routed)


def unique_points(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct ``(x, y)`` and, for every input point, the position of its distinct point."""
    codes, uniq = pd.factorize(pd.Series(np.asarray(x, float) + 1j * np.asarray(y, float)), sort=False)
    uniq = np.asarray(uniq, dtype=complex)
    return uniq.real.copy(), uniq.imag.copy(), codes


#: Above this many points, :func:`containing` looks points up in a label raster and tests
#: exactly only those near a polygon boundary.
RASTER_FROM_POINTS = 100_000
#: Side of that raster in pixels (the longer side of the polygons' extent).
RASTER_PIXELS = 2048


def containing(geoms: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Position of the first polygon covering each point (its boundary included), -1: none.

    Exact. Many points: a raster of polygon labels (the first polygon on top) answers the
    points whose pixel is farther than one pixel from every polygon boundary (the whole
    pixel then lies in the same polygons as its centre); the rest go through the STRtree.
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    if len(x) >= RASTER_FROM_POINTS and len(geoms):
        return _containing_raster(np.asarray(geoms, dtype=object), x, y)
    return _containing_tree(geoms, x, y)


def _containing_raster(geoms: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    labels, near, x0, y1, res = _label_raster(geoms)
    height, width = labels.shape
    col = np.floor((x - x0) / res).astype(np.int64)
    row = np.floor((y1 - y) / res).astype(np.int64)
    inside = (col >= 0) & (col < width) & (row >= 0) & (row < height)
    out = np.full(len(x), -1, dtype=np.int64)
    exact = np.zeros(len(x), bool)
    r, c = row[inside], col[inside]
    out[inside] = labels[r, c].astype(np.int64) - 1
    exact[inside] = near[r, c]
    exact |= ~np.isfinite(x) | ~np.isfinite(y)
    if exact.any():
        out[exact] = _containing_tree(geoms, x[exact], y[exact])
    return out


def _label_raster(geoms: np.ndarray):
    """``(labels, near boundary, x0, y1, pixel size)`` of the polygons."""
    from affine import Affine
    from rasterio.features import rasterize

    x0, y0, x1, y1 = shapely.total_bounds(geoms)
    res = max(x1 - x0, y1 - y0, 1.0) / RASTER_PIXELS
    width, height = int(np.ceil((x1 - x0) / res)) + 1, int(np.ceil((y1 - y0) / res)) + 1
    transform = Affine(res, 0.0, x0, 0.0, -res, y1)
    order = np.arange(len(geoms))[::-1]      # the first polygon drawn last: on top
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    labels = rasterize(((geoms[i], int(i) + 1) for i in order if ok[i]), out_shape=(height, width),
                       transform=transform, fill=0, dtype="int32")
    edge = rasterize(((g, 1) for g in shapely.boundary(geoms[ok])), out_shape=(height, width),
                     transform=transform, fill=0, all_touched=True, dtype="uint8").astype(bool)
    near = edge.copy()                        # within one pixel of a boundary
    near[1:] |= edge[:-1]
    near[:-1] |= edge[1:]
    near[:, 1:] |= near[:, :-1].copy()
    near[:, :-1] |= near[:, 1:].copy()
    return labels, near, x0, y1, res


def _containing_tree(geoms: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    out = np.full(len(x), -1, dtype=np.int64)
    if not len(x) or not len(geoms):
        return out
    pts = shapely.points(x, y)
    tree = shapely.STRtree(geoms)
    pi, gi = tree.query(pts, predicate="intersects")
    if len(pi):
        best = np.full(len(x), np.iinfo(np.int64).max)
        np.minimum.at(best, pi, gi)
        hit = best < np.iinfo(np.int64).max
        out[hit] = best[hit]
    return out


def nearest_within(geoms: np.ndarray, x: np.ndarray, y: np.ndarray, max_m: float) -> np.ndarray:
    """Position of the nearest polygon within ``max_m`` (inclusive; ties: the first), -1: none."""
    out = np.full(len(x), -1, dtype=np.int64)
    if not len(x) or not len(geoms):
        return out
    pts = shapely.points(x, y)
    tree = shapely.STRtree(geoms)
    reach_m = max_m + DISTANCE_TOLERANCE_M      # on the limit counts, whatever the rounding
    (pi, gi), dist = tree.query_nearest(pts, max_distance=reach_m * (1 + 1e-9) + 1e-9, all_matches=True,
                                        return_distance=True)
    keep = dist <= reach_m
    pi, gi = pi[keep], gi[keep]
    if len(pi):
        best = np.full(len(x), np.iinfo(np.int64).max)
        np.minimum.at(best, pi, gi)
        hit = best < np.iinfo(np.int64).max
        out[hit] = best[hit]
    return out


def assign_workplaces(workplaces: np.ndarray, x: np.ndarray, y: np.ndarray,
                      max_access_m: float) -> np.ndarray:
    """DESIGN.md: the workplace polygon containing the work end (the first in workplace
    order when several do), else the nearest within ``max_access_m``, else -1."""
    ux, uy, inv = unique_points(x, y)
    at = containing(workplaces, ux, uy)
    free = at < 0
    if free.any():
        at[free] = nearest_within(workplaces, ux[free], uy[free], max_access_m)
    return at[inv]


def assign_districts(districts: np.ndarray | None, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """District containing each point (a point on a shared border: the first listed), -1: none."""
    if districts is None or not len(districts):
        return np.full(len(x), -1, dtype=np.int64)
    if len(x) >= RASTER_FROM_POINTS:   # the raster lookup is linear: no need to deduplicate
        return containing(districts, x, y)
    ux, uy, inv = unique_points(x, y)
    return containing(districts, ux, uy)[inv]


def assign(flows: pd.DataFrame, workplaces: np.ndarray, districts: np.ndarray | None, *,
           max_access_m: float, graph=None, access_speed_kmh: float = 5.0) -> Assigned:
    """Workplace, districts and lengths of every flow (see :class:`Assigned`).

    With a road graph, ``commute_min`` = travel time home -> the flow's workplace
    (access + network + egress), NaN for flows outside every workplace or not reachable,
    and ``commute_m`` the length of that fastest route (:func:`with_routes`).
    """
    hx, hy = flows["home_x"].to_numpy(float), flows["home_y"].to_numpy(float)
    wx, wy = flows["work_x"].to_numpy(float), flows["work_y"].to_numpy(float)
    wp = assign_workplaces(workplaces, wx, wy, max_access_m)
    # both ends in one lookup (one label raster of the districts)
    both = assign_districts(districts, np.concatenate([hx, wx]), np.concatenate([hy, wy]))
    home_d, work_d = both[: len(hx)], both[len(hx):]
    commute_m = np.hypot(wx - hx, wy - hy)
    a = Assigned(wp, home_d, work_d, commute_m, None)
    if graph is not None:
        minutes, _, metres = road_minutes(graph, hx, hy, wp, workplaces, max_access_m=max_access_m,
                                          access_speed_kmh=access_speed_kmh)
        a = with_routes(a, minutes, metres)
    return a


def home_workplace_minutes(graph, hx: np.ndarray, hy: np.ndarray, wp: np.ndarray, workplaces: np.ndarray, *,
                           max_access_m: float, access_speed_kmh: float) -> np.ndarray:
    """Travel minutes from each home point to its workplace ``wp`` (NaN where ``wp < 0`` or
    unreachable); distinct (home, workplace) pairs are routed once."""
    return road_minutes(graph, hx, hy, wp, workplaces, max_access_m=max_access_m,
                        access_speed_kmh=access_speed_kmh)[0]


def road_minutes(graph, hx: np.ndarray, hy: np.ndarray, wp: np.ndarray, workplaces: np.ndarray,
                 cells_xy: np.ndarray | None = None, used: np.ndarray | None = None, *,
                 max_access_m: float, access_speed_kmh: float
                 ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Travel minutes home -> workplace of every flow, and of every origin cell to every
    used workplace, from one network search per workplace; and the metres of every flow's
    fastest route.

    Parameters
    ----------
    hx, hy, wp : ndarray
        Home ends and workplace position (-1: none) of the flows.
    cells_xy : (C, 2) array, optional
        Cell centres (as housing points); with ``used``, the workplace positions of the
        cost matrix.

    Returns
    -------
    (minutes per flow, NaN where ``wp < 0`` or unreachable; C × len(used) minutes or None;
    metres per flow: access + network + egress length of that fastest route, the shortest
    of equally fast ones, NaN where there is no time)
        The minutes as :func:`geo.network.home_times` gives them for the flows' pairs and
        for the cells' matrix separately: the same searches, read at more nodes
        (:func:`geo.network.home_routes`).
    """
    sets = [] if cells_xy is None else [(cells_xy, used)]
    minutes, costs, metres = road_minutes_sets(graph, hx, hy, wp, workplaces, sets, max_access_m=max_access_m,
                                               access_speed_kmh=access_speed_kmh)
    return minutes, (costs[0] if sets else None), metres


def road_minutes_sets(graph, hx: np.ndarray, hy: np.ndarray, wp: np.ndarray, workplaces: np.ndarray,
                      cell_sets: Sequence[tuple[np.ndarray, np.ndarray | None]] = (), *,
                      max_access_m: float, access_speed_kmh: float, readers: Sequence = ()
                      ) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
    """:func:`road_minutes` with any number of cost matrices: ``cell_sets`` holds
    ``(cells_xy, used)`` pairs (C_i cell centres, the workplace positions of matrix i);
    returns (minutes per flow, [C_i × len(used_i) minutes], metres per flow), every matrix
    read from the same one search per workplace; ``readers`` are given those searches too
    (:func:`geo.network.home_routes`).
    """
    from geo.network import home_routes

    out = np.full(len(hx), np.nan)
    out_m = np.full(len(hx), np.nan)
    sel = np.flatnonzero(wp >= 0)
    nw = len(workplaces) + 1
    ux, uy, inv = unique_points(hx[sel], hy[sel])
    pair_codes, pair_uniq = pd.factorize(pd.Series(inv.astype(np.int64) * nw + wp[sel]), sort=False)
    pair_uniq = np.asarray(pair_uniq, dtype=np.int64)
    pairs = [np.column_stack([pair_uniq // nw, pair_uniq % nw])]
    points = [np.column_stack([ux, uy])]
    n_points = len(ux)
    shapes = []
    for cells_xy, used in cell_sets:
        cells_xy = np.asarray(cells_xy, float).reshape(-1, 2)
        used = np.zeros(0, np.int64) if used is None else np.asarray(used, np.int64)
        n_cells = len(cells_xy) if len(used) else 0
        shapes.append((n_cells, len(used)))
        if n_cells:
            ci = np.repeat(np.arange(n_cells, dtype=np.int64), len(used))
            pairs.append(np.column_stack([n_points + ci, np.tile(used, n_cells)]))
            points.append(cells_xy)
            n_points += n_cells
    all_pairs = np.concatenate(pairs)
    k = len(pair_uniq)
    if not len(all_pairs):
        return out, [np.zeros((c, 0)) for c, _ in shapes], out_m
    want_m = np.arange(len(all_pairs)) < k       # metres for the flows, not the cells
    t, m = home_routes(graph, np.concatenate(points), workplaces, all_pairs, metres=want_m,
                       access_speed_kmh=access_speed_kmh, max_access_m=max_access_m, readers=readers)
    out[sel] = t[:k][pair_codes]
    out_m[sel] = m[:k][pair_codes]
    costs, at = [], k
    for n_cells, n_used in shapes:
        costs.append(t[at:at + n_cells * n_used].reshape(n_cells, n_used) if n_cells else np.zeros((0, n_used)))
        at += n_cells * n_used
    return out, costs, out_m
