"""One run of zoneatlas: load → analyse → write maps, tables, QGIS package and run.json.

The pipeline is the only place that touches output files. It writes into a temporary
folder beside ``output.dir`` and moves it into place at the end, so a failed or
interrupted run leaves the previous outputs intact. The longest writers (workbook, QGIS
package: :data:`BACKGROUND_STEPS`) run in forked processes meanwhile (:mod:`geo._background`),
the QGIS input layers (:data:`EARLY_STEP`) already while the road graph is built and the
analyses run; any failure stops them before the temporary folder is removed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from geo import __version__
from geo._background import Background
from geo._errors import ConfigError
from geo._manifest import configured_paths, input_files, network_counts, package_versions
from geo._io import (
    check_inputs_outside,
    check_output_folders,
    check_writable,
    sha256_file,
    staged_output,
    write_csv,
    write_json,
)
from geo._types import AnalysisResult, Study
from geo.schema import TABLE_LAYERS, VECTOR_LAYERS
from geo.settings import Settings

log = logging.getLogger(__name__)

#: Analyses in the order they run (collaboration uses the core–periphery roles).
ANALYSES = ("core_periphery", "collaboration", "balance", "chains", "commuting")
#: Analyses run in a forked process of their own (:data:`BESIDE_JOB`), in this order, while
#: the balance, the longest, runs in the run's process: with roads each side takes tens of
#: seconds on a metro study, and the two cores work at once instead of one after the other.
BESIDE_BALANCE = ("core_periphery", "commuting", "collaboration", "chains")
BESIDE_JOB = "analyses beside balance"
#: With roads, the balance's theoretical minimum commute in minutes is a step of its own, run
#: after the analyses beside the balance (and with them): it is read from the commuting's
#: searches when there is an OD table (geo.analysis.balance._mincommute).
MIN_COMMUTE = "theoretical minimum commute"
#: The step that waits, after the balance, for the analyses beside it.
BACKGROUND_WAIT_ANALYSES = "wait for analyses"

#: The steps writing outputs (run.json aside), in the order they run here.
OUTPUT_STEPS = ("tables", "QGIS package", "figures", "maps", "workbook")
#: The output sub-folders, by the step writing each (checked before the long steps).
SUBFOLDERS = {"tables": "tables", "QGIS package": "qgis", "figures": "figures"}
#: The part of the QGIS package needing the inputs only (the input layers of the GeoPackage
#: but the roads, the rasters): written in a forked process of its own from the end of the
#: load (while the road graph is built) on, beside the analyses.
EARLY_STEP = "QGIS input layers"
#: Steps written in a forked process of their own while the others run (see geo._background).
BACKGROUND_STEPS = (EARLY_STEP, "workbook", "QGIS package")
#: The step that waits for the background steps after the last one run here.
BACKGROUND_WAIT = "background"


@dataclass
class RunReport:
    """What :func:`run` did: where the outputs are and the manifest written as run.json."""

    output_dir: Path
    manifest: dict[str, Any]
    study: Study
    results: dict[str, AnalysisResult] = field(default_factory=dict)


class Steps:
    """Times named steps and drives an optional progress bar (tqdm) over them."""

    def __init__(self, names: Iterable[str], *, progress: bool = False) -> None:
        self.names = list(names)
        self.timings: dict[str, float] = {}
        self._bar = None
        if progress:
            from tqdm import tqdm

            self._bar = tqdm(total=len(self.names), unit="step", leave=False,
                             bar_format="{desc:<28}{bar:20}| {n_fmt}/{total_fmt} [{elapsed}]")

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        if self._bar is not None:
            self._plan(name)
            self._bar.set_description_str(name)
        log.debug("step %s", name)
        start = time.perf_counter()
        try:
            yield
        finally:   # a step run in two parts (e.g. ``tables``) gets their sum
            again = name in self.timings
            self.timings[name] = round(self.timings.get(name, 0.0) + time.perf_counter() - start, 3)
            if self._bar is not None and not again:
                self._bar.update(1)

    def record(self, name: str, seconds: float) -> None:
        """The duration of step ``name`` when it ran elsewhere (a forked process)."""
        self.timings[name] = round(seconds, 3)
        if self._bar is not None:
            self._plan(name)
            self._bar.update(1)

    def _plan(self, name: str) -> None:
        if name not in self.names:   # a step not planned at the start (e.g. a wait)
            self.names.append(name)
            self._bar.total += 1

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def parse_only(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """``--only balance,collaboration`` → the analyses to run, in run order."""
    if value is None:
        return ANALYSES
    names = [v.strip() for v in (value.split(",") if isinstance(value, str) else value) if v.strip()]
    unknown = [n for n in names if n not in ANALYSES]
    if unknown or not names:
        raise ConfigError(f"--only: unknown analysis {', '.join(map(repr, unknown)) or '(none given)'}; "
                          f"choose from {', '.join(ANALYSES)}")
    return tuple(n for n in ANALYSES if n in names)


def check_map_settings(settings: Settings) -> None:
    """Fail early (before the long steps) on a basemap that cannot be drawn, e.g. Tianditu
    without a key; ``zoneatlas validate`` runs the same check."""
    from geo.basemaps import resolve_basemap

    try:
        resolve_basemap(settings.map, settings.study.language)
    except ConfigError as exc:   # name the config file, as the config's other problems do
        raise ConfigError([f"{settings.source}: {p}" for p in exc.problems]) from None


def check_print_settings(settings: Settings) -> None:
    """Fail early (before the long steps) when ``print.figures`` is on, the study language is
    ``zh`` and no installed font has Chinese characters; ``zoneatlas validate`` runs the same check."""
    from geo.figures import check_fonts

    check_fonts(settings)


def run_analyses(study: Study, settings: Settings, only: Iterable[str] = ANALYSES,
                 step: Callable | None = None, *, background: Background | None = None,
                 record: Callable[[str, float], None] | None = None,
                 while_waiting: Callable[[dict[str, AnalysisResult]], None] | None = None
                 ) -> dict[str, AnalysisResult]:
    """Run the selected analyses on a loaded study (pure: writes nothing).

    An analysis gets what it needs from another even when that one is not selected:
    collaboration's pair types need the core–periphery roles, so ``only=["collaboration"]``
    computes them (without returning the core–periphery result). A partial run therefore
    never changes the tables of the analyses it runs.

    With ``background`` (a :class:`~geo._background.Background` that forks), the analyses of
    :data:`BESIDE_BALANCE` run in a forked process of their own (job :data:`BESIDE_JOB`)
    while the balance runs here: the results are the same as inline, in the same order;
    ``record(name, seconds)`` receives each one's own duration, measured in that process;
    ``while_waiting(results)`` is called with the results of this side (the balance) before
    waiting for the other: the run writes their tables and print figures meanwhile.
    """
    only = set(only)
    step = step or (lambda name: contextmanager(lambda: (yield))())
    split = "balance" in only and getattr(study, "network", None) is not None
    beside = [name for name in BESIDE_BALANCE
              if name in only and (name != "commuting" or study.commuting is not None)]
    beside += [MIN_COMMUTE] if split else []
    if not (background is not None and background.forking and "balance" in only and beside):
        names = [n for n in ANALYSES if n in only] + ([MIN_COMMUTE] if split else [])
        return _ordered(_run_each(study, settings, names, step, split=split))
    from geo.network import one_process

    if not split:
        # both sides solve transportation problems: imported once, before the fork (with the
        # split, only the other side does: the balance's minimum commute is its step there)
        _import_solver()
    background.start(BESIDE_JOB, _beside_balance, study, settings, beside)
    with one_process():    # the other CPU works on the analyses beside
        results = _run_each(study, settings, [n for n in ANALYSES if n in only and n not in beside], step,
                            split=split)
    if while_waiting is not None:   # work this side would do anyway, done while the other runs
        while_waiting(dict(results))
    with step(BACKGROUND_WAIT_ANALYSES):
        value = background.wait(BESIDE_JOB)
    if value is None:   # pragma: no cover - results that could not travel back: run them here
        log.debug("%s: no results came back; running %s here", BESIDE_JOB, ", ".join(beside))
        results.update(_run_each(study, settings, beside, step, split=split))
    else:
        results.update(value[0])
        for name, seconds in value[1].items():
            if record is not None:
                record(name, seconds)
    return _ordered(results)


def _ordered(results: dict[str, AnalysisResult]) -> dict[str, AnalysisResult]:
    """The results in run order, the balance's part computed on its own merged into it."""
    part = results.pop(MIN_COMMUTE, None)
    if part is not None and "balance" in results:
        from geo.analysis import balance

        balance.merge_min_commute(results["balance"], part)
    return {name: results[name] for name in ANALYSES if name in results}


