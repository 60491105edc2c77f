"""Workers within m minutes of each workplace on the road graph.

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
* housing is counted from the coarsest level whose time bounds settle it for every
  horizon (a margin of 1e-9 relative, far above rounding and far below the tolerance,
  keeps the answer exactly that of home-by-home comparisons): the *star* of a reached
  kept node (the chains it owns and the homes at it), then the *group* (one chain, or one
  kept node), then the node (fewest / most access minutes), and only for a node on the
  edge of a horizon its homes, sorted by access, by bisection; chains holding an entry of
  the workplace are always read node by node; for a sparse set of points (the job points),
  the reached kept nodes with no group at all are dropped first;
* the rows of a batch are read together, a few rows at a time (arrays that stay in
  cache, no Python loop per workplace);
* batches of workplaces run in worker processes (``n_jobs``; the graph is shared by fork).

The search machinery (super-source matrix, reading times at any node, reached nodes for
isochrones) is in :mod:`geo.network._search`.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
from scipy.sparse.csgraph import dijkstra

# the search machinery (geo.network.travel imports it from here too)
from geo.network._search import (_Chains, _csr_by, _homes_within, _horizon_index, _Query, _ranges,
                                 _reached_batch, _Searcher, _starts)
from geo.network.access import Entries, HousingAccess, housing_access, workplace_entries
from geo.network.graph import RoadGraph

log = logging.getLogger(__name__)

#: Two travel times closer than this (minutes, i.e. 0.06 ms) are equal.
TIME_TOLERANCE_MIN = 1e-6

_BATCH_BYTES = 48 * 2**20
#: Rows of a batch read together (their arrays stay in cache).
_SUB_BATCH = 8


@dataclass
class _Groups:
    """Home nodes grouped by where their times come from: a kept node, or a chain.

    Group ``g`` holds home-node positions ``nptr[g]:nptr[g + 1]`` (kept-node groups first,
    by kept index, then chains). ``gu``/``gv``: kept index of the ends (``gv = gu`` for a
    kept node). Over the homes of the group, ``lo_u``/``hi_u`` = fewest / most of
    access + minutes to ``gu`` (``lo_v``/``hi_v`` to ``gv``; inf for a kept node), so
    that every home's time lies in ``[min(Du + lo_u, Dv + lo_v), min(Du + hi_u, Dv + hi_v)]``
    (D = times at the ends) unless an entry on the chain gives a shorter way.
    ``key``: kept index, or ``n_kept`` + chain id (sorted).

    Each group has an *owner* end ``own`` (a chain: an end from which the chain can be
    driven to the other end, whose time then bounds the other end's from below:
    ``D[other] >= D[own] - c``). The *star* of a kept node k is the groups it owns:
    every home of it is within ``[D[k] + star_lo[k], D[k] + star_hi[k]]``; ``by_own`` lists
    them (CSR over kept nodes). ``by_oth`` lists the chains under their other end, and
    ``oth_reach[k]`` is the longest c of those (when ``D[k]`` + it is within the search,
    their owners are reached too).
    """

    key: np.ndarray
    nptr: np.ndarray
    gu: np.ndarray
    gv: np.ndarray
    lo_u: np.ndarray
    hi_u: np.ndarray
    lo_v: np.ndarray
    hi_v: np.ndarray
    own: np.ndarray
    by_own_ptr: np.ndarray
    by_own: np.ndarray
    by_oth_ptr: np.ndarray
    by_oth: np.ndarray
    star_lo: np.ndarray
    star_hi: np.ndarray
    oth_reach: np.ndarray
    n_kept: int
    #: Kept nodes with a group as owner or other end (the others count for nothing); None
    #: when most are (then filtering would cost more than it saves).
    relevant: np.ndarray | None = None

    @property
    def n(self) -> int:
        return len(self.key)


@dataclass
class _Homes:
    """Housing grouped by node: per node fewest/most access minutes and total workers.

    Nodes are ordered by group (:class:`_Groups`), homes by node then access.
    ``gw``: total workers per group.
    """

    query: _Query
    nodes: np.ndarray
    amin: np.ndarray
    amax: np.ndarray
    wsum: np.ndarray
    ptr: np.ndarray
    access: np.ndarray     # sorted by node, then access
    workers: np.ndarray
    groups: _Groups
    gw: np.ndarray
    star_w: np.ndarray
    wcum: np.ndarray       # 0, then prefix sums of ``workers``


def _group_homes(graph: RoadGraph, access: HousingAccess, workers: np.ndarray) -> _Homes:
    cg = graph.contraction
    nk = cg.n_kept
    ok = access.connected & (workers != 0)
    node, a, w = access.node[ok], access.access_min[ok], workers[ok]
    k = cg.kidx[node]
    key = k.copy()
    key[k < 0] = nk + cg.chain[cg.ridx[node[k < 0]]]
    order = np.lexsort((a, key * max(len(cg.kidx), 1) + node))
    node, a, w, key = node[order], a[order], w[order], key[order]
    start = _starts(node)
    nodes = node[start]
    ptr = np.append(start, len(node)).astype(np.int64)
    amin = a[start] if len(start) else np.zeros(0)
    amax = a[ptr[1:] - 1] if len(start) else np.zeros(0)
    wsum = np.add.reduceat(w, start) if len(start) else np.zeros(0)
    q = _Query(graph, nodes, index_by_kept=True)
    nkey = key[start]
    gs = _starts(nkey)
    gu, gv = q.ku[gs], q.kv[gs]

    def reduce(ufunc, x):
        return ufunc.reduceat(x, gs) if len(gs) else np.zeros(0)

    lo_u, hi_u = reduce(np.minimum, amin + q.to_u), reduce(np.maximum, amax + q.to_u)
    lo_v, hi_v = reduce(np.minimum, amin + q.to_v), reduce(np.maximum, amax + q.to_v)
    # chain time u -> v and v -> u (0 for a kept node or a loop), from a removed node of it
    chain_g = nkey[gs] >= nk
    r = cg.ridx[nodes[gs]]
    r = np.where(chain_g, r, 0)
    two = chain_g & (gv != gu)
    c_uv = np.where(two, cg.from_u[r] + cg.to_v[r], 0.0) if len(cg.removed) else np.zeros(len(gs))
    c_vu = np.where(two, cg.from_v[r] + cg.to_u[r], 0.0) if len(cg.removed) else np.zeros(len(gs))
    by_v = ~np.isfinite(c_uv) & np.isfinite(c_vu)      # owned by v: only v -> u can be driven
    own, oth = np.where(by_v, gv, gu), np.where(by_v, gu, gv)
    c = np.where(by_v, c_vu, c_uv)
    lo_own, hi_own, lo_oth = np.where(by_v, lo_v, lo_u), np.where(by_v, hi_v, hi_u), np.where(by_v, lo_u, lo_v)
    with np.errstate(invalid="ignore"):
        lo_star = np.where(np.isinf(lo_oth), lo_own, np.minimum(lo_own, lo_oth - c))
    star_lo = np.full(nk, np.inf)
    star_hi = np.full(nk, -np.inf)
    np.minimum.at(star_lo, own, lo_star)
    np.maximum.at(star_hi, own, hi_own)
    star_hi[~np.isfinite(star_lo) & (star_lo > 0)] = np.inf     # no groups: out of every horizon
    oth_reach = np.full(nk, -np.inf)
    np.maximum.at(oth_reach, oth[two], c[two])
    by_own_ptr, by_own = _csr_by(own, np.arange(len(gs)), nk)
    by_oth_ptr, by_oth = _csr_by(oth[two], np.flatnonzero(two), nk)
    groups = _Groups(key=nkey[gs], nptr=np.append(gs, len(nodes)).astype(np.int64), gu=gu, gv=gv,
                     lo_u=lo_u, hi_u=hi_u, lo_v=lo_v, hi_v=hi_v, own=own, by_own_ptr=by_own_ptr, by_own=by_own,
                     by_oth_ptr=by_oth_ptr, by_oth=by_oth, star_lo=star_lo, star_hi=star_hi, oth_reach=oth_reach,
                     n_kept=nk)
    relevant = (np.diff(by_own_ptr) > 0) | (np.diff(by_oth_ptr) > 0)
    if nk and relevant.mean() < _RELEVANT_SHARE:
        groups.relevant = relevant
    gw = reduce(np.add, wsum)
    return _Homes(query=q, nodes=nodes, amin=amin, amax=amax, wsum=wsum, ptr=ptr, access=a, workers=w,
                  groups=groups, gw=gw, star_w=np.bincount(own, weights=gw, minlength=nk),
                  wcum=np.concatenate([[0.0], np.cumsum(w)]))


#: Below this share of kept nodes with groups, reads skip the others first.
_RELEVANT_SHARE = 0.6

#: Groupings of housing kept per graph (the balance reads the same million homes several times).
_HOMES_CACHED = 2


def _digest(*arrays) -> str:
    h = hashlib.blake2b(digest_size=16)
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(str((a.dtype, a.shape)).encode())
        h.update(a.view(np.uint8).ravel() if a.size else b"")
    return h.hexdigest()


def _access_and_homes(graph: RoadGraph, housing_xy: np.ndarray, workers: np.ndarray, access_speed_kmh: float,
                      max_access_m: float) -> tuple[HousingAccess, _Homes]:
    """Housing access and grouping of these points and weights (cached on the graph)."""
    xy = np.asarray(housing_xy, dtype=float).reshape(-1, 2)
    key = (_digest(xy, workers), float(access_speed_kmh), float(max_access_m))

    def compute() -> tuple[HousingAccess, _Homes]:
        acc = housing_access(graph, xy, access_speed_kmh=access_speed_kmh, max_access_m=max_access_m)
        return acc, _group_homes(graph, acc, workers)

    return graph.remembered("homes_lru", key, compute, keep=_HOMES_CACHED)


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
    """Workers within each horizon for one batch of workplaces (runs in a worker).

    All workplaces of the batch at once: the groups of homes (:class:`_Groups`) next to a
    reached kept node whose time bounds put them wholly in or out of every horizon (with
    a margin far above rounding) count as a whole; the others, and the chains holding an
    entry of the workplace, are read node by node, then home by home.
    """
    s: _Searcher = _STATE["searcher"]
    sets: list = _STATE.get("homes_sets") or [_STATE["homes"]]
    minutes = _STATE["minutes"]
    primary = _STATE["primary"]
    limit = max(minutes + ((primary,) if primary is not None else ())) + TIME_TOLERANCE_MIN
    d_all = dijkstra(s.aug, directed=True, indices=s.nk + np.asarray(batch), limit=limit)
    parts: list[list] = [[] for _ in sets]
    for i in range(0, len(batch), _SUB_BATCH):
        d = d_all[i:i + _SUB_BATCH]
        at = _reached_kept(s, d, limit)      # the same for every set of points
        for k, homes in enumerate(sets):     # one search, read for every set of points
            parts[k].append(_count_rows(s, homes, d, batch[i:i + _SUB_BATCH], minutes,
                                        primary if k == 0 else None, limit, at))
    reached = [r for _, rr in parts[0] for r in rr] if primary is not None else None
    counts = [np.concatenate([c for c, _ in pk]) for pk in parts]
    if "homes_sets" in _STATE:
        return np.stack(counts), reached
    return counts[0], reached


def _reached_kept(s: _Searcher, d: np.ndarray, limit: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The kept nodes reached within ``limit``, row by row: (row, kept index, minutes)."""
    nc = d.shape[1]
    flat = d.ravel()
    at = np.flatnonzero(flat <= limit)
    bi = at // nc
    rk = at - bi * nc
    kept = rk < s.nk
    return bi[kept], rk[kept], flat[at[kept]]


