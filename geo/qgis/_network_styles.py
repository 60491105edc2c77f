"""QML styles of the road-network layers, matching the web maps: ``roads`` by class
(light colours and widths of :data:`geo.styles.ROAD_CLASS_COLORS`, local streets thin and
shown only from 1:50,000 inwards on a large network) and ``balance_isochrones`` as
outlines (the area each workplace reaches within the primary horizon)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd

from geo import styles
from geo.qgis._qml import Category, LayerStyle, categorized_renderer, fill_symbol, line_symbol, single_renderer
from geo.styles import px_to_mm

#: Layers styled here (the rest fall back to the general rules of ``_styles``).
NETWORK_LAYERS = ("roads", "balance_isochrones")

#: A roads layer with more features than this is drawn only from 1:100,000 inwards.
HEAVY_ROADS = 50_000



def network_styles(name: str, frame: pd.DataFrame, style: Callable[..., LayerStyle],
                   language: str) -> list[LayerStyle]:
    """The styles of ``roads`` (by class) or ``balance_isochrones`` (outlines)."""
    if name == "roads":
        cats = []
        for key in styles.ROAD_CLASSES:
            text = styles.ROAD_CLASS_NAMES[key][0] if language == "zh" else key
            cats.append(Category(key, text, line_symbol(styles.ROAD_CLASS_COLORS[key],
                                                        px_to_mm(styles.ROAD_CLASS_WIDTHS[key]), alpha=0.9)))
        cats.append(Category(None, "其他道路" if language == "zh" else "other",
                             line_symbol(styles.ROAD_CLASS_COLORS["local"], px_to_mm(styles.ROAD_CLASS_WIDTHS["local"]),
                                         alpha=0.9)))
        out = style("class", categorized_renderer("class", cats))
        if len(frame) > HEAVY_ROADS:
            out.min_scale = 100_000
        return [out]
    return [style("default", single_renderer(fill_symbol(None, styles.ISOCHRONE_COLOR, outline_width_mm=px_to_mm(1.0))),
                  opacity=0.8)]


def mark_closed_roads(layers: Sequence, closed: Sequence[str], language: str) -> None:
    """Say in the ``roads`` project layer's abstract (also its GeoPackage description) which
    classes homes and workplaces do not walk onto (``network.no_access_classes``), as the
    web maps' roads legend does; in place."""
    for layer in layers:
        if layer.name == "roads" and len(closed):
            layer.abstract = styles.closed_roads_note(closed, language)
