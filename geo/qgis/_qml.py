"""Builders for QGIS style XML (QML): symbols, renderers, labels, aliases.

The XML follows the layout QGIS 3.22 LTR writes itself (``<renderer-v2>``,
``<labeling type="simple">``, ``<aliases>``), restricted to elements that 3.22 and
later read without warnings. Symbol layer properties are written both as
``<Option type="Map">`` (QGIS >= 3.16) and as legacy ``<prop k= v=>`` pairs, as QGIS
itself does. Everything here is plain :mod:`xml.etree`; no QGIS is needed at run time.

The same elements go into the ``styleQML`` column of the GeoPackage ``layer_styles``
table (see :func:`qml_document`) and into the project's ``<maplayer>`` elements (see
:func:`style_children`).
"""

from __future__ import annotations

import copy
import hashlib
import math
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from geo.qgis._xml import clean_tree
from geo.styles import MISSING_COLOR, px_to_mm

#: Version written into QML and project files: the oldest QGIS the package targets.
QGIS_VERSION = "3.22.0-Białowieża"

_UNIT_SCALE = "3x:0,0,0,0,0,0"
_DOCTYPE = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>"


def rgba(color: str, alpha: float = 1.0) -> str:
    """``#rrggbb`` (or ``#rgb``) to QGIS' ``"r,g,b,a"`` with ``alpha`` in [0, 1].

    Examples
    --------
    >>> rgba("#E69F00", 0.5)
    '230,159,0,128'
    """
    text = color.lstrip("#")
    if len(text) == 3:
        text = "".join(c * 2 for c in text)
    if len(text) != 6:
        raise ValueError(f"colour must be #rrggbb, got {color!r}")
    r, g, b = (int(text[i:i + 2], 16) for i in (0, 2, 4))
    return f"{r},{g},{b},{round(max(0.0, min(1.0, alpha)) * 255)}"


