"""Travel times between features of two sets (workplaces and points), for the analyses that
link zones: collaboration partners, core attachment, chain reach.

* A **workplace** (polygon) is entered as DESIGN.md says: every node inside it or within
  ``max_access_m`` of its boundary, egress = distance to the polygon / access speed.
* A **point** (a firm) is treated like a home: its nearest node, access = distance /
  access speed; farther than ``max_access_m`` it is not connected.
* Between a and b: min over entries of egress(a) + network time + egress(b), the faster of
  the two directions (DESIGN.md "Travel time between two workplaces").

:func:`straight_bound_m` turns a time limit into a straight-line distance no faster
connection can exceed, so that candidate pairs are found with a spatial index first.
"""

from __future__ import annotations

import numpy as np
import shapely

from geo.network._dijkstra import njit
from geo.network._reverse import reversed_graph
from geo.network.access import Entries, geometry_key, housing_access, minutes_per_metre, workplace_entries
from geo.network.graph import RoadGraph
from geo.network._search import _Query, _Searcher
from geo.network.reach import TIME_TOLERANCE_MIN, _batches, _run

__all__ = ["feature_entries", "LinkReader", "link_many", "linked_minutes", "point_entries", "reversed_graph", "shared_entries",
           "straight_bound_m", "travel_between_sets"]

#: State of the running search batches (inherited by forked worker processes).
_LS: dict = {}


def point_entries(graph: RoadGraph, points_xy: np.ndarray, *, access_speed_kmh: float = 5.0,
                  max_access_m: float = 1000.0) -> Entries:
    """Entries of points treated like homes: the nearest node, access minutes as egress."""
    acc = housing_access(graph, points_xy, access_speed_kmh=access_speed_kmh, max_access_m=max_access_m)
    ok = acc.node >= 0
    offsets = np.concatenate([[0], np.cumsum(ok)]).astype(np.int64)
    return Entries(offsets=offsets, node=acc.node[ok], egress_min=acc.access_min[ok])


def feature_entries(graph: RoadGraph, geometries, *, access_speed_kmh: float = 5.0,
                    max_access_m: float = 1000.0) -> Entries:
    """Entries of mixed features: points like homes, every other geometry like a workplace.

    Missing or empty geometries get no entry (not connected).
    """
    geoms = np.asarray(getattr(geometries, "values", geometries), dtype=object)
    n = len(geoms)
    bad = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    is_point = ~bad & (shapely.get_type_id(geoms) == 0)
    is_poly = ~bad & ~is_point
    parts = []          # (owner positions, Entries)
    if is_point.any():
        pos = np.flatnonzero(is_point)
        parts.append((pos, point_entries(graph, shapely.get_coordinates(geoms[pos]),
                                         access_speed_kmh=access_speed_kmh, max_access_m=max_access_m)))
    if is_poly.any():
        pos = np.flatnonzero(is_poly)
        parts.append((pos, workplace_entries(graph, geoms[pos], access_speed_kmh=access_speed_kmh,
                                             max_access_m=max_access_m)))
    if len(parts) == 1 and len(parts[0][0]) == n:
        return parts[0][1]
    owner = [np.zeros(0, np.int64)]
    node = [np.zeros(0, np.int64)]
    egress = [np.zeros(0)]
    for pos, e in parts:
        owner.append(pos[e.owner()])
        node.append(e.node)
        egress.append(e.egress_min)
    owner, node, egress = np.concatenate(owner), np.concatenate(node), np.concatenate(egress)
    order = np.lexsort((node, owner))
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(owner, minlength=n), out=offsets[1:])
    return Entries(offsets=offsets, node=node[order].astype(np.int64), egress_min=egress[order])


