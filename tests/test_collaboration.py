"""Tests of the cross-district collaboration analysis (geo.analysis.collaboration)."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st
from pyproj import CRS
from shapely import box

import geopandas as gpd
from geo._types import Study
from geo.analysis import collaboration as col
from geo.settings import settings_from_dict

CRS_M = CRS.from_epsg(4544)  # CGCS2000 3-degree GK, metres


def make_zones(rows: list[dict]) -> gpd.GeoDataFrame:
    """rows: dicts with zone_id, chain, district_id, jobs, geometry (+ optional fields)."""
    frame = pd.DataFrame([{k: v for k, v in r.items() if k != "geometry"} for r in rows])
    if "name" not in frame:
        frame["name"] = "Zone " + frame["zone_id"]
    return gpd.GeoDataFrame(frame, geometry=[r["geometry"] for r in rows], crs=CRS_M)


def make_settings(language: str = "en", **collab) -> object:
    return settings_from_dict(
        {"study": {"language": language}, "layers": {"zones": {"path": "zones.gpkg"}},
         "collaboration": collab},
        base_dir=".",
    )


def sq(x: float, y: float, size: float = 1000.0):
    """Square with lower-left corner (x, y)."""
    return box(x, y, x + size, y + size)


def by_pair(pairs: pd.DataFrame) -> dict[frozenset, pd.Series]:
    return {frozenset((r.zone_a, r.zone_b)): r for r in pairs.itertuples()}


# ---------------------------------------------------------------------------
# building blocks


def test_pair_strength_formula_by_hand():
    # 100 * 50 / (1 km + 1)^2 = 1250; decay 0 -> plain product; touching -> product
    assert col.pair_strength([100.0], [50.0], [1000.0], 2.0).tolist() == [1250.0]
    assert col.pair_strength([100.0], [50.0], [1000.0], 0.0).tolist() == [5000.0]
    assert col.pair_strength([3.0], [4.0], [0.0], 2.0).tolist() == [12.0]
    assert col.pair_strength([2.0], [2.0], [3000.0], 1.5)[0] == pytest.approx(4 / 4**1.5)
    assert math.isnan(col.pair_strength([np.nan], [1.0], [10.0], 2.0)[0])


def test_classify_pairs_precedence():
    a = ["rd", "manufacturing", "terminal", "supporting", "rd", "rd", "mixed", None, "rd"]
    b = ["manufacturing", "rd", "supporting", "terminal", "rd", "terminal", "manufacturing", "rd", "manufacturing"]
    got = col.classify_pairs(a, b).tolist()
    assert got == ["rd_manufacturing", "rd_manufacturing", "terminal_supporting", "terminal_supporting",
                   "peer", "peer", "peer", "peer", "rd_manufacturing"]
    pa = ["periphery", None, None, "core", "core", "core", None, "periphery", "core"]
    pb = ["core", None, None, "periphery", "periphery", "core", None, "periphery", "core"]
    got = col.classify_pairs(a, b, position_a=pa, position_b=pb).tolist()
    # main_partner wins over role-based types; two cores or two peripheries are not main_partner
    assert got == ["main_partner", "rd_manufacturing", "terminal_supporting", "main_partner",
                   "main_partner", "peer", "peer", "peer", "rd_manufacturing"]


def test_candidate_pairs_touching_overlap_and_same_district():
    zones = make_zones([
        dict(zone_id="a", chain="ev", district_id="D1", jobs=1, geometry=sq(0, 0)),
        dict(zone_id="b", chain="ev", district_id="D2", jobs=1, geometry=sq(1000, 0)),   # touches a
        dict(zone_id="c", chain="ev", district_id="D3", jobs=1, geometry=sq(500, 500)),  # overlaps a, b
        dict(zone_id="d", chain="ev", district_id="D1", jobs=1, geometry=sq(0, 1000)),   # same district as a
        dict(zone_id="e", chain="bio", district_id="D2", jobs=1, geometry=sq(0, 1000)),  # other chain
    ])
    got = col.candidate_pairs(zones, 100.0)
    pairs = {(zones.zone_id[r.i], zones.zone_id[r.j]): r.distance_m for r in got.itertuples()}
    assert pairs == {("a", "b"): 0.0, ("a", "c"): 0.0, ("b", "c"): 0.0, ("b", "d"): 0.0, ("c", "d"): 0.0}
    assert (got["i"] < got["j"]).all()


def test_candidate_pairs_boundary_distance_inclusive():
    zones = make_zones([
        dict(zone_id="a", chain="ev", district_id="D1", jobs=1, geometry=sq(0, 0)),
        dict(zone_id="b", chain="ev", district_id="D2", jobs=1, geometry=sq(3000, 0)),  # 2000 m gap
    ])
    assert col.candidate_pairs(zones, 2000.0)["distance_m"].tolist() == [2000.0]
    assert col.candidate_pairs(zones, 1999.999).empty


def test_nearest_partner_skips_closer_zone_of_own_district():
    zones = make_zones([
        dict(zone_id="a", chain="ev", district_id="D1", jobs=1, geometry=sq(0, 0)),
        dict(zone_id="b", chain="ev", district_id="D1", jobs=1, geometry=sq(1500, 0)),    # 500 m, own district
        dict(zone_id="c", chain="ev", district_id="D2", jobs=1, geometry=sq(9000, 0)),    # 8000 m from a
        dict(zone_id="d", chain="ev", district_id="D3", jobs=1, geometry=sq(0, -10000)),  # 9000 m from a
    ])
    for pairs in (None, col.candidate_pairs(zones, 1000.0), col.candidate_pairs(zones, 1e6)):
        near = col.nearest_partners(zones, pairs=pairs)
        assert near["nearest_partner_id"].tolist() == ["c", "c", "b", "a"]
        assert near["nearest_partner_district"].tolist() == ["D2", "D2", "D1", "D1"]
        assert near["nearest_partner_m"].tolist() == [8000.0, 6500.0, 6500.0, 9000.0]


def test_nearest_partner_tie_goes_to_smaller_id():
    zones = make_zones([
        dict(zone_id="m", chain="ev", district_id="D1", jobs=1, geometry=sq(0, 0)),
        dict(zone_id="z", chain="ev", district_id="D2", jobs=1, geometry=sq(3000, 0)),
        dict(zone_id="b", chain="ev", district_id="D3", jobs=1, geometry=sq(-3000, 0)),
    ])
    for pairs in (None, col.candidate_pairs(zones, 5000.0)):
        assert col.nearest_partners(zones, pairs=pairs)["nearest_partner_id"].iloc[0] == "b"


def test_chain_dispersion_by_hand():
    frame = pd.DataFrame({
        "chain": ["ev", "ev", "ev", "bio", "solo"],
        "district_id": ["A", "B", "B", "A", "C"],
        "jobs": [1.0, 3.0, 0.0, 5.0, 0.0],
        "x": [0.0, 4000.0, 100000.0, 7.0, 1.0],
        "y": [0.0, 0.0, 0.0, 7.0, 1.0],
        "nearest_partner_m": [100.0, 300.0, 9000.0, np.nan, np.nan],
        "partners_within": [2, 1, 1, 0, 0],
    })
    table = col.chain_dispersion(frame).set_index("chain")
    # ev: weights 1, 3, 0 -> centre x = 3000; SD = sqrt((1*3000^2 + 3*1000^2) / 4) = sqrt(3e6)
    assert table.loc["ev", "standard_distance_m"] == pytest.approx(math.sqrt(3e6))
    assert table.loc["ev", ["zones", "districts", "pairs"]].tolist() == [3, 2, 2]
    assert table.loc["ev", "share_linked"] == 1.0
    assert table.loc["ev", "mean_nearest_partner_m"] == pytest.approx(3133.3333333)
    assert table.loc["bio", "standard_distance_m"] == 0.0
    assert table.loc["bio", "share_linked"] == 0.0
    assert math.isnan(table.loc["bio", "mean_nearest_partner_m"])
    # no jobs at all -> equal weights; one zone -> 0
    assert table.loc["solo", "standard_distance_m"] == 0.0
    # ev most fragmented; bio and solo tie on SD and share -> chain name order
    assert table.index.tolist() == ["ev", "bio", "solo"]
    assert table["fragmentation_rank"].tolist() == [1, 2, 3]


def test_chain_dispersion_equal_weights_when_no_jobs():
    frame = pd.DataFrame({"chain": ["c", "c"], "district_id": ["A", "B"], "jobs": [0.0, np.nan],
                          "x": [0.0, 2000.0], "y": [0.0, 0.0], "nearest_partner_m": [1.0, 1.0],
                          "partners_within": [1, 1]})
    assert col.chain_dispersion(frame)["standard_distance_m"].iloc[0] == pytest.approx(1000.0)


def test_district_matrix_folds_orientation():
    pairs = pd.DataFrame({"district_a": ["B", "A", "A"], "district_b": ["A", "B", "C"],
                          "strength": [1.0, 2.0, 10.0], "recommended": [True, False, True]})
    m = col.district_matrix(pairs, {"A": "Alpha"})
    assert m[["district_a", "district_b", "name_a", "name_b", "pairs", "recommended_pairs", "strength"]
             ].values.tolist() == [["A", "C", "Alpha", "C", 1, 1, 10.0], ["A", "B", "Alpha", "B", 2, 1, 3.0]]


def test_nearest_innovation_chain_lists_and_distance():
    zones = make_zones([
        dict(zone_id="a", chain="ev", district_id="D1", jobs=1, geometry=sq(0, 0)),
        dict(zone_id="b", chain="bio", district_id="D1", jobs=1, geometry=sq(0, 0)),
        dict(zone_id="c", chain="ai", district_id="D1", jobs=1, geometry=sq(0, 0)),
    ])
    innov = gpd.GeoDataFrame(
        {"innov_id": ["i1", "i2", "i3"], "name": ["x", "y", "z"],
         "chains": ["bio ；ev", "ev、chips", None]},
        geometry=[sq(5000, 0), sq(500, 500, 100), sq(0, 0)], crs=CRS_M,
    )
    got = col.nearest_innovation(zones, innov)
    assert got["nearest_innov_id"].tolist()[:2] == ["i2", "i1"]
    assert got["nearest_innov_m"].tolist()[:2] == [0.0, 4000.0]
    assert pd.isna(got["nearest_innov_id"].iloc[2]) and math.isnan(got["nearest_innov_m"].iloc[2])
    none = col.nearest_innovation(zones, None)
    assert none["nearest_innov_id"].isna().all() and none["nearest_innov_m"].isna().all()


# ---------------------------------------------------------------------------
# run: hand-made study


@pytest.fixture
def study() -> Study:
    zones = make_zones([
        # chain ev: rd in D1, manufacturing in D2 (2 km), terminal D1, supporting D3
        dict(zone_id="z1", chain="ev", district_id="D1", jobs=100.0, output=10.0, role="rd", geometry=sq(0, 0)),
        dict(zone_id="z2", chain="ev", district_id="D2", jobs=200.0, output=20.0, role="manufacturing",
             geometry=sq(3000, 0)),
        dict(zone_id="z3", chain="ev", district_id="D1", jobs=50.0, output=np.nan, role="terminal",
             geometry=sq(0, 5000)),
        dict(zone_id="z4", chain="ev", district_id="D3", jobs=10.0, output=np.nan, role="supporting",
             geometry=sq(0, 6000)),  # touches z3
        # chain bio: only in D1
        dict(zone_id="z5", chain="bio", district_id="D1", jobs=5.0, output=1.0, role=None, geometry=sq(20000, 0)),
        dict(zone_id="z6", chain="bio", district_id="D1", jobs=5.0, output=1.0, role=None, geometry=sq(22000, 0)),
        # chain ai: one zone
        dict(zone_id="z7", chain="ai", district_id="D2", jobs=7.0, output=2.0, role="mixed", geometry=sq(40000, 0)),
    ])
    districts = gpd.GeoDataFrame({"district_id": ["D1", "D2", "D3"], "name": ["Gaoxin", "Shuangliu", "Pidu"]},
                                 geometry=[sq(0, 0, 1), sq(5, 5, 1), sq(9, 9, 1)], crs=CRS_M)
    innov = gpd.GeoDataFrame({"innov_id": ["I1"], "name": ["Hub"], "chains": ["ev；ai"]},
                             geometry=[sq(0, -3000)], crs=CRS_M)
    return Study(crs=CRS_M, zones=zones, districts=districts, innovation_districts=innov)


def test_run_pairs_types_strength_and_ranks(study):
    result = col.run(study, make_settings("en", max_distance_m=6000, distance_decay=2.0, top_pairs_per_chain=2))
    pairs = result.tables["collaboration_pairs"]
    assert list(pairs.columns[:13]) == col.PAIR_COLUMNS and pairs.geometry.name == "geometry"
    p = by_pair(pairs)
    # within 6 km across districts in chain ev: z1-z2 (2000), z3-z4 (0), z1-z4 (5000), z2-z3 (~4123),
    # z2-z4 (~5385), z1-z3 same district -> no pair
    d23 = math.hypot(2000, 4000)
    d24 = math.hypot(2000, 5000)
    assert set(p) == {frozenset(s) for s in [("z1", "z2"), ("z3", "z4"), ("z1", "z4"), ("z2", "z3"), ("z2", "z4")]}
    assert p[frozenset(("z1", "z2"))].distance_m == 2000.0
    assert p[frozenset(("z3", "z4"))].distance_m == 0.0
    assert p[frozenset(("z2", "z3"))].distance_m == pytest.approx(d23)
    # strength: output as mass, jobs where output is missing (z3: 50, z4: 10)
    assert p[frozenset(("z1", "z2"))].strength == pytest.approx(10 * 20 / 3**2)
    assert p[frozenset(("z3", "z4"))].strength == pytest.approx(50 * 10 / 1)
    assert p[frozenset(("z1", "z4"))].strength == pytest.approx(10 * 10 / 6**2)
    assert p[frozenset(("z2", "z3"))].strength == pytest.approx(20 * 50 / (d23 / 1000 + 1) ** 2)
    assert p[frozenset(("z2", "z4"))].strength == pytest.approx(20 * 10 / (d24 / 1000 + 1) ** 2)
    assert p[frozenset(("z1", "z2"))].pair_type == "rd_manufacturing"
    assert p[frozenset(("z3", "z4"))].pair_type == "terminal_supporting"
    assert p[frozenset(("z1", "z4"))].pair_type == "peer"
    # district_a < district_b
    assert (pairs["district_a"] < pairs["district_b"]).all()
    # rank by strength desc: z3-z4 (500), z2-z3, z1-z2 (22.2), z2-z4, z1-z4
    order = [frozenset((a, b)) for a, b in zip(pairs.zone_a, pairs.zone_b)]
    assert order == [frozenset(s) for s in [("z3", "z4"), ("z2", "z3"), ("z1", "z2"), ("z2", "z4"), ("z1", "z4")]]
    assert pairs["rank"].tolist() == [1, 2, 3, 4, 5]
    assert pairs["recommended"].tolist() == [True, True, False, False, False]
    # lines join the representative points (square centres)
    line = pairs.geometry.iloc[0]
    assert sorted(shapely.get_coordinates(line).tolist()) == [[500.0, 5500.0], [500.0, 6500.0]]
    assert result.summary["pairs"] == 5 and result.summary["recommended_pairs"] == 2
    assert result.summary["pairs_by_type"] == {"main_partner": 0, "rd_manufacturing": 1,
                                               "terminal_supporting": 1, "peer": 3}
    assert result.summary["zones_with_partner_within"] == 4
    assert result.summary["zones_without_any_partner"] == 3  # bio (one district) and ai (one zone)
    assert result.summary["median_nearest_partner_m"] == 1000.0  # nearest: 2000, 2000, 0, 0
    assert json.loads(json.dumps(result.summary)) == result.summary
    assert pairs["rank"].dtype == np.int64 and pairs["recommended"].dtype == bool
    assert (pairs.geometry.geom_type == "LineString").all() and pairs.crs == CRS_M


def test_run_without_role_column_gives_peers(study):
    study.zones = study.zones.drop(columns=["role"])
    pairs = col.run(study, make_settings("en", max_distance_m=6000)).tables["collaboration_pairs"]
    assert (pairs["pair_type"] == "peer").all()
    assert by_pair(pairs)[frozenset(("z1", "z2"))].reason == (
        "ev chain: a zone in Gaoxin and a zone in Shuangliu, 2.0 km apart (peer collaboration)")


def test_run_reasons_en_and_zh(study):
    en = col.run(study, make_settings("en", max_distance_m=6000)).tables["collaboration_pairs"]
    p = by_pair(en)
    assert p[frozenset(("z1", "z2"))].reason == (
        "ev chain: R&D in Gaoxin and manufacturing in Shuangliu, 2.0 km apart (R&D + manufacturing)")
    assert p[frozenset(("z3", "z4"))].reason == (
        "ev chain: terminal in Gaoxin and supporting in Pidu, adjacent (terminal + supporting)")
    zh = by_pair(col.run(study, make_settings("zh", max_distance_m=6000)).tables["collaboration_pairs"])
    assert zh[frozenset(("z1", "z2"))].reason == "ev产业链：Gaoxin“研发”与Shuangliu“制造”相距 2.0 公里，研发 + 制造协同"
    assert zh[frozenset(("z3", "z4"))].reason == "ev产业链：Gaoxin“终端”与Pidu“配套”毗邻，终端 + 配套协同"
    assert zh[frozenset(("z1", "z4"))].reason == "ev产业链：Gaoxin“研发”与Pidu“配套”相距 5.0 公里，同链协作"


def test_run_reason_uses_district_ids_without_districts_layer(study):
    study.districts = None
    p = by_pair(col.run(study, make_settings("en", max_distance_m=6000)).tables["collaboration_pairs"])
    assert p[frozenset(("z1", "z2"))].reason.startswith("ev chain: R&D in D1 and manufacturing in D2,")


def test_reason_unknown_roles_and_leading_side():
    pairs = pd.DataFrame({
        "chain": ["电子信息产业链", "AI"], "district_name_a": ["双流区", "A"], "district_name_b": ["高新区", "B"],
        "role_a": [None, "manufacturing"], "role_b": [None, None], "pair_type": ["peer", "peer"],
        "distance_m": [12345.0, 50.0],
    })
    assert col.pair_reasons(pairs, language="zh").tolist()[0] == "电子信息产业链：双流区与高新区相距 12.3 公里，同链协作"
    assert col.pair_reasons(pairs, language="en").tolist()[1] == (
        "AI chain: manufacturing in A and a zone in B, 0.05 km apart (peer collaboration)")


def naive_reason(chain, da, db, ra, rb, pa, pb, ptype, distance_m, language):
    """Straightforward one-pair version of the reason rule, for comparison."""
    zh = language == "zh"
    main = ptype == "main_partner"
    wa, wb = (pa, pb) if main else (ra, rb)
    lead_b = (ptype == "rd_manufacturing" and rb == "rd") or (ptype == "terminal_supporting" and rb == "terminal") \
        or (main and pb == "core")
    if lead_b:
        da, db, wa, wb = db, da, wb, wa
    words_zh = {"rd": "研发", "manufacturing": "制造", "terminal": "终端", "supporting": "配套", "mixed": "综合",
                "core": "极核", "periphery": "外围"}
    words_en = {"rd": "R&D", "manufacturing": "manufacturing", "terminal": "terminal", "supporting": "supporting",
                "mixed": "mixed", "core": "core", "periphery": "periphery"}
    km = distance_m / 1000
    km_text = f"{round(km, 1):.1f}" if round(km, 1) >= 0.1 else f"{round(km, 2):.2f}"
    if zh:
        side = lambda d, w: f"{d}“{words_zh[w]}”" if w in words_zh else d  # noqa: E731
        dist = "毗邻" if km == 0 else f"相距 {km_text} 公里"
        kind = {"main_partner": "主承载 + 协同地", "rd_manufacturing": "研发 + 制造协同",
                "terminal_supporting": "终端 + 配套协同", "peer": "同链协作"}[ptype]
        return f"{chain}产业链：{side(da, wa)}与{side(db, wb)}{dist}，{kind}"
    side = lambda d, w: f"{words_en[w]} in {d}" if w in words_en else f"a zone in {d}"  # noqa: E731
    dist = "adjacent" if km == 0 else f"{km_text} km apart"
    kind = {"main_partner": "main site + partner site", "rd_manufacturing": "R&D + manufacturing",
            "terminal_supporting": "terminal + supporting", "peer": "peer collaboration"}[ptype]
    return f"{chain} chain: {side(da, wa)} and {side(db, wb)}, {dist} ({kind})"


@hsettings(max_examples=25, deadline=None)
@given(rows=st.lists(st.tuples(
    st.sampled_from(["ev", "ai"]), st.sampled_from(["D1", "D2", "D3"]), st.sampled_from(["D4", "D5"]),
    st.sampled_from(["rd", "manufacturing", "terminal", "supporting", "mixed", None]),
    st.sampled_from(["rd", "manufacturing", "terminal", "supporting", None]),
    st.sampled_from(["core", "periphery", None]), st.sampled_from(["core", "periphery", None]),
    st.sampled_from([0.0, 40.0, 1234.0, 1260.0, 5000.0, 29999.0]),
), min_size=1, max_size=40), language=st.sampled_from(["zh", "en"]))
def test_pair_reasons_match_one_by_one_rule(rows, language):
    frame = pd.DataFrame(rows, columns=["chain", "district_name_a", "district_name_b", "role_a", "role_b",
                                        "position_a", "position_b", "distance_m"])
    frame["pair_type"] = col.classify_pairs(frame["role_a"], frame["role_b"], position_a=frame["position_a"],
                                            position_b=frame["position_b"])
    got = col.pair_reasons(frame, language=language).tolist()
    want = [naive_reason(r.chain, r.district_name_a, r.district_name_b, r.role_a, r.role_b, r.position_a,
                         r.position_b, r.pair_type, r.distance_m, language) for r in frame.itertuples()]
    assert got == want


def test_run_main_partner_from_core_roles(study):
    core_roles = pd.Series({"z1": "periphery", "z2": "core", "z3": "core", "z4": "core",
                            "z5": "periphery", "z6": "core", "z7": "core"})
    result = col.run(study, make_settings("zh", max_distance_m=6000), core_roles=core_roles)
    p = by_pair(result.tables["collaboration_pairs"])
    assert p[frozenset(("z1", "z2"))].pair_type == "main_partner"   # beats rd_manufacturing
    assert p[frozenset(("z3", "z4"))].pair_type == "terminal_supporting"  # two cores
    assert p[frozenset(("z1", "z4"))].pair_type == "main_partner"
    assert p[frozenset(("z1", "z2"))].reason == "ev产业链：Shuangliu“极核”与Gaoxin“外围”相距 2.0 公里，主承载 + 协同地"
    en = by_pair(col.run(study, make_settings("en", max_distance_m=6000), core_roles=core_roles)
                 .tables["collaboration_pairs"])
    assert en[frozenset(("z1", "z2"))].reason == (
        "ev chain: core in Shuangliu and periphery in Gaoxin, 2.0 km apart (main site + partner site)")
    assert result.summary["parameters"]["core_roles_used"] is True
    # a missing zone in core_roles is reported
    partial = col.run(study, make_settings("en", max_distance_m=6000), core_roles=core_roles.drop("z7"))
    assert any("core/periphery" in w for w in partial.warnings)


def test_run_zone_table(study):
    result = col.run(study, make_settings("en", max_distance_m=3000))
    zt = result.tables["collaboration_zones"]
    assert list(zt.columns[:10]) == col.ZONE_COLUMNS
    zt = zt.set_index("zone_id")
    # z1: nearest partner z2 at 2000 m; within 3 km: z2 only
    assert zt.loc["z1", ["nearest_partner_id", "nearest_partner_district", "nearest_partner_m"]].tolist() == \
        ["z2", "D2", 2000.0]
    assert zt.loc["z1", "partners_within"] == 1
    # z2: nearest across district is z1 (2000) ; z3 at 4123 beyond 3 km
    assert zt.loc["z2", "nearest_partner_id"] == "z1" and zt.loc["z2", "partners_within"] == 1
    # z3: touches z4
    assert zt.loc["z3", "nearest_partner_m"] == 0.0 and zt.loc["z3", "partners_within"] == 1
    # z4 (D3): nearest z3 (0 m); z1 at 5000 beyond range
    assert zt.loc["z4", "nearest_partner_id"] == "z3" and zt.loc["z4", "partners_within"] == 1
    # bio lies in one district; ai has one zone -> no partner at all
    for z in ("z5", "z6", "z7"):
        assert pd.isna(zt.loc[z, "nearest_partner_id"]) and pd.isna(zt.loc[z, "nearest_partner_district"])
        assert math.isnan(zt.loc[z, "nearest_partner_m"]) and zt.loc[z, "partners_within"] == 0
    # innovation district I1 (0,-3000)-(1000,-2000) serves ev and ai (full-width separator)
    assert zt.loc["z1", "nearest_innov_id"] == "I1" and zt.loc["z1", "nearest_innov_m"] == 2000.0
    assert zt.loc["z7", "nearest_innov_id"] == "I1"
    assert zt.loc["z7", "nearest_innov_m"] == pytest.approx(math.hypot(39000, 2000))
    assert pd.isna(zt.loc["z5", "nearest_innov_id"]) and math.isnan(zt.loc["z5", "nearest_innov_m"])
    assert zt["partners_within"].dtype == np.int64
    assert any("bio" in w and "single district" in w for w in result.warnings)
    assert any("bio" in w and "innovation district" in w for w in result.warnings)


def test_nearest_partner_beyond_max_distance(study):
    zt = col.run(study, make_settings("en", max_distance_m=100)).tables["collaboration_zones"].set_index("zone_id")
    assert zt.loc["z1", "nearest_partner_id"] == "z2" and zt.loc["z1", "nearest_partner_m"] == 2000.0
    assert zt.loc["z1", "partners_within"] == 0


def test_run_chain_table_and_matrix(study):
    result = col.run(study, make_settings("en", max_distance_m=6000))
    chains = result.tables["collaboration_chains"]
    assert list(chains.columns) == col.CHAIN_COLUMNS
    t = chains.set_index("chain")
    assert t.loc["ev", ["zones", "districts", "pairs"]].tolist() == [4, 3, 5]
    assert t.loc["ev", "share_linked"] == 1.0
    # nearest: z1 2000, z2 2000, z3 0, z4 0
    assert t.loc["ev", "mean_nearest_partner_m"] == 1000.0
    # jobs-weighted centres: (500,500) w100, (3500,500) w200, (500,5500) w50, (500,6500) w10
    pts = np.array([[500, 500], [3500, 500], [500, 5500], [500, 6500]], float)
    w = np.array([100, 200, 50, 10], float)
    c = (w[:, None] * pts).sum(0) / w.sum()
    sd = math.sqrt((w * ((pts - c) ** 2).sum(1)).sum() / w.sum())
    assert t.loc["ev", "standard_distance_m"] == pytest.approx(sd)
    assert t.loc["bio", ["zones", "districts", "pairs", "share_linked"]].tolist() == [2, 1, 0, 0.0]
    assert t.loc["bio", "standard_distance_m"] == pytest.approx(1000.0)
    assert t.loc["ai", "zones"] == 1 and t.loc["ai", "standard_distance_m"] == 0.0
    assert chains["chain"].tolist() == ["ev", "bio", "ai"]
    assert result.summary["most_fragmented_chains"] == ["ev", "bio", "ai"]

    pairs = result.tables["collaboration_pairs"]
    matrix = result.tables["collaboration_matrix"]
    assert matrix["strength"].sum() == pytest.approx(pairs["strength"].sum())
    assert matrix["pairs"].sum() == len(pairs)
    for r in matrix.itertuples():
        sel = pairs[(pairs.district_a == r.district_a) & (pairs.district_b == r.district_b)]
        assert r.strength == pytest.approx(sel["strength"].sum()) and r.pairs == len(sel)
        assert r.district_a < r.district_b
    assert set(matrix["name_a"]) <= {"Gaoxin", "Shuangliu", "Pidu"}
    assert result.summary["strongest_district_pair"]["district_a"] == matrix["district_a"].iloc[0]


def test_run_without_output_column_uses_jobs(study):
    study.zones = study.zones.drop(columns=["output"])
    result = col.run(study, make_settings("en", max_distance_m=6000))
    p = by_pair(result.tables["collaboration_pairs"])
    assert p[frozenset(("z1", "z2"))].strength == pytest.approx(100 * 200 / 9)
    assert result.summary["parameters"]["mass"] == "jobs"
    assert not any("output" in w for w in result.warnings)


def test_run_partial_output_warns(study):
    result = col.run(study, make_settings("en", max_distance_m=6000))
    assert any("have no output" in w for w in result.warnings)


def test_run_no_pairs_gives_empty_typed_tables(study):
    study.zones = study.zones[study.zones.chain != "ev"].copy()
    result = col.run(study, make_settings("zh", max_distance_m=6000))
    pairs = result.tables["collaboration_pairs"]
    assert pairs.empty and list(pairs.columns[:13]) == col.PAIR_COLUMNS and pairs.crs == CRS_M
    assert result.tables["collaboration_matrix"].empty
    assert list(result.tables["collaboration_matrix"].columns) == col.MATRIX_COLUMNS
    assert result.summary["pairs"] == 0 and result.summary["strongest_district_pair"] is None
    assert any("max_distance_m" in w for w in result.warnings)
    json.dumps(result.summary)


def test_run_does_not_mutate_inputs(study):
    before = {name: getattr(study, name).copy(deep=True) for name in ("zones", "districts", "innovation_districts")}
    roles = pd.Series({"z1": "core", "z2": "periphery"})
    roles_before = roles.copy()
    col.run(study, make_settings("en", max_distance_m=6000), core_roles=roles)
    for name, frame in before.items():
        pd.testing.assert_frame_equal(getattr(study, name), frame)
    pd.testing.assert_series_equal(roles, roles_before)


def test_run_keeps_zone_index_and_accepts_custom_index(study):
    study.zones = study.zones.set_axis([10, 20, 30, 40, 50, 60, 70])
    zt = col.run(study, make_settings("en", max_distance_m=6000)).tables["collaboration_zones"]
    assert zt.index.tolist() == [10, 20, 30, 40, 50, 60, 70]
    assert zt.loc[10, "nearest_partner_id"] == "z2"


# ---------------------------------------------------------------------------
# brute-force reference on random layers


def brute_force(zones: gpd.GeoDataFrame, max_distance_m: float):
    geoms = list(zones.geometry)
    ids = zones.zone_id.tolist()
    pairs = {}
    nearest = {}
    for a, b in itertools.permutations(range(len(geoms)), 2):
        if zones.chain.iloc[a] != zones.chain.iloc[b] or zones.district_id.iloc[a] == zones.district_id.iloc[b]:
            continue
        d = shapely.distance(geoms[a], geoms[b])
        if d <= max_distance_m and a < b:
            pairs[frozenset((ids[a], ids[b]))] = d
        if ids[a] not in nearest or d < nearest[ids[a]] - 1e-9:
            nearest[ids[a]] = d
    return pairs, nearest


zone_row = st.tuples(
    st.integers(0, 20000), st.integers(0, 20000),      # lower-left corner
    st.integers(1, 3000), st.integers(1, 3000),        # width, height
    st.sampled_from(["ev", "bio", "ai"]), st.sampled_from(["D1", "D2", "D3", "D4"]),
)


@hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(zone_row, min_size=1, max_size=30), max_distance_m=st.floats(1e-3, 15000))
def test_matches_brute_force(rows, max_distance_m):
    zones = make_zones([
        dict(zone_id=f"z{k:02d}", chain=c, district_id=dist, jobs=float(k + 1),
             geometry=box(x, y, x + w, y + h))
        for k, (x, y, w, h, c, dist) in enumerate(rows)
    ])
    ref_pairs, ref_nearest = brute_force(zones, max_distance_m)
    got = col.candidate_pairs(zones, max_distance_m)
    got_pairs = {frozenset((zones.zone_id.iloc[r.i], zones.zone_id.iloc[r.j])): r.distance_m
                 for r in got.itertuples()}
    assert got_pairs.keys() == ref_pairs.keys()
    for key, d in ref_pairs.items():
        assert got_pairs[key] == pytest.approx(d, abs=1e-6)

    result = col.run(Study(crs=CRS_M, zones=zones), make_settings("en", max_distance_m=max_distance_m))
    zt = result.tables["collaboration_zones"].set_index("zone_id")
    for zid in zt.index:
        if zid in ref_nearest:
            assert zt.loc[zid, "nearest_partner_m"] == pytest.approx(ref_nearest[zid], abs=1e-6)
            partner = zt.loc[zid, "nearest_partner_id"]
            g = zones.set_index("zone_id").geometry
            assert shapely.distance(g[zid], g[partner]) == pytest.approx(ref_nearest[zid], abs=1e-6)
            assert zones.set_index("zone_id").loc[partner, "district_id"] != zones.set_index("zone_id").loc[
                zid, "district_id"]
        else:
            assert pd.isna(zt.loc[zid, "nearest_partner_id"]) and math.isnan(zt.loc[zid, "nearest_partner_m"])
    # nearest partners do not depend on whether candidate pairs are reused
    a = col.nearest_partners(zones)
    b = col.nearest_partners(zones, pairs=got)
    pd.testing.assert_frame_equal(a, b)
    # pairs, partners_within and matrix are consistent
    pairs = result.tables["collaboration_pairs"]
    assert {frozenset(k) for k in zip(pairs.zone_a, pairs.zone_b)} == ref_pairs.keys()
    assert zt["partners_within"].sum() == 2 * len(pairs)
    assert result.tables["collaboration_matrix"]["strength"].sum() == pytest.approx(pairs["strength"].sum())
    for chain, grp in pairs.groupby("chain"):
        assert grp["rank"].tolist() == list(range(1, len(grp) + 1))
        assert (np.diff(grp["strength"].to_numpy()) <= 1e-9 * grp["strength"].max()).all()
