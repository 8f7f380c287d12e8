"""A real server on a loopback port, instances made by the real command line, and SDK clients."""

from __future__ import annotations

import contextlib
import io
import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from lookalike.cli import main
from tests.acceptance.sdk import SIGNATURE_MODES, make_client
from tests.acceptance.server import ServerProcess
from tests.acceptance.tls import self_signed_certificate
from tests.conftest import new_milvus_database

_names = itertools.count()


def create_instance(data_dir: Path, *args: str) -> str:
    """`lookalike instance create`, run while the server is up, as a user would (later options win). It runs
    in the test process: the server sees the same files, and a new interpreter would cost ~0.4 s a test."""
    name = f"t{next(_names)}"
    with contextlib.redirect_stdout(io.StringIO()):  # its errors go to stderr
        assert main(["instance", "create", name, "--data", str(data_dir), *args]) == 0
    return name


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path_factory.mktemp("server") / "data").start()
    yield process
    process.stop()


@pytest.fixture(scope="session")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, Path]]:
    """A real server that serves HTTPS itself (`serve --tls-cert/--tls-key`), and its certificate."""
    directory = tmp_path_factory.mktemp("tls")
    cert, key = self_signed_certificate(directory)
    process = ServerProcess(directory / "data", extra_args=("--tls-cert", str(cert), "--tls-key", str(key)))
    yield process.start(), cert
    process.stop()


@pytest.fixture(scope="session")
def milvus_server(tmp_path_factory: pytest.TempPathFactory, milvus_uri: str) -> Iterator[ServerProcess]:
    """A real server whose store is Milvus (`lookalike serve --store milvus://...`)."""
    with new_milvus_database(milvus_uri) as uri:
        data = tmp_path_factory.mktemp("milvus-server") / "data"
        process = ServerProcess(data, extra_args=("--store", uri)).start()
        yield process
        process.stop()


@pytest.fixture(params=SIGNATURE_MODES)
def client(request: pytest.FixtureRequest, server: ServerProcess):
    """The official SDK 4.x, in each signature mode it offers."""
    return make_client(server.endpoint, request.param)


@pytest.fixture
def instance(server: ServerProcess) -> str:
    """A fresh product instance for each test."""
    return create_instance(server.data_dir)
