"""Requests-per-second limits of instances, behind a small interface.

`LocalRateLimiter` keeps its counters in this process. Several server processes sharing one catalog (a
distributed store) would need a shared implementation of `RateLimiter` (e.g. on Redis or the store itself);
until then each process enforces the limit on its own share of the traffic.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol


class RateLimiter(Protocol):
    def admit(self, bucket: str, per_second: int) -> float | None:
        """None if one more request fits `per_second` now, else the seconds until one would."""
        ...


class LocalRateLimiter:
    """A token bucket per name: `per_second` tokens a second, at most one second's worth saved up."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # name -> (tokens, when counted)
        self._lock = threading.Lock()

    def admit(self, bucket: str, per_second: int) -> float | None:
        now = self._clock()
        with self._lock:
            tokens, then = self._buckets.get(bucket, (float(per_second), now))
            tokens = min(float(per_second), tokens + (now - then) * per_second)
            if tokens >= 1.0:
                self._buckets[bucket] = (tokens - 1.0, now)
                return None
            self._buckets[bucket] = (tokens, now)
            return (1.0 - tokens) / per_second
