"""The synthetic sample study: determinism, plausibility, files on disk, the bundled city."""

from __future__ import annotations

import itertools
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio
import shapely
import yaml

from geo.sample import (
    CHAINS,
    INNOVATION_ONLY_CHAINS,
    LANDUSE_NODATA,
    PERSONS_PER_DWELLING,
    POPULATION_NODATA,
    SCALES,
    SampleStudy,
    generate_study,
    render_config,
    sample_config,
    write_sample,
)
from geo.schema import ROLES
from geo.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]
VECTORS = ("districts", "zones", "innovation_districts", "housing", "firms", "employment", "roads")
ID_COLUMN = {"districts": "code", "zones": "id", "innovation_districts": "id", "housing": "id", "firms": "id",
             "employment": "id", "roads": "id"}


@pytest.fixture(scope="module")
def small() -> SampleStudy:
    return generate_study("small", seed=0)


@pytest.fixture(scope="module")
def city() -> SampleStudy:
    return generate_study("city", seed=0)


def _assert_same(a: SampleStudy, b: SampleStudy) -> None:
    for name in VECTORS:
        fa, fb = getattr(a, name), getattr(b, name)
        pd.testing.assert_frame_equal(fa.drop(columns="geometry"), fb.drop(columns="geometry"))
        assert shapely.equals_exact(fa.geometry.to_numpy(), fb.geometry.to_numpy(), tolerance=0).all()
        assert fa.crs == fb.crs
    np.testing.assert_array_equal(a.population, b.population)
    np.testing.assert_array_equal(a.landuse, b.landuse)
    assert a.transform == b.transform
    assert a.config == b.config


def _pairwise_overlap_m2(geoms: np.ndarray) -> float:
    """Brute force: total area of pairwise intersections."""
    total = 0.0
    for i, j in itertools.combinations(range(len(geoms)), 2):
        total += shapely.area(shapely.intersection(geoms[i], geoms[j]))
    return total


# ---------------------------------------------------------------------------
# determinism


def test_same_seed_gives_identical_study(small):
    _assert_same(small, generate_study("small", seed=0))


def test_different_seed_gives_different_study(small):
    other = generate_study("small", seed=1)
    assert not shapely.equals_exact(small.zones.geometry.to_numpy(),
                                    other.zones.geometry.to_numpy(), tolerance=1.0).all()
    assert not np.array_equal(small.housing.get_coordinates().to_numpy(),
                              other.housing.get_coordinates().to_numpy())
    assert small.population.shape != other.population.shape or not np.array_equal(small.population,
                                                                                    other.population)


def test_no_global_random_state_used(small):
    np.random.seed(123)
    before = np.random.random(3)
    np.random.seed(123)
    generate_study("small", seed=0)
    assert np.array_equal(np.random.random(3), before)


def test_rejects_unknown_scale_and_format(tmp_path):
    with pytest.raises(ValueError, match="scale must be one of"):
        generate_study("huge")
    with pytest.raises(ValueError, match="fmt must be"):
        write_sample(tmp_path, scale="small", fmt="shp")
    assert SCALES == ("small", "city", "metro")


# ---------------------------------------------------------------------------
# plausibility (small, several seeds)


@pytest.mark.parametrize("seed", [0, 1, 2, 7])
def test_small_study_is_plausible(seed):
    s = generate_study("small", seed=seed)
    assert len(s.districts) == 4
    assert len(s.zones) == 15 and s.zones["chain"].nunique() == 4
    assert len(s.innovation_districts) == 4
    assert len(s.housing) == 2000
    _check_plausible(s)


