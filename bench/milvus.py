"""A Milvus for the benchmarks: a server of your own (a milvus:// URI), or the standalone server of the PyPI
package `milvus` with its default settings, started for the run. The latter listens on every interface, so
run the benchmark in a private network namespace: `sh tests/private_network.sh .venv/bin/python bench/...`.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

from tests.milvus_server import MilvusServer


@contextlib.contextmanager
def milvus(uri: str | None, settings: dict[str, str]) -> Iterator[tuple[str, MilvusServer | None]]:
    """The URI to use, and the server if this run started it (with Milvus's defaults but for `settings`),
    or None for a server of your own."""
    if uri:
        yield uri, None
        return
    with tempfile.TemporaryDirectory(prefix="bench-milvus-") as tmp:
        server = MilvusServer(Path(tmp), settings=settings, tls=False).start()  # not the tests' tuning
        try:
            yield server.uri, server
        finally:
            server.stop()


def resident_bytes(server: MilvusServer) -> int:
    """Resident memory of the Milvus process (the child of the `milvus-server` wrapper)."""
    assert server.process is not None
    wrapper = server.process.pid
    children = Path(f"/proc/{wrapper}/task/{wrapper}/children").read_text().split()
    for line in Path(f"/proc/{children[0]}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")
