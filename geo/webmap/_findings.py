"""The briefing part of the atlas page: key findings, methods, thumbnails, warnings in zh.

Findings are computed from the analysis tables and summaries (never typed in), so
they change with the data. 首位度 (primacy) is the usual definition here: score of
the top pole / score of the second pole. The core–periphery summary's ``primacy``
(top pole / sum of all pole scores) is shown under another name,
主极核得分占比 / "main pole's share of pole scores".
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import styles
from geo._types import AnalysisResult, Study
from geo.settings import Settings


def primacy_top_second(zones: pd.DataFrame | None) -> float | None:
    """首位度: score of the strongest pole / score of the second (None with < 2 poles).

    Examples
    --------
    >>> z = pd.DataFrame({"role": ["core", "core", "periphery"], "score": [0.9, 0.6, 0.95]})
    >>> primacy_top_second(z)
    1.5
    """
    if zones is None or "role" not in zones or "score" not in zones:
        return None
    s = pd.to_numeric(zones.loc[zones["role"] == "core", "score"], errors="coerce").dropna()
    s = s.sort_values(ascending=False).to_numpy()
    if len(s) < 2 or s[1] <= 0:
        return None
    return float(s[0] / s[1])


def _km(value_m: Any) -> str:
    return f"{float(value_m) / 1000:g}"


def key_findings(results: dict[str, AnalysisResult], study: Study, settings: Settings, lang: str,
                 names: dict | None = None) -> list[str]:
    """3–5 one-sentence findings from the results (in ``lang``)."""
    zh = lang == "zh"
    out: list[str] = []
    names = names or {}
    bal = results.get("balance")
    if bal is not None:
        out += _balance_finding(bal, settings, zh)
    col = results.get("collaboration")
    if col is not None:
        ch = col.tables.get("collaboration_chains")
        if ch is not None and len(ch) and "fragmentation_rank" in ch:
            top = pd.DataFrame(ch).sort_values("fragmentation_rank").iloc[0]
            share = top.get("share_linked")
            share_t = f"{float(share):.0%}" if share is not None and np.isfinite(float(share)) else "—"
            out.append(f"空间最分散的产业链是「{top['chain']}」：横跨 {int(top.get('districts', 0))} 个行政区，"
                       f"{share_t} 的功能区在最大协同距离内有跨区伙伴。" if zh else
                       f"The most fragmented chain is {top['chain']}: it spans {int(top.get('districts', 0))} "
                       f"districts and {share_t} of its zones have a cross-district partner within reach.")
        s = col.summary
        if "zones_with_partner_within" in s and "zones" in s:
            km = _km((s.get("parameters") or {}).get("max_distance_m", settings.collaboration.max_distance_m))
            out.append(f"{s['zones_with_partner_within']} / {s['zones']} 个功能区在 {km} 公里内有同链跨区伙伴；"
                       f"{s.get('zones_without_any_partner', 0)} 个在全域内都没有。" if zh else
                       f"{s['zones_with_partner_within']} of {s['zones']} zones have a same-chain partner in another "
                       f"district within {km} km; {s.get('zones_without_any_partner', 0)} have none anywhere.")
    cp = results.get("core_periphery")
    if cp is not None:
        z = cp.tables.get("core_periphery_zones")
        if z is not None and len(z) and "role" in z:
            cores = pd.DataFrame(z[z["role"] == "core"])
            if len(cores) and "periphery_count" in cores:
                if "name" in z:
                    from geo.webmap._briefing import display_names

                    shown = dict(zip(z.index, display_names(z, study.districts, lang)))
                    cores["name"] = [shown[i] for i in cores.index]
                best = cores.sort_values(["periphery_count", "score"], ascending=False).iloc[0]
                name = names.get(best.get("zone_id"), best.get("name", best.get("zone_id")))
                out.append(f"{len(cores)} 个增长极核中，「{name}」承接的外围功能区最多（{int(best['periphery_count'])} 个）。"
                           if zh else f"Of {len(cores)} growth poles, {name} attracts the most periphery zones "
                           f"({int(best['periphery_count'])}).")
            p = primacy_top_second(z)
            if p is not None:
                out.append(f"首位度 {p:.2f}：第一极核得分是第二极核的 {p:.2f} 倍。" if zh else
                           f"Primacy {p:.2f}: the top pole scores {p:.2f} times the second.")
    return out[:5]


def _balance_finding(bal: AnalysisResult, settings: Settings, zh: bool) -> list[str]:
    """The balance's classes, by the area measure when there is one (the measure the map
    colours by and the atlas tables lead with), else by the catchment measure."""
    wp = bal.tables.get("balance_workplaces")
    column = "area_class" if wp is not None and "area_class" in wp else "balance_class"
    classes = bal.summary.get("area_classes" if column == "area_class" else "balance_classes") or {}
    if not classes and wp is not None and column in wp:
        classes = wp[column].value_counts().to_dict()
    n = int(sum(classes.values())) if classes else 0
    if not n:
        return []
    jr, ok, hr = (int(classes.get(c, 0)) for c in ("jobs_rich", "balanced", "housing_rich"))
    if bal.summary.get("reach") == "network":
        minute = f"{float(bal.summary.get('minute', settings.balance.minute)):g}"
        reach = f"道路网 {minute} 分钟" if zh else f"a {minute}-minute commute on the roads"
    else:
        reach = f"{_km(settings.balance.radius_m)} 公里" if zh else f"{_km(settings.balance.radius_m)} km"
    if column == "area_class":
        return [f"{n} 个就业地周边（{reach}范围内的全部岗位与居住就业人口相比）：{jr} 个就业富余、{ok} 个平衡、"
                f"{hr} 个居住富余。" if zh else
                f"Around {n} workplaces (all jobs against the resident workers within {reach}): {jr} are "
                f"jobs-rich, {ok} balanced and {hr} housing-rich."]
    return [f"{n} 个就业地中，{hr} 个居住富余、{jr} 个就业富余（本就业地岗位与{reach}范围内的居住就业人口相比）。"
            if zh else f"Of {n} workplaces, {hr} are housing-rich and {jr} jobs-rich (own jobs against the "
            f"resident workers within {reach})."]


def _balance_method(settings: Settings, zh: bool) -> str:
    b = settings.balance
    if settings.balance_reach == "network":
        reach = f"道路网 {b.minute:g} 分钟通勤范围" if zh else f"a {b.minute:g}-minute commute on the roads"
    else:
        reach = f"{_km(b.radius_m)} 公里范围" if zh else f"{_km(b.radius_m)} km"
    if zh:
        return (f"地域职住比 = {reach}内的全部就业岗位 ÷ 同一范围内的居住就业人口；职住比 = 本就业地岗位 ÷ "
                f"{reach}内的居住就业人口；分摊职住比中，居民按岗位数分摊到可达的各就业地（不重复计算）。")
    return (f"Area jobs–housing ratio = all jobs within {reach} / the resident workers within the same reach; "
            f"jobs–housing ratio = the workplace's own jobs / the resident workers within {reach}; the shared "
            "ratio splits each resident's workers among the workplaces in reach in proportion to their jobs "
            "(nobody counted twice).")


def methods(settings: Settings, lang: str, analyses: Sequence[str]) -> list[tuple[str, str]]:
    """Short method notes (one line per analysis present)."""
    zh = lang == "zh"
    c, p = settings.collaboration, settings.core_periphery
    text = {
        "balance": _balance_method(settings, zh),
        "collaboration": (f"同一产业链、不同行政区、边界距离 ≤ {_km(c.max_distance_m)} 公里的功能区组成协同对；"
                          f"协同强度 = 规模A × 规模B ÷ (距离公里 + 1)^{c.distance_decay:g}，每链推荐最强的 "
                          f"{c.top_pairs_per_chain} 对。" if zh else
                          f"Zones of one chain in different districts within {_km(c.max_distance_m)} km form pairs; "
                          f"strength = mass A × mass B / (distance km + 1)^{c.distance_decay:g}; the strongest "
                          f"{c.top_pairs_per_chain} per chain are recommended."),
        "core_periphery": (("综合实力得分由就业、产值、企业、链主企业、研发平台等指标标准化加权；得分最高者为增长极核，"
                            f"外围功能区按 Huff 概率归属 {_km(p.attach_max_m)} 公里内的极核。") if zh else
                           ("Strength score = weighted, normalised jobs, output, firms, chain leaders, R&D platforms; "
                            "the strongest zones are growth poles and periphery zones attach to a pole within "
                            f"{_km(p.attach_max_m)} km by Huff probability.")),
    }
    if settings.uses_network:   # collaboration and attachment also in minutes on the roads
        text["collaboration"] += (f"有道路网时计算路网通行时间（取较快方向），超过 {c.max_travel_min:g} 分钟的协同对不予推荐。"
                                  if zh else f" With roads, travel time is measured (the faster direction); pairs "
                                  f"over {c.max_travel_min:g} min are not recommended.")
        text["core_periphery"] += (f"有道路网时 Huff 概率按路网通行时间（分钟，下限 1 分钟）计算，超过 "
                                   f"{p.attach_max_min:g} 分钟为孤立。" if zh else
                                   f" With roads, Huff uses travel time (minutes, floored at 1) and zones over "
                                   f"{p.attach_max_min:g} min from their core are isolated.")
    from geo.i18n import label

    return [(label(a, lang), text[a]) for a in ("balance", "collaboration", "core_periphery") if a in analyses]


def thumbnail_svg(frame: gpd.GeoDataFrame | None, colors: Sequence[str], outline: gpd.GeoDataFrame | None = None,
                  *, width: int = 240, height: int = 150, label: str = "") -> str:
    """A small inline SVG map of ``frame`` (working CRS) filled with ``colors``; '' when empty."""
    if frame is None or not len(frame):
        return ""
    geoms = np.asarray(frame.geometry.values, dtype=object)
    boxes = [frame.total_bounds] + ([outline.total_bounds] if outline is not None and len(outline) else [])
    b = np.array(boxes)
    x0, y0, x1, y1 = b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()
    scale = min((width - 8) / max(x1 - x0, 1.0), (height - 8) / max(y1 - y0, 1.0))
    pad_x = (width - (x1 - x0) * scale) / 2  # centred
    stroke = "0.3" if len(frame) <= 300 else "0"

    def paths(arr: np.ndarray, closed: bool = True) -> list[str]:
        """SVG path data per geometry (vectorised geometry work; one string join per ring,
        or per line when not ``closed``)."""
        arr = shapely.simplify(arr, 1.0 / scale)
        parts, part_of = shapely.get_parts(arr, return_index=True)
        if closed:
            rings, ring_of = shapely.get_rings(parts, return_index=True)
        else:
            rings, ring_of = parts, np.arange(len(parts))
        xy, coord_of = shapely.get_coordinates(rings, return_index=True)
        px = np.round(pad_x + (xy[:, 0] - x0) * scale, 1)
        py = np.round(height - 4 - (xy[:, 1] - y0) * scale, 1)
        text = np.char.add(np.char.add(px.astype(str), " "), py.astype(str))
        cuts = np.flatnonzero(np.diff(coord_of)) + 1
        end = "Z" if closed else ""
        ring_text = ["M" + "L".join(chunk) + end for chunk in np.split(text, cuts)] if len(text) else []
        owner = part_of[ring_of[np.unique(coord_of)]] if len(text) else np.array([], int)
        out = [""] * len(arr)
        for k, t in zip(owner, ring_text):
            out[k] += t
        return out

    out = [(f'<svg class="thumb" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
            f'aria-label="{html.escape(label)}"><rect width="{width}" height="{height}" fill="#f2f1ec"/>')]
    if outline is not None and len(outline):
        # every edge once, as the maps draw the districts: a shared edge drawn twice with its
        # dashes out of step looks solid
        lines = styles.outline_lines(np.asarray(outline.geometry.values, dtype=object))
        d = "".join(paths(np.array([lines], dtype=object), closed=False))
        out.append(f'<path d="{d}" fill="none" stroke="#888" stroke-width="0.8" stroke-dasharray="3 2"/>')
    for d, col in zip(paths(geoms), colors):
        if d:
            out.append(f'<path d="{d}" fill="{html.escape(col)}" stroke="#333" stroke-width="{stroke}"/>')
    out.append("</svg>")
    return "".join(out)


def thumbnails(results: dict[str, AnalysisResult], study: Study) -> dict[str, str]:
    """One thumbnail per map, coloured as the map opens."""
    out: dict[str, str] = {}
    d = study.districts
    bal = results.get("balance")
    if bal is not None:
        wp = bal.tables.get("balance_workplaces")
        if isinstance(wp, gpd.GeoDataFrame) and len(wp):
            cols = [styles.BALANCE_CLASS_COLORS.get(c, "#cccccc") for c in wp.get("balance_class", [None] * len(wp))]
            out["balance"] = thumbnail_svg(wp, cols, d)
    col = results.get("collaboration")
    if col is not None:
        z = col.tables.get("collaboration_zones")
        if isinstance(z, gpd.GeoDataFrame) and len(z) and "chain" in z:
            cc = styles.chain_colors(z["chain"])
            out["collaboration"] = thumbnail_svg(z, [cc.get(str(c), "#cccccc") for c in z["chain"]], d)
    cp = results.get("core_periphery")
    if cp is not None:
        z = cp.tables.get("core_periphery_zones")
        if isinstance(z, gpd.GeoDataFrame) and len(z) and "role" in z:
            cores = z[z["role"] == "core"].sort_values("score", ascending=False)["zone_id"].astype(str).tolist()
            pc = {c: (styles.POLE_COLORS[i] if i < len(styles.POLE_COLORS) else styles.OTHER_POLE_COLOR)
                  for i, c in enumerate(cores)}
            key = np.where(z["role"] == "core", z["zone_id"].astype(str), z.get("core_id", z["zone_id"]).astype(str))
            iso = (z["strategy"] == "isolated").to_numpy() if "strategy" in z else np.zeros(len(z), bool)
            out["core_periphery"] = thumbnail_svg(
                z, [styles.STRATEGY_COLORS["isolated"] if i else pc.get(k, "#cccccc") for k, i in zip(key, iso)], d)
    return out


# ---------------------------------------------------------------------------
# warnings in Chinese (the messages the analyses and the sample produce most)

_WARNINGS_ZH: list[tuple[re.Pattern, str]] = [
    (re.compile(r"^core_periphery: indicator '(\w+)' missing in (\d+) of (\d+) zones; missing values count as the minimum$"),
     "中心—外围：{2} 个功能区中有 {1} 个缺少指标“{0}”，按最小值计"),
    (re.compile(r"^collaboration: (\d+) of (\d+) zones have no output; their jobs are used as mass in pair strength.*$"),
     "跨区协同：{1} 个功能区中有 {0} 个缺少产值，协同强度改用其就业岗位作规模（单位不一致，建议补齐产值）"),
    (re.compile(r"^collaboration: chain\(s\) (.+) lie in a single district; they have no cross-district partners$"),
     "跨区协同：产业链 {0} 只分布在一个行政区内，没有跨区协同伙伴"),
    (re.compile(r"^collaboration: no innovation district lists chain\(s\) (.+) in its chains field; nearest_innov_id is empty for their zones$"),
     "跨区协同：没有创新街区服务产业链 {0}，这些功能区无最近创新街区"),
    (re.compile(r"^balance: (\d+) workplaces lie in no district of the .*$"),
     "职住平衡：{0} 个就业地不在任何行政区内"),
]

_INDICATORS_ZH = {"output": "产值", "jobs": "就业岗位", "firms": "企业数", "leader_firms": "链主企业数",
                  "rd_platforms": "研发平台数"}


def localise_warning(text: str, lang: str) -> tuple[str, bool]:
    """(text, translated): a known warning in Chinese on ``zh`` pages, else the original."""
    if lang != "zh":
        return text, True
    for pattern, template in _WARNINGS_ZH:
        m = pattern.match(text.strip())
        if m:
            groups = [_INDICATORS_ZH.get(g, g) for g in m.groups()]
            return template.format(*groups), True
    return text, False


def nice_ratio(value: float | None) -> str:
    return "—" if value is None or not math.isfinite(value) else f"{value:.2f}"
