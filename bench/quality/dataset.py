"""One split of the harness: its catalog (its own objects among distractors) and each seed's queries."""

from __future__ import annotations

import random
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from bench.quality.objects import catalog_picture, jpeg, load_stamps, of_split
from bench.quality.queries import Query, duplicate_query, scene_query
from bench.quality.scenes import scenes
from PIL import Image

from lookalike.vision.subjects import Box

SKIMAGE_PHOTOS = ("astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png")


@dataclass(frozen=True)
class Dataset:
    split: str
    catalog: dict[str, bytes]  # product id -> JPEG: the split's objects
    distractors: dict[str, bytes]  # more products, never the answer
    queries: dict[int, list[Query]]  # by seed


def build(
    sources: dict[str, Path], split: str, seeds: list[int], per_object: int = 3, duplicates: int = 100
) -> Dataset:
    """The split's catalog and, for each seed, `per_object` scene queries of every object (the scene sources
    taking turns, so each gets as many) and `duplicates` near-duplicates of catalog shots.

    Distractors are the same for both splits: every stamp that is not a photo cut-out (drawings, small or
    uncut photos) as a product shot, the 20 ImageNet photos of foolbox and 5 of scikit-image's photos."""
    objects, other_stamps = load_stamps(sources["tuxpaint-stamps-default"] / "usr/share/tuxpaint/stamps")
    mine = set(of_split([obj.name for obj in objects], split))
    objects = [obj for obj in objects if obj.name in mine]
    shots: dict[str, tuple[bytes, Box]] = {obj.name: catalog_picture(obj) for obj in objects}
    distractors = {f"stamp/{obj.name}": catalog_picture(obj)[0] for obj in other_stamps}
    for path in sorted((sources["foolbox"] / "foolbox/data").glob("imagenet_*.jpg")):
        distractors[f"imagenet/{path.stem}"] = path.read_bytes()
    for name in SKIMAGE_PHOTOS:
        with (resources.files("skimage") / "data" / name).open("rb") as f:
            distractors[f"skimage/{name}"] = jpeg(Image.open(f))

    backgrounds = scenes(sources, split)
    names = sorted(backgrounds)
    queries: dict[int, list[Query]] = {}
    for seed in seeds:
        rng = random.Random(seed)
        made = []
        for i, obj in enumerate(objects):
            for turn in range(per_object):
                source = names[(i * per_object + turn + seed) % len(names)]
                background = rng.choice(backgrounds[source])
                made.append(scene_query(obj, background, source, seed=(seed * 1000 + turn) * 100_003 + i))
        for i, obj in enumerate(rng.sample(objects, min(duplicates, len(objects)))):
            made.append(duplicate_query(obj.name, *shots[obj.name], seed=seed * 200_003 + i))
        queries[seed] = made
    return Dataset(split, {name: data for name, (data, _) in shots.items()}, distractors, queries)
