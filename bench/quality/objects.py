"""The catalog objects, what a shop files each under, and its product shot. Two sources:

- stamps: Tux Paint's photo stamps (Debian tuxpaint-stamps-default), cut-outs whose alpha channel is a free,
  exact mask: instruments, tools, toys, food, animals, plants, vehicles. Drawings are left out by a colour
  count and a short list of names checked by eye; they, and small or uncut photos, stay in the catalog as
  distractors (products that are never the answer);
- furniture: Sweet Home 3D's textured models (Debian sweethome3d-furniture) rendered from two sides
  (bench/quality/render.py): furniture, appliances, devices, shoes, bags, clothes, bottles, food, tools,
  toys. The front view is the catalog's shot; the other side (75 degrees around) makes the queries of a
  real change of viewpoint. Flat wall fittings, plants, vehicles and buildings are left out by name.
"""

from __future__ import annotations

import hashlib
import io
import math
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from lookalike.domain.image import Box
from lookalike.vision.categories import IMAGENET, OTHER

CATALOG_SIDE = 480  # longer side of a catalog picture
MIN_COLOURS = 400  # distinct 15-bit colours among opaque pixels: photos have many, clip art few
MIN_OBJECT_SIDE = 120  # smaller stamps would be blown up 4x into blur
CLIP_ART = {  # stamps that pass the colour count but are drawings or renders, not photos
    "button", "feathered_hat", "propeller_hat", "Santa", "bunny-egg", "bunny", "butterfly", "chick-in-egg",
    "jackolantern_mean", "grave-a", "grave-c", "grave-f", "3_earth", "5_jupiter", "6_saturn", "7_uranus",
    "8_neptune",
}  # fmt: skip

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


# A shop's label for a furniture model, by its English name; the first that matches wins. The rest is Other.
RENDER_CATEGORIES = (
    (8, r"\bbottle\b"),
    (4, r"sneakers|mocassin|shoes|slippers|bootie"),
    (3, r"backpack|briefcase|handbag|suitcase"),
    (1, r"^dress$"),
    (2, r"trousers|skirt|^short$"),
    (0, r"jacket|^suit$"),
    (7, r"lip stick|cosmetics|flacon"),
    (5, r"^cap$|^hat$|^(sun)?glasses$|^watch$|^ring$|umbrella|glove|helmet"),
    (6, r"apples|^bread$|hamburger|hot dog|french fries|cake|steak|roasted chicken|butter|^milk$|sugar|fruits"
        r"|salad"),
    (20, r"toy|doll|teddy|rocking horse|puzzle|rubik|car model|xylophone|card game|chessboard|basketball$"
         r"|soccer ball"),
    (22, r"\btv\b|laptop|tablet|phone|imac|ibook|camera|keyboard|joystick|playstation|headphones|radio"
         r"|speaker|stereo|printer|dvd|mp3|projector|remote"),
    (9, r"chair|sofa|couch|table|desk|\bbed\b|crib|bench|stool|wardrobe|cabinet|bookcase|shelves|dresser"
        r"|drawers|^chest$|lamp|puff|futon|ottoman|vanity|cupboard|locker"),
)  # fmt: skip
RENDER_LEAVE_OUT = re.compile(
    r"plug|switch|socket|parking|pedestrian|rail|arrow|crossing|sidewalk|pool|fence|hedge|tree|pine|maple"
    r"|poplar|cypress|acacia|beech|bamboo|bush|^rock$|chimney|column|container|bus$|truck|^van$|fork lift"
    r"|hut$|dog house|curtain|blind|doormat|carpet|rug|bathmat|fountain|sandpit|diving board|concrete"
    r"|chevrolet|peugeot|renault|ford|seat leon|smart car|beetle|sedan|suv|motorbike|yamaha|bicycle|bike"
    r"|^bill|lantern|antenna|detector|dimmer|intercom|entry|sign|bell|radiator|heater|boiler|furnace"
)


def render_category(name: str) -> int:
    name = name.lower()
    return next((category for category, words in RENDER_CATEGORIES if re.search(words, name)), OTHER)


SPLITS = ("dev", "heldout")


def hash_order(names: list[str]) -> list[str]:
    """The names in the order of their hashes: a fixed shuffle, whatever order they came in."""
    return sorted(names, key=lambda name: hashlib.sha1(name.encode()).digest())


def of_split(names: list[str], split: str) -> list[str]:
    """The names that belong to the split, in their order: every third name in hash order is held out, so
    each source gives a third of its objects or scenes, and the same ones every run."""
    held = set(hash_order(names)[2::3])
    return [name for name in names if (name in held) == (split == "heldout")]


@dataclass(frozen=True)
class StockObject:
    name: str  # product id: the stamp's path below stamps/ without .png; "furniture/" and the model's id
    rgba: Image.Image  # cropped to its mask: what the catalog shows
    category: int  # the shop's label
    side: Image.Image | None = None  # the object seen from another side, for a rendered model


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
        cut = Image.fromarray(rgba).crop((xs.min(), ys.min(), xs.max() + 1, ys.max() + 1))
        cut = StockObject(name, cut, category_of(name))
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


VIEWS = ("front", "side")  # the files bench/quality/render.py writes for each model


def load_renders(renders: Path) -> list[StockObject]:
    """The rendered models of product kinds, in the order bench/quality/render.py listed them."""
    objects = []
    for line in (renders / "models.tsv").read_text().splitlines():
        model, name, _ = line.split("\t")
        if RENDER_LEAVE_OUT.search(name.lower()):
            continue
        front, side = (Image.open(renders / model / f"{view}.png").convert("RGBA") for view in VIEWS)
        objects.append(StockObject(f"furniture/{model}", front, render_category(name), side))
    return objects


