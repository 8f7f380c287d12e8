"""Replay protection: a signature nonce may be used once while its request's timestamp is acceptable.

A nonce must be remembered only as long as the clock check would still let its request in, so memory is
bounded by the request rate times that window. `LocalNonceCache` remembers in this process; several server
processes behind one address would need a shared `NonceCache` (e.g. Redis SET NX with an expiry).
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Callable
from typing import Protocol


class NonceCache(Protocol):
    def first_use(self, access_key_id: str, nonce: str, expires_at: float) -> bool:
        """Record the nonce until `expires_at` (Unix time); False if it is already recorded."""
        ...


class LocalNonceCache:
    def __init__(self, clock: Callable[[], float] = time.time):
        self._clock = clock
        self._seen: set[tuple[str, str]] = set()
        self._expiry: list[tuple[float, tuple[str, str]]] = []  # a heap, soonest first
        self._lock = threading.Lock()

    def first_use(self, access_key_id: str, nonce: str, expires_at: float) -> bool:
        entry = (access_key_id, nonce)
        with self._lock:
            now = self._clock()
            while self._expiry and self._expiry[0][0] <= now:
                self._seen.discard(heapq.heappop(self._expiry)[1])
            if entry in self._seen:
                return False
            self._seen.add(entry)
            heapq.heappush(self._expiry, (expires_at, entry))
            return True

    def __len__(self) -> int:
        return len(self._seen)
