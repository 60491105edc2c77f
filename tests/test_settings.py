"""config.yaml validation: defaults, every rejected value, unknown keys, YAML errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from geo._errors import ConfigError
from geo.settings import load_settings, settings_from_dict

MINIMAL = {"layers": {"zones": {"path": "zones.gpkg"}}}


def _with(**sections):
    data = {"layers": {"zones": {"path": "zones.gpkg"}}}
    for key, value in sections.items():
        data[key] = value
    return data


def _problems(data) -> list[str]:
    with pytest.raises(ConfigError) as info:
        settings_from_dict(data, base_dir="/study", source="config.yaml")
    return info.value.problems


def test_defaults_match_design():
    s = settings_from_dict(MINIMAL, base_dir="/study")
    assert s.study.language == "zh"
    assert s.balance.radius_m == 5000 and s.balance.radii_m == [3000, 5000, 10000]
    assert s.balance.workers_per_dwelling == 1.4 and s.balance.employment_rate == 0.55
    assert tuple(s.balance.balanced_range) == (0.8, 1.25)
    assert s.collaboration.max_distance_m == 30000 and s.collaboration.distance_decay == 2.0
    assert s.collaboration.top_pairs_per_chain == 10
    assert s.core_periphery.weights == {k: 1.0 for k in ("jobs", "output", "firms", "leader_firms", "rd_platforms")}
    assert s.core_periphery.core_share == 0.2 and s.core_periphery.attach_max_m == 40000
    assert s.core_periphery.method == "share"
    assert s.map.basemap == "carto-light" and s.map.tianditu_key is None
    assert s.crs.working is None


def test_paths_resolve_relative_to_config_folder():
    s = settings_from_dict(_with(output={"dir": "out"}), base_dir="/study/a")
    assert s.layers.zones.path == Path("/study/a/zones.gpkg")
    assert s.output.dir == Path("/study/a/out")


def test_primary_radius_added_to_radii():
    s = settings_from_dict(_with(balance={"radius_m": 4000}), base_dir="/")
    assert s.balance.all_radii_m == [3000, 4000, 5000, 10000]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (_with(balance={"radius_m": 0}), "balance.radius_m"),
        (_with(balance={"radius_m": -5}), "balance.radius_m"),
        (_with(balance={"radii_m": [5000, 3000]}), "ascending"),
        (_with(balance={"radii_m": []}), "at least one radius"),
        (_with(balance={"employment_rate": 0}), "balance.employment_rate"),
        (_with(balance={"employment_rate": 1.5}), "balance.employment_rate"),
        (_with(balance={"balanced_range": [1.2, 0.8]}), "lower bound"),
        (_with(collaboration={"max_distance_m": 0}), "collaboration.max_distance_m"),
        (_with(collaboration={"top_pairs_per_chain": 0}), "collaboration.top_pairs_per_chain"),
        (_with(core_periphery={"core_share": 0}), "core_periphery.core_share"),
        (_with(core_periphery={"core_share": 1.01}), "core_periphery.core_share"),
        (_with(core_periphery={"weights": {"jobs": -1}}), "core_periphery.weights"),
        (_with(core_periphery={"weights": {"jobs": 0}}), "at least one weight"),
        (_with(core_periphery={"method": "kmeans"}), "core_periphery.method"),
        (_with(study={"language": "fr"}), "study.language"),
        (_with(crs={"working": "EPSG:99999"}), "crs.working"),
        (_with(map={"basemap": "google"}), "map.basemap"),
        (_with(map={"basemap": {"url": "http://tiles/{z}/{x}.png", "attribution": "x"}}), "{y}"),
        # YAML's true / yes are not numbers (pydantic would take them as 1)
        (_with(balance={"radius_m": True}), "balance.radius_m: expected a number, not true/false"),
        (_with(balance={"radii_m": [3000, True]}), "balance.radii_m: expected a number"),
        (_with(core_periphery={"weights": {"jobs": True}}), "core_periphery.weights: expected a number"),
        ({"layers": {"zones": {"path": "z.gpkg"}, "roads": {"path": "r.gpkg", "layer": True}}},
         "layers.roads.layer: Input should be a valid string"),
        (_with(map={"basemap": False}), "map.basemap: must be one of none, osm"),
        (_with(core_periphery={"seed": -3}), "core_periphery.seed"),
        (_with(core_periphery={"seed": 2**32}), "core_periphery.seed"),
        ({"layers": {"zones": {"path": "z.gpkg"},
                     "landuse": {"path": "l.tif", "classes": {1: "residential"}, "residential_class": 9}}},
         "layers.landuse.residential_class: 9 is not a code of layers.landuse.classes (1)"),
        ({"layers": {"zones": {"path": "z.gpkg", "encoding": "klingon"}}}, "unknown text encoding"),
        ({"layers": {"zones": {"path": "z.gpkg", "coordinates": "wgs72"}}}, "layers.zones.coordinates"),
        ({"layers": {}}, "layers.zones: required key is missing"),
        ({}, "layers: required key is missing"),
    ],
)
def test_rejected_values_name_the_key(data, expected):
    problems = _problems(data)
    assert any(expected in p for p in problems), problems
    assert all(p.startswith("config.yaml: ") for p in problems)


@pytest.mark.parametrize(
    ("data", "path", "suggestion"),
    [
        (_with(balance={"raduis_m": 5000}), "balance.raduis_m", "radius_m"),
        (_with(colaboration={}), "colaboration", "collaboration"),
        ({"layers": {"zones": {"path": "z", "feilds": {}}}}, "layers.zones.feilds", "fields"),
        ({"layers": {"zone": {"path": "z"}, "zones": {"path": "z"}}}, "layers.zone", "zones"),
        ({"layers": {"zones": {"path": "z", "fields": {"jbos": "x"}}}}, "layers.zones.fields.jbos", "jobs"),
        (_with(core_periphery={"weights": {"leader_firm": 1}}), "core_periphery.weights", "leader_firms"),
    ],
)
def test_unknown_keys_name_path_and_closest_key(data, path, suggestion):
    problems = _problems(data)
    assert any(path in p and f"'{suggestion}'" in p for p in problems), problems


def test_one_line_per_problem_and_empty_sections_are_defaults():
    # a custom basemap with a bad URL: that line only, its value shown once
    [problem] = _problems(_with(map={"basemap": {"url": "http://x/tiles.png", "attribution": "a"}}))
    assert problem.count("(got ") == 1 and "map.basemap.url" in problem, problem
    tiles = "https://t/{z}/{x}/{y}.png"
    for bad, key in (({"url": tiles, "attribution": "a", "subdomains": "abc"}, "map.basemap.subdomains: "),
                     ({"url": tiles, "attribution": "a", "max_zoom": 30}, "map.basemap.max_zoom: "),
                     ({"url": tiles}, "map.basemap.attribution: required")):
        [problem] = _problems(_with(map={"basemap": bad}))
        assert key in problem, problem
    # a section whose keys are all commented out reads as None: its defaults
    s = settings_from_dict(_with(balance=None, network=None), base_dir="/")
    assert s.balance.radius_m == 5000 and s.network.access_speed_kmh == 5
    assert settings_from_dict(_with(study={"synthetic": True}), base_dir="/").study.synthetic is True


def test_all_problems_reported_together():
    problems = _problems(_with(balance={"radius_m": -1, "raduis": 2}, collaboration={"max_distance_m": -3}))
    assert len(problems) == 3


def test_custom_basemap_and_tianditu_key_from_env(monkeypatch):
    s = settings_from_dict(_with(map={"basemap": {"url": "https://intranet/{z}/{x}/{y}.png",
                                                  "attribution": "城市规划院"}}), base_dir="/")
    assert s.map.basemap.attribution == "城市规划院"
    monkeypatch.setenv("TIANDITU_KEY", "abc")
    assert settings_from_dict(_with(map={"basemap": "tianditu"}), base_dir="/").map.resolved_tianditu_key == "abc"


def test_yaml_syntax_error_reports_line(tmp_path):
    cfg = tmp_path / "config.yaml"
    cfg.write_text("study:\n  name: x\nlayers:\n  zones: {path: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(cfg)
    assert "line " in info.value.problems[0] and "YAML" in info.value.problems[0]


def test_a_folder_or_a_data_file_given_as_config(tmp_path):
    (tmp_path / "study").mkdir()
    with pytest.raises(ConfigError, match="is a folder, not a config file; pass its YAML config file"):
        load_settings(tmp_path / "study")
    (tmp_path / "study" / "config.yaml").write_text("layers: {}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"is a folder, not a config file; did you mean -c .*config.yaml\?"):
        load_settings(tmp_path / "study")
    gpkg = _write(tmp_path, "zones.gpkg", b"SQLite format 3\x00" + bytes(200))
    with pytest.raises(ConfigError, match="is a GeoPackage"):
        load_settings(gpkg)
    tif = _write(tmp_path, "pop.tif", b"II*\x00\x08\x00\x00\x00" + bytes(range(256)) * 2)
    with pytest.raises(ConfigError, match="is not a text file"):
        load_settings(tif)
    utf16 = _write(tmp_path, "u16.yaml", "layers:\n".encode("utf-16-le"))   # no BOM
    with pytest.raises(ConfigError, match="saved as UTF-16"):
        load_settings(utf16)


def test_missing_and_empty_config(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "nope.yaml")
    empty = tmp_path / "empty.yaml"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(ConfigError, match="empty"):
        load_settings(empty)
    listing = tmp_path / "list.yaml"
    listing.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="mapping"):
        load_settings(listing)


def test_chinese_config_with_bom(tmp_path):
    cfg = tmp_path / "config.yaml"
    cfg.write_text("\ufeffstudy: {name: 示例}\nlayers:\n  zones:\n    path: 功能区.shp\n    encoding: gbk\n"
                   "    fields: {zone_id: 编号, name: 名称, chain: 产业链, jobs: 就业}\n", encoding="utf-8")
    s = load_settings(cfg)
    assert s.study.name == "示例"
    assert s.layers.zones.fields["zone_id"] == "编号"
    assert s.layers.zones.path == tmp_path / "功能区.shp"
    assert s.config_path == cfg.resolve()


def test_as_config_is_json_serialisable():
    import json

    s = settings_from_dict(MINIMAL, base_dir="/study")
    json.dumps(s.as_config())
    # run.json records what was used: the reach a missing balance.reach resolves to
    assert s.as_config()["balance"]["reach"] == "euclidean"
    roads = settings_from_dict({"layers": {**MINIMAL["layers"], "roads": {"path": "r.gpkg"}}}, base_dir="/")
    assert roads.as_config()["balance"]["reach"] == "network"


# --- hardening: values and files that used to pass and poison a run ----------------------

def _write(tmp_path, name, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_duplicate_key_is_an_error_naming_both_lines(tmp_path):
    text = "layers:\n  zones: {path: z.gpkg}\nbalance:\n  radius_m: 3000\nbalance:\n  radius_m: 4000\n"
    with pytest.raises(ConfigError) as info:
        load_settings(_write(tmp_path, "c.yaml", text.encode()))
    (msg,) = info.value.problems
    assert "'balance' appears twice" in msg and "lines 3 and 5" in msg


def test_duplicate_nested_key_is_an_error(tmp_path):
    text = "layers:\n  zones: {path: z.gpkg, path: y.gpkg}\n"
    with pytest.raises(ConfigError, match="'path' appears twice"):
        load_settings(_write(tmp_path, "c.yaml", text.encode()))


@pytest.mark.parametrize("key, value", [("balance.radius_m", ".inf"), ("balance.workers_per_dwelling", ".inf"),
                                        ("balance.radii_m", "[1000, .nan]"), ("collaboration.max_distance_m", ".inf"),
                                        ("core_periphery.weights", "{jobs: .inf}"),
                                        ("balance.balanced_range", "[0.8, .inf]")])
def test_non_finite_numbers_are_refused(tmp_path, key, value):
    section, name = key.split(".")
    text = f"layers:\n  zones: {{path: z.gpkg}}\n{section}:\n  {name}: {value}\n"
    with pytest.raises(ConfigError) as info:
        load_settings(_write(tmp_path, "c.yaml", text.encode()))
    assert any(key in p and "finite" in p for p in info.value.problems), info.value.problems


@pytest.mark.parametrize("encoding, expected", [("gbk", "GB18030"), ("utf-16", "UTF-16")])
def test_config_in_a_legacy_encoding_says_save_as_utf8(tmp_path, encoding, expected):
    text = "study:\n  name: 成都市产业功能区\nlayers:\n  zones: {path: z.gpkg}\n"
    with pytest.raises(ConfigError) as info:
        load_settings(_write(tmp_path, "c.yaml", text.encode(encoding)))
    (msg,) = info.value.problems
    assert expected in msg and "save it as UTF-8" in msg


def test_config_with_bom_is_read(tmp_path):
    text = "study:\n  name: 成都\nlayers:\n  zones: {path: z.gpkg}\n"
    assert load_settings(_write(tmp_path, "c.yaml", b"\xef\xbb\xbf" + text.encode())).study.name == "成都"
