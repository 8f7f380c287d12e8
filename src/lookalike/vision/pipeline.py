"""Bytes in, vector out: validate the picture, find its subjects, describe the likeliest.

Where to look, in the service's order: a given Region; else, with Crop, the subjects (a plain background
is trimmed by its colour; a cluttered photo goes through the model once whole, and its activations plus
colour find the subjects); else the whole picture. A second model pass describes the first subject; the
service may ask for more (`look_further`) when that one finds nothing close: the other subjects, and views of
the first in its surroundings.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import NamedTuple

import numpy as np
from PIL import Image

from lookalike.errors import LookalikeError
from lookalike.vision.budget import DecodeBudget
from lookalike.vision.categories import category_scores
from lookalike.vision.decode import Reduced, decode_reduced
from lookalike.vision.embedder import INPUT_SIZE, Embedder
from lookalike.vision.salience import MAX_SUBJECTS, salient_subjects
from lookalike.vision.subjects import Box, crop, downscaled, plain_subjects, scale_box
from lookalike.vision.text import TextTower

MAX_OTHERS = 3  # further subjects `look_further` describes, in one model pass
WIDEN = 0.2  # of a subject's width and height, added on each side for its view in its surroundings
# What SearchImageByText needs, for the message that refuses it.
TEXT_MODELS = (
    "a joint image-text model (CLIP-style) whose ONNX text tower is configured with "
    "`lookalike serve --text-model PATH`; the packaged EfficientNet-Lite0 is image-only"
)


@dataclass(frozen=True)
class View:
    """A part of the picture and its vector (L2-normalised)."""

    region: Box
    vector: np.ndarray


@dataclass(frozen=True)
class Analysis:
    vector: np.ndarray  # L2-normalised
    region: Box  # the part of the picture the vector describes, in original pixels
    subjects: tuple[Box, ...]  # every subject found, the described one first
    category_scores: dict[int, float] = field(default_factory=dict)  # the model's classes, as categories
    picture: View | None = None  # the whole picture, when finding the subjects took its vector


class Further(NamedTuple):
    others: list[Analysis]  # the other subjects, each described as if it were the first
    views: list[View]  # the first subject in its surroundings: widened, and the whole picture


def square(image: Image.Image, side: int = INPUT_SIZE) -> Image.Image:
    """The picture scaled to fit a side x side square, the rest filled with its own border's colour.

    The model takes a square: stretching a subject's box into it would make the same product look different
    at each box shape (a rotated or loosely boxed product against its tight catalog box). Keeping the aspect
    ratio of subjects finds the right product first 2-4 points more often on the quality harness. A whole
    picture is still stretched, as the model saw its training pictures: letterboxing a wide scene shrinks
    what is in it (Crop=false finds 7 points fewer products first that way).
    """
    scale = side / max(image.size)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    fitted = image.resize(size, Image.Resampling.BILINEAR)
    pixels = np.asarray(fitted)
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    canvas = Image.new("RGB", (side, side), tuple(int(c) for c in np.median(border, axis=0)))
    canvas.paste(fitted, ((side - size[0]) // 2, (side - size[1]) // 2))
    return canvas


def _whole(picture: Reduced) -> Box:
    return Box(0, picture.width, 0, picture.height)


class Vision:
    def __init__(self, embedder: Embedder, text: TextTower | None = None, budget: DecodeBudget | None = None):
        if text is not None and text.dim != embedder.dim:
            raise ValueError(
                f"the text tower gives {text.dim}-dimensional vectors but the image model {embedder.dim}: "
                "both towers must come from one joint image-text model"
            )
        self.embedder = embedder
        self.text = text
        self.budget = budget or DecodeBudget()  # shared by every request's decode

    @property
    def dim(self) -> int:
        return self.embedder.dim

    def analyze(
        self, data: bytes, *, crop_subject: bool = True, region: Box | None = None, every_subject: bool = True
    ) -> Analysis:
        """An explicit region wins; else the subjects when `crop_subject`; else the whole picture. Without
        `every_subject`, only the first subject is looked for (all an add stores: a fifth less CPU)."""
        picture = decode_reduced(data, budget=self.budget)
        subjects, view = self.locate(
            picture, crop_subject=crop_subject, region=region, every_subject=every_subject
        )
        return replace(self.describe(picture, subjects, [subjects[0]])[0], picture=view)

    def look_further(self, data: bytes, analysis: Analysis) -> Further:
        """More of the first analysis's picture, in one model pass: its other subjects; and, in a cluttered
        photo, its first subject widened by WIDEN and the whole picture. Searching these views beside the
        chosen subject recovers the product when the subject's box is off: cut through the product or
        shifted onto its background (on the quality harness, R@5 of scene queries 0.953 -> 0.978)."""
        others = list(analysis.subjects[1 : 1 + MAX_OTHERS])
        if not others and analysis.picture is None:
            return Further([], [])
        picture = decode_reduced(data, budget=self.budget)
        if analysis.picture is None:
            return Further(self.describe(picture, list(analysis.subjects), others), [])
        widened = analysis.subjects[0].widened(WIDEN, picture.width, picture.height)
        *described, around = self.describe(picture, list(analysis.subjects), [*others, widened])
        return Further(described, [View(around.region, around.vector), analysis.picture])

    def locate(
        self,
        picture: Reduced,
        *,
        crop_subject: bool = True,
        region: Box | None = None,
        every_subject: bool = True,
    ) -> tuple[list[Box], View | None]:
        """Where to look, in the original's pixels: the subjects, the likeliest first; and the whole
        picture, when a model pass over it was how they were found."""
        everything = _whole(picture)
        if region is not None:
            used = region.clip(picture.width, picture.height)
            if used is None:
                raise LookalikeError(
                    "InvalidRegion",
                    f"The specific region is illegal: {region.x1},{region.x2},{region.y1},{region.y2} "
                    f"lies outside the {picture.width}x{picture.height} picture",
                )
            return [used], None
        if not crop_subject:
            return [everything], None
        image = picture.image
        small = downscaled(image)
        # On a plain background the box around every part is the product (a pair of shoes); its parts
        # follow (two products side by side).
        found = plain_subjects(image, small)
        view = None
        if found is None:
            looks = self.embedder.look([image])
            most = MAX_SUBJECTS if every_subject else 1
            found = salient_subjects(image, looks.feature_maps[0], small, most=most)
            view = View(everything, looks.vectors[0])
        elif not every_subject:
            found = found[:1]
        sx, sy = picture.width / image.width, picture.height / image.height
        return [scale_box(box, sx, sy, picture.width, picture.height) for box in found], view

    def describe(self, picture: Reduced, subjects: list[Box], chosen: list[Box]) -> list[Analysis]:
        """One model pass over the chosen subjects (boxes in the original's pixels): vectors and category
        scores, each analysis listing its own region first among the subjects."""
        image = picture.image
        sx, sy = image.width / picture.width, image.height / picture.height
        looks = self.embedder.look(
            [
                image
                if box == _whole(picture)
                else square(crop(image, scale_box(box, sx, sy, image.width, image.height)))
                for box in chosen
            ]
        )
        return [
            Analysis(
                looks.vectors[i],
                box,
                (box, *(other for other in subjects if other != box)),
                category_scores(looks.logits[i]),
            )
            for i, box in enumerate(chosen)
        ]

    def embed_text(self, text: str) -> np.ndarray:
        """The text's vector in the image space; UnsupportedOperationType without a text tower."""
        if self.text is None:
            raise LookalikeError(
                "UnsupportedOperationType",
                f"The specified action is not supported: searching by text needs {TEXT_MODELS}.",
                status=500,
            )
        return self.text.embed_text([text])[0]
