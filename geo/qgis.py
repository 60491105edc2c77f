"""The QGIS hand-over package: ``qgis/zoneatlas.gpkg`` and ``qgis/zoneatlas.qgz``.

The GeoPackage (version 1.2, so QGIS 3.22 LTR opens it without warnings) holds the
input layers and every result layer and table in ``crs.export``, plus a
``layer_styles`` table in the layout QGIS itself creates, with one default QML style
per spatial layer (and a few alternative styles, e.g. the core–periphery score).
The project references the GeoPackage by a relative path, groups the layers
(inputs, one group per analysis), carries the same styles, field aliases in the
study language and the configured basemap as an XYZ tile layer.

Colours, class breaks and line widths come from :mod:`geo.styles`, labels from
:mod:`geo.i18n`; nothing here needs QGIS installed.

Examples
--------
>>> from geo.qgis import write_qgis_package                       # doctest: +SKIP
>>> gpkg, qgz = write_qgis_package(out / "qgis", study, results, settings)  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cached_property
from itertools import pairwise
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from pyproj import CRS

from geo import styles
from geo._qgz import ProjectLayer, write_project
from geo._qml import (
    Category,
    LayerStyle,
    Range,
    categorized_renderer,
    fill_symbol,
    finite,
    graduated_renderer,
    line_symbol,
    marker_symbol,
    qml_document,
    rgba,
    simple_labeling,
    single_renderer,
)
from geo._types import AnalysisResult, Study
from geo.i18n import label
from geo.settings import Settings

logger = logging.getLogger(__name__)

GPKG_NAME = "zoneatlas.gpkg"
QGZ_NAME = "zoneatlas.qgz"

#: Point layers above this many features are drawn only from 1:100,000 inwards.
HEAVY_POINTS = 50_000

INPUT_LAYERS = ("districts", "zones", "innovation_districts", "housing")
ANALYSES = ("balance", "collaboration", "core_periphery")

#: Polygon fill opacity of the styled layers (the basemap shows through), as on the
#: web maps: zones 0.8, workplaces and scores 0.85, district choropleth 0.6.
FILL_ALPHA = 0.8
_ALPHA_STRONG = 0.85
_ALPHA_DISTRICTS = 0.6

#: Geometry kind of layers that may be empty (e.g. no pair within reach).
_EMPTY_LAYER_KIND = {"collaboration_pairs": "line", "core_periphery_links": "line", "housing": "point"}

_LABEL_ALIAS_SOURCE = {"zh": "（原字段 {}）", "en": " (source column {})"}

def term(key: str, language: str) -> str:
    """Layer titles and field aliases: :func:`geo.i18n.label`."""
    return label(key, language)


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


# ---------------------------------------------------------------------------
# public API


def write_qgis_package(out_dir: Path, study: Study, results: dict[str, AnalysisResult],
                       settings: Settings) -> tuple[Path, Path]:
    """Write ``out_dir/zoneatlas.gpkg`` and ``out_dir/zoneatlas.qgz``.

    Parameters
    ----------
    out_dir
        The run's ``qgis`` folder (created if missing; existing package files are
        replaced).
    study
        The validated inputs (working CRS, canonical fields).
    results
        Analysis name → result; any analysis may be absent. Each result's ``tables``
        become GeoPackage layers (GeoDataFrame) or attribute-only tables (DataFrame),
        in order.
    settings
        The run's settings: ``crs.export``, ``study.language`` and ``map.basemap``
        are used.

    Returns
    -------
    tuple of Path
        ``(gpkg, qgz)``.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    crs = CRS.from_user_input(settings.crs.export) if settings.crs.export else CRS.from_user_input(study.crs)
    language = settings.study.language
    layers = collect_layers(study, results, crs)
    chain_colors = _chain_colors(study)
    for layer in layers:
        layer.styles = layer_styles_for(layer, study=study, language=language,
                                        chain_colors=chain_colors)
    gpkg = out_dir / GPKG_NAME
    qgz = out_dir / QGZ_NAME
    for path in (gpkg, qgz):
        path.unlink(missing_ok=True)
    stamp = package_timestamp(study)
    write_geopackage(gpkg, layers, timestamp=stamp)
    write_layer_styles(gpkg, layers, timestamp=stamp)
    project_layers = [
        ProjectLayer(name=layer.name, title=term(layer.name, language), group=layer.group,
                     geometry_kind=layer.geometry_kind, styles=layer.styles,
                     bounds=_bounds(layer.frame) if layer.spatial else None,
                     visible=_visible(layer), wkb_type=_wkb_type(layer))
        for layer in layers
    ]
    write_project(qgz, gpkg_name=GPKG_NAME, layers=project_layers, crs=crs, settings=settings,
                  group_titles=_group_titles(language), timestamp=stamp)
    logger.info("QGIS package: %s (%d layers), %s", gpkg, len(layers), qgz)
    return gpkg, qgz


