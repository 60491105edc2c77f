"""The commuting tables: per workplace, per district, district to district, sheds, directions.

All sums are commuter-weighted group sums (``np.bincount``) over the per-flow arrays of
:class:`geo.analysis.commuting._assign.Assigned`; no loop over flows.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.analysis.commuting._assign import Assigned
from geo.analysis.commuting._excess import cell_index, unique_keys

#: The national reference shares are "within 5 km", "within 45 minutes", "over 60 minutes".
WITHIN_M = 5000.0
WITHIN_MIN = 45.0
OVER_MIN = 60.0
#: Distance bands of the distance/direction table (km, upper bound inclusive).
BANDS_KM = (5.0, 10.0, 25.0, 50.0)
BAND_LABELS = ("0-5", "5-10", "10-25", "25-50", "50+")
#: Compass sectors (45° each, centred on north), from the workplace towards the home.
SECTORS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")


def _sums(groups: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    ok = groups >= 0
    return np.bincount(groups[ok], weights=values[ok], minlength=n)[:n]


def _div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1.0), np.nan)


def _shares(group: np.ndarray, n: int, w: np.ndarray, a: Assigned) -> dict[str, np.ndarray]:
    """Commuter-weighted means and shares per group (group -1: left out)."""
    total = _sums(group, w, n)
    out = {
        "commuters": total,
        "mean_commute_m": _div(_sums(group, w * a.commute_m, n), total),
        "share_within_5km": _div(_sums(group, w * (a.commute_m <= WITHIN_M), n), total),
    }
    if a.commute_min is not None:
        known = np.isfinite(a.commute_min)
        t = np.where(known, a.commute_min, 0.0)
        timed = _sums(group, w * known, n)
        out["mean_commute_min"] = _div(_sums(group, w * t, n), timed)
        out["share_within_45min"] = _div(_sums(group, w * (known & (t <= WITHIN_MIN)), n), timed)
        out["share_over_60min"] = _div(_sums(group, w * (known & (t > OVER_MIN)), n), timed)
    else:
        out["mean_commute_min"] = np.full(n, np.nan)
        out["share_within_45min"] = np.full(n, np.nan)
        out["share_over_60min"] = np.full(n, np.nan)
    return out


def commuting_workplaces(workplaces: gpd.GeoDataFrame, w: np.ndarray, a: Assigned) -> gpd.GeoDataFrame:
    """One row per workplace: its commuters and their commutes (polygons)."""
    n = len(workplaces)
    s = _shares(a.workplace, n, w, a)
    known = (a.home_district >= 0) & (a.work_district >= 0)
    same = known & (a.home_district == a.work_district)
    same_share = _div(_sums(a.workplace, w * same, n), _sums(a.workplace, w * known, n))
    frame = pd.DataFrame({
        "workplace_id": workplaces["workplace_id"].to_numpy(),
        "kind": workplaces["kind"].to_numpy(),
        "name": workplaces["name"].to_numpy(),
        "district_id": workplaces["district_id"].to_numpy(),
        "jobs": workplaces["jobs"].to_numpy(float),
        "commuters": s["commuters"],
        "mean_commute_m": s["mean_commute_m"],
        "mean_commute_min": s["mean_commute_min"],
        "share_within_5km": s["share_within_5km"],
        "share_within_45min": s["share_within_45min"],
        "share_over_60min": s["share_over_60min"],
        "share_same_district": same_share,
    })
    return gpd.GeoDataFrame(frame, geometry=workplaces.geometry.to_numpy(), crs=workplaces.crs)


def commuting_districts(districts: gpd.GeoDataFrame, w: np.ndarray, a: Assigned) -> pd.DataFrame:
    """resident_commuters, job_commuters, internal, self_containment, job_self_sufficiency."""
    n = len(districts)
    resident = _sums(a.home_district, w, n)
    jobs = _sums(a.work_district, w, n)
    internal = _sums(np.where(a.home_district == a.work_district, a.home_district, -1), w, n)
    frame = pd.DataFrame({
        "district_id": districts["district_id"].to_numpy(),
        "name": districts["name"].to_numpy(),
        "resident_commuters": resident,
        "job_commuters": jobs,
        "internal": internal,
        "self_containment": _div(internal, resident),
        "job_self_sufficiency": _div(internal, jobs),
        "mean_commute_m": _div(_sums(a.home_district, w * a.commute_m, n), resident),
    })
    return gpd.GeoDataFrame(frame, geometry=districts.geometry.to_numpy(), crs=districts.crs)


def commuting_flows(districts: gpd.GeoDataFrame, w: np.ndarray, a: Assigned) -> gpd.GeoDataFrame:
    """Home district -> work district (different districts only), lines between the districts'
    representative points, the largest flow first."""
    n = len(districts)
    ok = (a.home_district >= 0) & (a.work_district >= 0) & (a.home_district != a.work_district)
    key = np.where(ok, a.home_district * n + a.work_district, -1)
    total = _sums(key, w, n * n)
    length = _sums(key, w * a.commute_m, n * n)
    pair = np.flatnonzero(total > 0)
    da, db = pair // n, pair % n
    ids = districts["district_id"].to_numpy(dtype=object)
    anchor = shapely.point_on_surface(districts.geometry.to_numpy())
    ax, ay = shapely.get_x(anchor), shapely.get_y(anchor)
    lines = shapely.linestrings(np.stack([np.column_stack([ax[da], ay[da]]),
                                          np.column_stack([ax[db], ay[db]])], axis=1))
    frame = pd.DataFrame({"district_a": ids[da], "district_b": ids[db], "commuters": total[pair],
                          "mean_commute_m": length[pair] / total[pair]})
    order = np.lexsort((frame["district_b"].astype(str), frame["district_a"].astype(str), -frame["commuters"]))
    frame = frame.iloc[order].reset_index(drop=True)
    frame["rank"] = np.arange(1, len(frame) + 1)
    return gpd.GeoDataFrame(frame, geometry=lines[order], crs=districts.crs)


def commuting_sheds(workplaces: gpd.GeoDataFrame, hx: np.ndarray, hy: np.ndarray, w: np.ndarray,
                    a: Assigned, cell_m: float) -> gpd.GeoDataFrame:
    """Commute shed of each workplace: its commuters by home cell (points at cell centres)."""
    sel = (a.workplace >= 0) & (w > 0)
    cpos, cx, cy = cell_index(hx[sel], hy[sel], cell_m)
    nc = max(len(cx), 1)
    key = a.workplace[sel].astype(np.int64) * nc + cpos
    uniq, inv = unique_keys(key)
    inv = inv.ravel()
    total = np.bincount(inv, weights=w[sel], minlength=len(uniq))
    length = np.bincount(inv, weights=w[sel] * a.commute_m[sel], minlength=len(uniq))
    wp, cell = uniq // nc, uniq % nc
    frame = pd.DataFrame({"workplace_id": workplaces["workplace_id"].to_numpy()[wp],
                          "cell_x": cx[cell], "cell_y": cy[cell], "commuters": total,
                          "mean_commute_m": length / total})
    # one point per distinct cell, shared by its rows (geometries are immutable)
    return gpd.GeoDataFrame(frame, geometry=shapely.points(cx, cy)[cell], crs=workplaces.crs)


def commuting_directions(workplaces: gpd.GeoDataFrame, hx: np.ndarray, hy: np.ndarray, wx: np.ndarray,
                         wy: np.ndarray, w: np.ndarray, a: Assigned) -> pd.DataFrame:
    """Commuters of each workplace by distance band and compass direction (work end -> home)."""
    sel = (a.workplace >= 0) & (w > 0)
    dx, dy = hx[sel] - wx[sel], hy[sel] - wy[sel]
    bearing = np.degrees(np.arctan2(dx, dy)) % 360.0          # 0 = north, clockwise
    sector = np.floor(((bearing + 22.5) % 360.0) / 45.0).astype(np.int64)
    band = np.searchsorted(np.asarray(BANDS_KM) * 1000.0, a.commute_m[sel], side="left")
    ns, nb = len(SECTORS), len(BAND_LABELS)
    key = (a.workplace[sel].astype(np.int64) * ns + sector) * nb + band
    uniq, inv = unique_keys(key)
    total = np.bincount(inv.ravel(), weights=w[sel], minlength=len(uniq))
    wp, rest = uniq // (ns * nb), uniq % (ns * nb)
    return pd.DataFrame({"workplace_id": workplaces["workplace_id"].to_numpy()[wp],
                         "direction": np.asarray(SECTORS)[rest // nb],
                         "band_km": np.asarray(BAND_LABELS)[rest % nb],
                         "commuters": total})
