"""What made a data directory's vectors, recorded in it (`DATA/model.json`): vectors of another model are
not comparable, so a server started with another one refuses to start instead of mixing them.

The record is small and open to more: the image model's SHA-256 and vector size, and a version per
descriptor that the vision keeps beside the vectors (a kind of local features, say), which the part that
makes them adds under its own name. Its `vector` entry names how the model's feature map is pooled into the
vector (vision/pooling.py): a directory keeps the pooling its vectors were made with, so vectors stored
before a better pooling came keep working, and a new directory gets the better one.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from importlib import resources
from pathlib import Path

from lookalike.datadir import write_whole
from lookalike.vision.embedder import MODEL_ASSET
from lookalike.vision.pooling import FEATURES

RECORD_FILE = "model.json"
VECTOR = "vector"  # the descriptors' entry naming the pooling of the vectors


@dataclass(frozen=True)
class Fingerprint:
    image_model_sha256: str
    vector_size: int
    descriptors: dict[str, str] = field(default_factory=dict)  # name -> version of what is kept beside

    def describe(self) -> str:
        extra = "".join(f", {name} {version}" for name, version in sorted(self.descriptors.items()))
        return f"image model sha256 {self.image_model_sha256[:12]}… ({self.vector_size}-dimensional){extra}"


def image_model_sha256(model_path: Path | None) -> str:
    """Of the model file, or of the packaged model when None."""
    if model_path is None:
        data = resources.files("lookalike.vision").joinpath(MODEL_ASSET).read_bytes()
    else:
        data = model_path.read_bytes()
    return hashlib.sha256(data).hexdigest()


def _read(path: Path) -> Fingerprint:
    recorded = Fingerprint(**json.loads(path.read_text()))
    # A record without a pooling was written before the pooling was a choice: the model's own features.
    return replace(recorded, descriptors={VECTOR: FEATURES, **recorded.descriptors})


def stored_pooling(data_dir: Path, has_instances: bool) -> str | None:
    """The pooling of the vectors a data directory holds, so that new vectors are pooled the same way: the
    recorded one; the model's own features for a directory with instances but no record (made before
    records were kept); None for a new directory."""
    path = data_dir / RECORD_FILE
    if path.exists():
        return _read(path).descriptors[VECTOR]
    return FEATURES if has_instances else None


def check_or_record(data_dir: Path, current: Fingerprint) -> None:
    """Record `current` in a data directory that has no record; ValueError, saying what to do, if the
    record there is of another model."""
    path = data_dir / RECORD_FILE
    try:
        write_whole(path, (json.dumps(asdict(current), indent=2) + "\n").encode(), exclusive=True)
        return
    except FileExistsError:
        pass
    recorded = _read(path)
    if recorded != current:
        raise ValueError(
            f"the vectors in {data_dir} were made by {recorded.describe()}, and this server has "
            f"{current.describe()}: vectors of two models cannot be compared. Start it with the model "
            "the data directory was made with (--image-model), or give it a new data directory and add "
            f"the pictures again (the record is {path})"
        )
