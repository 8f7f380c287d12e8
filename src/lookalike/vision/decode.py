"""Validated image intake: bytes in, an RGB `PIL.Image` out, or a `BadPicture`.

`decode_image` gives the picture at its original size; `decode_reduced` gives it at most about twice as big
as `side` (960 px), which is all the vision needs (everything it looks at is at most 224 pixels a side):
a JPEG is scaled down by its decoder as it decodes (draft mode: 1/2, 1/4 or 1/8), saving ~100 ms of CPU on a
phone's 12-megapixel photo; other formats have no reduced decode, so they are decoded whole and reduced by
whole blocks of pixels (`Image.reduce`) at once.

Memory: a 4096 x 4096 picture can be a 700-byte file, yet decoding it takes its pixels at full size (64 MB
as RGB, four times that through Pillow's WebP decoder). That much is unavoidable with Pillow; everything
after it is made small: the conversion to RGB (16-bit grey, transparency onto white, palettes) and the
reduction run one strip of rows at a time into the small result, so no second full-size copy, and no float
copy, is ever made. `decode_reduced` estimates that peak from the header before decoding (`peak_bytes`) and
holds it in a `DecodeBudget` while it decodes, so concurrent big pictures queue instead of multiplying.

Checks run cheapest first and the pixels are decoded only after the header passed: byte size, format
(a whitelist handed to `Image.open`, so ICO/PSD/TGA/PDF/... never reach a parser), side lengths, EXIF
orientation, then the decode itself. Pillow's global limits are left as they are: its
`MAX_IMAGE_PIXELS` bomb check still fires inside `Image.open`, and `LOAD_TRUNCATED_IMAGES` stays False
so a truncated file raises instead of yielding a half-grey image. No global state is touched, so this is
safe to call from many threads at once.
"""

from __future__ import annotations

import contextlib
import io
import math
from typing import NamedTuple

import numpy as np

# Import the accepted plugins up front: Image.open would otherwise import TIFF/WebP lazily on first use.
from PIL import (
    BmpImagePlugin,  # noqa: F401
    GifImagePlugin,  # noqa: F401
    Image,
    JpegImagePlugin,  # noqa: F401
    PngImagePlugin,  # noqa: F401
    PpmImagePlugin,  # noqa: F401
    TiffImagePlugin,  # noqa: F401
    UnidentifiedImageError,
    WebPImagePlugin,  # noqa: F401
)

from lookalike.domain.errors import BadPicture
from lookalike.vision.budget import DecodeBudget

MAX_PIC_BYTES = 4 * 1024 * 1024
MIN_SIDE = 100
MAX_SIDE = 4096
FORMATS = ("PNG", "JPEG", "BMP", "GIF", "WEBP", "TIFF", "PPM")
ORIENTATION_TAG = 0x0112
# EXIF orientations 2..8 make viewers flip or rotate the pixels; 0 and junk values change nothing.
ROTATED = frozenset(range(2, 9))
WHITE = (255, 255, 255, 255)
# A reduced decode keeps the longer side at least this long: over four times the model's 224 pixels, so
# a subject filling a tenth of the picture's width still has ~100 pixels to be described from.
REDUCED_SIDE = 960
# Rows are converted to RGB a strip of about this many bytes at a time.
STRIP_BYTES = 2 * 1024 * 1024
# Besides the pixels at full size and the result: a strip's copies (a float one for 16-bit grey), and the
# decoders' own buffers.
WORKING_BYTES = 24 * 1024 * 1024


class Reduced(NamedTuple):
    image: Image.Image  # RGB, maybe smaller than the original
    width: int  # the original's size, which regions are measured in
    height: int


def decode_image(data: bytes) -> Image.Image:
    """The picture at its original size (for tools and tests: no budget holds the result)."""
    return _load(_open(data), 1)


