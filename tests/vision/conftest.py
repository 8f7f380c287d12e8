"""Vision test fixtures: real photographs shipped in the scikit-image wheel, and one model session."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable
from functools import cache
from importlib import resources

import onnxruntime as ort
import pytest
from PIL import Image

from lookalike.vision.decode import decode_image
from lookalike.vision.embedder import Embedder

# Full-frame colour photographs (skimage/data, public domain or CC0).
PHOTOS = [
    "astronaut.png",
    "chelsea.png",
    "coffee.png",
    "rocket.jpg",
    "motorcycle_left.png",
    "hubble_deep_field.jpg",
]


@cache
def photo_bytes(name: str) -> bytes:
    return resources.files("skimage").joinpath("data", name).read_bytes()


def encode(image: Image.Image, fmt: str, **params) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


@cache
def _decoded(name: str) -> Image.Image:
    return decode_image(photo_bytes(name))


@pytest.fixture(scope="session")
def photo() -> Callable[[str], Image.Image]:
    """A scikit-image photo by file name, through the real intake (RGB, original size). Don't mutate."""
    return _decoded


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return Embedder()


ASSETS = resources.files("lookalike.vision").joinpath("assets")


def packaged_manifest(name: str) -> dict:
    """The manifest of a packaged model file (`tools/export_*.py` write them)."""
    return json.loads(ASSETS.joinpath(name).read_text())


def assert_packaged_as_described(session: ort.InferenceSession, manifest: dict) -> None:
    """The packaged detector file is the one its manifest names, with the input and outputs it lists."""
    data = ASSETS.joinpath(manifest["onnx_file"]).read_bytes()
    assert hashlib.sha256(data).hexdigest() == manifest["onnx_sha256"]
    assert len(data) == manifest["onnx_bytes"] < 30 * 1024 * 1024
    (image,) = session.get_inputs()
    assert (image.name, image.shape, image.type) == ("image", manifest["input"]["shape"], "tensor(float)")
    shapes = {out.name: out.shape for out in session.get_outputs()}
    assert shapes == {name: spec["shape"] for name, spec in manifest["outputs"].items()}