def _import_solver() -> None:
    """Import POT (and scikit-learn, which it imports) here: the balance's theoretical minimum
    commute and the commuting's t_min / t_max both use it, and a forked process inherits the
    import instead of paying its 1–2.5 s of CPU again."""
    try:
        import ot  # noqa: F401
    except ImportError:  # pragma: no cover - a core dependency; the analyses report its absence
        pass


def _run_each(study: Study, settings: Settings, names: list[str], step: Callable, *,
              split: bool = False) -> dict[str, AnalysisResult]:
    """The analyses ``names`` one after the other, in run order (see :func:`run_analyses`).

    ``split``: the balance leaves its theoretical minimum commute in minutes to the step
    :data:`MIN_COMMUTE` (which ``names`` may hold, last: its result is merged into the
    balance's by :func:`_ordered`); the commuting, when it runs here first, reads its cells
    from its own searches.
    """
    from geo.analysis import balance, core_periphery

    results: dict[str, AnalysisResult] = {}
    cells = balance.commute_cells(study, settings) if MIN_COMMUTE in names else None
    readers = _link_readers(study, settings, names)
    cost = None
    for name in names:
        if name == "commuting" and study.commuting is None:   # only with observed flows
            continue
        with step(name):
            if name == "core_periphery":
                results[name] = core_periphery.run(study, settings)
            elif name == "collaboration":
                from geo.analysis import collaboration

                cp = results.get("core_periphery") or core_periphery.run(study, settings)
                roles = cp.tables["core_periphery_zones"].set_index("zone_id")["role"]
                results[name] = collaboration.run(study, settings, core_roles=roles)
            elif name == "balance":
                results[name] = balance.run(study, settings, min_commute=not split)
            elif name == "chains":
                from geo.analysis import chains

                results[name] = chains.run(study, settings)
            elif name == "commuting":
                from geo.analysis import commuting

                wanted = [] if cells is None or cells.empty else [(cells.xy, cells.used)]
                results[name], costs = commuting.run_with_cells(study, settings, wanted, readers)
                cost = costs[0] if wanted and costs is not None else None
                for reader in readers:
                    reader.remember(study.network)
            elif name == MIN_COMMUTE:
                results[name] = balance.min_commute_part(study, settings, cells, cost)
    return results