def _check_plausible(s: SampleStudy) -> None:
    # columns: exactly the user-facing names of the config's fields mapping
    for name in VECTORS:
        frame = getattr(s, name)
        mapped = set(s.config["layers"][name]["fields"].values())
        assert set(frame.columns) - {"geometry"} == mapped, name
        assert frame.crs.to_epsg() == 4544
        geoms = frame.geometry.to_numpy()
        assert shapely.is_valid(geoms).all() and not shapely.is_empty(geoms).any(), name
        assert frame[ID_COLUMN[name]].is_unique, name
    assert (s.zones.geom_type == "Polygon").all() and (s.housing.geom_type == "Point").all()

    # districts: a partition of the study area
    d = s.districts.geometry.to_numpy()
    assert _pairwise_overlap_m2(d) < 1.0
    assert shapely.union_all(d).area == pytest.approx(s.boundary.area, rel=1e-9)
    assert s.districts["code"].str.fullmatch(r"D\d{2,}").all()
    assert s.districts["name"].str.startswith("示例").all()

    # zones: inside the city, overlapping a district, not overlapping each other
    z = s.zones
    zg = z.geometry.to_numpy()
    overlap = np.array([[shapely.area(shapely.intersection(a, b)) for b in d] for a in zg])
    assert (overlap.max(axis=1) > 0).all()
    # the district field is the district of largest overlap (brute force)
    assert (z["district"].to_numpy() == s.districts["code"].to_numpy()[overlap.argmax(axis=1)]).all()
    assert shapely.within(zg, s.boundary.buffer(1e-6)).all()
    assert _pairwise_overlap_m2(zg) == 0.0
    area_km2 = z.area / 1e6
    assert area_km2.between(0.5 - 1e-9, 8 + 1e-9).all()
    assert z["id"].str.fullmatch(r"Z\d{3,}").all()
    assert z["name"].str.startswith("示例").all() and z["name"].str.contains("功能区").all()
    assert set(z["chain"]) <= set(CHAINS) and not set(z["chain"]) & set(INNOVATION_ONLY_CHAINS)
    assert set(z["role"]) <= set(ROLES)
    for col in ("jobs", "firms", "leader_firms", "rd_platforms"):
        assert z[col].dtype == np.int64 and (z[col] >= 0).all(), col
    assert (z["jobs"] > 0).all()
    assert z["output"].isna().sum() >= 1 and (z["output"].dropna() > 0).all()
    # output grows with jobs; a few dominant zones
    assert np.corrcoef(z["jobs"][z["output"].notna()], z["output"].dropna())[0, 1] > 0.5
    jobs = np.sort(z["jobs"].to_numpy())[::-1]
    top = max(1, round(0.2 * len(jobs)))
    assert jobs[:top].sum() > 0.4 * jobs.sum() and jobs[0] > 2 * np.median(jobs)
    spans = z.groupby("chain")["district"].nunique()
    assert spans.max() >= min(4, len(s.districts)) and spans.min() <= 2

    # innovation districts: ';'-separated known chains, some without any matching zone
    inn = s.innovation_districts
    ig = inn.geometry.to_numpy()
    assert _pairwise_overlap_m2(np.concatenate([zg, ig])) == 0.0
    lists = inn["chains"].str.split(";")
    assert all(set(c) <= set(CHAINS) for c in lists)
    zone_chains = set(z["chain"])
    assert any(not set(c) & zone_chains for c in lists)
    assert any(set(c) & zone_chains for c in lists)
    assert (inn["jobs"] > 0).all() and inn["jobs"].dtype == np.int64

    # housing: inside the city, not inside a zone, dwellings >= 1, denser at the centre
    h = s.housing
    hx, hy = h.geometry.x.to_numpy(), h.geometry.y.to_numpy()
    assert shapely.contains_xy(s.boundary, hx, hy).all()
    in_zone = np.zeros(len(h), dtype=bool)
    for g in zg:
        in_zone |= shapely.contains_xy(g, hx, hy)
    assert not in_zone.any()
    assert h["dwellings"].dtype == np.int64 and (h["dwellings"] >= 1).all()
    assert h["id"].str.fullmatch(r"H\d{6,}").all()
    centre = s.boundary.centroid
    radius = np.sqrt(s.boundary.area / np.pi)
    dist = np.hypot(hx - centre.x, hy - centre.y)
    inner = h["dwellings"][dist < 0.2 * radius].sum() / (np.pi * (0.2 * radius) ** 2)
    outer_ring = s.boundary.difference(centre.buffer(0.6 * radius)).area
    outer = h["dwellings"][dist >= 0.6 * radius].sum() / outer_ring
    assert inner > 5 * outer

    # rasters: aligned, population consistent with housing, landuse classes
    assert s.population.shape == s.landuse.shape
    assert s.population.dtype == np.float32 and s.landuse.dtype == np.uint8
    valid = s.population != POPULATION_NODATA
    assert (s.population[valid] >= 0).all()
    assert s.population[valid].sum(dtype=np.float64) == pytest.approx(
        h["dwellings"].sum() * PERSONS_PER_DWELLING, rel=1e-5)
    assert np.array_equal(valid, s.landuse != LANDUSE_NODATA)
    assert set(np.unique(s.landuse)) <= {0, 1, 2, 3, 4, 5, 6}
    # every housing point falls in a valid cell
    rows, cols = rasterio.transform.rowcol(s.transform, hx, hy)
    assert valid[np.asarray(rows), np.asarray(cols)].all()
    # zone interiors are industrial (or office for R&D zones)
    inner_pts = shapely.get_coordinates(shapely.point_on_surface(zg))
    rows, cols = rasterio.transform.rowcol(s.transform, inner_pts[:, 0], inner_pts[:, 1])
    assert np.isin(s.landuse[np.asarray(rows), np.asarray(cols)], [2, 3]).all()
    assert (s.landuse == 1).any() and (s.landuse == 6).any()


