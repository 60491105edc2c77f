"""Small tests written for mutants that survived mutmut (docs/mutation-survivors.md): each
checks a real outcome against a hand-derived or independent reference."""

from __future__ import annotations

import math
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.analysis import core_periphery as cp
from geo.analysis.balance import _catchments
from geo.analysis.core_periphery import _attachment

CRS = "EPSG:32650"


def test_core_count_of_no_zones_is_zero():
    assert cp.core_count(0, 0.2) == 0 and cp.core_count(-1, 0.5) == 0
    assert cp.core_count(1, 0.01) == 1 and cp.core_count(10, 0.25) == 3 and cp.core_count(12, 0.2) == 2


def test_select_cores_share_series_is_named_core():
    s = cp.select_cores_share(pd.Series([0.1, 0.9], index=["a", "b"]), 0.5)
    assert s.name == "core" and s.tolist() == [False, True] and s.dtype == bool


def test_attach_without_cores_leaves_every_zone_alone():
    geoms = shapely.box(np.arange(3) * 2000.0, 0, np.arange(3) * 2000.0 + 1000, 1000)
    out = cp.attach(geoms, ["a", "b", "a"], np.array([], dtype=np.int64), np.array([]),
                    attach_max_m=5000, distance_decay=2.0)
    assert out["core_pos"].tolist() == [0, 1, 2]
    assert out["attach_prob"].isna().all()
    assert out["strategy"].tolist() == ["independent_pole"] * 3


def test_attach_exact_mode_up_to_the_pair_limit():
    """(periphery x cores) == max_exact_pairs is still exact: a far core whose distance
    estimate (points minus disc radii) differs from the true boundary distance."""
    # an L-shaped core: its disc radius overstates how close it comes to P
    core = shapely.Polygon([(0, 0), (10_000, 0), (10_000, 1000), (1000, 1000), (1000, 10_000), (0, 10_000)])
    p = shapely.box(14_000, 14_000, 15_000, 15_000)
    geoms = np.array([core, p], dtype=object)
    exact = cp.attach(geoms, ["a", "a"], np.array([0]), np.array([1.0]), attach_max_m=50_000,
                      distance_decay=2.0, max_exact_pairs=1)
    assert exact.loc[1, "core_distance_m"] == shapely.distance(core, p)


# ---------------------------------------------------------------------------
# the review of run 1's survivors and run 2 (docs/mutation-survivors.md)


# --- balance: column names, radii, the shared split, classes, ratios --------

def test_radius_column_names_integers_in_full_and_fractions_as_given():
    assert _catchments.radius_column(1_000_000.0) == "workers_1000000"   # not 1e+06
    assert _catchments.radius_column(5000) == "workers_5000"
    assert _catchments.radius_column(2500.5) == "workers_2500.5"


@pytest.mark.parametrize("bad", [[], [0.0], [-1.0], [500.0, 0.0], [math.nan], [math.inf], [None]])
def test_bad_radii_are_refused_with_the_rule(bad):
    x = y = w = np.array([1.0])
    with pytest.raises(ValueError, match=r"^radii_m: every radius must be a finite number > 0 \(got \["):
        _catchments.workers_within([shapely.box(0, 0, 1, 1)], x, y, w, bad)


def test_sub_metre_radius_counts_by_hand():
    # workplace 0..10 x 0..10; points 0.4 m, 0.6 m and 0.5 m (on the radius) to the right
    x, y = np.array([10.4, 10.6, 10.5]), np.array([5.0, 5.0, 5.0])
    got = _catchments.workers_within([shapely.box(0, 0, 10, 10)], x, y, np.array([1.0, 2.0, 4.0]), [0.5])
    assert got.tolist() == [[5.0]]


def test_shared_split_follows_fractional_jobs():
    """One point of 9 workers reaches two workplaces with 0.5 and 0.25 jobs: 6 and 3
    (split by jobs even when the jobs in reach add up to less than one)."""
    shared, in_reach = _catchments.shared_workers(
        [shapely.box(0, 0, 1, 1), shapely.box(2, 0, 3, 1)], np.array([0.5, 0.25]),
        np.array([1.5]), np.array([0.5]), np.array([9.0]), 1.0)
    assert shared.tolist() == pytest.approx([6.0, 3.0], rel=1e-12) and in_reach == 9.0


