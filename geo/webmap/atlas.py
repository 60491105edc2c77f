"""index.html: the atlas page — study, key figures, links to the maps, gradient chart, provenance.

Rendered with Jinja2 autoescaping (every value is escaped); the density-gradient chart
is inline SVG generated here. The page is self-contained and has no script.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from jinja2 import Environment
from markupsafe import Markup

from geo._types import AnalysisResult, Study
from geo.i18n import fmt_number, label
from geo.settings import Settings
from geo.webmap._base import field_format

TEXT = {
    "zh": {"atlas": "分析图集", "maps": "交互地图", "open": "打开地图", "key": "关键指标",
           "provenance": "数据来源与运行记录", "started": "运行开始", "finished": "运行结束", "version": "zoneatlas 版本",
           "inputs": "输入文件", "path": "路径", "bytes": "字节", "versions": "软件版本", "package": "软件包",
           "parameters": "运行参数", "warnings": "警告", "jobs_rich_top": "就业最富余的就业地",
           "housing_rich_top": "居住最富余的就业地", "fragmented": "空间最分散的产业链",
           "top_pairs": "最强推荐协同对", "cores": "极核及其外围承接", "gradient": "距主极核的实力得分梯度",
           "distance_km": "距主极核距离（公里）", "mean_score": "平均得分", "zones_n": "功能区数",
           "none": "无", "counts": "要素数量", "districts_table": "各行政区职住比", "value": "数值",
           "item": "指标", "no_map": "本次运行未包含该分析", "findings": "要点", "methods": "方法说明",
           "package_version": "版本", "show_provenance": "展开数据来源、输入文件与运行参数",
           "other_warnings": "其余警告（英文原文）", "setting": "参数", "local_tz": "北京时间",
           "print_png": "打印图 PNG", "print_pdf": "打印图 PDF", "workbook": "全部表格：Excel 工作簿 tables.xlsx"},
    "en": {"atlas": "Analysis atlas", "maps": "Interactive maps", "open": "Open map", "key": "Key figures",
           "provenance": "Provenance", "started": "Started", "finished": "Finished", "version": "zoneatlas version",
           "inputs": "Input files", "path": "Path", "bytes": "Bytes", "versions": "Software versions",
           "package": "Package", "parameters": "Parameters", "warnings": "Warnings",
           "jobs_rich_top": "Most job-rich workplaces", "housing_rich_top": "Most housing-rich workplaces",
           "fragmented": "Most fragmented chains", "top_pairs": "Strongest recommended pairs",
           "cores": "Cores and their periphery", "gradient": "Score gradient around the main core",
           "distance_km": "Distance from the main core (km)", "mean_score": "Mean score", "zones_n": "Zones",
           "none": "none", "counts": "Feature counts", "districts_table": "Jobs–housing ratio by district",
           "value": "Value", "item": "Figure", "no_map": "not part of this run", "findings": "Key findings",
           "methods": "Methods", "package_version": "version", "show_provenance": "Show data sources, input files and parameters",
           "other_warnings": "Other warnings", "setting": "Setting", "local_tz": "UTC",
           "print_png": "Print map PNG", "print_pdf": "Print map PDF", "workbook": "All tables: Excel workbook tables.xlsx"},
}

MAP_DESCRIPTIONS = {
    "zh": {"balance": "就业地职住比、通勤范围、居住密度与行政区职住比",
           "collaboration": "同链跨区功能区的最近协同伙伴与推荐协同对",
           "core_periphery": "增长极核、外围承接关系与实力得分"},
    "en": {"balance": "Workplace jobs–housing ratios, catchments, housing density, district ratios",
           "collaboration": "Nearest cross-district partners in each chain and recommended pairs",
           "core_periphery": "Growth poles, periphery attachment and strength scores"},
}

_PAGE = """<!DOCTYPE html>
<html lang="{{ lang_attr }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ study_name }} — {{ t.atlas }}</title>
<style>
body { font-family: "Noto Sans CJK SC", "Noto Sans SC", "Microsoft YaHei", "PingFang SC", system-ui, sans-serif;
  margin: 0; color: #222; background: #f6f6f3; line-height: 1.45; }
header { background: #23395b; color: #fff; padding: 18px 28px; }
header h1 { margin: 0; font-size: 24px; }
header .sub { opacity: .85; font-size: 14px; }
.badge { display: inline-block; background: #E69F00; color: #000; border-radius: 4px; padding: 1px 8px;
  font-size: 13px; margin-left: 8px; vertical-align: middle; }
main { max-width: 1180px; margin: 0 auto; padding: 16px 24px 40px; }
@media (max-width: 600px) { main { padding: 10px 10px 30px; } header { padding: 12px 14px; } section { padding: 10px 10px; } }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(250px, 100%), 1fr)); gap: 14px; }
.card { background: #fff; border-radius: 8px; padding: 14px 16px; box-shadow: 0 1px 3px rgba(0,0,0,.15); }
.card h3 { margin: 0 0 6px; font-size: 17px; }
.card a.open { display: inline-block; margin-top: 8px; background: #0072B2; color: #fff; padding: 5px 12px;
  border-radius: 5px; text-decoration: none; }
.card.missing { opacity: .55; }
.card a.file { margin: 8px 0 0 10px; font-size: 13px; }
section { background: #fff; border-radius: 8px; padding: 14px 18px; margin-top: 18px; box-shadow: 0 1px 3px rgba(0,0,0,.15); }
section h2 { margin-top: 0; font-size: 19px; }
h3.t { font-size: 15px; margin: 14px 0 4px; }
table { border-collapse: collapse; font-size: 13px; margin-bottom: 6px; }
th, td { border-bottom: 1px solid #e3e3e3; padding: 3px 10px 3px 0; text-align: left; vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.grid2 { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(330px, 100%), 1fr)); gap: 8px 26px; }
code, pre { font-size: 12px; }
pre { background: #f3f3f3; padding: 8px; overflow-x: auto; max-height: 340px; }
.sha { font-family: monospace; font-size: 11.5px; word-break: break-all; }
.findings { background: #fff8e6; border-left: 5px solid #E69F00; }
.findings li { margin: 4px 0; font-size: 15px; }
.methods { font-size: 13.5px; }
.methods dt { font-weight: 600; margin-top: 4px; }
.methods dd { margin: 0 0 4px 0; }
.tw { overflow-x: auto; }
.tw td { white-space: nowrap; }
table.pairs td:last-child { white-space: normal; min-width: 12em; }
table.cores td:first-child, table.pairs td:nth-child(-n+2), table.jobs-rich td:first-child,
table.housing-rich td:first-child, table.fragmented td:first-child, table.districts td:first-child,
table.figures th { white-space: nowrap; }
.card svg.thumb { display: block; width: 100%; height: auto; border-radius: 4px; margin: 6px 0; }
details summary { cursor: pointer; color: #0072B2; }
</style>
</head>
<body>
<header>
<h1>{{ study_name }}{% if synthetic %}<span class="badge">{{ synthetic }}</span>{% endif %}</h1>
<div class="sub">{{ t.atlas }} · zoneatlas {{ version }}{% if finished %} · {{ finished }}{% endif %}</div>
</header>
<main>
{% if findings %}<section class="findings" id="findings"><h2>{{ t.findings }}</h2>
<ul>{% for f in findings %}<li>{{ f }}</li>{% endfor %}</ul></section>{% endif %}
<h2>{{ t.maps }}</h2>
<div class="cards">
{% for card in cards %}
<div class="card{% if not card.href %} missing{% endif %}" id="card-{{ card.name }}">
<h3>{{ card.title }}</h3>
{% if card.thumb %}{% if card.href %}<a href="{{ card.href }}">{{ card.thumb }}</a>{% else %}{{ card.thumb }}{% endif %}{% endif %}
<div>{{ card.description }}</div>
{% if card.href %}<a class="open" href="{{ card.href }}">{{ t.open }} →</a>{% else %}<div><em>{{ t.no_map }}</em></div>{% endif %}
{% for f in card.files %}<a class="file" href="{{ f.href }}">{{ f.text }}</a>{% endfor %}
</div>
{% endfor %}
</div>
{% if methods %}<section class="methods" id="methods"><h2>{{ t.methods }}</h2><dl>
{% for k, v in methods %}<dt>{{ k }}</dt><dd>{{ v }}</dd>{% endfor %}</dl></section>{% endif %}
{% if workbook %}<p class="downloads"><a class="file" href="{{ workbook }}">{{ t.workbook }}</a></p>{% endif %}
{% for s in sections %}
<section id="{{ s.id }}">
<h2>{{ s.title }}</h2>
{% if s.figures %}<h3 class="t">{{ t.key }}</h3>
<table class="figures">{% for k, v in s.figures %}<tr><th>{{ k }}</th><td class="n">{{ v }}</td></tr>{% endfor %}</table>{% endif %}
{% for n in s.notes or [] %}<p class="note">{{ n }}</p>{% endfor %}
<div class="grid2">
{% for tb in s.tables %}
<div class="tw"><h3 class="t">{{ tb.title }}</h3>
<table class="{{ tb.cls }}"><tr>{% for h in tb.header %}<th>{{ h }}</th>{% endfor %}</tr>
{% for row in tb.rows %}<tr>{% for c in row %}<td{% if c.n %} class="n"{% endif %}>{{ c.v }}</td>{% endfor %}</tr>{% endfor %}
</table></div>
{% endfor %}
</div>
{% if s.chart %}<h3 class="t">{{ t.gradient }}</h3>{{ s.chart }}{% endif %}
</section>
{% endfor %}
<section id="provenance">
<h2>{{ t.provenance }}</h2>
<details><summary>{{ t.show_provenance }}</summary>
<table>
<tr><th>{{ t.started }}</th><td>{{ started }}</td></tr>
<tr><th>{{ t.finished }}</th><td>{{ finished }}</td></tr>
<tr><th>{{ t.version }}</th><td>{{ version }}</td></tr>
</table>
{% if inputs %}<h3 class="t">{{ t.inputs }}</h3>
<table class="inputs"><tr><th>{{ t.path }}</th><th>SHA-256</th><th>{{ t.bytes }}</th></tr>
{% for i in inputs %}<tr><td>{{ i.path }}</td><td class="sha">{{ i.sha256 }}</td><td class="n">{{ i.bytes }}</td></tr>{% endfor %}
</table>{% endif %}
{% if counts %}<h3 class="t">{{ t.counts }}</h3>
<table>{% for k, v in counts %}<tr><th>{{ k }}</th><td class="n">{{ v }}</td></tr>{% endfor %}</table>{% endif %}
{% if versions %}<h3 class="t">{{ t.versions }}</h3>
<table class="versions"><tr><th>{{ t.package }}</th><th>{{ t.package_version }}</th></tr>
{% for k, v in versions %}<tr><td>{{ k }}</td><td>{{ v }}</td></tr>{% endfor %}</table>{% endif %}
<h3 class="t">{{ t.parameters }}</h3>
<table class="parameters"><tr><th>{{ t.setting }}</th><th></th><th>{{ t.value }}</th></tr>
{% for k, code, v in parameters %}<tr><td>{{ k }}</td><td><code>{{ code }}</code></td><td>{{ v }}</td></tr>{% endfor %}</table>
</details>
{% if warnings %}<h3 class="t">{{ t.warnings }}</h3><ul class="warnings">{% for w in warnings %}<li>{{ w }}</li>{% endfor %}</ul>{% endif %}
{% if other_warnings %}<details><summary>{{ t.other_warnings }}（{{ other_warnings|length }}）</summary>
<ul class="warnings" lang="en">{% for w in other_warnings %}<li>{{ w }}</li>{% endfor %}</ul></details>{% endif %}
</section>
</main>
</body>
</html>
"""


def _cell(value: Any, fmt: str, lang: str) -> dict:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return {"v": "—", "n": False}
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return {"v": fmt_number(float(value), fmt if fmt != "text" else "num", lang), "n": True}
    if fmt == "cat":
        return {"v": label(str(value), lang), "n": False}
    return {"v": str(value), "n": False}


def _table(title: str, frame: pd.DataFrame | None, columns: Sequence[str], lang: str, cls: str = "",
           labels: dict[str, str] | None = None, *, keep_empty: bool = False,
           source: str | None = None) -> dict | None:
    if frame is None or (not len(frame) and not keep_empty):
        return None
    cols = [c for c in columns if c in frame.columns]
    header = [(labels or {}).get(c) or _strip_m(label(c, lang, source)) for c in cols]
    rows = [[_cell(v, field_format(c), lang) for c, v in zip(cols, rec)]
            for rec in frame[cols].itertuples(index=False, name=None)]
    if not rows:
        rows = [[{"v": TEXT[lang]["none"], "n": False}] + [{"v": "", "n": False}] * (len(cols) - 1)]
    return {"title": title, "header": header, "rows": rows, "cls": cls}


def _strip_m(text: str) -> str:
    for suffix in ("（米）", " (m)"):
        if text.endswith(suffix):
            return text[: -len(suffix)]
    return text


def _names(frame: pd.DataFrame | None, id_col: str) -> dict:
    if frame is None or id_col not in frame or "name" not in frame:
        return {}
    return dict(zip(frame[id_col], frame["name"]))


#: Labels of summary counts whose i18n term names the layer rather than the count.
_FIGURE_LABELS = {
    "zones": ("功能区数", "Zones"), "chains": ("产业链数", "Chains"),
    "innovation_districts": ("创新街区数", "Innovation districts"), "jobs": ("就业岗位总数", "Total jobs"),
    "workers": ("居住就业人口", "Resident workers"),
}


#: Summary entries for run.json only (not planning figures).
_TECHNICAL = {"points_tested_exactly", "min_huff_distance_m", "min_huff_travel_min"}


def _figure_label(key: str, lang: str) -> str:
    if key in _FIGURE_LABELS:
        return _FIGURE_LABELS[key][0 if lang == "zh" else 1]
    return _strip_m(label(key, lang))


def _figures(summary: dict, lang: str, labels: dict[str, str] | None = None) -> list[tuple[str, str]]:
    """Scalar key figures of an analysis summary (nested values are left to the tables)."""
    out = []
    labels = labels or {}
    for key, value in summary.items():
        if isinstance(value, bool) or value is None or key in _TECHNICAL:
            continue
        if isinstance(value, (int, float)):
            out.append((labels.get(key) or _figure_label(key, lang), _cell(value, field_format(key), lang)["v"]))
        elif isinstance(value, str) and len(value) < 60:
            out.append((labels.get(key) or _figure_label(key, lang), label(value, lang)))
    return out


def gradient_svg(gradient: pd.DataFrame | None, lang: str, *, width: int = 640, height: int = 260) -> str:
    """Inline SVG line chart of ``mean_score`` by ring (``ring_from_m``..``ring_to_m``).

    Returns an empty string when there is nothing to draw. All text is escaped.
    """
    t = TEXT[lang]
    if gradient is None or not len(gradient) or "mean_score" not in gradient:
        return ""
    g = gradient.copy()
    g["mid_km"] = (pd.to_numeric(g["ring_from_m"]) + pd.to_numeric(g["ring_to_m"])) / 2000
    g["mean_score"] = pd.to_numeric(g["mean_score"], errors="coerce")
    g = g[np.isfinite(g["mean_score"])]
    if not len(g):
        return ""
    left, right, top, bottom = 56, 16, 14, 44
    pw, ph = width - left - right, height - top - bottom
    xmax = float(pd.to_numeric(gradient["ring_to_m"]).max()) / 1000 or 1.0
    ymax = max(float(g["mean_score"].max()), 1e-9) * 1.1

    def x(v: float) -> float:
        return left + pw * v / xmax

    def y(v: float) -> float:
        return top + ph * (1 - v / ymax)

    parts = [(f'<svg class="gradient-chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
              f'role="img" aria-label="{html.escape(t["gradient"])}">'),
             f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="#fafafa" stroke="#ccc"/>']
    for i in range(5):
        v = ymax * i / 4
        parts.append(f'<line x1="{left}" x2="{left + pw}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#e5e5e5"/>'
                     f'<text x="{left - 6}" y="{y(v) + 4:.1f}" font-size="11" text-anchor="end">{v:.2f}</text>')
    step = max(1, math.ceil(len(gradient) / 8))
    for edge in list(pd.to_numeric(gradient["ring_to_m"]))[::step]:
        xv = edge / 1000
        parts.append(f'<text x="{x(xv):.1f}" y="{top + ph + 15}" font-size="11" text-anchor="middle">{xv:g}</text>')
    pts = " ".join(f"{x(a):.1f},{y(b):.1f}" for a, b in zip(g["mid_km"], g["mean_score"]))
    parts.append(f'<polyline points="{pts}" fill="none" stroke="#D55E00" stroke-width="2.5"/>')
    for a, b, n in zip(g["mid_km"], g["mean_score"], g.get("zones", pd.Series([None] * len(g)))):
        tip = f"{a:g} km: {b:.3f} ({n} {t['zones_n']})" if n is not None else f"{a:g} km: {b:.3f}"
        parts.append(f'<circle cx="{x(a):.1f}" cy="{y(b):.1f}" r="3.5" fill="#D55E00">'
                     f'<title>{html.escape(tip)}</title></circle>')
    parts.append(f'<text x="{left + pw / 2}" y="{height - 8}" font-size="12" text-anchor="middle">'
                 f'{html.escape(t["distance_km"])}</text>')
    parts.append(f'<text x="14" y="{top + ph / 2}" font-size="12" text-anchor="middle" '
                 f'transform="rotate(-90 14 {top + ph / 2})">{html.escape(t["mean_score"])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _balance_section(result: AnalysisResult, study: Study, lang: str) -> dict:
    t = TEXT[lang]
    wp = result.tables.get("balance_workplaces")
    tables = []
    labels = {"district_name": label("districts", lang)}
    notes = []
    if wp is not None and len(wp) and "jhr" in wp:
        names = _names(study.districts, "district_id")
        from geo.webmap._briefing import display_names

        shown = display_names(wp, study.districts, lang).to_numpy() if "name" in wp else None
        wp = pd.DataFrame(wp.drop(columns="geometry", errors="ignore"))
        if shown is not None:
            wp["name"] = shown
        wp["district_name"] = wp.get("district_id", pd.Series(index=wp.index, dtype=object)).map(names)
        # lead with the area measure (jobs and resident workers of the same area)
        key, cls = ("area_jhr", "area_class") if "area_jhr" in wp else ("jhr", "balance_class")
        jobs_col = f"area_jobs_{_radius_name(result.summary.get('radius_m'))}"
        if result.summary.get("reach") == "network":     # the primary measure is in minutes
            jobs_col = f"area_jobs_{_radius_name(result.summary.get('minute'))}min"
        cols = ["name", "kind", "district_name", jobs_col if jobs_col in wp else "jobs", "workers", key]
        if "balance_minute" in wp:
            cols.append("balance_minute")
        if "balance_radius_m" in wp:
            cols.append("balance_radius_m")
        rich = wp[wp.get(cls) == "jobs_rich"].sort_values(key, ascending=False).head(5)
        poor = wp[wp.get(cls) == "housing_rich"].sort_values(key, ascending=True).head(5)
        tables += [_table(t["jobs_rich_top"], rich, cols, lang, "jobs-rich", labels, keep_empty=True),
                   _table(t["housing_rich_top"], poor, cols, lang, "housing-rich", labels, keep_empty=True)]
        if key == "area_jhr":
            notes += [label("note_area_jhr", lang), label("note_jhr", lang)]
            if not result.summary.get("employment_source"):
                notes.append(label("note_no_employment", lang))
        dist = result.summary.get("balance_radius_distribution")
        if dist:
            km = "公里" if lang == "zh" else "km"
            rows = pd.DataFrame({
                "band": [f"{d['from_m'] / 1000:g}–{d['to_m'] / 1000:g} {km}" if d["from_m"] is not None
                         else label("not_reached", lang) for d in dist],
                "workplaces": [d["workplaces"] for d in dist]})
            tables.append(_table(label("balance_radius_m", lang), rows, ["band", "workplaces"], lang,
                                 "balance-radius", {"band": label("balance_radius_m", lang)}))
            notes.append(label("note_balance_radius", lang))
    d = result.tables.get("balance_districts")
    if d is not None and len(d) <= 40:
        tables.append(_table(t["districts_table"], pd.DataFrame(d.drop(columns="geometry", errors="ignore")),
                             ["name", "jobs", "workers", "jhr", "balance_class"], lang, "districts",
                             source="balance_districts"))
    section = {"id": "balance", "title": label("balance", lang), "figures": _figures(result.summary, lang),
               "tables": [x for x in tables if x]}
    if notes:
        section["notes"] = notes
    return section


def _radius_name(radius_m) -> str:
    r = float(radius_m or 0)
    return f"{int(r)}" if r.is_integer() else f"{r:g}"


def _collaboration_section(result: AnalysisResult, study: Study, lang: str) -> dict:
    t = TEXT[lang]
    tables = []
    ch = result.tables.get("collaboration_chains")
    if ch is not None and len(ch):
        ch = pd.DataFrame(ch)
        if "fragmentation_rank" in ch:
            frag = ch.sort_values("fragmentation_rank", na_position="last").head(8)
        else:
            keys = [c for c in ("share_linked", "mean_nearest_partner_m") if c in ch]
            asc = [True, False][: len(keys)]
            frag = ch.sort_values(keys, ascending=asc, na_position="first").head(8) if keys else ch.head(8)
        tables.append(_table(t["fragmented"], frag, ["chain", "zones", "districts", "share_linked",
                                                     "mean_nearest_partner_m", "standard_distance_m"], lang,
                             "fragmented"))
    pairs = result.tables.get("collaboration_pairs")
    if pairs is not None and len(pairs) and "recommended" in pairs:
        from geo.webmap._briefing import display_names

        names = _names(study.zones, "zone_id")
        if study.zones is not None and "name" in study.zones and "zone_id" in study.zones:
            names = dict(zip(study.zones["zone_id"], display_names(study.zones, study.districts, lang)))
        p = pd.DataFrame(pairs.drop(columns="geometry", errors="ignore"))
        p = p[p["recommended"].fillna(False).astype(bool)]
        if "strength" in p:
            p = p.sort_values("strength", ascending=False)
        p = p.head(8).assign(zone_a=lambda f: f["zone_a"].map(names).fillna(f["zone_a"]),
                             zone_b=lambda f: f["zone_b"].map(names).fillna(f["zone_b"]))
        tables.append(_table(t["top_pairs"], p, ["zone_a", "zone_b", "chain", "distance_m", "travel_min",
                                                 "pair_type", "reason"], lang, "pairs"))
    km = f"{float((result.summary.get('parameters') or {}).get('max_distance_m', 30000)) / 1000:g}"
    fig_labels = ({"zones_with_partner_within": f"{km} 公里内有同链跨区伙伴的功能区数",
                   "zones_without_any_partner": "全域内无同链跨区伙伴的功能区数"} if lang == "zh" else
                  {"zones_with_partner_within": f"Zones with a same-chain partner within {km} km",
                   "zones_without_any_partner": "Zones without any same-chain partner (anywhere)"})
    limit = (result.summary.get("parameters") or {}).get("max_travel_min")
    if limit is not None:   # with roads: the figures in minutes name the limit
        fig_labels.update({"zones_with_partner_within_min": f"路网 {limit:g} 分钟内有同链跨区伙伴的功能区数",
                           "pairs_within_travel": f"路网 {limit:g} 分钟内的候选协同对数",
                           "pairs_too_slow": f"路网超过 {limit:g} 分钟（不予推荐）的候选协同对数"} if lang == "zh" else
                          {"zones_with_partner_within_min": f"Zones with a same-chain partner within {limit:g} min by road",
                           "pairs_within_travel": f"Candidate pairs within {limit:g} min by road",
                           "pairs_too_slow": f"Candidate pairs over {limit:g} min by road (not recommended)"})
    return {"id": "collaboration", "title": label("collaboration", lang),
            "figures": _figures(result.summary, lang, fig_labels),
            "tables": [x for x in tables if x]}


def _core_section(result: AnalysisResult, study: Study, lang: str) -> dict:
    t = TEXT[lang]
    tables = []
    z = result.tables.get("core_periphery_zones")
    if z is not None and len(z) and "role" in z:
        from geo.webmap._briefing import display_names

        cores = pd.DataFrame(z.drop(columns="geometry", errors="ignore"))
        if "name" in z:
            cores["name"] = display_names(z, study.districts, lang).to_numpy()
        cores = cores[cores["role"] == "core"].sort_values("score", ascending=False).head(15)
        tables.append(_table(t["cores"], cores, ["name", "chain", "score", "periphery_count"], lang, "cores",
                             {"periphery_count": "外围承接功能区数" if lang == "zh" else "Attached periphery zones"}))
    chart = gradient_svg(result.tables.get("core_periphery_gradient"), lang)
    summary = {k: v for k, v in result.summary.items() if k in ("n_zones", "n_cores", "n_attached", "n_isolated",
                                                                 "primacy", "gini", "rank_size_slope", "method",
                                                                 "attach_by", "median_core_travel_min",
                                                                 "n_without_road_path")}
    from geo.webmap._findings import primacy_top_second

    figures = _figures(summary, lang, {"primacy": "主极核得分占比（第一极核 / 全部极核得分之和）" if lang == "zh"
                                       else "Main pole's share of all pole scores"})
    p2 = primacy_top_second(z)
    if p2 is not None:
        figures.insert(2, ("首位度（第一极核得分 / 第二极核得分）" if lang == "zh" else "Primacy (top pole / second pole)",
                           f"{p2:.2f}"))
    return {"id": "core_periphery", "title": label("core_periphery", lang), "figures": figures,
            "tables": [x for x in tables if x], "chart": Markup(chart) if chart else None}


def _commuting_section(result: AnalysisResult, study: Study, lang: str) -> dict:
    from geo.webmap._atlas_commuting import commuting_section

    return commuting_section(result, study, lang, table=_table, figures=_figures)


def render_atlas(study: Study, results: dict[str, AnalysisResult], settings: Settings, manifest: dict,
                 maps: Sequence[str], folder: Path | None = None) -> str:
    """The atlas page as HTML text (``folder``: where it is written; links the print figures
    and tables.xlsx found there)."""
    from geo.webmap._briefing import local_time, study_display_name
    from geo.webmap._findings import key_findings, localise_warning, methods, thumbnails

    lang = settings.study.language
    t = TEXT[lang]
    from geo.webmap import _atlas_chains

    thumbs = thumbnails(results, study)

    def files(n: str) -> list[dict]:
        found = [(f"figures/{n}.{ext}", t[f"print_{ext}"]) for ext in ("png", "pdf")]
        return [{"href": h, "text": x} for h, x in found if folder is not None and (folder / h).is_file()]

    cards = [{"name": n, "title": label(n, lang), "description": MAP_DESCRIPTIONS[lang][n],
              "href": f"{n}.html" if n in maps else None, "thumb": Markup(thumbs[n]) if n in thumbs else None,
              "files": files(n)}
             for n in ("balance", "collaboration", "core_periphery")]
    if "chains" in results:
        cards.append({"name": "chains", "title": label(_atlas_chains.TITLE_KEY, lang),
                      "description": _atlas_chains.DESCRIPTION[lang],
                      "href": "chains.html" if "chains" in maps else None, "thumb": None, "files": files("chains")})
    if "commuting" in results:
        from geo.webmap import _atlas_commuting

        cards.append({"name": "commuting", "title": label(_atlas_commuting.TITLE_KEY, lang),
                      "description": _atlas_commuting.DESCRIPTION[lang],
                      "href": "commuting.html" if "commuting" in maps else None, "thumb": None,
                      "files": files("commuting")})
    warnings, other_warnings = [], []
    for w in manifest.get("warnings") or []:
        text, ok = localise_warning(str(w), lang)
        (warnings if ok else other_warnings).append(text)
    builders = {"balance": _balance_section, "collaboration": _collaboration_section,
                "core_periphery": _core_section,
                "chains": lambda r, s, lg: _atlas_chains.chains_section(r, s, lg, table=_table, figures=_figures),
                "commuting": _commuting_section}
    sections = [builders[n](results[n], study, lang) for n in builders if n in results]
    counts = manifest.get("counts") or {}
    env = Environment(autoescape=True)
    return env.from_string(_PAGE).render(
        lang_attr="zh-CN" if lang == "zh" else "en", t=t, study_name=study_display_name(settings.study.name, lang),
        findings=key_findings(results, study, settings, lang), methods=methods(settings, lang, list(results)),
        workbook="tables.xlsx" if folder is not None and (folder / "tables.xlsx").is_file() else None,
        synthetic=label("synthetic", lang) if settings.study.synthetic else None,
        version=manifest.get("zoneatlas_version", ""), started=local_time(manifest.get("started"), lang),
        finished=local_time(manifest.get("finished"), lang), cards=cards, sections=sections,
        inputs=manifest.get("inputs") or [],
        counts=[(label(str(k), lang), v) for k, v in counts.items()] if isinstance(counts, dict) else [],
        versions=sorted((manifest.get("versions") or {}).items()),
        warnings=warnings, other_warnings=other_warnings,
        parameters=_parameter_rows(manifest.get("parameters", {}), lang),
    )


def _parameter_rows(params: Any, lang: str, prefix: str = "") -> list[tuple[str, str, str]]:
    """Run parameters as rows (label, config key, value) instead of raw JSON."""
    rows: list[tuple[str, str, str]] = []
    if not isinstance(params, dict):
        return rows
    for key, value in params.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            rows.extend(_parameter_rows(value, lang, path + "."))
            continue
        if isinstance(value, (list, tuple)):
            text = "、".join(map(str, value)) if lang == "zh" else ", ".join(map(str, value))
        elif value is None:
            text = "—"
        elif isinstance(value, bool):
            text = ("是" if value else "否") if lang == "zh" else ("yes" if value else "no")
        else:
            text = str(value)
        name = _strip_m(label(str(key), lang))
        rows.append((name if name != key else "", path, text))
    return rows


def write_atlas(path: Path, study: Study, results: dict[str, AnalysisResult], settings: Settings,
                manifest: dict, *, maps: Sequence[str]) -> Path:
    """Write the atlas page to ``path`` and return it."""
    path = Path(path)
    path.write_text(render_atlas(study, results, settings, manifest, maps, folder=path.parent), encoding="utf-8")
    return path
