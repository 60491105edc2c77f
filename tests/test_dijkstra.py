"""geo.network._dijkstra: the compiled searches answer exactly as scipy's dijkstra."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse
from scipy.sparse.csgraph import dijkstra

from geo.network import _dijkstra
from geo.network._dijkstra import Graph, bucket_width, searches


def _random_graph(rng, n, m, *, zeros=0.1, ties=True):
    rows = rng.integers(0, n, m)
    cols = rng.integers(0, n, m)
    w = rng.random(m) * 10
    if ties:        # many equal weights: equal times reached along different paths
        w = np.round(w, 1)
    w[rng.random(m) < zeros] = 0.0        # explicit zeros are edges
    # one entry per (row, col): csr_matrix would sum duplicates, which dijkstra never sees
    key = rows * n + cols
    _, first = np.unique(key, return_index=True)
    return sparse.csr_matrix((w[first], (rows[first], cols[first])), shape=(n, n))


@pytest.mark.parametrize("seed", range(12))
def test_equals_scipy_on_random_graphs(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 300))
    g = _random_graph(rng, n, int(rng.integers(0, 4 * n + 1)))
    sources = rng.integers(0, n, int(rng.integers(1, 12)))      # repeats allowed
    full = dijkstra(g, directed=True, indices=sources)
    finite = full[np.isfinite(full)]
    # limits exactly at reached times (a node at the limit is reached), between, none
    limits = [np.inf, 0.0] + (list(rng.choice(finite, 3)) if len(finite) else []) + [float(rng.random() * 20)]
    for limit in limits:
        expected = dijkstra(g, directed=True, indices=sources, limit=limit)
        got = searches(g, sources, limit)
        assert got.shape == expected.shape
        assert np.array_equal(got, expected), (seed, limit)     # to the last bit, inf alike


def test_graph_is_reused_and_matches_the_matrix():
    rng = np.random.default_rng(5)
    g = _random_graph(rng, 50, 200)
    arrays = Graph(g)
    assert np.array_equal(searches(arrays, [3, 7]), dijkstra(g, directed=True, indices=[3, 7]))


def test_unreached_and_disconnected_nodes_are_inf():
    # 0 -> 1 -> 2, 3 alone; 2 -> 0 back edge
    g = sparse.csr_matrix((np.array([1.0, 2.0, 0.5]), (np.array([0, 1, 2]), np.array([1, 2, 0]))), shape=(4, 4))
    d = searches(g, [0, 3, 1])
    assert d.tolist() == [[0.0, 1.0, 3.0, np.inf], [np.inf, np.inf, np.inf, 0.0], [2.5, 0.0, 2.0, np.inf]]
    assert searches(g, [0], limit=1.0).tolist() == [[0.0, 1.0, np.inf, np.inf]]


def test_bad_sources_and_weights_are_refused():
    g = sparse.csr_matrix((np.array([1.0]), (np.array([0]), np.array([1]))), shape=(2, 2))
    with pytest.raises(ValueError, match="outside"):
        searches(g, [2])
    neg = sparse.csr_matrix((np.array([-1.0]), (np.array([0]), np.array([1]))), shape=(2, 2))
    with pytest.raises(ValueError, match=">= 0"):
        searches(neg, [0])
    assert searches(g, []).shape == (0, 2)


def test_bucket_width_is_the_median_positive_weight():
    assert bucket_width(np.array([0.0, 3.0, 1.0, 2.0, np.inf])) == (2.0, 5)     # 3 / 2 spans 1 bucket (+ 4)
    assert bucket_width(np.zeros(3)) == (1.0, 4)
    assert bucket_width(np.zeros(0)) == (1.0, 4)


@pytest.mark.parametrize("seed", range(6))
def test_equals_scipy_with_very_unequal_weights(seed, monkeypatch):
    # weights over many orders of magnitude; the ring capped at a few buckets, so that the
    # width grows and nodes far apart in time share a bucket: a lap of the ring must never
    # reach a node's bucket ahead of time
    monkeypatch.setattr(_dijkstra, "MAX_BUCKETS", 6 + seed)
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(20, 200))
    g = _random_graph(rng, n, 5 * n, ties=False)
    g.data = np.where(g.data > 0, rng.lognormal(0.0, 3.0, len(g.data)), 0.0)
    arrays = Graph(g)
    assert arrays.n_buckets <= 6 + seed
    sources = rng.integers(0, n, 5)
    for limit in (np.inf, float(np.median(g.data))):
        assert np.array_equal(searches(arrays, sources, limit),
                              dijkstra(g, directed=True, indices=sources, limit=limit))


def test_a_node_whose_time_drops_after_it_was_taken_is_taken_again():
    # buckets of 1 minute (the median weight); 2 is taken at 0.5 before 1 (0.1) lowers it
    # to 0.2 in the same bucket: 3 must end at 0.2 + 0.3, not 0.5 + 0.3
    rows = [0, 0, 1, 2, 3, 4, 5, 6, 7]
    cols = [1, 2, 2, 3, 4, 5, 6, 7, 8]
    w = [0.1, 0.5, 0.1, 0.3, 1.0, 1.0, 1.0, 1.0, 1.0]
    g = sparse.csr_matrix((w, (rows, cols)), shape=(9, 9))
    assert Graph(g).width == 1.0
    got = searches(g, [0])
    assert np.array_equal(got, dijkstra(g, directed=True, indices=[0]))
    assert got[0, 3] == 0.1 + 0.1 + 0.3
