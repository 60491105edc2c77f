"""One Dijkstra search per source on a CSR graph, compiled: the searches of
:mod:`geo.network.reach`, :mod:`geo.network.routes` and :mod:`geo.network._search`.

:func:`searches` returns exactly what ``scipy.sparse.csgraph.dijkstra(graph,
directed=True, indices=sources, limit=limit)`` returns (tested to the last bit): every
entry of the CSR matrix is an edge (explicit zeros too), a node is reached when its time
is ``<= limit``, the others are ``inf``.

The queue is a bucket queue (Dial's), not a heap: the nodes waiting are kept in buckets of
:attr:`Graph.width` minutes, taken bucket by bucket in time order, in any order within a
bucket; a node whose time drops after it was taken is put back and taken again (label
correcting). The times are still the same floats as scipy's: each is the smallest
``time(p) + weight(p → v)`` over the node's predecessors ``p`` (floats rounded the same
way, so a smaller ``time(p)`` never gives a larger sum), whatever the order the nodes were
taken in, and that is what Dijkstra's order gives too. Why: on road graphs a bucket is
taken in a few steps where a heap sifts through its levels (cache misses); on the metro
sample's simplified graph (76,000 nodes, 377,000 edges; buckets of 1.5 minutes, 18 in the
ring) a complete search takes 4.1-5.4 ms of CPU against 8.7-10.0 ms with the indexed 4-ary
heap used before (itself 1.2 times faster than scipy's Fibonacci heap), a search to 45
minutes 0.6-0.7 against 1.0-1.1 ms, to 90 minutes 2.1-2.7 against 4.4-4.8 ms (64 searches
each, four rounds alternated in one process; the same times to the last bit).
"""

from __future__ import annotations

import numpy as np
from numba import njit as _njit
from scipy import sparse

#: At most this many buckets (the width grows on graphs with very unequal weights).
MAX_BUCKETS = 1 << 16


def njit(fn):
    """numba's ``njit``, cached on disk (compiled once per installation, about 4 s) where a
    cache folder can be written (beside the module, else the user's cache folder), else
    compiled in each run."""
    try:
        return _njit(cache=True, nogil=True)(fn)
    except RuntimeError:    # pragma: no cover - no writable cache location
        return _njit(nogil=True)(fn)


@njit
def _search_rows(indptr: np.ndarray, indices: np.ndarray, weights: np.ndarray, sources: np.ndarray,
                 limit: float, width: float, n_buckets: int, out: np.ndarray) -> None:
    """Fill row ``b`` of ``out`` (all ``inf``) with the times from ``sources[b]``.

    Buckets of ``width`` minutes, ``n_buckets`` of them in a ring (a few more than the largest
    weight spans, so that no node waits a lap ahead, which would cost time only: a node
    taken too early is taken again when its time drops): a node waits in the bucket of its
    time, in a doubly linked list (moved when its time drops into another)."""
    n = indptr.shape[0] - 1
    inv = 1.0 / width
    head = np.full(n_buckets, -1, np.int32)    # first node of each bucket of the ring
    nxt = np.empty(n, np.int32)
    prv = np.empty(n, np.int32)
    at = np.full(n, -1, np.int64)              # a waiting node's bucket (from 0 on), else -1
    for b in range(sources.shape[0]):
        d = out[b]
        s = sources[b]
        d[s] = 0.0
        head[0] = s
        nxt[s] = -1
        prv[s] = -1
        at[s] = 0
        waiting = 1
        k = 0
        while waiting > 0:
            u = head[k % n_buckets]
            if u == -1:
                k += 1
                continue
            h = nxt[u]                         # u taken from its bucket
            head[k % n_buckets] = h
            if h != -1:
                prv[h] = -1
            at[u] = -1
            waiting -= 1
            du = d[u]
            for e in range(indptr[u], indptr[u + 1]):
                v = indices[e]
                nd = du + weights[e]
                if nd >= d[v] or nd > limit:
                    continue
                d[v] = nd
                kv = int(nd * inv)
                old = at[v]
                if old == kv:
                    continue
                if old != -1:                  # out of its former bucket
                    p = prv[v]
                    q = nxt[v]
                    if p != -1:
                        nxt[p] = q
                    else:
                        head[old % n_buckets] = q
                    if q != -1:
                        prv[q] = p
                    waiting -= 1
                slot = kv % n_buckets
                h = head[slot]
                nxt[v] = h
                prv[v] = -1
                if h != -1:
                    prv[h] = v
                head[slot] = v
                at[v] = kv
                waiting += 1


def bucket_width(weights: np.ndarray) -> tuple[float, int]:
    """The bucket width of :func:`_search_rows` for these edge weights and the number of
    buckets of its ring: the median positive weight (fastest on road graphs: half the edges
    leave a node's bucket), wider when the largest weight would span more than
    :data:`MAX_BUCKETS` buckets."""
    w = weights[np.isfinite(weights) & (weights > 0)]
    if not len(w):
        return 1.0, 4
    width = max(float(np.median(w)), float(w.max()) / (MAX_BUCKETS - 4))
    return width, int(float(w.max()) / width) + 4


class Graph:
    """A CSR graph's arrays as the compiled search reads them (converted once)."""

    def __init__(self, graph: sparse.csr_matrix):
        graph = sparse.csr_matrix(graph)
        self.shape = graph.shape
        self.indptr = np.ascontiguousarray(graph.indptr, dtype=np.int64)
        self.indices = np.ascontiguousarray(graph.indices, dtype=np.int32)
        self.weights = np.ascontiguousarray(graph.data, dtype=np.float64)
        if len(self.weights) and not (self.weights >= 0).all():
            raise ValueError("searches: edge weights must be >= 0 (and not NaN)")
        self.width, self.n_buckets = bucket_width(self.weights)


def searches(graph: Graph | sparse.csr_matrix, sources, limit: float = np.inf) -> np.ndarray:
    """Times from each of ``sources`` to every node (len(sources) × n; ``inf`` where not
    reached within ``limit``): ``scipy.sparse.csgraph.dijkstra(graph, directed=True,
    indices=sources, limit=limit)``, to the last bit."""
    g = graph if isinstance(graph, Graph) else Graph(graph)
    sources = np.atleast_1d(np.asarray(sources, dtype=np.int64))
    n = g.shape[0]
    if len(sources) and (sources.min() < 0 or sources.max() >= n):
        raise ValueError(f"searches: source outside the graph's {n} nodes")
    out = np.full((len(sources), n), np.inf)
    if len(sources) and n:
        _search_rows(g.indptr, g.indices, g.weights, sources, float(limit), g.width, g.n_buckets, out)
    return out


def compile_now() -> None:
    """Compile the search (or load it from numba's cache) before worker processes fork."""
    _search_rows(np.zeros(2, np.int64), np.zeros(0, np.int32), np.zeros(0), np.zeros(1, np.int64), np.inf,
                 1.0, 3, np.full((1, 1), np.inf))
