"""Bytes in, a handle out: the decoded picture, where to look in it, and its first subject described.

`Vision.see` decodes the picture once and returns a `Sight`, which the service asks for more when it needs
it, without the bytes being decoded again. Two seams make it up:

- `Vision.locate`, where to look: a given Region; else, with Crop, the subjects (a plain background is
  trimmed by its colour; a cluttered photo goes through the model once whole, and its activations plus
  colour find the subjects; in a shop's photo of its product, the first of them the detected object they
  agree with); else the whole picture.
- `Vision.describe`, what a region looks like: one model pass over any boxes, their vectors and category
  scores.

The sight describes the first subject at once; `Sight.further` describes the rest when the service finds
nothing close with the first: the other subjects (in a cluttered photo, the detector's objects taking turns
with the activations' subjects, the object both agree on first, looked for only then), and the whole
picture around them. The other subjects are screened: described by the model quantised to 8 bits (1.3-2.3
times cheaper, vision/embedder.py), good enough to tell which of them is the product; `Sight.in_full`
describes the chosen one again with the full model, whose vectors alone are compared with the stored ones
in a ranking.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import NamedTuple

import numpy as np
from PIL import Image

from lookalike.domain.errors import BadValue, Unsupported
from lookalike.domain.image import Box
from lookalike.metrics import stage
from lookalike.vision import colour, local, softened, tighten
from lookalike.vision.background import Background
from lookalike.vision.budget import DecodeBudget
from lookalike.vision.categories import category_scores
from lookalike.vision.decode import Reduced, decode_reduced
from lookalike.vision.detection import Detection
from lookalike.vision.detector import Detector, agreed, alongside
from lookalike.vision.embedder import INPUT_SIZE, Embedder, Looks
from lookalike.vision.local import Features
from lookalike.vision.pooling import UNSURE
from lookalike.vision.projection import Projection
from lookalike.vision.salience import MAX_SUBJECTS, SAME_SUBJECT, salient_subjects
from lookalike.vision.subjects import crop, downscaled, plain_subjects, scale_box, tilt, turned
from lookalike.vision.text import TextTower
from lookalike.vision.thumbnail import THUMBNAIL_SIDE, thumbnail

# Further subjects `Sight.further` describes at most. With two detectors' objects among them, the first 14
# subjects box the product (IoU >= 0.5) in 85 % of the development scenes' cluttered photos, the first 20 in
# 88 % and 26 in 90 %; 19 found it first 1.1 points more often than 13, 25 only 0.4 more than 19 (round 21).
MAX_OTHERS = 19
# A given Region is also searched turned upright (`Sight.upright`): a product photographed askew matches its
# upright catalog shot better turned back, by the tilt its edges show (vision/subjects.py `tilt`). With the
# true box as Region, scene R@1 +1.5 points on the quality harness's development split (+0.9 held out) for
# one more model pass; turned 12 degrees each way instead, as much for two, and worst seeds lost (round
# 22). A box leaning less than `LEAST_TILT` degrees, or whose edges agree on no tilt (`SURE_TILT`), is
# searched as it is only; none is turned further than `MOST_TILT` (a shopper's photo leans, it does not
# lie on its side).
LEAST_TILT, MOST_TILT, SURE_TILT = 4.0, 20.0, 0.1
# What SearchImageByText needs, for the message that refuses it.
TEXT_MODELS = (
    "a joint image-text model (CLIP-style) whose ONNX text tower is configured with "
    "`lookalike serve --text-model PATH`; the packaged EfficientNet-Lite0 is image-only"
)


@dataclass(frozen=True)
class View:
    """A part of the picture and what it looks like."""

    region: Box  # in the original's pixels
    vector: np.ndarray  # L2-normalised
    category_scores: dict[int, float] = field(default_factory=dict)  # the model's classes, as categories
    screened: bool = False  # described by the screening model: close to the full model's vector, not it
    detail: np.ndarray | None = None  # its finer detail (vision/detail.py); None from another model


@dataclass(frozen=True)
class Located:
    """Where to look in a picture."""

    subjects: tuple[Box, ...]  # in the original's pixels, the likeliest first
    whole: View | None = None  # the whole picture, when a model pass over it was how they were found
    # The picture's `downscaled` copy, when the locating looked at one: what a thumbnail is made from.
    small: Image.Image | None = field(default=None, compare=False, repr=False)
    # Found by a plain background's colour: a scene of sand, water or sky may look plain too, so the
    # cluttered way may still be asked to look (`Vision.as_clutter`).
    plain: bool = False


class Further(NamedTuple):
    others: list[View]  # the other subjects, each described as if it were the first
    around: list[View]  # the whole picture, in a cluttered photo: where the first subject lies


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


class Sight:
    """One decoded picture, where to look in it, and its first subject described; more views on request,
    from the same decoded pixels."""

    def __init__(self, vision: Vision, picture: Reduced, located: Located):
        self.vision = vision
        self.picture = picture
        self.located = located
        with stage("describe"):
            # A product shot's subject is a product even when it is the whole shot (cropped tight): it
            # keeps its aspect ratio, as every other product's box does.
            (self.first,) = vision.describe(picture, located.subjects[:1], stretch=not located.plain)
        self._further: Further | None = None
        self._enlarged: dict[Box, Features | None] = {}
        self._colours: dict[Box, np.ndarray] = {}

    @property
    def subjects(self) -> tuple[Box, ...]:
        return self.located.subjects

    @property
    def may_see_more(self) -> bool:
        """Whether `further` has anything to offer: other subjects, or surroundings of the first, or a
        second look, the cluttered way, at a picture whose background looked plain."""
        return len(self.subjects) > 1 or self.located.whole is not None or self.located.plain

    @cached_property
    def features(self) -> Features:
        """Local features of the whole picture, for stored products to be looked for in: wherever the
        product lies, whatever box the locating found."""
        return local.extract(self.picture, local.QUERY_POINTS)

    def enlarged_features(self, box: Box) -> Features | None:
        """Local features of a small box enlarged (`local.extract_enlarged`), once a box; None for a box
        that is not small."""
        if box not in self._enlarged:
            self._enlarged[box] = local.extract_enlarged(self.picture, box)
        return self._enlarged[box]

    def colours(self, box: Box) -> np.ndarray:
        """The colour signature of a box of the picture (vision/colour.py), once a box."""
        if box not in self._colours:
            image = self.picture.image
            sx, sy = image.width / self.picture.width, image.height / self.picture.height
            scaled = scale_box(box, sx, sy, image.width, image.height)
            self._colours[box] = colour.signature(image, (scaled.x1, scaled.y1, scaled.x2, scaled.y2))
        return self._colours[box]

    def subject_features(self) -> Features:
        """Local features of the first subject: what an add keeps beside its vector."""
        with stage("local features"):
            return local.extract(self.picture, local.STORED_POINTS, self.first.region, local.STORED_SIDE)

    def softened(self) -> tuple[np.ndarray, bytes]:
        """The first subject's vector as a shopper's photo would see it (vision/softened.py), and that view
        as a JPEG: what an add keeps beside its vector (one more model pass)."""
        image = self.picture.image
        sx, sy = image.width / self.picture.width, image.height / self.picture.height
        subject = crop(image, scale_box(self.first.region, sx, sy, image.width, image.height))
        small = softened.shrunk(subject)
        with stage("describe"):
            view = Image.open(io.BytesIO(small)).convert("RGB")
            return self.vision.embedder.embed([square(view)])[0], small

    def pixels(self, box: Box) -> int:
        """The longer side of a box (in the original's pixels) in the decoded picture's pixels."""
        image = self.picture.image
        return round(
            max(box.width * image.width / self.picture.width, box.height * image.height / self.picture.height)
        )

    def thumbnail(self) -> bytes:
        """A small JPEG of the picture for people to see (vision/thumbnail.py), made from the copy the
        locating looked at when it is big enough: that saves resizing the picture again (1.3 ms of an
        add's CPU)."""
        small = self.located.small
        if small is None or max(small.size) < min(THUMBNAIL_SIDE, max(self.picture.image.size)):
            small = self.picture.image
        return thumbnail(small)

    def in_full(self, view: View) -> View:
        """The view as the full model describes it: a screened one is described again (one model pass)."""
        if not view.screened:
            return view
        with stage("describe"):
            (full,) = self.vision.describe(self.picture, [view.region])
        return full

    def upright(self, view: View) -> View | None:
        """The view's box turned back by the tilt its edges show, described by the full model (one model
        pass): the same region, seen as if the product stood straight; None when it leans too little, or
        its edges agree on no tilt."""
        image = self.picture.image
        sx, sy = image.width / self.picture.width, image.height / self.picture.height
        box = scale_box(view.region, sx, sy, image.width, image.height)
        angle, sure = tilt(image, box)
        if abs(angle) < LEAST_TILT or sure < SURE_TILT:
            return None
        # Turned at twice the model's side: finer than it needs, for 1-20 ms of CPU (a small box to a
        # whole photo).
        picture = turned(image, box, max(-MOST_TILT, min(MOST_TILT, angle)), 2 * INPUT_SIZE)
        with stage("describe"):
            looks = self.vision.embedder.look([square(picture)])
        return View(view.region, looks.vectors[0], _scores(looks, 0), detail=_detail(looks, 0))

    def tightened(self, view: View) -> View | None:
        """The view's box drawn in to the object it holds (vision/tighten.py), described by the full
        model (one model pass); None when the box is as tight."""
        image = self.picture.image
        sx, sy = image.width / self.picture.width, image.height / self.picture.height
        with stage("tighten"):
            inner = tighten.tightened(image, scale_box(view.region, sx, sy, image.width, image.height))
        if inner is None:
            return None
        with stage("describe"):
            (full,) = self.vision.describe(self.picture, _scaled(self.picture, [inner]))
        return full

    def further(self, most: int = MAX_OTHERS) -> Further:
        """More of the picture: its first `most` other subjects; and, in a cluttered photo, the detector's
        objects among them and the whole picture, which the search ranks beside the chosen subject. A
        picture whose background looked plain is looked at the cluttered way too once its plain subjects
        run out (`Vision.as_clutter`). Each other subject is screened once (`in_full` describes it fully),
        in one model pass per call that asks for more subjects than the calls before it. (A view of the
        first subject widened by a fifth a side was searched too; with nine other subjects and their
        verification it found no product that they did not, for a model pass a search.)"""
        if self.located.plain and len(self.subjects) <= most:
            self.located = self.vision.as_clutter(self.picture, self.located)
        elif self._further is None:
            self.located = self.vision.with_objects(self.picture, self.located)
        had = self._further
        others = [] if had is None else had.others
        more = list(self.subjects[1 + len(others) : 1 + most])
        around = [] if self.located.whole is None else [self.located.whole]
        if had is not None and not more and len(around) == len(had.around):
            return had  # nothing new to look at
        described = self.vision.describe(self.picture, more, screen=True) if more else []
        self._further = Further([*others, *described], around)
        return self._further


class Vision:
    def __init__(
        self,
        embedder: Embedder,
        text: TextTower | None = None,
        budget: DecodeBudget | None = None,
        detector: Detector | None = None,
        projection: Projection | None = None,
        screener: Embedder | None = None,
        background: Background | None = None,
    ):
        if text is not None and text.dim != embedder.dim:
            raise ValueError(
                f"the text tower gives {text.dim}-dimensional vectors but the image model {embedder.dim}: "
                "both towers must come from one joint image-text model"
            )
        self.embedder = embedder
        self.text = text
        self.budget = budget or DecodeBudget()  # shared by every request's decode
        self.detector = detector  # None: the activations and colour alone find subjects
        self.projection = projection  # None: the ranking stays R-MAC's alone (another model, other vectors)
        self.screener = screener  # None: further subjects are described by the embedder itself
        self.background = background  # None: a match is worth its cosine, however common the stored image

    @property
    def dim(self) -> int:
        return self.embedder.dim

    @property
    def unsure(self) -> float:
        """The cosine under which a vector's nearest stored image is probably not the same product."""
        return UNSURE[self.embedder.pooling]

    def see(
        self,
        data: bytes,
        *,
        crop_subject: bool = True,
        region: Box | None = None,
        every_subject: bool = True,
        product_shot: bool = False,
    ) -> Sight:
        """The picture decoded once, where to look in it, and its first subject described. An explicit
        region wins; else the subjects when `crop_subject`; else the whole picture. Without
        `every_subject`, only the first subject is looked for (all an add stores: a fifth less CPU). A
        `product_shot` is a shop's photo of its product (`locate`)."""
        with stage("decode"):
            picture = decode_reduced(data, budget=self.budget)
        with stage("locate"):
            located = self.locate(
                picture,
                crop_subject=crop_subject,
                region=region,
                every_subject=every_subject,
                product_shot=product_shot,
            )
        return Sight(self, picture, located)

    def locate(
        self,
        picture: Reduced,
        *,
        crop_subject: bool = True,
        region: Box | None = None,
        every_subject: bool = True,
        product_shot: bool = False,
    ) -> Located:
        """Where to look, in the original's pixels: the subjects, the likeliest first; and the whole
        picture, when a model pass over it was how they were found. A cluttered `product_shot` (a shop's
        photo of its product in a room, on a table, outdoors) has one subject: the product
        (`_product_in_clutter`)."""
        everything = _whole(picture)
        if region is not None:
            used = region.clip(picture.width, picture.height)
            if used is None:
                raise BadValue(
                    "region",
                    f"The specific region is illegal: {region.x1},{region.x2},{region.y1},{region.y2} "
                    f"lies outside the {picture.width}x{picture.height} picture",
                )
            return Located((used,))
        if not crop_subject:
            return Located((everything,))
        image = picture.image
        small = downscaled(image)
        # On a plain background the box around every part is the product (a pair of shoes); its parts
        # follow (two products side by side).
        found = plain_subjects(image, small)
        if found is None and product_shot:
            return self._product_in_clutter(picture, small)
        if found is None:
            return self._in_clutter(picture, small, MAX_SUBJECTS if every_subject else 1)
        return Located(_scaled(picture, found[: None if every_subject else 1]), None, small, plain=True)

    def as_clutter(self, picture: Reduced, located: Located) -> Located:
        """A picture whose background looked plain, looked at the cluttered way too: its plain subjects
        first, then the activations' and the detector's (`with_objects`) that are not one of them: a
        small product on sand or water, which the plain way boxes with its surroundings, or not at all
        (the whole picture)."""
        small = downscaled(picture.image) if located.small is None else located.small
        cluttered = self.with_objects(picture, self._in_clutter(picture, small, MAX_SUBJECTS))
        had = located.subjects
        more = [box for box in cluttered.subjects if all(box.iou(one) < SAME_SUBJECT for one in had)]
        return replace(cluttered, subjects=(*had, *more)[: 1 + MAX_OTHERS])

    def _in_clutter(self, picture: Reduced, small: Image.Image, most: int) -> Located:
        """One model pass over the whole picture: its activations plus colour find the subjects."""
        image = picture.image
        looks = self.embedder.look([image])
        if looks.feature_maps is None:  # a model without a map: the whole picture is the subject
            found = [Box(0, image.width, 0, image.height)]
        else:
            found = salient_subjects(image, looks.feature_maps[0], small, most=most)
        whole = View(_whole(picture), looks.vectors[0], _scores(looks, 0), detail=_detail(looks, 0))
        return Located(_scaled(picture, found), whole, small)

    def _product_in_clutter(self, picture: Reduced, small: Image.Image) -> Located:
        """A shop's photo of its product in a cluttered place, whose one subject is the product: the
        detected object that one of the activations' subjects agrees with (`detector.agreed`), else their
        first subject. The two cues fail in different ways (the activations box the product with the table
        under it, or the room's loudest texture; the detectors box COCO's things in the background), and
        where they meet is the product more often, and tighter. A search does not start from it (the
        detectors would run in every cluttered search, and a photo resized is boxed otherwise by them): it
        looks at it right after its first subject when it looks further (`with_objects`)."""
        located = self._in_clutter(picture, small, MAX_SUBJECTS)
        first = located.subjects[0]
        if self.detector is not None and located.whole is not None:
            with stage("detect"):
                first = (
                    agreed(located.subjects, self._detected(picture), (picture.width, picture.height))
                    or first
                )
        return replace(located, subjects=(first,))

    def _detected(self, picture: Reduced) -> list[Detection]:
        """The detector's objects, in the original's pixels."""
        assert self.detector is not None
        image = picture.image
        sx, sy = picture.width / image.width, picture.height / image.height
        return [
            replace(found, box=scale_box(found.box, sx, sy, picture.width, picture.height))
            for found in self.detector.detect(image)
        ]

    def with_objects(self, picture: Reduced, located: Located) -> Located:
        """The subjects of a cluttered photo with the detector's objects taking turns with them, the first
        subject staying first (`detector.alongside`), and the object both cues agree on (`detector.agreed`,
        what an add stores of a shop's photo in a room) right after it: a copy of such a photo reaches its
        stored box in the first step (on the quality harness it also found a few more shoppers' products
        first than the objects' turns alone: round 28)."""
        if self.detector is None or located.whole is None:
            return located
        with stage("detect"):
            objects = self._detected(picture)
        subjects = alongside(located.subjects, objects, 1 + MAX_OTHERS)
        both = agreed(located.subjects, objects, (picture.width, picture.height))
        if both is not None and both.iou(subjects[0]) < SAME_SUBJECT:
            rest = [box for box in subjects[1:] if box.iou(both) < SAME_SUBJECT]
            subjects = [subjects[0], both, *rest][: 1 + MAX_OTHERS]
        return replace(located, subjects=tuple(subjects))

    def describe(
        self, picture: Reduced, boxes: Sequence[Box], *, screen: bool = False, stretch: bool = True
    ) -> list[View]:
        """What each box (in the original's pixels) looks like, in one model pass: vectors and category
        scores; by the screener if `screen` and there is one. The whole picture is stretched to the
        model's square, as in its training, but without `stretch` (a product shot cropped tight, whose
        product is the whole shot); a part keeps its aspect ratio (`square`)."""
        image = picture.image
        sx, sy = image.width / picture.width, image.height / picture.height
        model = self.screener if screen and self.screener is not None else self.embedder
        looks = model.look(
            [
                image
                if stretch and box == _whole(picture)
                else square(crop(image, scale_box(box, sx, sy, image.width, image.height)))
                for box in boxes
            ]
        )
        screened = model is not self.embedder
        return [
            View(box, looks.vectors[i], _scores(looks, i), screened, _detail(looks, i))
            for i, box in enumerate(boxes)
        ]

    def embed_text(self, text: str) -> np.ndarray:
        """The text's vector in the image space; Unsupported without a text tower."""
        if self.text is None:
            raise Unsupported(
                f"The specified action is not supported: searching by text needs {TEXT_MODELS}."
            )
        return self.text.embed_text([text])[0]


def _scaled(picture: Reduced, boxes: Sequence[Box]) -> tuple[Box, ...]:
    """Boxes in the decoded image's pixels, in the original's."""
    image = picture.image
    sx, sy = picture.width / image.width, picture.height / image.height
    return tuple(scale_box(box, sx, sy, picture.width, picture.height) for box in boxes)


def _scores(looks: Looks, i: int) -> dict[int, float]:
    """The categories the model believes image `i` is of; none from a model without class scores."""
    return {} if looks.logits is None else category_scores(looks.logits[i])


def _detail(looks: Looks, i: int) -> np.ndarray | None:
    """Image `i`'s finer detail; none from a model without it."""
    return None if looks.details is None else looks.details[i]
