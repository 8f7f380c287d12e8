"""Training pairs for the descriptor's projection head (tools/train_head.py): an object's catalog shot and
the same object as a shopper photographs it, each described by Lookalike's own vision, as an add and a
search with a Region would describe them.

The pictures come from Debian packages that the quality harness (bench/quality/) does not use, so that
nothing it measures was trained on, neither its objects nor its scene photos:
- `gcompris-qt-data` 3.1-2 (each picture public domain, CC0, CC-BY, CC-BY-SA or GPL-3, per the
  package's copyright file): photos of
  tools, fish, windmills, monuments, animals and landscapes (its activities categorization, erase,
  explore_*, details), and cut-outs with exact masks (lang, clickgame, babyshapes: drawn, not photos). The
  package keeps them in Qt resource files (.rcc), read here.
- `lomiri-wallpapers-20.04` 20.04.0-2 (CC-BY, CC-BY-SA, CC0): 4 photos (none of them in
  `lomiri-wallpapers-16.04`, which the harness uses).
Every picture is checked against the harness's own by content hash (`disjoint`).

An object is either a cut-out or a pseudo-object: a random part of a photo (a rectangle, an ellipse or a
polygon of it). Its catalog shot: on white with a 12 % margin, 480 px, JPEG 90. Its shopper's views, each
with its own random numbers: relit with a colour cast, sometimes shadowed, perspective-warped, rotated,
scaled to 2-40 % of the frame and laid on another photo, the frame blurred or noisy, JPEG 45-85; the box
given is the object's, each side jittered by up to 10 % of its size half of the time.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
import os
import random
import struct
import subprocess
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository's bench/, run as a script

from bench.quality.queries import warped  # the harness's perspective, the same random draws

from lookalike.vision.decode import decode_reduced
from lookalike.vision.pipeline import Vision
from lookalike.vision.subjects import Box

DEBIAN = {"gcompris-qt-data": "3.1-2", "lomiri-wallpapers-20.04": "20.04.0-2"}
PHOTO_ACTIVITIES = (
    "categorization",
    "erase",
    "explore_monuments",
    "explore_world_animals",
    "explore_farm_animals",
    "details",
)
CUTOUT_ACTIVITIES = ("lang", "clickgame", "babyshapes")
FRAME_SIDE = 800  # the longer side of a shopper's photo
CATALOG_SIDE = 480


def unpacked(package: str, version: str, cache: Path) -> Path:
    """The Debian package unpacked under `cache` (apt-get download, dpkg-deb -x), once."""
    root = cache / "deb" / package
    if (root / "usr").is_dir():
        return root
    root.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["apt-get", "download", f"{package}={version}"], cwd=root.parent, check=True)
    (deb,) = root.parent.glob(f"{package}_*.deb")
    subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    deb.unlink()
    return root


def rcc_files(blob: bytes) -> dict[str, bytes]:
    """The files of a Qt resource file (.rcc, format versions 1-3; zlib-compressed entries inflated)."""
    if blob[:4] != b"qres":
        raise ValueError("not a Qt resource file")
    version, tree, data, names = struct.unpack(">IIII", blob[4:20])
    node = 22 if version >= 2 else 14
    files: dict[str, bytes] = {}

    def name(offset: int) -> str:
        (length,) = struct.unpack(">H", blob[names + offset : names + offset + 2])
        return blob[names + offset + 6 : names + offset + 6 + 2 * length].decode("utf-16-be")

    def walk(index: int, prefix: str) -> None:
        base = tree + index * node
        name_offset, flags = struct.unpack(">IH", blob[base : base + 6])
        path = prefix + (name(name_offset) if index else "")
        if flags & 2:  # a directory
            count, first = struct.unpack(">II", blob[base + 6 : base + 14])
            for child in range(first, first + count):
                walk(child, path + "/")
            return
        (offset,) = struct.unpack(">I", blob[base + 10 : base + 14])
        (size,) = struct.unpack(">I", blob[data + offset : data + offset + 4])
        raw = blob[data + offset + 4 : data + offset + 4 + size]
        files[path] = zlib.decompress(raw[4:]) if flags & 1 else raw

    walk(0, "")
    return files


@dataclass(frozen=True)
class Sources:
    photos: dict[str, Image.Image]  # name -> RGB, longer side at most 1024
    cutouts: dict[str, Image.Image]  # name -> RGBA, cropped to the mask


def load_sources(cache: Path) -> Sources:
    gcompris = unpacked("gcompris-qt-data", DEBIAN["gcompris-qt-data"], cache) / "usr/share/gcompris-qt/rcc"
    photos: dict[str, Image.Image] = {}
    cutouts: dict[str, Image.Image] = {}
    for activity in (*PHOTO_ACTIVITIES, *CUTOUT_ACTIVITIES):
        files = rcc_files((gcompris / f"{activity}.rcc").read_bytes())
        for path, raw in sorted(files.items()):
            if not path.endswith(".webp"):
                continue
            image = Image.open(io.BytesIO(raw))
            image.load()
            name = f"gcompris/{activity}{path}"
            has_mask = image.mode == "RGBA" and image.getchannel("A").getextrema()[0] < 128
            if activity in CUTOUT_ACTIVITIES and has_mask:
                box = image.getchannel("A").point(lambda a: 255 if a > 128 else 0).getbbox()
                if box and min(box[2] - box[0], box[3] - box[1]) >= 60:
                    cutouts[name] = image.crop(box)
            elif activity in PHOTO_ACTIVITIES and not has_mask and min(image.size) >= 200:
                photos[name] = _fit(image.convert("RGB"), 1024)
    lomiri = unpacked("lomiri-wallpapers-20.04", DEBIAN["lomiri-wallpapers-20.04"], cache)
    for path in sorted((lomiri / "usr/share/backgrounds").glob("*.jpg")):
        photos[f"lomiri-20.04/{path.name}"] = _fit(Image.open(path).convert("RGB"), 1024)
    return Sources(photos, cutouts)


def disjoint(sources: Sources, harness_files: list[Path]) -> None:
    """Raise if any training picture is one of the harness's (the same pixels, at any size: compared at 16x16
    grey, rounded)."""

    def key(image: Image.Image) -> bytes:
        small = np.asarray(image.convert("L").resize((16, 16), Image.Resampling.BOX), np.int16) // 16
        return hashlib.sha1(small.tobytes()).digest()

    theirs = {key(Image.open(path)) for path in harness_files}
    ours = {name: key(image) for name, image in [*sources.photos.items(), *sources.cutouts.items()]}
    shared = sorted(name for name, k in ours.items() if k in theirs)
    if shared:
        raise SystemExit(f"training pictures that the harness uses: {shared}")


def _fit(image: Image.Image, side: int) -> Image.Image:
    scale = min(1.0, side / max(image.size))
    return image.resize(
        (max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.Resampling.LANCZOS
    )


def pseudo_object(photo: Image.Image, rng: random.Random) -> Image.Image:
    """A random part of a photo as an object: a rectangle, an ellipse or a polygon of 10-50 % of it."""
    share, aspect = rng.uniform(0.1, 0.5), math.exp(rng.uniform(-0.7, 0.7))
    w = min(photo.width, round(math.sqrt(share * photo.width * photo.height * aspect)))
    h = min(photo.height, round(math.sqrt(share * photo.width * photo.height / aspect)))
    x, y = rng.randint(0, photo.width - w), rng.randint(0, photo.height - h)
    part = photo.crop((x, y, x + w, y + h)).convert("RGBA")
    shape = rng.choice(("rectangle", "ellipse", "polygon"))
    if shape == "rectangle":
        return part
    mask = Image.new("L", part.size, 0)
    draw = ImageDraw.Draw(mask)
    if shape == "ellipse":
        draw.ellipse((0, 0, w - 1, h - 1), fill=255)
    else:
        corners = sorted(rng.uniform(0, 2 * math.pi) for _ in range(rng.randint(5, 9)))
        radii = [rng.uniform(0.6, 1.0) for _ in corners]
        draw.polygon(
            [
                (w / 2 * (1 + r * math.cos(a)), h / 2 * (1 + r * math.sin(a)))
                for a, r in zip(corners, radii, strict=True)
            ],
            fill=255,
        )
    part.putalpha(mask)
    box = mask.getbbox()
    return part.crop(box) if box else part


def catalog_shot(rgba: Image.Image) -> bytes:
    """On white, a 12 % margin, no side more than twice the other, 480 px on its longer side, JPEG 90."""
    w, h = rgba.size
    side_w, side_h = round(w * 1.24), round(h * 1.24)
    side_w, side_h = max(side_w, side_h // 2), max(side_h, side_w // 2)
    canvas = Image.new("RGBA", (side_w, side_h), (255, 255, 255, 255))
    canvas.alpha_composite(rgba, ((side_w - w) // 2, (side_h - h) // 2))
    scale = CATALOG_SIDE / max(side_w, side_h)
    size = (round(side_w * scale), round(side_h * scale))
    return _jpeg(canvas.convert("RGB").resize(size, Image.Resampling.LANCZOS), 90)


def _jpeg(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def shopper_view(rgba: Image.Image, background: Image.Image, rng: random.Random) -> tuple[bytes, Box]:
    """The object as a shopper photographs it, laid on `background`; the JPEG and the (jittered) box."""
    alpha = rgba.getchannel("A")
    rgb = ImageEnhance.Brightness(rgba.convert("RGB")).enhance(rng.uniform(0.6, 1.4))
    rgb = ImageEnhance.Contrast(rgb).enhance(rng.uniform(0.7, 1.3))
    rgb = ImageEnhance.Color(rgb).enhance(rng.uniform(0.7, 1.3))
    pixels = np.asarray(rgb, np.float32) * np.array([rng.uniform(0.8, 1.2) for _ in range(3)], np.float32)
    if rng.random() < 0.5:  # a soft shadow beyond a random line across it
        h, w = pixels.shape[:2]
        angle = rng.uniform(0, 2 * math.pi)
        ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
        across = (xs - w * rng.uniform(0.2, 0.8)) * math.cos(angle) + (
            ys - h * rng.uniform(0.2, 0.8)
        ) * math.sin(angle)
        depth = rng.uniform(0.4, 0.8)
        pixels *= (1 - (1 - depth) * np.clip(across / (0.1 * max(w, h)) + 0.5, 0, 1))[..., None]
    thing = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).convert("RGBA")
    thing.putalpha(alpha)
    thing = warped(thing, rng, 0.2).rotate(
        rng.uniform(-25, 25), resample=Image.Resampling.BICUBIC, expand=True
    )
    box = thing.getchannel("A").point(lambda a: 255 if a > 128 else 0).getbbox()
    thing = thing.crop(box)
    frame = _background(background, rng)
    share = math.exp(rng.uniform(math.log(0.02), math.log(0.4)))
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
    left, top, right, bottom = thing.getchannel("A").point(lambda a: 255 if a > 128 else 0).getbbox() or (
        0,
        0,
        thing.width,
        thing.height,
    )
    box = Box(x + left, x + right, y + top, y + bottom)
    picture = frame.convert("RGB")
    if rng.random() < 0.5:
        picture = picture.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 2.2)))
    else:
        noise = np.random.default_rng(rng.getrandbits(32)).normal(
            0, rng.uniform(2, 12), (picture.height, picture.width, 3)
        )
        picture = Image.fromarray(np.clip(np.asarray(picture, np.float32) + noise, 0, 255).astype(np.uint8))
    if rng.random() < 0.5:
        box = _jittered(box, rng, picture.width, picture.height)
    return _jpeg(picture, rng.randint(45, 85)), box


def _background(photo: Image.Image, rng: random.Random) -> Image.Image:
    """A random part (half or more of each side) of the photo, FRAME_SIDE px on its longer side."""
    w, h = round(photo.width * rng.uniform(0.5, 1)), round(photo.height * rng.uniform(0.5, 1))
    x, y = rng.randint(0, photo.width - w), rng.randint(0, photo.height - h)
    part = photo.crop((x, y, x + w, y + h))
    scale = FRAME_SIDE / max(part.size)
    return part.resize(
        (round(part.width * scale), round(part.height * scale)), Image.Resampling.BILINEAR
    ).convert("RGBA")


def _jittered(box: Box, rng: random.Random, width: int, height: int) -> Box:
    w, h = box.x2 - box.x1, box.y2 - box.y1
    moved = Box(
        round(box.x1 + rng.uniform(-0.1, 0.1) * w),
        round(box.x2 + rng.uniform(-0.1, 0.1) * w),
        round(box.y1 + rng.uniform(-0.1, 0.1) * h),
        round(box.y2 + rng.uniform(-0.1, 0.1) * h),
    ).clip(width, height)
    return moved or box


def describe_catalog(vision: Vision, data: bytes) -> np.ndarray:
    """As an add stores it: the first subject of the picture."""
    return vision.see(data, every_subject=False).first.vector


def describe_view(vision: Vision, data: bytes, box: Box) -> np.ndarray:
    """As a search with this Region describes it."""
    picture = decode_reduced(data)
    (view,) = vision.describe(picture, [box])
    return view.vector


def split_of(name: str) -> str:
    """A fixed sixth of the source pictures is kept for validation, chosen by a hash of the name."""
    return "val" if hashlib.sha1(name.encode()).digest()[0] < 43 else "train"


def make_pairs(sources: Sources, vision: Vision, seed: int, crops: int, views: int) -> dict[str, np.ndarray]:
    """Every object's catalog vector and `views` shopper's views' vectors, in a fixed order."""
    rng = random.Random(seed)
    objects: list[tuple[str, Image.Image, str]] = []  # name, RGBA, the picture it came from
    for name, image in sources.cutouts.items():
        objects.append((name, image, name))
    for name, photo in sources.photos.items():
        for i in range(crops):
            objects.append((f"{name}#{i}", pseudo_object(photo, rng), name))
    photo_names = sorted(sources.photos)
    catalog = np.empty((len(objects), vision.dim), np.float32)
    seen = np.empty((len(objects), views, vision.dim), np.float32)
    for i, (_, rgba, origin) in enumerate(objects):
        catalog[i] = describe_catalog(vision, catalog_shot(rgba))
        for v in range(views):
            background = rng.choice([n for n in photo_names if n != origin])
            seen[i, v] = describe_view(vision, *shopper_view(rgba, sources.photos[background], rng))
        if i % 200 == 0:
            print(f"{i} of {len(objects)} objects", flush=True)
    return {
        "catalog": catalog,
        "views": seen,
        "names": np.array([name for name, _, _ in objects]),
        "val": np.array([split_of(origin) == "val" for _, _, origin in objects]),
    }