def _count_rows(s: _Searcher, homes: _Homes, d: np.ndarray, batch: np.ndarray, minutes: tuple,
                primary: float | None, limit: float,
                at: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, list | None]:
    nb_, nc = d.shape
    flat = d.ravel()
    q, g = homes.query, homes.groups
    # the kept nodes reached, row by row
    bi, rk, dk = at if at is not None else _reached_kept(s, d, limit)
    reached = None
    if primary is not None:
        reached = _reached_batch(s, _STATE["iso"], _STATE["chains"], d, batch, bi, rk, dk,
                                 primary + TIME_TOLERANCE_MIN, _STATE["outline"])
    if g.relevant is not None:     # kept nodes without groups: sure, with no workers
        keep = g.relevant[rk]
        bi, rk, dk = bi[keep], rk[keep], dk[keep]
    thr_sorted = np.sort(np.asarray(minutes, dtype=float))
    thr = thr_sorted + TIME_TOLERANCE_MIN
    inverse = np.searchsorted(thr_sorted, np.asarray(minutes, dtype=float))
    nm = len(thr)
    m1 = nm + 1
    margin = 1e-9 * np.maximum(1.0, thr)
    # stars of the reached kept nodes: wholly in or out of every horizon, or read by group
    first_in = _horizon_index(thr + margin, dk + g.star_lo[rk])
    whole = _horizon_index(thr - margin, dk + g.star_hi[rk])
    sure = first_in == whole
    acc = np.bincount(bi * m1 + whole, weights=np.where(sure, homes.star_w[rk], 0.0), minlength=nb_ * m1).astype(float)
    ub, uk = bi[~sure], rk[~sure]
    cu = g.by_own_ptr[uk + 1] - g.by_own_ptr[uk]
    # chains whose owner may be out of the search, under their other end
    near = dk + g.oth_reach[rk] > limit - 1e-9 * max(1.0, limit)
    nb2, nk2 = bi[near], rk[near]
    cv = g.by_oth_ptr[nk2 + 1] - g.by_oth_ptr[nk2]
    sg_v = g.by_oth[_ranges(g.by_oth_ptr[nk2], cv)]
    sb_v = np.repeat(nb2, cv)
    keep = flat[sb_v * nc + g.own[sg_v]] > limit
    sg = np.concatenate([g.by_own[_ranges(g.by_own_ptr[uk], cu)], sg_v[keep]])
    sb = np.concatenate([np.repeat(ub, cu), sb_v[keep]])
    du = flat[sb * nc + g.gu[sg]]
    dv = flat[sb * nc + g.gv[sg]]
    first_in = _horizon_index(thr + margin, np.minimum(du + g.lo_u[sg], dv + g.lo_v[sg]))
    whole = _horizon_index(thr - margin, np.minimum(du + g.hi_u[sg], dv + g.hi_v[sg]))
    # chains holding an entry of the workplace: always node by node (and out of their star)
    e = _ranges(s.ce_ptr[batch], s.ce_ptr[batch + 1] - s.ce_ptr[batch])
    e_b = np.repeat(np.arange(nb_), s.ce_ptr[batch + 1] - s.ce_ptr[batch])
    ekey = g.n_kept + s.ce_chain[e]
    eg = np.minimum(np.searchsorted(g.key, ekey), max(g.n - 1, 0))
    has = (g.key[eg] == ekey) if g.n else np.zeros(len(e), dtype=bool)
    epair = np.unique(e_b[has] * g.n + eg[has])
    pb, pg = epair // max(g.n, 1), epair % max(g.n, 1)
    po = g.own[pg]
    de = flat[pb * nc + po]
    star = de <= limit
    pb, pg, po, de = pb[star], pg[star], po[star], de[star]
    wh_e = _horizon_index(thr - margin, de + g.star_hi[po])
    counted = _horizon_index(thr + margin, de + g.star_lo[po]) == wh_e
    acc -= np.bincount(pb[counted] * m1 + wh_e[counted], weights=homes.gw[pg[counted]], minlength=nb_ * m1)
    mark = np.zeros((nb_, g.n), dtype=bool)
    mark.ravel()[epair] = True
    is_entry = mark[sb, sg]
    sure = (first_in == whole) & ~is_entry
    acc += np.bincount(sb[sure] * m1 + whole[sure], weights=homes.gw[sg[sure]], minlength=nb_ * m1)
    unsure = ~sure & ~is_entry
    ukey = np.sort(np.concatenate([sb[unsure] * g.n + sg[unsure], epair]))
    ub, ug = ukey // max(g.n, 1), ukey % max(g.n, 1)
    cnt = g.nptr[ug + 1] - g.nptr[ug]
    cols = _ranges(g.nptr[ug], cnt)           # home-node positions, sorted within each row
    cb = np.repeat(ub, cnt)
    # the nodes of a group share its ends (a chain's, or the kept node itself)
    gbase = ub * nc
    t = np.minimum(q.to_u[cols] + np.repeat(flat[gbase + g.gu[ug]], cnt),
                   q.to_v[cols] + np.repeat(flat[gbase + g.gv[ug]], cnt))
    ei, acols, acost = s.along_chains(e, q)
    if len(acols):
        pos = np.searchsorted(cb * q.n + cols, e_b[ei] * q.n + acols)
        np.minimum.at(t, pos, acost)
    # horizon index from which a node is wholly / partly in reach: a node is full for
    # horizon i when most access + t <= thr[i], i.e. i >= searchsorted(thr, amax + t)
    i_full = _horizon_index(thr, homes.amax[cols] + t)
    i_part = _horizon_index(thr, homes.amin[cols] + t)
    acc += np.bincount(cb * m1 + i_full, weights=homes.wsum[cols], minlength=nb_ * m1)
    part = np.flatnonzero(i_part < i_full)
    if len(part):
        # a node partly within horizon i: its first home is within, its last is not; the
        # homes within (sorted by access) found by bisection, their workers by prefix sums
        span = (i_full - i_part)[part]
        if (span == 1).all():     # the usual case: partly within one horizon only
            pj, hz = part, i_part[part].astype(np.int64)
        else:
            pj = np.repeat(part, span)
            hz = _ranges(i_part[part], span)
        cj = cols[pj]
        p0 = homes.ptr[cj]
        lo = _homes_within(homes.access, p0, homes.ptr[cj + 1] - p0 - 2, t[pj], thr[hz])
        w_in = homes.wcum[p0 + lo] - homes.wcum[p0]
        hb = cb[pj] * m1 + hz
        acc += np.bincount(hb, weights=w_in, minlength=nb_ * m1)
        acc -= np.bincount(hb + 1, weights=w_in, minlength=nb_ * m1)
    out = np.cumsum(acc.reshape(nb_, m1)[:, :nm], axis=1)[:, inverse]
    return out, reached


