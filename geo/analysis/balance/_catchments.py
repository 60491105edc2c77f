"""Catchments: resident workers within each radius of each workplace polygon (the exact
kernel of :mod:`geo.analysis._reach`), the competition-aware shared split, balance classes."""

from __future__ import annotations

from typing import Any

import numpy as np

from geo.analysis._reach import PointIndex, Reach, reach


def radius_column(radius_m: float) -> str:
    """Column name of the workers within ``radius_m``: ``workers_5000``.

    Examples
    --------
    >>> radius_column(5000.0)
    'workers_5000'
    >>> radius_column(2500.5)
    'workers_2500.5'
    """
    r = float(radius_m)
    return f"workers_{int(r)}" if r.is_integer() else f"workers_{r:g}"


def workers_within(workplace_geoms: Any, x: np.ndarray, y: np.ndarray,
                   weights: np.ndarray, radii_m: Any) -> np.ndarray:
    """Sum of ``weights`` of the points within each radius of each polygon.

    Parameters
    ----------
    workplace_geoms : array-like of Polygon / MultiPolygon
        Workplace polygons (projected CRS, metres).
    x, y : ndarray
        Point coordinates in the same CRS.
    weights : ndarray
        Resident workers per point.
    radii_m : sequence of float
        Radii in metres (> 0). Distance is measured from the polygon: points inside
        are at 0; a point at exactly ``r`` counts.

    Returns
    -------
    ndarray, shape (n_workplaces, n_radii)
        The same numbers as ``weights[shapely.distance(points, polygon) <= r + 1e-6].sum()``
        for every polygon and radius (``DISTANCE_TOLERANCE_M``: a point on the radius counts
        whatever the rounding of its distance).

    Examples
    --------
    >>> from shapely import box
    >>> workers_within([box(0, 0, 10, 10)], np.array([5.0, 20.0, 40.0]),
    ...                np.array([5.0, 5.0, 5.0]), np.array([1.0, 2.0, 4.0]), [10, 30])
    array([[3., 7.]])
    """
    radii = _check_radii(radii_m)
    geoms = np.asarray(workplace_geoms, dtype=object)
    index = PointIndex.build(x, y, weights)
    return reach(geoms, index, radii).sums[:, :, 0]


def _check_radii(radii_m: Any) -> np.ndarray:
    radii = np.atleast_1d(np.asarray(radii_m, dtype=float))
    if not len(radii) or not np.all(np.isfinite(radii)) or (radii <= 0).any():
        raise ValueError(f"radii_m: every radius must be a finite number > 0 (got {list(radii)})")
    return radii


def shared_workers(workplace_geoms: Any, jobs: np.ndarray, x: np.ndarray, y: np.ndarray,
                   weights: np.ndarray, radius_m: float) -> tuple[np.ndarray, float]:
    """Competition-aware resident workers of each workplace.

    Every point's ``weights`` within ``radius_m`` of several workplaces is split
    among them in proportion to their ``jobs`` (equally when all of them have 0 jobs).

    Parameters
    ----------
    workplace_geoms : array-like of Polygon / MultiPolygon
    jobs : ndarray
        Jobs per workplace (>= 0).
    x, y, weights : ndarray
        Points and their resident workers.
    radius_m : float
        The commuting radius (metres).

    Returns
    -------
    shared : ndarray
        Workers attributed to each workplace.
    in_reach : float
        Workers living within ``radius_m`` of at least one workplace; equals
        ``shared.sum()`` up to rounding.

    Examples
    --------
    >>> from shapely import box
    >>> shared, total = shared_workers([box(0, 0, 1, 1), box(2, 0, 3, 1)],
    ...     np.array([30.0, 10.0]), np.array([1.5]), np.array([0.5]), np.array([8.0]), 1.0)
    >>> shared.tolist(), total
    ([6.0, 2.0], 8.0)
    """
    radii = _check_radii([radius_m])
    geoms = np.asarray(workplace_geoms, dtype=object)
    index = PointIndex.build(x, y, weights)
    result = reach(geoms, index, radii, record=0)
    return _share(result, index, np.asarray(jobs, dtype=float))


def _share(result: Reach, index: PointIndex, jobs: np.ndarray) -> tuple[np.ndarray, float]:
    """Split the recorded memberships of ``result`` in proportion to ``jobs``."""
    n_points = len(index.x)
    n_geoms = len(jobs)
    rg, rs, re_ = result.range_geom, result.range_start, result.range_end
    pg, pp = result.point_geom, result.point_pos
    # per sorted point: total jobs and number of workplaces in reach (difference arrays
    # for the cell slices, plus the points decided one by one)
    size = n_points + 1
    diff_jobs = (np.bincount(rs, weights=jobs[rg], minlength=size)
                 - np.bincount(re_, weights=jobs[rg], minlength=size))
    diff_n = (np.bincount(rs, minlength=size) - np.bincount(re_, minlength=size)).astype(float)
    total_jobs = np.cumsum(diff_jobs)[:-1] + np.bincount(pp, weights=jobs[pg], minlength=n_points)
    total_n = np.rint(np.cumsum(diff_n)[:-1]) + np.bincount(pp, minlength=n_points)
    w = index.w[:, 0]
    # the running sum of fractional jobs leaves a rounding residue (~1e-15) where no
    # workplace, or only workplaces without jobs, reach a point: such a residue is no job
    # (dividing by it would give a point a weight of ~1e15)
    total_jobs = np.where(total_n > 0, total_jobs, 0.0)
    by_jobs = total_jobs > 1e-12 * float(np.abs(jobs).sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        per_job = np.where(by_jobs, w / total_jobs, 0.0)
        per_head = np.where(~by_jobs & (total_n > 0), w / total_n, 0.0)
    cum = np.zeros((n_points + 1, 2))
    np.cumsum(np.stack([per_job, per_head], axis=1), axis=0, out=cum[1:])
    parts = np.zeros((n_geoms, 2))
    for k in range(2):
        parts[:, k] = (np.bincount(rg, weights=cum[re_, k] - cum[rs, k], minlength=n_geoms)
                       + np.bincount(pg, weights=cum[pp + 1, k] - cum[pp, k], minlength=n_geoms))
    shared = np.where(jobs > 0, jobs * parts[:, 0], parts[:, 1])
    in_reach = float(w[total_n > 0].sum())
    return shared, in_reach


def classify_balance(jhr: Any, balanced_range: tuple[float, float]) -> np.ndarray:
    """Balance class of jobs–housing ratios.

    Parameters
    ----------
    jhr : array-like of float
        Jobs / resident workers; ``nan`` where there are no resident workers.
    balanced_range : (low, high)
        Ratios from ``low`` to ``high`` (both included) are balanced.

    Returns
    -------
    ndarray of str
        ``no_housing`` (nan), ``jobs_rich`` (> high), ``housing_rich`` (< low) or
        ``balanced``.

    Examples
    --------
    >>> classify_balance([np.nan, 2.0, 1.25, 0.8, 0.5], (0.8, 1.25)).tolist()
    ['no_housing', 'jobs_rich', 'balanced', 'balanced', 'housing_rich']
    """
    lo, hi = (float(v) for v in balanced_range)
    ratio = np.asarray(jhr, dtype=float)
    return np.select([np.isnan(ratio), ratio > hi, ratio < lo],
                     ["no_housing", "jobs_rich", "housing_rich"], "balanced").astype(object)


def _ratio(jobs: np.ndarray, workers: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(workers > 0, jobs / np.where(workers > 0, workers, 1.0), np.nan)
