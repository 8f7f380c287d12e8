"""Limits and rights: requests per second, capacity, access keys limited to instances, replayed nonces."""

from __future__ import annotations

import subprocess
import sys

import pytest
from alibabacloud_imagesearch20201214 import models
from alibabacloud_tea_openapi.exceptions import ClientException, ThrottlingException

from tests.acceptance.conftest import create_instance
from tests.acceptance.raw import acs3_headers, form, post
from tests.acceptance.sdk import add, delete, make_client, search_name
from tests.acceptance.server import ACCESS_KEY_ID, ACCESS_KEY_SECRET


def throttled(calls) -> ThrottlingException:
    """Call until the server says to slow down; it must, within a few calls."""
    with pytest.raises(ThrottlingException) as info:
        for call in calls:
            call()
    error = info.value
    assert (error.code, error.status_code) == ("DeniedRequest", 403)
    assert 0 < error.retry_after <= 1000  # ms, from the x-acs-retry-after header
    return error


def test_searches_over_the_instances_rate_are_denied_with_a_retry_time(client, server, photos):
    limited = create_instance(server.data_dir, "--search-qps", "1")
    add(client, limited, "p", "a.jpg", photos["coffee"])
    throttled(lambda: search_name(client, limited, "p", "a.jpg") for _ in range(10))


def test_adds_and_deletes_have_their_own_rates(client, server, photos):
    limited = create_instance(server.data_dir, "--add-qps", "1", "--delete-qps", "1")
    throttled(lambda i=i: add(client, limited, "p", f"{i}.jpg", photos["coffee"]) for i in range(10))
    search_name(client, limited, "p", "0.jpg")  # searching is not slowed down by the adds
    throttled(lambda: delete(client, limited, product_id="p", pic_name="x") for _ in range(10))


def test_no_limit_by_default_and_the_clouds_on_demand(server):
    client = make_client(server.endpoint)
    for name, flags, qps in [(f"d{server.port}", (), 0), (f"c{server.port}", ("--cloud-limits",), 10)]:
        command = ["instance", "create", name, *flags, "--data", str(server.data_dir)]
        subprocess.run([sys.executable, "-m", "lookalike", *command], check=True)
        assert client.detail(models.DetailRequest(instance_name=name)).body.instance.qps == qps


def test_an_add_past_the_capacity_is_refused_and_an_overwrite_is_not(client, server, photos):
    small = create_instance(server.data_dir, "--capacity", "2")
    add(client, small, "p1", "a.jpg", photos["coffee"])
    add(client, small, "p2", "b.jpg", photos["rocket"])
    add(client, small, "p1", "a.jpg", photos["chelsea"], int_attr=2)  # the same key: still two images
    with pytest.raises(ClientException) as info:
        add(client, small, "p3", "c.jpg", photos["astronaut"])
    assert (info.value.code, info.value.status_code) == ("InstanceOverQuota", 400)
    delete(client, small, product_id="p2")
    add(client, small, "p3", "c.jpg", photos["astronaut"])


def new_key(server, *args: str) -> tuple[str, str]:
    """`lookalike keys create`, run while the server is up."""
    out = subprocess.run(
        [sys.executable, "-m", "lookalike", "keys", "create", *args, "--data", str(server.data_dir)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    fields = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
    return fields["AccessKeyId"].strip(), fields["AccessKeySecret"].strip()


def test_a_key_limited_to_some_instances_may_use_only_those(server, client, photos):
    mine, other = create_instance(server.data_dir), create_instance(server.data_dir)
    key_id, secret = new_key(server, "--instances", mine)
    limited = make_client(server.endpoint, key_id=key_id, secret=secret)
    add(limited, mine, "p", "a.jpg", photos["coffee"])
    add(client, other, "p", "a.jpg", photos["coffee"])  # the environment's key may use every instance
    for call in (
        lambda: add(limited, other, "p", "b.jpg", photos["coffee"]),
        lambda: search_name(limited, other, "p", "a.jpg"),
        lambda: delete(limited, other, product_id="p"),
    ):
        with pytest.raises(ClientException) as info:
            call()
        assert (info.value.code, info.value.status_code) == ("NoPermission", 403)
    for console_call in (
        lambda: limited.detail(models.DetailRequest(instance_name=other)),
        lambda: limited.dump_meta(models.DumpMetaRequest(instance_name=other)),
        lambda: limited.increase_list(models.IncreaseListRequest(instance_name=other)),
    ):
        with pytest.raises(ClientException) as info:
            console_call()
        assert (info.value.code, info.value.status_code) == ("Console.NoPermission", 403)
    assert limited.detail(models.DetailRequest(instance_name=mine)).body.instance.total_count == 1


def test_a_replayed_request_is_refused(server, instance):
    body = form({"InstanceName": instance, "Filter": "int_attr=1"})
    headers = acs3_headers(server.endpoint, "SearchImageByFilter", body, ACCESS_KEY_ID, ACCESS_KEY_SECRET)
    assert post(server.endpoint, headers, body)[0] == 200
    status, answer = post(server.endpoint, headers, body)
    assert (status, answer["Code"]) == (400, "SignatureNonceUsed")
    assert headers["x-acs-signature-nonce"] in answer["Message"]


def test_a_signed_request_without_a_nonce_is_refused(server, instance):
    body = form({"InstanceName": instance, "Filter": "int_attr=1"})
    headers = acs3_headers(
        server.endpoint, "SearchImageByFilter", body, ACCESS_KEY_ID, ACCESS_KEY_SECRET, nonce=None
    )
    status, answer = post(server.endpoint, headers, body)
    assert (status, answer["Code"]) == (400, "IncompleteSignature")
