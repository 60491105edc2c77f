"""QML styles of the commuting layers (group "commuting"), matching commuting.html:
flows between districts with widths by commuters, workplaces by the share of commuters
within 5 km, districts by self-containment, shed cells as points sized by commuters."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import replace
from itertools import pairwise

import numpy as np
import pandas as pd

from geo import styles
from geo.i18n import label
from geo.styles import px_to_mm
from geo.qgis._qml import (
    Category,
    LayerStyle,
    Range,
    Rule,
    Symbol,
    categorized_renderer,
    category_rules,
    fill_symbol,
    finite,
    graduated_renderer,
    line_symbol,
    marker_symbol,
    missing_fill,
    missing_rule,
    range_rules,
    rule_renderer,
    with_data_defined,
)

#: Layers styled here (the rest fall back to the general rules of ``_styles``).
COMMUTING_LAYERS = ("commuting_flows", "commuting_workplaces", "commuting_districts", "commuting_sheds")

#: Fields measuring ``commute_m`` (straight line, or with roads the fastest route's length).
LENGTH_FIELDS = ("mean_commute_m", "share_within_5km")
#: Layers whose title names that length: their map and attribute table show it first.
LENGTH_TITLED = ("commuting_workplaces", "commuting_flows")
#: The abstract (layer metadata) of the commuting layers holding a length field.
LENGTH_ABSTRACT = {
    ("network", "zh"): "通勤距离口径：路网。mean_commute_m（平均通勤距离）与 share_within_5km（5 公里以内通勤比重）"
                       "按居住端到就业地的最快道路路径长度计算（接入段 + 路网 + 离开段）；没有道路通行时间的通勤流"
                       "仍按直线距离。见 commuting_summary 的 commute_m_kind（network）。",
    ("network", "en"): "Commute length: road network. mean_commute_m and share_within_5km measure the length of "
                       "the fastest road route from the home end to the workplace (access leg + network + egress "
                       "leg); flows without a travel time keep the straight line. See commute_m_kind (network) "
                       "in commuting_summary.",
    ("straight", "zh"): "通勤距离口径：直线。mean_commute_m（平均通勤距离）与 share_within_5km（5 公里以内通勤比重）"
                        "按居住端到就业端的直线距离计算（未提供道路图层）。见 commuting_summary 的 "
                        "commute_m_kind（straight）。",
    ("straight", "en"): "Commute length: straight line. mean_commute_m and share_within_5km measure the straight "
                        "line from the home end to the work end (no roads given). See commute_m_kind (straight) "
                        "in commuting_summary.",
}


def _with_kind(alias: str, word: str, zh: bool) -> str:
    """``平均通勤距离（米）`` → ``平均通勤距离（路网，米）``; ``Share within 5 km`` →
    ``Share within 5 km (road network)``."""
    if zh:
        return alias[:-len("（米）")] + f"（{word}，米）" if alias.endswith("（米）") else alias + f"（{word}）"
    return alias[:-len(" (m)")] + f" ({word}, m)" if alias.endswith(" (m)") else alias + f" ({word})"


def mark_commute_length(layers: Sequence, kind: str | None, language: str) -> None:
    """Say in the package which length the commuting layers' metre fields measure
    (``commuting_summary.commute_m_kind``: ``network`` or ``straight``), in place on the
    project layers (:class:`geo.qgis._project.ProjectLayer`) of the commuting group:
    the aliases of ``mean_commute_m`` and ``share_within_5km`` name it, the titles of
    :data:`LENGTH_TITLED` end in "（路网距离）" / " (road network)" (or straight line),
    each such layer's abstract explains it, and ``commute_m_kind`` shows its label."""
    kind = "network" if kind == "network" else "straight"
    zh = language == "zh"
    word = label(f"commute_m_{kind}", language)
    lang = "zh" if zh else "en"
    for layer in layers:
        if not layer.name.startswith("commuting_"):
            continue
        for style in layer.styles:
            if "commute_m_kind" in style.fields:
                style.value_maps = {**style.value_maps, "commute_m_kind": {
                    k: label(f"commute_m_{k}", language) for k in ("network", "straight")}}
        present = [f for f in LENGTH_FIELDS if any(f in style.fields for style in layer.styles)]
        if not present:
            continue
        for style in layer.styles:
            style.aliases = {**style.aliases, **{f: _with_kind(style.aliases.get(f, label(f, language)), word, zh)
                                                 for f in present}}
        layer.abstract = LENGTH_ABSTRACT[kind, lang]
        if layer.name in LENGTH_TITLED:
            old = layer.title
            layer.title += f"（{word}距离）" if zh else f" ({word})"
            for style in layer.styles:
                if style.description == old:
                    style.description = layer.title


def flow_renderer(commuters, language: str) -> ET.Element:
    """The renderer of flows ``commuters`` (the ones a layer draws) as commuting.html draws and
    labels them: line widths by class of the largest flow (:func:`geo.styles.flow_width_index`),
    one range per class the flows fall in, widest first, labelled as the web legend ("fewest –
    most" commuters of its flows, :func:`geo.styles.flow_legend`). Widest first also puts a flow
    on a class edge in the wider class, as the web map does (QGIS takes the first range)."""
    values = finite(commuters)
    top = max(values) if values else 1.0
    edges = [0.0, *(top * step for step in styles.FLOW_WIDTH_STEPS), max(top, 1.0)]
    # each flow beside its reverse, to the right of travel, as the web map bends them apart
    ranges = [Range(edges[k], edges[k + 1], text, line_symbol(styles.FLOW_COLOR, px_to_mm(w), alpha=0.75,
                                                                 offset_mm=px_to_mm(w / 2 + 1.5)))
              for k, text in styles.flow_legend(values, language) for w in [styles.LINE_WIDTHS[k]]]
    return graduated_renderer("commuters", ranges, method="GraduatedSize")


