"""The instances of this server: one JSON file each under `<data>/instances/`.

The command line writes these files whether or not a server runs; a running server reads a file the first
time a request names it, so a new instance needs no restart.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import asdict
from pathlib import Path

from lookalike.datadir import write_whole
from lookalike.errors import LookalikeError
from lookalike.service.models import DEFAULT_QPS, Instance, InstanceType, RequestKind

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,19}")
MAX_NAME_LENGTH = 20


def check_name(name: str) -> str:
    if not NAME_PATTERN.fullmatch(name):
        raise ValueError(
            f"invalid instance name {name!r}: 1 to {MAX_NAME_LENGTH} characters, "
            "letters, digits, '-' or '_', "
            "starting with a letter or digit"
        )
    return name


class Instances:
    def __init__(self, root: Path):
        self.root = root
        self._known: dict[str, Instance] = {}
        self._lock = threading.Lock()

    def _path(self, name: str) -> Path:
        return self.root / f"{name}.json"

    def create(
        self,
        name: str,
        type: InstanceType = "product",
        capacity: int = 10_000_000,
        qps: dict[RequestKind, int] | None = None,
    ) -> Instance:
        """A new instance; `qps` overrides the default requests per second of each kind (0: no limit)."""
        check_name(name)
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        limits = {**DEFAULT_QPS, **(qps or {})}
        if any(limit < 0 for limit in limits.values()):
            raise ValueError("a requests-per-second limit must be 0 (no limit) or more")
        instance = Instance(
            name=name,
            type=type,
            capacity=capacity,
            created_ms=int(time.time() * 1000),
            **{f"{kind}_qps": limit for kind, limit in limits.items()},
        )
        text = json.dumps(asdict(instance), indent=2) + "\n"
        try:  # exclusive: of two creators, one wins
            write_whole(self._path(name), text.encode(), exclusive=True)
        except FileExistsError:
            raise ValueError(f"instance {name!r} already exists") from None
        return instance

    def get(self, name: str) -> Instance:
        """The named instance; `InvalidInstance` if there is none."""
        with self._lock:
            if name in self._known:
                return self._known[name]
        instance = self._read(name) if NAME_PATTERN.fullmatch(name) else None
        if instance is None:
            raise LookalikeError(
                "InvalidInstance", f"The specified instance name is invalid: no instance {name!r}"
            )
        with self._lock:
            self._known[name] = instance
        return instance

    def list(self) -> list[Instance]:
        if not self.root.exists():
            return []
        found = (self._read(p.stem) for p in sorted(self.root.glob("*.json")))
        return [i for i in found if i is not None]

    def _read(self, name: str) -> Instance | None:
        try:
            return Instance(**json.loads(self._path(name).read_text()))
        except FileNotFoundError:
            return None