def _num(value: float) -> str:
    """A number as QGIS writes it (no trailing ``.0``, full precision)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value)) if isinstance(value, float) else str(value)


# ---------------------------------------------------------------------------
# <Option> maps


def _option_map(parent: ET.Element, values: Mapping[str, object], name: str | None = None) -> ET.Element:
    """Append an ``<Option type="Map">`` holding ``values`` (str, bool, int, float, dict)."""
    attrs = {"type": "Map"}
    if name is not None:
        attrs = {"name": name, "type": "Map"}
    node = ET.SubElement(parent, "Option", attrs)
    for key, value in values.items():
        if isinstance(value, Mapping):
            _option_map(node, value, name=key)
        elif isinstance(value, bool):
            ET.SubElement(node, "Option", {"name": key, "type": "bool", "value": "true" if value else "false"})
        elif isinstance(value, int):
            ET.SubElement(node, "Option", {"name": key, "type": "int", "value": str(value)})
        else:
            ET.SubElement(node, "Option", {"name": key, "type": "QString", "value": str(value)})
    return node


def _data_defined(parent: ET.Element, properties: Mapping[str, str] | None = None) -> None:
    """``<data_defined_properties>`` with expression-based properties (``name -> expr``)."""
    node = ET.SubElement(parent, "data_defined_properties")
    coll = ET.SubElement(node, "Option", {"type": "Map"})
    ET.SubElement(coll, "Option", {"name": "name", "type": "QString", "value": ""})
    if properties:
        props = ET.SubElement(coll, "Option", {"name": "properties", "type": "Map"})
        for key, expression in properties.items():
            _option_map(props, {"active": True, "expression": expression, "type": 3}, name=key)
    else:
        ET.SubElement(coll, "Option", {"name": "properties"})
    ET.SubElement(coll, "Option", {"name": "type", "type": "QString", "value": "collection"})


# ---------------------------------------------------------------------------
# symbols


@dataclass
class SymbolLayer:
    """One QGIS symbol layer: its class (``SimpleFill`` ...) and string properties."""

    cls: str
    props: dict[str, str]
    data_defined: dict[str, str] = field(default_factory=dict)

    def to_xml(self, parent: ET.Element) -> ET.Element:
        node = ET.SubElement(parent, "layer", {"class": self.cls, "enabled": "1", "locked": "0", "pass": "0"})
        _option_map(node, dict(sorted(self.props.items())))
        for key, value in sorted(self.props.items()):
            ET.SubElement(node, "prop", {"k": key, "v": value})
        _data_defined(node, self.data_defined)
        return node


@dataclass
class Symbol:
    """A QGIS symbol: ``kind`` is ``fill``, ``line`` or ``marker``."""

    kind: str
    layers: list[SymbolLayer]
    alpha: float = 1.0

    def to_xml(self, parent: ET.Element, name: str) -> ET.Element:
        node = ET.SubElement(parent, "symbol", {
            "alpha": _num(float(self.alpha)), "clip_to_extent": "1", "force_rhr": "0",
            "name": name, "type": self.kind,
        })
        _data_defined(node)
        for layer in self.layers:
            layer.to_xml(node)
        return node


def fill_symbol(color: str | None, outline: str, *, fill_alpha: float = 1.0,
                outline_width_mm: float = px_to_mm(1.0), outline_style: str = "solid",
                data_defined: dict[str, str] | None = None, outline_alpha: float = 1.0) -> Symbol:
    """A simple polygon symbol; ``color=None`` draws the outline only.

    ``data_defined`` maps QGIS property names (``outlineWidth``, ``outlineColor``,
    ``fillColor``) to expressions.
    """
    props = {
        "border_width_map_unit_scale": _UNIT_SCALE,
        "color": rgba(color, fill_alpha) if color else "0,0,0,0",
        "joinstyle": "bevel",
        "offset": "0,0",
        "offset_map_unit_scale": _UNIT_SCALE,
        "offset_unit": "MM",
        "outline_color": rgba(outline, outline_alpha),
        "outline_style": outline_style,
        "outline_width": _num(float(outline_width_mm)),
        "outline_width_unit": "MM",
        "style": "solid" if color else "no",
    }
    return Symbol("fill", [SymbolLayer("SimpleFill", props, dict(data_defined or {}))])


def with_data_defined(symbol: Symbol, properties: dict[str, str]) -> Symbol:
    """A copy of ``symbol`` whose symbol layers also have the data-defined ``properties``."""
    out = copy.deepcopy(symbol)
    for layer in out.layers:
        layer.data_defined.update(properties)
    return out


def line_symbol(color: str, width_mm: float, *, color_expression: str | None = None,
                width_expression: str | None = None, style_expression: str | None = None,
                alpha: float = 1.0, offset_mm: float = 0.0, dash_mm: tuple[float, float] | None = None) -> Symbol:
    """A simple line symbol, optionally with data-defined colour, width and pen style;
    ``offset_mm`` > 0 draws it that far to the right of the line's direction; ``dash_mm``
    (dash, gap) dashes it (round ends, as a browser draws a dashed line)."""
    props = {
        "capstyle": "round",
        "customdash": ";".join(_num(float(v)) for v in dash_mm) if dash_mm else "5;2",
        "customdash_map_unit_scale": _UNIT_SCALE,
        "customdash_unit": "MM",
        "draw_inside_polygon": "0",
        "joinstyle": "round",
        "line_color": rgba(color),
        "line_style": "solid",
        "line_width": _num(float(width_mm)),
        "line_width_unit": "MM",
        "offset": _num(float(offset_mm)),
        "offset_map_unit_scale": _UNIT_SCALE,
        "offset_unit": "MM",
        "ring_filter": "0",
        "use_custom_dash": "1" if dash_mm else "0",
        "width_map_unit_scale": _UNIT_SCALE,
    }
    dd = {}
    if color_expression:
        dd["outlineColor"] = color_expression
    if width_expression:
        dd["outlineWidth"] = width_expression
    if style_expression:
        dd["outlineStyle"] = style_expression
    return Symbol("line", [SymbolLayer("SimpleLine", props, dd)], alpha=alpha)


def marker_symbol(color: str, size_mm: float, *, outline: str | None = None,
                  outline_width_mm: float = 0.0, shape: str = "circle") -> Symbol:
    """A simple marker (point) symbol."""
    props = {
        "angle": "0",
        "color": rgba(color),
        "horizontal_anchor_point": "1",
        "joinstyle": "bevel",
        "name": shape,
        "offset": "0,0",
        "offset_map_unit_scale": _UNIT_SCALE,
        "offset_unit": "MM",
        "outline_color": rgba(outline or color),
        "outline_style": "solid" if outline else "no",
        "outline_width": _num(float(outline_width_mm)),
        "outline_width_map_unit_scale": _UNIT_SCALE,
        "outline_width_unit": "MM",
        "scale_method": "diameter",
        "size": _num(float(size_mm)),
        "size_map_unit_scale": _UNIT_SCALE,
        "size_unit": "MM",
        "vertical_anchor_point": "1",
    }
    return Symbol("marker", [SymbolLayer("SimpleMarker", props)])


# ---------------------------------------------------------------------------
# renderers


@dataclass
class Category:
    value: object          # None: the "all other values" category
    label: str
    symbol: Symbol


@dataclass
class Range:
    lower: float
    upper: float
    label: str
    symbol: Symbol


def _renderer(type_: str, **attrs: str) -> ET.Element:
    node = ET.Element("renderer-v2", {
        "enableorderby": "0", "forceraster": "0", "referencescale": "-1",
        "symbollevels": "0", "type": type_, **attrs,
    })
    return node


def null_renderer() -> ET.Element:
    """``nullSymbol`` renderer: draws no feature (its labels only), no legend row."""
    return _renderer("nullSymbol")


def single_renderer(symbol: Symbol) -> ET.Element:
    """``singleSymbol`` renderer."""
    node = _renderer("singleSymbol")
    symbol.to_xml(ET.SubElement(node, "symbols"), "0")
    ET.SubElement(node, "rotation")
    ET.SubElement(node, "sizescale")
    return node


def categorized_renderer(field_name: str, categories: Sequence[Category]) -> ET.Element:
    """``categorizedSymbol`` renderer on ``field_name`` (string values)."""
    node = _renderer("categorizedSymbol", attr=field_name)
    cats = ET.SubElement(node, "categories")
    symbols = ET.SubElement(node, "symbols")
    for i, cat in enumerate(categories):
        value = "" if cat.value is None else str(cat.value)
        ET.SubElement(cats, "category", {"label": cat.label, "render": "true", "symbol": str(i), "value": value})
        cat.symbol.to_xml(symbols, str(i))
    ET.SubElement(node, "rotation")
    ET.SubElement(node, "sizescale")
    return node


def graduated_renderer(field_name: str, ranges: Sequence[Range], *, method: str = "GraduatedColor") -> ET.Element:
    """``graduatedSymbol`` renderer on ``field_name`` with explicit class limits.

    A value ``v`` falls in the first range with ``lower <= v <= upper`` (QGIS tests the
    ranges in order), the same intervals :func:`geo.styles.classify` uses.
    """
    node = _renderer("graduatedSymbol", attr=field_name, graduatedMethod=method)
    rng = ET.SubElement(node, "ranges")
    symbols = ET.SubElement(node, "symbols")
    for i, r in enumerate(ranges):
        ET.SubElement(rng, "range", {
            "label": r.label, "lower": f"{r.lower:.15f}", "render": "true",
            "symbol": str(i), "upper": f"{r.upper:.15f}",
        })
        r.symbol.to_xml(symbols, str(i))
    method_node = ET.SubElement(node, "classificationMethod", {"id": "Custom"})
    ET.SubElement(method_node, "symmetricMode", {"astride": "0", "enabled": "0", "symmetrypoint": "0"})
    ET.SubElement(method_node, "labelFormat", {"format": "%1 - %2", "labelprecision": "2", "trimtrailingzeroes": "1"})
    ET.SubElement(method_node, "parameters")
    ET.SubElement(method_node, "extraInformation")
    ET.SubElement(node, "rotation")
    ET.SubElement(node, "sizescale")
    return node


@dataclass
class Rule:
    """One rule of a rule-based renderer: the features passing ``filter`` (a QGIS expression)
    drawn in ``symbol``, with the legend row ``label``."""

    filter: str
    label: str
    symbol: Symbol


def _field(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def category_rules(field_name: str, categories: Sequence[Category]) -> list[Rule]:
    """Rules drawing what :func:`categorized_renderer` draws: each value in its category's
    symbol; the category of value ``None`` (QGIS' "all other values") also NULL and every
    value without a category of its own."""
    f = _field(field_name)
    listed = ", ".join(_literal(c.value) for c in categories if c.value is not None)
    other = f"coalesce({f}, '') NOT IN ({listed})" if listed else "TRUE"
    return [Rule(other if c.value is None else f"{f} = {_literal(c.value)}", c.label, c.symbol)
            for c in categories]


def range_rules(field_name: str, ranges: Sequence[Range]) -> list[Rule]:
    """Rules drawing what :func:`graduated_renderer` draws with ``ranges`` that meet only at
    their edges: a value in the first range holding it (an edge shared with an earlier range
    belongs to that range)."""
    f = _field(field_name)
    rules = []
    for i, r in enumerate(ranges):
        low = ">" if any(p.lower <= r.lower <= p.upper for p in ranges[:i]) else ">="
        high = "<" if any(p.lower <= r.upper <= p.upper for p in ranges[:i]) else "<="
        rules.append(Rule(f"{f} {low} {float(r.lower)!r} AND {f} {high} {float(r.upper)!r}", r.label, r.symbol))
    return rules


#: The legend row of the features a style draws in the grey of a missing value. The web legends
#: have no such row: the print layouts leave it out (geo.qgis._project), the layer tree keeps it.
NO_DATA_LABEL = "—"


def missing_fill(outline: str, fill_alpha: float) -> Symbol:
    """The symbol of a polygon without a value: the web maps' grey, outlined 1 px."""
    return fill_symbol(MISSING_COLOR, outline, fill_alpha=fill_alpha, outline_width_mm=px_to_mm(1.0))


def missing_rule(field_name: str, symbol: Symbol) -> Rule:
    """The rule drawing the features without a value of ``field_name`` (NULL) in ``symbol``,
    labelled :data:`NO_DATA_LABEL`."""
    return Rule(f"{_field(field_name)} IS NULL", NO_DATA_LABEL, symbol)


def legend_labels(renderer: ET.Element | None) -> list[str]:
    """The rows QGIS gives ``renderer`` in a legend, in order: one per category, range or
    rule (top level; the rules here are flat), one for a single symbol, none without one."""
    if renderer is None:
        return []
    kind = renderer.get("type")
    path = {"categorizedSymbol": "categories/category", "graduatedSymbol": "ranges/range",
            "RuleRenderer": "rules/rule"}.get(kind)
    if path is None:
        return [""] if kind == "singleSymbol" else []
    return [node.get("label", "") for node in renderer.findall(path)]


def _key(*parts: str) -> str:
    digest = hashlib.sha1("\x1f".join(parts).encode()).hexdigest()
    return f"{{{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}}}"


def rule_renderer(rules: Sequence[Rule]) -> ET.Element:
    """``RuleRenderer``: a feature is drawn in the symbol of every rule it passes, in rule
    order (a later rule's symbol over an earlier one's, feature by feature), one legend row
    per rule. Rule keys are derived from the rules, so the same rules give the same XML."""
    node = _renderer("RuleRenderer")
    root = ET.SubElement(node, "rules", {"key": _key("root", *(r.filter for r in rules))})
    symbols = ET.SubElement(node, "symbols")
    for i, rule in enumerate(rules):
        ET.SubElement(root, "rule", {"filter": rule.filter, "key": _key(str(i), rule.filter, rule.label),
                                     "label": rule.label, "symbol": str(i)})
        rule.symbol.to_xml(symbols, str(i))
    return node


def order_by(renderer: ET.Element, expression: str, ascending: bool = True) -> ET.Element:
    """Draw the features of ``renderer`` sorted by ``expression`` (later ones on top)."""
    renderer.set("enableorderby", "1")
    node = ET.SubElement(renderer, "orderby")
    clause = ET.SubElement(node, "orderByClause", {"asc": "1" if ascending else "0", "nullsFirst": "1"})
    clause.text = expression
    return renderer


# ---------------------------------------------------------------------------
# labels


def simple_labeling(field_name: str, *, geometry: str, size_pt: float = 9.0,
                    color: str = "#202020", buffer_color: str = "#ffffff",
                    is_expression: bool = False) -> ET.Element:
    """``<labeling type="simple">`` labelling ``field_name`` with a white halo.

    ``geometry`` (``polygon``, ``line``, ``point``) picks a placement: horizontal
    around the centroid for polygons (``placement=1`` "OverPoint"), parallel for lines
    (``2``), around the point for points (``6`` cartographic).
    """
    node = ET.Element("labeling", {"type": "simple"})
    settings = ET.SubElement(node, "settings", {"calloutType": "simple"})
    style = ET.SubElement(settings, "text-style", {
        "allowHtml": "0", "blendMode": "0", "capitalization": "0",
        "fieldName": field_name, "fontFamily": "Sans Serif", "fontItalic": "0",
        "fontKerning": "1", "fontLetterSpacing": "0", "fontSize": _num(float(size_pt)),
        "fontSizeMapUnitScale": _UNIT_SCALE, "fontSizeUnit": "Point", "fontStrikeout": "0",
        "fontUnderline": "0", "fontWeight": "50", "fontWordSpacing": "0",
        "isExpression": "1" if is_expression else "0", "multilineHeight": "1",
        "namedStyle": "Regular", "previewBkgrdColor": "255,255,255,255",
        "textColor": rgba(color), "textOpacity": "1", "textOrientation": "horizontal",
        "useSubstitutions": "0",
    })
    ET.SubElement(style, "text-buffer", {
        "bufferBlendMode": "0", "bufferColor": rgba(buffer_color), "bufferDraw": "1",
        "bufferJoinStyle": "128", "bufferNoFill": "1", "bufferOpacity": "0.8",
        "bufferSize": "0.8", "bufferSizeMapUnitScale": _UNIT_SCALE, "bufferSizeUnits": "MM",
    })
    ET.SubElement(style, "shadow", {"shadowDraw": "0"})
    ET.SubElement(style, "substitutions")
    ET.SubElement(settings, "text-format", {
        "addDirectionSymbol": "0", "autoWrapLength": "0", "decimals": "3", "formatNumbers": "0",
        "multilineAlign": "3", "placeDirectionSymbol": "0", "plussign": "0",
        "reverseDirectionSymbol": "0", "useMaxLineLengthForAutoWrap": "1", "wrapChar": "",
        "leftDirectionSymbol": "<", "rightDirectionSymbol": ">",
    })
    placement = {"polygon": "1", "line": "2", "point": "6"}.get(geometry, "0")
    ET.SubElement(settings, "placement", {
        "centroidInside": "1", "centroidWhole": "0", "dist": "0.5", "distUnits": "MM",
        "fitInPolygonOnly": "0", "offsetType": "0", "placement": placement,
        "placementFlags": "10", "polygonPlacementFlags": "2", "priority": "5",
        "quadOffset": "4", "repeatDistance": "0", "repeatDistanceUnits": "MM",
        "xOffset": "0", "yOffset": "0", "offsetUnits": "MM", "rotationAngle": "0",
        "preserveRotation": "1", "maxCurvedCharAngleIn": "25", "maxCurvedCharAngleOut": "-25",
    })
    ET.SubElement(settings, "rendering", {
        "displayAll": "0", "drawLabels": "1", "fontLimitPixelSize": "0", "fontMaxPixelSize": "10000",
        "fontMinPixelSize": "3", "labelPerPart": "0", "limitNumLabels": "0", "maxNumLabels": "2000",
        "mergeLines": "0", "minFeatureSize": "0", "obstacle": "1", "obstacleFactor": "1",
        "obstacleType": "1", "scaleMax": "0", "scaleMin": "0", "scaleVisibility": "0",
        "upsidedownLabels": "0", "zIndex": "0",
    })
    dd = ET.SubElement(settings, "dd_properties")
    coll = ET.SubElement(dd, "Option", {"type": "Map"})
    ET.SubElement(coll, "Option", {"name": "name", "type": "QString", "value": ""})
    ET.SubElement(coll, "Option", {"name": "properties"})
    ET.SubElement(coll, "Option", {"name": "type", "type": "QString", "value": "collection"})
    return node


# ---------------------------------------------------------------------------
# whole styles


@dataclass
class LayerStyle:
    """Everything one layer's style holds.

    ``renderer`` is ``None`` for attribute-only tables. ``aliases`` maps field name →
    alias (fields without an alias are written with an empty one); ``fields`` is the
    layer's attribute order as QGIS sees it (``fid`` first for GeoPackage layers).
    """

    name: str
    renderer: ET.Element | None
    labeling: ET.Element | None = None
    fields: list[str] = field(default_factory=list)
    aliases: dict[str, str] = field(default_factory=dict)
    opacity: float = 1.0
    description: str = ""
    min_scale: float | None = None
    """Hide the layer when zoomed out beyond 1:``min_scale`` (heavy point layers)."""
    value_maps: dict[str, dict[str, str]] = field(default_factory=dict)
    """Field → {stored code: label shown} (QGIS value map widget)."""
    hidden_fields: tuple[str, ...] = ()
    """Fields hidden in the attribute table (e.g. optional columns empty in this run)."""

    @property
    def renderer_type(self) -> str | None:
        return None if self.renderer is None else self.renderer.get("type")


def style_children(style: LayerStyle, parent: ET.Element) -> ET.Element:
    """Append the style elements (renderer, labels, aliases ...) to ``parent``.

    ``parent`` is a QML ``<qgis>`` root or a project ``<maplayer>``; its attribute
    ``labelsEnabled`` is set to match.
    """
    parent.set("labelsEnabled", "1" if style.labeling is not None else "0")
    if style.min_scale:
        parent.set("hasScaleBasedVisibilityFlag", "1")
        parent.set("minScale", _num(float(style.min_scale)))
        parent.set("maxScale", "0")
    if style.renderer is not None:
        parent.append(copy.deepcopy(style.renderer))
        if style.labeling is not None:
            parent.append(copy.deepcopy(style.labeling))
        ET.SubElement(parent, "blendMode").text = "0"
        ET.SubElement(parent, "featureBlendMode").text = "0"
        ET.SubElement(parent, "layerOpacity").text = _num(float(style.opacity))
    ET.SubElement(parent, "legend", {"showLabelLegend": "0", "type": "default-vector"})
    conf = ET.SubElement(parent, "fieldConfiguration")
    for name in style.fields:
        fnode = ET.SubElement(conf, "field", {"configurationFlags": "None", "name": name})
        values = style.value_maps.get(name)
        widget = ET.SubElement(fnode, "editWidget", {"type": "ValueMap" if values else ""})
        config = ET.SubElement(widget, "config")
        if values:
            # QGIS' value map: a list of one-entry maps {label: stored value}
            listed = ET.SubElement(ET.SubElement(config, "Option", {"type": "Map"}), "Option",
                                   {"name": "map", "type": "List"})
            for code, text in values.items():
                ET.SubElement(ET.SubElement(listed, "Option", {"type": "Map"}), "Option",
                              {"name": text, "type": "QString", "value": code})
        else:
            ET.SubElement(config, "Option")
    aliases = ET.SubElement(parent, "aliases")
    for i, name in enumerate(style.fields):
        ET.SubElement(aliases, "alias", {"field": name, "index": str(i), "name": style.aliases.get(name, "")})
    if style.hidden_fields:
        table = ET.SubElement(parent, "attributetableconfig", {"actionWidgetStyle": "dropDown",
                                                               "sortExpression": "", "sortOrder": "0"})
        columns = ET.SubElement(table, "columns")
        for name in style.fields:
            ET.SubElement(columns, "column", {"type": "field", "name": name, "width": "-1",
                                              "hidden": "1" if name in style.hidden_fields else "0"})
        ET.SubElement(columns, "column", {"type": "actions", "width": "-1", "hidden": "1"})
    if style.renderer is not None:
        # display expression: the feature's name where there is one
        display = "name" if "name" in style.fields else next((f for f in style.fields if f != "fid"), "fid")
        ET.SubElement(parent, "previewExpression").text = f'"{display}"'
        ET.SubElement(parent, "mapTip").text = ""
    return parent


def qml_document(style: LayerStyle) -> str:
    """The complete QML text of ``style`` (what QGIS stores in ``layer_styles.styleQML``)."""
    root = qml_element(style)
    clean_tree(root)
    ET.indent(root, space=" ")
    return _DOCTYPE + "\n" + ET.tostring(root, encoding="unicode") + "\n"


def qml_element(style: LayerStyle) -> ET.Element:
    """The ``<qgis>`` root element of the QML of ``style``."""
    root = ET.Element("qgis", {
        "version": QGIS_VERSION, "styleCategories": "AllStyleCategories",
        "hasScaleBasedVisibilityFlag": "0", "maxScale": "0", "minScale": "100000000",
        "readOnly": "0", "simplifyAlgorithm": "0", "simplifyDrawingHints": "1",
        "simplifyDrawingTol": "1", "simplifyLocal": "1", "simplifyMaxScale": "1",
        "symbologyReferenceScale": "-1",
    })
    flags = ET.SubElement(root, "flags")
    for key, value in (("Identifiable", "1"), ("Removable", "1"), ("Searchable", "1"), ("Private", "0")):
        ET.SubElement(flags, key).text = value
    style_children(style, root)
    return root


def finite(values) -> list[float]:
    """The finite floats among ``values`` (None/NaN/inf dropped)."""
    out = []
    for v in values:
        try:
            f = float(v)
        except (TypeError, ValueError):
            continue
        if math.isfinite(f):
            out.append(f)
    return out
