"""Balance of the area around a workplace: all jobs and all resident workers of the same
area (floating-unit 职住比), and the balance radius (职住平衡半径).

For a workplace and a radius ``r``, its *area* is everything within ``r`` of its polygon
(boundary to boundary for other workplaces, polygon to point for housing and employment
points, inside = 0):

* ``area_jobs_<r>`` = jobs of every workplace whose polygon lies within ``r`` (its own
  included) + jobs of the employment points (or raster cells) within ``r``;
* ``area_jhr_<r>`` = ``area_jobs_<r>`` / ``workers_<r>`` (missing when no workers);
* ``balance_radius_m`` = the smallest radius ``k × step`` (``k = 1, 2, ...``, up to
  :data:`MAX_BALANCE_RADIUS_M`) at which ``area_jhr`` is at most the upper bound of
  the balanced range; missing when never reached.

The computation is split so that the *reach* (what lies within a threshold of each
workplace) can come from another metric later (travel minutes): :func:`area_sums` and
:func:`first_balanced` take per-threshold sums and know nothing about distance.
"""

from __future__ import annotations

import logging
from typing import NamedTuple

import geopandas as gpd
import numpy as np
import shapely

from geo._errors import InputError, format_rows
from geo._types import Raster
from geo.analysis._decide import decide_within
from geo.analysis._reach import DISTANCE_TOLERANCE_M, PointIndex, _Boundaries
from geo.analysis._support import Support

log = logging.getLogger(__name__)

#: The balance radius search stops here (metres).
MAX_BALANCE_RADIUS_M = 30_000.0
#: Rings per bounding cell (by distance of a point from the cell's centre).
_RINGS = 4
#: Workplaces whose pairs with the cells :func:`_bounds` takes at once.
_WORKPLACES_PER_BLOCK = 256



class EmploymentPoints(NamedTuple):
    """All-sector jobs as points."""

    x: np.ndarray
    y: np.ndarray
    jobs: np.ndarray
    source: str
    warnings: tuple[str, ...] = ()


def employment_points(employment: gpd.GeoDataFrame | None,
                      raster: Raster | None = None) -> EmploymentPoints | None:
    """Jobs of ``layers.employment`` as points (cell centres for a raster).

    Polygons and multipoints count at their representative point; features without
    geometry or jobs are left out with a warning.

    Raises
    ------
    InputError
        Negative jobs (the loader normally rejects them).
    """
    if employment is None and raster is None:
        return None
    if raster is not None:
        x, y, value = raster.cell_centres()
        if (value < 0).any():
            raise InputError(f"employment raster: {int((value < 0).sum())} cells have negative "
                             "jobs; jobs per cell must be >= 0")
        keep = value > 0
        return EmploymentPoints(x[keep], y[keep], value[keep], "employment raster")
    ids = employment["employment_id"].astype(str).to_numpy()
    jobs = np.asarray(employment["jobs"], dtype=float)
    warnings: list[str] = []
    neg = jobs < 0
    if neg.any():
        raise InputError(f"layer 'employment': negative jobs in {format_rows(ids[neg])}; "
                         "jobs must be >= 0")
    geoms = employment.geometry.to_numpy()
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    nan = np.isnan(jobs)
    if nan.any():
        warnings.append(f"employment: {int(nan.sum())} points have no jobs value and are left "
                        f"out ({format_rows(ids[nan])})")
    keep = ~empty & ~nan
    geoms = geoms[keep]
    not_point = shapely.get_type_id(geoms) != shapely.GeometryType.POINT
    if not_point.any():
        geoms = geoms.copy()
        geoms[not_point] = shapely.point_on_surface(geoms[not_point])
    xy = shapely.get_coordinates(geoms)
    return EmploymentPoints(xy[:, 0].copy(), xy[:, 1].copy(), jobs[keep], "employment points",
                            tuple(warnings))


