"""Jobs–housing balance: exact reach against brute force, shares, classes, districts, mix."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import rasterio.transform
import pandas as pd
import pytest
import shapely
from affine import Affine
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from pyproj import CRS
from shapely import box

from geo._errors import InputError
from geo._types import Raster, Study
from geo.analysis import balance
from geo.analysis._reach import PointIndex, demorton, morton, reach
from geo.settings import settings_from_dict

CRS_M = CRS.from_epsg(4544)
X0, Y0 = 500_000.0, 3_400_000.0  # realistic projected coordinates


# ---------------------------------------------------------------------------
# references


def brute_sums(geoms, x, y, w, radii) -> tuple[np.ndarray, np.ndarray]:
    """Per polygon, shapely.distance to every point: (sums, counts)."""
    pts = shapely.points(x, y)
    sums = np.zeros((len(geoms), len(radii)))
    counts = np.zeros((len(geoms), len(radii)), dtype=int)
    for i, g in enumerate(geoms):
        d = shapely.distance(pts, g)
        for j, r in enumerate(radii):
            sums[i, j] = w[d <= r].sum()
            counts[i, j] = int((d <= r).sum())
    return sums, counts


def brute_shared(geoms, jobs, x, y, w, radius) -> tuple[np.ndarray, float]:
    pts = shapely.points(x, y)
    within = np.array([shapely.distance(pts, g) <= radius for g in geoms])  # (n_geoms, n_pts)
    shared = np.zeros(len(geoms))
    for p in range(len(x)):
        who = np.flatnonzero(within[:, p])
        if not len(who):
            continue
        if jobs[who].sum() > 0:
            shared[who] += w[p] * jobs[who] / jobs[who].sum()
        else:
            shared[who] += w[p] / len(who)
    return shared, float(w[within.any(axis=0)].sum())


def star(cx, cy, r_out, r_in, n=7):
    ang = np.arange(2 * n) * np.pi / n
    rad = np.where(np.arange(2 * n) % 2 == 0, r_out, r_in)
    return shapely.Polygon(np.c_[cx + rad * np.cos(ang), cy + rad * np.sin(ang)])


# ---------------------------------------------------------------------------
# randomised layers


@st.composite
def layers(draw):
    """Polygons (boxes, stars, multipolygons, a polygon with a hole, a 241-vertex
    disk, a polygon much larger than the radii) and weighted points: clustered,
    random, inside polygons, on a vertex, duplicated, and exactly on a radius."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n_geoms = draw(st.integers(1, 6))
    radii = sorted(set(draw(st.lists(st.sampled_from([200.0, 500.0, 1000.0, 1500.0, 3000.0]),
                                     min_size=1, max_size=3))))
    geoms = []
    for _ in range(n_geoms):
        kind = draw(st.sampled_from(["box", "star", "multi", "hole", "big", "round"]))
        cx = X0 + float(rng.integers(-4000, 4000))
        cy = Y0 + float(rng.integers(-4000, 4000))
        s = float(rng.integers(50, 800))
        if kind == "box":
            geoms.append(box(cx, cy, cx + s, cy + s * 0.7))
        elif kind == "star":
            geoms.append(star(cx, cy, s, s * 0.3))
        elif kind == "multi":
            geoms.append(shapely.MultiPolygon([box(cx, cy, cx + s, cy + s),
                                               star(cx + 3 * s + 500, cy, s, s / 3, n=5)]))
        elif kind == "hole":
            geoms.append(shapely.Polygon(
                [(cx - 3 * s, cy - 3 * s), (cx + 3 * s, cy - 3 * s), (cx + 3 * s, cy + 3 * s),
                 (cx - 3 * s, cy + 3 * s)],
                holes=[[(cx - 2 * s, cy - 2 * s), (cx + 2 * s, cy - 2 * s),
                        (cx + 2 * s, cy + 2 * s), (cx - 2 * s, cy + 2 * s)]]))
        elif kind == "round":  # many vertices: the kernel simplifies it for its bounds
            geoms.append(shapely.Point(cx, cy).buffer(s, quad_segs=60))
        else:  # much larger than the radii: points deep inside it
            geoms.append(box(cx - 6000, cy - 6000, cx + 6000, cy + 3000))
    n_random = draw(st.integers(0, 400))
    n_cluster = draw(st.integers(0, 1500))
    xs = [rng.uniform(X0 - 9000, X0 + 9000, n_random)]
    ys = [rng.uniform(Y0 - 9000, Y0 + 9000, n_random)]
    centre = rng.uniform([X0 - 3000, Y0 - 3000], [X0 + 3000, Y0 + 3000])
    xs.append(centre[0] + rng.normal(0, 800, n_cluster))
    ys.append(centre[1] + rng.normal(0, 800, n_cluster))
    # exactly on a radius: beside a box edge and diagonally off a box corner (3-4-5)
    for g in geoms:
        x_min, y_min, x_max, y_max = shapely.bounds(g)
        for r in radii:
            xs.append(np.array([x_max + r, x_min - r, x_max + 0.6 * r]))
            ys.append(np.array([y_min, y_max, y_max + 0.8 * r]))
        # inside (representative point) and on a vertex
        rep = shapely.get_coordinates(shapely.point_on_surface(g))
        vert = shapely.get_coordinates(g)[:1]
        xs.append(np.r_[rep[:, 0], vert[:, 0]])
        ys.append(np.r_[rep[:, 1], vert[:, 1]])
    x = np.concatenate(xs)
    y = np.concatenate(ys)
    # duplicates
    dup = rng.integers(0, len(x), min(len(x), 20))
    x, y = np.r_[x, x[dup]], np.r_[y, y[dup]]
    w = rng.integers(0, 50, len(x)).astype(float) * 1.4
    jobs = rng.integers(0, 3, n_geoms).astype(float) * rng.integers(0, 5000, n_geoms)
    return np.array(geoms, dtype=object), x, y, w, np.array(radii), jobs


@hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layers(), st.sampled_from([1, 8, 64]), st.sampled_from([None, 300.0, 5000.0]))
def test_reach_equals_brute_force(data, leaf_points, start_cell_m):
    geoms, x, y, w, radii, _ = data
    index = PointIndex.build(x, y, w)
    got = reach(geoms, index, radii, leaf_points=leaf_points, start_cell_m=start_cell_m)
    want_sums, want_counts = brute_sums(geoms, x, y, w, radii)
    np.testing.assert_array_equal(got.counts, want_counts)
    np.testing.assert_allclose(got.sums[:, :, 0], want_sums, rtol=1e-9, atol=1e-6)


@hsettings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layers())
def test_shared_workers_match_brute_force_and_add_up(data):
    geoms, x, y, w, radii, jobs = data
    radius = float(radii[-1])
    shared, in_reach = balance.shared_workers(geoms, jobs, x, y, w, radius)
    want, want_in_reach = brute_shared(geoms, jobs, x, y, w, radius)
    np.testing.assert_allclose(shared, want, rtol=1e-9, atol=1e-6)
    assert in_reach == pytest.approx(want_in_reach, rel=1e-12, abs=1e-9)
    # the invariant: shares add up to the workers within reach of any workplace
    assert shared.sum() == pytest.approx(in_reach, rel=1e-9, abs=1e-6)


def test_points_exactly_on_the_radius_count():
    g = box(X0, Y0, X0 + 100, Y0 + 100)
    # 5000 m beside the edge; 3000-4000-5000 off the corner; 1 mm further out
    x = np.array([X0 + 5100, X0 + 3100, X0 + 5100.001, X0 + 50])
    y = np.array([Y0 + 50, Y0 + 4100, Y0 + 50, Y0 + 50])
    w = np.array([1.0, 2.0, 4.0, 8.0])
    assert balance.workers_within([g], x, y, w, [5000]).tolist() == [[11.0]]
    assert balance.workers_within([g], x, y, w, [4999.999]).tolist() == [[8.0]]


