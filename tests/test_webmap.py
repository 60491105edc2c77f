"""The HTML maps: structure of the folium objects, offline assets, escaping, real browser.

Browser tests (``-m browser``) open every generated file from disk in headless Debian
Chromium with the network cut off (tests/_browser.py). They skip when Chromium is
missing, except in CI (env ``CI`` set) where a missing browser is a failure.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import CRS

import geopandas as gpd
from geo import styles
from geo._errors import ConfigError
from geo._types import AnalysisResult, Study
from geo.settings import settings_from_dict

sys.path.insert(0, str(Path(__file__).parent))
from _browser import Browser, browser_available, overlay_counts, overlays_on_map  # noqa: E402

CRS_M = CRS.from_epsg(4544)  # CGCS2000 3-degree GK, CM 105°E (metres)
EVIL = "<img src=x onerror=alert(1)>"
X0, Y0 = 500_000.0, 3_400_000.0


# ---------------------------------------------------------------------------
# fixture: a hand-made study and results with the DESIGN.md columns


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
