"""Core–periphery layout: growth poles and the periphery zones that attach to them.

"The core leads, the periphery takes up" (中心引领带动 + 外围承接协同): a few strong
zones act as growth poles (*independent poles*); the other zones attach to one of them
as collaborating sites (*collaborative subordinates*) or, when no core is in reach,
are *isolated*.

Steps (DESIGN.md, "Core–periphery"):

1. :func:`strength_score` – weighted mean of min–max normalised indicators.
2. Cores – :func:`select_cores_share` (``method: share``, the top ``core_share`` of
   zones) or :func:`select_cores_hotspot` (``method: hotspot``, local Getis–Ord Gi*).
3. :func:`attach` – each periphery zone picks a core by Huff probability
   (:func:`huff_probabilities`), preferring a core of its own chain in reach.
4. Summary figures – :func:`gini`, :func:`rank_size_slope`, primacy, per-chain counts
   and the score gradient in rings around the main core.

Which core method to use
------------------------
``share`` is the default and the easiest to explain: "the strongest 20 % of zones are
poles". It always yields ``max(1, round(core_share * n))`` cores, wherever they lie, so
two strong neighbouring zones can both be cores. ``hotspot`` asks a spatial question:
a core is a zone inside a statistically significant cluster of high scores (Gi* hot
spot) that is the strongest zone of its neighbourhood (``hotspot_band_m``). It yields at
most one core per neighbourhood and none in areas without a significant cluster; use it
for large studies (dozens of zones or more) where poles should be spatially distinct.
With few zones the permutation test has little power and the method falls back to the
single strongest zone (with a warning).

Conventions
-----------
* Distances are in metres in the working (projected) CRS; zone-to-core distances are
  boundary to boundary (0 when zones touch or overlap).
* Huff distances are floored at :data:`MIN_HUFF_DISTANCE_M` (1,000 m) so that touching
  zones get a finite attraction; ``core_distance_m`` reports the true distance.
* Missing values of a partly-missing indicator count as the indicator's minimum
  (0 after normalising): no evidence of strength is treated as the weakest value.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

import geopandas as gpd

from geo._errors import CRSError
from geo._types import AnalysisResult, Study
from geo.schema import INDICATORS

log = logging.getLogger(__name__)

NAME = "core_periphery"

#: Floor of the zone-to-core distance inside the Huff formula (metres).
MIN_HUFF_DISTANCE_M = 1000.0
#: Width of the score-gradient rings around the main core (metres).
RING_WIDTH_M = 5000.0
#: Above this many (periphery zone x core) pairs, far pairs use a distance estimate.
MAX_EXACT_PAIRS = 250_000
#: In estimate mode, each zone still gets exact distances to this many nearest cores.
EXACT_NEAREST = 16

STRATEGIES = ("independent_pole", "collaborative_subordinate", "isolated")


# ---------------------------------------------------------------------------
# strength score


@dataclass
class ScoreDetail:
    """Everything :func:`strength_score` decided, for the summary and run.json."""

    score: pd.Series
    used: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    reasons: dict[str, str] = field(default_factory=dict)
    weights: dict[str, float] = field(default_factory=dict)
    """Renormalised weights of the used indicators (sum to 1)."""
    partly_missing: dict[str, int] = field(default_factory=dict)
    """Indicator -> number of zones whose missing value counted as the minimum."""


def score_detail(zones: pd.DataFrame, weights: Mapping[str, float]) -> ScoreDetail:
    """Strength score with the full record of used and dropped indicators.

    See :func:`strength_score` for the definition.
    """
    used: list[str] = []
    dropped: list[str] = []
    reasons: dict[str, str] = {}
    partly: dict[str, int] = {}
    columns: dict[str, np.ndarray] = {}
    for name, weight in weights.items():
        w = float(weight)
        if not w > 0:
            dropped.append(name)
            reasons[name] = "weight is 0"
            continue
        if name not in zones.columns:
            dropped.append(name)
            reasons[name] = "column absent"
            continue
        values = pd.to_numeric(zones[name], errors="coerce").to_numpy(dtype=float)
        finite = np.isfinite(values)
        if not finite.any():
            dropped.append(name)
            reasons[name] = "missing in every zone"
            continue
        lo, hi = values[finite].min(), values[finite].max()
        if hi == lo:
            dropped.append(name)
            reasons[name] = f"constant ({lo:g}) in every zone that has a value"
            continue
        if not finite.all():
            partly[name] = int((~finite).sum())
        columns[name] = np.where(finite, (values - lo) / (hi - lo), 0.0)
        used.append(name)

    total = sum(float(weights[n]) for n in used)
    renorm = {n: float(weights[n]) / total for n in used}
    if used:
        score = np.zeros(len(zones))
        for n in used:
            score += renorm[n] * columns[n]
    else:
        # nothing differentiates the zones: every zone is equally strong
        score = np.ones(len(zones))
    return ScoreDetail(
        score=pd.Series(score, index=zones.index, name="score"),
        used=used, dropped=dropped, reasons=reasons, weights=renorm, partly_missing=partly,
    )


def strength_score(
    zones: pd.DataFrame, weights: Mapping[str, float]
) -> tuple[pd.Series, list[str], list[str]]:
    """Strength score of each zone: weighted mean of min–max normalised indicators.

    Each indicator ``x`` with weight > 0 is normalised to ``(x - min) / (max - min)``
    over the zones that have a value; a zone with a missing value gets 0 (the
    indicator's minimum). Indicators with weight 0, absent, missing in every zone or
    constant are dropped and the remaining weights renormalised to sum to 1. When no
    indicator is left, every zone scores 1.0 (all equally strong).

    Parameters
    ----------
    zones : DataFrame
        Zones with indicator columns (e.g. ``jobs``, ``output``).
    weights : mapping of str to float
        Indicator name -> non-negative weight.

    Returns
    -------
    score : Series
        Float in [0, 1] on the index of ``zones``, named ``score``.
    used : list of str
        Indicators that entered the score, in the order of ``weights``.
    dropped : list of str
        Indicators left out (weight 0, absent, all missing or constant).

    Examples
    --------
    >>> df = pd.DataFrame({"jobs": [0.0, 50.0, 100.0], "firms": [1.0, 1.0, 1.0]})
    >>> score, used, dropped = strength_score(df, {"jobs": 1, "firms": 1})
    >>> score.tolist(), used, dropped
    ([0.0, 0.5, 1.0], ['jobs'], ['firms'])
    """
    d = score_detail(zones, weights)
    return d.score, d.used, d.dropped


# ---------------------------------------------------------------------------
# cores


def core_count(n_zones: int, core_share: float) -> int:
    """Number of cores of the ``share`` method: ``max(1, round_half_up(core_share * n))``.

    Halves round up (``0.2 * 12 = 2.4 -> 2``, ``0.25 * 10 = 2.5 -> 3``), never more than
    ``n_zones``.
    """
    if n_zones <= 0:
        return 0
    return int(min(n_zones, max(1, math.floor(core_share * n_zones + 0.5))))


def _order(score: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Positions sorted by score descending, then id ascending (deterministic)."""
    return np.lexsort((ids.astype(str), -score))


def select_cores_share(score: pd.Series, core_share: float) -> pd.Series:
    """Cores of the ``share`` method: the top ``core_share`` of zones by score.

    Parameters
    ----------
    score : Series
        Strength score; its index holds the zone ids used to break ties.
    core_share : float
        Share of zones that become cores, in (0, 1]. The count is
        :func:`core_count` (at least one core).

    Returns
    -------
    Series of bool
        True for cores, on the index of ``score``. Ties are broken by score
        descending, then zone id ascending.

    Examples
    --------
    >>> s = pd.Series([0.5, 0.9, 0.9, 0.1], index=["d", "c", "b", "a"])
    >>> select_cores_share(s, 0.5).tolist()
    [False, True, True, False]
    """
    values = score.to_numpy(dtype=float)
    order = _order(values, score.index.to_numpy())
    mask = np.zeros(len(values), dtype=bool)
    mask[order[: core_count(len(values), core_share)]] = True
    return pd.Series(mask, index=score.index, name="core")


def select_cores_hotspot(
    zones: gpd.GeoDataFrame,
    score: pd.Series,
    *,
    band_m: float,
    alpha: float = 0.05,
    permutations: int = 999,
    seed: int | None = 0,
) -> pd.DataFrame:
    """Cores of the ``hotspot`` method: local Getis–Ord Gi* hot spots that lead their band.

    Weights are binary distance-band weights (``libpysal.weights.DistanceBand``,
    threshold ``band_m``) between the zones' representative points, with the zone
    itself included (Gi*). A zone is a *hot spot* when its Gi* is significant
    (pseudo p-value ``p_sim < alpha`` from ``permutations`` conditional permutations,
    esda's one-tailed "directed" test; the analytical normal p-value when
    ``permutations`` is 0), its z-score is positive and at least one other zone lies
    within ``band_m`` (an island is no cluster; esda gives it the smallest possible
    pseudo p-value whatever its score). A hot spot is a *core* when no other zone
    within ``band_m`` has a higher score (ties: the lower zone id wins). When no zone
    qualifies (or fewer than three zones, or all scores equal) the single strongest
    zone is the core and ``result.attrs["fallback"]`` is True.

    Parameters
    ----------
    zones : GeoDataFrame
        Zones in a projected metre CRS; ``zone_id`` breaks ties (index otherwise).
    score : Series
        Strength score on the index of ``zones``.
    band_m : float
        Distance band of the weights, metres.
    alpha : float
        Significance level.
    permutations : int
        Number of permutations of esda's conditional randomisation.
    seed : int or None
        Seed of the permutations (reproducible results).

    Returns
    -------
    DataFrame
        On the index of ``zones``: ``gi_z`` (Gi* z-score), ``gi_p`` (p-value used),
        ``hotspot`` (bool) and ``core`` (bool).
    """
    from esda.getisord import G_Local
    from libpysal.weights import DistanceBand, fill_diagonal

    n = len(zones)
    values = score.to_numpy(dtype=float)
    ids = zones["zone_id"].to_numpy() if "zone_id" in zones.columns else zones.index.to_numpy()
    order = _order(values, ids)
    out = pd.DataFrame(
        {"gi_z": np.nan, "gi_p": np.nan, "hotspot": False, "core": False}, index=zones.index
    )
    out.attrs["fallback"] = False
    if n >= 3 and np.ptp(values) > 0:
        pts = shapely.get_coordinates(shapely.point_on_surface(zones.geometry.to_numpy()))
        with warnings.catch_warnings():
            # Silenced here, for PySAL only: islands / disconnected components (normal
            # for zones; UserWarning), degenerate variances (RuntimeWarning, handled
            # through NaN below) and esda's notice that the default alternative of its
            # permutation test will change (DeprecationWarning; we keep 'directed').
            for category in (UserWarning, RuntimeWarning, DeprecationWarning, FutureWarning):
                warnings.filterwarnings("ignore", category=category, module=r"(esda|libpysal)(\..*)?")
            w = DistanceBand(pts, threshold=float(band_m), binary=True, silence_warnings=True)
            w = fill_diagonal(w, 1.0)
            g = G_Local(values, w, transform="B", star=True, permutations=int(permutations),
                        seed=seed, n_jobs=1, keep_simulations=False)
        z = np.asarray(g.Zs, dtype=float)
        p = np.asarray(g.p_sim if permutations else g.p_norm, dtype=float)
        hot = np.isfinite(z) & np.isfinite(p) & (p < alpha) & (z > 0)
        # leader of its band: its position in the total order beats every neighbour's
        position = np.empty(n, dtype=np.int64)
        position[order] = np.arange(n)
        sparse = w.sparse.tocsr()
        sparse.setdiag(0)
        sparse.eliminate_zeros()
        best_neighbour = np.full(n, n, dtype=np.int64)
        counts = np.diff(sparse.indptr)
        has = counts > 0
        if has.any():
            mins = np.minimum.reduceat(position[sparse.indices], sparse.indptr[:-1][has])
            best_neighbour[has] = mins
        leader = position < best_neighbour
        # an island (no other zone within the band) is no cluster: its Gi* is its own
        # value and esda's permutation p-value is degenerate (always the minimum)
        hot &= has
        out["gi_z"] = z
        out["gi_p"] = p
        out["hotspot"] = hot
        out["core"] = hot & leader
    if not out["core"].any():
        top = order[0] if n else None
        if top is not None:
            out.iloc[top, out.columns.get_loc("core")] = True
        out.attrs["fallback"] = True
    return out


# ---------------------------------------------------------------------------
# Huff attachment


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
                need = upper > attach_max_m
                need &= upper <= attach_max_m + reach[rows][:, None] + core_reach[None, :]
                need &= same_chain
                if nearest is None:
                    need[:] = True
                else:
                    need[np.arange(len(rows))[:, None], nearest[start:start + len(rows)]] = True
                ri, ci = np.nonzero(need)
                d[ri, ci] = shapely.distance(geoms[rows[ri]], core_geoms[ci])
            p = huff_probabilities(strength, d, distance_decay, min_distance_m=min_distance_m)
            own = same_chain & (d <= attach_max_m)
            has_own = own.any(axis=1)
            pick = np.where(has_own, np.where(own, p, -1.0).argmax(axis=1), p.argmax(axis=1))
            r = np.arange(len(rows))
            core_pos[rows] = cores[pick]
            prob[rows] = p[r, pick]
            same[rows] = same_chain[r, pick]
            dist[rows] = d[r, pick]
        if not exact_all:  # the chosen core's distance is always exact
            dist[periph] = shapely.distance(geoms[periph], geoms[core_pos[periph]])
        strategy[periph] = np.where(dist[periph] <= attach_max_m,
                                    "collaborative_subordinate", "isolated")
    return pd.DataFrame({
        "core_pos": core_pos, "core_distance_m": dist, "attach_prob": prob,
        "same_chain_core": same, "strategy": strategy,
    })


# ---------------------------------------------------------------------------
# summary figures


def gini(values: Sequence[float] | np.ndarray) -> float:
    """Gini coefficient ``Σ_i Σ_j |x_i - x_j| / (2 n² x̄)`` of non-negative values.

    Computed in O(n log n) from the sorted values. NaNs are ignored. Returns 0.0 for a
    single value and NaN for no values or a zero sum.

    Examples
    --------
    >>> gini([1, 1, 1, 1])
    0.0
    >>> gini([0, 0, 0, 1])
    0.75
    """
    x = np.sort(np.asarray(values, dtype=float))
    x = x[np.isfinite(x)]
    n = len(x)
    if n == 0 or x.sum() <= 0:
        return float("nan")
    i = np.arange(1, n + 1)
    return float(2.0 * np.sum(i * x) / (n * x.sum()) - (n + 1.0) / n)


def rank_size_slope(values: Sequence[float] | np.ndarray) -> float:
    """Rank–size slope: OLS slope of ``log(score)`` on ``log(rank)``.

    Ranks are 1, 2, ... in descending order of value (ties take consecutive ranks);
    only values > 0 enter. A slope near -1 is Zipf's law; closer to 0 means a flatter,
    more balanced system; steeper means one dominant pole. NaN when fewer than two
    values are > 0.

    Examples
    --------
    >>> round(rank_size_slope([1.0, 1 / 2, 1 / 3, 1 / 4]), 6)
    -1.0
    """
    x = np.asarray(values, dtype=float)
    x = np.sort(x[np.isfinite(x) & (x > 0)])[::-1]
    if len(x) < 2:
        return float("nan")
    lr = np.log(np.arange(1, len(x) + 1))
    lx = np.log(x)
    lr_c = lr - lr.mean()
    return float(np.sum(lr_c * (lx - lx.mean())) / np.sum(lr_c * lr_c))


def _gradient(distance_m: np.ndarray, score: np.ndarray, width_m: float) -> pd.DataFrame:
    """Mean score in rings ``[i*w, (i+1)*w)`` of distance from the main core."""
    cols = ["ring_from_m", "ring_to_m", "zones", "mean_score", "median_score"]
    if len(distance_m) == 0:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in cols}).astype({"zones": "int64"})
    ring = np.floor(distance_m / width_m).astype(np.int64)
    n_rings = int(ring.max()) + 1
    frame = pd.DataFrame({"ring": ring, "score": score})
    grouped = frame.groupby("ring")["score"]
    out = pd.DataFrame({"ring": np.arange(n_rings)})
    out["ring_from_m"] = out["ring"] * width_m
    out["ring_to_m"] = (out["ring"] + 1) * width_m
    out["zones"] = out["ring"].map(grouped.size()).fillna(0).astype("int64")
    out["mean_score"] = out["ring"].map(grouped.mean())
    out["median_score"] = out["ring"].map(grouped.median())
    return out[cols]


