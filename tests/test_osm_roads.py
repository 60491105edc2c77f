"""``layers.roads`` from an OpenStreetMap extract (issue 14, item 1): ``.osm`` and ``.osm.pbf``.

A hand-made extract (both formats, written by tests/_osm_files.py) is loaded as a study's
roads and its graph checked edge by edge against hand-computed travel times; the small
sample's roads written as an extract give the same network as the GeoPackage and the
same balance through the real CLI.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pyogrio
import pytest
import yaml
from pyproj import Transformer

from geo.layers._osm import ROAD_HIGHWAYS, maxspeed_kmh, osm_tag
from geo.network._parse import CLASS_ALIASES
from geo.schema import DEFAULT_CLASS_SPEEDS_KMH
from tests._osm_files import roads_as_osm, write_osm_pbf, write_osm_xml
from tests.conftest import run_cli
from tests.test_bad_input import good_outputs  # noqa: F401  (fixture)

ORIGIN = (500_000.0, 3_399_700.0)      # inside the small sample's zones (EPSG:4544, metres)
#: hand-made nodes, metres east / north of ORIGIN
XY = {"A": (0, 0), "B": (1000, 0), "C": (1000, 600), "D": (0, 600), "E": (0, 1500), "F": (500, 300)}
NODE_ID = {name: 1000 + k for k, name in enumerate(XY)}
WAYS = [   # (way id, nodes, tags)
    (100, "AB", {"highway": "primary", "oneway": "yes", "maxspeed": "50", "name": "人民路"}),
    (101, "BC", {"highway": "residential", "maxspeed": "30 mph"}),
    (102, "CD", {"highway": "tertiary", "oneway": "-1"}),
    (103, "DE", {"highway": "motorway", "maxspeed": "80;100"}),             # one-way implied
    (104, "EF", {"highway": "unclassified", "junction": "roundabout", "maxspeed": "50 km/h"}),
    (105, "FA", {"highway": "service", "access": "private"}),
    (106, "AC", {"highway": "service", "access": "no"}),                      # closed to cars
    (107, "AC", {"highway": "footway"}),
    (108, "BD", {"highway": "cycleway", "oneway": "yes"}),
    (109, "DF", {"highway": "steps"}),
    (110, "ABCDA", {"building": "yes"}),
    (111, "FC", {"highway": "living_street", "oneway": "alternating"}),
    (112, "DF", {"highway": "residential", "oneway": "bogus"}),               # warned, two-way
    (113, "AD", {"highway": "motorway", "oneway": "no"}),                     # implied one-way lifted
    (114, "BE", {"highway": "primary", "motor_vehicle": "no"}),               # closed to cars
    (115, "BF", {"highway": "trunk_link", "maxspeed": "none"}),
]
#: the roads kept: class, km/h, oneway (hand-derived from the tags above)
KEPT = {
    "100": ("arterial", 50.0, "yes"), "101": ("local", 30 * 1.609344, "no"),
    "102": ("secondary", 30.0, "-1"), "103": ("motorway", 80.0, "yes"),
    "104": ("local", 50.0, "yes"), "105": ("local", 20.0, "no"), "111": ("local", 20.0, "no"),
    "112": ("local", 20.0, "no"), "113": ("motorway", 80.0, "no"), "115": ("expressway", 60.0, "no"),
}


def _expected_edges() -> dict[tuple[str, str], float]:
    """Directed edges (from, to) -> minutes = metres / (km/h * 1000 / 60)."""
    out = {}
    for way_id, names, _tags in WAYS:
        if str(way_id) not in KEPT:
            continue
        _cls, kmh, oneway = KEPT[str(way_id)]
        a, b = names
        minutes = math.dist(XY[a], XY[b]) / (kmh * 1000 / 60)
        if oneway in ("yes", "no"):
            out[a, b] = minutes
        if oneway in ("-1", "no"):
            out[b, a] = minutes
    return out


def _hand_made_extract(folder, suffix: str):
    to_wgs = Transformer.from_crs("EPSG:4544", "EPSG:4326", always_xy=True)
    nodes = {NODE_ID[n]: to_wgs.transform(ORIGIN[0] + x, ORIGIN[1] + y) for n, (x, y) in XY.items()}
    ways = [(w, [NODE_ID[n] for n in names], tags) for w, names, tags in WAYS]
    write = write_osm_pbf if suffix.endswith("pbf") else write_osm_xml
    return write(folder / f"city.{suffix}", nodes, ways)


def _use_roads(config, file: str, **entry) -> None:
    cfg = yaml.safe_load(config.read_text(encoding="utf-8"))
    cfg["layers"]["roads"] = {"path": f"layers/{file}", **entry}
    config.write_text(yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_every_kept_highway_is_a_known_road_class():
    assert set(ROAD_HIGHWAYS) <= set(CLASS_ALIASES)
    assert not {"footway", "cycleway", "path", "steps", "pedestrian", "track", "bridleway",
                "construction", "proposed"} & set(ROAD_HIGHWAYS)


def test_tags_and_speeds_parse_vectorised():
    tags = pd.Series(['"oneway"=>"yes","maxspeed"=>"50"', '"maxspeed"=>"30 mph"', None,
                      '"name:en"=>"a \\"b\\"","oneway"=>"-1"', '"xoneway"=>"yes"'])
    got = osm_tag(tags, "oneway")
    assert got.iloc[0] == "yes" and got.iloc[3] == "-1"
    assert got.iloc[[1, 2, 4]].isna().all()        # absent, no tags, another key ending in oneway
    assert osm_tag(tags, "name:en").iloc[3] == 'a "b"'
    speeds = maxspeed_kmh(pd.Series(["50", "30 mph", "50 km/h", "60;80", "RU:urban", "none", None,
                                     "0", "25.5", "20 MPH"]))
    want = [50, 48.28032, 50, 60, np.nan, np.nan, np.nan, np.nan, 25.5, 32.18688]
    np.testing.assert_allclose(speeds, want, rtol=1e-12)


@pytest.mark.parametrize("suffix", ["osm", "osm.pbf"])
def test_hand_made_extract_gives_the_hand_computed_graph(suffix, small_study_copy):
    from geo.layers import load_study
    from geo.settings import load_settings

    path = _hand_made_extract(small_study_copy.parent / "layers", suffix)
    _use_roads(small_study_copy, path.name)
    before = path.read_bytes()
    study = load_study(load_settings(small_study_copy))
    assert path.read_bytes() == before

    roads = study.roads.set_index("road_id")
    assert set(roads.index) == set(KEPT)      # footway, cycleway, steps, building, no-car ways dropped
    for road_id, (cls, kmh, oneway) in KEPT.items():
        assert roads.at[road_id, "class"] == cls, road_id
        assert roads.at[road_id, "speed_kmh"] == pytest.approx(kmh, rel=1e-12), road_id
        assert roads.at[road_id, "oneway"] == oneway, road_id
    assert study.sources["roads"].layer == "lines"
    assert study.sources["roads"].aliases == {"road_id": "osm_id", "class": "highway",
                                              "speed_kmh": "maxspeed", "oneway": "oneway"}

    graph = study.network
    want_xy = np.array([[ORIGIN[0] + x, ORIGIN[1] + y] for x, y in XY.values()])
    dist = np.linalg.norm(graph.node_xy[:, None, :] - want_xy[None, :, :], axis=2)
    # OSM (and GDAL's OSM driver) keeps 1e-7 degrees: about 1 cm
    assert len(graph.node_xy) == len(XY) and (dist.min(axis=1) < 0.01).all()
    name = np.array(list(XY))[dist.argmin(axis=1)]
    got = {(name[a], name[b]): t for a, b, t in zip(graph.edge_from, graph.edge_to, graph.edge_min)}
    want = _expected_edges()
    assert set(got) == set(want)
    for edge, minutes in want.items():
        assert got[edge] == pytest.approx(minutes, rel=1e-4), edge
    odd = [w for w in study.warnings if "oneway" in w and "bogus" in w]
    assert len(odd) == 1 and "1 ways" in odd[0] and "row 112" in odd[0], study.warnings


def test_sample_roads_as_an_extract_give_the_same_network(small_study_copy):
    from geo.layers import load_study
    from geo.settings import load_settings

    reference = load_study(load_settings(small_study_copy))
    roads = pyogrio.read_dataframe(small_study_copy.parent / "layers" / "sample.gpkg", layer="roads")
    nodes, ways = roads_as_osm(roads)
    first = max(nodes) + 1
    x0, y0 = next(iter(nodes.values()))
    nodes.update({first: (x0, y0), first + 1: (x0 + 0.01, y0 + 0.01)})   # a footway off the roads
    ways.append((len(ways) + 1, [first, first + 1], {"highway": "footway"}))
    write_osm_xml(small_study_copy.parent / "layers" / "city.osm", nodes, ways)
    _use_roads(small_study_copy, "city.osm")
    study = load_study(load_settings(small_study_copy))

    assert len(study.roads) == len(reference.roads)
    for column in ("class", "oneway", "component"):
        assert study.roads[column].tolist() == reference.roads[column].tolist(), column
    np.testing.assert_allclose(study.roads["speed_kmh"], reference.roads["speed_kmh"], rtol=1e-12)
    a, b = study.network, reference.network
    assert len(a.node_xy) == len(b.node_xy) and len(a.edge_min) == len(b.edge_min)
    np.testing.assert_allclose(np.sort(a.edge_min), np.sort(b.edge_min), rtol=1e-4)   # 1e-7 degrees
    assert a.report.components == b.report.components


def test_cli_run_with_an_osm_extract(small_study_copy, good_outputs, tmp_path):  # noqa: F811
    roads = pyogrio.read_dataframe(small_study_copy.parent / "layers" / "sample.gpkg", layer="roads")
    write_osm_xml(small_study_copy.parent / "layers" / "city.osm", *roads_as_osm(roads))
    _use_roads(small_study_copy, "city.osm")
    cfg = yaml.safe_load(small_study_copy.read_text(encoding="utf-8"))
    cfg["print"] = {"figures": False, "workbook": False}
    small_study_copy.write_text(yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False), encoding="utf-8")
    out = tmp_path / "maps"
    proc = run_cli("run", "-c", small_study_copy, "-o", out, "-q", "--only", "balance")
    assert proc.returncode == 0, proc.stderr
    assert "error:" not in proc.stderr and "Traceback" not in proc.stderr
    manifest = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert any("city.osm" in json.dumps(v) for v in manifest.values())
    got = pd.read_csv(out / "tables" / "balance_workplaces.csv", encoding="utf-8-sig")
    want = pd.read_csv(good_outputs / "tables" / "balance_workplaces.csv", encoding="utf-8-sig")
    for column in ("workers_15min", "workers_30min", "workers_45min", "jhr", "balance_class"):
        pd.testing.assert_series_equal(got[column], want[column], check_exact=False, rtol=1e-9)


def test_default_speeds_cover_the_classes_kept():
    known = {CLASS_ALIASES[h] for h in ROAD_HIGHWAYS}
    assert known <= set(DEFAULT_CLASS_SPEEDS_KMH)
