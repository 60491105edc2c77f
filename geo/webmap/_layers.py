"""Frames → compact, escaped GeoJSON overlays for Leaflet.

Geometries are simplified in the projected working CRS (a few metres: what the map's
zoom range can show), reprojected to EPSG:4326, optionally shifted to GCJ-02 for AMap
tiles (display only), and rounded to 6 decimals (~0.1 m). Properties are limited to the
fields a popup, tooltip or the search uses. Dense layers (housing) are aggregated to a
hexagon grid. Nothing here loops over features in Python except JSON encoding.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geo.webmap._assets import escape_json_text, json_for_script
from geo.webmap._controls import _Call

#: Simplification tolerance for zone-scale polygons (metres in the working CRS).
ZONE_TOLERANCE_M = 5.0
#: Simplification tolerance of the district boundaries (metres in the working CRS): the
#: analysis maps and compare.html alike.
DISTRICT_TOLERANCE_M = 20.0
COORD_DECIMALS = 6


def _touches_antimeridian(crs: CRS | str) -> bool:
    """A working CRS whose area of use reaches the 180° meridian (UTM 1 and 60, ...)."""
    area = CRS.from_user_input(crs).area_of_use
    return area is not None and (area.east >= 179.0 or area.west <= -179.0) and (area.east - area.west) < 90


@dataclass(frozen=True)
class Display:
    """How frames become map coordinates: source CRS and the AMap datum shift."""

    crs: CRS
    gcj02: bool = False

    def geometries(self, geoms: Any, tolerance_m: float = ZONE_TOLERANCE_M) -> np.ndarray:
        """Simplified, reprojected (and shifted), rounded geometries as an object array."""
        arr = np.asarray(getattr(geoms, "values", geoms), dtype=object)
        if tolerance_m > 0:
            arr = shapely.simplify(arr, tolerance_m, preserve_topology=True)
        out = gpd.GeoSeries(arr, crs=self.crs).to_crs(4326).values
        out = np.asarray(out, dtype=object)
        if _touches_antimeridian(self.crs):
            # a study across the 180° meridian: longitudes 0..360 keep shapes whole on the map
            out = shapely.transform(out, lambda c: np.column_stack(
                [np.where(c[:, 0] < 0, c[:, 0] + 360, c[:, 0]), c[:, 1]]))
        if self.gcj02:
            from geo._coords import transform_geometries, wgs84_to_gcj02

            out = transform_geometries(out, wgs84_to_gcj02)
        return shapely.transform(out, lambda c: np.round(c, COORD_DECIMALS))

    def bounds(self, frames: Sequence[gpd.GeoDataFrame | None]) -> list[list[float]]:
        """``[[south, west], [north, east]]`` of the frames on the map."""
        boxes = [f.total_bounds for f in frames if f is not None and len(f)]
        if not boxes:
            return [[-60.0, -170.0], [75.0, 170.0]]
        b = np.array(boxes)
        box = shapely.box(b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max())
        xmin, ymin, xmax, ymax = self.geometries([box], 0)[0].bounds
        return [[ymin, xmin], [ymax, xmax]]


def _clean_value(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(value):
            return None
        value = float(value)
        if value.is_integer():
            return value
        return round(value, 3) if abs(value) >= 1 else float(f"{value:.4g}")
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (int, str)):
        return value
    if pd.isna(value):
        return None
    return str(value)


def _json_float(value: float) -> str:
    """JSON of a finite float as :func:`_clean_value` keeps it."""
    if not value.is_integer():
        value = round(value, 3) if abs(value) >= 1 else float(f"{value:.4g}")
    return repr(value)


def _json_values(column: pd.Series) -> list[str]:
    """The JSON text of each value of ``column`` after :func:`_clean_value`."""
    dtype = column.dtype
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        values = column.to_numpy()
        finite = np.isfinite(values).tolist()
        return [_json_float(v) if ok else "null" for v, ok in zip(values.astype(float).tolist(), finite)]
    if isinstance(dtype, np.dtype) and dtype.kind in "iu":
        return [str(v) for v in column.to_numpy().tolist()]
    if isinstance(dtype, np.dtype) and dtype.kind == "b":
        return ["true" if v else "false" for v in column.to_numpy().tolist()]
    return [encode_basestring(v) if type(v) is str else
            json.dumps(_clean_value(v), ensure_ascii=False, allow_nan=False)
            for v in column.to_numpy(dtype=object)]


def feature_collection(geoms: np.ndarray, props: pd.DataFrame | None = None,
                       style_index: np.ndarray | None = None) -> tuple[str, int]:
    """GeoJSON FeatureCollection text (safe for ``<script>``) and its feature count.

    Features with a missing or empty geometry are left out.
    """
    geoms = np.asarray(geoms, dtype=object)
    n = len(geoms)
    keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms)) if n else np.zeros(0, bool)
    geo_text = shapely.to_geojson(geoms[keep]) if keep.any() else np.array([], dtype=object)
    # properties column by column (what json.dumps of each feature's dict gives, 5x faster)
    columns: list[list[str]] = []
    if props is not None and len(props.columns):
        for col in props.columns:
            key = json.dumps(str(col), ensure_ascii=False) + ":"
            columns.append([key + text for text in _json_values(props[col])])
    if style_index is not None:
        columns.append(['"_s":' + str(int(s)) for s in np.asarray(style_index).tolist()])
    records = ["{" + ",".join(row) + "}" for row in zip(*columns)] if columns else ["{}"] * n
    kept = [r for r, k in zip(records, keep) if k]
    parts = ['{"type":"Feature","properties":' + r + ',"geometry":' + g + "}" for r, g in zip(kept, geo_text)]
    text = '{"type":"FeatureCollection","features":[' + ",".join(parts) + "]}"
    return escape_json_text(text), len(parts)


class GeoJsonLayer(_Call):
    """One overlay: GeoJSON data, a list of styles indexed by the feature's ``_s``.

    Parameters
    ----------
    layer_id : str
        Key in ``zoneatlas.overlays`` and the SVG class ``za-l-<id>``.
    data : str
        FeatureCollection text from :func:`feature_collection`.
    count : int
        Number of features.
    styles : list of dict
        Leaflet path options; a feature uses ``styles[properties._s]``.
    tooltip, popup : list of (field, label, format)
        Fields shown (formats: text, int, people, km, pct, ratio, num, cat, bool).
    """

    def __init__(self, layer_id: str, data: str, count: int, styles: list[dict], *,
                 label: str, show: bool = True, tooltip: list | None = None,
                 popup: list | None = None, title_field: str | None = None,
                 search_field: str | None = None, id_field: str | None = None,
                 pane: str = "zaFill", canvas: bool = False, interactive: bool = True,
                 marker: str | None = None, on_click: str | None = None,
                 title_join: list[str] | None = None) -> None:
        super().__init__()
        self._name = "GeoJsonLayer"
        self.layer_id, self.data, self.count, self.label, self.show = layer_id, data, count, label, show
        self.spec = {
            "id": layer_id, "styles": styles, "show": show, "tooltip": tooltip, "popup": popup,
            "titleField": title_field, "searchField": search_field, "idField": id_field,
            "pane": pane, "canvas": canvas, "interactive": interactive, "marker": marker,
            "onClick": on_click, "titleJoin": title_join,
        }

    def script(self, map_var: str) -> str:
        return (f"zoneatlas.addGeoJSON(Object.assign({json_for_script(self.spec)}, "
                f"{{data: {self.data}}}));")


# ---------------------------------------------------------------------------
# aggregation


def hexagon_grid(x: np.ndarray, y: np.ndarray, weights: np.ndarray, *, size_m: float
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sum ``weights`` of points into pointy-top hexagons of circumradius ``size_m``.

    Returns
    -------
    polygons : ndarray of shapely Polygons (occupied cells only)
    totals : ndarray of float, summed weights per cell
    counts : ndarray of int, points per cell

    Examples
    --------
    >>> polys, tot, cnt = hexagon_grid(np.array([0., 1.]), np.array([0., 1.]), np.array([2., 3.]), size_m=100)
    >>> len(polys), float(tot.sum()), int(cnt.sum())
    (1, 5.0, 2)
    """
    s = float(size_m)
    q = (math.sqrt(3) / 3 * x - y / 3) / s
    r = (2 / 3 * y) / s
    # cube rounding
    cx, cz = q, r
    cy = -cx - cz
    rx, ry, rz = np.round(cx), np.round(cy), np.round(cz)
    dx, dy, dz = np.abs(rx - cx), np.abs(ry - cy), np.abs(rz - cz)
    fix_x = (dx > dy) & (dx > dz)
    fix_y = ~fix_x & (dy > dz)
    rx = np.where(fix_x, -ry - rz, rx)
    ry = np.where(fix_y, -rx - rz, ry)
    rz = np.where(~fix_x & ~fix_y, -rx - ry, rz)
    # one int64 key per cell ordered like (rx, rz) lexicographically: np.unique on a 1-D
    # key is ~10x faster than np.unique(axis=0) on 1,000,000 points, same cells and order
    ix, iz = rx.astype(np.int64), rz.astype(np.int64)
    if len(ix):
        x0, z0 = ix.min(), iz.min()
        span = int(iz.max() - z0) + 1
        key_uniq, inverse = np.unique((ix - x0) * span + (iz - z0), return_inverse=True)
        uniq = np.column_stack([key_uniq // span + x0, key_uniq % span + z0])
    else:
        uniq, inverse = np.empty((0, 2), np.int64), np.empty(0, np.int64)
    inverse = inverse.ravel()
    totals = np.bincount(inverse, weights=weights, minlength=len(uniq))
    counts = np.bincount(inverse, minlength=len(uniq))
    centre_x = s * math.sqrt(3) * (uniq[:, 0] + uniq[:, 1] / 2)
    centre_y = s * 1.5 * uniq[:, 1]
    angles = np.deg2rad(30 + 60 * np.arange(7))
    ring = np.stack([centre_x[:, None] + s * np.cos(angles)[None, :],
                     centre_y[:, None] + s * np.sin(angles)[None, :]], axis=-1)
    polys = shapely.polygons(ring)
    return polys, totals, counts


def hex_size_for(x: np.ndarray, y: np.ndarray, *, target_cells: int = 2500, min_size_m: float = 250.0) -> float:
    """A hexagon size giving at most about ``target_cells`` cells over the points' extent."""
    if len(x) == 0:
        return min_size_m
    area = max(float(np.ptp(x)) * float(np.ptp(y)), 1.0)
    return max(min_size_m, math.sqrt(area / (2.598 * target_cells)))

