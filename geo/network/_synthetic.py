"""A synthetic road network for samples, tests and benchmarks (fictional, deterministic).

A grid of streets every ``street_spacing_m`` (classes by position: an expressway every
16th line, arterials every 4th, secondary roads every 2nd, local streets between), one
feature per block with intermediate vertices about every ``vertex_spacing_m`` (slightly
off the straight line, as digitised roads are), pairs of one-way local streets, a river
meandering north–south that the grid crosses only on ``n_bridges`` bridges, and a
motorway crossing the grid diagonally on flyovers (no shared vertex) except at a few
interchanges (short ramps sharing a vertex with both). At metro scale (a 150 km square,
500 m streets, 80 m vertices) it has about one million nodes.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

_ZH = {"motorway": "高速公路", "expressway": "快速路", "arterial": "主干路", "secondary": "次干路", "local": "支路"}


def _line_class(k: np.ndarray) -> np.ndarray:
    return np.where(k % 16 == 0, "expressway", np.where(k % 4 == 0, "arterial",
                    np.where(k % 2 == 0, "secondary", "local"))).astype(object)


def river_x(y: np.ndarray, bounds: tuple[float, float, float, float]) -> np.ndarray:
    """x of the river's centreline at ``y``."""
    x0, y0, x1, y1 = bounds
    w, h = x1 - x0, y1 - y0
    return x0 + 0.47 * w + 0.06 * w * np.sin(2 * np.pi * (np.asarray(y) - y0) / (0.55 * h))


def synthetic_roads(bounds: tuple[float, float, float, float], *, street_spacing_m: float = 500.0,
                    vertex_spacing_m: float = 100.0, oneway_share: float = 0.3,
                    n_bridges: int = 4, river_width_m: float = 200.0, n_interchanges: int = 4,
                    area=None, chinese: bool = False, crs=None, seed: int = 0) -> gpd.GeoDataFrame:
    """Road centrelines covering ``bounds`` (working CRS, metres).

    Parameters
    ----------
    bounds : (xmin, ymin, xmax, ymax)
    street_spacing_m, vertex_spacing_m : float
        Grid spacing and the distance between vertices along a road.
    oneway_share : float
        Share of local streets that are one-way (in opposite pairs).
    n_bridges : int
        Grid roads crossing the river (on arterial or expressway lines).
    area : shapely geometry, optional
        Keep only blocks whose middle lies within 2 km of it (e.g. the districts).
    chinese : bool
        Chinese class names (快速路, 主干路, ...) instead of English.
    seed : int
        Seed of the jitter and of the one-way choice.

    Returns
    -------
    GeoDataFrame with road_id, class, speed_kmh (empty: speeds come from classes), oneway.
    """
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = map(float, bounds)
    s = float(street_spacing_m)
    xs = x0 + s * np.arange(int((x1 - x0) // s) + 1)
    ys = y0 + s * np.arange(int((y1 - y0) // s) + 1)
    m = max(1, int(round(s / vertex_spacing_m)))
    t = np.arange(m + 1) / m
    jitter = np.zeros(m + 1)
    frames = []
    for axis, (along, across) in enumerate(((xs, ys), (ys, xs))):
        nl, nb = len(across), len(along) - 1
        if nb < 1:
            continue
        start = along[:-1]
        pos = start[None, :, None] + s * t[None, None, :]                       # (1, nb, m+1)
        pos = np.broadcast_to(pos, (nl, nb, m + 1))
        off = rng.uniform(-4.0, 4.0, size=(nl, nb, m + 1))
        off[..., 0] = off[..., -1] = 0.0 + jitter[0]
        cross = across[:, None, None] + off
        coords = np.stack([pos, cross] if axis == 0 else [cross, pos], axis=-1).reshape(-1, m + 1, 2)
        line_k = np.repeat(np.arange(nl), nb)
        cls = _line_class(line_k)
        oneway = np.full(len(line_k), None, dtype=object)
        local_lines = np.flatnonzero(_line_class(np.arange(nl)) == "local")
        chosen = local_lines[rng.random(len(local_lines)) < oneway_share]
        ow_line = np.full(nl, None, dtype=object)
        ow_line[chosen] = np.where(np.arange(len(chosen)) % 2 == 0, "yes", "-1")
        oneway = ow_line[line_k]
        frames.append((coords, cls, oneway, np.full(len(line_k), axis), line_k))
    coords = np.concatenate([f[0] for f in frames])
    cls = np.concatenate([f[1] for f in frames])
    oneway = np.concatenate([f[2] for f in frames])
    axis = np.concatenate([f[3] for f in frames])
    line_k = np.concatenate([f[4] for f in frames])
    # the river: blocks with a vertex in it are cut, except the bridges
    near = np.abs(coords[..., 0] - river_x(coords[..., 1], bounds)) < river_width_m / 2 + 1.0
    crosses = near.any(axis=1)
    main = (axis == 0) & np.isin(cls, ["arterial", "expressway"]) & crosses
    bridge_lines = np.unique(line_k[main])
    if len(bridge_lines) and n_bridges > 0:
        pick = bridge_lines[np.linspace(0, len(bridge_lines) - 1, min(n_bridges, len(bridge_lines))).round().astype(int)]
    else:
        pick = np.zeros(0, dtype=int)
    bridge = main & np.isin(line_k, pick)
    keep = ~crosses | bridge
    if area is not None:
        mid = coords[:, m // 2]
        keep &= shapely.contains_xy(shapely.buffer(area, 2000.0), mid[:, 0], mid[:, 1])
    coords, cls, oneway = coords[keep], cls[keep], oneway[keep]
    geoms = list(shapely.linestrings(coords))
    classes = list(cls)
    oneways = list(oneway)
    # the motorway: a diagonal on flyovers, its vertices off the grid
    n_mv = max(2, int(np.hypot(x1 - x0, y1 - y0) * 0.8 // vertex_spacing_m))
    tt = np.linspace(0.0, 1.0, n_mv)
    ax, ay, bx, by = x0 + 0.013 * s, y0 + 0.2 * (y1 - y0) + 0.37 * s, x1 - 0.029 * s, y1 - 0.2 * (y1 - y0) + 0.11 * s
    mx, my = ax + (bx - ax) * tt, ay + (by - ay) * tt
    mway = np.column_stack([mx, my])
    geoms.append(shapely.linestrings(mway))
    classes.append("motorway")
    oneways.append(None)
    # interchanges: a ramp from a motorway vertex to the nearest grid crossing
    for k in np.linspace(0, n_mv - 1, n_interchanges + 2)[1:-1].round().astype(int):
        gx = xs[np.abs(xs - mx[k]).argmin()]
        gy = ys[np.abs(ys - my[k]).argmin()]
        if abs(gx - river_x(np.array([gy]), bounds)[0]) < river_width_m:
            continue
        geoms.append(shapely.linestrings([(mx[k], my[k]), (gx, gy)]))
        classes.append("secondary")
        oneways.append(None)
    if chinese:
        classes = [_ZH[c] for c in classes]
    return gpd.GeoDataFrame({"road_id": np.arange(len(geoms)), "class": classes,
                             "speed_kmh": np.full(len(geoms), np.nan),
                             "oneway": pd.Series(oneways, dtype=object)},
                            geometry=geoms, crs=crs)
