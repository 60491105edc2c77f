"""Open a zoneatlas QGIS package in real QGIS and print a JSON report (last stdout line).

Run by tests/test_qgis.py with the system interpreter that has PyQGIS::

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 tests/_pyqgis_check.py PROJECT.qgz PACKAGE.gpkg

Reports the project (read ok, CRS, groups, every layer: validity, feature count,
renderer type, styles, aliases, visibility), each GeoPackage layer opened on its own
(its default style from ``layer_styles``) and every QGIS message-log entry.
"""

from __future__ import annotations

import json
import sqlite3
import sys

from qgis.core import (
    Qgis,
    QgsApplication,
    QgsExpressionContextUtils,
    QgsLayerTreeGroup,
    QgsMessageLog,
    QgsProject,
    QgsRenderContext,
    QgsSymbolLayer,
    QgsVectorLayer,
)


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
    if isinstance(layer, QgsVectorLayer):
        uri = layer.dataProvider().uri().uri() if layer.dataProvider() else ""
        info["layername"] = layer.source().split("layername=", 1)[-1].split("|", 1)[0]
        info["uri"] = uri
        info["features"] = int(layer.featureCount())
        renderer = layer.renderer()
        info["renderer"] = renderer.type() if renderer is not None else None
        info["labels"] = bool(layer.labelsEnabled())
        if layer.labelsEnabled() and layer.labeling() is not None:
            settings = layer.labeling().settings()
            info["label_field"] = settings.fieldName
            info["label_placement"] = int(settings.placement)
        info["aliases"] = {f.name(): f.alias() for f in layer.fields()}
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
        for name in manager.styles():
            manager.setCurrentStyle(name)
            if name != current:
                alt[name] = layer.renderer().type() if layer.renderer() is not None else None
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


def main(qgz: str, gpkg: str) -> dict:
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
        },
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
        result = main(sys.argv[1], sys.argv[2])
    finally:
        pass
    print(json.dumps(result, ensure_ascii=False))
    sys.stdout.flush()
    app.exitQgis()
