"""compare.html: two runs side by side on synchronised maps, a change map per analysis,
the headline indicators and the config differences.

The page is self-contained and opens with no network: Leaflet is inlined from the
XStatic package (:mod:`geo.webmap._assets`), features are GeoJSON made by
:func:`geo.webmap._layers.feature_collection` (escaped for ``<script>``), legends are
built with the house legend rows (escaped in Python), tooltips use ``textContent`` and
the page text goes through Jinja2 autoescaping. Geometries come from each run's
``qgis/zoneatlas.gpkg``; a run without it still gets the tables on the page.
"""

from __future__ import annotations

import functools
import html
import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
from jinja2 import Environment
from markupsafe import Markup
from pyproj import CRS

from geo import styles
from geo._errors import ZoneAtlasError
from geo.i18n import TERMS, label
from geo.webmap._assets import json_for_script, leaflet_css, leaflet_js, script_safe
from geo.webmap._compare_page import CSS, JS, PAGE
from geo.webmap._controls import line_row, swatch_row
from geo.webmap._layers import DISTRICT_TOLERANCE_M, Display, feature_collection
from geo.webmap._runtime import RUNTIME_CSS

if TYPE_CHECKING:
    from geo.comparison import Comparison, RunFolder

log = logging.getLogger(__name__)

TEXT = {
    "zh": {"title": "现状 vs 规划方案", "base": "现状（BASE）", "plan": "规划方案（PLAN）", "side": "同步对比地图",
           "side_note": "两幅地图联动缩放与平移；图层开关同步。", "delta": "变化图",
           "delta_note": "选择一项分析的变化：就业地职住比变化、协同对增减、功能区极核与策略变化。",
           "summary": "关键指标对比", "indicator": "指标", "delta_col": "变化", "pct": "变化率",
           "tables": "各结果表的变化", "table": "结果表", "key": "连接字段", "same": "不变", "changed": "变化",
           "added": "新增", "removed": "删除", "config": "两次运行的配置差异", "param": "配置项",
           "kind": "类别", "analysis_param": "分析参数", "input_param": "输入 / 显示", "no_diff": "配置相同。",
           "refused_note": "以下分析参数不同（已用 --allow-parameter-changes 强制比较）：变化中包含参数变化的影响。",
           "links": "两次运行的地图", "atlas": "分析图集", "no_geom": "运行文件夹中没有 qgis/zoneatlas.gpkg，无法绘制地图。",
           "only_base": "仅现状有的表", "only_plan": "仅规划方案有的表", "districts": "行政区",
           "strategy_layer": "功能区策略（中心—外围）", "jhr_layer": "就业地职住比", "pairs_layer": "协同对",
           "d_jhr": "职住比变化（就业地）", "d_pairs": "协同对增减", "d_core": "极核与策略变化",
           "jhr_down": "职住比下降（趋向居住富余）", "jhr_up": "职住比上升（趋向就业富余）", "jhr_same": "不变",
           "jhr_na": "无法计算", "became_core": "成为极核", "lost_core": "不再是极核",
           "strategy_changed": "策略变化", "core_changed": "所属极核变化", "unchanged": "不变",
           "pair_changed": "协同对属性变化", "status": "状态", "files": "文件", "d_housing": "新增 / 删除的居住"},
    "en": {"title": "Baseline vs plan", "base": "Baseline (BASE)", "plan": "Plan (PLAN)", "side": "Side by side",
           "side_note": "Both maps pan and zoom together; layer switches are mirrored.", "delta": "Change maps",
           "delta_note": "Pick the change of one analysis: workplace jobs–housing ratio, pairs gained or lost, "
                         "zones whose core or strategy changed.",
           "summary": "Headline indicators", "indicator": "Indicator", "delta_col": "Change", "pct": "Change %",
           "tables": "Changes per result table", "table": "Table", "key": "Join key", "same": "Same",
           "changed": "Changed", "added": "Added", "removed": "Removed", "config": "What differs between the configs",
           "param": "Config entry", "kind": "Kind", "analysis_param": "analysis parameter",
           "input_param": "input / display", "no_diff": "The configs are identical.",
           "refused_note": "These analysis parameters differ (compared with --allow-parameter-changes): the "
                           "changes include the effect of the parameters.",
           "links": "Maps of the two runs", "atlas": "Atlas", "no_geom": "The run folder has no "
           "qgis/zoneatlas.gpkg: no maps can be drawn.", "only_base": "Tables in the baseline only",
           "only_plan": "Tables in the plan only", "districts": "Districts",
           "strategy_layer": "Zone strategy (core–periphery)", "jhr_layer": "Workplace jobs–housing ratio",
           "pairs_layer": "Collaboration pairs", "d_jhr": "Change in jobs–housing ratio (workplaces)",
           "d_pairs": "Pairs gained and lost", "d_core": "Core and strategy changes",
           "jhr_down": "Lower ratio (towards housing-rich)", "jhr_up": "Higher ratio (towards jobs-rich)",
           "jhr_same": "No change", "jhr_na": "Not computable", "became_core": "Became a core",
           "lost_core": "No longer a core", "strategy_changed": "Strategy changed", "core_changed": "Attached core changed",
           "unchanged": "Unchanged", "pair_changed": "Pair attributes changed", "status": "Status", "files": "Files",
           "d_housing": "Housing added / removed"},
}

