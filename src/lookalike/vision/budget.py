"""A budget on the memory that decodes in flight may hold together, so that concurrent big pictures queue
instead of multiplying.

A 4096 x 4096 picture costs 32-256 MB of pixels while it is decoded (whichever way it is decoded: PNG, WebP
and TIFF have no reduced decode), and a request of it can be a few hundred bytes. Each decode asks the budget
for its estimated peak first. Those that do not fit wait (whichever fits when room is made goes first)
for at most `wait_seconds`; then the request is refused with `DeniedRequest` (403, with a retry-after, as
for a rate limit), so a client is not held past its own read timeout and can try again; work that can wait
(an import's lines) catches `DecodeBusy` and asks again. A picture that costs more than the whole budget is
decoded alone.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from lookalike.domain.errors import RateLimited

DEFAULT_BYTES = 512 * 1024 * 1024
DEFAULT_WAIT_SECONDS = 5.0  # and as long again to decode, within the SDKs' 10 s read timeout
RETRY_AFTER_MS = 1000


class DecodeBusy(RateLimited):
    """No room in the decode budget in time: a client is told to wait; work that can wait tries again."""


class DecodeBudget:
    def __init__(self, limit_bytes: int = DEFAULT_BYTES, wait_seconds: float = DEFAULT_WAIT_SECONDS):
        if limit_bytes <= 0:
            raise ValueError(f"the decode memory budget must be positive, not {limit_bytes} bytes")
        self.limit_bytes = limit_bytes
        self.wait_seconds = wait_seconds
        self._used = 0
        self._waiting = 0
        self.denied = 0  # decodes refused so far
        self._changed = threading.Condition()

    @property
    def used(self) -> int:
        return self._used

    @property
    def waiting(self) -> int:
        return self._waiting

    @contextlib.contextmanager
    def hold(self, cost: int) -> Iterator[None]:
        """Reserve `cost` bytes while the block runs; wait for room, or raise DecodeBusy."""
        cost = min(cost, self.limit_bytes)
        with self._changed:
            self._waiting += 1
            try:
                admitted = self._changed.wait_for(
                    lambda: self._used + cost <= self.limit_bytes, timeout=self.wait_seconds
                )
            finally:
                self._waiting -= 1
            if not admitted:
                self.denied += 1
                raise DecodeBusy(
                    f"Your request was denied due to flow control: the server is decoding other large "
                    f"pictures and this one ({cost // 2**20} MB of pixels) did not fit in its "
                    f"{self.limit_bytes // 2**20} MB decode budget within {self.wait_seconds:g} s. "
                    "Try again later, or send a smaller picture.",
                    retry_after_ms=RETRY_AFTER_MS,
                )
            self._used += cost
        try:
            yield
        finally:
            with self._changed:
                self._used -= cost
                self._changed.notify_all()