def _links_table(zones: gpd.GeoDataFrame, geoms: np.ndarray, core_pos: np.ndarray,
                 crs: Any) -> gpd.GeoDataFrame:
    """Lines from each attached zone's representative point to its core's."""
    attached = np.flatnonzero(zones["strategy"].to_numpy() == "collaborative_subordinate")
    ids = zones["zone_id"].to_numpy()
    if len(attached):
        rep = shapely.point_on_surface(np.asarray(geoms, dtype=object))
        a = shapely.get_coordinates(rep[attached])
        b = shapely.get_coordinates(rep[core_pos[attached]])
        lines = shapely.linestrings(np.stack([a, b], axis=1))
    else:
        lines = np.array([], dtype=object)
    return gpd.GeoDataFrame({
        "zone_id": ids[attached],
        "core_id": ids[core_pos[attached]],
        "chain": zones["chain"].to_numpy()[attached],
        "distance_m": zones["core_distance_m"].to_numpy()[attached],
        "attach_prob": zones["attach_prob"].to_numpy()[attached],
        "same_chain_core": zones["same_chain_core"].to_numpy()[attached],
    }, geometry=lines, crs=crs)


def _chain_table(zones: pd.DataFrame) -> pd.DataFrame:
    """Per chain: zones, cores, periphery zones, attached and isolated ones."""
    strategy = zones["strategy"]
    return pd.DataFrame({
        "chain": zones["chain"],
        "zones": 1,
        "cores": (zones["role"] == "core").astype(int),
        "periphery": (zones["role"] == "periphery").astype(int),
        "attached": (strategy == "collaborative_subordinate").astype(int),
        "isolated": (strategy == "isolated").astype(int),
    }).groupby("chain", sort=True).sum().reset_index()