def test_shared_split_with_fractional_jobs_matches_the_reference():
    from tests import _reference as ref

    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 5000, (30, 2))
    rects = [(x, y, x + 300, y + 200) for x, y in xy]
    px, py = rng.uniform(-2500, 7500, 1500), rng.uniform(-2500, 7500, 1500)
    w = rng.integers(1, 5, 1500).astype(float)
    jobs = rng.uniform(0, 2, 30)
    shared, in_reach = _catchments.shared_workers([shapely.box(*r) for r in rects], jobs, px, py, w, 700.0)
    want = np.zeros(30)
    for x, y, wp in zip(px, py, w, strict=True):
        who = [k for k, r in enumerate(rects) if ref.point_rect_m(x, y, r) <= 700.0]
        if who:
            want[who] += wp * jobs[who] / jobs[who].sum()
    assert in_reach == pytest.approx(want.sum(), rel=1e-12)
    assert shared == pytest.approx(want, rel=1e-9, abs=1e-9)


def test_classify_balance_missing_ratio_given_as_none():
    got = _catchments.classify_balance([None, 2, 1, 0.5], (0.8, 1.25)).tolist()
    assert got == ["no_housing", "jobs_rich", "balanced", "housing_rich"]


def test_ratio_with_fewer_than_one_worker():
    got = _catchments._ratio(np.array([3.0, 3.0, 2.0]), np.array([0.5, 0.0, 4.0]))
    assert got[0] == 6.0 and np.isnan(got[1]) and got[2] == 0.5
    # no workers and non-finite inputs give NaN without a numpy warning (warnings are errors)
    got = _catchments._ratio(np.array([np.inf, np.nan, 0.0]), np.array([np.inf, 2.0, 0.0]))
    assert np.isnan(got).all()


# --- core-periphery: the score record ---------------------------------------

def test_score_detail_records_an_absent_indicator_and_goes_on():
    zones = pd.DataFrame({"jobs": [10.0, 20.0, 30.0], "output": [5.0, 1.0, 3.0]})
    d = cp.score_detail(zones, {"absent": 1.0, "jobs": 1.0, "output": 3.0})
    assert d.dropped == ["absent"] and d.reasons == {"absent": "column absent"}
    assert d.used == ["jobs", "output"] and d.weights == {"jobs": 0.25, "output": 0.75}
    # jobs -> 0, 0.5, 1; output -> 1, 0, 0.5
    assert d.score.tolist() == pytest.approx([0.75, 0.125, 0.625], rel=1e-12)
    assert d.score.name == "score"


def test_score_detail_nullable_integers_and_text_count_as_missing():
    zones = pd.DataFrame({"jobs": pd.array([10, None, 30], dtype="Int64"),
                          "output": pd.Series(["5", "n/a", "15"], dtype=object),
                          "rd_platforms": [True, False, True]})
    d = cp.score_detail(zones, {"jobs": 1.0, "output": 1.0, "rd_platforms": 2.0})
    assert d.used == ["jobs", "output", "rd_platforms"] and d.partly_missing == {"jobs": 1, "output": 1}
    # jobs 0, -, 1; output 0, -, 1; a yes/no indicator counts as 1 / 0
    assert d.score.tolist() == pytest.approx([0.5, 0.0, 1.0])


# --- core-periphery: hot spots -------------------------------------------------

def _line_zones(values, spacing=1000.0, ids=None):
    """Squares of 500 m in a row ``spacing`` apart (representative points on y = 0)."""
    xs = np.arange(len(values)) * spacing
    data = {"zone_id": ids if ids is not None else [f"z{i}" for i in range(len(values))],
            "jobs": np.asarray(values, dtype=float)}
    return gpd.GeoDataFrame(data, geometry=shapely.box(xs - 250, -250, xs + 250, 250), crs=CRS)