# ---------------------------------------------------------------------------
# layers and frames


def collect_layers(study: Study, results: dict[str, AnalysisResult], crs: CRS) -> list[ExportLayer]:
    """Every layer of the package in write order: inputs, then each analysis' tables."""
    layers: list[ExportLayer] = []
    for name in INPUT_LAYERS:
        frame = getattr(study, name, None)
        if frame is not None:
            layers.append(ExportLayer(name, _prepare(frame, crs), "inputs"))
    order = [a for a in ANALYSES if a in results] + [a for a in results if a not in ANALYSES]
    seen = {layer.name for layer in layers}
    for analysis in order:
        for name, frame in results[analysis].tables.items():
            if name in seen:
                raise ValueError(f"QGIS package: layer name {name!r} is used twice ({analysis})")
            seen.add(name)
            layers.append(ExportLayer(name, _prepare(frame, crs), analysis))
    return layers


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
            # infinities (e.g. a ratio over zero) are not valid GeoPackage values
            out[col] = s.where(np.isfinite(s.astype(float)), np.nan)
    return out


def _bounds(frame: gpd.GeoDataFrame) -> tuple[float, float, float, float] | None:
    geoms = frame.geometry
    geoms = geoms[geoms.notna() & ~geoms.is_empty]
    if geoms.empty:
        return None
    b = geoms.total_bounds
    return tuple(float(v) for v in b) if np.all(np.isfinite(b)) else None


def _wkb_type(layer: ExportLayer) -> str:
    if not layer.spatial:
        return "NoGeometry"
    types = layer.geom_types
    kind = layer.geometry_kind
    if kind == "point":
        return "MultiPoint" if "MultiPoint" in types else "Point"
    if kind == "line":
        return "MultiLineString" if "MultiLineString" in types else "LineString"
    return "MultiPolygon" if "MultiPolygon" in types else "Polygon"


def _visible(layer: ExportLayer) -> bool:
    """Initial visibility: heavy and secondary layers start switched off."""
    if not layer.spatial:
        return False
    if layer.name == "housing" or len(layer.frame) > HEAVY_POINTS:
        return False
    return layer.name not in ("balance_districts", "balance_landuse", "collaboration_zones",
                              "core_periphery_links")


def _group_titles(language: str) -> dict[str, str]:
    titles = {"inputs": _INPUTS_GROUP.get(language, "Inputs")}
    titles.update({a: label(a, language) for a in ANALYSES})
    return titles


# ---------------------------------------------------------------------------
# GeoPackage writing


