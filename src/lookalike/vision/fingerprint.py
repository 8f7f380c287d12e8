"""What made a data directory's vectors, recorded in it (`DATA/model.json`): vectors of another model are
not comparable, so a server started with another one refuses to start instead of mixing them.

The record is small and open to more: the image model's SHA-256 and vector size, and a version per
descriptor that the vision keeps beside the vectors (a kind of local features, say), which the part that
makes them adds under its own name.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path

from lookalike.datadir import write_whole
from lookalike.vision.embedder import MODEL_ASSET

RECORD_FILE = "model.json"


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


def check_or_record(data_dir: Path, current: Fingerprint) -> None:
    """Record `current` in a data directory that has no record; ValueError, saying what to do, if the
    record there is of another model."""
    path = data_dir / RECORD_FILE
    try:
        write_whole(path, (json.dumps(asdict(current), indent=2) + "\n").encode(), exclusive=True)
        return
    except FileExistsError:
        pass
    recorded = Fingerprint(**json.loads(path.read_text()))
    if recorded != current:
        raise ValueError(
            f"the vectors in {data_dir} were made by {recorded.describe()}, and this server has "
            f"{current.describe()}: vectors of two models cannot be compared. Start it with the model "
            "the data directory was made with (--image-model), or give it a new data directory and add "
            f"the pictures again (the record is {path})"
        )
