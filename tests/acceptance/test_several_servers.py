"""Two real servers on one real Milvus and one data directory, as behind a load balancer: request limits,
nonces, file-stream uploads, bulk jobs and their links hold across them, and their writes to one instance
take turns, so that neither the capacity nor an update is lost between them."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from alibabacloud_imagesearch20201214 import models
from alibabacloud_tea_openapi.exceptions import ClientException

from lookalike.api.errors import ApiError
from lookalike.client import Client
from tests.acceptance.conftest import create_instance
from tests.acceptance.jobs import (
    add_line,
    dump,
    fetch,
    increase,
    json_lines,
    wait_dump,
    wait_increment,
    write_folder,
)
from tests.acceptance.raw import acs3_headers, form, post
from tests.acceptance.sdk import add, add_streamed, found, make_client, search_name, search_pic
from tests.acceptance.server import ACCESS_KEY_ID, ACCESS_KEY_SECRET, ServerProcess
from tests.acceptance.test_actions import check, update
from tests.acceptance.test_import_command import KEYS, lookalike
from tests.conftest import PHOTO_FILES, new_milvus_database


@pytest.fixture(scope="module")
def bucket_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("bucket")


@pytest.fixture(scope="module")
def store_uri(milvus_uri) -> Iterator[str]:
    with new_milvus_database(milvus_uri) as uri:
        yield uri


@pytest.fixture(scope="module")
def start_server(tmp_path_factory, store_uri, bucket_dir) -> Iterator[Callable[[], ServerProcess]]:
    """Starts servers that share one data directory and one Milvus database (and read bucket `local`)."""
    started: list[ServerProcess] = []
    data = tmp_path_factory.mktemp("shared") / "data"
    args = ("--store", store_uri, "--bucket", f"local={bucket_dir}")

    def start() -> ServerProcess:
        started.append(ServerProcess(data, extra_args=args).start())
        return started[-1]

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="module")
def one(start_server) -> ServerProcess:
    return start_server()


@pytest.fixture(scope="module")
def two(start_server, one) -> ServerProcess:
    return start_server()


def at_once(calls: list[Callable[[], object]]) -> list[object]:
    """Make the calls from threads of their own, let go together; each one's answer or exception."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], object]) -> object:
        barrier.wait()
        try:
            return call()
        except Exception as error:
            return error

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def signed_search(endpoint: str, instance: str) -> tuple[dict, bytes]:
    body = form({"InstanceName": instance, "Filter": "int_attr=1"})
    return acs3_headers(endpoint, "SearchImageByFilter", body, ACCESS_KEY_ID, ACCESS_KEY_SECRET), body


# -- requests --------------------------------------------------------------------------------------------


def test_an_instances_limit_holds_at_the_rate_of_both_servers_together(one, two):
    """Sixteen searches at one instant, half to each server, of an instance allowing 4 a second: 4 pass
    (5 if the requests took a quarter of a second to arrive); a limit kept by each server would let 8."""
    instance = create_instance(one.data_dir, "--search-qps", "4")
    requests = [(server, *signed_search(server.endpoint, instance)) for server in (one, two) * 8]
    answers = at_once([lambda r=r: post(r[0].endpoint, r[1], r[2]) for r in requests])
    codes = [answer[1].get("Code") if answer[0] != 200 else "OK" for answer in answers]
    assert set(codes) == {"OK", "DeniedRequest"}
    assert 4 <= codes.count("OK") <= 5


def test_a_nonce_used_at_one_server_is_refused_at_the_other(one, two):
    instance = create_instance(one.data_dir)
    headers, body = signed_search(one.endpoint, instance)
    assert post(one.endpoint, headers, body)[0] == 200
    status, answer = post(two.endpoint, headers, body)
    assert (status, answer["Code"]) == (400, "SignatureNonceUsed")


def test_a_picture_uploaded_to_one_server_is_found_by_the_other(one, two, photos):
    """The SDK's file stream: AuthorizeFileUpload and the upload go to one server, the action to the other."""
    instance = create_instance(one.data_dir)
    client = make_client(two.endpoint)
    client._open_platform_endpoint = one.endpoint
    assert add_streamed(client, instance, "p1", "a.jpg", photos["coffee"]).success
    assert found(search_pic(make_client(one.endpoint), instance, photos["coffee"])) == [("p1", "a.jpg")]


# -- writes to one instance ------------------------------------------------------------------------------


def test_adds_through_both_servers_at_once_never_pass_the_capacity(one, two, photos):
    instance = create_instance(one.data_dir, "--capacity", "3")
    clients = [make_client(server.endpoint) for server in (one, two)]
    names = list(PHOTO_FILES)
    answers = at_once(
        [
            lambda i=i: add(clients[i % 2], instance, f"p{i}", f"{names[i]}.jpg", photos[names[i]])
            for i in range(8)
        ]
    )
    refused = [a for a in answers if isinstance(a, ClientException)]
    assert {a.code for a in refused} == {"InstanceOverQuota"} and len(refused) == 5, answers
    detail = clients[1].detail(models.DetailRequest(instance_name=instance)).body.instance
    assert detail.total_count == 3


