"""The QGIS package: GeoPackage 1.2 + layer_styles + .qgz, checked in plain Python and
in a real QGIS (PyQGIS under the system python3, run as a subprocess).

The fixture study is tiny and hand-made: two districts side by side, four zones of two
chains, one innovation district, five housing points; the result frames carry the
documented columns (docs/outputs.md) (with deliberate missing values, which must stay NULL).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from pyproj import CRS

from geo import styles
from geo._types import AnalysisResult, LayerSource, Study
from geo.i18n import label
from geo.qgis import write_qgis_package
from geo.settings import settings_from_dict
from tests import _reference as ref

ROOT = Path(__file__).resolve().parents[1]
CHECK_SCRIPT = ROOT / "tests" / "_pyqgis_check.py"
SYSTEM_PYTHON = "/usr/bin/python3"
WORKING = "EPSG:4544"
#: Millimetres of one web-map pixel: the print figures' scale on A4, 0.55 pt per CSS px
#: (the QGIS print layouts are A4).
MM_PER_WEB_PX = 0.55 * 25.4 / 72


def _box(x0: float, y0: float, x1: float, y1: float):
    return shapely.box(x0, y0, x1, y1)


def make_study(*, n_housing: int = 5) -> Study:
    """Two districts (D1 west, D2 east), zones Z1..Z4 in chains A/B, one innovation district."""
    crs = CRS.from_user_input(WORKING)
    x0, y0 = 500_000.0, 3_400_000.0
    districts = gpd.GeoDataFrame(
        {"district_id": ["D1", "D2"], "name": ["西区", "东区"]},
        geometry=[_box(x0, y0, x0 + 10_000, y0 + 10_000), _box(x0 + 10_000, y0, x0 + 20_000, y0 + 10_000)],
        crs=crs)
    zones = gpd.GeoDataFrame(
        {"zone_id": ["Z1", "Z2", "Z3", "Z4"], "name": ["电子园", "电子二园", "医药园", "医药港"],
         "chain": ["A", "A", "B", "B"], "jobs": [1000.0, 500.0, 800.0, 0.0],
         "district_id": ["D1", "D2", "D1", "D2"], "output": [10.0, np.nan, 8.0, 2.0],
         "role": ["rd", "manufacturing", None, "terminal"]},
        geometry=[_box(x0 + 1000, y0 + 1000, x0 + 2000, y0 + 2000),
                  _box(x0 + 12_000, y0 + 1000, x0 + 13_000, y0 + 2000),
                  shapely.MultiPolygon([_box(x0 + 1000, y0 + 5000, x0 + 2000, y0 + 6000),
                                        _box(x0 + 3000, y0 + 5000, x0 + 3500, y0 + 5500)]),
                  _box(x0 + 15_000, y0 + 5000, x0 + 16_000, y0 + 6000)],
        crs=crs)
    innov = gpd.GeoDataFrame(
        {"innov_id": ["I1"], "name": ["创新街区一"], "chains": ["A;B"], "jobs": [np.nan]},
        geometry=[_box(x0 + 5000, y0 + 3000, x0 + 6000, y0 + 4000)], crs=crs)
    rng = np.random.default_rng(1)
    housing = gpd.GeoDataFrame(
        {"housing_id": [f"H{i}" for i in range(n_housing)],
         "dwellings": rng.integers(10, 500, n_housing).astype(float)},
        geometry=shapely.points(rng.uniform(x0, x0 + 20_000, n_housing), rng.uniform(y0, y0 + 10_000, n_housing)),
        crs=crs)
    sources = {
        "zones": LayerSource("zones", Path("zones.shp"), aliases={"zone_id": "ID", "name": "name", "jobs": "就业"}),
        "districts": LayerSource("districts", Path("d.gpkg"), aliases={"district_id": "code", "name": "name"}),
    }
    return Study(crs=crs, zones=zones, districts=districts, innovation_districts=innov, housing=housing,
                 sources=sources)


def _centroid_lines(study: Study, a: list[str], b: list[str]):
    c = study.zones.set_index("zone_id").geometry.centroid
    return [shapely.LineString([c[i], c[j]]) for i, j in zip(a, b)]


def make_results(study: Study) -> dict[str, AnalysisResult]:
    """Result frames with the documented columns (values plausible, NULLs deliberate)."""
    crs = study.crs
    zones = study.zones
    wp = gpd.GeoDataFrame(
        {"workplace_id": ["Z1", "Z2", "Z3", "Z4", "I1"],
         "kind": ["zone"] * 4 + ["innovation_district"], "name": [*zones["name"], "创新街区一"],
         "district_id": ["D1", "D2", "D1", "D2", "D1"], "jobs": [1000.0, 500.0, 800.0, 0.0, np.nan],
         "workers_3000": [300.0, 0.0, 900.0, 10.0, 50.0], "workers_5000": [500.0, 0.0, 900.0, 20.0, 60.0],
         "workers_10000": [900.0, 5.0, 1200.0, 20.0, 70.0], "workers": [500.0, 0.0, 900.0, 20.0, 60.0],
         "jhr": [2.0, np.nan, 0.889, 0.0, np.nan],
         "balance_class": ["jobs_rich", "no_housing", "balanced", "housing_rich", "housing_rich"],
         "workers_shared": [400.0, 0.0, 700.0, 20.0, 60.0], "jhr_shared": [2.5, np.nan, 1.14, 0.0, np.nan]},
        geometry=[*zones.geometry, study.innovation_districts.geometry.iloc[0]], crs=crs)
    bd = gpd.GeoDataFrame(
        {"district_id": ["D1", "D2"], "name": ["西区", "东区"], "jobs": [1800.0, 500.0],
         "workers": [1400.0, 20.0], "jhr": [1.29, 25.0], "balance_class": ["jobs_rich", "jobs_rich"]},
        geometry=list(study.districts.geometry), crs=crs)
    balance = AnalysisResult("balance", tables={"balance_workplaces": wp, "balance_districts": bd})

    pairs = gpd.GeoDataFrame(
        {"zone_a": ["Z1", "Z3"], "zone_b": ["Z2", "Z4"], "chain": ["A", "B"],
         "district_a": ["D1", "D1"], "district_b": ["D2", "D2"], "distance_m": [10_000.0, 13_000.0],
         "strength": [0.05, 0.0013], "pair_type": ["rd_manufacturing", "peer"], "rank": [1, 1],
         "recommended": [True, False], "reason": ["研发 + 制造", None]},
        geometry=_centroid_lines(study, ["Z1", "Z3"], ["Z2", "Z4"]), crs=crs)
    czones = gpd.GeoDataFrame(
        {"zone_id": list(zones["zone_id"]), "name": list(zones["name"]), "chain": list(zones["chain"]),
         "district_id": list(zones["district_id"]), "nearest_partner_id": ["Z2", "Z1", "Z4", "Z3"],
         "nearest_partner_district": ["D2", "D1", "D2", "D1"],
         "nearest_partner_m": [10_000.0, 10_000.0, 13_000.0, 13_000.0], "partners_within": [1, 1, 1, 1],
         "nearest_innov_id": ["I1", "I1", None, None], "nearest_innov_m": [3000.0, 6000.0, np.nan, np.nan]},
        geometry=list(zones.geometry), crs=crs)
    chains = pd.DataFrame({"chain": ["A", "B"], "zones": [2, 2], "districts": [2, 2],
                           "share_linked": [1.0, 1.0], "mean_nearest_partner_m": [10_000.0, 13_000.0],
                           "standard_distance_m": [5500.0, np.nan]})
    matrix = pd.DataFrame({"district_a": ["D1"], "district_b": ["D2"], "strength": [0.0513]})
    collaboration = AnalysisResult("collaboration", tables={
        "collaboration_pairs": pairs, "collaboration_zones": czones, "collaboration_chains": chains,
        "collaboration_matrix": matrix})

    cpz = gpd.GeoDataFrame(
        {"zone_id": list(zones["zone_id"]), "name": list(zones["name"]), "chain": list(zones["chain"]),
         "district_id": list(zones["district_id"]), "score": [1.0, 0.4, 0.7, 0.05],
         "role": ["core", "periphery", "periphery", "periphery"], "core_id": [None, "Z1", "Z1", None],
         "core_distance_m": [np.nan, 10_000.0, 3000.0, np.nan], "attach_prob": [np.nan, 1.0, 1.0, np.nan],
         "strategy": ["independent_pole", "collaborative_subordinate", "collaborative_subordinate", "isolated"]},
        geometry=list(zones.geometry), crs=crs)
    links = gpd.GeoDataFrame(
        {"zone_id": ["Z2", "Z3"], "core_id": ["Z1", "Z1"], "distance_m": [10_000.0, 3000.0],
         "attach_prob": [1.0, 1.0]},
        geometry=_centroid_lines(study, ["Z2", "Z3"], ["Z1", "Z1"]), crs=crs)
    summary = pd.DataFrame({"n_cores": [1], "primacy": [0.46], "gini": [0.35], "rank_size_slope": [np.nan]})
    core_periphery = AnalysisResult("core_periphery", tables={
        "core_periphery_zones": cpz, "core_periphery_links": links, "core_periphery_summary": summary})
    return {"balance": balance, "collaboration": collaboration, "core_periphery": core_periphery}


def make_settings(tmp_path: Path, **overrides) -> object:
    data = {"study": {"name": "Test study", "language": "en"}, "crs": {"working": WORKING},
            "layers": {"zones": {"path": "zones.gpkg"}}}
    for key, value in overrides.items():
        data.setdefault(key, {}).update(value)
    return settings_from_dict(data, base_dir=tmp_path)


#: renderer type of each spatial layer's default style
EXPECTED_RENDERERS = {
    "districts": "singleSymbol", "district_boundaries": "singleSymbol",
    "zones": "categorizedSymbol", "innovation_districts": "singleSymbol",
    # workplaces: a rule per class, and one outlining the innovation districts (its legend row)
    "housing": "singleSymbol", "balance_workplaces": "RuleRenderer",
    "balance_districts": "graduatedSymbol", "collaboration_pairs": "categorizedSymbol",   # by pair type
    "collaboration_zones": "categorizedSymbol", "core_periphery_zones": "categorizedSymbol",
    "core_periphery_links": "categorizedSymbol",   # coloured by pole, as on the web map
    # layers the web maps derive for display (geo/qgis/_derived.py)
    "balance_housing_density": "graduatedSymbol", "balance_catchments": "singleSymbol",
    "core_periphery_poles": "categorizedSymbol", "core_periphery_territories": "categorizedSymbol",
}
#: the same for the chains analysis' layers (in runs of the sample, which has firms)
CHAIN_RENDERERS = {"firms": "categorizedSymbol", "chain_zones": "categorizedSymbol",
                   "leader_firms": "singleSymbol", "chain_gap_candidates": "singleSymbol",
                   "chain_gap_points": "singleSymbol", "chain_leader_reach": "singleSymbol"}
#: the commuting group (a sample study has observed flows)
COMMUTING_RENDERERS = {"commuting_flows": "graduatedSymbol", "commuting_workplaces": "RuleRenderer",
                       "commuting_districts": "graduatedSymbol", "commuting_sheds": "graduatedSymbol"}
TABLES = ("collaboration_chains", "collaboration_matrix", "core_periphery_summary")
#: Where the project opens on another style than the layer's default: the districts drawn for
#: their names only, their outlines being district_boundaries (each boundary once).
PROJECT_RENDERERS = {"districts": "nullSymbol"}
#: Layers of a study with roads (tests/test_roads_outputs.py checks their styles).
NETWORK_RENDERERS = {"roads": "categorizedSymbol", "balance_isochrones": "singleSymbol"}


@pytest.fixture
def package(tmp_path):
    study = make_study()
    results = make_results(study)
    settings = make_settings(tmp_path)
    gpkg, qgz = write_qgis_package(tmp_path / "out" / "qgis", study, results, settings)
    return gpkg, qgz, study, results, settings


# ---------------------------------------------------------------------------
# plain Python


def _sql(path: Path, query: str, *args):
    con = sqlite3.connect(path)
    try:
        return con.execute(query, args).fetchall()
    finally:
        con.close()


def test_geopackage_is_version_1_2_with_every_layer(package):
    gpkg, qgz, study, _, _ = package
    assert gpkg.name == "zoneatlas.gpkg" and qgz.name == "zoneatlas.qgz"
    assert _sql(gpkg, "PRAGMA application_id") == [(0x47504B47,)]   # 'GPKG'
    assert _sql(gpkg, "PRAGMA user_version") == [(10200,)]
    contents = dict(_sql(gpkg, "SELECT table_name, data_type FROM gpkg_contents"))
    for name in EXPECTED_RENDERERS:
        assert contents[name] == "features", name
    for name in TABLES:
        assert contents[name] == "attributes", name
    assert contents["layer_styles"] == "attributes"
    # features counts and write order as given
    names = [row[0] for row in pyogrio.list_layers(gpkg)]
    assert names[:5] == ["districts", "district_boundaries", "zones", "innovation_districts", "housing"]
    assert names.index("balance_workplaces") < names.index("collaboration_pairs") < names.index("core_periphery_zones")
    assert pyogrio.read_info(gpkg, layer="housing")["features"] == len(study.housing)


def test_geopackage_crs_is_export_crs_and_geometries_reprojected(tmp_path):
    study = make_study()
    settings = make_settings(tmp_path, crs={"export": "EPSG:4490"})
    gpkg, _ = write_qgis_package(tmp_path / "q", study, make_results(study), settings)
    srs = dict(_sql(gpkg, "SELECT table_name, srs_id FROM gpkg_geometry_columns"))
    assert set(srs.values()) == {4490}
    back = gpd.read_file(gpkg, layer="zones", engine="pyogrio")
    assert back.crs.equals(CRS.from_epsg(4490))
    expected = study.zones.to_crs(4490)
    assert np.allclose(shapely.get_coordinates(back.geometry.values), shapely.get_coordinates(expected.geometry.values))
    # the default (no export CRS) is the working CRS
    gpkg2, _ = write_qgis_package(tmp_path / "q2", study, make_results(study), make_settings(tmp_path))
    assert set(dict(_sql(gpkg2, "SELECT table_name, srs_id FROM gpkg_geometry_columns")).values()) == {4544}


def test_missing_values_are_null_never_zero_or_nan_text(package):
    gpkg = package[0]
    assert _sql(gpkg, "SELECT output FROM zones ORDER BY fid") == [(10.0,), (None,), (8.0,), (2.0,)]
    assert _sql(gpkg, "SELECT role FROM zones WHERE zone_id = 'Z3'") == [(None,)]
    assert _sql(gpkg, "SELECT jhr FROM balance_workplaces ORDER BY fid") == [(2.0,), (None,), (0.889,), (0.0,), (None,)]
    assert _sql(gpkg, "SELECT reason, recommended FROM collaboration_pairs ORDER BY fid") == [
        ("研发 + 制造", 1), (None, 0)]
    assert _sql(gpkg, "SELECT nearest_innov_id, nearest_innov_m FROM collaboration_zones WHERE zone_id='Z3'") == [
        (None, None)]
    assert _sql(gpkg, "SELECT standard_distance_m FROM collaboration_chains ORDER BY fid") == [(5500.0,), (None,)]
    assert _sql(gpkg, "SELECT rank_size_slope, n_cores FROM core_periphery_summary") == [(None, 1)]
    assert _sql(gpkg, "SELECT count(*) FROM balance_workplaces WHERE jhr = 'nan' OR balance_class = 'nan'") == [(0,)]


def test_layer_styles_table_has_qgis_layout_and_one_default_per_layer(package):
    gpkg = package[0]
    cols = [row[1] for row in _sql(gpkg, "PRAGMA table_info(layer_styles)")]
    assert cols == ["id", "f_table_catalog", "f_table_schema", "f_table_name", "f_geometry_column",
                    "styleName", "styleQML", "styleSLD", "useAsDefault", "description", "owner", "ui",
                    "update_time"]
    defaults = _sql(gpkg, "SELECT f_table_name, f_geometry_column, styleQML FROM layer_styles WHERE useAsDefault = 1")
    assert sorted(r[0] for r in defaults) == sorted(EXPECTED_RENDERERS)
    for name, geom_col, qml in defaults:
        assert geom_col == "geom"
        root = ET.fromstring(qml.split("\n", 1)[1])
        assert root.tag == "qgis"
        assert root.find("renderer-v2").get("type") == EXPECTED_RENDERERS[name], name
    # gpkg_ogr_contents feature count kept in step, as GDAL's triggers do for QGIS' table
    n = _sql(gpkg, "SELECT count(*) FROM layer_styles")[0][0]
    assert _sql(gpkg, "SELECT feature_count FROM gpkg_ogr_contents WHERE table_name = 'layer_styles'") == [(n,)]
    # non-default alternatives exist (score of the core-periphery zones)
    alt = _sql(gpkg, "SELECT styleName, useAsDefault FROM layer_styles WHERE f_table_name = 'core_periphery_zones'")
    # the default is the web map's initial view: zones coloured by the pole they attach to
    assert alt == [("core_id", 1), ("strategy", 0), ("role", 0), ("score", 0)]


def _qml(gpkg: Path, layer: str, style: str | None = None) -> ET.Element:
    q = "SELECT styleQML FROM layer_styles WHERE f_table_name = ? AND " + (
        "styleName = ?" if style else "useAsDefault = ?")
    text = _sql(gpkg, q, layer, style or 1)[0][0]
    return ET.fromstring(text.split("\n", 1)[1])


def test_styles_use_the_palettes_and_breaks_of_geo_styles(package):
    gpkg, _, study, results, _ = package
    from geo.qgis._qml import rgba

    # balance_class: a rule per class, every class, colour from BALANCE_CLASS_COLORS, English
    # labels with the ratios of the default balanced_range as on the web legend (a missing class
    # is drawn grey, as on the web map); then the innovation districts outlined in their colour
    # over their class fill, a legend row of its own as on the web
    root = _qml(gpkg, "balance_workplaces")
    rules = list(root.find("renderer-v2/rules"))
    assert [r.get("label") for r in rules] == ["Jobs-rich (> 1.25)", "Balanced (0.8–1.25)", "Housing-rich (< 0.8)",
                                               "No housing in reach", "—", "Innovation district"]
    assert [r.get("filter") for r in rules[:4]] == [f'"balance_class" = \'{c}\'' for c in styles.BALANCE_CLASSES]
    assert rules[4].get("filter") == ('coalesce("balance_class", \'\') NOT IN '
                                      "('jobs_rich', 'balanced', 'housing_rich', 'no_housing')")
    assert rules[5].get("filter") == '"kind" = \'innovation_district\''
    symbols = {s.get("name"): s for s in root.find("renderer-v2/symbols")}
    for rule, want in zip(rules, [*styles.BALANCE_CLASS_COLORS.values(), "#cccccc"]):
        fill = symbols[rule.get("symbol")].find("layer/prop[@k='color']").get("v")
        assert fill.rsplit(",", 1)[0] == rgba(want).rsplit(",", 1)[0]
    outline = symbols[rules[5].get("symbol")].find("layer")
    assert (outline.find("prop[@k='style']").get("v"), outline.find("prop[@k='outline_color']").get("v"),
            float(outline.find("prop[@k='outline_width']").get("v"))) == \
        ("no", rgba(styles.INNOVATION_COLOR), pytest.approx(2.5 * MM_PER_WEB_PX, abs=1e-6))   # 2.5 px
    assert root.find("labeling/settings/text-style").get("fieldName") == "name"

    # jhr ranges: upper limits are JHR_BREAKS, then the data max (25); colours JHR_COLORS
    ranges = _qml(gpkg, "balance_districts").find("renderer-v2/ranges")
    uppers = [float(r.get("upper")) for r in ranges]
    assert uppers == [*styles.JHR_BREAKS, 25.0]
    assert float(ranges[0].get("lower")) == 0.5 or float(ranges[0].get("lower")) <= 1.29

    # strength: quantile breaks of the recommended pairs (as the web map), widths LINE_WIDTHS px;
    # the other candidate pairs thin and dashed
    root = _qml(gpkg, "collaboration_pairs", "strength")
    pairs = results["collaboration"].tables["collaboration_pairs"]
    breaks = ref.quantile_breaks(pairs.loc[pairs["recommended"], "strength"].tolist(), 5)   # second method
    ranges = root.find("renderer-v2/ranges")
    uppers = [float(r.get("upper")) for r in ranges]
    assert uppers[:-1] == pytest.approx(breaks) and uppers[-1] == pytest.approx(pairs["strength"].max())
    assert float(ranges[0].get("lower")) == pytest.approx(pairs["strength"].min())
    symbols = list(root.find("renderer-v2/symbols"))
    widths = [float(s.find("layer/prop[@k='line_width']").get("v")) for s in symbols]
    assert widths == pytest.approx([w * MM_PER_WEB_PX for w in (1.0, 2.0, 3.5, 5.0, 7.0)][:len(widths)], abs=1e-6)
    dd = {o.get("name"): o.find("Option[@name='expression']").get("value")
          for o in symbols[0].find("layer/data_defined_properties/Option/Option[@name='properties']")}
    assert dd["outlineStyle"] == "CASE WHEN \"recommended\" THEN 'solid' ELSE 'dash' END"
    # 1 px: the weakest class and the other candidates
    width = re.fullmatch(r'CASE WHEN "recommended" THEN ([\d.]+) ELSE ([\d.]+) END', dd["outlineWidth"])
    assert width and [float(w) for w in width.groups()] == pytest.approx([MM_PER_WEB_PX] * 2, abs=1e-6)
    assert "WHEN \"pair_type\" = 'rd_manufacturing' THEN '8,48,107,255'" in dd["outlineColor"]

    # alternative core-periphery style: by attached core (Z1 is the only core), isolated grey
    r = _qml(gpkg, "core_periphery_zones", "core_id").find("renderer-v2")
    assert [(c.get("value"), c.get("label")) for c in r.find("categories")] == [("Z1", "电子园"), ("", "Isolated")]
    syms = {s.get("name"): s for s in r.find("symbols")}
    # the pole strong, its periphery lighter (0.85 / 0.45 as on the web map)
    assert syms["0"].find("layer/prop[@k='color']").get("v") == rgba(styles.POLE_COLORS[0], 0.85)
    fill_dd = syms["0"].find("layer/data_defined_properties/Option/Option[@name='properties']"
                             "/Option[@name='fillColor']/Option[@name='expression']").get("value")
    assert fill_dd == (f"CASE WHEN \"role\" = 'core' THEN '{rgba(styles.POLE_COLORS[0], 0.85)}' "
                       f"ELSE '{rgba(styles.POLE_COLORS[0], 0.45)}' END")
    assert syms["1"].find("layer/prop[@k='color']").get("v") == rgba(styles.STRATEGY_COLORS["isolated"], 0.55)

    # chain colours are the same in zones and collaboration_zones, from chain_colors
    expected = styles.chain_colors(study.zones["chain"])
    for layer in ("zones", "collaboration_zones"):
        r = _qml(gpkg, layer).find("renderer-v2")
        assert r.get("attr") == "chain"
        syms = {s.get("name"): s for s in r.find("symbols")}
        got = {c.get("value"): syms[c.get("symbol")].find("layer/prop[@k='color']").get("v") for c in r.find("categories")}
        assert got == {k: rgba(v, 0.8) for k, v in expected.items()}


def test_aliases_in_study_language_and_original_column_names(tmp_path):
    study = make_study()
    settings = make_settings(tmp_path, study={"language": "zh"})
    gpkg, _ = write_qgis_package(tmp_path / "q", study, make_results(study), settings)
    aliases = {a.get("field"): a.get("name") for a in _qml(gpkg, "zones").find("aliases")}
    assert aliases["zone_id"] == "功能区编号（原字段 ID）"
    assert aliases["name"] == "名称"                 # same column name: no source note
    assert aliases["jobs"] == "就业岗位（原字段 就业）"
    assert aliases["fid"] == ""
    wp = {a.get("field"): a.get("name") for a in _qml(gpkg, "balance_workplaces").find("aliases")}
    assert wp["workers_3000"] == "3公里内居住就业人口" and wp["jhr"] == "职住比"
    cats = [c.get("label") for c in _qml(gpkg, "core_periphery_zones", "strategy").find("renderer-v2/categories")]
    assert cats == ["独立极核", "协同从属", "孤立"]


def _project(qgz: Path) -> ET.Element:
    with zipfile.ZipFile(qgz) as archive:
        names = archive.namelist()
        assert names == ["zoneatlas.qgs"]
        return ET.fromstring(archive.read(names[0]).decode("utf-8").split("\n", 1)[1])


@pytest.mark.parametrize("basemap, expected", [
    ("none", []),
    ("osm", ["https://tile.openstreetmap.org/%7Bz%7D/%7Bx%7D/%7By%7D.png"]),
    ("carto-light", ["https://a.basemaps.cartocdn.com/light_all/%7Bz%7D/%7Bx%7D/%7By%7D.png&"]),
    ("amap", []),   # GCJ-02 tiles would be offset from the true-coordinate data: left out
    ("tianditu", []),   # no key: no basemap
    ({"url": "https://{s}.tiles.example.org/{z}/{x}/{y}.png?a=1&b=2", "attribution": "x"},
     ["https://a.tiles.example.org/%7Bz%7D/%7Bx%7D/%7By%7D.png?a%3D1%26b%3D2"]),
])
def test_project_basemap_is_an_xyz_layer(tmp_path, monkeypatch, basemap, expected):
    monkeypatch.delenv("TIANDITU_KEY", raising=False)
    study = make_study()
    settings = make_settings(tmp_path, map={"basemap": basemap})
    _, qgz = write_qgis_package(tmp_path / "q", study, {}, settings)
    sources = [m.findtext("datasource") for m in _project(qgz).iter("maplayer") if m.get("type") == "raster"]
    assert len(sources) == len(expected)
    for source, fragment in zip(sources, expected):
        assert source.startswith("type=xyz&url=") and fragment in source


def test_amap_basemap_is_left_out_with_a_note_and_a_warning(tmp_path, caplog):
    study = make_study()
    settings = make_settings(tmp_path, map={"basemap": "amap"}, study={"language": "zh"})
    with caplog.at_level("WARNING", logger="geo.qgis._project"):
        _, qgz = write_qgis_package(tmp_path / "q", study, {}, settings)
    root = _project(qgz)
    assert not [m for m in root.iter("maplayer") if m.get("type") == "raster"]
    assert "autonavi" not in ET.tostring(root, encoding="unicode")
    assert "GCJ-02" in root.findtext("projectMetadata/abstract")
    assert any("GCJ-02" in r.getMessage() for r in caplog.records)
    # the data stay in true coordinates (not shifted as on the web map)
    gpkg = qgz.parent / "zoneatlas.gpkg"
    back = pyogrio.read_dataframe(gpkg, layer="zones")
    assert back.geometry.geom_equals(study.zones.geometry.reset_index(drop=True)).all()


def test_layout_and_themes_in_english_for_an_english_study(tmp_path):
    """zh is covered in tests/test_qgis_web.py (PyQGIS); an English study gets English
    layout words, one theme per analysis and the CRS's ellipsoid (checked in the XML)."""
    from geo.qgis._layouts import NORTH_ARROW_SVG

    study = make_study()
    _, qgz = write_qgis_package(tmp_path / "q", study, make_results(study), make_settings(tmp_path))
    root = _project(qgz)
    layouts = root.findall("Layouts/Layout")
    assert [l.get("name") for l in layouts] == ["Jobs–housing balance", "Cross-district collaboration",
                                                "Core–periphery layout"]
    titles = [i.get("labelText") for i in root.iter("LayoutItem") if i.get("id") == "title"]
    assert titles == [f"Test study — {l.get('name')}" for l in layouts]
    assert {i.get("file") for i in root.iter("LayoutItem") if i.get("file")} == {NORTH_ARROW_SVG}
    assert root.findtext("properties/Measure/Ellipsoid") == "EPSG:1024"
    themes = [t.get("name") for t in root.findall("visibility-presets/visibility-preset")]
    assert themes == [l.get("name") for l in layouts]
    # every theme shows the basemap (carto-light here), as the web pages; legends leave it out
    basemap = next(m.findtext("id") for m in root.iter("maplayer") if m.get("type") == "raster")
    for preset in root.findall("visibility-presets/visibility-preset"):
        assert basemap in {l.get("id") for l in preset.findall("layer")}
    for layout in layouts:
        legend = next(i for i in layout.iter("LayoutItem") if i.get("id") == "legend")
        assert basemap not in {l.get("id") for l in legend.iter("layer-tree-layer")}


