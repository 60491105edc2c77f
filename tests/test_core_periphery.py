"""Tests of geo.analysis.core_periphery on tiny layouts with hand-checkable answers."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings as hsettings, strategies as st
from hypothesis.extra import numpy as hnp

import geopandas as gpd
from geo._errors import CRSError
from geo._types import Study
from geo.analysis import core_periphery as cp
from geo.settings import CorePeripherySettings, settings_from_dict

CRS = "EPSG:32650"  # UTM 50N, metres


def square(x: float, y: float, side: float = 1000.0):
    h = side / 2.0
    return shapely.box(x - h, y - h, x + h, y + h)


def make_zones(rows: list[dict]) -> gpd.GeoDataFrame:
    """rows: zone_id, x, y, jobs, chain (default 'a'), side, plus any extra columns."""
    data = []
    for r in rows:
        r = dict(r)
        geom = square(r.pop("x"), r.pop("y"), r.pop("side", 1000.0))
        r.setdefault("chain", "a")
        r.setdefault("name", f"Zone {r['zone_id']}")
        r.setdefault("district_id", "d1")
        r["jobs"] = float(r["jobs"])
        data.append({**r, "geometry": geom})
    return gpd.GeoDataFrame(data, geometry="geometry", crs=CRS)


def study(zones: gpd.GeoDataFrame) -> Study:
    return Study(crs=zones.crs, zones=zones)


def cfg(**kw) -> CorePeripherySettings:
    kw.setdefault("weights", {"jobs": 1.0})
    return CorePeripherySettings(**kw)


@pytest.fixture
def two_clusters() -> gpd.GeoDataFrame:
    rows = [
        {"zone_id": "A0", "x": 0, "y": 0, "jobs": 1000},
        {"zone_id": "A1", "x": 3000, "y": 0, "jobs": 100},
        {"zone_id": "A2", "x": -3000, "y": 0, "jobs": 120},
        {"zone_id": "A3", "x": 0, "y": 4000, "jobs": 90},
        {"zone_id": "A4", "x": 0, "y": -4000, "jobs": 110},
        {"zone_id": "B0", "x": 100_000, "y": 0, "jobs": 900},
        {"zone_id": "B1", "x": 103_000, "y": 0, "jobs": 100},
        {"zone_id": "B2", "x": 97_000, "y": 0, "jobs": 80},
        {"zone_id": "B3", "x": 100_000, "y": 3000, "jobs": 105},
        {"zone_id": "B4", "x": 100_000, "y": -3000, "jobs": 95},
        {"zone_id": "FAR", "x": 50_000, "y": 300_000, "jobs": 100},
    ]
    return make_zones(rows)


# ---------------------------------------------------------------------------
# the obvious answers


def test_two_clusters_two_cores_own_cluster_and_far_zone_isolated(two_clusters):
    res = cp.run(study(two_clusters), cfg(core_share=0.2, attach_max_m=40_000))
    z = res.tables["core_periphery_zones"].set_index("zone_id")
    # round_half_up(0.2 * 11 = 2.2) = 2 cores: the dominant zone of each cluster
    assert sorted(z.index[z["role"] == "core"]) == ["A0", "B0"]
    assert z.loc["A0", "strategy"] == "independent_pole"
    for zid in ["A1", "A2", "A3", "A4"]:
        assert z.loc[zid, "core_id"] == "A0"
        assert z.loc[zid, "strategy"] == "collaborative_subordinate"
    for zid in ["B1", "B2", "B3", "B4"]:
        assert z.loc[zid, "core_id"] == "B0"
        assert z.loc[zid, "strategy"] == "collaborative_subordinate"
    # boundary-to-boundary: squares of 1 km, centres 3 km apart -> 2 km
    assert z.loc["A1", "core_distance_m"] == pytest.approx(2000.0)
    assert z.loc["A3", "core_distance_m"] == pytest.approx(3000.0)
    assert z.loc["FAR", "strategy"] == "isolated"
    # still reports the best core (both cores ~300 km away: the stronger one, A0)
    expected = shapely.distance(two_clusters.geometry.iloc[10], two_clusters.geometry.iloc[0])
    assert z.loc["FAR", "core_id"] == "A0"
    assert z.loc["FAR", "core_distance_m"] == pytest.approx(expected)
    assert z.loc["A0", "periphery_count"] == 4 and z.loc["B0", "periphery_count"] == 4
    assert list(z.sort_values("rank").index[:2]) == ["A0", "B0"]

    links = res.tables["core_periphery_links"]
    assert len(links) == 8 and "FAR" not in set(links["zone_id"])
    assert set(links.geometry.geom_type) == {"LineString"}
    # each link runs between the representative points of zone and core
    geo_by_id = two_clusters.set_index("zone_id").geometry
    for row in links.itertuples():
        a, b = shapely.get_coordinates(row.geometry)
        assert np.allclose(a, shapely.get_coordinates(geo_by_id[row.zone_id].representative_point())[0])
        assert np.allclose(b, shapely.get_coordinates(geo_by_id[row.core_id].representative_point())[0])
    assert links.crs == two_clusters.crs

    summary = res.tables["core_periphery_summary"]
    assert len(summary) == 1
    assert summary.loc[0, "n_cores"] == 2
    assert summary.loc[0, "primacy"] == pytest.approx(1.0 / (1.0 + 820 / 920))
    chains = res.tables["core_periphery_chains"]
    assert chains.to_dict(orient="records") == [
        {"chain": "a", "zones": 11, "cores": 2, "periphery": 9, "attached": 8, "isolated": 1}
    ]
    assert [c["zone_id"] for c in res.summary["cores"]] == ["A0", "B0"]
    json.dumps(res.summary)  # JSON-serialisable


def test_huff_by_hand_three_zones():
    # A and B are cores (round_half_up(0.5 * 3 = 1.5) = 2); P lies 2 km from A, 4 km from B
    zones = make_zones([
        {"zone_id": "A", "x": 500, "y": 500, "jobs": 100},
        {"zone_id": "B", "x": 8500, "y": 500, "jobs": 60},
        {"zone_id": "P", "x": 3500, "y": 500, "jobs": 0},
    ])
    res = cp.run(study(zones), cfg(core_share=0.5, attach_max_m=40_000, distance_decay=2.0))
    z = res.tables["core_periphery_zones"].set_index("zone_id")
    assert z["score"].to_dict() == pytest.approx({"A": 1.0, "B": 0.6, "P": 0.0})
    # P_A = (1 / 2000^2) / (1 / 2000^2 + 0.6 / 4000^2) = 1 / 1.15
    assert z.loc["P", "core_id"] == "A"
    assert z.loc["P", "attach_prob"] == pytest.approx(1 / 1.15)
    assert z.loc["P", "core_distance_m"] == pytest.approx(2000.0)
    assert np.isnan(z.loc["A", "attach_prob"]) and z.loc["A", "core_id"] == "A"
    assert z.loc["A", "core_distance_m"] == 0.0


def test_huff_function_by_hand_and_floor():
    p = cp.huff_probabilities([1.0, 0.5], np.array([[2000.0, 4000.0]]), 2.0)
    assert p[0] == pytest.approx([8 / 9, 1 / 9])
    # touching zones: 0 m counts as the 1,000 m floor
    p = cp.huff_probabilities([1.0, 1.0], np.array([[0.0, 2000.0]]), 1.0)
    assert p[0] == pytest.approx([2 / 3, 1 / 3])
    # decay 0: pure strength shares
    p = cp.huff_probabilities([3.0, 1.0], np.array([[10.0, 1e6]]), 0.0)
    assert p[0] == pytest.approx([0.75, 0.25])
    # every core with strength 0: equally strong, distance alone decides
    p = cp.huff_probabilities([0.0, 0.0], np.array([[1000.0, 2000.0]]), 1.0)
    assert p[0] == pytest.approx([2 / 3, 1 / 3])
    with pytest.raises(ValueError, match="shape"):
        cp.huff_probabilities([1.0], np.ones((2, 2)), 2.0)


def _chain_layout():
    return make_zones([
        {"zone_id": "CY", "x": 0, "y": 0, "jobs": 1000, "chain": "y"},
        {"zone_id": "CX", "x": 22_000, "y": 0, "jobs": 900, "chain": "x"},
        {"zone_id": "P", "x": 3000, "y": 0, "jobs": 10, "chain": "x"},
        {"zone_id": "Q", "x": -5000, "y": 0, "jobs": 20, "chain": "y"},
        {"zone_id": "R", "x": 0, "y": -5000, "jobs": 30, "chain": "z"},
    ])


def test_prefers_core_of_own_chain_within_reach():
    zones = _chain_layout()
    res = cp.run(study(zones), cfg(core_share=0.4, attach_max_m=40_000))
    z = res.tables["core_periphery_zones"].set_index("zone_id")
    assert sorted(z.index[z["role"] == "core"]) == ["CX", "CY"]
    # P (chain x) is 2 km from CY (chain y) but attaches to CX, 18 km away, same chain
    assert z.loc["P", "core_id"] == "CX"
    assert bool(z.loc["P", "same_chain_core"])
    assert z.loc["P", "core_distance_m"] == pytest.approx(18_000.0)
    # Huff by hand: CY (score 1) at 2 km, CX (score 890/990) at 18 km, beta = 2
    w_cy, w_cx = 1.0 / 2000.0**2, (890 / 990) / 18_000.0**2
    assert z.loc["P", "attach_prob"] == pytest.approx(w_cx / (w_cx + w_cy), rel=1e-12)
    assert z.loc["P", "attach_prob"] < 0.5
    assert z.loc["P", "strategy"] == "collaborative_subordinate"
    # R (chain z) has no core of its chain: highest probability wins (CY)
    assert z.loc["R", "core_id"] == "CY" and not bool(z.loc["R", "same_chain_core"])


def test_own_chain_core_out_of_reach_falls_back_to_highest_probability():
    zones = _chain_layout()
    res = cp.run(study(zones), cfg(core_share=0.4, attach_max_m=10_000))
    z = res.tables["core_periphery_zones"].set_index("zone_id")
    assert z.loc["P", "core_id"] == "CY"
    assert not bool(z.loc["P", "same_chain_core"])
    assert z.loc["P", "strategy"] == "collaborative_subordinate"


# ---------------------------------------------------------------------------
# building blocks


def test_strength_score_partly_missing_counts_as_minimum_and_zero_weight():
    df = pd.DataFrame({
        "jobs": [0.0, 50.0, 100.0, 100.0],
        "output": [10.0, np.nan, 30.0, 20.0],
        "firms": [5.0, 5.0, 5.0, 5.0],
        "leader_firms": [np.nan] * 4,
        "rd_platforms": [1.0, 2.0, 3.0, 4.0],
    }, index=[10, 11, 12, 13])
    weights = {"jobs": 3, "output": 1, "firms": 1, "leader_firms": 1, "rd_platforms": 0}
    detail = cp.score_detail(df, weights)
    # output normalised: (10, nan->min, 30, 20) -> (0, 0, 1, 0.5); weights 3/4, 1/4
    expected = [0.0, 0.75 * 0.5, 0.75 + 0.25, 0.75 + 0.25 * 0.5]
    assert detail.score.tolist() == pytest.approx(expected)
    assert list(detail.score.index) == [10, 11, 12, 13]
    assert detail.used == ["jobs", "output"]
    assert detail.dropped == ["firms", "leader_firms", "rd_platforms"]
    assert detail.reasons["rd_platforms"] == "weight is 0"
    assert "constant" in detail.reasons["firms"]
    assert detail.reasons["leader_firms"] == "missing in every zone"
    assert detail.weights == pytest.approx({"jobs": 0.75, "output": 0.25})
    assert detail.partly_missing == {"output": 1}
    score, used, dropped = cp.strength_score(df, weights)
    assert score.equals(detail.score) and used == detail.used and dropped == detail.dropped


def test_select_cores_share_rounding_and_ties():
    s = pd.Series([0.5, 0.9, 0.9, 0.1, 0.9], index=["e", "d", "b", "a", "c"])
    assert cp.select_cores_share(s, 0.2).index[cp.select_cores_share(s, 0.2)].tolist() == ["b"]
    two = cp.select_cores_share(s, 0.4)  # 0.4 * 5 = 2
    assert sorted(two.index[two]) == ["b", "c"]
    assert cp.core_count(10, 0.25) == 3   # 2.5 rounds half up
    assert cp.core_count(12, 0.2) == 2    # 2.4
    assert cp.core_count(3, 0.01) == 1    # at least one
    assert cp.core_count(4, 1.0) == 4


@hsettings(max_examples=40, deadline=None)
@given(hnp.arrays(float, st.integers(1, 40), elements=st.floats(0, 1e6, allow_subnormal=False)))
def test_gini_matches_mean_absolute_difference(x):
    if x.sum() == 0:
        assert math.isnan(cp.gini(x))
        return
    direct = np.abs(x[:, None] - x[None, :]).sum() / (2 * len(x) ** 2 * x.mean())
    assert cp.gini(x) == pytest.approx(direct, abs=1e-9)


def test_gini_known_values():
    assert cp.gini([5.0]) == 0.0
    assert cp.gini([1, 1, 1]) == 0.0
    assert cp.gini([0, 0, 0, 1]) == pytest.approx(0.75)
    assert math.isnan(cp.gini([]))


@hsettings(max_examples=40, deadline=None)
@given(hnp.arrays(float, st.integers(2, 40), elements=st.floats(0, 1, allow_subnormal=False)))
def test_rank_size_slope_matches_polyfit(x):
    pos = np.sort(x[x > 0])[::-1]
    if len(pos) < 2:
        assert math.isnan(cp.rank_size_slope(x))
        return
    slope = np.polyfit(np.log(np.arange(1, len(pos) + 1)), np.log(pos), 1)[0]
    assert cp.rank_size_slope(x) == pytest.approx(slope, abs=1e-7)


def test_rank_size_zipf():
    assert cp.rank_size_slope(1.0 / np.arange(1, 30)) == pytest.approx(-1.0)


@hsettings(max_examples=40, deadline=None)
@given(
    st.integers(1, 6).flatmap(lambda k: st.tuples(
        hnp.arrays(float, k, elements=st.floats(0, 1)),
        hnp.arrays(float, st.tuples(st.integers(1, 8), st.just(k)), elements=st.floats(0, 5e5)),
        st.floats(0, 6),
    ))
)
def test_huff_rows_sum_to_one(args):
    strength, d, decay = args
    p = cp.huff_probabilities(strength, d, decay)
    assert p.shape == d.shape
    assert np.all((p >= 0) & (p <= 1))
    assert np.allclose(p.sum(axis=1), 1.0)
    # nearer and stronger never loses: equal strength -> monotone in distance
    if np.all(strength == strength[0]) and strength[0] > 0:
        dd = np.maximum(d, cp.MIN_HUFF_DISTANCE_M)
        for row_p, row_d in zip(p, dd, strict=True):
            order = np.argsort(row_d, kind="stable")
            assert np.all(np.diff(row_p[order]) <= 1e-12)


def test_attach_estimate_mode_matches_exact_mode():
    rng = np.random.default_rng(7)
    n = 400
    xy = rng.uniform(0, 80_000, (n, 2))
    geoms = shapely.buffer(shapely.points(xy), rng.uniform(300, 1500, n), quad_segs=3)
    chains = rng.choice(["a", "b", "c"], n)
    score = rng.uniform(0.05, 1, n)
    cores = np.argsort(-score)[:40]
    kw = dict(attach_max_m=20_000, distance_decay=2.0)
    exact = cp.attach(geoms, chains, cores, score[cores], **kw)
    approx = cp.attach(geoms, chains, cores, score[cores], max_exact_pairs=0, exact_nearest=8, **kw)
    agree = (exact["core_pos"] == approx["core_pos"]).mean()
    assert agree >= 0.98
    same = exact["core_pos"] == approx["core_pos"]
    assert np.allclose(exact.loc[same, "attach_prob"], approx.loc[same, "attach_prob"],
                       atol=0.02, equal_nan=True)
    # the reported distance is always the exact boundary distance
    periph = np.setdiff1d(np.arange(n), cores)
    truth = shapely.distance(geoms[periph], geoms[approx["core_pos"].to_numpy()[periph]])
    assert np.allclose(approx["core_distance_m"].to_numpy()[periph], truth)
    # brute force of the exact mode for a few zones
    d_all = shapely.distance(geoms[periph[:20], None], geoms[cores][None, :])
    w_all = score[cores][None, :] / np.maximum(d_all, 1000.0) ** 2   # Huff, 1 km floor, by hand
    p_all = w_all / w_all.sum(axis=1, keepdims=True)
    own = (chains[periph[:20], None] == chains[cores][None, :]) & (d_all <= 20_000)
    pick = np.where(own.any(1), np.where(own, p_all, -1).argmax(1), p_all.argmax(1))
    assert np.array_equal(exact["core_pos"].to_numpy()[periph[:20]], cores[pick])


# ---------------------------------------------------------------------------
# hotspot method


def _hot_grid() -> tuple[gpd.GeoDataFrame, np.ndarray]:
    rows = []
    for i in range(10):
        for j in range(10):
            hot = abs(i - 4) <= 1 and abs(j - 4) <= 1  # a 3 x 3 cluster peaking at g44
            jobs = 1000 - 50 * (abs(i - 4) + abs(j - 4)) if hot else 10 + ((i * 7 + j * 3) % 5)
            rows.append({"zone_id": f"g{i}{j}", "x": i * 2000, "y": j * 2000, "jobs": jobs})
    zones = make_zones(rows)
    return zones, zones["jobs"].to_numpy()


def test_hotspot_matches_esda_directly():
    from esda.getisord import G_Local
    from libpysal.weights import DistanceBand, fill_diagonal

    zones, _ = _hot_grid()
    score, _, _ = cp.strength_score(zones, {"jobs": 1})
    out = cp.select_cores_hotspot(zones, score, band_m=3000, alpha=0.05, permutations=99, seed=3)

    pts = shapely.get_coordinates(zones.geometry.representative_point().to_numpy())
    w = fill_diagonal(DistanceBand(pts, threshold=3000, binary=True, silence_warnings=True), 1.0)
    g = G_Local(score.to_numpy(), w, transform="B", star=True, permutations=99, seed=3, n_jobs=1)
    assert np.allclose(out["gi_z"], g.Zs)
    assert np.allclose(out["gi_p"], g.p_sim)
    hot = (g.p_sim < 0.05) & (g.Zs > 0)
    assert min(w.cardinalities.values()) > 1  # self + at least one neighbour: no islands
    assert np.array_equal(out["hotspot"].to_numpy(), hot)
    # brute force "leader of its band"
    d = np.hypot(pts[:, None, 0] - pts[None, :, 0], pts[:, None, 1] - pts[None, :, 1])
    s = score.to_numpy()
    ids = zones["zone_id"].to_numpy()
    leader = np.array([
        all((s[i] > s[j]) or (s[i] == s[j] and ids[i] < ids[j])
            for j in np.flatnonzero((d[i] <= 3000) & (np.arange(len(s)) != i)))
        for i in range(len(s))
    ])
    assert np.array_equal(out["core"].to_numpy(), hot & leader)
    assert out["core"].sum() >= 1 and out.attrs["fallback"] is False
    assert set(ids[out["core"].to_numpy()]) == {"g44"}


def test_hotspot_run_and_fallback():
    zones, _ = _hot_grid()
    res = cp.run(study(zones), cfg(method="hotspot", hotspot_band_m=3000, permutations=99,
                                   attach_max_m=40_000))
    z = res.tables["core_periphery_zones"].set_index("zone_id")
    assert list(z.index[z["role"] == "core"]) == ["g44"]
    assert {"gi_z", "gi_p", "hotspot"} <= set(z.columns)
    assert res.summary["hotspot_fallback"] is False
    assert (z["strategy"] != "isolated").all()

    # three zones, equal scores: no hot spot possible -> strongest zone, warned
    flat = make_zones([{"zone_id": c, "x": 2000 * i, "y": 0, "jobs": 5} for i, c in enumerate("cab")])
    res = cp.run(study(flat), cfg(method="hotspot", permutations=99))
    z = res.tables["core_periphery_zones"].set_index("zone_id")
    assert list(z.index[z["role"] == "core"]) == ["a"]
    assert res.summary["hotspot_fallback"] is True
    assert any("hot spot" in w for w in res.warnings)


# ---------------------------------------------------------------------------
# degenerate inputs


def test_one_zone():
    zones = make_zones([{"zone_id": "only", "x": 0, "y": 0, "jobs": 7}])
    for method in ("share", "hotspot"):
        res = cp.run(study(zones), cfg(method=method))
        z = res.tables["core_periphery_zones"]
        assert z["role"].tolist() == ["core"] and z["strategy"].tolist() == ["independent_pole"]
        assert len(res.tables["core_periphery_links"]) == 0
        assert res.summary["n_cores"] == 1 and res.summary["primacy"] == 1.0
        assert res.summary["gini"] == 0.0
        assert res.summary["rank_size_slope"] is None
        assert len(res.tables["core_periphery_gradient"]) == 0
        json.dumps(res.summary)


def test_all_scores_equal_and_indicators_dropped():
    zones = make_zones([
        {"zone_id": zid, "x": 3000 * i, "y": 0, "jobs": 50, "output": np.nan, "firms": 4.0}
        for i, zid in enumerate(["e", "b", "d", "a", "c"])
    ])
    res = cp.run(study(zones), cfg(weights={"jobs": 1, "output": 2, "firms": 1, "rd_platforms": 0}))
    z = res.tables["core_periphery_zones"].set_index("zone_id")
    assert (z["score"] == 1.0).all()
    assert z.index[z["role"] == "core"].tolist() == ["a"]  # 0.2 * 5 = 1 core; tie -> lowest id
    assert res.summary["indicators_used"] == []
    assert set(res.summary["indicators_dropped"]) == {"jobs", "output", "firms", "rd_platforms"}
    assert res.summary["indicators_dropped"]["output"] == "missing in every zone"
    assert res.summary["gini"] == 0.0 and res.summary["rank_size_slope"] == pytest.approx(0.0)
    row = res.tables["core_periphery_summary"].iloc[0]
    assert pd.isna(row["indicators_used"])
    assert row["indicators_dropped"] == "jobs;output;firms;rd_platforms"
    assert any("no usable indicator" in w for w in res.warnings)
    # equal strengths: every zone attaches to the single core, probability 1
    assert (z.loc[z["role"] == "periphery", "attach_prob"] == 1.0).all()


def test_constant_indicator_dropped_weights_renormalised():
    zones = make_zones([
        {"zone_id": "a", "x": 0, "y": 0, "jobs": 10, "firms": 3.0, "output": 1.0},
        {"zone_id": "b", "x": 3000, "y": 0, "jobs": 30, "firms": 3.0, "output": 3.0},
        {"zone_id": "c", "x": 6000, "y": 0, "jobs": 20, "firms": 3.0, "output": 5.0},
    ])
    res = cp.run(study(zones), cfg(weights={"jobs": 1, "firms": 5, "output": 3}))
    z = res.tables["core_periphery_zones"].set_index("zone_id")
    assert res.summary["indicators_used"] == ["jobs", "output"]
    assert res.summary["weights"] == pytest.approx({"jobs": 0.25, "output": 0.75})
    assert z["score"].to_dict() == pytest.approx({"a": 0.0, "b": 0.25 + 0.375, "c": 0.125 + 0.75})
    assert any("firms (constant" in w for w in res.warnings)


def test_input_not_mutated_and_full_settings(two_clusters, tmp_path):
    before = two_clusters.copy(deep=True)
    settings = settings_from_dict(
        {"layers": {"zones": {"path": "zones.gpkg"}},
         "core_periphery": {"weights": {"jobs": 1}, "core_share": 0.2}},
        base_dir=tmp_path,
    )
    res = cp.run(study(two_clusters), settings)
    pd.testing.assert_frame_equal(two_clusters, before)
    assert res.name == "core_periphery"
    z = res.tables["core_periphery_zones"]
    for col in ["zone_id", "name", "chain", "district_id", "score", "role", "core_id",
                "core_distance_m", "attach_prob", "strategy"]:
        assert col in z.columns
    assert set(z["strategy"]) <= set(cp.STRATEGIES)
    grad = res.tables["core_periphery_gradient"]
    assert grad["zones"].sum() == len(two_clusters) - 1  # every zone but the main core
    assert (grad["ring_to_m"] - grad["ring_from_m"] == cp.RING_WIDTH_M).all()
    # A1..A4 are 2-3 km from A0 -> first ring; B cluster at 95-99 km -> rings 19
    assert grad.loc[0, "zones"] == 4
    ring0 = z.set_index("zone_id").loc[["A1", "A2", "A3", "A4"], "score"]
    assert grad.loc[0, "mean_score"] == pytest.approx(ring0.mean())


def test_geographic_crs_refused(two_clusters):
    with pytest.raises(CRSError, match="projected"):
        cp.run(study(two_clusters.set_crs(4326, allow_override=True)), cfg())


def test_hotspot_without_permutations_uses_normal_p_values():
    from esda.getisord import G_Local
    from libpysal.weights import DistanceBand, fill_diagonal

    zones, _ = _hot_grid()
    score, _, _ = cp.strength_score(zones, {"jobs": 1})
    out = cp.select_cores_hotspot(zones, score, band_m=3000, permutations=0)
    pts = shapely.get_coordinates(zones.geometry.representative_point().to_numpy())
    w = fill_diagonal(DistanceBand(pts, threshold=3000, binary=True, silence_warnings=True), 1.0)
    g = G_Local(score.to_numpy(), w, transform="B", star=True, permutations=0)
    assert np.allclose(out["gi_p"], g.p_norm)
    assert out.index[out["core"]].tolist() == [44]  # g44


def test_indicators_carried_and_no_zones():
    zones = make_zones([
        {"zone_id": "a", "x": 0, "y": 0, "jobs": 10, "output": 2.0},
        {"zone_id": "b", "x": 5000, "y": 0, "jobs": 30, "output": np.nan},
    ])
    z = cp.run(study(zones), cfg()).tables["core_periphery_zones"]
    assert z["jobs"].tolist() == [10.0, 30.0]
    assert z["output"].iloc[0] == 2.0 and np.isnan(z["output"].iloc[1])
    res = cp.run(study(zones.iloc[:0]), cfg())
    assert len(res.tables["core_periphery_zones"]) == 0
    assert res.summary["n_cores"] == 0 and res.summary["primacy"] is None
    json.dumps(res.summary)


def test_hotspot_main_core_is_the_top_core_not_the_top_zone():
    zones, _ = _hot_grid()
    lone = make_zones([{"zone_id": "lone", "x": 200_000, "y": 0, "jobs": 5000}])
    zones = gpd.GeoDataFrame(pd.concat([zones, lone], ignore_index=True), crs=CRS)
    res = cp.run(study(zones), cfg(method="hotspot", hotspot_band_m=3000, permutations=99,
                                   attach_max_m=40_000))
    z = res.tables["core_periphery_zones"].set_index("zone_id")
    assert z.loc["lone", "rank"] == 1 and z.loc["lone", "role"] == "periphery"
    assert z.loc["lone", "strategy"] == "isolated"
    assert not bool(z.loc["lone", "hotspot"])  # an island is no cluster
    assert res.tables["core_periphery_summary"].loc[0, "main_core_id"] == "g44"
    assert res.summary["cores"][0]["zone_id"] == "g44"
    grad = res.tables["core_periphery_gradient"]
    assert grad["zones"].sum() == len(zones) - 1


def test_max_cores_caps_the_share_method():
    """0.2 of 80 zones would be 16 poles; the cap keeps the strongest 15 (hand-checked order)."""
    scores = pd.Series(np.arange(80, dtype=float)[::-1] / 79, index=[f"z{i:02d}" for i in range(80)])
    assert cp.core_count(80, 0.2) == 16
    assert cp.core_count(80, 0.2, max_cores=15) == 15
    cores = cp.select_cores_share(scores, 0.2, max_cores=15)
    assert cores.sum() == 15
    assert cores.index[cores].tolist() == [f"z{i:02d}" for i in range(15)]
    assert cp.select_cores_share(scores, 0.2, max_cores=3).index[cp.select_cores_share(scores, 0.2, max_cores=3)].tolist() == ["z00", "z01", "z02"]
    assert cp.core_count(10, 0.2, max_cores=15) == 2   # below the cap: core_share decides


def test_max_cores_in_a_run(small_study):
    from geo.settings import load_settings
    from geo.layers import load_study

    settings = load_settings(small_study, overrides={"core_periphery": {"core_share": 1.0, "max_cores": 2}})
    study = load_study(settings)
    result = cp.run(study, settings)
    zones = result.tables["core_periphery_zones"]
    assert (zones["role"] == "core").sum() == 2
    top2 = zones.sort_values(["score", "zone_id"], ascending=[False, True])["zone_id"].head(2)
    assert set(zones.loc[zones["role"] == "core", "zone_id"]) == set(top2)
    assert result.summary["cores_capped"] is True and result.summary["max_cores"] == 2
