"""commuting.html: observed commuting. The largest district-to-district flows (width by
commuters), workplaces by the share of their commuters living within 5 km, a click on a
workplace draws its commute shed (home cells sized by commuters) and its distance /
direction rose, and a panel sets the study's indicators beside the national reference
figures, each labelled as observed, not measured, or a computed optimum (not observed).

The panel, the shed and the rose are our own small script (no third-party JavaScript);
text goes through ``textContent`` and SVG through ``createElementNS``.
"""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import styles
from geo._types import AnalysisResult
from geo.i18n import SECTOR_NAMES, fmt_number
from geo.webmap._assets import json_for_script
from geo.webmap._atlas_commuting import length_suffix
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
from geo.webmap._briefing import display_names
from geo.webmap._controls import (
    LayerGroup,
    LayerItem,
    LegendSection,
    _Call,
    line_row,
    swatch_row,
)

#: Home cells per workplace embedded for the shed (the largest first).
SHED_CELLS = 200
SHED_CELLS_MANY = 60      # when a study has more than 1,000 workplaces
#: National reference figures (share of commuters) the indicators are set beside.
REFERENCES = {"share_within_45min": 0.76, "share_within_5km": 0.50, "share_over_60min": 0.12}
TARGET_45MIN = 0.80

_TEXT = {
    "zh": {"panel": "通勤指标（实测 vs 全国参考）", "indicator": "指标", "study": "本研究", "reference": "全国参考",
           "status": "性质", "observed": "实测", "not_measured": "未测量（需道路图层）",
           "optimum": "理论值（非实测）",
           "target": "目标 80%", "rose": "通勤来源方向与距离", "all": "全部就业地",
           "click": "点击功能区或创新街区显示其通勤来源网格与方向。", "shed": "通勤来源网格（所选就业地）",
           "flows": "跨区通勤流（前 {n} 条，线宽按人数）", "workplaces": "就业地：5 公里以内通勤比重",
           "districts": "行政区本地就业率", "reset": "显示全部",
           "bands": "距离段（公里）", "note_ref": "全国参考值：45 分钟以内 76%（目标 80%），5 公里以内 50%，60 分钟以上 12%。"},
    "en": {"panel": "Commute indicators (observed vs national reference)", "indicator": "Indicator",
           "study": "This study", "reference": "National reference", "status": "Status", "observed": "observed",
           "not_measured": "not measured (needs a roads layer)",
           "optimum": "computed optimum (not observed)",
           "target": "target 80%", "rose": "Where commuters come from (direction, distance)",
           "all": "All workplaces", "click": "Click a zone or innovation district for its commute shed and rose.",
           "shed": "Commute shed (selected workplace)", "flows": "Flows between districts (top {n}, width by commuters)",
           "workplaces": "Workplaces: share of commuters within 5 km", "districts": "District self-containment",
           "reset": "Show all", "bands": "Distance band (km)",
           "note_ref": "National reference: 76% within 45 minutes (target 80%), 50% within 5 km, 12% over 60 minutes."},
}

