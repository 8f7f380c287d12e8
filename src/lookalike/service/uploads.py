"""Pictures uploaded ahead of the request that uses them (the SDKs' `*_advance` methods).

An upload is kept under its object key for a limited time, and all uploads together are kept under a size
limit (the oldest go first), so that abandoned uploads cannot fill the disk. An object key takes one upload
only, and the upload belongs to the access key that made it: no other key reads it. `FileUploadStore` keeps
them as files in the data directory, which every server process on that directory shares.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from lookalike.datadir import written_whole

KEY_PREFIX = "lookalike-upload/"
KEY_PATTERN = re.compile(re.escape(KEY_PREFIX) + r"[0-9a-f]{32}")


class UploadStore(Protocol):
    ttl_seconds: float

    def new_key(self) -> str: ...

    def put(self, key: str, owner: str, data: bytes) -> bool:
        """Keep `data` under `key` for the AccessKeyId `owner`; False if `key` took an upload already."""
        ...

    def get(self, key: str, owner: str) -> bytes | None:
        """The bytes `owner` uploaded under `key`; None if there are none, they are another's, or expired."""
        ...


class FileUploadStore:
    """One file per upload: the owner's AccessKeyId (in hex) on the first line, then the bytes. A file the
    size limit pushed out is emptied rather than removed, so that its key stays used until it expires."""

    def __init__(
        self,
        root: Path,
        ttl_seconds: float = 3600,
        max_total_bytes: int = 256 * 1024 * 1024,
        clock: Callable[[], float] = time.time,
    ):
        self.root = root
        self.ttl_seconds = ttl_seconds
        self.max_total_bytes = max_total_bytes
        self._clock = clock

    def new_key(self) -> str:
        return KEY_PREFIX + secrets.token_hex(16)

    def put(self, key: str, owner: str, data: bytes) -> bool:
        now = self._clock()
        try:
            # Linked into place: it appears whole, and only if no upload took the key before (any process).
            with written_whole(self._path(key), exclusive=True) as file:
                file.write(_owner_line(owner) + data)
                file.flush()
                os.utime(file.fileno(), (now, now))  # the clock decides expiry, in tests too
        except FileExistsError:
            return False
        self._clean(now)
        return True

    def get(self, key: str, owner: str) -> bytes | None:
        path = self._path(key)
        try:
            if path.stat().st_mtime + self.ttl_seconds <= self._clock():
                return None
            stored = path.read_bytes()
        except FileNotFoundError:
            return None
        line = _owner_line(owner)
        return stored[len(line) :] if stored.startswith(line) and len(stored) > len(line) else None

    def _path(self, key: str) -> Path:
        if not KEY_PATTERN.fullmatch(key):
            raise ValueError(f"not an upload key: {key!r}")
        return self.root / key.removeprefix(KEY_PREFIX)

    def _clean(self, now: float) -> None:
        """Drop expired uploads, then the oldest until the rest fit the size limit."""
        files = []
        for path in self.root.iterdir():
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue  # another process cleaned it up
            if stat.st_mtime + self.ttl_seconds <= now:
                path.unlink(missing_ok=True)
            elif not path.name.endswith(".tmp"):
                files.append((stat.st_mtime, stat.st_size, path))
        total = sum(size for _, size, _ in files)
        for mtime, size, path in sorted(files):
            if total <= self.max_total_bytes:
                break
            try:
                os.truncate(path, 0)
                os.utime(path, (mtime, mtime))  # it still expires when it would have
            except FileNotFoundError:
                pass
            total -= size


def _owner_line(owner: str) -> bytes:
    return owner.encode().hex().encode() + b"\n"  # hex: an AccessKeyId cannot end the line early