def test_tianditu_with_key_gives_base_and_label_layers(tmp_path):
    study = make_study()
    settings = make_settings(tmp_path, map={"basemap": "tianditu", "tianditu_key": "KEY123"})
    _, qgz = write_qgis_package(tmp_path / "q", study, {}, settings)
    sources = [m.findtext("datasource") for m in _project(qgz).iter("maplayer") if m.get("type") == "raster"]
    assert len(sources) == 2 and all("tk%3DKEY123" in s for s in sources)
    # labels (eva in English) above the base tiles (vec)
    assert "LAYER%3Deva" in sources[0] and "LAYER%3Dvec" in sources[1]


def test_project_paths_groups_and_crs(package):
    _, qgz, _, _, _ = package
    root = _project(qgz)
    assert root.find("properties/Paths/Absolute").text == "false"
    assert root.findtext("projectCrs/spatialrefsys/authid") == "EPSG:4544"
    sources = [m.findtext("datasource") for m in root.iter("maplayer") if m.get("type") == "vector"]
    assert sources and all(s.startswith("./zoneatlas.gpkg|layername=") for s in sources)
    groups = [g.get("name") for g in root.find("layer-tree-group").findall("layer-tree-group")]
    assert groups == ["Jobs–housing balance", "Cross-district collaboration", "Core–periphery layout", "Inputs"]
    # points and lines above polygons inside a group; housing off by default
    inputs = root.find("layer-tree-group").findall("layer-tree-group")[-1]
    names = [n.get("source").rsplit("=", 1)[1] for n in inputs.findall("layer-tree-layer")]
    assert names == ["housing", "district_boundaries", "innovation_districts", "districts", "zones"]
    assert inputs.find("layer-tree-layer").get("checked") == "Qt::Unchecked"
    collab = root.find("layer-tree-group").findall("layer-tree-group")[1]
    first = collab.find("layer-tree-layer").get("source")    # the recommended pairs, as the web page opens
    assert first == './zoneatlas.gpkg|layername=collaboration_pairs|subset="recommended" = 1', first