# ---------------------------------------------------------------------------
# files on disk


def test_write_sample_gpkg_roundtrip(tmp_path, small):
    config_path = write_sample(tmp_path, scale="small", seed=0)
    assert config_path == tmp_path / "config.yaml"
    layers = tmp_path / "layers"
    assert sorted(p.name for p in layers.iterdir()) == ["commuting.csv", "landuse.tif", "population.tif",
                                                       "sample.gpkg"]
    assert sorted(pyogrio.list_layers(layers / "sample.gpkg")[:, 0]) == sorted(VECTORS)

    settings = load_settings(config_path)
    for name in (*VECTORS, "population", "landuse"):
        assert getattr(settings.layers, name).path.is_file(), name
    assert settings.study.synthetic is True and settings.map.basemap == "none"
    assert settings.crs.working == "EPSG:4544" and settings.study.language == "zh"
    text = config_path.read_text(encoding="utf-8")
    assert yaml.safe_load(text) == small.config == sample_config("small", 0)

    for name in VECTORS:
        back = gpd.read_file(layers / "sample.gpkg", layer=name)
        mem = getattr(small, name)
        assert back.crs.to_epsg() == 4544
        pd.testing.assert_frame_equal(back.drop(columns="geometry"), mem.drop(columns="geometry"),
                                      check_dtype=False)
        assert shapely.equals_exact(back.geometry.to_numpy(), mem.geometry.to_numpy(), tolerance=0).all()
        meta = pyogrio.read_info(layers / "sample.gpkg", layer=name)["layer_metadata"]
        assert meta["SYNTHETIC"] == "yes" and "zoneatlas sample --scale small --seed 0" in meta["PROVENANCE"]
    # NULL output survives as missing, not 0
    back = gpd.read_file(layers / "sample.gpkg", layer="zones")
    assert back["output"].isna().sum() == small.zones["output"].isna().sum() >= 1

    for tif, arr, nodata in (("population.tif", small.population, POPULATION_NODATA),
                             ("landuse.tif", small.landuse, LANDUSE_NODATA)):
        with rasterio.open(layers / tif) as src:
            assert src.crs.to_epsg() == 4544
            assert src.transform == small.transform and src.nodata == nodata
            assert src.profile["compress"] == "deflate"
            assert src.tags()["SYNTHETIC"] == "yes"
            np.testing.assert_array_equal(src.read(1), arr)


def test_write_sample_is_byte_reproducible(tmp_path):
    a = write_sample(tmp_path / "a", scale="small", seed=3).parent
    b = write_sample(tmp_path / "b", scale="small", seed=3).parent
    for rel in ("config.yaml", "layers/sample.gpkg", "layers/population.tif", "layers/landuse.tif"):
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
    # rewriting in place replaces the files with the same content
    before = (a / "layers/sample.gpkg").read_bytes()
    write_sample(tmp_path / "a", scale="small", seed=3)
    assert (a / "layers/sample.gpkg").read_bytes() == before


