"""Print layouts of the QGIS project: one A4 landscape page per map theme.

Each layout holds a map that follows its analysis' map theme, the title the web page and
print figure use (:func:`geo.i18n.analysis_title` form), a legend listing the theme's
layers, a scale bar in kilometres, a north arrow and a source line. The XML is the
subset of what QGIS 3.22 writes that it needs to restore these items; QGIS fills every
other property with its defaults.
"""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from geo.qgis._themes import MapTheme

#: QgsLayoutItemRegistry item types (QGraphicsItem::UserType + 100 + n).
PAGE, MAP, PICTURE, LABEL, LEGEND, SCALEBAR = 65638, 65639, 65640, 65641, 65642, 65646

#: A4 landscape, millimetres.
PAGE_W, PAGE_H = 297.0, 210.0
MARGIN = 10.0
TITLE_H = 12.0
LEGEND_W = 70.0
SOURCE_H = 6.0

#: The north arrow SVG shipped inside every QGIS 3 installation (Qt resource path).
NORTH_ARROW_SVG = ":/images/north_arrows/layout_default_north_arrow.svg"
FONT = "Sans Serif"


@dataclass(frozen=True)
class LayoutSpec:
    name: str                        # layout name (the theme's)
    title: str                       # title text on the page
    theme: MapTheme
    extent: tuple[float, float, float, float]   # map extent in the project CRS
    source_line: str
    km_label: str                    # "km" / "公里"
    legend_title: str
    layer_titles: Mapping[str, str]  # layer id → title in the legend
    layer_sources: Mapping[str, tuple[str, str]]  # layer id → (source, provider)
    legend_summaries: Mapping[str, str] = field(default_factory=dict)   # layer id → its one legend row
    # layer id → the legend rows kept (not listed: all; none: the layer is not in the legend)
    legend_rows: Mapping[str, Sequence[int]] = field(default_factory=dict)
    legend_titles: Mapping[str, str] = field(default_factory=dict)   # layer id → its title in the legend


def _uuid(*parts: str) -> str:
    digest = hashlib.sha1("\x1f".join(parts).encode()).hexdigest()
    return f"{{{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}}}"


def _num(value: float) -> str:
    return f"{value:.4f}".rstrip("0").rstrip(".")


def _item(parent: ET.Element, item_type: int, uuid: str, x: float, y: float, w: float, h: float,
          z: int, item_id: str, **attrs: str) -> ET.Element:
    node = ET.SubElement(parent, "LayoutItem", {
        "type": str(item_type), "uuid": uuid, "templateUuid": uuid, "id": item_id,
        "position": f"{_num(x)},{_num(y)},mm", "positionOnPage": f"{_num(x)},{_num(y)},mm",
        "size": f"{_num(w)},{_num(h)},mm", "referencePoint": "0", "zValue": str(z),
        "visibility": "1", "opacity": "1", "blendMode": "0", "itemRotation": "0",
        "frame": "false", "background": "false", "positionLock": "false", "excludeFromExports": "0",
        "groupUuid": "", "outlineWidthM": "0.3,mm", "frameJoinStyle": "miter", **attrs,
    })
    ET.SubElement(node, "FrameColor", {"red": "0", "green": "0", "blue": "0", "alpha": "255"})
    ET.SubElement(node, "BackgroundColor", {"red": "255", "green": "255", "blue": "255", "alpha": "255"})
    obj = ET.SubElement(node, "LayoutObject")
    dd = ET.SubElement(obj, "dataDefinedProperties")
    coll = ET.SubElement(dd, "Option", {"type": "Map"})
    ET.SubElement(coll, "Option", {"name": "name", "type": "QString", "value": ""})
    ET.SubElement(coll, "Option", {"name": "properties"})
    ET.SubElement(coll, "Option", {"name": "type", "type": "QString", "value": "collection"})
    ET.SubElement(ET.SubElement(obj, "customproperties"), "Option")
    return node


def _font(size_pt: float, bold: bool = False) -> str:
    """A QFont description string (family, point size, ..., weight)."""
    return f"{FONT},{_num(size_pt)},-1,5,{75 if bold else 50},0,0,0,0,0"


