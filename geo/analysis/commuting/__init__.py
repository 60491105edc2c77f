"""Commuting as observed (``layers.commuting``): the national commute indicators,
self-containment between districts and excess commuting.

Definitions (DESIGN.md, "Commuting"), exact so that a brute force can check them:

* A flow's **workplace** is the workplace polygon (zones, then innovation districts)
  covering its work end (its boundary included; the first in that order when several
  do), else the nearest workplace within ``network.max_access_m`` (default 1000 m;
  inclusive, ties: the first); flows with neither are "outside workplaces". Its home and
  work **districts** are the districts covering its ends (the first listed on a shared
  border).
* ``commute_m`` = straight-line length home end -> work end. With roads, ``commute_min``
  = travel time home end -> the flow's workplace (access + network + egress, read from
  the same searches as the t_min / t_max cost matrix: one per workplace) and
  ``commute_m`` = the length of that fastest route (access and egress legs straight; of
  equally fast routes the shortest; :func:`geo.network.home_routes`). Flows without a
  travel time (outside every workplace, or not connected) keep the straight line
  (counted in a warning; ``summary.commute_m_kind`` says ``network``).
* Shares are commuter-weighted: within 5 km = ``commute_m <= 5000``; within 45 minutes =
  ``commute_min <= 45``; over 60 minutes = ``commute_min > 60`` (time shares over the
  commuters with a travel time).
* t_obs, t_min, t_max and their ratios: :mod:`geo.analysis.commuting._excess`.

Modules
-------
``_assign``  workplace, districts and lengths of every flow
``_excess``  t_obs / t_min / t_max on one cost matrix (the shared transportation solver)
``_tables``  the output tables
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from geo._errors import CRSError
from geo._types import AnalysisResult, Study
from geo.analysis.balance import workplaces_from
from geo.analysis.commuting._assign import Assigned, assign, road_minutes_sets, with_routes
from geo.analysis.commuting._excess import Excess, cell_index, excess_commuting, origin_cells
from geo.analysis.commuting._tables import (
    BAND_LABELS,
    OVER_MIN,
    SECTORS,
    WITHIN_M,
    WITHIN_MIN,
    commuting_directions,
    commuting_districts,
    commuting_flows,
    commuting_sheds,
    commuting_workplaces,
)

__all__ = ["BAND_LABELS", "OVER_MIN", "SECTORS", "WITHIN_M", "WITHIN_MIN", "Assigned", "Excess", "assign",
           "cell_index", "excess_commuting", "run", "run_with_cells", "summary_row"]

log = logging.getLogger(__name__)

NAME = "commuting"
#: ``network.max_access_m`` when the settings have no network section.
DEFAULT_MAX_ACCESS_M = 1000.0


def _f(value) -> float | None:
    if value is None:
        return None
    v = float(value)
    return None if not np.isfinite(v) else v


def summary_row(w: np.ndarray, a: Assigned, ex: Excess) -> dict[str, Any]:
    """The ``commuting_summary`` values (one row; also run.json's summary)."""
    total = float(w.sum())
    assigned = a.workplace >= 0
    known = (a.home_district >= 0) & (a.work_district >= 0)
    row: dict[str, Any] = {
        "flows": len(w),
        "commuters": total,
        "commuters_in_workplaces": float(w[assigned].sum()),
        "commuters_outside_workplaces": float(w[~assigned].sum()),
        "mean_commute_m": _f(np.sum(w * a.commute_m) / total) if total > 0 else None,
        "mean_commute_min": None,
        "share_within_5km": _f(np.sum(w * (a.commute_m <= WITHIN_M)) / total) if total > 0 else None,
        "share_within_45min": None,
        "share_over_60min": None,
        "share_same_district": (_f(np.sum(w * (known & (a.home_district == a.work_district)))
                                   / np.sum(w * known)) if np.sum(w * known) > 0 else None),
        "t_obs": _f(ex.t_obs), "t_min": _f(ex.t_min), "t_max": _f(ex.t_max),
        "excess_commuting": _f(ex.excess_commuting),
        "commuting_potential_used": _f(ex.commuting_potential_used),
        "t_unit": "m",
        "commute_m_kind": "straight",
        "cell_m": ex.cell_m,
        "t_cells": ex.cells,
        "t_workplaces": ex.workplaces,
        "t_unreachable_pairs": ex.unreachable_pairs,
        "measured": "observed",
    }
    if a.commute_min is not None:
        timed = np.isfinite(a.commute_min)
        wt = float(w[timed].sum())
        t = a.commute_min[timed]
        row["t_unit"] = "min"
        row["commute_m_kind"] = "network"
        row["commuters_timed"] = wt
        if wt > 0:
            row["mean_commute_min"] = _f(np.sum(w[timed] * t) / wt)
            row["share_within_45min"] = _f(np.sum(w[timed] * (t <= WITHIN_MIN)) / wt)
            row["share_over_60min"] = _f(np.sum(w[timed] * (t > OVER_MIN)) / wt)
    return row


def run(study: Study, settings: Any) -> AnalysisResult:
    """Run the commuting analysis on ``study.commuting``.

    Parameters
    ----------
    study : Study
        Validated inputs; ``commuting`` (flows in the working CRS) is required, ``network``
        (a :class:`geo.network.RoadGraph`) optional.
    settings : Settings
        ``commuting.cell_m``; ``network.max_access_m`` and ``network.access_speed_kmh``
        when present.

    Returns
    -------
    AnalysisResult
        ``tables``: ``commuting_workplaces`` (polygons), ``commuting_districts`` (polygons)
        and ``commuting_flows`` (lines) when districts are given, ``commuting_sheds``
        (points), ``commuting_directions``, ``commuting_summary`` (one row).
    """
    return run_with_cells(study, settings)[0]


def run_with_cells(study: Study, settings: Any, cell_sets: Sequence[tuple[np.ndarray, np.ndarray]] = (),
                   readers: Sequence = ()) -> tuple[AnalysisResult, list[np.ndarray] | None]:
    """:func:`run`, and with roads the travel minutes of other cost matrices read from its
    searches (one complete search per workplace, which the flows' routes need anyway):
    ``cell_sets`` holds ``(cells_xy, used)`` pairs (cell centres as homes, positions of
    workplaces in :func:`~geo.analysis.balance.workplaces_from` order); the matrices
    (cells × used, NaN where not reachable) are those :func:`geo.network.home_times` gives
    from one search per workplace, to the last bit. None without roads. ``readers`` are
    given those searches too (:func:`geo.network.home_routes`), e.g. a
    :class:`geo.network.LinkReader` of the collaboration's partner pairs.
    """
    flows = study.commuting
    if flows is None:
        raise ValueError("commuting: the study has no layers.commuting")
    if study.zones.crs is None or not study.zones.crs.is_projected:
        raise CRSError(f"commuting: layers must be in a projected CRS in metres (got {study.zones.crs})")
    net_cfg = getattr(settings, "network", None)
    max_access_m = float(getattr(net_cfg, "max_access_m", DEFAULT_MAX_ACCESS_M))
    access_speed = float(getattr(net_cfg, "access_speed_kmh", 5.0))
    cell_m = float(settings.commuting.cell_m)
    graph = getattr(study, "network", None)

    workplaces = workplaces_from(study.zones, study.innovation_districts)
    geoms = workplaces.geometry.to_numpy()
    districts = study.districts
    a = assign(flows, geoms, None if districts is None else districts.geometry.to_numpy(),
               max_access_m=max_access_m)
    w = flows["commuters"].to_numpy(float)
    hx, hy = flows["home_x"].to_numpy(float), flows["home_y"].to_numpy(float)
    wx, wy = flows["work_x"].to_numpy(float), flows["work_y"].to_numpy(float)

    cells = origin_cells(hx, hy, a.workplace, w, cell_m=cell_m)
    cost_fn = None
    extra = None
    if graph is not None:
        # one search per workplace gives both the flows' times and the cells' cost matrix
        own = [] if cells is None else [(np.column_stack([cells.cx, cells.cy]), cells.used)]
        minutes, costs, metres = road_minutes_sets(graph, hx, hy, a.workplace, geoms, own + list(cell_sets),
                                                   max_access_m=max_access_m, access_speed_kmh=access_speed,
                                                   readers=readers)
        cell_cost = costs[0] if own else None
        extra = costs[len(own):]
        a = with_routes(a, minutes, metres)

        def cost_fn(cx, cy, used):
            return cell_cost
    ex = excess_commuting(hx, hy, a.workplace, w, geoms, cell_m=cell_m, cost_fn=cost_fn, cells=cells)

    tables: dict[str, pd.DataFrame] = {"commuting_workplaces": commuting_workplaces(workplaces, w, a)}
    if districts is not None:
        tables["commuting_districts"] = commuting_districts(districts, w, a)
        tables["commuting_flows"] = commuting_flows(districts, w, a)
    tables["commuting_sheds"] = commuting_sheds(workplaces, hx, hy, w, a, ex.cell_m if ex.cells else cell_m)
    tables["commuting_directions"] = commuting_directions(workplaces, hx, hy, wx, wy, w, a)
    summary = summary_row(w, a, ex)
    tables["commuting_summary"] = pd.DataFrame([summary])

    warnings: list[str] = []
    outside = summary["commuters_outside_workplaces"]
    if outside > 0:
        n_out = int((a.workplace < 0).sum())
        warnings.append(f"commuting: {n_out} flows ({outside:g} commuters) end outside every workplace and "
                        f"farther than {max_access_m:g} m from one; they count in the district and city "
                        "indicators, not in commuting_workplaces nor t_obs / t_min / t_max"
                        + ("; with roads their commute_m stays the straight line" if graph is not None else ""))
    if districts is not None:
        for name, arr in (("home", a.home_district), ("work", a.work_district)):
            miss = arr < 0
            if miss.any():
                warnings.append(f"commuting: {int(miss.sum())} flows have their {name} end outside every "
                                "district; they count in no district")
    if a.commute_min is not None:
        untimed = (a.workplace >= 0) & ~np.isfinite(a.commute_min)
        if untimed.any():
            warnings.append(f"commuting: {int(untimed.sum())} flows to a workplace have no travel time "
                            "(home or workplace not connected to the roads); the minute shares leave them out "
                            "and their commute_m stays the straight line")
    if ex.unreachable_pairs:
        warnings.append(f"commuting: {ex.unreachable_pairs} cell -> workplace pairs are not connected by "
                        "roads; t_min / t_max count them at the longest travel time of the matrix")
    for message in warnings:
        log.warning(message)
    return AnalysisResult(name=NAME, tables=tables, summary=summary, warnings=warnings), extra