def package_timestamp(study: Study) -> datetime:
    """The time stamped into the package: ``SOURCE_DATE_EPOCH`` when set, else the newest
    modification time of the input files, so that identical inputs give an identical
    package (no wall-clock time inside)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    if epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), timezone.utc)
    mtimes = [Path(f).stat().st_mtime for source in study.sources.values()
              for f in (source.files or [source.path]) if Path(f).is_file()]
    return datetime.fromtimestamp(int(max(mtimes, default=946684800)), timezone.utc)


def _gpkg_time(stamp: datetime) -> str:
    return stamp.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


#: SQLite page cache (MB) while writing the GeoPackage. SQLite's default (2 MB) makes
#: building the R-tree of 1,000,000 housing points page in and out: 256 MB cut the
#: housing layer from about 4.7 s to 2.7 s on the metro sample. The cache only grows as
#: far as the file does (about 110 MB there).
SQLITE_CACHE_MB = "256"


def write_geopackage(path: Path, layers: Sequence[ExportLayer], *,
                     timestamp: datetime | None = None) -> None:
    """Write every layer with pyogrio; the first write creates a GeoPackage 1.2.

    ``timestamp`` (default: now) is what GDAL records as the layers' last change."""
    try:
        import pyarrow  # noqa: F401
        use_arrow = True
    except ImportError:  # pragma: no cover - pyarrow is optional
        use_arrow = False
    if not layers:
        raise ValueError("QGIS package: nothing to write (no input or result layers)")
    with _sqlite_unsynchronised(), _gdal_option("OGR_SQLITE_CACHE", SQLITE_CACHE_MB), \
            _gdal_option("OGR_CURRENT_DATE", _gpkg_time(timestamp) if timestamp else None):
        for i, layer in enumerate(layers):
            kwargs = {"dataset_options": {"VERSION": "1.2"}} if i == 0 else {}
            frame = layer.frame
            if layer.spatial:
                wkb = _wkb_type(layer)
                kwargs.update(geometry_type=wkb, promote_to_multi=wkb.startswith("Multi"))
            else:
                frame = pd.DataFrame(frame)
            pyogrio.write_dataframe(frame, path, layer=layer.name, driver="GPKG",
                                    use_arrow=use_arrow, **kwargs)


@contextmanager
def _gdal_option(key: str, value: str | None):
    """Set a GDAL config option for the duration of the block (None: leave it)."""
    if value is None:
        yield
        return
    before = pyogrio.get_gdal_config_option(key)
    pyogrio.set_gdal_config_options({key: value})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({key: before})


@contextmanager
def _sqlite_unsynchronised():
    """GDAL's ``OGR_SQLITE_SYNCHRONOUS=OFF`` while writing (3x faster, one fsync less
    per layer); the previous setting is restored. Safe here: a run writes into a
    staging folder that is moved into place only when complete."""
    key = "OGR_SQLITE_SYNCHRONOUS"
    before = pyogrio.get_gdal_config_option(key)
    pyogrio.set_gdal_config_options({key: "OFF"})
    try:
        yield
    finally:
        restore = None if before is None else ("ON" if before is True else "OFF" if before is False else before)
        pyogrio.set_gdal_config_options({key: restore})


#: The ``layer_styles`` table exactly as QGIS (via GDAL) creates it in a GeoPackage.
LAYER_STYLES_DDL = (
    'CREATE TABLE IF NOT EXISTS "layer_styles" ( "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, '
    '"f_table_catalog" TEXT(256), "f_table_schema" TEXT(256), "f_table_name" TEXT(256), '
    '"f_geometry_column" TEXT(256), "styleName" TEXT(30), "styleQML" TEXT, "styleSLD" TEXT, '
    '"useAsDefault" BOOLEAN, "description" TEXT, "owner" TEXT(30), "ui" TEXT(30), '
    "\"update_time\" DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))"
)