def _link_readers(study: Study, settings: Settings, names: list[str]) -> list:
    """When the commuting runs before the collaboration here: a reader of the collaboration's
    partner pairs from the commuting's searches (one complete search per workplace, the
    zones first among them), so that the collaboration does not search them again (its
    answers are the same to the last bit: tested)."""
    if (study.network is None or study.commuting is None or "collaboration" not in names
            or "commuting" not in names or names.index("commuting") > names.index("collaboration")):
        return []
    import numpy as np
    import shapely

    import geo.network as gn
    from geo.analysis import collaboration
    from geo.analysis.balance import workplaces_from

    geoms, pairs = collaboration.travel_pairs(study, settings)
    searched = workplaces_from(study.zones, study.innovation_districts).geometry.to_numpy()
    n = len(geoms)
    if not len(pairs) or len(searched) < n or not bool(np.all(shapely.equals_exact(searched[:n], geoms, 0.0))):
        return []
    net = settings.network
    return [gn.LinkReader(study.network, geoms, pairs, np.arange(n),
                          limit_min=float(settings.collaboration.max_travel_min),
                          access_speed_kmh=net.access_speed_kmh, max_access_m=net.max_access_m)]


def _beside_balance(study: Study, settings: Settings,
                    names: list[str]) -> tuple[dict[str, AnalysisResult], dict[str, float]]:
    """Job :data:`BESIDE_JOB`: the analyses ``names`` with their own durations."""
    steps = Steps(names)
    return _run_each(study, settings, names, steps.step, split=MIN_COMMUTE in names), steps.timings


