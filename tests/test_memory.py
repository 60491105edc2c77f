"""geo._memory: the command-line process reuses the pages of freed large arrays."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

PROBE = r"""
import resource, sys
import numpy as np
if sys.argv[1] == "keep":
    from geo._memory import keep_freed_memory
    assert keep_freed_memory()
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
a = np.ones(64 * 2**20 // 8)      # 64 MB, above glibc's largest mmap threshold
del a
before = faults()
for _ in range(5):                 # allocated, written and freed again, as batches are
    b = np.ones(64 * 2**20 // 8)
    del b
print(faults() - before)
"""


def _faults(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True)
    return int(out.stdout.strip())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_freed_arrays_are_reused_without_page_faults():
    # 5 × 64 MB in 4 KiB pages is 81,920 faults when each array is a fresh mmap (fewer
    # with transparent huge pages); kept in the heap, the pages are already there
    plain = _faults("plain")
    kept = _faults("keep")
    assert kept < 1000, kept
    assert plain > 10 * max(kept, 100), (plain, kept)


def test_the_console_script_keeps_freed_memory_and_main_from_python_does_not(monkeypatch, small_study):
    import tomllib

    import geo.cli as cli

    calls = []
    monkeypatch.setattr(cli, "keep_freed_memory", lambda: calls.append("heap") or True)
    monkeypatch.setattr(cli, "collect_less_often", lambda: calls.append("gc"))
    monkeypatch.setattr(cli, "small_pages_for_arrays", lambda: calls.append("pages") or True)
    assert cli.main(["-q", "validate", "-c", str(small_study)]) == 0
    assert calls == []       # main called from Python: the caller's allocator and collector as they were
    monkeypatch.setattr(sys, "argv", ["zoneatlas", "-q", "validate", "-c", str(small_study)])
    assert cli.console_main() == 0
    assert calls == ["heap", "gc", "pages"]
    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["scripts"]["zoneatlas"] == "geo.cli:console_main"
    assert "console_main()" in (Path(cli.__file__).parent / "__main__.py").read_text(encoding="utf-8")


def test_collect_less_often_raises_only_the_young_threshold():
    import gc

    from geo._memory import YOUNG_COLLECTION_EVERY, collect_less_often

    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 11, 12)
        collect_less_often()
        assert gc.get_threshold() == (YOUNG_COLLECTION_EVERY, 11, 12)
        assert YOUNG_COLLECTION_EVERY >= 10_000
    finally:
        gc.set_threshold(*before)


HUGE_PAGE_PROBE = r"""
import sys
import numpy as np
from geo._memory import keep_freed_memory, small_pages_for_arrays
keep_freed_memory()
print(small_pages_for_arrays())
a = np.ones(64 * 2**20 // 8)      # 64 MB from the heap
advised = 0                       # mappings marked for huge pages by madvise: VmFlags "hg"
with open("/proc/self/smaps") as smaps:
    for line in smaps:
        if line.startswith("VmFlags:") and " hg" in line:
            advised += 1
print(advised)
"""


def _huge_page_probe(**env) -> tuple[str, int]:
    import os

    environment = {k: v for k, v in os.environ.items() if k != "NUMPY_MADVISE_HUGEPAGE"} | env
    out = subprocess.run([sys.executable, "-c", HUGE_PAGE_PROBE], capture_output=True, text=True,
                         check=True, env=environment)
    stopped, advised = out.stdout.split()
    return stopped, int(advised)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="madvise and /proc/self/smaps")
def test_arrays_get_no_huge_page_advice_unless_the_user_asked_for_it():
    # the kernel reads numpy's MADV_HUGEPAGE as the VmFlag "hg" of the mapping
    assert _huge_page_probe() == ("True", 0)
    stopped, advised = _huge_page_probe(NUMPY_MADVISE_HUGEPAGE="1")
    assert stopped == "False"                         # the user's setting is kept ...
    if Path("/sys/kernel/mm/transparent_hugepage/enabled").exists():
        assert advised >= 1                           # ... and honoured by a kernel with THP
    assert _huge_page_probe(NUMPY_MADVISE_HUGEPAGE="0") == ("False", 0)
