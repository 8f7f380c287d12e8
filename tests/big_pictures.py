"""Small files that decode to the biggest pictures accepted (4096 x 4096): what costs a server memory.

Each kind compresses well, so a few kilobytes of request become tens of megabytes of pixels. They are the
pictures of the memory test (tests/vision/test_decode_memory.py) and of bench/bench_memory.py.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import cache

import numpy as np
from PIL import Image

from lookalike.vision.decode import MAX_SIDE
from tests.conftest import photo_image

SIDE = MAX_SIDE


def _encode(image: Image.Image, fmt: str, **params) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def _rgb() -> Image.Image:
    """A red square on white: one colour per row run, so PNG and TIFF compress it ~1000 times."""
    image = Image.new("RGB", (SIDE, SIDE), (255, 255, 255))
    image.paste((200, 30, 30), (SIDE // 4, SIDE // 4, 3 * SIDE // 4, 3 * SIDE // 4))
    return image


def webp_one_colour() -> bytes:
    return _encode(Image.new("RGB", (SIDE, SIDE), (200, 30, 30)), "WEBP", lossless=True)


def png_grey_16bit() -> bytes:
    ramp = (np.arange(SIDE, dtype=np.uint32) * 65535 // (SIDE - 1)).astype(np.uint16)
    return _encode(Image.fromarray(np.tile(ramp, (SIDE, 1))), "PNG")  # mode I;16


def png_rgb() -> bytes:
    return _encode(_rgb(), "PNG", optimize=True)


def tiff_rgb() -> bytes:
    return _encode(_rgb(), "TIFF", compression="tiff_adobe_deflate")


def png_rgba() -> bytes:
    """A product cut out on a transparent background, the common catalogue picture."""
    image = _rgb().convert("RGBA")
    image.putalpha(Image.new("L", (SIDE, SIDE), 0))
    image.paste((200, 30, 30, 255), (SIDE // 4, SIDE // 4, 3 * SIDE // 4, 3 * SIDE // 4))
    return _encode(image, "PNG", optimize=True)


def gif_palette() -> bytes:
    return _encode(_rgb().quantize(4), "GIF")


def _photo() -> Image.Image:
    return photo_image("coffee").resize((SIDE, SIDE), Image.Resampling.BICUBIC)


def jpeg_photo() -> bytes:
    return _encode(_photo(), "JPEG", quality=85)


def jpeg_progressive() -> bytes:
    """Its decoder keeps every coefficient of the whole picture, however reduced its output."""
    return _encode(_photo(), "JPEG", quality=85, progressive=True, subsampling=0)


KINDS: dict[str, Callable[[], bytes]] = {
    "WebP lossless, one colour": webp_one_colour,
    "PNG 16-bit grey": png_grey_16bit,
    "PNG RGB": png_rgb,
    "PNG RGBA": png_rgba,
    "TIFF RGB": tiff_rgb,
    "GIF palette": gif_palette,
    "JPEG": jpeg_photo,
    "JPEG progressive": jpeg_progressive,
}


@cache
def picture(kind: str) -> bytes:
    return KINDS[kind]()
