"""A server's memory while many clients search with the biggest pictures it accepts, all at once.

Each picture is a few kilobytes that decode to 4096 x 4096 pixels. Before the decode budget, the strip-wise
conversion and the allocator's fixed mmap threshold, 16 such searches grew a fresh server by 4-5 GB, and
it kept most of that afterwards. Now they wait for room in the decode budget (512 MB by default), or are
refused with DeniedRequest when the wait passes 5 s, and the memory goes back once the server is idle. The
clients here never time out, so a slow machine changes only how many are refused, never the outcome.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator

import pytest

from lookalike.vision.budget import DEFAULT_BYTES
from tests.acceptance.conftest import create_instance
from tests.acceptance.memory import at_once, reset_peak, status_mb
from tests.acceptance.raw import acs3_headers, form, post
from tests.acceptance.server import ACCESS_KEY_ID, ACCESS_KEY_SECRET, ServerProcess
from tests.big_pictures import picture
from tests.conftest import jpeg, photo_image

CLIENTS = 16
# The budget, plus what 16 requests in flight take besides their decode (bodies, the model's runs).
MOST_GROWTH_MB = DEFAULT_BYTES / 2**20 + 160
# Once idle, the server gives back what glibc's arenas hold free (src/lookalike/memory.py).
KEPT_MOST_MB = 48


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server of this module's own, so that its memory is these searches' alone."""
    process = ServerProcess(tmp_path_factory.mktemp("memory") / "data").start()
    yield process
    process.stop()


def search(server: ServerProcess, instance: str, data: bytes) -> tuple[int, dict]:
    body = form({"InstanceName": instance, "PicContent": base64.b64encode(data).decode()})
    headers = acs3_headers(server.endpoint, "SearchImageByPic", body, ACCESS_KEY_ID, ACCESS_KEY_SECRET)
    return post(server.endpoint, headers, body, timeout=600)


@pytest.mark.parametrize("kind", ["WebP lossless, one colour", "PNG 16-bit grey", "PNG RGBA"])
def test_many_searches_with_huge_pictures_stay_in_bounds_and_give_the_memory_back(server, kind):
    instance = create_instance(server.data_dir)
    assert search(server, instance, jpeg(photo_image("chelsea")))[0] == 200  # the model and store loaded
    pid = server.process.pid
    reset_peak(pid)
    before = status_mb(pid)["VmRSS"]

    data = picture(kind)
    answers = at_once(CLIENTS, lambda: search(server, instance, data))

    codes = [body.get("Code") for status, body in answers if status != 200]
    assert set(codes) <= {"DeniedRequest"}, codes
    assert len(codes) < CLIENTS  # the first decodes at once
    assert status_mb(pid)["VmHWM"] - before <= MOST_GROWTH_MB, status_mb(pid)
    deadline = time.monotonic() + 60  # the give-back follows the last answer at once; this only ends a hang
    while (kept := status_mb(pid)["VmRSS"] - before) > KEPT_MOST_MB:
        assert time.monotonic() < deadline, f"{kept:.0f} MB more than before, still"
        time.sleep(0.1)
