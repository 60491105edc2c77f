"""Briefing conventions shared by the maps and the atlas page.

Labels (placed in the browser by the label layer of :mod:`geo.webmap._briefing_js`),
the north arrow, the footer (data source, producer, date, coordinate system and the
basemap's approval number 审图号), study names and dates in the study language.

Dates are shown in the study's local time: ``Asia/Shanghai`` (北京时间) for ``zh``
studies, UTC for ``en`` studies. ``SOURCE_DATE_EPOCH`` (seconds), when set, fixes the
date printed on the maps (reproducible builds).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.i18n import study_display_name  # noqa: F401 - re-exported for the map modules
from geo.webmap._assets import json_for_script
from geo.webmap._controls import _Call

#: Time zone of the dates shown for each study language.
LOCAL_TZ = {"zh": "Asia/Shanghai", "en": "UTC"}

def local_time(value: str | datetime | None, lang: str, *, with_time: bool = True) -> str:
    """An ISO timestamp as local date (and time) text in the study language.

    Examples
    --------
    >>> local_time("2026-12-02T04:37:43+00:00", "zh")
    '2026年12月2日 12:37（北京时间）'
    >>> local_time("2026-12-02T04:37:43+00:00", "en")
    '2 Dec 2026 04:37 UTC'
    """
    if not value:
        return ""
    try:
        t = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    t = t.astimezone(ZoneInfo(LOCAL_TZ.get(lang, "UTC")))
    if lang == "zh":
        day = f"{t.year}年{t.month}月{t.day}日"
        return f"{day} {t:%H:%M}（北京时间）" if with_time else day
    day = f"{t.day} {t:%b %Y}"
    return f"{day} {t:%H:%M} UTC" if with_time else day


def map_date() -> datetime:
    """Now, or ``SOURCE_DATE_EPOCH`` when set."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        return datetime.fromtimestamp(int(epoch), tz=timezone.utc)
    return datetime.now(timezone.utc)


def crs_text(crs: Any, lang: str, *, gcj02: bool = False) -> str:
    """The coordinate systems of a map: analysis CRS and display CRS."""
    code = None
    try:
        epsg = crs.to_epsg()
        code = f"EPSG:{epsg}" if epsg else None
    except (AttributeError, ValueError, TypeError):  # pragma: no cover - odd CRS objects
        code = None
    geo_name = "CGCS2000" if "CGCS2000" in str(getattr(crs, "name", "")) else None
    analysis = " ".join(x for x in (geo_name, code) if x) or ("自定义投影" if lang == "zh" else "custom projection")
    shown = "GCJ-02" if gcj02 else "WGS 84 / EPSG:4326"
    if lang == "zh":
        return f"坐标系：分析 {analysis}，显示 {shown}"
    return f"Coordinates: analysis {analysis}, display {shown}"


def footer(ctx: Any) -> dict[str, str | None]:
    """Footer text and (with a tile basemap) the approval number line."""
    from geo import __version__

    zh = ctx.lang == "zh"
    name = study_display_name(ctx.settings.study.name, ctx.lang)
    date = local_time(map_date(), ctx.lang, with_time=False)
    parts = [f"数据：{name}" if zh else f"Data: {name}",
             f"制图：zoneatlas {__version__}" if zh else f"Made with zoneatlas {__version__}",
             date, crs_text(ctx.study.crs, ctx.lang, gcj02=ctx.basemap.gcj02)]
    approval = None
    if ctx.basemap.tiles:
        number = getattr(ctx.settings.map, "approval_number", None)
        if zh:
            approval = f"审图号：{number}" if number else "审图号：未填写（配置 map.approval_number）"
        else:
            approval = f"Map approval no.: {number}" if number else "Map approval no.: not set (map.approval_number)"
    return {"text": " · ".join(parts), "approval": approval}


def label_points(ctx: Any, frame: gpd.GeoDataFrame) -> np.ndarray:
    """``(n, 2)`` array of lat, lng of a point inside each feature (display CRS)."""
    if frame is None or not len(frame):
        return np.empty((0, 2))
    pts = shapely.point_on_surface(np.asarray(frame.geometry.values, dtype=object))
    pts = ctx.display.geometries(pts, 0)
    return np.column_stack([shapely.get_y(pts), shapely.get_x(pts)])


def label_items(ctx: Any, frame: gpd.GeoDataFrame, texts: Sequence[Any], priority: Sequence[float],
                layers: Sequence[str | None] | None = None) -> list[list]:
    """Label items ``[lat, lng, text, priority, layer]`` (missing texts left out)."""
    pts = label_points(ctx, frame)
    layers = list(layers) if layers is not None else [None] * len(pts)
    out = []
    for (lat, lng), text, prio, layer in zip(pts, texts, priority, layers):
        if text is None or (isinstance(text, float) and not np.isfinite(text)) or not np.isfinite(lat):
            continue
        out.append([round(float(lat), 6), round(float(lng), 6), str(text), float(prio), layer])
    return out


