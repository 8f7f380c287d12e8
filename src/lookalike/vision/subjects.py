"""Subject regions on a plain background, and the box arithmetic every region finder shares (`Box` itself
is the domain's).

`plain_subjects` estimates the background colour from the image border and boxes the pixels that differ
from it: all of them together (the product, even when it comes in parts, like a pair of shoes), then each
part apart. Anything it is unsure about (a speck, a box covering nearly the whole picture) gives the whole
image, which is always a safe answer for search; a busy border gives None, for `salience` to take over.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from PIL import Image

from lookalike.domain.image import Box

WORK_SIDE = 256  # the downscaled copy's longer side: enough for a tight box, and a few ms to compute
TOLERANCE = 32  # max per-channel distance (0..255) still counted as background: JPEG noise, soft shadows
UNIFORM_BORDER = 0.8  # share of a side's pixels that must match the background, on three sides of four
MIN_AREA = 0.10  # smaller boxes are more likely a speck or a logo than the subject
MAX_AREA = 0.90  # a larger box is a busy picture in a plain frame, not a product shot on a backdrop...
# ...unless this share of the box's own edge is backdrop: a product's outline touches its box in a few
# places (300 of the quality harness's stamps and models shot with a 3 % margin: 0.71 of the edge at the
# least), a picture's edge is its box (scikit-image's photos in a black, white or grey frame: 0.56 at the
# most, but for the deep-field photo in black, itself nearly all black).
OUTLINE = 0.6
MARGIN = 0.01  # of the longer side, added around the box: the downscale blurs the subject's edge
MIN_PART = 0.002  # of the picture: smaller foreground blobs are specks, not parts of a subject
# A product shot cropped to the product meets each edge of the picture in one place, or two (a chair's legs,
# two products side by side), the backdrop showing in the corners; a scene meets its edges all along.
# Counted on the downscaled copy, in stretches of at least 2 pixels, the corners' 3 pixels each way clear.
CROSSINGS, SPECK, CORNER = 2, 2, 3


def whole(image: Image.Image) -> Box:
    return Box(0, image.width, 0, image.height)


def crop(image: Image.Image, box: Box) -> Image.Image:
    clipped = box.clip(image.width, image.height)
    if clipped is None:
        raise ValueError(f"{box} lies outside the {image.width}x{image.height} image")
    return image.crop((clipped.x1, clipped.y1, clipped.x2, clipped.y2))


def turned(image: Image.Image, box: Box, angle: float, side: int) -> Image.Image:
    """The box's content (a box within the picture) turned by `angle` degrees (counter-clockwise) about its
    centre, the picture around the box turned into its corners (its border's colour beyond the picture),
    the longer side at most `side`. The box and its surroundings are scaled down first and only the box's
    own pixels are turned: about 20 ms of CPU at most, however large the box."""
    w, h = box.width, box.height
    cos, sin = abs(math.cos(math.radians(angle))), abs(math.sin(math.radians(angle)))
    # The box turned lies within this much more of the picture each way.
    pad_x, pad_y = math.ceil((w * cos + h * sin - w) / 2) + 1, math.ceil((w * sin + h * cos - h) / 2) + 1
    around = Box(box.x1 - pad_x, box.x2 + pad_x, box.y1 - pad_y, box.y2 + pad_y)
    inside = around.clip(image.width, image.height) or box
    scale = min(1.0, side / max(w, h))
    if scale < 1.0:
        size = (max(1, round(inside.width * scale)), max(1, round(inside.height * scale)))
        region = (inside.x1, inside.y1, inside.x2, inside.y2)
        piece = image.resize(size, Image.Resampling.BILINEAR, box=region)
    else:
        piece = crop(image, inside)
    out_w, out_h = max(1, round(w * scale)), max(1, round(h * scale))
    left, top = (box.x1 - inside.x1) * scale, (box.y1 - inside.y1) * scale
    pixels = np.asarray(piece)[round(top) : round(top) + out_h, round(left) : round(left) + out_w]
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    fill = tuple(int(c) for c in np.median(border, axis=0))
    # Each of the result's points, from the box's centre, turned back onto the piece (as PIL's `rotate`).
    a, b = math.cos(math.radians(angle)), math.sin(math.radians(-angle))
    d, e = -b, a
    centre_x, centre_y = left + w * scale / 2, top + h * scale / 2
    matrix = (
        a,
        b,
        centre_x - a * out_w / 2 - b * out_h / 2,
        d,
        e,
        centre_y - d * out_w / 2 - e * out_h / 2,
    )
    return piece.transform(
        (out_w, out_h), Image.Transform.AFFINE, matrix, Image.Resampling.BILINEAR, fillcolor=fill
    )


def tilt(image: Image.Image, box: Box, side: int = 160) -> tuple[float, float]:
    """How far the box's content is turned from upright, in degrees (what `turned` takes to stand it up),
    from the dominant orientation of its edges modulo 90 degrees, and how sure that is (0-1: the share of
    the edges' strength that agrees)."""
    gray = np.asarray(crop(image, box).convert("L"), np.float32)
    scale = side / max(gray.shape)
    if scale < 1.0:
        size = (max(1, round(gray.shape[1] * scale)), max(1, round(gray.shape[0] * scale)))
        gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    gx = cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3)[1:-1, 1:-1]
    gy = cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3)[1:-1, 1:-1]
    strength = np.hypot(gx, gy)
    # Orientations four times over: edges 90 degrees apart (a box's sides) agree instead of cancelling.
    summed = (strength * np.exp(4j * np.arctan2(gy, gx))).sum()
    total = float(strength.sum())
    if total <= 0.0:
        return 0.0, 0.0
    return math.degrees(float(np.angle(summed))) / 4, float(abs(summed)) / total


