"""Jobs–housing (industry–housing) balance of workplaces and districts.

Workplaces are the industrial functional zones and the innovation districts. For each
workplace and each commuting radius ``r`` the analysis counts the *resident workers*
whose housing lies within ``r`` of the workplace **polygon** (a point inside the
polygon is at distance 0; a point at distance exactly ``r`` counts) and compares them
with the workplace's jobs:

* ``workers_<r>`` – resident workers within ``r`` (``r`` in whole metres in the name);
* ``workers`` – the same for the primary radius ``balance.radius_m``;
* ``jhr`` = jobs / workers (missing when workers = 0);
* ``balance_class`` – ``no_housing`` (workers = 0), ``jobs_rich`` (jhr above the
  balanced range), ``housing_rich`` (below it) or ``balanced`` (inside it, bounds
  included);
* ``workers_shared`` – competition-aware: every housing feature's workers within the
  primary radius of several workplaces are split among them in proportion to their
  jobs (equally when all of them have zero jobs), so the shares add up to the workers
  living within reach of at least one workplace; ``jhr_shared`` = jobs /
  workers_shared.

Resident workers of a housing feature = dwellings × ``workers_per_dwelling``, or
population × ``employment_rate`` when a feature has no dwellings; housing polygons and
multipoints count at their representative point. Without a housing layer the
population raster is used: every cell centre is a point with cell value ×
``employment_rate`` workers.

Districts get their jobs (zones and innovation districts with that ``district_id``)
and the resident workers living in them (housing points or cell centres in the
district polygon; a point on a shared border goes to the first district listed).

With a land-use raster, each innovation district gets the shares of the configured
classes among the cells whose centres lie in it, the residential share, and the
normalised Shannon entropy ``-sum(p ln p) / ln(K)`` where ``K`` is the number of
*configured* classes (0 = a single use, 1 = all configured uses in equal shares).
These columns are in ``balance_landuse`` and, for innovation districts, also in
``balance_workplaces`` (``landuse_entropy``, ``residential_share``; empty for zones).

The counting kernel (:mod:`geo.analysis._reach`) is exact – every decision equals
``shapely.distance(point, polygon) <= r`` – and tests only points near the edge of a
catchment, so it scales to metropolitan layers. Worker sums in the output tables are
rounded to 1e-6 workers (they are differences of cumulative sums).
"""

from __future__ import annotations

import logging
import math
from typing import Any, NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo._errors import InputError, format_rows
from geo._types import AnalysisResult, Raster, Study
from geo.analysis._reach import PointIndex, Reach, reach

log = logging.getLogger(__name__)

NAME = "balance"
BALANCE_CLASSES = ("jobs_rich", "balanced", "housing_rich", "no_housing")
SOURCE_DWELLINGS = "housing dwellings"
SOURCE_POPULATION = "housing population"
SOURCE_RASTER = "population raster"
WORKPLACE_KINDS = ("zone", "innovation_district")
TOP_N = 5


class WorkerPoints(NamedTuple):
    """Resident workers as points: coordinates, workers, and where they came from."""

    x: np.ndarray
    y: np.ndarray
    workers: np.ndarray
    source: str
    ids: np.ndarray | None = None
    warnings: tuple[str, ...] = ()


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


# ---------------------------------------------------------------------------
# inputs


