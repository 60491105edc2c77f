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
population × ``employment_rate`` when a feature has no dwellings; housing polygons count
at their representative point; a MultiPoint (one compound digitised as several
buildings) at each member point with an equal share, a MultiPolygon at each part with a
share by area (a warning counts them). Without a housing layer the
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
``shapely.distance(point, polygon) <= r + DISTANCE_TOLERANCE_M`` (1 µm: a point on the
radius counts whatever the rounding of its distance) – and tests only points near the edge of a
catchment, so it scales to metropolitan layers. Worker sums in the output tables are
rounded to 1e-6 workers (they are differences of cumulative sums).

Modules
-------
``_workers``     workplaces and resident workers (housing points or population raster cells)
``_catchments``  workers within each radius (kernel :mod:`geo.analysis._reach`), the
                 competition-aware shared split, the balance classes
``_districts``   the district table
``_landuse``     land-use mix of innovation districts
``_network``     with ``layers.roads``: the same measures in travel minutes on the road
                 network (``workers_<m>min``, ``area_jhr_<m>min``, ``balance_minute``,
                 ``balance_isochrones``); with ``balance.reach: network`` the primary
                 columns use the primary horizon ``balance.minute``
"""

from __future__ import annotations

import logging
import math
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo._errors import InputError, format_rows
from geo._types import AnalysisResult, Study
from geo.analysis._reach import PointIndex, Reach, reach
from geo.analysis.balance._catchments import (
    _ratio,
    _share,
    classify_balance,
    radius_column,
    shared_workers,
    workers_within,
)
from geo.analysis.balance._area import (
    MAX_BALANCE_RADIUS_M,
    area_sums,
    balance_radius,
    balance_steps,
    employment_points,
    first_balanced,
    jobs_by_threshold,
    workplace_pairs,
)
from geo.analysis.balance._districts import district_balance
from geo.analysis.balance._network import (
    MAX_BALANCE_MINUTE,
    MINUTE_STEP,
    NetworkBalance,
    isochrone_table,
    minute_column,
    network_balance,
    network_summary,
)
from geo.analysis.balance._potential import cell_size, theoretical_min_commute
from geo.analysis.balance._mincommute import (
    STEP as MIN_COMMUTE_STEP,
    CommuteCells,
    commute_cells,
    merge_min_commute,
    min_commute_part,
    worker_points,
)
from geo.analysis.balance._landuse import landuse_mix
from geo.analysis.balance._workers import (
    SOURCE_DWELLINGS,
    SOURCE_POPULATION,
    SOURCE_RASTER,
    WORKPLACE_KINDS,
    WorkerPoints,
    raster_workers,
    resident_workers,
    workplaces_from,
)

log = logging.getLogger(__name__)

__all__ = [
    "area_column",
    "area_sums",
    "BALANCE_CLASSES",
    "balance_radius",
    "balance_steps",
    "employment_points",
    "first_balanced",
    "jobs_by_threshold",
    "MAX_BALANCE_MINUTE",
    "MAX_BALANCE_RADIUS_M",
    "minute_column",
    "MINUTE_STEP",
    "network_balance",
    "theoretical_min_commute",
    "workplace_pairs",
    "classify_balance",
    "commute_cells",
    "CommuteCells",
    "merge_min_commute",
    "MIN_COMMUTE_STEP",
    "min_commute_part",
    "district_balance",
    "landuse_mix",
    "NAME",
    "radius_column",
    "raster_workers",
    "resident_workers",
    "run",
    "shared_workers",
    "SOURCE_DWELLINGS",
    "SOURCE_POPULATION",
    "SOURCE_RASTER",
    "TOP_N",
    "WorkerPoints",
    "workers_within",
    "WORKPLACE_KINDS",
    "workplaces_from",
]


NAME = "balance"

BALANCE_CLASSES = ("jobs_rich", "balanced", "housing_rich", "no_housing")

TOP_N = 5

#: One class holding more than this share of the workplaces draws a warning.
ONE_CLASS_SHARE = 0.9


def area_column(prefix: str, radius_m: float) -> str:
    """``area_jobs_5000`` / ``area_jhr_5000`` (named like :func:`radius_column`).

    Examples
    --------
    >>> area_column("area_jhr", 5000.0)
    'area_jhr_5000'
    """
    return prefix + radius_column(radius_m).removeprefix("workers")


def run(study: Study, settings: Any, *, min_commute: bool = True) -> AnalysisResult:
    """The jobs–housing balance analysis of one study.

    Parameters
    ----------
    study : Study
        Validated layers in the working CRS.
    settings : Settings
        Uses ``settings.balance`` and ``settings.layers.landuse.residential_class``.

    min_commute : bool, default True
        With roads, also solve ``theoretical_min_commute_min`` and ``theoretical_min_commute_m``;
        without it those summary keys and their cell sizes are None until
        :func:`merge_min_commute` fills them with :func:`min_commute_part` (a run computes
        that part beside the balance, the minutes from the commuting's searches when there is
        an OD table: :mod:`geo.pipeline`).

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

    points = worker_points(study, cfg)
    if points is None:
        raise InputError("balance: needs resident workers: configure layers.housing (dwellings or "
                         "population) or layers.population (a population raster)")
    warnings.extend(points.warnings)
    if study.housing is not None and study.population is not None:
        log.info("balance: housing layer given, the population raster is not used for workers")

    geoms = workplaces.geometry.to_numpy()
    jobs = workplaces["jobs"].to_numpy(dtype=float)
    emp = employment_points(study.employment, study.employment_raster)
    # housing and employment points in one index (weights: resident workers, jobs), so
    # that one walk counts both within the radii and the balance radius search reuses it
    n_emp = len(emp.x) if emp is not None else 0
    index = PointIndex.build(
        np.concatenate([points.x, emp.x]) if emp is not None else points.x,
        np.concatenate([points.y, emp.y]) if emp is not None else points.y,
        np.column_stack([np.concatenate([points.workers, np.zeros(n_emp)]),
                         np.concatenate([np.zeros(len(points.x)), emp.jobs])
                         if emp is not None else np.zeros(len(points.x))]))
    primary_pos = radii.index(primary)
    counted = reach(geoms, index, np.array(radii), record=primary_pos)
    # cumulative-sum differences leave ~1e-10 relative noise: round to 1e-6 workers
    sums = np.round(counted.sums[:, :, 0], 6)
    point_jobs = np.round(counted.sums[:, :, 1], 6) if emp is not None else None
    shared, in_reach = _share(counted, index, jobs)
    shared = np.round(shared, 6)
    in_reach = round(in_reach, 6)

    table = workplaces[["workplace_id", "kind", "name", "district_id", "jobs"]].copy()
    for k, r in enumerate(radii):
        table[radius_column(r)] = sums[:, k]
    net = None
    if study.network is not None:
        net = network_balance(study, settings.network, [float(m) for m in cfg.all_minutes],
                              float(cfg.minute), geoms, jobs, points.x, points.y, points.workers,
                              float(cfg.balanced_range[1]), min_commute=min_commute,
                              cell_m=cell_size(settings))
        for k, m in enumerate(net.minutes):
            table[minute_column(m)] = net.workers[:, k]
    by_network = net is not None and getattr(settings, "balance_reach", "euclidean") == "network"
    primary_workers = net.workers[:, net.column(net.primary)] if by_network else sums[:, primary_pos]
    table["workers"] = primary_workers
    table["jhr"] = _ratio(jobs, np.nan_to_num(primary_workers))
    table["balance_class"] = classify_balance(table["jhr"].to_numpy(), cfg.balanced_range)
    if by_network:
        shared, in_reach = net.shared, round(float(np.nansum(net.shared)), 6)
        table.loc[~net.connected, ["jhr", "balance_class"]] = None
    table["workers_shared"] = shared
    table["jhr_shared"] = _ratio(jobs, np.nan_to_num(shared))
    area_summary = _area_measures(table, geoms, jobs, index, emp, point_jobs, sums, radii,
                                  primary_pos, study, cfg, warnings, net if by_network else None,
                                  net)

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
    if net is not None:
        tables["balance_isochrones"] = isochrone_table(table, net, study.crs)
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
    reach_text = f"{cfg.minute:g} minutes" if by_network else f"{primary:g} m"
    if total_workers == 0:
        warnings.append(f"balance: the {points.source} holds no resident workers; every workplace "
                        "is no_housing")
    elif in_reach == 0:
        warnings.append(f"balance: no housing lies within {reach_text} of any workplace: check that "
                        "the housing layer covers the study area (same CRS and extent)")
    elif no_housing.any():
        warnings.append(f"balance: {int(no_housing.sum())} workplaces have no resident workers within "
                        f"{reach_text} ({format_rows(table['workplace_id'][no_housing])})")
    summary = _summary(table, district_table, landuse_table, points, radii, primary,
                       total_workers, in_reach, counted)
    summary.update(area_summary)
    if min_commute or net is None:
        potential = theoretical_min_commute(geoms, jobs, points.x, points.y, points.workers,
                                            cell_m=cell_size(settings))
        summary["theoretical_min_commute_m"] = potential.mean_m
        summary["theoretical_min_commute_cell_m"] = potential.cell_m
    else:     # both minimum commutes come with min_commute_part
        summary["theoretical_min_commute_m"] = summary["theoretical_min_commute_cell_m"] = None
    summary.update(network_summary(net, "network" if by_network else "euclidean"))
    for message in warnings:
        log.warning(message)
    return AnalysisResult(name=NAME, tables=tables, summary=summary, warnings=warnings)


