"""collaboration.html: zones by chain, collaboration pairs, innovation districts."""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from geo import styles
from geo._types import AnalysisResult
from geo.webmap._assets import json_for_script
from geo.webmap._base import (
    MapContext,
    add_layer,
    dedupe_styles,
    district_outlines,
    finish_map,
    fmt_number,
    map_title,
    new_map,
    value_names,
    with_names,
)
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
#: Non-recommended pairs are on at start only when there are at most this many.
SHOW_OTHER_PAIRS_UP_TO = 300


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

    zone_names = value_names(ctx.study.zones, "zone_id")
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
    if isinstance(zones, gpd.GeoDataFrame) and len(zones):
        z = with_names(zones, "nearest_partner_id", zone_names, "nearest_partner_name")
        z = with_names(z, "nearest_partner_district", district_names, "nearest_partner_district_name")
        z = with_names(z, "nearest_innov_id", innov_names, "nearest_innov_name")
        z = with_names(z, "district_id", district_names, "district_name")
        colors = styles.chain_colors(z["chain"])
        fields = ctx.fields([
            "name", "zone_id", "chain", ("district_name", ctx.label("districts"), "text"),
            ("nearest_partner_name", ctx.label("nearest_partner_id"), "text"),
            ("nearest_partner_district_name", ctx.label("nearest_partner_district"), "text"),
            "nearest_partner_m", "partners_within",
            ("nearest_innov_name", ctx.label("nearest_innov_id"), "text"), "nearest_innov_m",
        ], z)
        tip = [f for f in fields if f[0] in ("chain", "nearest_partner_name", "nearest_partner_m")]
        rows = []
        for i, (chain, color) in enumerate(colors.items()):
            part = z[z["chain"].astype(str) == chain]
            layer_id = f"chain_{i}"
            add_layer(m, ctx, layer_id, part, label_text=chain,
                      styles_list=[{"color": styles.ZONE_OUTLINE, "weight": 1, "fillColor": color, "fillOpacity": 0.8}],
                      props=[f[0] for f in fields], popup=fields, tooltip=tip, title_field="name",
                      search_field="name", id_field="zone_id")
            chain_layer_ids.append(layer_id)
            chains_group.items.append(LayerItem(layer_id, chain))
            rows.append(swatch_row(chain, color, styles.ZONE_OUTLINE, opacity=0.8))
        legend.append(LegendSection(ctx.label("chain"), rows, chain_layer_ids))

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
            "distance_m", "strength", "pair_type", "rank", "recommended", "reason",
        ], p)
        tip = [f for f in fields if f[0] in ("zone_a_name", "zone_b_name", "pair_type", "distance_m")]
        rec = p[recommended]
        strength = pd.to_numeric(rec.get("strength", pd.Series(dtype=float)), errors="coerce")
        breaks = styles.graduated_breaks(strength, k=len(styles.LINE_WIDTHS))
        cls = np.clip(styles.classify(strength.to_numpy(float), breaks), 0, None)
        rec_styles = [{"color": styles.PAIR_TYPE_COLORS.get(t, "#999999"), "weight": styles.LINE_WIDTHS[c],
                       "opacity": 0.9, "lineCap": "round"}
                      for t, c in zip(rec.get("pair_type", pd.Series(["peer"] * len(rec))), cls)]
        rec_list, rec_idx = dedupe_styles(rec_styles)
        rec_name = "推荐协同对" if zh else "Recommended pairs"
        if len(rec):
            add_layer(m, ctx, "pairs_recommended", rec, label_text=rec_name, styles_list=rec_list, style_index=rec_idx,
                      props=[f[0] for f in fields], popup=fields, tooltip=tip, pane="zaLine", tolerance_m=0)
            pairs_group.items.append(LayerItem("pairs_recommended", rec_name))
        other = p[~recommended]
        total_other = len(other)
        if "strength" in other and total_other > MAX_OTHER_PAIRS:
            other = other.sort_values("strength", ascending=False, na_position="last").head(MAX_OTHER_PAIRS)
        other_name = "其他候选协同对" if zh else "Other candidate pairs"
        if len(other):
            other_styles = [{"color": styles.PAIR_TYPE_COLORS.get(t, "#999999"), "weight": 1, "opacity": 0.55,
                             "dashArray": "4 4"} for t in other.get("pair_type", pd.Series(["peer"] * len(other)))]
            o_list, o_idx = dedupe_styles(other_styles)
            add_layer(m, ctx, "pairs_other", other, label_text=other_name, styles_list=o_list, style_index=o_idx,
                      props=[f[0] for f in fields], popup=fields, tooltip=tip, pane="zaLine", tolerance_m=0,
                      show=len(other) <= SHOW_OTHER_PAIRS_UP_TO, canvas=len(other) > 1000)
            pairs_group.items.append(LayerItem("pairs_other", other_name))
        pair_layers = [i.id for i in pairs_group.items]
        legend.append(LegendSection(ctx.label("pair_type"),
                                    [line_row(ctx.label(t), c, 3) for t, c in styles.PAIR_TYPE_COLORS.items()],
                                    pair_layers))
        if len(rec):
            ranges = styles.class_ranges(strength.to_numpy(float), breaks)
            rows = [line_row(f"{fmt_number(lo, 'num', ctx.lang)} – {fmt_number(hi, 'num', ctx.lang)}", "#555555",
                             styles.LINE_WIDTHS[i]) for i, (lo, hi) in enumerate(ranges)]
            legend.append(LegendSection(f"{rec_name} — {ctx.label('strength')}", rows, ["pairs_recommended"]))
        note = None
        if total_other > len(other):
            note = (f"显示最强的 {len(other):,} 对（共 {total_other:,} 对）" if zh
                    else f"showing the strongest {len(other):,} of {total_other:,}")
        legend.append(LegendSection(other_name, [line_row(other_name, "#777777", 1, dash="4 4")], ["pairs_other"], note))

    pair_ids = [i.id for i in pairs_group.items]
    if chain_layer_ids and pair_ids:
        m.add_child(LinkChains({i.id: i.label for i in chains_group.items}, pair_ids), name="za_link_chains")

    if "za_layer_districts" in m._children:
        context.items.append(LayerItem("districts", ctx.label("districts")))
        legend.append(LegendSection(ctx.label("districts"),
                                    [line_row(ctx.label("districts"), styles.DISTRICT_OUTLINE, 1.6, dash="6 4")],
                                    ["districts"]))
    bounds = ctx.display.bounds([zones if isinstance(zones, gpd.GeoDataFrame) else ctx.study.zones])
    return finish_map(m, ctx, title=title, groups=[g for g in (chains_group, pairs_group, context) if g.items],
                      legend=legend, bounds=bounds)


class LinkChains(_Call):
    """Hide the pairs of a chain while its zone overlay is switched off."""

    def __init__(self, chain_layers: dict[str, str], pair_layers: list[str]) -> None:
        super().__init__()
        self._name = "LinkChains"
        self.chain_layers, self.pair_layers = chain_layers, pair_layers

    def script(self, map_var: str) -> str:
        return (f"zoneatlas.linkChains({json_for_script(self.chain_layers)}, "
                f"{json_for_script(self.pair_layers)});")
