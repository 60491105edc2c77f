"""The QGIS project file (``.qgz`` = zip holding one ``.qgs`` XML), generated without QGIS.

Layers reference the GeoPackage by a path relative to the project
(``./zoneatlas.gpkg|layername=...``), so the folder can be moved or zipped. The
project is written in the QGIS 3.22 LTR layout: layer tree with groups, one
``<maplayer>`` per layer carrying its styles (the default style inline, alternative
styles in the layer's style manager), the project CRS, the initial view extent and
the basemap as an XYZ tile layer.
"""

from __future__ import annotations

import hashlib
import logging
import warnings
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

from pyproj import CRS

from geo.qgis._layouts import LayoutSpec, layouts_xml
from geo.qgis._qml import NO_DATA_LABEL, QGIS_VERSION, LayerStyle, legend_labels, qml_element, style_children
from geo.qgis._themes import map_themes, themes_xml
from geo.qgis._xml import clean_tree
from geo.settings import Settings

logger = logging.getLogger(__name__)

_DOCTYPE = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>"

@dataclass
class ProjectLayer:
    """One GeoPackage layer as the project shows it."""

    name: str                      # GeoPackage layer name
    title: str                     # name in the layer tree (study language)
    group: str                     # "inputs" or an analysis name
    geometry_kind: str | None      # polygon / line / point / None (table)
    styles: list[LayerStyle] = field(default_factory=list)
    bounds: tuple[float, float, float, float] | None = None
    visible: bool = True
    wkb_type: str = "NoGeometry"
    abstract: str = ""             # layer metadata (QGIS: Properties → Information / Metadata)
    subset: str = ""               # provider filter (SQL) when the layer shows part of the table
    view: str = ""                 # "": the table's own layer; else a second view of it (geo.qgis._views)
    legend_summary: str = ""       # print layouts: one legend row with this label instead of every class

    @property
    def key(self) -> str:
        """``name``, or ``name:view`` for a second view of the same table."""
        return f"{self.name}:{self.view}" if self.view else self.name

    @property
    def layer_id(self) -> str:
        digest = hashlib.sha1(self.key.encode()).hexdigest()
        stem = f"{self.name}_{self.view}" if self.view else self.name
        return f"{stem}_{digest[:8]}_{digest[8:12]}_{digest[12:16]}_{digest[16:20]}_{digest[20:32]}"

    def source(self, gpkg_name: str) -> str:
        """The OGR data source relative to the project: the table, with its subset if any."""
        base = f"./{gpkg_name}|layername={self.name}"
        return f"{base}|subset={self.subset}" if self.subset else base


@dataclass
class TileLayer:
    title: str
    url: str
    zmax: int
    attribution: str

    @property
    def layer_id(self) -> str:
        digest = hashlib.sha1(self.url.encode()).hexdigest()
        return f"basemap_{digest[:8]}_{digest[8:12]}_{digest[12:16]}_{digest[16:20]}_{digest[20:32]}"

    @property
    def source(self) -> str:
        url = quote(self.url, safe=":/?,;@!$'()*+")
        return f"type=xyz&url={url}&zmax={self.zmax}&zmin=0"


