"""Compare two runs (现状 vs 规划方案): ``zoneatlas compare BASE PLAN -o DIR``.

BASE and PLAN are run folders (holding ``run.json``) or config files, which are run
first. Every result table both runs wrote (``tables/<name>.csv``) is joined on its ids;
each numeric column ``c`` becomes ``c_base``, ``c_plan``, ``c_delta`` (plan − base), each
class or text column ``c_base``, ``c_plan``, ``c_changed``, and every row gets a
``status``: ``same``, ``changed``, ``added`` (plan only) or ``removed`` (base only).
The headline numbers of run.json (``summary`` and ``counts``) become
``compare_summary.csv``; ``compare.json`` records what was compared; ``compare.html``
shows both runs side by side and a change map per analysis.

The comparison itself (:func:`compare_tables`, :func:`compare_table`,
:func:`summary_indicators`) is pure: frames in, frames out. Reading the runs, running
configs and writing the outputs happen in :func:`compare` only. Neither run folder is
ever written to.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geo import __version__
from geo._errors import ConfigError, InputError, OutputError

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
                   "min_huff_distance_m", "minutes", "minute"}


@dataclass
class RunFolder:
    """A finished run read from disk: its folder, run.json and result tables."""

    path: Path
    manifest: dict[str, Any]
    tables: dict[str, Path]
    config: Path | None = None
    shown: str = ""
    """How the run is named in compare.json and on the page."""

    @property
    def working_crs(self) -> str | None:
        return self.manifest.get("working_crs") or (self.manifest.get("parameters") or {}).get("crs", {}).get("working")


@dataclass
class Comparison:
    """What :func:`compare` computed (and wrote, when given an output folder).

    Attributes
    ----------
    tables : dict of str to DataFrame
        ``compare_<name>`` tables by source table name (written as ``tables/compare_<name>.csv``).
    keys : dict of str to list of str
        The join key of each compared table.
    summary : DataFrame
        indicator, base, plan, delta, pct_delta, label (``compare_summary.csv``).
    differences : list of dict
        Differing analysis parameters ``{"key", "base", "plan"}`` (empty when comparable).
    config_differences : list of dict
        Every differing config entry, inputs and display included.
    manifest : dict
        The content of ``compare.json``.
    output_dir : Path or None
        Where the outputs were written (None: computed only).
    """

    base: RunFolder
    plan: RunFolder
    tables: dict[str, pd.DataFrame]
    keys: dict[str, list[str]]
    summary: pd.DataFrame
    differences: list[dict[str, Any]]
    config_differences: list[dict[str, Any]]
    manifest: dict[str, Any] = field(default_factory=dict)
    output_dir: Path | None = None

    def counts(self, table: str) -> dict[str, int]:
        """Rows per status of one compared table."""
        status = self.tables[table]["status"]
        return {s: int((status == s).sum()) for s in STATUSES}


# ---------------------------------------------------------------------------
# pure comparison of tables


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

    out: dict[str, Any] = {k: v.astype(object) for k, v in key_values.items()}
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
            out[f"{col}_base"], out[f"{col}_plan"] = b.to_numpy(dtype=object), p.to_numpy(dtype=object)
            out[f"{col}_changed"] = flag
        changed |= both & differs
    status = np.where(~in_plan, "removed", np.where(~in_base, "added", np.where(changed, "changed", "same")))
    result = pd.DataFrame(out)
    result.insert(len(key), "status", status)
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


# ---------------------------------------------------------------------------
# reading runs


def read_table(path: Path) -> pd.DataFrame:
    """A ``tables/<name>.csv`` as written: ids and text as text, numbers parsed, empty cells NaN.

    Only empty cells are missing (a name such as ``NA`` stays text); id columns
    (``*_id``, ``zone_a``, …) are always text, so ``007`` stays ``007``.
    """
    header = pd.read_csv(path, nrows=0, encoding="utf-8-sig").columns
    text = {c: object for c in header if _is_id_column(str(c), ())}
    return pd.read_csv(path, dtype=text, keep_default_na=False, na_values=[""], encoding="utf-8-sig",
                       low_memory=False)


def _is_config(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in (".yaml", ".yml")


def open_run(path: str | Path, role: str) -> RunFolder:
    """Read a run folder (``run.json`` + ``tables/``); ``role`` (BASE/PLAN) names it in errors."""
    path = Path(path)
    manifest_path = path / "run.json"
    if not path.exists():
        raise InputError(f"{role} {path}: no such folder or config file; give a run folder "
                         "(holding run.json) or a config file")
    if not path.is_dir():
        raise InputError(f"{role} {path}: not a run folder nor a config file (.yaml); give the output "
                         "folder of `zoneatlas run` or its config file")
    if not manifest_path.is_file():
        raise InputError(f"{role} {path}: not a zoneatlas run (no run.json); run `zoneatlas run -o {path}` "
                         "first, or give the config file")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if not isinstance(manifest, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as exc:
        raise InputError(f"{role} {manifest_path}: unreadable run.json ({exc}); run the study again") from None
    tables = {p.stem: p for p in sorted((path / "tables").glob("*.csv")) if not p.stem.startswith("compare_")}
    if not tables:
        raise InputError(f"{role} {path}: the run has no tables/*.csv; run the study again")
    return RunFolder(path.resolve(), manifest, tables)


def table_version(manifest: Mapping[str, Any]) -> str:
    """The table layout a run wrote: run.json ``table_version``, else its zoneatlas version."""
    if "table_version" in manifest:
        return f"table_version {manifest['table_version']}"
    return f"zoneatlas {manifest.get('zoneatlas_version', '?')}"


def check_comparable(base: RunFolder, plan: RunFolder, *, allow_parameter_changes: bool = False
                     ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Raise unless the two runs can be compared; return (analysis, all) config differences.

    Raises
    ------
    InputError
        Different table versions (one line).
    ConfigError
        Different working CRS or analysis parameters without ``allow_parameter_changes``
        (one line per difference).
    """
    vb, vp = table_version(base.manifest), table_version(plan.manifest)
    if ("table_version" in base.manifest) != ("table_version" in plan.manifest):
        vb = f"zoneatlas {base.manifest.get('zoneatlas_version', '?')}"
        vp = f"zoneatlas {plan.manifest.get('zoneatlas_version', '?')}"
    if vb != vp:
        raise InputError(f"BASE {base.path} ({vb}) and PLAN {plan.path} ({vp}) were written by different "
                         "zoneatlas table versions; run both with the same zoneatlas version")
    analysis, every = config_differences(base.manifest, plan.manifest)
    if analysis and not allow_parameter_changes:
        raise ConfigError([
            f"{d['key']}: BASE {base.path} has {json.dumps(d['base'], ensure_ascii=False)}, PLAN {plan.path} has "
            f"{json.dumps(d['plan'], ensure_ascii=False)}; runs with different "
            f"{'working CRS' if d['key'] == 'crs.working' else 'analysis parameters'} are not comparable "
            "(use the same config values, or --allow-parameter-changes to compare anyway)"
            for d in analysis])
    return analysis, every


