"""Theoretical minimum commute without OD data (DESIGN.md, "Commuting"): resident workers
per square cell travel to the jobs of the workplaces at least total straight-line
distance (the transportation problem of :mod:`geo.analysis._transport`)."""

from __future__ import annotations

import logging
from typing import NamedTuple

import numpy as np
import shapely

from geo.analysis._reach import _Boundaries
from geo.analysis._transport import balance_totals, solve_transport

log = logging.getLogger(__name__)

#: Side of the square origin cells (metres) without settings: ``commuting.cell_m``'s default.
CELL_M = 1000.0


def cell_size(settings) -> float:
    """The side of the origin cells a run uses: ``commuting.cell_m`` (DESIGN.md "Commuting":
    the balance's potential problem is the commuting's problem on potential flows), also
    without an OD table; :data:`CELL_M` for settings without a commuting section."""
    return float(getattr(getattr(settings, "commuting", None), "cell_m", CELL_M))

#: Largest cost matrix solved (cells × workplaces); beyond it the cells are doubled in
#: size until it fits (the cell size used is reported).
MAX_PAIRS = 3_000_000


class Potential(NamedTuple):
    """Result of :func:`theoretical_min_commute`."""

    mean_m: float | None
    cell_m: float
    cells: int
    workers: float
    jobs: float


def origin_cells(x: np.ndarray, y: np.ndarray, weights: np.ndarray,
                 cell_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weights summed per square cell ``(floor(x / cell_m), floor(y / cell_m))``.

    Returns the centres ``((i + 0.5) cell_m, (j + 0.5) cell_m)`` and sums of the cells
    holding a positive weight.

    Examples
    --------
    >>> cx, cy, w = origin_cells(np.array([10.0, 990.0, 1500.0]), np.array([5.0, 5.0, 5.0]),
    ...                          np.array([1.0, 2.0, 4.0]), 1000.0)
    >>> cx.tolist(), cy.tolist(), w.tolist()
    ([500.0, 1500.0], [500.0, 500.0], [3.0, 4.0])
    """
    ix = np.floor(np.asarray(x, dtype=float) / cell_m).astype(np.int64)
    iy = np.floor(np.asarray(y, dtype=float) / cell_m).astype(np.int64)
    if not len(ix):
        return np.zeros(0), np.zeros(0), np.zeros(0)
    # one int64 key per cell (a 1-d unique is far faster than unique rows)
    ox, oy = ix.min(), iy.min()
    span = int(iy.max() - oy) + 1
    keys, inverse = np.unique((ix - ox) * span + (iy - oy), return_inverse=True)
    sums = np.bincount(inverse.ravel(), weights=weights, minlength=len(keys))
    keep = sums > 0
    keys, sums = keys[keep], sums[keep]
    kx, ky = keys // span + ox, keys % span + oy
    return (kx + 0.5) * cell_m, (ky + 0.5) * cell_m, sums


def point_polygon_distances(px: np.ndarray, py: np.ndarray, geoms: np.ndarray) -> np.ndarray:
    """Distance from every point to every polygon (0 inside), shape (points, polygons).

    Vectorised over segment arrays (float32 relative to the data origin: within a few
    centimetres of ``shapely.distance``); points inside a polygon's envelope are tested
    with ``shapely.contains_xy``.
    """
    geoms = np.asarray(geoms, dtype=object)
    n, m = len(px), len(geoms)
    out = np.zeros((n, m))
    if not n or not m:
        return out
    b = shapely.bounds(geoms)
    x0 = float(min(np.min(px), np.nanmin(b[:, 0])))
    y0 = float(min(np.min(py), np.nanmin(b[:, 1])))
    extent = float(max(np.max(px), np.nanmax(b[:, 2])) - x0
                   + max(np.max(py), np.nanmax(b[:, 3])) - y0)
    boundaries = _Boundaries(geoms, x0, y0, extent, max_vertices=10**9)
    rows_per = max(1, 2_000_000 // m)
    g_all = np.arange(m)
    for a in range(0, n, rows_per):
        sl = slice(a, min(n, a + rows_per))
        k = sl.stop - sl.start
        g = np.tile(g_all, k)
        qx = np.repeat(np.asarray(px[sl], dtype=float) - x0, m)
        qy = np.repeat(np.asarray(py[sl], dtype=float) - y0, m)
        cand, full = boundaries.initial(g)
        d, _, _ = boundaries.evaluate(g, qx, qy, cand, full, None)
        ax, ay = qx + x0, qy + y0
        inbox = (ax >= b[g, 0]) & (ax <= b[g, 2]) & (ay >= b[g, 1]) & (ay <= b[g, 3])
        if inbox.any():
            sel = np.flatnonzero(inbox)
            inside = shapely.contains_xy(geoms[g[sel]], ax[sel], ay[sel])
            d[sel[inside]] = 0.0
        out[sl] = d.reshape(k, m)
    return out


def theoretical_min_commute(geoms: np.ndarray, jobs: np.ndarray, x: np.ndarray, y: np.ndarray,
                            workers: np.ndarray, *, cell_m: float = CELL_M,
                            max_pairs: int = MAX_PAIRS) -> Potential:
    """Least mean straight-line commute if every resident worker took the nearest job.

    Supplies = resident workers per cell of ``cell_m`` (at the cell centre), demands =
    jobs per workplace; the side with the larger total is scaled down to the smaller
    total; cost = distance from the cell centre to the workplace polygon (0 inside).

    Returns
    -------
    Potential
        ``mean_m`` = minimal total cost / shipped units (None when nothing to ship);
        ``cell_m`` the cell size used (doubled from ``cell_m`` while cells × workplaces
        exceeds ``max_pairs``).
    """
    geoms = np.asarray(geoms, dtype=object)
    jobs = np.asarray(jobs, dtype=float)
    valid = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms)) & (jobs > 0)
    total_w, total_j = float(np.sum(workers)), float(jobs[valid].sum())
    if total_w <= 0 or total_j <= 0:
        return Potential(None, cell_m, 0, total_w, total_j)
    size = float(cell_m)
    cx, cy, supply = origin_cells(x, y, workers, size)
    while len(cx) * int(valid.sum()) > max_pairs and len(cx) > 1:
        # doubling the cell: floor(x / 2c) = floor(floor(x / c) / 2), so the cells of
        # the points are the doubled cells of their cells (no pass over the points again)
        cx, cy, supply = origin_cells(cx, cy, supply, 2 * size)
        size *= 2
    if size != cell_m:
        log.info("balance: theoretical minimum commute on %g m cells (%d cells × %d workplaces)",
                 size, len(cx), int(valid.sum()))
    cost = point_polygon_distances(cx, cy, geoms[valid])
    supply, demand = balance_totals(supply, jobs[valid])
    _, total = solve_transport(cost, supply, demand)
    shipped = float(supply.sum())
    return Potential(total / shipped if shipped > 0 else None, size, len(cx), total_w, total_j)
