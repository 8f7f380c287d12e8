"""What made a data directory's vectors, recorded in it (`DATA/model.json`): vectors of another model, or
made another way from the same model, are not comparable, so a server started with another one refuses to
start instead of mixing them.

The record is small and open to more: the image model's SHA-256 and vector size, and a version per descriptor
under its own name: `vector`, how a vector is made from the model (its pooling, vision/pooling.py). A record
written before a descriptor was recorded was made by its first version (FIRST_VERSIONS). A data directory
keeps the pooling its vectors were made with (`stored_pooling`), so vectors stored before a better pooling
came keep working, and a new directory gets the better one. The packaged model was fine-tuned from an
earlier one with its catalog shots' vectors held where that one put them (`kin`), so a directory the earlier
one made keeps working too, its record as it was. Local features are not here: each stored image's
carry their own format tag, and an image whose features another version wrote is left unverified rather than
refused (vision/local.py).
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from lookalike.datadir import write_whole
from lookalike.vision.embedder import MODEL_ASSET
from lookalike.vision.pooling import FEATURES

RECORD_FILE = "model.json"
MODEL_MANIFEST = "assets/efficientnet_lite0.json"
# What every data directory was made with before its record named the descriptor.
FIRST_VERSIONS = {"vector": FEATURES}


@dataclass(frozen=True)
class Fingerprint:
    image_model_sha256: str
    vector_size: int
    descriptors: dict[str, str] = field(default_factory=dict)  # name -> version of what is kept beside

    def describe(self) -> str:
        extra = "".join(f", {name} {version}" for name, version in sorted(self.descriptors.items()))
        return f"image model sha256 {self.image_model_sha256[:12]}… ({self.vector_size}-dimensional){extra}"


def fingerprint(model_path: Path | None, vector_size: int, pooling: str) -> Fingerprint:
    """What the vision makes vectors with: the model file (the packaged one when None) and how."""
    return Fingerprint(image_model_sha256(model_path), vector_size, {"vector": pooling})


def exported(model: dict[str, Any] | None, vector_size: int) -> Fingerprint:
    """What made an export's vectors, from the record it carries (a descriptor the record does not name was
    made by its first version). An export without one comes from a data directory made before records were
    kept: the packaged model's own `features`, as `stored_pooling` takes such a directory to hold."""
    if model is None:
        return Fingerprint(image_model_sha256(None), vector_size, dict(FIRST_VERSIONS))
    made = Fingerprint(**model)
    return replace(made, descriptors=FIRST_VERSIONS | made.descriptors)


def stored_pooling(data_dir: Path, has_instances: bool) -> str | None:
    """The pooling of the vectors a data directory holds, so that new vectors are pooled the same way: the
    recorded one (the first version for a record that names none); the model's own features for a
    directory with instances but no record (made before records were kept); None for a new directory."""
    recorded = recorded_in(data_dir)
    if recorded is None:
        return FEATURES if has_instances else None
    return recorded.descriptors.get("vector", FIRST_VERSIONS["vector"])


def image_model_sha256(model_path: Path | None) -> str:
    """Of the model file, or of the packaged model when None."""
    if model_path is None:
        data = resources.files("lookalike.vision").joinpath(MODEL_ASSET).read_bytes()
    else:
        data = model_path.read_bytes()
    return hashlib.sha256(data).hexdigest()


def kin(first_sha256: str, second_sha256: str) -> bool:
    """Whether two image models' vectors can be compared: the same model's, or the packaged model's and the
    model's it was fine-tuned from (tools/finetune_descriptor.py), whose vectors of a catalog shot its
    training kept (cosine 0.998 on average; a catalog the earlier model stored, searched with the packaged
    one, finds nearly as many products first as one it stored itself: docs/quality.md, round 31)."""
    return first_sha256 == second_sha256 or {first_sha256, second_sha256} == _tuned_pair()


@functools.cache
def _tuned_pair() -> frozenset[str]:
    manifest = json.loads(resources.files("lookalike.vision").joinpath(MODEL_MANIFEST).read_text())
    tuned = manifest.get("fine_tuned")
    return frozenset() if tuned is None else frozenset({manifest["onnx_sha256"], tuned["from_onnx_sha256"]})


def check_or_record(data_dir: Path, current: Fingerprint) -> None:
    """Record `current` in a data directory that has no record; ValueError, saying what to do, if the
    record there is of another model."""
    path = data_dir / RECORD_FILE
    try:
        write_whole(path, (json.dumps(asdict(current), indent=2) + "\n").encode(), exclusive=True)
        return
    except FileExistsError:
        pass
    recorded = recorded_in(data_dir)
    assert recorded is not None
    named = set(current.descriptors)
    first = {name: version for name, version in FIRST_VERSIONS.items() if name in named}
    recorded = replace(recorded, descriptors=first | recorded.descriptors)
    if kin(recorded.image_model_sha256, current.image_model_sha256):
        recorded = replace(recorded, image_model_sha256=current.image_model_sha256)
    if recorded == current:
        return
    same_model = (recorded.image_model_sha256, recorded.vector_size) == (
        current.image_model_sha256,
        current.vector_size,
    )
    if same_model:  # this version of Lookalike makes vectors from the model another way
        fix = "Run the version of Lookalike that made them"
    else:
        fix = "Start it with the model the data directory was made with (--image-model)"
    raise ValueError(
        f"the vectors in {data_dir} were made by {recorded.describe()}, and this server has "
        f"{current.describe()}: vectors made two ways cannot be compared. {fix}, or give it a new data "
        f"directory and add the pictures again (the record is {path})"
    )


def recorded_in(data_dir: Path) -> Fingerprint | None:
    """The record of the data directory, None if it has none yet."""
    try:
        return Fingerprint(**json.loads((data_dir / RECORD_FILE).read_text()))
    except FileNotFoundError:
        return None
