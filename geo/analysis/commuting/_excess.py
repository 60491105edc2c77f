"""Excess commuting: t_obs, t_min and t_max on one cost matrix (DESIGN.md, "Commuting").

Origins are the home ends of the flows assigned to a workplace, summed into square cells
of ``cell_m`` (cell ``(floor(x / cell_m), floor(y / cell_m))`` at its centre); supply of a
cell = its commuters, demand of a workplace = the commuters assigned to it. The cost of
cell i -> workplace j is the straight-line distance from the cell centre to the polygon
(0 inside) or, with roads, the travel time from the cell centre to the workplace.

t_obs weighs that same matrix with the observed flows. The observed flows aggregated to
(cell, workplace) are a feasible solution of the transportation problem, so
t_min <= t_obs <= t_max holds by construction; the solver (POT's exact network simplex,
shared with the balance's theoretical minimum in :mod:`geo.analysis._transport`) gives
the optimum to rounding, and the results are clamped to that order.
"""

from __future__ import annotations

import logging
from typing import NamedTuple

import numpy as np

from geo.analysis._transport import max_mean_cost, min_mean_cost
from geo.analysis.balance._potential import point_polygon_distances

log = logging.getLogger(__name__)

#: Largest cost matrix solved (cells × workplaces), as for the balance's minimum commute;
#: beyond it the cells are doubled in size until it fits (the size used is reported).
MAX_PAIRS = 1_000_000


class Excess(NamedTuple):
    t_obs: float | None
    t_min: float | None
    t_max: float | None
    excess_commuting: float | None
    commuting_potential_used: float | None
    cell_m: float
    cells: int
    workplaces: int
    unreachable_pairs: int


