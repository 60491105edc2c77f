"""Open a zoneatlas QGIS package in real QGIS and print a JSON report (last stdout line).

Run by tests/test_qgis.py with the system interpreter that has PyQGIS::

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 tests/_pyqgis_check.py PROJECT.qgz PACKAGE.gpkg [OUT_DIR]

Reports the project (read ok, CRS, groups, every layer: validity, feature count,
renderer type, styles with their legend rows (and for polygon layers of up to 2,000 features
the colours each style draws every feature in), aliases, visibility), each GeoPackage layer opened on its own
(its default style from ``layer_styles``) and every QGIS message-log entry; the project
ellipsoid with the area and length QGIS measures for every feature; each map theme with
its layers, their styles and the colour QGIS draws every feature in (symbol colours with
data-defined overrides evaluated); each print layout with its items and the rows its legend
shows (filtered by the map as drawn), exported to PDF and PNG into OUT_DIR when given.
"""

from __future__ import annotations

import json
import sqlite3
import sys

from qgis.core import (
    Qgis,
    QgsApplication,
    QgsDistanceArea,
    QgsExpressionContextUtils,
    QgsLayerTreeGroup,
    QgsLayoutExporter,
    QgsLayoutItemLabel,
    QgsLayoutItemLegend,
    QgsLayoutItemMap,
    QgsLayoutItemPicture,
    QgsLayoutItemScaleBar,
    QgsMessageLog,
    QgsProject,
    QgsRasterLayer,
    QgsRenderContext,
    QgsSymbolLayer,
    QgsSymbolLegendNode,
    QgsUnitTypes,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QSize, Qt


def _rect(extent) -> list[float] | None:
    if extent.isEmpty():
        return None
    return [extent.xMinimum(), extent.yMinimum(), extent.xMaximum(), extent.yMaximum()]


def _layer_info(layer, tree_root) -> dict:
    node = tree_root.findLayer(layer.id())
    info = {
        "id": layer.id(),
        "title": layer.name(),
        "valid": layer.isValid(),
        "provider": layer.providerType(),
        "source": layer.source(),
        "crs": layer.crs().authid(),
        "visible": bool(node.isVisible()) if node is not None else None,
        "scale_limited": bool(layer.hasScaleBasedVisibility()),
        "min_scale": layer.minimumScale(),
    }
    if isinstance(layer, QgsRasterLayer) and layer.providerType() == "gdal":
        renderer = layer.renderer()
        info["layername"] = layer.source().replace("\\", "/").rsplit("/", 1)[-1]
        info["renderer"] = renderer.type() if renderer is not None else None
        info["legend"] = [[text, color.name()] for text, color in renderer.legendSymbologyItems()] if renderer else []
        info["size"] = [layer.width(), layer.height()]
    if isinstance(layer, QgsVectorLayer):
        uri = layer.dataProvider().uri().uri() if layer.dataProvider() else ""
        info["layername"] = layer.source().split("layername=", 1)[-1].split("|", 1)[0]
        info["subset"] = layer.subsetString()
        info["view"] = str(layer.customProperty("zoneatlas/view", "") or "")
        info["uri"] = uri
        info["features"] = int(layer.featureCount())
        renderer = layer.renderer()
        info["renderer"] = renderer.type() if renderer is not None else None
        info["labels"] = bool(layer.labelsEnabled())
        if renderer is not None and renderer.orderByEnabled():
            info["order_by"] = renderer.orderBy().dump()
        if renderer is not None:
            info["legend"] = [item.label() for item in renderer.legendSymbolItems()]
        if layer.labelsEnabled() and layer.labeling() is not None:
            settings = layer.labeling().settings()
            info["label_field"] = settings.fieldName
            info["label_placement"] = int(settings.placement)
        info["aliases"] = {f.name(): f.alias() for f in layer.fields()}
        info["field_types"] = {f.name(): f.typeName() for f in layer.fields()}
        info["hidden_columns"] = [c.name for c in layer.attributeTableConfig().columns() if c.hidden and c.name]
        maps = {}
        for i, f in enumerate(layer.fields()):
            setup = layer.editorWidgetSetup(i)
            if setup.type() == "ValueMap":
                maps[f.name()] = {value: text for entry in setup.config().get("map", [])
                                  for text, value in entry.items()}
        info["value_maps"] = maps
        # what the attribute table shows for the first feature (the value map's label)
        first = next(iter(layer.getFeatures()), None)
        if first is not None and maps:
            from qgis.core import QgsApplication as _App
            shown = {}
            for name in maps:
                i = layer.fields().indexOf(name)
                setup = layer.editorWidgetSetup(i)
                formatter = _App.fieldFormatterRegistry().fieldFormatter(setup.type())
                shown[name] = formatter.representValue(layer, i, setup.config(), None, first[name])
            info["shown_first"] = shown
        if renderer is not None and renderer.type() == "categorizedSymbol":
            info["categories"] = [str(c.value()) for c in renderer.categories()]
        if renderer is not None and renderer.type() == "graduatedSymbol":
            ranges = renderer.ranges()   # keep the copies alive while their symbols are used
            info["ranges"] = [[r.lowerValue(), r.upperValue()] for r in ranges]
            if ranges:
                symbol_layer = ranges[0].symbol().symbolLayer(0)
                props = symbol_layer.dataDefinedProperties()
                prop = props.property(QgsSymbolLayer.PropertyStrokeColor)
                info["color_expression"] = prop.expressionString() if prop.isActive() else ""
        manager = layer.styleManager()
        info["styles"] = sorted(manager.styles())
        current = manager.currentStyle()
        alt = {}
        # every style's legend rows, and (small polygon layers) the colours it draws each feature in
        info["style_legends"], info["style_colours"] = {}, {}
        for name in manager.styles():
            manager.setCurrentStyle(name)
            if name != current:
                alt[name] = layer.renderer().type() if layer.renderer() is not None else None
            if layer.renderer() is not None:
                info["style_legends"][name] = [item.label() for item in layer.renderer().legendSymbolItems()]
            if layer.geometryType() == 2 and layer.featureCount() <= 2000:
                info["style_colours"][name] = _feature_colours(layer, name)
                manager.setCurrentStyle(name)
            feature = next(iter(layer.getFeatures()), None)
            if name == "core_id" and layer.renderer() is not None and feature is not None:
                ctx = QgsRenderContext()
                ctx.expressionContext().appendScopes(
                    QgsExpressionContextUtils.globalProjectLayerScopes(layer))
                ctx.expressionContext().setFeature(feature)
                renderer = layer.renderer()
                renderer.startRender(ctx, layer.fields())
                symbols = renderer.symbolsForFeature(feature, ctx)
                info["core_id_symbol_found"] = bool(symbols)
                info["core_id_attr"] = renderer.classAttribute()
                renderer.stopRender(ctx)
        manager.setCurrentStyle(current)
        info["alt_renderers"] = alt
        info["current_style"] = current
    return info


def _hex(color) -> list:
    """``[#rrggbb, alpha]`` of a QColor (alpha 0..1, 3 decimals)."""
    return [color.name(), round(color.alphaF(), 3)]


_FILL = {"fill": QgsSymbolLayer.PropertyFillColor, "stroke": QgsSymbolLayer.PropertyStrokeColor}


def _symbol_colours(symbol, ctx, opacity: float) -> dict:
    """The fill and stroke colours (and line width) one symbol draws the context's feature in."""
    sl = symbol.symbolLayer(0)
    kind = symbol.type()            # 0 marker, 1 line, 2 fill
    base = {"stroke": sl.color() if kind == 1 else sl.strokeColor()}
    if kind != 1:
        base["fill"] = sl.color()
    colours = {}
    props = sl.dataDefinedProperties()
    if kind in (1, 2):     # a stroke drawn with no pen (Qt.NoPen, or data-defined "no") is not seen
        pen = props.property(QgsSymbolLayer.PropertyStrokeStyle)
        style = pen.valueAsString(ctx.expressionContext(), "")[0] if pen.isActive() else ""
        if style == "no" or (not style and int(sl.penStyle() if kind == 1 else sl.strokeStyle()) == 0):
            del base["stroke"]
    for key, color in base.items():
        prop = props.property(_FILL[key])
        if prop.isActive():
            color = prop.valueAsColor(ctx.expressionContext(), color)[0]
        if key == "fill" and kind == 2 and int(sl.brushStyle()) == 0:     # Qt.NoBrush: outline only
            continue
        color.setAlphaF(color.alphaF() * symbol.opacity() * opacity)
        colours[key] = _hex(color)
    if kind == 1 or (kind == 2 and "stroke" in colours):   # line / outline width (mm), data-defined evaluated
        prop = props.property(QgsSymbolLayer.PropertyStrokeWidth)
        width = sl.width() if kind == 1 else sl.strokeWidth()
        if prop.isActive():
            width = prop.valueAsDouble(ctx.expressionContext(), width)[0]
        colours["width_mm"] = round(width, 4)
    if kind == 0:          # a marker: its size and outline width (mm), data-defined size evaluated
        prop = props.property(QgsSymbolLayer.PropertySize)
        size = sl.size()
        if prop.isActive():
            size = prop.valueAsDouble(ctx.expressionContext(), size)[0]
        colours["size_mm"] = round(size, 4)
        colours["stroke_mm"] = round(sl.strokeWidth(), 4)
    if kind == 1 and sl.useCustomDashPattern():     # a dashed line: its dash and gap (mm)
        colours["dash_mm"] = [round(v, 4) for v in sl.customDashVector()]
    return colours


def _feature_colours(layer, style: str) -> dict:
    """fid → {fill, stroke}: the colour the layer's ``style`` draws each feature in.

    The renderer picks the symbols (a rule-based renderer may draw a feature in several, one
    over the other: the fill and stroke seen are the topmost drawn); a data-defined fill or
    stroke colour is evaluated for the feature. Alpha is the colour's times the symbol's
    opacity and the layer's. A feature the renderer draws with no symbol maps to None.
    """
    manager = layer.styleManager()
    before = manager.currentStyle()
    manager.setCurrentStyle(style)
    renderer = layer.renderer().clone()
    ctx = QgsRenderContext()
    ctx.expressionContext().appendScopes(QgsExpressionContextUtils.globalProjectLayerScopes(layer))
    renderer.startRender(ctx, layer.fields())
    out = {}
    for feature in layer.getFeatures():
        ctx.expressionContext().setFeature(feature)
        symbols = renderer.symbolsForFeature(feature, ctx)
        if not symbols:
            out[feature.id()] = None
            continue
        colours = {}
        for symbol in symbols:          # in drawing order: a later one's colours on top
            colours.update(_symbol_colours(symbol, ctx, layer.opacity()))
        out[feature.id()] = colours
    renderer.stopRender(ctx)
    manager.setCurrentStyle(before)
    return out


def _rendered_fills(project, layer, style: str) -> dict:
    """fid → colour of the rendered pixel deep inside each polygon: the layer alone, in
    ``style``, drawn by QGIS' map renderer on white (no labels). Only features whose
    pole of inaccessibility lies at least 6 px from their outline are sampled."""
    from qgis.core import (
        QgsCoordinateTransform,
        QgsMapRendererSequentialJob,
        QgsMapSettings,
    )
    from qgis.PyQt.QtGui import QColor

    manager = layer.styleManager()
    before = manager.currentStyle()
    manager.setCurrentStyle(style)
    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setDestinationCrs(project.crs())
    to_map = QgsCoordinateTransform(layer.crs(), project.crs(), project.transformContext())
    settings.setExtent(to_map.transformBoundingBox(layer.extent()).buffered(100))
    settings.setOutputSize(QSize(1600, 1600))
    settings.setBackgroundColor(QColor("#ffffff"))
    settings.setFlag(QgsMapSettings.DrawLabeling, False)
    settings.setFlag(QgsMapSettings.Antialiasing, False)
    job = QgsMapRendererSequentialJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    m2p = settings.mapToPixel()
    out = {}
    for feature in layer.getFeatures():
        g = feature.geometry()
        if g.isNull():
            continue
        g.transform(to_map)
        pole, distance = g.poleOfInaccessibility(m2p.mapUnitsPerPixel())
        if distance / m2p.mapUnitsPerPixel() < 6:
            continue
        pt = m2p.transform(pole.asPoint())
        out[feature.id()] = QColor(image.pixel(int(pt.x()), int(pt.y()))).name()
    manager.setCurrentStyle(before)
    return out


def _themes(project) -> dict:
    coll = project.mapThemeCollection()
    themes = {}
    for name in coll.mapThemes():
        record = coll.mapThemeState(name)
        layers = {}
        for rec in record.layerRecords():
            layer = rec.layer()
            if layer is None or not isinstance(layer, QgsVectorLayer):
                continue
            style = rec.currentStyle if rec.usingCurrentStyle else layer.styleManager().currentStyle()
            key = layer.source().split("layername=", 1)[-1].split("|", 1)[0]
            layers[key] = {"style": style, "colours": _feature_colours(layer, style)}
            if layer.geometryType() == 2 and layer.featureCount() > 0 and not layer.extent().isEmpty():
                layers[key]["rendered"] = _rendered_fills(project, layer, style)
        shown = coll.mapThemeVisibleLayers(name)
        themes[name] = {"visible": [l.source().split("layername=", 1)[-1].split("|", 1)[0] for l in shown],
                        "ids": [l.id() for l in shown], "layers": layers}
    return themes


def _measurements(project) -> dict:
    """Area (m², polygons) and length (m, lines) of every feature as the project measures them."""
    out = {}
    for layer in project.mapLayers().values():
        if not isinstance(layer, QgsVectorLayer) or layer.geometryType() not in (1, 2):
            continue
        # as $area / $length: the layer's CRS, the project's ellipsoid
        da = QgsDistanceArea()
        da.setSourceCrs(layer.crs(), project.transformContext())
        da.setEllipsoid(project.ellipsoid())
        key = layer.source().split("layername=", 1)[-1].split("|", 1)[0]
        values = {}
        for feature in layer.getFeatures():
            g = feature.geometry()
            if g.isNull():
                continue
            if layer.geometryType() == 2:
                v = da.convertAreaMeasurement(da.measureArea(g), QgsUnitTypes.AreaSquareMeters)
            else:
                v = da.convertLengthMeasurement(da.measureLength(g), QgsUnitTypes.DistanceMeters)
            values[feature.id()] = v
        out[key] = values
    return out


def _legend_title(node) -> str:
    """The title a layout legend prints for a layer: its own name unless the legend renames it."""
    return node.customProperty("legend/title-label") or node.name()


def _legend_rows(legend) -> dict:
    """Layer title (as printed) → the rows the printed legend shows under it (filtered by the
    map as drawn): ``[label, symbol]``, the symbol's stroke and fill ``[#rrggbb, alpha]`` (fill
    None when unfilled) and line width in mm."""
    model = legend.model()
    out = {}
    for node in model.rootGroup().findLayers():
        rows = []
        for legend_node in model.layerLegendNodes(node):
            symbol = legend_node.symbol() if isinstance(legend_node, QgsSymbolLegendNode) else None
            sl = symbol.symbolLayer(0) if symbol is not None and symbol.symbolLayerCount() else None
            drawn = None
            if sl is not None:
                kind = symbol.type()       # 0 marker, 1 line, 2 fill
                drawn = {"stroke": _hex(sl.color() if kind == 1 else sl.strokeColor()),
                         "fill": None if kind == 1 or (kind == 2 and int(sl.brushStyle()) == 0) else _hex(sl.color()),
                         "width_mm": round(sl.width() if kind == 1 else getattr(sl, "strokeWidth", lambda: 0.0)(), 4)}
            rows.append([legend_node.data(Qt.DisplayRole), drawn])
        out[_legend_title(node)] = rows
    return out


def _layouts(project, out_dir: str | None) -> dict:
    layouts = {}
    for layout in project.layoutManager().layouts():
        info = {"items": {}}
        for item in layout.items():
            if isinstance(item, QgsLayoutItemMap):
                info["items"]["map"] = {"theme": item.followVisibilityPresetName() if item.followVisibilityPreset()
                                        else None, "scale": item.scale(),
                                        "extent": _rect(item.extent()),
                                        "layers": [l.name() for l in item.layersToRender()]}
            elif isinstance(item, QgsLayoutItemLegend):
                info["items"]["legend"] = {"linked": item.linkedMap() is not None, "title": item.title(),
                                           "layers": [_legend_title(n) for n in item.model().rootGroup().findLayers()]}
            elif isinstance(item, QgsLayoutItemScaleBar):
                info["items"]["scalebar"] = {"linked": item.linkedMap() is not None,
                                             "units": QgsUnitTypes.encodeUnit(item.units()),
                                             "label": item.unitLabel(), "segment": item.unitsPerSegment(),
                                             "segments": item.numberOfSegments()}
            elif isinstance(item, QgsLayoutItemPicture):
                info["items"][item.id() or "picture"] = {"linked": item.linkedMap() is not None,
                                                         "missing": item.isMissingImage(),
                                                         "path": item.picturePath()}
            elif isinstance(item, QgsLayoutItemLabel):
                info["items"][item.id() or "label"] = {"text": item.text()}
        exporter = QgsLayoutExporter(layout)
        if out_dir:
            safe = "".join(c if c.isalnum() else "_" for c in layout.name())
            pdf = f"{out_dir}/{safe}.pdf"
            png = f"{out_dir}/{safe}.png"
            image = QgsLayoutExporter.ImageExportSettings()
            image.dpi = 60
            info["pdf"] = {"path": pdf, "result": int(exporter.exportToPdf(
                pdf, QgsLayoutExporter.PdfExportSettings()))}
            info["png"] = {"path": png, "result": int(exporter.exportToImage(png, image))}
        else:   # painted once: the legend filters its rows by the map only when drawn
            exporter.renderPageToImage(0, QSize(297, 210))
        legend = next((item for item in layout.items() if isinstance(item, QgsLayoutItemLegend)), None)
        if legend is not None:
            info["legend_rows"] = _legend_rows(legend)
        layouts[layout.name()] = info
    return layouts


def main(qgz: str, gpkg: str, out_dir: str | None = None) -> dict:
    messages = []

    def on_message(message, tag, level):
        messages.append({"message": message, "tag": tag, "level": int(level)})

    QgsApplication.messageLog().messageReceived.connect(on_message)
    QgsMessageLog.logMessage("probe", "zoneatlas-check", Qgis.Info)   # proves the capture works

    project = QgsProject.instance()
    ok = project.read(qgz)
    root = project.layerTreeRoot()
    layers = [_layer_info(layer, root) for layer in project.mapLayers().values()]
    groups = [child.name() for child in root.children() if isinstance(child, QgsLayerTreeGroup)]
    report = {
        "project": {
            "read": bool(ok),
            "error": project.error(),
            "crs": project.crs().authid(),
            "groups": groups,
            "layers": layers,
            "absolute_paths": project.readBoolEntry("Paths", "/Absolute", True)[0],
            "title": project.title(),
            "default_view": _rect(project.viewSettings().defaultViewExtent()),
            "ellipsoid": project.ellipsoid(),
            "distance_units": QgsUnitTypes.encodeUnit(project.distanceUnits()),
            "area_units": QgsUnitTypes.encodeUnit(project.areaUnits()),
        },
        "measured": _measurements(project),
        "themes": _themes(project),
        "layouts": _layouts(project, out_dir),
    }
    project.clear()

    con = sqlite3.connect(gpkg)
    defaults = [row[0] for row in con.execute(
        "SELECT f_table_name FROM layer_styles WHERE useAsDefault = 1 ORDER BY id")]
    con.close()
    standalone = {}
    for name in defaults:
        layer = QgsVectorLayer(f"{gpkg}|layername={name}", name, "ogr")
        standalone[name] = {
            "valid": layer.isValid(),
            "renderer": layer.renderer().type() if layer.renderer() is not None else None,
            "features": int(layer.featureCount()),
            "labels": bool(layer.labelsEnabled()),
            "aliases": {f.name(): f.alias() for f in layer.fields()},
        }
        del layer
    report["standalone"] = standalone
    QgsApplication.processEvents()
    report["messages"] = messages
    report["qgis_version"] = Qgis.QGIS_VERSION
    return report


if __name__ == "__main__":
    app = QgsApplication([], False)
    app.initQgis()
    try:
        result = main(*sys.argv[1:4])
    finally:
        pass
    print(json.dumps(result, ensure_ascii=False))
    sys.stdout.flush()
    app.exitQgis()
