"""The HTML maps: structure of the folium objects, offline assets, escaping, real browser.

Browser tests (``-m browser``) open every generated file from disk in headless Debian
Chromium with the network cut off (tests/_browser.py). They skip when Chromium is
missing, except in CI (env ``CI`` set) where a missing browser is a failure.
"""

from __future__ import annotations

import json
import math
import re
import sys
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from pyproj import CRS, Transformer

from geo import styles
from tests import _reference as ref
from geo._errors import ConfigError
from geo._types import AnalysisResult, Study
from geo.settings import settings_from_dict
from geo.webmap import build_maps, write_maps
from geo.webmap._assets import external_urls, leaflet_css, leaflet_js
from geo.webmap._base import layers_of
from geo.basemaps import TIANDITU_KEY_MISSING, resolve_basemap, tile_hosts
from geo.webmap._controls import GroupedLayerControl, Legend
from geo.webmap._layers import feature_collection, hexagon_grid

sys.path.insert(0, str(Path(__file__).parent))
from _browser import overlay_counts, overlays_on_map

CRS_M = CRS.from_epsg(4544)  # CGCS2000 3-degree GK, CM 105°E (metres)
EVIL = "<img src=x onerror=alert(1)>"
X0, Y0 = 500_000.0, 3_400_000.0


# ---------------------------------------------------------------------------
# fixture: a hand-made study and results with the documented columns (docs/outputs.md)


def _square(cx: float, cy: float, half: float) -> shapely.Polygon:
    return shapely.box(cx - half, cy - half, cx + half, cy + half)


