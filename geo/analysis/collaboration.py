"""Cross-district collaboration of industrial functional zones (DESIGN.md ``collaboration``).

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
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import shapely
from shapely import STRtree

import geopandas as gpd
from geo._types import AnalysisResult, Study
from geo.i18n import label
from geo.schema import ROLES
from geo.settings import Settings

log = logging.getLogger(__name__)

NAME = "collaboration"

#: Pair types in order of precedence (the first that applies wins).
PAIR_TYPES: tuple[str, ...] = ("main_partner", "rd_manufacturing", "terminal_supporting", "peer")

#: Separators of the ``chains`` field of innovation districts (as geo.layers.split_chains).
CHAIN_SEPARATORS = r"[;；、]"

PAIR_COLUMNS = [
    "zone_a", "zone_b", "name_a", "name_b", "chain", "district_a", "district_b",
    "distance_m", "strength", "pair_type", "rank", "recommended", "reason",
]
ZONE_COLUMNS = [
    "zone_id", "name", "chain", "district_id", "nearest_partner_id",
    "nearest_partner_district", "nearest_partner_m", "partners_within",
    "nearest_innov_id", "nearest_innov_m",
]
CHAIN_COLUMNS = [
    "chain", "zones", "districts", "pairs", "share_linked", "mean_nearest_partner_m",
    "standard_distance_m", "fragmentation_rank",
]
MATRIX_COLUMNS = ["district_a", "district_b", "name_a", "name_b", "pairs", "recommended_pairs", "strength"]

# dwithin runs on prepared geometries, whose distance test may differ from
# shapely.distance in the last bits; query slightly wider, then filter on exact distance.
_QUERY_PAD_REL = 1e-9
_QUERY_PAD_ABS = 1e-6


# ---------------------------------------------------------------------------
# small helpers


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


def _json_float(value: float) -> float | None:
    value = float(value)
    return None if math.isnan(value) else value


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if len(text) > 1 and not text[1].isupper() and text[1] != "&" else text


# ---------------------------------------------------------------------------
# building blocks


def _candidate_positions(
    geoms: np.ndarray, chain_code: np.ndarray, district_code: np.ndarray, max_distance_m: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    eligible = _eligible(geoms, chain_code, district_code)
    query_m = max_distance_m * (1 + _QUERY_PAD_REL) + _QUERY_PAD_ABS
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
        keep = d <= max_distance_m
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


def _lookup(values: Any, mapping: dict[str, Any]) -> np.ndarray:
    """``mapping[v]`` for each value (None when missing or unmapped), as an object array.

    Factorizes first, so the dict is consulted once per distinct value.
    """
    codes, uniques = pd.factorize(np.asarray(values, dtype=object))
    table = np.array([mapping.get(u) if isinstance(u, str) else None for u in uniques] + [None], dtype=object)
    return table[codes]


def _is(values: Any, key: str) -> np.ndarray:
    return _lookup(values, {key: True}).astype(bool)


def classify_pairs(
    role_a: Any,
    role_b: Any,
    *,
    position_a: Any = None,
    position_b: Any = None,
) -> np.ndarray:
    """Pair type of each pair, by precedence.

    1. ``main_partner``: one zone is ``core`` and the other ``periphery`` (``position_*``
       from the core–periphery analysis; skipped when None);
    2. ``rd_manufacturing``: zone roles are {rd, manufacturing};
    3. ``terminal_supporting``: zone roles are {terminal, supporting};
    4. ``peer``: anything else (same role, ``mixed``, missing roles, two cores, ...).

    Parameters
    ----------
    role_a, role_b : array-like of str
        Zone roles (``rd``, ``manufacturing``, ``terminal``, ``supporting``, ``mixed``
        or missing).
    position_a, position_b : array-like of str, optional
        ``core`` / ``periphery`` / missing.

    Returns
    -------
    ndarray of str (object)
    """
    a = {k: _is(role_a, k) for k in ("rd", "manufacturing", "terminal", "supporting")}
    b = {k: _is(role_b, k) for k in ("rd", "manufacturing", "terminal", "supporting")}
    out = np.full(len(a["rd"]), "peer", dtype=object)
    out[(a["terminal"] & b["supporting"]) | (a["supporting"] & b["terminal"])] = "terminal_supporting"
    out[(a["rd"] & b["manufacturing"]) | (a["manufacturing"] & b["rd"])] = "rd_manufacturing"
    if position_a is not None and position_b is not None:
        core_a, core_b = _is(position_a, "core"), _is(position_b, "core")
        per_a, per_b = _is(position_a, "periphery"), _is(position_b, "periphery")
        out[(core_a & per_b) | (per_a & core_b)] = "main_partner"
    return out


def _chain_phrase(chain: str, language: str) -> str:
    if language == "zh":
        return chain if chain.endswith("链") else f"{chain}产业链"
    return chain if chain.lower().endswith("chain") else f"{chain} chain"


_ZH_TYPE = {
    "main_partner": "主承载 + 协同地",
    "rd_manufacturing": "研发 + 制造协同",
    "terminal_supporting": "终端 + 配套协同",
    "peer": "同链协作",
}


def _combine(*codes: np.ndarray) -> np.ndarray:
    """One dense integer code per distinct combination of the given code arrays."""
    key = np.zeros(len(codes[0]), dtype=np.int64)
    for c in codes:
        c = np.asarray(c, dtype=np.int64) + 1  # factorize gives -1 for missing
        key = np.unique(key * (int(c.max(initial=0)) + 1) + c, return_inverse=True)[1].astype(np.int64)
    return key


def _representatives(key: np.ndarray) -> np.ndarray:
    """A row position for each code of ``key`` (codes 0..K-1)."""
    rep = np.zeros(int(key.max(initial=-1)) + 1, dtype=np.int64)
    rep[key] = np.arange(len(key))
    return rep


def _reasons(
    chain: np.ndarray, name_a: np.ndarray, name_b: np.ndarray, role_a: np.ndarray, role_b: np.ndarray,
    pos_a: np.ndarray | None, pos_b: np.ndarray | None, ptype: np.ndarray, distance_m: np.ndarray,
    language: str,
) -> np.ndarray:
    """Array core of :func:`pair_reasons` (object arrays in, object array of str out).

    A sentence is prefix (chain, both sides) + distance text + pair-type text. Each
    part is built once per distinct value and the sentences once per distinct
    combination, then gathered: many pairs share one string object, which keeps
    memory and time low for hundreds of thousands of pairs.
    """
    n = len(ptype)
    if n == 0:
        return np.zeros(0, dtype=object)
    none = np.full(n, None, dtype=object)
    pos_a = none if pos_a is None else np.asarray(pos_a, dtype=object)
    pos_b = none if pos_b is None else np.asarray(pos_b, dtype=object)
    ptype = np.asarray(ptype, dtype=object)
    main = _is(ptype, "main_partner")
    # terms in the study language, lower-cased inside an English sentence
    terms = {k: label(k, language) if language == "zh" else _lower_first(label(k, language))
             for k in (*ROLES, "core", "periphery")}
    if language != "zh":
        terms["core"], terms["periphery"] = "core", "periphery"
    word_a = _lookup(np.where(main, pos_a, role_a), terms)
    word_b = _lookup(np.where(main, pos_b, role_b), terms)
    name_a = np.asarray(name_a, dtype=object)
    name_b = np.asarray(name_b, dtype=object)
    # the leading side (R&D, terminal, core) first
    lead_b = (
        (_is(ptype, "rd_manufacturing") & _is(role_b, "rd"))
        | (_is(ptype, "terminal_supporting") & _is(role_b, "terminal"))
        | (main & _is(pos_b, "core"))
    )
    first_name, second_name = np.where(lead_b, name_b, name_a), np.where(lead_b, name_a, name_b)
    first_word, second_word = np.where(lead_b, word_b, word_a), np.where(lead_b, word_a, word_b)
    chain = np.asarray(chain, dtype=object)

    # 1. prefix: chain and both sides, once per distinct combination
    parts = (chain, first_name, first_word, second_name, second_word)
    prefix_key = _combine(*(pd.factorize(v)[0] for v in parts))
    rep = _representatives(prefix_key)
    c, fn, fw, sn, sw = (v[rep] for v in parts)
    chain_text = _lookup(c, {x: _chain_phrase(x, language) for x in pd.unique(c) if isinstance(x, str)})

    def side(name: np.ndarray, word: np.ndarray) -> np.ndarray:
        known = pd.notna(word)
        out = name.copy() if language == "zh" else "a zone in " + name
        if known.any():
            if language == "zh":
                out[known] = name[known] + "“" + word[known] + "”"
            else:
                out[known] = word[known] + " in " + name[known]
        return out

    if language == "zh":
        prefix = chain_text + "：" + side(fn, fw) + "与" + side(sn, sw)
    else:
        prefix = chain_text + ": " + side(fn, fw) + " and " + side(sn, sw) + ", "

    # 2. distance text, once per distinct rounded distance (0.1 km; 0.01 km below 0.1 km)
    km = np.asarray(distance_m, dtype=float) / 1000.0
    tenths = np.rint(km * 10)
    hundredths = np.rint(km * 100)
    dist_key = np.where(km <= 0.0, -1.0, np.where(tenths >= 1, tenths * 10, hundredths))
    dist_values, dist_code = np.unique(dist_key, return_inverse=True)
    texts = []
    for v in dist_values:  # distinct distances only (a few hundred)
        if v < 0:
            texts.append("毗邻" if language == "zh" else "adjacent")
        else:
            km_text = f"{v / 100:.1f}" if v >= 10 else f"{v / 100:.2f}"
            texts.append(f"相距 {km_text} 公里" if language == "zh" else f"{km_text} km apart")
    dist_text = np.array(texts, dtype=object)

    # 3. pair-type text
    type_code, type_values = pd.factorize(ptype)
    if language == "zh":
        kind = np.array(["，" + _ZH_TYPE.get(t, t) for t in type_values], dtype=object)
    else:
        kind = np.array([f" ({_lower_first(label(t, language))})" for t in type_values], dtype=object)

    # 4. sentences, once per distinct (prefix, distance, type)
    key = _combine(prefix_key, dist_code, type_code)
    rep = _representatives(key)
    sentences = prefix[prefix_key[rep]] + dist_text[dist_code[rep]]
    np.add(sentences, kind[type_code[rep]], out=sentences)  # in place: one temporary string at a time
    return sentences[key]


def pair_reasons(pairs: pd.DataFrame, *, language: str = "zh") -> pd.Series:
    """One sentence per pair saying why the two zones should collaborate.

    Parameters
    ----------
    pairs : DataFrame
        Columns ``chain``, ``district_name_a``, ``district_name_b``, ``role_a``,
        ``role_b``, ``pair_type``, ``distance_m`` and, for main-partner pairs,
        ``position_a`` / ``position_b`` (``core`` / ``periphery``).
    language : {'zh', 'en'}

    Returns
    -------
    Series of str on ``pairs``' index. The leading side (R&D, terminal or core) is
    named first; main-partner pairs name core/periphery, other pairs the zone roles
    (omitted when unknown). Distance in km with one decimal (two below 0.1 km);
    touching zones are "adjacent" (毗邻).

    Examples
    --------
    >>> import pandas as pd
    >>> p = pd.DataFrame({"chain": ["电子信息"], "district_name_a": ["双流区"],
    ...     "district_name_b": ["高新区"], "role_a": ["manufacturing"], "role_b": ["rd"],
    ...     "pair_type": ["rd_manufacturing"], "distance_m": [3210.0]})
    >>> pair_reasons(p, language="zh").iloc[0]
    '电子信息产业链：高新区“研发”与双流区“制造”相距 3.2 公里，研发 + 制造协同'
    """
    def col(name: str) -> np.ndarray | None:
        if name not in pairs:
            return None
        return pairs[name].astype(object).where(pairs[name].notna(), None).to_numpy(dtype=object)

    n = len(pairs)
    none = np.full(n, None, dtype=object)
    text = _reasons(
        col("chain"), col("district_name_a"), col("district_name_b"),
        col("role_a") if "role_a" in pairs else none, col("role_b") if "role_b" in pairs else none,
        col("position_a"), col("position_b"), col("pair_type"),
        pairs["distance_m"].to_numpy(dtype=float), language,
    )
    return pd.Series(text, index=pairs.index, dtype="str")


def chain_dispersion(frame: pd.DataFrame) -> pd.DataFrame:
    """How scattered each chain is, most fragmented first.

    Parameters
    ----------
    frame : DataFrame
        One row per zone: ``chain``, ``district_id``, ``jobs``, ``x``, ``y``
        (representative point, metres), ``nearest_partner_m``, ``partners_within``.
        Rows with a missing chain are ignored.

    Returns
    -------
    DataFrame
        ``chain``, ``zones``, ``districts`` (distinct districts spanned), ``pairs``
        (cross-district pairs within range = Σ partners_within / 2), ``share_linked``
        (share of zones with a partner within range; 0 when the chain is in one
        district), ``mean_nearest_partner_m`` (NaN when no zone has a partner),
        ``standard_distance_m`` = sqrt(Σ w·((x−x̄)² + (y−ȳ)²) / Σ w) around the
        jobs-weighted mean centre (w = jobs, missing jobs count 0; equal weights when
        the chain has no jobs at all), ``fragmentation_rank`` (1 = most fragmented).

    Notes
    -----
    Ordering key (most fragmented → most compact): ``standard_distance_m`` descending,
    then ``share_linked`` ascending, then ``mean_nearest_partner_m`` descending (NaN
    last), then ``chain`` name.
    """
    df = pd.DataFrame({
        "chain": _text(frame["chain"]).to_numpy(dtype=object),
        "district_id": _text(frame["district_id"]).to_numpy(dtype=object),
        "w": pd.to_numeric(frame["jobs"], errors="coerce").fillna(0.0).clip(lower=0).to_numpy(float),
        "x": np.asarray(frame["x"], dtype=float),
        "y": np.asarray(frame["y"], dtype=float),
        "near": np.asarray(frame["nearest_partner_m"], dtype=float),
        "within": np.asarray(frame["partners_within"], dtype=float),
    })
    df = df[df["chain"].notna() & np.isfinite(df["x"]) & np.isfinite(df["y"])]
    if df.empty:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(
            CHAIN_COLUMNS, ["str", "int64", "int64", "int64", "float", "float", "float", "int64"])})
    g = df.groupby("chain", sort=True)
    total_w = g["w"].transform("sum")
    w = df["w"].where(total_w > 0, 1.0)
    wsum = w.groupby(df["chain"]).transform("sum")
    cx = (w * df["x"]).groupby(df["chain"]).transform("sum") / wsum
    cy = (w * df["y"]).groupby(df["chain"]).transform("sum") / wsum
    sq = w * ((df["x"] - cx) ** 2 + (df["y"] - cy) ** 2)
    sd = np.sqrt(sq.groupby(df["chain"]).sum() / w.groupby(df["chain"]).sum())
    out = pd.DataFrame({
        "chain": g.size().index.astype("str"),
        "zones": g.size().to_numpy(np.int64),
        "districts": g["district_id"].nunique().to_numpy(np.int64),
        "pairs": (g["within"].sum() // 2).to_numpy(np.int64),
        "share_linked": (df["within"] > 0).groupby(df["chain"]).mean().to_numpy(float),
        "mean_nearest_partner_m": g["near"].mean().to_numpy(float),
        "standard_distance_m": sd.to_numpy(float),
    })
    out = out.sort_values(
        ["standard_distance_m", "share_linked", "mean_nearest_partner_m", "chain"],
        ascending=[False, True, False, True], na_position="last", kind="mergesort",
    ).reset_index(drop=True)
    out["fragmentation_rank"] = np.arange(1, len(out) + 1, dtype=np.int64)
    return out


def district_matrix(pairs: pd.DataFrame, district_names: dict[str, str] | None = None) -> pd.DataFrame:
    """District × district summary of pairs, in long form, folded.

    Parameters
    ----------
    pairs : DataFrame
        ``district_a``, ``district_b``, ``strength`` and optionally ``recommended``.
    district_names : dict, optional
        district_id → name for the ``name_a`` / ``name_b`` columns (ids when absent).

    Returns
    -------
    DataFrame
        One row per unordered district pair that has at least one zone pair:
        ``district_a < district_b`` (string order; the matrix is symmetric, so each
        cell appears once), ``name_a``, ``name_b``, ``pairs``, ``recommended_pairs``,
        ``strength`` (sum of pair strengths). Sorted by strength descending.
    """
    if len(pairs) == 0:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(
            MATRIX_COLUMNS, ["str", "str", "str", "str", "int64", "int64", "float"])})
    a = pairs["district_a"].to_numpy(dtype=str)
    b = pairs["district_b"].to_numpy(dtype=str)
    lo, hi = np.where(a <= b, a, b), np.where(a <= b, b, a)
    rec = pairs["recommended"].to_numpy(bool) if "recommended" in pairs else np.zeros(len(pairs), bool)
    df = pd.DataFrame({"district_a": lo, "district_b": hi, "rec": rec,
                       "strength": pairs["strength"].to_numpy(float)})
    g = df.groupby(["district_a", "district_b"], sort=True)
    out = pd.DataFrame({
        "pairs": g.size(),
        "recommended_pairs": g["rec"].sum().astype(np.int64),
        "strength": g["strength"].sum(min_count=1),
    }).reset_index()
    names = district_names or {}
    out.insert(2, "name_a", out["district_a"].map(lambda d: names.get(d, d)).astype("str"))
    out.insert(3, "name_b", out["district_b"].map(lambda d: names.get(d, d)).astype("str"))
    out = out.astype({"district_a": "str", "district_b": "str", "pairs": "int64"})
    out = out.sort_values(["strength", "district_a", "district_b"], ascending=[False, True, True],
                          na_position="last", kind="mergesort").reset_index(drop=True)
    return out[MATRIX_COLUMNS]


# ---------------------------------------------------------------------------
# the analysis


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


def _empty_lines(crs: Any) -> gpd.GeoDataFrame:
    dtypes = ["str"] * 7 + ["float", "float", "str", "int64", "bool", "str"]
    frame = pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(PAIR_COLUMNS, dtypes)})
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([], crs=crs), crs=crs)


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

    # --- pairs -------------------------------------------------------------------
    i, j, d = _candidate_positions(geoms, chain_code, district_code, float(cfg.max_distance_m))
    log.info("collaboration: %d candidate pairs within %.0f m", len(i), cfg.max_distance_m)
    dist_str = districts.to_numpy(dtype=object)
    district_rank = pd.factorize(districts, sort=True)[0]
    swap = district_rank[i] > district_rank[j]  # orient every pair district_a < district_b
    i, j = np.where(swap, j, i), np.where(swap, i, j)

    strength = pair_strength(mass[i], mass[j], d, cfg.distance_decay)
    ptype = classify_pairs(
        roles[i], roles[j],
        position_a=None if positions is None else positions[i],
        position_b=None if positions is None else positions[j],
    )
    chain_order = pd.factorize(chains, sort=True)[0]
    order = np.lexsort((tie[j], tie[i], d, np.where(np.isnan(strength), np.inf, -strength), chain_order[i]))
    i, j, d, strength, ptype = i[order], j[order], d[order], strength[order], ptype[order]
    if len(i):
        group = chain_order[i]
        starts = np.r_[0, np.flatnonzero(group[1:] != group[:-1]) + 1]
        rank = np.arange(len(i)) - np.repeat(starts, np.diff(np.r_[starts, len(i)])) + 1
    else:
        rank = np.zeros(0, np.int64)
    rank = rank.astype(np.int64)
    recommended = rank <= cfg.top_pairs_per_chain

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
        coords = np.stack([np.c_[x[i], y[i]], np.c_[x[j], y[j]]], axis=1)
        pairs_gdf = gpd.GeoDataFrame(pairs, geometry=shapely.linestrings(coords), crs=zones.crs)
    else:
        pairs_gdf = _empty_lines(zones.crs)

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
    zone_table.index = zones.index
    zones_gdf = gpd.GeoDataFrame(zone_table, geometry=zones.geometry.copy().rename("geometry"), crs=zones.crs)

    # --- per chain, matrix ------------------------------------------------------------
    chain_table = chain_dispersion(pd.DataFrame({
        "chain": chains.to_numpy(dtype=object), "district_id": dist_str,
        "jobs": pd.to_numeric(zones["jobs"], errors="coerce").to_numpy(float),
        "x": x, "y": y, "nearest_partner_m": near_m, "partners_within": within,
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
        "most_fragmented_chains": chain_table["chain"].head(3).tolist(),
        "most_compact_chains": chain_table["chain"].iloc[::-1].head(3).tolist(),
        "strongest_district_pair": strongest,
        "parameters": {
            "max_distance_m": float(cfg.max_distance_m),
            "distance_decay": float(cfg.distance_decay),
            "top_pairs_per_chain": int(cfg.top_pairs_per_chain),
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
