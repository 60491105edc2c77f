"""Plain containers passed between loading, the analyses and the writers.

They hold data only; the logic lives in :mod:`geo.layers`, :mod:`geo.analysis` and the
writers. Every GeoDataFrame in a :class:`Study` is in ``Study.crs`` (projected, metres)
and carries the canonical field names of docs/input-data.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from affine import Affine
from pyproj import CRS


@dataclass
class Raster:
    """A single-band raster in the working CRS.

    ``data`` is float64 with ``nan`` where the source had nodata. ``transform`` maps
    (col, row) to working-CRS coordinates of the cell's upper-left corner.
    """

    data: np.ndarray
    transform: Affine
    crs: CRS
    path: Path | None = None

    @property
    def cell_area_m2(self) -> float:
        return abs(self.transform.a * self.transform.e)

    def cell_centres(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return ``(x, y, value)`` of every cell with a finite value (flat arrays)."""
        rows, cols = np.nonzero(np.isfinite(self.data))
        xs = self.transform.c + (cols + 0.5) * self.transform.a + (rows + 0.5) * self.transform.b
        ys = self.transform.f + (cols + 0.5) * self.transform.d + (rows + 0.5) * self.transform.e
        return xs, ys, self.data[rows, cols]


@dataclass
class LayerSource:
    """Where a layer came from: for run.json and for QGIS field aliases."""

    name: str                      # canonical layer name, e.g. "zones"
    path: Path
    layer: str | None = None       # layer inside a multi-layer file
    files: list[Path] = field(default_factory=list)  # every file read (for checksums)
    aliases: dict[str, str] = field(default_factory=dict)  # canonical field -> user's column
    feature_count: int = 0


@dataclass
class Study:
    """All inputs of one run, validated and reprojected to the working CRS.

    ``zones`` always has ``district_id`` (derived from ``districts`` when the user's
    layer had none). Optional layers are ``None`` when not configured.
    """

    crs: CRS
    zones: gpd.GeoDataFrame
    districts: gpd.GeoDataFrame | None = None
    innovation_districts: gpd.GeoDataFrame | None = None
    housing: gpd.GeoDataFrame | None = None
    firms: gpd.GeoDataFrame | None = None
    """Optional firm points; carry ``zone_id`` (containing zone, lowest id) and
    ``district_id`` (containing district), both missing where none."""
    population: Raster | None = None
    landuse: Raster | None = None
    employment: gpd.GeoDataFrame | None = None
    employment_raster: Raster | None = None
    """All-sector jobs per cell when ``layers.employment`` is a raster (``employment`` is
    then ``None``)."""
    commuting: pd.DataFrame | None = None
    """Observed home -> work flows (``layers.commuting``): a plain DataFrame with
    ``home_x, home_y, work_x, work_y`` (working CRS, metres), ``commuters`` (float >= 0)
    and ``row`` (1-based row in the file), one row per flow."""
    landuse_classes: dict[int, str] = field(default_factory=dict)
    roads: gpd.GeoDataFrame | None = None
    """Road centrelines as the network uses them: road_id, class (canonical English),
    speed_kmh, oneway (yes / -1 / no), component (0 = the largest piece)."""
    network: Any = None
    """The road graph (:class:`geo.network.RoadGraph`) built from ``roads``; ``None``
    without a roads layer."""
    sources: dict[str, LayerSource] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    settings: Any = field(default=None, repr=False)
    """The :class:`geo.settings.Settings` the study was loaded with (set by
    :func:`geo.load_study`; the analyses of the Python API read their parameters here)."""


@dataclass
class AnalysisResult:
    """What one analysis hands to the writers.

    ``tables`` maps an output name (the GeoPackage layer and ``tables/<name>.csv``) to
    a GeoDataFrame (spatial layer) or DataFrame (plain table), in the order they should
    be written. ``summary`` holds JSON-serialisable key figures for run.json and the
    atlas page. ``warnings`` are messages for the user and run.json.
    """

    name: str
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