def straight_bound_m(graph: RoadGraph, minutes: float, *, access_speed_kmh: float = 5.0) -> float:
    """A straight-line distance that no connection of ``minutes`` or less can exceed.

    Every leg (walking access, road segments) covers at most the fastest speed × its time,
    so two features farther apart than ``minutes`` × the fastest speed cannot be linked
    within ``minutes``. Snapping joins vertices a little apart: a margin (1 % + 1 km) is added.
    """
    speeds = np.asarray(graph.road_speed_kmh, dtype=float)
    vmax = max(float(np.nanmax(speeds)) if speeds.size else 0.0, float(access_speed_kmh))
    reach = float(minutes) / minutes_per_metre(vmax)
    return reach * 1.01 + 1000.0


def _directed_pairs(graph: RoadGraph, origins: Entries, dests: Entries, o_idx: np.ndarray, d_idx: np.ndarray,
                    *, limit_min: float, n_jobs: int) -> np.ndarray:
    """Minutes origin ``o_idx[i]`` → destination ``d_idx[i]`` (inf when not within ``limit_min``).

    One reverse search per distinct destination; the times are read at the origins' entry
    nodes through one query over every origin entry (built once, not per destination).
    """
    result = np.full(len(o_idx), np.inf)
    if len(o_idx) == 0 or len(origins.node) == 0:
        return result
    searcher = _Searcher(graph, dests)
    order = np.argsort(d_idx, kind="stable")
    d_sorted = d_idx[order]
    uniq = np.unique(d_sorted)
    uniq = uniq[dests.connected[uniq]]
    _LS.update(searcher=searcher, query=_Query(graph, origins.node), origins=origins, o_idx=o_idx,
               order=order, d_sorted=d_sorted, limit=limit_min)
    try:
        results = _run(_read_pairs, _batches(uniq, searcher.aug.shape[0]), n_jobs)
    finally:
        _LS.clear()
    for sel, vals in results:
        result[sel] = vals
    return result


