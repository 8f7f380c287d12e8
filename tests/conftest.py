"""Fixtures shared by every test room: real photographs from an installed package."""

from __future__ import annotations

import io
from importlib import resources

import numpy as np
import pytest
from PIL import Image

from lookalike.vision.subjects import Box

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
# Real photographs of textures (grey), the cluttered ground a shopper's product lies on in the tests.
GROUND_FILES = {"grass": "grass.png", "gravel": "gravel.png", "brick": "brick.png"}


def photo_image(name: str) -> Image.Image:
    with (resources.files("skimage") / "data" / {**PHOTO_FILES, **GROUND_FILES}[name]).open("rb") as f:
        return Image.open(f).convert("RGB")


def place(
    ground: Image.Image, thing: Image.Image, at: tuple[int, int], width: int, angle: float = 0.0
) -> tuple[Image.Image, Box]:
    """`thing` scaled to `width` px, turned by `angle` degrees, laid on a copy of `ground` with its
    top-left corner at `at`; the picture, and the box of the thing in it."""
    scaled = thing.convert("RGBA").resize((width, round(thing.height * width / thing.width)))
    turned = scaled.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True)
    picture = ground.convert("RGBA")
    picture.alpha_composite(turned, at)
    ys, xs = np.nonzero(np.asarray(turned.getchannel("A")) > 128)
    box = Box(
        at[0] + int(xs.min()), at[0] + int(xs.max()) + 1, at[1] + int(ys.min()), at[1] + int(ys.max()) + 1
    )
    return picture.convert("RGB"), box


def plain(size: tuple[int, int], colour: tuple[int, int, int] = (255, 255, 255)) -> Image.Image:
    return Image.new("RGB", size, colour)


def jpeg(image: Image.Image, quality: int = 90) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


@pytest.fixture(scope="session")
def photos() -> dict[str, bytes]:
    """Each photograph as JPEG bytes, as a shop would upload it."""
    return {name: jpeg(photo_image(name)) for name in PHOTO_FILES}
