"""Image embeddings from the packaged EfficientNet-Lite0 ONNX model (onnxruntime, CPU).

The model (built by `tools/export_onnx.py`) takes `image` (N,3,224,224 float32, RGB, (x - 127) / 128) and
returns `feature_map` (N,1280,7,7), `features` (N,1280, their average pool) and `logits` (N,1000). A vector is
the map pooled by R-MAC regions of generalised means (vision/pooling.py), or the model's own `features` where
a data directory's vectors were made that way, L2-normalised; the map follows a ReLU6, so vectors are non-
negative and the cosine of two lies in [0, 1]. `look` returns the vectors, the logits and the map from the
same pass: the map also tells where the subject is, the logits what it is; and, of the packaged model, an
inner tensor's pooled detail (vision/detail.py), asked for as the session is made. A model of one's own
(`--image-model`) needs only `features`; without the other two, `look` has no map and no class scores, and
the vision does without them (and without detail).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import onnxruntime as ort
from PIL import Image

from lookalike.vision import detail
from lookalike.vision.pooling import DEFAULT, FEATURES, POOLINGS, rmac_gem

INPUT_SIZE = 224
MODEL_ASSET = "assets/efficientnet_lite0.onnx"
# The model the packaged one was fine-tuned from (vision/fingerprint.py, `kin`) in 8-bit integers, its
# weights in 7 bits so that every CPU computes the same integers (tools/quantize_onnx.py): 1.3 times cheaper
# on AVX2 alone, 2.3 times with VNNI; its vectors close to the float model's (cosine 0.96-0.97 on average on
# real photos and their crops) but not the same, so never stored; a search screens its further subjects
# with it.
SCREEN_ASSET = "assets/efficientnet_lite0_int8.onnx"
# How a vector is made from the model is named by its pooling (vision/pooling.py: POOLINGS), of the picture
# as `preprocess` gives it, L2-normalised. Any other change (input size, whitening) needs a name of its
# own: the data directory records it (vision/fingerprint.py), and vectors made one way are not comparable
# with vectors made another.
MAX_BATCH = 32  # bounds the activation memory of one session.run


def preprocess(images: Sequence[Image.Image]) -> np.ndarray:
    """Whole image (no crop) resized to 224x224 bilinear, (x - 127) / 128, NCHW float32."""
    batch = np.empty((len(images), 3, INPUT_SIZE, INPUT_SIZE), dtype=np.float32)
    for i, image in enumerate(images):
        if image.mode != "RGB":
            image = image.convert("RGB")
        if image.size != (INPUT_SIZE, INPUT_SIZE):  # a subject's `square` is the size already
            image = image.resize((INPUT_SIZE, INPUT_SIZE), Image.Resampling.BILINEAR)
        # Straight from the bytes into the batch, without float copies (a square: 0.8 -> 0.1 ms measured
        # alone, less between model passes).
        np.subtract(np.asarray(image).transpose(2, 0, 1), np.float32(127), out=batch[i])
    batch /= np.float32(128)  # a power of two: exactly (x - 127) / 128
    return batch


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))  # respects cgroup/taskset pinning, unlike os.cpu_count()
    except AttributeError:
        return os.cpu_count() or 1


def load_session(
    model_path: Path | None = None,
    *,
    threads: int | None = None,
    asset: str = MODEL_ASSET,
    outputs: Sequence[str] = (),
) -> ort.InferenceSession:
    """One CPU session of the model at `model_path`, else of the packaged `asset`, with its inner tensors
    `outputs` as outputs too; `InferenceSession.run` is safe to call from several threads at once."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or _cpu_count()
    options.inter_op_num_threads = 1  # the graph is a straight chain: nothing to run in parallel
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    # Idle worker threads would otherwise spin and steal the cores from concurrent callers.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if model_path is None:
        model: bytes | str = resources.files("lookalike.vision").joinpath(asset).read_bytes()
    else:
        model = str(model_path)
    if outputs:
        model = _with_outputs(model, outputs)
    return ort.InferenceSession(model, sess_options=options, providers=["CPUExecutionProvider"])


