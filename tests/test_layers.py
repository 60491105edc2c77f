"""Loading and validating layers: formats, encodings, CRSs, derivation, every problem."""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio
import shapely
from _layer_fixtures import (
    CRS,
    X0,
    Y0,
    box,
    checksums,
    districts_gdf,
    housing_gdf,
    innov_gdf,
    settings_for,
    write,
    write_study,
    zones_gdf,
)
from affine import Affine
from hypothesis import given, settings
from hypothesis import strategies as st

from geo._coords import transform_geometries, wgs84_to_bd09, wgs84_to_gcj02
from geo._errors import CRSError, InputError
from geo.layers import load_study, parse_counts, split_chains


def load(tmp_path: Path, config: dict):
    return load_study(settings_for(tmp_path, config))


def problems(tmp_path: Path, config: dict, error=InputError) -> list[str]:
    with pytest.raises(error) as info:
        load(tmp_path, config)
    return info.value.problems


def one(messages: list[str], *needles: str) -> str:
    """The single message that contains every needle."""
    hits = [m for m in messages if all(n in m for n in needles)]
    assert len(hits) == 1, f"{needles} not found exactly once in:\n" + "\n".join(messages)
    return hits[0]


@pytest.fixture
def study_config(tmp_path):
    return write_study(tmp_path)


# ---------------------------------------------------------------------------
# the happy path


def test_loads_canonical_frames(tmp_path, study_config):
    study = load(tmp_path, study_config)
    assert study.crs.to_epsg() == 4544
    z = study.zones
    assert list(z.columns) == ["zone_id", "name", "chain", "jobs", "district_id", "output",
                               "firms", "leader_firms", "rd_platforms", "role", "geometry"]
    assert isinstance(z.index, pd.RangeIndex)
    assert z["zone_id"].tolist() == ["Z1", "Z2", "Z3"]
    assert z["jobs"].dtype == "float64" and z["jobs"].tolist() == [12000.0, 8000.0, 3000.0]
    assert z["output"].tolist()[:2] == [50.5, 20.0] and np.isnan(z["output"].iloc[2])
    assert z["firms"].isna().all()                      # absent optional field: missing, not 0
    assert z["role"].tolist() == ["rd", "manufacturing", "terminal"]
    # Z2 is 2 km in D1 and 3 km in D2 -> D2
    assert z["district_id"].tolist() == ["D1", "D2", "D2"]
    assert study.innovation_districts["district_id"].tolist() == ["D1"]
    assert study.innovation_districts["chains"].tolist() == ["电子信息；生物医药"]
    assert study.districts["name"].tolist() == ["锦江区", "青羊区"]
    h = study.housing
    assert h["dwellings"].tolist() == [100.0, 250.0, 80.0, 400.0, 10.0]
    assert h["population"].isna().all()
    assert h.crs.equals(study.crs) and z.crs.equals(study.crs)
    # the only warning: Z2 lies 40 % in D1 (tests below check the straddling warning itself)
    assert len(study.warnings) == 1, study.warnings
    assert "id 'Z2': 60% in 'D2' (青羊区), 40% in 'D1' (锦江区)" in study.warnings[0]
    src = study.sources["zones"]
    assert src.aliases["zone_id"] == "id" and "district_id" not in src.aliases
    assert src.files == [tmp_path / "zones.gpkg"] and src.feature_count == 3


def test_working_crs_chosen_from_the_zones_when_not_configured(tmp_path, study_config):
    study_config.pop("crs")
    for name in ("districts", "zones", "innovation_districts", "housing"):  # data in lon/lat
        gdf = gpd.read_file(tmp_path / f"{name}.gpkg").to_crs(4326)
        write(gdf, tmp_path / f"{name}.gpkg")
    study = load(tmp_path, study_config)
    assert study.crs.to_epsg() == 4544  # CM 105E around Chengdu
    assert study.zones.geometry.area.round(0).tolist() == pytest.approx([2e6, 5e6, 2e6], rel=1e-3)


def test_zones_in_the_wrong_crs_are_named_not_the_layers_around_them(tmp_path, study_config):
    """Zones labelled with the next Gauss-Krüger zone (EPSG:4545, 3 degrees east) while
    districts, innovation districts and housing agree: the error names the zones' CRS."""
    z = gpd.read_file(tmp_path / "zones.gpkg")
    write(z.set_crs(4545, allow_override=True), tmp_path / "zones.gpkg")
    msgs = problems(tmp_path, study_config)
    m = one(msgs, "layers.zones", "far from every other layer")
    assert "layers.zones.crs" in m and "districts" in m and "housing" in m
    assert not [x for x in msgs if "far outside the study area of the zones" in x], msgs


def test_eastings_with_the_zone_number_name_the_crs_that_fits(tmp_path, study_config):
    """x = 35 5xx xxx (zone 35 in front) under EPSG:4544 (no zone number): EPSG:4523 fits,
    and reads the same places as the file without the zone number does under EPSG:4544."""
    z = gpd.read_file(tmp_path / "zones.gpkg")
    prefixed = gpd.GeoSeries(shapely.transform(z.geometry.values, lambda xy: xy + [35_000_000, 0]), crs=4544)
    write(z.set_geometry(prefixed), tmp_path / "zones.gpkg")
    m = one(problems(tmp_path, study_config), "layers.zones", "outside the area where EPSG:4544")
    assert "zone number" in m and "EPSG:4523" in m
    same = prefixed.set_crs(4523, allow_override=True).to_crs(4326).geom_equals_exact(z.geometry.to_crs(4326), 1e-7)
    assert same.all()


def test_slivers_are_named(tmp_path, study_config):
    """A valid rectangle 1e-7 m tall keeps its row (and its jobs), with a warning naming it."""
    z = gpd.read_file(tmp_path / "zones.gpkg")
    x0, y0, _, _ = z.geometry.iloc[1].bounds
    z.loc[1, "geometry"] = shapely.box(x0, y0, x0 + 1000, y0 + 1e-7)
    write(z, tmp_path / "zones.gpkg")
    study = load(tmp_path, study_config)
    assert len(study.zones) == 3
    one(study.warnings, "layers.zones", "1 polygons have an area under 1 m²", "Z2")


def test_working_crs_must_be_projected_metres(tmp_path, study_config):
    study_config["crs"] = {"working": "EPSG:4326"}
    msgs = problems(tmp_path, study_config, CRSError)
    one(msgs, "crs.working", "geographic")


@pytest.mark.parametrize("suffix", [".geojson", ".fgb", ".shp", ".parquet"])
def test_every_format_gives_the_same_frames(tmp_path, suffix):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    ref = load(tmp_path / "a", write_study(tmp_path / "a"))
    other = load(tmp_path / "b", write_study(tmp_path / "b", suffix=suffix))
    for name in ("districts", "zones", "innovation_districts", "housing"):
        a, b = getattr(ref, name), getattr(other, name)
        key = a.columns[0]
        b = b.sort_values(key, ignore_index=True)   # FlatGeobuf's spatial index reorders rows
        pd.testing.assert_frame_equal(pd.DataFrame(a.drop(columns="geometry")),
                                      pd.DataFrame(b.drop(columns="geometry")), check_dtype=False)
        assert shapely.equals(a.geometry.values, b.geometry.values).all()
    if suffix == ".shp":
        names = sorted(p.name for p in other.sources["zones"].files)
        assert names == ["zones.cpg", "zones.dbf", "zones.prj", "zones.shp", "zones.shx"]


def _gbk_zones(tmp_path: Path) -> Path:
    z = zones_gdf().rename(columns={"id": "编号", "name": "名称", "chain": "产业链", "jobs": "就业"})
    path = write(z[["编号", "名称", "产业链", "就业", "geometry"]], tmp_path / "zones.shp", encoding="gbk")
    (tmp_path / "zones.cpg").unlink()
    return path


def test_gbk_shapefile_without_cpg_with_chinese_columns(tmp_path, study_config):
    _gbk_zones(tmp_path)
    study_config["layers"]["zones"] = {
        "path": "zones.shp", "encoding": "gbk",
        "fields": {"zone_id": "编号", "name": "名称", "chain": "产业链", "jobs": "就业"},
    }
    study = load(tmp_path, study_config)
    assert study.zones["name"].tolist() == ["电子信息产业园", "生物医药园", "航空产业园"]
    assert study.zones["chain"].tolist() == ["电子信息", "生物医药", "电子信息"]
    assert study.sources["zones"].aliases["name"] == "名称"
    assert not any("encoding" in w for w in study.warnings)


