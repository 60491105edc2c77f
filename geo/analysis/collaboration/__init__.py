"""Cross-district collaboration of industrial functional zones (docs/analyses.md, section 2).

Zones of one industry chain that lie in different administrative districts are
candidate partners. This module finds every such pair within
``collaboration.max_distance_m`` (boundary-to-boundary distance, 0 when the zones touch
or overlap), scores it with a gravity model, types it (main site + partner site,
R&D + manufacturing, terminal + supporting, peer), ranks it within its chain and writes
a one-line reason in the study language. Per zone it reports the nearest partner across
the district line (at any distance), per chain how scattered the chain is, and per pair
of districts the summed strength.

Algorithm and cost
------------------
* **Candidate pairs** (:func:`candidate_pairs`): one :class:`shapely.STRtree` per chain
  and one bulk ``query(predicate="dwithin")``; exact distances are computed only for
  the candidates. Cost grows with the number of candidate pairs, never with N².
* **Nearest partner** (:func:`nearest_partners`): a zone with a partner within
  ``max_distance_m`` takes the closest of its candidate pairs (exact: every zone beyond
  is farther). Each remaining zone is answered by ``STRtree.query_nearest`` on a
  *complement tree* holding its chain's zones of the other districts, one tree per
  (chain, district) group that has unanswered zones. This handles the case where the
  nearest zone of the chain lies in the zone's own district without iterating.
* Ties (equal distances) are broken by the smaller ``zone_id`` (``innov_id`` for
  innovation districts), so results do not depend on row order.

Examples
--------
>>> import geopandas as gpd
>>> from shapely import box
>>> zones = gpd.GeoDataFrame(
...     {"zone_id": ["a", "b", "c"], "chain": ["ev", "ev", "ev"],
...      "district_id": ["D1", "D2", "D1"]},
...     geometry=[box(0, 0, 1000, 1000), box(3000, 0, 4000, 1000), box(0, 9000, 1000, 10000)],
...     crs="EPSG:4544",
... )
>>> candidate_pairs(zones, 5000.0)
   i  j  distance_m
0  0  1      2000.0
>>> nearest_partners(zones)["nearest_partner_id"].tolist()
['b', 'a', 'b']
>>> float(pair_strength(100.0, 50.0, 1000.0, 2.0)[0])
1250.0

Modules
-------
``_pairs``    candidate pair search, nearest partners and innovation districts, strength
``_reasons``  pair types and the one-line reasons
``_summary``  per-chain dispersion and the district-by-district matrix
"""

from __future__ import annotations

import logging
import math
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo._types import AnalysisResult, Study
from geo.analysis.collaboration._pairs import (
    CHAIN_SEPARATORS,
    _candidate_positions,
    _geometries,
    _id_order,
    _nearest_positions,
    _text,
    candidate_pairs,
    nearest_innovation,
    nearest_partners,
    pair_strength,
)
from geo.analysis.collaboration._reasons import _reasons, classify_pairs, pair_reasons
from geo.analysis.collaboration._summary import CHAIN_COLUMNS, MATRIX_COLUMNS, chain_dispersion, district_matrix
from geo.analysis.collaboration._travel import minutes_text, pair_minutes, travel_candidates
from geo.settings import Settings

log = logging.getLogger(__name__)

__all__ = [
    "CHAIN_COLUMNS", "CHAIN_SEPARATORS", "MATRIX_COLUMNS", "NAME", "PAIR_COLUMNS", "PAIR_NETWORK_COLUMNS",
    "PAIR_TYPES", "ZONE_COLUMNS", "ZONE_NETWORK_COLUMNS",
    "candidate_pairs", "chain_dispersion", "travel_pairs", "classify_pairs", "district_matrix", "nearest_innovation",
    "nearest_partners", "pair_reasons", "pair_strength", "run",
]


NAME = "collaboration"

#: Pair types in order of precedence (the first that applies wins).
PAIR_TYPES: tuple[str, ...] = ("main_partner", "rd_manufacturing", "terminal_supporting", "peer")

PAIR_COLUMNS = [
    "zone_a", "zone_b", "name_a", "name_b", "chain", "district_a", "district_b",
    "distance_m", "strength", "pair_type", "rank", "recommended", "reason",
]

