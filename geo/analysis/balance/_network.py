"""The balance in travel minutes on the road network (DESIGN.md "Roads and travel time",
"Balance a planner can defend").

With ``layers.roads`` every workplace also gets, for each horizon ``m`` of
``balance.minutes`` (and the primary ``balance.minute``):

* ``workers_<m>min`` – resident workers whose home → workplace travel time (access +
  shortest directed network time + egress, one-way streets respected) is ≤ m minutes;
* ``area_jobs_<m>min`` – the jobs of everything that reaches the workplace within m
  minutes as its resident workers do: its own jobs, plus the jobs of every other
  workplace (at its representative point) and of the employment points (or cells) whose
  travel time to it, as a home's, is ≤ m; ``area_jhr_<m>min`` = ``area_jobs_<m>min`` /
  ``workers_<m>min``;
* ``balance_minute`` – the smallest horizon, in steps of :data:`MINUTE_STEP` minutes up to
  :data:`MAX_BALANCE_MINUTE`, at which the area ratio is at most the upper bound of the
  balanced range (empty when never reached); the steps beyond the largest reported
  horizon are searched only for the workplaces not balanced by then;
* on the primary horizon, competition-aware ``workers_shared`` (each home's workers split
  among the workplaces within reach in proportion to their jobs);
* ``balance_isochrones`` – the area reached within the primary horizon (drawn from the
  reached nodes, :func:`geo.network.isochrone_polygons`);
* ``theoretical_min_commute_min`` – the potential transportation problem of DESIGN.md
  "Commuting" (resident workers per cell → jobs per workplace) with cost = travel time
  from the cell centre, as a home, to the workplace (:mod:`geo.analysis.balance._mincommute`;
  a run solves it beside the balance, from the commuting's searches when it has an OD table).

A workplace with no road node inside or within ``network.max_access_m`` is not connected:
its network columns are empty.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely

import geo.network as gn
from geo.analysis.balance._area import area_sums, employment_points, first_balanced
from geo.analysis.balance._mincommute import PARALLEL_WORK, cell_minutes, cells_from, mean_min_commute
from geo.analysis.balance._potential import CELL_M

log = logging.getLogger(__name__)

#: Step (minutes) of the balance-minute search.
MINUTE_STEP = 5.0

#: The balance-minute search stops here (minutes).
MAX_BALANCE_MINUTE = 90.0


def minute_column(minute: float, prefix: str = "workers") -> str:
    """Column of a travel-time horizon: ``workers_30min``, ``area_jhr_7.5min``.

    Examples
    --------
    >>> minute_column(30.0)
    'workers_30min'
    >>> minute_column(7.5, "area_jhr")
    'area_jhr_7.5min'
    """
    m = float(minute)
    return f"{prefix}_{int(m)}min" if m.is_integer() else f"{prefix}_{m:g}min"


def minute_steps(step: float = MINUTE_STEP, max_minute: float = MAX_BALANCE_MINUTE) -> np.ndarray:
    """Horizons searched for the balance minute: ``5, 10, ..., 90``.

    Examples
    --------
    >>> minute_steps(5.0, 20.0).tolist()
    [5.0, 10.0, 15.0, 20.0]
    """
    n = int(np.floor(max_minute / step + 1e-9))
    return step * np.arange(1, n + 1, dtype=float)


@dataclass
class NetworkBalance:
    """Per-workplace results on the road network (rows in workplace order)."""

    minutes: list[float]
    primary: float
    workers: np.ndarray            # (W, len(minutes))
    area_jobs: np.ndarray          # (W, len(minutes))
    area_jhr: np.ndarray           # (W, len(minutes))
    balance_minute: np.ndarray     # (W,)
    shared: np.ndarray             # (W,) on the primary horizon
    connected: np.ndarray          # (W,) bool
    housing_connected: float       # share of resident workers whose home joins the network
    isochrones: np.ndarray         # (W,) polygons within the primary horizon
    min_commute_min: float | None
    min_commute_cell_m: float | None

    def column(self, minute: float) -> int:
        return self.minutes.index(float(minute))


def network_balance(study: Any, net: Any, minutes: list[float], primary: float,
                    geoms: np.ndarray, jobs: np.ndarray, x: np.ndarray, y: np.ndarray,
                    workers: np.ndarray, upper: float, *, min_commute: bool = True,
                    cell_m: float = CELL_M) -> NetworkBalance:
    """Every balance measure in minutes on ``study.network``.

    Parameters
    ----------
    study : Study
        With ``network`` (a :class:`geo.network.RoadGraph`); ``employment`` /
        ``employment_raster`` are counted in the area jobs.
    net : NetworkSettings
        ``access_speed_kmh`` and ``max_access_m``.
    minutes : list of float
        Horizons (ascending, the primary one included).
    primary : float
        The primary horizon.
    geoms, jobs : ndarray
        Workplace polygons and jobs.
    x, y, workers : ndarray
        Resident-worker points (as the straight-line measures use them).
    upper : float
        Upper bound of the balanced range (for ``balance_minute``).
    min_commute : bool, default True
        Also solve ``theoretical_min_commute_min`` (:mod:`geo.analysis.balance._mincommute`);
        without it, it and its cell size are None (a run computes it beside the balance).
    cell_m : float
        Side of its home cells (``commuting.cell_m``; doubled while the problem is too large).
    """
    graph = study.network
    kw = dict(access_speed_kmh=net.access_speed_kmh, max_access_m=net.max_access_m)
    n_jobs = gn.default_jobs() if len(geoms) * graph.n_nodes > PARALLEL_WORK else 1
    emp = employment_points(study.employment, study.employment_raster)
    if emp is not None and not len(emp.x):
        emp = None
    xy = np.column_stack([x, y])
    steps = minute_steps()
    # stage 1, every workplace: the reported horizons and the balance steps up to the largest
    horizons = sorted(set(minutes) | set(steps[steps <= max(minutes)].tolist()))
    entries = workplace_entries_of(study, graph, geoms, kw)
    one = _area_pass(graph, kw, geoms, jobs, xy, workers, emp, np.arange(len(geoms)), horizons, primary,
                     n_jobs, entries)
    connected = one.connected
    h_of = {h: k for k, h in enumerate(horizons)}
    early = steps[steps <= max(minutes)]
    balance_minute = (first_balanced(one.area_jhr[:, [h_of[v] for v in early.tolist()]], early, upper)
                      if len(early) else np.full(len(geoms), np.nan))
    # stage 2, only the workplaces not yet balanced: the longer steps
    late = steps[steps > max(minutes)]
    todo = np.flatnonzero(connected & np.isnan(balance_minute))
    if len(late) and len(todo):
        two = _area_pass(graph, kw, geoms, jobs, xy, workers, emp, todo, late.tolist(), None, n_jobs,
                         gn.subset_entries(entries, todo))
        balance_minute[todo] = first_balanced(two.area_jhr, late, upper)
    log.info("balance minute: %d of %d workplaces searched beyond %g minutes", len(todo), len(geoms),
             max(minutes))
    shared = np.round(gn.workers_shared_within(graph, xy, workers, geoms, jobs, primary, n_jobs=n_jobs,
                                               entries=entries, **kw), 6)
    isochrones = gn.isochrone_polygons(graph, one.reached, geoms)
    cols = [h_of[float(m)] for m in minutes]
    total = float(np.sum(workers))
    joined = float(np.sum(workers[one.housing_connected])) / total if total > 0 else 1.0
    mean_min, cell = None, None
    if min_commute:
        cells = cells_from(x, y, workers, jobs, entries.connected, cell_m)
        mean_min = None if cells.empty else mean_min_commute(cells, cell_minutes(graph, cells, geoms, kw))
        cell = cells.cell_m
    return NetworkBalance(minutes=[float(m) for m in minutes], primary=float(primary),
                          workers=one.workers[:, cols], area_jobs=np.round(one.area_jobs[:, cols], 6),
                          area_jhr=one.area_jhr[:, cols], balance_minute=balance_minute, shared=shared,
                          connected=connected, housing_connected=joined, isochrones=isochrones,
                          min_commute_min=mean_min, min_commute_cell_m=cell)


def workplace_entries_of(study: Any, graph: Any, geoms: np.ndarray, kw: dict) -> Any:
    """Entries of the workplaces; when they are the zones then the innovation districts
    (as :func:`workplaces_from` orders them), from the entries of each layer, which the
    load's connection check already computed (and the graph remembers, then for the
    whole set too: the commuting's searches ask for them again)."""
    parts = [np.asarray(f.geometry.values, dtype=object)
             for f in (getattr(study, "zones", None), getattr(study, "innovation_districts", None))
             if f is not None and len(f)]
    if parts and sum(len(p) for p in parts) == len(geoms):
        if bool(np.all(shapely.equals_exact(np.concatenate(parts), geoms, tolerance=0.0))):
            return gn.workplace_entries(graph, geoms, parts=parts, **kw)
    return gn.workplace_entries(graph, geoms, **kw)


