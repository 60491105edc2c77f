"""The ``zoneatlas`` command: ``run``, ``validate`` and ``sample``.

Exit codes: 0 success; 2 bad input or configuration (one ``error:`` line per problem on
stderr, no traceback unless ``--debug``); 1 internal error or a missing/broken Python
package (one line naming it and the pip command); 130 interrupted.
Only this module configures logging.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
from pathlib import Path

from geo import __version__
from geo._deps import check_dependencies, install_hint
from geo._errors import DependencyError, ZoneAtlasError
from geo._memory import collect_less_often, keep_freed_memory, small_pages_for_arrays

log = logging.getLogger("geo")

_CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")


def one_line(text: str) -> str:
    """``text`` with control characters escaped (``\\n``), so that a value from the user's
    data or config can never start a forged ``error:`` line of its own."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), str(text))


class _LevelPrefix(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        prefix = {logging.WARNING: "warning: ", logging.ERROR: "error: "}.get(record.levelno, "")
        text = super().format(record)
        return prefix + (text if record.exc_info else one_line(text))


class _ReturnedWarnings(logging.Filter):
    """Warnings that loading and the analyses also return (study.warnings, result.warnings)
    are printed once, at the end of the command, not a second time as they are logged."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.levelno == logging.WARNING
                    and record.name.startswith(("geo.layers", "geo.analysis")))


def _configure_logging(quiet: bool, debug: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_LevelPrefix("%(message)s"))
    handler.addFilter(_ReturnedWarnings())
    root = logging.getLogger("geo")
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if debug else logging.ERROR if quiet else logging.WARNING)
    root.propagate = False
    logging.captureWarnings(True)


_EPILOG = """\
quick start:
  zoneatlas sample -o mystudy && zoneatlas run -c mystudy/config.yaml
  then open mystudy/maps/index.html in a browser

exit codes: 0 success, 2 bad input or config (one 'error:' line per problem),
1 internal or installation problem, 130 interrupted.
"""


class _HelpFormatter(argparse.HelpFormatter):
    """Shows an option's default when it has one; keeps the line breaks of multi-line text."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        shown = not (action.default is None or action.default is False
                     or action.default == argparse.SUPPRESS)
        if shown and "%(default)" not in text and action.option_strings:
            text += " (default: %(default)s)"
        return text

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if "\n" in text:
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


def _seed(text: str) -> int:
    """A random seed as numpy takes it: any whole number ≥ 0 (argparse turns the ValueError
    into a usage error)."""
    value = int(text)
    if value < 0:
        raise ValueError(text)
    return value


_seed.__name__ = "seed"   # argparse: "invalid seed value: '-1'"


