"""Deterministic synthetic sample study: a fictional city with zones, housing and rasters.

Everything here is **fictional**: a made-up city in EPSG:4544 (CGCS2000 3-degree
Gauss-Krüger zone, central meridian 105°E) with a dense centre, radial corridors and
a few new towns, administrative districts (a Voronoi partition of district seeds
clipped to an irregular city boundary), industrial functional zones of several
industry chains (some compact, some fragmented across districts), innovation
districts, housing points whose density falls away from the centres, and 2-D
population and land-use grids consistent with the housing.

The same ``scale`` and ``seed`` always give the same study (one
:class:`numpy.random.Generator`, no global state). ``city`` with seed 0 is the study
bundled in ``layers/``; ``small`` is for tests; ``metro`` (about 2,000 zones and
1,000,000 housing points) is for benchmarks.

Examples
--------
>>> from geo.sample import generate_study
>>> study = generate_study("small", seed=0)
>>> sorted(study.zones.columns)[:3]
['chain', 'district', 'firms']

Modules
-------
``_catalogue``   scales, chains, CRS and the :class:`SampleStudy` container
``_geometry``    geometry generators: city boundary, districts, zone shapes and placement
``_attributes``  zone attributes and roles, innovation districts, housing points
``_rasters``     population and land-use grids consistent with the housing
``_config``      the study's config.yaml
``_generate``    :func:`generate_study` (in memory); ``_writer``: :func:`write_sample` (files)
"""

from __future__ import annotations

from geo.sample._catalogue import (
    CENTRE_XY,
    CHAINS,
    CRS,
    INNOVATION_ONLY_CHAINS,
    LANDUSE_CLASSES,
    LANDUSE_NODATA,
    PERSONS_PER_DWELLING,
    POPULATION_NODATA,
    SCALES,
    SampleStudy,
)
from geo.sample._config import render_config, sample_config
from geo.sample._generate import generate_study
from geo.sample._writer import write_sample

__all__ = [
    "CENTRE_XY",
    "CHAINS",
    "CRS",
    "generate_study",
    "INNOVATION_ONLY_CHAINS",
    "LANDUSE_CLASSES",
    "LANDUSE_NODATA",
    "PERSONS_PER_DWELLING",
    "POPULATION_NODATA",
    "render_config",
    "sample_config",
    "SampleStudy",
    "SCALES",
    "write_sample",
]