def _with_outputs(model: bytes | str, names: Sequence[str]) -> bytes:
    """The model with inner tensors (float) as outputs too; the file is left as it is, so its SHA-256,
    which the data directory records (vision/fingerprint.py), names the same vectors.

    Without parsing the graph: a protobuf parser merges a message field that appears twice, so a second
    `graph` (ModelProto field 7) holding only the new `output`s (GraphProto field 12, each a ValueInfoProto
    of a name and a float tensor type) appended to the file adds them to its graph. Parsing and writing
    back 18 MB with `onnx` cost 0.6 s of every start."""
    data = model if isinstance(model, bytes) else Path(model).read_bytes()
    float_tensor = _field(2, _field(1, b"\x08\x01"))  # TypeProto.tensor_type.elem_type = FLOAT (1)
    outputs = b"".join(_field(12, _field(1, name.encode()) + float_tensor) for name in names)
    return data + _field(7, outputs)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    return bytes(out) + bytes([value])


@dataclass(frozen=True)
class Looks:
    """One model pass over a batch: row i of each array belongs to image i."""

    vectors: np.ndarray  # (n, dim), L2-normalised
    logits: np.ndarray | None  # (n, 1000), ImageNet; None from a model without them
    feature_maps: np.ndarray | None  # (n, dim, 7, 7); None from a model without them
    details: np.ndarray | None = None  # (n, detail.SIZE) (vision/detail.py); the packaged model's alone


def normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    # An all-zero feature row (never seen on real photos) stays zero rather than becoming NaN.
    return vectors / np.maximum(norms, 1e-12)


class Embedder:
    dim: int = 1280

    def __init__(
        self,
        model_path: Path | None = None,
        *,
        threads: int | None = None,
        pooling: str | None = None,
        asset: str = MODEL_ASSET,
    ) -> None:
        """The model at `model_path`, else the packaged `asset`. `pooling` (vision/pooling.py): by default
        R-MAC of generalised means when the model has a feature map, else its own features."""
        # The packaged model's finer detail (vision/detail.py), from an inner tensor of the same pass.
        inner = (detail.OUTPUT,) if model_path is None and asset == MODEL_ASSET else ()
        self.session = load_session(model_path, threads=threads, asset=asset, outputs=inner)
        outputs = {o.name: o for o in self.session.get_outputs()}
        self.dim = outputs["features"].shape[1]
        # What a model of one's own may lack: the map of where things are and the class scores.
        self.extras = [name for name in ("feature_map", "logits", *inner) if name in outputs]
        if pooling is None:
            pooling = DEFAULT if "feature_map" in outputs else FEATURES
        if pooling not in POOLINGS:
            raise ValueError(f"unknown pooling {pooling!r}: one of {', '.join(POOLINGS)}")
        if pooling != FEATURES and "feature_map" not in outputs:
            raise ValueError(f"pooling {pooling!r} needs the model's feature_map output; this model has none")
        self.pooling = pooling

    def features(self, images: Sequence[Image.Image]) -> np.ndarray:
        """Pooled features, not normalised, (n, dim) float32."""
        out = np.empty((len(images), self.dim), dtype=np.float32)
        for start in range(0, len(images), MAX_BATCH):
            chunk = preprocess(images[start : start + MAX_BATCH])
            if self.pooling == FEATURES:
                (out[start : start + len(chunk)],) = self.session.run(["features"], {"image": chunk})
            else:
                (maps,) = self.session.run(["feature_map"], {"image": chunk})
                out[start : start + len(chunk)] = rmac_gem(maps)
        return out

    def embed(self, images: Sequence[Image.Image]) -> np.ndarray:
        """(n, dim) float32, rows L2-normalised."""
        return normalise(self.features(images))

    def look(self, images: Sequence[Image.Image]) -> Looks:
        """Vectors, class scores and feature maps of a small batch (at most MAX_BATCH images)."""
        if len(images) > MAX_BATCH:
            raise ValueError(f"look() takes at most {MAX_BATCH} images, got {len(images)}")
        features, *extras = self.session.run(["features", *self.extras], {"image": preprocess(images)})
        found = dict(zip(self.extras, extras, strict=True))
        maps = found.get("feature_map")
        pooled = features if self.pooling == FEATURES else rmac_gem(maps)
        inner = found.get(detail.OUTPUT)
        details = None if inner is None else detail.pooled(inner)
        return Looks(normalise(pooled), found.get("logits"), maps, details)
