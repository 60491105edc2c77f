"""Layers the web maps derive for display, written into the QGIS package too.

The web pages draw a few layers that are not result tables: the housing density
hexagons and the catchment rings of ``balance.html``, the pole stars and pole
territories of ``core_periphery.html``, the gap stars and leader firms' reach of
``chains.html``. They are rebuilt here from the same inputs and
the same web-map functions, so the package shows what the pages show.

:data:`DERIVED_LAYERS` is the registry (layer name → analysis group and builder); to add
one, register a builder and give it a style in :func:`derived_styles`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import styles
from geo._types import AnalysisResult, Study
from geo.i18n import label
from geo.styles import px_to_mm
from geo.qgis._qml import (
    Category,
    LayerStyle,
    Range,
    categorized_renderer,
    fill_symbol,
    graduated_renderer,
    marker_symbol,
    single_renderer,
)
from geo.settings import Settings

Builder = Callable[[Study, dict[str, AnalysisResult], Settings], "gpd.GeoDataFrame | None"]


@dataclass(frozen=True)
class DerivedLayer:
    group: str          # the analysis group the layer belongs to
    build: Builder


def _housing_density(study: Study, results: dict[str, AnalysisResult], settings: Settings):
    from geo.webmap.balance import housing_hexagons

    hexes = housing_hexagons(study, settings)
    if hexes is None or not len(hexes[0]):
        return None
    cells, _ = hexes
    cells = cells.copy()
    cells["points"] = cells["points"].astype("int64")
    return cells


def _catchments(study: Study, results: dict[str, AnalysisResult], settings: Settings):
    wp = results["balance"].tables.get("balance_workplaces")
    if not isinstance(wp, gpd.GeoDataFrame) or not len(wp):
        return None
    radius = settings.balance.radius_m
    rings = shapely.buffer(np.asarray(wp.geometry.values, dtype=object), radius, quad_segs=8)
    cols = [c for c in ("workplace_id", "name") if c in wp.columns]
    out = gpd.GeoDataFrame(wp[cols].reset_index(drop=True), geometry=rings, crs=wp.crs)
    out["radius_m"] = float(radius)
    return out


def _cp_zones(results: dict[str, AnalysisResult]) -> gpd.GeoDataFrame | None:
    z = results["core_periphery"].tables.get("core_periphery_zones")
    if not isinstance(z, gpd.GeoDataFrame) or not len(z) or not {"zone_id", "role"} <= set(z.columns):
        return None
    return z


def _poles(study: Study, results: dict[str, AnalysisResult], settings: Settings):
    z = _cp_zones(results)
    if z is None:
        return None
    cores = z[z["role"].astype(str) == "core"]
    if not len(cores):
        return None
    cols = [c for c in ("zone_id", "name", "chain", "district_id", "score", "periphery_count") if c in cores]
    out = gpd.GeoDataFrame(cores[cols].reset_index(drop=True),
                           geometry=shapely.point_on_surface(np.asarray(cores.geometry.values, dtype=object)),
                           crs=z.crs)
    return out


def _territories(study: Study, results: dict[str, AnalysisResult], settings: Settings):
    """Each pole with its attached zones merged (as on the web map), for the poles with a
    colour of their own."""
    from geo.analysis.core_periphery import pole_territories

    z = _cp_zones(results)
    return None if z is None else pole_territories(z, styles.pole_colors(z))


def _leader_reach(study: Study, results: dict[str, AnalysisResult], settings: Settings):
    from geo.webmap.chains import REACH_QUAD_SEGS

    result = results["chains"]
    lf = result.tables.get("leader_firms")
    reach_m = float((result.summary or {}).get("reach_m") or 0)
    if not isinstance(lf, gpd.GeoDataFrame) or not len(lf) or reach_m <= 0:
        return None
    cols = [c for c in ("firm_id", "name", "chain") if c in lf.columns]
    out = gpd.GeoDataFrame(lf[cols].reset_index(drop=True),
                           geometry=shapely.buffer(np.asarray(lf.geometry.values, dtype=object), reach_m,
                                                   quad_segs=REACH_QUAD_SEGS), crs=lf.crs)
    out["reach_m"] = reach_m
    return out


def _gap_points(study: Study, results: dict[str, AnalysisResult], settings: Settings):
    """One point per chain with gaps, at its strongest zone: the roles missing and distant."""
    gaps = results["chains"].tables.get("chain_gaps")
    zones = study.zones
    if not isinstance(gaps, pd.DataFrame) or not len(gaps) or zones is None or "top_zone_id" not in gaps:
        return None
    rows = []
    for chain, part in gaps.groupby("chain", sort=True):
        top = part["top_zone_id"].dropna()
        if not len(top):
            continue
        rows.append({"chain": chain, "top_zone_id": str(top.iloc[0]),
                     "missing": ";".join(part.loc[part["kind"] == "missing", "role"].astype(str)),
                     "distant": ";".join(part.loc[part["kind"] == "distant", "role"].astype(str))})
    pos = zones.set_index(zones["zone_id"].astype(str)).geometry
    rows = [r for r in rows if r["top_zone_id"] in pos.index]
    if not rows:
        return None
    frame = pd.DataFrame(rows)
    geoms = shapely.point_on_surface(np.asarray(pos.loc[frame["top_zone_id"]].values, dtype=object))
    return gpd.GeoDataFrame(frame, geometry=geoms, crs=zones.crs)


#: layer name → (group, builder); a builder returning None (or an absent analysis) adds nothing.
DERIVED_LAYERS: dict[str, DerivedLayer] = {
    "balance_housing_density": DerivedLayer("balance", _housing_density),
    "balance_catchments": DerivedLayer("balance", _catchments),
    "core_periphery_poles": DerivedLayer("core_periphery", _poles),
    "core_periphery_territories": DerivedLayer("core_periphery", _territories),
    "chain_gap_points": DerivedLayer("chains", _gap_points),
    "chain_leader_reach": DerivedLayer("chains", _leader_reach),
}


def derived_frames(study: Study, results: dict[str, AnalysisResult], settings: Settings
                   ) -> dict[str, list[tuple[str, gpd.GeoDataFrame]]]:
    """analysis → [(layer name, frame)] of the derived layers whose analysis ran."""
    out: dict[str, list[tuple[str, gpd.GeoDataFrame]]] = {}
    for name, spec in DERIVED_LAYERS.items():
        if spec.group not in results:
            continue
        frame = spec.build(study, results, settings)
        if frame is not None and len(frame):
            out.setdefault(spec.group, []).append((name, frame))
    return out


# ---------------------------------------------------------------------------
# styles

#: Layers whose classes repeat another layer's (the poles' colours): the print layouts give them
#: one legend row, as the web pages do (layer → (zh, en)).
LEGEND_SUMMARIES = {
    "core_periphery_territories": ("极核及其外围功能区的合并范围", "a pole with its attached zones, merged"),
}


def derived_styles(name: str, frame: pd.DataFrame, style: Callable[..., LayerStyle], language: str, *,
                   edges_for: Callable, range_labels: Callable,
                   pole_colors: dict[str, str] | None) -> list[LayerStyle] | None:
    """The styles of a derived layer (first = default), or None for another layer."""

    pole_colors = pole_colors or {}
    if name == "balance_housing_density":
        values = pd.to_numeric(frame["workers"], errors="coerce")
        breaks = styles.graduated_breaks(values.to_numpy(float))
        edges = edges_for(values, breaks)
        colors = styles.ramp(len(edges) - 1)
        ranges = [Range(lo, hi, text, fill_symbol(color, color, fill_alpha=0.55, outline_width_mm=0.0,
                                                  outline_style="no"))
                  for (lo, hi), text, color in zip(pairwise(edges), range_labels(edges), colors)]
        return [style("workers", graduated_renderer("workers", ranges))]
    if name == "balance_catchments":
        return [style("default", single_renderer(fill_symbol(None, styles.CATCHMENT_COLOR, outline_width_mm=px_to_mm(1.0),
                                                             outline_style="dash", outline_alpha=0.6)))]
    if name == "core_periphery_poles":
        # big gold stars for the poles with a colour of their own, small grey ones for the rest;
        # one legend row each, as on the web map (the stars are alike: no row per pole)
        major = [core for core in _names(frame, "zone_id")
                 if pole_colors.get(core, styles.OTHER_POLE_COLOR) != styles.OTHER_POLE_COLOR]
        listed = ", ".join("'" + core.replace("'", "''") + "'" for core in major)
        expression = f"CASE WHEN \"zone_id\" IN ({listed}) THEN 'core' ELSE '' END" if major else "''"
        # the web's star icons at the print scale (styles.star_mm)
        size, outline = styles.star_mm(styles.POLE_STAR_PX)
        cats = [Category("core", label("core", language), marker_symbol(
            styles.STAR_COLOR, size, outline="#000000", outline_width_mm=outline, shape="star"))] if major else []
        size, outline = styles.star_mm(styles.OTHER_POLE_STAR_PX)
        cats.append(Category(None, "其他极核" if language == "zh" else "Other poles",
                             marker_symbol(styles.OTHER_POLE_COLOR, size, outline="#000000", outline_width_mm=outline,
                                           shape="star")))
        return [style("default", categorized_renderer(expression, cats))]
    if name == "chain_leader_reach":
        return [style("default", single_renderer(fill_symbol(styles.REACH_COLOR, styles.REACH_COLOR, fill_alpha=0.04,
                                                             outline_width_mm=px_to_mm(1.0), outline_alpha=0.6)))]
    if name == "chain_gap_points":
        # the web map's red star at the chain's strongest zone
        size, outline = styles.star_mm(styles.GAP_STAR_PX)
        return [style("default", single_renderer(marker_symbol(styles.GAP_OUTLINE, size, outline="#000000",
                                                               outline_width_mm=outline, shape="star")))]
    if name == "core_periphery_territories":
        cats = [Category(core, text, fill_symbol(pole_colors[core], pole_colors[core], fill_alpha=0.12,
                                                 outline_width_mm=px_to_mm(2.5), outline_alpha=0.95))
                for core, text in _names(frame, "core_id").items() if core in pole_colors]
        return [style("core_id", categorized_renderer("core_id", cats))]
    return None


def _names(frame: pd.DataFrame, id_field: str) -> dict[str, str]:
    ids = frame[id_field].astype(str)
    names = frame["name"].astype(str) if "name" in frame else ids
    return dict(zip(ids, names))
