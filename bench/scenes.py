"""The quality harness's pictures: a catalog of objects on a plain background, distractors, and queries.

Every picture comes from a registry package (see bench/fetch.py):

- objects: Tux Paint's photo stamps (182), cut-outs whose alpha channel is a free, exact mask. Drawings are
  left out by a colour count and a short list of names checked by eye;
- catalog: each object on white with a 12 % margin, as a shop's product shot (JPEG, 480 px);
- scene queries (two per object): the object rotated (up to +-15 degrees), relit (brightness, contrast,
  colour cast), scaled so that its box covers 30-60 % of the frame's area and laid in a real cluttered
  photo (city streets and skylines, rooms, nature: 78 scenes), then recompressed as JPEG quality 55-80;
  the true box is the bounding box of the laid mask;
- near-duplicates: a catalog picture cropped by up to 10 % a side, resized to 50-90 %, recompressed;
- distractors, never the answer: every other stamp (drawings, small or uncut photos) as a product shot, the
  20 ImageNet photos of foolbox and 5 of scikit-image's photos.

Seeds are fixed, so every run builds the same bytes from the same package versions.
"""

from __future__ import annotations

import hashlib
import io
import random
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance

from lookalike.domain.image import Box
from lookalike.vision.categories import IMAGENET, OTHER

CATALOG_SIDE = 480  # longer side of a catalog picture
SCENE_SIDE = 800  # longer side of a query scene
MIN_COLOURS = 400  # distinct 15-bit colours among opaque pixels: photos have many, clip art few
MIN_OBJECT_SIDE = 120  # smaller stamps would be blown up 4x into blur
CLIP_ART = {  # stamps that pass the colour count but are drawings or renders, not photos
    "button", "feathered_hat", "propeller_hat", "Santa", "bunny-egg", "bunny", "butterfly", "chick-in-egg",
    "jackolantern_mean", "grave-a", "grave-c", "grave-f", "3_earth", "5_jupiter", "6_saturn", "7_uranus",
    "8_neptune",
}  # fmt: skip
PLAIN_SCENES = {  # backgrounds with nothing much in them: a sky, a texture
    "Bridge_by_Sander_Klootwijk", "analogpattern_by_Peter_Nerlich", "free_by_Peter_Nerlich",
    "greentock_by_Peter_Nerlich", "sun_behind_clouds",
}  # fmt: skip
SKIMAGE_PHOTOS = ("astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png")


# What a shop would file each picture under. Tux Paint's folders give it: food (and the Christmas food, the
# candy canes, the eggplant) is Snack; the teddy bear, the doll and the nutcracker are Toy; the camera is a
# Digital device. Everything else there (animals, plants, tools, instruments, vehicles) is Other: the 14
# categories are about shop goods, and no clothing, bag, shoe, make-up or bottle photo is among the stamps.
SNACK_STAMPS = {
    "seasonal/christmas/Christmas_pudding", "seasonal/christmas/Mince_Pie", "seasonal/christmas/Roast_turkey",
    "seasonal/christmas/Candy_cane_photo_1", "seasonal/christmas/Candy_cane_photo_2", "plants/eggplant",
}  # fmt: skip
TOY_STAMPS = {
    "animals/mammals/bears/toys/edward_bear", "people/toys/grannysmith",
    "seasonal/christmas/German_Christmas_toy",
}  # fmt: skip
DEVICE_STAMPS = {"hobbies/camera_35mm"}
IMAGENET_CATEGORY = {index: category for category, classes in IMAGENET.items() for index in classes}


def category_of(name: str) -> int:
    """The shop's label for a catalog object or distractor (ImageNet photos carry their class id)."""
    name = name.removeprefix("stamp/")
    if name.startswith("imagenet/"):
        return IMAGENET_CATEGORY.get(int(name.rsplit("_", 1)[1]), OTHER)
    if name.startswith("food/") or name in SNACK_STAMPS:
        return 6
    if name in TOY_STAMPS:
        return 20
    return 22 if name in DEVICE_STAMPS else OTHER


@dataclass(frozen=True)
class StockObject:
    name: str  # product id: the stamp's path below stamps/, without .png
    rgba: Image.Image  # cropped to its mask


@dataclass(frozen=True)
class Query:
    kind: str  # "scene" or "duplicate"
    target: str  # the product id that should come first
    data: bytes  # JPEG
    box: Box  # where the object is, in the query's pixels


