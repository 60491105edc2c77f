"""Bad roads layers (``layers.roads``, issue 14) through the real CLI, with the checks of
tests/test_bad_input.py (in-process, road_speed_not_positive through the real command): exit 2 and one ``error:`` line per problem naming file, layer,
field and rows (exit 0 and one counted warning for a network that reaches under half of
the housing), no traceback, inputs and previous outputs untouched."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest
import shapely

from tests._osm_files import write_osm_xml
from tests.test_bad_input import Case, Study, good_outputs  # noqa: F401  (fixture)
from tests.test_bad_input import test_bad_input as check_case

GPKG_SHOWN = "broken_roads.gpkg"
ROAD_CASES: list[Case] = []


def case(name: str, *, errors=(), warning=None, counted=True):
    def deco(fn):
        ROAD_CASES.append(Case(name, fn, list(errors), warning, None, counted))
        return fn
    return deco


def _roads(s: Study):
    return s.read("roads")


@case("roads_of_polygons", errors=[("layers.roads", GPKG_SHOWN, "layer 'roads'", "geometry",
                                    "Polygon", "LineString", "rows R00001")])
def _(s, tmp):
    r = _roads(s)
    s.put("roads", r.set_geometry(shapely.buffer(r.geometry.values, 5.0)))


@case("roads_of_points", errors=[("layers.roads", GPKG_SHOWN, "layer 'roads'", "Point", "LineString",
                                  "rows R00001")])
def _(s, tmp):
    r = _roads(s)
    s.put("roads", r.set_geometry(shapely.centroid(r.geometry.values)))


@case("roads_outside_the_study_area", errors=[("layers.roads", GPKG_SHOWN, "no road line",
                                               "network.max_access_m")])
def _(s, tmp):
    r = _roads(s)
    s.put("roads", r.set_geometry(shapely.transform(r.geometry.values, lambda c: c + 40_000.0)))


@case("road_speed_not_positive", errors=[("layers.roads", GPKG_SHOWN, "field 'speed_kmh'", "column 'speed'",
                                          "≤ 0", "rows R00004, R00008, R00010")])
def _(s, tmp):
    r = _roads(s)
    r.loc[[3, 7], "speed"] = 0.0
    r.loc[9, "speed"] = -5.0
    s.put("roads", r)


@case("road_speed_not_a_number", errors=[("layers.roads", GPKG_SHOWN, "field 'speed_kmh'", "column 'speed'",
                                          "not a number ('fast')", "row R00005")])
def _(s, tmp):
    r = _roads(s)
    r["speed"] = r["speed"].astype(object)
    r.loc[4, "speed"] = "fast"
    s.put("roads", r)


@case("road_speed_not_a_number_with_numeric_ids",
      errors=[("layers.roads", GPKG_SHOWN, "field 'speed_kmh'", "not a number ('fast')", "in row 1005 (road_id)")])
def _(s, tmp):
    """OpenStreetMap-style numeric ids: said to be ids, not row numbers (as for every layer)."""
    r = _roads(s)
    r["id"] = [str(1001 + i) for i in range(len(r))]
    r["speed"] = r["speed"].astype(object)
    r.loc[4, "speed"] = "fast"
    s.put("roads", r)


@case("road_class_unknown", errors=[("layers.roads", GPKG_SHOWN, "field 'class'", "'highway'",
                                     "rows R00003, R00006", "known classes", "motorway", "主干路",
                                     "network.class_speeds_kmh")])
def _(s, tmp):
    r = _roads(s)
    r.loc[[2, 5], "class"] = "highway"
    s.put("roads", r)


@case("road_oneway_unknown", errors=[("layers.roads", GPKG_SHOWN, "field 'oneway'", "'maybe'", "row R00007",
                                      "FT", "TF")])
def _(s, tmp):
    r = _roads(s)
    r.loc[6, "oneway"] = "maybe"
    s.put("roads", r)


@case("roads_without_crs", errors=[("layers.roads", GPKG_SHOWN, "no CRS", "layers.roads.crs")])
def _(s, tmp):
    with warnings.catch_warnings():     # pyogrio warns that the file will have no CRS: the point
        warnings.simplefilter("ignore", UserWarning)
        s.put("roads", _roads(s).set_crs(None, allow_override=True))


@case("network_reach_without_roads", errors=[("config.yaml", "balance.reach", "network", "layers.roads")])
def _(s, tmp):
    del s.cfg["layers"]["roads"]
    s.cfg["balance"]["reach"] = "network"
    s.save()


@case("no_access_class_unknown", errors=[("config.yaml", "network.no_access_classes", "'footway'", "known",
                                          "快速路", "network.class_speeds_kmh")])
def _(s, tmp):
    s.cfg["network"]["no_access_classes"] = ["expressway", "footway"]
    s.save()


@case("no_access_to_any_road_class",
      warning=("layers.roads", "housing features", "not connected", "under half of the housing",
               "(network.no_access_classes) are not joined"))
def _(s, tmp):
    s.cfg["network"]["no_access_classes"] = ["高速公路", "快速路", "主干路", "次干路", "支路"]
    s.save()


@case("roads_reach_under_half_of_the_housing",
      warning=("layers.roads", "housing features", "not connected", "under half of the housing"))
def _(s, tmp):
    r = _roads(s)
    x0, _, x1, _ = r.total_bounds
    s.put("roads", r[r.geometry.bounds["maxx"] < x0 + 0.25 * (x1 - x0)])


def _geofabrik_t_and_b(s: Study, *, geofabrik: bool) -> None:
    """Roads whose oneway holds only T and B (valid codes: T = digitised direction), in a
    layer with or without Geofabrik's fclass / osm_id columns."""
    r = _roads(s)
    r["oneway"] = ["T" if i % 3 == 0 else "B" for i in range(len(r))]
    if geofabrik:
        r["fclass"] = "primary"
        r["osm_id"] = [str(100000 + i) for i in range(len(r))]
    s.put("roads", r)