def cell_index(x: np.ndarray, y: np.ndarray, cell_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cell of every point: ``(cell position per point, centre x, centre y)`` of the distinct cells.

    Examples
    --------
    >>> pos, cx, cy = cell_index(np.array([10.0, 990.0, 1500.0]), np.array([5.0, 5.0, -5.0]), 1000.0)
    >>> pos.tolist(), cx.tolist(), cy.tolist()
    ([0, 0, 1], [500.0, 1500.0], [500.0, -500.0])
    """
    ix = np.floor(np.asarray(x, float) / cell_m).astype(np.int64)
    iy = np.floor(np.asarray(y, float) / cell_m).astype(np.int64)
    if not len(ix):
        return np.zeros(0, np.int64), np.zeros(0), np.zeros(0)
    ox, oy = ix.min(), iy.min()
    span = int(iy.max() - oy) + 1
    keys, pos = unique_keys((ix - ox) * span + (iy - oy))
    kx, ky = keys // span + ox, keys % span + oy
    return pos, (kx + 0.5) * cell_m, (ky + 0.5) * cell_m


#: :func:`unique_keys` uses a lookup table while the largest key is below this (or below
#: four times the number of keys); above, a sort.
DENSE_KEYS = 1 << 23


def unique_keys(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(keys, return_inverse=True)`` for integer keys >= 0, in linear time
    when the keys are dense enough (a lookup table instead of a sort).

    Examples
    --------
    >>> u, inv = unique_keys(np.array([7, 2, 7, 0]))
    >>> u.tolist(), inv.tolist()
    ([0, 2, 7], [2, 1, 2, 0])
    """
    keys = np.asarray(keys, dtype=np.int64).ravel()
    if not len(keys):
        return keys.copy(), np.zeros(0, np.int64)
    top = int(keys.max()) + 1
    if keys.min() < 0 or top > max(DENSE_KEYS, 4 * len(keys)):
        uniq, inv = np.unique(keys, return_inverse=True)
        return uniq, inv.ravel()
    present = np.zeros(top, bool)
    present[keys] = True
    uniq = np.flatnonzero(present)
    lut = np.zeros(top, np.int64)
    lut[uniq] = np.arange(len(uniq))
    return uniq, lut[keys]


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b <= 0:
        return None
    return a / b


class Cells(NamedTuple):
    """The origin cells of t_obs / t_min / t_max (see :func:`origin_cells`)."""

    sel: np.ndarray        # flows counted: assigned to a workplace, commuters > 0
    w: np.ndarray          # their commuters
    used: np.ndarray       # workplace positions with commuters (ascending)
    wpos: np.ndarray       # position in ``used`` of each counted flow
    cell_m: float          # cell side used
    cpos: np.ndarray       # cell of each counted flow
    cx: np.ndarray         # cell centres
    cy: np.ndarray


def origin_cells(hx: np.ndarray, hy: np.ndarray, workplace: np.ndarray, commuters: np.ndarray, *,
                 cell_m: float = 1000.0, max_pairs: int = MAX_PAIRS) -> Cells | None:
    """The home cells of the flows assigned to a workplace: cells of ``cell_m``, doubled
    while cells × workplaces > ``max_pairs``; None when no flow counts."""
    sel = (np.asarray(workplace) >= 0) & (np.asarray(commuters, float) > 0)
    if not sel.any():
        return None
    w = np.asarray(commuters, float)[sel]
    used_wp, wpos = unique_keys(np.asarray(workplace)[sel])
    x, y = np.asarray(hx, float)[sel], np.asarray(hy, float)[sel]
    size = float(cell_m)
    while True:
        cpos, cx, cy = cell_index(x, y, size)
        if len(cx) * len(used_wp) <= max_pairs or len(cx) <= 1:
            break
        size *= 2
    if size != cell_m:
        log.info("commuting: t_min / t_max on %g m cells (%d cells × %d workplaces)", size, len(cx),
                 len(used_wp))
    return Cells(sel, w, used_wp, wpos, size, cpos, cx, cy)


def excess_commuting(hx: np.ndarray, hy: np.ndarray, workplace: np.ndarray, commuters: np.ndarray,
                     workplaces: np.ndarray, *, cell_m: float = 1000.0, max_pairs: int = MAX_PAIRS,
                     cost_fn=None, cells: Cells | None = None) -> Excess:
    """t_obs, t_min, t_max, excess commuting and commuting potential used.

    Parameters
    ----------
    hx, hy : ndarray
        Home ends of the flows (working CRS, metres).
    workplace : ndarray of int
        Workplace position of each flow (-1: outside every workplace; left out).
    commuters : ndarray
        Commuters of each flow (>= 0).
    workplaces : ndarray of polygons
    cell_m : float
        Side of the origin cells (doubled while cells × workplaces > ``max_pairs``).
    cost_fn : callable, optional
        ``cost_fn(cx, cy, workplace_positions) -> (cells × workplaces)`` costs; NaN =
        unreachable. Default: straight-line distance to the polygon (0 inside).
    cells : Cells, optional
        :func:`origin_cells` of the same arguments, when the caller has them already.

    Returns
    -------
    Excess
        ``excess_commuting`` = (t_obs - t_min) / t_obs, ``commuting_potential_used`` =
        (t_obs - t_min) / (t_max - t_min); None where a denominator is 0 or nothing is
        assigned. Unreachable pairs (roads) cost the largest finite cost of the matrix
        (counted in ``unreachable_pairs``).
    """
    if cells is None:
        cells = origin_cells(hx, hy, workplace, commuters, cell_m=cell_m, max_pairs=max_pairs)
    if cells is None:
        return Excess(None, None, None, None, None, float(cell_m), 0, 0, 0)
    sel, w, used_wp, wpos, size, cpos, cx, cy = cells
    n, m = len(cx), len(used_wp)
    if cost_fn is None:
        cost = point_polygon_distances(cx, cy, np.asarray(workplaces, dtype=object)[used_wp])
    else:
        cost = np.asarray(cost_fn(cx, cy, used_wp), dtype=float)
    bad = ~np.isfinite(cost)
    unreachable = int(bad.sum())
    if unreachable:
        finite = cost[~bad]
        cost = np.where(bad, finite.max() if len(finite) else 0.0, cost)
    observed = np.bincount(cpos * m + wpos, weights=w, minlength=n * m).reshape(n, m)
    supply, demand = observed.sum(1), observed.sum(0)
    total = float(w.sum())
    t_obs = float((cost * observed).sum()) / total
    t_min = min_mean_cost(cost, supply, demand)
    t_max = max_mean_cost(cost, supply, demand)
    # the observed assignment is feasible: the optimum cannot be worse (rounding aside)
    t_min = min(t_min, t_obs)
    t_max = max(t_max, t_obs)
    ec = _ratio(t_obs - t_min, t_obs)
    cpu = _ratio(t_obs - t_min, t_max - t_min)
    return Excess(t_obs, t_min, t_max, ec, cpu, size, n, m, unreachable)
