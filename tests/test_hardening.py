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
