"""Checks and derived fields of the optional ``firms`` layer (points of chain firms).

* ``tier`` is normalised to leader / key / sme (链主 / 骨干 / 中小 and a few spellings
  accepted); unknown tiers are an **error** listing the accepted values (a leader
  drives ``leader_coverage`` and ``leader_firms``, so guessing would be silently wrong).
* ``zone_id``: the zone containing the firm (boundary included; the lowest zone_id
  when several overlap), missing when none.
* ``district_id``: the district containing the firm (lowest district_id when several);
  without a districts layer, the district of the firm's zone. Firms outside every
  district are a **warning** (they stay in the chain analysis, without a district).
* A chain named in firms that no zone has is a **warning** naming the chains: those
  firms still count in ``leader_firms`` but the chain has no zone to complete.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from geo import schema as sch
from geo.layers._report import _Layer, _list, _Report

_TIER_LABELS = {
    "leader": "leader", "chain leader": "leader", "chain-leader": "leader", "链主": "leader",
    "链主企业": "leader", "龙头": "leader", "龙头企业": "leader",
    "key": "key", "backbone": "key", "骨干": "key", "骨干企业": "key",
    "sme": "sme", "small": "sme", "small and medium": "sme", "中小": "sme", "中小企业": "sme",
}


def _containing(points: np.ndarray, polygons: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Id of the polygon containing each point (boundary included; lowest id when several),
    ``None`` where none (one bulk STRtree query)."""
    out = np.full(len(points), None, dtype=object)
    if len(points) == 0 or len(polygons) == 0:
        return out
    pi, gi = shapely.STRtree(polygons).query(points, predicate="intersects")
    if len(pi) == 0:
        return out
    hit_ids = ids[gi].astype(str)
    order = np.lexsort((hit_ids, pi))       # per point: lowest id first
    pi, hit_ids = pi[order], hit_ids[order]
    first = np.ones(len(pi), bool)
    first[1:] = pi[1:] != pi[:-1]
    out[pi[first]] = hit_ids[first]
    return out


def _check_firms(firms: _Layer, zones: _Layer | None, districts: _Layer | None,
                 report: _Report) -> None:
    """Normalise ``tier``, derive ``zone_id`` / ``district_id``, warn about stray firms."""
    ctx, frame = firms.ctx, firms.frame
    aliases = firms.source.aliases
    tier_text = frame["tier"].astype("str")
    tiers = tier_text.str.strip().str.lower().map(_TIER_LABELS)
    unknown = (frame["tier"].notna() & tiers.isna()).to_numpy()
    if unknown.any():
        report.error(f"{ctx.at('tier', aliases.get('tier'))} unknown tiers "
                     f"{_list(tier_text[unknown].unique()[:6])} in {firms.rows_text(unknown)}; "
                     f"allowed: {', '.join(sch.TIERS)} (or 链主, 骨干, 中小)")
    frame["tier"] = pd.Series(tiers.to_numpy(dtype=object), dtype="str")
    if not firms.geometry_ok:
        return
    points = frame.geometry.values.to_numpy()
    zone_ok = zones is not None and zones.geometry_ok
    if zone_ok:
        zone_of = _containing(points, zones.frame.geometry.values.to_numpy(),
                              zones.frame["zone_id"].to_numpy(dtype=object))
    else:
        zone_of = np.full(len(frame), None, dtype=object)
    frame["zone_id"] = pd.Series(zone_of, dtype="str")
    if districts is not None and districts.geometry_ok:
        district_of = _containing(points, districts.frame.geometry.values.to_numpy(),
                                  districts.frame["district_id"].to_numpy(dtype=object))
        outside = pd.isna(district_of)
        if outside.any():
            report.warn(f"{ctx.at()} {int(outside.sum())} firms lie outside every district "
                        f"({firms.rows_text(outside)}); they are kept without a district "
                        "(check their location and the districts layer)")
    elif zone_ok:
        by_zone = dict(zip(zones.frame["zone_id"], zones.frame["district_id"]))
        district_of = np.array([by_zone.get(z) if z is not None else None for z in zone_of], dtype=object)
    else:
        district_of = np.full(len(frame), None, dtype=object)
    frame["district_id"] = pd.Series(district_of, dtype="str")
    if zones is not None:
        known = set(zones.frame["chain"].dropna())
        stray = frame["chain"].notna().to_numpy() & ~frame["chain"].isin(known).to_numpy()
        if stray.any():
            names = pd.unique(frame["chain"][stray])
            report.warn(f"{ctx.at('chain', aliases.get('chain'))} chains that no zone has: "
                        f"{_list(names, 10)} ({int(stray.sum())} firms, {firms.rows_text(stray)}); "
                        "they count in leader_firms but their chain has no zone to complete")
