"""Objects of any kind in a picture, from a learned detector, as scored boxes.

The packaged model (built by `tools/export_detector.py`) is CenterNet on a MobileNetV3 backbone, trained
on COCO's 80 classes. It takes `image` (1,S,S,3 float32, RGB, 0..255: the picture stretched to S x S) and
returns `heat` (1,S/4,S/4,80: per class, how likely an object's centre lies in each cell) and `sides`
(1,S/4,S/4,4: from a cell's centre to the object's left, top, right and bottom edge, in input pixels).

Products are mostly not COCO classes, so the classes are not used to name anything: a cell's objectness
is its strongest class, a peak of objectness (a cell stronger than its 8 neighbours) is an object, and its
sides give its box. The scores stay low for things the detector never learned (a violin scores ~0.1 where
a cup scores ~0.5), which is why the threshold is low and the ranking is left to whoever uses the boxes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import zip_longest
from pathlib import Path

import numpy as np
from PIL import Image

from lookalike.domain.image import Box
from lookalike.vision.embedder import load_session
from lookalike.vision.salience import SAME_SUBJECT
from lookalike.vision.subjects import peaks

MODEL_ASSET = "assets/centernet_mobilenetv3.onnx"
STRIDE = 4  # input pixels per cell of the output maps
# Objects a search looks at, down to a low objectness: a product that no COCO class describes often scores
# 0.02-0.05. 30 peaks down to 0.02 box the product (IoU >= 0.5) in 911 of the quality harness's 1,092
# development scene queries (3 seeds), against 794 for 10 down to 0.05, in one detector pass either way
# (docs/quality.md, round 15). A search still weighs at most 13 further subjects (vision/pipeline.py).
MOST = 30
LEAST_SCORE = 0.02
# Intra-op threads of a pass unless the operator says otherwise: its layers are small, and a second thread
# takes 3 of its 19 ms off a pass for 6 ms more CPU (measured alone; the same boxes to the bit).
THREADS = 1


@dataclass(frozen=True)
class Detection:
    box: Box  # in the picture's pixels
    score: float  # objectness in [0, 1]: the strongest class's centre score at the peak


def preprocess(image: Image.Image, side: int) -> np.ndarray:
    """The picture stretched to side x side, bilinear, RGB 0..255, as a (1, side, side, 3) float32 batch."""
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    return np.asarray(rgb.resize((side, side), Image.Resampling.BILINEAR), np.float32)[None]


class Detector:
    def __init__(self, model_path: Path | None = None, *, threads: int | None = None) -> None:
        self.session = load_session(model_path, threads=threads or THREADS, asset=MODEL_ASSET)
        self.side = int(self.session.get_inputs()[0].shape[1])

    def detect(
        self, image: Image.Image, *, most: int = MOST, min_score: float = LEAST_SCORE
    ) -> list[Detection]:
        """At most `most` objects scoring at least `min_score`, the likeliest first."""
        heat, sides = self.session.run(["heat", "sides"], {"image": preprocess(image, self.side)})
        objectness = heat[0].max(axis=-1)
        sx, sy = image.width / self.side, image.height / self.side
        found = []
        for r, c in zip(*peaks(objectness, min_score, most), strict=True):
            left, top, right, bottom = sides[0, r, c].tolist()
            x, y = int(c) * STRIDE, int(r) * STRIDE
            box = Box(
                round((x - left) * sx),
                round((x + right) * sx),
                round((y - top) * sy),
                round((y + bottom) * sy),
            ).clip(image.width, image.height)
            if box is not None:
                found.append(Detection(box, float(objectness[r, c])))
        return found


def alongside(salient: Sequence[Box], detected: Sequence[Detection], most: int) -> list[Box]:
    """At most `most` subjects: the salient ones and the detected objects taking turns, a salient one
    first; a box that names the same subject as an earlier one left out.

    Each cue sees what the other misses. The activations find a product that fills much of the frame and
    that no COCO class describes (a violin, a stamp of a plant); the detector finds the small one (under 5 %
    of the frame, where the 7 x 7 activation map has no cell of its own) and the one beside a louder
    background. Neither's score says which is the product: the service asks the catalog (its best_subject).
    """
    turns = [
        box for pair in zip_longest(salient, (d.box for d in detected)) for box in pair if box is not None
    ]
    found: list[Box] = []
    for box in turns:
        if len(found) == most:
            break
        if all(box.iou(other) < SAME_SUBJECT for other in found):
            found.append(box)
    return found
