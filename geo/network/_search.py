"""The bounded searches of :mod:`geo.network.reach` and reading them at any node.

One reversed search per workplace on the simplified graph (:mod:`geo.network._contract`)
from a super-source (one edge per entry node, or per end of the chain an entry lies on);
times at removed nodes from the chain ends plus the way along the chain to an entry on
it; the nodes within a horizon (for isochrones); the horizon a time falls in and the homes
of a node within one (for the counts). See :mod:`geo.network.reach`.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import dijkstra

from geo.network.access import Entries
from geo.network.graph import RoadGraph


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
        # one edge per (workplace, kept node): the smallest weight
        key = si * nk + sj
        order = np.argsort(key, kind="stable")
        key = key[order]
        first = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]])) if len(key) else np.zeros(0, np.int64)
        sw = np.minimum.reduceat(sw[order], first) if len(first) else sw
        si, sj = key[first] // max(nk, 1), key[first] % max(nk, 1)
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
        ch = cg.chain[r]
        order = np.argsort(ow_r * (int(ch.max()) + 1 if len(ch) else 1) + ch, kind="stable")
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

    def at_nodes(self, dk: np.ndarray, targets: np.ndarray, query: _Query) -> np.ndarray:
        """Minutes from each query node to each target (B × Q), exact."""
        out = np.minimum(query.to_u + dk[:, query.ku], query.to_v + dk[:, query.kv])
        for b, w in enumerate(targets):
            cols, cost = self.along_chain(int(w), query)
            if len(cols):
                np.minimum.at(out[b], cols, cost)
        return out

    def along_chain(self, w: int, query: _Query) -> tuple[np.ndarray, np.ndarray]:
        """(query position, minutes) of the ways along a chain to an entry of ``w`` on it."""
        _, pos, cost = self.along_chains(np.arange(self.ce_ptr[w], self.ce_ptr[w + 1]), query)
        return pos, cost

    def along_chains(self, e: np.ndarray, query: _Query) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The ways along chains to the chain entries ``e`` (indices into ``ce_*``).

        Returns (position in ``e``, query position, minutes) of every query node on the
        chain of an entry that can reach it along the chain.
        """
        empty = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0))
        if len(e) == 0:
            return empty
        ch = self.ce_chain[e]
        q_lo = np.searchsorted(query.rem_chain_sorted, ch, side="left")
        cnt = np.searchsorted(query.rem_chain_sorted, ch, side="right") - q_lo
        if not cnt.any():
            return empty
        ei = np.repeat(np.arange(len(e)), cnt)
        qs = _ranges(q_lo, cnt)
        ee = e[ei]
        qrank = query.rem_rank_sorted[qs]
        erank = self.ce_rank[ee]
        ahead = erank > qrank     # entry further from u: forward along the chain
        behind = erank < qrank
        fwd_ok = ahead & (self.ce_fu_cnt[ee] == query.rem_fu_cnt_sorted[qs])
        bwd_ok = behind & (self.ce_tu_cnt[ee] == query.rem_tu_cnt_sorted[qs])
        cost = np.full(len(ee), np.inf)
        cost[fwd_ok] = self.ce_fu_fin[ee[fwd_ok]] - query.rem_fu_fin_sorted[qs[fwd_ok]]
        cost[bwd_ok] = query.rem_tu_fin_sorted[qs[bwd_ok]] - self.ce_tu_fin[ee[bwd_ok]]
        cost[erank == qrank] = 0.0
        cost += self.ce_g[ee]
        keep = np.isfinite(cost)
        return ei[keep], query.rem_pos_sorted[qs[keep]], cost[keep]


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


def _csr_by(keys: np.ndarray, values: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(keys, kind="stable")
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(keys, minlength=n), out=ptr[1:])
    return ptr, values[order]


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
        # per kept node k, the longest way from the far end of one of its chains to k
        # (inf: a chain that cannot be driven towards k): when time(k) + that is within
        # a horizon, the far ends of all of k's chains are within it too
        c_vu = cg.from_v[first] + cg.to_u[first]
        c_uv = cg.from_u[first] + cg.to_v[first]
        loop = self.ku == self.kv
        self.inbound = np.full(cg.n_kept, -np.inf)
        np.maximum.at(self.inbound, keys, np.where(np.concatenate([loop, loop]), 0.0,
                                                   np.concatenate([c_vu, c_uv])))


