"""The road network as a light backdrop on every analysis map (``layers.roads``).

Roads are drawn by class (width and colour of :data:`geo.styles.ROAD_CLASS_COLORS`),
one multi-line feature per class on a canvas under the analysis layers, not
interactive. The roads of a class are merged into long lines where they meet end to end
and simplified; to keep a metropolitan page fast, the classes are added from the fastest
down while the simplified vertices fit :data:`VERTEX_BUDGET`: a dense local street grid
is left out (the legend says so) rather than making the page heavy. The drawing is built
once per study and shared by the pages.
"""

from __future__ import annotations

from dataclasses import dataclass

import folium
import numpy as np
import shapely

from geo import styles
from geo.webmap._base import MapContext
from geo.webmap._controls import LayerGroup, LayerItem, LegendSection, line_row
from geo.webmap._layers import GeoJsonLayer, feature_collection

#: Most vertices drawn (all classes together), about 1.5 MB of page.
VERTEX_BUDGET = 60_000

#: Simplification of the road lines (metres in the working CRS); doubled (up to 4 times)
#: for a main class that does not fit otherwise.
SIMPLIFY_M = 10.0

#: Classes drawn in this order; roads of any other (user-defined) class or none draw as ``other``.
ORDER = (*styles.ROAD_CLASSES, "other")

_NAMES = {**styles.ROAD_CLASS_NAMES, "other": ("其他道路", "Other roads")}
_MAIN = {"motorway", "expressway", "arterial"}


@dataclass
class RoadDrawing:
    """The roads GeoJSON of a study (shared by the pages) and what it holds."""

    data: str
    count: int
    drawn: list[str]
    left_out: list[str]


def class_name(key: str, lang: str) -> str:
    """Road class in the study language (``主干路`` / ``Arterial``)."""
    zh, en = _NAMES.get(key, (key, key))
    return zh if lang == "zh" else en


def _style(key: str) -> dict:
    base = "local" if key == "other" else key
    return {"color": styles.ROAD_CLASS_COLORS[base], "weight": styles.ROAD_CLASS_WIDTHS[base],
            "opacity": 0.9, "lineCap": "round", "lineJoin": "round"}


def road_drawing(ctx: MapContext) -> RoadDrawing | None:
    """The roads of ``ctx.study`` by class within the vertex budget (``None`` without roads)."""
    cache = ctx.__dict__.setdefault("_za_cache", {})
    if "roads" in cache:
        return cache["roads"]
    roads = ctx.study.roads
    out = None
    if roads is not None and len(roads):
        cls = roads["class"].astype(object).to_numpy() if "class" in roads else np.full(len(roads), None)
        bucket = np.array([c if c in styles.ROAD_CLASSES else "other" for c in cls], dtype=object)
        geoms = np.asarray(roads.geometry.values, dtype=object)
        keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        drawn, left_out, parts, total = [], [], [], 0
        for key in ORDER:
            sel = (bucket == key) & keep
            if not sel.any():
                continue
            room = VERTEX_BUDGET - total
            if left_out or (drawn and 2 * int(sel.sum()) > room):   # a slower class than one left out,
                # or cannot fit even as straight segments
                left_out.append(key)
                continue
            # roads cut at every junction become long lines (fewer vertices once simplified)
            merged = shapely.get_parts(shapely.line_merge(shapely.multilinestrings(shapely.get_parts(geoms[sel]))))
            for k in range(5 if key in _MAIN else 1):
                lines = shapely.simplify(merged, SIMPLIFY_M * 2 ** k, preserve_topology=False)
                n = int(shapely.get_num_coordinates(lines).sum())
                if n <= room:
                    break
            if n > room and drawn:                      # the first class is always drawn
                left_out.append(key)
                continue
            drawn.append(key)
            parts.append(shapely.multilinestrings(lines))
            total += n
        if drawn:
            shown = ctx.display.geometries(np.array(parts, dtype=object), 0)
            index = np.array([ORDER.index(k) for k in drawn])
            data, count = feature_collection(shown, None, index)
            out = RoadDrawing(data, count, drawn, left_out)
    cache["roads"] = out
    return out


def add_roads(m: folium.Map, ctx: MapContext, group: LayerGroup, legend: list[LegendSection]) -> None:
    """Draw the roads under the analysis layers, with a layer-control entry in ``group``
    and a legend section (nothing without ``layers.roads``)."""
    drawing = road_drawing(ctx)
    if drawing is None:
        return
    zh = ctx.lang == "zh"
    name = "道路" if zh else "Roads"
    layer = GeoJsonLayer("roads", drawing.data, drawing.count, [_style(k) for k in ORDER], label=name,
                         pane="zaBack", canvas=True, interactive=False)
    m.add_child(layer, name="za_layer_roads")
    m._children["za_init"].config["layers"]["roads"] = {"popup": None, "titleField": None}
    rows = [line_row(class_name(k, ctx.lang), _style(k)["color"], max(_style(k)["weight"], 1.0))
            for k in drawing.drawn]
    note = None
    if drawing.left_out:
        missing = "、".join(class_name(k, "zh") for k in drawing.left_out) if zh else \
            ", ".join(class_name(k, "en").lower() for k in drawing.left_out)
        note = (f"图面从简：{missing}未绘制（仍计入通行时间）。" if zh
                else f"Not drawn to keep the map light: {missing} (still used for travel times).")
    if ctx.settings.network.no_access:   # say why homes beside these roads do not use them
        access = styles.closed_roads_note(ctx.settings.network.no_access, ctx.lang)
        note = f"{note} {access}" if note else access
    legend.append(LegendSection(name, rows, ["roads"], note))
    group.items.append(LayerItem("roads", name))