def test_morton_round_trip():
    ix = np.array([0, 1, 2**20 - 1, 12345])
    iy = np.array([0, 7, 3, 2**21 + 5])
    assert [a.tolist() for a in demorton(morton(ix, iy))] == [ix.tolist(), iy.tolist()]


# ---------------------------------------------------------------------------
# hand-checkable fixtures


def test_shared_split_by_hand():
    a, b, c = box(0, 0, 10, 10), box(20, 0, 30, 10), box(100, 0, 110, 10)
    # point 1 (15, 5) is 5 m from a and b; point 2 (105, 5) is inside c only;
    # point 3 (500, 500) reaches nothing
    x = np.array([15.0, 105.0, 500.0])
    y = np.array([5.0, 5.0, 500.0])
    w = np.array([8.0, 3.0, 100.0])
    shared, in_reach = balance.shared_workers([a, b, c], np.array([30.0, 10.0, 0.0]), x, y, w, 5.0)
    assert shared.tolist() == [6.0, 2.0, 3.0]
    assert in_reach == 11.0
    # all zero jobs: equal split
    shared, _ = balance.shared_workers([a, b], np.array([0.0, 0.0]), x[:1], y[:1], w[:1], 5.0)
    assert shared.tolist() == [4.0, 4.0]
    # a zero-jobs workplace next to one with jobs gets nothing of the shared point
    shared, _ = balance.shared_workers([a, b], np.array([0.0, 5.0]), x[:1], y[:1], w[:1], 5.0)
    assert shared.tolist() == [0.0, 8.0]


def test_classify_balance_thresholds():
    got = balance.classify_balance([np.nan, 0.0, 0.79, 0.8, 1.0, 1.25, 1.26, 50.0], (0.8, 1.25))
    assert got.tolist() == ["no_housing", "housing_rich", "housing_rich", "balanced", "balanced",
                            "balanced", "jobs_rich", "jobs_rich"]


def test_radius_column_names():
    assert balance.radius_column(3000.0) == "workers_3000"
    assert balance.radius_column(10000) == "workers_10000"


# ---------------------------------------------------------------------------
# the whole analysis on a hand-made study


def make_settings(**balance_cfg):
    cfg = {"layers": {"zones": {"path": "zones.gpkg"}, "landuse": {"path": "lu.tif"}},
           "balance": {"radius_m": 1000, "radii_m": [500, 2000], "workers_per_dwelling": 1.5,
                       "employment_rate": 0.5, "balanced_range": [0.8, 1.25], **balance_cfg}}
    return settings_from_dict(cfg, base_dir=".")


def hand_study(**overrides) -> Study:
    """Two districts side by side (x 0-10 km, 10-20 km), three workplaces, housing."""
    districts = gpd.GeoDataFrame(
        {"district_id": ["D1", "D2"], "name": ["West", "East"]},
        geometry=[box(X0, Y0, X0 + 10_000, Y0 + 10_000), box(X0 + 10_000, Y0, X0 + 20_000, Y0 + 10_000)],
        crs=CRS_M)
    zones = gpd.GeoDataFrame(
        {"zone_id": ["Z1", "Z2"], "name": ["Alpha", "Beta"], "chain": ["c", "c"],
         "jobs": [900.0, 100.0], "district_id": ["D1", "D2"]},
        geometry=[box(X0 + 1000, Y0 + 1000, X0 + 2000, Y0 + 2000),
                  box(X0 + 15_000, Y0 + 5000, X0 + 16_000, Y0 + 6000)],
        crs=CRS_M)
    innov = gpd.GeoDataFrame(
        {"innov_id": ["I1"], "name": ["Gamma"], "chains": ["c"], "jobs": [np.nan],
         "district_id": ["D1"]},
        geometry=[box(X0 + 3000, Y0 + 1000, X0 + 4000, Y0 + 2000)], crs=CRS_M)
    housing = gpd.GeoDataFrame(
        {"housing_id": ["H1", "H2", "H3", "H4"], "dwellings": [100.0, 200.0, 50.0, 10.0]},
        geometry=[
            shapely.Point(X0 + 2500, Y0 + 1500),      # 500 m from Z1 and from I1
            shapely.Point(X0 + 1500, Y0 + 3500),      # 1500 m above Z1, 2500 m from I1 corner
            box(X0 + 1100, Y0 + 1100, X0 + 1200, Y0 + 1200),  # polygon inside Z1
            shapely.Point(X0 + 18_000, Y0 + 9000),    # east, far from everything (D2)
        ], crs=CRS_M)
    parts = {"crs": CRS_M, "zones": zones, "districts": districts,
             "innovation_districts": innov, "housing": housing}
    parts.update(overrides)
    return Study(**parts)