ADDED_COLOR = "#1a9850"
REMOVED_COLOR = "#d73027"
CHANGED_COLOR = "#E69F00"
UNCHANGED_FILL = "#dddddd"
#: Diverging classes of a change: strong decrease … strong increase (PuOr, like the jhr map).
DELTA_COLORS = ("#5e3c99", "#b2abd2", "#f7f7f7", "#fdb863", "#e66101")


@dataclass
class _Layer:
    id: str
    label: str
    data: str
    count: int
    styles: list[dict]
    tooltip: list[list[str]]
    legend: str
    show: bool = True
    title_field: str | None = "name"
    radio: bool = False

    def spec(self) -> dict[str, Any]:
        return {"id": self.id, "label": html.escape(self.label), "styles": self.styles, "tooltip": self.tooltip,
                "legend": self.legend, "show": self.show, "titleField": self.title_field, "count": self.count,
                "radio": self.radio}


@dataclass
class _MapSpec:
    id: str
    layers: list[_Layer] = field(default_factory=list)
    exclusive: bool = False


#: Columns read from each run's GeoPackage layer (one read per run and layer per page).
_LAYER_COLUMNS = {
    "districts": ["district_id", "name"],
    "district_boundaries": [],
    "zones": ["zone_id", "name"],
    "core_periphery_zones": ["zone_id", "name", "chain", "role", "strategy", "score", "core_id"],
    "balance_workplaces": ["workplace_id", "name", "kind", "jobs", "workers", "jhr", "balance_class"],
    "collaboration_pairs": ["zone_a", "zone_b", "name_a", "name_b", "chain", "pair_type", "distance_m",
                            "recommended"],
}


@functools.lru_cache(maxsize=16)
def _read_layer(path: str, layer: str, mtime_ns: int) -> gpd.GeoDataFrame | None:
    import pyogrio

    try:
        if layer not in {str(n) for n in pyogrio.list_layers(path)[:, 0]}:
            return None
        fields = set(pyogrio.read_info(path, layer=layer)["fields"])
        frame = pyogrio.read_dataframe(path, layer=layer,
                                       columns=[c for c in _LAYER_COLUMNS[layer] if c in fields])
    except (OSError, RuntimeError, ValueError) as exc:  # unreadable: the page still shows the tables
        log.warning("%s: layer %s not readable (%s); left off compare.html", path, layer, exc)
        return None
    return frame if isinstance(frame, gpd.GeoDataFrame) and frame.crs is not None else None


def _gpkg_layer(run: RunFolder, layer: str, columns: list[str] | None = None) -> gpd.GeoDataFrame | None:
    """A layer of the run's ``qgis/zoneatlas.gpkg`` (read once per page; do not modify it)."""
    path = run.path / "qgis" / "zoneatlas.gpkg"
    if not path.is_file():
        return None
    return _read_layer(str(path), layer, path.stat().st_mtime_ns)


#: Simplification tolerance (metres) of each drawn layer.
_TOLERANCE_M = {"districts": DISTRICT_TOLERANCE_M, "district_boundaries": DISTRICT_TOLERANCE_M}


@functools.lru_cache(maxsize=16)
def _prepared(path: str, layer: str, mtime_ns: int, display: Display) -> gpd.GeoDataFrame | None:
    frame = _read_layer(path, layer, mtime_ns)
    if frame is None:
        return None
    geoms = display.geometries(frame.geometry, _TOLERANCE_M.get(layer, 5.0))
    return gpd.GeoDataFrame(pd.DataFrame(frame.drop(columns=frame.geometry.name)),
                            geometry=gpd.GeoSeries(geoms, index=frame.index))  # map coordinates: no crs


def _shown_layer(run: RunFolder, layer: str, display: Display) -> gpd.GeoDataFrame | None:
    """A GeoPackage layer in map coordinates, simplified once for every map that draws it."""
    path = run.path / "qgis" / "zoneatlas.gpkg"
    if not path.is_file():
        return None
    return _prepared(str(path), layer, path.stat().st_mtime_ns, display)


def _feature_count(run: RunFolder, layer: str) -> int | None:
    """The number of features of a layer of the run's GeoPackage (None when not there)."""
    import pyogrio

    path = run.path / "qgis" / "zoneatlas.gpkg"
    try:
        return int(pyogrio.read_info(path, layer=layer)["features"]) if path.is_file() else None
    except (OSError, RuntimeError, ValueError):
        return None