def test_gbk_shapefile_without_cpg_or_encoding_is_detected_with_a_warning(tmp_path, study_config):
    _gbk_zones(tmp_path)
    study_config["layers"]["zones"] = {
        "path": "zones.shp",
        "fields": {"zone_id": "编号", "name": "名称", "chain": "产业链", "jobs": "就业"},
    }
    study = load(tmp_path, study_config)
    assert study.zones["name"].tolist()[0] == "电子信息产业园"
    one(study.warnings, "zones.shp", "encoding: gbk")


_GBK_FIELDS = {"zone_id": "编号", "name": "名称", "chain": "产业链", "jobs": "就业"}


@pytest.mark.parametrize(("cpg", "configured", "warned"), [
    ("GBK", None, False), ("936", None, False),            # as ArcGIS writes it: simply right
    ("UTF-8", "gbk", False),                                # a wrong .cpg, overridden by encoding:
    ("UTF-8", None, True),                                  # a wrong .cpg, detected from the names
])
def test_gbk_shapefile_with_chinese_field_names_and_a_cpg(tmp_path, study_config, cpg, configured, warned):
    _gbk_zones(tmp_path)
    (tmp_path / "zones.cpg").write_text(cpg, encoding="ascii")
    study_config["layers"]["zones"] = {"path": "zones.shp", "fields": _GBK_FIELDS,
                                       **({"encoding": configured} if configured else {})}
    study = load(tmp_path, study_config)
    assert study.zones["name"].tolist() == ["电子信息产业园", "生物医药园", "航空产业园"]
    assert study.zones["jobs"].tolist() == zones_gdf()["jobs"].tolist()
    said = [w for w in study.warnings if "field names read as GBK" in w]
    assert len(said) == int(warned), study.warnings
    if warned:
        assert "the .cpg says UTF-8" in said[0] and "encoding: gbk" in said[0]


def test_big5_shapefile_without_cpg_is_not_read_as_gbk(tmp_path, study_config):
    z = zones_gdf().rename(columns={"id": "編號", "name": "名稱", "chain": "產業鏈"})
    z["名稱"] = ["臺北電子資訊園區", "新竹生物醫藥園", "高雄航空產業園"]
    z["產業鏈"] = ["電子資訊", "生物醫藥", "電子資訊"]
    write(z[["編號", "名稱", "產業鏈", "jobs", "geometry"]], tmp_path / "zones.shp", encoding="big5")
    (tmp_path / "zones.cpg").unlink()
    study_config["layers"]["zones"] = {"path": "zones.shp",
                                       "fields": {"zone_id": "編號", "name": "名稱", "chain": "產業鏈"}}
    study = load(tmp_path, study_config)
    assert study.zones["name"].tolist() == ["臺北電子資訊園區", "新竹生物醫藥園", "高雄航空產業園"]
    one(study.warnings, "zones.shp", "read as big5")


@pytest.mark.parametrize(("written", "configured", "names"), [
    ("gbk", "big5", {"zone_id": "编号", "name": "名称", "chain": "产业链", "jobs": "就业"}),
    ("big5", "gbk", {"zone_id": "編號", "name": "名稱", "chain": "產業鏈", "jobs": "就業"}),
])
def test_a_wrong_encoding_setting_names_the_encoding_of_the_field_names(tmp_path, study_config, written,
                                                                         configured, names):
    """encoding: big5 on a GBK shapefile (or the reverse) turns every Chinese field name into
    other characters: one error naming the encoding they read in, not one "not found" per field."""
    z = zones_gdf().rename(columns={"id": names["zone_id"], "name": names["name"], "chain": names["chain"],
                                    "jobs": names["jobs"]})
    if written == "big5":    # text Big5 has (traditional characters)
        z[names["name"]] = ["臺北電子資訊園區", "新竹生物醫藥園", "高雄航空產業園"]
        z[names["chain"]] = ["電子資訊", "生物醫藥", "電子資訊"]
    write(z[[*names.values(), "geometry"]], tmp_path / "zones.shp", encoding=written)
    study_config["layers"]["zones"] = {"path": "zones.shp", "encoding": configured, "fields": names}
    msgs = problems(tmp_path, study_config)
    assert len(msgs) == 1, msgs
    # GBK read as Big5 gives other characters; Big5 read as GBK does not even decode
    said = f"read as {configured} (layers.zones.encoding)" if written == "gbk" else f"not {configured} text"
    one(msgs, "layers.zones", said, f"read as {written} they are '{names['zone_id']}'",
        f"set layers.zones.encoding: {written}")
    # and the hint is right: with it the layer reads
    study_config["layers"]["zones"]["encoding"] = written
    assert load(tmp_path, study_config).zones["name"].tolist() == z[names["name"]].tolist()


def test_encoding_utf8_on_gbk_field_names_reads_them_as_gbk(tmp_path, study_config):
    """As for values: encoding: utf-8 on GBK text reads it in the encoding it fits, with a warning."""
    z = zones_gdf().rename(columns={"id": "编号", "name": "名称", "chain": "产业链", "jobs": "就业"})
    write(z[[*_GBK_FIELDS.values(), "geometry"]], tmp_path / "zones.shp", encoding="gbk")
    study_config["layers"]["zones"] = {"path": "zones.shp", "encoding": "utf-8", "fields": _GBK_FIELDS}
    study = load(tmp_path, study_config)
    assert study.zones["name"].tolist() == ["电子信息产业园", "生物医药园", "航空产业园"]
    one(study.warnings, "layers.zones", "encoding is utf-8 but the field names are not UTF-8", "read as gbk")


def test_traditional_and_simplified_chain_names_are_one_chain(tmp_path, study_config):
    """生物醫藥 (traditional, one zone) and 生物医药 (simplified, a zone and the innovation
    district) are one chain: the most frequent spelling, with a warning naming the variant."""
    z = zones_gdf().assign(chain=["生物醫藥", "生物医药", "电子信息"])
    write(z, tmp_path / "zones_tw.gpkg")
    study_config["layers"]["zones"]["path"] = "zones_tw.gpkg"
    study = load(tmp_path, study_config)
    assert study.zones["chain"].tolist() == ["生物医药", "生物医药", "电子信息"]
    one(study.warnings, "chain names", "traditional/simplified", "'生物醫藥' (1) -> '生物医药'", "zones row Z1")


def _chains_of_zones(tmp_path, study_config, chains):
    write(zones_gdf().assign(chain=chains), tmp_path / "zones_tw.gpkg")
    study_config["layers"]["zones"]["path"] = "zones_tw.gpkg"
    return load(tmp_path, study_config)


def test_traditional_spellings_that_only_share_a_simplified_form_stay_apart(tmp_path, study_config):
    """OpenCC t2s is many-to-one: 乾 and 幹 both become 干. 乾燥設備 and 幹燥設備 are two
    different traditional names with one simplified form: they stay two chains, and one
    warning names both instead of a silent merge."""
    study = _chains_of_zones(tmp_path, study_config, ["乾燥設備", "幹燥設備", "电子信息"])
    assert study.zones["chain"].tolist() == ["乾燥設備", "幹燥設備", "电子信息"]
    assert not [w for w in study.warnings if "were merged" in w], study.warnings
    one(study.warnings, "chain names", "'乾燥設備' (1)", "'幹燥設備' (1)", "'干燥设备'", "kept as a chain of its own",
        "(in zones rows Z1, Z2)")


def test_the_simplified_form_of_two_traditional_names_is_not_merged_into_either(tmp_path, study_config):
    """With 干燥设备 as well, nothing says which of the two traditional names it stands for:
    the three spellings stay three chains."""
    study = _chains_of_zones(tmp_path, study_config, ["乾燥設備", "幹燥設備", "干燥设备"])
    assert study.zones["chain"].tolist() == ["乾燥設備", "幹燥設備", "干燥设备"]
    one(study.warnings, "chain names", "'乾燥設備' (1)", "'幹燥設備' (1)", "'干燥设备' (1)", "'乾燥設備' and '幹燥設備'")


def test_partly_traditional_spellings_of_one_name_are_still_merged(tmp_path, study_config):
    """生物醫藥, 生物醫药 and 生物医药 (the innovation district's) differ only where one of
    them has the simplified character: one chain, with the merge warning."""
    study = _chains_of_zones(tmp_path, study_config, ["生物醫藥", "生物醫药", "电子信息"])
    assert study.zones["chain"].tolist() == ["生物醫藥", "生物醫藥", "电子信息"]   # a tie: the first met
    assert study.innovation_districts["chains"].tolist() == ["电子信息;生物醫藥"]
    one(study.warnings, "chain names", "traditional/simplified", "'生物醫药' (1)", "'生物医药' (1)",
        "-> '生物醫藥'")
    assert not [w for w in study.warnings if "kept as a chain of its own" in w], study.warnings


