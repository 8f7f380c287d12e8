"""The quality harness end to end on a few real photographs, both ways it asks the service: through a real
server and the official SDK, and in-process. It must keep working whatever the service becomes, since
every vision change is measured with it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from bench.quality.categories import model_alone
from bench.quality.dataset import Dataset
from bench.quality.measure import measure
from bench.quality.misses import write_misses
from bench.quality.objects import StockObject, catalog_picture
from bench.quality.queries import duplicate_query, scene_query
from bench.quality.report import summary
from bench.quality.runners import add_catalog, service
from PIL import Image

from lookalike.vision.categories import OTHER
from tests.conftest import photo_image

PRODUCTS = ("astronaut", "coffee", "chelsea", "rocket")


def small_dataset() -> Dataset:
    objects = []
    for name in PRODUCTS:
        photo = photo_image(name)
        photo.thumbnail((300, 300))
        objects.append(StockObject(f"photos/{name}", photo.convert("RGBA"), OTHER))
    shots = {obj.name: catalog_picture(obj) for obj in objects}
    ground = photo_image("grass").resize((800, 533))
    queries = [scene_query(obj, ground, "grass", seed=i) for i, obj in enumerate(objects)]
    queries += [duplicate_query(obj.name, *shots[obj.name], seed=i) for i, obj in enumerate(objects)]
    catalog = {name: data for name, (data, _) in shots.items()}
    return Dataset("dev", catalog, {}, dict.fromkeys(catalog, OTHER), {1: queries})


@pytest.mark.parametrize("in_process", [True, False], ids=["in-process", "server and SDK"])
def test_the_harness_measures_the_service(in_process: bool, tmp_path: Path):
    data = small_dataset()
    with service(in_process) as running:
        add_catalog(running, data.catalog, data.labels)
        rows, cpu = measure(running, data)
        alone = model_alone(running, data)
    assert len(rows) == 3 * len(PRODUCTS) + len(PRODUCTS)  # three ways for a scene, one for a duplicate
    table = summary(rows)
    assert table["near-duplicates"]["mean"]["R@1"] == 1.0
    assert table["grass"]["mean"]["n"] == len(PRODUCTS)
    assert all(seconds > 0 for seconds in cpu.values())
    assert len(alone) == len(PRODUCTS) and all(label == OTHER for label, _ in alone)
    misses = [r for r in rows if r["mode"] == "default" and r["rank"] != 0]
    assert write_misses(data, rows, tmp_path) == len(misses)
    for picture in tmp_path.rglob("*.jpg"):
        assert np.asarray(Image.open(picture)).ndim == 3
