"""Real photographs for the benchmarks, from installed packages only (nothing is downloaded).

The colour photographs that ship in scikit-image's wheel are few, so the set is widened with crops of them
at random positions and scales (fixed seed): each crop is still a real photograph, but they are not
independent scenes. Sizes are about 800 px on the long side, as phones and shops send them.
"""

from __future__ import annotations

import io
import random
from importlib import resources

from PIL import Image

SOURCES = (
    "astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png", "motorcycle_right.png",
    "hubble_deep_field.jpg", "retina.jpg", "ihc.png", "immunohistochemistry.png",
)  # fmt: skip


def source_images() -> list[Image.Image]:
    data = resources.files("skimage") / "data"
    images = []
    for name in SOURCES:
        path = data / name
        if path.is_file():
            with path.open("rb") as f:
                images.append(Image.open(f).convert("RGB"))
    return images


def to_jpeg(image: Image.Image, quality: int = 85) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def photo_set(count: int, seed: int = 7, long_side: int = 800) -> list[bytes]:
    """`count` JPEGs: whole source photos first, then random crops of them, each scaled to `long_side`."""
    rng = random.Random(seed)
    sources = source_images()
    out = []
    for i in range(count):
        image = sources[i % len(sources)]
        if i >= len(sources):
            scale = rng.uniform(0.35, 0.8)
            w, h = int(image.width * scale), int(image.height * scale)
            x, y = rng.randint(0, image.width - w), rng.randint(0, image.height - h)
            image = image.crop((x, y, x + w, y + h))
        factor = long_side / max(image.size)
        out.append(
            to_jpeg(image.resize((round(image.width * factor), round(image.height * factor)), Image.BILINEAR))
        )
    return out


def query_copy(jpeg_bytes: bytes, seed: int) -> bytes:
    """A shopper's copy of a catalog photo: slightly cropped, smaller, recompressed."""
    rng = random.Random(seed)
    image = Image.open(io.BytesIO(jpeg_bytes)).convert("RGB")
    dx, dy = int(image.width * rng.uniform(0, 0.05)), int(image.height * rng.uniform(0, 0.05))
    image = image.crop((dx, dy, image.width - dx, image.height - dy))
    image = image.resize((image.width * 3 // 4, image.height * 3 // 4), Image.BILINEAR)
    return to_jpeg(image, quality=rng.randint(60, 80))
