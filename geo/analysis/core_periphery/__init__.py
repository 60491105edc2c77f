"""Core–periphery layout: growth poles and the periphery zones that attach to them.

"The core leads, the periphery takes up" (中心引领带动 + 外围承接协同): a few strong
zones act as growth poles (*independent poles*); the other zones attach to one of them
as collaborating sites (*collaborative subordinates*) or, when no core is in reach,
are *isolated*.

Steps (docs/analyses.md, section 3):

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

Modules
-------
``_scores``      strength score and core selection (share, Gi* hot spots)
``_attachment``  Huff probabilities and the attachment of periphery zones to cores
``_summary``     Gini, rank–size slope, score gradient, links and per-chain tables
"""

from __future__ import annotations

import logging
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo._errors import CRSError
from geo._types import AnalysisResult, Study
from geo.analysis.core_periphery._attachment import (
    EXACT_NEAREST,
    MAX_EXACT_PAIRS,
    MIN_HUFF_DISTANCE_M,
    MIN_HUFF_TRAVEL_MIN,
    attach,
    attach_by_time,
    huff_probabilities,
)
from geo.analysis.core_periphery._scores import (
    ScoreDetail,
    _order,
    core_count,
    score_detail,
    select_cores_hotspot,
    select_cores_share,
    strength_score,
)
from geo.analysis.core_periphery._summary import (
    _chain_table,
    _gradient,
    _json_float,
    _links_table,
    gini,
    rank_size_slope,
)
from geo.analysis.core_periphery._territories import TERRITORY_BUFFER_M, pole_territories, territory_buffer_m
from geo.schema import INDICATORS

log = logging.getLogger(__name__)


NAME = "core_periphery"

#: Width of the score-gradient rings around the main core (metres).
RING_WIDTH_M = 5000.0

STRATEGIES = ("independent_pole", "collaborative_subordinate", "isolated")


def _attach_on_roads(att: pd.DataFrame, graph: Any, geoms: np.ndarray, chains: np.ndarray,
                     core_positions: np.ndarray, core_strength: np.ndarray, cfg: Any,
                     settings: Any) -> pd.DataFrame:
    """Attachment by travel time (DESIGN.md "Roads and travel time"), the straight-line
    attachment ``att`` kept for zones that reach no core by road.

    Travel time zone ↔ core = the faster direction of "travel time between two
    workplaces"; zones × cores in two searches per core (:func:`geo.network.linked_minutes`).
    """
    from geo.network import default_jobs, linked_minutes

    ns = getattr(settings, "network", None)
    access_kmh = ns.access_speed_kmh if ns is not None else 5.0
    max_access_m = ns.max_access_m if ns is not None else 1000.0
    geoms = np.asarray(geoms, dtype=object)
    k = len(core_positions)
    zz, cc = np.meshgrid(np.arange(len(geoms)), np.arange(k), indexing="ij")
    minutes = linked_minutes(graph, geoms, geoms[core_positions], np.column_stack([zz.ravel(), cc.ravel()]),
                             access_speed_kmh=access_kmh, max_access_m=max_access_m,
                             n_jobs=default_jobs()).reshape(len(geoms), k)
    by_time = attach_by_time(minutes, chains, core_positions, core_strength,
                             attach_max_min=float(cfg.attach_max_min), distance_decay=cfg.distance_decay)
    reached = by_time["core_pos"].to_numpy() >= 0
    out = att.copy()
    for col in ("core_pos", "attach_prob", "same_chain_core"):
        out[col] = np.where(reached, by_time[col].to_numpy(), att[col].to_numpy())
    out["strategy"] = by_time["strategy"].to_numpy()
    core_pos = out["core_pos"].to_numpy()
    out["core_distance_m"] = shapely.distance(geoms, geoms[core_pos])
    out.insert(out.columns.get_loc("core_distance_m") + 1, "core_travel_min", by_time["core_travel_min"].to_numpy())
    return out