def _check_output_folder(settings: Settings, target: Path | None = None) -> None:
    """The checks a run makes of its output folder (default ``output.dir``) before its long
    steps, so that a problem is not found only when the outputs are moved in."""
    target = Path(target or settings.output.dir)
    check_writable(target)
    check_output_folders(target, [SUBFOLDERS[step] for step in SUBFOLDERS
                                  if step != "figures" or settings.print.figures])
    check_inputs_outside(target, configured_paths(settings))


def check_study(settings: Settings, only: Iterable[str] | str | None = None) -> tuple[Study, list[str]]:
    """Everything ``zoneatlas validate`` checks: the map settings, the layers, and the
    analyses themselves (run in memory, nothing written).

    Returns
    -------
    (Study, list of str)
        The loaded study and every warning a run with the same settings would print.

    Raises
    ------
    geo._errors.ZoneAtlasError
        Every problem found in the config and the layers, together.
    """
    from geo._errors import ZoneAtlasError
    from geo.layers import load_study

    problems: list[str] = []
    for check in (check_map_settings, check_print_settings, _check_output_folder):
        try:
            check(settings)
        except ZoneAtlasError as exc:
            problems.extend(exc.problems)
    try:
        study = load_study(settings)
    except ZoneAtlasError as exc:
        raise type(exc)(problems + exc.problems) from None
    if problems:
        raise ZoneAtlasError(problems)
    results = run_analyses(study, settings, parse_only(only))
    warnings = list(study.warnings) + [w for r in results.values() for w in r.warnings]
    return study, warnings


def figure_manifest(started: datetime) -> dict[str, Any]:
    """What the print figures read of run.json (their source line: the run's date and
    version), before the manifest is built: the same values as :func:`build_manifest`'s."""
    return {"zoneatlas_version": __version__, "started": started.isoformat(timespec="seconds")}


def build_manifest(study: Study, settings: Settings, results: dict[str, AnalysisResult], *,
                   started: datetime, timings: dict[str, float], only: Iterable[str]) -> dict[str, Any]:
    """The content of run.json: enough to repeat and audit the run."""
    base = settings.config_path.parent if settings.config_path else Path.cwd()

    def rel(path: Path) -> str:
        try:
            return str(Path(path).resolve().relative_to(base))
        except ValueError:
            return str(path)

    inputs = [{"path": rel(f), "sha256": sha256_file(f), "bytes": f.stat().st_size}
              for f in input_files(study, settings)]
    counts: dict[str, Any] = {}
    for name in VECTOR_LAYERS:
        frame = getattr(study, name)
        if frame is not None:
            counts[name] = len(frame)
    if study.commuting is not None:
        counts["commuting"] = len(study.commuting)
    for result in results.values():
        for table_name, table in result.tables.items():
            counts[table_name] = len(table)
    warnings = list(study.warnings) + [w for r in results.values() for w in r.warnings]
    head = figure_manifest(started)   # what the print figures may have read already
    return {
        "zoneatlas_version": head["zoneatlas_version"],
        "study": {"name": settings.study.name, "language": settings.study.language,
                  "synthetic": settings.study.synthetic},
        "config_file": rel(settings.config_path) if settings.config_path else None,
        "started": head["started"],
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "analyses": [a for a in ANALYSES if a in set(only) and (a != "commuting" or study.commuting is not None)],
        "working_crs": study.crs.to_string(),
        "reach": settings.balance_reach,
        "network": network_counts(study.network),
        "export_crs": settings.crs.export or study.crs.to_string(),
        "parameters": settings.as_config(),
        "inputs": inputs,
        "versions": package_versions(),
        "counts": counts,
        "summary": {name: r.summary for name, r in results.items()},
        "warnings": warnings,
        "timings_s": timings,
    }