def make_fixture() -> tuple[Study, dict[str, AnalysisResult]]:
    """Two districts, six zones in two chains (one zone with a hostile name), one
    innovation district, 300 housing points; results shaped like the analyses' output."""
    districts = gpd.GeoDataFrame(
        {"district_id": ["D1", "D2"], "name": ["锦江区", "高新区"]},
        geometry=[shapely.box(X0 - 20_000, Y0 - 10_000, X0, Y0 + 10_000),
                  shapely.box(X0, Y0 - 10_000, X0 + 20_000, Y0 + 10_000)], crs=CRS_M)
    centres = [(-12_000, 0), (-5_000, 4_000), (-8_000, -6_000), (6_000, 2_000), (12_000, -3_000), (15_000, 6_000)]
    zones = gpd.GeoDataFrame({
        "zone_id": [f"Z{i}" for i in range(1, 7)],
        "name": ["电子信息产业园", EVIL, "生物医药城", "软件园", "医疗器械园", "集成电路基地"],
        "district_id": ["D1", "D1", "D1", "D2", "D2", "D2"],
        "chain": ["电子信息", "电子信息", "生物医药", "电子信息", "生物医药", "电子信息"],
        "jobs": [12000.0, 3000.0, 8000.0, 20000.0, 2500.0, 6000.0],
        "output": [300.0, 40.0, 150.0, 520.0, np.nan, 90.0],
        "role": ["manufacturing", "supporting", "rd", "rd", "manufacturing", "terminal"],
    }, geometry=[_square(X0 + dx, Y0 + dy, 900) for dx, dy in centres], crs=CRS_M)
    innov = gpd.GeoDataFrame({"innov_id": ["I1"], "name": ["天府创新街区"], "chains": ["电子信息;生物医药"],
                              "jobs": [4000.0]}, geometry=[_square(X0 + 2_000, Y0 - 2_000, 700)], crs=CRS_M)
    rng = np.random.default_rng(0)
    hx = X0 + rng.normal(0, 7_000, 300)
    hy = Y0 + rng.normal(0, 5_000, 300)
    housing = gpd.GeoDataFrame({"housing_id": [f"H{i}" for i in range(300)],
                                "dwellings": rng.integers(50, 400, 300).astype(float)},
                               geometry=shapely.points(hx, hy), crs=CRS_M)
    study = Study(crs=CRS_M, zones=zones, districts=districts, innovation_districts=innov, housing=housing)

    wp_geoms = list(zones.geometry) + list(innov.geometry)
    workers = np.array([5000.0, 6000.0, 0.0, 9000.0, 4000.0, 2000.0, 3500.0])
    jobs = np.array([*zones["jobs"], 4000.0])
    jhr = np.where(workers > 0, jobs / np.where(workers > 0, workers, 1), np.nan)
    cls = np.where(workers == 0, "no_housing", np.where(jhr > 1.25, "jobs_rich", np.where(jhr < 0.8, "housing_rich",
                                                                                         "balanced")))
    balance_wp = gpd.GeoDataFrame({
        "workplace_id": [*zones["zone_id"], "I1"], "kind": ["zone"] * 6 + ["innovation_district"],
        "name": [*zones["name"], "天府创新街区"], "district_id": [*zones["district_id"], "D2"], "jobs": jobs,
        "workers_3000": workers * 0.5, "workers_5000": workers, "workers_10000": workers * 2, "workers": workers,
        "jhr": jhr, "balance_class": cls, "workers_shared": workers * 0.8, "jhr_shared": jhr / 0.8,
    }, geometry=wp_geoms, crs=CRS_M)
    balance_d = gpd.GeoDataFrame({"district_id": ["D1", "D2"], "name": ["锦江区", "高新区"],
                                  "jobs": [23000.0, 32500.0], "workers": [40000.0, 20000.0],
                                  "jhr": [0.575, 1.625], "balance_class": ["housing_rich", "jobs_rich"]},
                                 geometry=list(districts.geometry), crs=CRS_M)
    balance = AnalysisResult("balance", {"balance_workplaces": balance_wp, "balance_districts": balance_d,
                                         "balance_landuse": pd.DataFrame({"innov_id": ["I1"],
                                                                          "landuse_entropy": [0.7]})},
                             summary={"workplaces": 7, "jobs_rich": int((cls == "jobs_rich").sum())})

    cent = {z: g.centroid for z, g in zip(zones["zone_id"], zones.geometry)}
    pair_rows = [("Z1", "Z4", "电子信息", "D1", "D2", 16000.0, 900.0, "main_partner", 1, True, "主承载 + 协同地：距离 16 公里"),
                 ("Z2", "Z6", "电子信息", "D1", "D2", 18000.0, 20.0, "terminal_supporting", 2, True, f"reason {EVIL}"),
                 ("Z1", "Z6", "电子信息", "D1", "D2", 25000.0, 50.0, "peer", 3, False, "peer"),
                 ("Z3", "Z5", "生物医药", "D1", "D2", 19000.0, 30.0, "rd_manufacturing", 1, True, "研发 + 制造")]
    pairs = gpd.GeoDataFrame(
        pair_rows, columns=["zone_a", "zone_b", "chain", "district_a", "district_b", "distance_m", "strength",
                            "pair_type", "rank", "recommended", "reason"],
        geometry=[shapely.LineString([cent[a], cent[b]]) for a, b, *_ in pair_rows], crs=CRS_M)
    partner = {"Z1": "Z4", "Z2": "Z6", "Z3": "Z5", "Z4": "Z1", "Z5": "Z3", "Z6": "Z2"}
    czones = gpd.GeoDataFrame({
        "zone_id": zones["zone_id"], "name": zones["name"], "chain": zones["chain"],
        "district_id": zones["district_id"], "nearest_partner_id": zones["zone_id"].map(partner),
        "nearest_partner_district": ["D2", "D2", "D2", "D1", "D1", "D1"],
        "nearest_partner_m": [16000.0, 18000.0, 19000.0, 16000.0, 19000.0, 18000.0],
        "partners_within": [2, 1, 1, 1, 1, 2], "nearest_innov_id": ["I1"] * 6,
        "nearest_innov_m": [12000.0, 6500.0, 9000.0, 3000.0, 9000.0, 14000.0],
    }, geometry=list(zones.geometry), crs=CRS_M)
    chains = pd.DataFrame({"chain": ["生物医药", "电子信息"], "zones": [2, 4], "districts": [2, 2],
                           "share_linked": [1.0, 1.0], "mean_nearest_partner_m": [19000.0, 17000.0],
                           "standard_distance_m": [9000.0, 11000.0]})
    collaboration = AnalysisResult("collaboration", {"collaboration_pairs": pairs, "collaboration_zones": czones,
                                                     "collaboration_chains": chains,
                                                     "collaboration_matrix": pd.DataFrame()},
                                   summary={"pairs": 4, "recommended": 3})

    score = np.array([0.8, 0.1, 0.5, 1.0, 0.05, 0.3])
    cp = gpd.GeoDataFrame({
        "zone_id": zones["zone_id"], "name": zones["name"], "chain": zones["chain"],
        "district_id": zones["district_id"], "score": score, "rank": [2, 5, 3, 1, 6, 4],
        "role": ["core", "periphery", "periphery", "core", "periphery", "periphery"],
        "core_id": ["Z1", "Z1", "Z1", "Z4", "Z4", "Z4"],
        "core_distance_m": [0.0, 5000.0, 6000.0, 0.0, 4000.0, np.nan],
        "attach_prob": [np.nan, 0.9, 0.6, np.nan, 0.3, np.nan],
        "strategy": ["independent_pole", "collaborative_subordinate", "collaborative_subordinate",
                     "independent_pole", "collaborative_subordinate", "isolated"],
        "periphery_count": [2, 0, 0, 1, 0, 0],
    }, geometry=list(zones.geometry), crs=CRS_M)
    links = gpd.GeoDataFrame({"zone_id": ["Z2", "Z3", "Z5"], "core_id": ["Z1", "Z1", "Z4"],
                              "distance_m": [5000.0, 6000.0, 4000.0], "attach_prob": [0.9, 0.6, 0.3]},
                             geometry=[shapely.LineString([cent[a], cent[b]])
                                       for a, b in [("Z2", "Z1"), ("Z3", "Z1"), ("Z5", "Z4")]], crs=CRS_M)
    gradient = pd.DataFrame({"ring_from_m": [0.0, 5000.0, 10000.0, 15000.0],
                             "ring_to_m": [5000.0, 10000.0, 15000.0, 20000.0],
                             "zones": [1, 1, 2, 1], "mean_score": [0.1, 0.5, 0.55, 0.3]})
    summary = pd.DataFrame([{"n_cores": 2, "primacy": 0.55, "gini": 0.4, "rank_size_slope": -0.9}])
    core = AnalysisResult("core_periphery", {"core_periphery_zones": cp, "core_periphery_links": links,
                                             "core_periphery_summary": summary, "core_periphery_gradient": gradient},
                          summary={"n_zones": 6, "n_cores": 2, "n_attached": 3, "n_isolated": 1, "primacy": 0.55,
                                   "gini": 0.4, "rank_size_slope": -0.9})
    return study, {"balance": balance, "collaboration": collaboration, "core_periphery": core}