def _esda(values, pts, band, permutations, seed):
    from esda.getisord import G_Local
    from libpysal.weights import DistanceBand, fill_diagonal

    with warnings.catch_warnings():   # the reference's own PySAL notices (islands, components)
        warnings.simplefilter("ignore")
        w = fill_diagonal(DistanceBand(pts, threshold=band, binary=True, silence_warnings=True), 1.0)
        return G_Local(np.asarray(values, dtype=float), w, transform="B", star=True,
                       permutations=permutations, seed=seed, n_jobs=1)


def _neighbours(pts, band):
    d = np.hypot(pts[:, None, 0] - pts[None, :, 0], pts[:, None, 1] - pts[None, :, 1])
    return (d <= band) & ~np.eye(len(pts), dtype=bool)


def test_hotspot_defaults_are_alpha_005_999_permutations_seed_0():
    values = [0.0, 3.0, 0.0, 1.0, 0.0, 0.0]
    zones = _line_zones(values)
    score = pd.Series(values, index=zones.index)
    out = cp.select_cores_hotspot(zones, score, band_m=1100)
    pts = np.c_[np.arange(6) * 1000.0, np.zeros(6)]
    g = _esda(values, pts, 1100, 999, 0)
    assert np.allclose(out["gi_z"], g.Zs) and out["gi_p"].tolist() == g.p_sim.tolist()
    # analytical p-values: no zone below 0.05 -> fallback to the strongest zone, but z1 > 0
    # leads its band with p ~ 0.25, so a larger default alpha would make it a core
    out0 = cp.select_cores_hotspot(zones, score, band_m=1100, permutations=0)
    assert out0["gi_p"].tolist() == _esda(values, pts, 1100, 0, None).p_norm.tolist()
    assert not out0["hotspot"].any() and out0.attrs["fallback"] is True
    assert out0["core"].tolist() == [False, True, False, False, False, False]
    assert 0.05 < out0.loc[1, "gi_p"] < 0.5 and out0.loc[1, "gi_z"] > 0


def test_hotspot_z_exactly_zero_and_below_one_with_a_large_alpha():
    """z1 = 0 exactly (its band 0+3+0 is 3/4 of the total, as its 3 of 4 zones): not hot;
    z0, z2 (0 < z < 1, p < 0.99) are hot but not band leaders -> fallback to z1."""
    values = [0.0, 3.0, 0.0, 1.0]
    zones = _line_zones(values)
    out = cp.select_cores_hotspot(zones, pd.Series(values), band_m=1100, alpha=0.99, permutations=0)
    g = _esda(values, np.c_[np.arange(4) * 1000.0, np.zeros(4)], 1100, 0, None)
    assert g.Zs[1] == 0.0 and 0 < g.Zs[0] < 1 and 0 < g.Zs[2] < 1
    assert out["hotspot"].tolist() == [True, False, True, False]
    assert out["core"].tolist() == [False, True, False, False] and out.attrs["fallback"] is True


def _pair_and_grid():
    """An 8 x 8 grid of weak zones 1 km apart and, far away, a strong pair 1 km apart:
    each zone of the pair has exactly one neighbour within the 1.1 km band."""
    ii, jj = np.meshgrid(np.arange(8), np.arange(8), indexing="ij")
    x = np.r_[ii.ravel() * 1000.0, 50_000.0, 51_000.0]
    y = np.r_[jj.ravel() * 1000.0, 0.0, 0.0]
    values = np.r_[1.0 + (ii.ravel() * 3 + jj.ravel()) % 5, 100.0, 90.0]
    ids = [f"g{i:02d}" for i in range(64)] + ["s1", "s2"]
    zones = gpd.GeoDataFrame({"zone_id": ids, "jobs": values},
                             geometry=shapely.box(x - 250, y - 250, x + 250, y + 250), crs=CRS)
    return zones, values, np.c_[x, y]


