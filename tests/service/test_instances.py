"""Instances live as one JSON file each; a server sees an instance the command line made a moment ago."""

from __future__ import annotations

import pytest

from lookalike.errors import LookalikeError
from lookalike.service.instances import Instances


def test_an_instance_made_by_another_registry_is_seen_at_once(tmp_path):
    server, command_line = Instances(tmp_path), Instances(tmp_path)
    with pytest.raises(LookalikeError) as info:
        server.get("shop")
    assert info.value.code == "InvalidInstance"
    command_line.create("shop", "generic", 50)
    instance = server.get("shop")
    assert (instance.name, instance.type, instance.capacity) == ("shop", "generic", 50)
    assert instance.created_ms > 0


def test_names_that_are_not_instance_names_are_unknown_instances(tmp_path):
    for name in ("../etc", "a" * 21, ""):
        with pytest.raises(LookalikeError) as info:
            Instances(tmp_path).get(name)
        assert info.value.code == "InvalidInstance"


def test_no_leftovers_after_create(tmp_path):
    Instances(tmp_path).create("shop")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shop.json"]


def test_limits_default_to_the_services_and_zero_means_none(tmp_path):
    instances = Instances(tmp_path)
    shop = instances.create("shop")
    assert (shop.search_qps, shop.add_qps, shop.delete_qps) == (10, 5, 20)
    bulk = instances.create("bulk", qps={"add": 0, "search": 50})
    assert (bulk.qps("search"), bulk.qps("add"), bulk.qps("delete")) == (50, 0, 20)
    assert Instances(tmp_path).get("bulk") == bulk
    with pytest.raises(ValueError, match="limit"):
        instances.create("bad", qps={"delete": -1})


def test_an_instance_file_from_before_the_limits_gets_the_defaults(tmp_path):
    (tmp_path / "old.json").write_text('{"name": "old", "type": "generic", "capacity": 5, "created_ms": 1}')
    assert Instances(tmp_path).get("old").qps("add") == 5
