"""Filtered views of one GeoPackage table, so that a theme draws what its web page draws.

Three web pages open on part of a table:

* ``collaboration.html`` draws the recommended pairs; the other candidate pairs are a
  layer of their own, switched off;
* ``commuting.html`` draws the ``commuting.top_flows`` strongest flows between districts;
* ``chains.html`` draws one chain (:func:`geo.analysis.chains.initial_chain`): its zones,
  leader firms and their reach, gap candidates and gap points.

The project gets the same: the table's project layer keeps its id and shows the part the
page shows (a provider subset, QGIS: Layer Properties → Source → Query Builder), and a
second layer of the same table, switched off and outside every theme, shows the rest
(the other candidate pairs) or all of it (every flow, every chain). The GeoPackage is not
changed: the tables stay whole and the styles stored beside them are those of the whole
table.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from geo._types import AnalysisResult
from geo.qgis._commuting_styles import flow_renderer
from geo.qgis._project import ProjectLayer

#: SQL (the GeoPackage's SQLite) of the pairs the collaboration page draws at start, and of the others.
RECOMMENDED = '"recommended" = 1'
NOT_RECOMMENDED = 'coalesce("recommended", 0) = 0'

#: The chains page's layers (package names) that show the chain it opens on.
CHAIN_VIEW_LAYERS = ("chain_zones", "leader_firms", "chain_leader_reach", "chain_gap_candidates", "chain_gap_points")

_WORDS = {
    "zh": {"recommended": "推荐协同对", "other": "其他候选协同对",
           "top": "前 {n} 条", "all": "全部 {n} 条", "every_chain": "全部产业链"},
    "en": {"recommended": "Recommended pairs", "other": "Other candidate pairs",
           "top": "top {n}", "all": "all {n}", "every_chain": "all chains"},
}


def _titled(title: str, words: str, zh: bool) -> str:
    """``title`` with ``words`` added inside its closing bracket, or in a new one:
    跨区通勤流（路网距离） → 跨区通勤流（路网距离，前 50 条）."""
    if zh:
        return f"{title[:-1]}，{words}）" if title.endswith("）") else f"{title}（{words}）"
    return f"{title[:-1]}, {words})" if title.endswith(")") else f"{title} ({words})"


def sql_text(value: str) -> str:
    """``value`` as an SQL string literal (single quotes doubled)."""
    return "'" + str(value).replace("'", "''") + "'"


def top_flows_subset(n: int) -> str:
    """SQL of the ``n`` strongest flows (``rank`` 1..n, as the web page's ``head(n)`` by rank)."""
    return f'"rank" <= {int(n)}'


def split_views(layers: list[ProjectLayer], results: dict[str, AnalysisResult], top_flows: int,
                language: str, frames: dict[str, pd.DataFrame] | None = None) -> list[ProjectLayer]:
    """``layers`` with the collaboration pairs, the commuting flows and the chains' layers
    split as the web pages show them (see the module docstring); the second view is left out
    when it would be empty (the shown part stays, empty, when the page shows nothing: no
    recommended pair). ``frames``: the tables of :data:`CHAIN_VIEW_LAYERS` written (some are
    derived for display, not among the results)."""
    from geo.analysis.chains import opening_chain

    zh = language == "zh"
    words = _WORDS["zh" if zh else "en"]
    chain = opening_chain(results.get("chains"))
    out: list[ProjectLayer] = []
    for layer in layers:
        if layer.view:
            out.append(layer)
        elif layer.name == "collaboration_pairs":
            out.extend(_pair_views(layer, _table(results, "collaboration", layer.name), words))
        elif layer.name == "commuting_flows":
            out.extend(_flow_views(layer, _table(results, "commuting", layer.name), top_flows, words, language))
        elif (layer.name in CHAIN_VIEW_LAYERS and chain and (frames or {}).get(layer.name) is not None
              and "chain" in frames[layer.name] and (frames[layer.name]["chain"] != chain).any()):
            out.append(replace(layer, title=_titled(layer.title, chain, zh), subset=f'"chain" = {sql_text(chain)}'))
            out.append(replace(layer, title=_titled(layer.title, words["every_chain"], zh), view="all",
                               visible=False))
        else:
            out.append(layer)
    return out


def _table(results: dict[str, AnalysisResult], analysis: str, name: str) -> pd.DataFrame | None:
    result = results.get(analysis)
    return None if result is None else result.tables.get(name)


def _pair_views(layer: ProjectLayer, frame: pd.DataFrame | None, words: dict) -> list[ProjectLayer]:
    if frame is None or "recommended" not in frame:   # the page draws every pair
        return [layer]
    recommended = frame["recommended"].astype("boolean").fillna(False).astype(bool)
    shown = replace(layer, title=words["recommended"], subset=RECOMMENDED)
    if recommended.all():
        return [shown]
    other = replace(layer, title=words["other"], subset=NOT_RECOMMENDED, view="other", visible=False)
    return [shown, other]


def _flow_views(layer: ProjectLayer, frame: pd.DataFrame | None, top: int, words: dict,
                language: str) -> list[ProjectLayer]:
    zh = language == "zh"
    if frame is None or "rank" not in frame or len(frame) <= top:
        return [layer]
    # its legend labels the classes by the flows it draws (as the web legend); the table's
    # style (the GeoPackage's, the view of every flow) by all flows
    drawn = frame.loc[frame["rank"] <= top, "commuters"]
    restyled = [replace(s, renderer=flow_renderer(drawn, language)) if s.name == "commuters" else s
                for s in layer.styles]
    shown = replace(layer, title=_titled(layer.title, words["top"].format(n=top), zh), subset=top_flows_subset(top),
                    styles=restyled)
    every = replace(layer, title=_titled(layer.title, words["all"].format(n=len(frame)), zh), view="all",
                    visible=False)
    return [shown, every]
