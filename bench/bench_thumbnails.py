"""What the thumbnails cost: bytes on disk per image (so per million), and CPU per add.

    python bench/bench_thumbnails.py [--images 2000]

Makes the thumbnail of each of `--images` photographs (bench/photos.py: the base photos, then crops of them,
800 px on the long side) from the picture as the vision decodes it, stores them in an instance's blob
database as the server does, and reports the mean and largest thumbnail, the database's bytes per image
(what a million images cost), and the CPU time of making one (the resize and the JPEG encode; the decode
is the vision's, done anyway).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.photos import photo_set
from lookalike.domain.image import ImageKey
from lookalike.service.image_blobs import THUMBNAIL, ImageBlobs
from lookalike.service.models import Instance
from lookalike.vision.decode import decode_reduced
from lookalike.vision.thumbnail import thumbnail


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=2000)
    count = parser.parse_args().images
    pictures = [decode_reduced(data).image for data in photo_set(count)]
    sizes, cpu = [], []
    with tempfile.TemporaryDirectory() as root:
        blobs, instance = ImageBlobs(Path(root)), Instance("bench", created_ms=1)
        for i, picture in enumerate(pictures):
            started = time.process_time()
            small = thumbnail(picture)
            cpu.append(time.process_time() - started)
            sizes.append(len(small))
            blobs.put(instance, THUMBNAIL, [(ImageKey(f"p{i}", f"{i}.jpg"), small)])
        blobs.close()
        on_disk = sum(p.stat().st_size for p in Path(root).iterdir())
    per_image = on_disk / count
    mean, largest = statistics.mean(sizes) / 1024, max(sizes) / 1024
    print(f"{count} images: thumbnail mean {mean:.1f} KB, largest {largest:.1f} KB")
    a_million = per_image * 1e6 / 2**30
    print(f"database {on_disk / 2**20:.1f} MiB: {per_image / 1024:.1f} KB/image, {a_million:.1f} GiB/million")
    p95 = sorted(cpu)[int(0.95 * count)]
    print(f"CPU to make one: mean {statistics.mean(cpu) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms")


if __name__ == "__main__":
    main()