def _minutes_summary(zones: pd.DataFrame, cfg: Any) -> dict[str, Any]:
    """Summary figures of the attachment by travel time."""
    periph = zones[zones["role"] == "periphery"]
    t = periph["core_travel_min"].dropna()
    return {
        "attach_max_min": float(cfg.attach_max_min),
        "min_huff_travel_min": MIN_HUFF_TRAVEL_MIN,
        "median_core_travel_min": _json_float(t.median()) if len(t) else None,
        "n_without_road_path": int(periph["core_travel_min"].isna().sum()),
    }


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
    * With roads (``study.network``): Huff on travel time (zone ↔ core, the faster
      direction, floored at :data:`MIN_HUFF_TRAVEL_MIN`), the same-chain preference and
      ``isolated`` by ``attach_max_min``; ``core_travel_min`` (zones) and ``travel_min``
      (links) are added, ``core_distance_m`` is the straight-line distance to the core
      chosen by time. A zone with no road path to any core is isolated and reports its
      most probable core by straight line (``core_travel_min`` empty).
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
            max_cores=cfg.max_cores,
        )
        is_core = hotspot["core"].to_numpy()
        if hotspot.attrs.get("fallback") and n:
            warn.append(
                f"core_periphery: no significant Gi* hot spot (band {band_m:g} m, "
                f"alpha {cfg.hotspot_alpha}); the strongest zone {ids[order[0]]!r} is the only core"
            )
    else:
        is_core = select_cores_share(pd.Series(score, index=ids), cfg.core_share, cfg.max_cores).to_numpy()

    core_positions = order[is_core[order]]  # by rank
    att = attach(geoms, zones["chain"].to_numpy(), core_positions, score[core_positions],
                 attach_max_m=cfg.attach_max_m, distance_decay=cfg.distance_decay)
    graph = getattr(study, "network", None)
    if graph is not None and len(core_positions):
        att = _attach_on_roads(att, graph, geoms, zones["chain"].to_numpy(), core_positions,
                               score[core_positions], cfg, settings)
        unreached = int(((att["strategy"] == "isolated") & att["core_travel_min"].isna()).sum())
        if unreached:
            warn.append(f"core_periphery: {unreached} periphery zone(s) have no road path to any core "
                        "(no road node within network.max_access_m, or a separate piece of the network); "
                        "they are isolated and report their most probable core by straight line")
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
        **({"core_travel_min": att["core_travel_min"].to_numpy()} if "core_travel_min" in att else {}),
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
        **({"attach_max_min": float(cfg.attach_max_min), "min_huff_travel_min": MIN_HUFF_TRAVEL_MIN}
           if "core_travel_min" in att else {}),
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
        "max_cores": int(cfg.max_cores),
        "cores_capped": bool(cfg.method == "share"
                             and core_count(n, cfg.core_share) > core_count(n, cfg.core_share, cfg.max_cores)),
        "indicators_used": list(detail.used),
        "indicators_dropped": {k: detail.reasons[k] for k in detail.dropped},
        "indicators_partly_missing": dict(detail.partly_missing),
        "weights": {k: float(v) for k, v in detail.weights.items()},
        "min_huff_distance_m": MIN_HUFF_DISTANCE_M,
        "attach_by": "travel_time" if "core_travel_min" in att else "distance",
        **(_minutes_summary(out, cfg) if "core_travel_min" in att else {}),
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
    "EXACT_NEAREST", "INDICATORS", "MAX_EXACT_PAIRS", "MIN_HUFF_DISTANCE_M", "MIN_HUFF_TRAVEL_MIN", "NAME", "RING_WIDTH_M", "STRATEGIES",
    "ScoreDetail", "TERRITORY_BUFFER_M", "attach", "attach_by_time", "core_count", "gini", "huff_probabilities",
    "pole_territories", "rank_size_slope", "run", "score_detail", "select_cores_hotspot", "select_cores_share",
    "strength_score", "territory_buffer_m",
]
