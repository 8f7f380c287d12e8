"""Local features and geometric verification: is this stored product in the query picture, and where?

A global vector says what a region looks like on the whole; it cannot tell two similar products apart when a
shopper's angle, a colour cast or a bad box blurs them. Local features can: ORB corners (OpenCV) of the stored
picture's subject, matched against those of the whole query picture and checked with an affine map fitted
by RANSAC, find the same printed or textured surface turned, scaled and seen at an angle, wherever it lies
in the picture; and the map carries the stored subject's box into the query as a precise Region.

A small product gets few matches that way: its scale in the photo is a third or less of its catalog
shot's, where the shot has few features. The box a search found it by, enlarged to a catalog shot's size
(`extract_enlarged`), is its second chance.

ORB, since it is the only one of OpenCV's detectors that fits a search's CPU budget: SIFT and AKAZE find a
little more on the quality harness, but their pass over the query alone costs 5-8 times as much. An affine
map rather than a homography: a small product gives a dozen or two matches, too few to pin down a
homography's perspective, whose boxes then fly off (Region IoU 0.67 against 0.69 for the affine map on the
harness's scene queries); a product seen at a moderate angle is close to affine.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from lookalike.domain.image import Box
from lookalike.vision.decode import Reduced

STORED_POINTS = 400  # of the stored subject: ~16 KB a picture on disk
QUERY_POINTS = 1200  # of the whole query picture: a small product still gets a few dozen
SIDE = 800  # longer side the features are found at: a catalog shot whole, a phone photo reduced
# Longer side the stored subject's features are found at, at most (`extract`'s `box_side`): a catalog shot's
# size, whatever size the shop uploads. A shopper's photo shows the product at 100-500 px (a small box is
# enlarged to ENLARGED_SIDE) and ORB's pyramid spans 3.6 times: a product 200 px wide in a shopper's photo
# matched its shot 2.4 times bigger, found at SIDE, with no inlier, and at its own size with 28 (round 26 in
# docs/quality.md).
STORED_SIDE = 480
RATIO = 0.8  # Lowe's ratio test: a match must be this much closer than the second best
REPROJECTION = 6.0  # pixels (of the query at SIDE) a RANSAC inlier may be off by
MIN_INLIERS = 10  # fewer agreeing matches are chance, on the quality harness
SMALL = 360  # longer side (at SIDE) under which a box is enlarged for a second look
ENLARGED_SIDE = 480  # longer side it is enlarged to: a catalog shot's size
ENLARGED_POINTS = 600  # of an enlarged box
MIN_SIDE = 8  # pixels: a narrower box is a sliver with nothing to find
MIN_AREA = 0.002  # of the query picture: a smaller projected box is a degenerate fit
# File format tag and version: the count and the picture's size (uint32), points float32 (n, 2), descriptors
# uint8 (n, 32). LKF1, without the picture's size, was written before round 10 and is still read.
FORMAT, FORMAT_1 = b"LKF2", b"LKF1"

cv2.setNumThreads(1)  # one search, one core: the server runs requests side by side


@dataclass(frozen=True)
class Features:
    points: np.ndarray  # (n, 2) float32, in the original picture's pixels
    descriptors: np.ndarray  # (n, 32) uint8, ORB
    # Of a query's box enlarged (`extract_enlarged`): original pixels per pixel of the enlarged image (how
    # far off a RANSAC inlier may be scales with it), and the box, which is where a product found in it is.
    pixel: float | None = None
    box: Box | None = None
    frame: tuple[int, int] | None = None  # the picture's size, where its edges are (not known for LKF1)

    def __len__(self) -> int:
        return len(self.points)

    def to_bytes(self) -> bytes:
        width, height = self.frame or (0, 0)
        head = FORMAT + struct.pack("<III", len(self), width, height)
        return head + self.points.tobytes() + self.descriptors.tobytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> Features:
        if data[:4] == FORMAT:
            n, width, height = struct.unpack_from("<III", data, 4)
            start, frame = 16, (width, height) if width and height else None
        elif data[:4] == FORMAT_1:
            (n,), start, frame = struct.unpack_from("<I", data, 4), 8, None
        else:
            raise ValueError("not a local-features file of a known version")
        points = np.frombuffer(data, np.float32, 2 * n, start).reshape(n, 2)
        descriptors = np.frombuffer(data, np.uint8, 32 * n, start + 8 * n).reshape(n, 32)
        return cls(points, descriptors, frame=frame)


NONE = Features(np.zeros((0, 2), np.float32), np.zeros((0, 32), np.uint8))


def extract(picture: Reduced, most: int, box: Box | None = None, box_side: int | None = None) -> Features:
    """At most `most` ORB features of the picture, or of the box (original pixels) alone; with `box_side`,
    found where the box's longer side is at most that many pixels."""
    image = picture.image
    scale = min(1.0, SIDE / max(image.size))
    if box is not None and box_side is not None:
        scale = min(scale, box_side * picture.width / (image.width * max(box.width, box.height)))
    if scale < 1.0:
        size = (round(image.width * scale), round(image.height * scale))
        image = image.resize(size, Image.Resampling.BILINEAR)
    grey = np.asarray(image.convert("L"))
    to_grey = image.width / picture.width  # grey pixels per original pixel
    mask = None
    if box is not None:
        mask = np.zeros_like(grey)
        x1, x2, y1, y2 = (round(side * to_grey) for side in box)
        mask[y1:y2, x1:x2] = 255
    points, descriptors = cv2.ORB_create(nfeatures=most, fastThreshold=10).detectAndCompute(grey, mask)
    if descriptors is None:
        return NONE
    where = cv2.KeyPoint_convert(points) / np.float32(to_grey)  # (n, 2) float32
    return Features(where, descriptors, frame=(picture.width, picture.height))


