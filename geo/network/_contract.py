"""Exact simplification of the road graph: degree-2 chains become single edges.

A node is *removable* when it touches exactly two other nodes (a vertex along a road
between intersections). Maximal runs of removable nodes are *chains*; each chain lies
between two kept nodes ``u`` and ``v`` (its *ends*; a chain of removable nodes closing on
itself keeps one of its nodes). The simplified graph has the kept nodes only, the
original edges between kept nodes, and per chain one edge ``u → v`` and one ``v → u``
(the sum of the chain's segment times; absent when a one-way segment forbids it).
Shortest times between kept nodes are unchanged.

Times at a removed node ``x`` are recovered exactly, because every path out of ``x``
runs along its chain: to a set of targets T,
``time(x → T) = min(time(x → u) + time(u → T), time(x → v) + time(v → T),
time along the chain to a target on the chain)``. For that the chain position of every
removed node is kept (rank from ``u`` and prefix sums of segment times in both
directions, with counts of forbidden segments so that differences are exact).

Lengths (metres) ride along every time: each edge's length is that of the segment that
gives its time (parallel segments: the fastest; equal times: the shorter), chains sum
their segments' lengths, and for every removed node the same prefix sums exist in metres
(``*_m`` / ``*_len``), so that the length of the route a search picks can be read exactly
(:mod:`geo.network.routes`).

Chain walks are computed for all removed nodes at once by pointer jumping over the
chain's half-edges (log2 of the longest chain rounds of array operations).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components


@dataclass
class Contraction:
    """The simplified graph and what is needed to read times at removed nodes.

    Node ids below are those of the full graph unless named ``k...`` (kept index).
    Arrays indexed by removed position ``r`` (``removed[r]`` is the node id):
    ``chain`` id, ``ku``/``kv`` kept index of the two ends, ``rank`` (segments from ``u``),
    ``to_u``/``to_v`` minutes x → end, ``from_u``/``from_v`` minutes end → x (inf when a
    one-way segment forbids it), and for differences along the chain ``fu_fin``/``fu_cnt``
    (u → x: sum of the finite segment times, count of forbidden segments) and
    ``tu_fin``/``tu_cnt`` (x → u).
    """

    kept_nodes: np.ndarray
    kidx: np.ndarray
    times: sparse.csr_matrix
    rev: sparse.csr_matrix
    removed: np.ndarray
    ridx: np.ndarray
    chain: np.ndarray
    ku: np.ndarray
    kv: np.ndarray
    rank: np.ndarray
    to_u: np.ndarray
    to_v: np.ndarray
    from_u: np.ndarray
    from_v: np.ndarray
    fu_fin: np.ndarray
    fu_cnt: np.ndarray
    tu_fin: np.ndarray
    tu_cnt: np.ndarray
    #: metres, aligned with the times above (None when the graph was built without lengths):
    #: ``lengths``/``rev_len`` the same sparsity as ``times``/``rev``; per removed node
    #: ``to_u_m``, ``to_v_m``, ``from_u_m``, ``from_v_m`` and the prefix sums ``fu_len``
    #: (u -> x) and ``tu_len`` (x -> u).
    lengths: sparse.csr_matrix | None = None
    rev_len: sparse.csr_matrix | None = None
    to_u_m: np.ndarray | None = None
    to_v_m: np.ndarray | None = None
    from_u_m: np.ndarray | None = None
    from_v_m: np.ndarray | None = None
    fu_len: np.ndarray | None = None
    tu_len: np.ndarray | None = None

    @property
    def n_kept(self) -> int:
        return int(len(self.kept_nodes))


def csr_lookup(mat: sparse.csr_matrix, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """``mat[i, j]`` for index arrays (inf where there is no explicit entry).

    ``mat`` must have sorted column indices in each row.
    """
    n = mat.shape[1]
    rows = np.repeat(np.arange(mat.shape[0], dtype=np.int64), np.diff(mat.indptr))
    keys = rows * n + mat.indices.astype(np.int64)
    q = np.asarray(i, dtype=np.int64) * n + np.asarray(j, dtype=np.int64)
    out = np.full(len(q), np.inf)
    if len(keys) == 0:
        return out
    pos = np.minimum(np.searchsorted(keys, q), len(keys) - 1)
    found = keys[pos] == q
    out[found] = mat.data[pos[found]]
    return out


def csr_min(i: np.ndarray, j: np.ndarray, w: np.ndarray, n: int) -> sparse.csr_matrix:
    """n × n CSR with the smallest weight of each (i, j); sorted indices, explicit zeros kept."""
    if len(i) == 0:
        return sparse.csr_matrix((n, n))
    key = np.asarray(i, dtype=np.int64) * n + np.asarray(j, dtype=np.int64)
    order = np.argsort(key, kind="stable")
    ks = key[order]
    start = np.flatnonzero(np.concatenate([[True], ks[1:] != ks[:-1]]))
    wmin = np.minimum.reduceat(np.asarray(w, dtype=float)[order], start)
    ku = ks[start]
    rows = ku // n
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    return sparse.csr_matrix((wmin, (ku % n).astype(np.int32), indptr), shape=(n, n))


def csr_min_pair(i: np.ndarray, j: np.ndarray, w: np.ndarray, m: np.ndarray,
                 n: int) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
    """:func:`csr_min` of the weights ``w`` and, with the same sparsity, the ``m`` of the
    entry that gives each minimum (equal weights: the smallest ``m``)."""
    if len(i) == 0:
        return sparse.csr_matrix((n, n)), sparse.csr_matrix((n, n))
    key = np.asarray(i, dtype=np.int64) * n + np.asarray(j, dtype=np.int64)
    w, m = np.asarray(w, dtype=float), np.asarray(m, dtype=float)
    order = np.lexsort((m, w, key))
    ks = key[order]
    start = np.flatnonzero(np.concatenate([[True], ks[1:] != ks[:-1]]))
    ku = ks[start]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(ku // n, minlength=n), out=indptr[1:])
    cols = (ku % n).astype(np.int32)
    return (sparse.csr_matrix((w[order][start], cols, indptr), shape=(n, n)),
            sparse.csr_matrix((m[order][start], cols.copy(), indptr.copy()), shape=(n, n)))


def transposed_like(mat: sparse.csr_matrix, data: np.ndarray) -> np.ndarray:
    """``data`` (aligned with ``mat.data``) in the order of ``mat.T.tocsr()`` with sorted
    indices (explicit zeros kept)."""
    tagged = sparse.csr_matrix((np.arange(1, mat.nnz + 1, dtype=float), mat.indices, mat.indptr),
                               shape=mat.shape).T.tocsr()
    tagged.sort_indices()
    return np.asarray(data)[tagged.data.astype(np.int64) - 1]


def z_order(xy: np.ndarray) -> np.ndarray:
    """The positions of ``xy`` (n × 2) along a Z-order (Morton) curve: points near each
    other mostly come near each other in the order (ties keep their order).

    Examples
    --------
    >>> z_order(np.array([[1.0, 1.0], [0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])).tolist()
    [1, 2, 3, 0]
    """
    xy = np.asarray(xy, dtype=float)
    if len(xy) == 0:
        return np.zeros(0, dtype=np.int64)
    lo = xy.min(axis=0)
    span = float(np.max(xy.max(axis=0) - lo)) or 1.0
    q = ((xy - lo) / span * (2**20 - 1)).astype(np.uint64)     # 20 bits per axis

    def spread(v: np.ndarray) -> np.ndarray:   # bit i of v to bit 2i
        for shift, mask in ((16, 0x0000FFFF0000FFFF), (8, 0x00FF00FF00FF00FF), (4, 0x0F0F0F0F0F0F0F0F),
                            (2, 0x3333333333333333), (1, 0x5555555555555555)):
            v = (v | (v << np.uint64(shift))) & np.uint64(mask)
        return v

    return np.argsort(spread(q[:, 0]) | (spread(q[:, 1]) << np.uint64(1)), kind="stable")


def contract(times: sparse.csr_matrix, und: sparse.csr_matrix,
             lengths: sparse.csr_matrix | None = None, xy: np.ndarray | None = None) -> Contraction:
    """Simplify ``times`` (directed, minutes) given its undirected pattern ``und``;
    ``lengths`` (metres, the same sparsity as ``times``) ride along when given.

    ``xy``: the nodes' coordinates. The kept nodes are then numbered along a Z-order curve
    (:func:`z_order`) instead of by node id: a search settles nodes near each other one
    after the other, and with this order their edges and times lie near each other in
    memory (complete searches on the metro sample's simplified graph about 15 % faster).
    Only the kept index changes; every time and length is the same."""
    n = times.shape[0]
    und = und.tocsr()
    und.sort_indices()
    degree = np.diff(und.indptr)
    removable = degree == 2
    # closed loops made only of removable nodes: keep one node of each
    if removable.any():
        rem_ids = np.flatnonzero(removable)
        sub = und[rem_ids][:, rem_ids]
        n_sub, lab = connected_components(sub, directed=False)
        nb_kept = np.asarray((und[rem_ids][:, ~removable]).sum(axis=1)).ravel() > 0
        has_end = np.bincount(lab, weights=nb_kept.astype(float), minlength=n_sub) > 0
        if not has_end.all():
            first = np.full(n_sub, len(rem_ids))
            np.minimum.at(first, lab, np.arange(len(rem_ids)))
            removable[rem_ids[first[~has_end]]] = False
    removed = np.flatnonzero(removable)
    kept_nodes = np.flatnonzero(~removable)
    if xy is not None:
        kept_nodes = kept_nodes[z_order(np.asarray(xy)[kept_nodes])]
    kidx = np.full(n, -1, dtype=np.int64)
    kidx[kept_nodes] = np.arange(len(kept_nodes))
    ridx = np.full(n, -1, dtype=np.int64)
    ridx[removed] = np.arange(len(removed))
    nr = len(removed)
    p = und.indptr[removed]
    n1 = und.indices[p].astype(np.int64)
    n2 = und.indices[p + 1].astype(np.int64)
    # half-edges ("arcs"): 2r walks from removed[r] towards n1, 2r+1 towards n2
    x = np.repeat(removed, 2)
    nb = np.empty(2 * nr, dtype=np.int64)
    nb[0::2], nb[1::2] = n1, n2
    fb = csr_lookup(times, np.concatenate([x, nb]), np.concatenate([nb, x]))
    f, b = fb[: 2 * nr], fb[2 * nr:]      # x -> nb along the walk, nb -> x against it
    with_m = lengths is not None
    if with_m:
        lfb = csr_lookup(lengths, np.concatenate([x, nb]), np.concatenate([nb, x]))
        lf, lb = lfb[: 2 * nr], lfb[2 * nr:]
        mf = np.where(np.isfinite(lf), lf, 0.0)
        mb = np.where(np.isfinite(lb), lb, 0.0)
    else:
        lb = np.zeros(2 * nr)
        mf = mb = np.zeros(2 * nr)
    rn = ridx[nb]
    nxt = np.full(2 * nr, -1, dtype=np.int64)
    inner = rn >= 0
    other_is_n2 = n1[rn[inner]] == x[inner]
    nxt[inner] = 2 * rn[inner] + other_is_n2.astype(np.int64)
    sf = np.where(np.isfinite(f), f, 0.0)
    cf = (~np.isfinite(f)).astype(np.int64)
    sb = np.where(np.isfinite(b), b, 0.0)
    cb = (~np.isfinite(b)).astype(np.int64)
    hops = np.ones(2 * nr, dtype=np.int64)
    term = np.where(inner, -1, nb)
    last = np.where(inner, -1, np.arange(2 * nr))
    active = np.flatnonzero(nxt >= 0)
    while len(active):
        j = nxt[active]
        new = (sf[active] + sf[j], cf[active] + cf[j], sb[active] + sb[j], cb[active] + cb[j],
               hops[active] + hops[j], term[j], last[j], nxt[j])
        if with_m:
            mf[active], mb[active] = mf[active] + mf[j], mb[active] + mb[j]
        sf[active], cf[active], sb[active], cb[active], hops[active], term[active], last[active], nxt[active] = new
        active = active[nxt[active] >= 0]
    a, c = np.arange(0, 2 * nr, 2), np.arange(1, 2 * nr, 2)
    u_side_a = last[a] < last[c]
    us = np.where(u_side_a, a, c)
    vs = np.where(u_side_a, c, a)
    inf = np.inf

    def cost(s, cnt):
        return np.where(cnt == 0, s, inf)

    chain = last[us]
    to_u, from_u = cost(sf[us], cf[us]), cost(sb[us], cb[us])
    to_v, from_v = cost(sf[vs], cf[vs]), cost(sb[vs], cb[vs])
    # shortcut edges: from the kept node next to a chain end, over the whole chain
    ends = np.flatnonzero((hops == 1) & (term >= 0))
    other = ends ^ 1
    k_from = term[ends]
    k_to = term[other]
    w = b[ends] + sf[other]
    ok = np.isfinite(b[ends]) & (cf[other] == 0) & (k_from != k_to)
    si, sj, sw = kidx[k_from[ok]], kidx[k_to[ok]], w[ok]
    sm = (lb[ends] + mf[other])[ok]
    # original edges between kept nodes
    coo = times.tocoo()
    both = (kidx[coo.row] >= 0) & (kidx[coo.col] >= 0)
    ki = np.concatenate([kidx[coo.row[both]], si])
    kj = np.concatenate([kidx[coo.col[both]], sj])
    kw = np.concatenate([coo.data[both], sw])
    nk = len(kept_nodes)
    klen = rev_len = None
    if with_m:
        km = np.concatenate([lengths.tocoo().data[both], sm])
        ktimes, klen = csr_min_pair(ki, kj, kw, km, nk)
    else:
        ktimes = csr_min(ki, kj, kw, nk)
    rev = ktimes.T.tocsr()
    rev.sort_indices()
    if with_m:
        rev_len = sparse.csr_matrix((transposed_like(ktimes, klen.data), rev.indices.copy(), rev.indptr.copy()),
                                    shape=rev.shape)
    metres = {}
    if with_m:
        metres = dict(lengths=klen, rev_len=rev_len, to_u_m=mf[us], from_u_m=mb[us], to_v_m=mf[vs],
                      from_v_m=mb[vs], fu_len=mb[us], tu_len=mf[us])
    return Contraction(
        kept_nodes=kept_nodes, kidx=kidx, times=ktimes, rev=rev, removed=removed, ridx=ridx,
        chain=chain, ku=kidx[term[us]], kv=kidx[term[vs]], rank=hops[us],
        to_u=to_u, to_v=to_v, from_u=from_u, from_v=from_v,
        fu_fin=sb[us], fu_cnt=cb[us], tu_fin=sf[us], tu_cnt=cf[us], **metres)
