"""CenterNet on a MobileNetV3 backbone, trained on COCO: objects as peaks of a centre heat map.

The packaged model (built by `tools/export_detector.py`) takes `image` (1,S,S,3 float32, RGB, 0..255: the
picture stretched to S x S) and returns `heat` (1,S/4,S/4,80: per class, how likely an object's centre lies
in each cell) and `sides` (1,S/4,S/4,4: from a cell's centre to the object's left, top, right and bottom
edge, in input pixels). A cell's objectness is its strongest class; a peak of objectness (a cell stronger
than its 8 neighbours) is an object, and its sides give its box.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from lookalike.domain.image import Box
from lookalike.vision.detection import LEAST_SCORE, MOST, Detection, preprocess
from lookalike.vision.embedder import load_session
from lookalike.vision.subjects import peaks

MODEL_ASSET = "assets/centernet_mobilenetv3.onnx"
STRIDE = 4  # input pixels per cell of the output maps


class CenterNet:
    def __init__(self, model_path: Path | None = None, *, threads: int = 1) -> None:
        self.session = load_session(model_path, threads=threads, asset=MODEL_ASSET)
        self.side = int(self.session.get_inputs()[0].shape[1])

    def detect(
        self, image: Image.Image, *, most: int = MOST, min_score: float = LEAST_SCORE
    ) -> list[Detection]:
        """At most `most` objects scoring at least `min_score`, the likeliest first."""
        return self.detect_in(preprocess(image, self.side), image, most=most, min_score=min_score)

    def detect_in(
        self, batch: np.ndarray, image: Image.Image, *, most: int = MOST, min_score: float = LEAST_SCORE
    ) -> list[Detection]:
        """`detect` of the image's input already made (`detection.preprocess` at `side`)."""
        heat, sides = self.session.run(["heat", "sides"], {"image": batch})
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
