"""The bounded searches of :mod:`geo.network.reach` and reading them at any node.

One reversed search per workplace on the simplified graph (:mod:`geo.network._contract`)
from a super-source (one edge per entry node, or per end of the chain an entry lies on);
times at removed nodes from the chain ends plus the way along the chain to an entry on
it; the nodes within a horizon (for isochrones). The counts are read by
:mod:`geo.network._count`. See :mod:`geo.network.reach`.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from geo.network._dijkstra import Graph, searches
from geo.network.access import Entries
from geo.network.graph import RoadGraph


def _starts(keys: np.ndarray) -> np.ndarray:
    """Positions in ``keys`` (sorted) where a run of equal values begins."""
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.concatenate([[True], keys[1:] != keys[:-1]]))


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
        first = _starts(key)
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
        self.csr = Graph(self.aug)      # as the compiled search reads it
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
        self.nch = int(cg.chain.max()) + 1 if len(cg.chain) else 1

    def search(self, targets: np.ndarray, limit: float) -> np.ndarray:
        """Minutes from every kept node to each target (B × n_kept; inf beyond ``limit``)."""
        d = searches(self.csr, self.nk + np.asarray(targets), limit)
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

        Returns (position in ``e``, query position, minutes) for query nodes on a chain
        holding entries of a workplace among ``e``: the ways along the chain to them (the
        position in ``e`` is that of an entry of the same workplace on the same chain).
        A workplace and query node may come more than once; the smallest minutes is the
        answer. Query nodes no entry can reach along the chain are left out.

        An entry ``x`` ahead of the query node ``q`` (further from ``u``) is reached
        forward in ``(fu(x) + g(x)) - fu(q)``, one behind it in ``tu(q) + (g(x) - tu(x))``
        (``fu``/``tu``: the finite prefix sums; only with no forbidden segment between,
        i.e. equal counts), one at ``q`` in ``g(x)``. Each is monotone in the entry's own
        term, so for a workplace with many entries on a chain (a densely drawn road has
        hundreds) only its best entry ahead of and behind each query node is read: the
        work grows with the query nodes of the chain, not with them times its entries.
        Both ways give the same minima to the last bit.
        """
        e = np.asarray(e, dtype=np.int64)
        gkey = self.ce_owner[e] * self.nch + self.ce_chain[e]
        pos = np.arange(len(e))
        if len(e) > 1 and (gkey[1:] < gkey[:-1]).any():   # callers pass whole workplaces in order
            pos = np.argsort(gkey, kind="stable")
            gkey = gkey[pos]
        start = _starts(gkey)
        size = np.diff(np.append(start, len(e)))
        many = np.repeat(size > _EACH_MAX, size)
        each = self._along_each(e, pos[~many], query)
        best = self._along_best(e, pos[many], gkey[many], query)
        return tuple(np.concatenate([a, b]) for a, b in zip(each, best))

    def _along_each(self, e: np.ndarray, p: np.ndarray, query: _Query) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`along_chains` for the entries ``e[p]``, every entry read."""
        ee = e[p]
        ch = self.ce_chain[ee]
        q_lo = np.searchsorted(query.rem_chain_sorted, ch, side="left")
        cnt = np.searchsorted(query.rem_chain_sorted, ch, side="right") - q_lo
        ei = np.repeat(p, cnt)
        qs = _ranges(q_lo, cnt)
        ee = e[ei]
        qrank = query.rem_rank_sorted[qs]
        erank = self.ce_rank[ee]
        g = self.ce_g[ee]
        fwd = (erank > qrank) & (self.ce_fu_cnt[ee] == query.rem_fu_cnt_sorted[qs])
        bwd = (erank < qrank) & (self.ce_tu_cnt[ee] == query.rem_tu_cnt_sorted[qs])
        cost = np.where(erank == qrank, g, np.inf)
        cost[fwd] = (self.ce_fu_fin[ee[fwd]] + g[fwd]) - query.rem_fu_fin_sorted[qs[fwd]]
        cost[bwd] = query.rem_tu_fin_sorted[qs[bwd]] + (g[bwd] - self.ce_tu_fin[ee[bwd]])
        keep = np.isfinite(cost)
        return ei[keep], query.rem_pos_sorted[qs[keep]], cost[keep]

    def _along_best(self, e: np.ndarray, p: np.ndarray, gkey: np.ndarray,
                    query: _Query) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`along_chains` for the entries ``e[p]`` (``gkey``: their workplace and
        chain, non-decreasing), only the best entry ahead and behind each query node read."""
        ee = e[p]
        if len(ee) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0)
        start = _starts(gkey)
        gid = np.repeat(np.arange(len(start)), np.diff(np.append(start, len(gkey))))
        ch = gkey[start] % self.nch
        q_lo = np.searchsorted(query.rem_chain_sorted, ch, side="left")
        cnt = np.searchsorted(query.rem_chain_sorted, ch, side="right") - q_lo
        gi = np.repeat(np.arange(len(start)), cnt)
        qs = _ranges(q_lo, cnt)
        qrank = query.rem_rank_sorted[qs]
        erank = self.ce_rank[ee]
        span = int(max(erank.max(), qrank.max(initial=0))) + 2
        g = self.ce_g[ee]
        # at the query node itself: the smallest g of the group's entries there
        at_key = gid * span + erank
        o = np.argsort(at_key, kind="stable")
        k_sorted = at_key[o]
        first = _starts(k_sorted)
        at_u, at_g = k_sorted[first], np.minimum.reduceat(g[o], first)
        qkey = gi * span + qrank
        j = np.minimum(np.searchsorted(at_u, qkey), len(at_u) - 1)
        cost = np.where(at_u[j] == qkey, at_g[j], np.inf)
        # ahead: forward along the chain; behind: backward; no forbidden segment between
        b, ok = _best_in_block(gid, self.ce_fu_cnt[ee], erank, self.ce_fu_fin[ee] + g,
                               gi, query.rem_fu_cnt_sorted[qs], qrank, span, ahead=True)
        c = np.full(len(qs), np.inf)
        c[ok] = (self.ce_fu_fin[ee[b]] + g[b]) - query.rem_fu_fin_sorted[qs[ok]]
        np.minimum(cost, c, out=cost)
        b, ok = _best_in_block(gid, self.ce_tu_cnt[ee], erank, g - self.ce_tu_fin[ee],
                               gi, query.rem_tu_cnt_sorted[qs], qrank, span, ahead=False)
        c = np.full(len(qs), np.inf)
        c[ok] = query.rem_tu_fin_sorted[qs[ok]] + (g[b] - self.ce_tu_fin[ee[b]])
        np.minimum(cost, c, out=cost)
        keep = np.isfinite(cost)
        return p[start][gi[keep]], query.rem_pos_sorted[qs[keep]], cost[keep]


