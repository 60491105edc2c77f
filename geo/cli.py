"""The ``zoneatlas`` command: ``run``, ``validate`` and ``sample``.

Exit codes: 0 success; 2 bad input or configuration (one ``error:`` line per problem on
stderr, no traceback unless ``--debug``); 1 internal error; 130 interrupted.
Only this module configures logging.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
from pathlib import Path

from geo import __version__
from geo._errors import ZoneAtlasError

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


def _configure_logging(quiet: bool, debug: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_LevelPrefix("%(message)s"))
    root = logging.getLogger("geo")
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if debug else logging.ERROR if quiet else logging.WARNING)
    root.propagate = False
    logging.captureWarnings(True)


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
        parents=[common],
    )
    parser.set_defaults(quiet=False, debug=False)
    parser.add_argument("--version", action="version", version=f"zoneatlas {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", parents=[common], help="validate, analyse, write maps, tables, QGIS package, run.json")
    run.add_argument("-c", "--config", default="config.yaml", type=Path, help="config file (default: config.yaml)")
    run.add_argument("-o", "--output", type=Path, help="output folder (default: output.dir of the config)")
    run.add_argument("--only", help="comma-separated analyses: balance,collaboration,core_periphery")

    validate = sub.add_parser("validate", parents=[common], help="check config and layers, print every problem, write nothing")
    validate.add_argument("-c", "--config", default="config.yaml", type=Path, help="config file (default: config.yaml)")

    sample = sub.add_parser("sample", parents=[common], help="write a synthetic study (layers + config.yaml) into DIR")
    sample.add_argument("-o", "--output", required=True, type=Path, help="folder to write the study into")
    sample.add_argument("--scale", choices=("small", "city", "metro"), default="city",
                        help="small (tests), city (bundled sample), metro (benchmarks)")
    sample.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
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
        for name in ("index.html", "balance.html", "collaboration.html", "core_periphery.html"):
            if (report.output_dir / name).exists():
                print(f"  {report.output_dir / name}")
        print(f"  {report.output_dir / 'qgis' / 'zoneatlas.qgz'}")
        for warning in m["warnings"]:
            print(f"warning: {one_line(warning)}", file=sys.stderr)
    return 0


def _cmd_validate(args: argparse.Namespace, progress: bool) -> int:
    from geo.layers import load_study
    from geo.pipeline import check_map_settings, check_print_settings
    from geo.settings import load_settings

    settings = load_settings(args.config)
    problems = []
    try:
        check_map_settings(settings)
    except ZoneAtlasError as exc:
        problems.extend(exc.problems)
    try:
        check_print_settings(settings)
    except ZoneAtlasError as exc:
        problems.extend(exc.problems)
    try:
        study = load_study(settings)
    except ZoneAtlasError as exc:
        raise type(exc)(problems + exc.problems) from None
    if problems:
        raise ZoneAtlasError(problems)
    if not args.quiet:
        parts = [f"{len(frame)} {name}" for name in ("districts", "zones", "innovation_districts", "housing")
                 if (frame := getattr(study, name)) is not None]
        rasters = [name for name in ("population", "landuse") if getattr(study, name) is not None]
        print(f"ok: {args.config}: {', '.join(parts)}" + (f"; rasters: {', '.join(rasters)}" if rasters else ""))
        print(f"  working CRS: {study.crs.to_string()}; {len(study.warnings)} warning(s)")
        for warning in study.warnings:
            print(f"warning: {one_line(warning)}", file=sys.stderr)
    return 0


def _cmd_sample(args: argparse.Namespace, progress: bool) -> int:
    from geo.sample import write_sample

    config = write_sample(args.output, scale=args.scale, seed=args.seed)
    if not args.quiet:
        print(f"wrote a synthetic {args.scale} study: {config}")
        print(f"run it with: zoneatlas run -c {config}")
    return 0


COMMANDS = {"run": _cmd_run, "validate": _cmd_validate, "sample": _cmd_sample}


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``zoneatlas`` console script; returns the exit code."""
    args = _parser().parse_args(argv)
    _configure_logging(args.quiet, args.debug)
    progress = not args.quiet and sys.stderr.isatty()
    try:
        return COMMANDS[args.command](args, progress)
    except ZoneAtlasError as exc:
        if args.debug:
            log.exception("bad input")
        for problem in exc.problems:
            print(f"error: {one_line(problem)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted; previous outputs are unchanged", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.debug:
            raise
        print(f"error: internal error: {type(exc).__name__}: {exc} "
              "(run again with --debug for the traceback, and please report it)", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
