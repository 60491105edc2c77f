"""What the web maps draw, read back out of the written HTML and checked against an
independent computation (issue 23): catchment rings at the configured radius, the
colour of every workplace, district, hexagon and zone from classes and quantile breaks
computed by tests/_reference.py, line widths of pairs and links. The palettes are
written out here as documented (ColorBrewer / Okabe–Ito hex codes), not taken from
geo/styles.py.
"""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
import shapely
from pyproj import Transformer

from geo.analysis import balance, collaboration, core_periphery
from geo.webmap import write_maps
from tests import _reference as ref
from tests.test_references import (
    BALANCE_NONDEFAULT,
    CORE_NONDEFAULT,
    CRS,
    X0,
    Y0,
    balance_fixture,
    balance_study,
    core_fixture,
    geometry,
    settings,
)

BALANCE_COLORS = {"jobs_rich": "#e66101", "balanced": "#f7f7f7", "housing_rich": "#5e3c99",
                  "no_housing": "#4d4d4d"}
JHR_BREAKS = [0.5, 0.8, 1.25, 2.0]
JHR_COLORS = ["#5e3c99", "#b2abd2", "#f7f7f7", "#fdb863", "#e66101"]
YLORRD_5 = ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"]
WIDTHS = [1.0, 2.0, 3.5, 5.0, 7.0]
PAIR_COLORS = {"main_partner": "#7A0019", "rd_manufacturing": "#08306B", "terminal_supporting": "#00441B",
               "peer": "#111111"}
MANIFEST = {"study": "t", "started": "2026-01-01T00:00:00+00:00", "finished": "2026-01-01T00:00:01+00:00",
            "zoneatlas_version": "0", "versions": {}, "inputs": [], "parameters": {}, "counts": {},
            "warnings": [], "timings": {}}

TO_WORKING = Transformer.from_crs("EPSG:4326", CRS, always_xy=True)


def drawn_layers(html: str) -> dict[str, tuple[dict, dict]]:
    """Every overlay of a written page: layer id -> (spec with styles, GeoJSON data)."""
    decoder = json.JSONDecoder()
    out = {}
    for m in re.finditer(re.escape("zoneatlas.addGeoJSON(Object.assign("), html):
        spec, end = decoder.raw_decode(html, m.end())
        rest = html[end:]
        assert rest.startswith(", {data: "), rest[:40]
        data, _ = decoder.raw_decode(rest, len(", {data: "))
        out[spec["id"]] = (spec, data)
    return out


def to_working(geom: dict) -> shapely.Geometry:
    g = shapely.from_geojson(json.dumps(geom))
    return shapely.transform(g, lambda xy: np.column_stack(TO_WORKING.transform(xy[:, 0], xy[:, 1])))


def fill_of(spec: dict, feature: dict) -> dict:
    return spec["styles"][feature["properties"]["_s"]]


@pytest.fixture(scope="module")
def balance_page(tmp_path_factory):
    fixture = balance_fixture(2)
    study = balance_study(*fixture)
    s = settings(balance=BALANCE_NONDEFAULT, map={"basemap": "none"})
    result = balance.run(study, s)
    out = tmp_path_factory.mktemp("balance_map")
    pages = write_maps(out, study, {"balance": result}, s, MANIFEST)
    return fixture, result, drawn_layers(pages["balance"].read_text(encoding="utf-8"))


def test_catchment_rings_lie_at_the_configured_radius(balance_page):
    (_, workplaces, *_), _, layers = balance_page
    spec, data = layers["catchments"]
    radius = BALANCE_NONDEFAULT["radius_m"]
    by_id = {w["id"]: w for w in workplaces}
    assert sorted(f["properties"]["workplace_id"] for f in data["features"]) == sorted(by_id)
    for f in data["features"]:
        w = by_id[f["properties"]["workplace_id"]]
        rects = [(a + X0, b + Y0, c + X0, d + Y0) for a, b, c, d in w["rects"]]
        ring = to_working(f["geometry"])
        # every vertex drawn lies on the circle of the radius around the workplace
        # (0.1 m of coordinate rounding), and the ring encloses almost all of the buffer
        outer = shapely.get_coordinates(shapely.get_exterior_ring(ring if ring.geom_type == "Polygon"
                                                                   else max(ring.geoms, key=lambda g: g.area)))
        d = [ref.point_feature_m(x, y, rects) for x, y in outer]
        assert min(d) == pytest.approx(radius, abs=0.5) and max(d) == pytest.approx(radius, abs=0.5)
        if len(rects) == 1:
            x0, y0, x1, y1 = rects[0]
            exact = (x1 - x0) * (y1 - y0) + 2 * radius * ((x1 - x0) + (y1 - y0)) + math.pi * radius**2
            assert 0.97 * exact < ring.area <= exact * 1.0001
    assert spec["styles"][0]["fill"] is False