def jpeg(image: Image.Image, quality: int = 90) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=quality)
    return out.getvalue()


def load_stamps(stamps: Path) -> tuple[list[StockObject], list[StockObject]]:
    """The photo cut-outs (the objects the queries look for) and every other stamp (drawings, small or
    uncut photos: more products in the catalog, never the answer), deduplicated, in a fixed order. Mirrored
    copies are left out: a mirror image of an object would be a second right answer."""
    objects, others, seen = [], [], set()
    for path in sorted(stamps.rglob("*.png")):
        name = path.relative_to(stamps).with_suffix("").as_posix()
        rgba = np.asarray(Image.open(path).convert("RGBA"))
        digest = hashlib.sha1(rgba.tobytes()).digest()
        if path.stem.endswith("_mirror") or digest in seen:
            continue
        seen.add(digest)
        ys, xs = np.nonzero(rgba[..., 3] > 128)
        if xs.size == 0:
            continue
        cut = StockObject(name, Image.fromarray(rgba).crop((xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)))
        opaque = rgba[..., 3] > 200
        colours = rgba[..., :3][opaque].astype(np.int32) // 8
        distinct = np.unique(colours[:, 0] * 1024 + colours[:, 1] * 32 + colours[:, 2]).size
        is_photo_cutout = (
            "cartoon" not in name.split("/")
            and path.stem not in CLIP_ART
            and opaque.mean() >= 0.15
            and (rgba[..., 3] < 50).mean() >= 0.05  # a transparent surround: a cut-out
            and distinct >= MIN_COLOURS
            and max(np.ptp(xs), np.ptp(ys)) + 1 >= MIN_OBJECT_SIDE
        )
        (objects if is_photo_cutout else others).append(cut)
    return objects, others


