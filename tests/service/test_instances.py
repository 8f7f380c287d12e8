"""Instances live as one JSON file each; a server sees an instance the command line made a moment ago."""

from __future__ import annotations

import pytest

from lookalike.domain.errors import BadInstanceName, BadValue, InstanceExists, InstanceNotFound
from lookalike.service.instances import Instances
from lookalike.service.models import INSTANCE_TYPES


def test_an_instance_made_by_another_registry_is_seen_at_once(tmp_path):
    server, command_line = Instances(tmp_path), Instances(tmp_path)
    with pytest.raises(InstanceNotFound):
        server.get("shop")
    command_line.create("shop", "generic", 50)
    instance = server.get("shop")
    assert (instance.name, instance.type, instance.capacity) == ("shop", "generic", 50)
    assert instance.created_ms > 0


def test_names_that_are_not_instance_names_are_unknown_instances(tmp_path):
    for name in ("../etc", "a" * 21, ""):
        with pytest.raises(InstanceNotFound):
            Instances(tmp_path).get(name)


def test_no_leftovers_after_create(tmp_path):
    Instances(tmp_path).create("shop")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shop.json"]


def test_a_new_instance_has_no_limits_unless_asked(tmp_path):
    instances = Instances(tmp_path)
    shop = instances.create("shop")
    assert (shop.search_qps, shop.add_qps, shop.delete_qps) == (0, 0, 0)
    bulk = instances.create("bulk", qps={"add": 5, "search": 50})
    assert (bulk.qps("search"), bulk.qps("add"), bulk.qps("delete")) == (50, 5, 0)
    assert Instances(tmp_path).get("bulk") == bulk
    with pytest.raises(BadValue, match="limit"):
        instances.create("bad", qps={"delete": -1})


def test_an_instance_file_from_before_the_limits_keeps_the_cloud_limits_it_was_made_with(tmp_path):
    (tmp_path / "old.json").write_text('{"name": "old", "type": "generic", "capacity": 5, "created_ms": 1}')
    old = Instances(tmp_path).get("old")
    assert (old.qps("search"), old.qps("add"), old.qps("delete")) == (10, 5, 20)


def test_an_update_is_seen_by_another_registry_at_once_and_keeps_the_type(tmp_path):
    server, command_line = Instances(tmp_path), Instances(tmp_path)
    made = command_line.create("shop", "trademark", 50, qps={"search": 3})
    assert server.get("shop") == made
    changed = command_line.update("shop", capacity=80, qps={"add": 7})
    assert server.get("shop") == changed
    assert (changed.type, changed.capacity, changed.created_ms) == ("trademark", 80, made.created_ms)
    assert (changed.qps("search"), changed.qps("add"), changed.qps("delete")) == (3, 7, 0)
    with pytest.raises(BadValue, match="capacity"):
        command_line.update("shop", capacity=0)
    with pytest.raises(InstanceNotFound):
        command_line.update("nothing", capacity=5)


def test_a_deleted_instance_is_gone_for_every_registry_and_its_name_waits_for_the_deletion(tmp_path):
    server, command_line = Instances(tmp_path), Instances(tmp_path)
    made = command_line.create("shop")
    server.get("shop")
    assert command_line.start_deleting("shop") == made
    with pytest.raises(InstanceNotFound):
        server.get("shop")
    assert server.list() == []
    with pytest.raises(InstanceExists, match="being deleted"):
        command_line.create("shop")
    assert command_line.start_deleting("shop") is None  # a deletion cut short is taken up again
    command_line.finish_deleting("shop")
    assert command_line.create("shop").created_ms >= made.created_ms
    with pytest.raises(InstanceNotFound):
        command_line.start_deleting("never")


def test_a_name_is_plain_and_taken_once(tmp_path):
    instances = Instances(tmp_path)
    instances.create("shop")
    with pytest.raises(InstanceExists, match="already exists"):
        instances.create("shop")
    for name in ["a" * 21, "", "_x", "with space", "../up", "ü"]:
        with pytest.raises(BadInstanceName, match="invalid instance name"):
            instances.create(name)
        with pytest.raises(BadInstanceName):
            instances.start_deleting(name)


def test_the_documented_instance_types_and_their_numbers(tmp_path):
    instances = Instances(tmp_path)
    numbers = {name: instances.create(f"i-{name}", name).rules.service_type for name in INSTANCE_TYPES}
    assert numbers == {
        "product": 0, "generic": 1, "fabric": 2, "trademark": 3, "copyright": 4, "furniture": 5,
        "hardware": 6, "cloth": 8,
    }  # fmt: skip
    with pytest.raises(BadValue, match="unknown instance type"):
        instances.create("x", "shoes")  # type: ignore[arg-type]
