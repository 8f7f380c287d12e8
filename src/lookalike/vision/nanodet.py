"""NanoDet-m, trained on COCO: objects as scored cells of three levels, each with a distribution of its
box's edges.

The packaged model (built by `tools/export_nanodet.py`) takes `image` (1,S,S,3 float32, RGB, 0..255: the
picture stretched to S x S; the graph normalises it as NanoDet was trained) and returns, for every cell of
its three levels (strides 8, 16 and 32, each level's cells row by row), `heat` (1,N,80: per class, how
likely an object centred in that cell is) and `sides` (1,N,44: for the left, top, right and bottom edge,
logits over 11 bins of the distance from the cell's centre, in strides; the box is at the expected
distances). A cell's objectness is its strongest class; cells are taken likeliest first, and a box that
overlaps a likelier one kept by OVERLAP or more is the same object.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

import numpy as np
from PIL import Image

from lookalike.domain.image import Box
from lookalike.vision.detection import LEAST_SCORE, MOST, Detection, preprocess
from lookalike.vision.embedder import load_session

MODEL_ASSET = "assets/nanodet.onnx"
STRIDES = (8, 16, 32)  # input pixels per cell of each level, in the order of the output's rows
BINS = 11  # of each edge's distance: 0 to 10 strides
OVERLAP = 0.6  # IoU with a likelier box from which a box is the same object


def expected(logits: np.ndarray) -> np.ndarray:
    """(n, 4 * BINS) logits as (n, 4) distances in strides: each edge's softmax over its bins, its mean."""
    bins = logits.reshape(-1, 4, BINS)
    weights = np.exp(bins - bins.max(axis=2, keepdims=True))
    weights /= weights.sum(axis=2, keepdims=True)
    return weights @ np.arange(BINS, dtype=np.float32)


class NanoDet:
    def __init__(self, model_path: Path | None = None, *, threads: int = 1) -> None:
        self.session = load_session(model_path, threads=threads, asset=MODEL_ASSET)
        self.side = int(self.session.get_inputs()[0].shape[1])

    @cached_property
    def cells(self) -> tuple[np.ndarray, np.ndarray]:
        """Each output row's cell centre (x, y) in input pixels, and its stride."""
        centres, strides = [], []
        for stride in STRIDES:
            n = self.side // stride
            rows, cols = np.divmod(np.arange(n * n), n)
            centres.append((np.stack([cols, rows], axis=1) + 0.5) * stride)
            strides.append(np.full(n * n, stride))
        return np.concatenate(centres).astype(np.float32), np.concatenate(strides).astype(np.float32)

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
        objectness = heat[0].max(axis=1)
        kept = np.flatnonzero(objectness >= min_score)
        kept = kept[np.argsort(-objectness[kept], kind="stable")]
        centres, strides = self.cells
        reach = expected(sides[0, kept]) * strides[kept, None]
        corners = np.concatenate([centres[kept] - reach[:, :2], centres[kept] + reach[:, 2:]], axis=1)
        sx, sy = image.width / self.side, image.height / self.side
        found = []
        for i in distinct(corners, most):
            x1, y1, x2, y2 = corners[i].tolist()
            box = Box(round(x1 * sx), round(x2 * sx), round(y1 * sy), round(y2 * sy)).clip(
                image.width, image.height
            )
            if box is not None:
                found.append(Detection(box, float(objectness[kept[i]])))
        return found


def distinct(corners: np.ndarray, most: int) -> list[int]:
    """Greedy non-maximum suppression of boxes (x1, y1, x2, y2), the likeliest first: the indices of at
    most `most` of them, none overlapping a likelier one kept by OVERLAP or more."""
    area = (corners[:, 2] - corners[:, 0]) * (corners[:, 3] - corners[:, 1])
    alive = np.ones(len(corners), bool)
    kept: list[int] = []
    for i in range(len(corners)):
        if len(kept) == most:
            break
        if not alive[i]:
            continue
        kept.append(i)
        width = np.minimum(corners[i, 2], corners[:, 2]) - np.maximum(corners[i, 0], corners[:, 0])
        height = np.minimum(corners[i, 3], corners[:, 3]) - np.maximum(corners[i, 1], corners[:, 1])
        overlap = np.clip(width, 0, None) * np.clip(height, 0, None)
        alive &= overlap < OVERLAP * (area[i] + area - overlap)
    return kept
