"""The whole synthetic study in memory: one seeded generator drives every part."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import shapely

from geo.sample._attributes import _housing, _innovation, _zone_attributes
from geo.sample._catalogue import _SCALES, CENTRE_XY, CRS, SCALES, SampleStudy
from geo.sample._commuting import sample_flows
from geo.sample._config import sample_config
from geo.sample._firms import sample_firms
from geo.sample._employment import _employment
from geo.sample._geometry import _city_boundary, _districts, _Placer, _polar, _zones
from geo.sample._rasters import _rasters
from geo.sample._roads import sample_roads

log = logging.getLogger(__name__)


def generate_study(scale: str = "city", *, seed: int = 0) -> SampleStudy:
    """Generate the synthetic study in memory.

    Parameters
    ----------
    scale : {"small", "city", "metro"}
        ``small`` for tests (about 15 zones, 2,000 housing points, 250 m cells),
        ``city`` the bundled default (about 60 zones, 30,000 housing points, 100 m
        cells), ``metro`` for benchmarks (about 2,000 zones, 1,000,000 housing points).
    seed : int
        Seed of the one :class:`numpy.random.Generator` used; same seed, same study.

    Returns
    -------
    SampleStudy
        Frames with the user-facing column names of ``SampleStudy.config``.

    Examples
    --------
    >>> s = generate_study("small", seed=1)
    >>> len(s.zones), s.crs
    (15, 'EPSG:4544')
    """
    if scale not in _SCALES:
        raise ValueError(f"scale must be one of {', '.join(SCALES)} (got {scale!r})")
    sc = _SCALES[scale]
    rng = np.random.default_rng(seed)
    boundary = _city_boundary(rng, sc.radius_m)
    districts = _districts(rng, sc, boundary)

    n_towns = int(rng.integers(sc.new_towns[0], sc.new_towns[1] + 1))
    angles = rng.uniform(0, 2 * np.pi) + np.arange(n_towns) * 2 * np.pi / n_towns
    angles += rng.uniform(-0.3, 0.3, n_towns)
    new_towns = _polar(*CENTRE_XY, sc.radius_m * rng.uniform(0.5, 0.65, n_towns), angles)

    placer = _Placer(boundary, sc.n_zones + sc.n_innovation + 16, gap_m=0.02 * sc.radius_m / 2.8)
    zones, rank = _zones(rng, sc, boundary, districts, placer)
    zones = _zone_attributes(rng, zones, rank, districts)
    innov = _innovation(rng, sc, new_towns, zones, districts, placer)
    jobs_total = float(zones["jobs"].sum() + innov["jobs"].sum())
    hx, hy, dwellings = _housing(rng, sc, boundary, new_towns, zones, jobs_total)
    width = max(6, len(str(len(hx))))
    housing = gpd.GeoDataFrame(
        {"id": [f"H{i:0{width}d}" for i in range(1, len(hx) + 1)], "dwellings": dwellings},
        geometry=shapely.points(hx, hy), crs=CRS,
    )
    population, landuse, transform = _rasters(rng, sc, boundary, hx, hy, dwellings, zones, innov)
    firms = sample_firms(zones, boundary, scale=scale, seed=seed)
    employment = _employment(seed, scale, sc.radius_m, boundary, new_towns, np.column_stack([hx, hy]),
                             float(dwellings.sum()) * 1.4,
                             np.concatenate([zones.geometry.to_numpy(), innov.geometry.to_numpy()]))
    wp = np.concatenate([zones.geometry.to_numpy(), innov.geometry.to_numpy()])
    commuting = sample_flows(wp, np.concatenate([zones["jobs"].to_numpy(float), innov["jobs"].to_numpy(float)]),
                             hx, hy, np.asarray(dwellings, float), crs=CRS, scale=scale, seed=seed)
    log.debug("generated %s sample (seed %d): %d zones, %d housing", scale, seed, len(zones), len(housing))
    return SampleStudy(
        districts=districts, zones=zones, innovation_districts=innov, housing=housing,
        population=population, landuse=landuse, transform=transform, crs=CRS,
        config=sample_config(scale, seed), scale=scale, seed=seed, boundary=boundary,
        firms=firms,
        employment=employment,
        roads=sample_roads(boundary, scale, seed),
        commuting=commuting,
    )