def district_labels(ctx: Any) -> dict | None:
    """District names at a point inside each district (lowest priority)."""
    d = ctx.study.districts
    if d is None or not len(d) or "name" not in d:
        return None
    return {"id": "districts", "layer": "districts", "kind": "district",
            "items": label_items(ctx, d, d["name"].tolist(), [1.0] * len(d))}


_DIRECTIONS = {"zh": ("东", "东北", "北", "西北", "西", "西南", "南", "东南"),
               "en": ("east", "north-east", "north", "north-west", "west", "south-west", "south", "south-east")}
_NUMBER_SUFFIX = re.compile(r"\s*[（(]\d+[）)]$")


def display_names(zones: gpd.GeoDataFrame, districts: gpd.GeoDataFrame | None, lang: str, *,
                  short: bool = False) -> pd.Series:
    """Zone names that tell duplicates apart in words, not by a bare "（4）".

    Zones whose name (without a trailing "（n）" counter) occurs more than once get
    their position inside their district in words — "…（示例X区东北部）" — and, if that
    is still ambiguous, their zone id. ``short`` (map labels, which sit on the feature
    next to the district's own label): only the position — "…（东北部）".
    """
    names = zones["name"].astype(object).where(zones["name"].notna(), None) if "name" in zones \
        else pd.Series([None] * len(zones), index=zones.index)
    base = names.map(lambda v: _NUMBER_SUFFIX.sub("", str(v)) if v is not None else None)
    # duplicates within one kind of feature (a zone and an innovation district may share a name)
    kind = zones["kind"].astype(str) if "kind" in zones else pd.Series("", index=zones.index)
    dup = pd.DataFrame({"b": base, "k": kind}).duplicated(keep=False) & base.notna()
    if not dup.any():
        return names
    out = names.copy()
    sub = zones[dup.to_numpy()]
    centre = shapely.centroid(np.asarray(sub.geometry.values, dtype=object))
    did = sub["district_id"] if "district_id" in sub else pd.Series([None] * len(sub), index=sub.index)
    dnames: dict = {}
    ref_x = pd.Series(np.nan, index=sub.index)
    ref_y = pd.Series(np.nan, index=sub.index)
    if districts is not None and len(districts) and "district_id" in districts and "district_id" in sub:
        dnames = dict(zip(districts["district_id"], districts.get("name", districts["district_id"])))
        dc = shapely.centroid(np.asarray(districts.geometry.values, dtype=object))
        ref_x = did.map(dict(zip(districts["district_id"], shapely.get_x(dc))))
        ref_y = did.map(dict(zip(districts["district_id"], shapely.get_y(dc))))
    words = np.array(_DIRECTIONS["zh" if lang == "zh" else "en"], dtype=object)
    dx = shapely.get_x(centre) - ref_x.to_numpy(float)
    dy = shapely.get_y(centre) - ref_y.to_numpy(float)
    sector = (((np.degrees(np.arctan2(dy, dx)) + 22.5) % 360) // 45).astype(float)
    word = np.where(np.isfinite(sector), words[np.nan_to_num(sector).astype(int) % 8], "")
    word = np.where(np.abs(dx) + np.abs(dy) < 1e-6, "中" if lang == "zh" else "centre", word)
    if lang == "zh":
        word = np.where(word != "", word + "部", word)
    dname = did.map(dnames).fillna("").astype(str).to_numpy()
    if short:
        labels = [w or d for w, d in zip(word, dname)]
    elif lang == "zh":
        labels = [d + w for d, w in zip(dname, word)]
    else:
        labels = [f"{d}, {w}" if d and w else (d or w) for d, w in zip(dname, word)]
    labels_s = pd.Series(labels, index=sub.index)
    new = base[dup] + (("（" + labels_s + "）") if lang == "zh" else (" (" + labels_s + ")"))
    still = pd.DataFrame({"n": new, "k": kind[dup]}).duplicated(keep=False)
    id_col = next((c for c in ("zone_id", "workplace_id", "innov_id") if c in sub), None)
    if still.any() and id_col and not short:
        ids = sub[id_col].astype(str)
        new[still] = (new[still].str[:-1] + (" " + ids[still] + ("）" if lang == "zh" else ")")))
    out[dup] = new
    return out


class Briefing(_Call):
    """North arrow, footer and label sets (``zoneatlas.briefing``)."""

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        self._name = "Briefing"
        self.config = config

    def script(self, map_var: str) -> str:
        return f"zoneatlas.briefing({json_for_script(self.config)});"


class ChainFilter(_Call):
    """A select control: all chains, or one chain (its zones and pairs)."""

    def __init__(self, layers: dict[str, str], label: str, all_text: str) -> None:
        super().__init__()
        self._name = "ChainFilter"
        self.spec = {"layers": layers, "label": label, "all": all_text}

    def script(self, map_var: str) -> str:
        return f"new zoneatlas.ChainFilter({json_for_script(self.spec)}).addTo({map_var});"
