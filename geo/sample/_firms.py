"""Synthetic firms of the sample study (layer ``firms``): points in and around the zones.

Drawn with a generator of its own (seeded from the study seed), so adding firms does not
change any other layer of a sample. Firms take the roles their chain's zones have (a firm
in a mixed zone takes one of those roles or stays mixed), so a role no zone of a chain has
stays missing and the demo shows gaps in the gap list (补链清单). Tiers use the Chinese
labels 链主 / 骨干 / 中小 (zoneatlas normalises them to leader / key / sme).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

#: Firms per sample scale (about).
N_FIRMS = {"small": 300, "city": 3_000, "metro": 50_000}
#: Share of firms placed outside every zone (near a zone of their chain).
OUTSIDE_SHARE = 0.12
_SPECIFIC = ("rd", "manufacturing", "terminal", "supporting")
_SALT = 17   # the firms' own stream: np.random.default_rng([seed, _SALT])


def _points_in(rng: np.random.Generator, geoms: np.ndarray, which: np.ndarray) -> np.ndarray:
    """One random point inside ``geoms[which[k]]`` for each k (rejection sampling in bulk)."""
    bounds = shapely.bounds(geoms)
    x = np.full(len(which), np.nan)
    y = np.full(len(which), np.nan)
    todo = np.arange(len(which))
    for _ in range(30):
        if len(todo) == 0:
            break
        b = bounds[which[todo]]
        cx = rng.uniform(b[:, 0], b[:, 2])
        cy = rng.uniform(b[:, 1], b[:, 3])
        ok = shapely.contains_xy(geoms[which[todo]], cx, cy)
        x[todo[ok]], y[todo[ok]] = cx[ok], cy[ok]
        todo = todo[~ok]
    if len(todo):
        p = shapely.get_coordinates(shapely.point_on_surface(geoms[which[todo]]))
        x[todo], y[todo] = p[:, 0], p[:, 1]
    return np.column_stack([x, y])


def sample_firms(zones: gpd.GeoDataFrame, boundary, *, scale: str, seed: int) -> gpd.GeoDataFrame:
    """Firms of the sample study with user-facing columns id, name, chain, tier, jobs, role.

    Parameters
    ----------
    zones : GeoDataFrame
        The sample's zones (columns id, chain, role, firms, leader_firms).
    boundary : shapely Polygon
        The city boundary: firms outside the zones stay inside it.
    scale, seed
        As for :func:`geo.sample.generate_study`.
    """
    rng = np.random.default_rng([seed, _SALT])
    n_total = N_FIRMS[scale]
    n_z = len(zones)
    geoms = zones.geometry.values.to_numpy()
    chain = zones["chain"].astype(str).to_numpy()
    role = zones["role"].astype(str).to_numpy()
    weight = np.maximum(zones["firms"].to_numpy(float), 1.0)
    n_in = int(round(n_total * (1 - OUTSIDE_SHARE)))
    per_zone = rng.multinomial(n_in, weight / weight.sum())
    which = np.repeat(np.arange(n_z), per_zone)
    xy_in = _points_in(rng, geoms, which)

    # outside the zones: near a zone (1-4 km off its edge), inside the city
    n_out = n_total - n_in
    near = rng.choice(n_z, size=n_out * 3, p=weight / weight.sum())
    c = shapely.get_coordinates(shapely.centroid(geoms[near]))
    r = np.sqrt(shapely.area(geoms[near]) / np.pi) + rng.uniform(1000, 4000, len(near))
    a = rng.uniform(0, 2 * np.pi, len(near))
    px, py = c[:, 0] + r * np.cos(a), c[:, 1] + r * np.sin(a)
    ok = shapely.contains_xy(boundary, px, py)
    in_zone = np.zeros(len(near), bool)
    pts = shapely.points(px, py)
    hit, _ = shapely.STRtree(geoms).query(pts, predicate="intersects")
    in_zone[hit] = True
    sel = np.flatnonzero(ok & ~in_zone)[:n_out]
    which_out = near[sel]
    xy = np.vstack([xy_in, np.column_stack([px[sel], py[sel]])])
    zone_of = np.concatenate([which, which_out])
    n = len(zone_of)

    # roles: those of the chain's zones (specific roles only); mixed zones spread over them
    chain_roles = {c: sorted({r for r, cc in zip(role, chain) if cc == c and r in _SPECIFIC})
                   for c in np.unique(chain)}
    f_chain = chain[zone_of]
    f_role = role[zone_of].astype(object)
    spread = (f_role == "mixed") | (np.arange(n) >= len(which))
    pick = rng.random(n)
    for c, options in chain_roles.items():
        m = spread & (f_chain == c)
        if options and m.any():
            f_role[m] = np.asarray(options, dtype=object)[(pick[m] * len(options)).astype(int) % len(options)]
    keep_mixed = spread & (rng.random(n) < 0.2) & (role[zone_of] == "mixed")
    f_role[keep_mixed] = "mixed"

    # tiers: the first firms of a zone with leader firms are its leaders (at most 2), ~10% key
    order = np.argsort(zone_of, kind="stable")
    first_in_zone = np.zeros(n, np.int64)
    sz = zone_of[order]
    starts = np.r_[0, np.flatnonzero(sz[1:] != sz[:-1]) + 1]
    rank_sorted = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
    first_in_zone[order] = rank_sorted
    inside = np.arange(n) < len(which)
    leaders_wanted = np.minimum(zones["leader_firms"].to_numpy(float)[zone_of], 2)
    is_leader = inside & (first_in_zone < leaders_wanted)
    is_key = ~is_leader & (rng.random(n) < 0.1)
    tier = np.where(is_leader, "链主", np.where(is_key, "骨干", "中小"))
    base = rng.lognormal(3.2, 0.8, n)
    jobs = np.round(base * np.where(is_leader, 25, np.where(is_key, 5, 1))).astype(np.int64) + 3

    width = max(5, len(str(n)))
    ids = np.array([f"F{i:0{width}d}" for i in range(1, n + 1)], dtype=object)
    kind = np.where(is_leader, "链主企业", np.where(is_key, "骨干企业", "企业"))
    names = np.array([f"示例{c}{k}{i}" for c, k, i in zip(f_chain, kind, range(1, n + 1))], dtype=object)
    return gpd.GeoDataFrame(
        {"id": ids, "name": names, "chain": f_chain, "tier": tier, "jobs": jobs, "role": f_role.astype(str)},
        geometry=shapely.points(xy[:, 0], xy[:, 1]), crs=zones.crs)
