"""What a shopper sends: the catalog's objects laid in scene photos, and near-duplicates of catalog shots.

A scene query takes one object and one scene photo of a source and makes, with its own random numbers:
- the object relit (brightness 0.65-1.35, contrast 0.75-1.25) with a colour cast (each channel 0.85-1.15);
- half of the time, a soft shadow across it (a half-plane darkened to 45-75 %);
- a perspective warp (each corner pulled in by up to 15 % of the side: the object seen at an angle);
- rotated by up to +-20 degrees;
- scaled so that its box covers 2-40 % of the frame's area (log-uniform: about a third under 5 %, a third
  5-15 %, a third over 15 %), laid at a random place in the photo (800 px on its longer side; `Framing`
  frames them otherwise: bigger or smaller photos, upright ones, bigger objects);
- the whole frame blurred (Gaussian, radius 0.6-2 px) or noisy (sigma 3-10), half and half;
- recompressed as JPEG quality 50-80.
The true box is the bounding box of the laid mask. A viewpoint query does all that to a rendered model's
other side (bench/quality/render.py). A near-duplicate is a catalog shot cropped by up to 10 %
a side, resized to 50-90 % (never under 100 px a side, the service's least), recompressed as JPEG 50-80.
"""

from __future__ import annotations

import io
import math
import random
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageEnhance, ImageFilter

from bench.quality.objects import StockObject, jpeg
from lookalike.domain.image import Box
from lookalike.vision.decode import MIN_SIDE

MIN_SHARE, MAX_SHARE = 0.02, 0.40  # of the frame's area, for the object's box
SIZE_BINS = ((0.05, "<5 %"), (0.15, "5-15 %"), (0.40, "15-40 %"), (1.0, "over 40 %"))


@dataclass(frozen=True)
class Framing:
    """How the shoppers' photos of a run are framed: the scene's longer side in pixels, upright (portrait)
    or wide as the scene photo is, and the share of the frame the object's box covers (drawn log-uniform).
    The default is `make quality`'s; the others show whether a figure holds for photos framed otherwise."""

    side: int = 800
    portrait: bool = False
    shares: tuple[float, float] = (MIN_SHARE, MAX_SHARE)


HARNESS_FRAMING = Framing()  # `make quality`'s


@dataclass(frozen=True)
class Query:
    kind: str  # "scene", "viewpoint" (a rendered model's other side in a scene) or "duplicate"
    target: str  # the product id that should come first
    data: bytes  # JPEG
    box: Box  # where the object is, in the query's pixels
    source: str  # the scene source; "catalog" for a near-duplicate
    share: float  # of the frame's area, for the object's box


def size_bin(share: float) -> str:
    """The bin of an object's share of the frame; the last for a whole frame (a tightly cropped catalog
    shot's near-duplicate)."""
    return next((name for upper, name in SIZE_BINS if share < upper), SIZE_BINS[-1][1])


def relit(rgba: Image.Image, rng: random.Random) -> Image.Image:
    """Brighter or darker, more or less contrast, a colour cast; the mask untouched."""
    rgb, alpha = rgba.convert("RGB"), rgba.getchannel("A")
    rgb = ImageEnhance.Brightness(rgb).enhance(rng.uniform(0.65, 1.35))
    rgb = ImageEnhance.Contrast(rgb).enhance(rng.uniform(0.75, 1.25))
    cast = np.array([rng.uniform(0.85, 1.15) for _ in range(3)], np.float32)
    pixels = np.clip(np.asarray(rgb, np.float32) * cast, 0, 255).astype(np.uint8)
    out = Image.fromarray(pixels).convert("RGBA")
    out.putalpha(alpha)
    return out


def shadowed(rgba: Image.Image, rng: random.Random) -> Image.Image:
    """A soft shadow across the object: the pixels beyond a random line through it darkened."""
    w, h = rgba.size
    angle = rng.uniform(0, 2 * math.pi)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    x0, y0 = w * rng.uniform(0.3, 0.7), h * rng.uniform(0.3, 0.7)  # a point the line goes through
    across = (xs - x0) * math.cos(angle) + (ys - y0) * math.sin(angle)
    soft = 0.1 * max(w, h)
    depth = rng.uniform(0.45, 0.75)  # what the shadow leaves of the light
    light = 1 - (1 - depth) * np.clip(across / soft + 0.5, 0, 1)
    pixels = np.asarray(rgba, np.float32).copy()
    pixels[..., :3] *= light[..., None]
    return Image.fromarray(pixels.astype(np.uint8), "RGBA")