def basemap_layers(settings: Settings) -> list[TileLayer]:
    """The XYZ layers of ``map.basemap``, top first (empty for ``none``).

    The tile templates are the web maps' (:func:`geo.basemaps.resolve_basemap`),
    so both show the same basemap. Leaflet placeholders QGIS does not know are filled
    in: ``{s}`` with the first subdomain, ``{r}`` (retina suffix) with nothing.
    Tianditu without a key gives no basemap (and a warning) rather than failing the run,
    and so does a GCJ-02 basemap (AMap): the package's data are in true coordinates.
    """
    from geo._errors import ConfigError
    from geo.basemaps import resolve_basemap

    try:
        basemap = resolve_basemap(settings.map, settings.study.language)
    except ConfigError as exc:
        logger.warning("QGIS project without basemap: %s", exc)
        return []
    if basemap.gcj02:
        # the web maps shift their overlays onto GCJ-02 tiles for display; the package keeps
        # true coordinates, so GCJ-02 tiles would sit hundreds of metres off the data
        logger.warning("QGIS project without the %s basemap: its tiles are in GCJ-02 and would be offset "
                       "by several hundred metres from the package's true coordinates (use map.basemap: "
                       "tianditu for a basemap in QGIS)", basemap.label)
        return []
    layers = []
    n = len(basemap.tiles)
    for i, tiles in enumerate(basemap.tiles):
        url = tiles.url.replace("{s}", (tiles.subdomains or "abc")[0]).replace("{r}", "")
        title = basemap.label if n == 1 else f"{basemap.label} {i + 1}"
        if basemap.gcj02:
            title += " (GCJ-02)"
        layers.append(TileLayer(title, url, tiles.max_zoom, tiles.attribution))
    return layers[::-1]   # the web maps list base tiles first; the layer tree lists top first


def _is_gcj02(settings: Settings) -> bool:
    from geo._errors import ConfigError
    from geo.basemaps import resolve_basemap

    try:
        return resolve_basemap(settings.map, settings.study.language).gcj02
    except ConfigError:
        return False


# ---------------------------------------------------------------------------
# XML pieces


def _text(parent: ET.Element, tag: str, text: str, **attrs: str) -> ET.Element:
    node = ET.SubElement(parent, tag, attrs)
    node.text = text
    return node


def _srs(parent: ET.Element, crs: CRS, tag: str = "srs") -> ET.Element:
    """``<srs><spatialrefsys>`` with WKT (read first by QGIS), PROJ string and authid."""
    node = ET.SubElement(parent, tag) if tag else parent
    srs = ET.SubElement(node, "spatialrefsys")
    _text(srs, "wkt", crs.to_wkt())
    with warnings.catch_warnings():  # the PROJ string is a secondary, lossy hint for QGIS
        warnings.simplefilter("ignore", UserWarning)
        _text(srs, "proj4", crs.to_proj4() or "")
    auth = crs.to_authority()
    if auth:
        _text(srs, "srid", auth[1] if auth[0] == "EPSG" else "0")
        _text(srs, "authid", f"{auth[0]}:{auth[1]}")
    _text(srs, "description", crs.name or "")
    _text(srs, "geographicflag", "true" if crs.is_geographic else "false")
    return node


_WEB_MERCATOR = CRS.from_epsg(3857)


def _extent(parent: ET.Element, bounds: Sequence[float], tag: str = "extent") -> None:
    node = ET.SubElement(parent, tag)
    for key, value in zip(("xmin", "ymin", "xmax", "ymax"), bounds):
        _text(node, key, repr(float(value)))


def _flags(parent: ET.Element) -> None:
    flags = ET.SubElement(parent, "flags")
    for key, value in (("Identifiable", "1"), ("Removable", "1"), ("Searchable", "1"), ("Private", "0")):
        _text(flags, key, value)


_GEOMETRY_NAMES = {"polygon": "Polygon", "line": "Line", "point": "Point", None: "No geometry"}


