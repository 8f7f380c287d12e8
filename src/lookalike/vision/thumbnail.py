"""A thumbnail of a picture: a small JPEG for people to see, within a byte budget.

Made from the picture as the vision already decoded it (reduced, see `decode.decode_reduced`), so it costs a
resize and an encode, not another decode; an add's is made from the box-filtered 256-pixel copy its
locating looked at (`Sight.thumbnail`), which is the thumbnail's size already, so it costs the encode alone.
"""

from __future__ import annotations

import io

from PIL import Image

THUMBNAIL_SIDE = 256  # the longer side, in pixels: sharp in a results grid on a phone or a desktop
THUMBNAIL_BUDGET = 16 * 1024  # bytes at most
QUALITIES = (80, 65, 50, 35)  # tried in turn until the JPEG fits the budget


def thumbnail(image: Image.Image, side: int = THUMBNAIL_SIDE, budget: int = THUMBNAIL_BUDGET) -> bytes:
    """`image` (RGB) scaled to fit `side` x `side`, as a JPEG of at most `budget` bytes; smaller still if
    no quality fits (a picture of pure noise)."""
    small = image.copy()
    small.thumbnail((side, side), Image.Resampling.BICUBIC)
    while True:
        for quality in QUALITIES:
            out = io.BytesIO()
            small.save(out, "JPEG", quality=quality, optimize=True)
            if out.tell() <= budget:
                return out.getvalue()
        small.thumbnail((max(1, small.width * 3 // 4), max(1, small.height * 3 // 4)))
