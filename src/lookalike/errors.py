"""The one error type of Lookalike.

Raised anywhere (service, vision, store adapters, api) and rendered once, in `api/errors.py`, as the
JSON error body the official SDKs parse. `code` is the service's documented error code.
"""

from __future__ import annotations


class LookalikeError(Exception):
    def __init__(self, code: str, message: str, status: int = 400, retry_after_ms: int | None = None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.retry_after_ms = retry_after_ms