def _with_workers(homes: _Homes, workers_sorted: np.ndarray) -> _Homes:
    """The same grouping of homes with other per-home weights (in ``homes.access`` order)."""
    n = len(homes.nodes)
    wsum = np.add.reduceat(workers_sorted, homes.ptr[:-1]) if n else np.zeros(0)
    gw = np.add.reduceat(wsum, homes.groups.nptr[:-1]) if n else np.zeros(0)
    star_w = np.bincount(homes.groups.own, weights=gw, minlength=homes.groups.n_kept)
    return _Homes(query=homes.query, nodes=homes.nodes, amin=homes.amin, amax=homes.amax, wsum=wsum,
                  ptr=homes.ptr, access=homes.access, workers=workers_sorted, groups=homes.groups, gw=gw,
                  star_w=star_w, wcum=np.concatenate([[0.0], np.cumsum(workers_sorted)]))


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
    acc, homes = _access_and_homes(graph, housing_xy, workers, access_speed_kmh, max_access_m)
    if entries is None:
        entries = workplace_entries(graph, workplaces, access_speed_kmh=access_speed_kmh,
                                    max_access_m=max_access_m)
    searcher = _Searcher(graph, entries)
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


def _free_cpus() -> float:
    """CPUs not busy over the last minute (this process's own share counted as free)."""
    try:
        return len(os.sched_getaffinity(0)) - os.getloadavg()[0] + 1.0
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return float(os.cpu_count() or 1)


