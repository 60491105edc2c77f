"""chains.html: pick a chain; its zones by role, its leader firms and their reach, the gap
list with its candidate zones, and the district × chain location quotients as a matrix.

A select control (our own small script, no third-party JavaScript) shows one chain at a
time: every chain overlay carries a ``chain`` property and keeps only that chain's
features. The LQ matrix is an HTML table in a collapsible panel, built with DOM calls
(``textContent``), so attribute text stays text.
"""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
import shapely

from geo import styles
from geo._types import AnalysisResult
from geo.analysis.chains import initial_chain
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
from geo.webmap._briefing import display_names
from geo.webmap._controls import LayerGroup, LayerItem, LegendSection, _Call, swatch_row

ROLE_ORDER = ("rd", "manufacturing", "terminal", "supporting", "mixed", "none")
#: Vertices per quarter circle of the drawn reach circles.
REACH_QUAD_SEGS = 8

_TEXT = {
    "zh": {"chain": "产业链", "all": "全部产业链", "completeness": "完整度", "missing": "缺失环节",
           "distant": "偏远环节", "lq": "区位熵（行政区 × 产业链）", "district": "行政区", "none": "无",
           "reach": "链主企业辐射范围", "leaders": "链主企业", "candidates": "补链候选功能区",
           "gaps": "补链清单（主承载区）", "zones": "功能区（按链内环节着色）", "no_role": "未定环节"},
    "en": {"chain": "Chain", "all": "All chains", "completeness": "Completeness", "missing": "Missing roles",
           "distant": "Distant roles", "lq": "Location quotient (district × chain)", "district": "District",
           "none": "none", "reach": "Leader firms' reach", "leaders": "Chain-leader firms",
           "candidates": "Gap candidate zones", "gaps": "Gap list (at the strongest zone)",
           "zones": "Zones by chain role", "no_role": "No role"},
}

_SCRIPT = """
(function () {
  var ZA = window.zoneatlas, cfg = %(cfg)s, map = ZA.map, hidden = {};
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function lqColor(v) {
    if (typeof v !== "number" || !isFinite(v)) { return "#ffffff"; }
    for (var i = 0; i < cfg.breaks.length; i++) { if (v < cfg.breaks[i]) { return cfg.colors[i]; } }
    return cfg.colors[cfg.colors.length - 1];
  }
  var info, lqCells = [];
  function apply(chain) {
    cfg.layers.forEach(function (id) {
      var gj = ZA.overlays[id];
      if (!gj) { return; }
      var store = hidden[id] || [];
      gj.eachLayer(function (l) {
        if (chain && l.feature.properties.chain !== chain) { store.push(l); }
      });
      store.forEach(function (l) { if (gj.hasLayer(l)) { gj.removeLayer(l); } });
      hidden[id] = store.filter(function (l) {
        if (!chain || l.feature.properties.chain === chain) { gj.addLayer(l); return false; }
        return true;
      });
    });
    info.textContent = "";
    var s = cfg.summary[chain];
    if (s) {
      info.appendChild(el("div", null, cfg.text.completeness + ": " + s.completeness));
      info.appendChild(el("div", null, cfg.text.missing + ": " + (s.missing || cfg.text.none)));
      info.appendChild(el("div", null, cfg.text.distant + ": " + (s.distant || cfg.text.none)));
    }
    lqCells.forEach(function (c) { c[0].style.outline = (c[1] === chain) ? "2px solid #000" : ""; });
    document.documentElement.setAttribute("data-za-chain", chain || "");
    map.fire("za:toggle");
  }
  var Picker = L.Control.extend({
    options: {position: "topleft"},
    onAdd: function () {
      var box = el("div", "za-box za-chain-picker");
      box.style.padding = "6px 8px"; box.style.background = "#fff"; box.style.maxWidth = "260px";
      var lab = el("label", null, cfg.text.chain + " ");
      var sel = el("select"); sel.id = "za-chain-select";
      var all = el("option", null, cfg.text.all); all.value = ""; sel.appendChild(all);
      cfg.chains.forEach(function (c) { var o = el("option", null, c); o.value = c; sel.appendChild(o); });
      sel.value = cfg.initial;
      sel.addEventListener("change", function () {
        apply(sel.value);
        var zl = ZA.overlays.chain_zones;   // zoom to the picked chain's zones
        if (sel.value && zl && zl.getLayers().length) { map.fitBounds(zl.getBounds(), {padding: [40, 40], maxZoom: 13}); }
      });
      lab.appendChild(sel); box.appendChild(lab);
      info = el("div", "za-chain-info"); box.appendChild(info);
      L.DomEvent.disableClickPropagation(box); L.DomEvent.disableScrollPropagation(box);
      return box;
    }
  });
  var Matrix = L.Control.extend({
    options: {position: "bottomleft"},
    onAdd: function () {
      var box = el("div", "za-box za-lq");
      box.style.background = "#fff"; box.style.padding = "4px 6px"; box.style.maxHeight = "45vh";
      box.style.maxWidth = "60vw"; box.style.overflow = "auto"; box.style.fontSize = "11px";
      var head = el("div", "za-legend-title", cfg.text.lq); head.style.cursor = "pointer";
      var table = el("table", "za-lq-table"); table.style.borderCollapse = "collapse";
      head.addEventListener("click", function () { table.style.display = table.style.display === "none" ? "" : "none"; });
      var tr = el("tr"); tr.appendChild(el("th", null, cfg.text.district));
      cfg.chains.forEach(function (c) { var th = el("th", null, c); th.style.padding = "1px 3px"; tr.appendChild(th); });
      table.appendChild(tr);
      cfg.lq.rows.forEach(function (r, i) {
        var row = el("tr"); row.appendChild(el("th", null, r));
        cfg.lq.values[i].forEach(function (v, j) {
          var td = el("td", null, (typeof v === "number") ? v.toFixed(2) : "–");
          td.style.background = lqColor(v); td.style.color = (lqColor(v) === cfg.colors[0] || lqColor(v) === cfg.colors[cfg.colors.length - 1]) ? "#fff" : "#000";
          td.style.padding = "1px 3px"; td.style.textAlign = "right";
          td.setAttribute("data-chain", cfg.chains[j]);
          lqCells.push([td, cfg.chains[j]]); row.appendChild(td);
        });
        table.appendChild(row);
      });
      box.appendChild(head); box.appendChild(table);
      L.DomEvent.disableClickPropagation(box); L.DomEvent.disableScrollPropagation(box);
      return box;
    }
  });
  new Picker().addTo(map);
  new Matrix().addTo(map);
  ZA.refit();   // the view leaves room for the picker and the LQ matrix as for the other panels
  ZA.selectChain = function (chain) { document.getElementById("za-chain-select").value = chain; apply(chain); };
  apply(cfg.initial);
})();
"""


