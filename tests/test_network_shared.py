"""The shared-search paths of geo.network (issue #14, performance) against the brute force
of tests/test_network.py and against the plain paths they replace.

* ``home_times`` as a matrix searched from the points (one forward search per point on the
  reversed graph, read through the workplaces' super-source edges and along chains) equals
  the search per workplace and the networkx brute force;
* ``workers_within_minutes_sets`` (one search per workplace read for several point sets)
  equals one call per set;
* ``subset_entries`` equals the entries of the subset, and the cached entries and housing
  groupings give the same answers as fresh ones.
"""

from __future__ import annotations

import numpy as np
import pytest

import geo.network as gn
from tests.test_network import TOL, BruteForce, random_study


@pytest.mark.parametrize("seed", range(10))
def test_home_matrix_from_the_points_equals_brute_force(seed):
    roads, homes, _, polys = random_study(300 + seed)
    max_access = 250.0 if seed % 2 else 1000.0
    bf = BruteForce(roads, tol_m=1.0, max_access_m=max_access)
    want = bf.home_times(homes, polys)
    graph = gn.build_graph(roads, snap_tolerance_m=1.0)
    by_point = gn.home_times(graph, homes, polys, max_access_m=max_access, from_origins=True)
    by_workplace = gn.home_times(graph, homes, polys, max_access_m=max_access, from_origins=False)
    np.testing.assert_allclose(by_point, np.where(np.isfinite(want), want, np.nan), rtol=0, atol=1e-9)
    np.testing.assert_allclose(by_point, by_workplace, rtol=0, atol=1e-9)
    # bounded: the same times within the limit, NaN beyond
    finite = np.sort(want[np.isfinite(want)])
    limit = float(finite[len(finite) // 2])
    bounded = gn.home_times(graph, homes, polys, max_access_m=max_access, from_origins=True, limit_min=limit)
    expect = np.where(np.isfinite(want) & (want <= limit + TOL), want, np.nan)
    np.testing.assert_allclose(bounded, expect, rtol=0, atol=1e-9)


def test_home_matrix_from_points_on_the_chain_of_an_entry():
    """A home in the middle of a long road whose far part runs into the workplace: the way
    along the chain (no junction in between) is the only way, and one-way."""
    import geopandas as gpd
    from shapely.geometry import LineString, box

    from tests.test_network import CRS

    road = LineString([(0, 0), (100, 0), (200, 0), (300, 0), (400, 0), (500, 0)])
    side = LineString([(0, 0), (0, 300)])
    roads = gpd.GeoDataFrame({"class": ["local", "local"], "oneway": ["yes", "no"]}, geometry=[road, side], crs=CRS)
    graph = gn.build_graph(roads)
    poly = box(390, -20, 420, 20)          # holds the vertex at x = 400 only
    homes = np.array([[210.0, 5.0], [490.0, 5.0], [5.0, 250.0]])
    bf = BruteForce(roads, max_access_m=30.0)
    want = bf.home_times(homes, [poly])
    got = gn.home_times(graph, homes, [poly], max_access_m=30.0, from_origins=True)
    np.testing.assert_allclose(got, np.where(np.isfinite(want), want, np.nan), rtol=0, atol=1e-9)
    assert np.isfinite(got[0, 0]) and np.isnan(got[1, 0])   # against the one-way: no way


@pytest.mark.parametrize("seed", range(4))
def test_one_search_read_for_several_point_sets_equals_separate_calls(seed):
    roads, homes, workers, polys = random_study(400 + seed)
    rng = np.random.default_rng(seed)
    others = rng.uniform(-200, 1400, size=(15, 2))
    weights = rng.integers(1, 60, len(others)).astype(float)
    graph = gn.build_graph(roads)
    minutes = [2.0, 5.0, 9.0]
    a, b = gn.workers_within_minutes_sets(graph, [(homes, workers), (others, weights)], polys, minutes,
                                          primary_minute=5.0, reached_nodes="all")
    one = gn.workers_within_minutes(graph, homes, workers, polys, minutes, primary_minute=5.0, reached_nodes="all")
    two = gn.workers_within_minutes(graph, others, weights, polys, minutes)
    np.testing.assert_array_equal(a.workers, one.workers)
    np.testing.assert_array_equal(b.workers, two.workers)
    assert all((x == y).all() for x, y in zip(a.reached, one.reached)) and b.reached is None
    # and against the brute force
    bf = BruteForce(roads)
    t = bf.home_times(others, polys)
    want = np.array([[weights[t[:, w] <= m + TOL].sum() for m in minutes] for w in range(len(polys))])
    np.testing.assert_array_equal(b.workers[b.connected], want[b.connected])


def test_subset_and_cached_entries():
    roads, homes, workers, polys = random_study(7)
    graph = gn.build_graph(roads)
    full = gn.workplace_entries(graph, polys, max_access_m=300.0)
    sel = np.array([3, 0, 2])
    sub = gn.subset_entries(full, sel)
    fresh = gn.workplace_entries(graph, [polys[i] for i in sel], max_access_m=300.0)
    np.testing.assert_array_equal(sub.offsets, fresh.offsets)
    np.testing.assert_array_equal(sub.node, fresh.node)
    np.testing.assert_array_equal(sub.egress_min, fresh.egress_min)
    # the cache tells polygons and settings apart
    assert gn.workplace_entries(graph, polys, max_access_m=300.0) is full
    other = gn.workplace_entries(graph, polys, max_access_m=100.0)
    assert other is not full and len(other.node) <= len(full.node)
    moved = list(polys)
    moved[0] = polys[1]
    assert gn.workplace_entries(graph, moved, max_access_m=300.0).offsets[1] == full.offsets[2] - full.offsets[1]
    # housing grouped once per set of points and weights: a second set is not mixed up
    r1 = gn.workers_within_minutes(graph, homes, workers, polys, [5.0])
    r2 = gn.workers_within_minutes(graph, homes, workers * 2, polys, [5.0])
    np.testing.assert_allclose(np.nan_to_num(r2.workers), 2 * np.nan_to_num(r1.workers))


def test_balance_entries_from_the_zones_and_innovation_districts_equal_the_combined_ones():
    """The balance takes the workplaces' entries from those of its two layers (computed at
    load); they equal the entries of all workplaces at once, and a different geometry falls
    back to the combined query."""
    import geopandas as gpd
    from types import SimpleNamespace

    from geo.analysis.balance._network import workplace_entries_of
    from geo.network.access import concat_entries

    roads, homes, workers, polys = random_study(3)
    graph = gn.build_graph(roads)
    kw = dict(access_speed_kmh=5.0, max_access_m=300.0)
    geoms = np.asarray(polys, dtype=object)
    zones, innov = gpd.GeoDataFrame(geometry=list(geoms[:4])), gpd.GeoDataFrame(geometry=list(geoms[4:]))
    fresh = gn.workplace_entries(graph, geoms, **kw)
    parts = [gn.workplace_entries(graph, f.geometry.values, **kw) for f in (zones, innov)]
    assert fresh.offsets[4] > 0 and len(fresh.node) > fresh.offsets[4]       # both parts have entries
    graph._cache.pop("entries_lru", None)       # joined from the parts, not the whole set remembered above
    joined = workplace_entries_of(SimpleNamespace(zones=zones, innovation_districts=innov), graph, geoms, kw)
    assert joined is not fresh
    for got in (concat_entries(parts), joined):
        np.testing.assert_array_equal(got.offsets, fresh.offsets)
        np.testing.assert_array_equal(got.node, fresh.node)
        np.testing.assert_array_equal(got.egress_min, fresh.egress_min)
    swapped = geoms.copy()
    swapped[[0, 1]] = swapped[[1, 0]]
    got = workplace_entries_of(SimpleNamespace(zones=zones, innovation_districts=innov), graph, swapped, kw)
    want = gn.workplace_entries(graph, swapped, **kw)
    np.testing.assert_array_equal(got.node, want.node)
    np.testing.assert_array_equal(got.offsets, want.offsets)
    assert concat_entries([]).n == 0