def run(settings: Settings, *, only: Iterable[str] | str | None = None,
        output_dir: Path | None = None, progress: bool = False) -> RunReport:
    """Validate, analyse and write every output of one study.

    Parameters
    ----------
    settings : Settings
        Validated settings (see :func:`geo.settings.load_settings`).
    only : iterable of str or str, optional
        Analyses to run (default all): ``balance``, ``collaboration``, ``core_periphery``.
    output_dir : Path, optional
        Overrides ``settings.output.dir``.
    progress : bool
        Show a progress bar on stderr.

    Returns
    -------
    RunReport

    Raises
    ------
    geo._errors.ZoneAtlasError
        Bad input or configuration; nothing is written and previous outputs stay.
    """
    from geo.layers import load_study

    only = parse_only(only)
    if only == ("commuting",) and settings.layers.commuting is None:
        raise ConfigError("--only commuting: layers.commuting is not configured; add the observed "
                          "home -> work flows (docs/input-data.md) or run another analysis")
    target = Path(output_dir or settings.output.dir).resolve()
    started = datetime.now(timezone.utc)
    names = ["load layers", *only, *(n for n in OUTPUT_STEPS if n not in BACKGROUND_STEPS), BACKGROUND_WAIT,
             "run.json"]
    steps = Steps(names, progress=progress)
    try:
        _check_output_folder(settings, target)  # fail before the (long) analyses, not after
        check_map_settings(settings)
        check_print_settings(settings)
        # the background steps write into staging while the steps below run; leaving this
        # block on an error stops them before staging is removed (previous outputs intact).
        # Staging and the first of them begin once the layers are loaded, while the road
        # graph is built (a load failing before makes neither)
        with ExitStack() as stack:
            begun: list[tuple[Path, Background]] = []

            def on_layers(loaded: Study) -> None:
                begun.append((stack.enter_context(staged_output(target)), stack.enter_context(Background())))
                start_early_steps(begun[0][0], loaded, settings, begun[0][1])

            with steps.step("load layers"):
                study = load_study(settings, on_layers=on_layers)
            [(staging, background)] = begun
            early: dict[str, list[str]] = {}    # tables written while the analyses beside the balance ran

            def while_waiting(ready: dict[str, AnalysisResult]) -> None:
                with steps.step("tables"):
                    write_tables(staging / SUBFOLDERS["tables"], study, ready)
                early["tabled"] = list(ready)
                if settings.print.figures:   # the balance's page too: the wait is otherwise idle
                    from geo.figures import write_figures

                    with steps.step("figures"):
                        write_figures(staging / SUBFOLDERS["figures"], study, ready, settings,
                                      figure_manifest(started))
                    early["drawn"] = list(ready)

            results = run_analyses(study, settings, only, step=steps.step, background=background,
                                   record=steps.record, while_waiting=while_waiting)
            manifest = write_outputs(staging, study, results, settings, steps, background,
                                     started=started, only=only, tabled=early.get("tabled"),
                                     drawn=early.get("drawn", ()))
            manifest["outputs"] = sorted(str(p.relative_to(staging)) for p in staging.rglob("*") if p.is_file())
            manifest["outputs"].append("run.json")
            with steps.step("run.json"):
                write_json(manifest, staging / "run.json")
    finally:
        steps.close()
    log.info("wrote %s", target)
    return RunReport(output_dir=target, manifest=manifest, study=study, results=results)


def start_early_steps(staging: Path, study: Study, settings: Settings, background: Background) -> None:
    """Start :data:`EARLY_STEP` (needing the loaded layers only), to run while the road graph
    is built and beside the analyses: ``study`` as ``load_study`` hands it to ``on_layers``
    (no roads yet); the QGIS package step appends the rest, the roads first, once it has
    ended (see write_outputs)."""
    from geo.qgis import write_qgis_inputs

    background.start(EARLY_STEP, write_qgis_inputs, staging / SUBFOLDERS["QGIS package"], study, settings)