def test_the_zones_spell_a_chain_not_the_firms(tmp_path, study_config):
    """80 firms in 生物醫藥 and 2 zones in 生物医药: the zones' spelling is the chain's (the
    firms are named "as in the zones' chain"), the firms are mapped onto it."""
    firms = gpd.GeoDataFrame({"id": [f"F{i}" for i in range(80)], "chain": ["生物醫藥"] * 80, "tier": ["骨干"] * 80},
                             geometry=shapely.points(np.full(80, X0 + 9000.0), np.full(80, Y0 + 5500.0)), crs=CRS)
    write(firms, tmp_path / "firms.gpkg")
    study_config["layers"]["firms"] = {"path": "firms.gpkg", "fields": {"firm_id": "id"}}
    study = load(tmp_path, study_config)
    assert study.zones["chain"].tolist() == ["电子信息", "生物医药", "电子信息"]
    assert set(study.firms["chain"]) == {"生物医药"}
    one(study.warnings, "chain names", "'生物醫藥' (80) -> '生物医药'", "firms")


def test_one_part_multipoint_firms_are_points(tmp_path, study_config):
    """Many exports write every point as a one-part MultiPoint: such firms are points; a
    MultiPoint of two firms' places is still refused."""
    pts = [shapely.multipoints([(X0 + 9000.0 + i, Y0 + 5500.0)]) for i in range(3)]
    firms = gpd.GeoDataFrame({"id": ["F1", "F2", "F3"], "chain": ["电子信息"] * 3, "tier": ["骨干"] * 3},
                             geometry=pts, crs=CRS)
    write(firms, tmp_path / "firms.gpkg")
    study_config["layers"]["firms"] = {"path": "firms.gpkg", "fields": {"firm_id": "id"}}
    study = load(tmp_path, study_config)
    assert shapely.get_type_id(study.firms.geometry.values).tolist() == [0, 0, 0]
    assert study.firms.geometry.x.tolist() == [X0 + 9000.0, X0 + 9001.0, X0 + 9002.0]
    firms.loc[1, "geometry"] = shapely.multipoints([(X0 + 9000.0, Y0), (X0 + 9100.0, Y0)])
    write(firms, tmp_path / "firms.gpkg")
    one(problems(tmp_path, study_config), "layers.firms", "MultiPoint", "row F2")


def test_chain_names_in_traditional_characters_throughout_are_kept(tmp_path, study_config):
    z = zones_gdf().assign(chain=["電子資訊", "生物醫藥", "電子資訊"])
    write(z, tmp_path / "zones_tw.gpkg")
    study_config["layers"]["zones"]["path"] = "zones_tw.gpkg"
    i = innov_gdf().assign(chains=["電子資訊；生物醫藥"])
    write(i, tmp_path / "innov_tw.gpkg")
    study_config["layers"]["innovation_districts"]["path"] = "innov_tw.gpkg"
    study = load(tmp_path, study_config)
    assert study.zones["chain"].tolist() == ["電子資訊", "生物醫藥", "電子資訊"]
    assert not [w for w in study.warnings if "chain names" in w], study.warnings


def test_windows_paths_in_the_config(tmp_path, study_config):
    """A config written on Windows: relative paths with backslashes read; a drive path is
    said to be one (it used to be 'did you mean ...' a folder)."""
    (tmp_path / "layers").mkdir()
    (tmp_path / "zones.gpkg").rename(tmp_path / "layers" / "zones.gpkg")
    study_config["layers"]["zones"]["path"] = "layers\\zones.gpkg"
    assert len(load(tmp_path, study_config).zones) == 3
    for windows in ("D:\\规划数据\\zones.gpkg", "D:/规划数据/zones.gpkg", "\\\\server\\share\\zones.gpkg"):
        study_config["layers"]["zones"]["path"] = windows
        one(problems(tmp_path, study_config), "layers.zones", "file not found", "Windows drive or network path")


def test_short_gbk_values_without_cpg_still_read_as_gbk(tmp_path, study_config):
    """"A1地块" reads as common characters in GBK and in Big5 alike: no clear winner, and
    GBK (Chinese text throughout) as before rather than a refusal."""
    z = zones_gdf().assign(name=["A1地块", "B2地块", "C3地块"])
    write(z, tmp_path / "zones.shp", encoding="gbk")
    (tmp_path / "zones.cpg").unlink()
    study_config["layers"]["zones"] = {"path": "zones.shp", "fields": {"zone_id": "id"}}
    study = load(tmp_path, study_config)
    assert study.zones["name"].tolist() == ["A1地块", "B2地块", "C3地块"]


def test_a_declared_gbk_field_name_that_looks_like_cut_utf8_is_read(tmp_path, study_config):
    """黔岷 in GBK (c7ad e1ba) is valid UTF-8 but for an unfinished last character: with a
    .cpg saying GBK it is GBK, not a cut UTF-8 name."""
    z = zones_gdf().rename(columns={"name": "黔岷"})
    write(z, tmp_path / "zones.shp", encoding="gbk")
    (tmp_path / "zones.cpg").write_text("GBK", encoding="ascii")
    study_config["layers"]["zones"] = {"path": "zones.shp", "fields": {"zone_id": "id", "name": "黔岷"}}
    assert load(tmp_path, study_config).zones["name"].tolist() == zones_gdf()["name"].tolist()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")   # GDAL's own note
def test_utf8_field_names_cut_inside_a_character_are_one_clear_error(tmp_path, study_config):
    import pyogrio

    z = zones_gdf().rename(columns={"id": "功能区编号"})[["功能区编号", "geometry"]]
    pyogrio.write_dataframe(z, tmp_path / "zones.shp", encoding="utf-8")   # GDAL keeps 10 bytes
    study_config["layers"]["zones"] = {"path": "zones.shp", "fields": {"zone_id": "功能区编号"}}
    m = one(problems(tmp_path, study_config), "zones.shp", "cut inside a character")
    assert "功能区…" in m and "GeoPackage" in m


def test_multilayer_file(tmp_path, study_config):
    path = tmp_path / "all.gpkg"
    write(zones_gdf(), path, layer="zones")
    write(districts_gdf(), path, layer="districts")
    write(housing_gdf(), path, layer="housing_points")
    study_config["layers"]["zones"]["path"] = "all.gpkg"       # picks the layer 'zones'
    study_config["layers"]["districts"] = {"path": "all.gpkg", "layer": "districts",
                                           "fields": {"district_id": "code"}}
    study = load(tmp_path, study_config)
    assert study.zones["zone_id"].tolist() == ["Z1", "Z2", "Z3"]
    assert study.sources["zones"].layer == "zones"

    study_config["layers"]["housing"]["path"] = "all.gpkg"     # no layer named 'housing'
    study_config["layers"]["innovation_districts"] = {"path": "all.gpkg", "layer": "innov"}
    msgs = problems(tmp_path, study_config)
    m = one(msgs, "layers.housing", "several layers")
    assert "'housing_points'" in m and "layers.housing.layer" in m
    m = one(msgs, "layers.innovation_districts", "layer 'innov' not found")
    assert "'zones', 'districts', 'housing_points'" in m or all(n in m for n in ("'zones'", "'districts'"))


# ---------------------------------------------------------------------------
# coordinates, CRS


def test_gcj02_layer_is_converted_to_wgs84(tmp_path, study_config):
    truth = zones_gdf().to_crs(4326)
    shifted = truth.copy()
    shifted.geometry = transform_geometries(truth.geometry.values, wgs84_to_gcj02)
    write(shifted, tmp_path / "zones_amap.geojson")
    study_config["layers"]["zones"] = {"path": "zones_amap.geojson", "coordinates": "gcj02",
                                       "fields": {"zone_id": "id"}}
    study = load(tmp_path, study_config)
    got = shapely.get_coordinates(study.zones.geometry.values)
    want = shapely.get_coordinates(zones_gdf().geometry.values)
    assert np.abs(got - want).max() < 1.0   # metres, after GCJ-02 -> WGS84 -> EPSG:4544
    # without the setting the layer would be off by hundreds of metres
    study_config["layers"]["zones"].pop("coordinates")
    raw = shapely.get_coordinates(load(tmp_path, study_config).zones.geometry.values)
    assert np.hypot(*(raw - want).T).min() > 100