def write_layer_styles(path: Path, layers: Sequence[ExportLayer], *,
                       timestamp: datetime | None = None) -> int:
    """Create ``layer_styles`` and store each spatial layer's styles (first = default).

    The table is registered in ``gpkg_contents`` as ``attributes`` (and in
    ``gpkg_ogr_contents`` with GDAL's feature-count triggers), as QGIS does.
    Returns the number of rows written.
    """
    now = _gpkg_time(timestamp or datetime.now(timezone.utc))
    rows = []
    con = sqlite3.connect(path)
    try:
        geom_cols = dict(con.execute(
            "SELECT table_name, column_name FROM gpkg_geometry_columns").fetchall())
        for layer in layers:
            if not layer.spatial:
                continue
            for i, style in enumerate(layer.styles):
                rows.append(("", "", layer.name, geom_cols.get(layer.name, "geom"), style.name,
                             qml_document(style), None, 1 if i == 0 else 0,
                             style.description, "", None, now))
        with con:
            con.execute(LAYER_STYLES_DDL)
            con.execute(
                "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, "
                "last_change, srs_id) VALUES ('layer_styles', 'attributes', 'layer_styles', '', ?, 0)",
                (now,))
            has_ogr_contents = con.execute(
                "SELECT 1 FROM sqlite_master WHERE name = 'gpkg_ogr_contents'").fetchone()
            con.executemany(
                'INSERT INTO "layer_styles" (f_table_catalog, f_table_schema, f_table_name, '
                "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, "
                "owner, ui, update_time) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)
            if has_ogr_contents:
                con.execute("INSERT INTO gpkg_ogr_contents (table_name, feature_count) VALUES (?, ?)",
                            ("layer_styles", len(rows)))
                con.execute(
                    'CREATE TRIGGER "trigger_insert_feature_count_layer_styles" AFTER INSERT ON '
                    '"layer_styles" BEGIN UPDATE gpkg_ogr_contents SET feature_count = feature_count + 1 '
                    "WHERE lower(table_name) = lower('layer_styles'); END")
                con.execute(
                    'CREATE TRIGGER "trigger_delete_feature_count_layer_styles" AFTER DELETE ON '
                    '"layer_styles" BEGIN UPDATE gpkg_ogr_contents SET feature_count = feature_count - 1 '
                    "WHERE lower(table_name) = lower('layer_styles'); END")
    finally:
        con.close()
    return len(rows)


# ---------------------------------------------------------------------------
# styles


def _chain_colors(study: Study) -> dict[str, str]:
    """Chain colours as the web maps assign them: from every chain of the zones."""
    return styles.chain_colors(study.zones["chain"]) if "chain" in study.zones else {}


def _fmt(value: float) -> str:
    if not np.isfinite(value):
        return "–"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _range_labels(edges: Sequence[float]) -> list[str]:
    return [f"{_fmt(lo)} – {_fmt(hi)}" for lo, hi in pairwise(edges)]


def field_aliases(layer: ExportLayer, study: Study, language: str) -> dict[str, str]:
    """Field → alias in the study language; input fields also name the user's column."""
    source = study.sources.get(layer.name) if layer.group == "inputs" else None
    original = source.aliases if source is not None else {}
    out = {}
    for col in _field_names(layer)[1:]:
        text = term(col, language)
        user_col = original.get(col)
        if user_col and user_col != col:
            text += _LABEL_ALIAS_SOURCE.get(language, " ({})").format(user_col)
        if text != col:
            out[col] = text
    return out


def _field_names(layer: ExportLayer) -> list[str]:
    cols = [c for c in layer.frame.columns
            if not (layer.spatial and c == layer.frame.geometry.name)]
    return ["fid", *cols]


def _polygon_by_category(field_name: str, colors: dict[str, str], language: str,
                         outline: str = styles.ZONE_OUTLINE, fill_alpha: float = FILL_ALPHA,
                         data_defined: dict[str, str] | None = None) -> object:
    cats = [Category(value, label(value, language),
                     fill_symbol(color, outline, fill_alpha=fill_alpha, outline_width_mm=0.2,
                                 data_defined=data_defined))
            for value, color in colors.items()]
    return categorized_renderer(field_name, cats)


def _graduated_fill(field_name: str, edges: Sequence[float], colors: Sequence[str],
                    outline: str, fill_alpha: float = FILL_ALPHA) -> object:
    ranges = [Range(lo, hi, text, fill_symbol(color, outline, fill_alpha=fill_alpha,
                                                   outline_width_mm=0.2))
              for (lo, hi), text, color in zip(pairwise(edges), _range_labels(edges), colors)]
    return graduated_renderer(field_name, ranges)


def _edges(values, breaks: Sequence[float]) -> list[float]:
    """Class edges: data min/max close the ends (never inside the fixed breaks)."""
    vals = finite(values)
    if not breaks:
        lo, hi = (min(vals), max(vals)) if vals else (0.0, 0.0)
        return [lo, hi]
    lo = min([*vals, float(breaks[0])]) if vals else float(breaks[0])
    hi = max([*vals, float(breaks[-1])]) if vals else float(breaks[-1])
    return [lo, *map(float, breaks), hi]


def _quantile_graduated(frame: pd.DataFrame, field_name: str, outline: str,
                        fill_alpha: float = FILL_ALPHA) -> object:
    values = frame.get(field_name, [])
    breaks = styles.graduated_breaks(finite(values), k=5)
    edges = _edges(values, breaks)
    return _graduated_fill(field_name, edges, styles.ramp(len(edges) - 1), outline, fill_alpha)


def _case_color(field_name: str, colors: dict[str, str], default: str) -> str:
    whens = " ".join(f"WHEN \"{field_name}\" = '{key}' THEN '{rgba(color)}'" for key, color in colors.items())
    return f"CASE {whens} ELSE '{rgba(default)}' END"


def layer_styles_for(layer: ExportLayer, *, study: Study, language: str,
                     chain_colors: dict[str, str]) -> list[LayerStyle]:
    """The styles of one layer; the first is the default.

    Tables get one style holding only field aliases (used in the project).
    """
    aliases = field_aliases(layer, study, language)
    fields = _field_names(layer)
    frame = layer.frame
    kind = layer.geometry_kind
    name = layer.name

    def style(style_name: str, renderer, labeling=None, opacity: float = 1.0, description: str = "") -> LayerStyle:
        return LayerStyle(style_name, renderer, labeling, fields=fields, aliases=aliases,
                          opacity=opacity, description=description or term(name, language))

    if not layer.spatial:
        return [style("default", None)]
    has_name = "name" in frame.columns
    name_labels = simple_labeling("name", geometry=kind) if has_name else None

    if name == "districts":
        return [style("default", single_renderer(
            fill_symbol(None, styles.DISTRICT_OUTLINE, outline_width_mm=0.6, outline_style="dash")),
            simple_labeling("name", geometry="polygon", size_pt=11, color=styles.DISTRICT_OUTLINE)
            if has_name else None)]
    if name in ("zones", "collaboration_zones") and "chain" in frame:
        return [style("chain", _polygon_by_category("chain", chain_colors, language), name_labels)]
    if name == "innovation_districts":
        return [style("default", single_renderer(
            fill_symbol(styles.INNOVATION_COLOR, styles.INNOVATION_COLOR, fill_alpha=0.35,
                        outline_width_mm=0.5)), name_labels)]
    if name == "housing":
        if kind == "point":
            housing = style("default", single_renderer(marker_symbol(styles.HOUSING_COLOR, 0.8)))
            if len(frame) > HEAVY_POINTS:
                housing.min_scale = 100_000
            return [housing]
        return [style("default", single_renderer(
            fill_symbol(styles.HOUSING_COLOR, styles.HOUSING_COLOR, fill_alpha=0.4, outline_width_mm=0.1)))]
    if name == "balance_workplaces" and "balance_class" in frame:
        # innovation districts outlined in their colour, as on the web map
        kind_outline = None
        if "kind" in frame:
            innov = "\"kind\" = 'innovation_district'"
            kind_outline = {
                "outlineColor": f"CASE WHEN {innov} THEN '{rgba(styles.INNOVATION_COLOR)}' "
                                f"ELSE '{rgba(styles.ZONE_OUTLINE)}' END",
                "outlineWidth": f"CASE WHEN {innov} THEN 0.66 ELSE 0.26 END",
            }
        out = [style("balance_class", _polygon_by_category(
            "balance_class", styles.BALANCE_CLASS_COLORS, language, fill_alpha=_ALPHA_STRONG,
            data_defined=kind_outline), name_labels)]
        if "jhr" in frame:
            out.append(style("jhr", _graduated_fill(
                "jhr", _edges(frame["jhr"], styles.JHR_BREAKS), styles.JHR_COLORS, styles.ZONE_OUTLINE,
                fill_alpha=_ALPHA_STRONG), name_labels))
        return out
    if name == "balance_districts" and "jhr" in frame:
        out = [style("jhr", _graduated_fill(
            "jhr", _edges(frame["jhr"], styles.JHR_BREAKS), styles.JHR_COLORS, styles.DISTRICT_OUTLINE,
            fill_alpha=_ALPHA_DISTRICTS), name_labels)]
        if "balance_class" in frame:
            out.append(style("balance_class", _polygon_by_category(
                "balance_class", styles.BALANCE_CLASS_COLORS, language, styles.DISTRICT_OUTLINE,
                fill_alpha=_ALPHA_DISTRICTS), name_labels))
        return out
    if name == "collaboration_pairs" and "strength" in frame:
        return _pair_styles(frame, style, language)
    if name == "core_periphery_zones":
        out = []
        if "strategy" in frame:
            out.append(style("strategy", _polygon_by_category("strategy", styles.STRATEGY_COLORS, language),
                             name_labels))
        if "role" in frame:
            out.append(style("role", _polygon_by_category("role", styles.ROLE_COLORS, language), name_labels))
        if {"zone_id", "core_id", "role"} <= set(frame.columns):
            out.append(style("core_id", _by_attached_core(frame, language), name_labels))
        if "score" in frame:
            out.append(style("score", _quantile_graduated(frame, "score", styles.ZONE_OUTLINE, _ALPHA_STRONG),
                             name_labels))
        if out:
            return out
    if name == "core_periphery_links":
        return [style("default", single_renderer(line_symbol(
            styles.STRATEGY_COLORS["collaborative_subordinate"], styles.LINE_WIDTHS[0] / 2, alpha=0.9)))]
    # any other spatial layer: a numeric mix field graduated, else one plain symbol
    for col in ("landuse_entropy", "score"):
        if col in frame and kind == "polygon":
            return [style(col, _quantile_graduated(frame, col, styles.ZONE_OUTLINE), name_labels)]
    return [style("default", single_renderer(_plain_symbol(kind)), name_labels)]


def _by_attached_core(frame: pd.DataFrame, language: str):
    """Zones coloured by the core they attach to (cores by their own id), as the web
    map's default core–periphery view: cores with a thick black outline, isolated zones
    grey and dashed."""
    role = frame["role"].astype(str)
    core_ids = list(dict.fromkeys(frame.loc[role == "core", "zone_id"].astype(str)))
    names = dict(zip(frame["zone_id"].astype(str), frame["name"].astype(str))) if "name" in frame else {}
    expression = ("CASE WHEN \"role\" = 'core' THEN \"zone_id\" "
                  "WHEN \"strategy\" = 'isolated' THEN '' ELSE coalesce(\"core_id\", '') END"
                  if "strategy" in frame else
                  "CASE WHEN \"role\" = 'core' THEN \"zone_id\" ELSE coalesce(\"core_id\", '') END")
    outline_dd = {
        "outlineWidth": "CASE WHEN \"role\" = 'core' THEN 0.9 ELSE 0.26 END",
        "outlineColor": f"CASE WHEN \"role\" = 'core' THEN '0,0,0,255' ELSE '{rgba(styles.ZONE_OUTLINE)}' END",
    }
    cats = [Category(core, names.get(core, core),
                     fill_symbol(styles.CATEGORICAL[i % len(styles.CATEGORICAL)], styles.ZONE_OUTLINE,
                                 fill_alpha=0.6, outline_width_mm=0.26, data_defined=outline_dd))
            for i, core in enumerate(core_ids)]
    # the empty value also catches NULL: QGIS' "all other values" category
    cats.append(Category(None, label("isolated", language),
                         fill_symbol(styles.STRATEGY_COLORS["isolated"], "#666666", fill_alpha=0.55,
                                     outline_width_mm=0.5, outline_style="dash")))
    return categorized_renderer(expression, cats)


def _plain_symbol(kind: str | None):
    if kind == "point":
        return marker_symbol(styles.CATEGORICAL[4], 2.0, outline="#ffffff", outline_width_mm=0.2)
    if kind == "line":
        return line_symbol(styles.CATEGORICAL[4], styles.LINE_WIDTHS[0] / 2)
    return fill_symbol(styles.CATEGORICAL[1], styles.ZONE_OUTLINE, fill_alpha=FILL_ALPHA, outline_width_mm=0.2)


def _pair_styles(frame: pd.DataFrame, style, language: str) -> list[LayerStyle]:
    """Collaboration pairs as on the web map: recommended pairs with widths by strength
    class (breaks of the recommended pairs' strengths), colour by pair type; the other
    candidate pairs thin and dashed. Two styles: ``strength`` (default, graduated) and
    ``pair_type`` (categorized), both with the other visual variable data-defined."""
    recommended = frame["recommended"] if "recommended" in frame else pd.Series(True, frame.index)
    recommended = recommended.astype("boolean").fillna(False).astype(bool)
    values = frame.loc[recommended, "strength"] if recommended.any() else frame["strength"]
    breaks = styles.graduated_breaks(finite(values), k=len(styles.LINE_WIDTHS))
    edges = _edges(frame["strength"], breaks)
    widths_mm = [w / 2 for w in styles.LINE_WIDTHS]
    other_mm = 0.5
    has_flag = "recommended" in frame
    color_expr = (_case_color("pair_type", styles.PAIR_TYPE_COLORS, styles.PAIR_TYPE_COLORS["peer"])
                  if "pair_type" in frame else None)
    dash_expr = "CASE WHEN \"recommended\" THEN 'solid' ELSE 'dash' END" if has_flag else None

    def width_for(i: int) -> float:
        return widths_mm[min(i, len(widths_mm) - 1)]

    ranges = []
    for i, ((lo, hi), text) in enumerate(zip(pairwise(edges), _range_labels(edges))):
        width_expr = f'CASE WHEN "recommended" THEN {width_for(i)!r} ELSE {other_mm!r} END' if has_flag else None
        ranges.append(Range(lo, hi, text, line_symbol(
            styles.PAIR_TYPE_COLORS["peer"], width_for(i), color_expression=color_expr,
            width_expression=width_expr, style_expression=dash_expr, alpha=0.9)))
    out = [style("strength", graduated_renderer("strength", ranges, method="GraduatedSize"))]
    if "pair_type" in frame:
        cases = " ".join(f'WHEN "strength" <= {hi!r} THEN {width_for(i)!r}' for i, hi in enumerate(edges[1:-1]))
        by_class = f"CASE {cases} ELSE {width_for(len(edges) - 2)!r} END" if cases else repr(width_for(0))
        width_expr = (f'CASE WHEN "recommended" THEN {by_class} ELSE {other_mm!r} END' if has_flag else by_class)
        cats = [Category(key, label(key, language),
                         line_symbol(color, width_for(1), width_expression=width_expr,
                                     style_expression=dash_expr, alpha=0.9))
                for key, color in styles.PAIR_TYPE_COLORS.items()]
        out.append(style("pair_type", categorized_renderer("pair_type", cats)))
    return out
