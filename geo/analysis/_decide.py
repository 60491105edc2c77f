"""Decide a test on the weighted points within distance ``r`` of polygons, refining
only as far as the test needs (branch and bound on the quadtree of :mod:`._reach`).

:func:`geo.analysis._reach.reach` counts the points within ``r`` exactly, down to the
points near every catchment edge. Many questions need less: "is the ratio of two
weight sums within ``r`` at most ``u``?" is settled as soon as the weights of the cells
still undecided (the boundary band) cannot change the answer. :func:`decide_within`
walks the same quadtree as :func:`~geo.analysis._reach.reach`, one radius per
polygon, and after every level asks the caller's test with a lower and an upper bound
of the sums; polygons whose answer is certain leave the walk. Polygons still undecided
at the end have exact sums (the same decisions as ``shapely.distance(point, polygon)
<= r``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import shapely

from geo.analysis._reach import (
    _CHUNK,
    _EPS_M,
    _LEAF_POINTS,
    PointIndex,
    _bincount2,
    _Boundaries,
    _expand,
    _start_cells,
    demorton,
)

#: A cell whose support bounds are wider than this share of its half diagonal is
#: measured with the boundary kernel too.
_ROUGH = 0.25

#: Directions of the support functions that bound distances to workplaces.
_DIRECTIONS = 256


class Support:
    """Support functions of polygons on :data:`_DIRECTIONS` directions, for cheap
    rigorous bounds of distances.

    Along any unit vector ``u``, the gap between the projections of two sets is a lower
    bound of their distance, and the distance between a vertex of each an upper bound.
    The tables hold, per polygon and direction, the largest projection of its vertices
    (its convex hull's) and the vertex reaching it.
    """

    def __init__(self, geoms: np.ndarray, ids: np.ndarray):
        coords, owner = shapely.get_coordinates(shapely.convex_hull(geoms[ids]),
                                                return_index=True)
        self.origin = coords.min(axis=0) if len(coords) else np.zeros(2)
        self.coords = coords - self.origin
        angle = 2 * np.pi * np.arange(_DIRECTIONS) / _DIRECTIONS
        self.unit = np.stack([np.cos(angle), np.sin(angle)])
        proj = self.unit.T @ self.coords.T                               # direction, vertex
        first = np.searchsorted(owner, np.arange(len(ids)))
        top = np.maximum.reduceat(proj, first, axis=1)                   # direction, polygon
        rows = np.where(proj >= top[:, owner], np.arange(len(coords)), len(coords))
        self.top = np.ascontiguousarray(top.T)                           # polygon, direction
        self.arg = np.ascontiguousarray(np.minimum.reduceat(rows, first, axis=1).T)
        self.local = np.full(len(geoms), -1)
        self.local[ids] = np.arange(len(ids))
        b = shapely.bounds(geoms[ids]) - np.tile(self.origin, 2)
        self.centre = np.column_stack([b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]]) / 2

    @staticmethod
    def _direction(dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
        return (np.round(np.arctan2(dy, dx) / (2 * np.pi) * _DIRECTIONS).astype(np.int64)
                % _DIRECTIONS)

    def pairs(self, i: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper bounds of the distances between polygons ``i`` and ``j``."""
        a, c = self.local[i], self.local[j]
        k = self._direction(self.centre[c, 0] - self.centre[a, 0],
                            self.centre[c, 1] - self.centre[a, 1])
        back = (k + _DIRECTIONS // 2) % _DIRECTIONS
        lower = np.maximum(-self.top[c, back] - self.top[a, k], 0.0)
        va, vb = self.coords[self.arg[a, k]], self.coords[self.arg[c, back]]
        return lower, np.hypot(vb[:, 0] - va[:, 0], vb[:, 1] - va[:, 1])

    def points(self, g: np.ndarray, x: np.ndarray, y: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper bounds of the distances from points to polygons ``g``: the
        direction from the envelope centre, then once more from the vertex found."""
        lower = np.zeros(len(g))
        upper = np.full(len(g), np.inf)
        top, arg = self.top.ravel(), self.arg.ravel()
        ux, uy = self.unit[0], self.unit[1]
        vx, vy = self.coords[:, 0], self.coords[:, 1]
        chunk = 262_144                     # a few MB per temporary: stays in cache
        for s in range(0, len(g), chunk):
            a = self.local[g[s:s + chunk]]
            px, py = x[s:s + chunk] - self.origin[0], y[s:s + chunk] - self.origin[1]
            lo = np.zeros(len(a))
            up = np.full(len(a), np.inf)
            dx = px - np.take(self.centre[:, 0], a)
            dy = py - np.take(self.centre[:, 1], a)
            for _ in range(2):
                k = self._direction(dx, dy)
                at = a * _DIRECTIONS + k
                lo = np.maximum(lo, px * np.take(ux, k) + py * np.take(uy, k) - np.take(top, at))
                v = np.take(arg, at)
                dx = px - np.take(vx, v)
                dy = py - np.take(vy, v)
                up = np.minimum(up, np.hypot(dx, dy))
            lower[s:s + chunk] = lo
            upper[s:s + chunk] = up
        return lower, upper


#: ``test(ids, lo, hi)`` → +1 (true whatever the exact sums in ``[lo, hi]``), -1
#: (false likewise) or 0 (undecided), per polygon ``ids``; ``lo``/``hi`` (len, n_w).
Test = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def decide_within(geoms: np.ndarray, index: PointIndex, radius_m: np.ndarray, test: Test, *,
                  leaf_points: int = _LEAF_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """Sums of the point weights within ``radius_m[i]`` of polygon ``i``, or only the
    answer of ``test`` when bounds of the sums settle it.

    Parameters
    ----------
    geoms : array of Polygon / MultiPolygon
        The polygons (the same polygon may appear several times, with other radii).
    index : PointIndex
        Points and weights.
    radius_m : ndarray
        One radius (> 0) per polygon.
    test : callable
        ``test(ids, lo, hi)``, see :data:`Test`. Must be conservative: a certain
        answer for ``[lo, hi]`` must hold for every sum in that range.

    Returns
    -------
    state : ndarray of int8
        +1 / -1: ``test`` settled it on bounds; 0: ``sums`` are exact.
    sums : ndarray (n, n_w)
        Exact sums where ``state == 0`` (partial elsewhere).
    """
    geoms = np.asarray(geoms, dtype=object)
    radii = np.asarray(radius_m, dtype=np.float64)
    n, n_w = len(geoms), index.w.shape[1]
    sums = np.zeros((n, n_w))
    state = np.zeros(n, dtype=np.int8)
    valid = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if n == 0 or len(index.x) == 0 or not valid.any():
        return state, sums
    ids = np.flatnonzero(valid)
    bounds = np.full((n, 4), np.nan)
    bounds[ids] = shapely.bounds(geoms[ids])
    bounds -= np.array([index.x0, index.y0, index.x0, index.y0])
    rmax = float(radii[ids].max())
    level = int(np.clip(np.round(np.log2(max(rmax / 4, index.cell0_m) / index.cell0_m)),
                        0, index.levels))
    extent = index.cell0_m * 2**index.levels
    boundaries = _Boundaries(geoms, index.x0, index.y0, extent + rmax)
    slack = _EPS_M + boundaries.tol_m + boundaries.err_m
    support = Support(geoms, ids)
    px_all, py_all = index.x - index.x0, index.y - index.y0

    def inside_polygon(g, px, py):
        res = np.zeros(len(g), dtype=bool)
        bb = bounds[g]
        sel = np.flatnonzero((px >= bb[:, 0]) & (px <= bb[:, 2])
                             & (py >= bb[:, 1]) & (py <= bb[:, 3]))
        if len(sel):
            res[sel] = shapely.contains_xy(geoms[g[sel]], px[sel] + index.x0,
                                           py[sel] + index.y0)
        return res

    def test_points(lg, ls, le, lc, lf):
        lens = le - ls
        cut = np.searchsorted(np.cumsum(lens), np.arange(_CHUNK, lens.sum() + _CHUNK, _CHUNK))
        edges = np.unique(np.concatenate([[0], np.minimum(cut + 1, len(lg))]))
        for a, b in itertools.pairwise(edges):
            owner, pos = _expand(ls[a:b], le[a:b])
            g = lg[a:b][owner]
            r = radii[g]
            lo, up = support.points(g, index.x[pos], index.y[pos])
            hit = up + _EPS_M <= r
            rest = np.flatnonzero(~hit & (lo - _EPS_M <= r))
            if len(rest):
                g2, r2, pos2 = g[rest], r[rest], pos[rest]
                px, py = px_all[pos2], py_all[pos2]
                d, _, _ = boundaries.evaluate(g2, px, py, lc[a:b][owner][rest],
                                              lf[a:b][owner][rest], None)
                near = np.abs(d - r2) <= slack
                far = ~near & (d > r2)
                if far.any():
                    d[far] = np.where(inside_polygon(g2[far], px[far], py[far]), 0.0, d[far])
                if near.any():
                    d[near] = shapely.distance(
                        shapely.points(index.x[pos2[near]], index.y[pos2[near]]), geoms[g2[near]])
                hit[rest] = d <= r2
            if hit.any():
                sums[:] += _bincount2(g[hit], index.w[pos[hit]], n)

    geom, code = _start_cells(index, bounds[ids], ids, radii[ids], level)
    cand, full = boundaries.initial(geom)
    start, end = index.slices(level, code)
    while len(geom):
        keep = (end > start) & (state[geom] == 0)
        geom, code, start, end = geom[keep], code[keep], start[keep], end[keep]
        cand, full = cand[keep], full[keep]
        if not len(geom):
            break
        size = index.cell0_m * 2**level
        ix, iy = demorton(code)
        cx, cy = (ix + 0.5) * size, (iy + 0.5) * size
        half = size * np.sqrt(0.5)
        margin = half + slack
        r = radii[geom]
        # the support bounds decide most cells; the boundary kernel the rest
        lo, up = support.points(geom, cx + index.x0, cy + index.y0)
        inside = up + margin <= r
        outside = lo - margin > r
        rough = np.flatnonzero(~inside & ~outside & (up - lo > _ROUGH * half))
        if len(rough):
            g = geom[rough]
            d, cand[rough], full[rough] = boundaries.evaluate(g, cx[rough], cy[rough],
                                                              cand[rough], full[rough], half)
            beyond = d - margin > r[rough]
            in_poly = np.zeros(len(g), dtype=bool)
            if beyond.any():
                in_poly[beyond] = inside_polygon(g[beyond], cx[rough][beyond], cy[rough][beyond])
            inside[rough] = (d + margin <= r[rough]) | (beyond & in_poly)
            outside[rough] = beyond & ~in_poly
        if inside.any():
            sums[:] += _bincount2(geom[inside], index.cum[end[inside]] - index.cum[start[inside]], n)
        band = ~inside & ~outside
        if band.any():
            # bounds: the band cells may hold any part of their weight
            bw = _bincount2(geom[band], index.cum[end[band]] - index.cum[start[band]], n)
            open_ = np.unique(geom[band])
            verdict = np.asarray(test(open_, sums[open_], sums[open_] + bw[open_]), dtype=np.int8)
            state[open_] = verdict
            band &= state[geom] == 0
        leaf = band & ((end - start <= leaf_points) | (level == 0))
        if leaf.any():
            test_points(geom[leaf], start[leaf], end[leaf], cand[leaf], full[leaf])
        split = band & ~leaf
        if not split.any():
            break
        start, end = index.child_slices(level, code[split], start[split], end[split])
        geom = np.repeat(geom[split], 4)
        cand = np.repeat(cand[split], 4, axis=0)
        full = np.repeat(full[split], 4)
        code = (np.repeat(code[split], 4) << np.uint64(2)) | np.tile(
            np.arange(4, dtype=np.uint64), int(split.sum()))
        level -= 1
    return state, sums