#: Added or removed housing features drawn on the change map (more: left off, with a log line).
MAX_HOUSING_CHANGES = 5000


def _gpkg_ids(run: RunFolder, layer: str, id_col: str, ids: list[str], columns: list[str]
              ) -> gpd.GeoDataFrame | None:
    """Only the features of ``layer`` whose ``id_col`` is in ``ids`` (an SQL filter, not a full read)."""
    path = run.path / "qgis" / "zoneatlas.gpkg"
    if not ids or not path.is_file():
        return None
    import pyogrio

    quoted = ",".join("'" + str(i).replace("'", "''") + "'" for i in ids)
    try:
        frame = pyogrio.read_dataframe(path, layer=layer, columns=columns, where=f'"{id_col}" IN ({quoted})')
    except (OSError, RuntimeError, ValueError) as exc:  # unreadable: the page still shows the tables
        log.warning("%s: layer %s not readable (%s); left off compare.html", path, layer, exc)
        return None
    return frame if isinstance(frame, gpd.GeoDataFrame) and frame.crs is not None else None


def _housing_layer(result: Comparison, lang: str, display: Display) -> _Layer | None:
    """New and removed housing features (e.g. a planned development) as points."""
    t = TEXT[lang]
    table = result.tables.get("housing")
    if table is None or "housing_id" not in table:
        return None
    changed = table[table["status"].isin(["added", "removed"])]
    if not len(changed):
        return None
    if len(changed) > MAX_HOUSING_CHANGES:
        log.info("compare.html: %d added or removed housing features, the first %d drawn", len(changed),
                 MAX_HOUSING_CHANGES)
        changed = changed.head(MAX_HOUSING_CHANGES)
    cols = ["housing_id", "dwellings", "population"]
    parts = []
    for run, status in ((result.plan, "added"), (result.base, "removed")):
        ids = changed.loc[changed["status"] == status, "housing_id"].astype(str).tolist()
        frame = _gpkg_ids(run, "housing", "housing_id", ids, cols)
        if frame is not None and len(frame):
            parts.append(frame.assign(status=status))
    if not parts:
        return None
    g = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=parts[0].crs)
    g["geometry"] = g.geometry.representative_point()
    st = [{"radius": 4, "color": ADDED_COLOR, "weight": 1, "fillColor": ADDED_COLOR, "fillOpacity": 0.9},
          {"radius": 4, "color": REMOVED_COLOR, "weight": 1, "fillColor": "#ffffff", "fillOpacity": 0.9}]
    idx = (g["status"] == "removed").to_numpy(dtype=int)
    rows = [swatch_row(t["added"], ADDED_COLOR, ADDED_COLOR), swatch_row(t["removed"], "#ffffff", REMOVED_COLOR)]
    return _layer(display, "delta:housing", t["d_housing"], g, ["housing_id", "dwellings", "population", "status"],
                  st, idx, _fields([("housing_id", label("housing_id", lang), "text"),
                                    ("dwellings", label("dwellings", lang), "int"),
                                    ("population", label("population", lang), "int"),
                                    ("status", t["status"], "status")]),
                  _legend(t["d_housing"], rows), title_field=None, tolerance_m=0.0)


def _text_key(frame: pd.DataFrame, key: list[str]) -> pd.Series:
    return frame[key].astype(str).agg("\x1f".join, axis=1) if len(key) > 1 else frame[key[0]].astype(str)


def _pair_key(frame: pd.DataFrame) -> pd.Series:
    a, b = frame["zone_a"].astype(str), frame["zone_b"].astype(str)
    return pd.Series(np.where(a <= b, a + "\x1f" + b, b + "\x1f" + a), index=frame.index)


def _with_geometry(table: pd.DataFrame, key: list[str], base: gpd.GeoDataFrame | None,
                   plan: gpd.GeoDataFrame | None, *, pairs: bool = False) -> gpd.GeoDataFrame | None:
    """The compare table with each row's geometry (plan's; the base's for removed rows)."""
    if base is None and plan is None:
        return None
    keyf = _pair_key if pairs else (lambda f: _text_key(f, key))
    tk = keyf(table)
    geoms = pd.Series([None] * len(table), index=table.index, dtype=object)
    crs = None
    for frame in (base, plan):  # plan last: its geometry wins
        if frame is None or not all(k in frame for k in key):
            continue
        crs = crs or frame.crs
        lookup = pd.Series(frame.geometry.to_numpy(dtype=object), index=keyf(frame).to_numpy())
        lookup = lookup[~lookup.index.duplicated()]
        found = tk.map(lookup)
        geoms = found.where(found.notna(), geoms)
    out = gpd.GeoDataFrame(table.copy(), geometry=gpd.GeoSeries(geoms.to_numpy(), crs=crs, index=table.index))
    return out[out.geometry.notna()]


