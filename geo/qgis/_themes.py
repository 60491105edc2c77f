"""Map themes of the QGIS project: one per analysis, showing what its web page shows first.

A theme is a set of visible layers, each with the style it is drawn in. The table
:data:`THEME_LAYERS` names, per analysis (the project group and the web page), the
package layers the page's initial view draws; a layer missing from a run is left out.
An analysis without an entry gets the layers of its group that start visible plus the
district outlines, so a new analysis has a theme without registering anything.

To register a layer, add one line to :data:`THEME_LAYERS` (``"layer"`` for its default
style, ``("layer", "style")`` for another of its styles).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

#: The district outlines as every web page draws them: the boundaries, each once (two dashed
#: polygon outlines over each other look solid), and the districts for their names only.
DISTRICTS = ("district_boundaries", ("districts", "names"))

#: analysis → the layers its web page shows at first, top first (layer or (layer, style)).
THEME_LAYERS: dict[str, tuple[str | tuple[str, str], ...]] = {
    "balance": ("balance_workplaces", "balance_housing_density", *DISTRICTS, "roads"),
    "collaboration": ("collaboration_pairs", "innovation_districts", "collaboration_zones", *DISTRICTS, "roads"),
    "core_periphery": ("core_periphery_poles", "core_periphery_zones", "core_periphery_territories",
                       *DISTRICTS, "roads"),
    "chains": ("chain_gap_points", "leader_firms", "chain_gap_candidates", "chain_zones", "chain_leader_reach",
               *DISTRICTS),
}

#: Context layers every fallback theme shows (the web maps draw district outlines on every page).
CONTEXT_LAYERS = DISTRICTS


@dataclass(frozen=True)
class ThemeLayer:
    layer_id: str       # project layer id
    style: str          # style name in the layer's style manager


@dataclass(frozen=True)
class MapTheme:
    name: str                       # theme name (the analysis' group title)
    analysis: str
    layers: tuple[ThemeLayer, ...]  # visible layers


def _entry(item: str | tuple[str, str]) -> tuple[str, str | None]:
    return (item, None) if isinstance(item, str) else (item[0], item[1])


def map_themes(layers: Sequence, group_titles: Mapping[str, str],
               basemap_ids: Sequence[str] = ()) -> list[MapTheme]:
    """One theme per analysis group of ``layers`` (ProjectLayer objects), in group order.

    ``layers`` need ``key`` (the table name, or ``name:view`` for a second view of a table,
    which no theme shows), ``group``, ``layer_id``, ``visible``, ``geometry_kind`` and
    ``styles``; a theme shows a layer in the named style when the layer has it, else in
    its default style. Every theme also shows the basemap layers ``basemap_ids``, as the
    web pages do.
    """
    by_name = {layer.key: layer for layer in layers}
    groups = [g for g in dict.fromkeys(layer.group for layer in layers) if g != "inputs"]
    themes = []
    for group in groups:
        if group in THEME_LAYERS:
            wanted = [_entry(item) for item in THEME_LAYERS[group]]
        else:
            wanted = [(layer.key, None) for layer in layers
                      if layer.group == group and layer.visible and layer.geometry_kind is not None]
            wanted += [_entry(item) for item in CONTEXT_LAYERS]
        chosen: list[ThemeLayer] = []
        for name, style in wanted:
            layer = by_name.get(name)
            if layer is None or layer.geometry_kind is None:
                continue
            names = [s.name for s in layer.styles] or ["default"]
            chosen.append(ThemeLayer(layer.layer_id, style if style in names else names[0]))
        chosen += [ThemeLayer(layer_id, "default") for layer_id in basemap_ids]
        if chosen:
            themes.append(MapTheme(group_titles.get(group, group), group, tuple(chosen)))
    return themes


def themes_xml(themes: Sequence[MapTheme]) -> ET.Element:
    """``<visibility-presets>`` as QGIS 3.22 writes its map themes."""
    node = ET.Element("visibility-presets")
    for theme in themes:
        preset = ET.SubElement(node, "visibility-preset", {"name": theme.name})
        for layer in theme.layers:
            ET.SubElement(preset, "layer", {"id": layer.layer_id, "visible": "1", "style": layer.style,
                                            "expanded": "1"})
    return node
