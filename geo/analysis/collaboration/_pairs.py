"""Pair search: candidate pairs within reach, nearest partners and innovation districts,
and the gravity strength of a pair.

One :class:`shapely.STRtree` per chain and bulk ``dwithin`` / ``query_nearest`` queries;
ties are broken by the smaller id so results do not depend on row order.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely import STRtree

from geo.analysis._reach import DISTANCE_TOLERANCE_M

#: Separators of the ``chains`` field of innovation districts (as geo.layers.split_chains).
CHAIN_SEPARATORS = r"[;；、]"

# dwithin runs on prepared geometries, whose distance test may differ from
# shapely.distance in the last bits; query slightly wider, then filter on exact distance.
_QUERY_PAD_REL = 1e-9

_QUERY_PAD_ABS = 1e-6


def _geometries(zones: gpd.GeoDataFrame) -> np.ndarray:
    return np.asarray(zones.geometry.array, dtype=object)


def _text(values: pd.Series) -> pd.Series:
    """Values as stripped strings, missing and blank values as NaN (positional index)."""
    s = pd.Series(values).reset_index(drop=True).astype("str").str.strip()
    return s.where(s.str.len() > 0)


def _codes(values: pd.Series) -> np.ndarray:
    """Integer codes of ``values`` (-1 for missing)."""
    return pd.factorize(_text(values))[0]


def _id_order(ids: np.ndarray) -> np.ndarray:
    """Rank of each id in sorted order (the tie-breaker)."""
    rank = np.empty(len(ids), dtype=np.int64)
    rank[np.argsort(np.asarray(ids, dtype=str), kind="stable")] = np.arange(len(ids))
    return rank


def _eligible(geoms: np.ndarray, chain_code: np.ndarray, district_code: np.ndarray) -> np.ndarray:
    return (chain_code >= 0) & (district_code >= 0) & ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)


def _groups(codes: np.ndarray, mask: np.ndarray) -> Iterator[np.ndarray]:
    """Positions (ascending) of each group of equal ``codes`` among ``mask``."""
    pos = np.flatnonzero(mask)
    pos = pos[np.argsort(codes[pos], kind="stable")]
    if pos.size == 0:
        return
    starts = np.flatnonzero(np.r_[True, codes[pos][1:] != codes[pos][:-1]])
    yield from np.split(pos, starts[1:])


def _first_per_source(src: np.ndarray, dst: np.ndarray, dist: np.ndarray, tie: np.ndarray):
    """For each source, the destination at the smallest distance (ties: smallest ``tie``)."""
    order = np.lexsort((tie[dst], dist, src))
    src, dst, dist = src[order], dst[order], dist[order]
    first = np.r_[True, src[1:] != src[:-1]] if src.size else np.zeros(0, dtype=bool)
    return src[first], dst[first], dist[first]


def _candidate_positions(
    geoms: np.ndarray, chain_code: np.ndarray, district_code: np.ndarray, max_distance_m: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    eligible = _eligible(geoms, chain_code, district_code)
    query_m = (max_distance_m + DISTANCE_TOLERANCE_M) * (1 + _QUERY_PAD_REL) + _QUERY_PAD_ABS
    parts_i, parts_j, parts_d = [], [], []
    for members in _groups(chain_code, eligible):
        if np.unique(district_code[members]).size < 2:
            continue
        member_geoms = geoms[members]
        tree = STRtree(member_geoms)
        a, b = tree.query(member_geoms, predicate="dwithin", distance=query_m)
        keep = a < b
        i, j = members[a[keep]], members[b[keep]]  # members ascending: i < j
        keep = district_code[i] != district_code[j]
        i, j = i[keep], j[keep]
        d = shapely.distance(geoms[i], geoms[j])
        keep = d <= max_distance_m + DISTANCE_TOLERANCE_M     # on the limit counts, whatever the rounding
        parts_i.append(i[keep])
        parts_j.append(j[keep])
        parts_d.append(d[keep])
    if not parts_i:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, float)
    i, j, d = np.concatenate(parts_i), np.concatenate(parts_j), np.concatenate(parts_d)
    order = np.lexsort((j, i))
    return i[order].astype(np.int64), j[order].astype(np.int64), d[order].astype(float)


def candidate_pairs(zones: gpd.GeoDataFrame, max_distance_m: float) -> pd.DataFrame:
    """Every pair of zones of one chain in different districts within a distance.

    Parameters
    ----------
    zones : GeoDataFrame
        Zones in a projected CRS (metres) with ``chain`` and ``district_id``. Zones with
        a missing chain, district or geometry take part in no pair.
    max_distance_m : float
        Largest boundary-to-boundary distance of a pair (inclusive).

    Returns
    -------
    DataFrame
        ``i``, ``j`` (row positions in ``zones``, ``i < j``) and ``distance_m`` (0 when
        the zones touch or overlap), sorted by ``i`` then ``j``.

    Notes
    -----
    One STRtree per chain, queried in bulk with ``predicate="dwithin"``; exact distances
    only for those candidates. Memory and time grow with the number of candidate pairs,
    not with the square of the number of zones.
    """
    geoms = _geometries(zones)
    i, j, d = _candidate_positions(geoms, _codes(zones["chain"]), _codes(zones["district_id"]),
                                   float(max_distance_m))
    return pd.DataFrame({"i": i, "j": j, "distance_m": d})


def _nearest_positions(
    geoms: np.ndarray,
    chain_code: np.ndarray,
    district_code: np.ndarray,
    tie: np.ndarray,
    pairs: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
) -> tuple[np.ndarray, np.ndarray]:
    n = len(geoms)
    partner = np.full(n, -1, dtype=np.int64)
    dist = np.full(n, np.nan)
    eligible = _eligible(geoms, chain_code, district_code)
    if pairs is not None and pairs[0].size:
        i, j, d = pairs
        src, dst, dd = _first_per_source(np.r_[i, j], np.r_[j, i], np.r_[d, d], tie)
        partner[src], dist[src] = dst, dd
    for members in _groups(chain_code, eligible):
        need = members[partner[members] < 0]
        member_districts = district_code[members]
        if need.size == 0 or np.unique(member_districts).size < 2:
            continue
        for dc in np.unique(district_code[need]):
            queries = need[district_code[need] == dc]
            others = members[member_districts != dc]  # complement: the chain in other districts
            tree = STRtree(geoms[others])
            (qi, ti), qd = tree.query_nearest(geoms[queries], all_matches=True, return_distance=True)
            src, dst, dd = _first_per_source(queries[qi], others[ti], qd, tie)
            partner[src], dist[src] = dst, dd
    return partner, dist


def nearest_partners(zones: gpd.GeoDataFrame, *, pairs: pd.DataFrame | None = None) -> pd.DataFrame:
    """The nearest zone of the same chain in another district, at any distance.

    Parameters
    ----------
    zones : GeoDataFrame
        Zones with ``zone_id``, ``chain``, ``district_id`` in a projected CRS.
    pairs : DataFrame, optional
        The result of :func:`candidate_pairs` on the same ``zones`` (any distance). Zones
        with a candidate pair take the closest one directly; the others (and all zones
        when ``pairs`` is None) are answered with nearest-neighbour queries on a tree of
        their chain's zones in the other districts. The result is the same either way.

    Returns
    -------
    DataFrame
        On ``zones``' index: ``nearest_partner_id``, ``nearest_partner_district``,
        ``nearest_partner_m`` (boundary distance; 0 when touching). All null when the
        zone's chain has no zone in another district. Equal distances: smallest id.
    """
    geoms = _geometries(zones)
    ids = _text(zones["zone_id"]).to_numpy(dtype=object)
    districts = _text(zones["district_id"])
    given = None
    if pairs is not None:
        given = (pairs["i"].to_numpy(np.int64), pairs["j"].to_numpy(np.int64),
                 pairs["distance_m"].to_numpy(float))
    partner, dist = _nearest_positions(geoms, _codes(zones["chain"]), pd.factorize(districts)[0],
                                       _id_order(ids), given)
    found = partner >= 0
    safe = np.where(found, partner, 0)
    out = pd.DataFrame(index=zones.index)
    out["nearest_partner_id"] = pd.Series(np.where(found, ids[safe] if len(ids) else None, None),
                                          index=zones.index, dtype="str")
    out["nearest_partner_district"] = pd.Series(
        np.where(found, districts.to_numpy(dtype=object)[safe] if len(ids) else None, None),
        index=zones.index, dtype="str")
    out["nearest_partner_m"] = dist
    return out


def nearest_innovation(
    zones: gpd.GeoDataFrame, innovation_districts: gpd.GeoDataFrame | None
) -> pd.DataFrame:
    """The nearest innovation district whose ``chains`` include the zone's chain.

    Parameters
    ----------
    zones : GeoDataFrame
        Zones with ``chain``.
    innovation_districts : GeoDataFrame or None
        With ``innov_id`` and ``chains``: chain names separated by ``;``, ``；`` or ``、``
        (surrounding blanks ignored).

    Returns
    -------
    DataFrame
        On ``zones``' index: ``nearest_innov_id`` and ``nearest_innov_m`` (boundary
        distance at any range, 0 when inside or touching). Null when no innovation
        district serves the chain or the layer is None. Equal distances: smallest id.
    """
    n = len(zones)
    best = np.full(n, None, dtype=object)
    best_m = np.full(n, np.nan)
    if innovation_districts is not None and len(innovation_districts) and n:
        geoms = _geometries(zones)
        chains = _text(zones["chain"])
        innov_geoms = _geometries(innovation_districts)
        innov_ids = _text(innovation_districts["innov_id"]).to_numpy(dtype=object)
        served = (
            pd.Series(innovation_districts["chains"].to_numpy(dtype=object), dtype="str")
            .str.split(CHAIN_SEPARATORS, regex=True)
            .explode()
        )
        served = _text(served.to_numpy(dtype=object)).set_axis(served.index)
        served = served[served.notna()]
        served = served[~shapely.is_missing(innov_geoms[served.index.to_numpy()])]
        tie = _id_order(innov_ids)
        chain_code, chain_names = pd.factorize(chains)
        ok = (chain_code >= 0) & ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
        by_chain = served.groupby(served.to_numpy(), sort=False).groups
        for members in _groups(chain_code, ok):
            hosts = by_chain.get(chain_names[chain_code[members[0]]])
            if hosts is None:
                continue
            hosts = np.unique(np.asarray(hosts, dtype=np.int64))
            tree = STRtree(innov_geoms[hosts])
            (qi, ti), qd = tree.query_nearest(geoms[members], all_matches=True, return_distance=True)
            src, dst, dd = _first_per_source(members[qi], hosts[ti], qd, tie)
            best[src], best_m[src] = innov_ids[dst], dd
    return pd.DataFrame(
        {"nearest_innov_id": pd.Series(best, dtype="str").to_numpy(), "nearest_innov_m": best_m},
        index=zones.index,
    ).astype({"nearest_innov_id": "str"})


def pair_strength(mass_a: Any, mass_b: Any, distance_m: Any, decay: float) -> np.ndarray:
    """Gravity strength ``mass_a * mass_b / (distance_km + 1) ** decay``.

    The ``+ 1`` keeps touching zones (distance 0) finite. Missing masses give NaN.

    Examples
    --------
    >>> pair_strength([100.0], [50.0], [1000.0], 2.0).tolist()
    [1250.0]
    """
    mass_a = np.asarray(mass_a, dtype=float)
    mass_b = np.asarray(mass_b, dtype=float)
    km = np.asarray(distance_m, dtype=float) / 1000.0
    return np.atleast_1d(mass_a * mass_b / (km + 1.0) ** float(decay))