def _parser() -> argparse.ArgumentParser:
    # -q/--debug work before and after the command; SUPPRESS keeps a subcommand's
    # default from overwriting a flag given before it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                        help="print errors only, no progress bar")
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="verbose log; show tracebacks")

    parser = argparse.ArgumentParser(
        prog="zoneatlas",
        description="Planning analyses of industrial functional zones: cross-district "
                    "collaboration, jobs-housing balance and core-periphery layout, as offline "
                    "web maps and a QGIS package.",
        epilog=_EPILOG,
        formatter_class=_HelpFormatter,
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"zoneatlas {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")

    run = sub.add_parser(
        "run", parents=[common], formatter_class=_HelpFormatter,
        help="validate, analyse, write maps, tables, QGIS package, run.json",
        description="Validate the config and layers, run the analyses and write index.html, one "
                    "map per analysis, tables/*.csv, the QGIS package (qgis/) and run.json into the "
                    "output folder. The previous outputs are replaced only when the run has "
                    "finished; a failed run leaves them as they were.")
    run.add_argument("-c", "--config", default="config.yaml", type=Path, help="config file")
    run.add_argument("-o", "--output", type=Path,
                     help="output folder (default: output.dir of the config, normally maps/ beside it)")
    run.add_argument("--only", metavar="ANALYSES",
                     help="comma-separated subset of balance,collaboration,core_periphery,chains,"
                          "commuting (default: all); a partial run gives the same numbers as a full one")

    validate = sub.add_parser(
        "validate", parents=[common], formatter_class=_HelpFormatter,
        help="check config and layers, print every problem and warning, write nothing",
        description="Check the config and every layer and run the analyses in memory: prints every "
                    "problem (exit 2) and every warning a run would print. Writes nothing.")
    validate.add_argument("-c", "--config", default="config.yaml", type=Path, help="config file")

    sample = sub.add_parser(
        "sample", parents=[common], formatter_class=_HelpFormatter,
        help="write a synthetic study (layers + config.yaml) into DIR",
        description="Write a synthetic (fictional) study into DIR: layers/ and a config.yaml ready "
                    "for 'zoneatlas run -c DIR/config.yaml'.")
    sample.add_argument("-o", "--output", required=True, type=Path, metavar="DIR",
                        help="folder to write the study into")
    sample.add_argument("--scale", choices=("small", "city", "metro"), default="city",
                        help="small (tests, seconds), city (the bundled sample), metro (2,000 zones, "
                             "1M housing points: benchmarks)")
    sample.add_argument("--seed", type=_seed, default=0, help="random seed (a whole number ≥ 0)")

    compare = sub.add_parser(
        "compare", parents=[common], formatter_class=_HelpFormatter,
        help="compare two runs (run folders or configs): deltas, changes, compare.html",
        description="Compare a plan scenario with a baseline (现状 vs 规划方案): BASE and PLAN are run "
                    "folders (holding run.json) or config files, which are run first. Writes "
                    "tables/compare_<table>.csv, compare_summary.csv, compare.json and compare.html. "
                    "Runs whose working CRS or analysis parameters differ are refused unless "
                    "--allow-parameter-changes.")
    compare.add_argument("base", type=Path, metavar="BASE", help="baseline: run folder (with run.json) or config file")
    compare.add_argument("plan", type=Path, metavar="PLAN", help="plan scenario: run folder or config file")
    compare.add_argument("-o", "--output", required=True, type=Path, help="folder to write the comparison into")
    compare.add_argument("--allow-parameter-changes", action="store_true",
                         help="compare runs whose working CRS or analysis parameters differ (listed on the page)")
    return parser


def _cmd_run(args: argparse.Namespace, progress: bool) -> int:
    from geo.pipeline import parse_only, run
    from geo.settings import load_settings

    only = parse_only(args.only)
    settings = load_settings(args.config)
    report = run(settings, only=only, output_dir=args.output, progress=progress)
    if not args.quiet:
        m = report.manifest
        counts = m["counts"]
        print(f"zoneatlas: {counts.get('zones', 0)} zones, {counts.get('innovation_districts', 0)} innovation "
              f"districts, {counts.get('housing', 0)} housing features; analyses: {', '.join(m['analyses'])}")
        for name in ("index.html", *(f"{a}.html" for a in ("balance", "collaboration", "core_periphery",
                                                           "chains", "commuting")), "qgis/zoneatlas.qgz"):
            if (report.output_dir / name).exists():
                print(f"  {report.output_dir / name}")
        for warning in dict.fromkeys(m["warnings"]):
            print(f"warning: {one_line(warning)}", file=sys.stderr)
    return 0


def _cmd_validate(args: argparse.Namespace, progress: bool) -> int:
    from geo.pipeline import check_study
    from geo.settings import load_settings

    settings = load_settings(args.config)
    study, warnings = check_study(settings)
    if not args.quiet:
        parts = [f"{len(frame)} {name}" for name in ("districts", "zones", "innovation_districts", "housing",
                                                             "firms", "employment")
                 if (frame := getattr(study, name)) is not None]
        rasters = [name for name in ("population", "landuse") if getattr(study, name) is not None]
        if study.employment_raster is not None:
            rasters.append("employment")
        print(f"ok: {args.config}: {', '.join(parts)}" + (f"; rasters: {', '.join(rasters)}" if rasters else ""))
        print(f"  working CRS: {study.crs.to_string()}; {len(warnings)} warning(s)")
        for warning in warnings:
            print(f"warning: {one_line(warning)}", file=sys.stderr)
    return 0


