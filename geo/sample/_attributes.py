"""Attributes of the synthetic layers: zone figures and roles, innovation districts,
housing points whose density falls away from the centres."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.layers import largest_overlap
from geo.sample._catalogue import _SPECS_BY_NAME, CENTRE_XY, CRS, INNOVATION_ONLY_CHAINS, _Scale
from geo.sample._geometry import _grid, _Placer, _star_shapes


def _largest_overlap(geoms: np.ndarray, districts: gpd.GeoDataFrame) -> np.ndarray:
    """Index of the district each geometry overlaps most (as the loader derives it)."""
    best, _ = largest_overlap(geoms, districts.geometry.to_numpy())
    if (best < 0).any():
        raise ValueError("sample: a feature lies outside every district")
    return best


def _number_repeats(names: np.ndarray) -> np.ndarray:
    """Second and later uses of a name get a number: 示例X区电子信息产业功能区（2）."""
    dup = pd.Series(names).groupby(names).cumcount().to_numpy()
    return np.where(dup > 0, names + "（" + (dup + 1).astype(str) + "）", names)


def _assign_roles(rng: np.random.Generator, chains: np.ndarray, dominant: np.ndarray) -> np.ndarray:
    """Zone roles; every chain holds its role pair (rd + manufacturing or terminal + supporting).

    The main site takes the chain's leading role; the other zones are drawn from a
    chain-type mix, then the first two are fixed up so that both roles of the pair
    also occur among them (a pair across sites, usually across districts).
    """
    roles = np.empty(len(chains), dtype=object)
    for chain in dict.fromkeys(chains):
        idx = np.flatnonzero(chains == chain)
        if _SPECS_BY_NAME[chain].pair == "rd":
            options, pair = ["rd", "manufacturing", "supporting", "mixed"], ("rd", "manufacturing")
            p = [0.35, 0.4, 0.1, 0.15]
        else:
            options, pair = ["terminal", "supporting", "manufacturing", "mixed"], ("terminal", "supporting")
            p = [0.3, 0.4, 0.15, 0.15]
        r = rng.choice(options, size=len(idx), p=p).astype(object)
        r[dominant[idx]] = pair[0]
        others = np.flatnonzero(~dominant[idx])
        if len(others) and pair[1] not in r[others]:
            r[others[0]] = pair[1]
        if len(others) > 1 and pair[0] not in r[others]:
            r[others[1]] = pair[0]
        roles[idx] = r
    return roles


def _zone_attributes(rng: np.random.Generator, zones: gpd.GeoDataFrame, rank: np.ndarray,
                     districts: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    n = len(zones)
    dominant = rank == 2
    geoms = zones.geometry.to_numpy()
    area_km2 = shapely.area(geoms) / 1e6
    chains = zones["chain"].to_numpy()
    roles = _assign_roles(rng, chains, dominant)
    density = pd.Series(roles).map({"rd": 7000, "manufacturing": 4000, "terminal": 5000,
                                     "supporting": 3000, "mixed": 5000}).to_numpy(float)
    strength = rng.lognormal(0.0, 0.45, n) * np.array([1.0, 1.3, 2.0])[rank]
    jobs = np.rint(area_km2 * density * strength / 10) * 10
    per_job = np.array([_SPECS_BY_NAME[c].yuan_per_job for c in chains]) * rng.lognormal(0, 0.25, n)
    output = np.round(jobs * per_job / 1e4, 1)  # 10,000 CNY per job -> 100 million CNY (亿元)
    firms = rng.poisson(jobs / 80.0) + 1
    leader = np.where(dominant, rng.integers(3, 8, n), rng.poisson(0.35 * strength))
    rd_rate = pd.Series(roles).map({"rd": 2.0, "mixed": 0.8, "terminal": 0.5,
                                     "manufacturing": 0.3, "supporting": 0.2}).to_numpy(float)
    rd_platforms = rng.poisson(rd_rate * strength * np.sqrt(area_km2)) + np.where(dominant, 2, 0)
    # a few zones without output statistics: the analyses fall back to jobs
    candidates = np.flatnonzero(~dominant)
    k = max(1, round(0.05 * n))
    missing = rng.choice(candidates, size=min(k, len(candidates)), replace=False)
    output[missing] = np.nan

    best = _largest_overlap(geoms, districts)
    dcode = districts["code"].to_numpy()[best]
    stem = pd.Series(districts["name"].to_numpy()[best]).str.removeprefix("示例").str.removesuffix("区")
    names = ("示例" + stem + pd.Series(chains) + "产业功能区").to_numpy(dtype=object)
    names = _number_repeats(names)

    # ids in a stable geographic order: by chain order as placed, numbered 1..n
    width = max(3, len(str(n)))
    return gpd.GeoDataFrame({
        "id": [f"Z{i + 1:0{width}d}" for i in range(n)],
        "name": names.astype(str),
        "district": dcode.astype(str),
        "chain": chains.astype(str),
        "jobs": jobs.astype(np.int64),
        "output": output,
        "firms": firms.astype(np.int64),
        "leader_firms": leader.astype(np.int64),
        "rd_platforms": rd_platforms.astype(np.int64),
        "role": roles.astype(str),
    }, geometry=geoms, crs=CRS)


def _innovation(rng: np.random.Generator, sc: _Scale, new_towns: np.ndarray, zones: gpd.GeoDataFrame,
                districts: gpd.GeoDataFrame, placer: _Placer) -> gpd.GeoDataFrame:
    n = sc.n_innovation
    cx, cy = CENTRE_XY
    areas = np.clip(rng.lognormal(np.log(0.8), 0.5, n), 0.3, 2.0)
    shapes, rmax = _star_shapes(rng, areas * 1e6, n_vertices=12, elongation=0.25)
    geoms = []
    for i in range(n):
        if i % 3 == 2 and len(new_towns):
            anchor, spread = new_towns[(i // 3) % len(new_towns)], 0.05 * sc.radius_m
        else:
            anchor, spread = np.array([cx, cy]), 0.14 * sc.radius_m

        def sampler(rng, attempt, anchor=anchor, spread=spread):
            return anchor + rng.normal(0.0, spread * (1.0 + 0.1 * attempt), (48, 2))

        xy, shrink = placer.place(rng, rmax[i], sampler)
        geoms.append(shapely.polygons(np.round(shapes[i] * shrink + xy, 2)))
    geoms = np.asarray(geoms)

    # chains: the chain of the nearest zone plus up to two others; some districts claim
    # only chains that no zone has (an innovation district without a matching zone)
    zone_chains = zones["chain"].to_numpy()
    tree = shapely.STRtree(zones.geometry.to_numpy())
    nearest = tree.query_nearest(geoms, return_distance=False, all_matches=False)[1]
    all_chains = list(dict.fromkeys(zone_chains))
    n_orphan = max(1, round(0.15 * n))
    orphans = set(rng.choice(n, size=n_orphan, replace=False).tolist())
    chain_lists = []
    for i in range(n):
        if i in orphans:
            k = int(rng.integers(1, 3))
            picks = list(rng.choice(INNOVATION_ONLY_CHAINS, size=k, replace=False))
        else:
            picks = [zone_chains[nearest[i]]]
            extra = rng.choice(all_chains, size=int(rng.integers(0, 3)), replace=False)
            picks += [c for c in extra if c not in picks]
        chain_lists.append(";".join(picks))
    jobs = np.rint(areas * rng.lognormal(np.log(12000), 0.4, n) / 10) * 10
    best = _largest_overlap(geoms, districts)
    stems = pd.Series(districts["name"].to_numpy()[best]).str.removeprefix("示例").str.removesuffix("区")
    suffix = np.array(["科创街区", "创新街区", "科技港", "创新谷", "智谷"])[np.arange(n) % 5]
    names = ("示例" + stems + pd.Series(suffix)).to_numpy(dtype=object)
    names = _number_repeats(names)
    width = max(2, len(str(n)))
    return gpd.GeoDataFrame({
        "id": [f"I{i + 1:0{width}d}" for i in range(n)],
        "name": names.astype(str),
        "chains": chain_lists,
        "jobs": jobs.astype(np.int64),
    }, geometry=geoms, crs=CRS)


def _housing(rng: np.random.Generator, sc: _Scale, boundary: shapely.Polygon, new_towns: np.ndarray,
             zones: gpd.GeoDataFrame, jobs_total: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Housing point coordinates and dwellings: centre, new towns, corridors, scatter."""
    r = sc.radius_m
    cx, cy = CENTRE_XY
    n_towns = len(new_towns)
    town_angles = np.arctan2(new_towns[:, 1] - cy, new_towns[:, 0] - cx)
    corridor_angles = np.concatenate([town_angles, rng.uniform(0, 2 * np.pi, 2)])
    # settlements next to about half of the zones (not the logistics parks, which stay
    # out in the periphery with little housing nearby)
    zc = shapely.get_coordinates(shapely.centroid(zones.geometry.to_numpy()))
    eligible = np.flatnonzero(zones["chain"].to_numpy() != "现代物流")
    chosen = np.sort(rng.choice(eligible, size=max(1, len(eligible) // 2), replace=False))
    offset_a = rng.uniform(0, 2 * np.pi, len(chosen))
    offset_d = rng.uniform(0.05, 0.1, len(chosen)) * r
    settlements = zc[chosen] + np.column_stack([offset_d * np.cos(offset_a), offset_d * np.sin(offset_a)])
    settle = 1 + n_towns + len(corridor_angles)
    weights = np.concatenate([[0.38], np.full(n_towns, 0.24 / n_towns),
                              np.full(len(corridor_angles), 0.22 / len(corridor_angles)), [0.1], [0.06]])
    weights /= weights.sum()
    shapely.prepare(boundary)
    zone_tree = shapely.STRtree(zones.geometry.to_numpy())
    # coarse mask of cells touching a zone: only points there need the exact test
    from rasterio.features import rasterize

    mask_t, mask_shape = _grid(boundary, 200.0)
    near_zone = rasterize(((g, 1) for g in zones.geometry), out_shape=mask_shape, transform=mask_t,
                          all_touched=True, dtype="uint8").astype(bool)
    xs, ys, comps, total = [], [], [], 0
    while total < sc.n_housing:
        m = int((sc.n_housing - total) * 1.5) + 64
        comp = rng.choice(len(weights), size=m, p=weights)
        x = np.empty(m)
        y = np.empty(m)
        sel = comp == 0
        x[sel], y[sel] = rng.normal(cx, 0.13 * r, sel.sum()), rng.normal(cy, 0.13 * r, sel.sum())
        for t in range(n_towns):
            sel = comp == 1 + t
            x[sel] = rng.normal(new_towns[t, 0], 0.05 * r, sel.sum())
            y[sel] = rng.normal(new_towns[t, 1], 0.05 * r, sel.sum())
        for k, a in enumerate(corridor_angles):
            sel = comp == 1 + n_towns + k
            along = 0.9 * r * rng.beta(1.2, 2.5, sel.sum())
            across = rng.normal(0.0, 0.015 * r, sel.sum())
            x[sel] = cx + along * np.cos(a) - across * np.sin(a)
            y[sel] = cy + along * np.sin(a) + across * np.cos(a)
        sel = comp == settle
        which = rng.integers(0, len(settlements), sel.sum())
        x[sel] = rng.normal(settlements[which, 0], 0.03 * r)
        y[sel] = rng.normal(settlements[which, 1], 0.03 * r)
        sel = comp == len(weights) - 1
        x[sel] = rng.uniform(cx - 1.2 * r, cx + 1.2 * r, sel.sum())
        y[sel] = rng.uniform(cy - 1.2 * r, cy + 1.2 * r, sel.sum())
        x, y = np.round(x, 1), np.round(y, 1)
        keep = shapely.contains_xy(boundary, x, y)
        mcol = np.floor((x - mask_t.c) / mask_t.a).astype(np.int64)
        mrow = np.floor((mask_t.f - y) / -mask_t.e).astype(np.int64)
        idx = np.flatnonzero(keep)
        idx = idx[near_zone[mrow[idx], mcol[idx]]]
        inside_zone = zone_tree.query(shapely.points(x[idx], y[idx]), predicate="intersects")[0]
        keep[idx[inside_zone]] = False
        xs.append(x[keep])
        ys.append(y[keep])
        comps.append(comp[keep])
        total += int(keep.sum())
    x = np.concatenate(xs)[: sc.n_housing]
    y = np.concatenate(ys)[: sc.n_housing]
    comp = np.concatenate(comps)[: sc.n_housing]
    d0 = np.hypot(x - cx, y - cy)
    intensity = np.exp(-0.5 * (d0 / (0.15 * r)) ** 2)
    for t in range(n_towns):
        dt = np.hypot(x - new_towns[t, 0], y - new_towns[t, 1])
        intensity = np.maximum(intensity, 0.6 * np.exp(-0.5 * (dt / (0.06 * r)) ** 2))
    intensity[comp == settle] = np.maximum(intensity[comp == settle], 0.3)
    raw = rng.lognormal(np.log(10.0 + 70.0 * intensity), 0.6)
    # calibrate: resident workers (1.4 per dwelling) a set multiple of the jobs of all
    # workplaces (zones and innovation districts hold only part of a city's jobs)
    factor = sc.workers_per_job * jobs_total / 1.4 / raw.sum()
    dwellings = np.maximum(1, np.rint(raw * factor)).astype(np.int64)
    return x, y, dwellings
