"""Reading the travel-time searches (geo.network.reach, geo.network._count): the shortcuts
of the counting (groups settled as a whole, nodes straddling several horizons, the
bisection over a node's homes) against plain searches on the full graph, homes compared
one by one."""

import numpy as np
import pytest
from scipy import sparse
from scipy.sparse.csgraph import dijkstra
from shapely.geometry import box

import geo.network as gn
from geo.network._count import homes_within
from geo.network._synthetic import synthetic_roads

TOL = gn.TIME_TOLERANCE_MIN


def _plain_times(graph, entries, homes, acc, n_polys, limit):
    """Home → workplace minutes on the full graph (workplaces × connected homes)."""
    n = graph.n_nodes
    rev = graph.times.T.tocsr()
    aug = sparse.csr_matrix(
        (np.concatenate([rev.data, entries.egress_min]),
         np.concatenate([rev.indices, entries.node]).astype(np.int32),
         np.concatenate([rev.indptr, rev.nnz + entries.offsets[1:]])), shape=(n + n_polys,) * 2)
    full = dijkstra(aug, directed=True, indices=n + np.arange(n_polys), limit=limit)[:, :n]
    ok = acc.node >= 0
    return ok, acc.access_min[ok] + full[:, acc.node[ok]]


def test_two_point_sets_equal_plain_search():
    """A dense set (homes) and a sparse one (a few job points, most kept nodes without any),
    on horizons closer than the spread of a node's access minutes (nodes partly within
    several horizons), one of them exactly at a home's time."""
    roads = synthetic_roads((0, 0, 5000, 4000), vertex_spacing_m=80.0, seed=11)
    graph = gn.build_graph(roads)
    rng = np.random.default_rng(2)
    dense = np.vstack([rng.uniform(-300, 5300, size=(6000, 2)),
                       np.repeat(rng.uniform(0, 5000, size=(60, 2)), 40, axis=0)])   # many at one node
    sparse_pts = rng.uniform(0, 5000, size=(25, 2))
    w_dense = rng.integers(1, 6, len(dense)).astype(float)
    w_sparse = rng.integers(0, 900, len(sparse_pts)).astype(float)
    polys = [box(x, y, x + 300, y + 200) for x, y in rng.uniform(0, 4500, size=(30, 2))]
    entries = gn.workplace_entries(graph, polys)
    acc = gn.housing_access(graph, dense)
    ok, t = _plain_times(graph, entries, dense, acc, len(polys), 30.0)
    p_at = int(np.argmax(((t > 3.0) & (t < 4.0)).any(axis=1)))
    at_home = float(t[p_at][np.flatnonzero((t[p_at] > 3.0) & (t[p_at] < 4.0))[0]])     # a horizon exactly at a home
    minutes = [1.0, 1.5, 2.0, 2.5, 3.0, at_home, 4.0, 6.0, 9.0]
    got = gn.workers_within_minutes_sets(graph, [(dense, w_dense), (sparse_pts, w_sparse)], polys, minutes,
                                         entries=entries)
    connected = np.diff(entries.offsets) > 0
    assert connected.sum() > 20
    for res, xy, w in zip(got, (dense, sparse_pts), (w_dense, w_sparse)):
        acc = gn.housing_access(graph, xy)
        ok, t = _plain_times(graph, entries, xy, acc, len(polys), 30.0)
        expected = np.array([[w[ok][t[p] <= m + TOL].sum() for m in minutes] for p in range(len(polys))])
        np.testing.assert_array_equal(res.workers[connected], expected[connected])
        assert (expected[connected, 0] < expected[connected, -1]).all()


def test_homes_within_equals_counting_home_by_home():
    """The bisection over a node's homes (sorted by access) returns how many are
    within, for nodes of 2 to 300 homes, ties included and horizons exactly at a home."""
    rng = np.random.default_rng(7)
    counts = np.concatenate([rng.integers(2, 6, 400), rng.integers(6, 300, 100), [2, 3, 257, 256]])
    access = np.concatenate([np.sort(np.round(rng.uniform(0, 12, c), 1)) for c in counts])
    ptr = np.concatenate([[0], np.cumsum(counts)])
    p0 = ptr[:-1]
    t = rng.uniform(0, 40, len(counts))
    first = access[p0] + t
    last = access[ptr[1:] - 1] + t
    keep = first < last                     # the first home within, the last not
    th = first + (last - first) * rng.random(len(counts))
    at_home = rng.random(len(counts)) < 0.3     # the horizon exactly at a home's time
    pick = p0 + (rng.random(len(counts)) * (counts - 1)).astype(int)
    th = np.where(at_home, access[pick] + t, th)
    keep &= (first <= th) & (last > th)
    p0, n, t, th = p0[keep], counts[keep] - 2, t[keep], th[keep]
    got = np.array([homes_within(access, a, a + k + 2, tt, h) for a, k, tt, h in zip(p0, n, t, th)])
    want = np.array([int(np.sum(access[a:a + k + 2] + tt <= h)) for a, k, tt, h in zip(p0, n, t, th)])
    np.testing.assert_array_equal(got, want)
    assert (want > 1).any() and (want < n + 1).any() and (n > 128).any()
