"""collaboration.html: zones by chain, collaboration pairs, innovation districts."""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from geo import styles
from geo.styles import STRENGTH_RANGES, STRENGTH_WIDTHS, STRENGTH_WORDS, strength_class, strength_index
from geo._types import AnalysisResult
from geo.webmap._assets import json_for_script
from geo.webmap._base import (
    MapContext,
    add_layer,
    dedupe_styles,
    district_entry,
    district_outlines,
    finish_map,
    map_title,
    new_map,
    value_names,
    with_names,
)
from geo.webmap._briefing import (
    ChainFilter,
    display_names,
    district_labels,
    label_items,
)
from geo.webmap._roads import add_roads
from geo.webmap._controls import (
    LayerGroup,
    LayerItem,
    LegendSection,
    _Call,
    line_row,
    swatch_row,
)

#: At most this many non-recommended pairs are drawn (the strongest); the legend says so.
MAX_OTHER_PAIRS = 3000


def build_collaboration_map(ctx: MapContext, result: AnalysisResult) -> folium.Map:
    """The folium map of the cross-district collaboration analysis."""
    title = map_title(ctx, "collaboration")
    m = new_map(ctx, title)
    zh = ctx.lang == "zh"
    legend: list[LegendSection] = []
    chains_group = LayerGroup(ctx.label("chain"))
    pairs_group = LayerGroup(ctx.label("collaboration_pairs"))
    context = LayerGroup(ctx.text["context"])
    district_outlines(m, ctx)

    labels: list[dict | None] = [district_labels(ctx)]
    study_zones = ctx.study.zones
    if study_zones is not None and len(study_zones) and "name" in study_zones:
        study_zones = study_zones.assign(name=display_names(study_zones, ctx.study.districts, ctx.lang).to_numpy())
    zone_names = value_names(study_zones, "zone_id")
    district_names = value_names(ctx.study.districts, "district_id")
    innov = ctx.study.innovation_districts
    innov_names = value_names(innov, "innov_id")

    if innov is not None and len(innov):
        fields = ctx.fields(["name", "innov_id", "chains", "district_id", "jobs"], innov)
        name = ctx.label("innovation_districts")
        add_layer(m, ctx, "innovation_districts", innov, label_text=name,
                  styles_list=[{"color": styles.INNOVATION_COLOR, "weight": 2.5, "fillColor": styles.INNOVATION_COLOR,
                                "fillOpacity": 0.3, "dashArray": "5 3"}],
                  props=[f[0] for f in fields], popup=fields, tooltip=fields[:3], title_field="name",
                  search_field="name", id_field="innov_id")
        legend.append(LegendSection(name, [swatch_row(name, styles.INNOVATION_COLOR, styles.INNOVATION_COLOR,
                                                      opacity=0.45, dashed=True, weight=2)],
                                    ["innovation_districts"]))
        context.items.append(LayerItem("innovation_districts", name))

    zones = result.tables.get("collaboration_zones")
    chain_layer_ids: list[str] = []
    chain_layer: dict[str, str] = {}
    if isinstance(zones, gpd.GeoDataFrame) and len(zones):
        if "name" in zones and "zone_id" in zones:
            zones = zones.assign(label_name=display_names(zones, ctx.study.districts, ctx.lang, short=True).to_numpy(),
                                 name=zones["zone_id"].map(zone_names).fillna(zones["name"]).to_numpy())
        z = with_names(zones, "nearest_partner_id", zone_names, "nearest_partner_name")
        z = with_names(z, "nearest_partner_district", district_names, "nearest_partner_district_name")
        z = with_names(z, "nearest_innov_id", innov_names, "nearest_innov_name")
        if "fastest_partner_id" in z:
            z = with_names(z, "fastest_partner_id", zone_names, "fastest_partner_name")
        z = with_names(z, "district_id", district_names, "district_name")
        colors = styles.chain_colors(z["chain"])
        fields = ctx.fields([
            "name", "zone_id", "chain", ("district_name", ctx.label("districts"), "text"),
            ("nearest_partner_name", ctx.label("nearest_partner_id"), "text"),
            ("nearest_partner_district_name", ctx.label("nearest_partner_district"), "text"),
            "nearest_partner_m", "partners_within",
            ("fastest_partner_name", ctx.label("fastest_partner_id"), "text"), "nearest_partner_min",
            "partners_within_min",
            ("nearest_innov_name", ctx.label("nearest_innov_id"), "text"), "nearest_innov_m",
        ], z)
        tip = [f for f in fields if f[0] in ("chain", "nearest_partner_name", "nearest_partner_m", "nearest_partner_min")]
        rows = []
        for i, (chain, color) in enumerate(colors.items()):
            part = z[z["chain"].astype(str) == chain]
            layer_id = f"chain_{i}"
            add_layer(m, ctx, layer_id, part, label_text=chain,
                      styles_list=[{"color": styles.ZONE_OUTLINE, "weight": 1, "fillColor": color, "fillOpacity": 0.8}],
                      props=[f[0] for f in fields], popup=fields, tooltip=tip, title_field="name",
                      search_field="name", id_field="zone_id")
            chain_layer_ids.append(layer_id)
            chain_layer[chain] = layer_id
            chains_group.items.append(LayerItem(layer_id, chain))
            rows.append(swatch_row(chain, color, styles.ZONE_OUTLINE, opacity=0.8))
        legend.append(LegendSection(ctx.label("chain"), rows, chain_layer_ids, columns=2))

    pairs = result.tables.get("collaboration_pairs")
    if isinstance(pairs, gpd.GeoDataFrame) and len(pairs):
        p = with_names(pairs, "zone_a", zone_names, "zone_a_name")
        p = with_names(p, "zone_b", zone_names, "zone_b_name")
        p = with_names(p, "district_a", district_names, "district_a_name")
        p = with_names(p, "district_b", district_names, "district_b_name")
        recommended = p["recommended"].fillna(False).astype(bool) if "recommended" in p else pd.Series(True, p.index)
        fields = ctx.fields([
            ("zone_a_name", ctx.label("zone_a"), "text"), ("zone_b_name", ctx.label("zone_b"), "text"), "chain",
            ("district_a_name", ctx.label("district_a"), "text"), ("district_b_name", ctx.label("district_b"), "text"),
            "distance_m", "travel_min", "strength", "pair_type", "rank", "recommended", "reason",
        ], p, table="collaboration_pairs")
        tip = [f for f in fields if f[0] in ("pair_type", "distance_m", "travel_min", "strength_index")]
        p["strength_index"] = strength_index(p["strength"]) if "strength" in p else np.nan
        index_field = ["strength_index", "协同强度指数（0–100）" if zh else "Strength index (0–100)", "int"]
        fields.insert(next((i + 1 for i, f in enumerate(fields) if f[0] == "chain"), len(fields)), index_field)
        tip = [*tip, index_field]
        props = [f[0] for f in fields]
        title_join = ["zone_a_name", "zone_b_name"] if {"zone_a_name", "zone_b_name"} <= set(p.columns) else None
        rec = p[recommended]
        cls = strength_class(rec["strength_index"])
        rec_styles = [{"color": styles.PAIR_TYPE_COLORS.get(t, styles.PAIR_TYPE_COLORS["peer"]),
                       "weight": STRENGTH_WIDTHS[c], "opacity": 0.9, "lineCap": "round"}
                      for t, c in zip(rec.get("pair_type", pd.Series(["peer"] * len(rec))), cls)]
        rec_list, rec_idx = dedupe_styles(rec_styles)
        rec_name = "推荐协同对" if zh else "Recommended pairs"
        if len(rec):
            add_layer(m, ctx, "pairs_recommended", rec, label_text=rec_name, styles_list=rec_list, style_index=rec_idx,
                      props=props, popup=fields, tooltip=tip, pane="zaLine", tolerance_m=0, title_join=title_join)
            pairs_group.items.append(LayerItem("pairs_recommended", rec_name))
            if isinstance(zones, gpd.GeoDataFrame) and "zone_id" in zones:
                labels.append(_pair_end_labels(ctx, zones, rec, chain_layer))
        other = p[~recommended]
        total_other = len(other)
        if "strength" in other and total_other > MAX_OTHER_PAIRS:
            other = other.sort_values("strength", ascending=False, na_position="last").head(MAX_OTHER_PAIRS)
        other_name = "其他候选协同对" if zh else "Other candidate pairs"
        if len(other):
            other_styles = [{"color": styles.PAIR_TYPE_COLORS.get(t, styles.PAIR_TYPE_COLORS["peer"]), "weight": 1,
                             "opacity": 0.6, "dashArray": "4 4"}
                            for t in other.get("pair_type", pd.Series(["peer"] * len(other)))]
            o_list, o_idx = dedupe_styles(other_styles)
            add_layer(m, ctx, "pairs_other", other, label_text=other_name, styles_list=o_list, style_index=o_idx,
                      props=props, popup=fields, tooltip=tip, pane="zaLine", tolerance_m=0, title_join=title_join,
                      show=False, canvas=len(other) > 1000)
            pairs_group.items.append(LayerItem("pairs_other", other_name))
        pair_layers = [i.id for i in pairs_group.items]
        legend.append(LegendSection(f"{ctx.label('pair_type')}（{'线色' if zh else 'line colour'}）" if zh else
                                    f"{ctx.label('pair_type')} (line colour)",
                                    [line_row(ctx.label(t), c, 3) for t, c in styles.PAIR_TYPE_COLORS.items()],
                                    pair_layers))
        if len(rec):
            words = STRENGTH_WORDS["zh" if zh else "en"]
            rows = [line_row(f"{words[i]}（{lo}–{hi}）" if zh else f"{words[i]} ({lo}–{hi})", "#444444",
                             STRENGTH_WIDTHS[i]) for i, (lo, hi) in reversed(list(enumerate(STRENGTH_RANGES)))]
            note = ("指数 0–100：协同强度在本研究全部候选协同对中的对数位置（0 最弱，100 最强）；"
                    "协同强度 = 规模A × 规模B ÷ (距离公里 + 1)^距离衰减系数，规模 = 产值（缺失时用就业岗位）" if zh else
                    "index 0–100: log position of the pair's strength among all candidate pairs of the study "
                    "(0 weakest, 100 strongest); strength = mass A × mass B / (distance km + 1)^decay, "
                    "mass = output (jobs where missing)")
            legend.append(LegendSection(f"{rec_name} — {'协同强度指数' if zh else 'strength index'}", rows,
                                        ["pairs_recommended"], note))
        note = None
        if total_other > len(other):
            note = (f"显示最强的 {len(other):,} 对（共 {total_other:,} 对）" if zh
                    else f"showing the strongest {len(other):,} of {total_other:,}")
        if "travel_min" in p:
            limit = f"{ctx.settings.collaboration.max_travel_min:g}"
            slow = (f"路网通行超过 {limit} 分钟（或不连通）的协同对不予推荐，排在链内最后" if zh
                    else f"pairs over {limit} min by road (or without a road path) are never recommended "
                         "and rank last in their chain")
            note = f"{note}；{slow}" if note and zh else (f"{note}; {slow}" if note else slow)
        legend.append(LegendSection(other_name, [line_row(f"{other_name}（{'默认关闭' if zh else ''}）" if zh else
                                                          f"{other_name} (off at start)", "#777777", 1, dash="4 4")],
                                    ["pairs_other"], note))

    pair_ids = [i.id for i in pairs_group.items]
    if chain_layer_ids and pair_ids:
        m.add_child(LinkChains({i.id: i.label for i in chains_group.items}, pair_ids), name="za_link_chains")
    if len(chain_layer_ids) > 1:
        m.add_child(ChainFilter({i.id: i.label for i in chains_group.items}, ctx.label("chain"),
                                "全部产业链" if zh else "All chains"), name="za_chain_filter")
    add_roads(m, ctx, context, legend)

    district_entry(m, ctx, context, legend)
    bounds = ctx.display.bounds([zones if isinstance(zones, gpd.GeoDataFrame) else ctx.study.zones])
    return finish_map(m, ctx, title=title, groups=[g for g in (chains_group, pairs_group, context) if g.items],
                      legend=legend, bounds=bounds, labels=labels)


