"""The balance radius search (cell bounds, support-function pair distances and the
branch-and-bound walk of geo.analysis._decide) against a literal per-step brute force:
shapely.distance from each polygon to each point and to each other polygon, sums per
step, the first step whose ratio is in the balanced range."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely import box

from geo.analysis._decide import decide_within
from geo.analysis._reach import PointIndex
from geo.analysis.balance._area import balance_radius, balance_steps, workplace_pairs

X0, Y0 = 500_000.0, 3_400_000.0
UPPER = 1.25


def random_study(seed: int):
    """Boxes, a circle, a concave L, an empty polygon; housing and employment points,
    some exactly one or several steps from a box edge."""
    rng = np.random.default_rng(seed)
    geoms = []
    for _ in range(int(rng.integers(2, 6))):
        x, y = X0 + rng.uniform(-5000, 5000), Y0 + rng.uniform(-5000, 5000)
        w, h = rng.uniform(50, 1500, 2)
        geoms.append(box(x, y, x + w, y + h))
    geoms.append(shapely.Point(X0 + 2000, Y0 - 3000).buffer(700, quad_segs=5))
    geoms.append(shapely.Polygon([(X0 - 4000, Y0 + 4000), (X0 - 2000, Y0 + 4000),
                                  (X0 - 2000, Y0 + 4500), (X0 - 3500, Y0 + 4500),
                                  (X0 - 3500, Y0 + 6000), (X0 - 4000, Y0 + 6000)]))
    geoms.append(shapely.Polygon())                                  # empty workplace
    geoms = np.array(geoms, dtype=object)
    jobs = rng.integers(0, 30, len(geoms)).astype(float) * 150
    jobs[0] = 5e7                                                    # never balanced
    n = int(rng.integers(200, 1500))
    x = X0 + rng.uniform(-14000, 14000, n)
    y = Y0 + rng.uniform(-14000, 14000, n)
    # exactly k steps east of the first box, on its bottom edge's line
    step = 250.0
    x_max, y_min = shapely.bounds(geoms[1])[2], shapely.bounds(geoms[1])[1]
    k = np.arange(1, 12)
    x = np.r_[x, x_max + k * step, x_max + k * step]
    y = np.r_[y, np.full(len(k), y_min), np.full(len(k), y_min)]
    workers = rng.integers(0, 400, len(x)).astype(float)
    emp = rng.integers(0, 600, len(x)).astype(float) * (rng.random(len(x)) < 0.4)
    workers[n + len(k):] = 0.0            # the second copy: employment only
    emp[n:n + len(k)] = 0.0               # the first copy: housing only
    return geoms, jobs, x, y, workers, emp, step


def brute_radius(geoms, jobs, x, y, workers, emp, steps):
    points = shapely.points(x, y)
    out = np.full(len(geoms), np.nan)
    for i, g in enumerate(geoms):
        if shapely.is_empty(g):
            continue
        d_pts = np.array([shapely.distance(g, p) for p in points])
        d_wp = np.array([shapely.distance(g, h) if not shapely.is_empty(h) else np.inf
                         for h in geoms])
        for s in steps:
            w = workers[d_pts <= s].sum()
            a = jobs[d_wp <= s].sum() + emp[d_pts <= s].sum()
            if w > 0 and a / w <= UPPER:
                out[i] = s
                break
    return out


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("with_employment", [True, False])
def test_balance_radius_equals_per_step_brute_force(seed, with_employment):
    geoms, jobs, x, y, workers, emp, step = random_study(seed)
    if not with_employment:
        emp = np.zeros_like(emp)
    steps = balance_steps(step, 6000.0)
    index = PointIndex.build(x, y, np.column_stack([workers, emp]))
    pairs = workplace_pairs(geoms, float(steps[-1]), steps)
    got = balance_radius(geoms, jobs, index, pairs, steps, UPPER)
    want = brute_radius(geoms, jobs, x, y, workers, emp, steps)
    np.testing.assert_array_equal(got, want)
    assert np.isnan(got[0]) and np.isnan(got[-1])   # never balanced; empty


@pytest.mark.parametrize("seed", range(3))
def test_cell_bounds_taken_a_few_workplaces_at_a_time_are_the_same(seed, monkeypatch):
    # the (workplace, cell) pairs are taken in blocks of workplaces (the empty one left
    # out, so the blocks' rows are not contiguous): the same bounds to the last bit
    from geo.analysis.balance import _area

    geoms, jobs, x, y, workers, emp, step = random_study(seed)
    steps = balance_steps(step, 6000.0)
    index = PointIndex.build(x, y, np.column_stack([workers, emp]))
    whole = _area._bounds(geoms, index, steps, 500.0)
    assert len(geoms) <= _area._WORKPLACES_PER_BLOCK and whole[1].max() > 0
    for per_block in (1, 2, 3):
        monkeypatch.setattr(_area, "_WORKPLACES_PER_BLOCK", per_block)
        for got, want in zip(_area._bounds(geoms, index, steps, 500.0), whole):
            np.testing.assert_array_equal(got, want)
    pairs = workplace_pairs(geoms, float(steps[-1]), steps)
    np.testing.assert_array_equal(balance_radius(geoms, jobs, index, pairs, steps, UPPER),
                                  brute_radius(geoms, jobs, x, y, workers, emp, steps))


@pytest.mark.parametrize("seed", range(4))
def test_workplace_pairs_place_every_pair_between_the_same_thresholds(seed):
    geoms = random_study(seed)[0]
    # touching and nested workplaces, and one exactly 500 m from another
    geoms = np.r_[geoms, np.array([box(X0, Y0, X0 + 100, Y0 + 100), box(X0 + 100, Y0, X0 + 300, Y0 + 50),
                                   box(X0 + 10, Y0 + 10, X0 + 20, Y0 + 20),
                                   box(X0 + 800, Y0, X0 + 900, Y0 + 100)], dtype=object)]
    thresholds = np.array([100.0, 250.0, 500.0, 700.0, 3000.0, 5000.0])
    i, j, d = workplace_pairs(geoms, 5000.0, thresholds)
    _, _, exact = workplace_pairs(geoms, 5000.0)
    i2, j2, _ = workplace_pairs(geoms, 5000.0)
    assert sorted(zip(i.tolist(), j.tolist())) == sorted(zip(i2.tolist(), j2.tolist()))
    brute = np.array([shapely.distance(geoms[a], geoms[b]) for a, b in zip(i, j)])
    assert (brute <= 5000.0).all()
    for t in thresholds:
        np.testing.assert_array_equal(d <= t, brute <= t)
    assert exact.min() == 0.0


@pytest.mark.parametrize("seed", range(4))
def test_decide_within_exact_sums_and_verdicts(seed):
    """Undecided polygons get the exact sums; decided ones the right answer."""
    geoms, _, x, y, workers, emp, _ = random_study(seed)
    rng = np.random.default_rng(seed + 100)
    index = PointIndex.build(x, y, np.column_stack([workers, emp]))
    pick = rng.integers(0, len(geoms), 30)
    radius = rng.choice([250.0, 500.0, 1250.0, 4000.0], 30)
    points = shapely.points(x, y)
    exact = np.array([[(col * (shapely.distance(geoms[g], points) <= r)).sum()
                       for col in (workers, emp)] for g, r in zip(pick, radius)])
    state, sums = decide_within(geoms[pick], index, radius,
                                lambda v, lo, hi: np.zeros(len(v), dtype=np.int8))
    assert (state == 0).all()
    np.testing.assert_allclose(sums, exact, atol=1e-6)
    limit = np.median(exact[:, 0])

    def above(v, lo, hi):           # "workers > limit", decided on bounds when possible
        return np.where(lo[:, 0] > limit, 1, np.where(hi[:, 0] <= limit, -1, 0))

    state, sums = decide_within(geoms[pick], index, radius, above)
    verdict = np.where(state == 0, np.where(sums[:, 0] > limit, 1, -1), state)
    np.testing.assert_array_equal(verdict, np.where(exact[:, 0] > limit, 1, -1))
    assert (state != 0).any()


@pytest.mark.parametrize("seed", range(4))
def test_support_bounds_enclose_shapely_distances(seed):
    """Lower and upper bounds from the support functions hold for points inside, near
    and far from (concave) polygons, and for polygon pairs; far away they are tight."""
    from geo.analysis._support import Support

    geoms = random_study(seed)[0]
    ids = np.flatnonzero(~shapely.is_empty(geoms))
    support = Support(geoms, ids)
    rng = np.random.default_rng(seed)
    g = rng.choice(ids, 3000)
    x = X0 + rng.uniform(-20000, 20000, 3000)
    y = Y0 + rng.uniform(-20000, 20000, 3000)
    # points inside and on the boundary too
    inner = shapely.get_coordinates(shapely.point_on_surface(geoms[ids]))
    g = np.r_[g, ids, ids]
    corner = shapely.get_coordinates(geoms[ids])[np.searchsorted(
        shapely.get_coordinates(geoms[ids], return_index=True)[1], np.arange(len(ids)))]
    x = np.r_[x, inner[:, 0], corner[:, 0]]
    y = np.r_[y, inner[:, 1], corner[:, 1]]
    lo, up = support.points(g, x, y)
    exact = shapely.distance(geoms[g], shapely.points(x, y))
    assert (lo <= exact + 1e-6).all() and (exact <= up + 1e-6).all()
    far = exact > 5000
    assert np.median((up - lo)[far]) < 5.0
    i, j = np.meshgrid(ids, ids)
    lo, up = support.pairs(i.ravel(), j.ravel())
    exact = shapely.distance(geoms[i.ravel()], geoms[j.ravel()])
    assert (lo <= exact + 1e-6).all() and (exact <= up + 1e-6).all()
