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
<= r + DISTANCE_TOLERANCE_M``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import shapely

from geo.analysis._reach import (
    DISTANCE_TOLERANCE_M,
    _EPS_M,
    _LEAF_POINTS,
    _ROUGH,
    PointIndex,
    _bincount2,
    _Boundaries,
    _chunk_edges,
    _expand,
    _inside_polygon,
    _start_cells,
    demorton,
)
from geo.analysis._support import Support

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
        return _inside_polygon(geoms, bounds, g, px, py, index.x0, index.y0)

    def test_points(lg, ls, le, lc, lf):
        for a, b in itertools.pairwise(_chunk_edges(ls, le)):
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
                hit[rest] = d <= r2 + DISTANCE_TOLERANCE_M
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
