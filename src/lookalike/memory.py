"""Freed memory goes back to the system: a big picture's pixels at once, the rest when the server is idle.

glibc maps a big allocation on its own and unmaps it when it is freed, but only past its mmap threshold, and
it raises that threshold to the size of each such block freed (up to 32 MB). After the first big picture,
Pillow's image blocks and numpy's arrays therefore come from the heaps of glibc's per-thread arenas, which
keep the pages once they are freed: a server that had decoded 40 big pictures at once kept ~3 GB resident
for good. Setting the threshold fixes it where it is (a set threshold is never raised): every block of
8 MB or more (a big picture's pixels: Pillow keeps them in blocks of up to 16 MB) is mapped for itself and
given back when freed. Smaller blocks, the bulk of a request's allocations, stay in the arenas, where they
are reused without a page fault each: at 256 KB, mapping them too made finding and describing the subjects
of a 1200 x 800 JPEG cost 64-85 ms of CPU instead of 43-49.

What the arenas still hold after a burst of concurrent requests (60-160 MB after 40) goes back once no
request is in flight: `GiveBackWhenIdle` calls `malloc_trim`, at most once a second, in a thread of its own.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
import time
from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

M_MMAP_THRESHOLD = -3  # mallopt's parameter number, from glibc's malloc.h
MMAP_THRESHOLD_BYTES = 8 * 1024 * 1024
TRIM_INTERVAL_SECONDS = 1.0


def _libc_function(name: str) -> Callable[..., int] | None:
    """glibc's `name`, or None where the C library has none (musl, macOS: their allocators differ)."""
    try:
        function: Callable[..., int] = getattr(ctypes.CDLL(ctypes.util.find_library("c")), name)
        return function
    except (OSError, AttributeError, TypeError):
        return None


def return_big_blocks() -> bool:
    """Make glibc map every block of MMAP_THRESHOLD_BYTES or more on its own; False where it cannot."""
    mallopt = _libc_function("mallopt")
    return mallopt is not None and bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))


def trim() -> None:
    """Give the free pages of every arena back to the system (glibc's malloc_trim), where there is one."""
    if (malloc_trim := _libc_function("malloc_trim")) is not None:
        malloc_trim(0)


class GiveBackWhenIdle:
    """ASGI middleware: when the last request in flight has been answered, `give_back` runs (in a thread of
    its own, so no request waits for it), at most once every `interval` seconds."""

    def __init__(
        self, app: ASGIApp, give_back: Callable[[], None] = trim, interval: float = TRIM_INTERVAL_SECONDS
    ) -> None:
        self.app = app
        self.give_back = give_back
        self.interval = interval
        self.in_flight = 0  # changed on the event loop only
        self._idle = threading.Event()
        threading.Thread(target=self._run, name="give-back-when-idle", daemon=True).start()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
            if self.in_flight == 0:
                self._idle.set()

    def _run(self) -> None:
        while True:
            self._idle.wait()
            self._idle.clear()
            if self.in_flight == 0:  # none came in since: a burst is over
                self.give_back()
            time.sleep(self.interval)