def make_settings(language: str = "zh", basemap="none", **map_extra):
    return settings_from_dict({
        "study": {"name": f"示例研究 {EVIL}", "language": language, "synthetic": True},
        "layers": {"zones": {"path": "zones.gpkg"}},
        "map": {"basemap": basemap, **map_extra},
    }, base_dir=".")


MANIFEST = {
    "study": "示例研究", "started": "2026-11-26T08:00:00+00:00", "finished": "2026-11-26T08:01:00+00:00",
    "zoneatlas_version": "0.1.0", "versions": {"folium": "0.20.0", "shapely": "2.2.0"},
    "inputs": [{"path": "layers/sample.gpkg", "sha256": "ab" * 32, "bytes": 12345}],
    "parameters": {"balance": {"radius_m": 5000}}, "counts": {"zones": 6}, "warnings": [f"warn {EVIL}"],
    "timings": {},
}


# ---------------------------------------------------------------------------
# helpers



@pytest.fixture(scope="module")
def fixture_data():
    return make_fixture()


@pytest.fixture(scope="module")
def built(fixture_data):
    study, results = fixture_data
    return build_maps(study, results, make_settings())


@pytest.fixture(scope="module")
def written(fixture_data, tmp_path_factory):
    study, results = fixture_data
    out = tmp_path_factory.mktemp("maps")
    return write_maps(out, study, results, make_settings(), MANIFEST)


def features(layer) -> list[dict]:
    return json.loads(layer.data)["features"]


def coords(geometry: dict) -> np.ndarray:
    return np.array(shapely.get_coordinates(shapely.from_geojson(json.dumps(geometry))))


# ---------------------------------------------------------------------------
# Python-side: structure of the folium objects and the HTML


def test_write_maps_returns_every_page(written):
    assert set(written) == {"index", "balance", "collaboration", "core_periphery"}
    assert all(p.is_file() and p.stat().st_size > 0 for p in written.values())


def test_write_maps_only_some_analyses(fixture_data, tmp_path):
    study, results = fixture_data
    out = write_maps(tmp_path, study, {"core_periphery": results["core_periphery"]}, make_settings(), MANIFEST)
    assert set(out) == {"index", "core_periphery"}
    assert not (tmp_path / "balance.html").exists()
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert 'href="core_periphery.html"' in index and 'href="balance.html"' not in index


def test_assets_are_inlined_and_no_cdn_remains(written):
    for name, path in written.items():
        text = path.read_text(encoding="utf-8")
        assert external_urls(text) == [], name
        assert "<script src" not in text and "<link" not in text, name
        for host in ("jsdelivr", "cdnjs", "unpkg", "code.jquery", "bootstrapcdn"):
            assert host not in text.lower(), (name, host)
        if name != "index":
            assert leaflet_js()[:2000] in text  # Leaflet itself, inline
            assert "data:image/png;base64," in text  # leaflet.css images as data URIs
            assert "bootstrap.bundle" not in text and "jquery-3" not in text


def test_leaflet_css_images_become_data_uris():
    css = leaflet_css()
    assert "url(images/" not in css and "data:image/png;base64," in css
    assert external_urls(css) == [] and external_urls(leaflet_js()) == []


def test_overlays_and_feature_counts(built):
    bal = layers_of(built["balance"])
    assert bal["workplaces"].count == 7 and bal["catchments"].count == 7
    # the district boundaries, each edge once: the shared edge and the outer edge's two halves
    assert bal["balance_districts"].count == 2 and bal["districts"].count == 3
    col = layers_of(built["collaboration"])
    chain_counts = {col[k].label: col[k].count for k in col if k.startswith("chain_")}
    assert chain_counts == {"电子信息": 4, "生物医药": 2}
    assert col["pairs_recommended"].count == 3 and col["pairs_other"].count == 1
    assert col["innovation_districts"].count == 1
    cp = layers_of(built["core_periphery"])
    assert cp["zones_by_core"].count == 6 and cp["zones_by_score"].count == 6
    assert cp["poles"].count == 2 and cp["isolated"].count == 1 and cp["links"].count == 3


def test_housing_is_aggregated_and_preserves_workers(built, fixture_data):
    study, _ = fixture_data
    hexes = layers_of(built["balance"])["housing_density"]
    feats = features(hexes)
    assert 0 < len(feats) < len(study.housing)  # aggregated, never one marker per dwelling
    total = sum(f["properties"]["workers"] for f in feats)
    assert total == pytest.approx(study.housing["dwellings"].sum() * 1.4, rel=1e-6)
    assert sum(f["properties"]["points"] for f in feats) == len(study.housing)


