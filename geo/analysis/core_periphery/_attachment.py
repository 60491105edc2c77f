"""Attachment of periphery zones to cores by Huff probability, preferring a core of
the zone's own chain in reach; exact distances, or estimates for far pairs in large studies."""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from geo.analysis._reach import DISTANCE_TOLERANCE_M

#: Floor of the zone-to-core distance inside the Huff formula (metres).
MIN_HUFF_DISTANCE_M = 1000.0

#: Above this many (periphery zone x core) pairs, far pairs use a distance estimate.
MAX_EXACT_PAIRS = 250_000

#: In estimate mode, each zone still gets exact distances to this many nearest cores.
EXACT_NEAREST = 16


def huff_probabilities(
    strength_cores: Sequence[float] | np.ndarray,
    distance_matrix_m: np.ndarray,
    decay: float,
    *,
    min_distance_m: float = MIN_HUFF_DISTANCE_M,
) -> np.ndarray:
    """Huff probabilities ``P_k = (S_k / d_k^β) / Σ_j (S_j / d_j^β)``.

    Parameters
    ----------
    strength_cores : array of shape (k,)
        Non-negative attraction of each core (its score). When every core has
        strength 0, all cores count as equally strong.
    distance_matrix_m : array of shape (n, k)
        Distance of each zone (row) to each core (column), metres.
    decay : float
        Distance-decay exponent β ≥ 0.
    min_distance_m : float
        Distances below this floor count as the floor (touching zones are 0 m apart).

    Returns
    -------
    ndarray of shape (n, k)
        Each row sums to 1. Computed in log space, so extreme ``decay`` is stable.

    Examples
    --------
    >>> huff_probabilities([1.0, 1.0], np.array([[2000.0, 4000.0]]), 2.0).round(2)
    array([[0.8, 0.2]])
    """
    s = np.asarray(strength_cores, dtype=float)
    d = np.asarray(distance_matrix_m, dtype=float)
    if d.ndim != 2 or d.shape[1] != s.shape[0]:
        raise ValueError(
            f"distance_matrix_m must have shape (n, {s.shape[0]}), got {d.shape}"
        )
    if not (s > 0).any():
        s = np.ones_like(s)
    floor = max(float(min_distance_m), np.finfo(float).tiny)
    with np.errstate(divide="ignore"):
        log_w = np.log(s)[None, :] - float(decay) * np.log(np.maximum(d, floor))
    log_w -= log_w.max(axis=1, keepdims=True)
    w = np.exp(log_w)
    return w / w.sum(axis=1, keepdims=True)