def write_outputs(staging: Path, study: Study, results: dict[str, AnalysisResult], settings: Settings,
                  steps: Steps, background: Background, *, started: datetime,
                  only: Iterable[str], tabled: Iterable[str] | None = None,
                  drawn: Iterable[str] = ()) -> dict[str, Any]:
    """Write every output but run.json into ``staging``; return the manifest (run.json content).

    ``tabled``: the analyses whose tables, and the input layers' tables, were written
    already (while the run waited for the analyses beside the balance); None: none were.
    ``drawn``: the analyses whose print figures were drawn then.

    The steps of :data:`BACKGROUND_STEPS` run in forked processes (Linux) while the others
    run here; their own durations go into ``timings_s`` and ``background_steps`` (with their
    CPU seconds), and the wait for them at the end is the step ``background``. The QGIS
    package starts once :data:`EARLY_STEP` (when started, see :func:`start_early_steps`)
    has ended, adding the result layers to its GeoPackage (never two writers at once).
    """
    from geo.qgis import write_qgis_package
    from geo.webmap import write_maps

    _share_before_fork(study, results, settings)
    writers: list[tuple[str, Callable, tuple]] = [
        ("tables", write_tables, (staging / SUBFOLDERS["tables"], study,
                                  {k: v for k, v in results.items() if k not in set(tabled or ())},
                                  tabled is None)),
        ("QGIS package", write_qgis_package, (staging / SUBFOLDERS["QGIS package"], study, results, settings,
                                              background.value_of(EARLY_STEP) if EARLY_STEP in background.jobs
                                              else None)),
    ]
    if settings.print.workbook:
        from geo.workbook import run_tables, write_workbook

        writers.append(("workbook", write_workbook,
                        (staging / "tables.xlsx", run_tables(study, results), settings.study.language)))
    # the background steps first, in the order of BACKGROUND_STEPS (the longest first), and
    # before the manifest (hashing the inputs), which they do not need: the workbook, the
    # last step to end on a large study, starts that much sooner
    for name in BACKGROUND_STEPS:
        for writer in writers:
            if writer[0] == name:
                background.start(name, writer[1], *writer[2])
    manifest = build_manifest(study, settings, results, started=started, timings=steps.timings, only=only)
    if settings.print.figures:
        from geo.figures import write_figures

        rest = {k: v for k, v in results.items() if k not in set(drawn)}
        writers.append(("figures", write_figures, (staging / SUBFOLDERS["figures"], study, rest, settings, manifest)))
    writers.append(("maps", write_maps, (staging, study, results, settings, manifest)))
    for name, write, args in writers:
        if name not in BACKGROUND_STEPS:
            with steps.step(name):
                write(*args)
            background.check()   # a failed background step stops the run now, not at the end
    with steps.step(BACKGROUND_WAIT):
        background.wait()
    manifest["finished"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    jobs = background.timings()
    manifest["timings_s"] = {**steps.timings, **{name: t["wall_s"] for name, t in jobs.items()}}
    manifest["background_steps"] = {name: {**t, "forked": background.jobs[name].background}
                                    for name, t in jobs.items()}
    return manifest


def _share_before_fork(study: Study, results: dict[str, AnalysisResult], settings: Settings) -> None:
    """Compute once, before the background steps fork, what several writers derive alike:
    the housing density cells of the balance maps (web map, print figure, QGIS layer) are
    kept with the study, so the children inherit them instead of each computing its own."""
    if "balance" in results:
        from geo.webmap.balance import housing_hexagons

        housing_hexagons(study, settings)


def write_tables(folder: Path, study: Study, results: dict[str, AnalysisResult],
                 inputs: bool = True) -> list[Path]:
    """``tables/<name>.csv`` for every input layer (unless ``inputs`` is false) and every
    result table (UTF-8 with BOM)."""
    written = []
    for name in TABLE_LAYERS if inputs else ():
        frame = getattr(study, name)
        if frame is not None:
            written.append(write_csv(frame, folder / f"{name}.csv"))
    for result in results.values():
        for name, table in result.tables.items():
            written.append(write_csv(table, folder / f"{name}.csv"))
    return written
