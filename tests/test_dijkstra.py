"""geo.network._dijkstra: the compiled searches answer exactly as scipy's dijkstra."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse
from scipy.sparse.csgraph import dijkstra

from geo.network._dijkstra import Graph, searches


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
