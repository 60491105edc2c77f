"""Geometry generators of the synthetic city: irregular boundary, Voronoi districts,
star-shaped zones placed without overlap along rings and corridors, grids."""

from __future__ import annotations

import math
from collections.abc import Callable

import geopandas as gpd
import numpy as np
import shapely
from affine import Affine
from scipy.spatial import cKDTree

from geo.sample._catalogue import _DISTRICT_STEMS, _SMALL_COUNTS, _SPECS_BY_NAME, CENTRE_XY, CRS, _Scale


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


def _grid(boundary: shapely.Polygon, cell_m: float) -> tuple[Affine, tuple[int, int]]:
    minx, miny, maxx, maxy = boundary.bounds
    x0 = math.floor(minx / cell_m) * cell_m - cell_m
    y1 = math.ceil(maxy / cell_m) * cell_m + cell_m
    width = math.ceil((maxx + cell_m - x0) / cell_m)
    height = math.ceil((y1 - (miny - cell_m)) / cell_m)
    return Affine(cell_m, 0.0, x0, 0.0, -cell_m, y1), (height, width)