#: Set while another process of the same run keeps the other CPUs busy (see :func:`one_process`).
_ONE_PROCESS: list[bool] = []


@contextmanager
def one_process() -> Iterator[None]:
    """Within it, the search batches run in this process whatever ``n_jobs`` says: another
    process of the same run already works on the other CPUs (a run's analyses beside the
    balance), and worker processes would only take CPU from it. The load average cannot
    tell: it lags a minute behind a run that has just started (metro with roads, started
    on an idle machine: the balance's two workers left the analyses beside it a third of
    the CPUs, and the balance then waited 10.8 s for them)."""
    _ONE_PROCESS.append(True)
    try:
        yield
    finally:
        _ONE_PROCESS.pop()


def _run(fn, batches: list, n_jobs: int) -> list:
    """``fn`` over the batches, in up to ``n_jobs`` forked processes.

    Extra processes only when a CPU is free: on a busy machine (and with the kernel's
    per-session scheduling) they share this session's slice and only add the cost of
    forking (measured on the metro benchmark at load 6: 2 processes 38.6 s wall / 16.0 s
    CPU, 1 process 26.4 s / 13.3 s); never within :func:`one_process`.
    """
    n_jobs = 1 if _ONE_PROCESS else min(max(1, int(n_jobs)), max(1, int(_free_cpus())))
    if (n_jobs == 1 or len(batches) < 2 or "fork" not in multiprocessing.get_all_start_methods()
            or multiprocessing.current_process().daemon):   # e.g. a run's background job: no children
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
    return workers_within_minutes_sets(graph, [(housing_xy, housing_workers)], workplaces, minutes,
                                       access_speed_kmh=access_speed_kmh, max_access_m=max_access_m,
                                       primary_minute=primary_minute, reached_nodes=reached_nodes,
                                       n_jobs=n_jobs, entries=entries)[0]