def _fields(keys: list[tuple[str, str, str]]) -> list[list[str]]:
    """Tooltip specs ``[field, label, format]``; labels lose a metres suffix (shown in km)."""
    return [[k[0], re.sub(r"\s*(（米）|\(m\))", "", k[1]), k[2]] for k in keys]


def _layer(display: Display, layer_id: str, label_text: str, frame: gpd.GeoDataFrame, props: list[str],
           styles_list: list[dict], style_index: np.ndarray, tooltip: list[list[str]], legend: str,
           *, show: bool = True, title_field: str | None = "name", tolerance_m: float = 5.0) -> _Layer:
    # frames without a CRS are in map coordinates already (see _shown_layer)
    geoms = frame.geometry.values if frame.crs is None else display.geometries(frame.geometry, tolerance_m)
    cols = [c for c in dict.fromkeys(props) if c in frame.columns]
    data, count = feature_collection(geoms, pd.DataFrame(frame[cols]).reset_index(drop=True), style_index)
    return _Layer(layer_id, label_text, data, count, styles_list, [f for f in tooltip if f[0] in cols], legend,
                  show, title_field if title_field in cols else None)


def _categorical(values: pd.Series, colors: dict[str, str], *, outline: str = styles.ZONE_OUTLINE,
                 line: bool = False, weight: float = 1.0) -> tuple[list[dict], np.ndarray]:
    cats = list(colors)
    lookup = {c: i for i, c in enumerate(cats)}
    idx = np.array([lookup.get(v, len(cats)) for v in values.astype(object)], dtype=int)
    if line:
        st = [{"color": colors[c], "weight": 3, "opacity": 0.85} for c in cats] + [{"color": "#999", "weight": 2}]
    else:
        st = [{"color": outline, "weight": weight, "fillColor": colors[c], "fillOpacity": 0.7} for c in cats]
        st.append({"color": outline, "weight": weight, "fillColor": "#bbbbbb", "fillOpacity": 0.5})
    return st, idx


def _legend(title: str, rows: list[str]) -> str:
    return f'<div class="za-legend-title">{html.escape(title)}</div>' + "".join(rows)


