"""Helpers for the bulk-job tests: buckets with real photos and an increment.meta, the four job actions
through the official SDK, and a receiver for callbacks."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from alibabacloud_imagesearch20201214 import models
from alibabacloud_imagesearch20201214.client import Client

from tests.conftest import PHOTO_FILES

TIMEOUT_SECONDS = 120


def meta(*lines: dict | str) -> str:
    """increment.meta: one JSON object a line (a str is written as it is, to make bad lines)."""
    return "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)


def add_line(product_id: str, pic_name: str, **fields) -> dict:
    return {"OperationType": "ADD", "ProductId": product_id, "PicName": pic_name, **fields}


def write_folder(root: Path, photos: dict[str, bytes], *lines: dict | str) -> None:
    """A bucket folder: every test photo as `<name>.jpg`, and increment.meta."""
    root.mkdir(parents=True, exist_ok=True)
    for name in PHOTO_FILES:
        (root / f"{name}.jpg").write_bytes(photos[name])
    (root / "increment.meta").write_text(meta(*lines))


def increase(client: Client, instance: str, bucket: str, path: str, callback: str | None = None) -> str:
    request = models.IncreaseInstanceRequest(
        instance_name=instance, bucket_name=bucket, path=path, callback_address=callback
    )
    return client.increase_instance(request).body.data.id


def increments(client: Client, instance: str, **filters) -> list:
    request = models.IncreaseListRequest(instance_name=instance, **filters)
    return client.increase_list(request).body.data.increments.instance


def wait_increment(client: Client, instance: str, job_id: str):
    """The job's IncreaseList item, once it stopped PROCESSING."""
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while (item := increments(client, instance, id=int(job_id))[0]).status == "PROCESSING":
        assert time.monotonic() < deadline, item.msg
        time.sleep(0.1)
    return item


def dump(client: Client, instance: str) -> str:
    return client.dump_meta(models.DumpMetaRequest(instance_name=instance)).body.data.id


def wait_dump(client: Client, instance: str, job_id: str):
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while True:
        request = models.DumpMetaListRequest(instance_name=instance, id=int(job_id))
        (item,) = client.dump_meta_list(request).body.data.dump_meta_list
        if item.status != "PROCESSING":
            return item
        assert time.monotonic() < deadline
        time.sleep(0.1)


def fetch(url: str) -> tuple[int, str]:
    """GET a link as any HTTP client would: status and body."""
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


@contextmanager
def callback_receiver() -> Iterator[tuple[str, list[dict]]]:
    """A real HTTP server on 127.0.0.1 that keeps the JSON bodies POSTed to it: (its URL, the bodies)."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/job-done", received
    finally:
        server.shutdown()
        server.server_close()