def test_run_by_hand():
    study = hand_study()
    before = {k: getattr(study, k).copy() for k in ("zones", "districts", "innovation_districts",
                                                      "housing")}
    result = balance.run(study, make_settings())
    wp = result.tables["balance_workplaces"].set_index("workplace_id")
    assert list(result.tables["balance_workplaces"].columns[:7]) == [
        "workplace_id", "kind", "name", "district_id", "jobs", "workers_500", "workers_1000"]
    assert {"workers_2000", "workers", "jhr", "balance_class", "workers_shared",
            "jhr_shared"} <= set(wp.columns)
    # workers = dwellings x 1.5
    assert wp.loc["Z1", "workers_500"] == pytest.approx((100 + 50) * 1.5)
    assert wp.loc["Z1", "workers_1000"] == pytest.approx((100 + 50) * 1.5)
    assert wp.loc["Z1", "workers_2000"] == pytest.approx((100 + 200 + 50) * 1.5)
    assert wp.loc["Z1", "workers"] == wp.loc["Z1", "workers_1000"]
    assert wp.loc["I1", "workers"] == pytest.approx(100 * 1.5)
    assert wp.loc["I1", "jobs"] == 0.0 and wp.loc["I1", "kind"] == "innovation_district"
    assert wp.loc["Z1", "jhr"] == pytest.approx(900 / 225)
    assert wp.loc["Z1", "balance_class"] == "jobs_rich"
    assert wp.loc["I1", "balance_class"] == "housing_rich"
    # Z2 has no housing within 1000 m
    assert wp.loc["Z2", "workers"] == 0.0
    assert np.isnan(wp.loc["Z2", "jhr"]) and wp.loc["Z2", "balance_class"] == "no_housing"
    assert np.isnan(wp.loc["Z2", "jhr_shared"])
    # H1 (150 workers) is shared by Z1 (900 jobs) and I1 (0 jobs): all to Z1
    assert wp.loc["Z1", "workers_shared"] == pytest.approx(225.0)
    assert wp.loc["I1", "workers_shared"] == 0.0
    assert result.tables["balance_workplaces"].crs == CRS_M

    districts = result.tables["balance_districts"].set_index("district_id")
    assert isinstance(result.tables["balance_districts"], gpd.GeoDataFrame)
    assert districts.loc["D1", "jobs"] == 900.0 and districts.loc["D2", "jobs"] == 100.0
    assert districts.loc["D1", "workers"] == pytest.approx(350 * 1.5)
    assert districts.loc["D2", "workers"] == pytest.approx(10 * 1.5)
    assert districts.loc["D1", "jhr"] == pytest.approx(900 / 525)
    assert districts.loc["D2", "jhr"] == pytest.approx(100 / 15)
    assert set(districts["balance_class"]) == {"jobs_rich"}

    s = result.summary
    json.dumps(s, allow_nan=False)
    assert s["worker_source"] == "housing dwellings"
    assert s["balance_classes"] == {"jobs_rich": 1, "balanced": 0, "housing_rich": 1, "no_housing": 1}
    assert s["workers_in_reach"] == pytest.approx((100 + 50) * 1.5)
    assert s["top_jobs_rich"][0]["workplace_id"] == "Z1"
    assert any("I1" in w and "no jobs value" in w for w in result.warnings)
    assert any("Z2" in w and "no resident workers" in w for w in result.warnings)
    # inputs untouched
    for key, frame in before.items():
        pd.testing.assert_frame_equal(getattr(study, key), frame)