def test_write_sample_parquet(tmp_path, small):
    config_path = write_sample(tmp_path, scale="small", seed=0, fmt="parquet")
    settings = load_settings(config_path)
    for name in VECTORS:
        layer = getattr(settings.layers, name)
        assert layer.path == (tmp_path / "layers" / f"{name}.parquet").resolve() and layer.path.is_file()
        assert layer.layer is None
        back = gpd.read_parquet(layer.path)
        mem = getattr(small, name)
        pd.testing.assert_frame_equal(back.drop(columns="geometry"), mem.drop(columns="geometry"),
                                      check_dtype=False)
        assert back.geom_equals_exact(mem.geometry, tolerance=0).all()
    assert not (tmp_path / "layers" / "sample.gpkg").exists()


def test_config_render_matches_mapping_for_every_scale():
    for scale in SCALES:
        for fmt in ("gpkg", "parquet"):
            config = sample_config(scale, 5, fmt)
            assert yaml.safe_load(render_config(config, scale=scale, seed=5)) == config
    assert sample_config("city", 0)["study"]["name"] == "Sample metropolitan region (synthetic data)"
    assert "seed 5" in sample_config("small", 5)["study"]["name"]


# ---------------------------------------------------------------------------
# the bundled city sample (committed under layers/)


def test_committed_layers_are_small():
    files = [ROOT / "layers" / n for n in ("sample.gpkg", "population.tif", "landuse.tif")]
    assert all(f.is_file() for f in files)
    assert sum(f.stat().st_size for f in files) < 10 * 1024 * 1024


def test_root_config_is_the_generated_one():
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    assert text == render_config(sample_config("city", 0), scale="city", seed=0)
    settings = load_settings(ROOT / "config.yaml")
    for name in (*VECTORS, "population", "landuse"):
        assert getattr(settings.layers, name).path.is_file(), name
    assert settings.study.synthetic and settings.map.basemap == "none"


def test_committed_city_equals_generator(city):
    gpkg = ROOT / "layers" / "sample.gpkg"
    for name in VECTORS:
        back = gpd.read_file(gpkg, layer=name)
        mem = getattr(city, name)
        # exact attributes; coordinates within a millimetre (floating point across machines)
        pd.testing.assert_frame_equal(back.drop(columns=["geometry", "dwellings"], errors="ignore"),
                                      mem.drop(columns=["geometry", "dwellings"], errors="ignore"),
                                      check_dtype=False, rtol=1e-9)
        assert shapely.equals_exact(back.geometry.to_numpy(), mem.geometry.to_numpy(), tolerance=1e-3).all()
    back = gpd.read_file(gpkg, layer="housing")
    assert np.abs(back["dwellings"].to_numpy() - city.housing["dwellings"].to_numpy()).max() <= 1
    with rasterio.open(ROOT / "layers" / "population.tif") as src:
        assert src.transform == city.transform and src.crs.to_epsg() == 4544
        np.testing.assert_allclose(src.read(1), city.population, atol=PERSONS_PER_DWELLING + 1e-3)
    with rasterio.open(ROOT / "layers" / "landuse.tif") as src:
        assert src.transform == city.transform
        assert (src.read(1) != city.landuse).mean() < 1e-3


def test_city_is_plausible(city):
    assert 10 <= len(city.districts) <= 14
    assert 50 <= len(city.zones) <= 70
    assert 10 <= len(city.innovation_districts) <= 14
    assert len(city.housing) == 30_000
    assert city.transform.a == 100 and city.transform.e == -100
    _check_plausible(city)
    z = city.zones
    counts = z["chain"].value_counts()
    assert set(counts.index) == set(list(CHAINS)[:8]) and (counts >= 2).all()
    # role pairs across districts exist: R&D + manufacturing and terminal + supporting
    for a, b in (("rd", "manufacturing"), ("terminal", "supporting")):
        found = False
        for _, g in z.groupby("chain"):
            da = set(g.loc[g["role"] == a, "district"])
            db = set(g.loc[g["role"] == b, "district"])
            found |= any(x != y for x in da for y in db)
        assert found, (a, b)
    # jobs-housing contrast: some zones with little housing within 5 km, some with plenty
    h = city.housing
    tree = shapely.STRtree(h.geometry.to_numpy())
    zi, hi = tree.query(z.geometry.to_numpy(), predicate="dwithin", distance=5000)
    workers = np.bincount(zi, weights=h["dwellings"].to_numpy()[hi] * 1.4, minlength=len(z))
    ratio = z["jobs"].to_numpy() / np.maximum(workers, 1)
    assert (ratio > 2).sum() >= 3 and (ratio < 0.5).sum() >= 3
    assert ((ratio >= 0.8) & (ratio <= 1.25)).sum() >= 2


