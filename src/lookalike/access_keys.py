"""Access keys: the pairs a server accepts, and the data directory's keys file that keeps them.

A key from LOOKALIKE_ACCESS_KEY_ID/SECRET may use every instance; those in the keys file may be limited to
some. The file is private to its owner and read again whenever it changes, so a key made or revoked by the
command line counts at once, at every server of the data directory.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from lookalike.datadir import write_whole

KEYS_FILE = "access_keys.json"
LINK_KEY_FILE = "link.key"


@dataclass(frozen=True)
class AccessKey:
    access_key_id: str
    access_key_secret: str
    instances: frozenset[str] | None = None  # the instances it may use; None: every instance

    def may_use(self, instance: str) -> bool:
        return self.instances is None or instance in self.instances


class AccessKeys:
    """The key pairs the server accepts: the environment's (every instance), and those in the keys file.

    The file is read again whenever it changes, so a key made by `lookalike keys create` works at once.
    """

    def __init__(self, fixed: Sequence[AccessKey] = (), path: Path | None = None):
        self._fixed = {key.access_key_id: key for key in fixed}
        self._path = path
        self._stamp: tuple[int, int, int] | None = None
        self._from_file: dict[str, AccessKey] = {}
        self._lock = threading.Lock()

    def get(self, access_key_id: str) -> AccessKey | None:
        if access_key_id in self._fixed:
            return self._fixed[access_key_id]
        return self._read_file().get(access_key_id)

    def secret_for(self, access_key_id: str) -> str | None:
        key = self.get(access_key_id)
        return None if key is None else key.access_key_secret

    @property
    def secrets(self) -> dict[str, str]:
        """AccessKeyId -> AccessKeySecret of every key."""
        keys = {**self._read_file(), **self._fixed}
        return {key_id: key.access_key_secret for key_id, key in keys.items()}

    def _read_file(self) -> dict[str, AccessKey]:
        if self._path is None:
            return {}
        try:
            stat = self._path.stat()
        except FileNotFoundError:
            return {}
        with self._lock:
            stamp = (stat.st_ino, stat.st_mtime_ns, stat.st_size)  # a rewrite is a new file: a new inode
            if stamp != self._stamp:
                self._from_file = {key.access_key_id: key for key in read_keys_file(self._path)}
                self._stamp = stamp
            return self._from_file


def read_keys_file(path: Path) -> list[AccessKey]:
    """`[{"access_key_id": .., "access_key_secret": .., "instances": [..]}, ...]`; no "instances": all."""
    entries = json.loads(path.read_text())
    return [
        AccessKey(
            e["access_key_id"],
            e["access_key_secret"],
            None if e.get("instances") is None else frozenset(e["instances"]),
        )
        for e in entries
    ]


def create_access_key(data_dir: Path, instances: Sequence[str] | None = None) -> AccessKey:
    """A new key pair, added to the data directory's keys file (kept private to its owner)."""
    key = AccessKey(
        "LTAI" + secrets.token_hex(10),
        secrets.token_urlsafe(24),
        None if instances is None else frozenset(instances),
    )
    _change_keys(data_dir, lambda keys: [*keys, key])
    return key


def revoke_access_key(data_dir: Path, access_key_id: str) -> bool:
    """Take a key out of the keys file: every server of the data directory refuses it from its next
    request on. False if the file has no such key (a key from the environment is not in it)."""
    found = False

    def without(keys: list[AccessKey]) -> list[AccessKey]:
        nonlocal found
        kept = [key for key in keys if key.access_key_id != access_key_id]
        found = len(kept) < len(keys)
        return kept

    _change_keys(data_dir, without)
    return found


def _change_keys(data_dir: Path, change: Callable[[list[AccessKey]], list[AccessKey]]) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / KEYS_FILE
    with (data_dir / f"{KEYS_FILE}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two writers at once must not lose a key
        keys = change(read_keys_file(path) if path.exists() else [])
        entries = [
            {"access_key_id": k.access_key_id, "access_key_secret": k.access_key_secret}
            | ({} if k.instances is None else {"instances": sorted(k.instances)})
            for k in keys
        ]
        write_whole(path, json.dumps(entries, indent=2).encode() + b"\n", mode=0o600)


def load_access_keys(
    data_dir: Path, environ: dict[str, str] | None = None, *, create: bool = True
) -> tuple[AccessKeys, bool]:
    """The keys of LOOKALIKE_ACCESS_KEY_ID/SECRET if set, and those of the data directory's keys file.

    The first start with neither creates a key pair in the data directory; the flag says so, so that
    the caller prints it once.
    """
    env = os.environ if environ is None else environ
    key_id, key_secret = env.get("LOOKALIKE_ACCESS_KEY_ID"), env.get("LOOKALIKE_ACCESS_KEY_SECRET")
    path = data_dir / KEYS_FILE
    if key_id and key_secret:
        return AccessKeys([AccessKey(key_id, key_secret)], path), False
    created = create and not path.exists()
    if created:
        create_access_key(data_dir)
    return AccessKeys(path=path), created


def link_key(data_dir: Path) -> bytes:
    """The key that signs download links, made on first use and kept, so links outlive a restart and work
    on every server of the data directory."""
    path = data_dir / LINK_KEY_FILE
    with contextlib.suppress(FileExistsError):  # of two servers starting at once, the first one's key wins
        write_whole(path, secrets.token_hex(32).encode(), mode=0o600, exclusive=True)
    return path.read_bytes()