def test_population_field_and_no_districts():
    housing = gpd.GeoDataFrame({"housing_id": ["H1"], "population": [1000.0]},
                               geometry=[shapely.Point(X0 + 2500, Y0 + 1500)], crs=CRS_M)
    zones = hand_study().zones.drop(columns="district_id").assign(district_id=["D1", "D9"])
    study = hand_study(housing=housing, districts=None, zones=zones, innovation_districts=None)
    result = balance.run(study, make_settings())
    wp = result.tables["balance_workplaces"].set_index("workplace_id")
    assert result.summary["worker_source"] == "housing population"
    assert wp.loc["Z1", "workers"] == pytest.approx(500.0)
    table = result.tables["balance_districts"]
    assert not isinstance(table, gpd.GeoDataFrame)
    assert table.set_index("district_id")["jobs"].to_dict() == {"D1": 900.0, "D9": 100.0}
    assert table["workers"].isna().all() and table["balance_class"].isna().all()
    assert any("no districts layer" in w for w in result.warnings)


def test_housing_out_of_reach_warns_instead_of_failing():
    far = gpd.GeoDataFrame({"housing_id": ["H1"], "dwellings": [10.0]},
                           geometry=[shapely.Point(X0 + 500_000, Y0)], crs=CRS_M)
    result = balance.run(hand_study(housing=far), make_settings())
    wp = result.tables["balance_workplaces"]
    assert (wp["balance_class"] == "no_housing").all() and wp["jhr"].isna().all()
    assert (wp["workers"] == 0).all()
    assert any("no housing lies within 1000 m of any workplace" in w for w in result.warnings)
    assert any("outside every district" in w for w in result.warnings)


def test_housing_with_no_values_is_warned_not_silently_zero():
    housing = hand_study().housing.assign(dwellings=[100.0, np.nan, 50.0, 10.0])
    result = balance.run(hand_study(housing=housing), make_settings())
    assert any("neither dwellings nor population" in w and "H2" in w for w in result.warnings)


def test_negative_dwellings_raise_input_error():
    housing = hand_study().housing.assign(dwellings=[100.0, -1.0, 50.0, 10.0])
    with pytest.raises(InputError, match="negative"):
        balance.run(hand_study(housing=housing), make_settings())


def test_needs_some_worker_source():
    with pytest.raises(InputError, match="layers.housing"):
        balance.run(hand_study(housing=None), make_settings())


def test_population_raster_source_matches_brute_force():
    rng = np.random.default_rng(3)
    data = rng.uniform(0, 100, (60, 80))
    data[rng.random(data.shape) < 0.2] = np.nan
    transform = Affine(100, 0, X0 - 1000, 0, -100, Y0 + 5000)
    raster = Raster(data, transform, CRS_M)
    study = hand_study(housing=None, population=raster)
    result = balance.run(study, make_settings())
    assert result.summary["worker_source"] == "population raster"
    wp = result.tables["balance_workplaces"]
    # cell centres from the transform by rasterio itself, not by Raster.cell_centres
    rows, cols = np.nonzero(np.isfinite(data))
    x, y = (np.asarray(c) for c in rasterio.transform.xy(transform, rows, cols, offset="center"))
    v = data[rows, cols]
    want, _ = brute_sums(wp.geometry.to_numpy(), x, y, v * 0.5, [500.0, 1000.0, 2000.0])
    got = wp[["workers_500", "workers_1000", "workers_2000"]].to_numpy()
    np.testing.assert_allclose(got, want, rtol=1e-9)
    assert got[0, 1] > 0
    d = result.tables["balance_districts"].set_index("district_id")
    inside_d1 = shapely.intersects_xy(study.districts.geometry[0], x, y)
    assert d.loc["D1", "workers"] == pytest.approx(v[inside_d1].sum() * 0.5)