def _vector_maplayer(layer: ProjectLayer, gpkg_name: str, crs: CRS, current: str | None = None) -> ET.Element:
    """The ``<maplayer>`` of ``layer``, drawn in its style ``current`` (default: its first)."""
    node = ET.Element("maplayer", {
        "type": "vector", "geometry": _GEOMETRY_NAMES[layer.geometry_kind], "wkbType": layer.wkb_type,
        "hasScaleBasedVisibilityFlag": "0", "maxScale": "0", "minScale": "100000000",
        "readOnly": "0", "simplifyAlgorithm": "0", "simplifyDrawingHints": "1",
        "simplifyDrawingTol": "1", "simplifyLocal": "1", "simplifyMaxScale": "1",
        "styleCategories": "AllStyleCategories", "symbologyReferenceScale": "-1",
        "autoRefreshEnabled": "0", "autoRefreshTime": "0", "refreshOnNotifyEnabled": "0",
        "refreshOnNotifyMessage": "", "legendPlaceholderImage": "",
    })
    if layer.bounds is not None:
        _extent(node, layer.bounds)
    _text(node, "id", layer.layer_id)
    _text(node, "datasource", layer.source(gpkg_name))
    _text(ET.SubElement(node, "keywordList"), "value", "")
    _text(node, "layername", layer.title)
    if layer.geometry_kind is not None:
        _srs(node, crs)
    if layer.abstract:
        meta = ET.SubElement(node, "resourceMetadata")
        _text(meta, "type", "dataset")
        _text(meta, "title", layer.title)
        _text(meta, "abstract", layer.abstract)
    _text(node, "provider", "ogr", encoding="UTF-8")
    if layer.view:   # tells the views of one table apart (QGIS keeps custom properties)
        options = ET.SubElement(ET.SubElement(node, "customproperties"), "Option", {"type": "Map"})
        ET.SubElement(options, "Option", {"type": "QString", "name": "zoneatlas/view", "value": layer.view})
    shown = next((s for s in layer.styles if s.name == current), layer.styles[0] if layer.styles else None)
    manager = ET.SubElement(node, "map-layer-style-manager", {"current": shown.name if shown else "default"})
    for style in layer.styles or []:
        entry = ET.SubElement(manager, "map-layer-style", {"name": style.name})
        if style is not shown:
            entry.append(qml_element(style))
    if not layer.styles:
        ET.SubElement(manager, "map-layer-style", {"name": "default"})
    _flags(node)
    if shown is not None:
        style_children(shown, node)
    return node


def _raster_maplayer(tile: TileLayer) -> ET.Element:
    node = ET.Element("maplayer", {
        "type": "raster", "hasScaleBasedVisibilityFlag": "0", "maxScale": "0", "minScale": "1e+08",
        "styleCategories": "AllStyleCategories", "autoRefreshEnabled": "0", "autoRefreshTime": "0",
        "refreshOnNotifyEnabled": "0", "refreshOnNotifyMessage": "", "legendPlaceholderImage": "",
    })
    half = 20037508.342789244
    _extent(node, (-half, -half, half, half))
    _text(node, "id", tile.layer_id)
    _text(node, "datasource", tile.source)
    _text(ET.SubElement(node, "keywordList"), "value", "")
    _text(node, "layername", tile.title)
    _srs(node, _WEB_MERCATOR)
    meta = ET.SubElement(node, "resourceMetadata")
    _text(meta, "type", "dataset")
    _text(meta, "title", tile.title)
    _text(meta, "rights", tile.attribution)
    _text(node, "provider", "wms")
    manager = ET.SubElement(node, "map-layer-style-manager", {"current": "default"})
    ET.SubElement(manager, "map-layer-style", {"name": "default"})
    _flags(node)
    pipe = ET.SubElement(node, "pipe")
    renderer = ET.SubElement(pipe, "rasterrenderer", {
        "type": "singlebandcolordata", "opacity": "1", "alphaBand": "-1", "band": "1", "nodataColor": "",
    })
    ET.SubElement(renderer, "rasterTransparency")
    ET.SubElement(pipe, "brightnesscontrast", {"brightness": "0", "contrast": "0", "gamma": "1"})
    ET.SubElement(pipe, "huesaturation", {
        "colorizeBlue": "128", "colorizeGreen": "128", "colorizeOn": "0", "colorizeRed": "255",
        "colorizeStrength": "100", "grayscaleMode": "0", "invertColors": "0", "saturation": "0",
    })
    ET.SubElement(pipe, "rasterresampler", {"maxOversampling": "2"})
    _text(node, "blendMode", "0")
    return node


