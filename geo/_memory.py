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
import sys

log = logging.getLogger(__name__)

#: mallopt parameters of glibc's malloc.h
M_TRIM_THRESHOLD = -1
M_MMAP_MAX = -4
#: free memory kept at the top of the heap before it is returned to the kernel
KEEP_BYTES = 2**31 - 1
#: new container objects between two young collections (CPython's default: 700)
YOUNG_COLLECTION_EVERY = 50_000


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