class ChainPicker(_Call):
    """The chain select control and the LQ matrix panel."""

    def __init__(self, config: dict) -> None:
        super().__init__()
        self._name = "ChainPicker"
        self.config = config

    def script(self, map_var: str) -> str:
        return _SCRIPT % {"cfg": json_for_script(self.config)}


def _fmt(v: float) -> str:
    return "–" if v is None or not np.isfinite(v) else f"{v:.2f}"


def build_chains_map(ctx: MapContext, result: AnalysisResult) -> folium.Map:
    """The folium map of the chains analysis."""
    title = map_title(ctx, "chains_analysis")
    m = new_map(ctx, title)
    zh = ctx.lang == "zh"
    tx = _TEXT[ctx.lang]
    legend: list[LegendSection] = []
    analysis = LayerGroup(ctx.text["analysis"])
    context = LayerGroup(ctx.text["context"])
    district_outlines(m, ctx)
    t = result.tables
    comp, gaps = t["chain_completeness"], t["chain_gaps"]
    district_names = value_names(ctx.study.districts, "district_id")
    zone_names = value_names(ctx.study.zones, "zone_id")
    chain_layers: list[str] = []

    base = t.get("chain_zones")
    zones = with_names(base if isinstance(base, gpd.GeoDataFrame) else ctx.study.zones, "district_id",
                       district_names, "district_name")
    role = zones["role"].where(zones["role"].notna(), "none").astype(str)
    zones = zones.assign(role_shown=role)
    if "name" in zones:   # duplicates told apart in words, as on the other maps
        zones = zones.assign(name=display_names(zones, ctx.study.districts, ctx.lang).to_numpy())
    per = [{"color": styles.ZONE_OUTLINE, "weight": 1, "fillColor": styles.CHAIN_ROLE_COLORS.get(r, "#dddddd"),
            "fillOpacity": 0.75} for r in role]
    z_styles, z_idx = dedupe_styles(per)
    by_road = result.summary.get("reach_kind") == "network"
    within = (f"（路网 {result.summary.get('reach_min'):g} 分钟内）" if zh else
              f" (within {result.summary.get('reach_min'):g} min by road)") if by_road else ""
    zfields = ctx.fields(["name", "zone_id", "chain", ("district_name", ctx.label("districts"), "text"),
                          "role", "jobs", ("roles_in_reach", ctx.label("roles_in_reach") + within, "pct"),
                          ("leader_in_reach", ctx.label("leader_in_reach") + within, "bool")], zones)
    add_layer(m, ctx, "chain_zones", zones, label_text=tx["zones"], styles_list=z_styles, style_index=z_idx,
              props=[f[0] for f in zfields], popup=zfields, tooltip=zfields[:3], title_field="name",
              search_field="name", id_field="zone_id")
    analysis.items.append(LayerItem("chain_zones", tx["zones"]))
    chain_layers.append("chain_zones")
    labels = {**{r: ctx.label(r) for r in ROLE_ORDER[:5]}, "none": tx["no_role"]}
    legend.append(LegendSection(tx["zones"], [swatch_row(labels[r], styles.CHAIN_ROLE_COLORS[r])
                                               for r in ROLE_ORDER if (role == r).any()], ["chain_zones"]))

    cand = t.get("chain_gap_candidates")
    if isinstance(cand, gpd.GeoDataFrame) and len(cand):
        c = cand.assign(role_label=[ctx.label(r) for r in cand["role"]],
                        kind_label=[tx["missing"] if k == "missing" else tx["distant"] for k in cand["kind"]])
        cfields = [["name", ctx.label("name"), "text"], ["role_label", ctx.label("role"), "text"],
                   ["kind_label", "缺口类型" if zh else "Gap", "text"], ["rank", "候选顺序" if zh else "Rank", "int"],
                   ["distance_m", "距主承载区" if zh else "From strongest zone", "km"]]
        add_layer(m, ctx, "gap_candidates", c, label_text=tx["candidates"],
                  styles_list=[{"color": styles.GAP_OUTLINE, "weight": 3, "dashArray": "6 4", "fill": True,
                                "fillOpacity": 0.05, "fillColor": styles.GAP_OUTLINE}],
                  props=["chain", *[f[0] for f in cfields]], popup=cfields, tooltip=cfields[:3], title_field="name",
                  pane="zaLine")
        analysis.items.append(LayerItem("gap_candidates", tx["candidates"]))
        chain_layers.append("gap_candidates")
        legend.append(LegendSection(tx["candidates"], [swatch_row(tx["candidates"], "none", styles.GAP_OUTLINE,
                                                                  dashed=True, weight=3)], ["gap_candidates"]))

    if len(gaps):
        g = gaps.assign(role_label=[ctx.label(r) for r in gaps["role"]])
        by_chain = g.groupby("chain").agg(
            missing=("role_label", lambda s: "、".join(s[g.loc[s.index, "kind"] == "missing"])),
            distant=("role_label", lambda s: "、".join(s[g.loc[s.index, "kind"] == "distant"])),
            reason=("reason", lambda s: " / ".join(s)), top_zone_id=("top_zone_id", "first")).reset_index()
        pos = ctx.study.zones.set_index("zone_id").geometry
        pts = shapely.point_on_surface(np.asarray(pos.loc[by_chain["top_zone_id"]].values, dtype=object))
        by_chain["top_name"] = [zone_names.get(z, z) for z in by_chain["top_zone_id"]]
        gp = gpd.GeoDataFrame(by_chain, geometry=pts, crs=ctx.study.crs)
        gfields = [["top_name", "主承载区" if zh else "Strongest zone", "text"], ["chain", ctx.label("chain"), "text"],
                   ["missing", tx["missing"], "text"], ["distant", tx["distant"], "text"],
                   ["reason", "说明" if zh else "Reason", "text"]]
        add_layer(m, ctx, "gaps", gp, label_text=tx["gaps"],
                  styles_list=[{"fillColor": styles.GAP_OUTLINE, "size": styles.GAP_STAR_PX}],
                  props=[f[0] for f in gfields], popup=gfields, tooltip=gfields[:4], title_field="chain",
                  marker="star", pane="zaTop", tolerance_m=0)
        analysis.items.insert(0, LayerItem("gaps", tx["gaps"]))
        chain_layers.append("gaps")
        legend.insert(0, LegendSection(tx["gaps"], [swatch_row(tx["gaps"], styles.GAP_OUTLINE, styles.GAP_OUTLINE)],
                                       ["gaps"]))

    lf = t.get("leader_firms")
    if isinstance(lf, gpd.GeoDataFrame) and len(lf):
        reach_m = float(result.summary.get("reach_m") or 0)
        lfn = with_names(lf, "district_id", district_names, "district_name")
        circles = gpd.GeoDataFrame(lfn[["firm_id", "name", "chain"]].copy(),
                                   geometry=shapely.buffer(lf.geometry.values.to_numpy(), reach_m,
                                                           quad_segs=REACH_QUAD_SEGS), crs=lf.crs)
        add_layer(m, ctx, "leader_reach", circles, label_text=tx["reach"],
                  styles_list=[{"color": styles.REACH_COLOR, "weight": 1, "fill": True, "fillOpacity": 0.04,
                                "fillColor": styles.REACH_COLOR, "opacity": 0.6}],
                  props=["chain", "name"], interactive=False, pane="zaBack", tolerance_m=20.0,
                  canvas=len(circles) > 300)
        analysis.items.append(LayerItem("leader_reach", f"{tx['reach']} ({reach_m / 1000:g} km)"))
        chain_layers.append("leader_reach")
        lfields = ctx.fields(["name", "firm_id", "chain", ("district_name", ctx.label("districts"), "text"), "jobs",
                              ("firms_within", ("辐射范围内同链企业" if zh else "Same-chain firms in reach") + within,
                               "int"),
                              ("jobs_within", "其就业" if zh else "Their jobs", "int"),
                              ("firms_other_district", "其中在其他行政区" if zh else "Of which in other districts",
                               "int"),
                              ("zones_within", ("辐射范围内同链功能区" if zh else "Same-chain zones in reach") + within,
                               "int")], lfn)
        add_layer(m, ctx, "leaders", lfn, label_text=tx["leaders"],
                  styles_list=[{"color": "#ffffff", "weight": styles.LEADER_OUTLINE_PX,
                                "fillColor": styles.LEADER_COLOR, "fillOpacity": 1,
                                "radius": styles.LEADER_RADIUS_PX}],
                  props=[f[0] for f in lfields], popup=lfields, tooltip=lfields[:4], title_field="name",
                  pane="zaTop", tolerance_m=0, canvas=len(lfn) > 1500)
        analysis.items.insert(1 if len(gaps) else 0, LayerItem("leaders", tx["leaders"]))
        chain_layers.append("leaders")
        legend.append(LegendSection(tx["leaders"], [swatch_row(tx["leaders"], styles.LEADER_COLOR, "#ffffff",
                                                               opacity=1)], ["leaders"]))
        circle = f"{reach_m / 1000:g} km"
        note = None
        if by_road:   # counted by road; the circle is the straight-line reach, for reference only
            circle = f"直线 {reach_m / 1000:g} 公里（参考）" if zh else f"{reach_m / 1000:g} km straight line (reference)"
            note = (f"辐射范围按路网通行时间计算：{result.summary.get('reach_min'):g} 分钟内（单行道按方向，取较快方向）"
                    if zh else f"reach is counted by road: within {result.summary.get('reach_min'):g} min "
                               "(one-way streets respected, the faster direction)")
        legend.append(LegendSection(tx["reach"], [swatch_row(circle, styles.REACH_COLOR,
                                                             styles.REACH_COLOR, opacity=0.1)], ["leader_reach"], note))

    district_entry(m, ctx, context, legend)

    lq = t["chain_lq"]
    chains = [str(c) for c in comp["chain"]]
    rows = sorted(lq["district_id"].astype(str).unique())
    grid = lq.pivot(index="district_id", columns="chain", values="lq").reindex(index=rows, columns=chains)
    gaps_by = {c: (g["role"].map(ctx.label), g["kind"]) for c, g in gaps.groupby("chain")} if len(gaps) else {}
    summary = {}
    for r in comp.itertuples(index=False):
        names_kinds = gaps_by.get(r.chain)
        miss = dist = ""
        if names_kinds is not None:
            names, kinds = names_kinds
            miss = "、".join(names[kinds == "missing"])
            dist = "、".join(names[kinds == "distant"])
        summary[str(r.chain)] = {"completeness": _fmt(r.completeness), "missing": miss, "distant": dist}
    config = {
        "chains": chains, "initial": initial_chain(comp, gaps), "layers": chain_layers, "summary": summary,
        "text": tx, "breaks": list(styles.LQ_BREAKS), "colors": list(styles.LQ_COLORS),
        "lq": {"rows": [str(district_names.get(d, d)) for d in rows],
               "values": [[None if not np.isfinite(v) else round(float(v), 4) for v in row]
                          for row in grid.to_numpy(float)]},
    }
    bounds = ctx.display.bounds([ctx.study.zones])
    m = finish_map(m, ctx, title=title, groups=[g for g in (analysis, context) if g.items], legend=legend,
                   bounds=bounds)
    # after the finish call so every overlay exists; the picker filters them
    m.add_child(ChainPicker(config), name="za_chain_picker")
    return m
