"""Kernel of the balance analysis: weighted points within distance ``r`` of polygons.

The question "which points lie within ``r`` of this polygon" is answered exactly (the
same ``shapely.distance(point, polygon) <= r + DISTANCE_TOLERANCE_M`` test a brute-force
reference makes) but without testing every (polygon, point) pair:

* points are binned into a quadtree of square cells addressed by Morton (Z-order)
  codes; sorted by code, every cell of every level is one contiguous slice of the
  sorted points, so its weight is a difference of two cumulative sums;
* the distance to a polygon is 1-Lipschitz, so a cell whose centre is at distance
  ``d`` holds only points at distances in ``[d - h, d + h]`` (``h`` = half the cell
  diagonal): it is entirely inside (``d + h <= r``), entirely outside (``d - h > r``)
  or in the *boundary band*;
* starting from coarse cells around each polygon's envelope, only band cells are
  split; band cells holding a few points (or at the finest level) have their points
  tested exactly with ``shapely.distance``.

All work is vectorised over every (polygon, cell) pair of a level at once; there is
no Python loop over polygons or points. Cost grows with the number of points near the
circles of radius ``r`` around the polygons, not with the number of points in reach.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import shapely

from geo.analysis._support import Support
from geo.schema import DISTANCE_TOLERANCE_M  # noqa: F401 - the analyses import it from here
#: Slack (metres) on cell-level decisions; cells within it of the radius are tested
#: point by point, so float rounding never changes a result.
_EPS_M = 1e-3
#: Band cells holding at most this many points are tested point by point.
_LEAF_POINTS = 8
#: Cells whose support bounds are wider than this share of their half diagonal are
#: measured with the boundary kernel too.
_ROUGH = 0.25
#: Pairs handled per chunk in the exact point test (bounds peak memory).
_CHUNK = 250_000
_MAX_LEVELS = 24


def _spread_bits(v: np.ndarray) -> np.ndarray:
    """Insert a zero bit between the low 32 bits of ``v`` (uint64)."""
    v = v.astype(np.uint64) & np.uint64(0x00000000FFFFFFFF)
    v = (v | (v << np.uint64(16))) & np.uint64(0x0000FFFF0000FFFF)
    v = (v | (v << np.uint64(8))) & np.uint64(0x00FF00FF00FF00FF)
    v = (v | (v << np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    v = (v | (v << np.uint64(2))) & np.uint64(0x3333333333333333)
    v = (v | (v << np.uint64(1))) & np.uint64(0x5555555555555555)
    return v


def _compact_bits(v: np.ndarray) -> np.ndarray:
    """Inverse of :func:`_spread_bits`."""
    v = v & np.uint64(0x5555555555555555)
    v = (v | (v >> np.uint64(1))) & np.uint64(0x3333333333333333)
    v = (v | (v >> np.uint64(2))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    v = (v | (v >> np.uint64(4))) & np.uint64(0x00FF00FF00FF00FF)
    v = (v | (v >> np.uint64(8))) & np.uint64(0x0000FFFF0000FFFF)
    v = (v | (v >> np.uint64(16))) & np.uint64(0x00000000FFFFFFFF)
    return v


def morton(ix: np.ndarray, iy: np.ndarray) -> np.ndarray:
    """Morton (Z-order) code of integer cell indices (each < 2**32)."""
    return _spread_bits(np.asarray(ix)) | (_spread_bits(np.asarray(iy)) << np.uint64(1))


def demorton(code: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cell indices ``(ix, iy)`` of Morton codes (int64)."""
    code = np.asarray(code, dtype=np.uint64)
    return (_compact_bits(code).astype(np.int64),
            _compact_bits(code >> np.uint64(1)).astype(np.int64))


