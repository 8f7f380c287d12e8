"""Bytes in, vector out: validate the picture, choose the region to describe, embed it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lookalike.errors import LookalikeError
from lookalike.vision.decode import decode_image
from lookalike.vision.embedder import Embedder
from lookalike.vision.subjects import Box, crop, find_subject, whole
from lookalike.vision.text import TextTower

# What SearchImageByText needs, for the message that refuses it.
TEXT_MODELS = (
    "a joint image-text model (CLIP-style) whose ONNX text tower is configured with "
    "`lookalike serve --text-model PATH`; the packaged EfficientNet-Lite0 is image-only"
)


@dataclass(frozen=True)
class Analysis:
    vector: np.ndarray  # L2-normalised
    region: Box  # the part of the picture the vector describes, in original pixels
    subjects: tuple[Box, ...]  # every subject found, the described one first


class Vision:
    def __init__(self, embedder: Embedder, text: TextTower | None = None):
        if text is not None and text.dim != embedder.dim:
            raise ValueError(
                f"the text tower gives {text.dim}-dimensional vectors but the image model {embedder.dim}: "
                "both towers must come from one joint image-text model"
            )
        self.embedder = embedder
        self.text = text

    @property
    def dim(self) -> int:
        return self.embedder.dim

    def analyze(self, data: bytes, *, crop_subject: bool = True, region: Box | None = None) -> Analysis:
        """An explicit region wins; else the subject when `crop_subject`; else the whole picture."""
        image = decode_image(data)
        if region is not None:
            used = region.clip(image.width, image.height)
            if used is None:
                raise LookalikeError(
                    "InvalidRegion",
                    f"The specific region is illegal: {region.x1},{region.x2},{region.y1},{region.y2} "
                    f"lies outside the {image.width}x{image.height} picture",
                )
        elif crop_subject:
            used = find_subject(image)
        else:
            used = whole(image)
        vector = self.embedder.embed([crop(image, used)])[0]
        return Analysis(vector=vector, region=used, subjects=(used,))

    def embed_text(self, text: str) -> np.ndarray:
        """The text's vector in the image space; UnsupportedOperationType without a text tower."""
        if self.text is None:
            raise LookalikeError(
                "UnsupportedOperationType",
                f"The specified action is not supported: searching by text needs {TEXT_MODELS}.",
                status=500,
            )
        return self.text.embed_text([text])[0]