def test_hexagon_grid_by_hand():
    # two points 10 m apart share a 100 m hexagon; one 1 km away gets its own
    x = np.array([0.0, 10.0, 1000.0])
    y = np.array([0.0, 0.0, 0.0])
    polys, totals, counts = hexagon_grid(x, y, np.array([1.0, 2.0, 4.0]), size_m=100)
    assert sorted(totals.tolist()) == [3.0, 4.0] and sorted(counts.tolist()) == [1, 2]
    pts = shapely.points(x, y)
    for p, w in zip(pts, [3.0, 3.0, 4.0]):  # every point lies in exactly one occupied cell
        inside = shapely.covers(polys, p)
        assert int(inside.sum()) == 1
        assert totals[inside][0] == w   # and that cell holds its workers
    area = 3 * np.sqrt(3) / 2 * 100 ** 2
    assert np.allclose(shapely.area(polys), area)


def test_styles_come_from_geo_styles(built, fixture_data):
    _, results = fixture_data
    wp = layers_of(built["balance"])["workplaces"]
    for f in features(wp):
        style = wp.spec["styles"][f["properties"]["_s"]]
        assert style["fillColor"] == styles.BALANCE_CLASS_COLORS[f["properties"]["balance_class"]]
    col = layers_of(built["collaboration"])
    colors = styles.chain_colors(results["collaboration"].tables["collaboration_zones"]["chain"])
    for layer in col.values():
        if layer.layer_id.startswith("chain_"):
            assert {s["fillColor"] for s in layer.spec["styles"]} == {colors[layer.label]}
    rec = col["pairs_recommended"]
    # strength index by hand: log position between the weakest and strongest of all pairs
    all_strength = results["collaboration"].tables["collaboration_pairs"]["strength"].astype(float)
    lo, hi = math.log(all_strength.min()), math.log(all_strength.max())
    widths = {0: styles.LINE_WIDTHS[0] + 0.5, 1: styles.LINE_WIDTHS[2], 2: styles.LINE_WIDTHS[4]}
    for f in features(rec):
        index = round(100 * (math.log(f["properties"]["strength"]) - lo) / (hi - lo))
        assert f["properties"]["strength_index"] == index
        style = rec.spec["styles"][f["properties"]["_s"]]
        assert style["weight"] == widths[2 if index >= 67 else 1 if index >= 34 else 0]
        assert style["color"] == styles.PAIR_TYPE_COLORS[f["properties"]["pair_type"]]
    other = col["pairs_other"]
    assert all(s.get("dashArray") and s["weight"] < min(styles.LINE_WIDTHS[1:]) for s in other.spec["styles"])


def test_every_styled_overlay_has_a_legend_and_a_control_entry(built):
    for name, m in built.items():
        legend = next(c for c in m._children.values() if isinstance(c, Legend))
        control = next(c for c in m._children.values() if isinstance(c, GroupedLayerControl))
        in_legend = {lid for s in legend.sections for lid in s.layers}
        in_control = {i.id for g in control.groups for i in g.items}
        for layer_id in layers_of(m):
            assert layer_id in in_legend, (name, layer_id)
            assert layer_id in in_control, (name, layer_id)


def test_coordinates_rounded_and_in_wgs84(built):
    for m in built.values():
        for layer in layers_of(m).values():
            for f in features(layer):
                xy = coords(f["geometry"])
                assert np.allclose(xy, np.round(xy, 6), atol=1e-9)
                assert (np.abs(xy[:, 0] - 105) < 1).all() and (np.abs(xy[:, 1] - 30.7) < 1).all()


def test_attribute_text_is_escaped_in_every_file(written):
    for name, path in written.items():
        text = path.read_text(encoding="utf-8")
        assert EVIL not in text, name
        assert "onerror=alert" in text  # the text is there, in escaped form
        if name == "index":
            assert "&lt;img src=x onerror=alert(1)&gt;" in text
        else:
            assert "\\u003cimg src=x onerror=alert(1)\\u003e" in text
            # a name can never close the script element
            assert text.count("</script>") == text.count("<script")


def test_popup_fields_with_units(built):
    wp = layers_of(built["balance"])["workplaces"]
    popup = {f[0]: f[2] for f in wp.spec["popup"]}
    assert popup["workers"] == "people" and popup["jhr"] == "ratio" and popup["balance_class"] == "cat"
    col = layers_of(built["collaboration"])["chain_0"]
    fields = {f[0]: f for f in col.spec["popup"]}
    assert fields["nearest_partner_m"][2] == "km" and "nearest_partner_name" in fields
    pairs = {f[0] for f in layers_of(built["collaboration"])["pairs_recommended"].spec["popup"]}
    assert {"reason", "distance_m", "zone_a_name", "zone_b_name"} <= pairs
    feats = {f["properties"]["zone_id"]: f["properties"] for f in features(col)}
    any_zone = next(iter(feats.values()))
    assert "nearest_partner_name" in any_zone