@case("geofabrik_roads_oneway_only_t_and_b",
      warning=("layers.roads", GPKG_SHOWN, "layer 'roads'", "field 'oneway'", "roads have the one-way code 'T'",
               "Geofabrik", "'fclass', 'osm_id'", "recode T as TF"))
def _(s, tmp):
    _geofabrik_t_and_b(s, geofabrik=True)


def _osm(s: Study, file: str, ways) -> None:
    """An OpenStreetMap extract as the roads layer (no layer, no fields: they are implicit)."""
    nodes = {1: (105.0, 30.7), 2: (105.01, 30.7), 3: (105.01, 30.71), 4: (105.0, 30.71)}
    write_osm_xml(s.root / "layers" / file, nodes, ways)
    s.cfg["layers"]["roads"] = {"path": f"layers/{file}"}
    s.save()


@case("osm_extract_without_roads", errors=[("layers.roads", "no_roads.osm", "layer 'lines'", "no road for cars",
                                            "highway=footway (2)", "highway=cycleway (1)")])
def _(s, tmp):
    _osm(s, "no_roads.osm", [(1, [1, 2], {"highway": "footway"}), (2, [2, 3], {"highway": "cycleway"}),
                             (3, [3, 4], {"highway": "footway", "name": "步道"}),
                             (4, [1, 2, 3, 4, 1], {"building": "yes"}), (5, [1, 3], {"waterway": "river"})])


@case("osm_extract_unreadable", errors=[("layers.roads", "broken.osm.pbf", "cannot read the file as an "
                                         "OpenStreetMap extract", "not recognized")])
def _(s, tmp):
    s.text("roads", "broken.osm.pbf", b"PK\x03\x04 not a protocol buffer")
    s.cfg["layers"]["roads"].pop("fields")
    s.save()


def test_speeds_written_as_text_are_read():
    """Full-width digits and a unit after the number, as typed in Excel or exported from
    a Chinese GIS, are speeds; a value that is not is quoted in the error."""
    from geo._errors import InputError
    from geo.network._parse import road_speeds_kmh

    roads = pd.DataFrame({"speed_kmh": ["６０", "60 km/h", "60公里/小时", "45.5", None, "60千米/时", "60 公里/时",
                                        "60 KM/HR", "60km／h"]},
                         index=["R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8", "R9"])
    speeds, _ = road_speeds_kmh(roads, class_speeds_kmh={}, default_speed_kmh=20.0)
    assert speeds.tolist() == [60.0, 60.0, 60.0, 45.5, 20.0, 60.0, 60.0, 60.0, 60.0]
    with pytest.raises(InputError) as info:
        road_speeds_kmh(pd.DataFrame({"speed_kmh": ["60 mph", "60"]}, index=["R1", "R2"]),
                        class_speeds_kmh={}, default_speed_kmh=20.0)
    assert "not a number ('60 mph') in row R1" in info.value.problems[0]


def test_road_cases_are_distinct():
    assert len(ROAD_CASES) == 16 and len({c.name for c in ROAD_CASES}) == len(ROAD_CASES)
    assert "road_speed_not_positive" in {c.name for c in ROAD_CASES}   # run through the real command


@pytest.mark.parametrize("bad", ROAD_CASES, ids=[c.name for c in ROAD_CASES])
def test_bad_roads(bad: Case, small_study_copy, good_outputs, tmp_path, cli_in_process):  # noqa: F811
    check_case(bad, small_study_copy, good_outputs, tmp_path, cli_in_process)


def _oneway_warnings(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln.startswith("warning:") and "one-way code 'T'" in ln]


def test_geofabrik_t_and_b_warns_once_through_the_cli(small_study_copy, cli_in_process):
    """Geofabrik's F/T/B without F: T is backward there, forward in DESIGN's codes. The
    codes are read as DESIGN says (no error), and one warning names file, layer, field, the
    number of T roads and the fix."""
    s = Study(small_study_copy)
    _geofabrik_t_and_b(s, geofabrik=True)
    n_t = len(range(0, len(_roads(s)), 3))
    proc = cli_in_process("validate", "-c", str(s.config))
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = _oneway_warnings(proc.stderr)
    assert len(lines) == 1, proc.stderr
    line = lines[0]
    for part in ("layers.roads (layers/broken_roads.gpkg, layer 'roads'), field 'oneway':",
                 f"{n_t} of {len(_roads(s))} roads", "Geofabrik", "'fclass', 'osm_id'", "recode T as TF"):
        assert part in line, line


def test_t_and_b_without_geofabrik_columns_are_read_as_design_says(small_study_copy):
    """The same codes in a layer that does not look like Geofabrik's: no warning; and with or
    without the warning, T is the digitised direction (yes) and B both ways (no)."""
    import geo

    s = Study(small_study_copy)
    for geofabrik in (False, True):
        _geofabrik_t_and_b(s, geofabrik=geofabrik)
        study = geo.load_study(s.config)
        warned = [w for w in study.warnings if "one-way code 'T'" in w]
        assert len(warned) == (1 if geofabrik else 0), study.warnings
        given = _roads(s).set_index("id")["oneway"]
        read = study.roads.set_index("road_id")["oneway"]
        assert (read[given.index[given == "T"]] == "yes").all()
        assert (read[given.index[given == "B"]] == "no").all()