def _label(parent: ET.Element, uuid: str, text: str, x: float, y: float, w: float, h: float, *,
           size_pt: float, bold: bool = False, halign: int = 4, item_id: str) -> None:
    node = _item(parent, LABEL, uuid, x, y, w, h, 3, item_id, labelText=text, htmlState="0",
                 marginX="0", marginY="0", halign=str(halign), valign="128")
    ET.SubElement(node, "LabelFont", {"description": _font(size_pt, bold), "style": ""})
    ET.SubElement(node, "FontColor", {"red": "0", "green": "0", "blue": "0", "alpha": "255"})


def fit_extent(extent: Sequence[float], width: float, height: float) -> tuple[float, float, float, float]:
    """``extent`` grown in one direction to the aspect ratio ``width / height``, same centre."""
    xmin, ymin, xmax, ymax = (float(v) for v in extent)
    w, h = max(xmax - xmin, 1e-9), max(ymax - ymin, 1e-9)
    target = width / height
    if w / h < target:
        w = h * target
    else:
        h = w / target
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2


def layout_xml(spec: LayoutSpec) -> ET.Element:
    """One ``<Layout>`` element."""
    layout = ET.Element("Layout", {"name": spec.name, "units": "mm", "printResolution": "300",
                                   "worldFileMap": ""})
    ET.SubElement(layout, "Snapper", {"snapToGrid": "0", "snapToGuides": "1", "snapToItems": "1",
                                      "tolerance": "5"})
    ET.SubElement(layout, "Grid", {"offsetUnits": "mm", "offsetX": "0", "offsetY": "0", "resUnits": "mm",
                                   "resolution": "10"})
    pages = ET.SubElement(layout, "PageCollection")
    _item(pages, PAGE, _uuid(spec.name, "page"), 0, 0, PAGE_W, PAGE_H, 0, "", background="true")
    ET.SubElement(pages, "GuideCollection", {"visible": "1"})

    map_uuid = _uuid(spec.name, "map")
    map_x, map_y = MARGIN, MARGIN + TITLE_H
    map_w = PAGE_W - 2 * MARGIN - LEGEND_W - 5
    map_h = PAGE_H - map_y - MARGIN - SOURCE_H
    extent = fit_extent(spec.extent, map_w, map_h)
    node = _item(layout, MAP, map_uuid, map_x, map_y, map_w, map_h, 1, "map", background="true",
                 frame="true", followPreset="true", followPresetName=spec.theme.name, keepLayerSet="false",
                 drawCanvasItems="true", mapRotation="0", labelMargin="0,mm", mapFlags="0", isTemporal="0")
    ET.SubElement(node, "Extent", dict(zip(("xmin", "ymin", "xmax", "ymax"), (repr(v) for v in extent))))
    ET.SubElement(node, "LayerSet")
    ET.SubElement(node, "AtlasMap", {"atlasDriven": "0", "margin": "0.1", "scalingMode": "2"})

    _label(layout, _uuid(spec.name, "title"), spec.title, MARGIN, MARGIN - 2, PAGE_W - 2 * MARGIN, TITLE_H,
           size_pt=18, bold=True, item_id="title")
    _label(layout, _uuid(spec.name, "source"), spec.source_line, MARGIN, PAGE_H - MARGIN - SOURCE_H + 1,
           PAGE_W - 2 * MARGIN, SOURCE_H, size_pt=8, halign=1, item_id="source")

    legend_x = map_x + map_w + 5
    legend = _item(layout, LEGEND, _uuid(spec.name, "legend"), legend_x, map_y, LEGEND_W, map_h, 2, "legend",
                   map_uuid=map_uuid, title=spec.legend_title, resizeToContents="0", columnCount="1",
                   splitLayer="0", equalColumnWidth="0", symbolWidth="7", symbolHeight="4",
                   wmsLegendWidth="50", wmsLegendHeight="25", wrapChar="", fontColor="#000000",
                   legendFilterByAtlas="0", legendFilterByMap="1", titleAlignment="1", symbolAlignment="1", boxSpace="2",
                   columnSpace="2", lineSpacing="1", rasterBorder="1", rasterBorderColor="0,0,0,255",
                   rasterBorderWidth="0", minSymbolSize="0", maxSymbolSize="0")
    styles = ET.SubElement(legend, "styles")
    for name, size, bold in (("title", 12, True), ("group", 10, True), ("subgroup", 9, False),
                             ("symbol", 8, False), ("symbolLabel", 8, False)):
        # the label 2 mm right of its symbol (QGIS' default 0 lets wide line symbols touch it)
        spacing = {"marginLeft": "2"} if name == "symbolLabel" else {}
        style = ET.SubElement(styles, "style", {"name": name, "alignment": "1", "indent": "0",
                                                "marginTop": "2", "marginBottom": "1", **spacing})
        ET.SubElement(style, "styleFont", {"description": _font(size, bold), "style": ""})
    tree = ET.SubElement(legend, "layer-tree-group")
    ET.SubElement(tree, "customproperties")
    for layer in spec.theme.layers:
        kept = spec.legend_rows.get(layer.layer_id)
        # the basemap, a layer drawn without symbols (labels only): drawn, not in the legend
        if layer.layer_id not in spec.layer_sources or (kept is not None and not kept):
            continue
        source, provider = spec.layer_sources[layer.layer_id]
        node = ET.SubElement(tree, "layer-tree-layer", {
            "id": layer.layer_id, "name": spec.layer_titles.get(layer.layer_id, layer.layer_id),
            "source": source, "providerKey": provider, "checked": "Qt::Checked", "expanded": "1",
            "legend_exp": "", "patch_size": "-1,-1", "legend_split_behavior": "0",
        })
        props = ET.SubElement(node, "customproperties")
        summary = spec.legend_summaries.get(layer.layer_id)
        custom = ()
        if summary:   # one row in the legend, as on the web page: the first class, relabelled
            custom = (("legend/node-order", "0"), ("legend/label-0", summary))
        elif kept is not None:    # some rows left out, as the web legend has not them
            custom = (("legend/node-order", ",".join(map(str, kept))),)
        if layer.layer_id in spec.legend_titles:
            custom += (("legend/title-label", spec.legend_titles[layer.layer_id]),)
        if custom:
            options = ET.SubElement(props, "Option", {"type": "Map"})
            for key, value in custom:
                ET.SubElement(options, "Option", {"type": "QString", "name": key, "value": value})

    bar_w = min(60.0, map_w / 3)
    bar = _item(layout, SCALEBAR, _uuid(spec.name, "scalebar"), map_x + 4, map_y + map_h - 16, bar_w + 20, 12,
                4, "scalebar", background="true", mapUuid=map_uuid, style="Single Box", unitType="km",
                unitLabel=spec.km_label, numSegments="2", numSegmentsLeft="0", numSubdivisions="1",
                subdivisionsHeight="1.5", segmentSizeMode="1", minBarWidth=_num(bar_w / 2),
                maxBarWidth=_num(bar_w), numUnitsPerSegment="1", numMapUnitsPerScaleBarUnit="1",
                height="2", labelBarSpace="2", boxContentSpace="1", alignment="0", outlineWidth="0.3",
                labelVerticalPlacement="0", labelHorizontalPlacement="0", lineJoinStyle="miter",
                lineCapStyle="square")
    ET.SubElement(bar, "text-style", {"fontFamily": FONT, "fontSize": "8", "fontSizeUnit": "Point",
                                      "textColor": "0,0,0,255", "textOpacity": "1", "fontWeight": "50"})

    size = 14.0
    _item(layout, PICTURE, _uuid(spec.name, "north"), map_x + map_w - size - 3, map_y + 3, size, size * 1.3, 5,
          "north_arrow", file=NORTH_ARROW_SVG, mode="0", mapUuid=map_uuid, northMode="0", northOffset="0",
          resizeMode="0", anchorPoint="0", pictureRotation="0", pictureWidth=_num(size),
          pictureHeight=_num(size * 1.3), svgFillColor="0,0,0,255", svgBorderColor="0,0,0,255",
          svgBorderWidth="0.2")
    ET.SubElement(layout, "Atlas", {"enabled": "0", "coverageLayer": "", "hideCoverage": "0",
                                    "filterFeatures": "0", "sortFeatures": "0", "pageNameExpression": "",
                                    "filenamePattern": "'output_'||@atlas_featurenumber"})
    return layout


def layouts_xml(specs: Sequence[LayoutSpec]) -> ET.Element:
    """``<Layouts>`` holding one layout per spec."""
    node = ET.Element("Layouts")
    for spec in specs:
        node.append(layout_xml(spec))
    return node