def test_bd09_layer_is_converted(tmp_path, study_config):
    truth = housing_gdf().to_crs(4326)
    shifted = truth.copy()
    shifted.geometry = transform_geometries(truth.geometry.values, wgs84_to_bd09)
    write(shifted, tmp_path / "housing_baidu.gpkg")
    study_config["layers"]["housing"] = {"path": "housing_baidu.gpkg", "coordinates": "bd09",
                                         "fields": {"housing_id": "id"}}
    got = shapely.get_coordinates(load(tmp_path, study_config).housing.geometry.values)
    assert np.abs(got - shapely.get_coordinates(housing_gdf().geometry.values)).max() < 1.0


def test_gcj02_needs_lon_lat_data(tmp_path, study_config):
    study_config["layers"]["zones"]["coordinates"] = "gcj02"
    one(problems(tmp_path, study_config, CRSError), "layers.zones", "coordinates: gcj02", "EPSG:4544")


def test_layer_without_crs(tmp_path, study_config):
    write(zones_gdf(), tmp_path / "zones.shp")
    (tmp_path / "zones.prj").unlink()
    study_config["layers"]["zones"] = {"path": "zones.shp", "fields": {"zone_id": "id"}}
    m = one(problems(tmp_path, study_config, CRSError), "zones.shp", "no CRS")
    assert "layers.zones.crs" in m
    study_config["layers"]["zones"]["crs"] = CRS
    assert load(tmp_path, study_config).zones["district_id"].tolist() == ["D1", "D2", "D2"]


def test_configured_crs_does_not_override_the_files(tmp_path, study_config):
    study_config["layers"]["zones"]["crs"] = "EPSG:4326"
    study = load(tmp_path, study_config)
    assert study.zones.total_bounds[0] == pytest.approx(X0 + 1000)
    one(study.warnings, "layers.zones", "ignored")


def test_projected_geojson_without_crs_member_needs_and_accepts_config_crs(tmp_path, study_config):
    feats = ",".join(
        f'{{"type":"Feature","properties":{{"id":"{i}","dwellings":{d}}},'
        f'"geometry":{{"type":"Point","coordinates":[{p.x},{p.y}]}}}}'
        for i, d, p in zip(housing_gdf()["id"], housing_gdf()["dwellings"], housing_gdf().geometry))
    (tmp_path / "housing.geojson").write_text(f'{{"type":"FeatureCollection","features":[{feats}]}}')
    study_config["layers"]["housing"] = {"path": "housing.geojson", "fields": {"housing_id": "id"}}
    m = one(problems(tmp_path, study_config), "layers.housing", "outside the valid longitude/latitude")
    assert "layers.housing.crs" in m
    study_config["layers"]["housing"]["crs"] = CRS
    study = load(tmp_path, study_config)
    np.testing.assert_allclose(shapely.get_coordinates(study.housing.geometry.values),
                               shapely.get_coordinates(housing_gdf().geometry.values))


def test_lat_lon_swapped(tmp_path, study_config):
    h = housing_gdf().to_crs(4326)
    xy = shapely.get_coordinates(h.geometry.values)
    xy[[1, 3]] = xy[[1, 3]][:, ::-1]
    h.geometry = shapely.points(xy)
    write(h, tmp_path / "housing.gpkg")
    m = one(problems(tmp_path, study_config), "layers.housing", "outside the valid longitude/latitude")
    assert "rows H2, H4" in m and "swapped" in m


def test_whole_layer_swapped_in_valid_range_is_far_from_the_study_area(tmp_path, study_config):
    h = housing_gdf().to_crs(4326)
    xy = shapely.get_coordinates(h.geometry.values)
    h.geometry = shapely.points(xy[:, ::-1] * [1, 0.5])   # (lat, lon/2): valid numbers, wrong place
    write(h, tmp_path / "housing.gpkg")
    one(problems(tmp_path, study_config), "layers.housing", "far outside the study area")


def test_degrees_in_a_projected_crs(tmp_path, study_config):
    z = zones_gdf().to_crs(4326).set_crs(CRS, allow_override=True)
    write(z, tmp_path / "zones.gpkg")
    m = one(problems(tmp_path, study_config), "layers.zones", "outside the area where EPSG:4544")
    assert "look like degrees" in m


def test_nan_and_null_island_coordinates(tmp_path, study_config):
    h = housing_gdf().to_crs(4326)
    geoms = h.geometry.values.to_numpy().copy()
    geoms[1] = shapely.Point(104.0, np.inf)
    geoms[2] = shapely.Point(0.0, 0.0)
    h.geometry = geoms
    write(h, tmp_path / "housing.fgb")
    study_config["layers"]["housing"]["path"] = "housing.fgb"
    msgs = problems(tmp_path, study_config)
    assert "row H2" in one(msgs, "layers.housing", "NaN or infinite")
    assert "row H3" in one(msgs, "layers.housing", "latitude 0")


# ---------------------------------------------------------------------------
# districts


def test_zone_outside_every_district_and_unknown_district_ids(tmp_path, study_config):
    z = zones_gdf()
    z["district"] = ["D1", "D9", "D2"]
    z.loc[2, "geometry"] = box(X0 + 30_000, Y0, X0 + 31_000, Y0 + 1000)
    write(z, tmp_path / "zones.gpkg")
    study_config["layers"]["zones"]["fields"]["district_id"] = "district"
    msgs = problems(tmp_path, study_config)
    assert "row Z3" in one(msgs, "layers.zones", "outside every district")
    m = one(msgs, "layers.zones", "field 'district_id' (column 'district')", "not in the districts layer")
    assert "'D9'" in m and "row Z2" in m


def test_given_district_ids_are_kept_and_missing_ones_filled(tmp_path, study_config):
    z = zones_gdf()
    z["district"] = ["D1", None, "D1"]   # Z3 lies in D2 but says D1: kept, with a warning
    write(z, tmp_path / "zones.gpkg")
    study_config["layers"]["zones"]["fields"]["district_id"] = "district"
    study = load(tmp_path, study_config)
    assert study.zones["district_id"].tolist() == ["D1", "D2", "D1"]
    assert "row Z2" in one(study.warnings, "filled from the district of largest overlap")
    assert "row Z3" in one(study.warnings, "another district")


def test_a_zone_split_in_half_goes_to_the_district_listed_first():
    from geo.layers import largest_overlap

    # a zone halved by a border: GEOS measures the halves 183,223.87499999284 and
    # 183,223.87500001074 m²; equal overlaps (within a billionth) go to the district listed
    # first, in either order, not to whichever half rounded larger
    x0, y0, w, h = 480135.7, 4388972.8, 1191.7, 307.5
    mid = x0 + w / 2
    zone = shapely.box(x0, y0, x0 + w, y0 + h)
    west = shapely.box(x0 - 1000, y0 - 1000, mid, y0 + h + 1000)
    east = shapely.box(mid, y0 - 1000, x0 + w + 1000, y0 + h + 1000)
    assert shapely.intersection(zone, west).area < shapely.intersection(zone, east).area   # the premise
    zones = np.array([zone, shapely.box(x0, y0, mid - 1.0, y0 + h)], dtype=object)
    for first, second in ((0, 1), (1, 0)):
        best, area = largest_overlap(zones, np.array([[west, east][first], [west, east][second]], dtype=object))
        assert best[0] == 0 and area[0] == pytest.approx(w * h / 2)
        assert best[1] == (0 if first == 0 else 1)       # clearly mostly in the west: no tie


def _quadrant_districts() -> gpd.GeoDataFrame:
    """Four 10 km districts around (X0 + 10 km, Y0 + 10 km): D1 lower left, D2 lower right,
    D3 upper left, D4 upper right."""
    return gpd.GeoDataFrame(
        {"code": ["D1", "D2", "D3", "D4"], "name": ["锦江区", "青羊区", "金牛区", "武侯区"]},
        geometry=[box(X0 + x, Y0 + y, X0 + x + 10_000, Y0 + y + 10_000)
                  for x, y in ((0, 0), (10_000, 0), (0, 10_000), (10_000, 10_000))],
        crs=CRS)


def _strip(x0: float, x1: float, y0: float) -> shapely.Polygon:
    """A strip 1 km tall, x and y in metres from (X0, Y0)."""
    return box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y0 + 1000)


def _straddling_zones(geoms: dict[str, shapely.Geometry]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"id": list(geoms), "name": [f"园区{k}" for k in geoms],
                             "chain": "电子信息", "jobs": 1000}, geometry=list(geoms.values()), crs=CRS)


def _straddle_warnings(warnings: list[str]) -> list[str]:
    return [w for w in warnings if "substantially in more than one district" in w]


