"""Choice of the working CRS: projected, in metres, suited to the study area.

Inside China: the CGCS2000 3-degree Gauss-Krüger zone (EPSG:4534-4554, central
meridians 75°E-135°E in steps of 3°, false easting 500 km, no zone prefix), the CRS
Chinese planning data is usually delivered in. Elsewhere: the UTM zone (WGS84,
EPSG:326xx north / 327xx south), with the Norway and Svalbard exceptions.

"Inside China" is decided with a coarse outline (about half a degree accurate); near
the border both choices are equally good for distances, so the coarseness is harmless.
"""

from __future__ import annotations

import math
from functools import lru_cache

import shapely
from pyproj import CRS, Transformer

__all__ = ["choose_working_crs", "in_china", "require_projected_metres", "transformer"]


@lru_cache(maxsize=32)
def transformer(source: CRS, target: CRS) -> Transformer:
    """``Transformer.from_crs(source, target, always_xy=True)``, kept for the next call.

    PROJ's search of the operations between two CRSs (e.g. WGS84 -> a CGCS2000
    Gauss-Krüger zone) costs about a second of CPU each time; geopandas caches its
    transformers the same way. Transformers are thread-safe (pyproj >= 3.1).
    """
    return Transformer.from_crs(source, target, always_xy=True)

# Coarse outline of China (mainland, Hainan, Taiwan) in lon/lat, hand-drawn from a
# small-scale map. Only used to pick a CRS family.
_MAINLAND = [
    (122.5, 53.6), (125.5, 53.1), (127.6, 50.2), (130.6, 48.9), (132.6, 47.8),
    (134.8, 48.4), (133.2, 45.4), (131.2, 44.9), (131.2, 43.0), (130.6, 42.4),
    (129.0, 42.0), (128.1, 41.4), (126.0, 40.5), (124.3, 39.8), (122.8, 37.5),
    (121.0, 36.0), (120.5, 34.2), (122.0, 31.2), (122.5, 29.5), (121.0, 27.5),
    (119.5, 25.5), (117.0, 23.2), (114.5, 22.1), (110.5, 20.8), (109.5, 21.4),
    (108.0, 21.5), (106.7, 22.8), (105.3, 23.3), (103.9, 22.6), (102.2, 22.4),
    (101.1, 21.5), (100.0, 21.7), (99.2, 22.1), (98.8, 24.1), (97.6, 23.9),
    (97.5, 25.2), (98.7, 27.5), (97.3, 28.2), (96.0, 29.3), (93.0, 27.0),
    (92.0, 27.0), (89.5, 28.0), (88.8, 27.3), (88.0, 27.9), (86.0, 28.0),
    (84.0, 28.8), (81.2, 30.0), (79.5, 31.0), (78.7, 32.6), (79.5, 34.5),
    (77.8, 35.5), (75.9, 36.7), (74.5, 37.4), (74.9, 38.5), (73.6, 39.5),
    (75.5, 40.6), (77.0, 41.0), (80.0, 42.2), (80.5, 45.0), (82.5, 45.3),
    (83.0, 47.2), (85.5, 47.0), (87.3, 49.1), (90.9, 46.0), (96.4, 42.7),
    (100.8, 42.7), (105.0, 41.6), (110.0, 42.6), (111.9, 43.7), (114.5, 44.8),
    (116.6, 46.3), (119.9, 46.7), (117.8, 47.8), (117.4, 49.6), (120.8, 52.5),
]
_HAINAN = [(108.5, 18.4), (109.6, 18.0), (111.2, 19.5), (110.6, 20.2), (109.6, 20.1), (108.6, 19.8)]
_TAIWAN = [(120.0, 23.0), (120.8, 21.8), (121.9, 23.0), (122.1, 25.2), (121.4, 25.4), (120.1, 24.0)]


@lru_cache(maxsize=1)
def _china() -> shapely.MultiPolygon:
    return shapely.MultiPolygon([shapely.Polygon(p) for p in (_MAINLAND, _HAINAN, _TAIWAN)])


def in_china(lon: float, lat: float) -> bool:
    """True when ``(lon, lat)`` (degrees) lies within the coarse outline of China."""
    return bool(shapely.intersects_xy(_china(), float(lon), float(lat)))


def _cgcs2000_gk3(lon: float) -> CRS:
    cm = 3 * round(float(lon) / 3.0)
    cm = min(max(cm, 75), 135)
    return CRS.from_epsg(4534 + (cm - 75) // 3)


def _utm(lon: float, lat: float) -> CRS:
    lon = ((lon + 180.0) % 360.0) - 180.0
    zone = math.floor((lon + 180.0) / 6.0) + 1
    zone = min(max(zone, 1), 60)
    # the two historical exceptions of the UTM grid
    if 56.0 <= lat < 64.0 and 3.0 <= lon < 12.0:
        zone = 32
    elif 72.0 <= lat < 84.0 and 0.0 <= lon < 42.0:
        zone = 31 if lon < 9.0 else 33 if lon < 21.0 else 35 if lon < 33.0 else 37
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def choose_working_crs(lon: float, lat: float) -> CRS:
    """Projected CRS in metres for a study centred on ``(lon, lat)`` in degrees.

    Parameters
    ----------
    lon, lat : float
        Centre of the study area (WGS84 / CGCS2000 degrees).

    Returns
    -------
    pyproj.CRS
        CGCS2000 3-degree Gauss-Krüger zone (EPSG:4534-4554, central meridian
        ``3 * round(lon / 3)``) inside China, else the UTM zone.

    Examples
    --------
    >>> choose_working_crs(104.07, 30.67).to_epsg()   # Chengdu: CM 105E
    4544
    >>> choose_working_crs(13.40, 52.52).to_epsg()    # Berlin: UTM 33N
    32633
    >>> choose_working_crs(151.21, -33.87).to_epsg()  # Sydney: UTM 56S
    32756
    """
    if not (math.isfinite(lon) and math.isfinite(lat)) or abs(lat) > 90 or abs(lon) > 360:
        raise ValueError(f"not a longitude/latitude: ({lon}, {lat})")
    if in_china(lon, lat):
        return _cgcs2000_gk3(lon)
    return _utm(lon, lat)


def require_projected_metres(crs: CRS) -> str | None:
    """Why ``crs`` cannot be the working CRS, or None when it is projected in metres."""
    if not crs.is_projected:
        kind = "geographic (degrees)" if crs.is_geographic else "not projected"
        return f"{crs.to_string()} is {kind}; distances and areas need a projected CRS in metres"
    units = {(ax.unit_name or "").lower() for ax in crs.axis_info[:2]}
    if not units <= {"metre", "meter", "m"}:
        return f"{crs.to_string()} has axis units {', '.join(sorted(units))}; it must be in metres"
    return None
