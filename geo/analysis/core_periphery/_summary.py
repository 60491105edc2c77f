"""Summary statistics and tables: Gini, rank–size slope, the score gradient in rings
around the main core, the zone–core links and the per-chain counts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely


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
        **({"travel_min": zones["core_travel_min"].to_numpy()[attached]} if "core_travel_min" in zones else {}),
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
