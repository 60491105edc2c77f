"""Workers within m minutes of each workplace on the road graph, and the search machinery.

Definitions (DESIGN.md "Roads and travel time"): home → workplace = access + shortest
directed network time from the home's node to an entry node + that entry's egress time
(minimum over entries); between two workplaces = min over entries a, b of
egress(a) + time a → b + egress(b), the faster direction. Times are compared with a
tolerance of :data:`TIME_TOLERANCE_MIN` (sums of the same segment times in another order
differ by rounding only), so a home exactly m minutes away counts for m.

How it is computed (exact, and fast):

* one bounded Dijkstra per workplace on the **simplified** graph (degree-2 chains
  contracted, :mod:`geo.network._contract`), **reversed** (times *to* the workplace), from
  a **super-source** with one edge per entry of weight = its egress time (an entry on a
  contracted chain becomes edges to the chain's two ends with the extra chain time); the
  search runs once to the largest horizon and is read for every horizon;
* the super-sources of all workplaces are rows appended to one sparse matrix, so that one
  ``scipy.sparse.csgraph.dijkstra`` call handles a batch of workplaces;
* times at nodes inside chains (where most homes and entries are) are recovered exactly
  from the chain ends, plus the direct way along the chain to an entry on the same chain;
* housing is aggregated per node (fewest / most access minutes, total workers): a node
  whose every home is in (or out of) reach counts as a whole, only the nodes on the edge of
  the horizon are checked home by home;
* batches of workplaces run in worker processes (``n_jobs``; the graph is shared by fork).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import dijkstra

from geo.network.access import Entries, HousingAccess, housing_access, workplace_entries
from geo.network.graph import RoadGraph

log = logging.getLogger(__name__)

#: Two travel times closer than this (minutes, i.e. 0.06 ms) are equal.
TIME_TOLERANCE_MIN = 1e-6

_BATCH_BYTES = 48 * 2**20


def _ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenated ``arange(s, s + c)`` for each start ``s`` and count ``c``."""
    starts = np.asarray(starts, dtype=np.int64)
    counts = np.asarray(counts, dtype=np.int64)
    nz = counts > 0
    s, c = starts[nz], counts[nz]
    if len(s) == 0:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(c)
    out = np.ones(int(ends[-1]), dtype=np.int64)
    out[0] = s[0]
    out[ends[:-1]] = s[1:] - (s[:-1] + c[:-1] - 1)
    return np.cumsum(out)