def test_zones_straddling_districts_are_named_with_their_shares(tmp_path, study_config):
    # a zone 2 km² in D1 and 1 km² in each of D2, D3, D4: 40/20/20/20, no other district a quarter
    corner = shapely.union_all([box(X0 + 8000, Y0 + 9000, X0 + 11_000, Y0 + 10_000),
                                box(X0 + 8000, Y0 + 10_000, X0 + 9000, Y0 + 11_000),
                                box(X0 + 10_000, Y0 + 10_000, X0 + 11_000, Y0 + 11_000)])
    zones = _straddling_zones({
        "S1": _strip(1000, 3000, 1000),        # inside D1
        "S60": _strip(7000, 12_000, 1000),     # 3 km in D1, 2 km in D2: 60/40
        "S97": _strip(9030, 10_030, 3000),     # 30 m over the border: a sliver, 97/3
        "S75": _strip(9250, 10_250, 5000),     # 75/25: a quarter in D2 is enough
        "S76": _strip(9240, 10_240, 7000),     # 76/24: not quite
        "SQ": corner,
        "SOUT": _strip(-1000, 1000, 5000),     # half outside every district, the rest in D1
    })
    write(zones, tmp_path / "zones.gpkg")
    write(_quadrant_districts(), tmp_path / "districts.gpkg")
    study = load(tmp_path, study_config)
    assert study.zones["district_id"].tolist() == ["D1"] * 7
    [w] = _straddle_warnings(study.warnings)
    assert w.startswith("layers.zones (zones.gpkg), field 'district_id': 3 features lie substantially "
                        "in more than one district (a quarter or more of their area in one other "
                        "district, or less than half in their own): "), w
    # the most split first, each with its own district first
    assert ("id 'SQ': 40% in 'D1' (锦江区), 20% in 'D2' (青羊区), 20% in 'D3' (金牛区), 20% in 'D4' (武侯区); "
            "id 'S60': 60% in 'D1' (锦江区), 40% in 'D2' (青羊区); "
            "id 'S75': 75% in 'D1' (锦江区), 25% in 'D2' (青羊区); ") in w, w
    assert ("the cross-district collaboration, the chain location quotients and the district totals "
            "count each in one district only (the district of largest overlap); split such a polygon "
            "at the district boundaries so that each part counts in its own district, or map a "
            "district_id column (layers.zones.fields.district_id) if one district is meant") in w, w
    for quiet in ("S1", "S97", "S76", "SOUT"):
        assert f"'{quiet}'" not in w and not [m for m in study.warnings if quiet in m]


def test_given_district_ids_of_straddling_zones(tmp_path, study_config):
    zones = _straddling_zones({
        "G60": _strip(7000, 12_000, 1000),     # says D1, 60 % there
        "G30": _strip(6500, 11_500, 3000),     # says D2, 30 % there: the district_id looks wrong
        "G50": _strip(9000, 11_000, 5000),     # says D2, 50/50 (D1, listed first, is its largest overlap)
        "G97": _strip(9030, 10_030, 7000),     # says D1, 97 % there
        "GF": _strip(7000, 12_000, 9000),      # no district_id: filled with D1, 60 % there
    })
    zones["district"] = ["D1", "D2", "D2", "D1", None]
    write(zones, tmp_path / "zones.gpkg")
    study_config["layers"]["zones"]["fields"]["district_id"] = "district"
    study = load(tmp_path, study_config)
    assert study.zones["district_id"].tolist() == ["D1", "D2", "D2", "D1", "D1"]
    # a given district holding less than half, with another holding more: the warning there was
    mostly = one(study.warnings, "lie mostly in another district than their district_id says")
    assert "(row G30)" in mostly and "G50" not in mostly        # an equal overlap is no sign of a wrong id
    assert "(row GF)" in one(study.warnings, "filled from the district of largest overlap")
    [w] = _straddle_warnings(study.warnings)
    assert w.startswith("layers.zones (zones.gpkg), field 'district_id' (column 'district'): 3 features "
                        "lie substantially in more than one district"), w
    assert ("id 'G50': 50% in 'D2' (青羊区), 50% in 'D1' (锦江区); "
            "id 'G60': 60% in 'D1' (锦江区), 40% in 'D2' (青羊区); "
            "id 'GF': 60% in 'D1' (锦江区), 40% in 'D2' (青羊区); ") in w, w
    assert ("count each in one district only (the district its district_id gives, or where that was "
            "empty the district of largest overlap); split such a polygon at the district boundaries "
            "so that each part counts in its own district, or keep it if its district_id is the "
            "district meant") in w, w
    assert "G30" not in w and "G97" not in w


def test_straddling_innovation_districts_through_the_cli(tmp_path, study_config):
    """``zoneatlas validate``: exit 0, one warning line for the layer, five examples and the count."""
    import yaml

    from tests.conftest import run_cli

    own = {"I1": ("D1", 0.70), "I2": ("D2", 0.65), "I3": ("D1", 0.60), "I4": ("D2", 0.55),
           "I5": ("D1", 0.72), "I6": ("D1", 0.74), "I7": ("D2", 0.51), "I8": ("D1", 0.97)}
    geoms = {}
    for k, (key, (district, p)) in enumerate(own.items()):
        west = p if district == "D1" else 1 - p            # share west of the D1 / D2 border
        geoms[key] = _strip(10_000 - 1000 * west, 11_000 - 1000 * west, 500 + 1100 * k)
    geoms["I9"] = box(X0 + 4000, Y0 + 4000, X0 + 5000, Y0 + 5000)      # inside D1
    innov = gpd.GeoDataFrame({"id": list(geoms), "name": list(geoms), "chains": "电子信息", "jobs": 100,
                              "district": [d for d, _ in own.values()] + ["D1"]},
                             geometry=list(geoms.values()), crs=CRS)
    write(innov, tmp_path / "innovation_districts.gpkg")
    study_config["layers"]["innovation_districts"]["fields"]["district_id"] = "district"
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(study_config, allow_unicode=True), encoding="utf-8")
    proc = run_cli("validate", "-c", config)
    assert proc.returncode == 0 and proc.stdout.startswith("ok: "), proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if "layers.innovation_districts" in ln]
    assert len(lines) == 1, proc.stderr
    [w] = lines
    assert w.startswith("warning: layers.innovation_districts (innovation_districts.gpkg), field "
                        "'district_id' (column 'district'): 7 features lie substantially in more "
                        "than one district"), w
    assert ("id 'I7': 51% in 'D2' (青羊区), 49% in 'D1' (锦江区); id 'I4': 55% in 'D2' (青羊区), 45% in "
            "'D1' (锦江区); id 'I3': 60% in 'D1' (锦江区), 40% in 'D2' (青羊区); id 'I2': 65% in 'D2' "
            "(青羊区), 35% in 'D1' (锦江区); id 'I1': 70% in 'D1' (锦江区), 30% in 'D2' (青羊区) (+2 more); "
            "the district totals of the balance analysis count each in one district only (the district "
            "its district_id gives)") in w, w
    assert not [k for k in ("I5", "I6", "I8", "I9") if f"'{k}'" in w]   # I5, I6 counted, not shown


def test_no_districts_and_no_district_id(tmp_path, study_config):
    del study_config["layers"]["districts"]
    msgs = problems(tmp_path, study_config)
    one(msgs, "layers.zones", "district_id missing and no districts layer configured")
    assert not [m for m in msgs if "layers.innovation_districts" in m]


def test_innovation_districts_need_no_district_id(tmp_path, study_config):
    """district_id is optional for innovation districts: a warning, not an error."""
    del study_config["layers"]["districts"]
    z = zones_gdf()
    z["district_id"] = ["1", "2", "2"]
    write(z, tmp_path / "zones.gpkg")
    study = load(tmp_path, study_config)
    assert study.innovation_districts["district_id"].isna().all()
    assert any("innovation_districts" in w and "district totals" in w for w in study.warnings)


def test_zones_with_district_ids_need_no_districts_layer(tmp_path, study_config):
    del study_config["layers"]["districts"]
    study_config["layers"]["innovation_districts"]["fields"]["district_id"] = "name"
    z = zones_gdf()
    z["district_id"] = [1.0, 2.0, 2.0]          # numeric codes come out as '1', not '1.0'
    write(z, tmp_path / "zones.gpkg")
    study = load(tmp_path, study_config)
    assert study.zones["district_id"].tolist() == ["1", "2", "2"]
    assert study.districts is None


# ---------------------------------------------------------------------------
# problems, each with file / layer / field / rows


