"""Install the real photographs of the quality harness from the package registries, into bench/.cache/.

Debian packages come through `apt-get download` (no root needed, nothing installed system-wide) and are
unpacked with `dpkg-deb -x`; PyPI packages through `pip download`. Versions are pinned so every run sees the
same pictures. The licences stay with the packages (GPL-2 Tux Paint stamps and templates, CC/GPL/LGPL
wallpapers, BSD-style PyPI data): nothing here is vendored into the repository.

    python -m bench.quality.fetch          # idempotent; prints where each source landed
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import zipfile
from pathlib import Path

# LOOKALIKE_BENCH_CACHE lets several checkouts share one copy (about 1 GB, and the renders take minutes).
CACHE = Path(os.environ.get("LOOKALIKE_BENCH_CACHE") or Path(__file__).resolve().parents[1] / ".cache")

DEBIAN = {  # package: version (Debian 12 "bookworm")
    "tuxpaint-stamps-default": "2022.06.04-1",  # photo cut-outs with alpha masks: the catalog objects
    "tuxpaint-data": "1:0.9.28-sdl2-1",  # its scene templates: backgrounds
    "lomiri-wallpapers-16.04": "20.04.0-2",  # photo wallpapers: backgrounds
    "mate-backgrounds": "1.26.0-1",  # its nature/ folder: close-up nature photos
    "plasma-workspace-wallpapers": "4:5.27.5-2",  # KDE's wallpapers, a dozen of them photos
    "sweethome3d-furniture": "1.8-1",  # textured 3D models of furniture and household goods (CC-BY, CC0)
}
PYPI = {
    "mezzanine": "6.1.1",  # core/static/test/gallery.zip: 49 city and street photos
    "foolbox": "3.3.4",  # data/imagenet_*.jpg: 20 ImageNet validation photos, labelled
}
# The renderer's own environment (bench/.cache/renderer), for bench/quality/render.py alone.
RENDERER = ("pyrender==0.1.45", "trimesh==5.2.0", "PyOpenGL==3.1.0", "numpy==2.4.6", "pillow==13.0.0")


def run(command: list[str], cwd: Path) -> None:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    if done.returncode:  # apt and pip chatter on success; show it only when they fail
        sys.exit(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")


def debian(package: str, version: str) -> Path:
    root = CACHE / "deb" / package
    if (root / "usr").is_dir():
        return root
    root.parent.mkdir(parents=True, exist_ok=True)
    download = ["apt-get", "download", f"{package}={version}"]
    if subprocess.run(download, cwd=root.parent, capture_output=True).returncode and os.geteuid() == 0:
        run(["apt-get", "update", "-qq"], root.parent)  # a fresh container has no package lists yet
    if not list(root.parent.glob(f"{package}_*.deb")):
        run(download, root.parent)
    (deb,) = root.parent.glob(f"{package}_*.deb")
    run(["dpkg-deb", "-x", str(deb), str(root)], root.parent)
    deb.unlink()
    return root


def pypi(package: str, version: str) -> Path:
    root = CACHE / "pypi" / package
    if root.is_dir():
        return root
    wheels = CACHE / "pypi" / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    pip = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps"]
    run([*pip, "--only-binary=:all:", "-d", str(wheels), f"{package}=={version}"], CACHE)
    (wheel,) = wheels.glob(f"{package}-{version}-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(root)
    wheel.unlink()
    return root


def rendered(furniture: Path) -> Path:
    """The furniture models rendered from two sides (bench/quality/render.py), once: a few minutes. Each
    version of the script renders into a folder of its own, so a cache never holds another version's."""
    script = Path(__file__).with_name("render.py")
    out = CACHE / f"renders-{hashlib.sha1(script.read_bytes()).hexdigest()[:12]}"
    if (out / "models.tsv").is_file():
        return out
    python = CACHE / "renderer" / "bin" / "python"
    if not python.exists():
        run([sys.executable, "-m", "venv", str(python.parents[1])], CACHE)
        run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *RENDERER], CACHE)
    print("rendering the furniture models from two sides (once, a few minutes)", flush=True)
    run([str(python), str(script), str(furniture / "usr/share/sweethome3d/furniture"), str(out)], CACHE)
    return out


def fetch() -> dict[str, Path]:
    """Every source unpacked, and the renders made; the directory of each, by package name ("renders")."""
    CACHE.mkdir(exist_ok=True)
    paths = {package: debian(package, version) for package, version in DEBIAN.items()}
    paths |= {package: pypi(package, version) for package, version in PYPI.items()}
    gallery = paths["mezzanine"] / "gallery"
    if not gallery.is_dir():
        with zipfile.ZipFile(paths["mezzanine"] / "mezzanine/core/static/test/gallery.zip") as archive:
            archive.extractall(gallery)
    paths["renders"] = rendered(paths["sweethome3d-furniture"])
    return paths


if __name__ == "__main__":
    for name, path in fetch().items():
        print(f"{name:26} {path}")
