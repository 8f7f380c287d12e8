"""What a learned detector gives: scored boxes of objects of any kind, and the input both detectors take."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from lookalike.domain.image import Box

# Objects a search looks at, down to a low objectness: a product that no COCO class describes often scores
# 0.02-0.05 (a violin ~0.1 where a cup scores ~0.5). 30 down to 0.02 box the product (IoU >= 0.5) in 911
# of the quality harness's 1,092 development scene queries (3 seeds; CenterNet's boxes with the
# activations'), against 794 for 10 down to 0.05 (docs/quality.md, round 15). A search still weighs at
# most 19 further subjects (vision/pipeline.py).
MOST = 30
LEAST_SCORE = 0.02


@dataclass(frozen=True)
class Detection:
    box: Box  # in the picture's pixels
    score: float  # objectness in [0, 1]: the strongest class's score for an object centred there


def preprocess(image: Image.Image, side: int) -> np.ndarray:
    """The picture stretched to side x side, bilinear, RGB 0..255, as a (1, side, side, 3) float32 batch."""
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    return np.asarray(rgb.resize((side, side), Image.Resampling.BILINEAR), np.float32)[None]
