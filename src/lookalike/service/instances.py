"""The instances of this server: one JSON file each under `<data>/instances/`.

The command line writes these files whether or not a server runs; a running server looks at a file's
identity on every request that names it (one `stat`), so a new, changed or deleted instance needs no
restart, on any server of the data directory.

Deleting an instance first renames its file to a tombstone (`.deleting-<name>.json`): from then on the
instance is gone for requests, and its name cannot be taken again until whoever deletes it has removed
everything it held and then the tombstone. A deletion cut short leaves the tombstone, and deleting the name
again finishes it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, replace
from pathlib import Path

from lookalike.datadir import write_whole
from lookalike.domain.errors import BadInstanceName, BadValue, InstanceExists, InstanceNotFound
from lookalike.service.models import (
    DEFAULT_CAPACITY,
    INSTANCE_TYPES,
    NO_LIMITS,
    REQUEST_KINDS,
    Instance,
    InstanceType,
    RequestKind,
)

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,19}")
MAX_NAME_LENGTH = 20
TOMBSTONE_PREFIX = ".deleting-"


def check_name(name: str) -> str:
    if not NAME_PATTERN.fullmatch(name):
        raise BadInstanceName(
            f"invalid instance name {name!r}: 1 to {MAX_NAME_LENGTH} characters, "
            "letters, digits, '-' or '_', "
            "starting with a letter or digit"
        )
    return name


def not_found(name: str) -> InstanceNotFound:
    return InstanceNotFound(f"The specified instance is not found: {name!r}")


class Instances:
    def __init__(self, root: Path):
        self.root = root
        self._known: dict[str, tuple[tuple[int, int, int], Instance]] = {}  # name -> (file identity, it)
        self._lock = threading.Lock()

    def _path(self, name: str) -> Path:
        return self.root / f"{name}.json"

    def tombstone(self, name: str) -> Path:
        return self.root / f"{TOMBSTONE_PREFIX}{name}.json"

    def create(
        self,
        name: str,
        type: InstanceType = "product",
        capacity: int = DEFAULT_CAPACITY,
        qps: dict[RequestKind, int] | None = None,
        thumbnails: bool = True,
    ) -> Instance:
        """A new instance; `qps` sets requests per second of each kind (0, the default: no limit)."""
        check_name(name)
        if type not in INSTANCE_TYPES:
            raise BadValue("type", f"unknown instance type {type!r}; one of {', '.join(INSTANCE_TYPES)}")
        instance = _checked(
            Instance(
                name=name,
                type=type,
                capacity=capacity,
                created_ms=int(time.time() * 1000),
                thumbnails=thumbnails,
            ),
            {**NO_LIMITS, **(qps or {})},
        )
        if self.tombstone(name).exists():
            raise InstanceExists(
                f"instance {name!r} is being deleted; if no deletion runs, finish it with "
                f"`lookalike instance delete {name}`"
            )
        try:  # exclusive: of two creators, one wins
            write_whole(self._path(name), _text(instance), exclusive=True)
        except FileExistsError:
            raise InstanceExists(f"instance {name!r} already exists") from None
        return instance

    def update(
        self,
        name: str,
        capacity: int | None = None,
        qps: dict[RequestKind, int] | None = None,
        thumbnails: bool | None = None,
    ) -> Instance:
        """Change an instance's capacity, limits or thumbnails (its type stays what it was made as); None
        leaves a setting as it is."""
        with self._writing():
            current = self.get(name)
            changed = _checked(
                replace(
                    current,
                    capacity=current.capacity if capacity is None else capacity,
                    thumbnails=current.thumbnails if thumbnails is None else thumbnails,
                ),
                {**{kind: current.qps(kind) for kind in REQUEST_KINDS}, **(qps or {})},
            )
            write_whole(self._path(name), _text(changed))
        return changed

    def get(self, name: str) -> Instance:
        """The named instance as its file says now; `InvalidInstance` if there is none."""
        if not NAME_PATTERN.fullmatch(name):
            raise not_found(name)
        path = self._path(name)
        try:
            stat = path.stat()
        except FileNotFoundError:
            with self._lock:
                self._known.pop(name, None)
            raise not_found(name) from None
        identity = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        with self._lock:
            known = self._known.get(name)
        if known is not None and known[0] == identity:
            return known[1]
        instance = self._read(path)
        if instance is None:
            raise not_found(name)
        with self._lock:
            self._known[name] = (identity, instance)
        return instance

    def list(self) -> list[Instance]:
        if not self.root.exists():
            return []
        names = sorted(p.stem for p in self.root.glob("*.json") if NAME_PATTERN.fullmatch(p.stem))
        found = (self._read(self._path(name)) for name in names)
        return [i for i in found if i is not None]

    def start_deleting(self, name: str) -> Instance | None:
        """Turn the instance into a tombstone; the instance it was, or None when only a tombstone was left
        by a deletion cut short. `InvalidInstance` if there is neither."""
        check_name(name)
        with self._writing():
            try:
                instance = self.get(name)
            except InstanceNotFound:
                if self.tombstone(name).exists():
                    return None
                raise
            self._path(name).replace(self.tombstone(name))
        with self._lock:
            self._known.pop(name, None)
        return instance

    def finish_deleting(self, name: str) -> None:
        self.tombstone(name).unlink(missing_ok=True)

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """Changes to existing instances one at a time, in every process: a read-modify-write must not lose
        another's change."""
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / ".lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    @staticmethod
    def _read(path: Path) -> Instance | None:
        try:
            return Instance(**json.loads(path.read_text()))
        except FileNotFoundError:
            return None


def _text(instance: Instance) -> bytes:
    return (json.dumps(asdict(instance), indent=2) + "\n").encode()


def _checked(instance: Instance, qps: dict[RequestKind, int]) -> Instance:
    """The instance with these limits, once the capacity and limits are known to be sound."""
    if instance.capacity < 1:
        raise BadValue("capacity", "capacity must be at least 1")
    if any(limit < 0 for limit in qps.values()):
        raise BadValue("qps", "a requests-per-second limit must be 0 (no limit) or more")
    return replace(instance, search_qps=qps["search"], add_qps=qps["add"], delete_qps=qps["delete"])
