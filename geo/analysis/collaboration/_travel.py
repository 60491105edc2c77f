"""Collaboration in minutes on the road network (DESIGN.md "Roads and travel time").

``travel_min`` of a pair = min over entry nodes a of A and b of B of egress(a) + network time
a → b + egress(b), the faster direction. Only pairs that can be within
``collaboration.max_travel_min`` are searched: same chain, straight-line distance within
:func:`geo.network.straight_bound_m` (nothing faster is possible), all at once (one bounded
search per zone, :func:`geo.network.linked_minutes`). Pairs within one district are searched
too (they cost no extra search): the chains analysis reads its zone-to-zone reach from them.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

import numpy as np

from geo.analysis.collaboration._pairs import _candidate_positions, _first_per_source

log = logging.getLogger(__name__)


@dataclass
class PairMinutes:
    """Travel times of the pairs that can be within ``max_travel_min``.

    ``i``, ``j`` (positions, i < j) and ``minutes`` (NaN: slower than the limit, no path, or a
    zone without a road node); per zone ``fastest`` (position of the partner with the fewest
    minutes, -1 when none within the limit), ``fastest_min`` and ``within`` (partners within
    the limit); ``connected`` per zone.
    """

    i: np.ndarray
    j: np.ndarray
    minutes: np.ndarray
    fastest: np.ndarray
    fastest_min: np.ndarray
    within: np.ndarray
    connected: np.ndarray

    def lookup(self, a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
        """``minutes`` of the pairs (a, b) in either order; NaN for pairs not searched."""
        lo, hi = np.minimum(a, b).astype(np.int64), np.maximum(a, b).astype(np.int64)
        keys = self.i * n + self.j
        q = lo * n + hi
        out = np.full(len(q), np.nan)
        if len(keys) == 0 or len(q) == 0:
            return out
        order = np.argsort(keys)
        pos = np.minimum(np.searchsorted(keys[order], q), len(keys) - 1)
        found = keys[order][pos] == q
        out[found] = self.minutes[order][pos[found]]
        return out


def travel_candidates(graph, geoms: np.ndarray, chain_code: np.ndarray, *, max_travel_min: float,
                      access_speed_kmh: float) -> tuple[np.ndarray, np.ndarray, float]:
    """The pairs (i, j) whose travel minutes :func:`pair_minutes` asks for: same chain, any
    district, within the straight line no connection faster than ``max_travel_min`` can
    exceed (returned as the third value, metres). Remembered on the graph: a run asks
    for them twice (to read the partners' minutes from the commuting's searches, then here)."""
    from geo.network import straight_bound_m
    from geo.network.access import geometry_key

    bound = straight_bound_m(graph, max_travel_min, access_speed_kmh=access_speed_kmh)
    codes = np.ascontiguousarray(chain_code, dtype=np.int64)
    key = (geometry_key(geoms), hashlib.sha1(codes.tobytes()).hexdigest(), float(bound))

    def compute() -> tuple[np.ndarray, np.ndarray]:
        i, j, _d = _candidate_positions(geoms, chain_code, np.arange(len(geoms)), bound)
        return i, j

    i, j = graph.remembered("collaboration candidates", key, compute, keep=2)
    return i.copy(), j.copy(), bound


def pair_minutes(graph, geoms: np.ndarray, chain_code: np.ndarray, district_code: np.ndarray,
                 tie: np.ndarray, *, max_travel_min: float, access_speed_kmh: float,
                 max_access_m: float, n_jobs: int = 1) -> PairMinutes:
    """Travel minutes of every same-chain, cross-district pair that can be within the limit."""
    from geo.network import linked_minutes, shared_entries

    n = len(geoms)
    i, j, bound = travel_candidates(graph, geoms, chain_code, max_travel_min=max_travel_min,
                                    access_speed_kmh=access_speed_kmh)
    t = linked_minutes(graph, geoms, geoms, np.column_stack([i, j]), limit_min=float(max_travel_min),
                       access_speed_kmh=access_speed_kmh, max_access_m=max_access_m, n_jobs=n_jobs)
    cross = (district_code[i] != district_code[j]) & (district_code[i] >= 0) & (district_code[j] >= 0)
    i, j, t = i[cross], j[cross], t[cross]
    entries = shared_entries(graph, geoms, access_speed_kmh=access_speed_kmh, max_access_m=max_access_m)
    log.info("collaboration: travel times of %d pairs within %.0f m straight line (%d within %g min)",
             len(i), bound, int(np.isfinite(t).sum()), max_travel_min)
    ok = np.isfinite(t)
    src, dst, mins = _first_per_source(np.r_[i[ok], j[ok]], np.r_[j[ok], i[ok]], np.r_[t[ok], t[ok]], tie)
    fastest = np.full(n, -1, dtype=np.int64)
    fastest_min = np.full(n, np.nan)
    fastest[src], fastest_min[src] = dst, mins
    within = np.bincount(np.r_[i[ok], j[ok]], minlength=n).astype(np.int64)
    return PairMinutes(i=i, j=j, minutes=t, fastest=fastest, fastest_min=fastest_min, within=within,
                       connected=entries.connected)


def minutes_text(minutes: np.ndarray, connected: np.ndarray, limit: float, language: str) -> np.ndarray:
    """Suffix of a pair's reason: its travel time, that it is slower than the limit (or has no
    path), or that a zone of it has no road node."""
    m = np.asarray(minutes, dtype=float)
    key = np.where(np.isfinite(m), np.maximum(np.rint(m), 1.0), np.where(connected, -1.0, -2.0))
    values, code = np.unique(key, return_inverse=True)
    zh = language == "zh"
    texts = []
    for v in values:
        if v == -2:
            texts.append("；一方无路网接入，暂不建议" if zh else "; a zone has no road access, not suggested")
        elif v < 0:
            texts.append(f"；路网通行超过 {limit:g} 分钟或不连通，暂不建议" if zh
                         else f"; over {limit:g} min by road or no road path, not suggested")
        else:
            texts.append(f"，路网通行约 {v:.0f} 分钟" if zh else f", about {v:.0f} min by road")
    return np.array(texts, dtype=object)[code.reshape(-1)] if len(m) else np.zeros(0, dtype=object)
