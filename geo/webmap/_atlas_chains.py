"""The chains section of the atlas page: key figures and the chains ranked by completeness."""

from __future__ import annotations

import pandas as pd

from geo._types import AnalysisResult, Study
from geo.i18n import label

TITLE_KEY = "chains_analysis"
DESCRIPTION = {"zh": "产业链各环节（研发、制造、终端、配套）的功能区、链主企业辐射范围、补链清单与区位熵",
               "en": "Zones by chain role, chain-leader firms and their reach, the gap list and location quotients"}
_RANKED = {"zh": "产业链完整度排名", "en": "Chains ranked by completeness"}
_COLUMNS = ["rank", "chain", "zones", "firms", "leaders", "role_coverage", "spatial_completeness",
            "leader_coverage", "completeness", "roles_missing"]


def chains_section(result: AnalysisResult, study: Study, lang: str, *, table, figures) -> dict:
    """Atlas section dict (``table`` and ``figures`` are the atlas page's own helpers)."""
    comp = result.tables.get("chain_completeness")
    tables = []
    if comp is not None and len(comp):
        ranked = pd.DataFrame(comp).sort_values("rank")
        ranked = ranked.assign(roles_missing=[
            "、".join(label(r, lang) for r in str(v).split(";")) if isinstance(v, str) else None
            for v in ranked["roles_missing"]] if lang == "zh" else [
            ", ".join(label(r, lang) for r in str(v).split(";")) if isinstance(v, str) else None
            for v in ranked["roles_missing"]])
        tables.append(table(_RANKED[lang], ranked, _COLUMNS, lang, "chains-ranked", source="chain_completeness"))
    summary = {k: v for k, v in result.summary.items()
               if k in ("chains", "firms", "leader_firms_n", "mean_completeness", "complete_chains",
                        "gaps_missing", "gaps_distant", "reach_m", "reach_kind", "reach_min")}
    return {"id": "chains", "title": label(TITLE_KEY, lang), "figures": figures(summary, lang),
            "tables": [x for x in tables if x]}