@dataclass
class _Pass:
    workers: np.ndarray
    area_jobs: np.ndarray
    area_jhr: np.ndarray
    connected: np.ndarray
    housing_connected: np.ndarray
    reached: list | None


def _area_pass(graph: Any, kw: dict, geoms: np.ndarray, jobs: np.ndarray, xy: np.ndarray,
               workers: np.ndarray, emp: Any, sel: np.ndarray, horizons: list[float],
               primary: float | None, n_jobs: int, entries: Any) -> _Pass:
    """Workers, area jobs and area ratio of the workplaces ``sel`` at ``horizons``.

    Area jobs: the workplace's own jobs, plus the jobs of every other workplace (at its
    representative point) and of every employment point whose travel time to the
    workplace, as a home's, is within the horizon: everything that reaches the workplace
    within m minutes as its resident workers do. Both kinds of points are summed in one
    search per workplace; the workplace's own point is taken out again where it counted
    (:func:`_own_point_minutes`), since its own jobs always count.
    """
    targets = geoms[sel]
    rep = shapely.get_coordinates(shapely.point_on_surface(geoms))
    pts, wts = rep, jobs
    if emp is not None:
        pts = np.vstack([rep, np.column_stack([emp.x, emp.y])])
        wts = np.concatenate([jobs, emp.jobs])
    # one search per workplace, read for the homes and for the job points
    res, er = gn.workers_within_minutes_sets(graph, [(xy, workers), (pts, wts)], targets, horizons,
                                             primary_minute=primary, n_jobs=n_jobs, entries=entries, **kw)
    w = np.round(res.workers, 6)
    own_t = _own_point_minutes(graph, kw, rep[sel], targets, entries, horizons)
    own_in = own_t[:, None] <= np.asarray(horizons)[None, :] + gn.TIME_TOLERANCE_MIN
    own = jobs[sel][:, None] * (1.0 - own_in)        # own jobs where its point did not count
    area_jobs, area_jhr = area_sums(own, np.round(np.nan_to_num(er.workers), 6), np.nan_to_num(w))
    area_jobs[~res.connected] = np.nan
    area_jhr[~res.connected] = np.nan
    return _Pass(w, area_jobs, area_jhr, res.connected, res.housing_connected, res.reached)