def warped(rgba: Image.Image, rng: random.Random, most: float = 0.15) -> Image.Image:
    """The object seen at an angle: each corner pulled in by up to `most` of the side (a perspective)."""
    w, h = rgba.size
    corners = [(0, 0), (w, 0), (w, h), (0, h)]
    inward = [(1, 1), (-1, 1), (-1, -1), (1, -1)]
    moved = [
        (x + dx * rng.uniform(0, most) * w, y + dy * rng.uniform(0, most) * h)
        for (x, y), (dx, dy) in zip(corners, inward, strict=True)
    ]
    # PIL maps each output pixel back into the input: solve the homography from the moved to the corners.
    rows, rhs = [], []
    for (x, y), (u, v) in zip(moved, corners, strict=True):
        rows += [[x, y, 1, 0, 0, 0, -u * x, -u * y], [0, 0, 0, x, y, 1, -v * x, -v * y]]
        rhs += [u, v]
    coefficients = np.linalg.solve(np.array(rows, float), np.array(rhs, float))
    return rgba.transform((w, h), Image.Transform.PERSPECTIVE, tuple(coefficients), Image.Resampling.BICUBIC)


def scene_query(
    obj: StockObject,
    background: Image.Image,
    source: str,
    seed: int,
    side: bool = False,
    shares: tuple[float, float] = (MIN_SHARE, MAX_SHARE),
) -> Query:
    """The object (its other side, with `side`) transformed and laid in the background, its box covering
    between `shares` of the frame."""
    rng = random.Random(seed)
    frame = background.convert("RGBA")
    assert obj.side is not None or not side
    thing = relit(obj.side if side else obj.rgba, rng)
    if rng.random() < 0.5:
        thing = shadowed(thing, rng)
    thing = warped(thing, rng).rotate(rng.uniform(-20, 20), resample=Image.Resampling.BICUBIC, expand=True)
    ys, xs = np.nonzero(np.asarray(thing.getchannel("A")) > 128)
    thing = thing.crop((xs.min(), ys.min(), xs.max() + 1, ys.max() + 1))
    share = math.exp(rng.uniform(*map(math.log, shares)))
    scale = min(
        (share * frame.width * frame.height / (thing.width * thing.height)) ** 0.5,
        frame.width / thing.width,
        frame.height / thing.height,
    )
    size = (max(1, round(thing.width * scale)), max(1, round(thing.height * scale)))
    thing = thing.resize(size, Image.Resampling.LANCZOS)
    x, y = rng.randint(0, frame.width - thing.width), rng.randint(0, frame.height - thing.height)
    frame.alpha_composite(thing, (x, y))
    ys, xs = np.nonzero(np.asarray(thing.getchannel("A")) > 128)
    box = Box(x + int(xs.min()), x + int(xs.max()) + 1, y + int(ys.min()), y + int(ys.max()) + 1)
    picture = frame.convert("RGB")
    if rng.random() < 0.5:
        picture = picture.filter(ImageFilter.GaussianBlur(rng.uniform(0.6, 2.0)))
    else:
        noise = np.random.default_rng(seed).normal(0, rng.uniform(3, 10), (picture.height, picture.width, 3))
        picture = Image.fromarray(np.clip(np.asarray(picture, np.float32) + noise, 0, 255).astype(np.uint8))
    area = (box.x2 - box.x1) * (box.y2 - box.y1) / (frame.width * frame.height)
    kind = "viewpoint" if side else "scene"
    return Query(kind, obj.name, jpeg(picture, rng.randint(50, 80)), box, source, area)


def duplicate_query(name: str, catalog_jpeg: bytes, box: Box, seed: int) -> Query:
    rng = random.Random(seed)
    image = Image.open(io.BytesIO(catalog_jpeg)).convert("RGB")
    w, h = image.size
    left, right = int(w * rng.uniform(0, 0.1)), w - int(w * rng.uniform(0, 0.1))
    top, bottom = int(h * rng.uniform(0, 0.1)), h - int(h * rng.uniform(0, 0.1))
    scale = rng.uniform(0.5, 0.9)
    if round(min(right - left, bottom - top) * scale) < MIN_SIDE:  # no side under what the service takes
        scale = MIN_SIDE / min(right - left, bottom - top)  # (a wide shot at 0.5 was once 204 x 99)
    size = (round((right - left) * scale), round((bottom - top) * scale))
    image = image.crop((left, top, right, bottom)).resize(size, Image.Resampling.BILINEAR)
    moved = Box(
        round((box.x1 - left) * scale),
        round((box.x2 - left) * scale),
        round((box.y1 - top) * scale),
        round((box.y2 - top) * scale),
    ).clip(*size)
    assert moved is not None  # the crop takes at most 10 % a side: some of the object stays in it
    area = (moved.x2 - moved.x1) * (moved.y2 - moved.y1) / (size[0] * size[1])
    return Query("duplicate", name, jpeg(image, rng.randint(50, 80)), moved, "catalog", area)
