"""Keep freed memory for reuse in a ``zoneatlas`` command (glibc only).

A run allocates and frees the same large numpy arrays over and over (a batch of network
searches is workplaces × nodes minutes, tens of MB). glibc serves every allocation above
its mmap threshold (at most 32 MB) with a fresh ``mmap`` and returns it to the kernel on
``free``, so each batch faults in and zeroes its pages again: on the metro sample about
2.2 million page faults and 10-12 s of system time per run. Served from the heap and
kept there when freed, the next batch reuses the same pages.

The same process also runs Python's cyclic garbage collector less often
(:func:`collect_less_often`): a metro study holds some two million geometries, which the
collector cannot free (no cycles) but walked in each of its full collections.

And it asks for no transparent huge pages for numpy's arrays (:func:`small_pages_for_arrays`):
on a virtual machine whose memory the host backs only when first touched (Firecracker,
the machine the benchmarks run on), each new 2 MB huge page cost milliseconds.

Only the command-line process does this (``zoneatlas`` and ``python -m geo``, through
:func:`geo.cli.console_main`; it ends with the command); the Python API, and
:func:`geo.cli.main` called from Python, leave the allocator and the collector of a
notebook, an application or a test session as they are.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import os
import sys

log = logging.getLogger(__name__)

#: mallopt parameters of glibc's malloc.h
M_TRIM_THRESHOLD = -1
M_MMAP_MAX = -4
#: free memory kept at the top of the heap before it is returned to the kernel
KEEP_BYTES = 2**31 - 1
#: new container objects between two young collections (CPython's default: 700)
YOUNG_COLLECTION_EVERY = 50_000
#: numpy's switch for MADV_HUGEPAGE; set, it is the user's choice and kept
NUMPY_HUGEPAGE_VARIABLE = "NUMPY_MADVISE_HUGEPAGE"


def keep_freed_memory() -> bool:
    """Serve large allocations from the heap and keep what is freed there (glibc's
    ``mallopt``: no mmap'd chunks, a trim threshold of 2 GiB). Returns whether it was
    set; on another C library (macOS, Windows, musl) nothing changes."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):       # not glibc
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    done = bool(mallopt(M_MMAP_MAX, 0)) and bool(mallopt(M_TRIM_THRESHOLD, KEEP_BYTES))
    log.debug("allocator: large arrays from the heap, freed memory kept: %s", done)
    return done


def collect_less_often() -> None:
    """Run the cyclic garbage collector's young collection every
    :data:`YOUNG_COLLECTION_EVERY` new container objects instead of every 700, and so its
    full collections far less often. Each full collection walks every object the process
    holds: on the metro sample (1.9 million housing, employment and firm points, 150,000
    road lines) the command's process made 13 of them, 1.2-1.3 s of CPU (1.4-1.55 s for
    the collector in all, most of it while the layers are read, when the run has one
    process); collecting every 50,000 objects, 0.3 s and no full collection. Reference
    counting frees everything else as before; the cycles a run leaves (few, small) wait
    a little longer."""
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_EVERY, older, oldest)


def small_pages_for_arrays() -> bool:
    """Stop numpy from advising transparent huge pages (``madvise(MADV_HUGEPAGE)``) for its
    arrays, as ``NUMPY_MADVISE_HUGEPAGE=0`` does at import; returns whether it was stopped.
    Left as it is when the user has set that variable, and off Linux.

    On a virtual machine whose host backs guest memory only when it is first touched
    (Firecracker, which runs this project's CI and benchmarks), the first write to a fresh
    2 MB huge page waits for the host to back all of it: two 1 GB arrays took 18 s with
    huge pages and 0.9 s without, and three alternated pairs of metro runs took 58.2-61.1 s
    against 54.8-56.8 s (loading the layers 11.9-12.4 s against 8.2-9.4 s; system time
    17 s against 13 s). The kernel still gives huge pages where it sees fit (the
    ``transparent_hugepage`` setting ``always``); only numpy's request goes.
    """
    if not sys.platform.startswith("linux") or NUMPY_HUGEPAGE_VARIABLE in os.environ:
        return False
    import numpy as np

    try:
        setter = np._core.multiarray._set_madvise_hugepage
    except AttributeError:              # numpy 1.x
        setter = np.core.multiarray._set_madvise_hugepage
    setter(False)
    log.debug("numpy's arrays without MADV_HUGEPAGE")
    return True