def _area_measures(table: pd.DataFrame, geoms: np.ndarray, jobs: np.ndarray, index: PointIndex,
                   emp: Any, point_jobs: np.ndarray | None, workers: np.ndarray,
                   radii: list[float], primary_pos: int, study: Study, cfg: Any,
                   warnings: list[str], primary_net: NetworkBalance | None = None,
                   net: NetworkBalance | None = None) -> dict[str, Any]:
    """Add ``area_jobs_<r>``, ``area_jhr_<r>``, ``area_jhr``, ``area_class`` and
    ``balance_radius_m`` to ``table`` (in place), with ``net`` also the minute columns and
    ``balance_minute`` (and with ``primary_net`` ``area_jhr`` / ``area_class`` on its
    primary horizon); return the summary entries. ``index`` holds the housing and
    employment points (weights: resident workers, jobs), ``point_jobs`` the employment
    jobs within each radius (None without an employment layer)."""
    n = len(table)
    if emp is not None:
        warnings.extend(emp.warnings)
    steps = balance_steps(float(cfg.radius_step_m))
    reach_m = max(max(radii), float(steps[-1]) if len(steps) else 0.0)
    pairs = workplace_pairs(geoms, reach_m, np.concatenate([radii, steps]))
    own = jobs_by_threshold(*pairs, jobs, np.array(radii), n)
    area_jobs, area_jhr = area_sums(own, point_jobs, workers)
    for k, r in enumerate(radii):
        table[area_column("area_jobs", r)] = np.round(area_jobs[:, k], 6)
    for k, r in enumerate(radii):
        table[area_column("area_jhr", r)] = area_jhr[:, k]
    if net is not None:
        for k, m in enumerate(net.minutes):
            table[minute_column(m, "area_jobs")] = net.area_jobs[:, k]
        for k, m in enumerate(net.minutes):
            table[minute_column(m, "area_jhr")] = net.area_jhr[:, k]
    if primary_net is None:
        table["area_jhr"] = area_jhr[:, primary_pos]
    else:
        table["area_jhr"] = primary_net.area_jhr[:, primary_net.column(primary_net.primary)]
    table["area_class"] = classify_balance(table["area_jhr"].to_numpy(), cfg.balanced_range)
    if primary_net is not None:
        table.loc[~primary_net.connected, "area_class"] = None
    table["balance_radius_m"] = (balance_radius(geoms, jobs, index, pairs, steps,
                                                float(cfg.balanced_range[1]))
                                 if len(steps) else np.nan)
    if net is not None:
        table["balance_minute"] = net.balance_minute

    summary: dict[str, Any] = {
        "employment_source": emp.source if emp is not None else None,
        "employment_jobs": float(emp.jobs.sum()) if emp is not None else None,
        "area_classes": {c: int((table["area_class"] == c).sum()) for c in BALANCE_CLASSES},
        "radius_step_m": float(cfg.radius_step_m),
        "balance_radius_max_m": MAX_BALANCE_RADIUS_M,
    }
    radius = table["balance_radius_m"].to_numpy(dtype=float)
    reached = ~np.isnan(radius)
    summary["balance_radius_reached"] = int(reached.sum())
    summary["balance_radius_median_m"] = _num(np.median(radius[reached])) if reached.any() else None
    summary["balance_radius_distribution"] = _radius_distribution(radius)
    with_area = table[table["area_jhr"].notna()].sort_values(["area_jhr", "workplace_id"])
    jobs_col = (area_column("area_jobs", radii[primary_pos]) if primary_net is None
                else minute_column(primary_net.primary, "area_jobs"))
    summary["top_area_jobs_rich"] = _top_area(
        with_area[with_area["area_class"] == "jobs_rich"].iloc[::-1], jobs_col)
    summary["top_area_housing_rich"] = _top_area(
        with_area[with_area["area_class"] == "housing_rich"], jobs_col)

    if emp is None:
        warnings.append("balance: no employment layer (layers.employment): the area measures "
                        "(area_jobs, area_jhr) count only the jobs of zones and innovation "
                        "districts, not jobs elsewhere (shops, offices, hospitals, schools)")
    elif len(emp.x) and n:
        tree = shapely.STRtree(geoms)
        hit = np.unique(tree.query(shapely.points(emp.x, emp.y), predicate="intersects")[0])
        if len(hit):
            what = "cells" if study.employment_raster is not None else "points"
            warnings.append(f"employment: {len(hit)} {what} ({float(emp.jobs[hit].sum()):,.0f} jobs) "
                            "lie inside zones or innovation districts and are counted in addition "
                            "to the workplaces' own jobs; leave them out of the employment layer "
                            "when the workplaces' jobs already include them")
        outside = _outside_share(geoms, emp, study)
        summary["workplaces_outside_employment"] = outside
        if outside > 0:
            warnings.append(f"employment: {outside:.0%} of the workplaces lie outside the area "
                            "the employment layer covers; their area jobs miss the jobs there, "
                            "so their area_jhr is too low")
    if n >= 5:
        one_sided = {}
        for column in ("area_class", "balance_class"):
            counts = table[column].value_counts()
            one_sided[column] = bool(len(counts) and counts.iloc[0] > ONE_CLASS_SHARE * n)
            if one_sided[column]:
                warnings.append(f"balance: {int(counts.iloc[0])} of {n} workplaces "
                                f"({counts.iloc[0] / n:.0%}) are {counts.index[0]} by {column}; "
                                "a measure that puts nearly every workplace in one class does "
                                "not tell them apart"
                                + (" (add layers.employment so the area around each workplace "
                                   "counts all of its jobs)" if emp is None else
                                   _other_measure(table) if column == "balance_class"
                                   and not one_sided["area_class"] else ""))
    return summary