def _gdal_maplayer(raster) -> ET.Element:
    """A raster beside the project (``./population.tif``) with its renderer pipe."""
    node = ET.Element("maplayer", {
        "type": "raster", "hasScaleBasedVisibilityFlag": "0", "maxScale": "0", "minScale": "1e+08",
        "styleCategories": "AllStyleCategories", "autoRefreshEnabled": "0", "autoRefreshTime": "0",
        "refreshOnNotifyEnabled": "0", "refreshOnNotifyMessage": "", "legendPlaceholderImage": "",
    })
    _extent(node, raster.bounds)
    _text(node, "id", raster.layer_id)
    _text(node, "datasource", f"./{raster.file}")
    _text(ET.SubElement(node, "keywordList"), "value", "")
    _text(node, "layername", raster.title)
    _srs(node, raster.crs)
    _text(node, "provider", "gdal")
    no_data = ET.SubElement(node, "noData")
    ET.SubElement(no_data, "noDataList", {"bandNo": "1", "useSrcNoData": "1"})
    manager = ET.SubElement(node, "map-layer-style-manager", {"current": "default"})
    ET.SubElement(manager, "map-layer-style", {"name": "default"})
    _flags(node)
    node.append(raster.pipe)
    _text(node, "blendMode", "0")
    return node


def _tree_layer(parent: ET.Element, layer_id: str, title: str, source: str, provider: str,
                visible: bool, expanded: bool = True) -> None:
    node = ET.SubElement(parent, "layer-tree-layer", {
        "id": layer_id, "name": title, "source": source, "providerKey": provider,
        "checked": "Qt::Checked" if visible else "Qt::Unchecked",
        "expanded": "1" if expanded else "0", "legend_exp": "", "patch_size": "-1,-1",
        "legend_split_behavior": "0",
    })
    ET.SubElement(node, "customproperties")


#: Polygon inputs top to bottom: outline-only districts above the filled zones.
_INPUT_ORDER = ("innovation_districts", "districts", "zones")


def _draw_rank(layer: ProjectLayer) -> tuple[int, int, bool]:
    """Within a group: points above lines above polygons; tables last; a table's own layer
    above its second view."""
    kind = {"point": 0, "line": 1, "polygon": 2, None: 3}[layer.geometry_kind]
    within = _INPUT_ORDER.index(layer.name) if layer.name in _INPUT_ORDER else -1
    return kind, within, bool(layer.view)


# ---------------------------------------------------------------------------
# project


def ellipsoid_id(crs: CRS) -> str:
    """The project ellipsoid QGIS measures on: the CRS's ellipsoid by its EPSG code
    (CGCS2000 ``EPSG:1024`` for EPSG:4490 and 4513-4554, WGS 84 ``EPSG:7030``), else by
    its axes (``PARAMETER:a:b``).

    Examples
    --------
    >>> ellipsoid_id(CRS.from_epsg(4544)), ellipsoid_id(CRS.from_epsg(32650))
    ('EPSG:1024', 'EPSG:7030')
    """
    ellipsoid = crs.ellipsoid
    if ellipsoid is None:
        return "EPSG:7030"
    ident = ellipsoid.to_json_dict().get("id") or {}
    if ident.get("authority") == "EPSG" and ident.get("code"):
        return f"EPSG:{ident['code']}"
    return f"PARAMETER:{ellipsoid.semi_major_metre!r}:{ellipsoid.semi_minor_metre!r}"