#: Added to ``collaboration_pairs`` with roads (after ``distance_m``).
PAIR_NETWORK_COLUMNS = ["travel_min"]

#: Added to ``collaboration_zones`` with roads (after ``nearest_partner_m`` / ``partners_within``).
ZONE_NETWORK_COLUMNS = ["nearest_partner_min", "fastest_partner_id", "partners_within_min"]

ZONE_COLUMNS = [
    "zone_id", "name", "chain", "district_id", "nearest_partner_id",
    "nearest_partner_district", "nearest_partner_m", "partners_within",
    "nearest_innov_id", "nearest_innov_m",
]


def _json_float(value: float) -> float | None:
    value = float(value)
    return None if math.isnan(value) else value


def _mass(zones: gpd.GeoDataFrame) -> tuple[np.ndarray, int]:
    jobs = pd.to_numeric(zones["jobs"], errors="coerce").to_numpy(float)
    if "output" not in zones:
        return jobs, len(zones)
    output = pd.to_numeric(zones["output"], errors="coerce").to_numpy(float)
    missing = np.isnan(output)
    return np.where(missing, jobs, output), int(missing.sum())


def _district_names(study: Study) -> dict[str, str]:
    d = study.districts
    if d is None or "district_id" not in d or "name" not in d:
        return {}
    ids = _text(d["district_id"])
    names = _text(d["name"]).fillna(ids)
    return dict(zip(ids.dropna(), names[ids.notna()]))


def _empty_lines(crs: Any, network: bool = False) -> gpd.GeoDataFrame:
    dtypes = ["str"] * 7 + ["float", "float", "str", "int64", "bool", "str"]
    frame = pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(PAIR_COLUMNS, dtypes)})
    if network:
        frame.insert(PAIR_COLUMNS.index("distance_m") + 1, "travel_min", pd.Series(dtype="float"))
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([], crs=crs), crs=crs)


def _network_summary(net, slow: np.ndarray) -> dict[str, Any]:
    """Summary figures in minutes (with roads)."""
    fast = net.fastest >= 0
    return {
        "pairs_within_travel": int((~slow).sum()),
        "pairs_too_slow": int(slow.sum()),
        "zones_with_partner_within_min": int(fast.sum()),
        "median_nearest_partner_min": _json_float(np.median(net.fastest_min[fast])) if fast.any() else None,
        "zones_without_road_access": int((~net.connected).sum()),
    }


def travel_pairs(study: Study, settings: Settings) -> tuple[np.ndarray, np.ndarray] | None:
    """The zones (geometries) and zone pairs ((K, 2) positions) whose travel minutes
    :func:`run` asks the road graph for, within ``collaboration.max_travel_min``; None
    without roads. A run reads them from the commuting's searches when it has both."""
    graph = getattr(study, "network", None)
    if graph is None:
        return None
    geoms = _geometries(study.zones)
    chain_code = pd.factorize(_text(study.zones["chain"]))[0]
    i, j, _ = travel_candidates(graph, geoms, chain_code, max_travel_min=float(settings.collaboration.max_travel_min),
                                access_speed_kmh=settings.network.access_speed_kmh)
    return geoms, np.column_stack([i, j])