# Catalog styles (`--catalog-styles`): how shops photograph their products besides on white with a margin.
# Each: the margin around the object (of its size, a side), the backdrop, and a soft shadow under it; or, "in
# a room", the product laid in a photo (a shop's picture of it in use).
STYLES = (
    "white", "white, 3 % margin", "cropped tight", "light grey", "beige", "grey gradient", "shadow",
    "in a room",
)  # fmt: skip
MARGINS = {"white, 3 % margin": 0.03, "cropped tight": 0.0}
# And the size a shop uploads, a third of the products each: the harness's own 480 px, or bigger files of the
# same picture (a shot's longer side, in pixels).
SHOT_SIDES = (CATALOG_SIDE, 800, 1200)
BACKDROPS = {"light grey": (222, 222, 222), "beige": (234, 224, 204)}


def style_of(name: str) -> str:
    """A catalog shot's style, fixed by its name: each style for an eighth of the products."""
    return STYLES[hashlib.sha1(f"style:{name}".encode()).digest()[0] % len(STYLES)]


def side_of(name: str) -> int:
    """A catalog shot's longer side, fixed by its name: each of SHOT_SIDES for a third of the products."""
    return SHOT_SIDES[hashlib.sha1(f"side:{name}".encode()).digest()[0] % len(SHOT_SIDES)]


def catalog_picture(
    obj: StockObject, style: str = "white", rooms: Sequence[Image.Image] = (), side: int = CATALOG_SIDE
) -> tuple[bytes, Box]:
    """A product shot `side` pixels on its longer side: the object on white, a 12 % margin, no side more
    than twice the other (or in another `style`, STYLES: "in a room" lays it in one of the `rooms`); and
    the object's box in it."""
    if style == "in a room":
        return _in_a_room(obj, rooms, side)
    w, h = obj.rgba.size
    grow = 1 + 2 * MARGINS.get(style, 0.12)
    side_w, side_h = round(w * grow), round(h * grow)
    side_w, side_h = max(side_w, side_h // 2), max(side_h, side_w // 2)
    canvas = _backdrop(style, side_w, side_h)
    x, y = (side_w - w) // 2, (side_h - h) // 2
    if style == "shadow":
        shadow = Image.new("RGBA", obj.rgba.size, (0, 0, 0, 0))
        shadow.putalpha(obj.rgba.getchannel("A").point(lambda alpha: alpha // 2))
        shadow = shadow.filter(ImageFilter.GaussianBlur(max(2, w // 40)))
        canvas.alpha_composite(shadow, (min(side_w - w, x + w // 25), min(side_h - h, y + h // 25)))
    canvas.alpha_composite(obj.rgba, (x, y))
    scale = side / max(side_w, side_h)
    size = (round(side_w * scale), round(side_h * scale))
    box = Box(round(x * scale), round((x + w) * scale), round(y * scale), round((y + h) * scale))
    return jpeg(canvas.convert("RGB").resize(size, Image.Resampling.LANCZOS)), box


def _in_a_room(obj: StockObject, rooms: Sequence[Image.Image], side: int) -> tuple[bytes, Box]:
    """The object laid in one of the `rooms` (fitted to `side`), covering 10-60 % of it (log-uniform), its
    centre within a fifth of the frame of the middle; all fixed by the object's name."""
    rng = random.Random(hashlib.sha1(f"room:{obj.name}".encode()).digest())
    room = rooms[rng.randrange(len(rooms))]
    scale = side / max(room.size)
    canvas = room.convert("RGBA").resize(
        (round(room.width * scale), round(room.height * scale)), Image.Resampling.LANCZOS
    )
    share = math.exp(rng.uniform(math.log(0.1), math.log(0.6)))
    w, h = obj.rgba.size
    scale = min((share * canvas.width * canvas.height / (w * h)) ** 0.5, canvas.width / w, canvas.height / h)
    thing = obj.rgba.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.LANCZOS)
    middle_x = canvas.width * (0.5 + rng.uniform(-0.2, 0.2))
    middle_y = canvas.height * (0.5 + rng.uniform(-0.2, 0.2))
    x = int(min(max(0.0, middle_x - thing.width / 2), canvas.width - thing.width))
    y = int(min(max(0.0, middle_y - thing.height / 2), canvas.height - thing.height))
    canvas.alpha_composite(thing, (x, y))
    ys, xs = np.nonzero(np.asarray(thing.getchannel("A")) > 128)
    box = Box(x + int(xs.min()), x + int(xs.max()) + 1, y + int(ys.min()), y + int(ys.max()) + 1)
    return jpeg(canvas), box


def _backdrop(style: str, width: int, height: int) -> Image.Image:
    if style == "grey gradient":  # a studio sweep: light at the top, darker below
        ramp = np.linspace(250, 190, height).astype(np.uint8)[:, None].repeat(width, axis=1)
        return Image.fromarray(np.dstack([ramp, ramp, ramp, np.full_like(ramp, 255)]), "RGBA")
    return Image.new("RGBA", (width, height), (*BACKDROPS.get(style, (255, 255, 255)), 255))


def fit(image: Image.Image, side: int) -> Image.Image:
    """The picture, its longer side scaled to `side`."""
    if image.format == "JPEG":
        image.draft("RGB", (side, side))  # a big wallpaper decodes at a fraction of its size, much faster
    scale = side / max(image.size)
    return image.convert("RGB").resize(
        (round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS
    )