def workers_within_minutes_sets(graph: RoadGraph, point_sets: Sequence[tuple[np.ndarray, np.ndarray]],
                                workplaces, minutes: Sequence[float] = (15, 30, 45), *,
                                access_speed_kmh: float = 5.0, max_access_m: float = 1000.0,
                                primary_minute: float | None = None, reached_nodes: str = "outline",
                                n_jobs: int = 1, entries: Entries | None = None) -> list[ReachResult]:
    """:func:`workers_within_minutes` for several sets of points at once: one search per
    workplace, read for every set (``point_sets``: ``(xy, weights)`` pairs). The first
    set's result carries ``reached``; the others' is None.
    """
    minutes = tuple(float(m) for m in minutes)
    grouped = [_access_and_homes(graph, xy, np.asarray(w, dtype=float), access_speed_kmh, max_access_m)
               for xy, w in point_sets]
    if entries is None:
        entries = workplace_entries(graph, workplaces, access_speed_kmh=access_speed_kmh,
                                    max_access_m=max_access_m)
    searcher = _Searcher(graph, entries)
    connected = entries.connected
    targets = np.flatnonzero(connected)
    log.debug("travel-time reach: %d of %d workplaces connected, %d point sets; %d jobs",
              len(targets), entries.n, len(grouped), n_jobs)
    outs = [np.full((entries.n, len(minutes)), np.nan) for _ in grouped]
    reached: list | None = [np.zeros(0, dtype=np.int64)] * entries.n if primary_minute is not None else None
    if len(targets) and len(minutes):
        iso = _Query(graph, graph.contraction.removed) if primary_minute is not None else None
        chains = _Chains(graph) if primary_minute is not None else None
        _STATE.update(searcher=searcher, homes_sets=[h for _, h in grouped], minutes=minutes,
                      primary=primary_minute, iso=iso, chains=chains, outline=reached_nodes == "outline")
        try:
            batches = _batches(targets, searcher.aug.shape[0])
            results = _run(_batch_counts, batches, n_jobs)
        finally:
            _STATE.clear()
        for batch, (counts, rch) in zip(batches, results):
            for k, out in enumerate(outs):
                out[batch] = counts[k]
            if reached is not None:
                for w, nodes in zip(batch, rch):
                    reached[w] = nodes
    return [ReachResult(minutes=minutes, workers=out, connected=connected, housing_connected=acc.connected,
                        reached=reached if k == 0 else None)
            for k, (out, (acc, _)) in enumerate(zip(outs, grouped))]
