"""Download links that expire, like the cloud's presigned OSS URLs: `PATH?Expires=<unix s>&Signature=<hex>`.

The signature is an HMAC of the path and the expiry with a key of this data directory, so a link works
across restarts and cannot be stretched or pointed at another file.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import UTC, datetime
from urllib.parse import urlencode

from lookalike.api.errors import ApiError

MAX_EXPIRES_DIGITS = 12  # unix seconds: 11 digits reach the year 5138


class Links:
    def __init__(self, key: bytes, ttl_seconds: int):
        self.key = key
        self.ttl_seconds = ttl_seconds

    def url(self, origin: str, path: str) -> str:
        """A link to `path` on the server at `origin` (scheme://host), valid for the TTL from now."""
        expires = int(time.time()) + self.ttl_seconds
        return f"{origin}{path}?{urlencode({'Expires': expires, 'Signature': self._sign(path, expires)})}"

    def check(self, path: str, expires: str, signature: str) -> None:
        """Refuse a link that was not made here for `path`, or whose time has passed."""
        # ASCII digits only ("²".isdigit() is true), and no more than a time of ours has; bytes compared,
        # since compare_digest refuses a str that is not ASCII.
        readable = expires.isascii() and expires.isdigit() and len(expires) <= MAX_EXPIRES_DIGITS
        expected = self._sign(path, int(expires)).encode() if readable else b""
        if not (readable and hmac.compare_digest(expected, signature.encode())):
            raise ApiError(
                "SignatureDoesNotMatch",
                f"The link's signature does not match: {path[:200]} needs the Expires and Signature it was "
                "given",
                403,
            )
        if time.time() >= int(expires):
            until = datetime.fromtimestamp(int(expires), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            raise ApiError(
                "AccessDenied",
                f"Request has expired: the link was valid until {until}; list the task again for a new one",
                403,
            )

    def _sign(self, path: str, expires: int) -> str:
        return hmac.new(self.key, f"{path}\n{expires}".encode(), hashlib.sha256).hexdigest()
