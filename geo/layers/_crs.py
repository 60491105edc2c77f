"""CRS of each layer, coordinate sanity checks, Chinese datums, the working CRS.

``crs:`` in the config is used only when the file has no CRS; coordinates outside the
CRS's area of use (swapped lat/lon, degrees labelled as metres, (0, 0)) are errors;
GCJ-02 / BD-09 data is converted to WGS84; the working CRS is the configured one or
chosen from the data (:func:`geo._crs.choose_working_crs`).
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import shapely
from pyproj import CRS, Transformer

from geo._coords import bd09_to_wgs84, gcj02_to_wgs84, transform_geometries
from geo._crs import choose_working_crs, require_projected_metres, transformer
from geo.layers._report import _Ctx, _Layer, _Report

if TYPE_CHECKING:
    from geo.settings import Settings, VectorLayerSettings

logger = logging.getLogger(__name__)


@lru_cache(maxsize=32)
def _inverse_projection(wkt: str) -> Transformer:
    """Projected -> its own geographic CRS (no datum search: fast, enough for range checks)."""
    crs = CRS.from_wkt(wkt)
    return Transformer.from_crs(crs, crs.geodetic_crs, always_xy=True)


def _unwrap_antimeridian(layer: _Layer, geoms: np.ndarray, report: _Report) -> np.ndarray:
    """A longitude/latitude layer crossing the 180° meridian, read in 0..360° longitudes.

    Detected when the layer spans more than 180° of longitude but fits in less once the
    western longitudes (-180..0) are read as 180..360; shapes whose vertices jump from
    179° to -179° would otherwise wrap around the globe (and be "repaired" into bands).
    Projection to the working CRS handles longitudes beyond 180°. A counted warning.
    """
    crs = layer.crs
    if crs is None or not crs.is_geographic:
        return geoms
    usable = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if not usable.any():
        return geoms
    with np.errstate(invalid="ignore"):
        b = shapely.bounds(geoms[usable])
        x = shapely.get_coordinates(geoms[usable])[:, 0]
    x = x[np.isfinite(x) & (np.abs(x) <= 180)]
    if not len(x) or x.max() - x.min() <= 180:
        return geoms
    shifted = np.where(x < 0, x + 360, x)
    if shifted.max() - shifted.min() >= 180:
        return geoms   # spread around the globe: nothing to unwrap
    spans = np.zeros(len(geoms), bool)
    spans[usable] = (b[:, 2] - b[:, 0]) > 180
    geoms = geoms.copy()
    geoms[usable] = shapely.transform(
        geoms[usable], lambda xy: np.column_stack([np.where(xy[:, 0] < 0, xy[:, 0] + 360, xy[:, 0]), xy[:, 1]]))
    layer.lon_0_360 = True
    across = (f"; {int(spans.sum())} features cross it ({layer.rows_text(spans)})" if spans.any() else "")
    report.warn(f"{layer.ctx.at()} the layer lies across the 180° meridian{across}; longitudes "
                "-180..0 were read as 180..360 so that shapes stay whole")
    return geoms


def _check_coordinate_range(layer: _Layer, geoms: np.ndarray, keep: np.ndarray, report: _Report) -> None:
    """Coordinates outside the valid range of the CRS, swapped lat/lon, (0, 0)."""
    ctx, crs = layer.ctx, layer.crs
    if crs is None or not keep.any():
        return
    b = np.full((len(geoms), 4), np.nan)
    b[keep] = shapely.bounds(geoms[keep])
    if crs.is_geographic:
        west, east = (0, 360) if getattr(layer, "lon_0_360", False) else (-180, 180)
        bad = keep & ((b[:, 0] < west) | (b[:, 2] > east) | (b[:, 1] < -90) | (b[:, 3] > 90))
        if bad.any():
            swapped = bad & (np.abs(b[:, 0]) <= 90) & (np.abs(b[:, 2]) <= 90) & (np.abs(b[:, 1]) <= 180) & (np.abs(b[:, 3]) <= 180)
            hint = ("; these look like latitude/longitude swapped (x must be longitude, y "
                    "latitude)" if swapped.sum() * 2 >= bad.sum() else
                    "; the coordinates may be projected metres: check the CRS "
                    f"(layers.{ctx.name}.crs)")
            report.error(f"{ctx.at()} coordinates outside the valid longitude/latitude range "
                         f"(x in -180..180, y in -90..90) for {crs.to_string()} in "
                         f"{layer.rows_text(bad)}{hint}")
            layer.geometry_ok = False
        zero = keep & ~bad & (b[:, 0] == 0) & (b[:, 1] == 0) & (b[:, 2] == 0) & (b[:, 3] == 0)
        if zero.any():
            report.error(f"{ctx.at()} features at longitude 0, latitude 0 (a missing location) in "
                         f"{layer.rows_text(zero)}; fix or delete them")
            layer.geometry_ok = False
        return
    area = crs.area_of_use
    if area is None:
        return
    margin = 5.0
    to_ll = _inverse_projection(crs.to_wkt())

    def outside(xy_min, xy_max) -> np.ndarray:
        with np.errstate(all="ignore"):
            x0, y0 = to_ll.transform(xy_min[:, 0], xy_min[:, 1], errcheck=False)
            x1, y1 = to_ll.transform(xy_max[:, 0], xy_max[:, 1], errcheck=False)
        lon = np.column_stack([x0, x1])
        lat = np.column_stack([y0, y1])
        return (~np.isfinite(lon).all(1) | ~np.isfinite(lat).all(1)
                | (lon.min(1) < area.west - margin) | (lon.max(1) > area.east + margin)
                | (lat.min(1) < area.south - margin) | (lat.max(1) > area.north + margin))

    total = np.array([[np.nanmin(b[:, 0]), np.nanmin(b[:, 1])]]), np.array([[np.nanmax(b[:, 2]), np.nanmax(b[:, 3])]])
    if not outside(*total)[0]:
        return
    bad = np.zeros(len(geoms), bool)
    bad[keep] = outside(b[keep, :2], b[keep, 2:])
    if bad.any():
        degrees = bool(np.all(np.abs(b[bad][:, [0, 2]]) <= 180) and np.all(np.abs(b[bad][:, [1, 3]]) <= 90))
        hint = (f"; the numbers look like degrees: the file's CRS is probably wrong (set it, or "
                f"layers.{ctx.name}.crs: EPSG:4326)" if degrees else
                _zone_prefix_hint(crs, b[bad], ctx.name) or "; check the CRS of the file")
        report.error(f"{ctx.at()} coordinates fall outside the area where {crs.to_string()} "
                     f"({crs.name}) is valid (lon {area.west:g}..{area.east:g}, lat "
                     f"{area.south:g}..{area.north:g}) in {layer.rows_text(bad)}{hint}")
        layer.geometry_ok = False


def _zone_prefix_hint(crs: CRS, bounds: np.ndarray, name: str) -> str:
    """A CGCS2000 3-degree Gauss-Krüger CRS without the zone number (EPSG:4534-4554) on
    eastings that carry it (zone 35: 35 500 000): the variant with the number fits."""
    code = crs.to_epsg() or 0
    if not 4534 <= code <= 4554:
        return ""
    zones = np.unique(np.floor(bounds[:, [0, 2]] / 1e6))
    if len(zones) != 1 or not 25 <= zones[0] <= 45:
        return ""
    fit = 4513 + int(zones[0]) - 25
    return (f"; the eastings start with {int(zones[0])}, the Gauss-Krüger zone number: use the CRS with "
            f"the zone number in front, EPSG:{fit} (set layers.{name}.crs: EPSG:{fit} or fix the file's .prj)")


def _resolve_crs(ctx: _Ctx, file_crs: CRS | None, cfg: VectorLayerSettings, report: _Report) -> CRS | None:
    if file_crs is not None:
        if cfg.crs is not None:
            configured = CRS.from_user_input(cfg.crs)
            if not configured.equals(file_crs, ignore_axis_order=True):
                report.warn(f"{ctx.at()} the file has CRS {file_crs.to_string()}; "
                            f"layers.{ctx.name}.crs ({cfg.crs}) is used only for files without "
                            "a CRS and was ignored")
        return file_crs
    if cfg.crs is not None:
        return CRS.from_user_input(cfg.crs)
    report.error(f"{ctx.at()} the layer has no CRS (no .prj or CRS metadata); add "
                 f"layers.{ctx.name}.crs to the config, e.g. crs: EPSG:4326 for longitude/latitude "
                 "or the projected CRS the data was made in", crs=True)
    return None


def _convert_datum(layer: _Layer, geoms: np.ndarray, keep: np.ndarray, cfg: VectorLayerSettings,
                   report: _Report) -> np.ndarray:
    """GCJ-02 / BD-09 longitude/latitude (``layers.<name>.coordinates``) converted to WGS84."""
    ctx, name = layer.ctx, layer.ctx.name
    if cfg.coordinates != "wgs84" and layer.crs is not None:
        if not layer.crs.is_geographic:
            report.error(f"{ctx.at()} coordinates: {cfg.coordinates} needs longitude/latitude "
                         f"data (EPSG:4326 or EPSG:4490) but the layer is in "
                         f"{layer.crs.to_string()}; remove layers.{name}.coordinates or fix the CRS",
                         crs=True)
            layer.geometry_ok = False
        elif layer.geometry_ok:
            func = gcj02_to_wgs84 if cfg.coordinates == "gcj02" else bd09_to_wgs84
            geoms = geoms.copy()
            geoms[keep] = transform_geometries(geoms[keep], func)
            logger.info("%s converted from %s to WGS84", ctx.at(), cfg.coordinates.upper())
    return geoms


def _working_crs(settings: Settings, layers: dict[str, _Layer], report: _Report) -> CRS | None:
    if settings.crs.working:
        crs = CRS.from_user_input(settings.crs.working)
        why = require_projected_metres(crs)
        if why:
            report.error(f"{settings.source}: crs.working: {why}; use e.g. a CGCS2000 Gauss-Krüger zone "
                         "(EPSG:4534-4554) or a UTM zone, or leave crs.working out", crs=True)
            return None
        _check_scale(crs, layers, report, settings.source)
        return crs
    for name, ll in _study_lonlat(layers):
        lon, lat = (ll[0] + ll[2]) / 2, (ll[1] + ll[3]) / 2
        crs = choose_working_crs(lon, lat)
        logger.info("working CRS %s (%s) chosen from the %s layer", crs.to_string(), crs.name, name)
        return crs
    return None


def _study_lonlat(layers: dict[str, _Layer]):
    """``(layer name, lon/lat bounds)`` of the first usable layer (zones first)."""
    for name in ("zones", "districts", "innovation_districts", "housing"):
        layer = layers.get(name)
        if layer is not None and layer.geometry_ok and layer.crs is not None and len(layer.frame):
            ll = layer.frame.geometry.to_crs(4326).total_bounds
            if ll[2] - ll[0] > 180:   # across the 180° meridian: bounds in 0..360
                x = shapely.get_coordinates(layer.frame.geometry.to_crs(4326).values.to_numpy())[:, 0]
                x = np.where(x < 0, x + 360, x)
                if x.max() - x.min() < 180:
                    ll = np.array([x.min(), ll[1], x.max(), ll[3]])
            if np.isfinite(ll).all():
                yield name, ll


#: scale error of the working CRS above which distances are said to be distorted
MAX_SCALE_ERROR = 0.005


def scale_range(crs: CRS, lonlat_bounds) -> tuple[float, float]:
    """Smallest and largest scale factor of ``crs`` over a lon/lat box (5 x 5 samples).

    The scale factor is the projected length of a short east-west or north-south step
    divided by its geodesic length on the WGS84 ellipsoid (1.0: distances are true).
    """
    from pyproj import Geod

    w, s, e, n = lonlat_bounds
    lon, lat = (a.ravel() for a in np.meshgrid(np.linspace(w, e, 5), np.linspace(s, n, 5)))
    to = transformer(CRS.from_epsg(4326), crs)
    geod = Geod(ellps="WGS84")
    step = 1e-3   # degrees: about 100 m
    x0, y0 = to.transform(lon, lat, errcheck=False)
    ratios = []
    for dlon, dlat in ((step, 0.0), (0.0, step)):
        x1, y1 = to.transform(lon + dlon, lat + dlat, errcheck=False)
        _, _, metres = geod.inv(lon, lat, lon + dlon, lat + dlat)
        with np.errstate(all="ignore"):
            ratios.append(np.hypot(np.asarray(x1) - x0, np.asarray(y1) - y0) / np.asarray(metres))
    both = np.concatenate(ratios)
    both = both[np.isfinite(both)]
    if not len(both):
        return float("nan"), float("nan")
    return float(both.min()), float(both.max())


def _check_scale(crs: CRS, layers: dict[str, _Layer], report: _Report, source: str) -> None:
    """Warn when the configured working CRS stretches distances over the study area."""
    for name, ll in _study_lonlat(layers):
        try:
            lo, hi = scale_range(crs, ll)
        except Exception:  # noqa: BLE001 - a CRS pyproj cannot give factors for: no check
            logger.debug("no scale factors for %s", crs.to_string(), exc_info=True)
            return
        worst = lo if abs(lo - 1) > abs(hi - 1) else hi
        if np.isfinite(worst) and abs(worst - 1) > MAX_SCALE_ERROR:
            better = choose_working_crs((ll[0] + ll[2]) / 2, (ll[1] + ll[3]) / 2)
            spread = f"{lo:.4f}" if abs(hi - lo) < 5e-5 else f"{lo:.4f}-{hi:.4f}"
            report.warn(f"{source}: crs.working: {crs.to_string()} ({crs.name}) scales distances "
                        f"by x{spread} over the study area ({abs(worst - 1) * 100:.1f}% off), so "
                        f"every radius and distance is off by as much; use {better.to_string()} "
                        f"({better.name}) instead, or leave crs.working out to have it chosen")
        return
