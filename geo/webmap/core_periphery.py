"""core_periphery.html: growth poles, periphery zones by core, attachment links, score."""

from __future__ import annotations

import itertools

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import styles
from geo._types import AnalysisResult
from geo.analysis.core_periphery import pole_territories, territory_buffer_m
from geo.webmap._base import (
    MapContext,
    add_layer,
    dedupe_styles,
    district_entry,
    district_outlines,
    finish_map,
    graduated_index,
    graduated_rows,
    map_title,
    new_map,
    value_names,
    with_names,
)
from geo.webmap._briefing import (
    display_names,
    district_labels,
    label_items,
)
from geo.webmap._roads import add_roads
from geo.webmap._controls import (
    LayerGroup,
    LayerItem,
    LegendSection,
    line_row,
    star_row,
    swatch_row,
)

#: Poles with a colour of their own, listed by name in the legend (the rest are grey).
LEGEND_MAX_CORES = len(styles.POLE_COLORS)
STAR_COLOR = styles.STAR_COLOR
ATTACH_BREAKS = styles.ATTACH_PROB_BREAKS
ISOLATED_OUTLINE = styles.ISOLATED_OUTLINE


def build_core_periphery_map(ctx: MapContext, result: AnalysisResult) -> folium.Map:
    """The folium map of the core–periphery analysis."""
    title = map_title(ctx, "core_periphery")
    m = new_map(ctx, title)
    zh = ctx.lang == "zh"
    legend: list[LegendSection] = []
    colouring = LayerGroup(ctx.text["colouring"], exclusive=True)
    analysis = LayerGroup(ctx.text["analysis"])
    context = LayerGroup(ctx.text["context"])
    district_outlines(m, ctx)

    zones = result.tables.get("core_periphery_zones")
    links = result.tables.get("core_periphery_links")
    zone_names = value_names(ctx.study.zones, "zone_id")
    district_names = value_names(ctx.study.districts, "district_id")
    labels: list[dict | None] = [district_labels(ctx)]
    if isinstance(zones, gpd.GeoDataFrame) and len(zones):
        if "name" in zones:
            zones = zones.assign(label_name=display_names(zones, ctx.study.districts, ctx.lang, short=True).to_numpy(),
                                 name=display_names(zones, ctx.study.districts, ctx.lang).to_numpy())
        zone_names = {**zone_names, **value_names(zones, "zone_id")}
        z = with_names(zones, "core_id", zone_names, "core_name")
        z = with_names(z, "district_id", district_names, "district_name")
        role = z["role"].astype(str) if "role" in z else pd.Series("periphery", z.index)
        strategy = z["strategy"].astype(str) if "strategy" in z else pd.Series("", z.index)
        is_core = (role == "core").to_numpy()
        is_isolated = (strategy == "isolated").to_numpy()
        key = np.where(is_core, z["zone_id"].astype(str), z.get("core_id", z["zone_id"]).astype(str))
        core_color = styles.pole_colors(z)
        core_ids = list(core_color)
        fields = ctx.fields([
            "name", "zone_id", "chain", ("district_name", ctx.label("districts"), "text"), "score", "rank", "role",
            ("core_name", ctx.label("core_id"), "text"), "core_distance_m", "core_travel_min", "attach_prob", "strategy",
            ("periphery_count", "外围承接功能区数" if zh else "Attached periphery zones", "int"),
        ], z, table="core_periphery_zones")
        tip = [f for f in fields if f[0] in ("strategy", "core_name", "score")]
        props = [*[f[0] for f in fields], "core_id"]

        per = []
        for k, core, iso in zip(key, is_core, is_isolated):
            if iso:
                per.append({"color": ISOLATED_OUTLINE, "weight": 2, "dashArray": "4 3",
                            "fillColor": styles.STRATEGY_COLORS["isolated"], "fillOpacity": 0.55})
            else:
                per.append({"color": styles.CORE_OUTLINE if core else styles.ZONE_OUTLINE,
                            "weight": styles.CORE_OUTLINE_WIDTH if core else 1,
                            "fillColor": core_color.get(k, "#cccccc"), "fillOpacity": 0.85 if core else 0.45})
        by_core_styles, by_core_idx = dedupe_styles(per)
        name_core = "按所属极核着色" if zh else "By attached core"
        add_layer(m, ctx, "zones_by_core", z, label_text=name_core, styles_list=by_core_styles,
                  style_index=by_core_idx, props=props, popup=fields, tooltip=tip, title_field="name",
                  search_field="name", id_field="zone_id", on_click="poleLinks")
        colouring.items.append(LayerItem("zones_by_core", name_core))
        rows = [swatch_row(str(zone_names.get(c, c)), core_color[c], styles.CORE_OUTLINE, opacity=0.85, weight=2)
                for c in core_ids[:LEGEND_MAX_CORES]]
        note = "点击功能区或极核显示其承接联系" if zh else "click a zone or pole to show its attachment links"
        if "core_travel_min" in z:
            limit = f"{ctx.settings.core_periphery.attach_max_min:g}"
            note += (f"；按路网通行时间（分钟）计算 Huff 承接概率，超过 {limit} 分钟为孤立" if zh else
                     f"; attachment by Huff on travel time by road, isolated beyond {limit} min")
        if len(core_ids) > LEGEND_MAX_CORES:
            more = len(core_ids) - LEGEND_MAX_CORES
            rows.append(swatch_row(f"其他 {more} 个极核" if zh else f"{more} other poles", styles.OTHER_POLE_COLOR,
                                   styles.CORE_OUTLINE, opacity=0.85, weight=2))
        rows.append(swatch_row(f"{ctx.label('core')}（{'粗黑边' if zh else 'thick outline'}）" if zh else
                               f"{ctx.label('core')} (thick outline)", "#ffffff", styles.CORE_OUTLINE, weight=3))
        legend.append(LegendSection(f"{ctx.label('core_id')} / {ctx.label('strategy')}", rows, ["zones_by_core"], note))

        # the territory of each pole: its zones and the periphery attached to it, merged
        terr = pole_territories(z, core_color)
        if terr is not None:
            terr = terr.rename(columns={"core_id": "key"})
            terr["name"] = [zone_names.get(k, k) for k in terr["key"]]
            grow = territory_buffer_m(z.geometry)
            tstyles = [{"color": core_color[k], "weight": 2.5, "fillColor": core_color[k], "fillOpacity": 0.12,
                        "opacity": 0.95} for k in terr["key"]]
            t_list, t_idx = dedupe_styles(tstyles)
            name_terr = "极核辐射范围" if zh else "Pole territories"
            tfields = [["periphery_count", "外围承接功能区数" if zh else "Attached periphery zones", "int"]]
            add_layer(m, ctx, "territories", terr, label_text=name_terr, styles_list=t_list, style_index=t_idx,
                      props=["name", "periphery_count"], popup=tfields, tooltip=tfields, title_field="name",
                      pane="zaBack", tolerance_m=max(50.0, grow / 6), interactive=False)
            analysis.items.append(LayerItem("territories", name_terr))
            legend.append(LegendSection(name_terr, [swatch_row("极核及其外围功能区的合并范围" if zh else
                                                              "a pole with its attached zones, merged",
                                                              "#bbbbbb", "#555555", opacity=0.5, weight=2.5)],
                                        ["territories"]))

        score = pd.to_numeric(z["score"], errors="coerce")
        breaks = styles.graduated_breaks(score)
        colors = styles.ramp(len(breaks) + 1)
        cls = graduated_index(score, breaks)
        per = [{"color": styles.CORE_OUTLINE if core else styles.ZONE_OUTLINE,
                            "weight": styles.CORE_OUTLINE_WIDTH if core else 1,
                "fillColor": colors[c] if c < len(colors) else "#cccccc", "fillOpacity": 0.85}
               for c, core in zip(cls, is_core)]
        score_styles, score_idx = dedupe_styles(per)
        name_score = f"{'按' if zh else 'By '}{ctx.label('score')}"
        add_layer(m, ctx, "zones_by_score", z, label_text=name_score, styles_list=score_styles,
                  style_index=score_idx, props=props, popup=fields, tooltip=tip, title_field="name", show=False)
        colouring.items.append(LayerItem("zones_by_score", name_score))
        legend.append(LegendSection(ctx.label("score"), graduated_rows(score, breaks, colors, "num", ctx.lang),
                                    ["zones_by_score"]))

        if is_isolated.any():
            iso = z[is_isolated]
            name_iso = ctx.label("isolated")
            add_layer(m, ctx, "isolated", iso, label_text=name_iso,
                      styles_list=[{"color": ISOLATED_OUTLINE, "weight": 3, "dashArray": "4 3", "fill": False}],
                      props=["zone_id"], interactive=False, pane="zaLine")
            analysis.items.append(LayerItem("isolated", name_iso))
            legend.append(LegendSection(name_iso, [swatch_row(f"{name_iso}（{'未被任何极核承接' if zh else ''}）" if zh
                                                              else f"{name_iso} (attached to no pole)",
                                                              styles.STRATEGY_COLORS["isolated"], ISOLATED_OUTLINE,
                                                              dashed=True, weight=2.5, opacity=0.7)], ["isolated"]))

        if isinstance(links, gpd.GeoDataFrame) and len(links):
            lk = with_names(links, "zone_id", zone_names, "zone_name")
            lk = with_names(lk, "core_id", zone_names, "core_name")
            prob = pd.to_numeric(lk.get("attach_prob", pd.Series(np.nan, lk.index)), errors="coerce")
            pcls = np.clip(styles.classify(prob.to_numpy(float), ATTACH_BREAKS), 0, None)
            per = [{"color": core_color.get(str(c), "#555555"), "weight": styles.LINE_WIDTHS[k] * 0.7 + 0.5,
                    "opacity": 0.85} for c, k in zip(lk["core_id"].astype(str), pcls)]
            l_styles, l_idx = dedupe_styles(per)
            lfields = ctx.fields([("zone_name", "外围功能区" if zh else "Periphery zone", "text"),
                                  ("core_name", ctx.label("core_id"), "text"), "distance_m", "travel_min",
                                  "attach_prob"], lk)
            name_links = f"{ctx.label('core_periphery_links')}（{'全部' if zh else 'all'}）" if zh else \
                f"{ctx.label('core_periphery_links')} (all)"
            add_layer(m, ctx, "links", lk, label_text=name_links, styles_list=l_styles, style_index=l_idx,
                      props=[*[f[0] for f in lfields], "core_id"], popup=lfields, tooltip=lfields, pane="zaLine",
                      tolerance_m=0, canvas=len(lk) > 1500, show=False)
            m._children["za_init"].config["linkLayer"] = "links"
            analysis.items.append(LayerItem("links", name_links))
            texts = [f"≤ {ATTACH_BREAKS[0]:.0%}", *[f"{a:.0%} – {b:.0%}" for a, b in itertools.pairwise(ATTACH_BREAKS)],
                     f"> {ATTACH_BREAKS[-1]:.0%}"]
            legend.append(LegendSection(f"{name_links} — {ctx.label('attach_prob')}",
                                        [line_row(t, "#555555", styles.LINE_WIDTHS[i] * 0.7 + 0.5)
                                         for i, t in enumerate(texts)], ["links", "zones_by_core"],
                                        "线色 = 所属极核；点击功能区或极核只显示它的联系" if zh else
                                        "line colour = pole; click a zone or pole to show only its links"))

        cores = z[is_core].copy()
        if len(cores):
            cores = gpd.GeoDataFrame(cores.drop(columns="geometry"),
                                     geometry=shapely.point_on_surface(np.asarray(cores.geometry.values, dtype=object)),
                                     crs=z.crs)
            # the poles with a colour of their own get big stars; any others small grey ones
            top = set(core_ids[:LEGEND_MAX_CORES])
            per = [{"fillColor": STAR_COLOR if str(c) in top else styles.OTHER_POLE_COLOR, "size": styles.POLE_STAR_PX if str(c) in top else styles.OTHER_POLE_STAR_PX}
                   for c in cores["zone_id"].astype(str)]
            p_styles, p_idx = dedupe_styles(per)
            pfields = [f for f in fields if f[0] in ("name", "chain", "district_name", "score", "periphery_count")]
            name_poles = "增长极核" if zh else "Growth poles"
            add_layer(m, ctx, "poles", cores, label_text=name_poles, styles_list=p_styles, style_index=p_idx,
                      props=[*[f[0] for f in pfields], "zone_id"], popup=pfields, tooltip=pfields, title_field="name",
                      marker="star", pane="zaTop", tolerance_m=0, on_click="poleLinks")
            analysis.items.insert(0, LayerItem("poles", name_poles))
            note = None
            if len(top) < len(core_ids):
                note = (f"大星标：得分最高的 {len(top)} 个极核" if zh else f"large stars: the {len(top)} strongest cores")
            legend.insert(0, LegendSection(name_poles, [star_row(ctx.label("core"), STAR_COLOR)],
                                           ["poles"], note))
            rank = {c: i for i, c in enumerate(core_ids)}
            prio = [1000.0 - rank[str(c)] for c in cores["zone_id"].astype(str)]
            labels.insert(0, {"id": "poles", "layer": "poles", "kind": "pole",
                              "items": label_items(ctx, cores, cores["label_name"].tolist() if "label_name" in cores
                                                   else cores["zone_id"].tolist(), prio)})
    add_roads(m, ctx, context, legend)

    district_entry(m, ctx, context, legend)
    bounds = ctx.display.bounds([zones if isinstance(zones, gpd.GeoDataFrame) else ctx.study.zones])
    return finish_map(m, ctx, title=title, groups=[g for g in (colouring, analysis, context) if g.items],
                      legend=legend, bounds=bounds, labels=labels)
