"""Small tests written for mutants that survived the first mutmut run (docs/mutation-survivors.md)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from geo.analysis import core_periphery as cp


def test_core_count_of_no_zones_is_zero():
    assert cp.core_count(0, 0.2) == 0 and cp.core_count(-1, 0.5) == 0
    assert cp.core_count(1, 0.01) == 1 and cp.core_count(10, 0.25) == 3 and cp.core_count(12, 0.2) == 2


def test_select_cores_share_series_is_named_core():
    s = cp.select_cores_share(pd.Series([0.1, 0.9], index=["a", "b"]), 0.5)
    assert s.name == "core" and s.tolist() == [False, True] and s.dtype == bool


def test_attach_without_cores_leaves_every_zone_alone():
    geoms = shapely.box(np.arange(3) * 2000.0, 0, np.arange(3) * 2000.0 + 1000, 1000)
    out = cp.attach(geoms, ["a", "b", "a"], np.array([], dtype=np.int64), np.array([]),
                    attach_max_m=5000, distance_decay=2.0)
    assert out["core_pos"].tolist() == [0, 1, 2]
    assert out["attach_prob"].isna().all()
    assert out["strategy"].tolist() == ["independent_pole"] * 3


def test_attach_exact_mode_up_to_the_pair_limit():
    """(periphery x cores) == max_exact_pairs is still exact: a far core whose distance
    estimate (points minus disc radii) differs from the true boundary distance."""
    # an L-shaped core: its disc radius overstates how close it comes to P
    core = shapely.Polygon([(0, 0), (10_000, 0), (10_000, 1000), (1000, 1000), (1000, 10_000), (0, 10_000)])
    p = shapely.box(14_000, 14_000, 15_000, 15_000)
    geoms = np.array([core, p], dtype=object)
    exact = cp.attach(geoms, ["a", "a"], np.array([0]), np.array([1.0]), attach_max_m=50_000,
                      distance_decay=2.0, max_exact_pairs=1)
    assert exact.loc[1, "core_distance_m"] == shapely.distance(core, p)
