"""A subject's box drawn in to the object it holds.

The boxes a search finds in a cluttered photo (vision/salience.py, vision/detector.py) are often looser than
the product: the model then describes a stretch of table or wall with it. Offline on the quality harness
(development split, 3 seeds, each scene query's true box described by the full model and ranked as a
search ranks its chosen subject), R@1 is 0.895 with the true box, 0.844 with the box widened by a tenth a
side and 0.780 by nearly a quarter. GrabCut (Rother et al. 2004, OpenCV's) tells the box's object from its
background: a ring around the box stands for the background, and the box's pixels are split between a
colour model of the ring and one of their own along the picture's colour edges. The search ranks the box
drawn in beside the box, each stored image at the better of the two (service/images.py): the widened
boxes then find 0.868 and 0.845 first, and the true box keeps 0.891. (Alone, the box drawn in loses on a
tight box, 0.895 -> 0.874: the cut takes a part of some products off.)
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

from lookalike.domain.image import Box

# Pixels: the longer side of the box and its ring as GrabCut sees them. 120 found as many products first
# (0.895, 0.865, 0.842 above) for 2.5 times the CPU (20.6 ms a box against 8.2, measured alone).
SIDE = 80
RING = 0.1  # of the box's width and height, taken around it for the background
ITERATIONS = 1  # a second moved Region IoU by under 0.1 point (offline), for half as much time again
LEAST = 0.1  # of the box's area: a foreground smaller than that is not the object but a speck
SAME = 0.9  # IoU with the box above which the box is as tight as GrabCut can make it
SEED = 0


def tightened(image: Image.Image, box: Box) -> Box | None:
    """The box (in `image`'s pixels) around the object `box` holds, or None when `box` is as tight, or has
    no background around it to tell the object from."""
    width, height = image.size
    ring_x, ring_y = round(RING * box.width), round(RING * box.height)
    around = Box(box.x1 - ring_x, box.x2 + ring_x, box.y1 - ring_y, box.y2 + ring_y).clip(width, height)
    if around is None or around == box or min(box.width, box.height) < 4:
        return None
    scale = min(1.0, SIDE / max(around.width, around.height))
    size = (max(1, round(around.width * scale)), max(1, round(around.height * scale)))
    pixels = image.crop((around.x1, around.y1, around.x2, around.y2)).resize(size, Image.Resampling.BILINEAR)
    bgr = np.ascontiguousarray(np.asarray(pixels.convert("RGB"))[:, :, ::-1])
    x, y = int((box.x1 - around.x1) * scale), int((box.y1 - around.y1) * scale)
    rect = (
        x,
        y,
        max(2, min(int(box.width * scale), size[0] - x)),
        max(2, min(int(box.height * scale), size[1] - y)),
    )
    mask = np.zeros(bgr.shape[:2], np.uint8)
    models = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    # GrabCut starts its colour models from k-means seeded by the thread's random generator: seeded here,
    # the same box is drawn in the same way whatever the thread did before (a search answers the same).
    cv2.setRNGSeed(SEED)
    try:
        cv2.grabCut(bgr, mask, rect, *models, ITERATIONS, cv2.GC_INIT_WITH_RECT)
    except cv2.error:  # a colour model it cannot fit: too few distinct pixels
        return None
    ys, xs = np.nonzero((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD))
    if len(xs) < LEAST * rect[2] * rect[3]:
        return None
    inner = Box(
        around.x1 + int(xs.min() / scale),
        around.x1 + int(np.ceil((xs.max() + 1) / scale)),
        around.y1 + int(ys.min() / scale),
        around.y1 + int(np.ceil((ys.max() + 1) / scale)),
    ).intersection(box)
    if inner is None or inner.iou(box) >= SAME:
        return None
    return inner