def components(
    mask: np.ndarray, weight: np.ndarray | None = None, min_mass: float = 0.0
) -> list[tuple[Box, float]]:
    """The 4-connected components of a boolean grid: (bounding box in grid cells, mass), heaviest first,
    those lighter than `min_mass` left out. The mass is the sum of `weight` over the component (its pixel
    count without weights).

    Works on runs (horizontal stretches of True): the runs of consecutive rows that overlap are joined in a
    union-find. A grid of a few hundred pixels a side has a few hundred runs: a fraction of a millisecond.
    """
    edges = np.diff(np.pad(mask, ((0, 0), (1, 1))).astype(np.int8), axis=1)
    rows, starts = np.nonzero(edges == 1)
    _, ends = np.nonzero(edges == -1)  # row-major order: the n-th end closes the n-th start
    if weight is None:
        run_mass = (ends - starts).astype(np.float64)
    else:
        totals = np.pad(np.cumsum(weight, axis=1, dtype=np.float64), ((0, 0), (1, 0)))
        run_mass = totals[rows, ends] - totals[rows, starts]

    # Run i overlaps the runs of the row above whose keys fall between its own start and end there: runs
    # are sorted by row, then by column, so these form one stretch [lo, hi) found by binary search.
    stride = mask.shape[1] + 1
    lo = np.searchsorted(rows * stride + ends, (rows - 1) * stride + starts, side="right")
    hi = np.searchsorted(rows * stride + starts, (rows - 1) * stride + ends, side="left")
    counts = np.maximum(hi - lo, 0)
    below = np.repeat(np.arange(rows.size), counts)
    above = np.repeat(lo - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())

    labels = _join(rows.size, below, above)
    roots, component = np.unique(labels, return_inverse=True)
    mass = np.bincount(component, weights=run_mass, minlength=roots.size)
    x1, y1 = np.full(roots.size, np.iinfo(np.int64).max), np.full(roots.size, np.iinfo(np.int64).max)
    x2, y2 = np.zeros(roots.size, np.int64), np.zeros(roots.size, np.int64)
    np.minimum.at(x1, component, starts)
    np.maximum.at(x2, component, ends)
    np.minimum.at(y1, component, rows)
    np.maximum.at(y2, component, rows + 1)
    heaviest = [i for i in np.argsort(-mass, kind="stable").tolist() if mass[i] >= min_mass]
    return [(Box(int(x1[i]), int(x2[i]), int(y1[i]), int(y2[i])), float(mass[i])) for i in heaviest]


