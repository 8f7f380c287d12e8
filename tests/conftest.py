"""Fixtures shared by every test room: real photographs from an installed package."""

from __future__ import annotations

import io
from importlib import resources

import pytest
from PIL import Image

# Colour photographs that ship inside the scikit-image wheel (public domain or CC0, see skimage/data/README).
PHOTO_FILES = {
    "astronaut": "astronaut.png",
    "chelsea": "chelsea.png",
    "coffee": "coffee.png",
    "rocket": "rocket.jpg",
    "motorcycle": "motorcycle_left.png",
    "hubble": "hubble_deep_field.jpg",
    "retina": "retina.jpg",
    "ihc": "ihc.png",
}


def photo_image(name: str) -> Image.Image:
    with (resources.files("skimage") / "data" / PHOTO_FILES[name]).open("rb") as f:
        return Image.open(f).convert("RGB")


def jpeg(image: Image.Image, quality: int = 90) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


@pytest.fixture(scope="session")
def photos() -> dict[str, bytes]:
    """Each photograph as JPEG bytes, as a shop would upload it."""
    return {name: jpeg(photo_image(name)) for name in PHOTO_FILES}
