"""The roads and the travel-time catchments on the outputs: the web maps (one shared road
drawing on every page, the isochrone on click, minutes in popups) in headless Chromium,
and the QGIS package (``roads`` by class, ``balance_isochrones``) in the GeoPackage and in
PyQGIS."""

from __future__ import annotations

import sqlite3

import geopandas as gpd
import pyogrio
import pytest
from shapely.geometry import LineString

from geo import styles
from geo.webmap import _roads
from tests.test_qgis import require_pyqgis, run_pyqgis_check


@pytest.fixture(scope="module")
def sample_run(small_study, tmp_path_factory):
    """The small sample (roads, reach: network) analysed; maps and QGIS package written."""
    from geo.layers import load_study
    from geo.pipeline import run_analyses
    from geo.qgis import write_qgis_package
    from geo.settings import load_settings
    from geo.webmap import write_maps

    settings = load_settings(small_study)
    study = load_study(settings)
    results = run_analyses(study, settings)
    out = tmp_path_factory.mktemp("roads_out")
    pages = write_maps(out / "maps", study, results, settings, {})
    gpkg, qgz = write_qgis_package(out / "qgis", study, results, settings)
    return study, results, settings, pages, gpkg, qgz


def _ctx(roads):
    from geo.basemaps import resolve_basemap
    from geo.settings import settings_from_dict
    from geo._types import Study
    from geo.webmap._base import MapContext

    settings = settings_from_dict({"layers": {"zones": {"path": "z.gpkg"}}, "map": {"basemap": "none"}},
                                  base_dir=".")
    study = Study(crs=roads.crs, zones=gpd.GeoDataFrame(geometry=[], crs=roads.crs), roads=roads)
    return MapContext(study, settings, resolve_basemap(settings.map, "en"))


def test_road_drawing_leaves_out_slow_classes_beyond_the_budget(monkeypatch):
    # 3 motorway lines of 2 vertices, 40 local streets of 2 vertices, 2 of an own class
    geoms = [LineString([(0, i * 100), (5000, i * 100)]) for i in range(45)]
    cls = ["motorway"] * 3 + ["local"] * 40 + ["busway"] * 2
    roads = gpd.GeoDataFrame({"road_id": [f"R{i}" for i in range(45)], "class": cls}, geometry=geoms,
                             crs="EPSG:4544")
    monkeypatch.setattr(_roads, "VERTEX_BUDGET", 88)
    d = _roads.road_drawing(_ctx(roads))
    assert d.drawn == ["motorway", "local"] and d.left_out == ["other"] and d.count == 2
    monkeypatch.setattr(_roads, "VERTEX_BUDGET", 50)
    d = _roads.road_drawing(_ctx(roads))
    assert d.drawn == ["motorway"] and d.left_out == ["local", "other"]
    monkeypatch.setattr(_roads, "VERTEX_BUDGET", 1000)
    assert _roads.road_drawing(_ctx(roads)).drawn == ["motorway", "local", "other"]
    assert _roads.road_drawing(_ctx(roads.iloc[:0])) is None


def test_geopackage_has_roads_by_class_and_isochrones(sample_run):
    study, results, _, _, gpkg, _ = sample_run
    with sqlite3.connect(gpkg) as con:
        qml = dict(con.execute("SELECT f_table_name, styleQML FROM layer_styles WHERE useAsDefault"))
        n_iso = con.execute("SELECT count(*) FROM balance_isochrones").fetchone()[0]
        n_roads = con.execute("SELECT count(*) FROM roads").fetchone()[0]
    assert n_roads == len(study.roads)
    assert n_iso == int(results["balance"].tables["balance_workplaces"]["workers"].notna().sum()) > 0
    assert 'type="categorizedSymbol"' in qml["roads"] and 'attr="class"' in qml["roads"]
    for key in styles.ROAD_CLASSES:
        assert f'value="{key}"' in qml["roads"]
    assert "balance_isochrones" in qml
    # the sample shuts motorways and expressways to access: the roads layer's description says so
    meta = pyogrio.read_info(gpkg, layer="roads").get("layer_metadata") or {}
    assert meta.get("DESCRIPTION") == "住宅和就业地不就近步行进出高速公路、快速路，只在其与其他道路的交汇点进出。"


@pytest.mark.qgis
def test_pyqgis_roads_and_isochrones(sample_run, tmp_path):
    python = require_pyqgis()
    _, _, _, _, gpkg, qgz = sample_run
    report = run_pyqgis_check(python, tmp_path, qgz, gpkg)
    by_name = {l["layername"]: l for l in report["project"]["layers"] if l["provider"] == "ogr"}
    roads = by_name["roads"]
    assert roads["valid"] and roads["renderer"] == "categorizedSymbol"
    assert roads["categories"] == [*styles.ROAD_CLASSES, ""]
    assert roads["aliases"]["speed_kmh"] == "车速（公里/小时）（原字段 speed）"
    iso = by_name["balance_isochrones"]
    assert iso["valid"] and iso["renderer"] == "singleSymbol" and iso["features"] > 0


@pytest.mark.browser
def test_maps_draw_roads_and_the_isochrone_on_click(sample_run, browser):
    study, results, _, pages, _, _ = sample_run
    iso = results["balance"].tables["balance_isochrones"]
    for name in ("balance", "collaboration", "core_periphery"):
        with browser.open(pages[name]) as run:
            page = run.page
            info = page.evaluate("""() => {
                const r = zoneatlas.overlays.roads;
                const box = document.querySelector('input[data-layer="roads"]');
                return {on: zoneatlas.map.hasLayer(r), n: r.getLayers().length, pane: r.options.pane,
                        control: !!box && box.checked};
            }""")
            assert info == {"on": True, "n": 5, "pane": "zaBack", "control": True}, (name, info)
            # the sample shuts motorways and expressways to access: the roads legend says so
            note = page.evaluate("""() => [...document.querySelectorAll('.za-legend-note')]
                                      .map(n => n.textContent).join(' ')""")
            assert "住宅和就业地不就近步行进出高速公路、快速路" in note, note
            assert not run.page_errors and not run.console_errors and not run.blocked
            if name != "balance":
                continue
            wid = str(iso["workplace_id"].iloc[0])
            got = page.evaluate("""(wid) => {
                let hit = null;
                zoneatlas.overlays.workplaces.eachLayer(l => { if (l.feature.properties.workplace_id === wid) hit = l; });
                hit.fire('click', {latlng: hit.getBounds().getCenter()});
                const sel = zoneatlas.selection.getLayers();
                let drawn = null;
                zoneatlas.overlays.isochrones.eachLayer(l => { if (l.feature.properties.workplace_id === wid) drawn = l; });
                const b = sel[0].getBounds(), d = drawn.getBounds();
                const table = document.querySelector('.leaflet-popup-content');
                return {n: sel.length, same: b.equals(d, 1e-9), popup: table ? table.textContent : ''};
            }""", wid)
            assert got["n"] == 1 and got["same"], got
            assert "30分钟内居住就业人口" in got["popup"] and "分钟" in got["popup"]
            # the isochrone drawn is the workplace's and reaches further than its polygon
            poly = study.zones.set_index("zone_id").geometry.get(wid)
            assert poly is None or iso.geometry.iloc[0].area > poly.area