def test_hotspot_pair_with_one_neighbour_each_and_p_equal_to_alpha():
    zones, values, pts = _pair_and_grid()
    nb = _neighbours(pts, 1100)
    assert nb[64].sum() == 1 and nb[65].sum() == 1 and nb[:64].sum(axis=1).min() >= 2
    out = cp.select_cores_hotspot(zones, pd.Series(values), band_m=1100, permutations=99, seed=5)
    g = _esda(values, pts, 1100, 99, 5)
    hot = (g.p_sim < 0.05) & (g.Zs > 0) & nb.any(axis=1)
    assert hot[64] and hot[65] and hot.sum() == 2
    assert out["hotspot"].tolist() == hot.tolist()
    assert out.index[out["core"]].tolist() == [64] and out.attrs["fallback"] is False
    # esda keeps pseudo p-values in float32; the table holds float64 (the CSV writes them so)
    assert out["gi_p"].dtype == np.float64 and out["gi_z"].dtype == np.float64
    assert out.loc[64, "gi_p"] == float(g.p_sim[64])
    # 19 permutations: the pair's pseudo p-value is 1/20 (esda stores it in float32);
    # with alpha exactly that value the pair is not significant (p < alpha is strict)
    g = _esda(values, pts, 1100, 19, 5)
    alpha = float(g.p_sim[64])
    assert alpha == pytest.approx(0.05) and g.p_sim[65] == g.p_sim[64]
    out = cp.select_cores_hotspot(zones, pd.Series(values), band_m=1100, alpha=alpha,
                                  permutations=19, seed=5)
    assert out["hotspot"].tolist() == ((g.p_sim < alpha) & (g.Zs > 0) & nb.any(axis=1)).tolist()
    assert not out.loc[64, "hotspot"] and not out.loc[65, "hotspot"] and out.attrs["fallback"]


def test_hotspot_without_zone_id_breaks_ties_by_index():
    values = [5.0, 1.0, 1.0, 9.0, 9.0, 1.0]
    zones = _line_zones(values).drop(columns="zone_id")
    zones.index = [60, 50, 40, 30, 20, 10]
    out = cp.select_cores_hotspot(zones, pd.Series(values, index=zones.index), band_m=1100,
                                  alpha=0.99, permutations=0)
    g = _esda(values, np.c_[np.arange(6) * 1000.0, np.zeros(6)], 1100, 0, None)
    assert out["gi_z"].tolist() == pytest.approx(g.Zs.tolist())
    # 30 and 20 tie at 9 and are neighbours: the lower index (20) leads
    assert out.index[out["core"]].tolist() == [20]


@pytest.mark.parametrize("values", [[], [4.0], [4.0, 9.0], [2.0, 2.0, 2.0]])
def test_hotspot_fallback_for_too_few_zones_or_equal_scores(values):
    zones = _line_zones(values)
    out = cp.select_cores_hotspot(zones, pd.Series(values, dtype=float), band_m=1100, permutations=9)
    assert out.attrs["fallback"] is True
    assert out["gi_z"].isna().all() and out["gi_p"].isna().all() and not out["hotspot"].any()
    assert out["core"].tolist() == [bool(values) and i == int(np.argmax(values)) for i in range(len(values))]


def test_hotspot_scattered_zones_fall_back_to_the_strongest():
    """No zone within the band of another: every zone is an island, none is a hot spot
    (esda itself fails on all-island weights if asked to keep its simulations)."""
    values = [1.0, 4.0, 2.0, 3.0]
    zones = _line_zones(values, spacing=5000.0)
    out = cp.select_cores_hotspot(zones, pd.Series(values), band_m=1500, permutations=9)
    assert not out["hotspot"].any() and out.attrs["fallback"] is True
    assert out["core"].tolist() == [False, True, False, False]


def test_hotspot_three_zones_are_analysed():
    values = [1.0, 5.0, 2.0]
    zones = _line_zones(values)
    out = cp.select_cores_hotspot(zones, pd.Series(values), band_m=1100, permutations=0)
    g = _esda(values, np.c_[np.arange(3) * 1000.0, np.zeros(3)], 1100, 0, None)
    # z1's band holds every zone, so its z is undefined (NaN); the ends are measured
    assert np.isfinite(g.Zs[[0, 2]]).all() and np.isnan(g.Zs[1])
    assert np.allclose(out["gi_z"], g.Zs, equal_nan=True)


# --- core-periphery: Huff and attachment ----------------------------------------

def test_huff_rows_normalised_separately_under_extreme_decay():
    """β = 200: weights of the far row are 1e-1200 (below the float range) unless each
    row is shifted by its own maximum in log space."""
    p = cp.huff_probabilities([1.0, 1.0], np.array([[1000.0, 2000.0], [1e6, 1e6]]), 200.0)
    assert p[1].tolist() == [0.5, 0.5]
    assert p[0, 0] == pytest.approx(1.0) and p[0, 1] == pytest.approx(2.0 ** -200)


