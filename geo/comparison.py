"""Compare two runs (现状 vs 规划方案): ``zoneatlas compare BASE PLAN -o DIR``.

BASE and PLAN are run folders (holding ``run.json``) or config files, which are run
first. Every result table both runs wrote (``tables/<name>.csv``) is joined on its ids;
each numeric column ``c`` becomes ``c_base``, ``c_plan``, ``c_delta`` (plan − base), each
class or text column ``c_base``, ``c_plan``, ``c_changed``, and every row gets a
``status``: ``same``, ``changed``, ``added`` (plan only) or ``removed`` (base only).
The headline numbers of run.json (``summary`` and ``counts``) become
``compare_summary.csv``; ``compare.json`` records what was compared; ``compare.html``
shows both runs side by side and a change map per analysis.

The comparison itself is pure (:mod:`geo._compare_tables`: frames in, frames out).
Reading the runs, running configs and writing the outputs happen here, in :func:`compare`
only. Neither run folder is ever written to. (The module is called ``comparison`` so that
the function can be exported as ``geo.compare`` without hiding a module of that name.)
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from collections.abc import Mapping
from contextlib import contextmanager
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from geo import __version__
from geo._compare_tables import (
    NON_ANALYSIS_SECTIONS,
    STATUSES,
    TABLE_KEYS,
    UNORDERED_PAIRS,
    compare_table,
    compare_tables,
    config_differences,
    read_table,
    summary_indicators,
    table_key,
)
from geo._errors import ConfigError, InputError, OutputError

log = logging.getLogger(__name__)

__all__ = [
    "NON_ANALYSIS_SECTIONS",
    "STATUSES",
    "TABLE_KEYS",
    "UNORDERED_PAIRS",
    "Comparison",
    "RunFolder",
    "compare",
    "compare_table",
    "compare_tables",
    "config_differences",
    "open_run",
    "read_table",
    "summary_indicators",
    "table_key",
]


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
# reading runs


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
        raise InputError(f"{role} {path}: not a zoneatlas run (no run.json); give the output folder of "
                         "`zoneatlas run` (maps/ beside its config, by default) or the config file itself")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{role} {manifest_path}: unreadable run.json ({exc}); run the study again") from None
    if not isinstance(manifest, dict):
        raise InputError(f"{role} {manifest_path}: run.json is not a JSON object; run the study again")
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
        if (target / "run.json").is_file() and target not in (rb, rp):
            problems.append(f"-o {target}: the output folder holds a zoneatlas run (run.json), which compare "
                            "would replace; choose another output folder")
        for role, run in (("BASE", rb), ("PLAN", rp)):
            folder = run.parent if _is_config(run) else run
            if _is_config(run):
                continue  # a config's run is written inside the output folder; inputs checked later
            if target == folder or folder in target.parents:
                problems.append(f"-o {target}: the output folder is {'the' if target == folder else 'inside the'} "
                                f"{role} run {folder}, which must not change; choose another output folder")
            elif target in folder.parents:
                problems.append(f"-o {target}: the output folder holds the {role} run {folder}, which must not "
                                "change; choose another output folder")
    if problems:
        raise ConfigError(problems)


def _run_config(config: Path, out: Path, role: str, progress: bool) -> RunFolder:
    from geo.pipeline import run
    from geo.settings import load_settings

    log.info("%s: running %s into %s", role, config, out)
    with _named(role, config):
        settings = load_settings(config)
        run(settings, output_dir=out, progress=progress)
    folder = open_run(out, role)
    folder.config = config.resolve()
    return folder


@contextmanager
def _named(role: str, config: Path):
    """Errors raised inside name the config (and its role): both configs may name the same
    layer files, so that the user can tell which one failed."""
    from geo._errors import ZoneAtlasError
    from geo.settings import config_source

    try:
        yield
    except ZoneAtlasError as exc:
        named = (f"{config}:", f"{config_source(config)}:")     # problems that name it already
        raise type(exc)([f"{role} {p}" if p.startswith(named) else f"{role} {config}: {p}"
                         for p in exc.problems]) from None


def _check_configs(base: Path, plan: Path, output_dir: Path | None, allow: bool) -> None:
    """Before running configs: refuse differing parameters, inputs inside the output folder,
    and what a run refuses before its analyses (a basemap that cannot be drawn, Chinese
    figures without a CJK font), for both configs: the PLAN's problem is not found only
    after the BASE has run."""
    if not (_is_config(base) or _is_config(plan)):
        return
    from geo._manifest import configured_paths
    from geo.pipeline import check_map_settings, check_print_settings
    from geo.settings import load_settings

    manifests, problems = [], []
    for role, path in (("BASE", base), ("PLAN", plan)):
        if _is_config(path):
            with _named(role, path):
                settings = load_settings(path)
                check_map_settings(settings)
                check_print_settings(settings)
            manifests.append({"parameters": settings.as_config(), "working_crs": settings.crs.working})
            if output_dir is not None:
                from geo._io import check_inputs_outside

                try:
                    check_inputs_outside(Path(output_dir), configured_paths(settings))
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
    _remove_stale(target, result.manifest["outputs"])
    result.output_dir = target
    for run, sub in ((result.base, "base"), (result.plan, "plan")):
        if run.config is not None:  # the run now lives in the output folder
            run.path = target / sub
            run.tables = {n: target / sub / "tables" / p.name for n, p in run.tables.items()}
    log.info("wrote %s", target)
    return result


def _remove_stale(target: Path, outputs: list[str]) -> None:
    """Remove what an earlier comparison wrote into ``target`` and this one did not.

    The staged swap keeps files it does not know (a user's notes); outputs of an earlier
    comparison that this one did not write (``tables/compare_<table>.csv`` of a table the
    runs no longer have, ``base/`` or ``plan/`` runs of earlier config inputs) would be
    mistaken for current results, so they go.
    """
    written = set(outputs)
    for path in (target / "tables").glob("compare_*.csv"):
        if f"tables/{path.name}" not in written:
            path.unlink()
    for sub in ("base", "plan"):
        folder = target / sub
        if (folder / "run.json").is_file() and not any(o.startswith(f"{sub}/") for o in written):
            shutil.rmtree(folder)


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
    # the CSV parser releases the GIL: both runs' tables are read on two threads
    with ThreadPoolExecutor(max_workers=2) as pool:
        read = list(pool.map(read_table, [rb.tables[n] for n in names] + [rp.tables[n] for n in names]))
    frames_b, frames_p = dict(zip(names, read[:len(names)])), dict(zip(names, read[len(names):]))
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


#: Tables at least this long are written by :func:`write_table`'s fast path when they can be.
FAST_CSV_ROWS = 100_000


def write_table(frame: pd.DataFrame, path: Path) -> Path:
    """:func:`geo._io.write_csv`, with a faster path for long tables (same bytes).

    A compared housing table has a million rows of ids, statuses and whole numbers;
    formatting those columns directly takes about two thirds of the time of the general
    writer. Any other column (fractions, text that would need quotes, booleans) sends the
    whole table to :func:`geo._io.write_csv`.
    """
    from geo._io import write_csv

    columns = _plain_columns(frame) if len(frame) >= FAST_CSV_ROWS else None
    if columns is None:
        return write_csv(frame, path)
    path.parent.mkdir(parents=True, exist_ok=True)
    body = "\n".join(map(",".join, zip(*columns)))
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        handle.write(",".join(map(str, frame.columns)) + "\n" + body + ("\n" if len(frame) else ""))
    return path


def _needs_quotes(texts: list[str]) -> bool:
    joined = "\x00".join(texts)
    return any(ch in joined for ch in ',"\r\n')


def _plain_columns(frame: pd.DataFrame) -> list[list[str]] | None:
    """Each column as CSV text (as write_csv would write it), or None when one is not plain."""
    import numpy as np

    from geo._io import _whole_floats

    n = len(frame)
    if _needs_quotes([str(c) for c in frame.columns]):
        return None
    out: list[list[str]] = []
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_float_dtype(column.dtype) and isinstance(column.dtype, np.dtype):
            values = column.to_numpy(dtype=float)
            missing = np.isnan(values)
            if missing.all():
                out.append([""] * n)
                continue
            if not _whole_floats(column):
                return None
            text = np.where(missing, 0, values).astype(np.int64).astype(str).astype(object)
            text[missing] = ""
            out.append(text.tolist())
        elif column.dtype == object:
            values = column.to_numpy(dtype=object)
            missing = pd.isna(values)
            present = values[~missing].tolist()
            if not all(type(v) is str for v in present) or _needs_quotes(present):
                return None
            out.append(np.where(missing, "", values).tolist())
        else:
            return None
    return out


def _write(result: Comparison, folder: Path) -> None:
    from geo._io import write_csv, write_json
    from geo.webmap.compare import write_compare_page

    for name, frame in result.tables.items():
        write_table(frame, folder / "tables" / f"compare_{name}.csv")
    write_csv(result.summary, folder / "compare_summary.csv")
    write_compare_page(folder / "compare.html", result)
    outputs = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    result.manifest["outputs"] = [*outputs, "compare.json"]
    write_json(result.manifest, folder / "compare.json")