def workplace_pairs(geoms: np.ndarray, max_m: float, thresholds: np.ndarray | None = None
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair of workplaces within ``max_m`` of each other (``DISTANCE_TOLERANCE_M``
    beyond it counts), itself included.

    Parameters
    ----------
    geoms : ndarray of Polygon
        Workplace polygons.
    max_m : float
        Largest distance kept.
    thresholds : ndarray, optional
        The distances the caller compares with (ascending). With them, a pair's
        distance is computed exactly only where cheap bounds cannot tell between which
        two thresholds it lies; elsewhere ``distance_m`` is an upper bound in the same
        interval (``distance_m <= t`` exactly when the distance is, for every ``t`` of
        ``thresholds`` and ``max_m``).

    Returns
    -------
    i, j, distance_m : ndarray
        Both orders of every pair and ``(i, i, 0)`` for every valid polygon;
        ``distance_m`` is ``shapely.distance`` (0 when they touch or overlap).
    """
    geoms = np.asarray(geoms, dtype=object)
    tree = shapely.STRtree(geoms)
    valid = np.flatnonzero(~(shapely.is_missing(geoms) | shapely.is_empty(geoms)))
    b = shapely.bounds(geoms[valid])
    reach_m = max_m + DISTANCE_TOLERANCE_M
    # envelopes grown by the reach (cheap), then one exact distance per candidate pair
    i, j = tree.query(shapely.box(b[:, 0] - reach_m, b[:, 1] - reach_m, b[:, 2] + reach_m,
                                  b[:, 3] + reach_m))
    i = valid[i]
    # envelopes farther apart than max_m: the polygons too
    bb = shapely.bounds(geoms)
    gap_x = np.maximum(np.maximum(bb[j, 0] - bb[i, 2], bb[i, 0] - bb[j, 2]), 0.0)
    gap_y = np.maximum(np.maximum(bb[j, 1] - bb[i, 3], bb[i, 1] - bb[j, 3]), 0.0)
    near = np.hypot(gap_x, gap_y) <= reach_m
    i, j = i[near], j[near]
    if thresholds is None:
        d = shapely.distance(geoms[i], geoms[j])
    else:
        edges = np.unique(np.append(np.asarray(thresholds, dtype=float), max_m))
        d = _pair_distances(geoms, i, j, edges)
    ok = np.isfinite(d) & (d <= reach_m)
    return i[ok], j[ok], d[ok]


def _pair_distances(geoms: np.ndarray, i: np.ndarray, j: np.ndarray, edges: np.ndarray
                    ) -> np.ndarray:
    """Distances of pairs ``(i, j)``, exact (``shapely.distance``) only where the bounds
    of :class:`~geo.analysis._support.Support` leave the interval between ``edges``
    undecided; otherwise the upper bound."""
    d = np.full(len(i), np.nan)
    same = i == j
    d[same] = 0.0
    todo = np.flatnonzero(~same)
    if not len(todo):
        return d
    support = Support(geoms, np.unique(np.concatenate([i[todo], j[todo]])))
    lower, upper = support.pairs(i[todo], j[todo])
    # 1 cm covers the rounding of both bounds
    sure = np.searchsorted(edges, lower - 0.01) == np.searchsorted(edges, upper + 0.01)
    d[todo[sure]] = upper[sure]
    exact = todo[~sure]
    d[exact] = shapely.distance(geoms[i[exact]], geoms[j[exact]])
    return d


def jobs_by_threshold(i: np.ndarray, j: np.ndarray, d: np.ndarray, jobs: np.ndarray,
                      thresholds: np.ndarray, n: int) -> np.ndarray:
    """``out[a, k]`` = sum of ``jobs[j]`` over pairs ``(a, j)`` with ``d <= thresholds[k]``
    (+ ``DISTANCE_TOLERANCE_M``: on the threshold counts).

    ``thresholds`` ascending. One pass: each pair falls into the first threshold it
    meets; a cumulative sum along the thresholds does the rest.
    """
    thresholds = np.asarray(thresholds, dtype=float)
    k = np.searchsorted(thresholds + DISTANCE_TOLERANCE_M, d, side="left")   # first threshold reaching d
    inside = k < len(thresholds)
    flat = np.bincount(i[inside] * len(thresholds) + k[inside], weights=jobs[j[inside]],
                       minlength=n * len(thresholds))
    return np.cumsum(flat.reshape(n, len(thresholds)), axis=1)


def area_sums(own_area_jobs: np.ndarray, point_jobs: np.ndarray | None,
              workers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Area jobs and area jobs–housing ratio from per-threshold sums.

    Parameters
    ----------
    own_area_jobs : ndarray (n, k)
        Jobs of the workplaces reached within each threshold.
    point_jobs : ndarray (n, k) or None
        Jobs of the employment points reached (None: no employment layer).
    workers : ndarray (n, k)
        Resident workers reached.

    Returns
    -------
    area_jobs, area_jhr : ndarray (n, k)
        ``area_jhr`` is nan where ``workers`` is 0.
    """
    area_jobs = own_area_jobs if point_jobs is None else own_area_jobs + point_jobs
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(workers > 0, area_jobs / np.where(workers > 0, workers, 1.0), np.nan)
    return area_jobs, ratio


def first_balanced(area_jhr: np.ndarray, thresholds: np.ndarray, upper: float) -> np.ndarray:
    """The first threshold at which each row's ratio is at most ``upper`` (nan: never).

    Examples
    --------
    >>> first_balanced(np.array([[3.0, 1.2, 0.9], [np.nan, 2.0, 2.0]]),
    ...                np.array([500.0, 1000.0, 1500.0]), 1.25).tolist()
    [1000.0, nan]
    """
    ok = np.nan_to_num(area_jhr, nan=np.inf) <= upper
    hit = ok.any(axis=1)
    first = np.argmax(ok, axis=1)
    return np.where(hit, np.asarray(thresholds, dtype=float)[first], np.nan)


def balance_steps(step_m: float, max_m: float = MAX_BALANCE_RADIUS_M) -> np.ndarray:
    """Radii searched for the balance radius: ``step, 2 step, ...`` up to ``max_m``.

    Examples
    --------
    >>> balance_steps(500.0, 2000.0).tolist()
    [500.0, 1000.0, 1500.0, 2000.0]
    """
    n = int(np.floor(max_m / step_m + 1e-9))
    return step_m * np.arange(1, n + 1, dtype=float)


def balance_radius(geoms: np.ndarray, jobs: np.ndarray, index: PointIndex,
                   pairs: tuple[np.ndarray, np.ndarray, np.ndarray], steps: np.ndarray,
                   upper: float, *, cell_m: float | None = None) -> np.ndarray:
    """Balance radius of every workplace (metres; nan when not reached by ``steps[-1]``).

    Parameters
    ----------
    geoms : ndarray of Polygon
        Workplace polygons.
    jobs : ndarray
        Jobs per workplace.
    index : PointIndex
        Housing and employment points with two weight columns: resident workers and
        jobs.
    pairs : (i, j, distance_m)
        Workplace pairs within ``steps[-1]`` (:func:`workplace_pairs`).
    steps : ndarray
        Ascending radii.
    upper : float
        Upper bound of the balanced range.
    cell_m : float, optional
        Cell of the bounding grid (default: twice the first step, at least 1,000 m).

    Notes
    -----
    Exact without evaluating every step. The points are summed into square cells; a
    point of a cell whose centre lies at distance ``d`` from the polygon is at a
    distance in ``[d - h, d + h]`` (``h`` = half the cell diagonal), which gives, for
    every step at once, a lower and an upper bound of the resident workers and of the
    jobs in reach (cumulative sums over distance bins of the (workplace, cell) pairs).
    A step where even the bounds say "balanced" or "not balanced" needs nothing more.
    The steps in between are taken in ascending order, in rounds over all workplaces at
    once (a workplace leaves at its first balanced step); each round is one walk of
    :func:`~geo.analysis._decide.decide_within`, which refines the cells near each
    step's circle only until the ratio is certain, and counts exactly where it never is.
    """
    n = len(geoms)
    out = np.full(n, np.nan)
    k_steps = len(steps)
    if not n or not k_steps:
        return out
    own = jobs_by_threshold(*pairs, jobs, steps, n)
    w_lo, w_hi, e_lo, e_hi = _bounds(geoms, index, steps,
                                     cell_m or max(2 * float(steps[0]), 1000.0))
    tol = 1e-9

    def verdict(o: np.ndarray, w_lo: np.ndarray, w_hi: np.ndarray, e_lo: np.ndarray,
                e_hi: np.ndarray) -> np.ndarray:
        """+1: balanced for every sum within the bounds; -1: never; 0: undecided."""
        holds = (w_lo > 0) & (o + e_hi <= upper * w_lo * (1 - tol) - 1e-6)
        fails = (w_hi <= 0) | (o + e_lo > upper * w_hi * (1 + tol) + 1e-6)
        return np.where(holds, 1, np.where(fails, -1, 0))

    grid = verdict(own, w_lo, w_hi, e_lo, e_hi)
    holds = grid == 1
    first_hold = np.where(holds.any(axis=1), np.argmax(holds, axis=1), k_steps)
    candidate = (grid == 0) & (np.arange(k_steps)[None, :] < first_hold[:, None])
    cw, ck = np.nonzero(candidate)                  # by workplace, then step
    per = np.bincount(cw, minlength=n)
    rank = np.arange(len(cw)) - np.repeat(np.cumsum(per) - per, per)
    first = np.full(n, k_steps)
    exact_pairs = 0
    # the undecided steps of every workplace in ascending order, in rounds of 1, 1, 2,
    # 4, ... steps per workplace; a workplace leaves at its first balanced step. Each
    # round walks the cells near each step's circle only until the ratio is certain
    # (decide_within), with exact sums where it never is.
    lo_rank = 0
    while lo_rank < int(per.max(initial=0)):
        hi_rank = max(lo_rank + 1, 2 * lo_rank)
        todo = np.flatnonzero((rank >= lo_rank) & (rank < hi_rank) & (first[cw] == k_steps))
        lo_rank = hi_rank
        if not len(todo):
            continue
        tw, tk = cw[todo], ck[todo]
        state, sums = decide_within(
            geoms[tw], index, steps[tk],
            lambda v, lo, hi, tw=tw, tk=tk: verdict(own[tw[v], tk[v]], lo[:, 0], hi[:, 0],
                                                    lo[:, 1], hi[:, 1]))
        exact = state == 0
        exact_pairs += int(exact.sum())
        sums = np.round(sums[exact], 6)
        _, ratio = area_sums(own[tw[exact], tk[exact]][:, None], sums[:, 1:2], sums[:, 0:1])
        hit = state == 1
        hit[exact] = np.nan_to_num(ratio[:, 0], nan=np.inf) <= upper
        np.minimum.at(first, tw[hit], tk[hit])
    first = np.minimum(first, first_hold)
    reached = first < k_steps
    out[reached] = steps[first[reached]]
    log.info("balance radius: %d of %d (workplace, step) pairs undecided by the cell bounds, "
             "%d counted exactly", len(cw), n * k_steps, exact_pairs)
    return out


def _bounds(geoms: np.ndarray, index: PointIndex, steps: np.ndarray, cell_m: float
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Lower and upper bounds of the weights (columns 0 and 1 of ``index``) within each
    step of each polygon, from the points summed into square cells of ``cell_m``."""
    n, k_steps = len(geoms), len(steps)
    shape = (n, k_steps)
    zero = np.zeros(shape)
    if not len(index.x):
        return zero, zero.copy(), zero.copy(), zero.copy()
    ix = np.floor((index.x - index.x0) / cell_m).astype(np.int64)
    iy = np.floor((index.y - index.y0) / cell_m).astype(np.int64)
    span = int(iy.max()) + 1
    flat_keys, inverse = np.unique(ix * span + iy, return_inverse=True)
    inverse = inverse.ravel()
    keys = np.stack([flat_keys // span, flat_keys % span], axis=1)
    cx = index.x0 + (keys[:, 0] + 0.5) * cell_m
    cy = index.y0 + (keys[:, 1] + 0.5) * cell_m
    half = cell_m * np.sqrt(0.5)
    # each cell's points in rings around its centre: a point at rho from the centre is
    # within rho of the centre's distance (1-Lipschitz), so near points bound tighter
    rho = np.hypot(index.x - cx[inverse], index.y - cy[inverse])
    ring = np.minimum((rho / half * _RINGS).astype(np.int64), _RINGS - 1)
    ring_m = half * np.arange(1, _RINGS + 1) / _RINGS
    at = inverse * _RINGS + ring
    cw = np.stack([np.bincount(at, weights=index.w[:, c], minlength=len(keys) * _RINGS)
                   .reshape(len(keys), _RINGS) for c in range(2)], axis=2)   # cell, ring, column
    rmax = float(steps[-1]) + half
    valid = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    ids = np.flatnonzero(valid)
    if not len(ids):
        return zero, zero.copy(), zero.copy(), zero.copy()
    b = np.full((n, 4), np.nan)
    b[ids] = shapely.bounds(geoms[ids])
    tree = shapely.STRtree(shapely.points(cx, cy))
    reach_boxes = shapely.box(b[ids, 0] - rmax, b[ids, 1] - rmax, b[ids, 2] + rmax, b[ids, 3] + rmax)
    x0, y0 = index.x0, index.y0
    extent = float(max(np.nanmax(b[:, 2]), cx.max()) - min(np.nanmin(b[:, 0]), cx.min())
                   + max(np.nanmax(b[:, 3]), cy.max()) - min(np.nanmin(b[:, 1]), cy.min()))
    support = Support(geoms, ids)
    boundaries = None
    slack = 1.0
    # pairs binned by distance (bins of a 16th of the first step); a bin's contribution
    # to a step is decided for its whole range [f, f + 1) * fine (conservatively)
    fine = float(steps[0]) / 16 if steps[0] > 0 else cell_m / 16
    nf = int(np.ceil((float(steps[-1]) + half + slack) / fine)) + 2
    lo_edge = np.arange(nf) * fine
    hi_edge = np.append(lo_edge[1:], np.inf)
    counted = []                                       # per ring: bins counted by each step
    for j in range(_RINGS):
        off = ring_m[j] + slack
        # steps at which all of a bin is surely within / some of it possibly within
        k_lo = np.searchsorted(steps, hi_edge + off, side="left")
        k_hi = np.searchsorted(steps, np.maximum(lo_edge - off, 0.0), side="left")
        # bins counted by step k: the first searchsorted(k_x, k, "right") of them
        counted.append((np.searchsorted(k_lo, np.arange(k_steps), side="right"),
                        np.searchsorted(k_hi, np.arange(k_steps), side="right")))
    out = [np.zeros(shape) for _ in range(4)]          # w_lo, e_lo, w_hi, e_hi
    # the (workplace, cell) pairs within reach, a block of workplaces at a time: on the
    # metro sample 13.6 million pairs, half a GB of temporaries when taken at once; each
    # workplace's pairs come in the same order either way, so the sums are the same
    for start in range(0, len(ids), _WORKPLACES_PER_BLOCK):
        rows = ids[start:start + _WORKPLACES_PER_BLOCK]
        local, cell = tree.query(reach_boxes[start:start + _WORKPLACES_PER_BLOCK])
        wp = rows[local]
        # the distance of each cell centre, within [lower, upper]: from the support
        # functions (cheap, tight away from the polygon), else from the boundary
        # simplified for bounds (|d_simplified - d| <= tol_m), few segments
        lower, upper = support.points(wp, cx[cell], cy[cell])
        rough = np.flatnonzero(upper - lower > cell_m / 20)
        if len(rough):
            if boundaries is None:     # built once, for the first block that needs it
                boundaries = _Boundaries(geoms, x0, y0, extent + rmax, max_vertices=8, tol_m=cell_m / 20)
            err = boundaries.tol_m + boundaries.err_m
            chunk = 2_000_000
            for a in range(0, len(rough), chunk):
                r = rough[a:a + chunk]
                g, c = wp[r], cell[r]
                cand, full = boundaries.initial(g)
                dist, _, _ = boundaries.evaluate(g, cx[c] - x0, cy[c] - y0, cand, full, None)
                lo, hi = np.maximum(dist - err, 0.0), dist + err
                inbox = ((cx[c] >= b[g, 0]) & (cx[c] <= b[g, 2]) & (cy[c] >= b[g, 1])
                         & (cy[c] <= b[g, 3]))
                if inbox.any():
                    sel = np.flatnonzero(inbox)
                    inside = sel[shapely.contains_xy(geoms[g[sel]], cx[c[sel]], cy[c[sel]])]
                    lo[inside] = hi[inside] = 0.0
                lower[r] = np.maximum(lower[r], lo)
                upper[r] = np.minimum(upper[r], hi)
        key_lo = local * nf + np.minimum((upper / fine).astype(np.int64), nf - 1)
        key_hi = local * nf + np.minimum((lower / fine).astype(np.int64), nf - 1)
        for j in range(_RINGS):
            n_lo, n_hi = counted[j]
            for col in range(2):
                weight = cw[cell, j, col]
                for key, steps_bins, at in ((key_lo, n_lo, col), (key_hi, n_hi, 2 + col)):
                    h = np.bincount(key, weights=weight, minlength=len(rows) * nf).reshape(len(rows), nf)
                    cum = np.zeros((len(rows), nf + 1))
                    np.cumsum(h, axis=1, out=cum[:, 1:])
                    out[at][rows] += cum[:, steps_bins]
    w_lo, e_lo, w_hi, e_hi = out
    return w_lo, w_hi, e_lo, e_hi
