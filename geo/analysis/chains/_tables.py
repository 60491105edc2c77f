"""The chain tables: roles present, completeness, the gap list, leader reach.

All functions are pure: frames in, new frames out. Zones carry the canonical fields
(zone_id, chain, jobs, role, ...); firms (optional) carry firm_id, name, chain, tier,
jobs, role, zone_id, district_id (as :func:`geo.load_study` derives them).
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.analysis.chains._reach import Reach
from geo.i18n import label
from geo.layers import split_chains

#: The specific roles a complete chain has (``mixed`` is present in none of them).
CHAIN_ROLES = ("rd", "manufacturing", "terminal", "supporting")
_CODE = {r: i for i, r in enumerate(CHAIN_ROLES)}
_POPCOUNT = np.array([bin(i).count("1") for i in range(1 << len(CHAIN_ROLES))])
#: Candidate zones listed per gap.
MAX_CANDIDATES = 3


def _codes(roles: pd.Series) -> np.ndarray:
    """Role -> 0..3 for the specific roles, -1 for mixed / missing."""
    return roles.map(_CODE).fillna(-1).to_numpy(dtype=np.int64)


def chain_names(zones: pd.DataFrame) -> list[str]:
    """The chains of the study: those of the zones, sorted."""
    return sorted(zones["chain"].dropna().astype(str).unique())


def chain_roles(zones: pd.DataFrame, firms: pd.DataFrame | None = None) -> pd.DataFrame:
    """Zones, firms and jobs of each chain in each specific role.

    Parameters
    ----------
    zones : DataFrame
        zone_id, chain, role, jobs.
    firms : DataFrame, optional
        chain, role, jobs. ``None``: ``firms`` and ``firm_jobs`` are empty.

    Returns
    -------
    DataFrame
        One row per chain (of the zones) and role in rd, manufacturing, terminal,
        supporting: ``chain, role, zones, firms, jobs`` (zone jobs), ``firm_jobs``,
        ``present`` (a zone or a firm of the chain has the role).
    """
    chains = chain_names(zones)
    index = pd.MultiIndex.from_product([chains, CHAIN_ROLES], names=["chain", "role"])
    z = zones[zones["role"].isin(CHAIN_ROLES)]
    zc = z.groupby(["chain", "role"]).agg(zones=("zone_id", "size"), jobs=("jobs", "sum"))
    out = zc.reindex(index).fillna(0.0)
    out["zones"] = out["zones"].astype("int64")
    if firms is not None:
        f = firms[firms["role"].isin(CHAIN_ROLES)]
        fc = f.groupby(["chain", "role"]).agg(firms=("chain", "size"), firm_jobs=("jobs", "sum"))
        fc = fc.reindex(index).fillna(0.0)
        out["firms"] = fc["firms"].astype("int64")
        out["firm_jobs"] = fc["firm_jobs"]
    else:
        out["firms"] = pd.array([pd.NA] * len(out), dtype="Int64")
        out["firm_jobs"] = np.nan
    out["present"] = (out["zones"] > 0) | (out["firms"].fillna(0) > 0)
    return out.reset_index()[["chain", "role", "zones", "firms", "jobs", "firm_jobs", "present"]]


def _chain_codes(chains: np.ndarray, codebook: dict[str, int]) -> np.ndarray:
    """Chain name -> integer code (-1: a chain not in ``codebook``)."""
    return pd.Series(chains, dtype=object).map(codebook).fillna(-1).to_numpy(dtype=np.int64)


def _present_masks(roles: pd.DataFrame) -> dict[str, int]:
    present = roles[roles["present"]]
    out = {c: 0 for c in roles["chain"].unique()}
    for chain, role in zip(present["chain"], present["role"]):
        out[chain] |= 1 << _CODE[role]
    return out


def _top_zones(zones: pd.DataFrame, score: pd.Series) -> pd.Series:
    """chain -> position (iloc) of its highest-scoring zone (ties: lowest zone_id)."""
    order = pd.DataFrame({"chain": zones["chain"].to_numpy(), "score": score.to_numpy(float),
                          "zone_id": zones["zone_id"].astype(str).to_numpy(), "pos": np.arange(len(zones))})
    order = order.sort_values(["chain", "score", "zone_id"], ascending=[True, False, True], kind="stable")
    return order.drop_duplicates("chain").set_index("chain")["pos"]


def chain_completeness(zones: gpd.GeoDataFrame, firms: gpd.GeoDataFrame | None, roles: pd.DataFrame,
                       reach: Reach, *, score: pd.Series, zone_detail: dict | None = None) -> pd.DataFrame:
    """Completeness of each chain: role coverage, spatial completeness, leader coverage.

    ``zone_detail``, when given, receives the per-zone values behind the means:
    ``roles_in_reach`` (the zone's share; NaN when it has no other present role) and
    ``leader_in_reach`` (bool; absent without firms).

    Returns
    -------
    DataFrame
        ``chain, zones, firms, leaders, roles_present, roles_missing, role_coverage``
        (present roles / 4), ``spatial_completeness`` (mean over the chain's zones of the
        share of the chain's other present roles with a zone of the chain within reach;
        zones with no other present role are left out of the mean), ``leader_coverage``
        (share of the chain's zones with a leader firm of the chain within reach; empty
        without firms), ``completeness`` (geometric mean of the non-empty components),
        ``top_zone_id`` (highest score), ``rank`` (1 = most complete; ties by chain).
    """
    chains = chain_names(zones)
    masks = _present_masks(roles)
    chain_arr = zones["chain"].astype(str).to_numpy()
    codebook = {c: i for i, c in enumerate(chains)}
    zcode = _chain_codes(chain_arr, codebook)
    code = _codes(zones["role"])
    geoms = zones.geometry.values.to_numpy()

    ia, ib = reach.pairs(geoms, geoms, zcode, zcode)
    keep = (ia != ib) & (code[ib] >= 0)
    reached = np.zeros(len(zones), np.int64)
    np.bitwise_or.at(reached, ia[keep], np.left_shift(1, code[ib[keep]]))
    present = np.array([masks.get(c, 0) for c in chain_arr], dtype=np.int64)
    own = np.where(code >= 0, np.left_shift(1, np.maximum(code, 0)), 0)
    other = present & ~own
    n_other = _POPCOUNT[other]
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(n_other > 0, _POPCOUNT[reached & other] / np.maximum(n_other, 1), np.nan)
    spatial = pd.Series(share).groupby(chain_arr).mean()
    if zone_detail is not None:
        zone_detail["roles_in_reach"] = share

    n_zones = pd.Series(chain_arr).value_counts()
    out = pd.DataFrame({"chain": chains})
    out["zones"] = out["chain"].map(n_zones).fillna(0).astype("int64")
    if firms is not None:
        fchain = firms["chain"].astype(str)
        out["firms"] = out["chain"].map(fchain.value_counts()).fillna(0).astype("int64")
        leaders = firms[firms["tier"] == "leader"]
        out["leaders"] = out["chain"].map(leaders["chain"].astype(str).value_counts()).fillna(0).astype("int64")
        lcode = _chain_codes(leaders["chain"].astype(str).to_numpy(), codebook)
        za, _lb = reach.pairs(geoms, leaders.geometry.values.to_numpy(), zcode, lcode)
        covered = np.zeros(len(zones), bool)
        covered[za] = True
        if zone_detail is not None:
            zone_detail["leader_in_reach"] = covered
        out["leader_coverage"] = out["chain"].map(pd.Series(covered).groupby(chain_arr).mean())
    else:
        out["firms"] = pd.array([pd.NA] * len(out), dtype="Int64")
        out["leaders"] = pd.array([pd.NA] * len(out), dtype="Int64")
        out["leader_coverage"] = np.nan
    pres = roles[roles["present"]].groupby("chain")["role"].agg(";".join)
    miss = roles[~roles["present"]].groupby("chain")["role"].agg(";".join)
    out["roles_present"] = out["chain"].map(pres)
    out["roles_missing"] = out["chain"].map(miss)
    out["role_coverage"] = out["chain"].map(lambda c: _POPCOUNT[masks.get(c, 0)] / len(CHAIN_ROLES))
    out["spatial_completeness"] = out["chain"].map(spatial)
    comps = out[["role_coverage", "spatial_completeness", "leader_coverage"]].to_numpy(float)
    have = np.isfinite(comps)
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.where(have, np.log(np.where(have & (comps > 0), comps, 1.0)), 0.0)
        zero = (have & (comps <= 0)).any(axis=1)
        gm = np.exp(logs.sum(axis=1) / np.maximum(have.sum(axis=1), 1))
    out["completeness"] = np.where(have.any(axis=1), np.where(zero, 0.0, gm), np.nan)
    top = _top_zones(zones, score)
    ids = zones["zone_id"].astype(str).to_numpy()
    out["top_zone_id"] = out["chain"].map(lambda c: ids[top[c]] if c in top.index else None)
    ranked = out.sort_values(["completeness", "chain"], ascending=[False, True], kind="stable", na_position="last")
    out["rank"] = pd.Series(np.arange(1, len(out) + 1), index=ranked.index)
    cols = ["chain", "zones", "firms", "leaders", "roles_present", "roles_missing", "role_coverage",
            "spatial_completeness", "leader_coverage", "completeness", "top_zone_id", "rank"]
    return out[cols]


def chain_zones(zones: gpd.GeoDataFrame, detail: dict) -> gpd.GeoDataFrame:
    """The zones as the chains map shows them: ``zone_id, name, chain, district_id, role,
    jobs, roles_in_reach`` (share of the chain's other present roles with a zone of the chain
    within reach), ``leader_in_reach`` (a leader firm of the chain within reach; empty
    without firms)."""
    out = zones[["zone_id", "name", "chain", "district_id", "role", "jobs"]].copy()
    out["roles_in_reach"] = detail["roles_in_reach"]
    leader = detail.get("leader_in_reach")
    out["leader_in_reach"] = (pd.array(leader, dtype="boolean") if leader is not None
                              else pd.array([pd.NA] * len(out), dtype="boolean"))
    return gpd.GeoDataFrame(out, geometry=zones.geometry.values, crs=zones.crs)


def _gap_reason(kind: str, role: str, chain: str, top_name: str, reach: Reach, nearest_m: float,
                candidates: list[str], language: str) -> str:
    zh = language == "zh"
    role_text = label(role, language)
    cands = ("、" if zh else ", ").join(candidates)
    if kind == "missing":
        text = (f"{chain}产业链缺少{role_text}环节" if zh
                else f"the {chain} chain has no {role_text} zone or firm")
    elif reach.kind == "network":
        mins = f"{reach.reach_min:g}"
        near = f"{nearest_m / 1000:.1f}"
        text = (f"{chain}产业链的{role_text}环节距主承载区{top_name}路网通行超过{mins}分钟（直线最近{near}公里）" if zh
                else f"the {chain} chain's nearest {role_text} zone or firm lies {near} km in a straight line "
                     f"from its strongest zone {top_name}, but more than {mins} min away by road")
    else:
        km = f"{reach.reach_m / 1000:g}"
        near = f"{nearest_m / 1000:.1f}"
        text = (f"{chain}产业链的{role_text}环节距主承载区{top_name}超过{km}公里（最近{near}公里）" if zh
                else f"the {chain} chain's nearest {role_text} zone or firm lies {near} km from its "
                     f"strongest zone {top_name}, beyond the {km} km reach")
    if candidates:
        text += (f"；建议在{cands}补链" if zh else f"; candidates to fill the gap: {cands}")
    else:
        text += "；链内无综合或未定功能的功能区可承接" if zh else "; no mixed or unassigned zone of the chain can take it"
    return text


def chain_gaps(zones: gpd.GeoDataFrame, firms: gpd.GeoDataFrame | None,
               innovation_districts: gpd.GeoDataFrame | None, roles: pd.DataFrame, reach: Reach, *,
               score: pd.Series, language: str = "zh") -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    """The gap list (补链清单): each missing or distant role of each chain, with candidates.

    Returns
    -------
    gaps : DataFrame
        ``chain, role, kind`` (missing | distant), ``top_zone_id``, ``nearest_m`` (distant
        only: straight-line distance from the top zone to the nearest zone or firm of the
        chain with the role), ``candidates`` (up to 3 ids, ``;``-separated, nearest the top
        zone first), ``candidates_m`` (their distances, ``;``-separated), ``reason``.
    candidates : GeoDataFrame
        One polygon per gap and candidate: ``chain, role, kind, rank, candidate_id,
        candidate_kind`` (zone | innovation_district), ``name``, ``distance_m``.
    """
    chains = chain_names(zones)
    masks = _present_masks(roles)
    top = _top_zones(zones, score)
    ids = zones["zone_id"].astype(str).to_numpy()
    names = zones["name"].astype(str).to_numpy()
    chain_arr = zones["chain"].astype(str).to_numpy()
    code = _codes(zones["role"])
    geoms = zones.geometry.values.to_numpy()
    top_pos = np.array([top[c] for c in chains], dtype=np.int64)
    top_geoms = geoms[top_pos]
    chain_idx = {c: i for i, c in enumerate(chains)}

    # role bits within reach of each chain's top zone (zones, then firms)
    reached = np.zeros(len(chains), np.int64)
    top_code = np.arange(len(chains))
    zcode = _chain_codes(chain_arr, chain_idx)
    ta, zb = reach.pairs(top_geoms, geoms, top_code, zcode)
    ok = code[zb] >= 0
    np.bitwise_or.at(reached, ta[ok], np.left_shift(1, code[zb[ok]]))
    if firms is not None and len(firms):
        fchain = firms["chain"].astype(str).to_numpy()
        fcode = _codes(firms["role"])
        fgeoms = firms.geometry.values.to_numpy()
        with_role = fcode >= 0
        fsub = np.flatnonzero(with_role)
        ta, fb = reach.pairs(top_geoms, fgeoms[fsub], top_code, _chain_codes(fchain[fsub], chain_idx))
        np.bitwise_or.at(reached, ta, np.left_shift(1, fcode[fsub[fb]]))

    # candidate pools: the chain's mixed / role-less zones, by distance to the top zone
    dist_top = shapely.distance(geoms, top_geoms[[chain_idx[c] for c in chain_arr]])
    pool = pd.DataFrame({"chain": chain_arr, "id": ids, "name": names, "kind": "zone",
                         "distance_m": dist_top, "pos": np.arange(len(zones))})
    pool = pool[code < 0]
    innov_pool = None
    if innovation_districts is not None and len(innovation_districts):
        inn = innovation_districts
        serves = [(i, c) for i, text in enumerate(inn["chains"].astype(str))
                  for c in dict.fromkeys(split_chains(text)) if c in chain_idx]
        if serves:
            ii = np.array([s[0] for s in serves])
            cc = [s[1] for s in serves]
            igeoms = inn.geometry.values.to_numpy()
            innov_pool = pd.DataFrame({
                "chain": cc, "id": inn["innov_id"].astype(str).to_numpy()[ii],
                "name": inn["name"].astype(str).to_numpy()[ii], "kind": "innovation_district",
                "distance_m": shapely.distance(igeoms[ii], top_geoms[[chain_idx[c] for c in cc]]),
                "pos": ii})

    rows, cand_rows = [], []
    for c in chains:
        ci = chain_idx[c]
        for role in CHAIN_ROLES:
            bit = 1 << _CODE[role]
            if masks.get(c, 0) & bit:
                if reached[ci] & bit:
                    continue
                kind = "distant"
            else:
                kind = "missing"
            cands = pool[pool["chain"] == c]
            if kind == "missing" and role == "rd" and innov_pool is not None:
                cands = pd.concat([cands, innov_pool[innov_pool["chain"] == c]], ignore_index=True)
            cands = cands.sort_values(["distance_m", "kind", "id"], kind="stable").head(MAX_CANDIDATES)
            nearest = np.nan
            if kind == "distant":
                d = dist_top[(chain_arr == c) & (code == _CODE[role])]
                if firms is not None and len(firms):
                    fsel = (fchain == c) & (fcode == _CODE[role])
                    d = np.concatenate([d, shapely.distance(fgeoms[fsel], top_geoms[ci])])
                nearest = float(d.min())
            top_id = ids[top_pos[ci]]
            rows.append({
                "chain": c, "role": role, "kind": kind, "top_zone_id": top_id, "nearest_m": nearest,
                "candidates": ";".join(cands["id"]) or None,
                "candidates_m": ";".join(f"{x:.0f}" for x in cands["distance_m"]) or None,
                "reason": _gap_reason(kind, role, c, names[top_pos[ci]], reach, nearest,
                                      list(cands["name"]), language),
            })
            for rank, cand in enumerate(cands.itertuples(index=False), start=1):
                geom = geoms[cand.pos] if cand.kind == "zone" else innovation_districts.geometry.values[cand.pos]
                cand_rows.append({"chain": c, "role": role, "kind": kind, "rank": rank,
                                  "candidate_id": cand.id, "candidate_kind": cand.kind, "name": cand.name,
                                  "distance_m": float(cand.distance_m), "geometry": geom})
    gap_cols = ["chain", "role", "kind", "top_zone_id", "nearest_m", "candidates", "candidates_m", "reason"]
    gaps = pd.DataFrame(rows, columns=gap_cols)
    cand_cols = ["chain", "role", "kind", "rank", "candidate_id", "candidate_kind", "name", "distance_m"]
    cand = gpd.GeoDataFrame(pd.DataFrame(cand_rows, columns=[*cand_cols, "geometry"]),
                            geometry="geometry", crs=zones.crs)
    return gaps, cand


def chain_lq(zones: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Location quotient of each chain in each district, and each district's specialisation.

    ``lq = (jobs of the chain in the district / all zone jobs in the district) /
    (jobs of the chain / all zone jobs)``, from zone jobs; empty where a denominator is 0.

    Returns
    -------
    lq : DataFrame
        ``district_id, chain, jobs, share, lq`` for every district with zones × every chain.
    specialisation : DataFrame
        ``district_id, jobs, n_chains`` (chains with jobs), ``krugman`` = Σ_c |s_dc − s_c| (0: the
        district's chain mix equals the study's; 2: no overlap), ``top_chain``, ``top_lq``.
    """
    z = zones[zones["district_id"].notna()]
    table = z.pivot_table(index="district_id", columns="chain", values="jobs", aggfunc="sum", fill_value=0.0)
    table = table.reindex(columns=chain_names(zones), fill_value=0.0).sort_index()
    jobs = table.to_numpy(float)
    d_tot = jobs.sum(axis=1, keepdims=True)
    c_tot = jobs.sum(axis=0, keepdims=True)
    total = jobs.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(d_tot > 0, jobs / d_tot, np.nan)
        study_share = np.where(total > 0, c_tot / total, np.nan)
        lq = np.where((d_tot > 0) & (c_tot > 0), share / study_share, np.nan)
    districts = table.index.astype(str).to_numpy()
    chains = table.columns.astype(str).to_numpy()
    out = pd.DataFrame({
        "district_id": np.repeat(districts, len(chains)), "chain": np.tile(chains, len(districts)),
        "jobs": jobs.ravel(), "share": share.ravel(), "lq": lq.ravel()})
    krugman = np.nansum(np.abs(share - study_share), axis=1)
    krugman = np.where(d_tot[:, 0] > 0, krugman, np.nan)
    filled = np.where(np.isfinite(lq), lq, -np.inf)
    best = filled.argmax(axis=1) if len(chains) else np.zeros(len(districts), int)
    has = np.isfinite(filled).any(axis=1) if len(chains) else np.zeros(len(districts), bool)
    spec = pd.DataFrame({
        "district_id": districts, "jobs": d_tot[:, 0], "n_chains": (jobs > 0).sum(axis=1),
        "krugman": krugman,
        "top_chain": np.where(has, chains[best] if len(chains) else None, None),
        "top_lq": np.where(has, filled[np.arange(len(districts)), best] if len(chains) else np.nan, np.nan)})
    spec["top_lq"] = spec["top_lq"].astype(float)
    return out, spec


def leader_firms(firms: gpd.GeoDataFrame, zones: gpd.GeoDataFrame, reach: Reach) -> gpd.GeoDataFrame:
    """Reach of each chain-leader firm over the firms and zones of its chain.

    Returns
    -------
    GeoDataFrame (points)
        ``firm_id, name, chain, zone_id, district_id, jobs, firms_within`` (same-chain
        firms within reach, the leader excluded), ``jobs_within`` (their jobs; missing
        counts 0), ``firms_other_district`` (of those, in a district other than the
        leader's; firms without a district not counted; missing when the leader's district
        is), ``zones_within`` (same-chain
        zones within reach).
    """
    lead = firms[firms["tier"] == "leader"].reset_index(drop=True)
    n = len(lead)
    codebook = {c: i for i, c in enumerate(pd.unique(firms["chain"].astype(str)))}
    fcode = _chain_codes(firms["chain"].astype(str).to_numpy(), codebook)
    leader_rows = np.flatnonzero((firms["tier"] == "leader").to_numpy())
    lcode = fcode[leader_rows]
    li, fj = reach.pairs(lead.geometry.values.to_numpy(), firms.geometry.values.to_numpy(), lcode, fcode)
    ok = leader_rows[li] != fj
    li, fj = li[ok], fj[ok]
    fjobs = np.nan_to_num(firms["jobs"].to_numpy(float), nan=0.0)
    fdist = firms["district_id"].to_numpy(dtype=object)
    ldist = lead["district_id"].to_numpy(dtype=object)
    other = pd.notna(fdist[fj]) & pd.notna(ldist[li]) & (fdist[fj] != ldist[li])
    out = lead[["firm_id", "name", "chain", "zone_id", "district_id", "jobs"]].copy()
    out["firms_within"] = np.bincount(li, minlength=n).astype("int64")
    out["jobs_within"] = np.bincount(li, weights=fjobs[fj], minlength=n)
    # unknown where the leader's own district is (missing value, never 0)
    out["firms_other_district"] = pd.array(np.bincount(li[other], minlength=n), dtype="Int64")
    out.loc[pd.isna(ldist), "firms_other_district"] = pd.NA
    zcode = _chain_codes(zones["chain"].astype(str).to_numpy(), codebook)
    la, _zb = reach.pairs(lead.geometry.values.to_numpy(), zones.geometry.values.to_numpy(), lcode, zcode)
    out["zones_within"] = np.bincount(la, minlength=n).astype("int64")
    return gpd.GeoDataFrame(out, geometry=lead.geometry.values, crs=firms.crs)


def ranked_chains(completeness: pd.DataFrame, limit: int | None = None) -> list[Mapping]:
    """Chains by completeness (for run.json and the atlas)."""
    t = completeness.sort_values("rank")
    if limit:
        t = t.head(limit)
    return [{"chain": r.chain, "completeness": None if pd.isna(r.completeness) else round(float(r.completeness), 4),
             "roles_missing": None if pd.isna(r.roles_missing) else r.roles_missing}
            for r in t.itertuples(index=False)]
