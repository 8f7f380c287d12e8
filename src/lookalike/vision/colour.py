"""A product's colours, which tell apart the look-alikes its global vector confuses.

EfficientNet's pooled features are trained to name an object whatever its colour: a red and a blue chair
of one cut are close. A histogram of the subject's chromaticity (r and g over r + g + b: its colours
whatever their brightness, so that light and shade count less), weighted to the middle of its box so
that its surroundings count less, and compared by intersection, tells them apart. It only reorders the
closest few candidates of a search (service/rerank.py), where the global vector has already said what
the product is.

Soft bins: each pixel shares its weight between the four nearest bins, so that a colour near a bin's edge
does not jump from one bin to the next with a slight cast (with hard bins, the measured gain moved with
the bin count; with soft ones it did not).
"""

from __future__ import annotations

import functools

import numpy as np
from PIL import Image

BINS = 8  # a side of the chromaticity histogram
SIDE = 64  # pixels: the longer side the subject is reduced to
SPREAD = 0.25  # of the box's sides: the standard deviation of the weight around its middle
SIZE = BINS * BINS


def signature(image: Image.Image, box: tuple[int, int, int, int] | None = None) -> np.ndarray:
    """The chromaticity histogram of `image` (RGB), or of its `box` (left, top, right, bottom), weighted to
    the middle: (SIZE,) float32 summing to 1. The box is reduced as it is read: no copy of it is made at
    full size (a whole phone photo's copy cost more than the histogram)."""
    left, top, right, bottom = box or (0, 0, image.width, image.height)
    left, top = min(max(left, 0), image.width - 1), min(max(top, 0), image.height - 1)
    right, bottom = max(left + 1, min(right, image.width)), max(top + 1, min(bottom, image.height))
    width, height = right - left, bottom - top
    scale = min(1.0, SIDE / max(width, height))
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = image.resize(size, Image.Resampling.BILINEAR, box=(left, top, right, bottom), reducing_gap=2.0)
    pixels = np.asarray(small.convert("RGB"), np.float32).reshape(-1, 3)
    weights = _weights(size).reshape(-1)
    total = pixels.sum(axis=1) + 1.0
    histogram = np.zeros(SIZE)
    r, g = _soft(pixels[:, 0] / total), _soft(pixels[:, 1] / total)
    for r_bin, r_share in r:
        for g_bin, g_share in g:
            histogram += np.bincount(r_bin * BINS + g_bin, weights * r_share * g_share, SIZE)
    return (histogram / histogram.sum()).astype(np.float32)


def likeness(a: np.ndarray, b: np.ndarray) -> float:
    """How alike two signatures are, 0 to 1: the weight their histograms share."""
    return float(np.minimum(a, b).sum())


def to_bytes(colours: np.ndarray) -> bytes:
    return colours.astype(np.float16).tobytes()


def from_bytes(data: bytes) -> np.ndarray:
    if len(data) != 2 * SIZE:
        raise ValueError("not a colour signature of this version")
    return np.frombuffer(data, np.float16).astype(np.float32)


@functools.lru_cache(maxsize=256)  # of the 4,096 sizes a box can be reduced to, the common ones: 4 MB at most
def _weights(size: tuple[int, int]) -> np.ndarray:
    """A Gaussian around the middle of a picture of `size` (width, height), SPREAD of its sides."""
    width, height = size
    ys, xs = np.mgrid[0:height, 0:width]
    offsets = ((xs + 0.5) / width - 0.5) ** 2 + ((ys + 0.5) / height - 0.5) ** 2
    return np.exp(-offsets / (2 * SPREAD**2)).astype(np.float32)


def _soft(values: np.ndarray) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Each value (0 to 1) as its two nearest bins' indices and shares."""
    at = np.clip(values * BINS - 0.5, 0, BINS - 1)
    low = np.minimum(at.astype(int), BINS - 2)
    share = at - low
    return (low, 1 - share), (low + 1, share)