def test_attach_huff_floor_is_the_parameter():
    """P is 300 m from A and 2 km from B (equal strength): floor 100 m -> 300 vs 2000."""
    geoms = np.array([shapely.box(0, 0, 1000, 1000), shapely.box(1300, 0, 2300, 1000),
                      shapely.box(-3000, 0, -2000, 1000)], dtype=object)
    out = cp.attach(geoms, ["p", "a", "b"], np.array([1, 2]), np.array([1.0, 1.0]),
                    attach_max_m=50_000, distance_decay=2.0, min_distance_m=100.0)
    want = (1 / 300**2) / (1 / 300**2 + 1 / 2000**2)
    assert out.loc[0, "attach_prob"] == pytest.approx(want, rel=1e-12)
    assert out["same_chain_core"].dtype == bool and not out.loc[0, "same_chain_core"]


def test_attach_own_chain_core_exactly_at_the_reach_wins():
    """Own-chain core A exactly attach_max_m (5 km) away beats a touching, stronger B."""
    geoms = np.array([shapely.box(0, 0, 1000, 1000), shapely.box(6000, 0, 7000, 1000),
                      shapely.box(1000, 0, 2000, 1000)], dtype=object)
    out = cp.attach(geoms, ["a", "a", "b"], np.array([1, 2]), np.array([0.5, 1.0]),
                    attach_max_m=5000, distance_decay=2.0)
    assert out.loc[0, "core_pos"] == 1 and out.loc[0, "core_distance_m"] == 5000.0
    w_a, w_b = 0.5 / 5000**2, 1.0 / 1000**2
    assert out.loc[0, "attach_prob"] == pytest.approx(w_a / (w_a + w_b), rel=1e-12)
    assert out.loc[0, "same_chain_core"] and out.loc[0, "strategy"] == "collaborative_subordinate"


def test_attach_computes_huff_once_per_chunk(monkeypatch):
    calls = []
    real = _attachment.huff_probabilities

    def counted(*args, **kw):
        calls.append(len(args[1]))
        return real(*args, **kw)

    monkeypatch.setattr(_attachment, "huff_probabilities", counted)
    geoms = shapely.box(np.arange(5) * 2000.0, 0, np.arange(5) * 2000.0 + 1000, 1000)
    cp.attach(geoms, list("aabab"), np.array([0]), np.array([1.0]), attach_max_m=5000, distance_decay=2.0)
    assert calls == [4]   # the four other zones in one chunk


# The estimate mode of attach(), by hand. Rectangles (x0, y0, x1, y1): representative
# point = centre, r = radius of the disc of the same area, R = half diagonal.
_P = {"P1": ("a", (-300, -400, 300, 400)),            # R = 500 exactly
      "P2": ("c", (39_500, -500, 40_500, 500))}
_K = [  # (name, chain, rect, strength)
    ("K0", "b", (2500, -500, 3500, 500), 0.9),        # P1: nearest (3000)
    ("K1", "b", (-500, 3000, 500, 4000), 0.8),        # P1: second nearest (3500)
    ("K2", "a", (5700, -400, 6300, 400), 0.7),        # P1: own chain, 6000 = 5000 + R + R: exact
    ("K3", "a", (-500, -5500, 500, -4500), 0.6),      # P1: own chain, 5000 = reach: estimate
    ("K4", "b", (-5600, -500, -4600, 500), 0.5),      # P1: other chain within the bounds: estimate
    ("K5", "a", (19_500, 19_500, 20_500, 20_500), 0.4),  # own chain, far: estimate
    ("K6", "c", (40_500, -500, 41_500, 500), 1.0),    # P2: touching, nearest
    ("K7", "b", (39_500, 550, 40_500, 1550), 0.3),    # P2: second nearest, 50 m gap
    ("K8", "b", (38_400, -500, 39_400, 500), 0.35),   # P2: discs overlap -> estimate 0
]