def decode_reduced(data: bytes, side: int = REDUCED_SIDE, budget: DecodeBudget | None = None) -> Reduced:
    """The picture reduced to a whole fraction of its size, its longer side kept at least `side`; and the
    original's size. With a `budget`, the decode waits for its peak memory to fit in it."""
    image = _open(data)
    width, height = image.size
    if max(width, height) >= 2 * side:
        scale = side / max(width, height)
        image.draft("RGB", (math.ceil(width * scale), math.ceil(height * scale)))  # a no-op but for JPEG
    factor = max(1, max(image.size) // side)
    cost = peak_bytes(image, factor, (width, height))
    with budget.hold(cost) if budget else contextlib.nullcontext():
        return Reduced(_load(image, factor), width, height)


def peak_bytes(image: Image.Image, factor: int, original: tuple[int, int]) -> int:
    """The most memory decoding an opened picture (maybe drafted smaller, from `original`) and reducing it
    `factor` times takes, from its header."""
    width, height = image.size
    pixels = width * height
    decoded = pixels * _bytes_per_pixel(image.mode)
    if image.format == "WEBP":
        decoded *= 4  # libwebp's canvas and previous canvas, the frame's bytes, and Pillow's image of them
    if image.format == "JPEG" and "progression" in image.info:
        # A progressive JPEG keeps every DCT coefficient of the original (2 bytes a sample) until its last
        # scan, however reduced its output.
        decoded += original[0] * original[1] * len(image.getbands()) * 2
    result = math.ceil(width / factor) * math.ceil(height / factor) * 4
    return decoded + result + WORKING_BYTES


def picture_size(data: bytes) -> tuple[int, int]:
    """The picture's width and height, read from its header once it passed the checks of every picture."""
    return _open(data).size


def _open(data: bytes) -> Image.Image:
    if len(data) > MAX_PIC_BYTES:
        raise BadPicture(
            "content",
            f"The picture is {len(data)} bytes; the limit is {MAX_PIC_BYTES} bytes (4 MB).",
        )
    if not data:
        raise BadPicture("content", "The picture is empty.")

    try:
        image = Image.open(io.BytesIO(data), formats=FORMATS)
    except UnidentifiedImageError:
        if _has_accepted_signature(data[:16]):  # e.g. a TIFF cut before its directory
            raise BadPicture("content", "The picture header is truncated or corrupt.") from None
        raise BadPicture(
            "format",
            "The picture is not in a supported format; use PNG, JPEG, BMP, GIF, WebP, TIFF or PPM.",
        ) from None
    except Image.DecompressionBombError:
        raise _pixels_error("declares more pixels than Pillow's decompression-bomb limit") from None
    except Exception as exc:  # plugins raise a zoo of types (ValueError, OSError, ...) on hostile headers
        raise BadPicture("content", f"The picture header is corrupt ({exc}).") from None

    width, height = image.size
    if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
        raise _pixels_error(f"is {width}x{height} px")
    return image


def _load(image: Image.Image, factor: int) -> Image.Image:
    try:
        # Read the orientation before load(): Pillow's TIFF loader applies it and drops the tag. (For a PNG
        # whose eXIf chunk follows the pixels, getexif() loads them itself.)
        orientation = image.getexif().get(ORIENTATION_TAG)
        if orientation not in ROTATED:
            image.load()  # first frame only for GIF/TIFF/APNG/WebP
            rgb = _to_rgb(image, factor)
    except Exception as exc:  # truncated or corrupt data: refuse rather than pass on a half-decoded image
        raise BadPicture("content", f"The picture data is truncated or corrupt ({exc}).") from None

    if orientation in ROTATED:
        raise BadPicture(
            "orientation",
            f"The picture has EXIF orientation {orientation}; only upright pictures (orientation 1 or none) "
            "are accepted. Rotate the pixels and drop the orientation tag.",
        )
    return rgb


def _has_accepted_signature(prefix: bytes) -> bool:
    """Whether the magic bytes claim one of the accepted formats (Pillow's own per-format check)."""
    return any(bool(accept and accept(prefix)) for _, accept in (Image.OPEN[fmt] for fmt in FORMATS))


def _pixels_error(what: str) -> BadPicture:
    return BadPicture(
        "pixels",
        f"The picture {what}; each side must be between {MIN_SIDE} and {MAX_SIDE} px.",
    )


def _bytes_per_pixel(mode: str) -> int:
    """What Pillow stores a pixel of `mode` in: a byte for grey and palettes, two for 16-bit grey, and four
    for the rest (RGB is padded to four)."""
    if mode in ("1", "L", "P"):
        return 1
    return 2 if mode.startswith("I;16") else 4


def _to_rgb(image: Image.Image, factor: int) -> Image.Image:
    """An RGB image, `factor` times smaller. One that needs converting is made a strip of rows at a time, so
    that beside the loaded picture only the result and one strip's copies are ever in memory."""
    if image.mode == "RGB" and "transparency" not in image.info and not getattr(image, "is_animated", False):
        # Nothing to convert (most photos): reduced in one step, without the strips' copies.
        return image.reduce(factor) if factor > 1 else image
    width, height = image.size
    rows = max(1, STRIP_BYTES // (4 * width) // factor) * factor  # whole blocks of factor x factor pixels
    result = Image.new("RGB", (math.ceil(width / factor), math.ceil(height / factor)))
    for top in range(0, height, rows):
        strip = _strip_to_rgb(image.crop((0, top, width, min(height, top + rows))))
        result.paste(strip.reduce(factor) if factor > 1 else strip, (0, top // factor))
    return result


def _strip_to_rgb(image: Image.Image) -> Image.Image:
    """RGB; transparency is composited onto white."""
    mode = image.mode
    if mode.startswith("I") or mode == "F":
        # 16/32-bit grey (16-bit PNG, TIFF, PGM) or float (PFM): Pillow's convert would clip, not scale.
        pixels = np.asarray(image, dtype=np.float32)
        top = 1.0 if mode == "F" else 65535.0
        return Image.fromarray(np.clip(pixels / top * 255.0 + 0.5, 0, 255).astype(np.uint8)).convert("RGB")
    if mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        canvas = Image.new("RGBA", image.size, WHITE)
        canvas.alpha_composite(rgba)
        return canvas.convert("RGB")
    return image.convert("RGB")
