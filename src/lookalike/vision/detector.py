"""Objects of any kind in a picture, from two learned detectors taking turns, as scored boxes.

Both packaged detectors are trained on COCO's 80 classes: CenterNet-MobileNetV3 (vision/centernet.py) and
NanoDet-m (vision/nanodet.py). Products are mostly not COCO classes, so the classes are not used to name
anything: a place's objectness is its strongest class, and the scores stay low for things the detectors
never learned, which is why the threshold is low and the ranking is left to whoever uses the boxes.

Each detector boxes products the other misses. Among either's first 10 boxes one boxes the product (IoU
>= 0.5) for about three quarters of the quality harness's scene queries: CenterNet more often when it is
under 5 % of the frame, NanoDet when it is over 15 % (development split). Their objects taking turns find
the product first 1.3 points more often on the harness's development scenes (0.6 held out) and 2.5 (3.4)
more often for a model seen from its other side, for NanoDet's pass in each search that looks further:
17.5 % more CPU a default scene search (docs/quality.md, round 20). NanoDet alone, in CenterNet's place,
lost 1.1-1.3 points on the development scenes.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import zip_longest
from pathlib import Path

import numpy as np
from PIL import Image

from lookalike.domain.image import Box
from lookalike.vision.centernet import CenterNet
from lookalike.vision.detection import LEAST_SCORE, MOST, Detection, preprocess
from lookalike.vision.nanodet import NanoDet
from lookalike.vision.salience import SAME_SUBJECT

# Intra-op threads of a pass unless the operator says otherwise: the layers are small, and a second thread
# takes 3 of CenterNet's 19 ms off a pass for 6 ms more CPU (measured alone; the same boxes to the bit).
THREADS = 1


class Detector:
    def __init__(
        self,
        centernet: Path | None = None,
        nanodet: Path | None = None,
        *,
        threads: int | None = None,
    ) -> None:
        """The packaged models, or the model files given."""
        self.models = (
            CenterNet(centernet, threads=threads or THREADS),
            NanoDet(nanodet, threads=threads or THREADS),
        )

    def detect(
        self, image: Image.Image, *, most: int = MOST, min_score: float = LEAST_SCORE
    ) -> list[Detection]:
        """At most `most` objects scoring at least `min_score`: each model's, likeliest first, taking turns
        (CenterNet first); an object that another already found (IoU >= SAME_SUBJECT) left out. Models of
        one input size share its input: resizing the picture costs as much as a tenth of a pass."""
        inputs = {side: preprocess(image, side) for side in {model.side for model in self.models}}
        each = (
            model.detect_in(inputs[model.side], image, most=most, min_score=min_score)
            for model in self.models
        )
        turns = [detection for turn in zip_longest(*each) for detection in turn if detection is not None]
        return [turns[i] for i in first_distinct([detection.box for detection in turns], most)]


def first_distinct(boxes: Sequence[Box], most: int) -> list[int]:
    """The indices of at most `most` boxes, in order, each overlapping none kept before it by SAME_SUBJECT
    (`Box.iou`, on all pairs at once: 60 boxes' pairs one by one cost 2-4 ms of a search)."""
    if not boxes:
        return []
    x1, x2, y1, y2 = np.array(boxes, np.int64).T
    width = np.minimum(x2[:, None], x2) - np.maximum(x1[:, None], x1)
    height = np.minimum(y2[:, None], y2) - np.maximum(y1[:, None], y1)
    common = np.clip(width, 0, None) * np.clip(height, 0, None)
    area = (x2 - x1) * (y2 - y1)
    iou = common / (area[:, None] + area - common)
    kept: list[int] = []
    for i in range(len(boxes)):
        if len(kept) == most:
            break
        if (iou[i, kept] < SAME_SUBJECT).all():
            kept.append(i)
    return kept


def alongside(salient: Sequence[Box], detected: Sequence[Detection], most: int) -> list[Box]:
    """At most `most` subjects: the salient ones and the detected objects taking turns, a salient one
    first; a box that names the same subject as an earlier one left out.

    Each cue sees what the other misses. The activations find a product that fills much of the frame and
    that no COCO class describes (a violin, a stamp of a plant); the detectors find the small one (under 5 %
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


# A shop's photo of its product in a room (vision/pipeline.py, `Vision.see` with `product_shot`): the
# subject the activations find first is the product about half the time, and a detected object that one of
# the activations' subjects agrees with (IoU >= AGREE) boxes it more often, and more tightly. Only the
# detector's first CONSIDERED objects that fill at least LEAST_SHARE of the frame count: a product worth
# storing is not a speck. Chosen offline on products laid at 10-60 % of the frame in photos (the quality
# harness's objects, both splits, two seeds each): the product boxed (IoU >= 0.5) 0.41-0.59 of the time ->
# 0.59-0.72 (docs/quality.md, rounds 25 and 28).
AGREE, CONSIDERED, LEAST_SHARE = 0.3, 10, 0.05


def agreed(salient: Sequence[Box], detected: Sequence[Detection], frame: tuple[int, int]) -> Box | None:
    """The detected object that the first salient subject to agree with one (IoU >= AGREE) agrees with,
    among the detector's first CONSIDERED objects of LEAST_SHARE of the `frame` (width, height) or more;
    None when no subject agrees with any."""
    area = frame[0] * frame[1]
    objects = [d.box for d in detected[:CONSIDERED] if d.box.width * d.box.height >= LEAST_SHARE * area]
    for subject in salient:
        for box in objects:
            if subject.iou(box) >= AGREE:
                return box
    return None