def attach(
    geometries: np.ndarray | gpd.GeoSeries,
    chains: np.ndarray | pd.Series,
    core_positions: np.ndarray,
    core_strength: np.ndarray,
    *,
    attach_max_m: float,
    distance_decay: float,
    min_distance_m: float = MIN_HUFF_DISTANCE_M,
    max_exact_pairs: int = MAX_EXACT_PAIRS,
    exact_nearest: int = EXACT_NEAREST,
) -> pd.DataFrame:
    """Attach every non-core zone to a core by Huff probability.

    A zone takes the core with the highest Huff probability (:func:`huff_probabilities`
    over all cores, distances floored at ``min_distance_m``), except that when a core of
    its own chain lies within ``attach_max_m`` it takes the most probable such core.
    Ties go to the core listed first in ``core_positions``.

    Distances are boundary to boundary. They are exact for every pair when
    (non-core zones × cores) ≤ ``max_exact_pairs``. Above that, each zone gets exact
    distances to its ``exact_nearest`` nearest cores (by representative point), to
    same-chain cores whose "within ``attach_max_m``" test is not settled by the bounds
    ``[d_points - R_i - R_k, d_points]``, and to its chosen core; other pairs use the
    estimate ``max(d_points - r_i - r_k, 0)`` (``d_points``: distance of the
    representative points, ``r``: radius of a disc of the zone's area, ``R``: largest
    distance from the representative point to the zone's boundary). Far cores then
    enter the Huff sums with an approximate weight; reach decisions stay exact.

    Parameters
    ----------
    geometries : array of shapely geometries (n,)
        Zone polygons in a projected metre CRS.
    chains : array (n,)
        Chain of each zone.
    core_positions : int array (k,)
        Positions of the cores in ``geometries``, ordered by rank (strongest first).
    core_strength : float array (k,)
        Score of each core (Huff attraction).
    attach_max_m : float
        Reach of a core, metres.
    distance_decay : float
        Huff exponent β.
    min_distance_m, max_exact_pairs, exact_nearest
        See above.

    Returns
    -------
    DataFrame
        One row per zone (positional index 0..n-1): ``core_pos`` (position of the chosen
        core; the zone itself for cores), ``core_distance_m``, ``attach_prob`` (NaN for
        cores), ``same_chain_core`` (bool), ``strategy``.
    """
    geoms = np.asarray(geometries, dtype=object)
    chains, _ = pd.factorize(pd.Series(np.asarray(chains, dtype=object)), use_na_sentinel=False)
    n = len(geoms)
    cores = np.asarray(core_positions, dtype=np.int64)
    strength = np.asarray(core_strength, dtype=float)
    k = len(cores)
    core_pos = np.arange(n, dtype=np.int64)
    dist = np.zeros(n)
    prob = np.full(n, np.nan)
    same = np.ones(n, dtype=bool)
    strategy = np.full(n, "independent_pole", dtype=object)
    is_core = np.zeros(n, dtype=bool)
    is_core[cores] = True
    periph = np.flatnonzero(~is_core)
    within_m = attach_max_m + DISTANCE_TOLERANCE_M      # on the limit counts, whatever the rounding
    if k and len(periph):
        core_geoms = geoms[cores]
        core_chain = chains[cores]
        exact_all = len(periph) * k <= max_exact_pairs
        pts = shapely.get_coordinates(shapely.point_on_surface(geoms))
        radius = np.sqrt(shapely.area(geoms) / np.pi)
        reach = shapely.hausdorff_distance(shapely.points(pts), geoms)
        core_pts, core_radius, core_reach = pts[cores], radius[cores], reach[cores]
        nearest = None
        if not exact_all and k > exact_nearest:
            _, nearest = cKDTree(pts[cores]).query(pts[periph], k=exact_nearest)
        chunk = max(1, 2_000_000 // max(k, 1))
        for start in range(0, len(periph), chunk):
            rows = periph[start:start + chunk]
            same_chain = chains[rows][:, None] == core_chain[None, :]
            if exact_all:
                d = shapely.distance(geoms[rows][:, None], core_geoms[None, :])
            else:
                upper = np.hypot(pts[rows, None, 0] - core_pts[None, :, 0],
                                 pts[rows, None, 1] - core_pts[None, :, 1])
                d = upper - radius[rows][:, None]
                d -= core_radius[None, :]
                np.maximum(d, 0.0, out=d)
                # within reach undecided by the bounds [upper - R_i - R_k, upper]
                need = upper > within_m
                need &= upper <= within_m + reach[rows][:, None] + core_reach[None, :]
                need &= same_chain
                if nearest is None:
                    need[:] = True
                else:
                    need[np.arange(len(rows))[:, None], nearest[start:start + len(rows)]] = True
                ri, ci = np.nonzero(need)
                d[ri, ci] = shapely.distance(geoms[rows[ri]], core_geoms[ci])
            p = huff_probabilities(strength, d, distance_decay, min_distance_m=min_distance_m)
            own = same_chain & (d <= within_m)
            has_own = own.any(axis=1)
            pick = np.where(has_own, np.where(own, p, -1.0).argmax(axis=1), p.argmax(axis=1))
            r = np.arange(len(rows))
            core_pos[rows] = cores[pick]
            prob[rows] = p[r, pick]
            same[rows] = same_chain[r, pick]
            dist[rows] = d[r, pick]
        if not exact_all:  # the chosen core's distance is always exact
            dist[periph] = shapely.distance(geoms[periph], geoms[core_pos[periph]])
        strategy[periph] = np.where(dist[periph] <= within_m,
                                    "collaborative_subordinate", "isolated")
    return pd.DataFrame({
        "core_pos": core_pos, "core_distance_m": dist, "attach_prob": prob,
        "same_chain_core": same, "strategy": strategy,
    })


#: Floor of the zone-to-core travel time inside the Huff formula (minutes), as distance is
#: floored at 1 km (DESIGN.md "Roads and travel time").
MIN_HUFF_TRAVEL_MIN = 1.0

#: Two travel times closer than this (minutes) are equal (as geo.network.TIME_TOLERANCE_MIN).
_TIME_TOL = 1e-6


def _huff_reachable(strength: np.ndarray, minutes: np.ndarray, reach: np.ndarray, decay: float,
                    floor: float) -> np.ndarray:
    """Huff probabilities over the reachable cores of each row (unreachable: 0), in log space.

    As :func:`huff_probabilities`: when every core has strength 0 they count as equally
    strong; a row whose reachable cores all have strength 0 splits equally among them.
    """
    s = np.asarray(strength, dtype=float)
    if not (s > 0).any():
        s = np.ones_like(s)
    with np.errstate(divide="ignore"):
        log_w = np.log(s)[None, :] - float(decay) * np.log(np.maximum(np.where(reach, minutes, floor), floor))
    log_w = np.where(reach, log_w, -np.inf)
    top = log_w.max(axis=1, keepdims=True)
    dead = ~np.isfinite(top[:, 0])           # reachable cores all of strength 0
    log_w[dead] = np.where(reach[dead], 0.0, -np.inf)
    top[dead] = 0.0
    w = np.exp(log_w - top)
    return w / w.sum(axis=1, keepdims=True)


def attach_by_time(
    minutes: np.ndarray,
    chains: np.ndarray | pd.Series,
    core_positions: np.ndarray,
    core_strength: np.ndarray,
    *,
    attach_max_min: float,
    distance_decay: float,
    min_minutes: float = MIN_HUFF_TRAVEL_MIN,
) -> pd.DataFrame:
    """Attach every non-core zone to a core by Huff probability on travel time.

    As :func:`attach`, with travel minutes (``minutes[z, c]``: zone z ↔ core c, the faster
    direction; NaN when there is no road path) instead of distances, floored at
    ``min_minutes``: P_k = (S_k / t_k^β) / Σ_j (S_j / t_j^β) over the cores the zone can
    reach. A zone takes the most probable core, or the most probable core of its own chain
    within ``attach_max_min`` when there is one; ties go to the core listed first. It is
    ``collaborative_subordinate`` when the chosen core is within ``attach_max_min``
    (inclusive), else ``isolated``.

    Returns
    -------
    DataFrame
        One row per zone (positional): ``core_pos`` (-1 when the zone reaches no core),
        ``core_travel_min`` (0 for cores), ``attach_prob`` (NaN for cores and unreached
        zones), ``same_chain_core``, ``strategy``.
    """
    t = np.asarray(minutes, dtype=float)
    chains, _ = pd.factorize(pd.Series(np.asarray(chains, dtype=object)), use_na_sentinel=False)
    n = len(chains)
    cores = np.asarray(core_positions, dtype=np.int64)
    k = len(cores)
    core_pos = np.arange(n, dtype=np.int64)
    travel = np.zeros(n)
    prob = np.full(n, np.nan)
    same = np.ones(n, dtype=bool)
    strategy = np.full(n, "independent_pole", dtype=object)
    is_core = np.zeros(n, dtype=bool)
    is_core[cores] = True
    periph = np.flatnonzero(~is_core)
    if len(periph):
        core_pos[periph] = -1
        travel[periph] = np.nan
        same[periph] = False
        strategy[periph] = "isolated"
    if k and len(periph):
        tp = t[periph]
        reach = np.isfinite(tp)
        ok = reach.any(axis=1)
        rows = periph[ok]
        tr, rr = tp[ok], reach[ok]
        p = _huff_reachable(core_strength, tr, rr, distance_decay, min_minutes)
        same_chain = chains[rows][:, None] == chains[cores][None, :]
        own = same_chain & rr & (np.where(rr, tr, np.inf) <= attach_max_min + _TIME_TOL)
        has_own = own.any(axis=1)
        pick = np.where(has_own, np.where(own, p, -1.0).argmax(axis=1),
                        np.where(rr, p, -1.0).argmax(axis=1))
        r = np.arange(len(rows))
        core_pos[rows] = cores[pick]
        prob[rows] = p[r, pick]
        same[rows] = same_chain[r, pick]
        travel[rows] = tr[r, pick]
        strategy[rows] = np.where(travel[rows] <= attach_max_min + _TIME_TOL,
                                  "collaborative_subordinate", "isolated")
    return pd.DataFrame({
        "core_pos": core_pos, "core_travel_min": travel, "attach_prob": prob,
        "same_chain_core": same, "strategy": strategy,
    })