# ---------------------------------------------------------------------------
# land-use mix


def landuse_raster(codes: np.ndarray) -> Raster:
    """Cells of 100 m, upper-left corner at (X0, Y0 + 100 * rows)."""
    return Raster(codes.astype(float), Affine(100, 0, X0, 0, -100, Y0 + 100 * codes.shape[0]), CRS_M)


CLASSES = {1: "residential", 2: "office", 3: "industrial", 4: "retail", 5: "public", 6: "green"}


def test_landuse_mix_by_hand():
    codes = np.array([[1, 1, 2, 2, 3, 9],
                      [1, 1, 2, 2, 3, 3]], dtype=float)
    codes[0, 4] = np.nan
    polys = gpd.GeoDataFrame({"innov_id": ["one", "two", "mixed", "none"], "name": list("abcd")},
                             geometry=[box(X0, Y0, X0 + 200, Y0 + 200),        # 4 x class 1
                                       box(X0, Y0, X0 + 400, Y0 + 100),        # 1,1,2,2
                                       box(X0 + 300, Y0, X0 + 600, Y0 + 200),  # 2,2,3,3 (+ nan, 9)
                                       box(X0 + 5000, Y0, X0 + 5100, Y0 + 100)], crs=CRS_M)
    table, warnings = balance.landuse_mix(polys, landuse_raster(codes), CLASSES)
    t = table.set_index("innov_id")
    assert t.loc["one", "landuse_entropy"] == 0.0
    assert t.loc["one", "residential_share"] == 1.0 and t.loc["one", "cells"] == 4
    # two equally common classes out of 6 configured: ln 2 / ln 6
    assert t.loc["two", "landuse_entropy"] == pytest.approx(np.log(2) / np.log(6))
    assert t.loc["two", "share_office"] == 0.5
    # 'mixed' covers columns 3-5 of both rows: codes 2, 2, 3, 3 (+ nan, + unknown 9 left out)
    assert t.loc["mixed", "cells"] == 4
    assert t.loc["mixed", "share_industrial"] == 0.5 and t.loc["mixed", "residential_share"] == 0.0
    assert np.isnan(t.loc["none", "landuse_entropy"]) and t.loc["none", "cells"] == 0
    assert any("[9]" in w for w in warnings)
    assert any("none" in w and "no classified" in w for w in warnings)
    # evenly mixed over all configured classes -> 1
    even = landuse_raster(np.arange(1, 7, dtype=float)[None, :])
    t2, _ = balance.landuse_mix(polys.iloc[:1].assign(geometry=[box(X0, Y0, X0 + 600, Y0 + 100)]),
                                even, CLASSES)
    assert t2["landuse_entropy"][0] == pytest.approx(1.0)


def test_run_with_landuse_adds_mix_to_innovation_districts():
    codes = np.ones((30, 60))
    codes[:, 35:] = 2  # x >= X0 + 3500 is office: I1 (x 3000-4000) is half residential
    study = hand_study(landuse=landuse_raster(codes), landuse_classes=CLASSES)
    result = balance.run(study, make_settings())
    wp = result.tables["balance_workplaces"].set_index("workplace_id")
    assert wp.loc["I1", "residential_share"] == pytest.approx(0.5)
    assert wp.loc["I1", "landuse_entropy"] == pytest.approx(np.log(2) / np.log(6))
    assert np.isnan(wp.loc["Z1", "landuse_entropy"])
    lu = result.tables["balance_landuse"]
    assert lu["workplace_id"].tolist() == ["I1"]
    json.dumps(result.summary, allow_nan=False)


def test_empty_housing_layer_warns():
    empty = hand_study().housing.iloc[:0]
    result = balance.run(hand_study(housing=empty), make_settings())
    assert (result.tables["balance_workplaces"]["balance_class"] == "no_housing").all()
    assert any("holds no resident workers" in w for w in result.warnings)
    assert result.summary["share_in_reach"] is None
    json.dumps(result.summary, allow_nan=False)