def harness_pictures(bench_cache: Path) -> list[Path]:
    """Every picture of the quality harness's sources (bench/quality/fetch.py): its objects and scenes."""
    found = []
    for part in ("deb", "pypi", "renders"):
        for suffix in ("*.png", "*.jpg", "*.jpeg", "*.webp"):
            found += (bench_cache / part).rglob(suffix)
    return sorted(found)


def source_arguments(parser: argparse.ArgumentParser) -> None:
    """The options every tool that trains on these pictures takes: where they and the harness's are."""
    parser.add_argument("--cache", type=Path, required=True, help="where the packages are unpacked")
    parser.add_argument(
        "--bench-cache", type=Path, default=Path(os.environ.get("LOOKALIKE_BENCH_CACHE") or "bench/.cache")
    )


def checked_sources(cache: Path, bench_cache: Path) -> Sources:
    """The training pictures, once none of them is found among the quality harness's."""
    sources = load_sources(cache)
    print(f"{len(sources.photos)} photos, {len(sources.cutouts)} cut-outs", flush=True)
    harness = harness_pictures(bench_cache)
    if not harness:
        raise SystemExit(f"no harness pictures under {bench_cache}: run python -m bench.quality.fetch first")
    disjoint(sources, harness)
    print(f"none of them among the harness's {len(harness)} pictures", flush=True)
    return sources