def _other_measure(table: pd.DataFrame) -> str:
    """Where the catchment measure (``balance_class``: one workplace's jobs against every
    worker in reach) is one-sided and the area measure is not: say which one to read."""
    counts = table["area_class"].value_counts()
    spread = ", ".join(f"{int(counts.get(c, 0))} {c}" for c in ("jobs_rich", "balanced", "housing_rich"))
    return (f"; area_class, which compares the jobs and the resident workers of the same area, "
            f"does ({spread})")


def _outside_share(geoms: np.ndarray, emp: Any, study: Study) -> float:
    """Share of workplaces whose representative point lies outside the area the
    employment layer covers (the raster's data cells, or the convex hull of the points)."""
    centre = shapely.point_on_surface(geoms)
    if study.employment_raster is not None:
        r = study.employment_raster
        inv = ~r.transform
        xy = shapely.get_coordinates(centre)
        cols = np.floor(inv.a * xy[:, 0] + inv.b * xy[:, 1] + inv.c).astype(int)
        rows = np.floor(inv.d * xy[:, 0] + inv.e * xy[:, 1] + inv.f).astype(int)
        h, w = r.data.shape
        ok = (rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)
        covered = np.zeros(len(xy), dtype=bool)
        covered[ok] = np.isfinite(r.data[rows[ok], cols[ok]])
        return float(1 - covered.mean())
    if len(emp.x) < 3:
        return 0.0
    hull = shapely.convex_hull(shapely.multipoints(np.column_stack([emp.x, emp.y])))
    return float(1 - shapely.covers(hull, centre).mean())


def _radius_distribution(radius: np.ndarray) -> list[dict[str, Any]]:
    """Workplaces per balance-radius band (for the atlas)."""
    bands = [(0, 2000), (2000, 5000), (5000, 10000), (10000, 20000), (20000, MAX_BALANCE_RADIUS_M)]
    out = [{"from_m": a, "to_m": b, "workplaces": int(((radius > a) & (radius <= b)).sum())}
           for a, b in bands]
    out.append({"from_m": None, "to_m": None, "workplaces": int(np.isnan(radius).sum())})
    return out


def _top_area(frame: pd.DataFrame, jobs_col: str) -> list[dict[str, Any]]:
    return [{"workplace_id": str(r["workplace_id"]), "name": str(r["name"]), "kind": str(r["kind"]),
             "area_jobs": float(r[jobs_col]), "workers": float(r["workers"]),
             "area_jhr": _num(r["area_jhr"]), "balance_radius_m": _num(r["balance_radius_m"]),
             **({"balance_minute": _num(r["balance_minute"])} if "balance_minute" in r else {})}
            for r in frame.head(TOP_N).to_dict("records")]


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
