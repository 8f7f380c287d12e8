"""Subjects in a cluttered photo, from the model's own activations refined by colour.

The backbone's last feature map (1280 x 7 x 7 for the whole picture) is strong where the network sees an
object, but each cell spans 1/7 of the picture, so its boxes are coarse (mean IoU ~0.54 on the quality
harness). A GrabCut-like step sharpens them on a ~96 px copy of the picture: the activation map, upsampled,
is the prior; colour histograms of the likely object and of the rest give each pixel a posterior; a few
rounds of re-estimation, a 3x3 smoothing, and the heaviest connected component is the subject (IoU ~0.63).

The first subject grows from the whole map; each further one from the strongest cell outside the subjects
found so far (the prior focused on it), so a photo with two products gives two boxes.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from lookalike.domain.image import Box
from lookalike.vision.subjects import components, downscaled, peaks, scale_box

WORK_SIDE = 96  # the colour step's copy: boxes to within ~1 % of the picture, a few ms of numpy
BINS = 8  # per channel: 512 colours, coarse enough for JPEG noise and soft shading
SEED = 0.6  # of the prior's range: the first guess at the object
WEIGHT = 0.4  # exponent of the prior against the colour posterior
KEEP = 0.4  # of the best score: what stays foreground after each round
ROUNDS = 2
PEAK = 0.5  # of the map's maximum (it is never negative): weaker cells are texture, not a further subject
FOCUS = 1.5  # cells: spread of the Gaussian that focuses the prior on one peak
MAX_SUBJECTS = 4
SAME_SUBJECT = 0.7  # IoU above which two boxes name the same subject


def salient_subjects(
    image: Image.Image, feature_map: np.ndarray, small: Image.Image | None = None, *, most: int = MAX_SUBJECTS
) -> list[Box]:
    """At most `most` subject boxes in original pixels, the most salient first (the first does not depend on
    how many are asked for); `feature_map` is (C, h, w) of the whole picture; `small`, the picture's
    `subjects.downscaled` copy if already made (the colour step starts from it)."""
    activation = feature_map.sum(axis=0)
    picture = _Picture(image, small)
    found: list[Box] = []

    def grow(prior: np.ndarray) -> Box:
        box = picture.subject(prior)
        if all(box.iou(other) < SAME_SUBJECT for other in found):
            found.append(box)
        return box

    grow(activation)
    for peak in _peaks(activation):
        if len(found) >= most:
            return found
        grow(activation * _focus(activation.shape, peak))
    # A product beside a stronger one may have no peak of its own, its cells rising towards the other's:
    # grow more subjects from the strongest cells no subject covers yet.
    rest = activation.copy()
    for box in found:
        rest[picture.cells_in(box, rest.shape)] = 0
    while len(found) < most:
        peak = np.unravel_index(int(np.argmax(rest)), rest.shape)
        if rest[peak] < PEAK * activation.max():
            break
        rest[peak] = 0
        rest[picture.cells_in(grow(activation * _focus(activation.shape, peak)), rest.shape)] = 0
    return found[:most]


def _peaks(activation: np.ndarray) -> list[tuple[int, int]]:
    """Local maxima (3x3) of at least PEAK of the global one, strongest first."""
    rows, cols = peaks(activation, PEAK * activation.max(), MAX_SUBJECTS - 1)
    return list(zip(rows.tolist(), cols.tolist(), strict=True))


class _Picture:
    """The picture's small copy, its colours quantised once for every prior."""

    def __init__(self, image: Image.Image, small: Image.Image | None = None):
        self.width, self.height = image.size
        scale = WORK_SIDE / max(image.size)
        self.size = (max(1, round(self.width * scale)), max(1, round(self.height * scale)))
        source = downscaled(image) if small is None else small
        levels = np.asarray(source.resize(self.size, Image.Resampling.BOX), np.int32) // (256 // BINS)
        self.colour = (levels[..., 0] * BINS + levels[..., 1]) * BINS + levels[..., 2]

    def cells_in(self, box: Box, shape: tuple[int, int]) -> np.ndarray:
        """Which cells of a (h, w) map over the picture have their centre inside the box."""
        ys = (np.arange(shape[0]) + 0.5) * self.height / shape[0]
        xs = (np.arange(shape[1]) + 0.5) * self.width / shape[1]
        return np.outer((ys >= box.y1) & (ys < box.y2), (xs >= box.x1) & (xs < box.x2))

    def subject(self, prior_map: np.ndarray) -> Box:
        prior = np.asarray(
            Image.fromarray(prior_map.astype(np.float32), "F").resize(self.size, Image.Resampling.BILINEAR)
        )
        prior = prior - prior.min()
        if prior.max() <= 0:
            return Box(0, self.width, 0, self.height)
        prior = prior / prior.max()
        foreground = prior >= SEED
        weighted_prior = prior**WEIGHT
        for _ in range(ROUNDS):
            inside = np.bincount(self.colour[foreground], minlength=BINS**3) + 1.0
            outside = np.bincount(self.colour[~foreground], minlength=BINS**3) + 1.0
            inside, outside = inside / inside.sum(), outside / outside.sum()
            posterior = inside[self.colour] / (inside[self.colour] + outside[self.colour])
            score = _smooth(posterior * weighted_prior)
            foreground = score >= KEEP * score.max()
        box, _ = components(foreground, score)[0]
        sx, sy = self.width / self.size[0], self.height / self.size[1]
        return scale_box(box, sx, sy, self.width, self.height)


def _focus(shape: tuple[int, int], peak: tuple[int, int]) -> np.ndarray:
    ys, xs = np.mgrid[0 : shape[0], 0 : shape[1]]
    return np.exp(-((ys - peak[0]) ** 2 + (xs - peak[1]) ** 2) / (2 * FOCUS**2))


def _smooth(values: np.ndarray) -> np.ndarray:
    """3x3 box mean, edges repeated."""
    padded = np.pad(values, 1, mode="edge")
    h, w = values.shape
    return sum(padded[dy : dy + h, dx : dx + w] for dy in range(3) for dx in range(3)) / 9.0
