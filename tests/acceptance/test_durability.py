"""Data survives a restart of the server, and an acknowledged add survives a kill -9."""

from __future__ import annotations

import pytest

from tests.acceptance.conftest import create_instance
from tests.acceptance.sdk import add, delete, found, make_client, search_name, search_pic
from tests.acceptance.server import ServerProcess


@pytest.fixture
def own_server(tmp_path):
    process = ServerProcess(tmp_path / "data").start()
    yield process
    process.stop()


def test_a_restart_keeps_the_data(own_server, photos):
    instance = create_instance(own_server.data_dir)
    client = make_client(own_server.endpoint)
    add(client, instance, "p1", "a.jpg", photos["coffee"], int_attr=5, custom_content="kept")
    add(client, instance, "p2", "b.jpg", photos["rocket"])
    delete(client, instance, product_id="p2")

    own_server.stop()
    own_server.start()

    client = make_client(own_server.endpoint)
    body = search_pic(client, instance, photos["coffee"])
    assert found(body) == [("p1", "a.jpg")]
    assert (body.auctions[0].int_attr, body.auctions[0].custom_content) == (5, "kept")
    assert found(search_name(client, instance, "p1", "a.jpg")) == [("p1", "a.jpg")]


def test_an_acknowledged_add_survives_a_kill(own_server, photos):
    instance = create_instance(own_server.data_dir)
    client = make_client(own_server.endpoint)
    for i, name in enumerate(("coffee", "rocket", "chelsea")):
        add(client, instance, f"p{i}", f"{name}.jpg", photos[name])

    own_server.kill()
    own_server.start()

    client = make_client(own_server.endpoint)
    assert sorted(found(search_pic(client, instance, photos["rocket"]))) == [
        ("p0", "coffee.jpg"), ("p1", "rocket.jpg"), ("p2", "chelsea.jpg"),
    ]  # fmt: skip


def test_an_instance_created_while_the_server_runs_is_served_at_once(own_server, photos):
    client = make_client(own_server.endpoint)
    first = create_instance(own_server.data_dir)
    add(client, first, "p", "a.jpg", photos["coffee"])
    second = create_instance(own_server.data_dir, "--type", "generic")
    assert add(client, second, "p", "a.jpg", photos["coffee"]).pic_info.category_id == 88888888