def test_english_labels(fixture_data):
    study, results = fixture_data
    m = build_maps(study, results, make_settings("en"))["balance"]
    legend = next(c for c in m._children.values() if isinstance(c, Legend))
    text = "".join(s.html() for s in legend.sections)
    assert "Jobs-rich (&gt; 1.25)" in text and "Resident workers (density)" in text
    assert not re.search(r"[\u4e00-\u9fff]", text)  # no Chinese label left in an English legend
    wp = layers_of(m)["workplaces"]
    assert ["jhr", "Jobs–housing ratio", "ratio"] in wp.spec["popup"]


def test_tianditu_needs_a_key(fixture_data, monkeypatch):
    study, results = fixture_data
    monkeypatch.delenv("TIANDITU_KEY", raising=False)
    with pytest.raises(ConfigError) as err:
        build_maps(study, results, make_settings(basemap="tianditu"))
    assert str(err.value) == TIANDITU_KEY_MISSING
    monkeypatch.setenv("TIANDITU_KEY", "abc123")
    m = build_maps(study, {"balance": results["balance"]}, make_settings(basemap="tianditu"))["balance"]
    text = m.get_root().render()
    assert "LAYER=vec" in text and "LAYER=cva" in text and "tk=abc123" in text
    hosts = tile_hosts(resolve_basemap(make_settings(basemap="tianditu").map))
    from urllib.parse import urlsplit

    left = [u for u in external_urls(text) if urlsplit(u).netloc not in hosts]
    assert left == []


def test_amap_shifts_overlays_to_gcj02(fixture_data):
    from geo._coords import wgs84_to_gcj02

    study, results = fixture_data
    plain = layers_of(build_maps(study, results, make_settings(basemap="none"))["core_periphery"])
    amap_maps = build_maps(study, results, make_settings(basemap="amap"))
    shifted = layers_of(amap_maps["core_periphery"])
    a = coords(features(plain["zones_by_core"])[0]["geometry"])
    b = coords(features(shifted["zones_by_core"])[0]["geometry"])
    lon, lat = wgs84_to_gcj02(a[:, 0], a[:, 1])
    assert np.allclose(b, np.column_stack([lon, lat]), atol=2e-6)
    assert np.abs(b - a).max() > 1e-4  # a real shift (hundreds of metres)
    text = amap_maps["core_periphery"].get_root().render()
    assert "GCJ-02" in text and "autonavi.com" in text


def test_custom_basemap_escapes_attribution(fixture_data):
    study, results = fixture_data
    s = make_settings(basemap={"url": "https://tiles.intranet.example/{z}/{x}/{y}.png",
                               "attribution": "<b>规划院</b> tiles"})
    m = build_maps(study, {"balance": results["balance"]}, s)["balance"]
    text = m.get_root().render()
    assert "https://tiles.intranet.example/{z}/{x}/{y}.png" in text
    assert "<b>规划院</b>" not in text
    tiles = [c for c in m._children.values() if isinstance(c, folium.TileLayer)]
    assert [t.options["attribution"] for t in tiles] == ["&lt;b&gt;规划院&lt;/b&gt; tiles"]


def test_atlas_page(written):
    text = written["index"].read_text(encoding="utf-8")
    for href in ("balance.html", "collaboration.html", "core_periphery.html"):
        assert f'href="{href}"' in text
    assert "虚构示例数据" in text and "ab" * 32 in text and "folium" in text
    assert "<svg class=\"gradient-chart\"" in text and text.count("<circle") == 4
    assert "radius_m" in text  # parameters
    assert "<script" not in text
    # tables: the most job-rich workplace by ratio first
    jobs_rich = text.split('class="jobs-rich"')[1].split("</table>")[0]
    assert jobs_rich.index("集成电路基地") < jobs_rich.index("电子信息产业园")


# ---------------------------------------------------------------------------
# real browser: headless Debian Chromium, network cut off




#: (districts: the boundary lines of the two districts, each edge once — see test_overlays_and_feature_counts)
EXPECTED = {
    "balance": {"workplaces": 7, "catchments": 7, "balance_districts": 2, "districts": 3},
    "collaboration": {"chain_0": 2, "chain_1": 4, "pairs_recommended": 3, "pairs_other": 1,
                      "innovation_districts": 1, "districts": 3},
    "core_periphery": {"zones_by_core": 6, "zones_by_score": 6, "poles": 2, "isolated": 1, "links": 3,
                       "districts": 3},
}


def assert_clean(run, name):
    assert run.console_errors == [], name
    assert run.page_errors == [], name
    assert run.dialogs == [], name
    assert run.blocked == [], name  # nothing tried to reach the network