def extract_enlarged(picture: Reduced, box: Box, most: int = ENLARGED_POINTS) -> Features | None:
    """At most `most` ORB features of the box (original pixels), enlarged so that its longer side is
    ENLARGED_SIDE: a small product in a photo meets a stored catalog shot at the scales where the shot has
    most of its features (ORB's pyramid spreads them by area: a scale a third of the shot's holds a few
    dozen of its 400). None for a box that is not SMALL at `extract`'s scale (the whole picture's features
    hold it well enough), or a sliver."""
    image = picture.image
    to_image = image.width / picture.width
    x1, x2, y1, y2 = (side * to_image for side in box)
    longest = max(x2 - x1, y2 - y1)
    if min(x2 - x1, y2 - y1) < MIN_SIDE or longest * min(1.0, SIDE / max(image.size)) >= SMALL:
        return None
    zoom = ENLARGED_SIDE / longest
    part = image.crop((round(x1), round(y1), round(x2), round(y2)))
    size = (max(1, round(part.width * zoom)), max(1, round(part.height * zoom)))
    grey = np.asarray(part.resize(size, Image.Resampling.BICUBIC).convert("L"))
    points, descriptors = cv2.ORB_create(nfeatures=most, fastThreshold=10).detectAndCompute(grey, None)
    if descriptors is None:
        return NONE
    where = cv2.KeyPoint_convert(points) / np.float32(zoom)
    where += np.float32([round(x1), round(y1)])
    return Features(where / np.float32(to_image), descriptors, pixel=1 / (zoom * to_image), box=box)


@dataclass(frozen=True)
class Match:
    inliers: int  # matches the fitted map agrees with
    region: Box  # where the stored product lies in the query picture (`carried_region`)
    # The stored box's corners carried into the query picture, bounded: the part of it that the stored
    # vector's view corresponds to (the product with as much around it as the stored box had).
    described: Box