def test_missing_file_and_zero_byte_file(tmp_path, study_config):
    study_config["layers"]["housing"]["path"] = "housng.gpkg"
    (tmp_path / "empty.gpkg").write_bytes(b"")
    study_config["layers"]["districts"]["path"] = "empty.gpkg"
    msgs = problems(tmp_path, study_config)
    m = one(msgs, "layers.housing", "housng.gpkg", "file not found")
    assert "did you mean 'housing.gpkg'" in m
    one(msgs, "layers.districts", "empty.gpkg", "0 bytes")
    # a config beside the layers is never suggested as a layer
    (tmp_path / "zonesx.yaml").write_text("layers: {}\n", encoding="utf-8")
    study_config["layers"]["zones"]["path"] = "zonesx.gpkg"
    m = one(problems(tmp_path, study_config), "layers.zones", "zonesx.gpkg", "file not found")
    assert "zonesx.yaml" not in m and "did you mean 'zones.gpkg'" in m, m


def test_unreadable_file(tmp_path, study_config):
    (tmp_path / "zones.gpkg").write_text("this is not a geopackage\n")
    one(problems(tmp_path, study_config), "layers.zones", "cannot read the file")


def test_non_spatial_tables(tmp_path, study_config):
    table = pd.DataFrame(zones_gdf().drop(columns="geometry"))
    pyogrio.write_dataframe(table, tmp_path / "table.gpkg", layer="zones")
    table.to_parquet(tmp_path / "table.parquet")
    study_config["layers"]["zones"]["path"] = "table.gpkg"
    study_config["layers"]["districts"]["path"] = "table.parquet"
    msgs = problems(tmp_path, study_config)
    one(msgs, "layers.zones", "table without geometry")
    one(msgs, "layers.districts", "table.parquet", "without GeoParquet geometry")


def test_empty_layers(tmp_path, study_config):
    write(zones_gdf().iloc[:0], tmp_path / "zones.gpkg", geometry_type="Polygon")
    (tmp_path / "empty.geojson").write_text('{"type": "FeatureCollection", "features": []}')
    study_config["layers"]["housing"]["path"] = "empty.geojson"
    msgs = problems(tmp_path, study_config)
    one(msgs, "layers.zones", "no features")
    one(msgs, "layers.housing", "empty.geojson", "no features")
    assert len(msgs) == 2


def test_missing_fields_suggest_the_closest_column(tmp_path, study_config):
    write(zones_gdf().rename(columns={"jobs": "jobz"}), tmp_path / "zones.gpkg")
    study_config["layers"]["housing"]["fields"]["dwellings"] = "units"
    msgs = problems(tmp_path, study_config)
    m = one(msgs, "layers.zones", "field 'jobs'", "required field not found")
    assert "did you mean 'jobz'" in m and "'chain'" in m       # lists the columns that exist
    m = one(msgs, "layers.housing", "field 'dwellings'", "column 'units'", "not found")
    assert "'id'" in m


def test_housing_needs_dwellings_or_population(tmp_path, study_config):
    write(housing_gdf().drop(columns="dwellings"), tmp_path / "housing.gpkg")
    one(problems(tmp_path, study_config), "layers.housing", "dwellings, population")


def test_wrong_and_mixed_geometry_types(tmp_path, study_config):
    z = zones_gdf()
    z.loc[1, "geometry"] = shapely.LineString([(X0, Y0), (X0 + 10, Y0 + 10)])
    write(z, tmp_path / "zones.gpkg")
    d = districts_gdf()
    d.geometry = d.geometry.centroid
    write(d, tmp_path / "districts.gpkg")
    h = housing_gdf()
    h.loc[0, "geometry"] = box(X0, Y0, X0 + 50, Y0 + 50)
    write(h, tmp_path / "housing.gpkg")
    msgs = problems(tmp_path, study_config)
    m = one(msgs, "layers.zones", "mixed geometry types")
    assert "LineString in row Z2" in m
    m = one(msgs, "layers.districts", "wrong geometry type")
    assert "Point in rows D1, D2" in m
    one(msgs, "layers.housing", "mixed geometry types", "1 polygons")


def test_geopackage_features_are_named_by_fid_after_deletions(tmp_path, study_config):
    """Features deleted from a GeoPackage leave gaps in its fids (1, 3, 4, 5): messages name
    the features by the fid QGIS shows, not by their position in the layer."""
    import sqlite3

    z = pd.concat([zones_gdf(), zones_gdf().iloc[[0]]], ignore_index=True)   # 4 zones
    z["id"] = ["Z1", "Z2", "Z1", None]
    z = pd.concat([z.iloc[[0]], z], ignore_index=True)        # fid 2 is deleted below
    write(z, tmp_path / "zones.gpkg", layer="zones")
    with sqlite3.connect(tmp_path / "zones.gpkg") as con:
        con.execute("DELETE FROM zones WHERE fid = 2")
    msgs = problems(tmp_path, study_config)
    assert "'Z1' in fids 1, 4" in one(msgs, "layers.zones", "field 'zone_id'", "duplicate ids")
    assert "fid 5" in one(msgs, "layers.zones", "missing ids")


def test_duplicate_and_missing_ids(tmp_path, study_config):
    z = zones_gdf()
    z["id"] = ["Z1", "Z1 ", None]
    write(z, tmp_path / "zones.gpkg")
    msgs = problems(tmp_path, study_config)
    m = one(msgs, "layers.zones", "field 'zone_id'", "duplicate ids")
    assert "'Z1' in fids 1, 2" in m
    assert "fid 3" in one(msgs, "layers.zones", "missing ids")


def test_bad_counts_are_reported_with_row_ids(tmp_path, study_config):
    z = zones_gdf()
    z["jobs"] = ["12000", "many", None]
    z["output"] = [-5.0, 20.0, np.nan]
    write(z, tmp_path / "zones.gpkg")
    h = housing_gdf()
    h["dwellings"] = h["dwellings"].astype(float)
    h.loc[4, "dwellings"] = np.inf
    write(h, tmp_path / "housing.gpkg")
    msgs = problems(tmp_path, study_config)
    m = one(msgs, "layers.zones", "field 'jobs'", "not a number")
    assert "'many'" in m and "row Z2" in m
    assert "row Z3" in one(msgs, "layers.zones", "field 'jobs'", "missing (empty or NaN)")
    assert "row Z1" in one(msgs, "layers.zones", "field 'output'", "negative")
    assert "row H5" in one(msgs, "layers.housing", "field 'dwellings'", "infinite")


@pytest.mark.parametrize("jobs, firms, read_jobs, read_firms, example", [
    (["1,200", "1.2万", "１５００"], None, [1200.0, 12000.0, 1500.0], None, "'1,200' -> 1200"),
    # Chinese tables write what is counted after the number (3.56万人, 12家, 800套)
    (["3.56万人", "1,200 人", "５００名"], ["12家", "3个", "0家"], [35600.0, 1200.0, 500.0], [12.0, 3.0, 0.0],
     "'3.56万人' -> 35600"),
])
def test_numbers_written_as_text_are_parsed_with_a_warning(tmp_path, study_config, jobs, firms, read_jobs,
                                                          read_firms, example):
    z = zones_gdf()
    z["jobs"] = jobs
    z["output"] = ["3亿", "-", ""]
    if firms is not None:
        z["firms"] = firms
    write(z, tmp_path / "zones.gpkg")
    study = load(tmp_path, study_config)
    assert study.zones["jobs"].tolist() == read_jobs
    assert firms is None or study.zones["firms"].tolist() == read_firms
    assert study.zones["output"].iloc[0] == 3e8 and study.zones["output"].iloc[1:].isna().all()
    assert example in one(study.warnings, "field 'jobs'", "3 numbers written as text")


def test_units_other_than_the_counted_thing_stay_refused(tmp_path, study_config):
    z = zones_gdf()
    z["output"] = ["3亿元", "5 km", "1"]
    write(z, tmp_path / "zones.gpkg")
    m = one(problems(tmp_path, study_config), "layers.zones", "field 'output'", "not a number")
    assert "'3亿元'" in m and "'5 km'" in m


def test_unknown_roles_are_an_error_chinese_roles_accepted(tmp_path, study_config):
    z = zones_gdf()
    z["role"] = ["研发", "HQ", " Supporting "]
    write(z, tmp_path / "zones.gpkg")
    m = one(problems(tmp_path, study_config), "layers.zones", "field 'role'", "unknown roles")
    assert "'HQ'" in m and "row Z2" in m and "rd, manufacturing" in m
    z["role"] = ["研发", None, " Supporting "]
    write(z, tmp_path / "zones.gpkg")
    assert load(tmp_path, study_config).zones["role"].tolist()[::2] == ["rd", "supporting"]


