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
* the super-sources of all workplaces are rows appended to one sparse matrix, searched a
  batch of workplaces at a time by a compiled Dijkstra (:mod:`geo.network._dijkstra`: the
  answers of ``scipy.sparse.csgraph.dijkstra``, faster);
* times at nodes inside chains (where most homes and entries are) are recovered exactly
  from the chain ends, plus the direct way along the chain to an entry on the same chain;
* housing is counted by a compiled reading of the searches (:mod:`geo.network._count`,
  numba): homes are grouped by the kept node or chain their times come from; a group
  whose time bounds settle it for every horizon (a margin of 1e-9 relative, far above
  rounding and far below the tolerance, keeps the answer exactly that of home-by-home
  comparisons) counts as a whole, the others node by node, and a node on the edge of a
  horizon home by home (sorted by access, by bisection); chains holding an entry of the
  workplace are always read node by node; the groups are read in order, each for every
  workplace of the batch at once (their arrays stay in cache);
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

from geo.network._dijkstra import searches
from geo.network._search import _Chains, _Query, _reached_batch, _Searcher, _starts
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
    """

    key: np.ndarray
    nptr: np.ndarray
    gu: np.ndarray
    gv: np.ndarray
    lo_u: np.ndarray
    hi_u: np.ndarray
    lo_v: np.ndarray
    hi_v: np.ndarray
    n_kept: int

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
    q = _Query(graph, nodes)
    nkey = key[start]
    gs = _starts(nkey)
    gu, gv = q.ku[gs], q.kv[gs]

    def reduce(ufunc, x):
        return ufunc.reduceat(x, gs) if len(gs) else np.zeros(0)

    lo_u, hi_u = reduce(np.minimum, amin + q.to_u), reduce(np.maximum, amax + q.to_u)
    lo_v, hi_v = reduce(np.minimum, amin + q.to_v), reduce(np.maximum, amax + q.to_v)
    groups = _Groups(key=nkey[gs], nptr=np.append(gs, len(nodes)).astype(np.int64), gu=gu, gv=gv,
                     lo_u=lo_u, hi_u=hi_u, lo_v=lo_v, hi_v=hi_v, n_kept=nk)
    return _Homes(query=q, nodes=nodes, amin=amin, amax=amax, wsum=wsum, ptr=ptr, access=a, workers=w,
                  groups=groups, gw=reduce(np.add, wsum), wcum=np.concatenate([[0.0], np.cumsum(w)]))


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


def _batch_reach_sums(batch: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per home: sum of the jobs, and number, of the batch's workplaces within the minute.

    Returns node-level sums (homes of a node all within) and per-home sums (nodes only
    partly within) as (node_jobs, node_count, home_jobs, home_count), dense arrays.
    """
    from geo.network._count import searches_by_node, spread_batch

    s: _Searcher = _STATE["searcher"]
    homes: _Homes = _STATE["homes"]
    thr = _STATE["minute"] + TIME_TOLERANCE_MIN
    d = searches(s.csr, s.nk + np.asarray(batch), thr)
    by_node, by_home = spread_batch(s, homes, searches_by_node(d, s.nk), batch, thr, 1e-9 * max(1.0, thr),
                                    _STATE["jobs"][batch])
    return by_node[:, 0], by_node[:, 1], by_home[:, 0], by_home[:, 1]


