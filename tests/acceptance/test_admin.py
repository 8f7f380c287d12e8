"""Lookalike's own actions and the command line against a running server: the whole life of an instance
through the server that owns the embedded store, and only for keys that may use every instance."""

from __future__ import annotations

import base64

import pytest

from lookalike.api.errors import ApiError
from lookalike.client import Client
from tests.acceptance.conftest import create_instance
from tests.acceptance.sdk import add, search_name
from tests.acceptance.server import ACCESS_KEY_ID, ACCESS_KEY_SECRET, ServerProcess
from tests.acceptance.test_import_command import KEYS, lookalike


@pytest.fixture
def admin(server: ServerProcess) -> Client:
    return Client(f"http://{server.endpoint}", ACCESS_KEY_ID, ACCESS_KEY_SECRET)


def test_an_instance_made_shown_changed_and_deleted_over_http(admin, client, photos):
    made = admin.call("LookalikeCreateInstance", InstanceName="life", Type="trademark", CloudLimits="true")
    assert made["Instance"] | {"UtcCreate": None} == {
        "Name": "life", "Type": "trademark", "ServiceType": 3, "Capacity": 10_000_000, "TotalCount": 0,
        "SearchQps": 10, "AddQps": 5, "DeleteQps": 20, "Thumbnails": True, "UtcCreate": None,
    }  # fmt: skip
    add(client, "life", "p", "coffee", photos["coffee"])
    update = {"Capacity": 5, "AddQps": 0, "Thumbnails": "false"}
    changed = admin.call("LookalikeUpdateInstance", InstanceName="life", **update)["Instance"]
    fields = ("Capacity", "AddQps", "SearchQps", "TotalCount", "Thumbnails")
    assert [changed[k] for k in fields] == [5, 0, 10, 1, False]
    listed = {i["Name"]: i for i in admin.call("LookalikeListInstances")["Instances"]}
    assert listed["life"] == changed
    detail = admin.call("Detail", InstanceName="life")["Instance"]
    assert (detail["ServiceType"], detail["TotalCount"]) == (3, 1)

    admin.call("LookalikeDeleteInstance", InstanceName="life")
    with pytest.raises(ApiError) as info:
        admin.call("LookalikeDescribeInstance", InstanceName="life")
    assert info.value.code == "InvalidInstance"
    admin.call("LookalikeCreateInstance", InstanceName="life")  # the name again: empty
    assert admin.call("LookalikeDescribeInstance", InstanceName="life")["Instance"]["TotalCount"] == 0
    admin.call("LookalikeDeleteInstance", InstanceName="life")


def test_refusals_say_what_is_wrong(admin, server):
    instance = create_instance(server.data_dir)
    cases = [
        ({"InstanceName": instance}, "LookalikeCreateInstance", "InvalidParameter", "already exists"),
        ({"InstanceName": "x", "Type": "shoes"}, "LookalikeCreateInstance", "InvalidParameter", "Type"),
        ({"InstanceName": "with space"}, "LookalikeCreateInstance", "InvalidParameter", "instance name"),
        ({"InstanceName": "with space"}, "LookalikeDeleteInstance", "InvalidParameter", "instance name"),
        ({"InstanceName": instance, "Capacity": "0"}, "LookalikeUpdateInstance", "InvalidParameter", "0"),
        ({"InstanceName": instance, "AddQps": "-1"}, "LookalikeUpdateInstance", "InvalidParameter", "-1"),
        ({"InstanceName": "nosuch"}, "LookalikeDeleteInstance", "InvalidInstance", "nosuch"),
        ({"KeyId": "nosuch"}, "LookalikeRevokeAccessKey", "InvalidAccessKeyId.NotFound", "nosuch"),
        ({}, "LookalikeNoSuchThing", "InvalidAction.NotFound", "LookalikeNoSuchThing"),
    ]
    for params, action, code, said in cases:
        with pytest.raises(ApiError) as info:
            admin.call(action, **params)
        assert (info.value.code, said in info.value.message) == (code, True), info.value.message