_SCRIPT = """
(function () {
  var ZA = window.zoneatlas, cfg = %(cfg)s, map = ZA.map, SVG = "http://www.w3.org/2000/svg";
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function svg(tag, attrs) {
    var e = document.createElementNS(SVG, tag);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, String(attrs[k])); });
    return e;
  }
  var roseBox, roseTitle;
  function drawRose(id) {
    var rows = id ? (cfg.directions[id] || []) : cfg.directionsAll;
    roseTitle.textContent = cfg.text.rose + " \u2014 " + (id ? (cfg.names[id] || id) : cfg.text.all);
    roseBox.textContent = "";
    var size = 180, c = size / 2, rmax = c - 16, nb = cfg.bands.length;
    var sectors = cfg.sectors.map(function () { var a = []; for (var i = 0; i < nb; i++) { a.push(0); } return a; });
    rows.forEach(function (r) { sectors[r[0]][r[1]] += r[2]; });
    var top = 0;
    sectors.forEach(function (s) { var t = s.reduce(function (a, b) { return a + b; }, 0); if (t > top) { top = t; } });
    var root = svg("svg", {width: size, height: size, viewBox: "0 0 " + size + " " + size, "class": "za-rose"});
    [0.5, 1].forEach(function (f) { root.appendChild(svg("circle", {cx: c, cy: c, r: rmax * f, fill: "none", stroke: "#ccc"})); });
    sectors.forEach(function (s, k) {
      var a0 = (k * 45 - 22.5 - 90) * Math.PI / 180, a1 = (k * 45 + 22.5 - 90) * Math.PI / 180, cum = 0;
      s.forEach(function (v, b) {
        if (!(v > 0) || !(top > 0)) { cum += v; return; }
        var r0 = rmax * Math.sqrt(cum / top), r1 = rmax * Math.sqrt((cum + v) / top);
        cum += v;
        var d = "M" + (c + r0 * Math.cos(a0)) + "," + (c + r0 * Math.sin(a0)) + " L" + (c + r1 * Math.cos(a0)) + "," +
          (c + r1 * Math.sin(a0)) + " A" + r1 + "," + r1 + " 0 0 1 " + (c + r1 * Math.cos(a1)) + "," + (c + r1 * Math.sin(a1)) +
          " L" + (c + r0 * Math.cos(a1)) + "," + (c + r0 * Math.sin(a1)) + " A" + r0 + "," + r0 + " 0 0 0 " +
          (c + r0 * Math.cos(a0)) + "," + (c + r0 * Math.sin(a0)) + " Z";
        var p = svg("path", {d: d, fill: cfg.bandColors[b], stroke: "#fff", "stroke-width": 0.5, "class": "za-rose-sector"});
        var t = svg("title", {}); t.textContent = cfg.sectorNames[k] + " " + cfg.bands[b] + " km: " + Math.round(v);
        p.appendChild(t); root.appendChild(p);
      });
      var lx = c + (rmax + 9) * Math.cos((k * 45 - 90) * Math.PI / 180), ly = c + (rmax + 9) * Math.sin((k * 45 - 90) * Math.PI / 180);
      var lab = svg("text", {x: lx, y: ly + 4, "text-anchor": "middle", "font-size": 10});
      lab.textContent = cfg.sectorNames[k]; root.appendChild(lab);
    });
    roseBox.appendChild(root);
    var key = el("div", "za-rose-key"); key.style.fontSize = "10px";
    cfg.bands.forEach(function (b, i) {
      var sw = el("span"); sw.style.display = "inline-block"; sw.style.width = "9px"; sw.style.height = "9px";
      sw.style.background = cfg.bandColors[i]; sw.style.margin = "0 2px 0 6px"; key.appendChild(sw);
      key.appendChild(document.createTextNode(b));
    });
    roseBox.appendChild(key);
  }
  ZA.commuteShed = function (f) {
    var id = f.properties.workplace_id, cells = cfg.sheds[id] || [], top = 0;
    ZA.selection.clearLayers();
    cells.forEach(function (c) { if (c[2] > top) { top = c[2]; } });
    cells.forEach(function (c) {
      L.circleMarker([c[0], c[1]], {radius: cfg.shedRadius[0] + cfg.shedRadius[1] * Math.sqrt(top > 0 ? c[2] / top : 0), color: cfg.shedColor,
        weight: 1, fillColor: cfg.shedColor, fillOpacity: 0.45, pane: "zaTop", interactive: false,
        className: "za-shed-cell"}).addTo(ZA.selection);
    });
    drawRose(id);
    document.documentElement.setAttribute("data-za-shed", id);
  };
  var Panel = L.Control.extend({
    options: {position: "bottomright"},
    onAdd: function () {
      var box = el("div", "za-box za-commute-panel");
      box.style.background = "#fff"; box.style.padding = "4px 8px"; box.style.maxWidth = "340px";
      box.style.maxHeight = "calc(100vh - 290px)"; box.style.minHeight = "120px"; box.style.overflow = "auto";
      box.style.fontSize = "11px"; box.style.marginBottom = "26px";
      var head = el("div", "za-legend-title", cfg.text.panel); head.style.cursor = "pointer";
      var body = el("div");
      head.addEventListener("click", function () { body.style.display = body.style.display === "none" ? "" : "none"; });
      var table = el("table", "za-indicators"); table.style.borderCollapse = "collapse";
      var tr = el("tr");
      [cfg.text.indicator, cfg.text.study, cfg.text.reference, cfg.text.status].forEach(function (h) {
        var th = el("th", null, h); th.style.textAlign = "left"; th.style.padding = "1px 4px"; tr.appendChild(th);
      });
      table.appendChild(tr);
      cfg.indicators.forEach(function (r) {
        var row = el("tr"); row.setAttribute("data-key", r.key); row.setAttribute("data-status", r.kind);
        [r.label, r.value, r.reference, r.status].forEach(function (v, i) {
          var td = el("td", null, v); td.style.padding = "1px 4px"; if (i === 1 || i === 2) { td.style.textAlign = "right"; }
          row.appendChild(td);
        });
        table.appendChild(row);
      });
      body.appendChild(table);
      body.appendChild(el("div", "za-note", cfg.text.note_ref));
      roseTitle = el("div", "za-legend-title"); roseTitle.style.marginTop = "6px";
      roseBox = el("div", "za-rose-box");
      var reset = el("button", null, cfg.text.reset);
      reset.addEventListener("click", function () {
        ZA.selection.clearLayers(); drawRose(null); document.documentElement.setAttribute("data-za-shed", "");
      });
      body.appendChild(roseTitle); body.appendChild(roseBox); body.appendChild(reset);
      body.appendChild(el("div", "za-note", cfg.text.click));
      box.appendChild(head); box.appendChild(body);
      L.DomEvent.disableClickPropagation(box); L.DomEvent.disableScrollPropagation(box);
      return box;
    }
  });
  new Panel().addTo(map);
  drawRose(null);
})();
"""