@pytest.mark.slow
def test_metro_scale():
    s = generate_study("metro", seed=0)
    assert len(s.zones) == 2000 and len(s.housing) == 1_000_000
    assert 25 <= len(s.districts) <= 35 and 120 <= len(s.innovation_districts) <= 180
    assert s.zones["chain"].nunique() == 20 and s.zones["id"].is_unique and s.housing["id"].is_unique
    assert shapely.is_valid(s.zones.geometry.to_numpy()).all()
    assert (s.zones.area / 1e6).between(0.5 - 1e-9, 8 + 1e-9).all()
    assert s.population.dtype == np.float32 and s.transform.a == 100
    valid = s.population != POPULATION_NODATA
    assert s.population[valid].sum(dtype=np.float64) == pytest.approx(
        s.housing["dwellings"].sum() * PERSONS_PER_DWELLING, rel=1e-5)


def test_employment_layer_lies_outside_workplaces_and_leaves_other_layers_alone(small):
    emp = small.employment
    assert len(emp) == 600 and (emp["jobs"] >= 1).all()
    workplaces = np.concatenate([small.zones.geometry.to_numpy(),
                                 small.innovation_districts.geometry.to_numpy()])
    tree = shapely.STRtree(workplaces)
    assert not len(tree.query(emp.geometry.to_numpy(), predicate="intersects")[0])
    assert shapely.contains_xy(small.boundary, *shapely.get_coordinates(emp.geometry.to_numpy()).T).all()
    # about 0.35 jobs per resident worker (1.4 workers per dwelling)
    workers = small.housing["dwellings"].sum() * 1.4
    assert emp["jobs"].sum() == pytest.approx(0.35 * workers, rel=0.02)


def test_bundled_sample_shows_a_spread_of_area_classes():
    """The demo's area measure tells workplaces apart: no class holds 90 % of them, and
    the balance radius varies."""
    from geo.analysis import balance
    from geo.layers import load_study

    settings = load_settings(ROOT / "config.yaml")
    assert settings.layers.employment is not None
    study = load_study(settings)
    result = balance.run(study, settings)
    classes = result.summary["area_classes"]
    n = result.summary["workplaces"]
    assert max(classes.values()) < 0.9 * n
    assert sum(1 for c in ("jobs_rich", "balanced", "housing_rich") if classes[c] >= 5) == 3
    radius = result.tables["balance_workplaces"]["balance_radius_m"]
    assert radius.nunique() >= 10
    assert result.summary["employment_source"] == "employment points"
    assert not any("class" in w and "workplaces" in w for w in result.warnings)


def test_sample_od_flows_are_plausible(small):
    """Observed flows of the sample: most short, some across districts, a few long; each
    workplace's commuters about half its jobs; ends inside the study."""
    from pyproj import Transformer

    od = small.commuting
    assert list(od.columns) == ["home_lon", "home_lat", "work_lon", "work_lat", "commuters"]
    assert (od["commuters"] > 0).all() and od["commuters"].dtype.kind == "i"
    to = Transformer.from_crs("EPSG:4326", small.crs, always_xy=True)
    hx, hy = to.transform(od["home_lon"].to_numpy(), od["home_lat"].to_numpy())
    wx, wy = to.transform(od["work_lon"].to_numpy(), od["work_lat"].to_numpy())
    d = np.hypot(wx - hx, wy - hy)
    w = od["commuters"].to_numpy(float)
    within5 = w[d <= 5000].sum() / w.sum()
    assert 0.4 < within5 < 0.9
    assert w[d > 8000].sum() / w.sum() > 0.02          # a long tail (the small city is 18 km across)
    jobs = small.zones["jobs"].sum() + small.innovation_districts["jobs"].sum()
    assert w.sum() == pytest.approx(jobs * 0.5, rel=0.01)
    boundary = small.boundary
    assert shapely.contains_xy(boundary.buffer(1.0), hx, hy).all()
