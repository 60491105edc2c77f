"""A synthetic observed OD table (mobile-signalling style) for the sample study.

Homes are square cells holding housing (as signalling OD tables come, aggregated to grid
cells), each at its largest housing point; work ends are points inside the workplaces. Each workplace
draws about half its jobs as observed commuters from the home cells by a gravity model,
P(cell) ∝ resident workers × (exp(-d / 2 km) + 0.01 exp(-d / 8 km)): about half the
commutes within 5 km (city and metro samples), some across districts, a tail beyond 20 km. Written as a CSV in longitude/latitude (EPSG:4326) with the
user-facing columns home_lon, home_lat, work_lon, work_lat, commuters.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

#: Side of the home cells of the OD table (metres) by sample scale (metro: about 1.0
#: million flows, the size of a large city's signalling OD table).
OD_CELL_M = {"small": 500.0, "city": 1000.0, "metro": 1500.0}
#: Observed commuters per job of a workplace (signalling sees part of the workforce).
CAPTURE = 0.5
DECAY_M = 2000.0
TAIL = 0.01
TAIL_DECAY_M = 8000.0
WORK_POINTS = 4
COLUMNS = {"home_x": "home_lon", "home_y": "home_lat", "work_x": "work_lon", "work_y": "work_lat",
           "commuters": "commuters"}


def _work_points(rng: np.random.Generator, geoms: np.ndarray, k: int) -> np.ndarray:
    """``k`` random points inside each polygon, shape (len(geoms), k, 2)."""
    out = np.repeat(shapely.get_coordinates(shapely.point_on_surface(geoms))[:, None, :], k, axis=1)
    b = shapely.bounds(geoms)
    tries = 40
    x = rng.uniform(b[:, 0:1], b[:, 2:3], (len(geoms), tries))
    y = rng.uniform(b[:, 1:2], b[:, 3:4], (len(geoms), tries))
    inside = shapely.contains_xy(np.repeat(geoms[:, None], tries, axis=1), x, y)
    for slot in range(1, k):   # slot 0 stays the point on surface; k is tiny
        first = np.argmax(inside, axis=1)
        ok = inside[np.arange(len(geoms)), first]
        out[ok, slot, 0] = x[ok, first[ok]]
        out[ok, slot, 1] = y[ok, first[ok]]
        inside[np.arange(len(geoms)), first] = False
    return out


def sample_flows(workplaces: np.ndarray, jobs: np.ndarray, hx: np.ndarray, hy: np.ndarray,
                 dwellings: np.ndarray, *, crs: str, scale: str, seed: int) -> pd.DataFrame:
    """The OD table of a sample study (user-facing columns, lon/lat, one row per flow).

    Parameters
    ----------
    workplaces : ndarray of polygons
        Zones and innovation districts (in ``crs``); ``jobs`` their jobs.
    hx, hy, dwellings : ndarray
        Housing points and their dwellings (workers = 1.4 per dwelling).
    """
    rng = np.random.default_rng([seed, 16])
    cell = OD_CELL_M[scale]
    ix, iy = np.floor(hx / cell).astype(np.int64), np.floor(hy / cell).astype(np.int64)
    _, inv = np.unique(ix * 1_000_000 + iy, return_inverse=True)
    workers = np.bincount(inv.ravel(), weights=dwellings * 1.4)
    inv = inv.ravel()
    # home end of a cell: its largest housing point (always inside the city, as real
    # cell centres near a coast or border need not be)
    order = np.lexsort((-dwellings, inv))
    first = order[np.r_[True, inv[order][1:] != inv[order][:-1]]]
    cx, cy = hx[first], hy[first]
    points = _work_points(rng, np.asarray(workplaces, dtype=object), WORK_POINTS)
    anchor = points[:, 0, :]
    parts = []
    for j in range(len(workplaces)):   # one multinomial per workplace (not per flow)
        n = round(float(jobs[j]) * CAPTURE)
        if n <= 0:
            continue
        d = np.hypot(cx - anchor[j, 0], cy - anchor[j, 1])
        p = workers * (np.exp(-d / DECAY_M) + TAIL * np.exp(-d / TAIL_DECAY_M))
        p /= p.sum()
        counts = rng.multinomial(n, p)
        cells = np.flatnonzero(counts)
        slot = rng.integers(0, WORK_POINTS, len(cells))
        parts.append(np.column_stack([cx[cells], cy[cells], points[j, slot, 0], points[j, slot, 1],
                                      counts[cells]]))
    table = np.concatenate(parts) if parts else np.zeros((0, 5))
    to_ll = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    hlon, hlat = to_ll.transform(table[:, 0], table[:, 1])
    wlon, wlat = to_ll.transform(table[:, 2], table[:, 3])
    return pd.DataFrame({"home_lon": np.round(hlon, 6), "home_lat": np.round(hlat, 6),
                         "work_lon": np.round(wlon, 6), "work_lat": np.round(wlat, 6),
                         "commuters": table[:, 4].astype(np.int64)})
