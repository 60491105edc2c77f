"""QML styles of the chains layers (group "chains"), matching chains.html: zones by chain
role, firms by tier, leader firms, gap candidates outlined red and dashed, LQ classes."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from geo import styles
from geo.i18n import label
from geo.styles import px_to_mm
from geo.qgis._qml import (
    Category,
    LayerStyle,
    categorized_renderer,
    fill_symbol,
    marker_symbol,
    simple_labeling,
    single_renderer,
)

#: Layers styled here (the rest fall back to the general rules of ``_styles``).
CHAIN_LAYERS = ("chain_zones", "firms", "leader_firms", "chain_gap_candidates")

#: The firms layer (QGIS only): a leader as the web map draws it (styles.LEADER_RADIUS_PX at
#: the print scale), the smaller tiers smaller.
_LEADER_MM = px_to_mm(2 * styles.LEADER_RADIUS_PX)
_TIER_SIZE_MM = {"leader": _LEADER_MM, "key": 0.6 * _LEADER_MM, "sme": 0.35 * _LEADER_MM}
_TIER_COLOR = {"leader": styles.LEADER_COLOR, "key": "#8c6d31", "sme": "#9e9e9e"}


def chain_styles(name: str, frame: pd.DataFrame, style: Callable[..., LayerStyle], language: str,
                 heavy_points: int) -> list[LayerStyle]:
    """Styles (first = default) of one chains layer; ``style`` is the caller's factory."""
    if name == "chain_zones":
        colors = {k: v for k, v in styles.CHAIN_ROLE_COLORS.items() if k != "none"}
        cats = [Category(role, label(role, language),
                         fill_symbol(color, styles.ZONE_OUTLINE, fill_alpha=0.75, outline_width_mm=px_to_mm(1.0)))
                for role, color in colors.items()]
        cats.append(Category(None, "未定环节" if language == "zh" else "No role",
                             fill_symbol(styles.CHAIN_ROLE_COLORS["none"], styles.ZONE_OUTLINE, fill_alpha=0.75,
                                         outline_width_mm=px_to_mm(1.0))))
        return [style("role", categorized_renderer("role", cats), simple_labeling("name", geometry="polygon"))]
    if name == "firms":
        cats = [Category(tier, label(tier, language),
                         marker_symbol(_TIER_COLOR[tier], _TIER_SIZE_MM[tier], outline="#ffffff",
                                       outline_width_mm=0.1))
                for tier in ("leader", "key", "sme")]
        out = style("tier", categorized_renderer("tier", cats))
        if len(frame) > heavy_points:
            out.min_scale = 100_000
        return [out]
    if name == "leader_firms":
        return [style("default", single_renderer(marker_symbol(styles.LEADER_COLOR, _LEADER_MM, outline="#ffffff",
                                                               outline_width_mm=px_to_mm(styles.LEADER_OUTLINE_PX))))]
    # chain_gap_candidates
    return [style("default", single_renderer(fill_symbol(styles.GAP_OUTLINE, styles.GAP_OUTLINE, fill_alpha=0.05,
                                                         outline_width_mm=px_to_mm(3.0), outline_style="dash")),
                  simple_labeling("name", geometry="polygon", color=styles.GAP_OUTLINE))]