class _Searcher:
    """Reverse searches from the super-source of each target (workplace) of ``entries``."""

    def __init__(self, graph: RoadGraph, entries: Entries):
        cg = graph.contraction
        self.cg = cg
        self.entries = entries
        nk = cg.n_kept
        self.nk = nk
        owner = entries.owner()
        enode, eg = entries.node, entries.egress_min
        kk = cg.kidx[enode]
        on_kept = kk >= 0
        r = cg.ridx[enode[~on_kept]]
        ow_r = owner[~on_kept]
        g_r = eg[~on_kept]
        # super-source edges: kept entries directly, chain entries via both chain ends
        si = np.concatenate([owner[on_kept], ow_r, ow_r])
        sj = np.concatenate([kk[on_kept], cg.ku[r], cg.kv[r]])
        sw = np.concatenate([eg[on_kept], g_r + cg.from_u[r], g_r + cg.from_v[r]])
        ok = np.isfinite(sw)
        si, sj, sw = si[ok], sj[ok], sw[ok]
        order = np.lexsort((sw, sj, si))
        si, sj, sw = si[order], sj[order], sw[order]
        first = np.ones(len(si), dtype=bool)
        first[1:] = (si[1:] != si[:-1]) | (sj[1:] != sj[:-1])
        si, sj, sw = si[first], sj[first], sw[first]
        nw = entries.n
        s_indptr = np.zeros(nw + 1, dtype=np.int64)
        np.cumsum(np.bincount(si, minlength=nw), out=s_indptr[1:])
        rev = cg.rev
        n_all = nk + nw
        self.aug = sparse.csr_matrix(
            (np.concatenate([rev.data, sw]),
             np.concatenate([rev.indices.astype(np.int32), sj.astype(np.int32)]),
             np.concatenate([rev.indptr.astype(np.int64), rev.nnz + s_indptr[1:]])),
            shape=(n_all, n_all))
        # entries inside chains, per workplace sorted by chain (for the along-chain term)
        order = np.lexsort((cg.chain[r], ow_r))
        self.ce_owner = ow_r[order]
        rr = r[order]
        self.ce_chain = cg.chain[rr]
        self.ce_rank = cg.rank[rr]
        self.ce_g = g_r[order]
        self.ce_fu_fin, self.ce_fu_cnt = cg.fu_fin[rr], cg.fu_cnt[rr]
        self.ce_tu_fin, self.ce_tu_cnt = cg.tu_fin[rr], cg.tu_cnt[rr]
        self.ce_ptr = np.zeros(nw + 1, dtype=np.int64)
        np.cumsum(np.bincount(self.ce_owner, minlength=nw), out=self.ce_ptr[1:])

    def search(self, targets: np.ndarray, limit: float) -> np.ndarray:
        """Minutes from every kept node to each target (B × n_kept; inf beyond ``limit``)."""
        d = dijkstra(self.aug, directed=True, indices=self.nk + np.asarray(targets),
                     limit=limit)
        return d[:, : self.nk]

    def at_nodes(self, dk: np.ndarray, targets: np.ndarray, query: "_Query") -> np.ndarray:
        """Minutes from each query node to each target (B × Q), exact."""
        out = np.minimum(query.to_u + dk[:, query.ku], query.to_v + dk[:, query.kv])
        for b, w in enumerate(targets):
            cols, cost = self.along_chain(int(w), query)
            if len(cols):
                np.minimum.at(out[b], cols, cost)
        return out

    def along_chain(self, w: int, query: "_Query") -> tuple[np.ndarray, np.ndarray]:
        """(query position, minutes) of the ways along a chain to an entry of ``w`` on it."""
        lo, hi = self.ce_ptr[w], self.ce_ptr[w + 1]
        empty = (np.zeros(0, dtype=np.int64), np.zeros(0))
        if lo == hi:
            return empty
        ch = self.ce_chain[lo:hi]
        q_lo = np.searchsorted(query.rem_chain_sorted, ch, side="left")
        q_hi = np.searchsorted(query.rem_chain_sorted, ch, side="right")
        cnt = q_hi - q_lo
        if not cnt.any():
            return empty
        e = np.repeat(np.arange(lo, hi), cnt)
        qs = _ranges(q_lo, cnt)
        qrank = query.rem_rank_sorted[qs]
        erank = self.ce_rank[e]
        ahead = erank > qrank     # entry further from u: forward along the chain
        behind = erank < qrank
        fwd_ok = ahead & (self.ce_fu_cnt[e] == query.rem_fu_cnt_sorted[qs])
        bwd_ok = behind & (self.ce_tu_cnt[e] == query.rem_tu_cnt_sorted[qs])
        cost = np.full(len(e), np.inf)
        cost[fwd_ok] = self.ce_fu_fin[e[fwd_ok]] - query.rem_fu_fin_sorted[qs[fwd_ok]]
        cost[bwd_ok] = query.rem_tu_fin_sorted[qs[bwd_ok]] - self.ce_tu_fin[e[bwd_ok]]
        cost[erank == qrank] = 0.0
        cost += self.ce_g[e]
        keep = np.isfinite(cost)
        return query.rem_pos_sorted[qs[keep]], cost[keep]