class ShedHook(_Call):
    """Registers the click hook before the overlays are added (they bind it when created);
    the panel script defines what it does."""

    def __init__(self) -> None:
        super().__init__()
        self._name = "ShedHook"

    def script(self, map_var: str) -> str:
        return ("zoneatlas.hooks.commuteShed = function (f, l) { "
                "if (zoneatlas.commuteShed) { zoneatlas.commuteShed(f, l); } };")


class CommutingPanel(_Call):
    """The indicator panel, the shed hook and the distance/direction rose."""

    def __init__(self, config: dict) -> None:
        super().__init__()
        self._name = "CommutingPanel"
        self.config = config

    def script(self, map_var: str) -> str:
        return _SCRIPT % {"cfg": json_for_script(self.config)}


def indicator_rows(summary: dict, lang: str) -> list[dict]:
    """Rows of the indicator panel: label, study value, reference, status (observed /
    not measured / computed optimum), honestly labelled."""
    from geo.i18n import label

    tx = _TEXT[lang]
    unit = summary.get("t_unit", "m")
    fmt_t = "km" if unit == "m" else "num"

    def val(key: str, fmt: str) -> str:
        v = summary.get(key)
        if v is None:
            return "—"
        minutes = key == "mean_commute_min" or (key.startswith("t_") and unit == "min")
        if minutes:
            return f"{float(v):.1f}" + (" 分钟" if lang == "zh" else " min")
        return fmt_number(float(v), fmt, lang)

    rows = []
    for key, fmt in (("share_within_45min", "pct"), ("share_within_5km", "pct"), ("share_over_60min", "pct"),
                     ("mean_commute_m", "km"), ("mean_commute_min", "num"), ("share_same_district", "pct"),
                     ("t_obs", fmt_t), ("t_min", fmt_t), ("t_max", fmt_t), ("excess_commuting", "pct"),
                     ("commuting_potential_used", "pct")):
        ref = REFERENCES.get(key)
        ref_text = "" if ref is None else fmt_number(ref, "pct", lang)
        if key == "share_within_45min":
            ref_text += f" · {tx['target']}"
        missing = summary.get(key) is None
        kind = "not_measured" if missing else ("optimum" if key in ("t_min", "t_max") else "observed")
        text = label(key, lang).replace("（米）", "").replace(" (m)", "")
        if key in ("mean_commute_m", "share_within_5km"):   # which length: the route's or the straight line
            text += length_suffix(summary, lang)
        rows.append({"key": key, "label": text,
                     "value": val(key, fmt), "reference": ref_text, "status": tx[kind], "kind": kind})
    return rows


