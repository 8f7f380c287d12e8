"""Subject regions. For now a plain-background trim; real detection comes later behind the same calls.

`find_subject` estimates the background colour from the image border and returns the bounding box of the
pixels that differ from it. Anything it is unsure about (a busy border, a speck, a box covering nearly the
whole picture) gives the whole image, which is always a safe answer for search.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from PIL import Image

WORK_SIDE = 256  # the downscaled copy's longer side: enough for a tight box, and a few ms to compute
TOLERANCE = 32  # max per-channel distance (0..255) still counted as background: JPEG noise, soft shadows
UNIFORM_BORDER = 0.8  # share of border pixels that must match the background (a subject may touch an edge)
MIN_AREA = 0.10  # smaller boxes are more likely a speck or a logo than the subject
MAX_AREA = 0.90  # larger boxes are not worth cropping to
MARGIN = 0.01  # of the longer side, added around the box: the downscale blurs the subject's edge


class Box(NamedTuple):
    """Pixels of the original image; x2 and y2 are exclusive. Field order follows the service's Region."""

    x1: int
    x2: int
    y1: int
    y2: int

    @property
    def width(self) -> int:
        return self.x2 - self.x1

    @property
    def height(self) -> int:
        return self.y2 - self.y1

    def clip(self, width: int, height: int) -> Box | None:
        """This box inside a width x height image, or None if nothing of it is left."""
        x1, x2 = max(0, min(self.x1, width)), max(0, min(self.x2, width))
        y1, y2 = max(0, min(self.y1, height)), max(0, min(self.y2, height))
        return Box(x1, x2, y1, y2) if x2 > x1 and y2 > y1 else None


def whole(image: Image.Image) -> Box:
    return Box(0, image.width, 0, image.height)


def crop(image: Image.Image, box: Box) -> Image.Image:
    clipped = box.clip(image.width, image.height)
    if clipped is None:
        raise ValueError(f"{box} lies outside the {image.width}x{image.height} image")
    return image.crop((clipped.x1, clipped.y1, clipped.x2, clipped.y2))


def find_subject(image: Image.Image) -> Box:
    width, height = image.size
    scale = min(1.0, WORK_SIDE / max(width, height))
    small_size = (max(1, round(width * scale)), max(1, round(height * scale)))
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    pixels = np.asarray(rgb.resize(small_size, Image.Resampling.BOX), dtype=np.int16)

    border = np.concatenate([pixels[0], pixels[-1], pixels[1:-1, 0], pixels[1:-1, -1]])
    background = np.median(border, axis=0).astype(np.int16)
    if np.mean(np.abs(border - background).max(axis=1) <= TOLERANCE) < UNIFORM_BORDER:
        return whole(image)  # no plain background to trim

    foreground = np.abs(pixels - background).max(axis=2) > TOLERANCE
    # Rows/columns need two foreground pixels, so single noisy pixels don't stretch the box.
    rows = np.flatnonzero(foreground.sum(axis=1) >= 2)
    cols = np.flatnonzero(foreground.sum(axis=0) >= 2)
    if rows.size == 0 or cols.size == 0:
        return whole(image)

    sx, sy = width / small_size[0], height / small_size[1]
    margin = math.ceil(MARGIN * max(width, height))
    box = Box(
        math.floor(cols[0] * sx) - margin,
        math.ceil((cols[-1] + 1) * sx) + margin,
        math.floor(rows[0] * sy) - margin,
        math.ceil((rows[-1] + 1) * sy) + margin,
    ).clip(width, height)
    if box is None or not MIN_AREA <= box.width * box.height / (width * height) <= MAX_AREA:
        return whole(image)
    return box