def test_a_key_limited_to_instances_may_not_manage_them(admin, server):
    instance = create_instance(server.data_dir)
    made = admin.call("LookalikeCreateAccessKey", Instances=instance)["AccessKey"]
    assert made["Instances"] == [instance]
    limited = Client(f"http://{server.endpoint}", made["AccessKeyId"], made["AccessKeySecret"])
    assert limited.call("Detail", InstanceName=instance)["Success"]
    for action, params in [
        ("LookalikeListInstances", {}),
        ("LookalikeDeleteInstance", {"InstanceName": instance}),
        ("LookalikeCreateAccessKey", {}),
    ]:
        with pytest.raises(ApiError) as info:
            limited.call(action, **params)
        assert (info.value.code, info.value.status) == ("NoPermission", 403)
    listed = admin.call("LookalikeListAccessKeys")["AccessKeys"]
    assert {"AccessKeyId": made["AccessKeyId"], "Instances": [instance]} in listed
    assert all("AccessKeySecret" not in key for key in listed)
    admin.call("LookalikeRevokeAccessKey", KeyId=made["AccessKeyId"])


def test_the_command_line_shows_updates_and_deletes_through_the_running_server(server, client, photos):
    instance = create_instance(server.data_dir)
    add(client, instance, "p", "coffee", photos["coffee"])
    data = ("--data", str(server.data_dir))
    shown = lookalike("instance", "show", instance, *data, env=KEYS)
    assert shown.returncode == 0, shown.stderr
    assert "images:    1" in shown.stdout and "type:      product (ServiceType 0)" in shown.stdout
    updated = lookalike("instance", "update", instance, "--capacity", "7", "--cloud-limits", *data, env=KEYS)
    assert updated.returncode == 0, updated.stderr
    assert "capacity 7; search 10/s, add 5/s, delete 20/s" in updated.stdout
    deleted = lookalike("instance", "delete", instance, *data, env=KEYS)
    assert deleted.returncode == 0, deleted.stderr
    assert f"deleted instance {instance!r} and its 1 images" in deleted.stdout
    with pytest.raises(Exception) as info:
        search_name(client, instance, "p", "coffee")
    assert "InvalidInstance" in str(info.value)
    without_key = lookalike("instance", "show", instance, *data)
    assert without_key.returncode == 2 and "LOOKALIKE_ACCESS_KEY_ID" in without_key.stderr


def test_the_console_pages_through_images_and_gets_their_thumbnails(admin, server, client, photos):
    instance = create_instance(server.data_dir)
    for i, name in enumerate(["coffee", "rocket", "chelsea"]):
        add(client, instance, f"p{i}", name, photos[name], int_attr=i)
    pages, cursor = [], ""
    while True:
        answer = admin.call("LookalikeListImages", InstanceName=instance, Limit=2, Cursor=cursor or None)
        pages.append([image["PicName"] for image in answer["Images"]])
        assert answer["TotalCount"] == 3
        cursor = answer["NextCursor"]
        if not cursor:
            break
    assert sorted(name for page in pages for name in page) == ["chelsea", "coffee", "rocket"]
    assert len(pages[0]) == 2
    some = admin.call("LookalikeListImages", InstanceName=instance, Filter="int_attr>=1")
    assert sorted(image["PicName"] for image in some["Images"]) == ["chelsea", "rocket"]
    keys = '[{"ProductId": "p0", "PicName": "coffee"}, {"ProductId": "p9", "PicName": "none"}]'
    (thumb,) = admin.call("LookalikeGetThumbnails", InstanceName=instance, Keys=keys)["Thumbnails"]
    assert (thumb["ProductId"], thumb["PicName"]) == ("p0", "coffee")
    assert base64.b64decode(thumb["Data"])[:3] == b"\xff\xd8\xff"  # a JPEG

    other = admin.call("LookalikeCreateAccessKey", Instances=create_instance(server.data_dir))["AccessKey"]
    stranger = Client(f"http://{server.endpoint}", other["AccessKeyId"], other["AccessKeySecret"])
    with pytest.raises(ApiError) as info:
        stranger.call("LookalikeGetThumbnails", InstanceName=instance, Keys=keys)
    assert info.value.code == "NoPermission"
    for params in ({"Keys": "not json"}, {"Keys": "[1]"}, {"Cursor": "nope", "Keys": "[]"}):
        action = "LookalikeListImages" if "Cursor" in params else "LookalikeGetThumbnails"
        with pytest.raises(ApiError) as info:
            admin.call(action, InstanceName=instance, **params)
        assert info.value.code == "InvalidParameter"
