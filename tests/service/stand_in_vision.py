"""A stand-in for the vision (named as such: a fake), for unit tests of the service core.

A picture here is not pixels but a key to a scene the test wrote: the subjects the vision would find, the
vector and category scores each would be described by, and (for a cluttered photo) the views around the
first subject. It has no local features, so geometric verification confirms nothing and the ranking by
vectors stands. So a test can say exactly what the vision saw, and check what the service does with it:
capacity, categories, paging, DistinctProductId across views, fused ranking. The real vision is tested in
tests/vision, and the two together by the acceptance tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lookalike.domain.image import Box
from lookalike.vision import colour
from lookalike.vision.decode import Reduced
from lookalike.vision.local import Features
from lookalike.vision.pipeline import Further, Located, View

DIM = 8
NO_FEATURES = Features(np.zeros((0, 2), np.float32), np.zeros((0, 32), np.uint8))


def vector(*values: float) -> np.ndarray:
    """A unit vector of DIM dimensions from its first few coordinates (the rest 0)."""
    v = np.zeros(DIM, dtype=np.float32)
    v[: len(values)] = values
    return v / np.linalg.norm(v)


def view(
    region: Box, *values: float, categories: dict[int, float] | None = None, screened: bool = False
) -> View:
    return View(region, vector(*values), categories or {}, screened)


@dataclass
class Scene:
    subjects: list[View]  # the first is the one described first
    around: list[View] = field(default_factory=list)  # the first subject in its surroundings, if cluttered
    in_full: dict[Box, View] = field(default_factory=dict)  # a screened subject's full description
    tightened: dict[Box, View] = field(default_factory=dict)  # a subject's box drawn in to its object
    upright: dict[Box, View] = field(default_factory=dict)  # a box's content turned back upright


class StandInSight:
    """What `Vision.see` gives: the first subject described, more on request."""

    features = NO_FEATURES

    def __init__(self, scene: Scene, every_subject: bool):
        self.scene = scene
        self.first = scene.subjects[0]
        self.subjects = tuple(s.region for s in (scene.subjects if every_subject else scene.subjects[:1]))
        self.picture = Reduced(None, 100, 100)  # no pixels: no thumbnails
        self.located = Located(self.subjects, scene.around[-1] if scene.around else None)
        self.further_calls = 0
        self.upright_calls = 0

    def subject_features(self) -> Features:
        return NO_FEATURES

    def enlarged_features(self, box: Box) -> Features | None:
        return None  # no pixels to enlarge

    def colours(self, box: Box) -> np.ndarray:
        return np.full(colour.SIZE, 1 / colour.SIZE, np.float32)  # no pixels: every box alike in colour

    def pixels(self, box: Box) -> int:
        return max(box.width, box.height)  # the picture is as big as its scene says

    def thumbnail(self) -> bytes:
        raise AssertionError("a stand-in picture has no pixels to make a thumbnail of")

    @property
    def may_see_more(self) -> bool:
        return len(self.subjects) > 1 or bool(self.scene.around)

    def in_full(self, view: View) -> View:
        return self.scene.in_full[view.region] if view.screened else view

    def tightened(self, view: View) -> View | None:
        return self.scene.tightened.get(view.region)

    def upright(self, view: View) -> View | None:
        self.upright_calls += 1
        return self.scene.upright.get(view.region)

    def further(self, most: int) -> Further:
        self.further_calls += 1
        return Further(self.scene.subjects[1 : 1 + most], self.scene.around)


class StandInVision:
    dim = DIM
    unsure = 0.6  # the cosine under which the first subject's nearest stored image is not trusted
    projection = None  # the ranking stays the vectors' own (service/rerank.py is tested on its own)
    background = None  # every match worth its cosine (vision/background.py is tested on its own)

    def __init__(self) -> None:
        self.scenes: dict[bytes, Scene] = {}
        self.sights: list[StandInSight] = []

    def picture(
        self,
        name: str,
        *subjects: View,
        around: tuple[View, ...] = (),
        in_full: tuple[View, ...] = (),
        tightened: dict[Box, View] | None = None,
        upright: dict[Box, View] | None = None,
    ) -> bytes:
        """The bytes that stand for a picture of these subjects (`in_full`: the full descriptions of the
        screened ones; `tightened`: a subject's box drawn in, by the subject's box; `upright`: its content
        turned upright, by the box)."""
        data = f"picture:{name}".encode()
        fulls = {full.region: full for full in in_full}
        self.scenes[data] = Scene(
            list(subjects), list(around), fulls, dict(tightened or {}), dict(upright or {})
        )
        return data

    def see(self, data: bytes, *, every_subject: bool = True, **how: object) -> StandInSight:
        # How the caller asked to look (Crop, a Region, a shop's own shot) changes nothing in a written scene.
        sight = StandInSight(self.scenes[data], every_subject)
        self.sights.append(sight)
        return sight

    def embed_text(self, text: str) -> np.ndarray:
        return vector(*(float(ord(c)) for c in text[:DIM]))