@pytest.mark.browser
@pytest.mark.parametrize("name", list(EXPECTED))
def test_map_in_browser(browser, written, built, name, tmp_path):
    with browser.open(written[name]) as run:
        page = run.page
        assert page.evaluate("typeof window.L === 'object' && typeof L.version === 'string'")
        counts = overlay_counts(page)
        for layer_id, n in EXPECTED[name].items():
            assert counts[layer_id] == n, (layer_id, counts)
        on_map = set(overlays_on_map(page))
        # SVG paths drawn for the overlays that start visible (one class per overlay)
        for layer_id in ("workplaces", "chain_1", "zones_by_core"):
            if layer_id in on_map:
                drawn = page.locator(f"path.za-l-{layer_id}").count()
                assert drawn == EXPECTED[name][layer_id], layer_id
        legend = page.locator(".za-legend")
        assert legend.count() == 1 and legend.inner_text().strip() != ""
        # one control entry per item of the layer control that was built
        control = next(c for c in built[name]._children.values() if isinstance(c, GroupedLayerControl))
        items = [i.id for g in control.groups for i in g.items]
        assert set(EXPECTED[name]) <= set(items)
        assert page.locator(".za-layers .za-item").count() == len(items)
        # the control counts the districts (2), not the boundary lines that draw them (3)
        shown = page.evaluate("""() => [...document.querySelectorAll('.za-layers label')]
            .map(l => [...l.querySelectorAll('span')].map(s => s.textContent))""")
        assert ["行政区", "(2)"] in shown, shown
        assert counts["districts"] == 3
        assert page.locator(".leaflet-control-scale").count() == 1
        assert page.locator(".za-fullscreen").count() == 1 and page.locator(".za-search input").count() == 1
        assert "示例研究" in page.locator(".za-title").inner_text()
        # the view is fitted to the study area (not the world)
        assert page.evaluate("zoneatlas.map.getZoom()") >= 9
        shot = tmp_path / f"{name}.png"
        page.screenshot(path=str(shot))
        assert shot.stat().st_size > 10_000
        assert_clean(run, name)


@pytest.mark.browser
def test_hostile_name_stays_text(browser, written):
    with browser.open(written["balance"]) as run:
        page = run.page
        page.fill(".za-search input", "onerror")
        hits = page.locator(".za-search-hit")
        assert hits.count() == 1
        assert hits.first.inner_text() == f"{EVIL} (Z2)"
        hits.first.click()
        popup = page.locator(".leaflet-popup-content .za-popup-title")
        popup.wait_for()
        assert popup.inner_text() == EVIL
        assert page.locator(".za-title").inner_text().startswith(f"示例研究 {EVIL}")
        assert page.evaluate("document.querySelectorAll('img[src=\"x\"]').length") == 0
        page.wait_for_timeout(200)
        assert_clean(run, "balance")
    with browser.open(written["collaboration"]) as run:  # pair reason with the same text
        page = run.page
        page.evaluate("""() => { const l = zoneatlas.overlays.pairs_recommended.getLayers()
            .find(x => String(x.feature.properties.reason).includes('onerror')); l.openPopup(); }""")
        assert EVIL in page.locator(".leaflet-popup-content").inner_text()
        assert page.evaluate("document.querySelectorAll('img[src=\"x\"]').length") == 0
        assert_clean(run, "collaboration")


@pytest.mark.browser
def test_controls_work(browser, written):
    with browser.open(written["core_periphery"]) as run:
        page = run.page
        # exclusive colouring: choosing the score swaps the zone overlays
        page.check('input[data-layer="zones_by_score"]')
        on = set(overlays_on_map(page))
        assert "zones_by_score" in on and "zones_by_core" not in on
        page.wait_for_timeout(50)
        sections = page.locator(".za-legend-section")
        visible = [sections.nth(i).inner_text() for i in range(sections.count()) if sections.nth(i).is_visible()]
        assert any("综合实力得分" in v for v in visible)
        # a checkbox removes an overlay, and its legend section disappears
        page.uncheck('input[data-layer="links"]')
        page.wait_for_timeout(50)
        assert "links" not in overlays_on_map(page)
        assert not page.locator('.za-legend-section[data-layers="links"]').is_visible()
        # fullscreen toggles the map container to fill the window
        page.click(".za-fullscreen")
        page.wait_for_timeout(100)
        assert page.evaluate("zoneatlas.map.getContainer().classList.contains('za-fs')")
        # search flies to a zone and opens its popup
        page.fill(".za-search input", "软件")
        page.locator(".za-search-hit").first.click()
        page.locator(".leaflet-popup-content").wait_for()
        assert "软件园" in page.locator(".leaflet-popup-content").inner_text()
        assert_clean(run, "core_periphery")
    with browser.open(written["collaboration"]) as run:  # pairs follow their chain's overlay
        page = run.page
        assert page.evaluate("zoneatlas.overlays.chain_1.getLayers()[0].feature.properties.chain") == "电子信息"
        page.uncheck('input[data-layer="chain_1"]')
        counts = overlay_counts(page)
        assert counts["pairs_recommended"] == 1 and counts["pairs_other"] == 0
        page.check('input[data-layer="chain_1"]')
        counts = overlay_counts(page)
        assert counts["pairs_recommended"] == 3 and counts["pairs_other"] == 1
        assert_clean(run, "collaboration")
    with browser.open(written["balance"]) as run:  # clicking a workplace draws its catchment
        page = run.page
        page.evaluate("""() => { zoneatlas.overlays.workplaces.getLayers()[0].fire('click'); }""")
        assert page.evaluate("zoneatlas.selection.getLayers().length") == 1
        assert_clean(run, "balance")