def workplaces_from(zones: gpd.GeoDataFrame,
                    innovation_districts: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Zones and innovation districts as one layer of workplaces.

    Parameters
    ----------
    zones : GeoDataFrame
        Canonical zones (``zone_id``, ``name``, ``jobs``, ``district_id``).
    innovation_districts : GeoDataFrame, optional
        Canonical innovation districts (``innov_id``, ``name``; ``jobs`` and
        ``district_id`` optional). Missing jobs count as 0.

    Returns
    -------
    GeoDataFrame
        ``workplace_id``, ``kind`` (``zone`` / ``innovation_district``), ``name``,
        ``district_id``, ``jobs`` (float) and the geometry, zones first, in input
        order, on a fresh index, in the CRS of ``zones``.

    Examples
    --------
    >>> from shapely import box
    >>> zones = gpd.GeoDataFrame({"zone_id": ["z1"], "name": ["A"], "jobs": [10],
    ...     "district_id": ["d1"]}, geometry=[box(0, 0, 1, 1)], crs=3857)
    >>> workplaces_from(zones)[["workplace_id", "kind", "jobs"]].to_dict("records")
    [{'workplace_id': 'z1', 'kind': 'zone', 'jobs': 10.0}]
    """
    parts = [_workplace_part(zones, "zone_id", "zone")]
    if innovation_districts is not None and len(innovation_districts):
        parts.append(_workplace_part(innovation_districts, "innov_id", "innovation_district"))
    frame = pd.concat(parts, ignore_index=True)
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=zones.crs)


def _workplace_part(layer: gpd.GeoDataFrame, id_field: str, kind: str) -> pd.DataFrame:
    n = len(layer)
    jobs = (pd.to_numeric(layer["jobs"], errors="coerce").to_numpy(dtype=float)
            if "jobs" in layer.columns else np.full(n, np.nan))
    district = (layer["district_id"].to_numpy(dtype=object) if "district_id" in layer.columns
                else np.full(n, None, dtype=object))
    return pd.DataFrame({
        "workplace_id": layer[id_field].astype(str).to_numpy(),
        "kind": kind,
        "name": layer["name"].to_numpy(dtype=object) if "name" in layer.columns
        else layer[id_field].astype(str).to_numpy(),
        "district_id": [None if _missing(v) else str(v) for v in district],
        "jobs": np.nan_to_num(jobs, nan=0.0),
        "geometry": layer.geometry.to_numpy(),
    })


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def resident_workers(housing: gpd.GeoDataFrame, *, workers_per_dwelling: float,
                     employment_rate: float) -> WorkerPoints:
    """Resident workers of every housing feature, at its (representative) point.

    Parameters
    ----------
    housing : GeoDataFrame
        Canonical housing: ``housing_id`` and ``dwellings`` and/or ``population``;
        Point, MultiPoint, Polygon or MultiPolygon geometries.
    workers_per_dwelling : float
        Resident workers per dwelling.
    employment_rate : float
        Resident workers per inhabitant (used for features with population but no
        dwellings).

    Returns
    -------
    WorkerPoints
        One point per feature with a geometry; ``source`` is ``'housing dwellings'``
        when the layer has a ``dwellings`` field, else ``'housing population'``.
        Features with neither value get 0 workers and a warning; features without
        geometry are dropped with a warning.

    Raises
    ------
    InputError
        Negative dwellings or population (the loader normally rejects them).
    """
    n = len(housing)
    ids = housing["housing_id"].astype(str).to_numpy() if "housing_id" in housing.columns \
        else np.arange(n).astype(str)
    dwell = _numeric(housing, "dwellings", n)
    pop = _numeric(housing, "population", n)
    bad = (dwell < 0) | (pop < 0)
    if bad.any():
        raise InputError(f"layer 'housing': negative dwellings or population in "
                         f"{format_rows(ids[bad])}; counts must be >= 0")
    has_dwellings = "dwellings" in housing.columns
    workers = np.where(~np.isnan(dwell), dwell * workers_per_dwelling, pop * employment_rate)
    warnings: list[str] = []
    if has_dwellings:
        fallback = np.isnan(dwell) & ~np.isnan(pop)
        if fallback.any():
            warnings.append(
                f"housing: {int(fallback.sum())} features have no dwellings; their resident "
                f"workers are population x employment_rate {employment_rate:g} "
                f"({format_rows(ids[fallback])})")
    neither = np.isnan(workers)
    if neither.any():
        warnings.append(
            f"housing: {int(neither.sum())} features have neither dwellings nor population "
            f"and count no resident workers ({format_rows(ids[neither])})")
        workers = np.where(neither, 0.0, workers)
    geoms = housing.geometry.to_numpy()
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if empty.any():
        warnings.append(f"housing: {int(empty.sum())} features without geometry are left out "
                        f"({format_rows(ids[empty])})")
    geoms = geoms[~empty]
    points = geoms.copy()
    not_point = shapely.get_type_id(geoms) != shapely.GeometryType.POINT
    if not_point.any():
        points[not_point] = shapely.point_on_surface(geoms[not_point])
    xy = shapely.get_coordinates(points)
    source = SOURCE_DWELLINGS if has_dwellings else SOURCE_POPULATION
    return WorkerPoints(xy[:, 0].copy(), xy[:, 1].copy(), workers[~empty], source,
                        ids[~empty], tuple(warnings))


def _numeric(frame: pd.DataFrame, column: str, n: int) -> np.ndarray:
    if column not in frame.columns:
        return np.full(n, np.nan)
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)


def raster_workers(population: Raster, *, employment_rate: float) -> WorkerPoints:
    """Resident workers from a population raster: one point per cell centre.

    Parameters
    ----------
    population : Raster
        Persons per cell; ``nan`` cells are left out.
    employment_rate : float
        Resident workers per person.

    Returns
    -------
    WorkerPoints
        ``source`` is ``'population raster'``.
    """
    x, y, value = population.cell_centres()
    warnings = []
    if (value < 0).any():
        raise InputError(f"population raster: {int((value < 0).sum())} cells have negative "
                         "population; counts must be >= 0")
    if not len(value):
        warnings.append("population raster: every cell is nodata, so there are no resident workers")
    return WorkerPoints(x, y, value * employment_rate, SOURCE_RASTER, None, tuple(warnings))


# ---------------------------------------------------------------------------
# counting


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
        The same numbers as ``weights[shapely.distance(points, polygon) <= r].sum()``
        for every polygon and radius.

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
    by_jobs = total_jobs > 0
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


# ---------------------------------------------------------------------------
# districts


def _point_district(districts: gpd.GeoDataFrame, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Position (row number) of the district polygon holding each point; -1 outside.

    A point on a shared border goes to the first district listed.
    """
    out = np.full(len(x), -1, dtype=np.int64)
    if not len(x) or not len(districts):
        return out
    polys = districts.geometry.to_numpy()
    bounds = shapely.bounds(polys)
    # points sorted by x: each district tests only the points of its bounding box (found by
    # binary search and a y filter) with a prepared point-in-polygon test, without creating
    # a point object per housing feature (2.5x faster than an STRtree query on 1M points)
    by_x = np.argsort(x, kind="stable")
    xs = x[by_x]
    # last district first, so that a point on a shared border ends with the first listed
    for i in range(len(polys) - 1, -1, -1):
        x0, y0, x1, y1 = bounds[i]
        if not np.isfinite(x0):  # missing or empty geometry
            continue
        cand = by_x[np.searchsorted(xs, x0, side="left"):np.searchsorted(xs, x1, side="right")]
        cand = cand[(y[cand] >= y0) & (y[cand] <= y1)]
        if not len(cand):
            continue
        poly = shapely.from_wkb(shapely.to_wkb(polys[i]))  # prepared copy: inputs untouched
        shapely.prepare(poly)
        out[cand[shapely.intersects_xy(poly, x[cand], y[cand])]] = i
    return out


def district_balance(districts: gpd.GeoDataFrame | None, workplaces: pd.DataFrame,
                     x: np.ndarray, y: np.ndarray, workers: np.ndarray, *,
                     balanced_range: tuple[float, float],
                     point_label: str = "housing points") -> tuple[pd.DataFrame, list[str]]:
    """Jobs and resident workers per administrative district.

    Parameters
    ----------
    districts : GeoDataFrame or None
        ``district_id``, ``name`` and polygons. ``None``: only jobs per
        ``district_id`` of the workplaces can be given (workers, jhr and class empty).
    workplaces : DataFrame
        From :func:`workplaces_from`; ``district_id`` may be missing for innovation
        districts, which are then placed by their representative point.
    x, y, workers : ndarray
        Resident workers as points.
    balanced_range : (low, high)
    point_label : str
        What the points are, for warnings (``housing points``, ``population cells``).

    Returns
    -------
    table : GeoDataFrame (with districts) or DataFrame (without)
        ``district_id``, ``name``, ``workplaces``, ``jobs``, ``workers``, ``jhr``,
        ``balance_class``.
    warnings : list of str
    """
    warnings: list[str] = []
    wp_district = workplaces["district_id"].to_numpy(dtype=object).copy()
    if districts is None:
        ids = pd.unique(pd.Series([d for d in wp_district if d is not None], dtype=object))
        jobs = pd.Series(workplaces["jobs"].to_numpy(), index=wp_district).groupby(level=0).sum()
        counts = pd.Series(1, index=wp_district).groupby(level=0).sum()
        table = pd.DataFrame({
            "district_id": ids, "name": ids,
            "workplaces": [int(counts.get(d, 0)) for d in ids],
            "jobs": [float(jobs.get(d, 0.0)) for d in ids],
            "workers": np.nan, "jhr": np.nan, "balance_class": None,
        })
        if len(ids):
            warnings.append("balance: no districts layer, so resident workers per district "
                            "cannot be counted; balance_districts gives jobs only")
        return table, warnings
    d_ids = districts["district_id"].astype(str).to_numpy()
    missing = np.array([d is None for d in wp_district])
    if missing.any():
        reps = shapely.point_on_surface(workplaces.geometry.to_numpy()[missing])
        xy = shapely.get_coordinates(reps)
        pos = _point_district(districts, xy[:, 0], xy[:, 1])
        wp_district[missing] = [d_ids[p] if p >= 0 else None for p in pos]
    known = np.isin(wp_district.astype(str), d_ids) & np.array([d is not None for d in wp_district])
    if (~known).any():
        names = workplaces["workplace_id"].to_numpy()[~known]
        warnings.append(f"balance: {int((~known).sum())} workplaces lie in no district of the "
                        f"districts layer; their jobs are in no district total ({format_rows(names)})")
    jobs = np.zeros(len(d_ids))
    n_wp = np.zeros(len(d_ids), dtype=np.int64)
    lookup = {d: i for i, d in enumerate(d_ids)}
    wp_pos = np.array([lookup.get(str(d), -1) if d is not None else -1 for d in wp_district],
                      dtype=np.int64)
    ok = wp_pos >= 0
    np.add.at(jobs, wp_pos[ok], workplaces["jobs"].to_numpy(dtype=float)[ok])
    np.add.at(n_wp, wp_pos[ok], 1)
    where = _point_district(districts, x, y)
    inside = where >= 0
    dist_workers = np.bincount(where[inside], weights=workers[inside], minlength=len(d_ids))
    outside_workers = float(workers[~inside].sum())
    if (~inside).any() and outside_workers > 0:
        warnings.append(f"balance: {int((~inside).sum())} {point_label} ({outside_workers:,.0f} "
                        "resident workers) lie outside every district and are in no district total")
    jhr = _ratio(jobs, dist_workers)
    table = gpd.GeoDataFrame({
        "district_id": d_ids,
        "name": districts["name"].to_numpy(dtype=object) if "name" in districts.columns else d_ids,
        "workplaces": n_wp,
        "jobs": jobs,
        "workers": dist_workers,
        "jhr": jhr,
        "balance_class": classify_balance(jhr, balanced_range),
    }, geometry=districts.geometry.to_numpy(), crs=districts.crs)
    return table, warnings


# ---------------------------------------------------------------------------
# land-use mix


def landuse_mix(polygons: gpd.GeoDataFrame, landuse: Raster, classes: dict[int, str], *,
                id_field: str = "innov_id", residential_class: int | None = None,
                ) -> tuple[pd.DataFrame, list[str]]:
    """Land-use class shares and mix of each polygon (cells whose centre lies in it).

    Parameters
    ----------
    polygons : GeoDataFrame
        E.g. innovation districts (``id_field``, ``name``).
    landuse : Raster
        Integer class codes (``nan`` = nodata), in the CRS of ``polygons``.
    classes : dict of int to str
        The configured classes. Cells of other codes are left out of the shares
        (with a warning).
    id_field : str
        Identifier column of ``polygons``.
    residential_class : int, optional
        Code counted as housing; default the class named ``residential``.

    Returns
    -------
    table : DataFrame
        ``<id_field>``, ``name``, ``cells``, ``share_<class name>`` for every
        configured class, ``landuse_entropy`` (Shannon entropy of the shares divided
        by ``ln(number of configured classes)``: 0 = one use, 1 = every configured
        use in equal shares) and ``residential_share``. Polygons containing no
        classified cell centre get empty values.
    warnings : list of str

    Examples
    --------
    Two equally common classes out of six configured: ``ln 2 / ln 6``.

    >>> from affine import Affine
    >>> from shapely import box
    >>> raster = Raster(np.array([[1.0, 2.0]]), Affine(1, 0, 0, 0, -1, 1), None)
    >>> polys = gpd.GeoDataFrame({"innov_id": ["i1"], "name": ["I"]}, geometry=[box(0, 0, 2, 1)])
    >>> table, _ = landuse_mix(polys, raster, {k: f"c{k}" for k in range(1, 7)})
    >>> bool(np.isclose(table.landuse_entropy[0], np.log(2) / np.log(6)))
    True
    """
    warnings: list[str] = []
    codes = [int(c) for c in classes]
    names = [str(classes[c]) for c in classes]
    if residential_class is None:
        residential_class = next((c for c, n in classes.items() if str(n).lower() == "residential"), None)
        if residential_class is None:
            warnings.append("landuse: no class is named 'residential'; residential_share is empty "
                            "(set layers.landuse.residential_class)")
    n = len(polygons)
    counts = np.zeros((n, len(codes)))
    geoms = polygons.geometry.to_numpy()
    pairs_poly, _, _, values = _cells_in(geoms, landuse)
    if len(pairs_poly):
        lookup = {c: k for k, c in enumerate(codes)}
        uniq, inverse = np.unique(values, return_inverse=True)
        code_pos = np.array([lookup.get(int(v), -1) for v in uniq], dtype=np.int64)
        pos = code_pos[inverse]
        known = pos >= 0
        np.add.at(counts, (pairs_poly[known], pos[known]), 1.0)
        if (~known).any():
            unknown = sorted({int(v) for v in uniq[code_pos < 0]})
            warnings.append(f"landuse: {int((~known).sum())} cells in innovation districts have "
                            f"codes {unknown} that are not configured classes and are left out "
                            "of the shares (add them to layers.landuse.classes)")
    total = counts.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        shares = counts / total[:, None]
        plogp = np.where(shares > 0, shares * np.log(np.where(shares > 0, shares, 1.0)), 0.0)
    entropy = -plogp.sum(axis=1)
    if len(codes) > 1:
        entropy = entropy / np.log(len(codes))
    entropy = np.where(total > 0, np.clip(entropy, 0.0, 1.0), np.nan)
    shares[total == 0] = np.nan
    ids = polygons[id_field].astype(str).to_numpy() if id_field in polygons.columns \
        else np.arange(n).astype(str)
    table = pd.DataFrame({id_field: ids,
                          "name": polygons["name"].to_numpy(dtype=object)
                          if "name" in polygons.columns else ids,
                          "cells": total.astype(np.int64)})
    used = set()
    for k, name in enumerate(names):
        column = f"share_{_slug(name)}"
        while column in used:
            column += f"_{codes[k]}"
        used.add(column)
        table[column] = shares[:, k]
    table["landuse_entropy"] = entropy
    if residential_class is not None and int(residential_class) in codes:
        table["residential_share"] = shares[:, codes.index(int(residential_class))]
    else:
        table["residential_share"] = np.nan
    empty = total == 0
    if empty.any():
        warnings.append(f"landuse: {int(empty.sum())} innovation districts contain no classified "
                        f"land-use cell centre; their mix is empty ({format_rows(ids[empty])})")
    return table, warnings


def _slug(name: str) -> str:
    text = "".join(ch if ch.isalnum() else "_" for ch in str(name).strip().lower())
    return text.strip("_") or "class"


def _cells_in(geoms: np.ndarray, raster: Raster) -> tuple[np.ndarray, ...]:
    """(polygon position, x, y, value) of every finite cell whose centre is in a polygon."""
    valid = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if not valid.any() or raster.data.size == 0:
        return (np.zeros(0, dtype=np.int64),) + (np.zeros(0),) * 3
    t = raster.transform
    inv = ~t
    bounds = shapely.bounds(geoms[valid])
    ids = np.flatnonzero(valid)
    corners_x = bounds[:, [0, 2, 0, 2]]
    corners_y = bounds[:, [1, 1, 3, 3]]
    cols = inv.a * corners_x + inv.b * corners_y + inv.c
    rows = inv.d * corners_x + inv.e * corners_y + inv.f
    n_rows, n_cols = raster.data.shape
    c0 = np.clip(np.floor(cols.min(axis=1)) - 1, 0, n_cols).astype(np.int64)
    c1 = np.clip(np.ceil(cols.max(axis=1)) + 1, 0, n_cols).astype(np.int64)
    r0 = np.clip(np.floor(rows.min(axis=1)) - 1, 0, n_rows).astype(np.int64)
    r1 = np.clip(np.ceil(rows.max(axis=1)) + 1, 0, n_rows).astype(np.int64)
    nc, nr = c1 - c0, r1 - r0
    per = nc * nr
    poly = np.repeat(ids, per)
    local = np.arange(per.sum()) - np.repeat(np.cumsum(per) - per, per)
    col = np.repeat(c0, per) + local % np.repeat(np.maximum(nc, 1), per)
    row = np.repeat(r0, per) + local // np.repeat(np.maximum(nc, 1), per)
    value = raster.data[row, col]
    finite = np.isfinite(value)
    poly, row, col, value = poly[finite], row[finite], col[finite], value[finite]
    x = t.c + (col + 0.5) * t.a + (row + 0.5) * t.b
    y = t.f + (col + 0.5) * t.d + (row + 0.5) * t.e
    shapely.prepare(geoms[ids])
    hit = shapely.intersects_xy(geoms[poly], x, y)
    return poly[hit], x[hit], y[hit], value[hit]


# ---------------------------------------------------------------------------
# the analysis


def run(study: Study, settings: Any) -> AnalysisResult:
    """The jobs–housing balance analysis of one study.

    Parameters
    ----------
    study : Study
        Validated layers in the working CRS.
    settings : Settings
        Uses ``settings.balance`` and ``settings.layers.landuse.residential_class``.

    Returns
    -------
    AnalysisResult
        Tables ``balance_workplaces`` (GeoDataFrame), ``balance_districts``
        (GeoDataFrame with a districts layer, else DataFrame) and, with a land-use
        raster and innovation districts, ``balance_landuse`` (DataFrame); key figures
        in ``summary``; warnings for the user.

    Raises
    ------
    InputError
        Neither a housing layer nor a population raster is given, or counts are
        negative.
    """
    cfg = settings.balance
    radii = [float(r) for r in cfg.all_radii_m]
    primary = float(cfg.radius_m)
    warnings: list[str] = []

    innov = study.innovation_districts
    if innov is not None and len(innov):
        if "jobs" not in innov.columns:
            warnings.append("innovation_districts: no jobs field; innovation districts count 0 jobs")
        else:
            nan_jobs = pd.to_numeric(innov["jobs"], errors="coerce").isna().to_numpy()
            if nan_jobs.any():
                ids = innov["innov_id"].astype(str).to_numpy()[nan_jobs]
                warnings.append(f"innovation_districts: {int(nan_jobs.sum())} have no jobs value and "
                                f"count 0 jobs ({format_rows(ids)})")
    workplaces = workplaces_from(study.zones, innov)
    dup = workplaces["workplace_id"].duplicated(keep=False).to_numpy()
    if dup.any():
        warnings.append(f"balance: zones and innovation districts share ids "
                        f"({format_rows(pd.unique(workplaces['workplace_id'][dup]))}); "
                        "tell them apart by the 'kind' column")

    if study.housing is not None:
        points = resident_workers(study.housing, workers_per_dwelling=cfg.workers_per_dwelling,
                                  employment_rate=cfg.employment_rate)
    elif study.population is not None:
        points = raster_workers(study.population, employment_rate=cfg.employment_rate)
    else:
        raise InputError("balance: needs resident workers: configure layers.housing (dwellings or "
                         "population) or layers.population (a population raster)")
    warnings.extend(points.warnings)
    if study.housing is not None and study.population is not None:
        log.info("balance: housing layer given, the population raster is not used for workers")

    geoms = workplaces.geometry.to_numpy()
    jobs = workplaces["jobs"].to_numpy(dtype=float)
    index = PointIndex.build(points.x, points.y, points.workers)
    primary_pos = radii.index(primary)
    counted = reach(geoms, index, np.array(radii), record=primary_pos)
    # cumulative-sum differences leave ~1e-10 relative noise: round to 1e-6 workers
    sums = np.round(counted.sums[:, :, 0], 6)
    shared, in_reach = _share(counted, index, jobs)
    shared = np.round(shared, 6)
    in_reach = round(in_reach, 6)

    table = workplaces[["workplace_id", "kind", "name", "district_id", "jobs"]].copy()
    for k, r in enumerate(radii):
        table[radius_column(r)] = sums[:, k]
    table["workers"] = sums[:, primary_pos]
    table["jhr"] = _ratio(jobs, table["workers"].to_numpy())
    table["balance_class"] = classify_balance(table["jhr"].to_numpy(), cfg.balanced_range)
    table["workers_shared"] = shared
    table["jhr_shared"] = _ratio(jobs, shared)

    tables: dict[str, pd.DataFrame] = {}
    landuse_table = None
    if study.landuse is not None and innov is not None and len(innov):
        residential = None
        if settings.layers.landuse is not None:
            residential = settings.layers.landuse.residential_class
        classes = study.landuse_classes or {}
        landuse_table, lu_warnings = landuse_mix(innov, study.landuse, classes,
                                                 residential_class=residential)
        warnings.extend(lu_warnings)
        by_id = landuse_table.set_index("innov_id")
        is_innov = (table["kind"] == "innovation_district").to_numpy()
        for column in ("landuse_entropy", "residential_share"):
            values = np.full(len(table), np.nan)
            values[is_innov] = by_id[column].reindex(table["workplace_id"][is_innov]).to_numpy()
            table[column] = values
        landuse_table = landuse_table.rename(columns={"innov_id": "workplace_id"})

    tables["balance_workplaces"] = gpd.GeoDataFrame(table, geometry=geoms, crs=study.crs)
    district_table, d_warnings = district_balance(
        study.districts, workplaces, points.x, points.y, points.workers,
        balanced_range=cfg.balanced_range,
        point_label="population cells" if points.source == SOURCE_RASTER else "housing points")
    warnings.extend(d_warnings)
    tables["balance_districts"] = district_table
    if landuse_table is not None:
        tables["balance_landuse"] = landuse_table

    total_workers = float(points.workers.sum())
    no_housing = table["balance_class"] == "no_housing"
    if total_workers == 0:
        warnings.append(f"balance: the {points.source} holds no resident workers; every workplace "
                        "is no_housing")
    elif in_reach == 0:
        warnings.append(f"balance: no housing lies within {primary:g} m of any workplace: check that "
                        "the housing layer covers the study area (same CRS and extent)")
    elif no_housing.any():
        warnings.append(f"balance: {int(no_housing.sum())} workplaces have no resident workers within "
                        f"{primary:g} m ({format_rows(table['workplace_id'][no_housing])})")
    summary = _summary(table, district_table, landuse_table, points, radii, primary,
                       total_workers, in_reach, counted)
    for message in warnings:
        log.warning(message)
    return AnalysisResult(name=NAME, tables=tables, summary=summary, warnings=warnings)


def _num(value: Any) -> float | None:
    value = float(value)
    return None if math.isnan(value) else value


def _summary(table: pd.DataFrame, districts: pd.DataFrame, landuse: pd.DataFrame | None,
             points: WorkerPoints, radii: list[float], primary: float, total_workers: float,
             in_reach: float, counted: Reach) -> dict[str, Any]:
    jobs = float(table["jobs"].sum())
    classes = table["balance_class"].value_counts()
    with_ratio = table[table["jhr"].notna()].sort_values(["jhr", "workplace_id"])

    def top(frame: pd.DataFrame) -> list[dict[str, Any]]:
        return [{"workplace_id": str(r.workplace_id), "name": str(r.name), "kind": str(r.kind),
                 "jobs": float(r.jobs), "workers": float(r.workers), "jhr": _num(r.jhr)}
                for r in frame.head(TOP_N).itertuples(index=False)]

    summary: dict[str, Any] = {
        "worker_source": points.source,
        "radius_m": primary,
        "radii_m": radii,
        "workplaces": len(table),
        "zones": int((table["kind"] == "zone").sum()),
        "innovation_districts": int((table["kind"] == "innovation_district").sum()),
        "jobs": jobs,
        "resident_workers": total_workers,
        "workers_in_reach": in_reach,
        "share_in_reach": _num(in_reach / total_workers) if total_workers > 0 else None,
        "overall_jhr": _num(jobs / total_workers) if total_workers > 0 else None,
        "balance_classes": {c: int(classes.get(c, 0)) for c in BALANCE_CLASSES},
        "top_jobs_rich": top(with_ratio[with_ratio["balance_class"] == "jobs_rich"].iloc[::-1]),
        "top_housing_rich": top(with_ratio[with_ratio["balance_class"] == "housing_rich"]),
        "points_tested_exactly": int(counted.pairs_tested),
    }
    if "balance_class" in districts.columns and districts["balance_class"].notna().any():
        d_classes = districts["balance_class"].value_counts()
        summary["district_balance_classes"] = {c: int(d_classes.get(c, 0)) for c in BALANCE_CLASSES}
    if landuse is not None and len(landuse):
        summary["mean_landuse_entropy"] = _num(landuse["landuse_entropy"].mean())
        summary["mean_residential_share"] = _num(landuse["residential_share"].mean())
    return summary