def main() -> int:
    from lookalike.vision.embedder import Embedder
    from lookalike.vision.fingerprint import image_model_sha256
    from lookalike.vision.pooling import DEFAULT

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source_arguments(parser)
    parser.add_argument("--out", type=Path, required=True, help="the pairs, .npz")
    parser.add_argument("--seed", type=int, default=20261202)
    parser.add_argument("--crops", type=int, default=6, help="pseudo-objects cut from each photo")
    parser.add_argument("--views", type=int, default=4, help="shopper's views of each object")
    args = parser.parse_args()
    sources = checked_sources(args.cache, args.bench_cache)
    pairs = make_pairs(
        sources, Vision(Embedder(threads=1, pooling=DEFAULT)), args.seed, args.crops, args.views
    )
    recipe = {"debian": DEBIAN, "seed": args.seed, "crops": args.crops, "views": args.views}
    recipe |= {"photos": len(sources.photos), "cutouts": len(sources.cutouts), "descriptor": DEFAULT}
    # The pairs are the packaged model's vectors, which a fine-tune changes (the shipped projection's were
    # described by the PyPI model, before round 31's).
    recipe |= {"image_model_sha256": image_model_sha256(None)}
    np.savez(args.out, recipe=np.array(json.dumps(recipe)), **pairs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