def test_workplace_and_district_colours_follow_the_reference_classes(balance_page):
    (districts, workplaces, homes, dwellings, population, missing), _, layers = balance_page
    p = BALANCE_NONDEFAULT
    workers = [pop * p["employment_rate"] if m else dw * p["workers_per_dwelling"]
               for dw, pop, m in zip(dwellings, population, missing)]
    weighted = [(x, y, w) for (x, y), w in zip(homes, workers)]
    want = ref.balance_reference(workplaces, weighted, p["radii_m"], p["radius_m"], tuple(p["balanced_range"]))
    spec, data = layers["workplaces"]
    seen = set()
    for f in data["features"]:
        wid = f["properties"]["workplace_id"]
        assert f["properties"]["balance_class"] == want[wid]["balance_class"]
        cls = want[wid]["area_class"]     # the map leads with the area measure
        seen.add(cls)
        assert f["properties"]["area_class"] == cls
        assert fill_of(spec, f)["fillColor"] == BALANCE_COLORS[cls], wid
    assert len(seen) >= 3, seen
    want_d = ref.district_reference(districts, workplaces, weighted, tuple(p["balanced_range"]))
    spec, data = layers["balance_districts"]
    for f in data["features"]:
        jhr = want_d[f["properties"]["district_id"]]["jhr"]
        assert fill_of(spec, f)["fillColor"] == JHR_COLORS[ref.class_of(jhr, JHR_BREAKS)]


def test_housing_hexagon_colours_are_quantile_classes(balance_page):
    _, _, layers = balance_page
    spec, data = layers["housing_density"]
    values = [f["properties"]["workers"] for f in data["features"]]
    breaks = ref.quantile_breaks(values, 5)
    assert len(breaks) == 4
    for f in data["features"]:
        assert fill_of(spec, f)["fillColor"] == YLORRD_5[ref.class_of(f["properties"]["workers"], breaks)]