def test_problems_of_several_layers_come_in_one_error(tmp_path, study_config):
    z = zones_gdf()
    z.loc[0, "jobs"] = -1
    write(z, tmp_path / "zones.gpkg")
    d = districts_gdf()
    d["code"] = ["D1", "D1"]
    write(d, tmp_path / "districts.gpkg")
    write(innov_gdf().drop(columns="chains"), tmp_path / "innovation_districts.gpkg")
    study_config["layers"]["housing"]["path"] = "nowhere.gpkg"
    msgs = problems(tmp_path, study_config)
    one(msgs, "layers.zones", "field 'jobs'", "negative", "row Z1")
    one(msgs, "layers.districts", "duplicate ids")
    one(msgs, "layers.innovation_districts", "field 'chains'", "required field not found")
    one(msgs, "layers.housing", "nowhere.gpkg", "file not found")
    assert len(msgs) == 4


# ---------------------------------------------------------------------------
# repairs


def test_repairs_are_counted_warnings(tmp_path, study_config):
    z = zones_gdf()
    bowtie = shapely.Polygon([(X0 + 1000, Y0 + 1000), (X0 + 3000, Y0 + 2000),
                              (X0 + 3000, Y0 + 1000), (X0 + 1000, Y0 + 2000)])
    z.loc[0, "geometry"] = bowtie
    z.loc[2, "geometry"] = shapely.force_3d(z.loc[2, "geometry"], 55.0)
    extra = z.iloc[[1]].copy()
    extra["id"] = "Z4"
    extra.geometry = [shapely.Polygon()]
    z = pd.concat([z, extra], ignore_index=True)
    write(gpd.GeoDataFrame(z, crs=CRS), tmp_path / "zones.gpkg")
    study = load(tmp_path, study_config)
    assert study.zones["zone_id"].tolist() == ["Z1", "Z2", "Z3"]
    assert study.zones.geometry.is_valid.all()
    assert study.zones.geometry.area.iloc[0] == pytest.approx(1e6)   # two triangles of 0.5 km²
    assert study.zones.geometry.iloc[0].geom_type == "MultiPolygon"
    assert not study.zones.geometry.has_z.any()
    assert "row Z1" in one(study.warnings, "1 invalid polygons", "repaired with make_valid")
    assert "row Z4" in one(study.warnings, "1 features without geometry")
    one(study.warnings, "1 geometries had Z or M values")
    assert study.sources["zones"].feature_count == 3


def test_overlapping_parts_are_merged_not_cut_out(tmp_path, study_config):
    # a zone digitised as two overlapping 2 x 2 km parts (a first phase and its extension,
    # 1 x 1 km in common): the zone is their union, 7 km², not the 6 km² left when the
    # overlap is cut out as a hole; a hole drawn past its shell is trimmed to the shell
    z = zones_gdf()
    z.loc[0, "geometry"] = shapely.MultiPolygon([shapely.box(X0, Y0, X0 + 2000, Y0 + 2000),
                                                 shapely.box(X0 + 1000, Y0 + 1000, X0 + 3000, Y0 + 3000)])
    z.loc[1, "geometry"] = shapely.Polygon(
        [(X0 + 4000, Y0), (X0 + 6000, Y0), (X0 + 6000, Y0 + 2000), (X0 + 4000, Y0 + 2000)],
        [[(X0 + 4500, Y0 + 500), (X0 + 7000, Y0 + 500), (X0 + 7000, Y0 + 1000), (X0 + 4500, Y0 + 1000)]])
    write(gpd.GeoDataFrame(z, crs=CRS), tmp_path / "zones.gpkg")
    study = load(tmp_path, study_config)
    merged, trimmed = study.zones.geometry.iloc[0], study.zones.geometry.iloc[1]
    assert merged.is_valid and merged.area == pytest.approx(7e6)
    assert merged.covers(shapely.box(X0 + 1000, Y0 + 1000, X0 + 2000, Y0 + 2000))
    assert trimmed.is_valid and trimmed.area == pytest.approx(4e6 - 1500 * 500)
    assert trimmed.bounds == pytest.approx((X0 + 4000, Y0, X0 + 6000, Y0 + 2000))
    assert "rows Z1, Z2" in one(study.warnings, "2 invalid polygons", "repaired with make_valid")


