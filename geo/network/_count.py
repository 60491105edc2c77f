"""Compiled counting of the homes within each horizon of a batch of searches.

:func:`count_batch` reads the kept-node minutes of one search per workplace (rows of
``d``) for every group of homes (:class:`geo.network.reach._Groups`): a group whose time
bounds put all its homes in the same horizons (with a margin far above rounding, far
below :data:`~geo.network.reach.TIME_TOLERANCE_MIN`) counts as a whole; the others, and
the chains holding an entry of the row's workplace, node by node (the node's time
``min(to_u + D[u], to_v + D[v])`` from the ends of its chain, lowered by the ways along
the chain to an entry); a node partly within a horizon, home by home (its homes are sorted by
access: a bisection). The answer is that of comparing every home's time with every
horizon, ``access + time <= minute + tolerance``. :func:`spread_batch` reads the same
way, for one horizon, what each home has in reach (the workplaces' jobs and number: the
first pass of ``workers_shared``).

Why compiled (numba, a core dependency): done with whole-array operations, the same
reading touched each reached node some twenty times; on the metro sample (2,150
workplaces, 1,000,000 homes, 100,000 job points) it took 27 s against 9 s for the
searches themselves, compiled 8–10 s. The groups are read in their order, each for all
rows of the batch (the searches transposed once per batch): group by group row by row,
or in the order the searches reach them, it was 1.5–2 times slower (cache misses).
"""

from __future__ import annotations

import numpy as np
from geo.network._dijkstra import njit
from geo.network._search import _ranges


@njit
def _index(thr: np.ndarray, x: float) -> int:
    """Number of thresholds (sorted) below ``x``: the first horizon ``x`` is within."""
    i = 0
    while i < thr.shape[0] and thr[i] < x:
        i += 1
    return i


@njit
def homes_within(access: np.ndarray, p0: int, p1: int, t: float, th: float) -> int:
    """How many of the homes ``p0:p1`` (``access``: their minutes, ascending) are within
    ``th`` of a node reached in ``t`` (``access + t <= th``), when the first is and the last
    is not: a bisection between them."""
    lo, hi = 1, p1 - p0 - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if access[p0 + mid] + t <= th:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit
def _count(dt, reached, thr, thr_in, thr_whole, gu, gv, lo_u, hi_u, lo_v, hi_v, nptr, gw,
           to_u, to_v, amin, amax, wsum, hptr, access, wcum, ep_key, low_key, low_pos, low_cost, acc,
           spread, row_w, by_group, by_node, by_home):
    """Into ``acc`` (rows × horizons + 1) the workers first within each horizon; or, with
    ``spread`` (one horizon), into ``by_group`` / ``by_node`` / ``by_home`` (column 0: the
    sum of ``row_w``, 1: the number, of the rows within reach) what each group wholly
    within, each node wholly within, and each home of a node partly within, has in reach."""
    nb = dt.shape[1]
    nm = thr.shape[0]
    far = thr_in[nm - 1]
    low = np.full(to_u.shape[0], np.inf)
    ie = 0          # next (group, row) holding an entry of the row's workplace
    il = 0          # next way along a chain to an entry, by (group, row)
    # group by group, every row of the batch: the group's homes are read once for all
    for g in range(gu.shape[0]):
        if not (reached[gu[g]] or reached[gv[g]]) and not (ie < ep_key.shape[0] and ep_key[ie] < (g + 1) * nb):
            continue                                 # no row reaches it
        for b in range(nb):
            du = dt[gu[g], b]
            dv = dt[gv[g], b]
            key = g * nb + b
            entry = ie < ep_key.shape[0] and ep_key[ie] == key
            if entry:
                ie += 1
                while il < low_key.shape[0] and low_key[il] < key:    # none by construction
                    il += 1
                j0 = il
                while il < low_key.shape[0] and low_key[il] == key:
                    if low_cost[il] < low[low_pos[il]]:
                        low[low_pos[il]] = low_cost[il]
                    il += 1
            else:
                lo = min(du + lo_u[g], dv + lo_v[g])
                if lo > far:
                    continue                         # out of every horizon
                first = _index(thr_in, lo)
                whole = _index(thr_whole, min(du + hi_u[g], dv + hi_v[g]))
                if first == whole:                   # every home in the same horizons
                    if not spread:
                        acc[b, whole] += gw[g]
                    elif whole == 0:
                        by_group[g, 0] += row_w[b]
                        by_group[g, 1] += 1.0
                    continue
            for c in range(nptr[g], nptr[g + 1]):
                t = min(to_u[c] + du, to_v[c] + dv)
                if entry and low[c] < t:
                    t = low[c]
                i_part = _index(thr, amin[c] + t)
                if i_part == nm:
                    continue
                i_full = _index(thr, amax[c] + t)
                p0 = hptr[c]
                if spread:
                    if i_full == 0:
                        by_node[c, 0] += row_w[b]
                        by_node[c, 1] += 1.0
                    else:
                        for h in range(p0, p0 + homes_within(access, p0, hptr[c + 1], t, thr[0])):
                            by_home[h, 0] += row_w[b]
                            by_home[h, 1] += 1.0
                    continue
                acc[b, i_full] += wsum[c]
                for hz in range(i_part, i_full):
                    w_in = wcum[p0 + homes_within(access, p0, hptr[c + 1], t, thr[hz])] - wcum[p0]
                    acc[b, hz] += w_in
                    acc[b, hz + 1] -= w_in
            if entry:
                for j in range(j0, il):
                    low[low_pos[j]] = np.inf