def _rect_gap(a, b):
    return math.hypot(max(b[0] - a[2], a[0] - b[2], 0.0), max(b[1] - a[3], a[1] - b[3], 0.0))


def _centre(r):
    return ((r[0] + r[2]) / 2, (r[1] + r[3]) / 2)


def _estimate_reference(attach_max, decay, floor, exact_nearest, estimate):
    """Per zone of _P: (core index, exact distance, Huff probability of that core)."""
    out = {}
    for name, (chain, rect) in _P.items():
        cx, cy = _centre(rect)
        upper = [math.dist((cx, cy), _centre(k[2])) for k in _K]
        assert len(set(upper)) == len(upper)      # no ties among the nearest cores
        nearest = sorted(range(len(_K)), key=upper.__getitem__)[:exact_nearest]
        r_i = math.sqrt((rect[2] - rect[0]) * (rect[3] - rect[1]) / math.pi)
        big_r_i = math.hypot((rect[2] - rect[0]) / 2, (rect[3] - rect[1]) / 2)
        d = []
        for c, (_, k_chain, k_rect, _) in enumerate(_K):
            r_k = math.sqrt((k_rect[2] - k_rect[0]) * (k_rect[3] - k_rect[1]) / math.pi)
            big_r_k = math.hypot((k_rect[2] - k_rect[0]) / 2, (k_rect[3] - k_rect[1]) / 2)
            undecided = k_chain == chain and attach_max < upper[c] <= attach_max + big_r_i + big_r_k
            if not estimate or c in nearest or undecided:
                d.append(_rect_gap(rect, k_rect))
            else:
                d.append(max(upper[c] - r_i - r_k, 0.0))
        w = [k[3] / max(dc, floor) ** decay for k, dc in zip(_K, d, strict=True)]
        p = [x / sum(w) for x in w]
        own = [c for c in range(len(_K)) if _K[c][1] == chain and d[c] <= attach_max]
        pick = max(own or range(len(_K)), key=p.__getitem__)
        out[name] = (pick, _rect_gap(rect, _K[pick][2]), p[pick])
    return out


@pytest.mark.parametrize("mode", ["estimate", "estimate_all_near", "exact_at_limit"])
def test_attach_estimate_mode_by_hand(mode):
    """Nine cores, two zones. ``estimate``: 2 nearest exact, far pairs estimated, own-chain
    pairs whose reach the bounds leave open exact. ``estimate_all_near``: more nearest
    than cores, so every pair is exact. ``exact_at_limit``: pairs == max_exact_pairs."""
    zones = list(_P.values()) + [(k[1], k[2]) for k in _K]
    geoms = np.array([shapely.box(*r) for _, r in zones], dtype=object)
    chains = [c for c, _ in zones]
    cores = np.arange(2, 2 + len(_K))
    strength = np.array([k[3] for k in _K])
    kw = {"estimate": {"max_exact_pairs": 2, "exact_nearest": 2},
          "estimate_all_near": {"max_exact_pairs": 0, "exact_nearest": len(_K) + 3},
          "exact_at_limit": {"max_exact_pairs": 2 * len(_K), "exact_nearest": 2}}[mode]
    out = cp.attach(geoms, chains, cores, strength, attach_max_m=5000, distance_decay=2.0,
                    min_distance_m=0.5, **kw)
    want = _estimate_reference(5000, 2.0, 0.5, kw["exact_nearest"], estimate=mode == "estimate")
    for row, name in enumerate(_P):
        pick, dist, prob = want[name]
        assert out.loc[row, "core_pos"] == 2 + pick, (name, mode)
        assert out.loc[row, "core_distance_m"] == pytest.approx(dist, rel=1e-12)
        assert out.loc[row, "attach_prob"] == pytest.approx(prob, rel=1e-9), (name, mode)
    if mode == "estimate":   # the layout does what the comments say
        assert (want["P1"][0], want["P2"][0]) == (3, 6)


# --- collaboration: nearest partners on any index ----------------------------------

