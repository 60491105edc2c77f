"""The layers of the QGIS package: inputs, then each analysis's tables, ready for pyogrio."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geo import styles
from geo._types import AnalysisResult, Study
from geo.i18n import label
from geo.qgis._qml import LayerStyle
from geo.schema import VECTOR_LAYERS

#: Layers that start switched off (the web maps show them only on demand); the input
#: zones too, whose chain fill would show through the analysis layers drawn over them.
HIDDEN_AT_START = {"zones", "balance_districts", "balance_landuse", "collaboration_zones", "core_periphery_links",
                   "balance_catchments", "commuting_districts", "commuting_sheds"}

#: Point layers above this many features are drawn only from 1:100,000 inwards.
HEAVY_POINTS = 50_000


#: Input layers in write order: every vector layer of the schema.
INPUT_LAYERS = VECTOR_LAYERS
ANALYSES = ("balance", "collaboration", "core_periphery")

#: Geometry kind of layers that may be empty (e.g. no pair within reach).
_EMPTY_LAYER_KIND = {"collaboration_pairs": "line", "core_periphery_links": "line", "housing": "point",
                     "firms": "point", "leader_firms": "point",
                     "commuting_flows": "line", "commuting_sheds": "point"}


_INPUTS_GROUP = {"zh": "输入数据", "en": "Inputs"}


@dataclass
class ExportLayer:
    """One GeoPackage layer: its frame in the export CRS and how it is styled."""

    name: str                          # GeoPackage layer name
    frame: pd.DataFrame                # GeoDataFrame (spatial) or DataFrame (table)
    group: str                         # "inputs" or the analysis name
    styles: list[LayerStyle] = field(default_factory=list)  # first = default

    @property
    def spatial(self) -> bool:
        return isinstance(self.frame, gpd.GeoDataFrame)

    @cached_property
    def geom_types(self) -> frozenset[str]:
        """The geometry types present (computed once: housing may have a million rows)."""
        if not self.spatial:
            return frozenset()
        return frozenset(self.frame.geom_type.dropna().unique())

    @property
    def geometry_kind(self) -> str | None:
        """``polygon``, ``line`` or ``point`` (``None`` for tables).

        An empty layer gets the kind its name implies, so that QGIS still sees a
        line (or point) layer rather than one without geometry.
        """
        if not self.spatial:
            return None
        types = self.geom_types
        if not types:
            return _EMPTY_LAYER_KIND.get(self.name, "polygon")
        if types <= {"Point", "MultiPoint"}:
            return "point"
        if types <= {"LineString", "MultiLineString"}:
            return "line"
        return "polygon"


#: The district outlines with each boundary once (:func:`district_boundaries`), after ``districts``.
BOUNDARIES = "district_boundaries"
#: Its abstract (layer metadata, GeoPackage description): (zh, en).
BOUNDARIES_ABSTRACT = (
    "由行政区图层生成的界线：两区相邻处的共有界线只有一条（虚线描两个面的边界会重叠成实线）。"
    "shared 为真表示两区共有界线，为假表示研究范围外边界。地图主题用它绘制行政区边界，与网页地图和出版图一致。",
    "Derived from the districts: where two districts meet their shared boundary is one line (two "
    "dashed polygon outlines over each other look solid). shared: true between two districts, false "
    "on the study's outer edge. The map themes draw the district outlines with it, as the web maps "
    "and print figures look.")


def district_boundaries(districts: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The districts' boundaries as lines, each once (:func:`geo.styles.outline_lines`, as the
    print figures draw them): one feature per merged line, ``shared`` true where two districts
    meet, false on the study's outer edge."""
    lines = styles.outline_lines(districts.geometry.values)
    parts = shapely.get_parts(lines)
    parts = parts[~shapely.is_empty(parts)]
    outer = shapely.boundary(shapely.union_all(np.asarray(districts.geometry.values, dtype=object)))
    # a part on the outer edge lies on it, within a millimetre
    shared = ~shapely.covered_by(parts, shapely.buffer(outer, 0.001))
    return gpd.GeoDataFrame({"shared": shared.astype(bool)}, geometry=parts, crs=districts.crs)


def collect_layers(study: Study, results: dict[str, AnalysisResult], crs: CRS,
                   derived: dict[str, list[tuple[str, pd.DataFrame]]] | None = None, *,
                   inputs: bool | Collection[str] = True) -> list[ExportLayer]:
    """Every layer of the package in write order: inputs (``inputs=False``: left out, e.g.
    written already; a collection of names: those only), then each analysis' tables
    followed by its ``derived`` layers (analysis → [(name, frame)])."""
    layers: list[ExportLayer] = []
    names = [name for name in INPUT_LAYERS if getattr(study, name, None) is not None]
    if inputs:
        for name in names:
            if inputs is True or name in inputs:
                layers.append(ExportLayer(name, _prepare(getattr(study, name), crs), "inputs"))
                if name == "districts" and len(study.districts):
                    layers.append(ExportLayer(BOUNDARIES, _prepare(district_boundaries(study.districts), crs),
                                              "inputs"))
    order = [a for a in ANALYSES if a in results] + [a for a in results if a not in ANALYSES]
    seen = set(names)
    for analysis in order:
        extra = (derived or {}).get(analysis, [])
        for name, frame in [*results[analysis].tables.items(), *extra]:
            if name in seen:
                raise ValueError(f"QGIS package: layer name {name!r} is used twice ({analysis})")
            seen.add(name)
            layers.append(ExportLayer(name, _prepare(frame, crs), analysis))
    return layers