def catalog_picture(obj: StockObject) -> tuple[bytes, Box]:
    """A product shot: the object on white, a 12 % margin, no side more than twice the other; and the
    object's box in it."""
    w, h = obj.rgba.size
    side_w, side_h = round(w * 1.24), round(h * 1.24)
    side_w, side_h = max(side_w, side_h // 2), max(side_h, side_w // 2)
    canvas = Image.new("RGBA", (side_w, side_h), (255, 255, 255, 255))
    x, y = (side_w - w) // 2, (side_h - h) // 2
    canvas.alpha_composite(obj.rgba, (x, y))
    scale = CATALOG_SIDE / max(side_w, side_h)
    size = (round(side_w * scale), round(side_h * scale))
    box = Box(round(x * scale), round((x + w) * scale), round(y * scale), round((y + h) * scale))
    return jpeg(canvas.convert("RGB").resize(size, Image.Resampling.LANCZOS)), box


def fit(image: Image.Image, side: int) -> Image.Image:
    scale = side / max(image.size)
    return image.convert("RGB").resize(
        (round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS
    )


def relight(rgba: Image.Image, rng: random.Random) -> Image.Image:
    """Brighter or darker, more or less contrast, a warmer or cooler cast; the mask untouched."""
    rgb, alpha = rgba.convert("RGB"), rgba.getchannel("A")
    rgb = ImageEnhance.Brightness(rgb).enhance(rng.uniform(0.7, 1.3))
    rgb = ImageEnhance.Contrast(rgb).enhance(rng.uniform(0.8, 1.2))
    cast = np.array([1 + rng.uniform(-0.08, 0.08) for _ in range(3)], np.float32)
    pixels = np.clip(np.asarray(rgb, np.float32) * cast, 0, 255).astype(np.uint8)
    out = Image.fromarray(pixels).convert("RGBA")
    out.putalpha(alpha)
    return out


def scene_query(obj: StockObject, background: Image.Image, seed: int) -> Query:
    rng = random.Random(seed)
    frame = fit(background, SCENE_SIDE).convert("RGBA")
    thing = relight(obj.rgba, rng).rotate(
        rng.uniform(-15, 15), resample=Image.Resampling.BICUBIC, expand=True
    )
    share = rng.uniform(0.3, 0.6)  # of the frame's area, for the object's box
    scale = min(
        (share * frame.width * frame.height / (thing.width * thing.height)) ** 0.5,
        frame.width / thing.width,
        frame.height / thing.height,
    )
    thing = thing.resize(
        (max(1, round(thing.width * scale)), max(1, round(thing.height * scale))), Image.Resampling.LANCZOS
    )
    x, y = rng.randint(0, frame.width - thing.width), rng.randint(0, frame.height - thing.height)
    frame.alpha_composite(thing, (x, y))
    ys, xs = np.nonzero(np.asarray(thing.getchannel("A")) > 128)
    box = Box(x + int(xs.min()), x + int(xs.max()) + 1, y + int(ys.min()), y + int(ys.max()) + 1)
    return Query("scene", obj.name, jpeg(frame, rng.randint(55, 80)), box)


def duplicate_query(name: str, catalog_jpeg: bytes, box: Box, seed: int) -> Query:
    rng = random.Random(seed)
    image = Image.open(io.BytesIO(catalog_jpeg)).convert("RGB")
    w, h = image.size
    left, right = int(w * rng.uniform(0, 0.1)), w - int(w * rng.uniform(0, 0.1))
    top, bottom = int(h * rng.uniform(0, 0.1)), h - int(h * rng.uniform(0, 0.1))
    scale = rng.uniform(0.5, 0.9)
    size = (round((right - left) * scale), round((bottom - top) * scale))
    image = image.crop((left, top, right, bottom)).resize(size, Image.Resampling.BILINEAR)
    moved = Box(
        round((box.x1 - left) * scale),
        round((box.x2 - left) * scale),
        round((box.y1 - top) * scale),
        round((box.y2 - top) * scale),
    ).clip(*size)
    assert moved is not None  # the crop takes at most 10 % a side; the margin is 12 %
    return Query("duplicate", name, jpeg(image, rng.randint(55, 80)), moved)


@dataclass(frozen=True)
class Dataset:
    catalog: dict[str, bytes]  # product id -> JPEG
    distractors: dict[str, bytes]
    queries: list[Query]


def build(
    sources: dict[str, Path],
    scenes_per_object: int = 2,
    duplicates: int = 100,
    seed: int = 11,
    scene_distractors: bool = False,
) -> Dataset:
    """The catalog, distractors and queries. With `scene_distractors`, a quarter of the scene photos are
    held out of the backgrounds and added to the catalog instead: a much harder test, since every scene
    collection has its own look (Mezzanine's are all HDR skylines), so a query's background alone matches
    a held-out scene from the same collection."""
    stamps = sources["tuxpaint-stamps-default"] / "usr/share/tuxpaint/stamps"
    objects, other_stamps = load_stamps(stamps)
    shots = {obj.name: catalog_picture(obj) for obj in objects}
    catalog = {name: data for name, (data, _) in shots.items()}

    scene_paths = sorted(
        [
            *(sources["mezzanine"] / "gallery").glob("*.jpg"),
            *(sources["tuxpaint-data"] / "usr/share/tuxpaint/templates").glob("*.jpg"),
            *(sources["lomiri-wallpapers-16.04"] / "usr/share/backgrounds").glob("*.jpg"),
        ]
    )
    scene_paths = [p for p in scene_paths if p.stem not in PLAIN_SCENES]
    held_out = scene_paths[::4] if scene_distractors else []
    backgrounds = [fit(Image.open(p), SCENE_SIDE) for p in scene_paths if p not in held_out]

    distractors = {f"scene/{p.stem}": jpeg(fit(Image.open(p), SCENE_SIDE)) for p in held_out}
    distractors |= {f"stamp/{obj.name}": catalog_picture(obj)[0] for obj in other_stamps}
    for path in sorted((sources["foolbox"] / "foolbox/data").glob("imagenet_*.jpg")):
        distractors[f"imagenet/{path.stem}"] = path.read_bytes()
    for name in SKIMAGE_PHOTOS:
        with (resources.files("skimage") / "data" / name).open("rb") as f:
            distractors[f"skimage/{name}"] = jpeg(Image.open(f))

    rng = random.Random(seed)
    queries = [
        scene_query(obj, rng.choice(backgrounds), seed=(seed * 100 + round_) * 100_003 + i)
        for round_ in range(scenes_per_object)
        for i, obj in enumerate(objects)
    ]
    for i, obj in enumerate(rng.sample(objects, min(duplicates, len(objects)))):
        queries.append(duplicate_query(obj.name, *shots[obj.name], seed=seed * 200_003 + i))
    return Dataset(catalog, distractors, queries)
