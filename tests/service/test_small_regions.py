"""A caller's small Region is compared with the stored products at its own size (vision/softened.py
`matched`), with the real vision and the real embedded store: an add keeps its subject's softened view as a
small picture, and only a search whose caller gave a box smaller than that view describes the first
candidates' kept views at the box's size."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from PIL import Image

from lookalike.app import Components, build_components
from lookalike.config import Settings
from lookalike.domain.image import Box, ImageKey
from lookalike.service.models import AddImage, Picture, SearchOptions
from lookalike.service.rerank import RERANK, SOFTENED_PICTURE
from lookalike.vision import softened
from tests.conftest import jpeg, photo_image, place, plain

PRODUCTS = ("coffee", "rocket", "chelsea", "astronaut", "motorcycle")


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Components]:
    components = build_components(Settings(data_dir=tmp_path_factory.mktemp("small") / "data"))
    components.instances.create("shop")
    for name in PRODUCTS:
        shot, _ = place(plain((900, 700)), photo_image(name), at=(180, 140), width=540)
        components.service.add(AddImage("shop", name, "shot.jpg", Picture(jpeg(shot))))
    yield components
    components.close()


@pytest.fixture
def sides(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The sides the stored views were shrunk to, one entry a candidate described."""
    seen: list[int] = []
    real = softened.matched

    def matched(stored: bytes, side: int) -> Image.Image:
        seen.append(side)
        return real(stored, side)

    monkeypatch.setattr(softened, "matched", matched)
    return seen


def photo_with(name: str, width: int) -> tuple[bytes, Box]:
    """A shopper's photo of the product `width` pixels wide on gravel, and its box."""
    ground = photo_image("gravel").resize((900, 700))
    picture, box = place(ground, photo_image(name), at=(300, 250), width=width)
    return jpeg(picture, quality=70), box


def test_an_add_keeps_its_subject_s_softened_view_as_a_small_picture(shop):
    key = ImageKey("rocket", "shot.jpg")
    kept = shop.service.blobs.get(shop.instances.get("shop"), SOFTENED_PICTURE, [key])
    with Image.open(io.BytesIO(kept[key])) as view:
        assert view.format == "JPEG" and max(view.size) == softened.SIDE


def test_a_small_region_compares_the_first_candidates_at_its_size(shop, sides):
    picture, box = photo_with("rocket", 70)
    result = shop.service.search_by_pic("shop", Picture(picture, region=box), SearchOptions(num=RERANK))
    assert result.hits[0].image.product_id == "rocket"
    assert sides == [max(box.width, box.height)] * RERANK


@pytest.mark.parametrize("given", [False, True])
def test_a_box_the_search_chose_or_a_region_as_big_as_the_view_is_compared_as_it_is(shop, sides, given):
    small, _ = photo_with("rocket", 70)
    shop.service.search_by_pic("shop", Picture(small), SearchOptions())  # the search chose the box
    big, big_box = photo_with("rocket", softened.SIDE + 20)
    shop.service.search_by_pic("shop", Picture(big, region=big_box if given else None), SearchOptions())
    assert sides == []


def test_candidates_stored_without_their_view_are_compared_as_they_are(tmp_path, sides):
    components = build_components(Settings(data_dir=tmp_path / "data"))
    try:
        instance = components.instances.create("old")
        for name in ("rocket", "coffee"):
            shot, _ = place(plain((900, 700)), photo_image(name), at=(180, 140), width=540)
            components.service.add(AddImage("old", name, "shot.jpg", Picture(jpeg(shot))))
        # As an image added before the view was kept: none of its blobs.
        components.service.blobs.delete(instance, [ImageKey("coffee", "shot.jpg")])
        picture, box = photo_with("rocket", 70)
        result = components.service.search_by_pic("old", Picture(picture, region=box), SearchOptions())
        assert result.hits[0].image.product_id == "rocket" and sides == []
    finally:
        components.close()