def test_csv_with_wkt_measured_geometries_and_config_crs(tmp_path, study_config):
    h = housing_gdf().to_crs(4326)
    lines = ["WKT,id,dwellings"] + [
        f'"POINT M ({p.x} {p.y} 5)",{i},{d}' if k % 2 else f'"POINT ZM ({p.x} {p.y} 1 2)",{i},{d}'
        for k, (p, i, d) in enumerate(zip(h.geometry, h["id"], h["dwellings"]))]
    (tmp_path / "housing.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    study_config["layers"]["housing"] = {"path": "housing.csv", "fields": {"housing_id": "id"}}
    one(problems(tmp_path, study_config, CRSError), "housing.csv", "no CRS")
    study_config["layers"]["housing"]["crs"] = "EPSG:4326"
    study = load(tmp_path, study_config)
    assert study.housing["dwellings"].tolist() == [100.0, 250.0, 80.0, 400.0, 10.0]  # CSV text, silently
    np.testing.assert_allclose(shapely.get_coordinates(study.housing.geometry.values),
                               shapely.get_coordinates(housing_gdf().geometry.values), atol=1e-3)
    assert "5 geometries had Z or M values" in one(study.warnings, "layers.housing")


def test_geopackage_fid_as_id_and_case_only_id_differences(tmp_path, study_config):
    write(housing_gdf(), tmp_path / "housing.gpkg")
    study_config["layers"]["housing"]["fields"] = {"housing_id": "fid"}
    z = zones_gdf()
    z["id"] = ["a1", "A1", "b"]
    write(z, tmp_path / "zones.gpkg")
    study = load(tmp_path, study_config)
    assert study.housing["housing_id"].tolist() == ["1", "2", "3", "4", "5"]
    assert study.zones["zone_id"].tolist() == ["a1", "A1", "b"]
    one(study.warnings, "layers.zones", "2 ids differ only in upper/lower case")


def test_unclosed_ring_is_closed(tmp_path, study_config):
    text = ('{"type":"FeatureCollection","features":[{"type":"Feature","properties":'
            '{"id":"Z1","name":"a","chain":"c","jobs":1},"geometry":{"type":"Polygon",'
            '"coordinates":[[[104.0,30.6],[104.01,30.6],[104.01,30.61],[104.0,30.61]]]}}]}')
    (tmp_path / "open.geojson").write_text(text, encoding="utf-8")
    study_config["layers"]["zones"] = {"path": "open.geojson", "fields": {"zone_id": "id"}}
    study_config["layers"].pop("innovation_districts")
    study_config["layers"]["districts"]["path"] = "districts.gpkg"
    d = districts_gdf().to_crs(4326)
    d.loc[0, "geometry"] = box(103.9, 30.5, 104.1, 30.7)
    write(d, tmp_path / "districts.gpkg")
    study = load(tmp_path, study_config)
    assert study.zones.geometry.iloc[0].is_valid
    one(study.warnings, "layers.zones", "closed")


# ---------------------------------------------------------------------------
# inputs untouched


def test_input_files_are_byte_identical_after_loading(tmp_path, study_config):
    _gbk_zones(tmp_path)
    study_config["layers"]["zones"] = {"path": "zones.shp", "encoding": "gbk",
                                       "fields": {"zone_id": "编号", "name": "名称", "chain": "产业链",
                                                  "jobs": "就业"}}
    before = checksums(tmp_path)
    load(tmp_path, study_config)
    study_config["layers"]["housing"]["path"] = "missing.gpkg"
    problems(tmp_path, study_config)
    assert checksums(tmp_path) == before


# ---------------------------------------------------------------------------
# rasters


def _tif(path: Path, data: np.ndarray, bounds, crs, nodata=None) -> Path:
    h, w = data.shape
    left, bottom, right, top = bounds
    transform = Affine((right - left) / w, 0, left, 0, -(top - bottom) / h, top)
    profile = {"driver": "GTiff", "height": h, "width": w, "count": 1,
               "dtype": data.dtype.name, "transform": transform, "nodata": nodata}
    if crs is not None:
        profile["crs"] = crs
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
    return path


def test_population_raster_is_reprojected_with_conserved_total(tmp_path, study_config):
    lon0, lat0, lon1, lat1 = districts_gdf().to_crs(4326).total_bounds
    rng = np.random.default_rng(1)
    pop = rng.integers(0, 200, size=(60, 120)).astype("float32")
    pop[:5, :5] = -9999
    _tif(tmp_path / "pop.tif", pop, (lon0, lat0, lon1, lat1), "EPSG:4326", nodata=-9999)
    study_config["layers"]["population"] = {"path": "pop.tif"}
    study = load(tmp_path, study_config)
    r = study.population
    assert r.crs.equals(study.crs) and r.data.dtype == np.float64
    total = pop[pop >= 0].sum()
    assert np.nansum(r.data) == pytest.approx(total, rel=0.01)
    assert np.isnan(r.data).any()
    assert study.sources["population"].files == [tmp_path / "pop.tif"]
    x, _y, v = r.cell_centres()
    assert v.sum() == pytest.approx(np.nansum(r.data))
    assert districts_gdf().total_bounds[0] - 1000 < x.min() < x.max() < districts_gdf().total_bounds[2] + 1000


def test_landuse_raster_keeps_classes(tmp_path, study_config):
    lu = np.array([[1, 2, 3], [4, 7, 0]], dtype="uint8")
    _tif(tmp_path / "lu.tif", lu, (X0, Y0, X0 + 3000, Y0 + 2000), CRS, nodata=0)
    study_config["layers"]["landuse"] = {"path": "lu.tif"}
    study = load(tmp_path, study_config)
    np.testing.assert_array_equal(study.landuse.data, [[1, 2, 3], [4, 7, np.nan]])
    assert study.landuse.cell_area_m2 == pytest.approx(1e6)
    assert study.landuse_classes[1] == "residential"
    one(study.warnings, "layers.landuse", "1 cells hold class codes not in layers.landuse.classes (7)")


def test_raster_problems_are_collected_with_the_others(tmp_path, study_config):
    _tif(tmp_path / "pop.tif", np.ones((4, 4), "float32"), (X0, Y0, X0 + 4000, Y0 + 4000), None)
    _tif(tmp_path / "lu.tif", np.ones((4, 4), "uint8"), (X0 + 500_000, Y0, X0 + 504_000, Y0 + 4000), CRS)
    study_config["layers"]["population"] = {"path": "pop.tif"}
    study_config["layers"]["landuse"] = {"path": "lu.tif"}
    write(housing_gdf().drop(columns="id"), tmp_path / "housing.gpkg")
    msgs = problems(tmp_path, study_config)
    assert "layers.population.crs" in one(msgs, "layers.population", "pop.tif", "no CRS")
    one(msgs, "layers.landuse", "does not overlap the study area")
    one(msgs, "layers.housing", "field 'housing_id'")
    study_config["layers"]["population"]["crs"] = CRS   # the fix named in the message
    msgs = problems(tmp_path, study_config)
    assert not any("layers.population" in m for m in msgs)


# ---------------------------------------------------------------------------
# helpers


def test_chains_with_commas_are_flagged(tmp_path, study_config):
    i = innov_gdf()
    i["chains"] = ["电子信息,生物医药"]
    write(i, tmp_path / "innovation_districts.gpkg")
    study = load(tmp_path, study_config)
    assert study.innovation_districts["chains"].tolist() == ["电子信息,生物医药"]
    assert "row I1" in one(study.warnings, "layers.innovation_districts", "field 'chains'", "commas")


@pytest.mark.parametrize("written", ["电子信息/生物医药", "电子信息 生物医药", "电子信息＋生物医药"])
def test_zone_chains_glued_without_a_separator_are_flagged(tmp_path, study_config, written):
    """'电子信息/生物医药' is no zone's chain, so the innovation district served neither
    chain without a word; a chain of its own (航空航天) stays unremarked."""
    i = innov_gdf()
    i["chains"] = [f"{written}；航空航天"]
    write(i, tmp_path / "innovation_districts.gpkg")
    study = load(tmp_path, study_config)
    m = one(study.warnings, "layers.innovation_districts", "field 'chains'", "without ';'")
    assert "reads as '电子信息', '生物医药'" in m and "row I1" in m and "航空航天" not in m
    i["chains"] = ["电子信息；生物医药；航空航天"]
    write(i, tmp_path / "innovation_districts.gpkg")
    assert not [w for w in load(tmp_path, study_config).warnings if "without ';'" in w]


def test_split_chains():
    assert split_chains("a;b；c、 d ;;") == ["a", "b", "c", "d"]
    assert split_chains("") == [] and split_chains(None) == [] and split_chains(float("nan")) == []


def test_parse_counts():
    v, text, bad = parse_counts(pd.Series(["1,200", "1.2万", "3亿", " 7 ", "x1", None, "—", "2千"]))
    np.testing.assert_array_equal(v[:4], [1200, 12000, 3e8, 7])
    assert np.isnan(v[4:7]).all() and v[7] == 2000
    assert text.tolist() == [True, True, True, False, False, False, False, True]
    assert bad.tolist() == [False] * 4 + [True] + [False] * 3
    v, text, bad = parse_counts(pd.Series([1, 2, None], dtype="Int64"))
    assert v[:2].tolist() == [1.0, 2.0] and np.isnan(v[2]) and not text.any() and not bad.any()


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 10**12))
def test_parse_counts_reads_thousands_separators_and_wan(n):
    texts = pd.Series([f"{n:,}", f"{n:,}".replace(",", "，"), f"{n / 1e4}万"])
    v, _text, bad = parse_counts(texts)
    assert v[0] == v[1] == n and v[2] == pytest.approx(n, rel=1e-12, abs=1e-6)
    assert not bad.any()


def test_encoding_on_a_utf8_format_is_ignored_with_a_warning(tmp_path, study_config):
    study_config["layers"]["zones"]["encoding"] = "gbk"
    study = load(tmp_path, study_config)
    assert study.zones["name"].iloc[0] == "电子信息产业园"
    one(study.warnings, "layers.zones", "encoding (gbk) ignored", "UTF-8")


def test_progress_bar_and_sources(tmp_path, study_config, capsys):
    study = load_study(settings_for(tmp_path, study_config), progress=True)
    assert study.sources["housing"].layer == "housing"
    assert set(study.sources) == {"districts", "zones", "innovation_districts", "housing"}
    assert capsys.readouterr().out == ""       # the bar goes to stderr, never stdout


_JOBS = st.sampled_from([0, 12, 3.5, -1, float("nan"), "1,200", "3万", "abc", None, "", "７"])
_IDS = st.sampled_from(["A", "B", "C ", " C", "d", None, "", "1", 1.0])


@settings(max_examples=20, deadline=None)
@given(st.lists(st.tuples(_IDS, _JOBS, st.lists(st.tuples(st.integers(0, 20), st.integers(0, 10)),
                                                  min_size=3, max_size=6)),
                min_size=1, max_size=5))
def test_random_messy_zones_either_load_cleanly_or_raise_input_error(tmp_path_factory, rows):
    tmp_path = tmp_path_factory.mktemp("fuzz")
    config = write_study(tmp_path)
    geoms = [shapely.Polygon([(X0 + 1000 * x, Y0 + 1000 * y) for x, y in ring]) for _, _, ring in rows]
    z = gpd.GeoDataFrame({"id": pd.Series([r[0] for r in rows], dtype=object),
                          "name": "z", "chain": "c",
                          "jobs": pd.Series([r[1] for r in rows], dtype=object).astype(str)},
                         geometry=geoms, crs=CRS)
    write(z, tmp_path / "zones.gpkg")
    try:
        study = load(tmp_path, config)
    except InputError as exc:
        assert exc.problems and all(p.startswith("layers.zones") for p in exc.problems)
        return
    zones = study.zones
    assert zones["zone_id"].is_unique and zones["zone_id"].notna().all()
    assert (zones["jobs"] >= 0).all() and np.isfinite(zones["jobs"]).all()
    assert zones.geometry.is_valid.all() and (zones.geometry.area > 0).all()
    assert zones.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    assert zones["district_id"].isin(["D1", "D2"]).all()


def test_environment_is_untouched_by_loading(tmp_path, study_config):
    env = dict(os.environ)
    load(tmp_path, study_config)
    assert dict(os.environ) == env


def test_chain_names_kept_apart_are_named_by_the_cli(small_study_copy, cli_in_process):
    """Through ``zoneatlas validate``: exit 0, one ``warning:`` line naming both spellings."""
    cfg = small_study_copy
    gpkg = cfg.parent / "layers" / "sample.gpkg"
    zones = pyogrio.read_dataframe(gpkg, layer="zones")
    zones.loc[[0, 1], "chain"] = ["乾燥設備", "幹燥設備"]
    pyogrio.write_dataframe(zones, gpkg, layer="zones", driver="GPKG")
    proc = cli_in_process("validate", "-c", str(cfg))
    assert proc.returncode == 0, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if "'乾燥設備'" in ln]
    assert len(lines) == 1 and lines[0].startswith("warning: chain names:"), proc.stderr
    assert "'幹燥設備' (1)" in lines[0] and "kept as a chain of its own" in lines[0]
    assert "were merged" not in proc.stderr
