"""The commuting section of the atlas page: key figures beside the national reference
figures, districts by self-containment and the largest flows between districts."""

from __future__ import annotations

import pandas as pd

from geo._types import AnalysisResult, Study
from geo.i18n import label

TITLE_KEY = "commuting"
DESCRIPTION = {"zh": "实测通勤（手机信令等通勤起讫点数据）：跨区通勤流、就业地通勤来源、本地就业率与过剩通勤，"
                     "并与全国参考值对照",
               "en": "Observed commuting (OD flows): flows between districts, each workplace's commute shed, "
                     "self-containment and excess commuting, beside the national reference figures"}
_DISTRICTS = {"zh": "行政区本地就业率与本地居住率", "en": "Districts: self-containment and job self-sufficiency"}
_FLOWS = {"zh": "最大的跨区通勤流", "en": "Largest flows between districts"}
_INDICATORS = {"zh": "通勤指标与全国参考值", "en": "Commute indicators and national reference figures"}
_HEAD = {"zh": {"indicator": "指标", "value": "本研究", "reference": "全国参考", "status": "性质"},
         "en": {"indicator": "Indicator", "value": "This study", "reference": "National reference",
                "status": "Status"}}


def length_suffix(summary: dict, lang: str) -> str:
    """Which length ``mean_commute_m`` and ``share_within_5km`` measure, as a label suffix:
    "（路网）" / " (road network)" when ``summary["commute_m_kind"]`` is ``network`` (the
    fastest route's length), else "（直线）" / " (straight line)"."""
    kind = "commute_m_network" if summary.get("commute_m_kind") == "network" else "commute_m_straight"
    return f"（{label(kind, lang)}）" if lang == "zh" else f" ({label(kind, lang)})"


def commuting_section(result: AnalysisResult, study: Study, lang: str, *, table, figures) -> dict:
    """Atlas section dict (``table`` and ``figures`` are the atlas page's own helpers)."""
    from geo.webmap.commuting import indicator_rows

    tables = []
    rows = pd.DataFrame(indicator_rows(result.summary, lang))
    # the indicator table's labels of the two lengths (they name road network or straight line)
    lengths = dict(zip(rows["key"], rows["label"]))
    lengths = {key: lengths[key] for key in ("mean_commute_m", "share_within_5km")}
    head = _HEAD[lang]
    shown = rows[["label", "value", "reference", "status"]].rename(
        columns={"label": "indicator", "value": "value"})
    tables.append(table(_INDICATORS[lang], shown, ["indicator", "value", "reference", "status"], lang,
                        "commute-indicators", labels=head))
    d = result.tables.get("commuting_districts")
    if d is not None and len(d):
        d = pd.DataFrame(d.drop(columns="geometry", errors="ignore")).sort_values("self_containment")
        tables.append(table(_DISTRICTS[lang], d, ["name", "resident_commuters", "job_commuters", "internal",
                                                  "self_containment", "job_self_sufficiency"], lang,
                            "commute-districts"))
    f = result.tables.get("commuting_flows")
    if f is not None and len(f):
        names = dict(zip(study.districts["district_id"], study.districts["name"])) if study.districts is not None else {}
        f = pd.DataFrame(f.drop(columns="geometry", errors="ignore")).sort_values("rank").head(10)
        f = f.assign(district_a=[names.get(v, v) for v in f["district_a"]],
                     district_b=[names.get(v, v) for v in f["district_b"]])
        tables.append(table(_FLOWS[lang], f, ["rank", "district_a", "district_b", "commuters", "mean_commute_m"],
                            lang, "commute-flows", labels={"mean_commute_m": lengths["mean_commute_m"]},
                            source="commuting_flows"))
    summary = {k: v for k, v in result.summary.items()
               if k in ("flows", "commuters", "commuters_outside_workplaces", "mean_commute_m", "mean_commute_min",
                        "share_within_5km", "share_within_45min", "share_over_60min", "excess_commuting",
                        "commuting_potential_used")}
    return {"id": "commuting", "title": label(TITLE_KEY, lang), "figures": figures(summary, lang, lengths),
            "tables": [x for x in tables if x]}