def run(study: Study, settings: Settings, *, core_roles: pd.Series | None = None) -> AnalysisResult:
    """Cross-district collaboration: pairs, per-zone partners, chain dispersion, matrix.

    Parameters
    ----------
    study : Study
        Validated inputs in a projected CRS. Uses ``zones`` (``zone_id``, ``name``,
        ``chain``, ``district_id``, ``jobs``, optional ``output`` and ``role``),
        ``innovation_districts`` and ``districts`` (names in reasons) when given.
    settings : Settings
        ``collaboration.max_distance_m``, ``distance_decay``, ``top_pairs_per_chain``
        and ``study.language``.
    core_roles : Series, optional
        Index ``zone_id``, values ``core`` / ``periphery`` from the core–periphery
        analysis. None: no pair is typed ``main_partner``.

    Returns
    -------
    AnalysisResult
        ``tables``: ``collaboration_pairs`` (LineStrings between the zones'
        representative points; ``district_a < district_b``; sorted by chain and rank),
        ``collaboration_zones`` (zone polygons, on the zones' index),
        ``collaboration_chains`` (most fragmented first, see :func:`chain_dispersion`),
        ``collaboration_matrix`` (see :func:`district_matrix`). ``summary``: key figures
        (JSON-serialisable): ``zones``, ``chains``, ``pairs``, ``recommended_pairs``,
        ``zones_with_partner_within``, ``zones_without_any_partner``,
        ``median_nearest_partner_m`` (scalars); ``pairs_by_type``,
        ``most_fragmented_chains``, ``most_compact_chains`` (top 3),
        ``strongest_district_pair`` and ``parameters`` (settings used, whether core
        roles were given, what the mass is). ``warnings``: messages for the user.

    Notes
    -----
    Mass = ``output``, or ``jobs`` where output is missing. Rank within a chain:
    strength descending (missing last), then distance ascending, then ``zone_a``,
    ``zone_b``; ``recommended`` = rank ≤ ``top_pairs_per_chain``.

    With roads (``study.network``): ``travel_min`` on pairs (the faster direction, empty
    when slower than ``max_travel_min``, without a road path or a road node),
    ``nearest_partner_min`` / ``fastest_partner_id`` / ``partners_within_min`` on zones
    (partners within ``max_travel_min``). A pair slower than ``max_travel_min`` is not
    suggested: it stays in the table (the straight line may look close) but ranks after
    every pair of its chain within the limit and is never ``recommended``; its reason says so.
    """
    cfg = settings.collaboration
    language = settings.study.language
    zones = study.zones
    warnings: list[str] = []
    n = len(zones)

    geoms = _geometries(zones)
    ids = _text(zones["zone_id"]).to_numpy(dtype=object)
    names = (_text(zones["name"]) if "name" in zones else pd.Series([np.nan] * n, dtype="str"))
    names = names.fillna(pd.Series(ids, dtype="str")).to_numpy(dtype=object)
    chains = _text(zones["chain"])
    districts = _text(zones["district_id"])
    chain_code, chain_names = pd.factorize(chains)
    district_code = pd.factorize(districts)[0]
    roles = (_text(zones["role"]) if "role" in zones else pd.Series([np.nan] * n, dtype="str"))
    roles = roles.to_numpy(dtype=object)
    tie = _id_order(ids)
    district_names = _district_names(study)

    lacking = int(((chain_code < 0) | (district_code < 0)).sum())
    if lacking:
        warnings.append(f"collaboration: {lacking} zone(s) without chain or district_id take part in no pair")

    mass, missing_output = _mass(zones)
    if "output" in zones and 0 < missing_output < n:
        warnings.append(
            f"collaboration: {missing_output} of {n} zones have no output; their jobs are used as "
            "mass in pair strength (mixes units; fill output for comparable strengths)"
        )

    positions = None
    if core_roles is not None:
        cr = pd.Series(core_roles)
        cr.index = cr.index.astype("str")
        positions = _text(cr.reindex(pd.Index(ids, dtype="str"))).to_numpy(dtype=object)
        unknown = int(pd.isna(positions).sum())
        if unknown:
            warnings.append(f"collaboration: {unknown} zone(s) have no core/periphery role; "
                            "their pairs cannot be main_partner")

    rep = shapely.point_on_surface(geoms)
    x, y = shapely.get_x(rep), shapely.get_y(rep)

    graph = getattr(study, "network", None)
    net = None
    if graph is not None:
        from geo.network import default_jobs

        ns = settings.network
        net = pair_minutes(graph, geoms, chain_code, district_code, tie,
                           max_travel_min=float(cfg.max_travel_min), access_speed_kmh=ns.access_speed_kmh,
                           max_access_m=ns.max_access_m, n_jobs=default_jobs())

    # --- pairs -------------------------------------------------------------------
    i, j, d = _candidate_positions(geoms, chain_code, district_code, float(cfg.max_distance_m))
    log.info("collaboration: %d candidate pairs within %.0f m", len(i), cfg.max_distance_m)
    dist_str = districts.to_numpy(dtype=object)
    district_rank = pd.factorize(districts, sort=True)[0]
    swap = district_rank[i] > district_rank[j]  # orient every pair district_a < district_b
    i, j = np.where(swap, j, i), np.where(swap, i, j)

    strength = pair_strength(mass[i], mass[j], d, cfg.distance_decay)
    travel = net.lookup(i, j, n) if net is not None else None
    slow = ~np.isfinite(travel) if travel is not None else np.zeros(len(i), dtype=bool)
    ptype = classify_pairs(
        roles[i], roles[j],
        position_a=None if positions is None else positions[i],
        position_b=None if positions is None else positions[j],
    )
    chain_order = pd.factorize(chains, sort=True)[0]
    order = np.lexsort((tie[j], tie[i], d, np.where(np.isnan(strength), np.inf, -strength), slow,
                        chain_order[i]))
    i, j, d, strength, ptype, slow = i[order], j[order], d[order], strength[order], ptype[order], slow[order]
    if travel is not None:
        travel = travel[order]
    if len(i):
        group = chain_order[i]
        starts = np.r_[0, np.flatnonzero(group[1:] != group[:-1]) + 1]
        rank = np.arange(len(i)) - np.repeat(starts, np.diff(np.r_[starts, len(i)])) + 1
    else:
        rank = np.zeros(0, np.int64)
    rank = rank.astype(np.int64)
    recommended = (rank <= cfg.top_pairs_per_chain) & ~slow

    if len(i):
        # string columns: built once per zone, then gathered per pair (Arrow take)
        ids_s = pd.Series(ids, dtype="str")
        names_s = pd.Series(names, dtype="str")
        chains_s = pd.Series(chains.to_numpy(dtype=object), dtype="str")
        districts_s = pd.Series(dist_str, dtype="str")
        type_code = pd.Series(pd.Categorical(ptype, categories=PAIR_TYPES).codes)
        types_s = pd.Series(list(PAIR_TYPES), dtype="str")

        def gather(values: pd.Series, index: np.ndarray) -> pd.Series:
            return values.take(index).reset_index(drop=True)

        pairs = pd.DataFrame({
            "zone_a": gather(ids_s, i), "zone_b": gather(ids_s, j),
            "name_a": gather(names_s, i), "name_b": gather(names_s, j),
            "chain": gather(chains_s, i),
            "district_a": gather(districts_s, i), "district_b": gather(districts_s, j),
            "distance_m": d,
            **({"travel_min": travel} if travel is not None else {}),
            "strength": strength,
            "pair_type": gather(types_s, type_code.to_numpy()),
            "rank": rank,
            "recommended": recommended,
        })
        district_label = np.array([district_names.get(v, v) for v in dist_str], dtype=object)
        pairs["reason"] = pd.Series(_reasons(
            chains.to_numpy(dtype=object)[i], district_label[i], district_label[j], roles[i], roles[j],
            None if positions is None else positions[i], None if positions is None else positions[j],
            ptype, d, language,
        ), dtype="str")
        if travel is not None:
            both = net.connected[i] & net.connected[j]
            suffix = minutes_text(travel, both, float(cfg.max_travel_min), language)
            pairs["reason"] = pd.Series(pairs["reason"].to_numpy(dtype=object) + suffix, dtype="str")
        coords = np.stack([np.c_[x[i], y[i]], np.c_[x[j], y[j]]], axis=1)
        pairs_gdf = gpd.GeoDataFrame(pairs, geometry=shapely.linestrings(coords), crs=zones.crs)
    else:
        pairs_gdf = _empty_lines(zones.crs, network=net is not None)

    # --- per zone ------------------------------------------------------------------
    partner, near_m = _nearest_positions(geoms, chain_code, district_code, tie, (i, j, d))
    found = partner >= 0
    safe = np.where(found, partner, 0)
    within = np.bincount(np.r_[i, j], minlength=n).astype(np.int64)
    innov = nearest_innovation(zones, study.innovation_districts)
    zone_table = pd.DataFrame({
        "zone_id": pd.Series(ids, dtype="str"),
        "name": pd.Series(names, dtype="str"),
        "chain": pd.Series(chains.to_numpy(dtype=object), dtype="str"),
        "district_id": pd.Series(dist_str, dtype="str"),
        "nearest_partner_id": pd.Series(np.where(found, ids[safe] if n else None, None), dtype="str"),
        "nearest_partner_district": pd.Series(np.where(found, dist_str[safe] if n else None, None), dtype="str"),
        "nearest_partner_m": near_m,
        "partners_within": within,
        "nearest_innov_id": innov["nearest_innov_id"].to_numpy(dtype=object),
        "nearest_innov_m": innov["nearest_innov_m"].to_numpy(float),
    }).astype({"nearest_innov_id": "str"})
    if net is not None:
        fast = net.fastest >= 0
        at = zone_table.columns.get_loc("partners_within") + 1
        zone_table.insert(at, "nearest_partner_min", net.fastest_min)
        zone_table.insert(at + 1, "fastest_partner_id",
                          pd.Series(np.where(fast, ids[np.where(fast, net.fastest, 0)] if n else None, None),
                                    dtype="str"))
        zone_table.insert(at + 2, "partners_within_min", net.within)
    zone_table.index = zones.index
    zones_gdf = gpd.GeoDataFrame(zone_table, geometry=zones.geometry.copy().rename("geometry"), crs=zones.crs)

    # --- per chain, matrix ------------------------------------------------------------
    chain_table = chain_dispersion(pd.DataFrame({
        "chain": chains.to_numpy(dtype=object), "district_id": dist_str,
        "jobs": pd.to_numeric(zones["jobs"], errors="coerce").to_numpy(float),
        "x": x, "y": y, "nearest_partner_m": near_m, "partners_within": within,
        **({"nearest_partner_min": net.fastest_min, "partners_within_min": net.within} if net is not None else {}),
    }))
    matrix = district_matrix(pairs_gdf, district_names)

    # --- warnings and summary ----------------------------------------------------------------
    single = chain_table.loc[(chain_table["districts"] == 1) & (chain_table["zones"] > 1), "chain"].tolist()
    if single:
        warnings.append(
            f"collaboration: chain(s) {', '.join(single)} lie in a single district; "
            "they have no cross-district partners"
        )
    if n and len(i) == 0:
        warnings.append(
            f"collaboration: no pair of zones of one chain in different districts lies within "
            f"max_distance_m = {cfg.max_distance_m:g} m; raise collaboration.max_distance_m to see pairs"
        )
    if study.innovation_districts is not None:
        unserved = sorted(set(chains.dropna()) - set(
            chains[pd.notna(innov["nearest_innov_id"].to_numpy(dtype=object))].dropna()))
        if unserved:
            warnings.append(
                f"collaboration: no innovation district lists chain(s) {', '.join(unserved)} "
                "in its chains field; nearest_innov_id is empty for their zones"
            )

    strongest = None
    if len(matrix):
        top = matrix.iloc[0]
        strongest = {"district_a": top["district_a"], "district_b": top["district_b"],
                     "name_a": top["name_a"], "name_b": top["name_b"],
                     "pairs": int(top["pairs"]), "strength": _json_float(top["strength"])}
    summary: dict[str, Any] = {
        "zones": int(n),
        "chains": len(chain_names),
        "pairs": len(i),
        "recommended_pairs": int(recommended.sum()),
        "pairs_by_type": {t: int((ptype == t).sum()) for t in PAIR_TYPES},
        "zones_with_partner_within": int((within > 0).sum()),
        "zones_without_any_partner": int((~found).sum()),
        "median_nearest_partner_m": _json_float(np.nanmedian(near_m)) if found.any() else None,
        **(_network_summary(net, slow) if net is not None else {}),
        "most_fragmented_chains": chain_table["chain"].head(3).tolist(),
        "most_compact_chains": chain_table["chain"].iloc[::-1].head(3).tolist(),
        "strongest_district_pair": strongest,
        "parameters": {
            "max_distance_m": float(cfg.max_distance_m),
            "distance_decay": float(cfg.distance_decay),
            "top_pairs_per_chain": int(cfg.top_pairs_per_chain),
            "max_travel_min": float(cfg.max_travel_min) if net is not None else None,
            "core_roles_used": core_roles is not None,
            "mass": "output" if "output" in zones and missing_output == 0 else
                    ("jobs" if missing_output == n else "output, jobs where output is missing"),
        },
    }
    return AnalysisResult(
        name=NAME,
        tables={
            "collaboration_pairs": pairs_gdf,
            "collaboration_zones": zones_gdf,
            "collaboration_chains": chain_table,
            "collaboration_matrix": matrix,
        },
        summary=summary,
        warnings=warnings,
    )
