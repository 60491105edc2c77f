"""Deterministic synthetic sample study: a fictional city with zones, housing and rasters.

Everything here is **fictional**: a made-up city in EPSG:4544 (CGCS2000 3-degree
Gauss-Krüger zone, central meridian 105°E) with a dense centre, radial corridors and
a few new towns, administrative districts (a Voronoi partition of district seeds
clipped to an irregular city boundary), industrial functional zones of several
industry chains (some compact, some fragmented across districts), innovation
districts, housing points whose density falls away from the centres, and 2-D
population and land-use grids consistent with the housing.

The same ``scale`` and ``seed`` always give the same study (one
:class:`numpy.random.Generator`, no global state). ``city`` with seed 0 is the study
bundled in ``layers/``; ``small`` is for tests; ``metro`` (about 2,000 zones and
1,000,000 housing points) is for benchmarks.

Examples
--------
>>> from geo.sample import generate_study
>>> study = generate_study("small", seed=0)
>>> sorted(study.zones.columns)[:3]
['chain', 'district', 'firms']
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine
from scipy.spatial import cKDTree

log = logging.getLogger(__name__)

SCALES = ("small", "city", "metro")

#: CRS of the sample study: CGCS2000 3-degree Gauss-Krüger zone, central meridian 105°E.
CRS = "EPSG:4544"
#: Centre of the fictional city (about 30.7°N 105°E).
CENTRE_XY = (500_000.0, 3_400_000.0)
#: Persons per dwelling used for the population raster.
PERSONS_PER_DWELLING = 2.8
POPULATION_NODATA = -9999.0
LANDUSE_NODATA = 0
LANDUSE_CLASSES = {1: "residential", 2: "office", 3: "industrial", 4: "retail", 5: "public", 6: "green"}
_RES, _OFF, _IND, _RET, _PUB, _GRN = 1, 2, 3, 4, 5, 6

#: Industry chains, Chinese name -> English name. The first eight are the chains of the
#: ``small``/``city`` samples, the first twenty those of ``metro``; the last three are
#: claimed only by innovation districts (no zone has them).
CHAINS: dict[str, str] = {
    "电子信息": "electronic information",
    "生物医药": "biomedicine",
    "航空航天": "aerospace",
    "轨道交通": "rail transit",
    "新能源汽车": "new-energy vehicles",
    "绿色低碳": "green low-carbon",
    "现代物流": "modern logistics",
    "文化创意": "cultural & creative",
    "集成电路": "integrated circuits",
    "软件与信息服务": "software & information services",
    "高端装备": "high-end equipment",
    "新材料": "new materials",
    "医疗器械": "medical devices",
    "食品饮料": "food & beverages",
    "节能环保": "energy saving & environmental protection",
    "金融服务": "financial services",
    "会展经济": "conventions & exhibitions",
    "数字经济": "digital economy",
    "智能制造": "intelligent manufacturing",
    "氢能": "hydrogen energy",
    "人工智能": "artificial intelligence",
    "量子科技": "quantum technology",
    "低空经济": "low-altitude economy",
}
#: Chains named only by innovation districts, never by a zone.
INNOVATION_ONLY_CHAINS = ("人工智能", "量子科技", "低空经济")

#: Fictional place-name stems for districts (``示例<stem>区``).
_DISTRICT_STEMS = (
    "锦城", "青松", "白鹭", "金桥", "云溪", "玉泉", "凤鸣", "龙湖", "桂园", "星河",
    "石门", "柳岸", "枫林", "梅岭", "竹溪", "松涛", "兰亭", "荷塘", "雁栖", "鹤鸣",
    "翠屏", "银杏", "紫荆", "海棠", "芙蓉", "丹霞", "碧波", "晴川", "望江", "临湖",
    "青山", "新桥", "鹿鸣", "月湾", "春晖", "秋实", "清泉", "明珠", "长乐", "永安",
)


@dataclass(frozen=True)
class _Chain:
    """How one chain's zones are laid out.

    ``mode`` compact: zones cluster around ``clusters`` anchors (one or two districts
    each); fragmented: one zone per chosen district, across many districts. ``ring``
    is the preferred distance from the centre as a fraction of the city radius.
    ``pair`` says which role pair the chain's zones form (rd+manufacturing or
    terminal+supporting).
    """

    name: str
    mode: str
    weight: float
    ring: tuple[float, float]
    size: float
    pair: str
    yuan_per_job: float  # annual output per job, 10,000 CNY (万元)
    clusters: int = 1


_CHAIN_SPECS: tuple[_Chain, ...] = (
    _Chain("电子信息", "fragmented", 10, (0.15, 0.65), 1.0, "rd", 180),
    _Chain("生物医药", "compact", 8, (0.2, 0.6), 0.9, "rd", 220, clusters=2),
    _Chain("航空航天", "compact", 6, (0.35, 0.7), 1.4, "terminal", 200),
    _Chain("轨道交通", "compact", 5, (0.3, 0.7), 1.2, "terminal", 150),
    _Chain("新能源汽车", "fragmented", 9, (0.35, 0.85), 1.5, "terminal", 210),
    _Chain("绿色低碳", "fragmented", 7, (0.4, 0.9), 1.0, "rd", 130),
    _Chain("现代物流", "fragmented", 8, (0.65, 0.95), 1.3, "terminal", 90),
    _Chain("文化创意", "compact", 7, (0.0, 0.2), 0.45, "rd", 70),
    _Chain("集成电路", "compact", 6, (0.2, 0.6), 1.2, "rd", 260),
    _Chain("软件与信息服务", "compact", 6, (0.05, 0.35), 0.5, "rd", 120),
    _Chain("高端装备", "fragmented", 6, (0.4, 0.9), 1.3, "terminal", 160),
    _Chain("新材料", "fragmented", 5, (0.45, 0.9), 1.2, "rd", 150),
    _Chain("医疗器械", "compact", 4, (0.25, 0.6), 0.8, "terminal", 170),
    _Chain("食品饮料", "fragmented", 5, (0.5, 0.95), 1.0, "terminal", 110),
    _Chain("节能环保", "fragmented", 4, (0.5, 0.95), 1.0, "rd", 120),
    _Chain("金融服务", "compact", 4, (0.0, 0.15), 0.4, "terminal", 300),
    _Chain("会展经济", "compact", 3, (0.1, 0.4), 0.6, "terminal", 80),
    _Chain("数字经济", "fragmented", 6, (0.1, 0.5), 0.6, "rd", 140),
    _Chain("智能制造", "fragmented", 6, (0.3, 0.85), 1.3, "terminal", 170),
    _Chain("氢能", "compact", 3, (0.5, 0.9), 1.1, "rd", 160),
)
_SPECS_BY_NAME = {c.name: c for c in _CHAIN_SPECS}


@dataclass(frozen=True)
class _Scale:
    radius_m: float
    n_districts: int
    n_zones: int
    n_innovation: int
    n_housing: int
    cell_m: float
    chains: tuple[str, ...]
    zone_median_km2: float
    new_towns: tuple[int, int]  # inclusive range
    workers_per_job: float  # resident workers / workplace jobs, whole study


_SCALES: dict[str, _Scale] = {
    "small": _Scale(9_000, 4, 15, 4, 2_000, 250, ("电子信息", "生物医药", "现代物流", "文化创意"),
                    1.2, (2, 2), 0.45),
    "city": _Scale(28_000, 12, 60, 12, 30_000, 100, tuple(CHAINS)[:8], 1.6, (2, 4), 1.2),
    "metro": _Scale(75_000, 30, 2_000, 150, 1_000_000, 100, tuple(CHAINS)[:20], 1.0, (4, 6), 1.2),
}
_SMALL_COUNTS = {"电子信息": 5, "生物医药": 4, "现代物流": 3, "文化创意": 3}


@dataclass
class SampleStudy:
    """A generated study in memory, with the user-facing column names of ``config``.

    ``districts`` {code, name}; ``zones`` {id, name, district, chain, jobs, output,
    firms, leader_firms, rd_platforms, role}; ``innovation_districts`` {id, name,
    chains, jobs}; ``housing`` {id, dwellings} (points). ``population`` (persons per
    cell, float32, :data:`POPULATION_NODATA` outside the city) and ``landuse``
    (uint8 classes :data:`LANDUSE_CLASSES`, 0 outside) share ``transform``.
    """

    districts: gpd.GeoDataFrame
    zones: gpd.GeoDataFrame
    innovation_districts: gpd.GeoDataFrame
    housing: gpd.GeoDataFrame
    population: np.ndarray
    landuse: np.ndarray
    transform: Affine
    crs: str
    config: dict[str, Any]
    scale: str = "city"
    seed: int = 0
    boundary: Any = field(default=None, repr=False)


# ---------------------------------------------------------------------------
# geometry helpers


def _star_shapes(rng: np.random.Generator, areas_m2: np.ndarray, *, n_vertices: int = 16,
                 elongation: float = 0.35) -> tuple[np.ndarray, np.ndarray]:
    """Irregular star-shaped rings around (0, 0) with exactly the given areas.

    A positive radius function of the angle makes a simple (valid) polygon; a random
    stretch and rotation (affine, so still simple) makes them less round.
    Returns the ring coordinates ``(n, n_vertices + 1, 2)`` and each shape's maximum
    vertex distance from the origin.
    """
    n = len(areas_m2)
    theta = np.linspace(0.0, 2 * np.pi, n_vertices, endpoint=False)
    theta = theta[None, :] + rng.uniform(-0.25, 0.25, (n, n_vertices)) * (2 * np.pi / n_vertices)
    radius = np.ones((n, n_vertices))
    for k in (2, 3, 4):
        amp = rng.uniform(0.0, 0.11, (n, 1))
        phase = rng.uniform(0.0, 2 * np.pi, (n, 1))
        radius += amp * np.cos(k * theta + phase)
    x = radius * np.cos(theta) * (1.0 + rng.uniform(0.0, elongation, (n, 1)))
    y = radius * np.sin(theta)
    rot = rng.uniform(0.0, np.pi, (n, 1))
    x, y = x * np.cos(rot) - y * np.sin(rot), x * np.sin(rot) + y * np.cos(rot)
    # shoelace area of the unit shape, then scale to the target area
    unit_area = 0.5 * np.abs(np.sum(x * np.roll(y, -1, axis=1) - np.roll(x, -1, axis=1) * y, axis=1))
    k = np.sqrt(areas_m2 / unit_area)[:, None]
    coords = np.stack([x * k, y * k], axis=-1)
    coords = np.concatenate([coords, coords[:, :1]], axis=1)
    return coords, np.hypot(coords[..., 0], coords[..., 1]).max(axis=1)


def _city_boundary(rng: np.random.Generator, radius_m: float) -> shapely.Polygon:
    theta = np.linspace(0.0, 2 * np.pi, 96, endpoint=False)
    r = np.ones_like(theta)
    for k in (2, 3, 5, 7):
        r += rng.uniform(0.02, 0.06) * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    cx, cy = CENTRE_XY
    ring = np.column_stack([cx + radius_m * r * np.cos(theta), cy + radius_m * r * np.sin(theta)])
    return shapely.Polygon(np.round(ring, 1))


def _polar(cx: float, cy: float, dist: np.ndarray, angle: np.ndarray) -> np.ndarray:
    return np.column_stack([cx + dist * np.cos(angle), cy + dist * np.sin(angle)])


class _Placer:
    """Places disc-bounded shapes one by one without overlap, inside the city.

    Conflicts are found with a k-d tree of the placed centres (rebuilt every 64
    placements) plus a brute-force check of the most recent ones.
    """

    _REBUILD = 64
    _K = 48

    def __init__(self, boundary: shapely.Polygon, capacity: int, gap_m: float) -> None:
        self.boundary = boundary
        self.exterior = boundary.exterior
        shapely.prepare(boundary)
        shapely.prepare(self.exterior)
        self.xy = np.empty((capacity, 2))
        self.r = np.empty(capacity)
        self.n = 0
        self.n_tree = 0
        self.tree: cKDTree | None = None
        self.gap_m = gap_m

    def _free(self, cand: np.ndarray, r: float) -> np.ndarray:
        """Whether each candidate centre keeps ``gap_m`` from every placed shape.

        A candidate with more than ``_K`` placed shapes within reach counts as
        blocked (the area is crowded anyway).
        """
        ok = np.ones(len(cand), dtype=bool)
        if self.tree is not None:
            reach = r + self.r[: self.n_tree].max() + self.gap_m
            k = min(self._K, self.n_tree)
            d, j = self.tree.query(cand, k=k, distance_upper_bound=reach)
            d, j = d.reshape(len(cand), k), j.reshape(len(cand), k)
            found = np.isfinite(d)
            rj = self.r[np.where(found, j, 0)]
            ok &= ~np.any(found & (d <= r + rj + self.gap_m), axis=1)
            if k == self._K:
                ok &= ~found[:, -1]
        if self.n > self.n_tree:
            recent = slice(self.n_tree, self.n)
            d = np.hypot(cand[:, None, 0] - self.xy[None, recent, 0], cand[:, None, 1] - self.xy[None, recent, 1])
            ok &= np.all(d > r + self.r[None, recent] + self.gap_m, axis=1)
        return ok

    def place(self, rng: np.random.Generator, r_m: float,
              sampler: Callable[[np.random.Generator, int], np.ndarray]) -> tuple[np.ndarray, float]:
        """Return an accepted centre and the shrink factor applied to the shape."""
        shrink = 1.0
        minx, miny, maxx, maxy = self.boundary.bounds
        for attempt in range(100):
            if attempt >= 70:  # last resort: a slightly smaller shape
                shrink *= 0.97
            r = r_m * shrink
            if attempt < 40:
                cand = sampler(rng, attempt)
            else:  # the preferred area is full: anywhere in the city
                cand = np.column_stack([rng.uniform(minx, maxx, 128), rng.uniform(miny, maxy, 128)])
            if len(cand) == 0:
                continue
            cand = cand[shapely.contains_xy(self.boundary, cand[:, 0], cand[:, 1])]
            for chunk in range(0, len(cand), 64):  # the first free candidate wins
                c = cand[chunk: chunk + 64]
                c = c[self._free(c, r)]
                if len(c):
                    c = c[shapely.distance(self.exterior, shapely.points(c)) > r + self.gap_m]
                if len(c):
                    xy = c[0]
                    self.xy[self.n], self.r[self.n] = xy, r
                    self.n += 1
                    if self.n - self.n_tree >= self._REBUILD:
                        self.tree = cKDTree(self.xy[: self.n])
                        self.n_tree = self.n
                    return xy, shrink
        raise RuntimeError("sample generator could not place a shape; the city is too crowded")


# ---------------------------------------------------------------------------
# the parts of the city


def _districts(rng: np.random.Generator, sc: _Scale, boundary: shapely.Polygon) -> gpd.GeoDataFrame:
    n = sc.n_districts
    cx, cy = CENTRE_XY
    r = sc.radius_m
    n_inner = max(0, round((n - 1) * 0.36))
    n_outer = n - 1 - n_inner
    seeds = [np.array([[cx, cy]]) + rng.normal(0, 0.02 * r, (1, 2))]
    if n_inner:
        a = rng.uniform(0, 2 * np.pi) + np.arange(n_inner) * 2 * np.pi / n_inner
        a += rng.uniform(-0.2, 0.2, n_inner)
        seeds.append(_polar(cx, cy, r * rng.uniform(0.24, 0.32, n_inner), a))
    a = rng.uniform(0, 2 * np.pi) + np.arange(n_outer) * 2 * np.pi / n_outer
    a += rng.uniform(-0.25, 0.25, n_outer) * 2 * np.pi / n_outer
    seeds.append(_polar(cx, cy, r * rng.uniform(0.55, 0.75, n_outer), a))
    seeds = np.concatenate(seeds)
    cells = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=boundary, ordered=True)
    polys = shapely.intersection(np.asarray(shapely.get_parts(cells)), boundary)
    polys = shapely.normalize(polys)
    stems = list(_DISTRICT_STEMS)
    order = rng.permutation(len(stems))
    names = [f"示例{stems[i]}区" for i in order[:n]]
    names[0] = "示例中心区"
    width = max(2, len(str(n)))
    return gpd.GeoDataFrame(
        {"code": [f"D{i + 1:0{width}d}" for i in range(n)], "name": names},
        geometry=polys, crs=CRS,
    )


def _zone_counts(sc: _Scale) -> dict[str, int]:
    if sc.n_zones == sum(_SMALL_COUNTS.values()) and sc.chains == tuple(_SMALL_COUNTS):
        return dict(_SMALL_COUNTS)
    w = np.array([_SPECS_BY_NAME[c].weight for c in sc.chains], dtype=float)
    raw = w / w.sum() * sc.n_zones
    counts = np.floor(raw).astype(int)
    rest = sc.n_zones - counts.sum()
    counts[np.argsort(-(raw - counts), kind="stable")[:rest]] += 1
    return dict(zip(sc.chains, np.maximum(counts, 2).tolist()))


def _ring_sampler(district: shapely.Geometry, ring_m: tuple[float, float], r_m: float
                  ) -> Callable[[np.random.Generator, int], np.ndarray]:
    """Uniform candidates inside ``district``, preferring the ring and the interior."""
    minx, miny, maxx, maxy = district.bounds
    inner = district.buffer(-r_m * 0.6)
    shapely.prepare(district)
    shapely.prepare(inner)
    cx, cy = CENTRE_XY

    def sample(rng: np.random.Generator, attempt: int) -> np.ndarray:
        c = np.column_stack([rng.uniform(minx, maxx, 96), rng.uniform(miny, maxy, 96)])
        keep = shapely.contains_xy(inner if attempt < 12 and not inner.is_empty else district, c[:, 0], c[:, 1])
        if attempt < 6:
            d = np.hypot(c[:, 0] - cx, c[:, 1] - cy)
            keep &= (d >= ring_m[0]) & (d <= ring_m[1])
        return c[keep]

    return sample


def _zones(rng: np.random.Generator, sc: _Scale, boundary: shapely.Polygon,
           districts: gpd.GeoDataFrame, placer: _Placer) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """Zone polygons, chains and rank (2 main site, 1 cluster anchor, 0 other)."""
    counts = _zone_counts(sc)
    cx, cy = CENTRE_XY
    dgeoms = districts.geometry.to_numpy()
    dcent = shapely.get_coordinates(shapely.point_on_surface(dgeoms))
    dfrac = np.hypot(dcent[:, 0] - cx, dcent[:, 1] - cy) / sc.radius_m
    mic = shapely.maximum_inscribed_circle(dgeoms)
    mic_xy = shapely.get_coordinates(shapely.get_point(mic, 0))
    mic_r = shapely.length(mic)

    # compact chains first (they need room together), then fragmented ones
    order = sorted(sc.chains, key=lambda c: (_SPECS_BY_NAME[c].mode != "compact", sc.chains.index(c)))
    geoms, chains, ranks = [], [], []
    for chain in order:
        spec = _SPECS_BY_NAME[chain]
        n = counts[chain]
        areas = np.clip(rng.lognormal(np.log(sc.zone_median_km2 * spec.size), 0.55, n), 0.505, 7.95)
        if spec.mode == "compact":
            n_clusters = max(spec.clusters, math.ceil(n / 10))
        else:
            n_clusters = max(1, min(2, n // 5))
        is_dom = np.zeros(n, dtype=bool)
        is_dom[np.arange(n) % max(1, (n + n_clusters - 1) // n_clusters) == 0] = True
        if spec.mode == "fragmented":
            is_dom[:] = False
            is_dom[:n_clusters] = True
        # rank 2: the chain's main site; rank 1: the anchor of another cluster
        rank = np.where(is_dom, 1, 0)
        rank[0] = 2
        areas[rank == 1] = np.clip(areas[rank == 1] * 1.5, 0.505, 7.95)
        areas[rank == 2] = np.clip(areas[rank == 2] * 2.5, 2.0, 7.95)
        shapes, rmax = _star_shapes(rng, areas * 1e6)
        ring_m = (spec.ring[0] * sc.radius_m, spec.ring[1] * sc.radius_m)
        mid = 0.5 * (spec.ring[0] + spec.ring[1])
        fit = np.where((dfrac >= spec.ring[0]) & (dfrac <= spec.ring[1]), 1.0, 0.15)
        fit = fit / (0.2 + np.abs(dfrac - mid))
        if spec.mode == "compact":
            homes = rng.choice(len(dgeoms), size=min(n_clusters, len(dgeoms)), replace=False, p=fit / fit.sum())
            per = math.ceil(n / len(homes))
            targets = [homes[i // per] for i in range(n)]
        else:
            k = min(len(dgeoms), n)
            chosen = rng.choice(len(dgeoms), size=k, replace=False, p=fit / fit.sum())
            targets = [chosen[i % k] for i in range(n)]
        for i in range(n):
            d = targets[i]
            if spec.mode == "compact":
                anchor = mic_xy[d]
                spread = max(0.3 * mic_r[d], 2.0 * rmax[i])

                def sampler(rng, attempt, anchor=anchor, spread=spread):
                    return anchor + rng.normal(0.0, spread * (1.0 + 0.35 * attempt), (48, 2))
            else:
                sampler = _ring_sampler(dgeoms[d], ring_m, rmax[i])
            xy, shrink = placer.place(rng, rmax[i], sampler)
            geoms.append(shapely.polygons(np.round(shapes[i] * shrink + xy, 2)))
            chains.append(chain)
            ranks.append(rank[i])
    zones = gpd.GeoDataFrame({"chain": chains}, geometry=geoms, crs=CRS)
    return zones, np.asarray(ranks)


def _largest_overlap(geoms: np.ndarray, districts: gpd.GeoDataFrame) -> np.ndarray:
    """Index of the district each geometry overlaps most."""
    tree = shapely.STRtree(districts.geometry.to_numpy())
    gi, di = tree.query(geoms, predicate="intersects")
    area = shapely.area(shapely.intersection(geoms[gi], districts.geometry.to_numpy()[di]))
    frame = pd.DataFrame({"g": gi, "d": di, "a": area}).sort_values(["g", "a", "d"], ascending=[True, False, True])
    best = frame.drop_duplicates("g").set_index("g")["d"]
    return best.reindex(np.arange(len(geoms))).to_numpy()



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


def _grid(boundary: shapely.Polygon, cell_m: float) -> tuple[Affine, tuple[int, int]]:
    minx, miny, maxx, maxy = boundary.bounds
    x0 = math.floor(minx / cell_m) * cell_m - cell_m
    y1 = math.ceil(maxy / cell_m) * cell_m + cell_m
    width = math.ceil((maxx + cell_m - x0) / cell_m)
    height = math.ceil((y1 - (miny - cell_m)) / cell_m)
    return Affine(cell_m, 0.0, x0, 0.0, -cell_m, y1), (height, width)


def _rasters(rng: np.random.Generator, sc: _Scale, boundary: shapely.Polygon, hx: np.ndarray,
             hy: np.ndarray, dwellings: np.ndarray, zones: gpd.GeoDataFrame,
             innov: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray, Affine]:
    from rasterio.features import rasterize
    from scipy.ndimage import uniform_filter

    transform, shape = _grid(boundary, sc.cell_m)
    height, width = shape
    inside = rasterize([(boundary, 1)], out_shape=shape, transform=transform, all_touched=True,
                       dtype="uint8").astype(bool)
    col = np.floor((hx - transform.c) / sc.cell_m).astype(np.int64)
    row = np.floor((transform.f - hy) / sc.cell_m).astype(np.int64)
    persons = np.bincount(row * width + col, weights=dwellings * PERSONS_PER_DWELLING,
                          minlength=height * width).reshape(shape)
    population = np.where(inside, persons, POPULATION_NODATA).astype(np.float32)

    cell_ha = sc.cell_m ** 2 / 1e4
    landuse = np.where(inside, _GRN, LANDUSE_NODATA).astype(np.uint8)
    # residential land where the (smoothed, ~500 m window) population density is urban
    smooth = uniform_filter(persons, size=max(3, round(500.0 / sc.cell_m) | 1), mode="constant")
    residential = inside & (smooth / cell_ha >= 8.0)
    landuse[residential] = _RES
    noise = rng.random(shape)
    landuse[residential & (noise < 0.07)] = _PUB
    # central business district: offices, shops, some housing and public uses
    cols, rows = np.meshgrid(np.arange(width), np.arange(height))
    xc = transform.c + (cols + 0.5) * sc.cell_m
    yc = transform.f - (rows + 0.5) * sc.cell_m
    cbd = inside & (np.hypot(xc - CENTRE_XY[0], yc - CENTRE_XY[1]) < 0.06 * sc.radius_m)
    mix = np.array([_OFF, _RET, _RES, _PUB], dtype=np.uint8)
    landuse[cbd] = mix[np.searchsorted(np.cumsum([0.45, 0.3, 0.15, 0.1]), noise[cbd], side="right").clip(0, 3)]
    # innovation districts and their surroundings: a fine-grained mix
    around = rasterize([(g, 1) for g in innov.geometry.buffer(300.0)], out_shape=shape,
                       transform=transform, dtype="uint8").astype(bool) & inside
    mix = np.array([_OFF, _RES, _RET, _PUB, _GRN], dtype=np.uint8)
    landuse[around] = mix[np.searchsorted(np.cumsum([0.35, 0.25, 0.2, 0.15, 0.05]), noise[around],
                                          side="right").clip(0, 4)]
    # zones: industrial (R&D zones partly offices)
    zone_value = np.where(zones["role"].to_numpy() == "rd", 2, 1)
    zmask = rasterize(list(zip(zones.geometry, zone_value.tolist())), out_shape=shape, transform=transform,
                      dtype="uint8")
    landuse[zmask > 0] = _IND
    landuse[(zmask == 2) & (noise < 0.5)] = _OFF
    return population, landuse, transform


# ---------------------------------------------------------------------------
# config


def _study_name(scale: str, seed: int) -> str:
    base = "Sample metropolitan region (synthetic data)"
    return base if (scale, seed) == ("city", 0) else f"{base[:-1]}, scale {scale}, seed {seed})"


def _layer_paths(fmt: str) -> dict[str, dict[str, str]]:
    if fmt == "gpkg":
        return {name: {"path": "layers/sample.gpkg", "layer": name}
                for name in ("districts", "zones", "innovation_districts", "housing")}
    return {name: {"path": f"layers/{name}.parquet"}
            for name in ("districts", "zones", "innovation_districts", "housing")}


_FIELDS = {
    "districts": {"district_id": "code", "name": "name"},
    "zones": {"zone_id": "id", "name": "name", "district_id": "district", "chain": "chain", "jobs": "jobs",
              "output": "output", "firms": "firms", "leader_firms": "leader_firms",
              "rd_platforms": "rd_platforms", "role": "role"},
    "innovation_districts": {"innov_id": "id", "name": "name", "chains": "chains", "jobs": "jobs"},
    "housing": {"housing_id": "id", "dwellings": "dwellings"},
}


def sample_config(scale: str = "city", seed: int = 0, fmt: str = "gpkg") -> dict[str, Any]:
    """The config.yaml content of a sample study as a plain mapping."""
    paths = _layer_paths(fmt)
    layers: dict[str, Any] = {
        name: {**paths[name], "fields": dict(_FIELDS[name])} for name in _FIELDS
    }
    layers["population"] = {"path": "layers/population.tif"}
    layers["landuse"] = {"path": "layers/landuse.tif", "classes": dict(LANDUSE_CLASSES)}
    return {
        "study": {"name": _study_name(scale, seed), "language": "zh", "synthetic": True},
        "crs": {"working": CRS, "export": CRS},
        "layers": layers,
        "balance": {"radius_m": 5000, "radii_m": [3000, 5000, 10000], "workers_per_dwelling": 1.4,
                    "employment_rate": 0.55, "balanced_range": [0.8, 1.25]},
        "collaboration": {"max_distance_m": 30000, "distance_decay": 2.0, "top_pairs_per_chain": 10},
        "core_periphery": {"weights": {"jobs": 1, "output": 1, "firms": 1, "leader_firms": 1,
                                       "rd_platforms": 1},
                           "core_share": 0.2, "attach_max_m": 40000, "distance_decay": 2.0},
        "map": {"basemap": "none", "tianditu_key": None},
        "output": {"dir": "maps"},
    }


def _flow(mapping: dict[str, str]) -> str:
    return "{" + ", ".join(f"{k}: {v}" for k, v in mapping.items()) + "}"


def render_config(config: dict[str, Any], *, scale: str = "city", seed: int = 0) -> str:
    """config.yaml text (with comments for a human reader) for :func:`sample_config`."""
    lay = config["layers"]

    def vector(name: str, comment: str) -> str:
        entry = lay[name]
        text = f"  {name}:{' ' * max(1, 22 - len(name))}# {comment}\n    path: {entry['path']}\n"
        if "layer" in entry:
            text += f"    layer: {entry['layer']}\n"
        fields = entry["fields"]
        if len(fields) > 4:
            items = list(fields.items())
            first = ", ".join(f"{k}: {v}" for k, v in items[:5])
            rest = ", ".join(f"{k}: {v}" for k, v in items[5:])
            text += f"    fields: {{{first},\n             {rest}}}\n"
        else:
            text += f"    fields: {_flow(fields)}\n"
        return text

    cp = config["core_periphery"]
    b = config["balance"]
    c = config["collaboration"]
    return (
        "# zoneatlas study configuration: the BUNDLED SAMPLE STUDY.\n"
        "#\n"
        "# Everything under layers/ is FICTIONAL: a synthetic city generated by\n"
        f"#   zoneatlas sample -o DIR --scale {scale} --seed {seed}\n"
        "# (see layers/README.md for the schema of every layer and how to regenerate it).\n"
        "# To analyse your own data, point the layers below at your files and map your\n"
        "# column names in `fields:` (canonical field: your column). Paths are relative to\n"
        "# this file; unknown keys are an error. Run with:  zoneatlas run -c config.yaml\n"
        "\n"
        "study:\n"
        f"  name: {json.dumps(config['study']['name'], ensure_ascii=False)}\n"
        f"  language: {config['study']['language']}            # zh | en: labels in maps, legends, tables\n"
        "  synthetic: true         # fictional data: maps and the atlas page say so\n"
        "\n"
        "crs:\n"
        f"  working: {config['crs']['working']}      # CGCS2000 3-degree Gauss-Krüger zone, CM 105°E (metres)\n"
        f"  export: {config['crs']['export']}       # CRS of the QGIS package\n"
        "\n"
        "layers:\n"
        + vector("districts", "administrative districts (polygons)")
        + vector("zones", "industrial functional zones (polygons)")
        + vector("innovation_districts", "innovation districts (polygons)")
        + vector("housing", "housing (points), dwellings per feature")
        + f"  population: {{path: {lay['population']['path']}}}     # persons per {_SCALES[scale].cell_m:g} m cell\n"
        + f"  landuse: {{path: {lay['landuse']['path']}, classes: {_flow(lay['landuse']['classes'])}}}\n"
        "  # per vector layer, optional: crs (when the file has none), encoding (e.g. gbk),\n"
        "  # coordinates: gcj02 | bd09 (data digitised on AMap/Baidu; converted on load)\n"
        "\n"
        "balance:                  # jobs-housing balance\n"
        f"  radius_m: {b['radius_m']}          # primary commuting radius from the workplace boundary\n"
        f"  radii_m: [{', '.join(str(r) for r in b['radii_m'])}]\n"
        f"  workers_per_dwelling: {b['workers_per_dwelling']}\n"
        f"  employment_rate: {b['employment_rate']}   # used when workers come from the population raster\n"
        f"  balanced_range: [{b['balanced_range'][0]}, {b['balanced_range'][1]}]   # jobs/workers ratio counted as balanced\n"
        "\n"
        "collaboration:            # cross-district collaboration of zones in one chain\n"
        f"  max_distance_m: {c['max_distance_m']}\n"
        f"  distance_decay: {c['distance_decay']}\n"
        f"  top_pairs_per_chain: {c['top_pairs_per_chain']}\n"
        "\n"
        "core_periphery:           # growth poles and the zones that attach to them\n"
        f"  weights: {_flow(cp['weights'])}\n"
        f"  core_share: {cp['core_share']}         # top share of zones by score that are cores\n"
        f"  attach_max_m: {cp['attach_max_m']}\n"
        f"  distance_decay: {cp['distance_decay']}\n"
        "\n"
        "map:\n"
        f"  basemap: {config['map']['basemap']}           # fictional city: never drawn over a real city's basemap\n"
        "  tianditu_key: null\n"
        "\n"
        "output:\n"
        f"  dir: {config['output']['dir']}\n"
    )


# ---------------------------------------------------------------------------
# public API


def generate_study(scale: str = "city", *, seed: int = 0) -> SampleStudy:
    """Generate the synthetic study in memory.

    Parameters
    ----------
    scale : {"small", "city", "metro"}
        ``small`` for tests (about 15 zones, 2,000 housing points, 250 m cells),
        ``city`` the bundled default (about 60 zones, 30,000 housing points, 100 m
        cells), ``metro`` for benchmarks (about 2,000 zones, 1,000,000 housing points).
    seed : int
        Seed of the one :class:`numpy.random.Generator` used; same seed, same study.

    Returns
    -------
    SampleStudy
        Frames with the user-facing column names of ``SampleStudy.config``.

    Examples
    --------
    >>> s = generate_study("small", seed=1)
    >>> len(s.zones), s.crs
    (15, 'EPSG:4544')
    """
    if scale not in _SCALES:
        raise ValueError(f"scale must be one of {', '.join(SCALES)} (got {scale!r})")
    sc = _SCALES[scale]
    rng = np.random.default_rng(seed)
    boundary = _city_boundary(rng, sc.radius_m)
    districts = _districts(rng, sc, boundary)

    n_towns = int(rng.integers(sc.new_towns[0], sc.new_towns[1] + 1))
    angles = rng.uniform(0, 2 * np.pi) + np.arange(n_towns) * 2 * np.pi / n_towns
    angles += rng.uniform(-0.3, 0.3, n_towns)
    new_towns = _polar(*CENTRE_XY, sc.radius_m * rng.uniform(0.5, 0.65, n_towns), angles)

    placer = _Placer(boundary, sc.n_zones + sc.n_innovation + 16, gap_m=0.02 * sc.radius_m / 2.8)
    zones, rank = _zones(rng, sc, boundary, districts, placer)
    zones = _zone_attributes(rng, zones, rank, districts)
    innov = _innovation(rng, sc, new_towns, zones, districts, placer)
    jobs_total = float(zones["jobs"].sum() + innov["jobs"].sum())
    hx, hy, dwellings = _housing(rng, sc, boundary, new_towns, zones, jobs_total)
    width = max(6, len(str(len(hx))))
    housing = gpd.GeoDataFrame(
        {"id": [f"H{i:0{width}d}" for i in range(1, len(hx) + 1)], "dwellings": dwellings},
        geometry=shapely.points(hx, hy), crs=CRS,
    )
    population, landuse, transform = _rasters(rng, sc, boundary, hx, hy, dwellings, zones, innov)
    log.debug("generated %s sample (seed %d): %d zones, %d housing", scale, seed, len(zones), len(housing))
    return SampleStudy(
        districts=districts, zones=zones, innovation_districts=innov, housing=housing,
        population=population, landuse=landuse, transform=transform, crs=CRS,
        config=sample_config(scale, seed), scale=scale, seed=seed, boundary=boundary,
    )


_DESCRIPTIONS = {
    "districts": "示例行政区（虚构）. Fictional administrative districts of a synthetic sample city.",
    "zones": "示例产业功能区（虚构）. Fictional industrial functional zones of a synthetic sample city.",
    "innovation_districts": "示例创新街区（虚构）. Fictional innovation districts of a synthetic sample city.",
    "housing": "示例居住点（虚构）. Fictional housing points (dwellings) of a synthetic sample city.",
}


def _provenance(scale: str, seed: int) -> str:
    return f"synthetic, generated by `zoneatlas sample --scale {scale} --seed {seed}` (geo.sample)"


def _write_gpkg(study: SampleStudy, path: Path) -> None:
    import pyogrio

    if path.exists():
        path.unlink()
    # a fixed timestamp in gpkg_contents makes the file byte-for-byte reproducible
    old = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": "2026-01-01T00:00:00.000Z"})
    try:
        for name in ("districts", "zones", "innovation_districts", "housing"):
            frame = getattr(study, name)
            pyogrio.write_dataframe(
                frame, path, layer=name, driver="GPKG", use_arrow=len(frame) > 50_000,
                layer_options={"IDENTIFIER": f"sample_{name}", "DESCRIPTION": _DESCRIPTIONS[name]},
                layer_metadata={"SYNTHETIC": "yes", "PROVENANCE": _provenance(study.scale, study.seed),
                                "DESCRIPTION": _DESCRIPTIONS[name]},
            )
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": old})


def _write_tif(path: Path, data: np.ndarray, study: SampleStudy, nodata: float, description: str) -> None:
    import rasterio

    profile = {
        "driver": "GTiff", "height": data.shape[0], "width": data.shape[1], "count": 1,
        "dtype": data.dtype.name, "crs": study.crs, "transform": study.transform, "nodata": nodata,
        "compress": "deflate", "predictor": 3 if data.dtype.kind == "f" else 2,
        "tiled": True, "blockxsize": 256, "blockysize": 256,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
        dst.update_tags(SYNTHETIC="yes", PROVENANCE=_provenance(study.scale, study.seed))
        dst.set_band_description(1, description)


def write_sample(out_dir: str | os.PathLike, *, scale: str = "city", seed: int = 0,
                 fmt: str = "gpkg") -> Path:
    """Write a synthetic study into ``out_dir`` (layers + config.yaml).

    Writes ``layers/sample.gpkg`` (layers districts, zones, innovation_districts,
    housing; with ``fmt="parquet"`` one GeoParquet file per layer instead),
    ``layers/population.tif``, ``layers/landuse.tif`` and ``config.yaml``.
    Existing files of those names are replaced; nothing else is touched. The same
    arguments give byte-identical files (on the same platform and library versions).

    Parameters
    ----------
    out_dir : path-like
        Folder of the study; created when missing.
    scale : {"small", "city", "metro"}
        See :func:`generate_study`.
    seed : int
        Seed of the random generator.
    fmt : {"gpkg", "parquet"}
        Vector format: one GeoPackage, or one GeoParquet file per layer.

    Returns
    -------
    pathlib.Path
        The written config.yaml.
    """
    if fmt not in ("gpkg", "parquet"):
        raise ValueError(f"fmt must be 'gpkg' or 'parquet' (got {fmt!r})")
    study = generate_study(scale, seed=seed)
    out = Path(out_dir)
    layers = out / "layers"
    layers.mkdir(parents=True, exist_ok=True)
    if fmt == "gpkg":
        _write_gpkg(study, layers / "sample.gpkg")
    else:
        for name in ("districts", "zones", "innovation_districts", "housing"):
            getattr(study, name).to_parquet(layers / f"{name}.parquet", index=False)
    _write_tif(layers / "population.tif", study.population, study, POPULATION_NODATA,
               "persons per cell (synthetic)")
    _write_tif(layers / "landuse.tif", study.landuse, study, LANDUSE_NODATA,
               "land-use class 1 residential 2 office 3 industrial 4 retail 5 public 6 green (synthetic)")
    config = sample_config(scale, seed, fmt)
    path = out / "config.yaml"
    path.write_text(render_config(config, scale=scale, seed=seed), encoding="utf-8")
    log.info("wrote %s sample study (seed %d) to %s", scale, seed, out)
    return path