def verify(query: Features, stored: Features, stored_box: Box, width: int, height: int) -> Match | None:
    """The stored picture's subject found in the query (width x height), or None."""
    if len(stored) < MIN_INLIERS or len(query) < MIN_INLIERS:
        return None
    pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(stored.descriptors, query.descriptors, k=2)
    good = [m for m, *rest in (p for p in pairs if p) if rest and m.distance < RATIO * rest[0].distance]
    if len(good) < MIN_INLIERS:
        return None
    source = stored.points[[m.queryIdx for m in good]]
    target = query.points[[m.trainIdx for m in good]]
    pixel = query.pixel or max(1.0, max(width, height) / SIDE)
    affine, inliers = cv2.estimateAffine2D(
        source, target, method=cv2.RANSAC, ransacReprojThreshold=REPROJECTION * pixel
    )
    if affine is None or int(inliers.sum()) < MIN_INLIERS:
        return None
    x1, x2, y1, y2 = stored_box
    corners = np.float32([[[x1, y1], [x2, y1], [x2, y2], [x1, y2]]])
    projected = cv2.transform(corners, affine)[0]
    # A real view of a product keeps its outline the right way round and of a sensible size (a mirror
    # image or a sliver is a chance fit).
    if np.linalg.det(affine[:, :2]) <= 0 or cv2.contourArea(projected) < MIN_AREA * width * height:
        return None
    if query.box is not None:
        # A map fitted within a small box strays beyond it: the box is the better Region (on the quality
        # harness the projected one lowered the IoU of 125 products found first either way).
        return Match(int(inliers.sum()), query.box, query.box)
    region = carried_region(affine, stored, stored_box, projected).clip(width, height)
    if region is None:
        return None
    # Rounded to the nearest pixel, not outwards: the stored picture itself carries its box over exactly.
    (dx1, dy1), (dx2, dy2) = np.rint(projected.min(axis=0)), np.rint(projected.max(axis=0))
    described = Box(int(dx1), int(dx2), int(dy1), int(dy2)).clip(width, height)
    return Match(int(inliers.sum()), region, described or region)


def carried_region(affine: np.ndarray, stored: Features, stored_box: Box, projected: np.ndarray) -> Box:
    """Where the stored product lies in the query, by the fitted map: between the box around its stored
    features carried over, and its stored box carried over (`projected`, its corners).

    The stored box bounds the product upright; carried over, its corners bound a turned product loosely
    (a turned bottle's box is its rectangle's, wider than the bottle). The stored features lie on the
    product itself (a catalog shot's plain background has none), so the box around them carried over
    hugs the product as it is turned, short of its edges by as much as the features fall short of the
    stored box's. Each side lies between the two, nearer the box the less of it the features cover: the
    share they leave uncovered is how far. On the quality harness this raised the scenes' Region IoU by
    2-2.5 points (round 10).

    A picture stored whole (with Crop=false, or with no subject to be found) is itself the product, to its
    edges, where ORB leaves a border bare of features: its box carried over is its Region."""
    x1, x2, y1, y2 = stored_box
    if stored.frame is not None and (x1, y1, (x2, y2)) == (0, 0, stored.frame):
        return _bounds(projected)
    points = stored.points
    spread = cv2.transform(points[None], affine)[0]
    (low_x, low_y), (high_x, high_y) = points.min(axis=0), points.max(axis=0)
    cover = (high_x - low_x) * (high_y - low_y) / max(1, (x2 - x1) * (y2 - y1))
    short = 1.0 - min(1.0, float(cover))  # of the stored box, the share the features leave uncovered
    low = spread.min(axis=0) + short * (projected.min(axis=0) - spread.min(axis=0))
    high = spread.max(axis=0) + short * (projected.max(axis=0) - spread.max(axis=0))
    return _bounds(np.stack([low, high]))


def _bounds(points: np.ndarray) -> Box:
    """The box around (n, 2) points, to whole pixels outwards."""
    (x1, y1), (x2, y2) = np.floor(points.min(axis=0)), np.ceil(points.max(axis=0))
    return Box(int(x1), int(x2), int(y1), int(y2))
