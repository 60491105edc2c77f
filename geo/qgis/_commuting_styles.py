"""QML styles of the commuting layers (group "commuting"), matching commuting.html:
flows between districts with widths by commuters, workplaces by the share of commuters
within 5 km, districts by self-containment, shed cells as points sized by commuters."""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise

import numpy as np
import pandas as pd

from geo import styles
from geo.qgis._qml import (
    LayerStyle,
    Range,
    fill_symbol,
    finite,
    graduated_renderer,
    line_symbol,
    marker_symbol,
)

#: Layers styled here (the rest fall back to the general rules of ``_styles``).
COMMUTING_LAYERS = ("commuting_flows", "commuting_workplaces", "commuting_districts", "commuting_sheds")


def _pct(v: float) -> str:
    return f"{v * 100:.1f}%"


def _share_ranges(values, outline: str, alpha: float) -> list[Range]:
    vals = finite(values)
    lo = min([*vals, 0.0])
    hi = max([*vals, 1.0])
    edges = [lo, *styles.COMMUTE_SHARE_BREAKS, hi]
    return [Range(a, b, f"{_pct(a)} – {_pct(b)}", fill_symbol(color, outline, fill_alpha=alpha,
                                                                   outline_width_mm=0.2))
            for (a, b), color in zip(pairwise(edges), styles.COMMUTE_SHARE_COLORS)]


def commuting_styles(name: str, frame: pd.DataFrame, style: Callable[..., LayerStyle],
                     language: str) -> list[LayerStyle]:
    """Styles (first = default) of one commuting layer; ``style`` is the caller's factory."""
    if name == "commuting_flows":
        top = float(np.nanmax(frame["commuters"])) if len(frame) else 1.0
        edges = [0.0, top / 16, top / 8, top / 4, top / 2, max(top, 1.0)]
        ranges = [Range(a, b, f"{a:,.0f} – {b:,.0f}", line_symbol(styles.FLOW_COLOR, w / 2, alpha=0.75))
                  for (a, b), w in zip(pairwise(edges), styles.LINE_WIDTHS)]
        return [style("commuters", graduated_renderer("commuters", ranges, method="GraduatedSize"))]
    if name == "commuting_workplaces":
        return [style("share_within_5km", graduated_renderer(
            "share_within_5km", _share_ranges(frame["share_within_5km"], styles.ZONE_OUTLINE, 0.85)))]
    if name == "commuting_districts":
        return [style("self_containment", graduated_renderer(
            "self_containment", _share_ranges(frame["self_containment"], styles.DISTRICT_OUTLINE, 0.55)))]
    # commuting_sheds: point size by commuters (five classes of the largest cell)
    top = float(np.nanmax(frame["commuters"])) if len(frame) else 1.0
    edges = [0.0, top / 16, top / 8, top / 4, top / 2, max(top, 1.0)]
    sizes = (1.0, 1.6, 2.4, 3.4, 4.6)
    ranges = [Range(a, b, f"{a:,.0f} – {b:,.0f}", marker_symbol(styles.SHED_COLOR, s, outline=styles.SHED_COLOR,
                                                                 outline_width_mm=0.1))
              for (a, b), s in zip(pairwise(edges), sizes)]
    return [style("commuters", graduated_renderer("commuters", ranges, method="GraduatedSize"))]