#: The workplaces that are innovation districts (``kind`` of a workplace layer).
INNOVATION_FILTER = "\"kind\" = 'innovation_district'"
#: Their outline on the workplace maps (balance.html, commuting.html), web pixels.
INNOVATION_OUTLINE_PX = 2.5


def workplace_renderer(frame: pd.DataFrame, field_name: str, classes: Sequence[Category] | Sequence[Range],
                       language: str, *, missing: Symbol | None = None) -> ET.Element:
    """The renderer of a workplace layer (``kind``: zone or innovation district) as the web maps
    draw and explain it: the classes of ``field_name`` (categories or ranges, their symbols
    outlined as zones); ranges with ``missing``: the features without a value in that symbol
    (the web maps' grey; a rule labelled :data:`NO_DATA_LABEL`, only when some lack one); when
    there are innovation districts, a rule drawing their outline in their colour over their
    class's fill, a legend row of its own as on the web legends and the print figures. Without
    either the classes' own renderer (also for a layer without ``kind``, e.g. districts)."""
    # ranges (none when no feature has a value) or categories
    graduated = isinstance(classes[0], Range) if classes else missing is not None
    grey = missing is not None and graduated and bool(pd.to_numeric(frame[field_name], errors="coerce").isna().any())
    kinds = frame["kind"].astype(str) if "kind" in frame else pd.Series([], dtype=str)
    innovation = bool((kinds == "innovation_district").any())
    if not innovation and not grey:
        return graduated_renderer(field_name, classes) if graduated else categorized_renderer(field_name, classes)
    if innovation:   # the classes leave the innovation districts' outline to their rule: it is drawn once
        no_outline = {"outlineStyle": f"CASE WHEN {INNOVATION_FILTER} THEN 'no' ELSE 'solid' END"}
        classes = [replace(c, symbol=with_data_defined(c.symbol, no_outline)) for c in classes]
        missing = with_data_defined(missing, no_outline) if grey else missing
    rules = range_rules(field_name, classes) if graduated else category_rules(field_name, classes)
    if grey:
        rules.append(missing_rule(field_name, missing))
    if not innovation:
        return rule_renderer(rules)
    # outlined wherever a rule draws them: every workplace when missing values are drawn too
    every_value = grey or (not graduated and any(c.value is None for c in classes))
    in_a_class = " OR ".join(f"({r.filter})" for r in rules)
    drawn = INNOVATION_FILTER if every_value else f"{INNOVATION_FILTER} AND ({in_a_class})"
    outline = fill_symbol(None, styles.INNOVATION_COLOR, outline_width_mm=px_to_mm(INNOVATION_OUTLINE_PX))
    return rule_renderer([*rules, Rule(drawn, label("innovation_district", language), outline)])


def share_ranges(values, outline: str, alpha: float, language: str) -> list[Range]:
    """The share classes as commuting.html draws and labels them: :data:`geo.styles.COMMUTE_SHARE_BREAKS`
    closed by the data's minimum and maximum (:func:`geo.styles.class_ranges`), labelled as the
    web legend (:func:`geo.styles.class_range_texts`), outlined 1 px; none without data."""
    arr = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(float)
    bounds = styles.class_ranges(arr, styles.COMMUTE_SHARE_BREAKS)
    texts = styles.class_range_texts(arr, styles.COMMUTE_SHARE_BREAKS, "pct", language)
    return [Range(lo, hi, text, fill_symbol(color, outline, fill_alpha=alpha, outline_width_mm=px_to_mm(1.0)))
            for (lo, hi), text, color in zip(bounds, texts, styles.COMMUTE_SHARE_COLORS)]


def commuting_styles(name: str, frame: pd.DataFrame, style: Callable[..., LayerStyle],
                     language: str) -> list[LayerStyle]:
    """Styles (first = default) of one commuting layer; ``style`` is the caller's factory."""
    if name == "commuting_flows":
        return [style("commuters", flow_renderer(frame["commuters"], language))]
    if name == "commuting_workplaces":
        # as commuting.html: zones outlined 1 px, innovation districts 2.5 px in their colour
        # a workplace without a share (no commuter) grey
        return [style("share_within_5km", workplace_renderer(frame, "share_within_5km", share_ranges(
            frame["share_within_5km"], styles.ZONE_OUTLINE, 0.85, language), language,
            missing=missing_fill(styles.ZONE_OUTLINE, 0.85)))]
    if name == "commuting_districts":
        return [style("self_containment", workplace_renderer(frame, "self_containment", share_ranges(
            frame["self_containment"], styles.DISTRICT_OUTLINE, 0.55, language), language,
            missing=missing_fill(styles.DISTRICT_OUTLINE, 0.55)))]
    # commuting_sheds: point size by commuters (five classes of the largest cell), each the web
    # map's circle (styles.shed_radius_px) at its class's middle, at the print scale
    top = float(np.nanmax(frame["commuters"])) if len(frame) else 1.0
    shares = [0.0, 1 / 16, 1 / 8, 1 / 4, 1 / 2, 1.0]
    edges = [top * s for s in shares[:-1]] + [max(top, 1.0)]
    sizes = [px_to_mm(2 * float(styles.shed_radius_px((a + b) / 2))) for a, b in pairwise(shares)]
    ranges = [Range(a, b, f"{a:,.0f} – {b:,.0f}", marker_symbol(styles.SHED_COLOR, s, outline=styles.SHED_COLOR,
                                                                 outline_width_mm=px_to_mm(1.0)))
              for (a, b), s in zip(pairwise(edges), sizes)]
    return [style("commuters", graduated_renderer("commuters", ranges, method="GraduatedSize"))]
