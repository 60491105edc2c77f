"""All-sector jobs of the synthetic city (the optional ``employment`` layer): jobs outside
the zones and innovation districts — a central business district, sub-centres in the new
towns, services along the corridors and near where people live.

Drawn from its own generator (seeded from the study seed), so adding this layer leaves
every other layer of a given seed unchanged.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from geo.sample._catalogue import CENTRE_XY, CRS

#: Employment points per scale.
N_POINTS = {"small": 600, "city": 8_000, "metro": 100_000}

#: Jobs outside workplaces as a share of the resident workers.
JOBS_PER_WORKER = 0.35


def _employment(seed: int, scale: str, radius_m: float, boundary: shapely.Polygon,
                new_towns: np.ndarray, housing_xy: np.ndarray, resident_workers: float,
                workplaces: np.ndarray) -> gpd.GeoDataFrame:
    """Employment points ``{id, name, jobs}`` outside every workplace polygon.

    Mixture: 35 % of the jobs in a CBD (σ = 4 % of the city radius around the centre),
    25 % in sub-centres (new towns, σ = 2.5 %), 40 % local services drawn at housing
    points (jittered by 300 m). Jobs per point are lognormal, scaled to the total.
    """
    rng = np.random.default_rng([seed, 15])
    n = N_POINTS[scale]
    cx, cy = CENTRE_XY
    tree = shapely.STRtree(workplaces)
    shapely.prepare(boundary)
    xs, ys, kinds = [], [], []
    got = 0
    while got < n:
        m = int((n - got) * 1.4) + 32
        kind = rng.choice(3, size=m, p=[0.2, 0.2, 0.6])
        x = np.empty(m)
        y = np.empty(m)
        sel = kind == 0
        x[sel] = rng.normal(cx, 0.04 * radius_m, sel.sum())
        y[sel] = rng.normal(cy, 0.04 * radius_m, sel.sum())
        sel = kind == 1
        town = rng.integers(0, len(new_towns), sel.sum())
        x[sel] = rng.normal(new_towns[town, 0], 0.025 * radius_m)
        y[sel] = rng.normal(new_towns[town, 1], 0.025 * radius_m)
        sel = kind == 2
        at = rng.integers(0, len(housing_xy), sel.sum())
        x[sel] = housing_xy[at, 0] + rng.normal(0, 300.0, sel.sum())
        y[sel] = housing_xy[at, 1] + rng.normal(0, 300.0, sel.sum())
        x, y = np.round(x, 1), np.round(y, 1)
        keep = shapely.contains_xy(boundary, x, y)
        idx = np.flatnonzero(keep)
        inside = tree.query(shapely.points(x[idx], y[idx]), predicate="intersects")[0]
        keep[idx[inside]] = False
        keep = np.flatnonzero(keep)[: n - got]
        xs.append(x[keep])
        ys.append(y[keep])
        kinds.append(kind[keep])
        got += len(keep)
    x, y, kind = np.concatenate(xs), np.concatenate(ys), np.concatenate(kinds)
    share = np.array([0.35, 0.25, 0.40])
    raw = rng.lognormal(0.0, 0.8, n)
    jobs = np.zeros(n)
    for k in range(3):
        sel = kind == k
        if sel.any():
            jobs[sel] = raw[sel] / raw[sel].sum() * share[k] * JOBS_PER_WORKER * resident_workers
    jobs = np.maximum(1, np.round(jobs)).astype(np.int64)
    width = max(6, len(str(n)))
    names = np.array(["示例中央商务区", "示例副中心", "示例社区服务"], dtype=object)[kind]
    return gpd.GeoDataFrame({"id": [f"E{i:0{width}d}" for i in range(1, n + 1)], "name": names,
                             "jobs": jobs}, geometry=shapely.points(x, y), crs=CRS)
