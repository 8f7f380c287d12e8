"""Geometric verification through the official SDK: a small product anywhere in a busy photo is found and
boxed where it lies; each stored image's local features, colours, detail and softened vector live and die
with it."""

from __future__ import annotations

import contextlib
import sqlite3

import pytest

from lookalike.domain.image import Box
from tests.acceptance.sdk import add, delete, found, search_pic
from tests.conftest import jpeg, photo_image, place, plain

PRODUCTS = ("coffee", "rocket", "chelsea", "astronaut", "motorcycle")
KINDS = ("features", "colours", "detail", "softened")  # what each image keeps beside its vector


def box(region: str) -> Box:
    return Box(*map(int, region.split(",")))


def kept(server, instance: str) -> dict[str, int]:
    """How many images' local features, colours, detail and softened vectors the server keeps (read from its
    blob database, read-only)."""
    (path,) = (server.data_dir / "blobs").glob(f"{instance}.*.sqlite3")
    with contextlib.closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as db:
        rows = db.execute("SELECT kind, count(*) FROM blobs GROUP BY kind").fetchall()
    return {kind: count for kind, count in rows if kind in KINDS}


def each(count: int) -> dict[str, int]:
    return dict.fromkeys(KINDS, count)


@pytest.fixture
def catalog(client, instance) -> str:
    for name in PRODUCTS:
        picture, _ = place(plain((900, 700)), photo_image(name), at=(180, 140), width=540)
        add(client, instance, name, "shot.jpg", jpeg(picture))
    return instance


@pytest.mark.parametrize(("ground", "beside"), [("gravel", "retina"), ("brick", "ihc")])
def test_a_small_product_beside_a_large_subject_is_found_and_boxed(client, catalog, ground, beside):
    # A motorcycle a fiftieth of the picture, beside a photo ten times its size: the subject finder boxes
    # the large photo and the global ranking puts the astronaut first; the motorcycle's own corners and
    # edges, matched over the whole picture, find it where it lies.
    picture, _ = place(photo_image(ground).resize((1000, 750)), photo_image(beside), (350, 150), 500)
    picture, truth = place(picture, photo_image("motorcycle"), (60, 480), 160, -12)
    body = search_pic(client, catalog, jpeg(picture, quality=70), num=3)
    assert found(body)[0] == ("motorcycle", "shot.jpg")
    assert box(body.pic_info.region).iou(truth) >= 0.7
    assert body.pic_info.multi_region[0].region == body.pic_info.region


def test_what_each_image_keeps_beside_its_vector_lives_and_dies_with_it(client, catalog, server):
    assert kept(server, catalog) == each(len(PRODUCTS))
    picture, _ = place(plain((900, 700)), photo_image("coffee"), at=(100, 100), width=600)
    add(client, catalog, "coffee", "second.jpg", jpeg(picture))
    add(client, catalog, "coffee", "second.jpg", jpeg(picture, quality=60))  # replaced, not added
    assert kept(server, catalog) == each(len(PRODUCTS) + 1)
    delete(client, catalog, product_id="coffee")  # both of its pictures
    delete(client, catalog, product_id="rocket", pic_name="shot.jpg")
    assert kept(server, catalog) == each(len(PRODUCTS) - 2)