@pytest.mark.browser
def test_atlas_page_in_browser(browser, written, tmp_path):
    with browser.open(written["index"], wait_ready=False) as run:
        page = run.page
        links = page.eval_on_selector_all("a.open", "els => els.map(e => e.getAttribute('href'))")
        assert sorted(links) == ["balance.html", "collaboration.html", "core_periphery.html"]
        assert all((written["index"].parent / h).is_file() for h in links)
        assert page.locator("svg.gradient-chart circle").count() == 4
        assert EVIL in page.locator("h1").inner_text()
        page.screenshot(path=str(tmp_path / "index.png"), full_page=True)
        assert_clean(run, "index")


URL_RE = re.compile(r"https?://[^\s\"'<>)\\]+")


@pytest.mark.browser
def test_tile_requests_are_the_only_outside_requests(browser, fixture_data, tmp_path):
    """With a basemap, the only requests the page makes (all blocked here) are tiles."""
    study, results = fixture_data
    out = write_maps(tmp_path, study, {"balance": results["balance"]}, make_settings(basemap="osm"), MANIFEST)
    text = out["balance"].read_text(encoding="utf-8")
    assert {u.split("/")[2] for u in external_urls(text)} == {"tile.openstreetmap.org"}
    with browser.open(out["balance"]) as run:
        run.page.wait_for_timeout(300)
        assert run.blocked and all(u.startswith("https://tile.openstreetmap.org/") for u in run.blocked)
        assert run.page_errors == [] and run.dialogs == []
        assert "OpenStreetMap" in run.page.locator(".leaflet-control-attribution").inner_text()


# ---------------------------------------------------------------------------
# end to end: the real analyses on the generated small sample


@pytest.fixture(scope="module")
def sample_maps(tmp_path_factory):
    from geo.pipeline import run_analyses
    from geo.layers import load_study
    from geo.sample import write_sample
    from geo.settings import load_settings

    folder = tmp_path_factory.mktemp("sample")
    settings = load_settings(write_sample(folder, scale="small", seed=0))
    study = load_study(settings)
    results = run_analyses(study, settings)
    written = write_maps(folder / "maps", study, results, settings, MANIFEST)
    return study, results, settings, written


def test_sample_maps_structure(sample_maps):
    _study, results, settings, written = sample_maps
    assert settings.study.synthetic
    for name, path in written.items():
        assert external_urls(path.read_text(encoding="utf-8")) == [], name
    index = written["index"].read_text(encoding="utf-8")
    assert "虚构示例数据" in index and index.count("<circle") == len(
        results["core_periphery"].tables["core_periphery_gradient"].dropna(subset=["mean_score"]))


@pytest.mark.browser
def test_sample_maps_in_browser(browser, sample_maps, tmp_path):
    study, results, _settings, written = sample_maps
    expect = {
        "balance": {"workplaces": len(results["balance"].tables["balance_workplaces"]),
                    "balance_districts": len(results["balance"].tables["balance_districts"])},
        "collaboration": {"pairs_recommended": int(results["collaboration"].tables["collaboration_pairs"]
                                                   ["recommended"].sum())},
        "core_periphery": {"zones_by_core": len(study.zones),
                           "links": len(results["core_periphery"].tables["core_periphery_links"]),
                           "poles": int((results["core_periphery"].tables["core_periphery_zones"]["role"]
                                         == "core").sum())},
    }
    for name, want in expect.items():
        with browser.open(written[name]) as run:
            counts = overlay_counts(run.page)
            for layer_id, n in want.items():
                assert counts[layer_id] == n, (name, layer_id, counts)
            if name == "collaboration":
                chains = sum(v for k, v in counts.items() if k.startswith("chain_"))
                assert chains == len(study.zones)
            assert_district_lines(run.page, study, counts["districts"])
            run.page.screenshot(path=str(tmp_path / f"sample_{name}.png"))
            assert_clean(run, name)


def assert_district_lines(page, study, count):
    """The page draws the district boundaries as lines holding each edge once: line features,
    one SVG path each in the back pane, as long as half of (the districts' perimeters + the
    outer edge) — a shared edge counted once — and never overlapping."""
    lines = page.evaluate("""() => {
        const out = [];
        zoneatlas.overlays.districts.eachLayer(l => out.push(l.feature.geometry));
        return out;
    }""")
    assert len(lines) == count > 0
    assert {g["type"] for g in lines} <= {"LineString", "MultiLineString"}
    assert page.evaluate("zoneatlas.map.hasLayer(zoneatlas.overlays.districts)")
    assert page.locator(".leaflet-zaBack-pane path.za-l-districts").count() == count
    to_working = Transformer.from_crs("EPSG:4326", study.crs, always_xy=True)
    drawn = np.array([shapely.transform(shapely.from_geojson(json.dumps(g)), lambda xy: np.column_stack(
        to_working.transform(xy[:, 0], xy[:, 1]))) for g in lines], dtype=object)
    d = np.asarray(study.districts.geometry.values, dtype=object)
    perimeters = float(shapely.length(d).sum())
    outer = float(shapely.length(shapely.boundary(shapely.union_all(d))))
    total = float(shapely.length(drawn).sum())
    assert total == pytest.approx((perimeters + outer) / 2, rel=2e-3)
    assert total < 0.75 * perimeters                    # the sample's districts share most edges
    assert float(shapely.length(shapely.union_all(drawn))) == pytest.approx(total, rel=1e-6)