#: Columns counting whole things (firms, dwellings, persons ...): written INTEGER when
#: every value is whole (float noise within 1e-6 ignored), else REAL as they are.
COUNT_FIELDS = {"jobs", "firms", "leader_firms", "rd_platforms", "universities", "labs", "incubators",
                "dwellings", "population", "workers", "points", "firm_jobs", "jobs_within", "workplaces",
                "periphery_count", "partners_within", "cells",
                # observed commuting: whole when the OD table counts persons (not expanded shares)
                "commuters", "resident_commuters", "job_commuters", "internal", "flows",
                "commuters_in_workplaces", "commuters_outside_workplaces", "commuters_timed",
                "t_cells", "t_workplaces", "t_unreachable_pairs"}
#: Prefixes of count columns made per radius (``workers_5000``, ``area_jobs_3000``).
COUNT_PREFIXES = ("workers_", "area_jobs_", "n_")


def is_count_field(name: str) -> bool:
    return name in COUNT_FIELDS or (name.startswith(COUNT_PREFIXES) and not name.endswith("_shared"))


def _whole_numbers(s: pd.Series) -> pd.Series | None:
    """``s`` as nullable Int64 when every finite value is whole (to 1e-6), else None."""
    values = s.to_numpy(dtype=float, na_value=np.nan)
    finite = values[np.isfinite(values)]
    if np.isinf(values).any() or (finite.size and np.abs(finite).max() >= 2**53):
        return None
    rounded = np.round(finite)
    if not np.all(np.abs(finite - rounded) <= 1e-6 * np.maximum(1.0, np.abs(finite))):
        return None
    out = pd.array(np.round(np.where(np.isfinite(values), values, 0.0)).astype(np.int64), dtype="Int64")
    out[~np.isfinite(values)] = pd.NA
    return pd.Series(out, index=s.index)


def _prepare(frame: pd.DataFrame, crs: CRS) -> pd.DataFrame:
    """A copy ready for pyogrio: export CRS, plain index, NULL-friendly dtypes."""
    out = frame.copy()
    if isinstance(out, gpd.GeoDataFrame):
        if out.crs is None:
            raise ValueError("QGIS package: a spatial result frame has no CRS")
        if not CRS.from_user_input(out.crs).equals(crs):
            out = out.to_crs(crs)
    out = out.reset_index(drop=True)
    for col in out.columns:
        if isinstance(out, gpd.GeoDataFrame) and col == out.geometry.name:
            continue
        s = out[col]
        if isinstance(s.dtype, pd.CategoricalDtype):
            out[col] = s.astype(object).where(s.notna(), None)
            s = out[col]
        if s.dtype == object:
            nonnull = s.dropna()
            if len(nonnull) and all(isinstance(v, (bool, np.bool_)) for v in nonnull):
                out[col] = s.astype("boolean")
            elif len(nonnull) and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                                      for v in nonnull):
                out[col] = s.astype("Int64")
            elif len(nonnull) and all(isinstance(v, (float, np.floating)) for v in nonnull):
                out[col] = s.astype(float)
            else:
                out[col] = s.where(s.isna(), s.astype(str)).where(s.notna(), None)
        elif pd.api.types.is_float_dtype(s.dtype):
            whole = _whole_numbers(s) if is_count_field(str(col)) else None
            if whole is not None:
                out[col] = whole
            else:
                # infinities (e.g. a ratio over zero) are not valid GeoPackage values
                out[col] = s.where(np.isfinite(s.astype(float)), np.nan)
    return out


def layer_bounds(frame: gpd.GeoDataFrame) -> tuple[float, float, float, float] | None:
    geoms = frame.geometry
    geoms = geoms[geoms.notna() & ~geoms.is_empty]
    if geoms.empty:
        return None
    b = geoms.total_bounds
    return tuple(float(v) for v in b) if np.all(np.isfinite(b)) else None


def wkb_type(layer: ExportLayer) -> str:
    if not layer.spatial:
        return "NoGeometry"
    types = layer.geom_types
    kind = layer.geometry_kind
    if kind == "point":
        return "MultiPoint" if "MultiPoint" in types else "Point"
    if kind == "line":
        return "MultiLineString" if "MultiLineString" in types else "LineString"
    return "MultiPolygon" if "MultiPolygon" in types else "Polygon"


def initially_visible(layer: ExportLayer) -> bool:
    """Initial visibility: heavy and secondary layers start switched off, and so does the
    input zones layer, whose chain fill would otherwise show through the analysis layers
    drawn over the same polygons (their colours would no longer match their legends)."""
    if not layer.spatial:
        return False
    if layer.name in ("housing", "employment") or len(layer.frame) > HEAVY_POINTS:
        return False
    return layer.name not in HIDDEN_AT_START


def group_titles(language: str) -> dict[str, str]:
    titles = {"inputs": _INPUTS_GROUP.get(language, "Inputs")}
    titles.update({a: label(a, language) for a in ANALYSES})
    titles["chains"] = label("chains_analysis", language)
    titles["commuting"] = label("commuting", language)
    return titles