@dataclass
class PointIndex:
    """Points sorted along a Morton curve, with cumulative weights.

    ``order[k]`` is the original index of the k-th sorted point; ``cum[k]`` the sum of
    the weights of sorted points ``0..k-1`` (one column per weight vector).
    """

    x: np.ndarray
    y: np.ndarray
    w: np.ndarray          # (n, n_weights), sorted
    cum: np.ndarray        # (n + 1, n_weights)
    order: np.ndarray
    codes: np.ndarray      # uint64 level-0 codes, ascending
    x0: float
    y0: float
    cell0_m: float
    levels: int            # level-0 grid is 2**levels cells wide

    @classmethod
    def build(cls, x: np.ndarray, y: np.ndarray, weights: np.ndarray,
              *, finest_cell_m: float = 1.0) -> PointIndex:
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        w = np.asarray(weights, dtype=np.float64)
        if w.ndim == 1:
            w = w[:, None]
        if len(x):
            x0, y0 = float(x.min()), float(y.min())
            extent = max(float(x.max()) - x0, float(y.max()) - y0, finest_cell_m)
        else:
            x0 = y0 = 0.0
            extent = finest_cell_m
        levels = int(min(_MAX_LEVELS, max(1, np.ceil(np.log2(extent / finest_cell_m + 1)))))
        cell0 = extent * (1 + 1e-9) / (2**levels - 1)  # last cell still holds the max
        n0 = 2**levels
        ix = np.clip(np.floor((x - x0) / cell0), 0, n0 - 1).astype(np.int64)
        iy = np.clip(np.floor((y - y0) / cell0), 0, n0 - 1).astype(np.int64)
        codes = morton(ix, iy)
        order = np.argsort(codes, kind="stable")
        ws = w[order]
        cum = np.zeros((len(x) + 1, w.shape[1]))
        np.cumsum(ws, axis=0, out=cum[1:])
        return cls(x=x[order], y=y[order], w=ws, cum=cum, order=order, codes=codes[order],
                   x0=x0, y0=y0, cell0_m=cell0, levels=levels)

    def with_weights(self, weights: np.ndarray) -> PointIndex:
        """The same index with other weights (given in the original point order)."""
        w = np.asarray(weights, dtype=np.float64)
        if w.ndim == 1:
            w = w[:, None]
        ws = w[self.order]
        cum = np.zeros((len(ws) + 1, w.shape[1]))
        np.cumsum(ws, axis=0, out=cum[1:])
        return PointIndex(x=self.x, y=self.y, w=ws, cum=cum, order=self.order,
                          codes=self.codes, x0=self.x0, y0=self.y0,
                          cell0_m=self.cell0_m, levels=self.levels)

    def slices(self, level: int, code: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``[start, end)`` of the sorted points in cells ``code`` of ``level``."""
        shift = np.uint64(2 * level)
        lo = code.astype(np.uint64) << shift
        hi = (code.astype(np.uint64) + np.uint64(1)) << shift
        return (np.searchsorted(self.codes, lo, side="left"),
                np.searchsorted(self.codes, hi, side="left"))

    def child_slices(self, level: int, code: np.ndarray, start: np.ndarray,
                     end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``[start, end)`` of the four children (level ``level - 1``) of every cell
        ``code`` of ``level`` whose slice is ``[start, end)``, in the order
        ``4 code + 0 .. 3``.

        The same as :meth:`slices` on the children, but each child boundary is searched
        within its parent's slice only (three searches per parent instead of eight
        over all points).
        """
        n = len(code)
        shift = np.uint64(2 * (level - 1))
        base = code.astype(np.uint64) << np.uint64(2)
        bounds = np.empty((n, 5), dtype=np.int64)
        bounds[:, 0] = start
        bounds[:, 4] = end
        keys = np.concatenate([(base + np.uint64(q)) << shift for q in (1, 2, 3)])
        found = _bounded_search(self.codes, keys, np.tile(start, 3), np.tile(end, 3))
        bounds[:, 1:4] = found.reshape(3, n).T
        return bounds[:, :4].ravel(), bounds[:, 1:].ravel()


@dataclass
class Reach:
    """Result of :func:`reach`.

    ``sums[i, j, k]``: weight column ``k`` of the points within ``radii[j]`` of polygon
    ``i``; ``counts[i, j]`` their number. For the recorded radius, the points in reach
    of polygon ``i`` are the sorted-point slices ``range_start[range_geom == i]`` ..
    ``range_end`` plus the sorted points ``point_pos[point_geom == i]``.
    """

    sums: np.ndarray
    counts: np.ndarray
    range_geom: np.ndarray | None = None
    range_start: np.ndarray | None = None
    range_end: np.ndarray | None = None
    point_geom: np.ndarray | None = None
    point_pos: np.ndarray | None = None
    pairs_tested: int = 0
    cells_tested: int = 0
    exact_tests: int = 0


def _bounded_search(codes: np.ndarray, keys: np.ndarray, lo: np.ndarray,
                    hi: np.ndarray) -> np.ndarray:
    """First position in ``[lo, hi)`` of sorted ``codes`` with ``codes >= key`` (``hi``
    when none): a binary search vectorised over the queries, each within its range."""
    lo = np.array(lo, dtype=np.int64)
    hi = np.array(hi, dtype=np.int64)
    idx = np.flatnonzero(lo < hi)
    while len(idx):
        a, b = lo[idx], hi[idx]
        mid = (a + b) >> 1
        less = codes[mid] < keys[idx]
        a = np.where(less, mid + 1, a)
        b = np.where(less, b, mid)
        lo[idx] = a
        hi[idx] = b
        idx = idx[a < b]
    return lo


def _start_cells(index: PointIndex, bounds: np.ndarray, geom_ids: np.ndarray,
                 rmax: float, level: int) -> tuple[np.ndarray, np.ndarray]:
    """Every level-``level`` cell meeting each envelope (relative to the index
    origin) grown by ``rmax``."""
    size = index.cell0_m * 2**level
    n = 2 ** (index.levels - level)
    lo_x = np.clip(np.floor((bounds[:, 0] - rmax) / size), 0, n - 1).astype(np.int64)
    hi_x = np.clip(np.floor((bounds[:, 2] + rmax) / size), 0, n - 1).astype(np.int64)
    lo_y = np.clip(np.floor((bounds[:, 1] - rmax) / size), 0, n - 1).astype(np.int64)
    hi_y = np.clip(np.floor((bounds[:, 3] + rmax) / size), 0, n - 1).astype(np.int64)
    nx = hi_x - lo_x + 1
    ny = hi_y - lo_y + 1
    per = nx * ny
    geom = np.repeat(geom_ids, per)
    local = np.arange(per.sum()) - np.repeat(np.cumsum(per) - per, per)
    nx_r = np.repeat(nx, per)
    ix = np.repeat(lo_x, per) + local % nx_r
    iy = np.repeat(lo_y, per) + local // nx_r
    return geom, morton(ix, iy)


def _expand(start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Owner (index into ``start``) and sorted position of every point of the slices."""
    lens = end - start
    owner = np.repeat(np.arange(len(start)), lens)
    pos = np.arange(lens.sum()) - np.repeat(np.cumsum(lens) - lens, lens) + np.repeat(start, lens)
    return owner, pos


#: Candidate segments remembered per cell (see :meth:`_Boundaries.evaluate`).
_SLOTS = 4


class _Boundaries:
    """Polygon boundaries as segment arrays for vectorised distances.

    Geometries are grouped by segment count (powers of two) so one large polygon does
    not pad every other. Boundaries with many vertices are simplified first; ``tol_m``
    bounds how far the simplified boundary is from the real one (Douglas-Peucker with
    topology preserved: no ring is dropped), so ``|d_real - d_simplified| <= tol_m``.

    Cells remember their *candidate segments*: the segment distances are 1-Lipschitz,
    so for every point of a cell with centre ``c`` and half-diagonal ``h`` the nearest
    segment is among those with ``D_seg(c) <= min D(c) + 2h``. When there are at most
    ``_SLOTS`` of them, the cell's children and points are measured against those
    only.
    """

    def __init__(self, geoms: np.ndarray, x0: float, y0: float, extent_m: float, *,
                 max_vertices: int = 64, tol_m: float = 0.5):
        n = len(geoms)
        nverts = shapely.get_num_coordinates(geoms)
        simple = geoms.copy()
        big = nverts > max_vertices
        self.tol_m = 0.0
        if big.any():
            simple[big] = shapely.simplify(geoms[big], tol_m, preserve_topology=True)
            self.tol_m = tol_m
        polys, poly_owner = shapely.get_parts(simple, return_index=True)
        rings, ring_poly = shapely.get_rings(polys, return_index=True)
        coords, coord_ring = shapely.get_coordinates(rings, return_index=True)
        same = coord_ring[:-1] == coord_ring[1:]
        a = coords[:-1][same] - (x0, y0)
        b = coords[1:][same] - (x0, y0)
        owner = poly_owner[ring_poly[coord_ring[:-1][same]]]
        per = np.bincount(owner, minlength=n)
        first = np.cumsum(per) - per
        # flat table: ax, ay, dx, dy, 1/len^2 (0 for degenerate segments)
        d = b - a
        len2 = (d * d).sum(axis=1)
        inv = np.divide(1.0, len2, out=np.zeros_like(len2), where=len2 > 0)
        # float32 halves memory traffic; ``err_m`` bounds its rounding error
        self.columns = [np.ascontiguousarray(c, dtype=np.float32)
                        for c in (a[:, 0], a[:, 1], d[:, 0], d[:, 1], inv)]
        span = float(np.abs(coords - (x0, y0)).max()) if len(coords) else 0.0
        self.err_m = 4e-6 * (span + extent_m)
        self.first = first
        self.bucket = np.where(per > 0, np.ceil(np.log2(np.maximum(per, 1))).astype(np.int64), -1)
        self.local = np.zeros(n, dtype=np.int64)
        self.ids: dict[int, np.ndarray] = {}
        rank = np.arange(len(owner)) - np.repeat(first, per)
        for bk in np.unique(self.bucket[self.bucket >= 0]):
            members = np.flatnonzero(self.bucket == bk)
            self.local[members] = np.arange(len(members))
            width = int(2**bk)
            # global segment ids per member, padded with its first segment
            ids = np.repeat(first[members][:, None], width, axis=1)
            sel = np.isin(owner, members)
            ids[self.local[owner[sel]], rank[sel]] = np.flatnonzero(sel)
            self.ids[int(bk)] = ids

    def initial(self, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Candidate state 'all segments' for geometries ``g``."""
        return np.zeros((len(g), _SLOTS), dtype=np.int64), np.ones(len(g), dtype=bool)

    def evaluate(self, g: np.ndarray, px: np.ndarray, py: np.ndarray, cand: np.ndarray,
                 full: np.ndarray, half_diag: float | None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Boundary distance of points ``(px, py)`` (relative to the index origin).

        ``cand``/``full`` say which segments to measure (the state of the cell the
        points lie in). With ``half_diag`` (the points are cell centres), also return
        the candidate state for the cells' contents; otherwise ``cand``/``full`` are
        returned unchanged. ``inf`` for geometries without segments.
        """
        n = len(g)
        out = np.full(n, np.inf)
        new_cand = cand.copy()
        new_full = full.copy()
        groups = []
        slot_rows = np.flatnonzero(~full)
        if len(slot_rows):
            groups.append((slot_rows, lambda rows: cand[rows]))
        bk_of = np.where(full, self.bucket[g], -2)
        for bk, ids in self.ids.items():
            rows = np.flatnonzero(bk_of == bk)
            if len(rows):
                groups.append((rows, lambda rows, ids=ids: ids[self.local[g[rows]]]))
        for rows_all, segment_ids in groups:
            width = segment_ids(rows_all[:1]).shape[1]
            step = max(1, 262_144 // width)
            for k in range(0, len(rows_all), step):
                rows = rows_all[k:k + step]
                seg = segment_ids(rows)
                dist = _segment_distance(px[rows], py[rows], [np.take(c, seg) for c in self.columns])
                best = dist.min(axis=1)
                out[rows] = best
                if half_diag is None:
                    continue
                limit = best + 2 * (half_diag + self.err_m + _EPS_M)
                if width <= _SLOTS:
                    near = dist <= limit[:, None]
                    keep = np.where(near, seg, seg[np.arange(len(rows)), dist.argmin(axis=1)][:, None])
                    new_cand[rows, :width] = keep
                    new_cand[rows, width:] = keep[:, :1]
                    new_full[rows] = False
                    continue
                part = np.argpartition(dist, _SLOTS, axis=1)
                kth = np.take_along_axis(dist, part[:, _SLOTS:_SLOTS + 1], axis=1)[:, 0]
                ok = kth > limit  # at most _SLOTS candidates
                if ok.any():
                    new_cand[rows[ok]] = np.take_along_axis(seg[ok], part[ok, :_SLOTS], axis=1)
                    new_full[rows[ok]] = False
        return out, new_cand, new_full


def _segment_distance(px: np.ndarray, py: np.ndarray, seg: list[np.ndarray]) -> np.ndarray:
    """Distance from points ``(n,)`` to each of their segments → ``(n, m)`` (float32).

    ``seg`` holds ``(n, m)`` arrays ax, ay, dx, dy, 1/len^2.
    """
    ax, ay, dx, dy, inv = seg
    ex = px.astype(np.float32)[:, None] - ax
    ey = py.astype(np.float32)[:, None] - ay
    t = ex * dx
    t += ey * dy
    t *= inv
    np.clip(t, 0.0, 1.0, out=t)
    ex -= t * dx
    ey -= t * dy
    ex *= ex
    ey *= ey
    ex += ey
    return np.sqrt(ex, out=ex)


def _chunk_edges(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Edges ``0 = e0 < e1 < ... = n`` splitting the ``n`` ranges ``starts[i]:ends[i]`` into
    runs of about :data:`_CHUNK` points each (a run ends at the range that crosses a
    multiple of _CHUNK)."""
    n = len(starts)
    cut = np.searchsorted(np.cumsum(ends - starts),
                          np.arange(_CHUNK, (ends - starts).sum() + _CHUNK, _CHUNK))
    return np.unique(np.concatenate([[0], np.minimum(cut + 1, n)]))


def _inside_polygon(geoms: np.ndarray, bounds: np.ndarray, g: np.ndarray, px: np.ndarray,
                    py: np.ndarray, x0: float, y0: float) -> np.ndarray:
    """Whether the points ``(px + x0, py + y0)`` lie in polygons ``geoms[g]`` (bounding-box
    filter with ``bounds[g]`` on the relative coordinates, then GEOS)."""
    res = np.zeros(len(g), dtype=bool)
    bb = bounds[g]
    cand = np.flatnonzero((px >= bb[:, 0]) & (px <= bb[:, 2])
                          & (py >= bb[:, 1]) & (py <= bb[:, 3]))
    if len(cand):
        res[cand] = shapely.contains_xy(geoms[g[cand]], px[cand] + x0, py[cand] + y0)
    return res


def reach(geoms: np.ndarray, index: PointIndex, radii_m: np.ndarray, *,
          record: int | None = None, start_cell_m: float | None = None,
          leaf_points: int = _LEAF_POINTS) -> Reach:
    """Sum point weights within each radius of each polygon (exact, see module doc).

    Parameters
    ----------
    geoms : array of shapely Polygon / MultiPolygon
        Empty or missing geometries reach nothing.
    index : PointIndex
        The points and their weights.
    radii_m : array of float
        Radii (metres), each > 0. A point at distance exactly ``r`` is in reach
        (the decision is ``shapely.distance(point, polygon) <= r + DISTANCE_TOLERANCE_M``).
    record : int, optional
        Index into ``radii_m`` of the radius whose memberships are returned.
    start_cell_m : float, optional
        Size of the coarsest cells; default about a quarter of the largest radius.
    leaf_points : int
        Band cells with at most this many points are tested point by point.

    Notes
    -----
    Distances to the polygon boundary are computed in numpy on padded segment
    arrays. A cell or point whose boundary distance is more than the slack from the
    radius is decided from it (inside the polygon: ``shapely.contains_xy``); the few
    within the slack are decided by ``shapely.distance`` itself.
    """
    geoms = np.asarray(geoms, dtype=object)
    radii = np.asarray(radii_m, dtype=np.float64)
    n_geoms, n_radii, n_w = len(geoms), len(radii), index.w.shape[1]
    sums = np.zeros((n_geoms, n_radii, n_w))
    counts = np.zeros((n_geoms, n_radii), dtype=np.int64)
    rec_g: list[np.ndarray] = []
    rec_s: list[np.ndarray] = []
    rec_e: list[np.ndarray] = []
    rec_pg: list[np.ndarray] = []
    rec_pp: list[np.ndarray] = []
    out = Reach(sums=sums, counts=counts)
    valid = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if n_geoms == 0 or len(index.x) == 0 or not valid.any():
        if record is not None:
            empty = np.zeros(0, dtype=np.int64)
            out.range_geom = out.range_start = out.range_end = empty
            out.point_geom = out.point_pos = empty
        return out
    rmax = float(radii.max())
    if start_cell_m is None:
        start_cell_m = rmax / 4
    level = int(np.clip(np.round(np.log2(max(start_cell_m, index.cell0_m) / index.cell0_m)),
                        0, index.levels))
    ids = np.flatnonzero(valid)
    bounds = np.full((n_geoms, 4), np.nan)
    bounds[ids] = shapely.bounds(geoms[ids])
    bounds -= np.array([index.x0, index.y0, index.x0, index.y0])
    shapely.prepare(geoms[ids])
    extent = index.cell0_m * 2**index.levels
    boundaries = _Boundaries(geoms, index.x0, index.y0, extent + rmax)
    slack = _EPS_M + boundaries.tol_m + boundaries.err_m
    support = Support(geoms, ids)
    px_all = index.x - index.x0
    py_all = index.y - index.y0

    def inside_polygon(g, px, py):
        return _inside_polygon(geoms, bounds, g, px, py, index.x0, index.y0)

    geom, code = _start_cells(index, bounds[ids], ids, rmax, level)
    mask = np.full(len(geom), (1 << n_radii) - 1, dtype=np.int64)
    cand, full = boundaries.initial(geom)
    bits = [1 << j for j in range(n_radii)]

    tally = {"pairs": 0, "exact": 0, "cells": 0}

    def test_points(lg, ls, le, lm, lc, lf):
        """Exact test of the points of leaf cells, in chunks of about _CHUNK pairs."""
        for a, b in itertools.pairwise(_chunk_edges(ls, le)):
            owner, pos = _expand(ls[a:b], le[a:b])
            g = lg[a:b][owner]
            m = lm[a:b][owner]
            tally["pairs"] += len(pos)
            # the support bounds settle most points for every radius at once: d = the
            # upper bound then decides them all alike; the rest are measured
            lo, d = support.points(g, index.x[pos], index.y[pos])
            need = np.zeros(len(g), dtype=bool)
            for j, r in enumerate(radii):
                need |= ((m & bits[j]) != 0) & (d + _EPS_M > r) & (lo - _EPS_M <= r)
            rest = np.flatnonzero(need)
            if len(rest):
                g2, m2, pos2 = g[rest], m[rest], pos[rest]
                px, py = px_all[pos2], py_all[pos2]
                d2, _, _ = boundaries.evaluate(g2, px, py, lc[a:b][owner][rest],
                                               lf[a:b][owner][rest], None)
                near = np.zeros(len(g2), dtype=bool)
                for j, r in enumerate(radii):
                    near |= ((m2 & bits[j]) != 0) & (np.abs(d2 - r) <= slack)
                far = ~near & (d2 > radii.min())
                if far.any():
                    # boundary farther than a radius: in reach only from inside the polygon
                    d2[far] = np.where(inside_polygon(g2[far], px[far], py[far]), 0.0, d2[far])
                if near.any():
                    tally["exact"] += int(near.sum())
                    d2[near] = shapely.distance(
                        shapely.points(index.x[pos2[near]], index.y[pos2[near]]), geoms[g2[near]])
                d[rest] = d2
            for j, r in enumerate(radii):
                hit = ((m & bits[j]) != 0) & (d <= r + DISTANCE_TOLERANCE_M)
                if hit.any():
                    sums[:, j, :] += _bincount2(g[hit], index.w[pos[hit]], n_geoms)
                    counts[:, j] += np.bincount(g[hit], minlength=n_geoms)
                    if record == j:
                        rec_pg.append(g[hit])
                        rec_pp.append(pos[hit])

    start, end = index.slices(level, code)
    while len(geom):
        keep = end > start
        geom, code, mask, start, end = geom[keep], code[keep], mask[keep], start[keep], end[keep]
        cand, full = cand[keep], full[keep]
        if not len(geom):
            break
        size = index.cell0_m * 2**level
        ix, iy = demorton(code)
        cx = (ix + 0.5) * size
        cy = (iy + 0.5) * size
        tally["cells"] += len(geom)
        half = size * np.sqrt(0.5)
        margin = half + slack
        # polygon distance of the centre within [lo, up] (support functions); where
        # that is loose, the boundary distance d too (nan elsewhere)
        lo, up = support.points(geom, cx + index.x0, cy + index.y0)
        d = np.full(len(geom), np.nan)
        rough = np.flatnonzero(up - lo > _ROUGH * half)
        if len(rough):
            d[rough], cand[rough], full[rough] = boundaries.evaluate(
                geom[rough], cx[rough], cy[rough], cand[rough], full[rough], half)
        # a cell entirely farther than every radius from the boundary is entirely
        # inside or entirely outside the polygon: its centre tells which
        far = d - margin > radii.min()
        in_poly = np.zeros(len(geom), dtype=bool)
        if far.any():
            in_poly[far] = inside_polygon(geom[far], cx[far], cy[far])
        new_mask = np.zeros_like(mask)
        for j, r in enumerate(radii):
            active = (mask & bits[j]) != 0
            beyond = d - margin > r
            inside = active & ((up + margin <= r) | (d + margin <= r) | (beyond & in_poly))
            outside = active & ((lo - margin > r) | (beyond & ~in_poly))
            if inside.any():
                g, s, e = geom[inside], start[inside], end[inside]
                sums[:, j, :] += _bincount2(g, index.cum[e] - index.cum[s], n_geoms)
                counts[:, j] += np.bincount(g, weights=e - s, minlength=n_geoms).astype(np.int64)
                if record == j:
                    rec_g.append(g)
                    rec_s.append(s)
                    rec_e.append(e)
            new_mask |= np.where(active & ~inside & ~outside, bits[j], 0)
        band = new_mask != 0
        leaf = band & ((end - start <= leaf_points) | (level == 0))
        if leaf.any():
            test_points(geom[leaf], start[leaf], end[leaf], new_mask[leaf], cand[leaf], full[leaf])
        split = band & ~leaf
        if not split.any():
            break
        start, end = index.child_slices(level, code[split], start[split], end[split])
        geom = np.repeat(geom[split], 4)
        mask = np.repeat(new_mask[split], 4)
        cand = np.repeat(cand[split], 4, axis=0)
        full = np.repeat(full[split], 4)
        code = (np.repeat(code[split], 4) << np.uint64(2)) | np.tile(
            np.arange(4, dtype=np.uint64), int(split.sum()))
        level -= 1

    out.pairs_tested = tally["pairs"]
    out.cells_tested = tally["cells"]
    out.exact_tests = tally["exact"]
    if record is not None:
        cat = lambda parts: (np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64))
        out.range_geom, out.range_start, out.range_end = cat(rec_g), cat(rec_s), cat(rec_e)
        out.point_geom, out.point_pos = cat(rec_pg), cat(rec_pp)
    return out


def _bincount2(groups: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Column-wise ``np.bincount(groups, weights=values[:, k])`` → (n, k)."""
    return np.stack([np.bincount(groups, weights=values[:, k], minlength=n)
                     for k in range(values.shape[1])], axis=1)