def _join(count: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Union-find over `count` items joined by the pairs (a[i], b[i]), in whole-array steps: each item's
    label is the smallest item of its group. Every round hooks the larger root of each pair under the
    smaller, then points every item straight at its root; rounds needed grow with the log of a group's
    size, not with the pairs (a Python loop over them cost ~1.4 ms per subject, half of growing one)."""
    parent = np.arange(count)
    while True:
        ra, rb = parent[a], parent[b]
        apart = ra != rb
        if not apart.any():
            return parent
        low, high = np.minimum(ra[apart], rb[apart]), np.maximum(ra[apart], rb[apart])
        np.minimum.at(parent, high, low)
        while True:  # parent[i] <= i always, so this ends
            grand = parent[parent]
            if np.array_equal(grand, parent):
                break
            parent = grand


def peaks(values: np.ndarray, floor: float, most: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of at most `most` cells of a grid that are at least `floor` and that no neighbour
    (3x3) outdoes, strongest first."""
    padded = np.pad(values, 1, constant_values=-np.inf)
    h, w = values.shape
    neighbours = np.stack([padded[dy : dy + h, dx : dx + w] for dy in range(3) for dx in range(3)])
    rows, cols = np.nonzero((values >= neighbours.max(axis=0)) & (values >= floor))
    order = np.argsort(-values[rows, cols], kind="stable")[:most]
    return rows[order], cols[order]


def scale_box(box: Box, sx: float, sy: float, width: int, height: int, margin: int = 0) -> Box:
    """A box on a downscaled grid, back in original pixels (rounded outwards), widened by `margin`."""
    return Box(
        math.floor(box.x1 * sx) - margin,
        math.ceil(box.x2 * sx) + margin,
        math.floor(box.y1 * sy) - margin,
        math.ceil(box.y2 * sy) + margin,
    ).clip(width, height) or Box(0, width, 0, height)


def downscaled(image: Image.Image, side: int = WORK_SIDE) -> Image.Image:
    """An RGB copy, box-filtered to at most `side` pixels on its longer side: what the region finders look
    at. Made once per picture and shared, since downscaling costs more than looking; reduced by a whole
    factor first (reducing_gap 1), which takes a third off the time of a direct box filter."""
    scale = min(1.0, side / max(image.size))
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    return rgb.resize(size, Image.Resampling.BOX, reducing_gap=1.0)


def plain_subjects(image: Image.Image, small: Image.Image | None = None) -> list[Box] | None:
    """Subjects on a plain background: the box around all of them first, then each apart if there are
    several; a product shot cropped across (its product touching two opposite edges) or with a thin
    margin (its box all but filling the shot) is one too, and one cropped tight (its product meeting every
    edge in a place or two, the backdrop in the corners) is the whole shot. None when there is no plain
    background around a subject (a busy border, or a plain frame around a busy picture), so something else
    must look; [whole image] when a plain picture holds nothing worth cropping to. `small` is the picture's
    `downscaled` copy, if already made."""
    width, height = image.size
    small = downscaled(image) if small is None else small
    pixels = np.asarray(small, dtype=np.int16)

    sides = [pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]]
    background = np.median(np.concatenate(sides), axis=0).astype(np.int16)
    edges = [_channel_max(np.abs(side - background)) > TOLERANCE for side in sides]
    if _cropped_tight(edges):
        return [whole(image)]
    top, bottom, left, right = (1.0 - float(np.mean(edge)) for edge in edges)
    # A subject may cross one edge, or span the picture from an edge to the opposite one (a product shot
    # cropped across); two busy sides otherwise are a scene (a skyline under the sky).
    spans = min(top, bottom) >= UNIFORM_BORDER or min(left, right) >= UNIFORM_BORDER
    if sorted((top, bottom, left, right))[1] < UNIFORM_BORDER and not spans:
        return None

    foreground = _channel_max(np.abs(pixels - background)) > TOLERANCE
    # Specks (JPEG noise, dust) are smaller than a part of any subject worth naming.
    found = [box for box, _ in components(foreground, min_mass=MIN_PART * foreground.size)]
    if not found:
        return [whole(image)]
    sx, sy = width / small.width, height / small.height
    margin = math.ceil(MARGIN * max(width, height))
    union = Box(
        min(b.x1 for b in found), max(b.x2 for b in found), min(b.y1 for b in found), max(b.y2 for b in found)
    )
    main = scale_box(union, sx, sy, width, height, margin)
    area = main.width * main.height / (width * height)
    # Where the box reaches every edge of the picture, its edge is the picture's border, plain already: a
    # texture (a brick wall's mortar) whose specks spread over the whole picture, not a product.
    inside = (union.x1 > 0 and union.x2 < small.width) or (union.y1 > 0 and union.y2 < small.height)
    product = inside and _backdrop_on_edge(foreground[union.y1 : union.y2, union.x1 : union.x2]) >= OUTLINE
    if area > MAX_AREA and not product:
        return None  # a frame or a backdrop's edge around a busy picture, not a product on a backdrop
    if area < MIN_AREA:
        return [whole(image)]
    parts = [scale_box(b, sx, sy, width, height, margin) for b in found] if len(found) > 1 else []
    return [main, *parts]


def _cropped_tight(edges: list[np.ndarray]) -> bool:
    """Whether the picture's four edges (their foreground, as booleans) are a product shot cropped to the
    product: each edge crossed by it in one place or two (`CROSSINGS`), every corner backdrop."""
    for edge in edges:
        if edge[:CORNER].any() or edge[-CORNER:].any():
            return False
        steps = np.diff(edge.astype(np.int8), prepend=0, append=0)
        lengths = np.flatnonzero(steps == -1) - np.flatnonzero(steps == 1)
        if not 1 <= int(np.sum(lengths >= SPECK)) <= CROSSINGS:
            return False
    return True


def _backdrop_on_edge(foreground: np.ndarray) -> float:
    """The share of a box's outermost rows and columns (of its foreground mask) that is backdrop."""
    edge = np.concatenate([foreground[0], foreground[-1], foreground[:, 0], foreground[:, -1]])
    return 1.0 - float(edge.mean())


def _channel_max(pixels: np.ndarray) -> np.ndarray:
    """The largest of each pixel's three channels (the last axis): numpy's reduction over so short an axis
    costs a millisecond for the 256-pixel copy, two elementwise maxima a twentieth of it."""
    return np.maximum(np.maximum(pixels[..., 0], pixels[..., 1]), pixels[..., 2])


def find_subject(image: Image.Image) -> Box:
    """The subject on a plain background, else the whole image (always a safe answer for search)."""
    return (plain_subjects(image) or [whole(image)])[0]