def test_only_some_analyses(tmp_path):
    study = make_study()
    results = make_results(study)
    gpkg, qgz = write_qgis_package(tmp_path / "q", study, {"core_periphery": results["core_periphery"]},
                                   make_settings(tmp_path))
    names = {row[0] for row in pyogrio.list_layers(gpkg)}
    assert "core_periphery_zones" in names and "balance_workplaces" not in names
    groups = [g.get("name") for g in _project(qgz).find("layer-tree-group").findall("layer-tree-group")]
    assert groups == ["Core–periphery layout", "Inputs"]


@pytest.fixture
def empty_pairs_package(tmp_path):
    """No pair and no link within reach: empty line layers, an empty table."""
    study = make_study()
    results = make_results(study)
    collab, cp = results["collaboration"].tables, results["core_periphery"].tables
    collab["collaboration_pairs"] = collab["collaboration_pairs"].iloc[0:0]
    collab["collaboration_chains"] = collab["collaboration_chains"].iloc[0:0]
    cp["core_periphery_links"] = cp["core_periphery_links"].iloc[0:0]
    return write_qgis_package(tmp_path / "q", study, results, make_settings(tmp_path))


def test_empty_line_layers_keep_their_geometry_type(empty_pairs_package):
    gpkg, _ = empty_pairs_package
    types = dict(_sql(gpkg, "SELECT table_name, geometry_type_name FROM gpkg_geometry_columns"))
    assert types["collaboration_pairs"] == "LINESTRING" and types["core_periphery_links"] == "LINESTRING"
    assert types["zones"] == "MULTIPOLYGON"        # Polygon + MultiPolygon promoted
    assert _sql(gpkg, "SELECT count(*) FROM collaboration_pairs") == [(0,)]
    assert _sql(gpkg, "SELECT data_type FROM gpkg_contents WHERE table_name = 'collaboration_chains'") == [
        ("attributes",)]