def _check_sample_target(folder: Path) -> None:
    """``zoneatlas sample -o DIR`` writes a new study: it never overwrites one, nor a file."""
    from geo._errors import OutputError

    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{folder}: exists and is not a folder; choose a new folder with -o")
    if folder.is_dir():
        held = [name for name in ("config.yaml", "layers") if (folder / name).exists()]
        if held:
            raise OutputError(f"{folder}: already holds a study ({', '.join(held)}); zoneatlas sample "
                              "never overwrites one: choose a new or empty folder with -o")


def _cmd_sample(args: argparse.Namespace, progress: bool) -> int:
    from geo.sample import write_sample

    _check_sample_target(args.output)
    config = write_sample(args.output, scale=args.scale, seed=args.seed)
    if not args.quiet:
        print(f"wrote a synthetic {args.scale} study: {config}")
        print(f"run it with: zoneatlas run -c {config}")
    return 0


def _cmd_compare(args: argparse.Namespace, progress: bool) -> int:
    from geo.comparison import compare

    result = compare(args.base, args.plan, args.output, allow_parameter_changes=args.allow_parameter_changes,
                     progress=progress)
    if not args.quiet:
        print(f"zoneatlas compare: {len(result.tables)} tables, {len(result.summary)} indicators")
        for name in ("balance_workplaces", "core_periphery_zones", "collaboration_pairs"):
            if name in result.tables:
                c = result.counts(name)
                print(f"  {name}: {c['changed']} changed, {c['added']} added, {c['removed']} removed, "
                      f"{c['same']} same")
        print(f"  {result.output_dir / 'compare.html'}")
        for d in result.differences:
            print(f"warning: {one_line(d['key'])} differs (BASE {one_line(d['base'])}, PLAN {one_line(d['plan'])}); "
                  "compared anyway (--allow-parameter-changes)", file=sys.stderr)
    return 0


COMMANDS = {"run": _cmd_run, "validate": _cmd_validate, "sample": _cmd_sample, "compare": _cmd_compare}


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``zoneatlas`` console script; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    for flag in ("quiet", "debug"):   # no parser default: it would be shared with the
        if not hasattr(args, flag):   # subcommands' copies and overwrite a flag given before them
            setattr(args, flag, False)
    if args.command is None:   # bare 'zoneatlas': say what it can do
        parser.print_help()
        return 0
    _configure_logging(args.quiet, args.debug)
    progress = not args.quiet and sys.stderr.isatty()
    try:
        check_dependencies()
        return COMMANDS[args.command](args, progress)
    except ZoneAtlasError as exc:
        if args.debug:
            log.exception("bad input")
        for problem in exc.problems:
            print(f"error: {one_line(problem)}", file=sys.stderr)
        return 2
    except DependencyError as exc:
        print(f"error: {one_line(exc)}", file=sys.stderr)
        return 1
    except ImportError as exc:   # a package that is installed but broken
        if args.debug:
            raise
        print(f"error: {one_line(install_hint(exc.name or str(exc)))} ({one_line(exc)})", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted; previous outputs are unchanged", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.debug:
            raise
        print(f"error: internal error: {type(exc).__name__}: {one_line(exc)} "
              "(run again with --debug for the traceback, and please report it)", file=sys.stderr)
        return 1


def console_main() -> int:
    """The ``zoneatlas`` console script and ``python -m geo``: :func:`main` in a process of
    its own, which keeps freed memory for reuse, collects cycles less often and gives
    numpy's arrays ordinary pages (:mod:`geo._memory`). :func:`main` called from Python
    leaves the caller's allocator, garbage collector and numpy as they are."""
    keep_freed_memory()
    collect_less_often()
    small_pages_for_arrays()
    return main()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(console_main())
