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
from geo.analysis._reach import PointIndex, reach

log = logging.getLogger(__name__)

#: The balance radius search stops here (metres).
MAX_BALANCE_RADIUS_M = 30_000.0

#: Steps of the balance radius evaluated per pass of the catchment kernel; workplaces
#: balanced within one pass are left out of the next.
STEPS_PER_PASS = 8


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


def workplace_pairs(geoms: np.ndarray, max_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair of workplaces within ``max_m`` of each other, itself included.

    Returns
    -------
    i, j, distance_m : ndarray
        Both orders of every pair and ``(i, i, 0)`` for every valid polygon;
        ``distance_m`` is ``shapely.distance`` (0 when they touch or overlap).
    """
    geoms = np.asarray(geoms, dtype=object)
    tree = shapely.STRtree(geoms)
    i, j = tree.query(geoms, predicate="dwithin", distance=max_m)
    d = shapely.distance(geoms[i], geoms[j])
    ok = np.isfinite(d) & (d <= max_m)
    return i[ok], j[ok], d[ok]


def jobs_by_threshold(i: np.ndarray, j: np.ndarray, d: np.ndarray, jobs: np.ndarray,
                      thresholds: np.ndarray, n: int) -> np.ndarray:
    """``out[a, k]`` = sum of ``jobs[j]`` over pairs ``(a, j)`` with ``d <= thresholds[k]``.

    ``thresholds`` ascending. One pass: each pair falls into the first threshold it
    meets; a cumulative sum along the thresholds does the rest.
    """
    thresholds = np.asarray(thresholds, dtype=float)
    k = np.searchsorted(thresholds, d, side="left")   # first threshold >= d
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
                   upper: float) -> np.ndarray:
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

    Notes
    -----
    The catchment kernel evaluates :data:`STEPS_PER_PASS` radii in one pass; only the
    workplaces not yet balanced go on to the next pass, so the kernel never runs once
    per step and a housing-rich workplace costs one pass.
    """
    n = len(geoms)
    out = np.full(n, np.nan)
    own = jobs_by_threshold(*pairs, jobs, steps, n)
    todo = np.arange(n)
    for start in range(0, len(steps), STEPS_PER_PASS):
        if not len(todo):
            break
        chunk = steps[start:start + STEPS_PER_PASS]
        # (len(todo), len(chunk), 2); cumulative-sum differences: round to 1e-6
        sums = np.round(reach(geoms[todo], index, chunk).sums, 6)
        _, ratio = area_sums(own[todo, start:start + len(chunk)], sums[:, :, 1], sums[:, :, 0])
        found = first_balanced(ratio, chunk, upper)
        hit = ~np.isnan(found)
        out[todo[hit]] = found[hit]
        todo = todo[~hit]
    return out