#: a workplace with at most this many entries on a chain has each of them read there
#: (cheaper than sorting them); with more, only the best ahead of and behind each node
_EACH_MAX = 16


def _best_in_block(gid: np.ndarray, bcnt: np.ndarray, rank: np.ndarray, val: np.ndarray,
                   qg: np.ndarray, qcnt: np.ndarray, qrank: np.ndarray, span: int,
                   ahead: bool) -> tuple[np.ndarray, np.ndarray]:
    """For each query (group ``qg``, count ``qcnt``, rank ``qrank``): the entry of the same
    group and count with the smallest ``val`` among those of higher rank (``ahead``) or of
    lower rank (behind). Returns (entry position, found) with positions only where found.

    Entries sorted by block (group, count) then rank; a running minimum of the values'
    ordinal ranks offset per block (later blocks lower, so that the minimum restarts at
    each block) gives the suffix (ahead) or prefix (behind) argmin in one pass.
    """
    n = len(val)
    cmax = int(max(bcnt.max(), qcnt.max(initial=0))) + 1
    bkey = gid * cmax + bcnt
    o = np.lexsort((rank, bkey))
    bk = bkey[o]
    bstart = _starts(bk)
    ub = bk[bstart]
    bid = np.repeat(np.arange(len(ub)), np.diff(np.append(bstart, n)))
    vr = np.empty(n, dtype=np.int64)
    by_val = np.argsort(val[o], kind="stable")
    vr[by_val] = np.arange(n)
    if ahead:
        run = np.minimum.accumulate((bid * n + vr)[::-1])[::-1]
    else:
        run = np.minimum.accumulate((len(ub) - 1 - bid) * n + vr)
    arg = o[by_val[run % n]]           # entry position of the running best
    full = bid * span + rank[o]
    qb = qg * cmax + qcnt
    j = np.minimum(np.searchsorted(ub, qb), len(ub) - 1)
    found = ub[j] == qb
    side = "right" if ahead else "left"
    # the first entry of the block ranked above the node, or the last ranked below it
    p = np.searchsorted(full, j * span + qrank, side=side) - (0 if ahead else 1)
    found &= (p >= 0) & (p < n)
    p = np.clip(p, 0, n - 1)
    found &= bid[p] == j
    return arg[p[found]], found


class _Query:
    """Nodes at which search results are read.

    Per query position: ``time = min(to_u + D[ku], to_v + D[kv])`` with D the times at the
    kept nodes (a kept node: itself with 0, nothing on the other side), lowered by the
    way along the chain to an entry on it (:meth:`_Searcher.along_chain`).
    """

    def __init__(self, graph: RoadGraph, nodes: np.ndarray):
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


class _Chains:
    """Chains of the simplified graph: their removed nodes (by rank) and ends, by kept node."""

    def __init__(self, graph: RoadGraph):
        cg = graph.contraction
        order = np.lexsort((cg.rank, cg.chain))
        self.order = order
        ch = cg.chain[order]
        start = _starts(ch)
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