@pytest.fixture(scope="module")
def core_page(tmp_path_factory):
    import geopandas as gpd

    from geo._types import Study

    zones = core_fixture(21)
    frame = gpd.GeoDataFrame(
        {"zone_id": [z["id"] for z in zones], "name": [z["id"] for z in zones],
         "chain": [z["chain"] for z in zones], "district_id": ["D1", "D2"] * (len(zones) // 2) + ["D1"] * (len(zones) % 2),
         **{k: [z[k] for z in zones] for k in ("jobs", "output", "firms", "leader_firms", "rd_platforms")},
         "role": (["rd", "manufacturing", "terminal", "supporting"] * 5)[:len(zones)]},
        geometry=[geometry(z["rects"]) for z in zones], crs=CRS)
    study = Study(crs=CRS, zones=frame)
    s = settings(core_periphery=CORE_NONDEFAULT, collaboration={"max_distance_m": 9000, "distance_decay": 1.5,
                                                                "top_pairs_per_chain": 3},
                 map={"basemap": "none"}, study={"language": "en"})
    cp = core_periphery.run(study, s)
    roles = cp.tables["core_periphery_zones"].set_index("zone_id")["role"]
    col = collaboration.run(study, s, core_roles=roles)
    out = tmp_path_factory.mktemp("core_map")
    pages = write_maps(out, study, {"core_periphery": cp, "collaboration": col}, s, MANIFEST)
    return (zones, cp, col, drawn_layers(pages["core_periphery"].read_text(encoding="utf-8")),
            drawn_layers(pages["collaboration"].read_text(encoding="utf-8")))


def test_score_colours_are_quantile_classes_of_the_reference_scores(core_page):
    zones, _, _, layers, _ = core_page
    score = ref.scores(zones, CORE_NONDEFAULT["weights"])
    cores = set(ref.core_ids(score, CORE_NONDEFAULT["core_share"]))
    breaks = ref.quantile_breaks(list(score.values()), 5)
    assert len(breaks) == 4
    spec, data = layers["zones_by_score"]
    for f in data["features"]:
        zid = f["properties"]["zone_id"]
        style = fill_of(spec, f)
        assert style["fillColor"] == YLORRD_5[ref.class_of(score[zid], breaks)], zid
        assert (style["color"], style["weight"]) == (("#000000", 3.5) if zid in cores else ("#333333", 1)), zid


def test_links_join_zone_and_core_and_are_as_wide_as_their_probability(core_page):
    zones, cp, _, layers, _ = core_page
    score = ref.scores(zones, CORE_NONDEFAULT["weights"])
    cores = ref.core_ids(score, CORE_NONDEFAULT["core_share"])
    want = ref.attachment_reference(zones, score, cores, attach_max_m=CORE_NONDEFAULT["attach_max_m"],
                                    decay=CORE_NONDEFAULT["distance_decay"])
    by_id = {z["id"]: z for z in zones}
    spec, data = layers["links"]
    attached = {z for z, r in want.items() if r["strategy"] == "collaborative_subordinate"}
    assert len(data["features"]) == len(attached)
    for f in data["features"]:
        line = to_working(f["geometry"])
        (ax, ay), (bx, by) = shapely.get_coordinates(line)[[0, -1]]
        zone = next(z for z in attached if by_id[z]["rects"] and _at_centre(ax, ay, by_id[z]))
        core = want[zone]["core_id"]
        assert _at_centre(bx, by, by_id[core]), (zone, core)
        k = ref.class_of(want[zone]["attach_prob"], [0.25, 0.5, 0.75])
        assert fill_of(spec, f)["weight"] == pytest.approx(WIDTHS[k] * 0.7 + 0.5)


def _at_centre(x: float, y: float, zone: dict) -> bool:
    """Whether (x, y) is the representative point of a one-rectangle zone (its centre)."""
    if len(zone["rects"]) != 1:
        shape = geometry(zone["rects"])
        p = shapely.point_on_surface(shape)
        return abs(p.x - x) < 0.5 and abs(p.y - y) < 0.5
    a, b, c, d = zone["rects"][0]
    return abs((a + c) / 2 + X0 - x) < 0.5 and abs((b + d) / 2 + Y0 - y) < 0.5


def test_pair_lines_widths_are_strength_index_classes_and_colour_by_type(core_page):
    """Width: weak / medium / strong by the 0-100 strength index, i.e. the log position of a
    pair's strength between the weakest and the strongest of ALL candidate pairs (computed
    here from the table); colour: the pair type's own colour."""
    _, _, col, _, layers = core_page
    spec, data = layers["pairs_recommended"]
    pairs = col.tables["collaboration_pairs"]
    assert len(data["features"]) == int(pairs["recommended"].sum()) >= 6
    logs = [math.log(v) for v in pairs["strength"] if v > 0]
    lo, hi = min(logs), max(logs)
    widths = {0: 1.5, 1: 3.5, 2: 7.0}   # LINE_WIDTHS[0] + 0.5, [2], [4] as documented
    for f in data["features"]:
        index = round(100 * (math.log(f["properties"]["strength"]) - lo) / (hi - lo))
        style = fill_of(spec, f)
        assert style["weight"] == widths[2 if index >= 67 else 1 if index >= 34 else 0]
        assert style["color"] == PAIR_COLORS[f["properties"]["pair_type"]]
    assert len({fill_of(spec, f)["weight"] for f in data["features"]}) >= 2

def _drawn_outlines(districts: list[shapely.Geometry]) -> tuple[dict, list[shapely.Geometry]]:
    """The district layer a map draws (through :func:`district_outlines`, as every map builds
    it): its spec and its features back in the working CRS (metres)."""
    import geopandas as gpd

    from geo._types import Study
    from geo.basemaps import resolve_basemap
    from geo.webmap._base import MapContext, district_outlines, layers_of, new_map

    s = settings(map={"basemap": "none"})
    frame = gpd.GeoDataFrame({"district_id": [f"D{i}" for i in range(len(districts))],
                              "name": [f"D{i}" for i in range(len(districts))]}, geometry=districts, crs=CRS)
    study = Study(crs=CRS, zones=frame.iloc[:0], districts=frame)
    ctx = MapContext(study, s, resolve_basemap(s.map, s.study.language))
    m = new_map(ctx, "t")
    district_outlines(m, ctx)
    layer = layers_of(m)["districts"]
    data = json.loads(layer.data)
    assert layer.count == len(data["features"])
    return layer.spec, [to_working(f["geometry"]) for f in data["features"]]


def test_district_outlines_hold_each_shared_edge_once():
    """Two unit squares side by side (1 km): the outlines of both are 8 km long, the boundary
    drawn with each edge once 7 km — the shared edge drawn twice, its dashes out of step,
    looked solid while the outer edge looked dashed."""
    spec, lines = _drawn_outlines([shapely.box(X0, Y0, X0 + 1000, Y0 + 1000),
                                   shapely.box(X0 + 1000, Y0, X0 + 2000, Y0 + 1000)])
    assert {shapely.get_type_id(g) for g in lines} <= {1, 5}        # LineString, MultiLineString
    lengths = shapely.length(lines)
    assert lengths.sum() == pytest.approx(7000.0, abs=0.5)
    # no piece is drawn twice: the union of the lines is as long as the lines together
    assert shapely.union_all(lines).length == pytest.approx(lengths.sum(), abs=0.5)
    # the shared edge is one line of its own, drawn once (a strip along it, short of its ends)
    along = shapely.box(X0 + 999.5, Y0 - 0.5, X0 + 1000.5, Y0 + 1000.5)
    assert [bool(shapely.covered_by(g, along)) for g in lines].count(True) == 1
    inside = shapely.box(X0 + 999.5, Y0 + 1, X0 + 1000.5, Y0 + 999)
    assert sum(shapely.intersection(g, inside).length for g in lines) == pytest.approx(998.0, abs=0.5)
    # the web's dashed outline, non-interactive, in the back pane
    assert spec["styles"] == [{"color": "#555555", "weight": 1.6, "fill": False, "dashArray": "6 4",
                               "opacity": 0.9}]
    assert spec["pane"] == "zaBack" and spec["interactive"] is False and spec["id"] == "districts"


def test_atlas_thumbnail_outlines_hold_each_shared_edge_once():
    """The index page's thumbnails draw the district outline as the maps do: two 1 km squares
    side by side give 7 km of dashed outline (in the thumbnail's pixels), not 8, and the
    outline is open lines (no closing ``Z``), the workplaces filled polygons."""
    import geopandas as gpd

    from geo.webmap._findings import thumbnail_svg

    districts = gpd.GeoDataFrame(geometry=[shapely.box(X0, Y0, X0 + 1000, Y0 + 1000),
                                           shapely.box(X0 + 1000, Y0, X0 + 2000, Y0 + 1000)], crs=CRS)
    zone = gpd.GeoDataFrame(geometry=[shapely.box(X0 + 100, Y0 + 100, X0 + 300, Y0 + 300)], crs=CRS)
    svg = thumbnail_svg(zone, ["#ff0000"], districts, width=208, height=108)
    # 2 km wide in 200 px, 1 km high in 100 px: 0.1 px per metre either way
    outline = re.search(r'<path d="([^"]*)" fill="none"[^>]*stroke-dasharray', svg).group(1)
    assert "Z" not in outline
    total = 0.0
    for piece in re.findall(r"M[^M]+", outline):
        xy = np.array([[float(v) for v in p.split()] for p in piece[1:].split("L")])
        total += float(np.hypot(*np.diff(xy, axis=0).T).sum())
    assert total == pytest.approx(700.0, abs=1.0)
    filled = re.findall(r'<path d="([^"]*)" fill="#ff0000"', svg)
    assert len(filled) == 1 and filled[0].endswith("Z")


def test_simplified_district_outlines_still_meet():
    """A zigzag border (teeth of 10 m, under the 20 m display tolerance) between two districts
    and a third below both: simplified once, on the shared lines, each line still ends where
    its neighbours do, and every edge is drawn once."""
    teeth = [(X0 + 1000 + (10.0 if k % 2 else 0.0), Y0 + 1000 + 50.0 * k) for k in range(21)]
    west = shapely.Polygon([(X0, Y0 + 1000), *teeth, (X0, Y0 + 2000)])
    east = shapely.Polygon([(X0 + 2000, Y0 + 1000), *teeth, (X0 + 2000, Y0 + 2000)])
    south = shapely.box(X0, Y0, X0 + 2000, Y0 + 1000)
    _, lines = _drawn_outlines([west, east, south])
    ends = np.round(shapely.get_coordinates(shapely.boundary(lines)), 1)
    points, seen = np.unique(ends, axis=0, return_counts=True)
    assert len(lines) == 6 and len(points) == 4 and (seen == 3).all()   # three lines at each fork
    # outer edge 8 km, the bottoms of west and east 1 km each, the zigzag 1.02 km drawn as its
    # 1 km chord (its teeth under the tolerance): simplified as every map layer is
    total = shapely.length(lines).sum()
    assert total == pytest.approx(11_000.0, abs=1.0)
    assert shapely.union_all(lines).length == pytest.approx(total, abs=0.5)