class _Query:
    """Nodes at which search results are read.

    Per query position: ``time = min(to_u + D[ku], to_v + D[kv])`` with D the times at the
    kept nodes (a kept node: itself with 0, nothing on the other side), lowered by the
    way along the chain to an entry on it (:meth:`_Searcher.along_chain`).
    ``by_kept_ptr`` / ``by_kept_pos``: the query positions whose time depends on each kept
    node (CSR over kept nodes).
    """

    def __init__(self, graph: RoadGraph, nodes: np.ndarray, *, index_by_kept: bool = False):
        cg = graph.contraction
        nodes = np.asarray(nodes, dtype=np.int64)
        self.n = len(nodes)
        k = cg.kidx[nodes]
        kept = k >= 0
        r = np.where(kept, 0, cg.ridx[nodes])
        self.ku = np.where(kept, k, cg.ku[r]) if len(cg.ku) else k.copy()
        self.kv = np.where(kept, k, cg.kv[r]) if len(cg.kv) else k.copy()
        self.to_u = np.where(kept, 0.0, cg.to_u[r]) if len(cg.to_u) else np.zeros(self.n)
        self.to_v = np.where(kept, np.inf, cg.to_v[r]) if len(cg.to_v) else np.full(self.n, np.inf)
        rem_pos = np.flatnonzero(~kept)
        rem_r = r[rem_pos]
        order = np.argsort(cg.chain[rem_r], kind="stable")
        rs = rem_r[order]
        self.rem_pos_sorted = rem_pos[order]
        self.rem_chain_sorted = cg.chain[rs]
        self.rem_rank_sorted = cg.rank[rs]
        self.rem_fu_fin_sorted, self.rem_fu_cnt_sorted = cg.fu_fin[rs], cg.fu_cnt[rs]
        self.rem_tu_fin_sorted, self.rem_tu_cnt_sorted = cg.tu_fin[rs], cg.tu_cnt[rs]
        if index_by_kept:
            pos = np.arange(self.n)
            keys = np.concatenate([self.ku, self.kv[~kept]])
            vals = np.concatenate([pos, pos[~kept]])
            o = np.argsort(keys, kind="stable")
            self.by_kept_pos = vals[o]
            self.by_kept_ptr = np.zeros(cg.n_kept + 1, dtype=np.int64)
            np.cumsum(np.bincount(keys, minlength=cg.n_kept), out=self.by_kept_ptr[1:])

    def times_of(self, dk_row: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Times at query positions ``cols`` from one row of kept-node times (no chain entries)."""
        return np.minimum(self.to_u[cols] + dk_row[self.ku[cols]], self.to_v[cols] + dk_row[self.kv[cols]])


@dataclass
class _Homes:
    """Housing grouped by node: per node fewest/most access minutes and total workers."""

    query: _Query
    nodes: np.ndarray
    amin: np.ndarray
    amax: np.ndarray
    wsum: np.ndarray
    ptr: np.ndarray
    access: np.ndarray     # sorted by node, then access
    workers: np.ndarray


def _group_homes(graph: RoadGraph, access: HousingAccess, workers: np.ndarray) -> _Homes:
    ok = access.connected & (workers != 0)
    node, a, w = access.node[ok], access.access_min[ok], workers[ok]
    order = np.lexsort((a, node))
    node, a, w = node[order], a[order], w[order]
    nodes, start, count = np.unique(node, return_index=True, return_counts=True)
    ptr = np.append(start, len(node)).astype(np.int64)
    amin = a[start] if len(start) else np.zeros(0)
    amax = a[ptr[1:] - 1] if len(start) else np.zeros(0)
    wsum = np.add.reduceat(w, start) if len(start) else np.zeros(0)
    return _Homes(query=_Query(graph, nodes, index_by_kept=True), nodes=nodes, amin=amin, amax=amax, wsum=wsum,
                  ptr=ptr, access=a, workers=w)


@dataclass
class ReachResult:
    """Result of :func:`workers_within_minutes`.

    Attributes
    ----------
    minutes : tuple of float, the horizons.
    workers : (W, M) float, workers whose home → workplace time ≤ m (NaN when the
        workplace is not connected).
    connected : (W,) bool, the workplace has at least one entry node.
    housing_connected : (H,) bool, the housing feature is within ``max_access_m`` of a node.
    reached : list of int arrays (one per workplace) or None: nodes (ids of the full
        graph) within the primary horizon of the workplace, all or the outline (see
        ``reached_nodes``); for isochrone polygons.
    """

    minutes: tuple
    workers: np.ndarray
    connected: np.ndarray
    housing_connected: np.ndarray
    reached: list | None = None


_STATE: dict = {}


def _horizon_index(thr: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Number of thresholds (sorted) below each time: the first horizon it is within."""
    out = (t > thr[0]).astype(np.intp)
    for x in thr[1:]:
        out += t > x
    return out


class _Chains:
    """Chains of the simplified graph: their removed nodes (by rank) and ends, by kept node."""

    def __init__(self, graph: RoadGraph):
        cg = graph.contraction
        order = np.lexsort((cg.rank, cg.chain))
        self.order = order
        ch = cg.chain[order]
        start = np.flatnonzero(np.concatenate([[True], ch[1:] != ch[:-1]])) if len(ch) else np.zeros(0, np.int64)
        self.start = start
        self.size = np.diff(np.append(start, len(ch)))
        first = order[start]
        self.ku, self.kv = cg.ku[first], cg.kv[first]
        nc = len(start)
        keys = np.concatenate([self.ku, self.kv])
        o = np.argsort(keys, kind="stable")
        self.by_kept_chain = np.concatenate([np.arange(nc), np.arange(nc)])[o]
        self.by_kept_ptr = np.zeros(cg.n_kept + 1, dtype=np.int64)
        np.cumsum(np.bincount(keys, minlength=cg.n_kept), out=self.by_kept_ptr[1:])


def _reached_nodes(s: _Searcher, iso: _Query, chains: _Chains, row: np.ndarray, w: int, thr: float,
                   outline: bool) -> np.ndarray:
    """Node ids (full graph) within ``thr`` minutes of workplace ``w``.

    ``outline``: the kept nodes, and chain vertices only on chains with an end out of reach
    (vertices between two reached ends add nothing to the drawn area).
    """
    cg = s.cg
    rk = np.flatnonzero(row <= thr)
    starts = chains.by_kept_ptr[rk]
    cs = chains.by_kept_chain[_ranges(starts, chains.by_kept_ptr[rk + 1] - starts)]
    if outline:   # a chain with one end out of reach is listed once, under the other
        cs = cs[(row[chains.ku[cs]] > thr) | (row[chains.kv[cs]] > thr)]
    else:
        cs = np.unique(cs)
    r = chains.order[_ranges(chains.start[cs], chains.size[cs])]
    d = np.minimum(cg.to_u[r] + row[cg.ku[r]], cg.to_v[r] + row[cg.kv[r]])
    rem = [r[d <= thr]]
    ccols, ccost = s.along_chain(w, iso)  # chains holding an entry of this workplace
    if len(ccols):
        rem.append(ccols[np.minimum(iso.times_of(row, ccols), ccost) <= thr])
    rem = np.sort(np.concatenate(rem))
    if len(rem):
        rem = rem[np.concatenate([[True], rem[1:] != rem[:-1]])]
    out = np.sort(np.concatenate([cg.kept_nodes[rk], cg.removed[rem]]))
    return out.astype(np.int32) if cg.kidx.shape[0] < 2**31 else out


def _home_node_times(s: _Searcher, q: _Query, row: np.ndarray, rk: np.ndarray, w: int,
                     mark: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Home-node positions whose time to ``w`` can be finite, and their minutes.

    Candidates: next to a reached kept node ``rk``, or on a chain holding an entry of
    ``w``. ``mark`` is a scratch array of False (returned all False).
    """
    starts = q.by_kept_ptr[rk]
    cand = _ranges(starts, q.by_kept_ptr[rk + 1] - starts)
    ccols, ccost = s.along_chain(w, q)
    mark[q.by_kept_pos[cand]] = True
    mark[ccols] = True
    cols = np.flatnonzero(mark)
    mark[cols] = False
    d = q.times_of(row, cols)
    if len(ccols):
        np.minimum.at(d, np.searchsorted(cols, ccols), ccost)
    return cols, d


def _batch_reach_sums(batch: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per home: sum of the jobs, and number, of the batch's workplaces within the minute.

    Returns node-level sums (homes of a node all within) and per-home sums (nodes only
    partly within) as (node_jobs, node_count, home_jobs, home_count), dense arrays.
    """
    s: _Searcher = _STATE["searcher"]
    homes: _Homes = _STATE["homes"]
    jobs = _STATE["jobs"]
    thr = _STATE["minute"] + TIME_TOLERANCE_MIN
    dk = s.search(batch, limit=thr)
    q = homes.query
    mark = np.zeros(q.n, dtype=bool)
    node_jobs, node_n = np.zeros(q.n), np.zeros(q.n)
    home_jobs, home_n = np.zeros(len(homes.access)), np.zeros(len(homes.access))
    for b, w in enumerate(batch):
        row = dk[b]
        cols, d = _home_node_times(s, q, row, np.flatnonzero(row <= thr), int(w), mark)
        full = homes.amax[cols] + d <= thr
        node_jobs[cols[full]] += jobs[w]
        node_n[cols[full]] += 1
        part = np.flatnonzero(~full & (homes.amin[cols] + d <= thr))
        if len(part):
            nn = cols[part]
            cnt = homes.ptr[nn + 1] - homes.ptr[nn]
            hs = _ranges(homes.ptr[nn], cnt)
            hs = hs[homes.access[hs] + np.repeat(d[part], cnt) <= thr]
            home_jobs[hs] += jobs[w]
            home_n[hs] += 1
    return node_jobs, node_n, home_jobs, home_n


def _batch_counts(batch: np.ndarray) -> tuple[np.ndarray, list]:
    """Workers within each horizon for one batch of workplaces (runs in a worker)."""
    s: _Searcher = _STATE["searcher"]
    homes: _Homes = _STATE["homes"]
    minutes = _STATE["minutes"]
    primary = _STATE["primary"]
    limit = max(minutes + ((primary,) if primary is not None else ())) + TIME_TOLERANCE_MIN
    dk = s.search(batch, limit=limit)
    q = homes.query
    kn = s.cg.kept_nodes
    out = np.zeros((len(batch), len(minutes)))
    reached = [] if primary is not None else None
    mark = np.zeros(q.n, dtype=bool)
    thr_sorted = np.sort(np.asarray(minutes, dtype=float))
    thr = thr_sorted + TIME_TOLERANCE_MIN
    inverse = np.searchsorted(thr_sorted, np.asarray(minutes, dtype=float))
    nm = len(thr)
    for b, w in enumerate(batch):
        row = dk[b]
        rk = np.flatnonzero(row <= limit)
        if reached is not None:
            reached.append(_reached_nodes(s, _STATE["iso"], _STATE["chains"], row, int(w),
                                          primary + TIME_TOLERANCE_MIN, _STATE["outline"]))
        cols, d = _home_node_times(s, q, row, rk, int(w), mark)
        if len(cols) == 0:
            continue
        # horizon index from which a node is wholly / partly in reach: a node is full for
        # horizon i when most access + d <= thr[i], i.e. i >= searchsorted(thr, amax + d)
        i_full = _horizon_index(thr, homes.amax[cols] + d)
        i_part = _horizon_index(thr, homes.amin[cols] + d)
        acc = np.bincount(i_full, weights=homes.wsum[cols], minlength=nm + 1)
        part = np.flatnonzero(i_part < i_full)
        if len(part):
            nn = cols[part]
            cnt = homes.ptr[nn + 1] - homes.ptr[nn]
            hs = _ranges(homes.ptr[nn], cnt)
            i_home = _horizon_index(thr, homes.access[hs] + np.repeat(d[part], cnt))
            wh = homes.workers[hs]
            # a home counts from its own index until its node counts as a whole
            acc += np.bincount(i_home, weights=wh, minlength=nm + 1)
            acc -= np.bincount(np.repeat(i_full[part], cnt), weights=wh, minlength=nm + 1)
        out[b] = np.cumsum(acc[:nm])[inverse]
    return out, reached


def _with_workers(homes: _Homes, workers_sorted: np.ndarray) -> _Homes:
    """The same grouping of homes with other per-home weights (in ``homes.access`` order)."""
    n = len(homes.nodes)
    wsum = np.add.reduceat(workers_sorted, homes.ptr[:-1]) if n else np.zeros(0)
    return _Homes(query=homes.query, nodes=homes.nodes, amin=homes.amin, amax=homes.amax, wsum=wsum,
                  ptr=homes.ptr, access=homes.access, workers=workers_sorted)


def workers_shared_within(graph: RoadGraph, housing_xy: np.ndarray, housing_workers: np.ndarray,
                          workplaces, jobs: np.ndarray, minute: float, *, access_speed_kmh: float = 5.0,
                          max_access_m: float = 1000.0, n_jobs: int = 1,
                          entries: Entries | None = None) -> np.ndarray:
    """``workers_shared`` on a travel-time horizon (DESIGN.md, balance, competition-aware).

    Every housing feature's workers are split among all workplaces whose travel time from
    it is ≤ ``minute``, in proportion to their jobs (equally when all of them have zero
    jobs). Two searches per workplace: one to sum, per home, the jobs (and number) of the
    workplaces in reach; one to add up each workplace's shares.

    Returns
    -------
    (W,) float, NaN for workplaces without an entry node.
    """
    jobs = np.asarray(jobs, dtype=float)
    workers = np.asarray(housing_workers, dtype=float)
    acc = housing_access(graph, housing_xy, access_speed_kmh=access_speed_kmh, max_access_m=max_access_m)
    if entries is None:
        entries = workplace_entries(graph, workplaces, access_speed_kmh=access_speed_kmh,
                                    max_access_m=max_access_m)
    searcher = _Searcher(graph, entries)
    homes = _group_homes(graph, acc, workers)
    targets = np.flatnonzero(entries.connected)
    out = np.full(entries.n, np.nan)
    if len(targets) == 0:
        return out
    nh = len(homes.access)
    s_jobs, s_n = np.zeros(nh), np.zeros(nh)
    node_of_home = np.repeat(np.arange(len(homes.nodes)), np.diff(homes.ptr))
    _STATE.update(searcher=searcher, homes=homes, jobs=jobs, minute=float(minute))
    try:
        batches = _batches(targets, searcher.aug.shape[0])
        for nj_, nn_, hj, hn in _run(_batch_reach_sums, batches, n_jobs):
            s_jobs += nj_[node_of_home] + hj
            s_n += nn_[node_of_home] + hn
        with np.errstate(divide="ignore", invalid="ignore"):
            by_jobs = np.where(s_jobs > 0, homes.workers / s_jobs, 0.0)
            equal = np.where((s_jobs == 0) & (s_n > 0), homes.workers / s_n, 0.0)
        _STATE.update(minutes=(float(minute),), primary=None)
        for weights, sel in ((by_jobs, jobs[targets] > 0), (equal, jobs[targets] == 0)):
            tw = targets[sel]
            if len(tw) == 0:
                continue
            _STATE["homes"] = _with_workers(homes, weights)
            batches = _batches(tw, searcher.aug.shape[0])
            for batch, (counts, _) in zip(batches, _run(_batch_counts, batches, n_jobs)):
                out[batch] = counts[:, 0] * np.where(jobs[batch] > 0, jobs[batch], 1.0)
    finally:
        _STATE.clear()
    return out




def _batches(targets: np.ndarray, width: int) -> list[np.ndarray]:
    size = max(1, min(64, _BATCH_BYTES // (8 * max(width, 1))))
    return [targets[i:i + size] for i in range(0, len(targets), size)]


def _run(fn, batches: list, n_jobs: int) -> list:
    n_jobs = max(1, int(n_jobs))
    if n_jobs == 1 or len(batches) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return [fn(b) for b in batches]
    ctx = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=min(n_jobs, len(batches)), mp_context=ctx) as pool:
        return list(pool.map(fn, batches, chunksize=1))


def default_jobs() -> int:
    """Worker processes to use: the CPUs this process may run on (at most 8)."""
    try:
        return max(1, min(8, len(os.sched_getaffinity(0))))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, min(8, os.cpu_count() or 1))


def workers_within_minutes(graph: RoadGraph, housing_xy: np.ndarray, housing_workers: np.ndarray,
                           workplaces, minutes: Sequence[float] = (15, 30, 45), *,
                           access_speed_kmh: float = 5.0, max_access_m: float = 1000.0,
                           primary_minute: float | None = None, reached_nodes: str = "outline",
                           n_jobs: int = 1, entries: Entries | None = None) -> ReachResult:
    """Resident workers within each travel-time horizon of each workplace.

    Parameters
    ----------
    graph : RoadGraph
        From :func:`geo.network.build_graph`.
    housing_xy : (H, 2) array
        Housing points (polygon representative points, raster cell centres), working CRS.
    housing_workers : (H,) array
        Resident workers of each housing point.
    workplaces : GeoSeries or array of polygons
        Zones / innovation districts, working CRS.
    minutes : sequence of float
        Horizons; a home counts for m when its time ≤ m (inclusive).
    access_speed_kmh, max_access_m : float
        DESIGN.md ``network.access_speed_kmh``, ``network.max_access_m``.
    primary_minute : float, optional
        When given, ``reached`` lists the nodes within it per workplace (for isochrones).
    reached_nodes : {"outline", "all"}
        ``all``: every node within the primary horizon; ``outline`` (default, far smaller
        at metro scale): the simplified graph's nodes and the vertices of chains only
        partly in reach (what an isochrone polygon needs).
    n_jobs : int
        Worker processes (fork); 1 = in this process.
    entries : Entries, optional
        Precomputed :func:`~geo.network.access.workplace_entries` of ``workplaces``.

    Returns
    -------
    ReachResult
    """
    minutes = tuple(float(m) for m in minutes)
    workers = np.asarray(housing_workers, dtype=float)
    acc = housing_access(graph, housing_xy, access_speed_kmh=access_speed_kmh, max_access_m=max_access_m)
    if entries is None:
        entries = workplace_entries(graph, workplaces, access_speed_kmh=access_speed_kmh,
                                    max_access_m=max_access_m)
    searcher = _Searcher(graph, entries)
    homes = _group_homes(graph, acc, workers)
    connected = entries.connected
    targets = np.flatnonzero(connected)
    log.debug("travel-time reach: %d of %d workplaces connected, %d of %d housing features; %d jobs",
              len(targets), entries.n, int(acc.connected.sum()), len(acc.node), n_jobs)
    out = np.full((entries.n, len(minutes)), np.nan)
    reached: list | None = [np.zeros(0, dtype=np.int64)] * entries.n if primary_minute is not None else None
    if len(targets) and len(minutes):
        iso = _Query(graph, graph.contraction.removed) if primary_minute is not None else None
        chains = _Chains(graph) if primary_minute is not None else None
        _STATE.update(searcher=searcher, homes=homes, minutes=minutes, primary=primary_minute, iso=iso,
                      chains=chains,
                      outline=reached_nodes == "outline")
        try:
            batches = _batches(targets, searcher.aug.shape[0])
            results = _run(_batch_counts, batches, n_jobs)
        finally:
            _STATE.clear()
        for batch, (counts, rch) in zip(batches, results):
            out[batch] = counts
            if reached is not None:
                for w, nodes in zip(batch, rch):
                    reached[w] = nodes
    return ReachResult(minutes=minutes, workers=out, connected=connected,
                       housing_connected=acc.connected, reached=reached)
