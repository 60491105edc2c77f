"""Population and land-use grids of the synthetic city, consistent with its housing and zones."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from affine import Affine

from geo.sample._catalogue import (
    _GRN,
    _IND,
    _OFF,
    _PUB,
    _RES,
    _RET,
    CENTRE_XY,
    LANDUSE_NODATA,
    PERSONS_PER_DWELLING,
    POPULATION_NODATA,
    _Scale,
)
from geo.sample._geometry import _grid


def _rasters(rng: np.random.Generator, sc: _Scale, boundary: shapely.Polygon, hx: np.ndarray,
             hy: np.ndarray, dwellings: np.ndarray, zones: gpd.GeoDataFrame,
             innov: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray, Affine]:
    from rasterio.features import rasterize
    from scipy.ndimage import uniform_filter

    transform, shape = _grid(boundary, sc.cell_m)
    height, width = shape
    inside = rasterize([(boundary, 1)], out_shape=shape, transform=transform, all_touched=True,
                       dtype="uint8").astype(bool)
    col = np.floor((hx - transform.c) / sc.cell_m).astype(np.int64)
    row = np.floor((transform.f - hy) / sc.cell_m).astype(np.int64)
    persons = np.bincount(row * width + col, weights=dwellings * PERSONS_PER_DWELLING,
                          minlength=height * width).reshape(shape)
    population = np.where(inside, persons, POPULATION_NODATA).astype(np.float32)

    cell_ha = sc.cell_m ** 2 / 1e4
    landuse = np.where(inside, _GRN, LANDUSE_NODATA).astype(np.uint8)
    # residential land where the (smoothed, ~500 m window) population density is urban
    smooth = uniform_filter(persons, size=max(3, round(500.0 / sc.cell_m) | 1), mode="constant")
    residential = inside & (smooth / cell_ha >= 8.0)
    landuse[residential] = _RES
    noise = rng.random(shape)
    landuse[residential & (noise < 0.07)] = _PUB
    # central business district: offices, shops, some housing and public uses
    cols, rows = np.meshgrid(np.arange(width), np.arange(height))
    xc = transform.c + (cols + 0.5) * sc.cell_m
    yc = transform.f - (rows + 0.5) * sc.cell_m
    cbd = inside & (np.hypot(xc - CENTRE_XY[0], yc - CENTRE_XY[1]) < 0.06 * sc.radius_m)
    mix = np.array([_OFF, _RET, _RES, _PUB], dtype=np.uint8)
    landuse[cbd] = mix[np.searchsorted(np.cumsum([0.45, 0.3, 0.15, 0.1]), noise[cbd], side="right").clip(0, 3)]
    # innovation districts and their surroundings: a fine-grained mix
    around = rasterize([(g, 1) for g in innov.geometry.buffer(300.0)], out_shape=shape,
                       transform=transform, dtype="uint8").astype(bool) & inside
    mix = np.array([_OFF, _RES, _RET, _PUB, _GRN], dtype=np.uint8)
    landuse[around] = mix[np.searchsorted(np.cumsum([0.35, 0.25, 0.2, 0.15, 0.05]), noise[around],
                                          side="right").clip(0, 4)]
    # zones: industrial (R&D zones partly offices)
    zone_value = np.where(zones["role"].to_numpy() == "rd", 2, 1)
    zmask = rasterize(list(zip(zones.geometry, zone_value.tolist())), out_shape=shape, transform=transform,
                      dtype="uint8")
    landuse[zmask > 0] = _IND
    landuse[(zmask == 2) & (noise < 0.5)] = _OFF
    return population, landuse, transform
