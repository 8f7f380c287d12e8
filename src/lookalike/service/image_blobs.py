"""Small blobs kept beside each stored image, by kind: its thumbnail, and whatever else a feature needs of
the picture once the picture itself is gone (local features, say).

The vector store keeps what search needs; these are what only one image's page or a re-ranking reads, by
key, never searched. One SQLite database per instance, `DATA/blobs/<instance>.<created_ms>.sqlite3`: an
instance deleted and made again under its name is born with a new file, so that a process still holding
the old one open writes nothing into the new instance. SQLite keeps blobs of a few kilobytes faster and
smaller than a file each.

The service writes them after the image is stored and removes them when it is deleted; a crash between
the two leaves at most an orphan blob (never read: reads go by the keys of stored images) or an image
without one (its thumbnail missing, as for an image added with thumbnails off).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

from lookalike.datadir import Database
from lookalike.domain.image import ImageKey
from lookalike.service.models import Instance

SCHEMA = """
CREATE TABLE IF NOT EXISTS blobs (
    kind TEXT NOT NULL,
    product_id TEXT NOT NULL,
    pic_name TEXT NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (product_id, pic_name, kind)
)
"""
THUMBNAIL = "thumbnail"  # a small JPEG of the stored picture, for people to see (vision/thumbnail.py)


class ImageBlobs:
    def __init__(self, root: Path, *, wal: bool = False):
        """`wal`: see `lookalike.datadir.open_database`."""
        self.root = root
        self.wal = wal
        self._open: dict[tuple[str, int], Database] = {}
        self._lock = threading.Lock()

    def put(self, instance: Instance, kind: str, blobs: Iterable[tuple[ImageKey, bytes]]) -> None:
        """Keep (or replace) one blob of `kind` per key."""
        rows = [(kind, key.product_id, key.pic_name, data) for key, data in blobs]
        if rows:
            with self._database(instance).transaction() as db:
                db.executemany("INSERT OR REPLACE INTO blobs VALUES (?, ?, ?, ?)", rows)

    def get(self, instance: Instance, kind: str, keys: Sequence[ImageKey]) -> dict[ImageKey, bytes]:
        """The blobs of `kind` that exist among `keys`."""
        if not keys or not self._path(instance).exists():
            return {}
        found = {}
        with self._database(instance).connection() as db:
            for key in keys:
                row = db.execute(
                    "SELECT data FROM blobs WHERE product_id = ? AND pic_name = ? AND kind = ?",
                    (key.product_id, key.pic_name, kind),
                ).fetchone()
                if row is not None:
                    found[key] = row[0]
        return found

    def delete(self, instance: Instance, keys: Sequence[ImageKey]) -> None:
        """Remove every kind of blob of these images."""
        if not keys or not self._path(instance).exists():
            return
        with self._database(instance).transaction() as db:
            db.executemany(
                "DELETE FROM blobs WHERE product_id = ? AND pic_name = ?",
                [(key.product_id, key.pic_name) for key in keys],
            )

    def drop(self, name: str) -> None:
        """Remove the blobs of every instance ever named `name` (its database and journal files)."""
        with self._lock:
            for generation in [g for g in self._open if g[0] == name]:
                self._open.pop(generation).close()
        for path in self.root.glob(f"{name}.*.sqlite3*"):
            path.unlink(missing_ok=True)

    def close(self) -> None:
        with self._lock:
            for database in self._open.values():
                database.close()
            self._open.clear()

    def _path(self, instance: Instance) -> Path:
        return self.root / f"{instance.name}.{instance.created_ms}.sqlite3"

    def _database(self, instance: Instance) -> Database:
        generation = (instance.name, instance.created_ms)
        with self._lock:
            database = self._open.get(generation)
            if database is None:
                database = self._open[generation] = Database(self._path(instance), self.wal, schema=SCHEMA)
            return database
