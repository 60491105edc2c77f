"""Travel times between workplaces, and from points to workplaces, on the road graph.

DESIGN.md: between two workplaces ``travel_min`` = min over entry nodes a of A and b of B
of egress(a) + network time a → b + egress(b), the faster of the two directions; home →
workplace = access + network time + egress. One reversed search per destination (see
:mod:`geo.network.reach` for the search itself), read at the origins' entry nodes.
"""

from __future__ import annotations

import numpy as np

from geo.network.access import Entries, housing_access, workplace_entries
from geo.network.graph import RoadGraph
from geo.network._reverse import reversed_graph
from geo.network._search import _Query, _ranges, _Searcher
from geo.network.reach import _STATE, TIME_TOLERANCE_MIN, _batches, _run


def _directed_times(graph: RoadGraph, origins: Entries, dests: Entries, o_idx: np.ndarray,
                    d_idx: np.ndarray, *, limit_min: float, n_jobs: int) -> np.ndarray:
    """Minutes origin o_idx[i] → destination d_idx[i] (inf when unreachable within limit)."""
    result = np.full(len(o_idx), np.inf)
    if len(o_idx) == 0:
        return result
    searcher = _Searcher(graph, dests)
    order = np.argsort(d_idx, kind="stable")
    d_sorted = d_idx[order]
    uniq = np.unique(d_sorted)
    uniq = uniq[dests.connected[uniq]]
    _STATE.update(searcher=searcher, graph=graph, origins=origins, o_idx=o_idx, order=order,
                  d_sorted=d_sorted, limit=limit_min)
    try:
        batches = _batches(uniq, searcher.aug.shape[0])
        results = _run(_batch_pairs, batches, n_jobs)
    finally:
        _STATE.clear()
    for sel, vals in results:
        result[sel] = vals
    return result


