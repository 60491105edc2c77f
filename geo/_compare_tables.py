"""The pure part of ``zoneatlas compare``: two runs' tables in, compared tables out.

:func:`compare_table` joins one table of two runs on its ids and describes every change;
:func:`table_key` picks the ids; :func:`summary_indicators` and :func:`config_differences`
set two run.json files side by side. Nothing here touches files except :func:`read_table`,
which reads one ``tables/<name>.csv`` the way the comparison expects it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

STATUSES = ("same", "changed", "added", "removed")

#: Join keys of the tables zoneatlas writes (tables not listed get a key derived from
#: their columns, see :func:`table_key`). An empty key: a one-row table, joined by row.
TABLE_KEYS: dict[str, tuple[str, ...]] = {
    "districts": ("district_id",), "zones": ("zone_id",), "innovation_districts": ("innov_id",),
    "housing": ("housing_id",), "firms": ("firm_id",), "employment": ("employment_id",),
    "roads": ("road_id",),
    "balance_workplaces": ("workplace_id",), "balance_districts": ("district_id",),
    "balance_landuse": ("workplace_id",), "balance_isochrones": ("workplace_id",),
    "collaboration_pairs": ("zone_a", "zone_b"), "collaboration_zones": ("zone_id",),
    "collaboration_chains": ("chain",), "collaboration_matrix": ("district_a", "district_b"),
    "core_periphery_zones": ("zone_id",), "core_periphery_links": ("zone_id",),
    "core_periphery_chains": ("chain",), "core_periphery_gradient": ("ring_from_m", "ring_to_m"),
    "core_periphery_summary": (),
    "chain_roles": ("chain", "role"), "chain_completeness": ("chain",), "chain_gaps": ("chain", "role"),
    "chain_lq": ("district_id", "chain"), "leader_firms": ("firm_id",),
    "commuting_workplaces": ("workplace_id",), "commuting_districts": ("district_id",),
    "commuting_flows": ("district_a", "district_b"), "commuting_summary": (),
    "commuting_sheds": ("workplace_id", "cell_x", "cell_y"),
    "commuting_directions": ("workplace_id", "direction", "band_km"),
}

#: Tables whose two key columns name an unordered pair: (Z1, Z2) and (Z2, Z1) are one row.
UNORDERED_PAIRS = {"collaboration_pairs", "collaboration_matrix"}

#: Key candidates for tables zoneatlas does not know yet, tried in this order.
_KEY_CANDIDATES = (("zone_a", "zone_b"), ("district_a", "district_b"), ("chain", "role"),
                   ("district_id", "chain"), ("chain",))

#: run.json parameter sections that do not change results (display, inputs, output).
NON_ANALYSIS_SECTIONS = ("study", "layers", "map", "output", "print")

#: Summary entries that are settings or bookkeeping, not planning figures.
_NOT_INDICATORS = {"parameters", "weights", "radius_m", "radii_m", "core_share", "points_tested_exactly",
                   "min_huff_distance_m", "minutes", "minute",
                   # settings echoed in the summaries (config_differences compares the settings)
                   "max_cores", "attach_max_min", "min_huff_travel_min", "radius_step_m", "balance_radius_max_m",
                   "minute_step", "balance_minute_max", "theoretical_min_commute_cell_m",
                   "theoretical_min_commute_min_cell_m", "reach_m", "reach_min", "cell_m"}


def table_key(name: str, base: pd.DataFrame, plan: pd.DataFrame) -> list[str]:
    """The columns that identify a row of table ``name`` in both runs.

    The key of a known table (:data:`TABLE_KEYS`) is used when its columns exist in both
    runs; otherwise the first unique ``*_id`` column, then the pairs and chain columns of
    :data:`_KEY_CANDIDATES`, then the first column if unique in both. An empty list means
    rows are matched by position (one-row summary tables).
    """
    def usable(cols: Sequence[str]) -> bool:
        return all(c in base.columns and c in plan.columns for c in cols) and all(
            not f[list(cols)].isna().any(axis=None) and not f.duplicated(list(cols)).any() for f in (base, plan))

    known = TABLE_KEYS.get(name)
    if known is not None and all(c in base.columns and c in plan.columns for c in known):
        return list(known)  # duplicates, if any, are matched in order by compare_table
    id_cols = [c for c in base.columns if (c.endswith("_id") or c == "id")]
    for cols in [(c,) for c in id_cols] + list(_KEY_CANDIDATES) + [tuple(base.columns[:1])]:
        if cols and usable(cols):
            return list(cols)
    return []


def _is_id_column(name: str, key: Sequence[str]) -> bool:
    return name in key or name.endswith("_id") or name in ("id", "zone_a", "zone_b", "district_a", "district_b")


def _canonical_pairs(frame: pd.DataFrame, key: Sequence[str]) -> pd.DataFrame:
    """Orient unordered pairs so that the first key ≤ the second, swapping every ``*_a``/``*_b``."""
    a, b = key
    flip = (frame[a].astype(str) > frame[b].astype(str)).to_numpy()
    if not flip.any():
        return frame
    out = frame.copy()
    for col in frame.columns:
        if col.endswith("_a") and (other := col[:-2] + "_b") in frame.columns:
            va, vb = out[col].to_numpy(copy=True), out[other].to_numpy(copy=True)
            va[flip], vb[flip] = frame[other].to_numpy()[flip], frame[col].to_numpy()[flip]
            out[col], out[other] = va, vb
    return out


def _key_text(values: pd.Series) -> np.ndarray:
    """Key values as text (object array), so that 1 and "1" from different readers match."""
    arr = values.to_numpy(dtype=object)
    if values.dtype == object and all(isinstance(v, str) for v in arr[:1000]):
        return arr
    return np.array(["" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in arr],
                    dtype=object)


def _key_index(arrays: list[np.ndarray]) -> pd.Index:
    if len(arrays) == 1:
        return pd.Index(arrays[0], dtype=object)
    return pd.MultiIndex.from_arrays(arrays)


def _with_occurrence(index: pd.Index) -> pd.MultiIndex:
    """``index`` plus the occurrence number of each value (0, 1, … among equal values)."""
    occurrence = pd.Series(np.zeros(len(index), dtype=np.int64)).groupby(index.to_numpy(), sort=False).cumcount()
    arrays = [index.get_level_values(i) for i in range(index.nlevels)]
    return pd.MultiIndex.from_arrays([*arrays, occurrence.to_numpy()])


def _numeric(values: pd.Series) -> pd.Series | None:
    """``values`` as float when every non-empty cell is a number (not a boolean), else None."""
    if pd.api.types.is_bool_dtype(values.dtype):
        return None
    if pd.api.types.is_numeric_dtype(values.dtype):
        return values.astype(float)
    parsed = pd.to_numeric(values, errors="coerce")
    if parsed.isna().sum() != values.isna().sum():
        return None
    return parsed.astype(float)


def _same_text(a: pd.Series, b: pd.Series) -> np.ndarray:
    a_na, b_na = a.isna().to_numpy(), b.isna().to_numpy()
    eq = (a.to_numpy(dtype=object) == b.to_numpy(dtype=object))
    return np.where(a_na | b_na, a_na & b_na, eq).astype(bool)


def compare_table(base: pd.DataFrame, plan: pd.DataFrame, key: Sequence[str], *,
                  unordered: bool = False) -> pd.DataFrame:
    """Join one table of two runs on ``key`` and describe every change.

    Parameters
    ----------
    base, plan : DataFrame
        The table of each run as read by :func:`read_table` (ids as text, missing values
        NaN). Text columns whose every value is a number count as numeric.
    key : sequence of str
        Join columns; empty: rows are matched by position (column ``row``, from 1).
    unordered : bool
        The two key columns form an unordered pair (``zone_a``/``zone_b``): rows are
        matched whatever their order, and shown with the smaller id first.

    Returns
    -------
    DataFrame
        The key columns, ``status``, then per column ``c``: ``c_base``, ``c_plan`` and
        ``c_delta`` (plan − base) when ``c`` is numeric in both runs, else ``c_changed``.
        Rows: base order, then the rows added in the plan in plan order. Deltas and
        ``_changed`` are empty on added and removed rows.

    Examples
    --------
    >>> b = pd.DataFrame({"zone_id": ["Z1", "Z2"], "jobs": ["10", "20"]})
    >>> p = pd.DataFrame({"zone_id": ["Z2", "Z3"], "jobs": ["25", "5"]})
    >>> compare_table(b, p, ["zone_id"])[["zone_id", "status", "jobs_delta"]].to_dict("list")
    {'zone_id': ['Z1', 'Z2', 'Z3'], 'status': ['removed', 'changed', 'added'], 'jobs_delta': [nan, 5.0, nan]}
    """
    key = list(key)
    if not key:
        base = base.assign(row=np.arange(1, len(base) + 1).astype(str))
        plan = plan.assign(row=np.arange(1, len(plan) + 1).astype(str))
        key = ["row"]
    elif unordered and len(key) == 2:
        base, plan = _canonical_pairs(base, key), _canonical_pairs(plan, key)
    columns = [c for c in dict.fromkeys([*base.columns, *plan.columns]) if c not in key]
    tb = [_key_text(base[k]) for k in key]
    tp = [_key_text(plan[k]) for k in key]
    kb, kp = _key_index(tb), _key_index(tp)
    m = min(len(kb), len(kp))
    # the common case (a plan appends features): the same ids in the same order, then the rest;
    # the longer index unique implies the shorter (its prefix) is
    prefix = all(np.array_equal(a[:m], b[:m]) for a, b in zip(tb, tp))
    unique = (kp.is_unique if len(kp) >= len(kb) else kb.is_unique) if prefix else (kb.is_unique and kp.is_unique)
    if not unique:  # should not happen: duplicates are matched in order of occurrence
        log.debug("duplicate keys %s: matched in order of occurrence", key)
        kb, kp = _with_occurrence(kb), _with_occurrence(kp)
        prefix = False
    # base rows in base order, then the plan's added rows in plan order
    if prefix:
        plan_of_base = np.concatenate([np.arange(m), np.full(len(kb) - m, -1)])
        added = np.arange(m, len(kp))
    else:
        plan_of_base = kp.get_indexer(kb)
        added = np.flatnonzero(~kp.isin(kb))
    pb = np.concatenate([np.arange(len(kb)), np.full(len(added), -1)])
    pp = np.concatenate([plan_of_base, added])
    in_base, in_plan = pb >= 0, pp >= 0
    ib, ip = np.where(in_base, pb, 0), np.where(in_plan, pp, 0)
    key_values = {k: np.where(in_base, tb[i][ib] if len(base) else "", tp[i][ip] if len(plan) else "")
                  for i, k in enumerate(key)}
    both = in_base & in_plan

    def side(frame: pd.DataFrame, col: str, idx: np.ndarray, present: np.ndarray) -> pd.Series:
        """The column's value for each joined row (NaN where the row is not in this run)."""
        if col not in frame.columns or not len(frame):
            return pd.Series(np.full(len(idx), np.nan, dtype=object))
        values = frame[col].take(idx).reset_index(drop=True)  # keeps the dtype: no boxing
        return values if present.all() else values.where(pd.Series(present))

    def text(values: np.ndarray) -> pd.Series:  # object dtype: no conversion to (and back from) arrow strings
        return pd.Series(values, dtype=object, copy=False)

    out: dict[str, Any] = {k: text(v) for k, v in key_values.items()}
    changed = np.zeros(len(pb), dtype=bool)
    for col in columns:
        b, p = side(base, col, ib, in_base), side(plan, col, ip, in_plan)
        nb = None if _is_id_column(col, key) else _numeric(b)
        np_ = None if nb is None else _numeric(p)
        if nb is not None and np_ is not None:
            bv, pv = nb.to_numpy(), np_.to_numpy()
            delta = pv - bv
            differs = np.where(np.isnan(bv) | np.isnan(pv), np.isnan(bv) != np.isnan(pv), delta != 0)
            out[f"{col}_base"], out[f"{col}_plan"], out[f"{col}_delta"] = bv, pv, delta
        else:
            differs = ~_same_text(b, p)
            flag = pd.array(differs, dtype="boolean")
            flag[~both] = pd.NA
            out[f"{col}_base"], out[f"{col}_plan"] = text(b.to_numpy(dtype=object)), text(p.to_numpy(dtype=object))
            out[f"{col}_changed"] = flag
        changed |= both & differs
    status = np.where(~in_plan, "removed", np.where(~in_base, "added", np.where(changed, "changed", "same")))
    result = pd.DataFrame(out)
    result.insert(len(key), "status", text(status.astype(object)))
    return result


