"""Settings: where data lives, where to listen, which engine, and the access keys.

Every setting has a default that works on one laptop; the command line and environment override it.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_DATA_DIR = Path("lookalike-data")
KEYS_FILE = "access_keys.json"


@dataclass(frozen=True)
class Settings:
    data_dir: Path = DEFAULT_DATA_DIR
    host: str = "127.0.0.1"
    port: int = 8080
    store_uri: str | None = None  # None: the embedded engine inside data_dir
    max_body_bytes: int = 8 * 1024 * 1024
    clock_skew_seconds: int = 15 * 60
    model_threads: int | None = None  # None: one per core
    region_id: str = "cn-shanghai"  # reported where the service reports a region


def data_dir_from_env() -> Path:
    return Path(os.environ.get("LOOKALIKE_DATA_DIR") or DEFAULT_DATA_DIR)


def store_uri_from_env() -> str | None:
    return os.environ.get("LOOKALIKE_STORE") or None


@dataclass
class AccessKeys:
    """The access key pairs the server accepts: AccessKeyId -> AccessKeySecret."""

    secrets: dict[str, str] = field(default_factory=dict)

    def secret_for(self, access_key_id: str) -> str | None:
        return self.secrets.get(access_key_id)


def load_access_keys(data_dir: Path, environ: dict[str, str] | None = None) -> tuple[AccessKeys, bool]:
    """Keys from LOOKALIKE_ACCESS_KEY_ID/SECRET if set, else from the data directory.

    The first start without either creates a key pair in the data directory; the flag says so, so that
    the caller prints it once.
    """
    env = os.environ if environ is None else environ
    key_id, key_secret = env.get("LOOKALIKE_ACCESS_KEY_ID"), env.get("LOOKALIKE_ACCESS_KEY_SECRET")
    if key_id and key_secret:
        return AccessKeys({key_id: key_secret}), False
    path = data_dir / KEYS_FILE
    if path.exists():
        pairs = json.loads(path.read_text())
        return AccessKeys({p["access_key_id"]: p["access_key_secret"] for p in pairs}), False
    pair = {"access_key_id": "LTAI" + secrets.token_hex(10), "access_key_secret": secrets.token_urlsafe(24)}
    data_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps([pair], indent=2) + "\n")
    tmp.chmod(0o600)
    tmp.replace(path)
    return AccessKeys({pair["access_key_id"]: pair["access_key_secret"]}), True
