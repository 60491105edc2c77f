"""One function per analysis: the layers, legend and labels of its print map.

Each function mirrors the initial view of the analysis's web map (the layers switched on
when the page opens) with the same colours and classes from :mod:`geo.styles`, and returns a
:class:`~geo.figures._page.PrintMap`. A new analysis map (chains, commuting) is one more
function here plus one entry in :data:`BUILDERS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from matplotlib.axes import Axes

from geo import styles
from geo._types import AnalysisResult, Study
from geo.figures._draw import draw_grouped
from geo.figures._page import PX_TO_PT, LegendGroup, LegendItem, MapLabel, PrintMap, anchor_points
from geo.figures._shared import LEGEND_MAX_CORES, fmt_number, housing_hexagons
from geo.analysis.core_periphery import pole_territories
from geo.i18n import analysis_title, label
from geo.settings import Settings

#: Feature labels per map besides district names (the most important features only).
TOP_FEATURE_LABELS = 12


@dataclass
class FigureContext:
    """The study, settings and language one figure is drawn for."""

    study: Study
    settings: Settings

    @property
    def lang(self) -> str:
        return self.settings.study.language

    @property
    def zh(self) -> bool:
        return self.lang == "zh"

    def label(self, key: str) -> str:
        return label(key, self.lang)

    def title(self, analysis: str) -> str:
        return analysis_title(self.settings.study.name, analysis, self.lang)


# ---------------------------------------------------------------------------
# drawing helpers (each returns a callable drawing one layer on the map axes)


def polygons(frame: gpd.GeoDataFrame, face, edge, width_px, *, alpha: float = 1.0, dashed: bool = False,
             z: float = 1) -> Callable[[Axes, float], None]:
    """Polygons with per-feature or single face/edge colours and outline widths (web pixels)."""

    def draw(ax: Axes, s: float) -> None:
        if frame is None or not len(frame):
            return
        width = np.asarray(width_px, dtype=float) * PX_TO_PT * s
        draw_grouped(ax, frame.geometry.values, face=face, edge=edge,
                     width_pt=width.tolist() if width.ndim else float(width), closed=True, alpha=alpha,
                     dashed=dashed, z=z)

    return draw


def lines(frame: gpd.GeoDataFrame, color, width_px, *, alpha: float = 1.0, dashed: bool = False,
          z: float = 5) -> Callable[[Axes, float], None]:
    """Lines with per-feature or single colours and widths (web pixels)."""

    def draw(ax: Axes, s: float) -> None:
        if frame is None or not len(frame):
            return
        width = np.asarray(width_px, dtype=float) * PX_TO_PT * s
        draw_grouped(ax, frame.geometry.values, face="none", edge=color,
                     width_pt=width.tolist() if width.ndim else float(width), closed=False, alpha=alpha,
                     dashed=dashed, z=z)

    return draw


def districts_layer(ctx: FigureContext, draw: list, legend: list, labels: list, *, priority: float = 1000) -> None:
    """District outlines (dashed, as on the web map), their legend row and name labels."""
    d = ctx.study.districts
    if d is None or not len(d):
        return
    # shared edges once (two polygons' outlines drawn dashed over each other look solid)
    edges = styles.outline_lines(d.geometry.values)
    draw.append(lines(gpd.GeoDataFrame(geometry=[edges], crs=d.crs), styles.DISTRICT_OUTLINE, 1.6, alpha=0.9,
                      dashed=True, z=3))
    name = ctx.label("districts")
    legend.append(LegendGroup(name, [LegendItem(name, "line", edge=styles.DISTRICT_OUTLINE, width_px=1.6,
                                                dashed=True)]))
    if "name" in d:
        x, y = anchor_points(d.geometry.values)
        area = shapely.area(np.asarray(d.geometry.values, dtype=object))
        rank = area / max(float(area.max()), 1.0)
        labels.extend(MapLabel(float(a), float(b), str(n), priority + r, "area")
                      for a, b, n, r in zip(x, y, d["name"], rank) if pd.notna(n))


def _feature_labels(frame: gpd.GeoDataFrame, weight: pd.Series, *, priority: float, top: int = TOP_FEATURE_LABELS
                    ) -> list[MapLabel]:
    w = pd.to_numeric(weight, errors="coerce")
    order = w.sort_values(ascending=False, na_position="last").index[:top]
    sub = frame.loc[order]
    if not len(sub) or "name" not in sub:
        return []
    x, y = anchor_points(sub.geometry.values)
    top_w = float(w.max()) if np.isfinite(w.max()) and w.max() > 0 else 1.0
    return [MapLabel(float(a), float(b), str(n), priority + float(v if np.isfinite(v) else 0) / top_w)
            for a, b, n, v in zip(x, y, sub["name"], w.loc[order]) if pd.notna(n)]


def _bounds(*frames) -> tuple[float, float, float, float] | None:
    boxes = [f.total_bounds for f in frames if isinstance(f, gpd.GeoDataFrame) and len(f)]
    if not boxes:
        return None
    b = np.array(boxes)
    return float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()), float(b[:, 3].max())


def _graduated(values: pd.Series, breaks) -> np.ndarray:
    cls = styles.classify(pd.to_numeric(values, errors="coerce").to_numpy(float), breaks)
    return np.where(cls < 0, len(breaks) + 1, cls)


def _range_rows(values, breaks, colors, fmt: str, lang: str, *, alpha: float, edge: str = "none") -> list[LegendItem]:
    texts = styles.class_range_texts(pd.to_numeric(values, errors="coerce").to_numpy(float), breaks, fmt, lang)
    return [LegendItem(text, "patch", face=colors[i], edge=edge, alpha=alpha) for i, text in enumerate(texts)]


# ---------------------------------------------------------------------------
# the analysis maps


def balance_map(ctx: FigureContext, result: AnalysisResult) -> PrintMap:
    """Workplaces by their area's balance class (``area_class``; ``balance_class`` without it)
    over housing density cells, as ``balance.html`` opens."""
    draw, legend, labels = [], [], []
    hexes = housing_hexagons(ctx.study, ctx.settings)
    if hexes is not None and len(hexes[0]):
        cells, size = hexes
        breaks = styles.graduated_breaks(cells["workers"])
        colors = styles.ramp(len(breaks) + 1)
        face = [colors[c] if c < len(colors) else "#cccccc" for c in _graduated(cells["workers"], breaks)]
        draw.append(polygons(cells, face, "none", 0, alpha=0.55, z=1))
        name = "居住就业人口密度" if ctx.zh else "Resident workers (density)"
        across = fmt_number(size * np.sqrt(3), "km", ctx.lang)
        note = (f"六边形网格（宽 {across}），每格居住就业人口" if ctx.zh
                else f"Hexagons {across} across; resident workers per cell")
        legend.append(LegendGroup(name, _range_rows(cells["workers"], breaks, colors, "people", ctx.lang,
                                                    alpha=0.55), note))
    workplaces = result.tables.get("balance_workplaces")
    if isinstance(workplaces, gpd.GeoDataFrame) and len(workplaces):
        # the class the web map leads with: the area around the workplace where the run has it
        lead = "area_class" if "area_class" in workplaces else "balance_class"
        cls = workplaces.get(lead, pd.Series([None] * len(workplaces), index=workplaces.index))
        face = [styles.BALANCE_CLASS_COLORS.get(c, "#cccccc") for c in cls.astype(object)]
        innov = (workplaces.get("kind", pd.Series("zone", index=workplaces.index)).astype(str)
                 == "innovation_district").to_numpy()
        edge = np.where(innov, styles.INNOVATION_COLOR, styles.ZONE_OUTLINE).tolist()
        width = np.where(innov, 2.5, 1.0)
        draw.append(polygons(workplaces, face, edge, width, alpha=0.85, z=4))
        rows = [LegendItem(styles.balance_class_text(c, ctx.lang, ctx.settings.balance.balanced_range), "patch",
                           face=styles.BALANCE_CLASS_COLORS[c], edge=styles.ZONE_OUTLINE, alpha=0.85)
                for c in styles.BALANCE_CLASSES]
        rows.append(LegendItem(ctx.label("innovation_district"), "patch", edge=styles.INNOVATION_COLOR,
                               width_px=2.5))
        # the web legend's definition of the ratio classified (geo.i18n notes), in minutes with roads
        notes = [ctx.label("note_area_jhr" if lead == "area_class" else "note_jhr")]
        if ctx.settings.balance_reach == "network" and any(c.endswith("min") for c in workplaces.columns
                                                           if c.startswith("workers_")):
            notes.insert(0, ctx.label("note_minutes"))
        legend.append(LegendGroup(f"{ctx.label('balance_workplaces')} — {ctx.label(lead)}", rows, " ".join(notes)))
        labels += _feature_labels(workplaces, workplaces.get("jobs", pd.Series(0, index=workplaces.index)),
                                  priority=0)
    districts_layer(ctx, draw, legend, labels)
    return PrintMap("balance", ctx.title("balance"), draw, legend, labels,
                    _bounds(workplaces, ctx.study.zones))


def collaboration_map(ctx: FigureContext, result: AnalysisResult) -> PrintMap:
    """Zones by chain, recommended pairs by type and strength (as ``collaboration.html`` opens)."""
    draw, legend, labels = [], [], []
    innov = ctx.study.innovation_districts
    if innov is not None and len(innov):
        draw.append(polygons(innov, styles.INNOVATION_COLOR, styles.INNOVATION_COLOR, 2.5, alpha=0.3,
                             dashed=True, z=2))
        name = ctx.label("innovation_districts")
        legend.append(LegendGroup(name, [LegendItem(name, "patch", face=styles.INNOVATION_COLOR,
                                                    edge=styles.INNOVATION_COLOR, alpha=0.45, dashed=True,
                                                    width_px=2)]))
    zones = result.tables.get("collaboration_zones")
    if isinstance(zones, gpd.GeoDataFrame) and len(zones):
        colors = styles.chain_colors(zones["chain"])
        face = [colors.get(str(c), "#cccccc") for c in zones["chain"]]
        draw.append(polygons(zones, face, styles.ZONE_OUTLINE, 1.0, alpha=0.8, z=3.5))
        legend.append(LegendGroup(ctx.label("chain"), [LegendItem(c, "patch", face=col, edge=styles.ZONE_OUTLINE,
                                                                  alpha=0.8) for c, col in colors.items()]))
    pairs = result.tables.get("collaboration_pairs")
    if isinstance(pairs, gpd.GeoDataFrame) and len(pairs):
        recommended = (pairs["recommended"].fillna(False).astype(bool) if "recommended" in pairs
                       else pd.Series(True, index=pairs.index))
        rec = pairs[recommended]
        types = rec.get("pair_type", pd.Series("peer", index=rec.index)).astype(str)
        # strength as the web map shows it: a 0-100 index over all candidate pairs, in
        # weak / medium / strong widths; candidate pairs are off on the web map at start,
        # so the print map (its initial view) leaves them out and says how many there are
        index = styles.strength_index(pairs["strength"]) if "strength" in pairs else pd.Series(np.nan, index=pairs.index)
        cls = styles.strength_class(index[recommended])
        other = pairs[~recommended]
        if len(rec):
            draw.append(lines(rec, [styles.PAIR_TYPE_COLORS.get(t, "#999999") for t in types],
                              [styles.STRENGTH_WIDTHS[c] for c in cls], alpha=0.9, z=5))
        legend.append(LegendGroup(ctx.label("pair_type"), [LegendItem(ctx.label(t), "line", edge=c, width_px=3)
                                                           for t, c in styles.PAIR_TYPE_COLORS.items()]))
        rec_name = "推荐协同对" if ctx.zh else "Recommended pairs"
        if len(rec):
            words = styles.STRENGTH_WORDS["zh" if ctx.zh else "en"]
            legend.append(LegendGroup(
                f"{rec_name} — {'协同强度指数' if ctx.zh else 'strength index'}",
                [LegendItem(f"{words[i]}（{lo}–{hi}）" if ctx.zh else f"{words[i]} ({lo}–{hi})", "line",
                            edge="#555555", width_px=styles.STRENGTH_WIDTHS[i])
                 for i, (lo, hi) in reversed(list(enumerate(styles.STRENGTH_RANGES)))],
                ("指数 0–100：协同强度在全部候选对中的对数位置" if ctx.zh
                 else "index 0–100: log position of the strength among all candidate pairs")))
        if len(other):
            more = (f"另有 {len(other):,} 对候选协同对未绘出（见交互地图）" if ctx.zh
                    else f"{len(other):,} other candidate pairs not drawn (see the web map)")
            legend[-1].note = f"{legend[-1].note}; {more}" if legend[-1].note else more
        if isinstance(zones, gpd.GeoDataFrame) and len(rec) and "strength" in rec:
            best = rec.sort_values("strength", ascending=False).head(TOP_FEATURE_LABELS)
            weight = pd.concat([best.set_index("zone_a")["strength"], best.set_index("zone_b")["strength"]])
            weight = weight.groupby(level=0).max()
            z = zones.set_index(zones["zone_id"].astype(str), drop=False)
            weight = weight[weight.index.astype(str).isin(z.index)]
            sub = z.loc[weight.index.astype(str)]
            labels += _feature_labels(sub, pd.Series(weight.to_numpy(), index=sub.index), priority=2000,
                                      top=2 * TOP_FEATURE_LABELS)
    districts_layer(ctx, draw, legend, labels)
    return PrintMap("collaboration", ctx.title("collaboration"), draw, legend, labels,
                    _bounds(zones if isinstance(zones, gpd.GeoDataFrame) else ctx.study.zones))


def core_periphery_map(ctx: FigureContext, result: AnalysisResult) -> PrintMap:
    """Zones coloured by their core, pole territories and growth poles (as ``core_periphery.html``
    opens: its attachment links start switched off)."""
    draw, legend, labels = [], [], []
    terr = None
    zones = result.tables.get("core_periphery_zones")
    zone_names = {}
    if ctx.study.zones is not None and "name" in ctx.study.zones:
        zone_names = dict(zip(ctx.study.zones["zone_id"].astype(str), ctx.study.zones["name"]))
    poles_group = None
    if isinstance(zones, gpd.GeoDataFrame) and len(zones):
        role = zones["role"].astype(str) if "role" in zones else pd.Series("periphery", index=zones.index)
        strategy = zones["strategy"].astype(str) if "strategy" in zones else pd.Series("", index=zones.index)
        is_core = (role == "core").to_numpy()
        is_isolated = (strategy == "isolated").to_numpy() & ~is_core
        key = np.where(is_core, zones["zone_id"].astype(str), zones.get("core_id", zones["zone_id"]).astype(str))
        core_color = styles.pole_colors(zones)   # as the web map: poles beyond the palette grey
        core_ids = list(core_color)
        face = np.array([core_color.get(k, "#cccccc") for k in key], dtype=object)
        attached = ~is_core & ~is_isolated
        draw.append(polygons(zones[attached], face[attached].tolist(), styles.ZONE_OUTLINE, 1.0, alpha=0.6, z=3.5))
        draw.append(polygons(zones[is_isolated], styles.STRATEGY_COLORS["isolated"], styles.ISOLATED_OUTLINE, 3.0,
                             alpha=0.55, dashed=True, z=3.6))
        draw.append(polygons(zones[is_core], face[is_core].tolist(), styles.CORE_OUTLINE, styles.CORE_OUTLINE_WIDTH,
                             alpha=0.9, z=3.8))
        rows = [LegendItem(str(zone_names.get(c, c)), "patch", face=core_color[c], edge=styles.CORE_OUTLINE,
                           alpha=0.9, width_px=2) for c in core_ids[:LEGEND_MAX_CORES]]
        note = None
        if len(core_ids) > LEGEND_MAX_CORES:
            more = len(core_ids) - LEGEND_MAX_CORES
            note = f"另有 {more} 个极核（灰色）" if ctx.zh else f"{more} more poles (grey)"
        rows.append(LegendItem(f"{ctx.label('core')} ({'粗黑边' if ctx.zh else 'thick outline'})", "patch",
                               face="#ffffff", edge=styles.CORE_OUTLINE, width_px=3))
        rows.append(LegendItem(ctx.label("isolated"), "patch", face=styles.STRATEGY_COLORS["isolated"],
                               edge=styles.ISOLATED_OUTLINE, dashed=True, width_px=2, alpha=0.7))
        legend.append(LegendGroup(f"{ctx.label('core_id')} / {ctx.label('strategy')}", rows, note))

        # the pole territories, as the web map opens (its attachment links start switched off)
        terr = pole_territories(zones, core_color)
        if terr is not None:
            colors = [core_color[k] for k in terr["core_id"]]
            draw.append(polygons(terr, colors, colors, 2.5, alpha=0.12, z=2))
            name = "极核辐射范围" if ctx.zh else "Pole territories"
            legend.append(LegendGroup(name, [LegendItem("极核及其外围功能区的合并范围" if ctx.zh else
                                                        "a pole with its attached zones, merged", "patch",
                                                        face="#bbbbbb", edge="#555555", alpha=0.5, width_px=2.5)]))

        cores = zones[is_core]
        if len(cores):
            x, y = anchor_points(cores.geometry.values)
            top = set(core_ids[:max(5, len(core_ids) // 10)])
            ids = cores["zone_id"].astype(str).tolist()
            big = np.array([c in top for c in ids])
            # gold stars on the poles with a colour of their own, grey ones on the rest (as on the web map)
            star_color = [styles.STAR_COLOR if c in core_color and core_color[c] != styles.OTHER_POLE_COLOR
                          else styles.OTHER_POLE_COLOR for c in ids]

            # the web's star icons at the print scale (styles.star_mm, in points here)
            (big_pt, big_w), (small_pt, small_w) = (
                [v / styles.MM_PER_PT for v in styles.star_mm(px)] for px in (styles.POLE_STAR_PX,
                                                                              styles.OTHER_POLE_STAR_PX))

            def draw_poles(ax: Axes, s: float) -> None:
                size = np.where(big, big_pt, small_pt) * s
                ax.scatter(x, y, s=size ** 2, marker="*", c=star_color, edgecolors="black",
                           linewidths=np.where(big, big_w, small_w) * s, zorder=8)

            draw.append(draw_poles)
            name = "增长极核" if ctx.zh else "Growth poles"
            pnote = None
            if len(top) < len(core_ids):
                pnote = (f"大星标：得分最高的 {len(top)} 个极核" if ctx.zh
                         else f"large stars: the {len(top)} strongest cores")
            poles_group = LegendGroup(name, [LegendItem(ctx.label("core"), "star", face=styles.STAR_COLOR)], pnote)
            labels += _feature_labels(cores, cores["score"], priority=2000, top=2 * TOP_FEATURE_LABELS)
    if poles_group is not None:
        legend.insert(0, poles_group)
    districts_layer(ctx, draw, legend, labels)
    return PrintMap("core_periphery", ctx.title("core_periphery"), draw, legend, labels,
                    _bounds(zones if isinstance(zones, gpd.GeoDataFrame) else ctx.study.zones, terr))


def chains_map(ctx: FigureContext, result: AnalysisResult) -> PrintMap:
    """The chain ``chains.html`` opens on: its zones by role, the gap list's strongest zone
    (star) and candidate zones (dashed red), its leader firms and their reach."""
    from geo.analysis.chains import initial_chain

    draw, legend, labels = [], [], []
    t = result.tables
    comp, gaps = t.get("chain_completeness"), t.get("chain_gaps")
    chain = initial_chain(comp, gaps) if comp is not None and len(comp) else ""
    zones = t.get("chain_zones")
    zones = zones if isinstance(zones, gpd.GeoDataFrame) else ctx.study.zones
    mine = zones[zones["chain"].astype(str) == chain]
    roles = mine["role"].where(mine["role"].notna(), "none").astype(str) if "role" in mine else \
        pd.Series("none", index=mine.index)
    role_label = {**{r: ctx.label(r) for r in ("rd", "manufacturing", "terminal", "supporting", "mixed")},
                  "none": "未定环节" if ctx.zh else "No role"}
    if len(mine):
        draw.append(polygons(mine, [styles.CHAIN_ROLE_COLORS.get(r, "#dddddd") for r in roles],
                             styles.ZONE_OUTLINE, 1.0, alpha=0.75, z=3.5))
        legend.append(LegendGroup("功能区（按链内环节着色）" if ctx.zh else "Zones by chain role",
                                  [LegendItem(role_label[r], "patch", face=styles.CHAIN_ROLE_COLORS[r],
                                              edge=styles.ZONE_OUTLINE, alpha=0.75)
                                   for r in role_label if (roles == r).any()]))
        weight = pd.to_numeric(mine.get("jobs", pd.Series(1.0, index=mine.index)), errors="coerce").fillna(0)
        labels += _feature_labels(mine, weight, priority=1500)
    cand = t.get("chain_gap_candidates")
    if isinstance(cand, gpd.GeoDataFrame) and len(cand):
        cand = cand[cand["chain"].astype(str) == chain]
        if len(cand):
            draw.append(polygons(cand, "none", styles.GAP_OUTLINE, 3.0, dashed=True, z=4.5))
            name = "补链候选功能区" if ctx.zh else "Gap candidate zones"
            legend.append(LegendGroup(name, [LegendItem(name, "patch", face="none", edge=styles.GAP_OUTLINE,
                                                        width_px=3, dashed=True)]))
    lf = t.get("leader_firms")
    if isinstance(lf, gpd.GeoDataFrame) and len(lf):
        lf = lf[lf["chain"].astype(str) == chain]
        reach_m = float(result.summary.get("reach_m") or 0)
        if len(lf) and reach_m > 0:
            circles = gpd.GeoDataFrame(geometry=shapely.buffer(lf.geometry.values.to_numpy(), reach_m), crs=lf.crs)
            draw.append(polygons(circles, styles.REACH_COLOR, styles.REACH_COLOR, 1.0, alpha=0.05, z=2.5))
        if len(lf):
            lx, ly = anchor_points(lf.geometry.values)

            def draw_leaders(ax: Axes, s: float) -> None:
                ax.scatter(lx, ly, s=(2 * styles.LEADER_RADIUS_PX * styles.PX_TO_PT * s) ** 2, marker="o",
                           c=styles.LEADER_COLOR, edgecolors="white",
                           linewidths=styles.LEADER_OUTLINE_PX * styles.PX_TO_PT * s, zorder=7)

            draw.append(draw_leaders)
            rows = [LegendItem("链主企业" if ctx.zh else "Chain-leader firms", "patch", face=styles.LEADER_COLOR,
                               edge="#ffffff")]
            if reach_m > 0:
                rows.append(LegendItem((f"链主企业辐射范围（{reach_m / 1000:g} 公里）" if ctx.zh
                                        else f"Leader firms' reach ({reach_m / 1000:g} km)"), "patch",
                                       face=styles.REACH_COLOR, edge=styles.REACH_COLOR, alpha=0.15))
            legend.append(LegendGroup("链主企业" if ctx.zh else "Chain-leader firms", rows))
    if gaps is not None and len(gaps) and "top_zone_id" in gaps:
        mine_gaps = gaps[gaps["chain"].astype(str) == chain]
        top = mine_gaps["top_zone_id"].dropna().astype(str).unique().tolist()
        top_zone = zones[zones["zone_id"].astype(str).isin(top)]
        if len(top_zone):
            sx, sy = anchor_points(top_zone.geometry.values)

            gap_pt, gap_w = (v / styles.MM_PER_PT for v in styles.star_mm(styles.GAP_STAR_PX))

            def draw_star(ax: Axes, s: float) -> None:
                ax.scatter(sx, sy, s=(gap_pt * s) ** 2, marker="*", c=styles.GAP_OUTLINE, edgecolors="black",
                           linewidths=gap_w * s, zorder=8)

            draw.append(draw_star)
            missing = [ctx.label(r) for r, k in zip(mine_gaps["role"], mine_gaps["kind"]) if k == "missing"]
            distant = [ctx.label(r) for r, k in zip(mine_gaps["role"], mine_gaps["kind"]) if k == "distant"]
            parts = [f"{'缺失' if ctx.zh else 'missing'}：{'、'.join(missing)}" if missing else "",
                     f"{'偏远' if ctx.zh else 'distant'}：{'、'.join(distant)}" if distant else ""]
            legend.insert(0, LegendGroup("补链清单（主承载区）" if ctx.zh else "Gap list (at the strongest zone)",
                                         [LegendItem(chain, "star", face=styles.GAP_OUTLINE)],
                                         "；".join(p for p in parts if p) or None))
    districts_layer(ctx, draw, legend, labels)
    title = f"{ctx.title('chains_analysis')} — {chain}" if chain else ctx.title("chains_analysis")
    return PrintMap("chains", title, draw, legend, labels, _bounds(mine if len(mine) else zones))


def commuting_map(ctx: FigureContext, result: AnalysisResult) -> PrintMap:
    """As ``commuting.html`` opens: workplaces by the share of commuters within 5 km and the
    largest district-to-district flows (width by commuters, bent to the right of travel)."""
    from geo.webmap.commuting import bent_lines

    draw, legend, labels = [], [], []
    t = result.tables
    wp = t["commuting_workplaces"]
    cls = _graduated(wp["share_within_5km"], styles.COMMUTE_SHARE_BREAKS)
    face = [styles.COMMUTE_SHARE_COLORS[i] if i < len(styles.COMMUTE_SHARE_COLORS) else "#cccccc" for i in cls]
    edge = [styles.ZONE_OUTLINE if k == "zone" else styles.INNOVATION_COLOR for k in wp["kind"]]
    width = [1.0 if k == "zone" else 2.5 for k in wp["kind"]]
    draw.append(polygons(wp, face, edge, width, alpha=0.85, z=3))
    name = "就业地：5 公里以内通勤比重" if ctx.zh else "Workplaces: share of commuters within 5 km"
    legend.append(LegendGroup(name, _range_rows(wp["share_within_5km"], styles.COMMUTE_SHARE_BREAKS,
                                                styles.COMMUTE_SHARE_COLORS, "pct", ctx.lang, alpha=0.85,
                                                edge=styles.ZONE_OUTLINE)))
    labels += _feature_labels(wp, wp["commuters"], priority=1500)
    fl = t.get("commuting_flows")
    if isinstance(fl, gpd.GeoDataFrame) and len(fl):
        top = fl.sort_values("rank").head(int(ctx.settings.commuting.top_flows))
        top = top.set_geometry(bent_lines(top.geometry.to_numpy()), crs=fl.crs)
        wi = styles.flow_width_index(top["commuters"].to_numpy(float))
        draw.append(lines(top, styles.FLOW_COLOR, [styles.LINE_WIDTHS[i] for i in wi], alpha=0.75, z=6))
        rows = [LegendItem(text, "line", edge=styles.FLOW_COLOR, width_px=styles.LINE_WIDTHS[k])
                for k, text in styles.flow_legend(top["commuters"].to_numpy(float), ctx.lang)]
        legend.insert(0, LegendGroup((f"跨区通勤流（前 {len(top)} 条，线宽按人数）" if ctx.zh
                                      else f"Flows between districts (top {len(top)}, width by commuters)"), rows))
    districts_layer(ctx, draw, legend, labels)
    return PrintMap("commuting", ctx.title("commuting"), draw, legend, labels,
                    _bounds(ctx.study.zones, ctx.study.districts))


#: Analysis name → print-map builder (in atlas order).
BUILDERS: dict[str, Callable[[FigureContext, AnalysisResult], PrintMap]] = {
    "balance": balance_map,
    "collaboration": collaboration_map,
    "core_periphery": core_periphery_map,
    "chains": chains_map,
    "commuting": commuting_map,
}