def compare_tables(base: Mapping[str, pd.DataFrame], plan: Mapping[str, pd.DataFrame]
                   ) -> tuple[dict[str, pd.DataFrame], dict[str, list[str]]]:
    """:func:`compare_table` for every table present in both runs (keys from :func:`table_key`)."""
    tables, keys = {}, {}
    for name in base:
        if name not in plan:
            continue
        key = table_key(name, base[name], plan[name])
        tables[name] = compare_table(base[name], plan[name], key, unordered=name in UNORDERED_PAIRS)
        keys[name] = key
    return tables, keys


def _flatten(value: Any, prefix: str, out: dict[str, float]) -> None:
    if isinstance(value, Mapping):
        for k, v in value.items():
            if str(k) not in _NOT_INDICATORS:
                _flatten(v, f"{prefix}.{k}" if prefix else str(k), out)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        out[prefix] = float(value)


def summary_indicators(base_manifest: Mapping[str, Any], plan_manifest: Mapping[str, Any],
                       language: str = "zh") -> pd.DataFrame:
    """The headline numbers of two run.json files side by side.

    Indicators are the numbers of ``summary`` (``<analysis>.<name>``, nested counts as
    ``<analysis>.<group>.<name>``; parameters echoed there are left out) and ``counts``
    (``counts.<table>``). ``pct_delta`` = 100 × delta / |base| (empty when base is 0 or
    missing).

    Returns
    -------
    DataFrame
        indicator, base, plan, delta, pct_delta, label.
    """
    flat_b: dict[str, float] = {}
    flat_p: dict[str, float] = {}
    for manifest, flat in ((base_manifest, flat_b), (plan_manifest, flat_p)):
        _flatten(manifest.get("summary") or {}, "", flat)
        _flatten({"counts": manifest.get("counts") or {}}, "", flat)
    names = list(dict.fromkeys([*flat_b, *flat_p]))
    b = np.array([flat_b.get(n, np.nan) for n in names], dtype=float)
    p = np.array([flat_p.get(n, np.nan) for n in names], dtype=float)
    delta = p - b
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(np.isfinite(b) & (b != 0), 100.0 * delta / np.abs(b), np.nan)
    labels = [" / ".join(_indicator_label(part, language) for part in n.split(".")) for n in names]
    return pd.DataFrame({"indicator": names, "base": b, "plan": p, "delta": delta, "pct_delta": pct,
                         "label": labels})


