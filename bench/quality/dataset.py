"""One split of the harness: its catalog (its own objects among distractors) and each seed's queries."""

from __future__ import annotations

import hashlib
import pickle
import random
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from PIL import Image

from bench.quality import objects, queries, scenes
from bench.quality.fetch import CACHE
from bench.quality.objects import (
    StockObject,
    catalog_picture,
    category_of,
    hash_order,
    jpeg,
    load_renders,
    load_stamps,
    of_split,
    side_of,
    style_of,
)
from bench.quality.queries import HARNESS_FRAMING, Framing, Query, duplicate_query, scene_query
from lookalike.domain.image import Box

OTHER_SPLIT = {"dev": "heldout", "heldout": "dev"}
SKIMAGE_PHOTOS = ("astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png")


@dataclass(frozen=True)
class Dataset:
    split: str
    catalog: dict[str, bytes]  # product id -> JPEG: the split's objects
    distractors: dict[str, bytes]  # more products, never the answer
    labels: dict[str, int]  # the shop's category of every catalog picture and distractor
    queries: dict[int, list[Query]]  # by seed


def _mine(objects: list[StockObject], split: str) -> list[StockObject]:
    names = set(of_split([obj.name for obj in objects], split))
    return [obj for obj in objects if obj.name in names]


def build(
    sources: dict[str, Path],
    split: str,
    seeds: list[int],
    per_object: int = 2,
    furniture: int = 120,
    duplicates: int = 100,
    styles: int = 0,
    framing: Framing = HARNESS_FRAMING,
) -> Dataset:
    """The split's catalog and, for each seed, `per_object` queries of every stamp and of `furniture` of the
    rendered models (the scene sources taking turns, so each gets as many; a model's every other query shows
    its other side), and `duplicates` near-duplicates of catalog shots. Every rendered model of the split is
    in the catalog, queried or not.

    Distractors are the same for both splits: every stamp that is not a photo cut-out (drawings, small or
    uncut photos) as a product shot, the 20 ImageNet photos of foolbox and 5 of scikit-image's photos. With
    `styles`, each shot is made one of objects.py's STYLES ways (`style_of`) at one of its SHOT_SIDES
    (`side_of`); those "in a room" are laid in the other split's scene photos. The scene queries are framed
    as `framing` says (the near-duplicates are the catalog shots' own)."""
    stamps, other_stamps = load_stamps(sources["tuxpaint-stamps-default"] / "usr/share/tuxpaint/stamps")
    stamps, models = _mine(stamps, split), _mine(load_renders(sources["renders"]), split)

    # The rooms of the catalog shots "in a room": the other split's scene photos, never a query's.
    rooms = scenes.scenes(sources, OTHER_SPLIT[split]) if styles else {}
    other = [photo for photos in rooms.values() for photo in photos]

    def shot(obj: StockObject, name: str) -> tuple[bytes, Box]:
        if not styles:
            return catalog_picture(obj)
        return catalog_picture(obj, style_of(name), other, side_of(name))

    shots: dict[str, tuple[bytes, Box]] = {obj.name: shot(obj, obj.name) for obj in stamps + models}
    labels = {obj.name: obj.category for obj in stamps + models}
    distractors = {f"stamp/{obj.name}": shot(obj, f"stamp/{obj.name}")[0] for obj in other_stamps}
    for path in sorted((sources["foolbox"] / "foolbox/data").glob("imagenet_*.jpg")):
        distractors[f"imagenet/{path.stem}"] = path.read_bytes()
    for name in SKIMAGE_PHOTOS:
        with (resources.files("skimage") / "data" / name).open("rb") as f:
            distractors[f"skimage/{name}"] = jpeg(Image.open(f))
    labels |= {name: category_of(name) for name in distractors}

    backgrounds = scenes.scenes(sources, split, framing.side, framing.portrait)
    names = sorted(backgrounds)
    chosen = set(hash_order([model.name for model in models])[:furniture])
    queried = stamps + [model for model in models if model.name in chosen]
    made_by_seed: dict[int, list[Query]] = {}
    for seed in seeds:
        rng = random.Random(seed)
        made = []
        for i, obj in enumerate(queried):
            for turn in range(per_object):
                source = names[(i * per_object + turn + seed) % len(names)]
                background = rng.choice(backgrounds[source])
                side = obj.side is not None and turn % 2 == 1
                made.append(
                    scene_query(
                        obj,
                        background,
                        source,
                        seed=(seed * 1000 + turn) * 100_003 + i,
                        side=side,
                        shares=framing.shares,
                    )
                )
        for i, obj in enumerate(rng.sample(queried, min(duplicates, len(queried)))):
            made.append(duplicate_query(obj.name, *shots[obj.name], seed=seed * 200_003 + i))
        made_by_seed[seed] = made
    catalog = {name: data for name, (data, _) in shots.items()}
    return Dataset(split, catalog, distractors, labels, made_by_seed)


def cached_build(
    sources: dict[str, Path], split: str, seeds: list[int], *args: int, framing: Framing = HARNESS_FRAMING
) -> Dataset:
    """`build`, kept in bench/.cache/built/ (one set a split) under a key of its arguments, of the code that
    makes the pictures and of the rendered models: a second run of the same set skips a minute of CPU."""
    code = [Path(module.__file__).read_bytes() for module in (objects, scenes, queries)]
    code.append(Path(__file__).read_bytes())
    code.append((sources["renders"] / "models.tsv").read_bytes())
    key = hashlib.sha1(repr((code, split, seeds, args, framing, sorted(map(str, sources.values())))).encode())
    path = CACHE / "built" / f"{split}-{key.hexdigest()[:16]}.pickle"
    if path.is_file():
        return pickle.loads(path.read_bytes())
    data = build(sources, split, seeds, *args, framing=framing)
    path.parent.mkdir(exist_ok=True)
    for old in path.parent.glob(f"{split}-*.pickle"):
        old.unlink()
    partial = path.with_suffix(".partial")
    partial.write_bytes(pickle.dumps(data))
    partial.replace(path)  # appears whole
    return data
