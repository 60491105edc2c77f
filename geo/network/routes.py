"""Travel time home → workplace *and the length of that fastest route* (``commute_m``).

DESIGN.md ("Commuting"): with roads, a flow's ``commute_m`` is the length of the path whose
time is its ``commute_min`` = access leg (straight, home → its nearest node) + the network
route + the egress leg (straight, entry node → workplace polygon, 0 inside).

Which route when several are equally fast: **the shortest of the fastest routes**. "Equally
fast" means equal times as computed (to the last bit: on real networks this happens only
between routes built from the same segment times, e.g. a regular grid at one speed). The
rule applies at every level: parallel segments and parallel chains of the simplified graph
(:mod:`geo.network._contract`), the way out of a chain (towards either end or along it to
an entry), the entry node and the network route between nodes.

How (exact, no second search): the one reversed search per workplace gives the time ``d``
to the workplace from every kept node. An edge p → v of the search graph is *tight* when
``d[p] + time(p → v) == d[v]``; the fastest routes from v are exactly the paths of tight
edges, so the shortest of them is ``L[v] = min over tight edges (L[p] + length(p → v))``,
``L = 0`` at the workplace's super-source. Only the nodes the queried homes need are
visited: from the homes' nodes up along tight edges to the workplace, then back down, one
vectorised step per edge of the longest such route (all workplaces of a batch at once).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse

from geo.network._dijkstra import searches
from geo.network._search import _Query, _ranges, _Searcher, _starts
from geo.network.access import Entries, housing_access, minutes_per_metre, workplace_entries
from geo.network.graph import RoadGraph
from geo.network.reach import _batches


class _Lengths:
    """The search graph of a :class:`_Searcher` with metres, by incoming edge."""

    def __init__(self, graph: RoadGraph, s: _Searcher, entries: Entries, access_speed_kmh: float):
        cg = graph.contraction
        if cg.rev_len is None:
            raise ValueError("routes: the road graph was built without edge lengths")
        nk, aug = s.nk, s.aug
        owner = entries.owner()
        enode = entries.node
        eg = entries.egress_min
        em = eg / minutes_per_metre(access_speed_kmh)        # egress metres
        kk = cg.kidx[enode]
        on_kept = kk >= 0
        r = cg.ridx[enode[~on_kept]]
        ow_r, g_r, m_r = owner[~on_kept], eg[~on_kept], em[~on_kept]
        # the super-source edges exactly as _Searcher builds them, with their metres
        si = np.concatenate([owner[on_kept], ow_r, ow_r])
        sj = np.concatenate([kk[on_kept], cg.ku[r], cg.kv[r]])
        sw = np.concatenate([eg[on_kept], g_r + cg.from_u[r], g_r + cg.from_v[r]])
        sm = np.concatenate([em[on_kept], m_r + cg.from_u_m[r], m_r + cg.from_v_m[r]])
        ok = np.isfinite(sw)
        si, sj, sw, sm = si[ok], sj[ok], sw[ok], sm[ok]
        key = si * max(nk, 1) + sj
        order = np.argsort(key, kind="stable")
        ks, sw, sm = key[order], sw[order], sm[order]
        first = _starts(ks)
        super_w = np.minimum.reduceat(sw, first) if len(first) else sw
        group = np.cumsum(np.concatenate([[False], ks[1:] != ks[:-1]])) if len(ks) else np.zeros(0, np.int64)
        tie_m = np.where(sw == super_w[group], sm, np.inf)      # per edge the fastest, then the shortest
        super_m = np.minimum.reduceat(tie_m, first) if len(first) else sm
        nr = cg.rev.nnz
        if not np.array_equal(super_w, aug.data[nr:]):
            raise AssertionError("routes: super-source edges differ from the search's")
        data_m = np.concatenate([cg.rev_len.data, super_m])
        # incoming edges of every node: the transposed pattern, with the positions in aug
        tagged = sparse.csr_matrix((np.arange(1, aug.nnz + 1, dtype=float), aug.indices, aug.indptr),
                               shape=aug.shape).T.tocsr()
        tagged.sort_indices()
        pos = tagged.data.astype(np.int64) - 1
        self.in_ptr = tagged.indptr.astype(np.int64)
        self.in_src = tagged.indices.astype(np.int64)
        self.in_w = np.asarray(aug.data, float)[pos]
        self.in_m = data_m[pos]
        self.n_all = aug.shape[0]
        self._work = None
        # entries inside chains, keyed by (workplace, chain), with metres
        ch = cg.chain[r]
        nch = int(cg.chain.max()) + 1 if len(cg.chain) else 1
        ce_key = ow_r.astype(np.int64) * nch + ch
        o = np.argsort(ce_key, kind="stable")
        self.nch = nch
        self.ce_key = ce_key[o]
        rr = r[o]
        self.ce_rank = cg.rank[rr]
        self.ce_g, self.ce_gm = g_r[o], m_r[o]
        self.ce_fu, self.ce_fu_cnt, self.ce_fu_m = cg.fu_fin[rr], cg.fu_cnt[rr], cg.fu_len[rr]
        self.ce_tu, self.ce_tu_cnt, self.ce_tu_m = cg.tu_fin[rr], cg.tu_cnt[rr], cg.tu_len[rr]

    def kept_metres(self, d: np.ndarray, roots: np.ndarray, want: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``L`` (shortest of the fastest routes, metres) at flat positions ``want``
        (row * n_all + node) of the searches ``d`` (rows × n_all) whose super-sources are
        the flat positions ``roots``; inf where the node is not reached.

        Returns (metres, the sorted distinct ``want`` they belong to). Up: from the wanted
        nodes along tight edges to the roots, each node expanded once. Down: in waves
        (Kahn's order on the tight edges found): a node is done when all its tight parents
        are, so every wave is one vectorised step.
        """
        n_all = self.n_all
        dflat = d.ravel()
        size = dflat.shape[0]
        want = np.unique(want)
        if self._work is None or len(self._work[0]) < size:     # reused between batches
            ids = np.int32 if size < 2**31 else np.int64
            self._work = (np.zeros(size, bool), np.zeros(size, bool), np.empty(size, ids), np.full(size, -1, ids))
        is_root, seen, slot, cid = self._work
        is_root[roots] = True
        seen[roots] = True
        try:
            return self._kept_metres(dflat, n_all, roots, want, is_root, seen, slot, cid)
        finally:
            is_root[roots] = False
            seen[:size] = False

    def _kept_metres(self, dflat, n_all, roots, want, is_root, seen, slot, cid):
        front = want[np.isfinite(dflat[want]) & ~is_root[want]]
        seen[front] = True
        nodes, ec, ep, em = [front], [], [], []
        while len(front):
            v = front % n_all
            start = self.in_ptr[v]
            cnt = self.in_ptr[v + 1] - start
            e = _ranges(start, cnt)
            p = self.in_src[e] + np.repeat(front - v, cnt)      # same row as the child
            tight = dflat[p] + self.in_w[e] == np.repeat(dflat[front], cnt)
            c = np.repeat(front, cnt)[tight]
            p, e = p[tight], e[tight]
            ec.append(c)
            ep.append(p)
            em.append(self.in_m[e])
            new = p[~seen[p]]
            slot[new] = np.arange(len(new))
            new = new[slot[new] == np.arange(len(new))]     # distinct
            seen[new] = True
            nodes.append(new)
            front = new
        nodes = np.concatenate(nodes)
        # compact ids: 0..V-1 for the nodes found, the roots known at 0 metres
        V = len(nodes)
        if not V:
            return np.full(len(want), np.inf), want
        cid[nodes] = np.arange(V)
        try:
            return self._down(nodes, ec, ep, em, want, is_root, slot, cid)
        finally:
            cid[nodes] = -1

    def _down(self, nodes, ec, ep, em, want, is_root, slot, cid):
        V = len(nodes)
        c = cid[np.concatenate(ec)]
        p_flat = np.concatenate(ep)
        m = np.concatenate(em)
        from_root = is_root[p_flat]
        best = np.full(V, np.inf)
        np.minimum.at(best, c[from_root], m[from_root])
        c, p, m = c[~from_root], cid[p_flat[~from_root]], m[~from_root]
        pending = np.bincount(c, minlength=V)
        order = np.argsort(p)        # the order within a parent does not matter (min)
        c, p, m = c[order], p[order], m[order]
        ptr = np.zeros(V + 1, dtype=np.int64)
        np.cumsum(np.bincount(p, minlength=V), out=ptr[1:])
        done = np.full(V, np.inf)
        ready = np.flatnonzero(pending == 0)
        while len(ready):
            done[ready] = best[ready]
            start = ptr[ready]
            cnt = ptr[ready + 1] - start
            e = _ranges(start, cnt)
            if not len(e):
                break
            ch = c[e]
            np.minimum.at(best, ch, np.repeat(done[ready], cnt) + m[e])
            np.subtract.at(pending, ch, 1)
            ch = ch[pending[ch] == 0]
            slot[ch] = np.arange(len(ch))
            ready = ch[slot[ch] == np.arange(len(ch))]
        out = np.full(len(want), np.inf)
        hit = cid[want] >= 0
        out[hit] = done[cid[want[hit]]]
        return out, want

    def chain_candidates(self, w: np.ndarray, q: _Query, qpos: np.ndarray, q_fu_m: np.ndarray,
                         q_tu_m: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Ways along a chain from removed query nodes ``qpos`` to an entry of their
        workplace ``w`` on that chain (as :meth:`_Searcher.along_chains` times them):
        (index into ``qpos``, minutes, metres). ``q_fu_m`` / ``q_tu_m``: the metres
        prefix sums of the query's removed nodes, in ``q.rem_pos_sorted`` order."""
        empty = (np.zeros(0, np.int64), np.zeros(0), np.zeros(0))
        if not len(self.ce_key) or not len(qpos):
            return empty
        rem = q.rem_pos_sorted
        # query positions that are removed nodes: their chain fields
        is_rem = np.zeros(q.n, bool)
        is_rem[rem] = True
        sel = np.flatnonzero(is_rem[qpos])
        if not len(sel):
            return empty
        at = np.empty(q.n, np.int64)
        at[rem] = np.arange(len(rem))
        k = at[qpos[sel]]
        key = w[sel] * self.nch + q.rem_chain_sorted[k]
        lo = np.searchsorted(self.ce_key, key, "left")
        cnt = np.searchsorted(self.ce_key, key, "right") - lo
        pi = np.repeat(np.arange(len(sel)), cnt)
        ee = _ranges(lo, cnt)
        if not len(ee):
            return empty
        kq = k[pi]
        qrank, erank = q.rem_rank_sorted[kq], self.ce_rank[ee]
        fwd = (erank > qrank) & (self.ce_fu_cnt[ee] == q.rem_fu_cnt_sorted[kq])
        bwd = (erank < qrank) & (self.ce_tu_cnt[ee] == q.rem_tu_cnt_sorted[kq])
        t = np.full(len(ee), np.inf)
        m = np.full(len(ee), np.inf)
        g = self.ce_g[ee]
        # the same sums, in the same order, as _Searcher.along_chains
        t[fwd] = (self.ce_fu[ee[fwd]] + g[fwd]) - q.rem_fu_fin_sorted[kq[fwd]]
        m[fwd] = self.ce_fu_m[ee[fwd]] - q_fu_m[kq[fwd]]
        t[bwd] = q.rem_tu_fin_sorted[kq[bwd]] + (g[bwd] - self.ce_tu[ee[bwd]])
        m[bwd] = q_tu_m[kq[bwd]] - self.ce_tu_m[ee[bwd]]
        same = erank == qrank
        t[same], m[same] = g[same], 0.0
        m += self.ce_gm[ee]
        ok = np.isfinite(t)
        return sel[pi[ok]], t[ok], m[ok]


def _fastest_then_shortest(pair: np.ndarray, t: np.ndarray, m: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per pair: the smallest time of its candidates and, among those with that time,
    the smallest metres (inf / NaN when a pair has none)."""
    best_t = np.full(n, np.inf)
    np.minimum.at(best_t, pair, t)
    tie = t == best_t[pair]
    best_m = np.full(n, np.inf)
    np.minimum.at(best_m, pair[tie], m[tie])
    best_m[~np.isfinite(best_t)] = np.nan
    return best_t, best_m


def home_routes(graph: RoadGraph, points_xy: np.ndarray, workplaces, pairs: np.ndarray, *,
                metres: np.ndarray | None = None, access_speed_kmh: float = 5.0,
                max_access_m: float = 1000.0, readers: Sequence = ()) -> tuple[np.ndarray, np.ndarray]:
    """Minutes home → workplace of ``pairs`` (as :func:`geo.network.home_times` gives
    them, from the same one search per workplace) and the metres of that fastest route.

    Parameters
    ----------
    points_xy : (P, 2) array
        Home points.
    pairs : (K, 2) int array
        (point, workplace) positions.
    metres : (K,) bool array, optional
        Pairs whose length is wanted (default all); the others come out NaN metres.
    readers : sequence, optional
        Objects with a ``read(searcher, batch, rows)`` method (e.g.
        :class:`~geo.network.links.LinkReader`) given every complete search made here:
        ``rows`` the kept-node minutes of the searches of the workplaces ``batch``.

    Returns
    -------
    (minutes, metres), each (K,), NaN where not reachable. Metres = access distance +
    network length + egress distance of the fastest route (the shortest when several are
    equally fast).
    """
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    k = len(pairs)
    want_m = np.ones(k, bool) if metres is None else np.asarray(metres, bool)
    minutes, out_m = np.full(k, np.inf), np.full(k, np.nan)
    acc = housing_access(graph, points_xy, access_speed_kmh=access_speed_kmh, max_access_m=max_access_m)
    entries = workplace_entries(graph, workplaces, access_speed_kmh=access_speed_kmh, max_access_m=max_access_m)
    o_node = acc.node[pairs[:, 0]] if k else np.zeros(0, np.int64)
    live = np.flatnonzero((o_node >= 0) & entries.connected[pairs[:, 1]]) if k else np.zeros(0, np.int64)
    if len(live):
        s = _Searcher(graph, entries)
        lens = _Lengths(graph, s, entries, access_speed_kmh)
        cg = graph.contraction
        order = live[np.argsort(pairs[live, 1], kind="stable")]
        wsorted = pairs[order, 1]
        uniq = np.unique(wsorted)
        for batch in _batches(uniq, s.aug.shape[0]):
            lo = np.searchsorted(wsorted, batch[0], "left")
            hi = np.searchsorted(wsorted, batch[-1], "right")
            sel = order[lo:hi]
            row = np.searchsorted(batch, pairs[sel, 1])
            t_net, m_net = _batch(graph, cg, s, lens, batch, o_node[sel], row, want_m[sel], readers)
            minutes[sel] = t_net + acc.access_min[pairs[sel, 0]]
            out_m[sel] = m_net + acc.distance_m[pairs[sel, 0]]
    minutes[~np.isfinite(minutes)] = np.nan
    out_m[np.isnan(minutes) | ~want_m] = np.nan
    return minutes, out_m


def _batch(graph, cg, s: _Searcher, lens: _Lengths, batch: np.ndarray, node: np.ndarray, row: np.ndarray,
           want: np.ndarray, readers: Sequence = ()) -> tuple[np.ndarray, np.ndarray]:
    """Network minutes and metres node → workplace ``batch[row]`` for each pair.

    The minutes are read as :meth:`_Searcher.at_nodes` reads them (the same sums in the
    same order), but only for the pairs, all workplaces of the batch at once: through
    either end of the node's chain, lowered by the ways along the chain to an entry.
    """
    d = searches(s.csr, s.nk + batch)      # the search of _Searcher.search
    dk = d[:, : s.nk]
    for reader in readers:
        reader.read(s, batch, dk)
    uq, qi = np.unique(node, return_inverse=True)
    q = _Query(graph, uq)
    n_all = lens.n_all
    ku, kv, to_v = q.ku[qi], q.kv[qi], q.to_v[qi]
    t_u = q.to_u[qi] + dk[row, ku]
    vv = np.flatnonzero(np.isfinite(to_v))
    t_v = to_v[vv] + dk[row[vv], kv[vv]]
    t = t_u.copy()
    t[vv] = np.minimum(t_u[vv], t_v)
    # the ways along a chain, with their metres (prefix sums of the query's removed nodes)
    rs = cg.ridx[uq[q.rem_pos_sorted]]
    cp, ct, cm = lens.chain_candidates(batch[row], q, qi, cg.fu_len[rs], cg.tu_len[rs])
    np.minimum.at(t, cp, ct)
    metres = np.full(len(node), np.nan)
    mi = np.flatnonzero(want & np.isfinite(t))
    if not len(mi):
        return t, metres
    n = len(mi)
    at = np.full(len(node), -1, np.int64)
    at[mi] = np.arange(n)
    rb = row[mi]
    vm = vv[at[vv] >= 0]                       # pairs of mi that can leave through the v end
    roots = np.arange(len(batch)) * n_all + s.nk + batch
    lm, lpos = lens.kept_metres(d, roots, np.concatenate([rb * n_all + ku[mi], row[vm] * n_all + kv[vm]]))

    def metres_at(flat):
        return lm[np.searchsorted(lpos, flat)]

    # the metres beside the query's minutes: to each chain end
    kept = cg.kidx[uq] >= 0
    r = np.where(kept, 0, cg.ridx[uq])
    to_u_m = np.where(kept, 0.0, cg.to_u_m[r]) if len(cg.to_u_m) else np.zeros(len(uq))
    to_v_m = np.where(kept, np.inf, cg.to_v_m[r]) if len(cg.to_v_m) else np.full(len(uq), np.inf)
    cw = at[cp] >= 0
    cand_p = np.concatenate([np.arange(n), at[vm], at[cp[cw]]])
    ct_all = np.concatenate([t_u[mi], to_v[vm] + dk[row[vm], kv[vm]], ct[cw]])
    cm_all = np.concatenate([to_u_m[qi[mi]] + metres_at(rb * n_all + ku[mi]),
                             to_v_m[qi[vm]] + metres_at(row[vm] * n_all + kv[vm]), cm[cw]])
    ok = np.isfinite(ct_all)
    bt, bm = _fastest_then_shortest(cand_p[ok], ct_all[ok], cm_all[ok], n)
    if not np.array_equal(bt, t[mi]):
        raise AssertionError("routes: the fastest route's time differs from the search's")
    metres[mi] = bm
    return t, metres