#: Labels of summary parts whose i18n term names something else (a layer, a field).
_INDICATOR_LABELS = {
    "counts": ("要素数量", "Feature counts"), "zones": ("功能区数", "Zones"), "chains": ("产业链数", "Chains"),
    "innovation_districts": ("创新街区数", "Innovation districts"), "jobs": ("就业岗位总数", "Total jobs"),
    "districts": ("行政区数", "Districts"), "housing": ("居住要素数", "Housing features"),
    "pairs_by_type": ("各类协同对数", "Pairs by type"), "balance_classes": ("就业地职住类型", "Workplace balance classes"),
    "district_balance_classes": ("行政区职住类型", "District balance classes"),
    "indicators_partly_missing": ("部分缺失的指标", "Indicators partly missing"),
    "strongest_district_pair": ("协同最强的行政区对", "Strongest district pair"),
}


def _indicator_label(part: str, language: str) -> str:
    from geo.i18n import label

    if part in _INDICATOR_LABELS:
        return _INDICATOR_LABELS[part][0 if language == "zh" else 1]
    return label(part, language)


def _flat_config(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_flat_config(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: value}


def config_differences(base_manifest: Mapping[str, Any], plan_manifest: Mapping[str, Any]
                       ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(analysis differences, every config difference) between two run.json files.

    Analysis differences: the working CRS and every parameter outside
    :data:`NON_ANALYSIS_SECTIONS` (``study``, ``layers``, ``map``, ``output``); those
    make two runs incomparable. All differences (inputs, names, output folder) are
    listed for the page, each with ``analysis`` True or False.
    """
    fb = _flat_config(base_manifest.get("parameters") or {})
    fp = _flat_config(plan_manifest.get("parameters") or {})
    fb["crs.working"] = base_manifest.get("working_crs") or fb.get("crs.working")
    fp["crs.working"] = plan_manifest.get("working_crs") or fp.get("crs.working")
    # run.json of earlier versions left balance.reach null (resolved from the roads): the
    # reach it used is the top-level "reach"
    for flat, manifest in ((fb, base_manifest), (fp, plan_manifest)):
        if flat.get("balance.reach") is None and manifest.get("reach"):
            flat["balance.reach"] = manifest["reach"]
    every, analysis = [], []
    for k in dict.fromkeys([*fb, *fp]):
        if fb.get(k, None) == fp.get(k, None) and (k in fb) == (k in fp):
            continue
        section = k.split(".", 1)[0]
        is_analysis = k == "crs.working" or section not in (*NON_ANALYSIS_SECTIONS, "crs")
        entry = {"key": k, "base": fb.get(k), "plan": fp.get(k), "analysis": is_analysis}
        every.append(entry)
        if is_analysis:
            analysis.append(entry)
    return analysis, every


def read_table(path: Path) -> pd.DataFrame:
    """A ``tables/<name>.csv`` as written: ids and text as text, numbers parsed, empty cells NaN.

    Only empty cells are missing (a name such as ``NA`` stays text); id columns
    (``*_id``, ``zone_a``, …) are always text, so ``007`` stays ``007``.
    """
    header = pd.read_csv(path, nrows=0, encoding="utf-8-sig").columns
    text = {c: object for c in header if _is_id_column(str(c), ())}
    return pd.read_csv(path, dtype=text, keep_default_na=False, na_values=[""], encoding="utf-8-sig",
                       low_memory=False)
