"""Move an instance between stores (the embedded engine, a Milvus server) as a stream of JSON lines.

The first line describes the instance and what made its vectors (the data directory's record,
vision/fingerprint.py: an import into a data directory whose vectors were made otherwise is refused); each
further line is one image with every stored field and its vector (float32, little-endian, base64), so an
import needs neither the pictures nor a model run. Local features, colours, detail, softened views and
thumbnails are not carried: imported images are searched by their vectors alone, unverified and not
reordered by colour, detail or softened view.

    {"format": "lookalike-instance", "version": 1, "instance": {"name": "shop", ...}, "model": {...}}
    {"product_id": "p1", "pic_name": "a.jpg", "category_id": 3, "region": [0, 64, 0, 48], ..., "vector": ...}
"""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict
from typing import Any, TextIO

import numpy as np

from lookalike.domain.errors import InstanceNotFound
from lookalike.domain.image import Image
from lookalike.service.instances import Instances
from lookalike.service.models import Instance
from lookalike.store.base import Store

FORMAT, VERSION = "lookalike-instance", 1
_BATCH = 256


Progress = Callable[[int, int | None], None]  # images done so far, of how many (None: not known)


def export_instance(
    instances: Instances,
    store: Store,
    name: str,
    out: TextIO,
    progress: Progress = lambda done, total: None,
    model: dict[str, Any] | None = None,
) -> int:
    """Write the instance and every image of it to `out`, with `model` (what made the vectors, as the data
    directory records it) if known; returns the number of images."""
    instance = instances.get(name)
    total = store.count(instance.collection)
    header = {"format": FORMAT, "version": VERSION, "instance": asdict(instance), "model": model}
    out.write(json.dumps(header, ensure_ascii=False) + "\n")
    written, cursor = 0, None
    while True:
        page, cursor = store.scroll(instance.collection, cursor=cursor, with_vectors=True)
        for record in page:
            vector = base64.b64encode(np.asarray(record.vector, dtype="<f4").tobytes()).decode()
            out.write(json.dumps(record.payload() | {"vector": vector}, ensure_ascii=False) + "\n")
        written += len(page)
        progress(written, total)
        if cursor is None:
            return written


def import_instance(
    instances: Instances,
    store: Store,
    lines: Iterable[str],
    name: str | None = None,
    progress: Progress = lambda done, total: None,
    accept_model: Callable[[dict[str, Any] | None, int], None] = lambda model, vector_size: None,
) -> tuple[Instance, int]:
    """Add the images of an export to the instance `name` (by default the exported one's name), which is
    created with the exported type and capacity if it does not exist; returns it and the number of images.
    `accept_model` sees what made the exported vectors (None for an export that does not say) and their
    size, and raises ValueError, before anything is stored, if they cannot join the store's."""
    source = iter(lines)
    header = json.loads(next(source, "null"))
    if not isinstance(header, dict) or (header.get("format"), header.get("version")) != (FORMAT, VERSION):
        raise ValueError(f"not a {FORMAT} export of version {VERSION}")
    records = _records(source)
    batch = list(itertools.islice(records, _BATCH))
    if batch:
        assert batch[0].vector is not None  # every line has one
        vector_size = len(batch[0].vector)
        accept_model(header.get("model"), vector_size)
    exported = Instance(**header["instance"])
    try:
        instance = instances.get(name or exported.name)
    except InstanceNotFound:  # none of that name yet
        instance = instances.create(name or exported.name, exported.type, exported.capacity)
    imported = 0
    while batch:
        if not imported:
            store.ensure_collection(instance.collection, vector_size)
        store.upsert(instance.collection, batch)
        imported += len(batch)
        progress(imported, None)
        batch = list(itertools.islice(records, _BATCH))
    return instance, imported


def _records(lines: Iterator[str]) -> Iterator[Image]:
    for number, line in enumerate(lines, start=2):
        if not line.strip():
            continue
        try:
            fields = json.loads(line)
            vector = np.frombuffer(base64.b64decode(fields.pop("vector"), validate=True), dtype="<f4")
            yield Image.from_payload(fields, vector.astype(np.float32))
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise ValueError(f"line {number} of the export is not an image: {error!r}") from None
