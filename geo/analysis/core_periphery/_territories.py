"""Pole territories: each growth pole with the periphery zones attached to it, merged.

Drawn by ``core_periphery.html``, carried by the QGIS package and shown by the print figure,
so the three show the same shapes. Zones grow by :func:`territory_buffer_m`, are merged per
pole and shrink back by half: neighbouring zones of one pole join, at any study scale.
"""

from __future__ import annotations

from collections.abc import Iterable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

#: Zones grow by at least this before they merge into a territory (then shrink by half).
TERRITORY_BUFFER_M = 600.0


def territory_buffer_m(geoms: gpd.GeoSeries) -> float:
    """How far zones grow to merge into a territory: 0.6 × the median distance between
    neighbouring zone centres (at least :data:`TERRITORY_BUFFER_M`)."""
    from scipy.spatial import cKDTree

    pts = shapely.get_coordinates(shapely.centroid(np.asarray(geoms.values, dtype=object)))
    if len(pts) < 2:
        return TERRITORY_BUFFER_M
    dist, _ = cKDTree(pts).query(pts, k=2)
    return max(TERRITORY_BUFFER_M, 0.6 * float(np.median(dist[:, 1])))


def pole_territories(zones: gpd.GeoDataFrame, poles: Iterable[str] | None = None) -> gpd.GeoDataFrame | None:
    """The territory of each pole of the table ``core_periphery_zones``: its own zone and the
    zones attached to it (isolated zones belong to none), merged.

    Parameters
    ----------
    zones
        ``core_periphery_zones`` (``zone_id``, ``role``, ``core_id``; ``strategy`` and
        ``name`` when present).
    poles
        Only these poles (e.g. those with a colour of their own); default every pole.

    Returns
    -------
    GeoDataFrame or None
        ``core_id, name, periphery_count, geometry`` in the zones' CRS, one row per pole
        (ordered by ``core_id``); None without any.
    """
    if zones is None or not len(zones) or "role" not in zones:
        return None
    role = zones["role"].astype(str).to_numpy()
    strategy = (zones["strategy"].astype(str) if "strategy" in zones else pd.Series("", zones.index)).to_numpy()
    core_id = zones["core_id"] if "core_id" in zones else zones["zone_id"]
    key = np.where(role == "core", zones["zone_id"].astype(str), core_id.astype(str))
    member = strategy != "isolated"
    if not member.any():
        return None
    terr = gpd.GeoDataFrame({"core_id": key[member]}, geometry=zones.geometry.values[member], crs=zones.crs)
    terr = terr.dissolve("core_id").reset_index()
    grow = territory_buffer_m(zones.geometry)
    terr["geometry"] = terr.geometry.buffer(grow, quad_segs=4).buffer(-grow / 2, quad_segs=4)
    if poles is not None:
        terr = terr[terr["core_id"].isin({str(p) for p in poles})]
    if terr.empty:
        return None
    terr = terr.reset_index(drop=True)
    names = dict(zip(zones["zone_id"].astype(str), zones["name"].astype(str))) if "name" in zones else {}
    terr.insert(1, "name", [names.get(k, k) for k in terr["core_id"]])
    attached = pd.Series(key[member & (role != "core")]).value_counts()
    terr.insert(2, "periphery_count", [int(attached.get(k, 0)) for k in terr["core_id"]])
    return terr
