"""Plant mutmut mutants by hand in a scratch copy of the repository and run tests there.

Used to check that a test kills a surviving mutant (docs/mutation-survivors.md) without
a full mutmut run::

    mutmut run ...            # once, so that mutants/ holds the mutated functions
    python tools/plant_mutant.py core_periphery._attachment.x_attach__mutmut_138 \\
        -- tests/test_mutation_kills.py -k estimate
    python tools/plant_mutant.py --show core_periphery._scores.x_score_detail__mutmut_23

Each NAME (``geo.analysis.`` may be left out; several separated by commas) is read from
mutmut's copy in ``mutants/`` (the mutated function against mutmut's copy of the
original), and the differing lines are written into the *original* source of a scratch
copy of ``geo/``, ``tests/`` and ``pyproject.toml``; pytest then runs there with
``PYTHONPATH`` on the copy, and the copy is restored before the next mutant. Prints
KILLED (the tests fail) or SURVIVED per mutant. ``EXTRA_TESTS`` (comma-separated paths)
are copied into the scratch ``tests/`` first, e.g. a probe comparing outputs.
"""

from __future__ import annotations

import difflib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _module_path(name: str) -> tuple[str, str]:
    if not name.startswith("geo."):
        name = "geo.analysis." + name
    mod, func = name.rsplit(".", 1)
    return mod.replace(".", "/") + ".py", func


def _function(src: str, fname: str) -> tuple[int, int, str]:
    """Start, end and text of ``def fname`` (module level or a method): up to the next
    non-blank line indented no deeper than the ``def``."""
    m = re.search(r"^( *)def " + re.escape(fname) + r"\(", src, re.MULTILINE)
    if not m:
        raise SystemExit(f"no function {fname}")
    indent = len(m.group(1))
    end = len(src)
    pos = m.start()
    in_signature = True
    for line in src[pos:].splitlines(keepends=True):
        stripped = line.split("#")[0].strip()
        if in_signature:
            # the (possibly multi-line) signature ends with the first line ending in ':'
            in_signature = not stripped.endswith(":")
        elif stripped and len(line) - len(line.lstrip(" ")) <= indent:
            end = pos
            break
        pos += len(line)
    return m.start(), end, src[m.start():end]


def diff_of(name: str) -> tuple[str, str, list[tuple[list[str], list[str], int]]]:
    """(source path, original function name, hunks (old lines, new lines, line index))."""
    path, func = _module_path(name)
    fname = func.split("__mutmut_")[0]
    msrc = (ROOT / "mutants" / path).read_text(encoding="utf-8")
    orig = _function(msrc, fname + "__mutmut_orig")[2].splitlines()[1:]
    mut = _function(msrc, func)[2].splitlines()[1:]
    sm = difflib.SequenceMatcher(a=orig, b=mut, autojunk=False)
    hunks = [(orig[i1:i2], mut[j1:j2], i1) for tag, i1, i2, j1, j2 in sm.get_opcodes() if tag != "equal"]
    hunks = [h for h in hunks if any(x.strip() for x in h[0] + h[1])]
    return path, fname.removeprefix("x_").split("ǁ")[-1], hunks


def planted_source(name: str) -> tuple[str, str]:
    path, real, hunks = diff_of(name)
    src = (ROOT / path).read_text(encoding="utf-8")
    start, end, text = _function(src, real)
    lines = text.splitlines()
    for old, new, at in sorted(hunks, key=lambda h: -h[2]):
        # line 0 is the "def" line in both copies; the bodies are identical
        assert lines[at + 1:at + 1 + len(old)] == old, (name, old)
        lines[at + 1:at + 1 + len(old)] = new
    return path, src[:start] + "\n".join(lines) + ("\n" if text.endswith("\n") else "") + src[end:]


def main(argv: list[str]) -> int:
    show = bool(argv) and argv[0] == "--show"
    argv = argv[1:] if show else argv
    sep = argv.index("--") if "--" in argv else len(argv)
    names = [n for a in argv[:sep] for n in a.split(",") if n]
    if show:
        for n in names:
            print(n, [h[:2] for h in diff_of(n)[2]])
        return 0
    copy = Path(tempfile.mkdtemp(prefix="plant-"))
    try:
        for item in ("geo", "tests", "pyproject.toml"):
            (shutil.copytree if (ROOT / item).is_dir() else shutil.copy2)(ROOT / item, copy / item)
        for extra in filter(None, os.environ.get("EXTRA_TESTS", "").split(",")):
            shutil.copy2(extra, copy / "tests")
        env = {**os.environ, "PYTHONPATH": str(copy)}
        env.setdefault("HYPOTHESIS_PROFILE", "mutation")
        for n in names:
            path, new_src = planted_source(n)
            target = copy / path
            backup = target.read_text(encoding="utf-8")
            target.write_text(new_src, encoding="utf-8")
            try:
                r = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
                                    *argv[sep + 1:]], cwd=copy, env=env, capture_output=True, text=True,
                                   check=False)
            finally:
                target.write_text(backup, encoding="utf-8")
            verdict = {0: "SURVIVED", 1: "KILLED"}.get(r.returncode, f"rc={r.returncode}")
            tail = (r.stdout.strip().splitlines() or [""])[-1]
            print(f"{verdict:9} {n}  | {tail}", flush=True)
    finally:
        shutil.rmtree(copy, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
