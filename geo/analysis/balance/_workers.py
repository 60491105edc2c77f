"""Workplaces (zones and innovation districts) and resident workers: housing features
(dwellings × workers per dwelling, or population × employment rate) or population raster
cells, each a point with a number of workers."""

from __future__ import annotations

import math
from typing import NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo._errors import InputError, format_rows
from geo._types import Raster

SOURCE_DWELLINGS = "housing dwellings"

SOURCE_POPULATION = "housing population"

SOURCE_RASTER = "population raster"

WORKPLACE_KINDS = ("zone", "innovation_district")


class WorkerPoints(NamedTuple):
    """Resident workers as points: coordinates, workers, and where they came from."""

    x: np.ndarray
    y: np.ndarray
    workers: np.ndarray
    source: str
    ids: np.ndarray | None = None
    warnings: tuple[str, ...] = ()


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
    geoms, workers, ids = geoms[~empty], workers[~empty], ids[~empty]
    geoms, workers, ids = _split_multipart(geoms, workers, ids, warnings)
    points = geoms.copy()
    not_point = shapely.get_type_id(geoms) != shapely.GeometryType.POINT
    if not_point.any():
        points[not_point] = shapely.point_on_surface(geoms[not_point])
    xy = shapely.get_coordinates(points)
    source = SOURCE_DWELLINGS if has_dwellings else SOURCE_POPULATION
    return WorkerPoints(xy[:, 0].copy(), xy[:, 1].copy(), workers, source, ids, tuple(warnings))


def _split_multipart(geoms: np.ndarray, workers: np.ndarray, ids: np.ndarray,
                     warnings: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Multi-part housing features as their parts, the feature's workers shared out.

    A MultiPoint is one compound digitised as several buildings: each member point gets
    an equal share. A MultiPolygon's parts share by area (equally when all have no area).
    The total is unchanged; the parts carry the feature's id.
    """
    types = shapely.get_type_id(geoms)
    multi = np.isin(types, [shapely.GeometryType.MULTIPOINT, shapely.GeometryType.MULTIPOLYGON])
    if not multi.any():
        return geoms, workers, ids
    parts, owner = shapely.get_parts(geoms[multi], return_index=True)
    solid = ~shapely.is_empty(parts)
    parts, owner = parts[solid], owner[solid]
    is_poly = shapely.get_type_id(parts) == shapely.GeometryType.POLYGON
    weight = np.where(is_poly, shapely.area(parts), 1.0)
    n_multi = int(multi.sum())
    total = np.bincount(owner, weights=weight, minlength=n_multi)
    count = np.bincount(owner, minlength=n_multi).astype(float)
    share = np.where(total[owner] > 0, weight / np.where(total[owner] > 0, total[owner], 1.0),
                     1.0 / np.maximum(count[owner], 1.0))
    multi_workers = workers[multi]
    out_geoms = np.concatenate([geoms[~multi], parts])
    out_workers = np.concatenate([workers[~multi], multi_workers[owner] * share])
    out_ids = np.concatenate([ids[~multi], ids[multi][owner]])
    mp = types[multi] == shapely.GeometryType.MULTIPOINT
    said = []
    if mp.any():
        members = int(np.isin(owner, np.flatnonzero(mp)).sum())
        said.append(f"{int(mp.sum())} MultiPoint features count at their {members} member points, "
                    "workers divided equally")
    if (~mp).any():
        members = int(np.isin(owner, np.flatnonzero(~mp)).sum())
        said.append(f"{int((~mp).sum())} MultiPolygon features count at their {members} parts, "
                    "workers divided by part area")
    warnings.append(f"housing: {'; '.join(said)} ({format_rows(ids[multi])})")
    return out_geoms, out_workers, out_ids


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