def project_xml(*, gpkg_name: str, layers: Sequence[ProjectLayer], crs: CRS, settings: Settings,
                group_titles: dict[str, str], layout_texts: dict[str, str] | None = None,
                rasters: Sequence = (), display_crs: CRS | None = None) -> ET.Element:
    """The ``<qgis>`` project element.

    Layers are in ``crs``; the project (canvas, view, print layouts) in ``display_crs``
    when given (a metric CRS when ``crs`` is in degrees: QGIS then draws the map
    unstretched, as conformal as the web map).

    ``layout_texts`` (``study`` title, ``source`` line, ``legend`` title, ``km``, and
    ``part:<analysis>`` for a theme showing part of its analysis, e.g. one chain) dress the
    print layouts; without it the project has map themes but no layouts."""
    root = ET.Element("qgis", {"version": QGIS_VERSION, "projectname": settings.study.name,
                               "saveUser": "zoneatlas", "saveUserFull": "zoneatlas"})
    ET.SubElement(root, "homePath", {"path": ""})
    _text(root, "title", settings.study.name)
    ET.SubElement(root, "autotransaction", {"active": "0"})
    ET.SubElement(root, "evaluateDefaultValues", {"active": "0"})
    ET.SubElement(root, "trust", {"active": "0"})
    view_crs = display_crs or crs
    _srs(root, view_crs, tag="projectCrs")

    # layer tree: analysis groups above inputs, basemap at the bottom
    group_order = [g for g in dict.fromkeys(layer.group for layer in layers) if g != "inputs"]
    if any(layer.group == "inputs" for layer in layers):
        group_order.append("inputs")
    tiles = basemap_layers(settings)
    tree = ET.SubElement(root, "layer-tree-group")
    ET.SubElement(tree, "customproperties")
    order: list[str] = []
    first_analysis = next((g for g in group_order if g != "inputs"), None)
    themes = map_themes(layers, group_titles, [tile.layer_id for tile in tiles])
    # the project opens on the first analysis' theme (what its web page shows first)
    opening = next((t for t in themes if t.analysis == first_analysis), None)
    opening_ids = {t.layer_id for t in opening.layers} if opening is not None else None
    opening_styles = {t.layer_id: t.style for t in opening.layers} if opening is not None else {}

    def shown(layer: ProjectLayer) -> bool:
        if opening_ids is not None and layer.group in ("inputs", first_analysis):
            return layer.layer_id in opening_ids
        return layer.visible

    for group in group_order:
        members = sorted((layer for layer in layers if layer.group == group), key=_draw_rank)
        checked = group in ("inputs", first_analysis)
        gnode = ET.SubElement(tree, "layer-tree-group", {
            "name": group_titles.get(group, group), "checked": "Qt::Checked" if checked else "Qt::Unchecked",
            "expanded": "1" if checked else "0",
        })
        ET.SubElement(gnode, "customproperties")
        for layer in members:
            _tree_layer(gnode, layer.layer_id, layer.title, layer.source(gpkg_name), "ogr",
                        shown(layer), expanded=layer.geometry_kind is not None and shown(layer))
            order.append(layer.layer_id)
        if group == "inputs":
            # the input rasters at the bottom of the inputs, off (they would cover the map)
            for raster in rasters:
                _tree_layer(gnode, raster.layer_id, raster.title, f"./{raster.file}", "gdal", False, expanded=False)
                order.append(raster.layer_id)
    for tile in tiles:
        _tree_layer(tree, tile.layer_id, tile.title, tile.source, "wms", True, expanded=False)
        order.append(tile.layer_id)
    custom = ET.SubElement(tree, "custom-order", {"enabled": "0"})
    for layer_id in order:
        _text(custom, "item", layer_id)

    project_layers = ET.SubElement(root, "projectlayers")
    for layer in layers:   # in the styles the project opens on (the first theme's)
        project_layers.append(_vector_maplayer(layer, gpkg_name, crs, opening_styles.get(layer.layer_id)))
    for raster in rasters:
        project_layers.append(_gdal_maplayer(raster))
    for tile in tiles:
        project_layers.append(_raster_maplayer(tile))
    layer_order = ET.SubElement(root, "layerorder")
    for layer_id in order:
        ET.SubElement(layer_order, "layer", {"id": layer_id})

    view = _to_view(_view_extent(layers), crs, view_crs)
    if view is not None:
        canvas = ET.SubElement(root, "mapcanvas", {"name": "theMapCanvas", "annotationsVisible": "1"})
        _text(canvas, "units", "meters" if not view_crs.is_geographic else "degrees")
        _extent(canvas, view)
        _text(canvas, "rotation", "0")
        _srs(canvas, view_crs, tag="destinationsrs")
        _text(canvas, "rendermaptile", "0")

    props = ET.SubElement(root, "properties")
    paths = ET.SubElement(props, "Paths")
    _text(paths, "Absolute", "false", type="bool")
    srs_props = ET.SubElement(props, "SpatialRefSys")
    _text(srs_props, "ProjectionsEnabled", "1", type="int")
    measure = ET.SubElement(props, "Measurement")
    _text(measure, "DistanceUnits", "meters", type="QString")
    _text(measure, "AreaUnits", "m2", type="QString")
    # measurements on the ellipsoid of the CRS: true metres even in degrees (EPSG:4490)
    _text(ET.SubElement(props, "Measure"), "Ellipsoid", ellipsoid_id(crs), type="QString")

    view_settings = ET.SubElement(root, "ProjectViewSettings", {"UseProjectScales": "0", "rotation": "0"})
    if view is not None:
        default_view = ET.SubElement(view_settings, "DefaultViewExtent", {
            k: repr(float(v)) for k, v in zip(("xmin", "ymin", "xmax", "ymax"), view)})
        _srs(default_view, view_crs, tag="")
    ET.SubElement(view_settings, "Scales")
    root.append(themes_xml(themes))
    if layout_texts is not None and themes:
        root.append(layouts_xml(_layout_specs(themes, layers, tiles, gpkg_name, crs, view_crs, layout_texts)))
    meta = ET.SubElement(root, "projectMetadata")
    _text(meta, "title", settings.study.name)
    _text(meta, "language", settings.study.language)
    _text(meta, "author", "zoneatlas")
    if _is_gcj02(settings):
        _text(meta, "abstract", "高德地图（GCJ-02 坐标）底图未加入：工程数据为真实坐标，加入会产生数百米偏移。"
              if settings.study.language == "zh" else
              "The AMap basemap (GCJ-02 coordinates) is left out: the data are in true coordinates and "
              "would sit hundreds of metres off its tiles.")
    return root


