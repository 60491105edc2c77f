"""Strength score (weighted mean of min–max normalised indicators) and the choice of
cores: the top share of zones, or local Getis–Ord Gi* hot spots."""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely


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


def core_count(n_zones: int, core_share: float, max_cores: int | None = None) -> int:
    """Number of cores of the ``share`` method:
    ``min(max_cores, max(1, round_half_up(core_share * n)))``.

    Halves round up (``0.2 * 12 = 2.4 -> 2``, ``0.25 * 10 = 2.5 -> 3``), never more than
    ``n_zones`` nor ``max_cores`` (a growth pole is one of a few: 0.2 of 2,000 zones
    would be 400 poles).

    Examples
    --------
    >>> core_count(60, 0.2), core_count(2000, 0.2), core_count(2000, 0.2, max_cores=15)
    (12, 400, 15)
    """
    if n_zones <= 0:
        return 0
    count = min(n_zones, max(1, math.floor(core_share * n_zones + 0.5)))
    return int(count if max_cores is None else min(count, max_cores))


def _order(score: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Positions sorted by score descending, then id ascending (deterministic)."""
    return np.lexsort((ids.astype(str), -score))


def select_cores_share(score: pd.Series, core_share: float, max_cores: int | None = None) -> pd.Series:
    """Cores of the ``share`` method: the top ``core_share`` of zones by score.

    Parameters
    ----------
    score : Series
        Strength score; its index holds the zone ids used to break ties.
    core_share : float
        Share of zones that become cores, in (0, 1]. The count is
        :func:`core_count` (at least one core).
    max_cores : int, optional
        Upper bound of the number of cores.

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
    mask[order[: core_count(len(values), core_share, max_cores)]] = True
    return pd.Series(mask, index=score.index, name="core")


def select_cores_hotspot(
    zones: gpd.GeoDataFrame,
    score: pd.Series,
    *,
    band_m: float,
    alpha: float = 0.05,
    permutations: int = 999,
    seed: int | None = 0,
    max_cores: int | None = None,
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
    max_cores : int, optional
        At most this many cores: the strongest of the band leaders.

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
        core = hot & leader
        if max_cores is not None and core.sum() > max_cores:
            kept = order[core[order]][:max_cores]   # strongest leaders first
            core = np.zeros(n, dtype=bool)
            core[kept] = True
        out["core"] = core
    if not out["core"].any():
        top = order[0] if n else None
        if top is not None:
            out.iloc[top, out.columns.get_loc("core")] = True
        out.attrs["fallback"] = True
    return out