@pytest.mark.qgis
def test_pyqgis_empty_line_layers_are_styled_line_layers(pyqgis, empty_pairs_package, tmp_path):
    gpkg, qgz = empty_pairs_package
    report = run_pyqgis_check(pyqgis, tmp_path, qgz, gpkg)
    _assert_report(report, gpkg, crs="EPSG:4544",
                   groups=["Jobs–housing balance", "Cross-district collaboration", "Core–periphery layout",
                           "Inputs"])


def test_heavy_housing_is_off_and_scale_limited(tmp_path):
    study = make_study(n_housing=60_000)
    gpkg, qgz = write_qgis_package(tmp_path / "q", study, {}, make_settings(tmp_path))
    assert _sql(gpkg, "SELECT count(*) FROM housing") == [(60_000,)]
    root = _qml(gpkg, "housing")
    assert root.get("hasScaleBasedVisibilityFlag") == "1" and root.get("minScale") == "100000"
    layer = next(m for m in _project(qgz).iter("maplayer") if m.findtext("datasource").endswith("=housing"))
    assert layer.get("hasScaleBasedVisibilityFlag") == "1" and layer.get("minScale") == "100000"
    assert _qml(gpkg, "zones").get("hasScaleBasedVisibilityFlag") == "0"


def test_inputs_are_not_modified(tmp_path):
    study = make_study()
    results = make_results(study)
    before = study.zones.copy()
    pairs_before = results["collaboration"].tables["collaboration_pairs"].copy()
    write_qgis_package(tmp_path / "q", study, results, make_settings(tmp_path, crs={"export": "EPSG:4490"}))
    pd.testing.assert_frame_equal(study.zones, before)
    pd.testing.assert_frame_equal(results["collaboration"].tables["collaboration_pairs"], pairs_before)