def _sheds(ctx: MapContext, sheds: pd.DataFrame, many: bool) -> dict[str, list]:
    if sheds is None or not len(sheds):
        return {}
    keep = SHED_CELLS_MANY if many else SHED_CELLS
    s = pd.DataFrame(sheds.drop(columns="geometry", errors="ignore"))
    s = s.sort_values(["workplace_id", "commuters"], ascending=[True, False])
    s = s.groupby("workplace_id", sort=False).head(keep)
    # a shed row is a (workplace, cell): reproject and round each distinct cell once
    cell, cells = pd.factorize(pd.Series(s["cell_x"].to_numpy(float) + 1j * s["cell_y"].to_numpy(float)))
    cells = np.asarray(cells, dtype=complex)
    pts = ctx.display.geometries(shapely.points(cells.real, cells.imag), 0)
    lat = np.array([round(v, 5) for v in shapely.get_y(pts).tolist()], dtype=object)[cell]
    lon = np.array([round(v, 5) for v in shapely.get_x(pts).tolist()], dtype=object)[cell]
    rows = zip(lat.tolist(), lon.tolist(), [round(v, 1) for v in s["commuters"].to_numpy(float).tolist()])
    return _grouped(s["workplace_id"].astype(str).to_numpy(), [list(r) for r in rows])


def _grouped(keys: np.ndarray, rows: list) -> dict[str, list]:
    """``{key: [rows of that key, in order]}`` for rows whose equal keys are adjacent
    or not (first appearance order of the keys, rows in input order)."""
    if not len(rows):
        return {}
    codes, uniq = pd.factorize(keys, sort=False)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(uniq) + 1))
    pick = order.tolist()
    return {str(k): [rows[i] for i in pick[a:b]] for k, a, b in zip(uniq, bounds[:-1].tolist(), bounds[1:].tolist())}


def _directions(dirs: pd.DataFrame) -> tuple[dict[str, list], list]:
    from geo.analysis.commuting import BAND_LABELS, SECTORS

    if dirs is None or not len(dirs):
        return {}, []
    sec = pd.Categorical(dirs["direction"], categories=SECTORS).codes
    band = pd.Categorical(dirs["band_km"], categories=BAND_LABELS).codes
    rows = [list(r) for r in zip(sec.tolist(), band.tolist(),
                                 [round(v, 1) for v in dirs["commuters"].to_numpy(float).tolist()])]
    per = _grouped(dirs["workplace_id"].astype(str).to_numpy(), rows)
    total = np.zeros((len(SECTORS), len(BAND_LABELS)))
    np.add.at(total, (sec, band), dirs["commuters"].to_numpy(float))
    all_rows = [[int(i), int(j), round(float(total[i, j]), 1)] for i in range(total.shape[0])
                for j in range(total.shape[1]) if total[i, j] > 0]
    return per, all_rows


def bent_lines(lines: np.ndarray, bend: float = 0.12) -> np.ndarray:
    """Straight flow lines drawn as a slight arc bent to the right of travel, so that A -> B
    and B -> A lie side by side instead of on top of each other (the tables keep straight
    lines)."""
    xy = shapely.get_coordinates(lines).reshape(-1, 2, 2)
    a, b = xy[:, 0], xy[:, 1]
    d = b - a
    right = np.column_stack([d[:, 1], -d[:, 0]]) * bend
    t = np.linspace(0.0, 1.0, 9)[None, :, None]
    arc = a[:, None, :] + d[:, None, :] * t + right[:, None, :] * (4 * t * (1 - t))
    return shapely.linestrings(arc)


