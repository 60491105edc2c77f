"""Every number a planner reads, against references that share no code with the product
(issue 23): tests/_reference.py (plain loops, rectangle geometry by hand), rasterio's
own cell centres, and hand-derived Huff fixtures. Every analysis is also run with every
parameter moved off its default, so a parameter the analysis ignores shows up.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio.transform
import shapely
from affine import Affine

from geo._types import Raster, Study
from geo.analysis import balance, collaboration, core_periphery
from geo.settings import settings_from_dict
from tests import _reference as ref

CRS = "EPSG:4544"
X0, Y0 = 500_000.0, 3_400_000.0


def geometry(rects) -> shapely.Geometry:
    boxes = [shapely.box(X0 + a, Y0 + b, X0 + c, Y0 + d) for a, b, c, d in rects]
    return boxes[0] if len(boxes) == 1 else shapely.MultiPolygon(boxes)


def settings(**sections):
    return settings_from_dict({"layers": {"zones": {"path": "zones.gpkg"}}, **sections}, base_dir=".")


def random_rects(rng, n, extent, size=(300, 1500)):
    """Integer-metre rectangles (so distances to integer points are exact)."""
    out = []
    for _ in range(n):
        w, h = rng.integers(*size, 2)
        x, y = rng.integers(0, extent - w), rng.integers(0, extent - h)
        out.append((float(x), float(y), float(x + w), float(y + h)))
    return out


def assert_close(got, want, what, rel=1e-9, abs_=1e-6):
    if isinstance(want, str):      # a class: equal, not close
        assert got == want, (what, got, want)
    elif isinstance(want, float) and math.isnan(want):
        assert got is None or pd.isna(got), (what, got)
    else:
        assert got == pytest.approx(want, rel=rel, abs=abs_), (what, got, want)


# ---------------------------------------------------------------------------
# jobs–housing balance: every parameter off its default


BALANCE_NONDEFAULT = {"radius_m": 1500, "radii_m": [700, 2600], "workers_per_dwelling": 2.1,
                      "employment_rate": 0.35, "balanced_range": [0.5, 3.0]}


def balance_fixture(seed: int):
    rng = np.random.default_rng(seed)
    extent = 12_000
    districts = [{"id": "D1", "rects": [(0.0, 0.0, 6000.0, 12000.0)]},
                 {"id": "D2", "rects": [(6000.0, 0.0, 12000.0, 12000.0)]}]
    workplaces = []
    for k, rect in enumerate(random_rects(rng, 7, extent)):
        rects = [rect]
        if k == 3:  # a zone of two parts
            rects.append(random_rects(rng, 1, extent)[0])
        workplaces.append({"id": f"Z{k}", "kind": "zone", "rects": rects,
                           "jobs": float(rng.integers(0, 4) * rng.integers(0, 3000)),
                           "district": "D1" if rect[0] < 6000 else "D2"})
    for k, rect in enumerate(random_rects(rng, 2, extent)):
        workplaces.append({"id": f"I{k}", "kind": "innovation_district", "rects": [rect],
                           "jobs": float(rng.integers(0, 2000)), "district": None})
    homes = [(float(x), float(y)) for x, y in rng.integers(0, extent, (80, 2))]
    # on the radius of the primary and of a secondary radius (exact integers), and on
    # the border of the two districts
    z = workplaces[0]["rects"][0]
    homes += [(z[2] + 1500, (z[1] + z[3]) // 2), (z[0] - 700, z[1]), (z[0], z[3] + 2600),
              (6000.0, 5000.0)]
    dwellings = [float(v) for v in rng.integers(0, 300, len(homes))]
    population = [float(v) for v in rng.integers(0, 900, len(homes))]
    missing = rng.random(len(homes)) < 0.2   # no dwellings: population x employment_rate
    return districts, workplaces, homes, dwellings, population, missing


def balance_study(districts, workplaces, homes, dwellings, population, missing) -> Study:
    zones = [w for w in workplaces if w["kind"] == "zone"]
    innov = [w for w in workplaces if w["kind"] != "zone"]
    return Study(
        crs=CRS,
        districts=gpd.GeoDataFrame({"district_id": [d["id"] for d in districts],
                                    "name": [d["id"] for d in districts]},
                                   geometry=[geometry(d["rects"]) for d in districts], crs=CRS),
        zones=gpd.GeoDataFrame({"zone_id": [w["id"] for w in zones], "name": [w["id"] for w in zones],
                                "chain": "c", "jobs": [w["jobs"] for w in zones],
                                "district_id": [w["district"] for w in zones]},
                               geometry=[geometry(w["rects"]) for w in zones], crs=CRS),
        innovation_districts=gpd.GeoDataFrame(
            {"innov_id": [w["id"] for w in innov], "name": [w["id"] for w in innov], "chains": "c",
             "jobs": [w["jobs"] for w in innov]},
            geometry=[geometry(w["rects"]) for w in innov], crs=CRS),
        housing=gpd.GeoDataFrame(
            {"housing_id": [f"H{i}" for i in range(len(homes))],
             "dwellings": np.where(missing, np.nan, dwellings), "population": population},
            geometry=shapely.points(np.array(homes) + [X0, Y0]), crs=CRS),
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_balance_every_parameter_off_default_matches_reference(seed):
    districts, workplaces, homes, dwellings, population, missing = balance_fixture(seed)
    p = BALANCE_NONDEFAULT
    result = balance.run(balance_study(districts, workplaces, homes, dwellings, population, missing),
                         settings(balance=p))
    workers = [pop * p["employment_rate"] if m else dw * p["workers_per_dwelling"]
               for dw, pop, m in zip(dwellings, population, missing)]
    weighted = [(x, y, w) for (x, y), w in zip(homes, workers)]
    want = ref.balance_reference(workplaces, weighted, p["radii_m"], p["radius_m"], tuple(p["balanced_range"]))
    got = result.tables["balance_workplaces"].set_index("workplace_id")
    assert set(got.columns) >= {"workers_700", "workers_1500", "workers_2600"}
    for wid, row in want.items():
        for col, value in row.items():
            if col == "balance_class":
                assert got.loc[wid, col] == value, (wid, got.loc[wid, "jhr"])
            else:
                assert_close(got.loc[wid, col], value, (wid, col))
    # the classes use the configured range, not the default one
    jhr = got["jhr"].dropna()
    assert ((jhr > 1.25) & (jhr <= 3.0)).any() or ((jhr < 0.8) & (jhr >= 0.5)).any(), jhr.tolist()

    want_d = ref.district_reference(districts, workplaces, weighted, tuple(p["balanced_range"]))
    got_d = result.tables["balance_districts"].set_index("district_id")
    for did, row in want_d.items():
        for col, value in row.items():
            if col == "balance_class":
                assert got_d.loc[did, col] == value
            else:
                assert_close(got_d.loc[did, col], value, (did, col))


def test_balance_class_bounds_follow_balanced_range():
    """One workplace per side of each bound of a non-default range [0.5, 3.0]."""
    rects = [(0.0, 0.0, 100.0, 100.0)]
    jobs = [49.0, 50.0, 300.0, 301.0, 100.0]
    workplaces = [{"id": f"W{k}", "kind": "zone", "rects": [(k * 50_000.0, 0.0, k * 50_000.0 + 100, 100.0)],
                   "jobs": j, "district": "D1"} for k, j in enumerate(jobs)]
    homes = [(k * 50_000.0 + 50, 50.0) for k in range(len(jobs))]   # 100 workers each
    study = balance_study([{"id": "D1", "rects": [(-1.0, -1.0, 300_000.0, 300.0)]}], workplaces, homes,
                          [100.0] * len(jobs), [0.0] * len(jobs), np.zeros(len(jobs), bool))
    got = balance.run(study, settings(balance={"radius_m": 1000, "radii_m": [1000], "workers_per_dwelling": 1.0,
                                               "balanced_range": [0.5, 3.0]}))
    classes = got.tables["balance_workplaces"]["balance_class"].tolist()
    assert classes == ["housing_rich", "balanced", "balanced", "jobs_rich", "balanced"]
    del rects


def test_population_raster_cells_from_rasterio_transform():
    """Resident workers from a population raster: cell centres computed by rasterio from
    the transform (not by Raster.cell_centres), a 100 m grid whose origin is not a
    multiple of the cell size, so a half-cell shift moves cells across the radius."""
    rng = np.random.default_rng(5)
    data = rng.integers(0, 50, (40, 50)).astype(float)
    data[rng.random(data.shape) < 0.1] = np.nan
    transform = Affine(100.0, 0.0, X0 + 37.0, 0.0, -100.0, Y0 + 4013.0)
    workplaces = [{"id": f"Z{k}", "kind": "zone", "rects": [r], "jobs": float(500 * (k + 1)), "district": None}
                  for k, r in enumerate([(800.0, 900.0, 1300.0, 1250.0), (3000.0, 2000.0, 3600.0, 2900.0),
                                         (1500.0, 2500.0, 1800.0, 2800.0)])]
    rows, cols = np.nonzero(np.isfinite(data))
    xs, ys = rasterio.transform.xy(transform, rows, cols, offset="center")
    homes = [(x - X0, y - Y0, v * 0.4) for x, y, v in zip(xs, ys, data[rows, cols])]
    zones = gpd.GeoDataFrame({"zone_id": [w["id"] for w in workplaces], "name": "z", "chain": "c",
                              "jobs": [w["jobs"] for w in workplaces], "district_id": "D1"},
                             geometry=[geometry(w["rects"]) for w in workplaces], crs=CRS)
    study = Study(crs=CRS, zones=zones, population=Raster(data, transform, CRS))
    p = {"radius_m": 750, "radii_m": [330, 750, 1210], "employment_rate": 0.4, "balanced_range": [0.6, 2.5]}
    got = balance.run(study, settings(balance=p)).tables["balance_workplaces"].set_index("workplace_id")
    want = ref.balance_reference(workplaces, homes, p["radii_m"], p["radius_m"], (0.6, 2.5))
    for wid, row in want.items():
        for col in ("workers_330", "workers_750", "workers_1210", "workers_shared", "jhr"):
            assert_close(got.loc[wid, col], row[col], (wid, col))
        assert got.loc[wid, "balance_class"] == row["balance_class"]


# ---------------------------------------------------------------------------
# collaboration: every parameter off its default


def collaboration_fixture(seed: int):
    rng = np.random.default_rng(seed)
    roles = ["rd", "manufacturing", "terminal", "supporting", "mixed", None]
    zones = []
    for k, rect in enumerate(random_rects(rng, 14, 15_000, size=(200, 1200))):
        zones.append({"id": f"Z{k:02d}", "chain": ["ev", "bio"][k % 2], "district": f"D{rng.integers(1, 4)}",
                      "rects": [rect], "jobs": float(rng.integers(1, 5000)),
                      "output": None if rng.random() < 0.3 else float(rng.integers(1, 900)),
                      "role": roles[rng.integers(0, len(roles))]})
    return zones


def collaboration_study(zones) -> Study:
    frame = gpd.GeoDataFrame(
        {"zone_id": [z["id"] for z in zones], "name": [z["id"] for z in zones],
         "chain": [z["chain"] for z in zones], "district_id": [z["district"] for z in zones],
         "jobs": [z["jobs"] for z in zones],
         "output": [np.nan if z["output"] is None else z["output"] for z in zones],
         "role": [z["role"] for z in zones]},
        geometry=[geometry(z["rects"]) for z in zones], crs=CRS)
    return Study(crs=CRS, zones=frame)


COLLAB_NONDEFAULT = {"max_distance_m": 4500, "distance_decay": 1.3, "top_pairs_per_chain": 2}


@pytest.mark.parametrize("seed", [11, 12])
def test_collaboration_every_parameter_off_default_matches_reference(seed):
    zones = collaboration_fixture(seed)
    p = COLLAB_NONDEFAULT
    result = collaboration.run(collaboration_study(zones), settings(collaboration=p, study={"language": "en"}))
    want_pairs, want_zones = ref.collaboration_reference(
        zones, max_distance_m=p["max_distance_m"], decay=p["distance_decay"], top_pairs=p["top_pairs_per_chain"])
    pairs = result.tables["collaboration_pairs"]
    got = {(r.zone_a, r.zone_b): r for r in pairs.itertuples()}
    assert set(got) == set(want_pairs)
    assert len(want_pairs) > 4 and any(not r["recommended"] for r in want_pairs.values())
    for key, row in want_pairs.items():
        for col, value in row.items():
            if isinstance(value, float):
                assert_close(getattr(got[key], col), value, (key, col))
            else:
                assert getattr(got[key], col) == value, (key, col)
    z = result.tables["collaboration_zones"].set_index("zone_id")
    for zid, row in want_zones.items():
        assert z.loc[zid, "partners_within"] == row["partners_within"], zid
        assert_close(z.loc[zid, "nearest_partner_m"], row["nearest_partner_m"], zid)
        if row["nearest_partner_id"] is not None:
            assert z.loc[zid, "nearest_partner_id"] == row["nearest_partner_id"], zid
    # chain table: share linked, mean nearest partner, jobs-weighted standard distance
    chains = result.tables["collaboration_chains"].set_index("chain")
    for chain in ("ev", "bio"):
        members = [zz for zz in zones if zz["chain"] == chain]
        linked = [want_zones[zz["id"]]["partners_within"] > 0 for zz in members]
        assert chains.loc[chain, "share_linked"] == pytest.approx(sum(linked) / len(members))
        assert chains.loc[chain, "districts"] == len({zz["district"] for zz in members})
        near = [want_zones[zz["id"]]["nearest_partner_m"] for zz in members]
        near = [v for v in near if not math.isnan(v)]
        assert chains.loc[chain, "mean_nearest_partner_m"] == pytest.approx(sum(near) / len(near))
        cx = [(zz["rects"][0][0] + zz["rects"][0][2]) / 2 for zz in members]
        cy = [(zz["rects"][0][1] + zz["rects"][0][3]) / 2 for zz in members]
        w = [zz["jobs"] for zz in members]
        mx, my = sum(a * b for a, b in zip(w, cx)) / sum(w), sum(a * b for a, b in zip(w, cy)) / sum(w)
        sd = math.sqrt(sum(wi * ((x - mx) ** 2 + (y - my) ** 2) for wi, x, y in zip(w, cx, cy)) / sum(w))
        assert chains.loc[chain, "standard_distance_m"] == pytest.approx(sd)
        assert chains.loc[chain, "pairs"] == sum(1 for r in want_pairs.values() if r["chain"] == chain)
    # district matrix: summed strength per unordered district pair
    matrix = result.tables["collaboration_matrix"]
    want_m: dict = {}
    for row in want_pairs.values():
        key = tuple(sorted((row["district_a"], row["district_b"])))
        want_m[key] = want_m.get(key, 0.0) + row["strength"]
    got_m = {(r.district_a, r.district_b): r.strength for r in matrix.itertuples()}
    assert set(got_m) == set(want_m)
    for key, value in want_m.items():
        assert got_m[key] == pytest.approx(value)


# ---------------------------------------------------------------------------
# core–periphery: hand-derived Huff with several cores and zones within 1 km


def _row_study(rows) -> Study:
    frame = gpd.GeoDataFrame(
        {"zone_id": [r[0] for r in rows], "name": [r[0] for r in rows], "chain": [r[1] for r in rows],
         "district_id": "D1", "jobs": [float(r[3]) for r in rows]},
        geometry=[geometry([(r[2][0], 0.0, r[2][1], 1000.0)]) for r in rows], crs=CRS)
    return Study(crs=CRS, zones=frame)


def test_huff_by_hand_three_cores_floor_and_reach():
    """Zones in one row (y 0–1 km), so distances are gaps along x.

    jobs only (min 100, max 1000): A = 1, B = 0.5, C = 0.25, the others 0;
    core_share 0.375 of 8 zones = 3 cores; β = 2, attach_max_m = 20 km.
    """
    rows = [("C", "w", (-20_000, -19_000), 325), ("P2", "z", (-1000, 0), 100),
            ("A", "x", (0, 1000), 1000), ("P1", "y", (1500, 2000), 100),
            ("B", "y", (10_000, 11_000), 550), ("P3", "x", (30_000, 31_000), 100),
            ("P5", "y", (31_000, 32_000), 100), ("P4", "w", (60_000, 61_000), 100)]
    cfg = {"weights": {"jobs": 1, "output": 0, "firms": 0, "leader_firms": 0, "rd_platforms": 0},
           "core_share": 0.375, "attach_max_m": 20_000, "distance_decay": 2.0}
    res = core_periphery.run(_row_study(rows), settings(core_periphery=cfg))
    z = res.tables["core_periphery_zones"].set_index("zone_id")
    assert z["score"].to_dict() == pytest.approx(
        {"C": 0.25, "P2": 0, "A": 1, "P1": 0, "B": 0.5, "P3": 0, "P5": 0, "P4": 0})
    assert sorted(z.index[z["role"] == "core"]) == ["A", "B", "C"]

    def p(weights, k):
        return weights[k] / sum(weights)

    # P2 touches A (0 m, floored to 1 km); no core of its chain: A, 1e-6 / (1e-6 + 5e-9 + ...)
    w = [1 / 1000**2, 0.5 / 10_000**2, 0.25 / 18_000**2]
    assert (z.loc["P2", "core_id"], z.loc["P2", "core_distance_m"]) == ("A", 0.0)
    assert z.loc["P2", "attach_prob"] == pytest.approx(p(w, 0), rel=1e-12)
    assert z.loc["P2", "attach_prob"] == pytest.approx(32400 / 32587, rel=1e-12)
    # P1 is 500 m from A (floored to 1 km) but attaches to B of its own chain (8 km)
    w = [1 / 1000**2, 0.5 / 8000**2, 0.25 / 20_500**2]
    assert (z.loc["P1", "core_id"], z.loc["P1", "core_distance_m"]) == ("B", 8000.0)
    assert z.loc["P1", "attach_prob"] == pytest.approx(p(w, 1), rel=1e-12)
    # P3 (chain x): its own core A is 29 km away, beyond reach: most probable core, B (19 km)
    w = [1 / 29_000**2, 0.5 / 19_000**2, 0.25 / 49_000**2]
    assert (z.loc["P3", "core_id"], z.loc["P3", "strategy"]) == ("B", "collaborative_subordinate")
    assert z.loc["P3", "attach_prob"] == pytest.approx(p(w, 1), rel=1e-12)
    # P5 lies exactly attach_max_m (20 km) from B of its chain: in reach (inclusive)
    assert (z.loc["P5", "core_id"], z.loc["P5", "core_distance_m"]) == ("B", 20_000.0)
    assert z.loc["P5", "strategy"] == "collaborative_subordinate"
    # P4 (chain w): its core C is 79 km away; A (59 km) beats B (49 km, half the score)
    w = [1 / 59_000**2, 0.5 / 49_000**2, 0.25 / 79_000**2]
    assert (z.loc["P4", "core_id"], z.loc["P4", "strategy"]) == ("A", "isolated")
    assert z.loc["P4", "attach_prob"] == pytest.approx(p(w, 0), rel=1e-12)
    summary = res.tables["core_periphery_summary"].iloc[0]
    assert summary["n_cores"] == 3 and summary["primacy"] == pytest.approx(1 / 1.75)
    assert summary["n_isolated"] == 1 and summary["n_attached"] == 4


def core_fixture(seed: int):
    rng = np.random.default_rng(seed)
    zones = []
    for k, rect in enumerate(random_rects(rng, 16, 30_000, size=(300, 2000))):
        rects = [rect] if k % 5 else [rect, random_rects(rng, 1, 30_000)[0]]
        zones.append({"id": f"Z{k:02d}", "chain": ["ev", "bio", "ai"][k % 3], "rects": rects,
                      "jobs": float(rng.integers(0, 9000)), "output": float(rng.integers(0, 500)),
                      "firms": float(rng.integers(0, 80)),
                      "leader_firms": np.nan if k == 4 else float(rng.integers(0, 4)),
                      "rd_platforms": float(rng.integers(0, 6))})
    # a periphery zone within 1 km of the strongest zone, so the floor matters
    top = max(zones, key=lambda zz: zz["jobs"])
    r = top["rects"][0]
    zones.append({"id": "ZNEAR", "chain": top["chain"] + "x", "rects": [(r[2] + 400, r[1], r[2] + 700, r[1] + 300)],
                  "jobs": 0.0, "output": 0.0, "firms": 0.0, "leader_firms": 0.0, "rd_platforms": 0.0})
    return zones


CORE_NONDEFAULT = {"weights": {"jobs": 2.0, "output": 0.5, "firms": 0.0, "leader_firms": 1.0, "rd_platforms": 3.0},
                   "core_share": 0.3, "attach_max_m": 6000, "distance_decay": 1.4}


@pytest.mark.parametrize("seed", [21, 22, 23])
def test_core_periphery_every_parameter_off_default_matches_reference(seed):
    zones = core_fixture(seed)
    frame = gpd.GeoDataFrame(
        {"zone_id": [z["id"] for z in zones], "name": [z["id"] for z in zones],
         "chain": [z["chain"] for z in zones], "district_id": "D1",
         **{k: [z[k] for z in zones] for k in ("jobs", "output", "firms", "leader_firms", "rd_platforms")}},
        geometry=[geometry(z["rects"]) for z in zones], crs=CRS)
    p = CORE_NONDEFAULT
    res = core_periphery.run(Study(crs=CRS, zones=frame), settings(core_periphery=p))
    got = res.tables["core_periphery_zones"].set_index("zone_id")
    score = ref.scores(zones, p["weights"])
    for zid, value in score.items():
        assert got.loc[zid, "score"] == pytest.approx(value, abs=1e-12), zid
    cores = ref.core_ids(score, p["core_share"])
    assert got.index[got["role"] == "core"].tolist() == sorted(cores)
    want = ref.attachment_reference(zones, score, cores, attach_max_m=p["attach_max_m"], decay=p["distance_decay"])
    for zid, row in want.items():
        assert got.loc[zid, "core_id"] == row["core_id"], zid
        assert got.loc[zid, "strategy"] == row["strategy"], zid
        assert_close(got.loc[zid, "core_distance_m"], row["core_distance_m"], zid)
        assert_close(got.loc[zid, "attach_prob"], row["attach_prob"], zid, rel=1e-9)
    strategies = {row["strategy"] for row in want.values()}
    assert {"collaborative_subordinate", "isolated"} <= strategies
    s = res.tables["core_periphery_summary"].iloc[0]
    core_scores = [score[c] for c in cores]
    assert s["primacy"] == pytest.approx(core_scores[0] / sum(core_scores))
    assert s["gini"] == pytest.approx(ref.gini_pairs(list(score.values())))
    positive = sorted((v for v in score.values() if v > 0), reverse=True)
    slope = np.polyfit(np.log(np.arange(1, len(positive) + 1)), np.log(positive), 1)[0]
    assert s["rank_size_slope"] == pytest.approx(slope)
    links = res.tables["core_periphery_links"].set_index("zone_id")
    attached = sorted(z for z, row in want.items() if row["strategy"] == "collaborative_subordinate")
    assert sorted(links.index) == attached
    for zid in attached:
        assert links.loc[zid, "core_id"] == want[zid]["core_id"]


def test_reference_helpers_by_hand():
    """The references themselves, on values worked out on paper."""
    assert ref.point_rect_m(3, 4, (0, 0, 0, 0)) == 5
    assert ref.rect_rect_m((0, 0, 1, 1), (4, 5, 6, 6)) == 5
    assert ref.huff([1.0, 1.0], [500.0, 2000.0], 2.0) == pytest.approx([0.8, 0.2])
    assert ref.quantile_breaks(list(range(1, 11)), 5) == pytest.approx([2.8, 4.6, 6.4, 8.2])
    assert ref.gini_pairs([0, 0, 0, 1]) == 0.75
    assert [ref.class_of(v, [1, 2]) for v in (0, 1, 1.5, 2, 3)] == [0, 0, 1, 1, 2]


def test_hotspot_method_every_parameter_off_default_matches_esda_and_reference():
    """method: hotspot with its band, alpha, permutations and seed off their defaults:
    cores = significant Gi* hot spots (esda called directly) that lead their band (by
    hand); attachment to them by the reference Huff."""
    from esda.getisord import G_Local
    from libpysal.weights import DistanceBand, fill_diagonal

    zones = []
    for i in range(8):
        for j in range(8):
            if max(abs(i - 2), abs(j - 2)) <= 1:      # two clusters, peaks g22 and g65
                jobs = 1000 - 40 * (abs(i - 2) + abs(j - 2))
            elif max(abs(i - 6), abs(j - 5)) <= 1:
                jobs = 900 - 40 * (abs(i - 6) + abs(j - 5))
            else:
                jobs = 10 + (i * 7 + j * 3) % 5
            zones.append({"id": f"g{i}{j}", "chain": "ab"[(i + j) % 2],
                          "rects": [(i * 2000.0, j * 2000.0, i * 2000.0 + 1000, j * 2000.0 + 1000)],
                          "jobs": float(jobs)})
    frame = gpd.GeoDataFrame({"zone_id": [z["id"] for z in zones], "name": [z["id"] for z in zones],
                              "chain": [z["chain"] for z in zones], "district_id": "D1",
                              "jobs": [z["jobs"] for z in zones]},
                             geometry=[geometry(z["rects"]) for z in zones], crs=CRS)
    cfg = {"method": "hotspot", "hotspot_band_m": 3000, "hotspot_alpha": 0.1, "permutations": 199, "seed": 7,
           "weights": {"jobs": 1, "output": 0, "firms": 0, "leader_firms": 0, "rd_platforms": 0},
           "attach_max_m": 9000, "distance_decay": 1.7, "core_share": 0.5}
    res = core_periphery.run(Study(crs=CRS, zones=frame), settings(core_periphery=cfg))
    got = res.tables["core_periphery_zones"].set_index("zone_id")
    score = ref.scores(zones, cfg["weights"])
    s = np.array([score[z["id"]] for z in zones])
    centres = np.array([((z["rects"][0][0] + z["rects"][0][2]) / 2 + X0, (z["rects"][0][1] + z["rects"][0][3]) / 2 + Y0)
                        for z in zones])
    w = fill_diagonal(DistanceBand(centres, threshold=3000, binary=True, silence_warnings=True), 1.0)
    g = G_Local(s, w, transform="B", star=True, permutations=199, seed=7, n_jobs=1)
    hot = (np.asarray(g.p_sim) < 0.1) & (np.asarray(g.Zs) > 0)
    ids = [z["id"] for z in zones]
    cores = []
    for k, zid in enumerate(ids):
        near = [m for m in range(len(ids)) if m != k and math.dist(centres[k], centres[m]) <= 3000]
        if hot[k] and near and all((s[k], -int(zid[1:])) > (s[m], -int(ids[m][1:])) for m in near):
            cores.append(zid)
    assert len(cores) >= 2
    assert sorted(got.index[got["role"] == "core"]) == sorted(cores)
    ranked = sorted(cores, key=lambda c: (-score[c], c))
    want = ref.attachment_reference(zones, score, ranked, attach_max_m=9000, decay=1.7)
    for zid, row in want.items():
        assert (got.loc[zid, "core_id"], got.loc[zid, "strategy"]) == (row["core_id"], row["strategy"]), zid
        assert_close(got.loc[zid, "attach_prob"], row["attach_prob"], zid)
