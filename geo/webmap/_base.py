"""Shared pieces of the three analysis maps: context, new map, styles, finishing controls."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import styles
from geo._types import Study
from geo.basemaps import Basemap
from geo.i18n import TERMS, label
from geo.settings import Settings
from geo.webmap._controls import (
    Finish,
    Fullscreen,
    GroupedLayerControl,
    Init,
    LayerGroup,
    LayerItem,
    Legend,
    LegendSection,
    Search,
    Title,
    _Call,
    add_inline_assets,
    line_row,
)
from geo.webmap._layers import DISTRICT_TOLERANCE_M, Display, GeoJsonLayer, feature_collection

UI_TEXT = {
    "zh": {"layers": "图层", "legend": "图例", "search": "搜索功能区名称…", "noMatch": "无匹配",
           "fullscreen": "全屏", "back": "← 图集首页", "analysis": "分析结果", "context": "背景图层",
           "basemap": "底图", "colouring": "功能区着色", "north": "指北针"},
    "en": {"layers": "Layers", "legend": "Legend", "search": "Search zone name…", "noMatch": "No match",
           "fullscreen": "Full screen", "back": "← Atlas", "analysis": "Analysis", "context": "Context",
           "basemap": "Basemap", "colouring": "Zone colouring", "north": "North arrow"},
}

#: Display format of well-known fields (see ``zoneatlas.fmt`` in the runtime).
FIELD_FORMATS = {
    "jobs": "int", "workers": "people", "workers_shared": "people", "jhr": "ratio", "jhr_shared": "ratio",
    "balance_class": "cat", "area_class": "cat", "balance_minute": "min", "balance_minute_median": "min",
    "balance_minute_max": "min", "minute_step": "min", "balance_minute_reached": "int",
    "workplaces_connected": "int", "housing_connected_share": "pct", "employment_jobs": "int",
    "balance_radius_reached": "int", "workplaces_outside_employment": "pct", "kind": "cat", "pair_type": "cat", "strategy": "cat", "role": "cat",
    "recommended": "bool", "strength": "num", "score": "num", "attach_prob": "pct",
    "share_linked": "pct", "partners_within": "int", "rank": "int", "output": "num", "firms": "int",
    "leader_firms": "int", "rd_platforms": "int", "dwellings": "int", "landuse_entropy": "ratio",
    "residential_share": "pct", "share_in_reach": "pct", "overall_jhr": "ratio", "core_share": "pct",
    "gini": "ratio", "primacy": "pct", "rank_size_slope": "ratio", "resident_workers": "people",
    "workers_in_reach": "people", "distance_decay": "num", "periphery_count": "int", "n_zones": "int",
    "n_cores": "int", "n_attached": "int", "n_isolated": "int", "fragmentation_rank": "int",
    "mean_score": "num", "mean_landuse_entropy": "ratio", "mean_residential_share": "pct", "median_score": "num", "zones": "int", "districts": "int", "pairs": "int",
    # chains
    "role_coverage": "pct", "spatial_completeness": "pct", "leader_coverage": "pct", "completeness": "pct",
    "mean_completeness": "pct", "lq": "ratio", "top_lq": "ratio", "krugman": "ratio", "leaders": "int",
    "firms_within": "int", "jobs_within": "int", "firms_other_district": "int", "zones_within": "int",
    "complete_chains": "int", "gaps_missing": "int", "gaps_distant": "int", "leader_firms_n": "int",
    "n_chains": "int", "tier": "cat", "roles_in_reach": "pct", "leader_in_reach": "bool",
    # counts and shares in minutes (layers.roads)
    "partners_within_min": "int", "share_linked_min": "pct", "pairs_within_travel": "int", "pairs_too_slow": "int",
    "zones_with_partner_within_min": "int", "zones_without_road_access": "int", "n_without_road_path": "int",
    "attach_by": "cat",
    # observed commuting: counts shown whole, never rounded to 4 significant digits
    "commuters": "int", "flows": "int", "internal": "int", "resident_commuters": "int", "job_commuters": "int",
    "commuters_in_workplaces": "int", "commuters_outside_workplaces": "int", "commuters_timed": "int",
    "t_cells": "int", "t_workplaces": "int", "t_unreachable_pairs": "int",
}


def field_format(key: str) -> str:
    if key in FIELD_FORMATS:
        return FIELD_FORMATS[key]
    if key.startswith("workers_"):
        return "people"
    if key.startswith("area_jobs_"):
        return "int"
    if key.startswith("area_jhr"):
        return "ratio"
    if key.endswith("_m"):
        return "km"
    if key.endswith(("_min", "_minute")) or key == "minute":
        return "min"
    return "text"


@dataclass
class MapContext:
    """Everything a map builder needs besides the analysis result."""

    study: Study
    settings: Settings
    basemap: Basemap
    display: Display = field(init=False)

    def __post_init__(self) -> None:
        self.display = Display(self.study.crs, gcj02=self.basemap.gcj02)

    @property
    def lang(self) -> str:
        return self.settings.study.language

    @cached_property
    def district_lines(self) -> np.ndarray:
        """The district boundaries in map coordinates, one line per merged boundary holding
        every edge once (:func:`geo.styles.outline_lines`), simplified together (each line
        keeps its ends, where boundaries fork, so neighbours still meet): computed once for
        all the maps of a run."""
        lines = styles.outline_lines(self.study.districts.geometry.values)
        return shapely.get_parts(self.display.geometries([lines], DISTRICT_TOLERANCE_M))

    @property
    def text(self) -> dict[str, str]:
        return UI_TEXT[self.lang]

    def label(self, key: str, table: str | None = None) -> str:
        """The i18n label (of the column in output ``table``) without a metres suffix
        (values are shown in km)."""
        text = label(key, self.lang, table)
        return re.sub(r"\s*(（米）|\(m\))$", "", text)

    def fields(self, keys: Iterable[str | tuple[str, str] | tuple[str, str, str]],
               frame: pd.DataFrame | None = None, table: str | None = None) -> list[list[str]]:
        """Popup/tooltip field specs ``[key, label, format]`` (only columns in ``frame``;
        ``table``: the output the fields come from, for labels that depend on it)."""
        out = []
        for key in keys:
            if isinstance(key, tuple) and len(key) == 2:   # (field, format)
                spec = [key[0], self.label(key[0], table), key[1]]
            elif isinstance(key, tuple):                    # (field, label, format)
                spec = list(key)
            else:
                spec = [key, self.label(key, table), field_format(key)]
            if frame is None or spec[0] in frame.columns:
                out.append(spec)
        return out


def new_map(ctx: MapContext, page_title: str) -> folium.Map:
    """A folium map with inline Leaflet, no CDN links, our runtime and the basemap."""
    m = folium.Map(location=[0, 0], zoom_start=2, tiles=None, control_scale=False, font_size="0.8125rem",
                   zoom_snap=0.25, zoom_delta=0.5,
                   max_zoom=max(ctx.basemap.max_zoom, 18) if ctx.basemap.tiles else 19)
    m.default_js = []
    m.default_css = []
    root = m.get_root()
    root.title = html.escape(page_title)
    add_inline_assets(root)
    labels = {k: (zh if ctx.lang == "zh" else en) for k, (zh, en) in TERMS.items()}
    m.add_child(Init({"lang": ctx.lang, "labels": labels, "text": ctx.text,
                      "basemap": bool(ctx.basemap.tiles), "layers": {}}), name="za_init")
    tiles = tile_layers(ctx.basemap)
    for t in tiles:
        m.add_child(t)
    if tiles:
        m.add_child(BasemapGroup(tiles), name="za_basemap")
    return m


def tile_layers(basemap: Basemap) -> list[folium.TileLayer]:
    """folium tile layers of the basemap (attribution escaped: Leaflet shows it as HTML)."""
    out = []
    for i, t in enumerate(basemap.tiles):
        kwargs = {"subdomains": t.subdomains} if t.subdomains else {}
        out.append(folium.TileLayer(tiles=t.url, attr=html.escape(t.attribution), name=f"{basemap.name}-{i}",
                                    max_zoom=t.max_zoom, max_native_zoom=t.max_zoom, **kwargs))
    return out


class BasemapGroup(_Call):
    """Registers the basemap tile layers as one toggleable ``basemap`` overlay."""

    def __init__(self, tiles: Sequence[folium.TileLayer]) -> None:
        super().__init__()
        self._name = "BasemapGroup"
        self.tiles = list(tiles)

    def script(self, map_var: str) -> str:
        names = ", ".join(t.get_name() for t in self.tiles)
        return f"zoneatlas.overlays.basemap = L.layerGroup([{names}]).addTo({map_var});"


def categorical_index(values: pd.Series, categories: Sequence[str]) -> np.ndarray:
    """Index of each value in ``categories``; ``len(categories)`` for anything else."""
    lookup = {c: i for i, c in enumerate(categories)}
    return np.array([lookup.get(v, len(categories)) if isinstance(v, str) else len(categories)
                     for v in values.astype(object)], dtype=int)


def graduated_index(values: pd.Series, breaks: Sequence[float]) -> np.ndarray:
    """Class of each value (``styles.classify``); missing values get the last index + 1."""
    cls = styles.classify(pd.to_numeric(values, errors="coerce").to_numpy(dtype=float), breaks)
    return np.where(cls < 0, len(breaks) + 1, cls)


def graduated_rows(values: pd.Series, breaks: Sequence[float], colors: Sequence[str], fmt: str,
                   lang: str, *, row=None) -> list[str]:
    """Legend rows ``lower – upper`` (:func:`geo.styles.class_range_texts`) of each class."""
    from geo.webmap._controls import swatch_row

    row = row or (lambda text, color: swatch_row(text, color))
    arr = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    return [row(text, colors[i]) for i, text in enumerate(styles.class_range_texts(arr, breaks, fmt, lang))]


def add_layer(m: folium.Map, ctx: MapContext, layer_id: str, frame: gpd.GeoDataFrame, *,
              label_text: str, styles_list: list[dict], style_index: np.ndarray | None = None,
              props: Sequence[str] = (), tolerance_m: float = 5.0, **kwargs: Any) -> GeoJsonLayer:
    """Add one overlay built from ``frame`` (geometries prepared by ``ctx.display``)."""
    geoms = ctx.display.geometries(frame.geometry, tolerance_m)
    cols = [c for c in dict.fromkeys(props) if c in frame.columns]
    return _add_shown(m, layer_id, geoms, pd.DataFrame(frame[cols]).reset_index(drop=True), label_text=label_text,
                      styles_list=styles_list, style_index=style_index, **kwargs)


def _add_shown(m: folium.Map, layer_id: str, geoms: np.ndarray, props: pd.DataFrame | None, *, label_text: str,
               styles_list: list[dict], style_index: np.ndarray | None = None, **kwargs: Any) -> GeoJsonLayer:
    """Add one overlay of geometries in map coordinates already (``ctx.display``)."""
    data, count = feature_collection(geoms, props, style_index)
    layer = GeoJsonLayer(layer_id, data, count, styles_list, label=label_text, **kwargs)
    m.add_child(layer, name=f"za_layer_{layer_id}")
    init = m._children["za_init"]
    init.config["layers"][layer_id] = {"popup": kwargs.get("popup"), "titleField": kwargs.get("title_field")}
    return layer


def district_outlines(m: folium.Map, ctx: MapContext) -> GeoJsonLayer | None:
    """District boundaries as a backdrop (always present, above the basemap): lines holding
    every edge once (:attr:`MapContext.district_lines`, as the print figures and the QGIS
    package draw them; two districts' dashed outlines over each other, out of step, look
    solid), one feature per merged line."""
    d = ctx.study.districts
    if d is None or not len(d):
        return None
    style = {"color": styles.DISTRICT_OUTLINE, "weight": 1.6, "fill": False, "dashArray": "6 4", "opacity": 0.9}
    return _add_shown(m, "districts", ctx.district_lines, None, label_text=ctx.label("districts"),
                      styles_list=[style], pane="zaBack", interactive=False)


def district_entry(m: folium.Map, ctx: MapContext, group: LayerGroup, legend: list[LegendSection]) -> None:
    """The layer-control entry (in ``group``) and legend section of the district outlines
    drawn by :func:`district_outlines` (nothing when the study has no districts)."""
    if "za_layer_districts" not in m._children:
        return
    # the districts counted, not the boundary lines that draw them
    group.items.append(LayerItem("districts", ctx.label("districts"), count=len(ctx.study.districts)))
    legend.append(LegendSection(ctx.label("districts"),
                                [line_row(ctx.label("districts"), styles.DISTRICT_OUTLINE, 1.6, dash="6 4")],
                                ["districts"]))


def finish_map(m: folium.Map, ctx: MapContext, *, title: str, groups: list[LayerGroup],
               legend: list[LegendSection], bounds: list[list[float]],
               labels: Sequence[dict | None] = ()) -> folium.Map:
    """Add the layer control, legend, search, fullscreen, title, north arrow, footer,
    label sets and the fit/ready call."""
    from geo.webmap._briefing import Briefing, footer, study_display_name

    if "za_basemap" in m._children:
        groups = [*groups, LayerGroup(ctx.text["basemap"], [_item("basemap", ctx.basemap.label)])]
    m.add_child(GroupedLayerControl(groups), name="za_layer_control")
    m.add_child(Legend(legend), name="za_legend")
    m.add_child(Search(), name="za_search")
    m.add_child(Fullscreen(), name="za_fullscreen")
    sub = label("synthetic", ctx.lang) if ctx.settings.study.synthetic else None
    if sub and sub in study_display_name(ctx.settings.study.name, ctx.lang):
        sub = None
    m.add_child(Title(title, sub, {"text": ctx.text["back"], "href": "index.html"}), name="za_title")
    m.add_child(Briefing({"north": True, "footer": footer(ctx), "labels": [s for s in labels if s and s["items"]]}),
                name="za_briefing")
    m.add_child(Finish(bounds), name="za_finish")
    return m


def _item(layer_id: str, text: str) -> LayerItem:
    return LayerItem(layer_id, text)


def layers_of(m: folium.Map) -> dict[str, GeoJsonLayer]:
    """The overlays of a built map by id (for tests and the benchmark)."""
    return {c.layer_id: c for c in m._children.values() if isinstance(c, GeoJsonLayer)}


def map_title(ctx: MapContext, key: str) -> str:
    from geo.i18n import analysis_title  # the same title on the print figures and QGIS layouts
    return analysis_title(ctx.settings.study.name, key, ctx.lang)


def value_names(frame: pd.DataFrame, id_col: str, name_col: str = "name") -> Mapping[Any, str]:
    if frame is None or id_col not in frame or name_col not in frame:
        return {}
    return dict(zip(frame[id_col].astype(object), frame[name_col].astype(object)))


def dedupe_styles(per_feature: Sequence[dict]) -> tuple[list[dict], np.ndarray]:
    """Unique style dicts and the index of each feature's style among them."""
    unique: dict[tuple, int] = {}
    out: list[dict] = []
    idx = np.empty(len(per_feature), dtype=int)
    for i, s in enumerate(per_feature):
        key = tuple(sorted(s.items()))
        if key not in unique:
            unique[key] = len(out)
            out.append(dict(s))
        idx[i] = unique[key]
    if not out:
        out.append({})
    return out, idx


def with_names(frame: pd.DataFrame, column: str, names: Mapping[Any, str], new: str) -> pd.DataFrame:
    """A copy of ``frame`` with ``new`` = the name of the id in ``column`` (id when unknown)."""
    out = frame.copy()
    if column in out:
        ids = out[column].astype(object)
        present = ids.notna().to_numpy().tolist()
        out[new] = [names.get(v, v) if ok else None for v, ok in zip(ids.to_numpy(), present)]
    return out