def _batch_pairs(batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    s: _Searcher = _STATE["searcher"]
    graph: RoadGraph = _STATE["graph"]
    origins: Entries = _STATE["origins"]
    o_idx, order, d_sorted = _STATE["o_idx"], _STATE["order"], _STATE["d_sorted"]
    limit = _STATE["limit"]
    dk = s.search(batch, limit=limit + TIME_TOLERANCE_MIN if np.isfinite(limit) else np.inf)
    sels, vals = [], []
    for b, w in enumerate(batch):
        sel = order[np.searchsorted(d_sorted, w, "left"):np.searchsorted(d_sorted, w, "right")]
        os_ = o_idx[sel]
        starts = origins.offsets[os_]
        cnt = origins.offsets[os_ + 1] - starts
        ent = _ranges(starts, cnt)
        if len(ent) == 0:
            sels.append(sel)
            vals.append(np.full(len(sel), np.inf))
            continue
        q = _Query(graph, origins.node[ent])
        t = s.at_nodes(dk[b:b + 1], np.array([w]), q)[0] + origins.egress_min[ent]
        pair_of = np.repeat(np.arange(len(sel)), cnt)
        best = np.full(len(sel), np.inf)
        np.minimum.at(best, pair_of, t)
        sels.append(sel)
        vals.append(best)
    return np.concatenate(sels), np.concatenate(vals)


def travel_between(graph: RoadGraph, workplaces, pairs: np.ndarray, *, access_speed_kmh: float = 5.0,
                   max_access_m: float = 1000.0, limit_min: float = np.inf, n_jobs: int = 1,
                   entries: Entries | None = None) -> np.ndarray:
    """``travel_min`` of workplace pairs: the faster direction, NaN when unreachable.

    Parameters
    ----------
    pairs : (P, 2) int array
        Positional indices into ``workplaces``.
    limit_min : float
        Searches stop at this time; slower pairs come out NaN.
    """
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    if entries is None:
        entries = workplace_entries(graph, workplaces, access_speed_kmh=access_speed_kmh,
                                    max_access_m=max_access_m)
    a, b = pairs[:, 0], pairs[:, 1]
    t = _directed_times(graph, entries, entries, np.concatenate([a, b]), np.concatenate([b, a]),
                        limit_min=limit_min, n_jobs=n_jobs)
    best = np.minimum(t[: len(a)], t[len(a):])
    best[~np.isfinite(best) | (best > limit_min + TIME_TOLERANCE_MIN)] = np.nan
    return best


def _batch_matrix(batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Minutes from every origin to each destination of the batch (len(batch) × O)."""
    s: _Searcher = _STATE["searcher"]
    origins: Entries = _STATE["origins"]
    q: _Query = _STATE["oquery"]
    limit = _STATE["limit"]
    dk = s.search(batch, limit=limit + TIME_TOLERANCE_MIN if np.isfinite(limit) else np.inf)
    t = s.at_nodes(dk, batch, q) + origins.egress_min[None, :]
    has = np.diff(origins.offsets) > 0
    out = np.full((len(batch), origins.n), np.inf)
    if has.any():
        out[:, has] = np.minimum.reduceat(t, origins.offsets[:-1][has], axis=1)
    return batch, out


def travel_matrix(graph: RoadGraph, origins, destinations, *, access_speed_kmh: float = 5.0,
                  max_access_m: float = 1000.0, limit_min: float = np.inf, both_ways: bool = False,
                  n_jobs: int = 1) -> np.ndarray:
    """Minutes from every origin polygon to every destination polygon (O × D).

    For Huff attachment (zones × cores): origin → destination as "travel time between two
    workplaces" (min over entries of egress + network time + egress), one direction
    (``both_ways=True``: the faster one). NaN when unreachable or slower than ``limit_min``.
    One search per destination (two with ``both_ways``: the other direction is searched on
    the reversed graph, so its cost does not grow with the number of origins).
    """
    oe = workplace_entries(graph, origins, access_speed_kmh=access_speed_kmh, max_access_m=max_access_m)
    de = workplace_entries(graph, destinations, access_speed_kmh=access_speed_kmh, max_access_m=max_access_m)
    t = _matrix(graph, oe, de, limit_min, n_jobs)
    if both_ways:
        t = np.minimum(t, _matrix(reversed_graph(graph), oe, de, limit_min, n_jobs))
    t[~np.isfinite(t) | (t > limit_min + TIME_TOLERANCE_MIN)] = np.nan
    return t


def _matrix(graph: RoadGraph, oe: Entries, de: Entries, limit_min: float, n_jobs: int) -> np.ndarray:
    out = np.full((oe.n, de.n), np.inf)
    targets = np.flatnonzero(de.connected)
    if len(targets) == 0 or len(oe.node) == 0:
        return out
    searcher = _Searcher(graph, de)
    _STATE.update(searcher=searcher, origins=oe, oquery=_Query(graph, oe.node), limit=limit_min)
    try:
        width = max(searcher.aug.shape[0], len(oe.node))
        results = _run(_batch_matrix, _batches(targets, width), n_jobs)
    finally:
        _STATE.clear()
    for batch, vals in results:
        out[:, batch] = vals.T
    return out


def _super_edges(s: _Searcher) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The super-source edges of a searcher: (CSR pointer per workplace, kept node, minutes).

    Edge (w, k, m): from kept node k, workplace w is reached in m more minutes through one
    of its entries (the entry itself, or an entry along a chain that has k as an end).
    """
    a = s.aug
    lo, hi = a.indptr[s.nk], a.indptr[-1]
    return (np.asarray(a.indptr[s.nk:] - lo, dtype=np.int64), np.asarray(a.indices[lo:hi], dtype=np.int64),
            np.asarray(a.data[lo:hi], dtype=float))


def _batch_from_origins(batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Minutes from each origin of the batch to every workplace (len(batch) × W)."""
    os_: _Searcher = _STATE["osearch"]
    ptr, sj, sw = _STATE["super"]
    has = _STATE["has_edge"]
    limit = _STATE["limit"]
    dk = os_.search(batch, limit=limit + TIME_TOLERANCE_MIN if np.isfinite(limit) else np.inf)
    out = np.full((len(batch), len(ptr) - 1), np.inf)
    if len(sj) and has.any():
        # row by row: one row of times and the gathered edges stay in cache (a batch-wide
        # gather moves len(batch) × len(sj) values through memory, ~3× slower)
        cols, starts = np.flatnonzero(has), ptr[:-1][has]
        buf = np.empty(len(sj))
        for i in range(len(batch)):
            np.take(dk[i], sj, out=buf)
            buf += sw
            out[i, cols] = np.minimum.reduceat(buf, starts)
    return batch, out


def _matrix_from_origins(graph: RoadGraph, oe: Entries, de: Entries, limit_min: float,
                         n_jobs: int) -> np.ndarray:
    """The O × D matrix of :func:`_matrix`, searched from the origins instead.

    One search per origin on the reversed graph gives the times *from* the origin to every
    kept node; a destination is then the best of its super-source edges (kept node k,
    minutes m from k into it), plus, for an origin inside a chain holding an entry of the
    destination, the direct way along that chain. Exact, as the search per destination.
    """
    out = np.full((oe.n, de.n), np.inf)
    origins = np.flatnonzero(oe.connected)
    if len(origins) == 0 or not de.connected.any():
        return out
    dsearch = _Searcher(graph, de)
    osearch = _Searcher(reversed_graph(graph), oe)
    ptr, sj, sw = _super_edges(dsearch)
    has = np.diff(ptr) > 0
    _STATE.update(osearch=osearch, super=(ptr, sj, sw), has_edge=has, limit=limit_min)
    try:
        width = max(osearch.aug.shape[0], len(sj))
        results = _run(_batch_from_origins, _batches(origins, width), n_jobs)
    finally:
        _STATE.clear()
    for batch, vals in results:
        out[batch] = vals
    # origins inside a chain that holds an entry of a destination: the way along the chain
    e = np.arange(len(dsearch.ce_owner))
    ei, qpos, cost = dsearch.along_chains(e, _Query(graph, oe.node))
    if len(qpos):
        o = oe.owner()[qpos]
        np.minimum.at(out, (o, dsearch.ce_owner[ei]), cost + oe.egress_min[qpos])
    return out


def home_times(graph: RoadGraph, points_xy: np.ndarray, workplaces, *, pairs: np.ndarray | None = None,
               access_speed_kmh: float = 5.0, max_access_m: float = 1000.0, limit_min: float = np.inf,
               n_jobs: int = 1, entries: Entries | None = None,
               from_origins: bool | None = None) -> np.ndarray:
    """Travel minutes home → workplace (DESIGN.md's definition) for points, e.g. commuting ends.

    Parameters
    ----------
    points_xy : (P, 2) array
        Home points (flow home ends, cell centres).
    workplaces : GeoSeries or array of polygons
    pairs : (K, 2) int array, optional
        (point, workplace) positions: returns K times. Without it: the P × W matrix.
    limit_min : float
        Searches stop there; slower (and unreachable, unconnected) come out NaN.
    from_origins : bool, optional
        Matrix only: one search per point (forward, on the reversed graph) instead of one
        per workplace; the same times. Default: whichever side has fewer searches.

    Returns
    -------
    ndarray of minutes, NaN where not reachable.
    """
    acc = housing_access(graph, points_xy, access_speed_kmh=access_speed_kmh, max_access_m=max_access_m)
    ok = acc.node >= 0
    offsets = np.concatenate([[0], np.cumsum(ok)]).astype(np.int64)
    homes = Entries(offsets=offsets, node=acc.node[ok], egress_min=acc.access_min[ok])
    if entries is None:
        entries = workplace_entries(graph, workplaces, access_speed_kmh=access_speed_kmh,
                                    max_access_m=max_access_m)
    if pairs is None:
        n_from = int(np.count_nonzero(ok))
        if from_origins is None:
            from_origins = n_from < int(np.count_nonzero(entries.connected))
        t = (_matrix_from_origins(graph, homes, entries, limit_min, n_jobs) if from_origins
             else _matrix(graph, homes, entries, limit_min, n_jobs))
    else:
        pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        t = _directed_times(graph, homes, entries, pairs[:, 0], pairs[:, 1], limit_min=limit_min,
                            n_jobs=n_jobs)
    t[~np.isfinite(t) | (t > limit_min + TIME_TOLERANCE_MIN)] = np.nan
    return t