def _pair_end_labels(ctx: MapContext, zones: gpd.GeoDataFrame, rec: pd.DataFrame, chain_layer: dict[str, str]) -> dict:
    """Labels of both ends of the recommended pairs (stronger pairs first)."""
    best: dict = {}
    for a, b, idx in zip(rec["zone_a"], rec["zone_b"], rec["strength_index"].fillna(0)):
        for zid in (a, b):
            best[zid] = max(best.get(zid, -1.0), float(idx))
    ends = zones[zones["zone_id"].isin(list(best))]
    prio = [100.0 + best[zid] for zid in ends["zone_id"]]
    layers = [chain_layer.get(str(c)) for c in ends.get("chain", pd.Series([None] * len(ends), index=ends.index))]
    texts = ends["label_name"].tolist() if "label_name" in ends else ends["zone_id"].tolist()
    return {"id": "pair_ends", "layer": "pairs_recommended", "kind": "zone",
            "items": label_items(ctx, ends, texts, prio, layers)}


class LinkChains(_Call):
    """Hide the pairs of a chain while its zone overlay is switched off."""

    def __init__(self, chain_layers: dict[str, str], pair_layers: list[str]) -> None:
        super().__init__()
        self._name = "LinkChains"
        self.chain_layers, self.pair_layers = chain_layers, pair_layers

    def script(self, map_var: str) -> str:
        return (f"zoneatlas.linkChains({json_for_script(self.chain_layers)}, "
                f"{json_for_script(self.pair_layers)});")
