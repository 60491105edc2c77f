"""Filtered views of one GeoPackage table, so that a theme draws what its web page draws.

Two web pages open on part of a table:

* ``collaboration.html`` draws the recommended pairs; the other candidate pairs are a
  layer of their own, switched off;
* ``commuting.html`` draws the ``commuting.top_flows`` strongest flows between districts.

The project gets the same: the table's project layer keeps its id and shows the part the
page shows (a provider subset, QGIS: Layer Properties → Source → Query Builder), and a
second layer of the same table, switched off and outside every theme, shows the rest
(the other candidate pairs) or all of it (every flow). The GeoPackage is not changed:
the tables stay whole and the styles stored beside them are those of the whole table.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from geo._types import AnalysisResult
from geo.qgis._project import ProjectLayer

#: SQL (the GeoPackage's SQLite) of the pairs the collaboration page draws at start, and of the others.
RECOMMENDED = '"recommended" = 1'
NOT_RECOMMENDED = 'coalesce("recommended", 0) = 0'

_WORDS = {
    "zh": {"recommended": "推荐协同对", "other": "其他候选协同对",
           "top": "（前 {n} 条）", "all": "（全部 {n} 条）"},
    "en": {"recommended": "Recommended pairs", "other": "Other candidate pairs",
           "top": " (top {n})", "all": " (all {n})"},
}


def top_flows_subset(n: int) -> str:
    """SQL of the ``n`` strongest flows (``rank`` 1..n, as the web page's ``head(n)`` by rank)."""
    return f'"rank" <= {int(n)}'


def split_views(layers: list[ProjectLayer], results: dict[str, AnalysisResult], top_flows: int,
                language: str) -> list[ProjectLayer]:
    """``layers`` with the collaboration pairs and the commuting flows split as the web pages
    show them (see the module docstring); a view that would be empty is left out."""
    words = _WORDS["zh" if language == "zh" else "en"]
    out: list[ProjectLayer] = []
    for layer in layers:
        if layer.view:
            out.append(layer)
            continue
        if layer.name == "collaboration_pairs":
            out.extend(_pair_views(layer, _table(results, "collaboration", layer.name), words))
        elif layer.name == "commuting_flows":
            out.extend(_flow_views(layer, _table(results, "commuting", layer.name), top_flows, words))
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


def _flow_views(layer: ProjectLayer, frame: pd.DataFrame | None, top: int, words: dict) -> list[ProjectLayer]:
    if frame is None or "rank" not in frame or len(frame) <= top:
        return [layer]
    shown = replace(layer, title=layer.title + words["top"].format(n=top), subset=top_flows_subset(top))
    every = replace(layer, title=layer.title + words["all"].format(n=len(frame)), view="all", visible=False)
    return [shown, every]