def _side_layers(run: RunFolder, side: str, lang: str, display: Display) -> list[_Layer]:
    """Districts, zone strategy, workplace jhr classes and pairs of one run."""
    t = TEXT[lang]
    out: list[_Layer] = []
    # the boundaries with each shared edge once (two dashed outlines drawn over each other
    # look solid); a package without them (an older run): the districts' outlines
    d = _shown_layer(run, "district_boundaries", display)
    n = _feature_count(run, "districts")      # the districts counted, not their boundary lines
    if d is None or not len(d):
        d = _shown_layer(run, "districts", display)
    if d is not None and len(d):
        out.append(_layer(display, f"{side}:districts", t["districts"], d, ["name"],
                          [{"color": styles.DISTRICT_OUTLINE, "weight": 1.5, "fill": False, "dashArray": "6 4"}],
                          np.zeros(len(d), int), [], swatch_row(t["districts"], "none", styles.DISTRICT_OUTLINE,
                                                                dashed=True), tolerance_m=20.0))
        out[-1].count = n if n is not None else len(d)
    z = _shown_layer(run, "core_periphery_zones", display)
    if z is not None and len(z) and "strategy" in z:
        st, idx = _categorical(z["strategy"], styles.STRATEGY_COLORS)
        core = (z.get("role") == "core").to_numpy() if "role" in z else np.zeros(len(z), bool)
        st = st + [dict(s, color=styles.CORE_OUTLINE, weight=styles.CORE_OUTLINE_WIDTH) for s in st]
        idx = np.where(core, idx + len(st) // 2, idx)
        rows = [swatch_row(label(k, lang), c) for k, c in styles.STRATEGY_COLORS.items()]
        rows.append(swatch_row(label("core", lang), "none", styles.CORE_OUTLINE, weight=3))
        out.append(_layer(display, f"{side}:strategy", t["strategy_layer"], z,
                          ["zone_id", "name", "chain", "role", "strategy", "score", "core_id"], st, idx,
                          _fields([("zone_id", label("zone_id", lang), "text"), ("chain", label("chain", lang), "cat"),
                                   ("role", label("role", lang), "cat"), ("strategy", label("strategy", lang), "cat"),
                                   ("score", label("score", lang), "num"), ("core_id", label("core_id", lang), "text")]),
                          _legend(t["strategy_layer"], rows)))
    w = _shown_layer(run, "balance_workplaces", display)
    if w is not None and len(w) and "jhr" in w:
        jhr = pd.to_numeric(w["jhr"], errors="coerce").to_numpy(dtype=float)
        cls = styles.classify(jhr, styles.JHR_BREAKS)
        cls = np.where(cls < 0, len(styles.JHR_COLORS), cls)
        st = [{"color": styles.ZONE_OUTLINE, "weight": 1, "fillColor": c, "fillOpacity": 0.75}
              for c in styles.JHR_COLORS] + [{"color": styles.ZONE_OUTLINE, "weight": 1, "fillColor": "#4d4d4d",
                                              "fillOpacity": 0.6}]
        b = [f"{v:g}" for v in styles.JHR_BREAKS]
        texts = [f"≤ {b[0]}", *[f"{b[i]} – {b[i + 1]}" for i in range(len(b) - 1)], f"> {b[-1]}"]
        rows = [swatch_row(text, c) for text, c in zip(texts, styles.JHR_COLORS)]
        rows.append(swatch_row(t["jhr_na"], "#4d4d4d"))
        out.append(_layer(display, f"{side}:jhr", t["jhr_layer"], w,
                          ["workplace_id", "name", "kind", "jobs", "workers", "jhr", "balance_class"], st, cls,
                          _fields([("workplace_id", label("workplace_id", lang), "text"),
                                   ("jobs", label("jobs", lang), "int"), ("workers", label("workers", lang), "int"),
                                   ("jhr", label("jhr", lang), "ratio"),
                                   ("balance_class", label("balance_class", lang), "cat")]),
                          _legend(f"{t['jhr_layer']} ({label('jhr', lang)})", rows), show=False))
    p = _shown_layer(run, "collaboration_pairs", display)
    if p is not None and "recommended" in p:  # as on collaboration.html: the recommended pairs
        p = p[p["recommended"].fillna(False).astype(bool).to_numpy()]
    if p is not None and len(p) and "pair_type" in p:
        st, idx = _categorical(p["pair_type"], styles.PAIR_TYPE_COLORS, line=True)
        rows = [line_row(label(k, lang), c, 3) for k, c in styles.PAIR_TYPE_COLORS.items()]
        out.append(_layer(display, f"{side}:pairs", t["pairs_layer"], p,
                          ["zone_a", "zone_b", "name_a", "name_b", "chain", "pair_type", "distance_m"], st, idx,
                          _fields([("name_a", label("zone_a", lang), "text"), ("name_b", label("zone_b", lang), "text"),
                                   ("chain", label("chain", lang), "cat"), ("pair_type", label("pair_type", lang), "cat"),
                                   ("distance_m", label("distance_m", lang), "km")]),
                          _legend(t["pairs_layer"], rows), title_field=None))
    return out


def delta_classes(delta: np.ndarray) -> tuple[np.ndarray, float]:
    """Diverging class of each change (0 strong decrease … 4 strong increase, 5 missing).

    ``strong`` = beyond the median absolute non-zero change; 2 = exactly no change.
    """
    d = np.asarray(delta, dtype=float)
    nonzero = np.abs(d[np.isfinite(d) & (d != 0)])
    m = float(np.median(nonzero)) if nonzero.size else 1.0
    cls = np.full(d.shape, 5, dtype=int)
    fin = np.isfinite(d)
    cls[fin & (d <= -m)] = 0
    cls[fin & (d < 0) & (d > -m)] = 1
    cls[fin & (d == 0)] = 2
    cls[fin & (d > 0) & (d < m)] = 3
    cls[fin & (d >= m)] = 4
    return cls, m


def _status_styles(base_styles: list[dict]) -> list[dict]:
    """Append the added / removed styles to a style list (indices len, len + 1)."""
    return base_styles + [
        {"color": ADDED_COLOR, "weight": 3.5, "fillColor": ADDED_COLOR, "fillOpacity": 0.55},
        {"color": REMOVED_COLOR, "weight": 2.5, "dashArray": "5 4", "fillColor": "#ffffff", "fillOpacity": 0.3},
    ]


def _delta_layers(result: Comparison, lang: str, display: Display) -> list[_Layer]:
    """One change layer per analysis (shown one at a time)."""
    out = _change_layers(result, lang, display)
    for layer in out:
        layer.radio = True
    housing = _housing_layer(result, lang, display)
    return out + ([housing] if housing is not None else [])


def _change_layers(result: Comparison, lang: str, display: Display) -> list[_Layer]:
    t = TEXT[lang]
    out: list[_Layer] = []
    status_rows = [swatch_row(t["added"], ADDED_COLOR, ADDED_COLOR, weight=3),
                   swatch_row(t["removed"], "#ffffff", REMOVED_COLOR, dashed=True, weight=2)]
    wp = result.tables.get("balance_workplaces")
    if wp is not None and "jhr_delta" in wp:
        cols = ["workplace_id", "name"]
        g = _with_geometry(wp, ["workplace_id"], _shown_layer(result.base, "balance_workplaces", display),
                           _shown_layer(result.plan, "balance_workplaces", display))
        if g is not None and len(g):
            cls, m = delta_classes(g["jhr_delta"].to_numpy(dtype=float))
            cls = np.where(g["status"] == "added", 6, np.where(g["status"] == "removed", 7, cls))
            st = _status_styles([{"color": styles.ZONE_OUTLINE, "weight": 1, "fillColor": c, "fillOpacity": 0.8}
                                 for c in DELTA_COLORS] + [{"color": styles.ZONE_OUTLINE, "weight": 1,
                                                            "fillColor": "#4d4d4d", "fillOpacity": 0.5}])
            g = g.assign(name=g["name_plan"].where(g["name_plan"].notna(), g["name_base"]))
            rows = [swatch_row(f"≤ −{m:.3g}  {t['jhr_down']}", DELTA_COLORS[0]),
                    swatch_row(f"−{m:.3g} – 0", DELTA_COLORS[1]), swatch_row(t["jhr_same"], DELTA_COLORS[2]),
                    swatch_row(f"0 – +{m:.3g}", DELTA_COLORS[3]),
                    swatch_row(f"≥ +{m:.3g}  {t['jhr_up']}", DELTA_COLORS[4]), swatch_row(t["jhr_na"], "#4d4d4d"),
                    *status_rows]
            out.append(_layer(display, "delta:jhr", t["d_jhr"], g,
                              ["workplace_id", "name", "status", "jhr_base", "jhr_plan", "jhr_delta", "jobs_delta",
                               "workers_delta", "balance_class_base", "balance_class_plan"], st, cls,
                              _fields([("workplace_id", label("workplace_id", lang), "text"),
                                       ("status", t["status"], "status"),
                                       ("jhr_base", f"{label('jhr', lang)} · {t['base']}", "ratio"),
                                       ("jhr_plan", f"{label('jhr', lang)} · {t['plan']}", "ratio"),
                                       ("jhr_delta", f"{label('jhr', lang)} · {t['delta_col']}", "delta"),
                                       ("jobs_delta", f"{label('jobs', lang)} · {t['delta_col']}", "delta"),
                                       ("workers_delta", f"{label('workers', lang)} · {t['delta_col']}", "delta"),
                                       ("balance_class_base", f"{label('balance_class', lang)} · {t['base']}", "cat"),
                                       ("balance_class_plan", f"{label('balance_class', lang)} · {t['plan']}", "cat")]),
                              _legend(t["d_jhr"], rows)))
    pairs = result.tables.get("collaboration_pairs")
    if pairs is not None and len(pairs):
        cols = ["zone_a", "zone_b"]
        # every pair gained, lost or changed; of the others the recommended ones (context)
        keep = pairs["status"].to_numpy() != "same"
        for col in ("recommended_base", "recommended_plan"):
            if col in pairs:
                keep |= pairs[col].astype(str).isin(["True", "true", "1"]).to_numpy()
        if "recommended_base" not in pairs:
            keep[:] = True
        g = _with_geometry(pairs[keep], cols, _shown_layer(result.base, "collaboration_pairs", display),
                           _shown_layer(result.plan, "collaboration_pairs", display), pairs=True)
        if g is not None and len(g):
            order = {"same": 0, "changed": 1, "added": 2, "removed": 3}
            idx = g["status"].map(order).to_numpy(dtype=int)
            st = [{"color": "#9e9e9e", "weight": 1.5, "opacity": 0.6},
                  {"color": CHANGED_COLOR, "weight": 2.5, "opacity": 0.9},
                  {"color": ADDED_COLOR, "weight": 5, "opacity": 0.95},
                  {"color": REMOVED_COLOR, "weight": 4, "opacity": 0.95, "dashArray": "8 6"}]
            for side in ("a", "b"):
                col = f"name_{side}"
                if f"{col}_plan" in g:
                    g[col] = g[f"{col}_plan"].where(g[f"{col}_plan"].notna(), g[f"{col}_base"])
            rows = [line_row(t["added"], ADDED_COLOR, 5), line_row(t["removed"], REMOVED_COLOR, 4, dash="8 6"),
                    line_row(t["pair_changed"], CHANGED_COLOR, 2.5), line_row(t["unchanged"], "#9e9e9e", 1.5)]
            out.append(_layer(display, "delta:pairs", t["d_pairs"], g,
                              ["zone_a", "zone_b", "name_a", "name_b", "status", "pair_type_base", "pair_type_plan",
                               "strength_delta", "distance_m_plan"], st, idx,
                              _fields([("name_a", label("zone_a", lang), "text"), ("name_b", label("zone_b", lang), "text"),
                                       ("status", t["status"], "status"),
                                       ("pair_type_base", f"{label('pair_type', lang)} · {t['base']}", "cat"),
                                       ("pair_type_plan", f"{label('pair_type', lang)} · {t['plan']}", "cat"),
                                       ("strength_delta", f"{label('strength', lang)} · {t['delta_col']}", "delta")]),
                              _legend(t["d_pairs"], rows), show=False, title_field=None))
    cz = result.tables.get("core_periphery_zones")
    if cz is not None and len(cz):
        cols = ["zone_id", "name"]
        g = _with_geometry(cz, ["zone_id"], _shown_layer(result.base, "core_periphery_zones", display),
                           _shown_layer(result.plan, "core_periphery_zones", display))
        if g is not None and len(g):
            def flag(col: str) -> np.ndarray:
                return g[col].fillna(False).to_numpy(dtype=bool) if col in g else np.zeros(len(g), bool)

            rb = g.get("role_base", pd.Series(index=g.index, dtype=object)).to_numpy(dtype=object)
            rp = g.get("role_plan", pd.Series(index=g.index, dtype=object)).to_numpy(dtype=object)
            cls = np.full(len(g), 5, dtype=int)  # unchanged
            cls[flag("core_id_changed")] = 3
            cls[flag("strategy_changed")] = 2
            cls[flag("role_changed") & (rb == "core")] = 1
            cls[flag("role_changed") & (rp == "core")] = 0
            cls = np.where(g["status"] == "added", 6, np.where(g["status"] == "removed", 7, cls))
            colors = ["#D55E00", "#0072B2", "#CC79A7", CHANGED_COLOR, "#ffffff", UNCHANGED_FILL]
            st = _status_styles([{"color": styles.ZONE_OUTLINE, "weight": 2 if i < 4 else 0.8, "fillColor": c,
                                  "fillOpacity": 0.8 if i < 4 else 0.45} for i, c in enumerate(colors)])
            g = g.assign(name=g["name_plan"].where(g["name_plan"].notna(), g["name_base"]))
            rows = [swatch_row(t["became_core"], colors[0]), swatch_row(t["lost_core"], colors[1]),
                    swatch_row(t["strategy_changed"], colors[2]), swatch_row(t["core_changed"], colors[3]),
                    swatch_row(t["unchanged"], colors[5]), *status_rows]
            out.append(_layer(display, "delta:core", t["d_core"], g,
                              ["zone_id", "name", "status", "role_base", "role_plan", "strategy_base", "strategy_plan",
                               "core_id_base", "core_id_plan", "score_delta"], st, cls,
                              _fields([("zone_id", label("zone_id", lang), "text"), ("status", t["status"], "status"),
                                       ("role_base", f"{label('role', lang)} · {t['base']}", "cat"),
                                       ("role_plan", f"{label('role', lang)} · {t['plan']}", "cat"),
                                       ("strategy_base", f"{label('strategy', lang)} · {t['base']}", "cat"),
                                       ("strategy_plan", f"{label('strategy', lang)} · {t['plan']}", "cat"),
                                       ("core_id_base", f"{label('core_id', lang)} · {t['base']}", "text"),
                                       ("core_id_plan", f"{label('core_id', lang)} · {t['plan']}", "text"),
                                       ("score_delta", f"{label('score', lang)} · {t['delta_col']}", "delta")]),
                              _legend(t["d_core"], rows), show=False))
    return out


def _fmt(value: Any, pct: bool = False, signed: bool = False) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "—"
    v = float(value)
    if pct:
        text = f"{v:,.1f}%"
    elif v.is_integer() or abs(v) >= 1000:
        text = f"{v:,.0f}"
    elif abs(v) >= 0.001:
        text = f"{v:.4g}"
    else:
        text = f"{v:.2e}"
    return ("+" + text) if signed and v > 0 else text


def _relative(folder: Path | None, run: RunFolder, sub: str) -> str | None:
    """Link from compare.html to a run's atlas page (a config's run lies in ``sub/``)."""
    if run.config is not None:
        return f"{sub}/index.html"
    if folder is None:
        return None
    index = run.path / "index.html"
    if not index.is_file():
        return None
    return Path(os.path.relpath(index, folder)).as_posix()


def _basemap(result: Comparison, lang: str) -> tuple[list[dict], bool]:
    map_config = (result.base.manifest.get("parameters") or {}).get("map") or {"basemap": "none"}
    if map_config.get("basemap") == "none":
        return [], False
    from geo.settings import MapSettings
    from geo.webmap._basemaps import resolve_basemap

    try:
        settings = MapSettings.model_validate(map_config)
        bm = resolve_basemap(settings, lang)
    except (ZoneAtlasError, ValueError) as exc:  # basemap trouble must not lose the comparison
        log.warning("compare.html: basemap of the BASE run not usable (%s); drawn without", exc)
        return [], False
    return [{"url": t.url, "attribution": html.escape(t.attribution), "maxZoom": t.max_zoom,
             "subdomains": t.subdomains or "abc"} for t in bm.tiles], bm.gcj02


def render_compare_page(result: Comparison, *, folder: Path | None = None) -> str:
    """compare.html as text (``folder``: where it is written, for links to the runs)."""
    manifest_b = result.base.manifest
    lang = ((manifest_b.get("parameters") or {}).get("study") or {}).get("language", "zh")
    lang = lang if lang in TEXT else "zh"
    t = TEXT[lang]
    tiles, gcj02 = _basemap(result, lang)
    crs_text = result.base.working_crs or result.plan.working_crs
    maps: list[dict] = []
    bounds = None
    if crs_text:
        display = Display(CRS.from_user_input(crs_text), gcj02=gcj02)
        side = {s: _side_layers(run, s, lang, display) for s, run in (("base", result.base), ("plan", result.plan))}
        delta = _delta_layers(result, lang, display)
        frames = [f for f in (_gpkg_layer(result.base, "districts", []), _gpkg_layer(result.plan, "districts", []),
                              _gpkg_layer(result.plan, "zones", [])) if f is not None and len(f)]
        if frames:
            bounds = display.bounds([f.to_crs(display.crs) for f in frames])
        maps = [{"id": "base", "layers": [x.spec() for x in side["base"]], "exclusive": False},
                {"id": "plan", "layers": [x.spec() for x in side["plan"]], "exclusive": False},
                {"id": "delta", "layers": [x.spec() for x in delta], "exclusive": True}]
        datas = {x.id: x.data for x in (*side["base"], *side["plan"], *delta)}
        if not any(m["layers"] for m in maps):  # no GeoPackage in either run: tables only
            maps, datas = [], {}
        elif side["plan"] and side["plan"][0].id == "plan:districts":  # context on the change map
            ctx = side["plan"][0]
            maps[-1]["layers"].append(dict(ctx.spec(), id="delta:districts", legend=""))
            datas["delta:districts"] = ctx.data
    else:
        datas = {}
    summary = [{"indicator": r.indicator, "label": r.label, "base": _fmt(r.base), "plan": _fmt(r.plan),
                "delta": _fmt(r.delta, signed=True), "pct": _fmt(r.pct_delta, pct=True, signed=True),
                "cls": "up" if r.delta > 0 else ("down" if r.delta < 0 else "")}
               for r in result.summary.itertuples()]
    tables = [{"name": n, "label": label(n, lang), "key": " + ".join(result.keys[n] or ["row"]),
               "file": f"tables/compare_{n}.csv", **result.counts(n)} for n in result.tables]
    diffs = [{"key": d["key"], "base": json.dumps(d["base"], ensure_ascii=False),
              "plan": json.dumps(d["plan"], ensure_ascii=False),
              "kind": t["analysis_param"] if d["analysis"] else t["input_param"], "analysis": d["analysis"]}
             for d in result.config_differences]
    config = {"lang": lang, "labels": {k: (zh if lang == "zh" else en) for k, (zh, en) in TERMS.items()},
              "status": {s: t[s] for s in ("same", "changed", "added", "removed")}, "tiles": tiles,
              "bounds": bounds, "maps": maps, "layersTitle": t["side"]}
    data_js = "var ZA_COMPARE_DATA = {" + ",".join(
        f"{json_for_script(k)}: {v}" for k, v in datas.items()) + "};"
    study = (manifest_b.get("study") or {}).get("name") or ""
    env = Environment(autoescape=True)
    return env.from_string(PAGE).render(
        lang_attr="zh-CN" if lang == "zh" else "en", t=t, study=study,
        plan_study=(result.plan.manifest.get("study") or {}).get("name") or "",
        base_path=str(result.manifest.get("base", {}).get("path") or result.base.path),
        plan_path=str(result.manifest.get("plan", {}).get("path") or result.plan.path),
        css=Markup(leaflet_css().replace("</", "<\\/") + RUNTIME_CSS + CSS),
        leaflet=Markup(script_safe(leaflet_js())), runtime=Markup(script_safe(JS)),
        config=Markup(json_for_script(config)), data=Markup(data_js), has_maps=bool(maps),
        summary=summary, tables=tables, diffs=diffs, refused=[d for d in diffs if d["analysis"]],
        only_base=result.manifest.get("tables_only_in_base") or [],
        only_plan=result.manifest.get("tables_only_in_plan") or [],
        base_link=_relative(folder, result.base, "base"),
        plan_link=_relative(folder, result.plan, "plan"),
    )


def write_compare_page(path: Path, result: Comparison) -> Path:
    """Write compare.html to ``path``."""
    path = Path(path)
    try:
        path.write_text(render_compare_page(result, folder=path.parent), encoding="utf-8")
    finally:
        _read_layer.cache_clear()  # the runs' layers are not kept in memory
        _prepared.cache_clear()
    return path
