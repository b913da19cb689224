"""Keep a training process's freed arrays for its next step instead of handing them back."""

from __future__ import annotations

import ctypes
import sys

# glibc's mallopt parameters (malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
# A step frees its activations and gradients together as its graph goes; with glibc's defaults
# (mmap above 128 KiB, then a dynamic threshold, and the heap's top trimmed above twice it) a
# (256, 256) layer's step hands about 2 MiB back to the system and faults it in again on the
# next step, 4 KiB page by page: half the step's time on a VM. Arrays below MMAP_BELOW come
# from the heap, and up to KEEP_UP_TO of freed heap stays in the process for reuse.
MMAP_BELOW = 16 << 20
KEEP_UP_TO = 128 << 20

_kept = False


def keep_freed_memory() -> bool:
    """Set glibc's allocator to keep freed memory for reuse, once per process; True if it is
    set (elsewhere than glibc, nothing changes and False is returned)."""
    global _kept
    if _kept:
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # a libc without mallopt (musl)
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    _kept = bool(mallopt(M_MMAP_THRESHOLD, MMAP_BELOW)) and bool(
        mallopt(M_TRIM_THRESHOLD, KEEP_UP_TO)
    )
    return _kept