def _check_paths(base: Path, plan: Path, output_dir: Path | None) -> None:
    problems = []
    rb, rp = base.resolve(), plan.resolve()
    if rb == rp:
        problems.append(f"BASE and PLAN are the same path ({rb}); give two different runs or configs")
    if output_dir is not None:
        target = Path(output_dir).resolve()
        for role, run in (("BASE", rb), ("PLAN", rp)):
            folder = run.parent if _is_config(run) else run
            if _is_config(run):
                continue  # a config's run is written inside the output folder; inputs checked later
            if target == folder or folder in target.parents:
                problems.append(f"-o {target}: the output folder is {'the' if target == folder else 'inside the'} "
                                f"{role} run {folder}, which must not change; choose another output folder")
            elif target in folder.parents:
                problems.append(f"-o {target}: the output folder holds the {role} run {folder}, and compare "
                                "replaces its output folder as a whole; choose another output folder")
    if problems:
        raise ConfigError(problems)


def _run_config(config: Path, out: Path, role: str, progress: bool) -> RunFolder:
    from geo.pipeline import run
    from geo.settings import load_settings

    log.info("%s: running %s into %s", role, config, out)
    settings = load_settings(config)
    run(settings, output_dir=out, progress=progress)
    folder = open_run(out, role)
    folder.config = config.resolve()
    return folder


def _check_configs(base: Path, plan: Path, output_dir: Path | None, allow: bool) -> None:
    """Before running configs: refuse differing parameters and inputs inside the output folder."""
    from geo.pipeline import _configured_paths
    from geo.settings import load_settings

    manifests, problems = [], []
    for path in (base, plan):
        if _is_config(path):
            settings = load_settings(path)
            manifests.append({"parameters": settings.as_config(), "working_crs": settings.crs.working})
            if output_dir is not None:
                from geo._io import check_inputs_outside

                try:
                    check_inputs_outside(Path(output_dir), _configured_paths(settings))
                except OutputError as exc:
                    problems.extend(exc.problems)
        else:
            manifests.append(None)
    if problems:
        raise OutputError(problems)
    if all(m is not None for m in manifests) and not allow:
        analysis, _ = config_differences(*manifests)
        if analysis:
            raise ConfigError([f"{d['key']}: BASE {base} has {json.dumps(d['base'], ensure_ascii=False)}, PLAN "
                               f"{plan} has {json.dumps(d['plan'], ensure_ascii=False)}; configs with different "
                               "working CRS or analysis parameters are not comparable (use the same values, or "
                               "--allow-parameter-changes)" for d in analysis])


# ---------------------------------------------------------------------------
# the command