#: Layers whose extent the print layouts frame (the web pages fit their view to these).
_FRAME_LAYERS = ("zones", "balance_workplaces")
#: Layers a print layout frames too when its theme draws them (their outlines would run off
#: the page otherwise), as the print figures do.
_FRAME_WHEN_DRAWN = ("districts", "district_boundaries")


def _layout_specs(themes, layers: Sequence[ProjectLayer], tiles: Sequence[TileLayer], gpkg_name: str,
                  crs: CRS, view_crs: CRS, texts: dict[str, str]) -> list[LayoutSpec]:
    by_id = {layer.layer_id: layer for layer in layers}
    titles = {layer.layer_id: layer.title for layer in layers}
    # the boundaries stand for the districts in the legends, as the web legends' row
    by_name = {layer.key: layer for layer in layers}
    renamed = ({by_name["district_boundaries"].layer_id: by_name["districts"].title}
               if "district_boundaries" in by_name and "districts" in by_name else {})
    sources = {layer.layer_id: (layer.source(gpkg_name), "ogr") for layer in layers}
    specs = []
    for theme in themes:
        shown = [by_id[t.layer_id] for t in theme.layers if t.layer_id in by_id]
        # the map frames the zones (and workplaces) as the web pages fit their view, and the
        # district outlines it draws, whole; not wide context such as catchments or reach circles
        framed = [layer for layer in [*shown, *layers] if layer.name in _FRAME_LAYERS]
        framed += [layer for layer in shown if layer.name in _FRAME_WHEN_DRAWN]
        extent = _to_view(_view_extent(framed, inputs_only=False) or _view_extent(layers), crs, view_crs)
        if extent is None:
            continue
        # the part of the analysis the theme shows, as the print figure's title (the chain)
        part = texts.get(f"part:{theme.analysis}")
        title = f"{texts['study']} — {theme.name}" + (f" — {part}" if part else "")
        rows = {t.layer_id: _print_rows(by_id[t.layer_id], t.style) for t in theme.layers if t.layer_id in by_id}
        specs.append(LayoutSpec(
            name=theme.name, title=title, theme=theme, extent=extent,
            source_line=texts["source"], km_label=texts["km"], legend_title=texts["legend"],
            layer_titles=titles, layer_sources=sources,
            legend_summaries={layer.layer_id: layer.legend_summary for layer in layers if layer.legend_summary},
            legend_rows={layer_id: kept for layer_id, kept in rows.items() if kept is not None},
            legend_titles=renamed))
    return specs