# ---------------------------------------------------------------------------
# real client: PyQGIS


def _pyqgis_available(python: str) -> bool:
    if not Path(python).exists():
        return False
    probe = subprocess.run([python, "-c", "import qgis.core"], capture_output=True, timeout=120,
                           check=False)
    return probe.returncode == 0


def require_pyqgis(python: str = SYSTEM_PYTHON) -> str:
    """``python`` if it imports PyQGIS; else skip, or fail when running in CI."""
    if not _pyqgis_available(python):
        if os.environ.get("CI"):
            pytest.fail(f"PyQGIS is required in CI: {python} cannot import qgis "
                        "(install the Debian packages qgis and python3-qgis)")
        pytest.skip(f"PyQGIS not available under {python} (Debian packages qgis, python3-qgis)")
    return python


@pytest.fixture(scope="module")
def pyqgis():
    return require_pyqgis()


def test_missing_pyqgis_fails_in_ci_and_skips_elsewhere(monkeypatch, tmp_path):
    missing = str(tmp_path / "no-python")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="required in CI"):
        require_pyqgis(missing)
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception):
        require_pyqgis(missing)


def run_pyqgis_check(python: str, tmp_path: Path, *args: str | Path) -> dict:
    home = tmp_path / "qgis-home"
    home.mkdir(exist_ok=True)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home),
           "QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": str(home),
           "QGIS_CUSTOM_CONFIG_PATH": str(home / "profile"), "LANG": "C.UTF-8"}
    proc = subprocess.run([python, str(CHECK_SCRIPT), *map(str, args)], capture_output=True, text=True,
                          timeout=300, env=env, check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def gpkg_counts(gpkg: Path) -> dict[str, int]:
    return {name: pyogrio.read_info(gpkg, layer=name)["features"]
            for name, _ in pyogrio.list_layers(gpkg) if name != "layer_styles"}


def _count(gpkg: Path, table: str, subset: str) -> int:
    """Features of ``table`` passing the provider subset ``subset`` (SQL), counted by SQLite."""
    return _sql(gpkg, f'SELECT count(*) FROM "{table}"' + (f" WHERE {subset}" if subset else ""))[0][0]


def _assert_report(report: dict, gpkg: Path, *, crs: str, groups: list[str]) -> None:
    counts = gpkg_counts(gpkg)
    project = report["project"]
    assert project["read"], report
    assert project["crs"] == crs
    assert project["groups"] == groups
    vectors = {l["layername"]: l for l in project["layers"] if l["provider"] == "ogr" and not l["view"]}
    assert set(vectors) == set(counts)
    views = [l for l in project["layers"] if l["provider"] == "ogr" and l["view"]]
    for info in views:     # a second view of a table (geo.qgis._views): off, same table
        assert info["valid"] and info["visible"] is False and info["layername"] in counts, info
        assert info["features"] == _count(gpkg, info["layername"], info["subset"]), info
    for name, info in vectors.items():
        assert info["valid"], name
        # the whole table, or the part the web page shows at start (its subset, run by SQLite here)
        assert info["features"] == (_count(gpkg, name, info["subset"]) if info["subset"] else counts[name]), name
        # the relative path resolved against the project's (new) folder
        assert Path(info["source"].split("|", 1)[0]).resolve() == gpkg.resolve(), info["source"]
        expected = {**EXPECTED_RENDERERS, **CHAIN_RENDERERS, **NETWORK_RENDERERS, **COMMUTING_RENDERERS,
                    **PROJECT_RENDERERS}
        if name in expected:
            assert info["renderer"] == expected[name], name
    for l in project["layers"]:
        assert l["valid"], l
    # each layer on its own gets its default style from layer_styles
    # a sample study has firms (the chains layers) and an employment layer (points, one symbol)
    expected = {**EXPECTED_RENDERERS, **CHAIN_RENDERERS, **NETWORK_RENDERERS, **COMMUTING_RENDERERS,
                "employment": "singleSymbol"}
    for name, info in report["standalone"].items():
        assert info["valid"], name
        assert info["renderer"] == expected[name], name
    assert set(EXPECTED_RENDERERS) <= set(report["standalone"]) <= set(expected)
    # no QGIS warnings about our layers, styles or the project
    assert {"message": "probe", "tag": "zoneatlas-check", "level": 0} in report["messages"]
    bad = [m for m in report["messages"] if m["level"] >= 1]
    assert not bad, bad


@pytest.mark.qgis
def test_pyqgis_opens_project_and_layers(pyqgis, package, tmp_path):
    gpkg, qgz, _, _, _ = package
    report = run_pyqgis_check(pyqgis, tmp_path, qgz, gpkg)
    _assert_report(report, gpkg, crs="EPSG:4544",
                   groups=["Jobs–housing balance", "Cross-district collaboration", "Core–periphery layout",
                           "Inputs"])
    project = report["project"]
    # the basemap (carto-light by default) is a valid XYZ layer
    rasters = [l for l in project["layers"] if l["provider"] == "wms"]
    assert len(rasters) == 1 and rasters[0]["valid"] and "type=xyz" in rasters[0]["source"]
    by_name = {l["layername"]: l for l in project["layers"] if l["provider"] == "ogr" and not l["view"]}
    # field aliases and categories as written
    assert by_name["balance_workplaces"]["aliases"]["jhr"] == "Jobs–housing ratio"
    assert by_name["balance_workplaces"]["legend"] == ["Jobs-rich (> 1.25)", "Balanced (0.8–1.25)",
                                                       "Housing-rich (< 0.8)", "No housing in reach", "—",
                                                       "Innovation district"]
    cpz = by_name["core_periphery_zones"]
    assert cpz["styles"] == ["core_id", "role", "score", "strategy"]
    assert cpz["current_style"] == "core_id"
    assert cpz["alt_renderers"] == {"strategy": "categorizedSymbol", "role": "categorizedSymbol",
                                    "score": "graduatedSymbol"}
    assert cpz["core_id_symbol_found"] and cpz["core_id_attr"].startswith("CASE WHEN")
    assert by_name["zones"]["labels"] is True and by_name["zones"]["label_field"] == "name"
    assert report["standalone"]["balance_workplaces"]["aliases"]["jhr"] == "Jobs–housing ratio"
    # the input zones start hidden: their chain fill would show through the analysis layers
    assert by_name["housing"]["visible"] is False and by_name["zones"]["visible"] is False
    assert by_name["housing"]["scale_limited"] is False        # only 5 points
    assert project["title"] == "Test study"
    # the initial view covers the study area (inputs' bounds + 5 %)
    xmin, ymin, xmax, ymax = project["default_view"]
    assert xmin < 500_000 and xmax > 520_000 and ymin < 3_400_000 and ymax > 3_410_000
    assert xmax - xmin < 25_000
    # the recommended pairs drawn over the other candidates; jhr classes labelled as the web legend
    assert by_name["collaboration_pairs"]["order_by"] == '"recommended" ASC NULLS FIRST'
    assert by_name["balance_districts"]["legend"] == ["≤ 0.5", "0.5 – 0.8", "0.8 – 1.25", "1.25 – 2", "> 2"]
    # pairs by pair type (with its legend), the strength classes an alternative style
    pairs = by_name["collaboration_pairs"]
    assert pairs["categories"] == list(styles.PAIR_TYPES) and pairs["current_style"] == "pair_type"
    assert pairs["legend"] == [label(t, "en") for t in styles.PAIR_TYPES]
    assert pairs["alt_renderers"] == {"strength": "graduatedSymbol"}


@pytest.mark.qgis
def test_pyqgis_project_survives_move_and_zip(pyqgis, package, tmp_path):
    gpkg, _, _, _, _ = package
    moved = tmp_path / "elsewhere" / "deep" / "qgis"
    shutil.copytree(gpkg.parent, moved)
    shutil.rmtree(gpkg.parent)                     # the original is gone: no absolute path may survive
    archive = shutil.make_archive(str(tmp_path / "handover"), "zip", moved.parent, "qgis")
    unzipped = tmp_path / "unzipped"
    shutil.unpack_archive(archive, unzipped)
    for folder in (moved, unzipped / "qgis"):
        report = run_pyqgis_check(pyqgis, tmp_path, folder / "zoneatlas.qgz", folder / "zoneatlas.gpkg")
        _assert_report(report, folder / "zoneatlas.gpkg", crs="EPSG:4544",
                       groups=["Jobs–housing balance", "Cross-district collaboration",
                               "Core–periphery layout", "Inputs"])


@pytest.fixture(scope="module")
def sample_package(small_study, tmp_path_factory):
    """The real pipeline on the small sample study (zh), exported in EPSG:4490."""
    from geo.layers import load_study
    from geo.pipeline import run_analyses
    from geo.settings import load_settings

    settings = load_settings(small_study)
    settings.crs.export = "EPSG:4490"
    settings.commuting.top_flows = 3      # fewer than the sample's flows: the map opens on the top 3
    settings.collaboration.top_pairs_per_chain = 2      # and some candidate pairs are not recommended
    study = load_study(settings)
    results = run_analyses(study, settings)
    out = tmp_path_factory.mktemp("sample_qgis") / "qgis"
    gpkg, qgz = write_qgis_package(out, study, results, settings)
    return gpkg, qgz, study, results, settings


def test_sample_pipeline_package_has_every_table_with_nulls_kept(sample_package):
    gpkg, qgz, study, results, settings = sample_package
    assert settings.study.language == "zh"
    for name in ("districts", "zones", "innovation_districts", "housing"):
        assert pyogrio.read_info(gpkg, layer=name)["features"] == len(getattr(study, name)), name
    for result in results.values():
        for name, frame in result.tables.items():
            back = pyogrio.read_dataframe(gpkg, layer=name, read_geometry=False)
            assert len(back) == len(frame), name
            assert isinstance(frame, gpd.GeoDataFrame) == (
                _sql(gpkg, "SELECT data_type FROM gpkg_contents WHERE table_name = ?", name)[0][0] == "features")
            for col in frame.columns:
                if isinstance(frame, gpd.GeoDataFrame) and col == frame.geometry.name:
                    continue
                # every missing value is NULL, and nothing else is
                n_null = _sql(gpkg, f'SELECT count(*) FROM "{name}" WHERE "{col}" IS NULL')[0][0]
                assert n_null == int(frame[col].isna().sum()), (name, col)
    srs = set(dict(_sql(gpkg, "SELECT table_name, srs_id FROM gpkg_geometry_columns")).values())
    assert srs == {4490}
    # titles for tables the i18n terms do not cover yet come from the package's own terms
    titles = {m.findtext("layername") for m in _project(qgz).iter("maplayer")}
    assert "行政区协同矩阵" in titles or "collaboration_matrix" not in results["collaboration"].tables


def test_flows_are_drawn_beside_their_reverse(sample_package):
    """A→B and B→A share one straight line in the GeoPackage: each is drawn offset to the
    right of travel (QGIS: a positive line offset), as the web map bends them apart."""
    gpkg = sample_package[0]
    flows = pyogrio.read_dataframe(gpkg, layer="commuting_flows", read_geometry=False)
    pairs = set(zip(flows["district_a"], flows["district_b"]))
    assert any((b, a) in pairs for a, b in pairs)      # the sample has flows both ways
    offsets = [float(p.get("v")) for p in _qml(gpkg, "commuting_flows").iter("prop") if p.get("k") == "offset"]
    widths = [float(p.get("v")) for p in _qml(gpkg, "commuting_flows").iter("prop") if p.get("k") == "line_width"]
    assert offsets and all(o > w / 2 for o, w in zip(offsets, widths)), (offsets, widths)


@pytest.fixture(scope="module")
def sample_report(pyqgis, sample_package, tmp_path_factory):
    """The PyQGIS report of :func:`sample_package`."""
    gpkg, qgz, _, _, _ = sample_package
    return run_pyqgis_check(pyqgis, tmp_path_factory.mktemp("sample_pyqgis"), qgz, gpkg)


@pytest.mark.qgis
def test_pyqgis_sample_pipeline_package(sample_package, sample_report):
    gpkg, qgz, _, _, _ = sample_package
    report = sample_report
    # layers in EPSG:4490 (crs.export), the project in the metric working CRS (unstretched)
    _assert_report(report, gpkg, crs="EPSG:4544",
                   groups=["职住平衡", "跨区协同", "中心—外围格局", "强链补链：产业链完整度与链主企业", "通勤实况",
                           "输入数据"])
    layers = report["project"]["layers"]
    assert not [l for l in layers if l["provider"] == "wms"]          # the sample has basemap: none
    by_name = {l["layername"]: l for l in layers if not l.get("view")}
    assert by_name["zones"]["crs"] == "EPSG:4490"
    assert by_name["zones"]["title"] == "产业功能区"
    assert by_name["zones"]["aliases"]["zone_id"] == "功能区编号（原字段 id）"
    assert by_name["collaboration_pairs"]["categories"] == list(styles.PAIR_TYPES)
    # the commuting group: flows as lines by width, sheds off by default
    assert by_name["commuting_flows"]["renderer"] == "graduatedSymbol"
    checked = {n.get("id"): n.get("checked") for n in _project(qgz).iter("layer-tree-layer")}
    assert checked[by_name["commuting_flows"]["id"]] == "Qt::Checked"
    assert checked[by_name["commuting_sheds"]["id"]] == "Qt::Unchecked"
    # the pairs and the flows open as on the web pages: the recommended pairs, the top 3 flows;
    # the rest in a second layer of the same table, switched off and in no theme
    results = sample_package[3]
    views = {(l["layername"], l["view"]): l for l in layers if l["provider"] == "ogr"}
    flows = results["commuting"].tables["commuting_flows"]
    assert len(flows) > 3
    top, every = views["commuting_flows", ""], views["commuting_flows", "all"]
    assert (top["features"], every["features"]) == (3, len(flows))
    assert top["title"] == "跨区通勤流（路网距离，前 3 条）", top["title"]
    assert every["title"] == f"跨区通勤流（路网距离，全部 {len(flows)} 条）", every["title"]
    assert checked[every["id"]] == "Qt::Unchecked"
    recommended = results["collaboration"].tables["collaboration_pairs"]["recommended"].astype(bool)
    assert 0 < recommended.sum() < len(recommended)
    shown, other = views["collaboration_pairs", ""], views["collaboration_pairs", "other"]
    assert (shown["features"], other["features"]) == (recommended.sum(), (~recommended).sum())
    assert (shown["title"], other["title"]) == ("推荐协同对", "其他候选协同对")
    assert checked[other["id"]] == "Qt::Unchecked"
    themes = report["themes"]
    assert len(themes["通勤实况"]["layers"]["commuting_flows"]["colours"]) == 3
    assert len(themes["跨区协同"]["layers"]["collaboration_pairs"]["colours"]) == recommended.sum()
    assert all(every["id"] not in t["ids"] for t in themes.values())
    # the chains theme shows the chain chains.html opens on; every chain in a layer switched off
    from geo.analysis.chains import opening_chain

    chain = opening_chain(results["chains"])
    zones = results["chains"].tables["chain_zones"]
    one, every_chain = views["chain_zones", ""], views["chain_zones", "all"]
    assert (one["features"], every_chain["features"]) == (int((zones["chain"] == chain).sum()), len(zones))
    assert one["subset"] == f'"chain" = \'{chain}\'' and one["title"] == f"功能区链内环节（{chain}）"
    assert one["id"] in themes["强链补链：产业链完整度与链主企业"]["ids"] and checked[every_chain["id"]] == "Qt::Unchecked"
    # the links' legend names the poles (it listed their ids), and links widen with attach_prob
    zone_names = set(sample_package[2].zones["name"])
    links_legend = by_name["core_periphery_links"]["legend"]
    assert set(links_legend) - {"—"} <= zone_names and len(links_legend) > 1, links_legend
    expressions = [o.get("value") for o in _qml(gpkg, "core_periphery_links").iter("Option")
                   if o.get("name") == "expression"]
    assert any(e and e.startswith('CASE WHEN "attach_prob" <= 0.25 THEN') for e in expressions), expressions
    # one legend row for the poles (their stars are alike), as on the web map
    assert by_name["core_periphery_poles"]["legend"] in (["极核", "其他极核"], ["极核"]), \
        by_name["core_periphery_poles"]["legend"]
    assert by_name["commuting_workplaces"]["features"] == len(sample_package[3]["commuting"]
                                                               .tables["commuting_workplaces"])


def _flow_rows_by_hand(commuters) -> list[str]:
    """The web legend's rows for flows ``commuters``, derived here from the design: widths by
    class of the largest flow, from 1/16, 1/8, 1/4, 1/2 of it on; each class present, widest
    first, labelled with the fewest and most commuters of its flows."""
    values = [float(v) for v in commuters]
    top = max(values)
    classes: dict[int, list[float]] = {}
    for v in values:
        classes.setdefault(sum(v >= top * f for f in (1 / 16, 1 / 8, 1 / 4, 1 / 2)), []).append(v)
    return [f"{min(classes[k]):,.0f} – {max(classes[k]):,.0f}" for k in sorted(classes, reverse=True)]


@pytest.mark.qgis
def test_pyqgis_top_flows_legend_labels_the_flows_it_draws(sample_package, sample_report):
    """The theme's flow layer draws the top 3 flows: its legend (layer tree and print layout)
    labels each width class by the fewest – most commuters of those flows, widest first, as
    commuting.html's legend; the switched-off layer of every flow by all flows. (Both gave
    the class bounds over all flows, 0 – 1,403 ...)"""
    gpkg = sample_package[0]
    flows = pyogrio.read_dataframe(gpkg, layer="commuting_flows", read_geometry=False, fid_as_index=True)
    assert len(flows) > 3
    layers = {(l["layername"], l["view"]): l for l in sample_report["project"]["layers"] if l["provider"] == "ogr"}
    top, every = layers["commuting_flows", ""], layers["commuting_flows", "all"]
    want_top = _flow_rows_by_hand(flows.loc[flows["rank"] <= 3, "commuters"])
    assert top["legend"] == want_top, (top["legend"], want_top)
    assert every["legend"] == _flow_rows_by_hand(flows["commuters"])
    printed = sample_report["layouts"]["通勤实况"]["legend_rows"][top["title"]]
    assert [text for text, _ in printed] == want_top
    # each flow still drawn as wide as the web map draws it (in px at the print scale): its class of the largest
    colours = sample_report["themes"]["通勤实况"]["layers"]["commuting_flows"]["colours"]
    biggest = float(flows["commuters"].max())
    drawn = flows[flows["rank"] <= 3]
    assert set(colours) == {str(fid) for fid in drawn.index}
    for fid, commuters in drawn["commuters"].items():
        k = sum(float(commuters) >= biggest * f for f in (1 / 16, 1 / 8, 1 / 4, 1 / 2))
        assert colours[str(fid)]["width_mm"] == pytest.approx((1.0, 2.0, 3.5, 5.0, 7.0)[k] * MM_PER_WEB_PX,
                                                              abs=1e-3), fid
