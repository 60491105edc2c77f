"""Chinese map datums: GCJ-02 (AMap, Tencent) and BD-09 (Baidu) <-> WGS84.

GCJ-02 is WGS84 with a deterministic, non-linear offset of a few hundred metres applied
inside mainland China; BD-09 adds a second small offset on top of GCJ-02. The forward
formulas are the widely published public-domain ones; the inverses are computed by
fixed-point iteration until the residual is below ~1e-9 degrees (well under 1 mm).
Outside China (a coarse bounding box, as in the published algorithm) GCJ-02 equals
WGS84.

Every function is vectorised: it takes scalars or numpy arrays of longitudes and
latitudes in degrees and returns ``(lon, lat)`` arrays of the same shape.

Examples
--------
>>> lon, lat = wgs84_to_gcj02(116.404, 39.915)
>>> back_lon, back_lat = gcj02_to_wgs84(lon, lat)
>>> bool(abs(back_lon - 116.404) < 1e-8 and abs(back_lat - 39.915) < 1e-8)
True
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import shapely

__all__ = [
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "in_china_box",
    "transform_geometries",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

_A = 6378245.0                      # semi-major axis of the Krasovsky 1940 ellipsoid
_EE = 0.00669342162296594323        # its first eccentricity squared
_X_PI = np.pi * 3000.0 / 180.0      # BD-09 constant

_MAX_ITER = 30
_TOL_DEG = 1e-10


def _as_arrays(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    lon = np.asarray(lon, dtype="float64")
    lat = np.asarray(lat, dtype="float64")
    return np.broadcast_arrays(lon, lat)


def in_china_box(lon, lat) -> np.ndarray:
    """True where ``(lon, lat)`` lies in the box where GCJ-02 applies an offset."""
    lon, lat = _as_arrays(lon, lat)
    return (lon >= 72.004) & (lon <= 137.8347) & (lat >= 0.8293) & (lat <= 55.8271)


def _delta(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 offset in degrees at WGS84 ``(lon, lat)`` (zero outside China)."""
    x = lon - 105.0
    y = lat - 35.0
    pi = np.pi
    sqrt_abs_x = np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x
    d_lat += common
    d_lat += (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
    d_lat += (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0
    d_lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x
    d_lon += common
    d_lon += (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
    d_lon += (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0

    rad_lat = lat / 180.0 * pi
    magic = 1.0 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * pi)
    d_lon = (d_lon * 180.0) / (_A / sqrt_magic * np.cos(rad_lat) * pi)
    inside = in_china_box(lon, lat)
    return np.where(inside, d_lon, 0.0), np.where(inside, d_lat, 0.0)


def _invert(forward: Callable, lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Solve ``forward(x) = (lon, lat)`` for x by fixed-point iteration.

    The offsets change slowly with position (their derivative is far below 1), so
    ``x <- x - (forward(x) - target)`` converges in a handful of steps.
    """
    t_lon, t_lat = _as_arrays(lon, lat)
    x_lon, x_lat = t_lon.copy(), t_lat.copy()
    for _ in range(_MAX_ITER):
        f_lon, f_lat = forward(x_lon, x_lat)
        e_lon, e_lat = f_lon - t_lon, f_lat - t_lat
        x_lon = x_lon - e_lon
        x_lat = x_lat - e_lat
        err = np.maximum(np.abs(e_lon), np.abs(e_lat))
        if not np.any(err[np.isfinite(err)] > _TOL_DEG):
            break
    return x_lon, x_lat


def wgs84_to_gcj02(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 -> GCJ-02 (AMap/Tencent). Unchanged outside China."""
    lon, lat = _as_arrays(lon, lat)
    d_lon, d_lat = _delta(lon, lat)
    return lon + d_lon, lat + d_lat


def gcj02_to_wgs84(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 -> WGS84 by iterative inversion (error far below 1 m)."""
    return _invert(wgs84_to_gcj02, lon, lat)


def gcj02_to_bd09(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 -> BD-09 (Baidu)."""
    x, y = _as_arrays(lon, lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 -> GCJ-02 by iterative inversion of :func:`gcj02_to_bd09`."""
    return _invert(gcj02_to_bd09, lon, lat)


def wgs84_to_bd09(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 -> BD-09 (via GCJ-02)."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 -> WGS84 (via GCJ-02)."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def transform_geometries(geoms, func: Callable) -> np.ndarray:
    """Apply a coordinate function such as :func:`wgs84_to_gcj02` to shapely geometries.

    Parameters
    ----------
    geoms : array-like of shapely geometries (or a GeoSeries)
        2D geometries in lon/lat degrees. ``None`` and empty geometries pass through.
    func : callable
        ``func(lon, lat) -> (lon, lat)`` on numpy arrays.

    Returns
    -------
    numpy.ndarray of shapely geometries
        New geometries; the input is not modified.

    Examples
    --------
    >>> import shapely
    >>> out = transform_geometries([shapely.Point(116.404, 39.915)], wgs84_to_gcj02)
    >>> round(out[0].x, 4), round(out[0].y, 4)
    (116.4102, 39.9164)
    """
    arr = np.asarray(getattr(geoms, "values", geoms), dtype=object)

    def _apply(xy: np.ndarray) -> np.ndarray:
        x, y = func(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(arr, _apply)
