"""Freed picture memory goes back to the system at once.

glibc maps a big allocation on its own and unmaps it when it is freed, but only past its mmap threshold, and
it raises that threshold to the size of each such block freed (up to 32 MB). After the first big picture,
Pillow's image blocks and numpy's arrays therefore come from the heaps of glibc's per-thread arenas, which
keep the pages once they are freed: a server that had decoded 40 big pictures at once kept ~3 GB resident
for good. Setting the threshold fixes it where it is (a set threshold is never raised): every block of
8 MB or more (a big picture's pixels: Pillow keeps them in blocks of up to 16 MB) is mapped for itself and
given back when freed. Smaller blocks, the bulk of a request's allocations, stay in the arenas, where they
are reused without a page fault each: at 256 KB, mapping them too made finding and describing the subjects
of a 1200 x 800 JPEG cost 64-85 ms of CPU instead of 43-49.
"""

from __future__ import annotations

import ctypes
import ctypes.util

M_MMAP_THRESHOLD = -3  # mallopt's parameter number, from glibc's malloc.h
MMAP_THRESHOLD_BYTES = 8 * 1024 * 1024


def return_big_blocks() -> bool:
    """Make glibc map every block of MMAP_THRESHOLD_BYTES or more on its own; False where the C library
    has no mallopt (musl, macOS), whose allocators do their own thing."""
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c")).mallopt
    except (OSError, AttributeError, TypeError):
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))