def _read_pairs(batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    s: _Searcher = _LS["searcher"]
    limit = _LS["limit"]
    dk = s.search(batch, limit=limit + TIME_TOLERANCE_MIN if np.isfinite(limit) else np.inf)
    sels, vals = [], []
    for b, w in enumerate(batch):
        sel, best = _read_row(s, _LS["query"], _LS["origins"], _LS["o_idx"], _LS["order"], _LS["d_sorted"],
                              int(w), int(w), dk[b])
        sels.append(sel)
        vals.append(best)
    return np.concatenate(sels), np.concatenate(vals)


def _read_row(s: _Searcher, q: _Query, origins: Entries, o_idx: np.ndarray, order: np.ndarray,
              d_sorted: np.ndarray, dest: int, w: int, row: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The pairs whose destination is ``dest`` (positions ``sel`` of ``o_idx``) and their
    minutes, read from ``row`` = the kept-node times of ``s``'s search of its workplace ``w``."""
    sel = order[np.searchsorted(d_sorted, dest, "left"):np.searchsorted(d_sorted, dest, "right")]
    cols, cost = s.along_chain(w, q)     # along a chain to an entry of w on it
    best = _pair_minutes(np.ascontiguousarray(o_idx[sel], dtype=np.int64), origins.offsets, q.to_u, q.to_v,
                         q.ku, q.kv, row, np.ascontiguousarray(cols, dtype=np.int64),
                         np.ascontiguousarray(cost, dtype=np.float64), origins.egress_min, _low(len(q.to_u)))
    return sel, best


_LOW: list = []


def _low(n: int) -> np.ndarray:
    """A buffer of ``n`` infs that :func:`_pair_minutes` leaves as it found it (reused)."""
    if not _LOW or len(_LOW[0]) < n:
        _LOW[:] = [np.full(max(n, 1024), np.inf)]
    return _LOW[0]


@njit
def _pair_minutes(origin, offsets, to_u, to_v, ku, kv, row, cols, cost, egress, low):
    """Per origin: the least ``min(to_u + row[ku], to_v + row[kv])`` over its entries,
    lowered by the ways along a chain (``cols``, ``cost``), plus the entry's egress (inf
    without an entry): the sums :func:`linked_minutes` makes, in the same order."""
    for k in range(cols.shape[0]):
        if cost[k] < low[cols[k]]:
            low[cols[k]] = cost[k]
    out = np.full(origin.shape[0], np.inf)
    for i in range(origin.shape[0]):
        o = origin[i]
        best = np.inf
        for e in range(offsets[o], offsets[o + 1]):
            t = min(to_u[e] + row[ku[e]], to_v[e] + row[kv[e]])
            if low[e] < t:
                t = low[e]
            t = t + egress[e]
            if t < best:
                best = t
        out[i] = best
    for k in range(cols.shape[0]):
        low[cols[k]] = np.inf
    return out


class LinkReader:
    """The minutes :func:`linked_minutes` gives for pairs of one set of polygons, read from
    searches made for something else, then remembered on the graph as if that call had
    searched them (it is then answered from memory, with the same numbers).

    The searches must be those of a :class:`~geo.network._search._Searcher` of workplaces
    among which every polygon of the set is (``rows[k]``: the workplace of polygon ``k``,
    with the same entries), each searched without a limit or at least to ``limit_min``:
    a destination's minutes are those of its own search, read the same way as
    :func:`linked_minutes` reads them. The commuting's one complete search per workplace is
    read so for the collaboration's partner pairs.
    """

    def __init__(self, graph: RoadGraph, geometries, pairs: np.ndarray, rows: np.ndarray, *,
                 limit_min: float, access_speed_kmh: float = 5.0, max_access_m: float = 1000.0):
        a = np.asarray(getattr(geometries, "values", geometries), dtype=object)
        self.n = len(a)
        self.key = geometry_key(a)
        self.params = (float(access_speed_kmh), float(max_access_m))
        self.limit = float(limit_min)
        self.entries = _cached_entries(graph, a, self.key, *self.params)
        pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        i, j = np.minimum(pairs[:, 0], pairs[:, 1]), np.maximum(pairs[:, 0], pairs[:, 1])
        self.keys = np.unique(i * self.n + j)       # as linked_minutes asks travel_between_sets
        i, j = self.keys // max(self.n, 1), self.keys % max(self.n, 1)
        self.o_idx, d_idx = np.concatenate([i, j]), np.concatenate([j, i])
        self.order = np.argsort(d_idx, kind="stable")
        self.d_sorted = d_idx[self.order]
        self.query = _Query(graph, self.entries.node)
        self.minutes = np.full(len(self.o_idx), np.inf)
        dests = np.unique(d_idx)
        self.todo = set(dests[self.entries.connected[dests]].tolist())
        self.feature_of_row = {int(r): k for k, r in enumerate(np.asarray(rows, dtype=np.int64)) if r >= 0}

    def read(self, s: _Searcher, batch: np.ndarray, dk: np.ndarray) -> None:
        """Read the rows ``dk`` (kept-node minutes) of the searches of ``s``'s workplaces ``batch``."""
        for b, w in enumerate(batch):
            k = self.feature_of_row.get(int(w))
            if k is not None and k in self.todo:
                sel, best = _read_row(s, self.query, self.entries, self.o_idx, self.order, self.d_sorted,
                                      k, int(w), dk[b])
                self.minutes[sel] = best
                self.todo.discard(k)

    def remember(self, graph: RoadGraph) -> bool:
        """Remember the minutes on the graph when every destination was read (True)."""
        if self.todo:
            return False
        half = len(self.keys)
        best = np.minimum(self.minutes[:half], self.minutes[half:])
        best[~np.isfinite(best) | (best > self.limit + TIME_TOLERANCE_MIN)] = np.nan
        _remember(graph._cache.setdefault("links", {}), (self.key, self.key, *self.params), self.limit,
                  self.keys, best)
        return True


def travel_between_sets(graph: RoadGraph, a: Entries, b: Entries, pairs: np.ndarray, *,
                        limit_min: float = np.inf, n_jobs: int = 1) -> np.ndarray:
    """Minutes between ``a[i]`` and ``b[j]`` for each pair ``(i, j)``: the faster direction.

    ``b is a`` (one set): one search per feature in the pairs, read for both directions.
    Two sets: searches towards the side with fewer distinct features in the pairs (the other
    direction on the reversed graph), one per feature each way. Searches stop at ``limit_min``.

    Returns
    -------
    ndarray
        One value per pair; NaN when not connected, no path, or slower than ``limit_min``.
    """
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    i, j = pairs[:, 0], pairs[:, 1]
    if len(pairs) == 0:
        return np.zeros(0)
    kw = {"limit_min": limit_min, "n_jobs": n_jobs}
    if b is a:
        t = _directed_pairs(graph, a, a, np.concatenate([i, j]), np.concatenate([j, i]), **kw)
        best = np.minimum(t[: len(i)], t[len(i):])
    else:
        rev = reversed_graph(graph)
        if len(np.unique(i)) < len(np.unique(j)):
            # searches towards a: b → a on the graph, a → b on the reversed graph
            best = np.minimum(_directed_pairs(graph, b, a, j, i, **kw), _directed_pairs(rev, b, a, j, i, **kw))
        else:
            best = np.minimum(_directed_pairs(graph, a, b, i, j, **kw), _directed_pairs(rev, a, b, i, j, **kw))
    best[~np.isfinite(best) | (best > limit_min + TIME_TOLERANCE_MIN)] = np.nan
    return best


# ---------------------------------------------------------------------------- shared between analyses

def _cached_entries(graph: RoadGraph, geoms: np.ndarray, key: str, access_speed_kmh: float,
                    max_access_m: float) -> Entries:
    store = graph._cache.setdefault("entries", {})
    k = (key, float(access_speed_kmh), float(max_access_m))
    if k not in store:
        store[k] = feature_entries(graph, geoms, access_speed_kmh=access_speed_kmh, max_access_m=max_access_m)
    return store[k]


def shared_entries(graph: RoadGraph, geometries, *, access_speed_kmh: float = 5.0,
                   max_access_m: float = 1000.0) -> Entries:
    """:func:`feature_entries`, remembered on the graph by the features' content."""
    geoms = np.asarray(getattr(geometries, "values", geometries), dtype=object)
    return _cached_entries(graph, geoms, geometry_key(geoms), access_speed_kmh, max_access_m)


def linked_minutes(graph: RoadGraph, a, b, pairs: np.ndarray, *, limit_min: float = np.inf,
                   access_speed_kmh: float = 5.0, max_access_m: float = 1000.0, n_jobs: int = 1) -> np.ndarray:
    """:func:`travel_between_sets` of features (geometries), remembered on the graph.

    ``a`` and ``b`` are arrays of geometries (points join like homes, polygons like
    workplaces; :func:`feature_entries`). The results are kept on ``graph`` by the
    features' content, the pairs and the limit, so that analyses asking about the same
    features (collaboration and chain reach both link zones; the chains analysis links
    leaders with zones twice) search once. A request is answered from memory when every
    pair was computed before with at least its limit; otherwise it is computed.

    Returns
    -------
    ndarray
        Minutes per pair (faster direction); NaN when not within ``limit_min``.
    """
    a = np.asarray(getattr(a, "values", a), dtype=object)
    b = np.asarray(getattr(b, "values", b), dtype=object)
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    if len(pairs) == 0:
        return np.zeros(0)
    ka = geometry_key(a)
    kb = ka if b is a else geometry_key(b)
    same = ka == kb and len(a) == len(b)
    i, j = pairs[:, 0], pairs[:, 1]
    if same:
        i, j = np.minimum(i, j), np.maximum(i, j)
    store = graph._cache.setdefault("links", {})
    params = (float(access_speed_kmh), float(max_access_m))
    limit = float(limit_min)
    for key, qi, qj, nb in (((ka, kb, *params), i, j, len(b)), ((kb, ka, *params), j, i, len(a))):
        hit = store.get(key)
        if hit is None or hit["limit"] < limit - TIME_TOLERANCE_MIN:
            continue
        q = qi * nb + qj
        pos = np.minimum(np.searchsorted(hit["keys"], q), max(len(hit["keys"]) - 1, 0))
        if len(hit["keys"]) and (hit["keys"][pos] == q).all():
            t = hit["minutes"][pos].copy()
            t[t > limit + TIME_TOLERANCE_MIN] = np.nan
            return t
    ea = _cached_entries(graph, a, ka, *params)
    eb = ea if same else _cached_entries(graph, b, kb, *params)
    keys = i * len(b) + j
    uk, inv = np.unique(keys, return_inverse=True)
    t_u = travel_between_sets(graph, ea, eb, np.column_stack([uk // len(b), uk % len(b)]), limit_min=limit,
                              n_jobs=n_jobs)
    _remember(store, (ka, kb, *params), limit, uk, t_u)
    return t_u[inv.reshape(-1)]


def _remember(store: dict, key: tuple, limit: float, keys: np.ndarray, minutes: np.ndarray) -> None:
    old = store.get(key)
    if old is not None and abs(old["limit"] - limit) <= TIME_TOLERANCE_MIN:   # same limit: keep both
        allk = np.concatenate([old["keys"], keys])
        allt = np.concatenate([old["minutes"], minutes])
        allk, first = np.unique(allk, return_index=True)
        store[key] = {"limit": limit, "keys": allk, "minutes": allt[first]}
    elif old is None or old["limit"] < limit:
        store[key] = {"limit": limit, "keys": keys, "minutes": minutes}


def link_many(graph: RoadGraph, a, bs: list, pairs_list: list, *, limit_min: float = np.inf,
              access_speed_kmh: float = 5.0, max_access_m: float = 1000.0, n_jobs: int = 1) -> list:
    """:func:`linked_minutes` of one set ``a`` against several sets ``bs`` in one go.

    The searches run once for all of them (e.g. chain-leader firms against zones and against
    firms: one search per leader each way instead of two); each result is remembered as if
    asked on its own, so later :func:`linked_minutes` calls are answered from memory.
    """
    a = np.asarray(getattr(a, "values", a), dtype=object)
    bs = [np.asarray(getattr(b, "values", b), dtype=object) for b in bs]
    params = (float(access_speed_kmh), float(max_access_m))
    ka = geometry_key(a)
    kbs = [geometry_key(b) for b in bs]
    ea = _cached_entries(graph, a, ka, *params)
    parts = [_cached_entries(graph, b, kb, *params) for b, kb in zip(bs, kbs)]
    shift = np.cumsum([0] + [len(b) for b in bs])
    node_shift = np.cumsum([0] + [len(e.node) for e in parts])
    eb = Entries(offsets=np.concatenate([[0]] + [e.offsets[1:] + node_shift[k] for k, e in enumerate(parts)]),
                 node=np.concatenate([e.node for e in parts]), egress_min=np.concatenate([e.egress_min for e in parts]))
    pairs_list = [np.asarray(p, dtype=np.int64).reshape(-1, 2) for p in pairs_list]
    allp = np.concatenate([p + np.array([0, shift[k]]) for k, p in enumerate(pairs_list)])
    t = travel_between_sets(graph, ea, eb, allp, limit_min=float(limit_min), n_jobs=n_jobs) if len(allp) else np.zeros(0)
    store = graph._cache.setdefault("links", {})
    out, start = [], 0
    for k, p in enumerate(pairs_list):
        tk = t[start:start + len(p)]
        start += len(p)
        keys = p[:, 0] * len(bs[k]) + p[:, 1]
        uk, first = np.unique(keys, return_index=True)
        _remember(store, (ka, kbs[k], *params), float(limit_min), uk, tk[first])
        out.append(tk)
    return out