def _fill(i: int) -> str:
    """Fill of share class ``i``; grey for a missing share (no commuters)."""
    return styles.COMMUTE_SHARE_COLORS[i] if 0 <= i < len(styles.COMMUTE_SHARE_COLORS) else "#cccccc"


def build_commuting_map(ctx: MapContext, result: AnalysisResult) -> folium.Map:
    """The folium map of the commuting analysis."""
    from geo.analysis.commuting import BAND_LABELS, SECTORS

    title = map_title(ctx, "commuting")
    m = new_map(ctx, title)
    m.add_child(ShedHook(), name="za_shed_hook")
    zh = ctx.lang == "zh"
    tx = _TEXT[ctx.lang]
    t = result.tables
    legend: list[LegendSection] = []
    analysis = LayerGroup(ctx.text["analysis"])
    context = LayerGroup(ctx.text["context"])
    district_outlines(m, ctx)
    district_names = value_names(ctx.study.districts, "district_id")
    # the two lengths say whether they are the route's or the straight line's
    suffix = length_suffix(result.summary, ctx.lang)
    length = {k: ctx.label(k) + suffix for k in ("mean_commute_m", "share_within_5km")}
    tx = {**tx, "workplaces": tx["workplaces"] + suffix}

    cd = t.get("commuting_districts")
    if isinstance(cd, gpd.GeoDataFrame) and len(cd):
        idx = graduated_index(cd["self_containment"], styles.COMMUTE_SHARE_BREAKS)
        per = [{"color": styles.DISTRICT_OUTLINE, "weight": 1, "fillColor": _fill(i), "fillOpacity": 0.55}
               for i in idx]
        d_styles, d_idx = dedupe_styles(per)
        fields = ctx.fields(["name", "district_id", "resident_commuters", "job_commuters", "internal",
                             ("self_containment", "pct"), ("job_self_sufficiency", "pct"),
                             ("mean_commute_m", length["mean_commute_m"], "km")], cd)
        add_layer(m, ctx, "commuting_districts", cd, label_text=tx["districts"], styles_list=d_styles,
                  style_index=d_idx, props=[f[0] for f in fields], popup=fields, tooltip=fields[:1] + fields[5:6],
                  title_field="name", pane="zaBack", show=False, tolerance_m=20.0)
        analysis.items.append(LayerItem("commuting_districts", tx["districts"]))
        legend.append(LegendSection(tx["districts"], graduated_rows(
            cd["self_containment"], styles.COMMUTE_SHARE_BREAKS, styles.COMMUTE_SHARE_COLORS, "pct", ctx.lang,
            row=lambda text, color: swatch_row(text, color, styles.DISTRICT_OUTLINE, opacity=0.55)),
            ["commuting_districts"]))

    wp = t["commuting_workplaces"]
    wp = with_names(wp, "district_id", district_names, "district_name")
    if "name" in wp:      # duplicates told apart in words, as on the other maps
        wp = wp.assign(name=display_names(wp, ctx.study.districts, ctx.lang).to_numpy())
    idx = graduated_index(wp["share_within_5km"], styles.COMMUTE_SHARE_BREAKS)
    per = [{"color": styles.ZONE_OUTLINE if k == "zone" else styles.INNOVATION_COLOR,
            "weight": 1 if k == "zone" else 2.5,
            "fillColor": _fill(i), "fillOpacity": 0.85}
           for i, k in zip(idx, wp["kind"])]
    w_styles, w_idx = dedupe_styles(per)
    wfields = ctx.fields(["name", "workplace_id", "kind", ("district_name", ctx.label("districts"), "text"), "jobs",
                          ("commuters", "int"), ("mean_commute_m", length["mean_commute_m"], "km"),
                          ("mean_commute_min", "num"), ("share_within_5km", length["share_within_5km"], "pct"), ("share_within_45min", "pct"), ("share_over_60min", "pct"),
                          ("share_same_district", "pct")], wp)
    add_layer(m, ctx, "commuting_workplaces", wp, label_text=tx["workplaces"], styles_list=w_styles,
              style_index=w_idx, props=[f[0] for f in wfields], popup=wfields,
              tooltip=[f for f in wfields if f[0] in ("name", "commuters", "share_within_5km", "mean_commute_m")],
              title_field="name", search_field="name", id_field="workplace_id", on_click="commuteShed")
    analysis.items.append(LayerItem("commuting_workplaces", tx["workplaces"]))
    legend.append(LegendSection(tx["workplaces"], [*graduated_rows(
        wp["share_within_5km"], styles.COMMUTE_SHARE_BREAKS, styles.COMMUTE_SHARE_COLORS, "pct", ctx.lang,
        row=lambda text, color: swatch_row(text, color, styles.ZONE_OUTLINE, opacity=0.85)),
        swatch_row(ctx.label("innovation_district"), "none", styles.INNOVATION_COLOR, weight=2.5),
        swatch_row(tx["shed"], styles.SHED_COLOR, styles.SHED_COLOR, opacity=0.45)],
        ["commuting_workplaces"], note=tx["click"]))

    fl = t.get("commuting_flows")
    top_n = int(ctx.settings.commuting.top_flows)
    if isinstance(fl, gpd.GeoDataFrame) and len(fl):
        top = fl.sort_values("rank").head(top_n)
        top = top.set_geometry(bent_lines(top.geometry.to_numpy()), crs=fl.crs)
        top = with_names(with_names(top, "district_a", district_names, "name_a"), "district_b", district_names,
                         "name_b")
        wi = styles.flow_width_index(top["commuters"].to_numpy(float))
        f_styles = [{"color": styles.FLOW_COLOR, "weight": w, "opacity": 0.75, "lineCap": "round"}
                    for w in styles.LINE_WIDTHS]
        ffields = [["name_a", ctx.label("district_a", "commuting_flows"), "text"],
                   ["name_b", ctx.label("district_b", "commuting_flows"), "text"],
                   ["commuters", ctx.label("commuters"), "int"], ["mean_commute_m", length["mean_commute_m"], "km"],
                   ["rank", ctx.label("rank", "commuting_flows"), "int"]]
        label_flows = tx["flows"].format(n=len(top))
        add_layer(m, ctx, "commuting_flows", top, label_text=label_flows, styles_list=f_styles, style_index=wi,
                  props=[f[0] for f in ffields], popup=ffields, tooltip=ffields[:3], title_join=["name_a", "name_b"],
                  pane="zaLine", tolerance_m=0)
        analysis.items.insert(0, LayerItem("commuting_flows", label_flows))
        rows = [line_row(text, styles.FLOW_COLOR, styles.LINE_WIDTHS[k])
                for k, text in styles.flow_legend(top["commuters"].to_numpy(float), ctx.lang)]
        legend.insert(0, LegendSection(label_flows, rows, ["commuting_flows"]))

    district_entry(m, ctx, context, legend)
    per_dir, all_dir = _directions(t.get("commuting_directions"))
    sector_names = [SECTOR_NAMES[k][0] for k in SECTORS] if zh else list(SECTORS)
    config = {
        "text": tx, "indicators": indicator_rows(result.summary, ctx.lang),
        "sheds": _sheds(ctx, t.get("commuting_sheds"), len(wp) > 1000),
        "directions": per_dir, "directionsAll": all_dir, "sectors": list(SECTORS), "sectorNames": sector_names,
        "bands": list(BAND_LABELS), "bandColors": list(styles.SEQUENTIAL),
        "names": {str(k): str(v) for k, v in zip(wp["workplace_id"], wp["name"])},
        "shedColor": styles.SHED_COLOR,
        "shedRadius": list(styles.SHED_RADIUS_PX),
    }
    bounds = ctx.display.bounds([ctx.study.zones, ctx.study.districts])
    m = finish_map(m, ctx, title=title, groups=[g for g in (analysis, context) if g.items], legend=legend,
                   bounds=bounds)
    m.add_child(CommutingPanel(config), name="za_commuting_panel")
    return m