def _minimal(fixture_data):
    """No districts, innovation districts or housing; empty pair and link layers."""
    study, results = fixture_data
    bare = Study(crs=study.crs, zones=study.zones)
    col = results["collaboration"]
    pairs = col.tables["collaboration_pairs"].iloc[0:0]
    cp = results["core_periphery"]
    links = cp.tables["core_periphery_links"].iloc[0:0]
    zones = cp.tables["core_periphery_zones"].copy()
    zones.loc[0, "name"] = None  # a missing name shows as a dash, not "None"/"nan"
    wp = results["balance"].tables["balance_workplaces"].copy()
    wp.loc[0, "jhr"] = np.nan
    return bare, {
        "balance": AnalysisResult("balance", {"balance_workplaces": wp}),
        "collaboration": AnalysisResult("collaboration", {**col.tables, "collaboration_pairs": pairs}),
        "core_periphery": AnalysisResult("core_periphery", {**cp.tables, "core_periphery_links": links,
                                                            "core_periphery_zones": zones,
                                                            "core_periphery_gradient": pd.DataFrame()}),
    }


def test_minimal_study_and_empty_layers(fixture_data, tmp_path):
    study, results = _minimal(fixture_data)
    maps = build_maps(study, results, make_settings())
    assert "districts" not in layers_of(maps["balance"]) and "housing_density" not in layers_of(maps["balance"])
    assert "pairs_recommended" not in layers_of(maps["collaboration"])
    assert "links" not in layers_of(maps["core_periphery"])
    props = [f["properties"] for f in features(layers_of(maps["core_periphery"])["zones_by_core"])]
    assert props[0]["name"] is None and props[1]["name"] == EVIL
    wp = features(layers_of(maps["balance"])["workplaces"])
    assert wp[0]["properties"]["jhr"] is None  # NaN travels as null, never 0 or "nan"
    out = write_maps(tmp_path, study, results, make_settings(), MANIFEST)
    assert "gradient-chart" not in out["index"].read_text(encoding="utf-8")


@pytest.mark.browser
def test_minimal_study_in_browser(browser, fixture_data, tmp_path):
    study, results = _minimal(fixture_data)
    out = write_maps(tmp_path, study, results, make_settings(), MANIFEST)
    built = build_maps(study, results, make_settings())
    for name in ("balance", "collaboration", "core_periphery"):
        with browser.open(out[name]) as run:
            # the page shows exactly the overlays and features it was given
            want = {k: layer.count for k, layer in layers_of(built[name]).items()}
            assert want and overlay_counts(run.page) == want
            assert_clean(run, name)
    with browser.open(out["core_periphery"]) as run:
        run.page.evaluate("() => { zoneatlas.overlays.zones_by_core.getLayers()[0].openPopup(); }")
        text = run.page.locator(".leaflet-popup-content").inner_text()
        assert "None" not in text and "nan" not in text and "undefined" not in text


# ---------------------------------------------------------------------------
# property: any attribute text survives the trip into <script> as inert data



@hsettings(max_examples=50, deadline=None)
@given(st.lists(st.text(min_size=0, max_size=40), min_size=1, max_size=5))
def test_feature_collection_text_is_script_safe(names):
    geoms = np.array([shapely.Point(104.0 + i * 0.01, 30.0) for i in range(len(names))], dtype=object)
    text, count = feature_collection(geoms, pd.DataFrame({"name": names}))
    assert count == len(names)
    assert "<" not in text and ">" not in text and "&" not in text
    assert "\u2028" not in text and "\u2029" not in text
    back = [f["properties"]["name"] for f in json.loads(text)["features"]]
    assert back == names


def test_inputs_are_not_modified():
    study, results = make_fixture()
    before = {k: {n: t.copy(deep=True) for n, t in r.tables.items()} for k, r in results.items()}
    zones_before = study.zones.copy(deep=True)
    build_maps(study, results, make_settings(basemap="amap"))
    pd.testing.assert_frame_equal(study.zones, zones_before)
    for k, r in results.items():
        assert list(r.tables) == list(before[k])
        for n, t in r.tables.items():
            pd.testing.assert_frame_equal(t, before[k][n])


def test_map_pages_declare_their_language(fixture_data, tmp_path):
    """Screen readers and fonts pick the right language (CJK glyph shapes for zh)."""
    study, results = fixture_data
    for lang, attr in (("zh", "zh-CN"), ("en", "en")):
        written = write_maps(tmp_path / lang, study, results, make_settings(language=lang), MANIFEST)
        for name, path in written.items():
            assert f'<html lang="{attr}">' in path.read_text(encoding="utf-8"), (lang, name)
