"""Chain summaries: how scattered each chain is, and the district-by-district matrix."""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo.analysis.collaboration._pairs import _text

CHAIN_COLUMNS = [
    "chain", "zones", "districts", "pairs", "share_linked", "mean_nearest_partner_m",
    "standard_distance_m", "fragmentation_rank",
]

MATRIX_COLUMNS = ["district_a", "district_b", "name_a", "name_b", "pairs", "recommended_pairs", "strength"]


def chain_dispersion(frame: pd.DataFrame) -> pd.DataFrame:
    """How scattered each chain is, most fragmented first.

    Parameters
    ----------
    frame : DataFrame
        One row per zone: ``chain``, ``district_id``, ``jobs``, ``x``, ``y``
        (representative point, metres), ``nearest_partner_m``, ``partners_within``.
        Rows with a missing chain are ignored.

    Returns
    -------
    DataFrame
        ``chain``, ``zones``, ``districts`` (distinct districts spanned), ``pairs``
        (cross-district pairs within range = Σ partners_within / 2), ``share_linked``
        (share of zones with a partner within range; 0 when the chain is in one
        district), ``mean_nearest_partner_m`` (NaN when no zone has a partner),
        ``standard_distance_m`` = sqrt(Σ w·((x−x̄)² + (y−ȳ)²) / Σ w) around the
        jobs-weighted mean centre (w = jobs, missing jobs count 0; equal weights when
        the chain has no jobs at all), ``fragmentation_rank`` (1 = most fragmented).
        When ``frame`` has ``nearest_partner_min`` and ``partners_within_min`` (with roads):
        also ``share_linked_min`` (share of zones with a partner within
        ``max_travel_min``) and ``mean_nearest_partner_min`` (mean over the zones that
        have one; NaN when none), after ``mean_nearest_partner_m``.

    Notes
    -----
    Ordering key (most fragmented → most compact): ``standard_distance_m`` descending,
    then ``share_linked`` ascending, then ``mean_nearest_partner_m`` descending (NaN
    last), then ``chain`` name.
    """
    df = pd.DataFrame({
        "chain": _text(frame["chain"]).to_numpy(dtype=object),
        "district_id": _text(frame["district_id"]).to_numpy(dtype=object),
        "w": pd.to_numeric(frame["jobs"], errors="coerce").fillna(0.0).clip(lower=0).to_numpy(float),
        "x": np.asarray(frame["x"], dtype=float),
        "y": np.asarray(frame["y"], dtype=float),
        "near": np.asarray(frame["nearest_partner_m"], dtype=float),
        "within": np.asarray(frame["partners_within"], dtype=float),
    })
    minutes = "nearest_partner_min" in frame and "partners_within_min" in frame
    if minutes:
        df["near_min"] = np.asarray(frame["nearest_partner_min"], dtype=float)
        df["within_min"] = np.asarray(frame["partners_within_min"], dtype=float)
    df = df[df["chain"].notna() & np.isfinite(df["x"]) & np.isfinite(df["y"])]
    if df.empty:
        out = pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(
            CHAIN_COLUMNS, ["str", "int64", "int64", "int64", "float", "float", "float", "int64"])})
        if minutes:
            at = out.columns.get_loc("mean_nearest_partner_m") + 1
            out.insert(at, "share_linked_min", pd.Series(dtype="float"))
            out.insert(at + 1, "mean_nearest_partner_min", pd.Series(dtype="float"))
        return out
    g = df.groupby("chain", sort=True)
    total_w = g["w"].transform("sum")
    w = df["w"].where(total_w > 0, 1.0)
    wsum = w.groupby(df["chain"]).transform("sum")
    cx = (w * df["x"]).groupby(df["chain"]).transform("sum") / wsum
    cy = (w * df["y"]).groupby(df["chain"]).transform("sum") / wsum
    sq = w * ((df["x"] - cx) ** 2 + (df["y"] - cy) ** 2)
    sd = np.sqrt(sq.groupby(df["chain"]).sum() / w.groupby(df["chain"]).sum())
    out = pd.DataFrame({
        "chain": g.size().index.astype("str"),
        "zones": g.size().to_numpy(np.int64),
        "districts": g["district_id"].nunique().to_numpy(np.int64),
        "pairs": (g["within"].sum() // 2).to_numpy(np.int64),
        "share_linked": (df["within"] > 0).groupby(df["chain"]).mean().to_numpy(float),
        "mean_nearest_partner_m": g["near"].mean().to_numpy(float),
        **({"share_linked_min": (df["within_min"] > 0).groupby(df["chain"]).mean().to_numpy(float),
            "mean_nearest_partner_min": g["near_min"].mean().to_numpy(float)} if minutes else {}),
        "standard_distance_m": sd.to_numpy(float),
    })
    out = out.sort_values(
        ["standard_distance_m", "share_linked", "mean_nearest_partner_m", "chain"],
        ascending=[False, True, False, True], na_position="last", kind="mergesort",
    ).reset_index(drop=True)
    out["fragmentation_rank"] = np.arange(1, len(out) + 1, dtype=np.int64)
    return out


def district_matrix(pairs: pd.DataFrame, district_names: dict[str, str] | None = None) -> pd.DataFrame:
    """District × district summary of pairs, in long form, folded.

    Parameters
    ----------
    pairs : DataFrame
        ``district_a``, ``district_b``, ``strength`` and optionally ``recommended``.
    district_names : dict, optional
        district_id → name for the ``name_a`` / ``name_b`` columns (ids when absent).

    Returns
    -------
    DataFrame
        One row per unordered district pair that has at least one zone pair:
        ``district_a < district_b`` (string order; the matrix is symmetric, so each
        cell appears once), ``name_a``, ``name_b``, ``pairs``, ``recommended_pairs``,
        ``strength`` (sum of pair strengths). Sorted by strength descending.
    """
    if len(pairs) == 0:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(
            MATRIX_COLUMNS, ["str", "str", "str", "str", "int64", "int64", "float"])})
    a = pairs["district_a"].to_numpy(dtype=str)
    b = pairs["district_b"].to_numpy(dtype=str)
    lo, hi = np.where(a <= b, a, b), np.where(a <= b, b, a)
    rec = pairs["recommended"].to_numpy(bool) if "recommended" in pairs else np.zeros(len(pairs), bool)
    df = pd.DataFrame({"district_a": lo, "district_b": hi, "rec": rec,
                       "strength": pairs["strength"].to_numpy(float)})
    g = df.groupby(["district_a", "district_b"], sort=True)
    out = pd.DataFrame({
        "pairs": g.size(),
        "recommended_pairs": g["rec"].sum().astype(np.int64),
        "strength": g["strength"].sum(min_count=1),
    }).reset_index()
    names = district_names or {}
    out.insert(2, "name_a", out["district_a"].map(lambda d: names.get(d, d)).astype("str"))
    out.insert(3, "name_b", out["district_b"].map(lambda d: names.get(d, d)).astype("str"))
    out = out.astype({"district_a": "str", "district_b": "str", "pairs": "int64"})
    out = out.sort_values(["strength", "district_a", "district_b"], ascending=[False, True, True],
                          na_position="last", kind="mergesort").reset_index(drop=True)
    return out[MATRIX_COLUMNS]
