"""The area around a workplace: area_jobs/area_jhr, the balance radius and the theoretical
minimum commute against brute forces that share no code with the product."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from pyproj import CRS
from scipy.optimize import linprog
from shapely import box

from geo._types import Study
from geo.analysis import balance
from geo.analysis._transport import balance_totals, max_mean_cost, min_mean_cost, solve_transport
from geo.analysis.balance._potential import theoretical_min_commute
from geo.settings import settings_from_dict

CRS_M = CRS.from_epsg(4544)
X0, Y0 = 500_000.0, 3_400_000.0
UPPER = 1.25


def make_settings(step=500.0, **extra):
    cfg = {"layers": {"zones": {"path": "zones.gpkg"}},
           "balance": {"radius_m": 1000, "radii_m": [500, 2000], "workers_per_dwelling": 1.5,
                       "balanced_range": [0.8, UPPER], "radius_step_m": step, **extra}}
    return settings_from_dict(cfg, base_dir=".")


# ---------------------------------------------------------------------------
# brute force: own loops over features, shapely.distance only


def brute_area(zone_geoms, zone_jobs, hx, hy, hw, ex, ey, ej, r):
    """(area_jobs, workers) per zone at radius r."""
    out = []
    for g in zone_geoms:
        jobs = 0.0
        for g2, j2 in zip(zone_geoms, zone_jobs):
            if shapely.distance(g, g2) <= r:
                jobs += j2
        for x, y, j in zip(ex, ey, ej):
            if shapely.distance(shapely.Point(x, y), g) <= r:
                jobs += j
        workers = 0.0
        for x, y, w in zip(hx, hy, hw):
            if shapely.distance(shapely.Point(x, y), g) <= r:
                workers += w
        out.append((jobs, workers))
    return out


def brute_radius(zone_geoms, zone_jobs, hx, hy, hw, ex, ey, ej, step, max_m=30_000.0):
    found = [np.nan] * len(zone_geoms)
    k = 1
    while k * step <= max_m + 1e-9:
        r = k * step
        for i, (jobs, workers) in enumerate(brute_area(zone_geoms, zone_jobs, hx, hy, hw,
                                                       ex, ey, ej, r)):
            if np.isnan(found[i]) and workers > 0 and jobs / workers <= UPPER:
                found[i] = r
        if not any(np.isnan(f) for f in found):
            break
        k += 1
    return np.array(found)


@st.composite
def studies(draw):
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n = draw(st.integers(1, 5))
    geoms = []
    for _ in range(n):
        cx = X0 + float(rng.integers(-6000, 6000))
        cy = Y0 + float(rng.integers(-6000, 6000))
        s = float(rng.integers(100, 1500))
        if rng.random() < 0.3:
            geoms.append(shapely.Point(cx, cy).buffer(s, quad_segs=6))
        else:
            geoms.append(box(cx, cy, cx + s, cy + 0.6 * s))
    jobs = rng.integers(0, 20, n).astype(float) * 1000
    nh = draw(st.integers(0, 60))
    hx = rng.uniform(X0 - 12000, X0 + 12000, nh)
    hy = rng.uniform(Y0 - 12000, Y0 + 12000, nh)
    dw = rng.integers(0, 400, nh).astype(float)
    ne = draw(st.integers(0, 40))
    ex = list(rng.uniform(X0 - 12000, X0 + 12000, ne))
    ey = list(rng.uniform(Y0 - 12000, Y0 + 12000, ne))
    # employment and housing exactly on a step, beside a box edge
    g = geoms[0]
    x_min, y_min, x_max, _ = shapely.bounds(g)
    ex += [x_max + 500.0, x_max + 1000.0]
    ey += [y_min, y_min]
    hx = np.r_[hx, x_min - 1000.0]
    hy = np.r_[hy, y_min]
    dw = np.r_[dw, 300.0]
    ej = rng.integers(0, 3000, len(ex)).astype(float)
    return (np.array(geoms, dtype=object), jobs, hx, hy, dw, np.array(ex), np.array(ey), ej,
            draw(st.booleans()))


def study_of(geoms, jobs, hx, hy, dw, ex, ey, ej, with_employment):
    zones = gpd.GeoDataFrame(
        {"zone_id": [f"Z{i + 1}" for i in range(len(geoms))], "name": "z", "chain": "c",
         "jobs": jobs, "district_id": "D1"}, geometry=list(geoms), crs=CRS_M)
    housing = gpd.GeoDataFrame({"housing_id": [f"H{i}" for i in range(len(hx))], "dwellings": dw},
                               geometry=shapely.points(hx, hy), crs=CRS_M)
    employment = None
    if with_employment:
        employment = gpd.GeoDataFrame({"employment_id": [f"E{i}" for i in range(len(ex))],
                                       "jobs": ej}, geometry=shapely.points(ex, ey), crs=CRS_M)
    return Study(crs=CRS_M, zones=zones, housing=housing, employment=employment)


@hsettings(max_examples=20, deadline=None, derandomize=True,
           suppress_health_check=[HealthCheck.too_slow])
@given(studies())
def test_area_measures_and_balance_radius_equal_brute_force(data):
    geoms, jobs, hx, hy, dw, ex, ey, ej, with_emp = data
    study = study_of(*data)
    step = 1500.0
    result = balance.run(study, make_settings(step=step))
    wp = result.tables["balance_workplaces"]
    hw = dw * 1.5
    if not with_emp:
        ex, ey, ej = [], [], []
    for r in (500.0, 1000.0, 2000.0):
        want = brute_area(geoms, jobs, hx, hy, hw, ex, ey, ej, r)
        got_jobs = wp[f"area_jobs_{int(r)}"].to_numpy()
        got_jhr = wp[f"area_jhr_{int(r)}"].to_numpy()
        for i, (a_jobs, workers) in enumerate(want):
            assert got_jobs[i] == pytest.approx(a_jobs, abs=1e-6)
            assert wp[f"workers_{int(r)}"].iloc[i] == pytest.approx(workers, abs=1e-6)
            if workers > 0:
                assert got_jhr[i] == pytest.approx(a_jobs / workers, rel=1e-12)
            else:
                assert np.isnan(got_jhr[i])
    np.testing.assert_array_equal(wp["area_jhr"].to_numpy(), wp["area_jhr_1000"].to_numpy())
    want_radius = brute_radius(geoms, jobs, hx, hy, hw, ex, ey, ej, step)
    np.testing.assert_array_equal(wp["balance_radius_m"].to_numpy(), want_radius)
    # the existing invariants keep holding
    assert wp["workers_shared"].sum() == pytest.approx(result.summary["workers_in_reach"], abs=1e-4)
    assert (np.diff(wp[["workers_500", "workers_1000", "workers_2000"]].to_numpy(), axis=1)
            >= -1e-9).all()
    json.dumps(result.summary, allow_nan=False)


def test_area_measures_by_hand():
    """Two zones 1 km apart, one employment point, housing by hand."""
    z1 = box(X0, Y0, X0 + 1000, Y0 + 1000)
    z2 = box(X0 + 2000, Y0, X0 + 3000, Y0 + 1000)         # 1000 m east of Z1
    hx = np.array([X0 + 500, X0 + 4500])                   # inside Z1; 1500 m east of Z2
    hy = np.array([Y0 + 500, Y0 + 500])
    dw = np.array([1000.0, 2000.0])                        # 1500 and 3000 workers
    study = study_of(np.array([z1, z2], dtype=object), np.array([3000.0, 600.0]), hx, hy, dw,
                     np.array([X0 - 400]), np.array([Y0 + 500]), np.array([1200.0]), True)
    wp = balance.run(study, make_settings()).tables["balance_workplaces"].set_index("workplace_id")
    # 500 m: Z1 = own 3000 + employment 1200 (400 m west) ; workers 1500
    assert wp.loc["Z1", "area_jobs_500"] == 4200 and wp.loc["Z1", "workers_500"] == 1500
    assert wp.loc["Z1", "area_jhr_500"] == pytest.approx(2.8)
    # 1000 m: Z1 reaches Z2 (boundary to boundary 1000 m): 3000 + 600 + 1200
    assert wp.loc["Z1", "area_jobs_1000"] == 4800
    # Z2: both housing points lie 1500 m away, the employment point 2400 m
    assert wp.loc["Z2", "area_jobs_1000"] == 3600 and wp.loc["Z2", "workers_1000"] == 0
    assert wp.loc["Z2", "area_class"] == "no_housing"
    assert wp.loc["Z2", "area_jhr_2000"] == pytest.approx(3600 / 4500)
    # balance radius: Z2 first <= 1.25 at 1500 m: 3600 / 4500
    assert wp.loc["Z2", "balance_radius_m"] == 1500
    # Z1: 4200/1500 at 500, 4800/1500 at 1000 and 1500, at 2000 also Z2's east housing
    # lies 3500 m away: not yet; at 3500: 4800 / 4500 = 1.07
    assert wp.loc["Z1", "balance_radius_m"] == 3500


def test_no_housing_never_reaches_a_balance_radius():
    z1 = box(X0, Y0, X0 + 100, Y0 + 100)
    study = study_of(np.array([z1], dtype=object), np.array([10.0]), np.array([X0 + 40_000]),
                     np.array([Y0]), np.array([5.0]), np.array([]), np.array([]), np.array([]), False)
    result = balance.run(study, make_settings())
    wp = result.tables["balance_workplaces"]
    assert np.isnan(wp["balance_radius_m"].iloc[0])
    assert wp["area_class"].iloc[0] == "no_housing"
    assert any("no employment layer" in w for w in result.warnings)


def test_one_class_warning_and_partial_employment_coverage():
    rng = np.random.default_rng(1)
    geoms = np.array([box(X0 + 3000 * i, Y0, X0 + 3000 * i + 200, Y0 + 200) for i in range(10)],
                     dtype=object)
    jobs = np.full(10, 10.0)
    hx = X0 + 3000 * np.arange(10) + 100
    hy = np.full(10, Y0 + 100)
    dw = np.full(10, 1000.0)
    # employment covers only the first half of the zones
    ex = rng.uniform(X0 - 500, X0 + 12_500, 50)
    ey = rng.uniform(Y0 - 500, Y0 + 700, 50)
    ej = np.ones(50)
    result = balance.run(study_of(geoms, jobs, hx, hy, dw, ex, ey, ej, True), make_settings())
    assert result.summary["workplaces_outside_employment"] == pytest.approx(0.5)
    assert any("50% of the workplaces lie outside" in w for w in result.warnings)
    assert any("10 of 10 workplaces (100%) are housing_rich by area_class" in w
               for w in result.warnings)


def test_one_sided_catchment_class_points_to_the_area_class():
    """Every workplace housing-rich by its catchment (10 jobs against 1,500 workers) while
    the employment around them sets the area classes apart: the warning says so, with
    the area classes counted from the table."""
    geoms = np.array([box(X0 + 3000 * i, Y0, X0 + 3000 * i + 200, Y0 + 200) for i in range(10)],
                     dtype=object)
    hx = X0 + 3000 * np.arange(10) + 100
    hy = np.full(10, Y0 + 100)
    # 4 zones with 6,000 jobs beside them (jobs_rich), 3 with 1,490 (balanced: 1,500 / 1,500),
    # 3 with none (housing_rich)
    ex, ey = hx[:7] + 50, hy[:7]
    ej = np.array([6000.0] * 4 + [1490.0] * 3)
    result = balance.run(study_of(geoms, np.full(10, 10.0), hx, hy, np.full(10, 1000.0), ex, ey, ej, True),
                         make_settings())
    wp = result.tables["balance_workplaces"]
    assert (wp["balance_class"] == "housing_rich").all()
    assert wp["area_class"].tolist() == ["jobs_rich"] * 4 + ["balanced"] * 3 + ["housing_rich"] * 3
    [w] = [w for w in result.warnings if "by balance_class" in w]
    assert w.endswith("does (4 jobs_rich, 3 balanced, 3 housing_rich)"), w
    assert not any("by area_class" in w for w in result.warnings)


# ---------------------------------------------------------------------------
# the transportation problem


def highs_optimum(cost, supply, demand, sign=1.0):
    n, m = cost.shape
    a_eq = np.zeros((n + m, n * m))
    for i in range(n):
        a_eq[i, i * m:(i + 1) * m] = 1
    for j in range(m):
        a_eq[n + j, j::m] = 1
    res = linprog(sign * cost.ravel(), A_eq=a_eq, b_eq=np.r_[supply, demand], bounds=(0, None),
                  method="highs")
    assert res.status == 0
    return sign * res.fun


@hsettings(max_examples=40, deadline=None, derandomize=True)
@given(st.integers(1, 7), st.integers(1, 7), st.integers(0, 2**32 - 1))
def test_transport_equals_highs(n, m, seed):
    rng = np.random.default_rng(seed)
    cost = rng.uniform(0, 100, (n, m)).round(3)
    supply = rng.integers(0, 50, n).astype(float)
    demand = rng.integers(1, 50, m).astype(float)
    supply, demand = balance_totals(supply, demand)
    x, total = solve_transport(cost, supply, demand)
    if supply.sum() == 0:
        assert total == 0
        return
    np.testing.assert_allclose(x.sum(axis=1), supply, atol=1e-6)
    np.testing.assert_allclose(x.sum(axis=0), demand, atol=1e-6)
    assert (x >= -1e-12).all()
    assert total == pytest.approx(highs_optimum(cost, supply, demand), rel=1e-7, abs=1e-6)
    lo = min_mean_cost(cost, supply, demand)
    hi = max_mean_cost(cost, supply, demand)
    assert hi * supply.sum() == pytest.approx(highs_optimum(cost, supply, demand, -1.0),
                                              rel=1e-7, abs=1e-6)
    assert lo <= hi + 1e-9


def test_transport_by_hand_and_scaling():
    # 2 origins × 2 destinations: the cheap diagonal wins
    x, total = solve_transport(np.array([[1.0, 3.0], [2.0, 1.0]]), np.array([5.0, 5.0]),
                               np.array([5.0, 5.0]))
    assert total == pytest.approx(10.0) and x[0, 1] == pytest.approx(0.0)
    s, d = balance_totals(np.array([30.0, 10.0]), np.array([20.0]))
    assert s.tolist() == [15.0, 5.0] and d.tolist() == [20.0]
    with pytest.raises(ValueError, match="differs"):
        solve_transport(np.ones((1, 1)), np.array([1.0]), np.array([2.0]))


def test_theoretical_min_commute_equals_brute_force():
    rng = np.random.default_rng(7)
    geoms = np.array([box(X0 + 2000, Y0 + 2000, X0 + 3500, Y0 + 2600),
                      shapely.Point(X0 + 8000, Y0 + 7000).buffer(700, quad_segs=8),
                      box(X0 + 500, Y0 + 9000, X0 + 1200, Y0 + 9800)], dtype=object)
    jobs = np.array([5000.0, 3000.0, 1000.0])
    x = rng.uniform(X0, X0 + 10_000, 300)
    y = rng.uniform(Y0, Y0 + 10_000, 300)
    w = rng.integers(0, 40, 300).astype(float)
    pot = theoretical_min_commute(geoms, jobs, x, y, w, cell_m=1000.0)
    # reference: cells by a dictionary, costs by shapely.distance, optimum by HiGHS
    cells: dict[tuple[int, int], float] = {}
    for xi, yi, wi in zip(x, y, w):
        key = (int(np.floor(xi / 1000)), int(np.floor(yi / 1000)))
        cells[key] = cells.get(key, 0.0) + wi
    keys = [k for k, v in cells.items() if v > 0]
    cost = np.array([[shapely.distance(shapely.Point((i + 0.5) * 1000, (j + 0.5) * 1000), g)
                      for g in geoms] for i, j in keys])
    supply = np.array([cells[k] for k in keys])
    scaled = jobs * supply.sum() / jobs.sum() if jobs.sum() > supply.sum() else jobs
    sup = supply if jobs.sum() > supply.sum() else supply * jobs.sum() / supply.sum()
    want = highs_optimum(cost, sup, scaled) / sup.sum()
    assert pot.cell_m == 1000.0 and pot.cells == len(keys)
    assert pot.mean_m == pytest.approx(want, abs=0.05)


def test_theoretical_min_commute_coarsens_big_problems():
    geoms = np.array([box(X0 + i * 100, Y0, X0 + i * 100 + 50, Y0 + 50) for i in range(10)],
                     dtype=object)
    x = X0 + np.arange(0, 20_000, 250.0)
    pot = theoretical_min_commute(geoms, np.ones(10), x, np.full(len(x), Y0 + 10.0),
                                  np.ones(len(x)), cell_m=500.0, max_pairs=100)
    # 20 km of points: 40 cells of 500 m, 20 of 1000 m, 10 of 2000 m (10 × 10 pairs)
    assert pot.cell_m == 2000.0 and pot.cells == 10


# ---------------------------------------------------------------------------
# reading layers.employment: bad input, raster, kind


def _write_study(tmp_path, jobs_values, *, raster=None, unit=None):
    from geo.layers import load_study

    zones = gpd.GeoDataFrame({"id": ["Z1", "Z2"], "name": ["a", "b"], "chain": ["c", "c"],
                              "jobs": [100, 200], "district": ["D1", "D1"]},
                             geometry=[box(X0, Y0, X0 + 500, Y0 + 500),
                                       box(X0 + 3000, Y0, X0 + 3500, Y0 + 500)], crs=CRS_M)
    housing = gpd.GeoDataFrame({"id": ["H1", "H2"], "dwellings": [100, 100]},
                               geometry=[shapely.Point(X0 + 1000, Y0), shapely.Point(X0 + 2000, Y0)],
                               crs=CRS_M)
    emp = gpd.GeoDataFrame({"eid": [f"E{i}" for i in range(len(jobs_values))],
                            "jobs": pd.Series(jobs_values, dtype=object)},
                           geometry=[shapely.Point(X0 + 1200 + 10 * i, Y0 + 800)
                                     for i in range(len(jobs_values))], crs=CRS_M)
    gpkg = tmp_path / "s.gpkg"
    zones.to_file(gpkg, layer="zones")
    housing.to_file(gpkg, layer="housing")
    if raster is None:
        emp["jobs"] = emp["jobs"].astype(str)
        emp.to_file(gpkg, layer="employment")
        emp_cfg = {"path": "s.gpkg", "layer": "employment", "fields": {"employment_id": "eid"}}
    else:
        import rasterio
        from affine import Affine

        with rasterio.open(tmp_path / "jobs.tif", "w", driver="GTiff", height=raster.shape[0],
                           width=raster.shape[1], count=1, dtype="float32", crs="EPSG:4544",
                           transform=Affine(1000, 0, X0 - 1000, 0, -1000, Y0 + 2000),
                           nodata=-1) as dst:
            dst.write(raster.astype("float32"), 1)
            if unit is not None:
                dst.units = (unit,)
        emp_cfg = {"path": "jobs.tif"}
    cfg = {"layers": {"zones": {"path": "s.gpkg", "layer": "zones",
                                "fields": {"zone_id": "id", "district_id": "district"}},
                      "housing": {"path": "s.gpkg", "layer": "housing",
                                  "fields": {"housing_id": "id"}},
                      "employment": emp_cfg}}
    settings = settings_from_dict(cfg, base_dir=tmp_path)
    return settings, lambda: load_study(settings)


def test_employment_negative_and_non_numeric_jobs_name_the_rows(tmp_path):
    from geo._errors import InputError

    _, load = _write_study(tmp_path, ["10", "-5", "abc", "7"])
    with pytest.raises(InputError) as err:
        load()
    text = str(err.value)
    assert "employment" in text and "jobs" in text
    assert "E1" in text and "negative" in text
    assert "E2" in text and "not a number" in text


def test_employment_raster_is_read_as_jobs_per_cell(tmp_path):
    grid = np.array([[0, 100, 0, 0, 0], [50, 0, 0, 0, 0]], dtype=float)
    settings, load = _write_study(tmp_path, [], raster=grid)
    assert settings.layers.employment.is_raster
    study = load()
    assert study.employment is None and study.employment_raster is not None
    result = balance.run(study, settings)
    assert result.summary["employment_source"] == "employment raster"
    assert result.summary["employment_jobs"] == 150.0
    wp = result.tables["balance_workplaces"].set_index("workplace_id")
    # cell (row 0, col 1) has its centre at (X0 + 500, Y0 + 1500): 1000 m above Z1;
    # cell (row 1, col 0) at (X0 - 500, Y0 + 500): 500 m west of Z1's corner
    assert wp.loc["Z1", "area_jobs_3000"] == 100 + 200 + 150
    assert not any("band unit" in w for w in study.warnings)


def test_employment_raster_in_an_unknown_unit_says_what_is_assumed(tmp_path):
    grid = np.array([[0, 100, 0, 0, 0], [50, 0, 0, 0, 0]], dtype=float)
    _, load = _write_study(tmp_path, [], raster=grid, unit="jobs/km2")
    study = load()
    assert any("band unit 'jobs/km2'" in w and "jobs per cell" in w for w in study.warnings)


def test_employment_kind_and_raster_keys_are_checked():
    from geo._errors import ConfigError

    base = {"zones": {"path": "z.gpkg"}}
    s = settings_from_dict({"layers": {**base, "employment": {"path": "jobs.gpkg"}}}, base_dir=".")
    assert not s.layers.employment.is_raster
    s = settings_from_dict({"layers": {**base, "employment": {"path": "jobs.dat", "kind": "raster"}}},
                           base_dir=".")
    assert s.layers.employment.is_raster
    with pytest.raises(ConfigError, match="raster of jobs per cell takes only"):
        settings_from_dict({"layers": {**base, "employment": {"path": "j.tif",
                                                              "fields": {"jobs": "n"}}}}, base_dir=".")


# ---------------------------------------------------------------------------
# the balance map and the atlas (real run on the small sample, which has employment)


def test_balance_map_leads_with_the_area_measure_in_browser(browser, small_run):
    from geo.i18n import label
    from geo.styles import BALANCE_CLASS_COLORS

    settings, report = small_run
    out = report.output_dir
    wp = gpd.read_file(out / "qgis" / "zoneatlas.gpkg", layer="balance_workplaces")
    with browser.open(out / "balance.html") as run:
        page = run.page
        assert not run.page_errors and not run.blocked
        legend = page.locator(".za-legend").inner_text()
        assert label("note_area_jhr", "zh") in legend and label("note_jhr", "zh") in legend
        assert label("note_no_employment", "zh") not in legend      # the sample has employment
        # the balance radius layer (off by default) has its legend section in the page
        assert label("note_balance_radius", "zh") in page.content()
        fills = page.evaluate("""() => {
            const out = {};
            window.zoneatlas.overlays.workplaces.eachLayer(l => {
                out[l.feature.properties.workplace_id] = l.options.fillColor; });
            return out; }""")
        for wid, cls in zip(wp["workplace_id"], wp["area_class"]):
            assert fills[wid] == BALANCE_CLASS_COLORS[cls]
        n_radius = page.evaluate("() => window.zoneatlas.overlays.balance_radius.getLayers().length")
        assert n_radius == len(wp)
    index = (out / "index.html").read_text(encoding="utf-8")
    assert label("note_area_jhr", "zh") in index and label("balance_radius_m", "zh") in index


def test_without_employment_the_map_and_atlas_say_so(small_study_copy, tmp_path):
    import yaml

    from geo.i18n import label
    from geo.pipeline import run
    from geo.settings import load_settings

    cfg = yaml.safe_load(small_study_copy.read_text(encoding="utf-8"))
    del cfg["layers"]["employment"]
    small_study_copy.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    settings = load_settings(small_study_copy)
    out = tmp_path / "maps"
    run(settings, output_dir=out, only=["balance"])
    sentence = label("note_no_employment", "zh")
    assert sentence in (out / "balance.html").read_text(encoding="utf-8")
    assert sentence in (out / "index.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("seed", range(3))
def test_balance_radius_bounds_hold_every_point_by_brute_force(seed):
    """The cell bounds that spare most exact counts (cells split in rings around their
    centre, pairs binned by distance) enclose the exact sums at every step."""
    from geo.analysis._reach import PointIndex
    from geo.analysis.balance._area import _bounds
    rng = np.random.default_rng(seed)
    geoms = np.array([box(X0 + x, Y0 + y, X0 + x + w, Y0 + h + y)
                      for x, y, w, h in rng.uniform([0, 0, 50, 50], [6000, 6000, 900, 900], (6, 4))]
                     + [shapely.Polygon([(X0 + 100, Y0 + 7000), (X0 + 2500, Y0 + 7400), (X0 + 900, Y0 + 8600)])],
                     dtype=object)
    x = X0 + rng.uniform(-4000, 11000, 4000)
    y = Y0 + rng.uniform(-4000, 11000, 4000)
    wts = np.column_stack([rng.integers(0, 5, len(x)), rng.integers(0, 3, len(x))]).astype(float)
    steps = np.arange(1, 21) * 250.0
    w_lo, w_hi, e_lo, e_hi = _bounds(geoms, PointIndex.build(x, y, wts), steps, 1000.0)
    dist = shapely.distance(geoms[:, None], shapely.points(x, y)[None, :])
    for col, lo, hi in ((0, w_lo, w_hi), (1, e_lo, e_hi)):
        exact = np.stack([(wts[:, col] * (dist <= s)).sum(axis=1) for s in steps], axis=1)
        assert (lo <= exact + 1e-9).all() and (exact <= hi + 1e-9).all()
        # and they are bounds worth having: within a cell's reach of the exact sums
        wide = np.stack([(wts[:, col] * (np.abs(dist - s) <= 1000.0 * 0.71 + 100.0)).sum(axis=1) for s in steps], axis=1)
        assert (hi - lo <= wide + 1e-9).all() and (hi - lo < wide).any()