def compare(base: str | Path, plan: str | Path, output_dir: str | Path | None = None, *,
            allow_parameter_changes: bool = False, progress: bool = False) -> Comparison:
    """Compare two runs: what ``zoneatlas compare BASE PLAN -o DIR`` computes and writes.

    Parameters
    ----------
    base, plan : str or Path
        Run folders (holding ``run.json``) or config files. A config is run first: into
        ``<output_dir>/base`` or ``<output_dir>/plan`` (kept, so that its maps can be
        opened), or into a temporary folder removed afterwards when ``output_dir`` is None.
    output_dir : str or Path, optional
        Where to write ``compare.html``, ``compare.json``, ``compare_summary.csv`` and
        ``tables/compare_<table>.csv``. Written staged: a failure leaves it unchanged.
        None: compute only.
    allow_parameter_changes : bool
        Compare runs whose working CRS or analysis parameters differ (the differences
        are listed in compare.json and on the page) instead of refusing them.
    progress : bool
        Progress bars while running configs.

    Returns
    -------
    Comparison

    Raises
    ------
    geo._errors.ZoneAtlasError
        Not a run, different table versions, BASE equal to PLAN, an output folder inside
        or holding a run, or (without ``allow_parameter_changes``) different parameters.
        Nothing is written and neither run is touched.

    Examples
    --------
    >>> diff = compare("maps", "maps_plan", "maps_compare")  # doctest: +SKIP
    >>> diff.tables["balance_workplaces"][["workplace_id", "status", "jhr_delta"]]  # doctest: +SKIP
    """
    base, plan = Path(base), Path(plan)
    target = Path(output_dir).resolve() if output_dir is not None else None
    _check_paths(base, plan, target)
    for role, path in (("BASE", base), ("PLAN", plan)):
        if not _is_config(path):
            open_run(path, role)  # fail on a bad folder before running the other side's config
    _check_configs(base, plan, target, allow_parameter_changes)

    if target is None:
        with tempfile.TemporaryDirectory(prefix="zoneatlas-compare-") as tmp:
            return _compare_into(base, plan, None, Path(tmp), allow_parameter_changes, progress)
    from geo._io import staged_output

    with staged_output(target) as staging:
        result = _compare_into(base, plan, staging, staging, allow_parameter_changes, progress)
    result.output_dir = target
    for run, sub in ((result.base, "base"), (result.plan, "plan")):
        if run.config is not None:  # the run now lives in the output folder
            run.path = target / sub
            run.tables = {n: target / sub / "tables" / p.name for n, p in run.tables.items()}
    log.info("wrote %s", target)
    return result


def _compare_into(base: Path, plan: Path, staging: Path | None, scratch: Path, allow: bool,
                  progress: bool) -> Comparison:
    runs = []
    for role, path, sub in (("BASE", base, "base"), ("PLAN", plan, "plan")):
        runs.append(_run_config(path, scratch / sub, role, progress) if _is_config(path) else open_run(path, role))
    rb, rp = runs
    differences, every = check_comparable(rb, rp, allow_parameter_changes=allow)
    for run, sub in ((rb, "base"), (rp, "plan")):
        run.shown = (f"{sub}/ (run of {run.config})" if staging is not None else f"run of {run.config}") \
            if run.config is not None else str(run.path)
    names = [n for n in rb.tables if n in rp.tables]
    frames_b = {n: read_table(rb.tables[n]) for n in names}
    frames_p = {n: read_table(rp.tables[n]) for n in names}
    tables, keys = compare_tables(frames_b, frames_p)
    language = ((rb.manifest.get("parameters") or {}).get("study") or {}).get("language", "zh")
    summary = summary_indicators(rb.manifest, rp.manifest, language if language in ("zh", "en") else "zh")
    result = Comparison(rb, rp, tables, keys, summary, differences, every)
    result.manifest = _manifest(result, allow)
    if staging is not None:
        _write(result, staging)
    return result


def _run_info(run: RunFolder) -> dict[str, Any]:
    m = run.manifest
    return {"path": run.shown or str(run.path), "config": str(run.config) if run.config else None,
            "study": (m.get("study") or {}).get("name"), "zoneatlas_version": m.get("zoneatlas_version"),
            "table_version": m.get("table_version"), "finished": m.get("finished"),
            "working_crs": run.working_crs, "analyses": m.get("analyses")}


def _manifest(result: Comparison, allow: bool) -> dict[str, Any]:
    tables = {}
    for name, frame in result.tables.items():
        tables[name] = {"file": f"tables/compare_{name}.csv", "key": result.keys[name] or ["row"],
                        "rows": len(frame), **result.counts(name)}
    return {
        "zoneatlas_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "base": _run_info(result.base),
        "plan": _run_info(result.plan),
        "comparable": not result.differences,
        "allow_parameter_changes": allow,
        "parameter_differences": result.differences,
        "config_differences": result.config_differences,
        "tables": tables,
        "tables_only_in_base": [n for n in result.base.tables if n not in result.plan.tables],
        "tables_only_in_plan": [n for n in result.plan.tables if n not in result.base.tables],
        "summary": result.summary.to_dict("records"),
    }


def _write(result: Comparison, folder: Path) -> None:
    from geo._io import write_csv, write_json
    from geo.webmap.compare import write_compare_page

    for name, frame in result.tables.items():
        write_csv(frame, folder / "tables" / f"compare_{name}.csv")
    write_csv(result.summary, folder / "compare_summary.csv")
    write_compare_page(folder / "compare.html", result)
    outputs = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    result.manifest["outputs"] = [*outputs, "compare.json"]
    write_json(result.manifest, folder / "compare.json")