@njit
def _transposed(d, n):
    """The first ``n`` columns of ``d``, transposed (in tiles that stay in cache), and
    whether any row reaches each (a finite time)."""
    nb = d.shape[0]
    out = np.empty((n, nb))
    reached = np.zeros(n, dtype=np.bool_)
    tile = 256
    for c0 in range(0, n, tile):
        c1 = min(c0 + tile, n)
        for b in range(nb):
            for c in range(c0, c1):
                x = d[b, c]
                out[c, b] = x
                if x != np.inf:
                    reached[c] = True
    return out, reached


def searches_by_node(d: np.ndarray, nk: int) -> tuple[np.ndarray, np.ndarray]:
    """The kept-node minutes of the searches ``d`` as :func:`count_batch` reads them."""
    return _transposed(np.ascontiguousarray(d, dtype=np.float64), int(nk))


def count_batch(s, homes, dt: tuple, batch: np.ndarray, thr: np.ndarray, margin: np.ndarray) -> np.ndarray:
    """Workers of ``homes`` first within each horizon, per workplace of ``batch``.

    ``s``: the :class:`~geo.network._search._Searcher` of the searches of the workplaces
    ``batch``, their kept-node minutes as :func:`searches_by_node` gives them ``dt``;
    ``thr``: the horizons plus the tolerance, ascending; ``margin``: per horizon, the margin
    of the group bounds. Returns (len(batch) × (len(thr) + 1)): at ``i`` the workers within
    horizon ``i`` but not ``i - 1`` (a cumulative sum gives the workers within each
    horizon; the last column: beyond all).
    """
    acc = np.zeros((len(batch), len(thr) + 1))
    _read(s, homes, dt, batch, thr, margin, acc, False, np.zeros(0), np.zeros((0, 2)), np.zeros((0, 2)),
          np.zeros((0, 2)))
    return acc


def spread_batch(s, homes, dt: tuple, batch: np.ndarray, thr: float, margin: float,
                 row_w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per home node and per home of ``homes``: the sum of ``row_w`` (one weight per
    workplace of ``batch``), and the number, of the workplaces within ``thr`` minutes
    (the tolerance included) — (nodes × 2, homes × 2): a home has in reach what its node
    has plus what it has itself. Arguments as :func:`count_batch`'s."""
    g = homes.groups
    by_group, by_node, by_home = np.zeros((g.n, 2)), np.zeros((len(homes.nodes), 2)), np.zeros((len(homes.access), 2))
    _read(s, homes, dt, batch, np.array([thr], float), np.array([margin], float), np.zeros((len(batch), 2)), True,
          np.ascontiguousarray(row_w, dtype=np.float64), by_group, by_node, by_home)
    by_node += np.repeat(by_group, np.diff(g.nptr), axis=0)
    return by_node, by_home


def _read(s, homes, dt, batch, thr, margin, acc, spread, row_w, by_group, by_node, by_home) -> None:
    q, g = homes.query, homes.groups
    nb = len(batch)
    # chains holding an entry of the row's workplace: their groups, and the ways along them
    cnt = s.ce_ptr[batch + 1] - s.ce_ptr[batch]
    e = _ranges(s.ce_ptr[batch], cnt)
    e_b = np.repeat(np.arange(nb), cnt)
    ekey = g.n_kept + s.ce_chain[e]
    at = np.minimum(np.searchsorted(g.key, ekey), max(g.n - 1, 0))
    has = (g.key[at] == ekey) if g.n else np.zeros(len(e), dtype=bool)
    ep_key = np.unique(at[has] * nb + e_b[has])
    ei, pos, cost = s.along_chains(e, q)
    group_of = np.searchsorted(g.nptr, pos, side="right") - 1
    low_key = group_of * nb + e_b[ei]
    order = np.argsort(low_key, kind="stable")

    def f8(x):
        return np.ascontiguousarray(x, dtype=np.float64)

    def i8(x):
        return np.ascontiguousarray(x, dtype=np.int64)

    _count(dt[0], dt[1], f8(thr), f8(thr + margin), f8(thr - margin), i8(g.gu), i8(g.gv),
           f8(g.lo_u), f8(g.hi_u), f8(g.lo_v), f8(g.hi_v), i8(g.nptr), f8(homes.gw),
           f8(q.to_u), f8(q.to_v), f8(homes.amin), f8(homes.amax), f8(homes.wsum), i8(homes.ptr),
           f8(homes.access), f8(homes.wcum), i8(ep_key), i8(low_key[order]), i8(pos[order]), f8(cost[order]), acc,
           spread, row_w, by_group, by_node, by_home)


def compile_now() -> None:
    """Compile the readers (or load them from numba's cache) here, before worker processes
    fork: each would otherwise compile them again."""
    f, i, i2 = np.zeros(1), np.zeros(1, dtype=np.int64), np.zeros(2, dtype=np.int64)
    dt, reached = _transposed(np.zeros((1, 1)), 1)
    none_i, none_f, two = np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros((1, 2))
    _count(dt, reached, f, f, f, i, i, f, f, f, f, i2, f, f, f, f, f, f, i2, f, np.zeros(2), none_i, none_i,
           none_i, none_f, np.zeros((1, 2)), False, f, two, two, two)
