"""Hardening, second round (issue 21): unit tests with hand-computed or brute-force references."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely import box

from geo.analysis import balance
from tests.test_balance import CRS_M, X0, Y0, hand_study, make_settings

# ---------------------------------------------------------------------------
# multi-part housing


def test_multipoint_housing_counts_every_member_point_with_an_equal_share():
    rng = np.random.default_rng(3)
    n = 40
    members = [shapely.multipoints(np.column_stack([X0 + rng.uniform(0, 20_000, k),
                                                    Y0 + rng.uniform(0, 10_000, k)]))
               for k in rng.integers(1, 7, n)]
    dwell = rng.integers(10, 500, n).astype(float)
    housing = gpd.GeoDataFrame({"housing_id": [f"H{i}" for i in range(n)], "dwellings": dwell},
                               geometry=members, crs=CRS_M)
    study = hand_study(housing=housing)
    result = balance.run(study, make_settings())
    wp = result.tables["balance_workplaces"].set_index("workplace_id")

    # brute force: every member point of every feature, distance to each workplace polygon
    for wid, geom in [("Z1", study.zones.geometry[0]), ("Z2", study.zones.geometry[1]),
                      ("I1", study.innovation_districts.geometry[0])]:
        for r in (500, 1000, 2000):
            expected = 0.0
            for g, d in zip(members, dwell):
                pts = list(g.geoms)
                expected += sum(d * 1.5 / len(pts) for p in pts if p.distance(geom) <= r)
            assert wp.loc[wid, f"workers_{r}"] == pytest.approx(expected), (wid, r)
    # the district totals keep every dwelling
    districts = result.tables["balance_districts"]
    assert districts["workers"].sum() == pytest.approx(dwell.sum() * 1.5)
    assert any("MultiPoint" in w and "member points" in w for w in result.warnings)


def test_multipolygon_housing_parts_share_by_area():
    # 100 dwellings in two parcels: 3/4 of the area inside Z1 (1 km box), 1/4 far east
    near = box(X0 + 1100, Y0 + 1100, X0 + 1400, Y0 + 1200)   # 30 000 m2
    far = box(X0 + 18_000, Y0 + 9000, X0 + 18_100, Y0 + 9100)  # 10 000 m2
    housing = gpd.GeoDataFrame({"housing_id": ["H1"], "dwellings": [100.0]},
                               geometry=[shapely.MultiPolygon([near, far])], crs=CRS_M)
    result = balance.run(hand_study(housing=housing), make_settings())
    wp = result.tables["balance_workplaces"].set_index("workplace_id")
    assert wp.loc["Z1", "workers_500"] == pytest.approx(100 * 1.5 * 0.75)
    districts = result.tables["balance_districts"].set_index("district_id")
    assert districts.loc["D2", "workers"] == pytest.approx(100 * 1.5 * 0.25)


# ---------------------------------------------------------------------------
# sample: no half-written study


def test_sample_that_fails_leaves_no_half_written_folder(tmp_path, monkeypatch):
    import errno

    from geo._errors import OutputError
    from geo.sample import _writer

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(_writer, "_write_tif", full)
    out = tmp_path / "new_study"
    with pytest.raises(OutputError, match="disk is full"):
        _writer.write_sample(out, scale="small")
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == []   # no staging folder left

    keep = tmp_path / "existing"
    keep.mkdir()
    (keep / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(OutputError):
        _writer.write_sample(keep, scale="small")
    assert sorted(p.name for p in keep.iterdir()) == ["notes.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["existing"]


# ---------------------------------------------------------------------------
# XML 1.0


def test_control_characters_never_reach_qgis_xml():
    import xml.etree.ElementTree as ET

    from geo.qgis._xml import clean_tree

    root = ET.Element("qgis", {"name": "a\x01b"})
    ET.SubElement(root, "x").text = "示例\x0b\x1f区\x00"
    text = ET.tostring(clean_tree(root), encoding="unicode")
    parsed = ET.fromstring(text)
    assert parsed.get("name") == "ab" and parsed.find("x").text == "示例区"


# ---------------------------------------------------------------------------
# working CRS scale


def test_scale_range_matches_geodesic_distances():
    from pyproj import CRS, Geod, Transformer

    from geo.layers._crs import scale_range

    # reference: projected vs geodesic length of a short east-west segment at 30.7N, 104E
    geod = Geod(ellps="WGS84")
    for epsg in (3857, 32650, 4544):
        to = Transformer.from_crs(4326, epsg, always_xy=True)
        x0, y0 = to.transform(104.0, 30.7)
        x1, y1 = to.transform(104.001, 30.7)
        _, _, metres = geod.inv(104.0, 30.7, 104.001, 30.7)
        ratio = np.hypot(x1 - x0, y1 - y0) / metres
        lo, hi = scale_range(CRS.from_epsg(epsg), (104.0, 30.7, 104.0, 30.7))
        assert lo == pytest.approx(ratio, rel=2e-4) or hi == pytest.approx(ratio, rel=2e-4), epsg
    # Web Mercator at 30.7N: about sec(30.7°) = 1.163


# ---------------------------------------------------------------------------
# a broken package in the read path


def test_broken_pyarrow_while_reading_is_an_installation_problem(small_study):
    import subprocess
    import sys
    from pathlib import Path

    code = ("import sys, pyogrio\n"
            "def broken(*a, **k):\n"
            "    raise ImportError('libarrow.so.2000: cannot open shared object file', name='pyarrow.lib')\n"
            "pyogrio.read_arrow = broken\n"
            "from geo.cli import main\nsys.exit(main(sys.argv[1:]))")
    proc = subprocess.run([sys.executable, "-c", code, "validate", "-c", str(small_study)],
                          capture_output=True, text=True, timeout=300,
                          cwd=Path(__file__).resolve().parents[1])
    assert proc.returncode == 1, proc.stderr
    assert "cannot read the layer" not in proc.stderr
    assert "pip install" in proc.stderr and "Traceback" not in proc.stderr


# ---------------------------------------------------------------------------
# encodings, in process


def _load_zones(study_config, path, **zone_cfg):
    import yaml

    from geo.layers import load_study
    from geo.settings import load_settings

    cfg = yaml.safe_load(study_config.read_text(encoding="utf-8"))
    entry = cfg["layers"]["zones"]
    entry["path"] = str(path)
    entry.pop("layer", None)
    entry.update(zone_cfg)
    study_config.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    return load_study(load_settings(study_config))


@pytest.fixture
def zones_and_config(small_study_copy):
    import pyogrio

    zones = pyogrio.read_dataframe(small_study_copy.parent / "layers/sample.gpkg", layer="zones")
    zones = zones.rename(columns={"leader_firms": "leader", "rd_platforms": "rd"})
    return zones, small_study_copy


FIELDS = {"leader_firms": "leader", "rd_platforms": "rd", "zone_id": "id", "district_id": "district"}


def test_shapefile_whose_cpg_says_gbk_but_text_is_utf8(zones_and_config):
    import pyogrio

    zones, config = zones_and_config
    path = config.parent / "layers" / "z.shp"
    pyogrio.write_dataframe(zones, path, encoding="utf-8")
    path.with_suffix(".cpg").write_text("936", encoding="ascii")
    study = _load_zones(config, path, fields=FIELDS)
    assert list(study.zones["name"]) == list(zones["name"])
    assert any(".cpg says gbk" in w and "utf-8" in w for w in study.warnings)


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "big5"])
def test_geojson_in_a_legacy_encoding_with_the_encoding_configured(zones_and_config, encoding):
    zones, config = zones_and_config
    if encoding == "big5":   # traditional characters only
        zones["name"] = [f"臺北許功蓋園區{i}" for i in range(len(zones))]
        zones["chain"] = zones["chain"].map({"生物医药": "生物醫藥", "电子信息": "電子資訊",
                                             "文化创意": "文化創意", "现代物流": "現代物流"})
    path = config.parent / "layers" / "z.geojson"
    path.write_bytes(zones.to_json(ensure_ascii=False).encode(encoding))
    study = _load_zones(config, path, fields=FIELDS, encoding=encoding)
    assert list(study.zones["name"]) == list(zones["name"])
    assert not any("UTF-8" in w for w in study.warnings), study.warnings


def test_configured_encoding_that_does_not_fit_is_one_error(zones_and_config):
    from geo._errors import InputError

    zones, config = zones_and_config
    path = config.parent / "layers" / "z.geojson"
    path.write_bytes(zones.to_json(ensure_ascii=False).encode("gbk"))
    with pytest.raises(InputError) as err:
        _load_zones(config, path, fields=FIELDS, encoding="big5")
    lines = str(err.value).splitlines()
    hits = [ln for ln in lines if "z.geojson" in ln]
    assert len(hits) == 1 and "not valid big5" in hits[0] and "encoding: gbk" in hits[0], lines


def test_detection_prefers_the_right_chinese_encoding():
    from geo.layers._encoding import detect_encoding

    simplified = ["示例中心生物医药产业功能区", "电子信息", "现代物流园"]
    traditional = ["臺北市生物醫藥產業園區", "電子資訊", "現代物流園"]
    assert detect_encoding([t.encode("gbk") for t in simplified]) == "gbk"
    assert detect_encoding([t.encode("big5") for t in traditional]) == "big5"
    assert detect_encoding([bytes([0xFF, 0x00, 0xFE])]) is None


def test_m_values_are_seen_in_wkb_headers():
    from geo.layers._read import _wkb_has_m

    wkb = np.array([shapely.to_wkb(shapely.from_wkt(t), flavor="iso") for t in
                    ("POINT (1 2)", "POINT Z (1 2 3)", "POINT M (1 2 3)", "POINT ZM (1 2 3 4)",
                     "MULTIPOINT M ((1 2 3))")] + [None], dtype=object)
    assert list(_wkb_has_m(wkb)) == [False, False, True, True, True, False]


def test_utf8_text_with_accents_is_not_taken_for_gbk():
    from geo.layers._encoding import looks_like_legacy

    assert not looks_like_legacy("Café, Zürich, São Paulo, Kraków, Ελλάδα, Москва".encode())
    assert not looks_like_legacy("示例住宅".encode())
    assert looks_like_legacy("\n".join(f"住宅{i},{i}" for i in range(50)).encode("gbk"))


def test_short_names_in_gbk_or_big5_are_recognised():
    """District names and two field names, all common characters in GBK, read as Big5
    with 85 % common characters: a lead of 0.15 once refused them."""
    from geo.layers._encoding import detect_encoding

    names = ["示例中心区", "示例临湖区", "示例龙湖区", "示例兰亭区", "示例竹溪区", "示例明珠区", "示例月湾区",
             "示例紫荆区", "示例翠屏区", "示例桂园区", "示例秋实区", "示例鹿鸣区", "区划代码", "区县名称"]
    assert detect_encoding([n.encode("gbk") for n in names]) == "gbk"
    traditional = ["臺北市", "新北市", "桃園市", "臺中市", "臺南市", "高雄市", "區劃代碼", "縣市名稱"]
    assert detect_encoding([n.encode("big5") for n in traditional]) == "big5"
    assert detect_encoding(["Café Zürich".encode("latin-1")]) is None


def test_flatgeobuf_with_gbk_values(zones_and_config):
    import pyogrio

    zones, config = zones_and_config
    zones["name"] = [f"XXXXXXXXXX{i:02d}" for i in range(len(zones))]
    path = config.parent / "layers" / "z.fgb"
    pyogrio.write_dataframe(zones, path)
    data = path.read_bytes()
    expected = {}
    for i in range(0, len(zones), 2):   # same byte length: 8 bytes of GBK + 4 digits
        data = data.replace(f"XXXXXXXXXX{i:02d}".encode(), "示例园区".encode("gbk") + b"%04d" % i)
        expected[zones.loc[i, "id"]] = f"示例园区{i:04d}"
    path.write_bytes(data)
    study = _load_zones(config, path, fields=FIELDS)
    got = dict(zip(study.zones["zone_id"], study.zones["name"]))
    assert {k: got[k] for k in expected} == expected
    assert any("not valid UTF-8" in w and "GBK" in w and f"{len(expected)} text values" in w
               for w in study.warnings), study.warnings
