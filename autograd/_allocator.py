"""Keep freed array memory in the process instead of handing it back to the OS (glibc only).

A training step allocates and frees the same large arrays every time (im2col columns, conv
outputs, their gradients). glibc serves blocks above its mmap threshold with fresh ``mmap``
pages and trims the top of the heap once enough is free, so each step gives those megabytes
back and then takes them again, page fault by page fault: about 2,000 faults and a quarter of
the CPU time of a small CNN's training step (measured with ``getrusage``). Raising the mmap
threshold to 32 MiB and the trim threshold to 256 MiB makes the memory of one step serve the
next: the CNN step of ``benchmarks/bench_conv.py`` then runs about 25% faster with the same
peak RSS (the peak is the step's working set either way).

Opt out with ``GRAPHGRAD_KEEP_FREED_MEMORY=0``. Nothing is changed when the process already
sets glibc's own ``MALLOC_MMAP_THRESHOLD_`` / ``MALLOC_TRIM_THRESHOLD_``, or on other C
libraries and platforms.
"""

from __future__ import annotations

import ctypes
import os
import sys

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20
TRIM_THRESHOLD = 256 << 20


def keep_freed_memory() -> bool:
    """Set glibc's mmap and trim thresholds (see the module docstring); True if they were set."""
    if not sys.platform.startswith("linux"):
        return False
    if os.environ.get("GRAPHGRAD_KEEP_FREED_MEMORY", "1") == "0":
        return False
    if "MALLOC_MMAP_THRESHOLD_" in os.environ or "MALLOC_TRIM_THRESHOLD_" in os.environ:
        return False  # the user tuned glibc already
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