def _own_point_minutes(graph: Any, kw: dict, rep: np.ndarray, targets: np.ndarray, entries: Any,
                       horizons: list[float]) -> np.ndarray:
    """Travel minutes from each workplace's representative point to the workplace itself
    (``inf`` when the point does not join the network).

    The point joins at its nearest node n, which lies within ``max_access_m`` of the
    polygon and so is one of its entries: the time lies between the access time and
    access + egress(n). Only where a horizon falls in between is it searched exactly.
    """
    acc = gn.housing_access(graph, rep, **kw)
    if entries is None:
        entries = gn.workplace_entries(graph, targets, **kw)
    rows = np.arange(len(targets))          # entries are those of ``targets``, in order
    n_nodes = np.int64(graph.n_nodes)
    keys = entries.owner().astype(np.int64) * n_nodes + entries.node      # ascending
    want = rows.astype(np.int64) * n_nodes + acc.node
    k = np.minimum(np.searchsorted(keys, want), max(len(keys) - 1, 0))
    found = (acc.node >= 0) & (len(keys) > 0) & (keys[k] == want) if len(keys) else np.zeros(len(rep), bool)
    lower = np.where(acc.node >= 0, acc.access_min, np.inf)
    upper = np.where(found, acc.access_min + (entries.egress_min[k] if len(keys) else 0.0), np.inf)
    thr = np.asarray(horizons, dtype=float)[None, :] + gn.TIME_TOLERANCE_MIN
    unsure = np.flatnonzero(((lower[:, None] <= thr) & (upper[:, None] > thr)).any(axis=1))
    out = upper.copy()
    if len(unsure):
        exact = gn.home_times(graph, rep[unsure], targets[unsure],
                              pairs=np.column_stack([np.arange(len(unsure))] * 2),
                              entries=gn.subset_entries(entries, unsure), **kw)
        out[unsure] = np.nan_to_num(exact, nan=np.inf)
    return out


def isochrone_table(table: Any, result: NetworkBalance, crs: Any) -> Any:
    """Layer ``balance_isochrones``: one polygon per connected workplace, the area reached
    within the primary horizon (``workplace_id``, ``kind``, ``name``, ``minute``,
    ``workers`` within it)."""
    import geopandas as gpd

    keep = result.connected
    frame = table.loc[keep, ["workplace_id", "kind", "name"]].reset_index(drop=True)
    frame["minute"] = result.primary
    frame["workers"] = result.workers[keep, result.column(result.primary)]
    return gpd.GeoDataFrame(frame, geometry=list(result.isochrones[keep]), crs=crs)


def network_summary(result: NetworkBalance | None, reach: str) -> dict[str, Any]:
    """Summary keys of the balance in minutes for run.json (docs/outputs.md)."""
    out: dict[str, Any] = {"reach": reach}
    if result is None:
        return out
    bm = result.balance_minute
    hit = ~np.isnan(bm)
    out.update({
        "minute": result.primary,
        "minutes": result.minutes,
        "workplaces_connected": int(result.connected.sum()),
        "housing_connected_share": float(result.housing_connected),
        "minute_step": MINUTE_STEP,
        "balance_minute_max": MAX_BALANCE_MINUTE,
        "balance_minute_reached": int(hit.sum()),
        "balance_minute_median": float(np.median(bm[hit])) if hit.any() else None,
        "theoretical_min_commute_min": result.min_commute_min,
        "theoretical_min_commute_min_cell_m": result.min_commute_cell_m,
    })
    return out