def _batch_counts(batch: np.ndarray) -> tuple[np.ndarray, list]:
    """Workers within each horizon for one batch of workplaces (runs in a worker).

    One search per workplace to the largest horizon, read for every set of points and
    every horizon by :func:`geo.network._count.count_batch`; with a primary horizon, the
    nodes within it too (for isochrones).
    """
    from geo.network._count import count_batch, searches_by_node

    s: _Searcher = _STATE["searcher"]
    sets: list = _STATE.get("homes_sets") or [_STATE["homes"]]
    minutes = _STATE["minutes"]
    primary = _STATE["primary"]
    limit = max(minutes + ((primary,) if primary is not None else ())) + TIME_TOLERANCE_MIN
    d_all = searches(s.csr, s.nk + np.asarray(batch), limit)
    thr_sorted = np.sort(np.asarray(minutes, dtype=float))
    thr = thr_sorted + TIME_TOLERANCE_MIN
    inverse = np.searchsorted(thr_sorted, np.asarray(minutes, dtype=float))
    # group bounds are sums in another order than a home's time: a margin far above
    # rounding, far below the tolerance, sends a group that close to a horizon home by home
    margin = 1e-9 * np.maximum(1.0, thr)
    dt = searches_by_node(d_all, s.nk)
    counts = [np.cumsum(count_batch(s, homes, dt, batch, thr, margin)[:, :len(thr)], axis=1)[:, inverse]
              for homes in sets]
    reached = None
    if primary is not None:
        reached = []
        for i in range(0, len(batch), _SUB_BATCH):
            d = d_all[i:i + _SUB_BATCH]
            bi, rk, dk = _reached_kept(s, d, limit)
            reached += _reached_batch(s, _STATE["iso"], _STATE["chains"], d, batch[i:i + _SUB_BATCH], bi, rk, dk,
                                      primary + TIME_TOLERANCE_MIN, _STATE["outline"])
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


def _with_workers(homes: _Homes, workers_sorted: np.ndarray) -> _Homes:
    """The same grouping of homes with other per-home weights (in ``homes.access`` order)."""
    n = len(homes.nodes)
    wsum = np.add.reduceat(workers_sorted, homes.ptr[:-1]) if n else np.zeros(0)
    gw = np.add.reduceat(wsum, homes.groups.nptr[:-1]) if n else np.zeros(0)
    return _Homes(query=homes.query, nodes=homes.nodes, amin=homes.amin, amax=homes.amax, wsum=wsum,
                  ptr=homes.ptr, access=homes.access, workers=workers_sorted, groups=homes.groups, gw=gw,
                  wcum=np.concatenate([[0.0], np.cumsum(workers_sorted)]))


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
        for nj_, nn_, hj, hn in _run_each(_batch_reach_sums, batches, n_jobs):
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
            for batch, (counts, _) in zip(batches, _run_each(_batch_counts, batches, n_jobs)):
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
    """``fn`` over the batches, in up to ``n_jobs`` forked processes: the list of results
    (:func:`_run_each` gives them one by one)."""
    return list(_run_each(fn, batches, n_jobs))


def _run_each(fn, batches: list, n_jobs: int) -> Iterator:
    """``fn`` over the batches, in up to ``n_jobs`` forked processes, each result as it
    comes (in order): a caller that adds them up holds one batch's result at a time (the
    per-home sums of :func:`workers_shared_within` are dense arrays, 18.5 MB per batch on
    the metro sample: kept as a list, 630 MB for its 34 batches).

    Extra processes only when a CPU is free: on a busy machine (and with the kernel's
    per-session scheduling) they share this session's slice and only add the cost of
    forking (measured on the metro benchmark at load 6: 2 processes 38.6 s wall / 16.0 s
    CPU, 1 process 26.4 s / 13.3 s); never within :func:`one_process`.
    """
    n_jobs = 1 if _ONE_PROCESS else min(max(1, int(n_jobs)), max(1, int(_free_cpus())))
    if (n_jobs == 1 or len(batches) < 2 or "fork" not in multiprocessing.get_all_start_methods()
            or multiprocessing.current_process().daemon):   # e.g. a run's background job: no children
        for b in batches:
            yield fn(b)
        return
    from geo.network import _count, _dijkstra

    _count.compile_now()       # once, before the workers fork
    _dijkstra.compile_now()
    ctx = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=min(n_jobs, len(batches)), mp_context=ctx) as pool:
        yield from pool.map(fn, batches, chunksize=1)


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