def _print_rows(layer: ProjectLayer, style_name: str) -> tuple[int, ...] | None:
    """The legend rows a print layout keeps of ``layer`` drawn in ``style_name``: every row but
    the grey of missing values (:data:`~geo.qgis._qml.NO_DATA_LABEL`), which the web legends do
    not have; None when that is every row; none (the layer is left out of the legend) when the
    style draws no symbol (the district names)."""
    style = next((s for s in layer.styles if s.name == style_name), None)
    labels = legend_labels(style.renderer if style is not None else None)
    kept = tuple(i for i, text in enumerate(labels) if text != NO_DATA_LABEL)
    return None if labels and len(kept) == len(labels) else kept


def _to_view(bounds, crs: CRS, view_crs: CRS) -> tuple[float, float, float, float] | None:
    """``bounds`` (in ``crs``) as a box in ``view_crs``."""
    if bounds is None or view_crs.equals(crs):
        return bounds
    from pyproj import Transformer

    box = Transformer.from_crs(crs, view_crs, always_xy=True).transform_bounds(*bounds, densify_pts=21)
    return tuple(float(v) for v in box)


def _view_extent(layers: Sequence[ProjectLayer], inputs_only: bool = True) -> tuple[float, float, float, float] | None:
    """Union of the input layers' bounds (all layers when there are no inputs), +5 %."""
    chosen = [layer.bounds for layer in layers if layer.bounds is not None
              and (layer.group == "inputs" or not inputs_only) and layer.name != "housing"]
    if not chosen:
        chosen = [layer.bounds for layer in layers if layer.bounds is not None]
    if not chosen:
        return None
    xmin = min(b[0] for b in chosen)
    ymin = min(b[1] for b in chosen)
    xmax = max(b[2] for b in chosen)
    ymax = max(b[3] for b in chosen)
    pad = 0.05 * max(xmax - xmin, ymax - ymin, 1.0)
    return xmin - pad, ymin - pad, xmax + pad, ymax + pad


def write_project(path: Path, *, gpkg_name: str, layers: Sequence[ProjectLayer], crs: CRS,
                  settings: Settings, group_titles: dict[str, str],
                  timestamp: datetime | None = None, layout_texts: dict[str, str] | None = None,
                  rasters: Sequence = (), display_crs: CRS | None = None) -> Path:
    """Write the ``.qgz`` (a zip holding ``<stem>.qgs``) at ``path``.

    ``timestamp`` (default: now) dates the zip entry, so identical inputs can give a
    byte-identical project."""
    root = project_xml(gpkg_name=gpkg_name, layers=layers, crs=crs, settings=settings,
                       group_titles=group_titles, layout_texts=layout_texts, rasters=rasters,
                       display_crs=display_crs)
    clean_tree(root)
    ET.indent(root, space="  ")
    text = _DOCTYPE + "\n" + ET.tostring(root, encoding="unicode") + "\n"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        stamp = (timestamp or datetime.now(timezone.utc)).astimezone(timezone.utc)
        entry = zipfile.ZipInfo(f"{Path(path).stem}.qgs", date_time=stamp.timetuple()[:6])
        entry.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(entry, text.encode("utf-8"))
    return Path(path)