def test_nearest_partners_keep_the_zones_index_and_a_text_dtype():
    """Index labels in reverse order (not 0..n-1). a1 (d1) is 500 m from a2 (d2) and
    2 km from a3 (d3); b1 has no zone of its chain elsewhere; a lone zone has none."""
    from geo.analysis import collaboration

    rects = {"a1": (0, 0, 1000, 1000), "a2": (1500, 0, 2500, 1000), "a3": (0, 3000, 1000, 4000),
             "b1": (5000, 0, 6000, 1000)}
    zones = gpd.GeoDataFrame(
        {"zone_id": list(rects), "chain": ["a", "a", "a", "b"], "district_id": ["d1", "d2", "d3", "d1"]},
        geometry=[shapely.box(*r) for r in rects.values()], crs=CRS, index=[13, 12, 11, 10])
    for pairs in (None, collaboration.candidate_pairs(zones, 10_000)):
        out = collaboration.nearest_partners(zones, pairs=pairs)
        assert out.index.tolist() == [13, 12, 11, 10]
        assert out["nearest_partner_id"].tolist()[:3] == ["a2", "a1", "a1"]
        assert out["nearest_partner_district"].tolist()[:3] == ["d2", "d1", "d1"]
        assert out["nearest_partner_m"].tolist()[:3] == [500.0, 500.0, 2000.0]
        assert pd.isna(out.loc[10, "nearest_partner_id"]) and np.isnan(out.loc[10, "nearest_partner_m"])
        text = pd.Series(["x"], dtype="str").dtype   # pandas' text dtype (object before 3.0)
        assert out["nearest_partner_id"].dtype == out["nearest_partner_district"].dtype == text
    lone = collaboration.nearest_partners(zones.iloc[[3]])
    assert lone.index.tolist() == [10] and lone["nearest_partner_id"].isna().all()


def test_pair_strength_missing_masses_give_nan():
    """mass_a * mass_b / (km + 1) ** decay by hand; a missing mass (None) gives NaN."""
    from geo.analysis import collaboration

    got = collaboration.pair_strength([None, 100, 30], [50, None, 20], [1000, 1000, 0], 2.0)
    assert np.isnan(got[0]) and np.isnan(got[1]) and got[2] == 600.0
    got = collaboration.pair_strength([100], [50], [3000], 0.5)
    assert got.tolist() == [pytest.approx(5000 / 2.0)]


def test_nearest_innovation_numeric_chains_missing_chain_ties_and_index():
    """Districts i1 (x 0..1000), i2 (2000..3000) and i0 (4000..5000), all serving chain 7
    (i1 writes it as a number, as a spreadsheet would). z_tie lies 1 km from i1 and i2,
    z_tie2 1 km from i2 and i0: the smaller id wins. z_far is 200 m right of i2; z_none
    has no chain, z_empty no geometry; z_other's chain is served by no district."""
    from geo.analysis import collaboration

    innov = gpd.GeoDataFrame({"innov_id": ["i1", "i2", "i0"], "chains": [7, "7；9", "9、7"]},
                             geometry=[shapely.box(0, 0, 1000, 1000), shapely.box(2000, 0, 3000, 1000),
                                       shapely.box(4000, 0, 5000, 1000)], crs=CRS)
    zones = gpd.GeoDataFrame(
        {"zone_id": ["z_other", "z_tie", "z_far", "z_none", "z_empty", "z_tie2"],
         "chain": ["8", "7", 7, None, "7", "7"]},
        geometry=[shapely.box(1200, 0, 1800, 500), shapely.box(1000, 2000, 2000, 3000),
                  shapely.box(3200, 0, 3400, 500), shapely.box(1200, 0, 1800, 500), shapely.Polygon(),
                  shapely.box(3000, 2000, 4000, 3000)],
        crs=CRS, index=[50, 40, 30, 20, 10, 60])
    out = collaboration.nearest_innovation(zones, innov)
    assert out.index.tolist() == [50, 40, 30, 20, 10, 60]
    assert out.loc[[40, 30, 60], "nearest_innov_id"].tolist() == ["i1", "i2", "i0"]
    assert out.loc[[40, 30, 60], "nearest_innov_m"].tolist() == [1000.0, 200.0, 1000.0]
    for row in (50, 20, 10):
        assert pd.isna(out.loc[row, "nearest_innov_id"]) and np.isnan(out.loc[row, "nearest_innov_m"])
