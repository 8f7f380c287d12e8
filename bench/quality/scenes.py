"""The scene photos the queries' objects are laid in, by source: each source is one registry package.

- mezzanine: Mezzanine's test gallery (PyPI), 49 city, street and skyline photos;
- tuxpaint: Tux Paint's photo templates (Debian tuxpaint-data), 18 nature, farm and machine photos;
- lomiri: Ubuntu Touch's photo wallpapers (Debian lomiri-wallpapers-16.04), 11 landscapes and still lifes;
- mate: MATE's nature wallpapers (Debian mate-backgrounds), 12 close-ups of plants, water, sand, wood;
- plasma: the photos among KDE's wallpapers (Debian plasma-workspace-wallpapers), 12 lakes, piers, leaves,
  cups, a forest path, a facade.

Nearly plain pictures (a sky, a texture) and drawings are left out by name. A third of each source's photos
are held out (bench/quality/objects.py `of_split`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from bench.quality.objects import fit, of_split

SCENE_SIDE = 800  # longer side of a query scene


@dataclass(frozen=True)
class SceneSource:
    name: str
    package: str
    pattern: str  # below the package's root
    leave_out: frozenset[str] = frozenset()  # stems: plain pictures, drawings
    only: frozenset[str] | None = None  # stems, or the wallpaper's folder for KDE's


PLASMA_PHOTOS = frozenset({
    "BytheWater", "ColdRipple", "ColorfulCups", "DarkestHour", "EveningGlow", "FallenLeaf", "Grey", "Kite",
    "OneStandsOut", "Path", "summer_1am", "Volna",
})  # fmt: skip
SOURCES = (
    SceneSource("mezzanine", "mezzanine", "gallery/*.jpg"),
    SceneSource(
        "tuxpaint", "tuxpaint-data", "usr/share/tuxpaint/templates/*.jpg", frozenset({"sun_behind_clouds"})
    ),
    SceneSource(
        "lomiri",
        "lomiri-wallpapers-16.04",
        "usr/share/backgrounds/*.jpg",
        frozenset({
            "Bridge_by_Sander_Klootwijk", "analogpattern_by_Peter_Nerlich", "free_by_Peter_Nerlich",
            "greentock_by_Peter_Nerlich",
        }),
    ),
    SceneSource("mate", "mate-backgrounds", "usr/share/backgrounds/mate/nature/*.jpg"),
    SceneSource(
        "plasma", "plasma-workspace-wallpapers", "usr/share/wallpapers/*/contents/images/*.jpg",
        only=PLASMA_PHOTOS,
    ),
)  # fmt: skip


def _name(source: SceneSource, path: Path) -> str:
    return path.parts[-4] if source.name == "plasma" else path.stem  # KDE's: one folder, several sizes


def photo_paths(source: SceneSource, root: Path) -> list[Path]:
    """The source's photos, one file each (the largest, when a wallpaper comes in several sizes)."""
    chosen: dict[str, Path] = {}
    for path in sorted(root.glob(source.pattern)):
        name = _name(source, path)
        if name in source.leave_out or (source.only is not None and name not in source.only):
            continue
        if name not in chosen or path.stat().st_size > chosen[name].stat().st_size:
            chosen[name] = path
    return [chosen[name] for name in sorted(chosen)]


def scenes(
    sources: dict[str, Path], split: str, side: int = SCENE_SIDE, portrait: bool = False
) -> dict[str, list[Image.Image]]:
    """Each source's photos of the split, fitted to `side`; with `portrait`, the middle of each cut upright
    (3 wide to 4 high), as a phone held upright frames the same place."""
    out = {}
    for source in SOURCES:
        paths = {_name(source, p): p for p in photo_paths(source, sources[source.package])}
        photos = (Image.open(paths[name]) for name in of_split(list(paths), split))
        out[source.name] = [fit(upright(photo) if portrait else photo, side) for photo in photos]
    return out


def upright(photo: Image.Image) -> Image.Image:
    """The middle of a photo, 3 wide to 4 high (all of it across, if it is that narrow already)."""
    width = min(photo.width, round(photo.height * 3 / 4))
    height = min(photo.height, round(width * 4 / 3))
    left, top = (photo.width - width) // 2, (photo.height - height) // 2
    return photo.crop((left, top, left + width, top + height))