def _reached_batch(s: _Searcher, iso: _Query, chains: _Chains, d: np.ndarray, batch: np.ndarray,
                   bi: np.ndarray, rk: np.ndarray, dk: np.ndarray, thr: float, outline: bool) -> list[np.ndarray]:
    """Node ids (full graph) within ``thr`` minutes of each workplace of ``batch``.

    ``d``: the batch's search (B × columns, kept nodes first); ``bi``, ``rk``, ``dk``:
    row, kept index and minutes of kept nodes reached (a superset of those within
    ``thr``). ``outline``: the kept nodes, and chain vertices only on chains with an end
    out of reach (vertices between two reached ends add nothing to the drawn area).
    """
    cg = s.cg
    nc = d.shape[1]
    flat = d.ravel()
    within = dk <= thr
    bi, rk, dk = bi[within], rk[within], dk[within]
    lb, lk = bi, rk
    if outline:   # only kept nodes near the edge of reach can hold a chain half out of it
        near = dk + chains.inbound[rk] > thr - 1e-9 * max(1.0, thr)
        lb, lk = bi[near], rk[near]
    starts = chains.by_kept_ptr[lk]
    cnt = chains.by_kept_ptr[lk + 1] - starts
    cs = chains.by_kept_chain[_ranges(starts, cnt)]
    cb = np.repeat(lb, cnt)
    if outline:   # a chain with one end out of reach is listed once, under the other
        keep = (flat[cb * nc + chains.ku[cs]] > thr) | (flat[cb * nc + chains.kv[cs]] > thr)
        cs, cb = cs[keep], cb[keep]
    else:
        ukey = np.unique(cb * len(chains.start) + cs)
        cb, cs = ukey // max(len(chains.start), 1), ukey % max(len(chains.start), 1)
    vcnt = chains.size[cs]
    r = chains.order[_ranges(chains.start[cs], vcnt)]
    rb = np.repeat(cb, vcnt)
    t = np.minimum(cg.to_u[r] + flat[rb * nc + cg.ku[r]], cg.to_v[r] + flat[rb * nc + cg.kv[r]])
    n = cg.kidx.shape[0]
    keys = [bi * n + cg.kept_nodes[rk], (rb * n + cg.removed[r])[t <= thr]]
    e = _ranges(s.ce_ptr[batch], s.ce_ptr[batch + 1] - s.ce_ptr[batch])
    ei, cols, cost = s.along_chains(e, iso)   # chains holding an entry of the workplace
    if len(cols):
        eb = np.repeat(np.arange(len(batch)), s.ce_ptr[batch + 1] - s.ce_ptr[batch])[ei]
        base = eb * nc
        t = np.minimum(np.minimum(iso.to_u[cols] + flat[base + iso.ku[cols]],
                                  iso.to_v[cols] + flat[base + iso.kv[cols]]), cost)
        keys.append((eb * n + cg.removed[cols])[t <= thr])
    keys = np.sort(np.concatenate(keys))
    if len(keys):
        keys = keys[np.concatenate([[True], keys[1:] != keys[:-1]])]
    b_of = keys // n
    nodes = keys - b_of * n
    if n < 2**31:
        nodes = nodes.astype(np.int32)
    return np.split(nodes, np.cumsum(np.bincount(b_of, minlength=len(batch)))[:-1])


def _horizon_index(thr: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Number of thresholds (sorted) below each time: the first horizon it is within.

    Small integers (uint8 for fewer than 255 thresholds: a quarter of the memory traffic
    of a comparison-and-add per threshold in intp)."""
    out = np.zeros(np.shape(t), dtype=np.uint8 if len(thr) < 255 else np.intp)
    for x in thr:
        out += t > x
    return out


def _homes_within(access: np.ndarray, p0: np.ndarray, n: np.ndarray, t: np.ndarray, th: np.ndarray) -> np.ndarray:
    """Homes within ``th`` of a node reached in ``t``, for nodes whose first home (at
    ``p0``; ``access``: minutes of the homes, sorted by node then access) is within and
    whose last (``p0 + n + 1``) is not.

    A bisection over the ``n`` homes in between (``access + t <= th``, exactly the
    home-by-home comparison); the steps go from the largest power of two down, each only
    over the nodes with that many homes to search (sorted by their number of steps).
    """
    bits = np.frexp(n.astype(float))[1].astype(np.uint8)   # bit length of n (0 for 0)
    order = np.argsort(bits, kind="stable")[::-1]          # most steps first
    nbits = np.bincount(bits, minlength=1)
    p0s, ns, ts, ths = p0[order], n[order], t[order], th[order]
    pos = np.zeros(len(n), dtype=np.int64)                 # homes within after the first
    for j in range(len(nbits) - 2, -1, -1):
        m = len(n) - int(nbits[: j + 1].sum())             # the nodes with more than j bits
        step = 1 << j
        cand = pos[:m] + step
        idx = p0s[:m] + np.minimum(cand, ns[:m])
        ok = (cand <= ns[:m]) & (access[idx] + ts[:m] <= ths[:m])
        pos[:m] += ok * step
    out = np.empty(len(n), dtype=np.int64)
    out[order] = pos + 1
    return out