def test_updates_through_both_servers_at_once_lose_no_change(one, two, photos):
    """One server sets IntAttr, the other StrAttr, of one image, over and over at the same time: each
    update reads the stored image and writes it back changed, and none undoes the other's last change."""
    instance = create_instance(one.data_dir)
    clients = [make_client(server.endpoint) for server in (one, two)]
    add(clients[0], instance, "p", "a.jpg", photos["coffee"], int_attr=0, str_attr="s0")
    rounds = 6

    def set_int() -> None:
        for i in range(1, rounds + 1):
            update(clients[0], instance, "p", "a.jpg", int_attr=i)

    def set_str() -> None:
        for i in range(1, rounds + 1):
            update(clients[1], instance, "p", "a.jpg", str_attr=f"s{i}")

    assert at_once([set_int, set_str]) == [None, None]
    stored = check(clients[1], instance, "p", "a.jpg").auctions
    assert (stored.int_attr, stored.str_attr) == (rounds, f"s{rounds}")
    assert found(search_name(clients[0], instance, "p", "a.jpg"))[0] == ("p", "a.jpg")  # vector kept


# -- bulk jobs -------------------------------------------------------------------------------------------


def test_an_export_made_through_one_server_is_listed_and_fetched_through_the_other(one, two, photos):
    instance = create_instance(one.data_dir)
    add(make_client(one.endpoint), instance, "p1", "a.jpg", photos["coffee"])
    job_id = dump(make_client(one.endpoint), instance)
    item = wait_dump(make_client(two.endpoint), instance, job_id)
    assert item.status == "SUCCESS" and two.endpoint in item.meta_url
    status, text = fetch(item.meta_url)
    assert status == 200 and [(e["ProductId"], e["PicName"]) for e in json_lines(text)] == [("p1", "a.jpg")]
    assert fetch(item.meta_url.replace(two.endpoint, one.endpoint)) == (status, text)


def progress(server: ServerProcess, instance: str, job_id: str) -> dict:
    """The job's IncreaseList item with its Counts (which the SDK's model leaves out)."""
    raw = Client(f"http://{server.endpoint}", ACCESS_KEY_ID, ACCESS_KEY_SECRET)
    (item,) = raw.call("IncreaseList", InstanceName=instance, Id=job_id)["Data"]["Increments"]["Instance"]
    return item


def test_an_import_runs_in_one_server_and_another_takes_it_over_when_it_is_killed(
    one, two, start_server, bucket_dir, photos
):
    """An import runs where it was submitted: neither the other server nor one started meanwhile runs it
    too (the counts would show it). Killed mid-import, a server's job is taken over by another, which
    finishes it with every line counted once."""
    names = list(PHOTO_FILES)
    write_folder(bucket_dir / "big", photos, *(add_line(f"p{i}", f"{names[i % 8]}.jpg") for i in range(60)))
    instance = create_instance(one.data_dir)
    first = increase(make_client(one.endpoint), instance, "local", "/big")
    three = start_server()  # starting, it looks for jobs to take over
    assert progress(three, instance, first)["Status"] == "PROCESSING", "the import ended too soon to tell"
    item = wait_increment(make_client(two.endpoint), instance, first)
    assert item.msg == "success: 60 lines: 60 added, 0 deleted, 0 failed"
    assert not any(f"job {first} " in server.log() for server in (two, three))

    second = increase(make_client(three.endpoint), instance, "local", "/big")
    while progress(one, instance, second)["Counts"]["Done"] < 5:
        time.sleep(0.05)
    three.kill()
    item = wait_increment(make_client(one.endpoint), instance, second)
    assert item.msg == "success: 60 lines: 60 added, 0 deleted, 0 failed"
    taken_over = f"taking over increment job {second} "
    assert [taken_over in server.log() for server in (one, two)].count(True) == 1


def test_lookalike_import_hands_the_job_to_one_of_the_servers(one, two, bucket_dir, photos):
    write_folder(bucket_dir / "cli", photos, add_line("p1", "coffee.jpg"))
    instance = create_instance(one.data_dir)
    handed = lookalike("import", instance, "local", "/cli", "--data", str(one.data_dir), env=KEYS)
    assert handed.returncode == 0, handed.stderr
    assert f"handed to the server at http://{one.endpoint}" in handed.stdout  # the oldest that answers
    assert "SUCCESS: 1 of 1 lines: 1 added" in handed.stdout
    assert found(search_pic(make_client(two.endpoint), instance, photos["coffee"])) == [("p1", "coffee.jpg")]


def test_lookalike_import_without_a_server_runs_the_job_on_the_store_given(tmp_path, store_uri, photos):
    write_folder(tmp_path / "bucket", photos, add_line("p1", "rocket.jpg"))
    data = tmp_path / "data"
    instance = create_instance(data)
    here = lookalike("import", instance, str(tmp_path / "bucket"), "--data", str(data), "--store", store_uri)
    assert here.returncode == 0, here.stderr
    assert "SUCCESS: 1 of 1 lines: 1 added" in here.stdout
    server = ServerProcess(data, extra_args=("--store", store_uri)).start()
    try:
        body = search_pic(make_client(server.endpoint), instance, photos["rocket"])
        assert found(body) == [("p1", "rocket.jpg")]
    finally:
        server.stop()


# -- access keys ---------------------------------------------------------------------------------------------


def test_a_key_revoked_at_one_server_is_refused_by_the_other_at_its_next_request(one, two):
    instance = create_instance(one.data_dir)
    admin = Client(f"http://{one.endpoint}", ACCESS_KEY_ID, ACCESS_KEY_SECRET)
    made = admin.call("LookalikeCreateAccessKey", Instances=instance)["AccessKey"]
    users = [Client(f"http://{s.endpoint}", made["AccessKeyId"], made["AccessKeySecret"]) for s in (one, two)]
    for user in users:
        assert user.call("Detail", InstanceName=instance)["Success"]
    admin.call("LookalikeRevokeAccessKey", KeyId=made["AccessKeyId"])
    for user in users:
        with pytest.raises(ApiError) as info:
            user.call("Detail", InstanceName=instance)
        assert info.value.code == "InvalidAccessKeyId.NotFound"