def _json_float(value: float) -> float | None:
    return None if value is None or not np.isfinite(value) else float(value)


# ---------------------------------------------------------------------------
# the analysis


def run(study: Study, settings: Any) -> AnalysisResult:
    """Run the core–periphery analysis on ``study.zones``.

    Parameters
    ----------
    study : Study
        Validated inputs; ``zones`` in a projected metre CRS with canonical fields.
    settings : Settings or CorePeripherySettings
        The run's settings (its ``core_periphery`` section is used).

    Returns
    -------
    AnalysisResult
        ``tables``: ``core_periphery_zones`` (polygons), ``core_periphery_links``
        (lines periphery → core, attached zones only), ``core_periphery_summary`` (one
        row), ``core_periphery_chains`` (per chain), ``core_periphery_gradient`` (score
        in 5 km rings around the main core, the main core itself left out).
        ``summary``: JSON-serialisable key figures. ``warnings``: messages for the user.

    Notes
    -----
    * ``primacy`` = score of the main core (the highest-ranked core) / sum of the
      scores of all cores: 1 with a single core, ``1/k`` with ``k`` equal cores.
    * ``gini`` is over the scores of all zones (:func:`gini`); ``rank_size_slope`` over
      all zones with a score > 0 (:func:`rank_size_slope`).
    * Cores have ``core_id`` = their own id, ``core_distance_m`` = 0, ``attach_prob``
      missing and ``periphery_count`` = number of zones attached to them (isolated
      zones not counted). Isolated zones report their most probable core and its
      distance but get no link line.
    * ``rank`` orders all zones by score (descending, ties by zone id), 1 = strongest.
    """
    cfg = getattr(settings, "core_periphery", settings)
    zones = study.zones
    crs = zones.crs
    if crs is None or not crs.is_projected:
        raise CRSError(
            f"core_periphery: zones must be in a projected CRS in metres (got {crs}); "
            "reproject at load (crs.working)"
        )
    warn: list[str] = []
    n = len(zones)
    ids = zones["zone_id"].astype(str).to_numpy()
    geoms = zones.geometry.to_numpy()

    detail = score_detail(zones, cfg.weights)
    score = detail.score.to_numpy(dtype=float)
    lost = [f"{name} ({detail.reasons[name]})" for name in detail.dropped
            if cfg.weights.get(name, 0) > 0]
    if lost:
        warn.append(f"core_periphery: indicators dropped from the score: {', '.join(lost)}; "
                    f"weights renormalised over {', '.join(detail.used) or 'none'}")
    for name, count in detail.partly_missing.items():
        warn.append(f"core_periphery: indicator {name!r} missing in {count} of {n} zones; "
                    "missing values count as the minimum")
    if n and not detail.used:
        warn.append("core_periphery: no usable indicator; every zone scores 1.0 "
                    "(cores are chosen by zone id)")

    order = _order(score, ids)
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(1, n + 1)

    hotspot = None
    if cfg.method == "hotspot":
        band_m = cfg.hotspot_band_m or cfg.attach_max_m / 2.0
        hotspot = select_cores_hotspot(
            zones.assign(zone_id=ids), pd.Series(score, index=zones.index), band_m=band_m,
            alpha=cfg.hotspot_alpha, permutations=cfg.permutations, seed=cfg.seed,
        )
        is_core = hotspot["core"].to_numpy()
        if hotspot.attrs.get("fallback") and n:
            warn.append(
                f"core_periphery: no significant Gi* hot spot (band {band_m:g} m, "
                f"alpha {cfg.hotspot_alpha}); the strongest zone {ids[order[0]]!r} is the only core"
            )
    else:
        is_core = select_cores_share(pd.Series(score, index=ids), cfg.core_share).to_numpy()

    core_positions = order[is_core[order]]  # by rank
    att = attach(geoms, zones["chain"].to_numpy(), core_positions, score[core_positions],
                 attach_max_m=cfg.attach_max_m, distance_decay=cfg.distance_decay)
    core_pos = att["core_pos"].to_numpy()
    periphery_count = np.bincount(core_pos[~is_core & (att["strategy"].to_numpy() != "isolated")],
                                  minlength=n)

    out = gpd.GeoDataFrame({
        "zone_id": ids,
        "name": zones["name"].to_numpy(),
        "chain": zones["chain"].to_numpy(),
        "district_id": zones["district_id"].to_numpy() if "district_id" in zones else None,
        "score": score,
        "rank": rank,
        "role": np.where(is_core, "core", "periphery"),
        "core_id": ids[core_pos] if n else np.array([], dtype=object),
        "core_distance_m": att["core_distance_m"].to_numpy(),
        "attach_prob": att["attach_prob"].to_numpy(),
        "strategy": att["strategy"].to_numpy(),
        "same_chain_core": att["same_chain_core"].to_numpy(),
        "periphery_count": np.where(is_core, periphery_count, 0).astype(np.int64),
    }, geometry=np.asarray(geoms, dtype=object), crs=crs, index=pd.RangeIndex(n))
    if "role" in zones.columns:
        out.insert(4, "zone_role", zones["role"].to_numpy())
    for name in INDICATORS:  # raw indicators, for popups and QGIS attribute tables
        if name in zones.columns:
            out[name] = pd.to_numeric(zones[name], errors="coerce").to_numpy(dtype=float)
    if hotspot is not None:
        out["gi_z"] = hotspot["gi_z"].to_numpy()
        out["gi_p"] = hotspot["gi_p"].to_numpy()
        out["hotspot"] = hotspot["hotspot"].to_numpy()

    links = _links_table(out, geoms, core_pos, crs)
    chains = _chain_table(out)
    # gradient around the main core
    if len(core_positions):
        main = core_positions[0]
        to_main = shapely.distance(np.asarray(geoms, dtype=object), geoms[main])
        others = np.arange(n) != main
        gradient = _gradient(to_main[others], score[others], RING_WIDTH_M)
    else:
        main = None
        gradient = _gradient(np.array([]), np.array([]), RING_WIDTH_M)

    core_scores = score[core_positions]
    primacy = float("nan")
    if len(core_scores) and core_scores.sum() > 0:
        primacy = float(core_scores[0] / core_scores.sum())
    g = gini(score)
    slope = rank_size_slope(score)
    counts = out["strategy"].value_counts()
    summary_row = {
        "n_zones": n,
        "n_cores": int(is_core.sum()),
        "n_attached": int(counts.get("collaborative_subordinate", 0)),
        "n_isolated": int(counts.get("isolated", 0)),
        "main_core_id": ids[main] if main is not None else None,
        "primacy": primacy,
        "gini": g,
        "rank_size_slope": slope,
        "method": cfg.method,
        "indicators_used": ";".join(detail.used),
        "indicators_dropped": ";".join(detail.dropped),
        "attach_max_m": float(cfg.attach_max_m),
        "distance_decay": float(cfg.distance_decay),
        "min_huff_distance_m": MIN_HUFF_DISTANCE_M,
    }
    summary_table = pd.DataFrame([summary_row])
    summary_table["indicators_used"] = summary_table["indicators_used"].replace("", None)
    summary_table["indicators_dropped"] = summary_table["indicators_dropped"].replace("", None)

    names = zones["name"].to_numpy(dtype=object)
    chain_values = zones["chain"].to_numpy(dtype=object)
    summary = {
        "n_zones": n,
        "n_cores": summary_row["n_cores"],
        "n_attached": summary_row["n_attached"],
        "n_isolated": summary_row["n_isolated"],
        "primacy": _json_float(primacy),
        "gini": _json_float(g),
        "rank_size_slope": _json_float(slope),
        "method": cfg.method,
        "core_share": float(cfg.core_share),
        "indicators_used": list(detail.used),
        "indicators_dropped": {k: detail.reasons[k] for k in detail.dropped},
        "indicators_partly_missing": dict(detail.partly_missing),
        "weights": {k: float(v) for k, v in detail.weights.items()},
        "min_huff_distance_m": MIN_HUFF_DISTANCE_M,
        "cores": [
            {"zone_id": str(ids[p]), "name": None if pd.isna(names[p]) else str(names[p]),
             "chain": str(chain_values[p]), "score": float(score[p]),
             "periphery_count": int(periphery_count[p])}
            for p in core_positions
        ],
        "chains": chains.to_dict(orient="records"),
        "gradient": [
            {"ring_from_m": float(r.ring_from_m), "ring_to_m": float(r.ring_to_m),
             "zones": int(r.zones), "mean_score": _json_float(r.mean_score)}
            for r in gradient.itertuples()
        ],
    }
    if cfg.method == "hotspot":
        summary["hotspot_band_m"] = float(cfg.hotspot_band_m or cfg.attach_max_m / 2.0)
        summary["hotspot_fallback"] = bool(hotspot.attrs.get("fallback"))
    log.info("core_periphery: %d zones, %d cores (%s), %d attached, %d isolated",
             n, summary_row["n_cores"], cfg.method, summary_row["n_attached"],
             summary_row["n_isolated"])
    return AnalysisResult(
        name=NAME,
        tables={
            "core_periphery_zones": out,
            "core_periphery_links": links,
            "core_periphery_summary": summary_table,
            "core_periphery_chains": chains,
            "core_periphery_gradient": gradient,
        },
        summary=summary,
        warnings=warn,
    )


__all__ = [
    "INDICATORS", "MIN_HUFF_DISTANCE_M", "RING_WIDTH_M", "attach", "core_count", "gini",
    "huff_probabilities", "rank_size_slope", "run", "score_detail", "select_cores_hotspot",
    "select_cores_share", "strength_score",
]
