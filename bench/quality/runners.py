"""The two ways the harness asks the service: through a real server and the official SDK (what `make
quality` reports), and in-process (the real ImageService and a real embedded store in a temporary data
directory, no HTTP: faster, for iterating on the vision; its figures match the server's, its CPU excludes
HTTP and the SDK's signing).

Both add the catalog with the shop's categories and search with num=5 and no CategoryId (the service
predicts the category, and a wrong prediction costs recall), three ways: as a client would (Crop and
Region absent), with Crop=false (the whole picture), and with the object's true box given as Region.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from tests.acceptance.conftest import create_instance
from tests.acceptance.sdk import add, found, make_client, search_pic
from tests.acceptance.server import ServerProcess

from lookalike.app import build_components
from lookalike.config import Settings
from lookalike.domain.image import Box
from lookalike.service.models import AddImage, Picture, SearchOptions

MODES = ("default", "crop=false", "true box")
RESULTS = 5


@dataclass(frozen=True)
class Answer:
    products: list[str]  # best first
    region: Box  # PicInfo.Region
    category: int  # PicInfo.CategoryId


class Service(Protocol):
    def add(self, product_id: str, data: bytes, category: int) -> None: ...
    def search(self, data: bytes, mode: str, box: Box) -> Answer: ...
    def category_alone(self, data: bytes) -> int:
        """The category predicted for the picture by an instance that holds nothing: the model's alone."""
        ...

    def cpu_seconds(self) -> float:
        """CPU time the serving process has used so far."""
        ...


def _options(mode: str, box: Box) -> tuple[bool, Box | None]:
    """Crop and Region of a mode."""
    return mode != "crop=false", box if mode == "true box" else None


class ThroughServer:
    """A real server on a loopback port with a fresh data directory, and the official SDK 4.x."""

    def __init__(self, server: ServerProcess):
        self.server = server
        self.instance, self.empty = create_instance(server.data_dir), create_instance(server.data_dir)
        self.client = make_client(server.endpoint)
        self._ticks = os.sysconf("SC_CLK_TCK")

    def add(self, product_id: str, data: bytes, category: int) -> None:
        add(self.client, self.instance, product_id, "shot.jpg", data, category_id=category)

    def search(self, data: bytes, mode: str, box: Box) -> Answer:
        crop, region = _options(mode, box)
        options: dict[str, object] = {} if crop else {"crop": False}  # absent, as a client sends it
        if region is not None:
            options["region"] = f"{region.x1},{region.x2},{region.y1},{region.y2}"
        body = search_pic(self.client, self.instance, data, num=RESULTS, **options)
        picked = Box(*map(int, body.pic_info.region.split(",")))
        return Answer([product for product, _ in found(body)], picked, body.pic_info.category_id)

    def category_alone(self, data: bytes) -> int:
        return search_pic(self.client, self.empty, data, num=1).pic_info.category_id

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.server.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / self._ticks  # utime, stime


class InProcess:
    """The real ImageService over a real embedded store, called directly: no HTTP, no SDK."""

    def __init__(self, data_dir: Path):
        self.components = build_components(Settings(data_dir=data_dir))
        self.instance = self.components.instances.create("quality").name
        self.empty = self.components.instances.create("empty").name
        self.service = self.components.service

    def add(self, product_id: str, data: bytes, category: int) -> None:
        self.service.add(AddImage(self.instance, product_id, "shot.jpg", Picture(data), category))

    def search(self, data: bytes, mode: str, box: Box) -> Answer:
        crop, region = _options(mode, box)
        result = self.service.search_by_pic(
            self.instance, Picture(data, crop, region), SearchOptions(num=RESULTS)
        )
        products = [hit.image.product_id for hit in result.hits]
        return Answer(products, result.pic_info.region, result.pic_info.category_id)

    def category_alone(self, data: bytes) -> int:
        result = self.service.search_by_pic(self.empty, Picture(data), SearchOptions(num=1))
        return result.pic_info.category_id

    def cpu_seconds(self) -> float:
        return time.process_time()


@contextlib.contextmanager
def service(in_process: bool) -> Iterator[Service]:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        if in_process:
            running = InProcess(data)
            try:
                yield running
            finally:
                running.components.close()
            return
        server = ServerProcess(data).start()
        try:
            yield ThroughServer(server)
        finally:
            server.stop()


def add_catalog(service: Service, pictures: dict[str, bytes], labels: dict[str, int]) -> None:
    for name, picture in pictures.items():
        service.add(name, picture, labels[name])
