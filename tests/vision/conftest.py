"""Vision test fixtures: real photographs shipped in the scikit-image wheel, and one model session."""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import cache
from importlib import resources

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
