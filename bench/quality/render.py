"""Render Sweet Home 3D's furniture models (Debian sweethome3d-furniture) from two sides: the catalog's
product shots and the queries' real changes of viewpoint.

Runs once, in its own environment (bench/.cache/renderer, made by bench/quality/fetch.py with pinned
pyrender and trimesh; nothing of it is in the project's environments), on Mesa's software OpenGL through EGL:

    bench/.cache/renderer/bin/python bench/quality/render.py FURNITURE_DIR OUT_DIR

Each model of a product kind (no doors, windows, staircases, people, garden or vehicles) is turned
upright (the catalog's modelRotation), lit by an ambient and two directional lights, and rendered with a
transparent background at 1.5x and scaled down (anti-aliasing), cropped to its mask: `front.png` from 35
degrees left of its front and 15 degrees above (the catalog's shot), `side.png` from 40 degrees right and 25
degrees above (75 degrees around it: a real change of viewpoint). `models.tsv` lists each model: id, name,
Sweet Home 3D category.
"""

from __future__ import annotations

import math
import os
import re
import sys
import zipfile
from pathlib import Path

os.environ.setdefault("PYOPENGL_PLATFORM", "egl")  # before pyrender loads OpenGL

import numpy as np
import pyrender
import trimesh
from PIL import Image

SIDE = 480  # of the rendered square, before cropping
SKIP = {"Doors and windows", "Staircases", "Characters", "Exterior", "Vehicles"}  # not shop goods
VIEWS = {"front": (35.0, 15.0), "side": (-40.0, 25.0)}  # degrees: around (yaw), above (pitch)
FIELD = math.radians(30)  # the camera's vertical field of view


def catalog_entries(properties: str) -> list[dict[str, str]]:
    entries: dict[int, dict[str, str]] = {}
    for line in properties.splitlines():
        if match := re.match(r"(\w+)#(\d+)=(.*)", line):
            entries.setdefault(int(match[2]), {})[match[1]] = match[3].strip()
    return [entries[i] for i in sorted(entries)]


def camera_pose(centre: np.ndarray, distance: float, yaw: float, pitch: float) -> np.ndarray:
    yaw, pitch = math.radians(yaw), math.radians(pitch)
    back = np.array([math.sin(yaw) * math.cos(pitch), math.sin(pitch), math.cos(yaw) * math.cos(pitch)])
    right = np.cross([0.0, 1.0, 0.0], back)
    right /= np.linalg.norm(right)
    pose = np.eye(4)
    pose[:3, 0], pose[:3, 1], pose[:3, 2] = right, np.cross(back, right), back
    pose[:3, 3] = centre + back * distance
    return pose


def render(model: Path, rotation: np.ndarray, renderer: pyrender.OffscreenRenderer) -> dict[str, Image.Image]:
    loaded = trimesh.load(model, force="scene")
    turn = np.eye(4)
    turn[:3, :3] = rotation
    loaded.apply_transform(turn)
    scene = pyrender.Scene(bg_color=[0, 0, 0, 0], ambient_light=[0.45, 0.45, 0.45])
    # One mesh of all the parts, placed, in the scene graph's order: pyrender draws its nodes in the order
    # of a set of objects hashed by address, and parts that overlap (coplanar faces, transparent ones) then
    # came out differently from run to run (141 of 1,212 renders, and which models rendered at all).
    parts = []
    for name in loaded.graph.nodes_geometry:
        pose, geometry = loaded.graph[name]
        parts.append(loaded.geometry[geometry].copy().apply_transform(pose))
    scene.add(pyrender.Mesh.from_trimesh(parts, smooth=False))
    low, high = loaded.bounds
    centre, radius = (low + high) / 2, np.linalg.norm(high - low) / 2
    distance = radius / math.sin(FIELD / 2) * 1.05
    camera = scene.add(pyrender.PerspectiveCamera(yfov=FIELD, znear=distance / 20, zfar=distance * 3))
    scene.add(pyrender.DirectionalLight(intensity=2.5), pose=camera_pose(centre, 1, 20, 50))
    scene.add(pyrender.DirectionalLight(intensity=1.2), pose=camera_pose(centre, 1, -60, 20))
    views = {}
    for view, (yaw, pitch) in VIEWS.items():
        scene.set_pose(camera, camera_pose(centre, distance, yaw, pitch))
        colour, _ = renderer.render(scene, flags=pyrender.RenderFlags.RGBA)
        image = Image.fromarray(colour, "RGBA").resize((SIDE, SIDE), Image.Resampling.LANCZOS)
        box = image.getchannel("A").point(lambda a: 255 if a > 128 else 0).getbbox()
        if box is None:
            return {}
        views[view] = image.crop(box)
    return views


def main(furniture: Path, out: Path) -> None:
    renderer = pyrender.OffscreenRenderer(SIDE * 3 // 2, SIDE * 3 // 2)
    listed = []
    for library in sorted(furniture.glob("*.sh3f")):
        unpacked = out.parent / "sh3f" / library.stem
        if not unpacked.is_dir():
            with zipfile.ZipFile(library) as archive:
                archive.extractall(unpacked)
        properties = (unpacked / "PluginFurnitureCatalog.properties").read_text(encoding="latin-1")
        for entry in catalog_entries(properties):
            if "model" not in entry or entry.get("category") in SKIP:
                continue
            model_id = f"{library.stem}/{Path(entry['model']).stem}"
            rotation = np.array(entry.get("modelRotation", "1 0 0 0 1 0 0 0 1").split(), float).reshape(3, 3)
            try:
                views = render(unpacked / entry["model"].lstrip("/"), rotation, renderer)
            except Exception as error:  # a model trimesh cannot read is left out, and said so
                print(f"left out {model_id}: {error}", file=sys.stderr)
                continue
            if len(views) < len(VIEWS) or min(min(v.size) for v in views.values()) < 40:
                continue  # nothing drawn, or a sliver (a rug seen edge-on)
            (out / model_id).mkdir(parents=True, exist_ok=True)
            for view, image in views.items():
                image.save(out / model_id / f"{view}.png")
            listed.append(f"{model_id}\t{entry.get('name', '')}\t{entry.get('category', '')}")
    renderer.delete()
    (out / "models.tsv").write_text("\n".join(listed) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
