"""Fixtures shared by every test room: real photographs from an installed package, a real Milvus server."""

from __future__ import annotations

import contextlib
import io
import os
import time
import uuid
from collections.abc import Callable, Iterator
from importlib import resources
from urllib.parse import urlsplit

import numpy as np
import pytest
from PIL import Image
from pymilvus import MilvusClient

from lookalike.domain.image import Box
from lookalike.store.milvus import MilvusAddress
from tests.milvus_server import MilvusServer, MilvusUnavailable

# Colour photographs that ship inside the scikit-image wheel (public domain or CC0, see skimage/data/README).
PHOTO_FILES = {
    "astronaut": "astronaut.png",
    "chelsea": "chelsea.png",
    "coffee": "coffee.png",
    "rocket": "rocket.jpg",
    "motorcycle": "motorcycle_left.png",
    "hubble": "hubble_deep_field.jpg",
    "retina": "retina.jpg",
    "ihc": "ihc.png",
}
# Real photographs of textures (grey), the cluttered ground a shopper's product lies on in the tests.
GROUND_FILES = {"grass": "grass.png", "gravel": "gravel.png", "brick": "brick.png"}


def photo_image(name: str) -> Image.Image:
    with (resources.files("skimage") / "data" / {**PHOTO_FILES, **GROUND_FILES}[name]).open("rb") as f:
        return Image.open(f).convert("RGB")


def place(
    ground: Image.Image, thing: Image.Image, at: tuple[int, int], width: int, angle: float = 0.0
) -> tuple[Image.Image, Box]:
    """`thing` scaled to `width` px, turned by `angle` degrees, laid on a copy of `ground` with its
    top-left corner at `at`; the picture, and the box of the thing in it."""
    scaled = thing.convert("RGBA").resize((width, round(thing.height * width / thing.width)))
    turned = scaled.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True)
    picture = ground.convert("RGBA")
    picture.alpha_composite(turned, at)
    ys, xs = np.nonzero(np.asarray(turned.getchannel("A")) > 128)
    box = Box(
        at[0] + int(xs.min()), at[0] + int(xs.max()) + 1, at[1] + int(ys.min()), at[1] + int(ys.max()) + 1
    )
    return picture.convert("RGB"), box


def plain(size: tuple[int, int], colour: tuple[int, int, int] = (255, 255, 255)) -> Image.Image:
    return Image.new("RGB", size, colour)


def jpeg(image: Image.Image, quality: int = 90) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def until(condition: Callable[[], object], most_seconds: float = 60) -> None:
    """Wait for a state another thread reaches (the bound only stops a broken test from hanging)."""
    deadline = time.monotonic() + most_seconds
    while not condition():
        assert time.monotonic() < deadline, "the state was never reached"
        time.sleep(0.005)


@pytest.fixture(scope="session")
def photos() -> dict[str, bytes]:
    """Each photograph as JPEG bytes, as a shop would upload it."""
    return {name: jpeg(photo_image(name)) for name in PHOTO_FILES}


@pytest.fixture(scope="session")
def milvus_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A `milvus://` URI of a real Milvus server for this session; the test is skipped, saying why, if none
    can run here (see tests/milvus_server.py)."""
    external = os.environ.get("LOOKALIKE_TEST_MILVUS")
    if external:
        yield external
        return
    server = MilvusServer(tmp_path_factory.mktemp("milvus"))
    try:
        server.start()
    except MilvusUnavailable as why:
        pytest.skip(f"no Milvus server: {why}")
    yield server.uri
    server.stop()


@contextlib.contextmanager
def new_milvus_database(milvus_uri: str) -> Iterator[str]:
    """The URI of a new database on that Milvus, dropped afterwards with all it holds."""
    name = f"t{uuid.uuid4().hex[:12]}"
    options = MilvusAddress.parse(milvus_uri).client_options()
    MilvusClient(**options).create_database(name)
    yield urlsplit(milvus_uri)._replace(path=f"/{name}").geturl()
    inside = MilvusClient(**{**options, "db_name": name})
    for collection in inside.list_collections():
        inside.drop_collection(collection)
    inside.drop_database(name)
    inside.close()


@pytest.fixture
def milvus_database(milvus_uri: str) -> Iterator[str]:
    """A database of its own on the session's Milvus, for one test."""
    with new_milvus_database(milvus_uri) as uri:
        yield uri
