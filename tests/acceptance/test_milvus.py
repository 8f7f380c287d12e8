"""The SDK against a server whose store is Milvus: the image tests of test_images.py, unchanged (in the
SDK's default signature mode: signatures do not reach the store), and two servers serving one catalog."""

from __future__ import annotations

import pytest

from tests.acceptance.conftest import create_instance
from tests.acceptance.sdk import add, delete, found, make_client, search_name, search_pic
from tests.acceptance.server import ServerProcess
from tests.acceptance.test_images import *  # noqa: F403 -- collected again here, on the Milvus server


@pytest.fixture(scope="session")
def server(milvus_server: ServerProcess) -> ServerProcess:
    return milvus_server


@pytest.fixture
def client(server: ServerProcess):
    return make_client(server.endpoint)


def test_two_servers_serve_one_catalog(milvus_server: ServerProcess, photos):
    """What one server acknowledges, the other finds at once: they share the data directory (instances)
    and the Milvus database (images), and keep nothing of their own that could disagree."""
    other = ServerProcess(milvus_server.data_dir, extra_args=milvus_server.extra_args).start()
    try:
        instance = create_instance(milvus_server.data_dir)
        one, two = make_client(milvus_server.endpoint), make_client(other.endpoint, "rpc-v2")
        for i, name in enumerate(("coffee", "rocket", "chelsea")):
            add(one, instance, f"p{i}", f"{name}.jpg", photos[name], int_attr=i)
            body = search_pic(two, instance, photos[name])
            assert found(body)[0] == (f"p{i}", f"{name}.jpg") and body.head.docs_return == i + 1
        assert delete(two, instance, product_id="p1").data.pic_names == ["rocket.jpg"]
        assert ("p1", "rocket.jpg") not in found(search_pic(one, instance, photos["rocket"]))
        assert found(search_name(one, instance, "p2", "chelsea.jpg"))[0] == ("p2", "chelsea.jpg")
    finally:
        other.stop()
