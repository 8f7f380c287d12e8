"""Bulk export and import through the official SDK: DumpMeta/DumpMetaList with a MetaUrl that expires,
IncreaseInstance/IncreaseList from a local folder and from an S3-compatible store, one job at a time,
the callback, and a server killed in the middle of an import."""

from __future__ import annotations

import time

import pytest
from alibabacloud_imagesearch20201214 import models
from alibabacloud_tea_openapi.exceptions import ClientException

from lookalike.client import Client
from tests.acceptance.conftest import create_instance
from tests.acceptance.jobs import (
    add_line,
    callback_receiver,
    dump,
    fetch,
    increase,
    increments,
    json_lines,
    meta,
    wait_dump,
    wait_increment,
    write_folder,
)
from tests.acceptance.sdk import add, found, make_client, search_name, search_pic
from tests.acceptance.server import ACCESS_KEY_ID, ACCESS_KEY_SECRET, ServerProcess
from tests.s3 import CREDENTIALS, fake_s3, s3_client

S3_BUCKET, S3_PREFIX = "shop-photos", "catalog"


@pytest.fixture(scope="module")
def s3_endpoint():
    with fake_s3() as endpoint:
        s3_client(endpoint).create_bucket(Bucket=S3_BUCKET)
        yield endpoint


@pytest.fixture(scope="module")
def bucket_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("bucket")


@pytest.fixture(scope="module")
def jobs_server(tmp_path_factory, bucket_dir, s3_endpoint):
    """A server that reads bucket `local` (a folder) and bucket `cloud` (S3, with boto3's usual settings)."""
    buckets = ("--bucket", f"local={bucket_dir}",
               "--bucket", f"cloud=s3://{S3_BUCKET}/{S3_PREFIX}?endpoint={s3_endpoint}")  # fmt: skip
    process = ServerProcess(
        tmp_path_factory.mktemp("jobs") / "data", extra_args=buckets, extra_env=CREDENTIALS
    )
    yield process.start()
    process.stop()


@pytest.fixture
def jobs_client(jobs_server):
    return make_client(jobs_server.endpoint)


@pytest.fixture(scope="module")
def idle_instance(jobs_server):
    """An instance for the requests that are refused, which leave nothing behind."""
    return create_instance(jobs_server.data_dir)


# -- export ----------------------------------------------------------------------------------------------


def test_an_export_lists_every_stored_image_behind_its_meta_url(client, instance, photos):
    add(client, instance, "p1", "a.jpg", photos["coffee"], int_attr=5, str_attr="red", custom_content="c")
    add(client, instance, "p2", "b.jpg", photos["rocket"], category_id=4, int_attr_3=-1)
    body = client.dump_meta(models.DumpMetaRequest(instance_name=instance)).body
    assert body.success and body.data.dump_meta_status in ("PROCESSING", "SUCCESS")
    assert isinstance(body.data.id, str)

    item = wait_dump(client, instance, body.data.id)
    assert (item.id, item.status, item.code, item.msg) == (
        int(body.data.id),
        "SUCCESS",
        "0",
        "success: 2 images",
    )
    assert isinstance(item.utc_create, str) and isinstance(item.utc_modified, int)
    assert int(item.utc_create) <= item.utc_modified
    status, text = fetch(item.meta_url)
    assert status == 200
    exported = {(e["ProductId"], e["PicName"]): e for e in json_lines(text)}
    assert set(exported) == {("p1", "a.jpg"), ("p2", "b.jpg")}
    assert exported["p1", "a.jpg"] | {"Region": ""} == {
        "ProductId": "p1", "PicName": "a.jpg", "CategoryId": 88888888, "CustomContent": "c",
        "IntAttr": 5, "IntAttr2": 0, "IntAttr3": 0, "IntAttr4": 0,
        "StrAttr": "red", "StrAttr2": "", "StrAttr3": "", "StrAttr4": "", "Region": "",
    }  # fmt: skip
    assert (exported["p2", "b.jpg"]["CategoryId"], exported["p2", "b.jpg"]["IntAttr3"]) == (4, -1)


def test_a_meta_url_cannot_be_altered(server, instance, photos):
    client = make_client(server.endpoint)
    add(client, instance, "p1", "a.jpg", photos["coffee"])
    url = wait_dump(client, instance, dump(client, instance)).meta_url
    for altered in (
        url.replace("Signature=", "Signature=0"),
        url.replace("meta.jsonl", "errors.jsonl"),
        url.split("?")[0],
    ):
        status, text = fetch(altered)
        assert status == 403 and '"Code":"SignatureDoesNotMatch"' in text.replace(" ", "")


def test_a_meta_url_stops_working_when_its_time_is_up(tmp_path, photos):
    """The server's link lifetime is a setting; at 0 seconds every link it hands out has expired."""
    process = ServerProcess(tmp_path / "data", extra_args=("--link-ttl", "0")).start()
    try:
        client, instance = make_client(process.endpoint), create_instance(process.data_dir)
        add(client, instance, "p1", "a.jpg", photos["coffee"])
        item = wait_dump(client, instance, dump(client, instance))
        assert item.status == "SUCCESS"
        status, text = fetch(item.meta_url)
        assert status == 403 and '"Code":"AccessDenied"' in text.replace(" ", "") and "expired" in text
    finally:
        process.stop()


# -- import ----------------------------------------------------------------------------------------------


def test_an_import_adds_and_deletes_and_lists_the_lines_that_failed(jobs_server, bucket_dir, photos):
    client, instance = make_client(jobs_server.endpoint), create_instance(jobs_server.data_dir)
    write_folder(
        bucket_dir / "spring",
        photos,
        add_line("1000", "spring/coffee.jpg", CategoryId=4, IntAttr=7, StrAttr="mug", CustomContent="k1:v1"),
        add_line("1001", "spring/rocket.jpg", Region="50,400,50,400"),
        add_line("1002", "spring/chelsea.jpg"),
        add_line("1003", "spring/no-such-photo.jpg"),
        add_line("1004", "spring/astronaut.jpg", IntAttr="many"),
        '{"OperationType": "ADD", "ProductId": "1005"',
        {"OperationType": "DELETE", "ProductId": "1002"},
    )
    job_id = increase(client, instance, "local", "/spring/increment.meta")
    assert isinstance(job_id, str)

    item = wait_increment(client, instance, job_id)
    assert (item.id, item.status, item.code) == (int(job_id), "SUCCESS", "0")
    assert item.msg == "success: 7 lines: 3 added, 1 deleted, 3 failed"
    assert (item.bucket_name, item.path, item.callback_address) == ("local", "/spring/increment.meta", "")
    assert isinstance(item.utc_create, str) and isinstance(item.utc_modified, int)
    status, text = fetch(item.error_url)
    assert status == 200
    assert [(e["Line"], e["Code"]) for e in json_lines(text)] == [
        (4, "PictureError"), (5, "InvalidIntAttr"), (6, "InvalidMetaItem"),
    ]  # fmt: skip
    assert all("no-such-photo" in e["Message"] for e in json_lines(text)[:1])

    body = search_pic(client, instance, photos["coffee"])
    assert sorted(found(body)) == [("1000", "spring/coffee.jpg"), ("1001", "spring/rocket.jpg")]
    hit = body.auctions[0]
    assert (hit.product_id, hit.category_id, hit.int_attr, hit.str_attr) == ("1000", 4, 7, "mug")
    assert search_name(client, instance, "1001", "spring/rocket.jpg").pic_info.region == "50,400,50,400"


def test_pic_names_beside_increment_meta_are_found_too(jobs_server, jobs_client, bucket_dir, photos):
    instance = create_instance(jobs_server.data_dir)
    write_folder(bucket_dir / "summer", photos, add_line("p", "rocket.jpg"))
    item = wait_increment(jobs_client, instance, increase(jobs_client, instance, "local", "/summer/"))
    assert (item.status, item.error_url) == ("SUCCESS", "")
    assert found(search_pic(jobs_client, instance, photos["rocket"])) == [("p", "rocket.jpg")]


def test_an_import_from_an_s3_compatible_store(jobs_server, jobs_client, s3_endpoint, photos):
    instance = create_instance(jobs_server.data_dir)
    s3 = s3_client(s3_endpoint)
    for name in ("coffee", "chelsea"):
        s3.put_object(Bucket=S3_BUCKET, Key=f"{S3_PREFIX}/2024/{name}.jpg", Body=photos[name])
    lines = meta(add_line("c1", "2024/coffee.jpg", IntAttr=1), add_line("c2", "2024/chelsea.jpg"))
    s3.put_object(Bucket=S3_BUCKET, Key=f"{S3_PREFIX}/2024/increment.meta", Body=lines.encode())

    item = wait_increment(jobs_client, instance, increase(jobs_client, instance, "cloud", "/2024"))
    assert (item.status, item.msg) == ("SUCCESS", "success: 2 lines: 2 added, 0 deleted, 0 failed")
    body = search_pic(jobs_client, instance, photos["chelsea"])
    assert found(body)[0] == ("c2", "2024/chelsea.jpg") and len(body.auctions) == 2


def test_one_import_at_a_time_and_an_export_waits_for_it(jobs_server, jobs_client, bucket_dir, photos):
    instance = create_instance(jobs_server.data_dir)
    names = list(photos)
    lines = (add_line(f"p{i}", f"big/{names[i % len(names)]}.jpg") for i in range(24))
    write_folder(bucket_dir / "big", photos, *lines)
    write_folder(bucket_dir / "small", photos, add_line("another", "small/coffee.jpg"))
    first = increase(jobs_client, instance, "local", "/big")
    with pytest.raises(ClientException) as busy:
        increase(jobs_client, instance, "local", "/big")
    assert (busy.value.code, busy.value.status_code) == ("Console.IncrementStatusError", 409)

    export = dump(jobs_client, instance)  # waits for the import, so it sees all 24 images
    with pytest.raises(ClientException) as busy:
        dump(jobs_client, instance)
    assert (busy.value.code, busy.value.status_code) == ("Console.TaskAlreadyExist", 409)

    assert wait_increment(jobs_client, instance, first).status == "SUCCESS"
    item = wait_dump(jobs_client, instance, export)
    assert (item.status, len(json_lines(fetch(item.meta_url)[1]))) == ("SUCCESS", 24)
    second = increase(jobs_client, instance, "local", "/small")
    assert wait_increment(jobs_client, instance, second).status == "SUCCESS"


def test_the_callback_address_hears_how_the_import_ended(jobs_server, jobs_client, bucket_dir, photos):
    instance = create_instance(jobs_server.data_dir)
    write_folder(bucket_dir / "called", photos, add_line("p", "called/coffee.jpg"), "junk")
    with callback_receiver() as (url, received):
        job_id = increase(jobs_client, instance, "local", "/called", callback=url)
        assert wait_increment(jobs_client, instance, job_id).callback_address == url
        deadline = time.monotonic() + 30
        while not received and time.monotonic() < deadline:
            time.sleep(0.05)
    (body,) = received
    assert (body["Id"], body["InstanceName"], body["Status"]) == (int(job_id), instance, "SUCCESS")
    assert body["Counts"] == {"Lines": 2, "Done": 2, "Added": 1, "Deleted": 0, "Failed": 1}


def test_a_callback_that_cannot_be_reached_does_not_fail_the_import(
    jobs_server, jobs_client, bucket_dir, photos
):
    instance = create_instance(jobs_server.data_dir)
    write_folder(bucket_dir / "uncalled", photos, add_line("p", "uncalled/coffee.jpg"))
    job_id = increase(jobs_client, instance, "local", "/uncalled", callback="http://127.0.0.1:9/nobody")
    assert wait_increment(jobs_client, instance, job_id).status == "SUCCESS"


def test_the_list_filters_by_id_bucket_and_path_and_pages(jobs_server, jobs_client, bucket_dir, photos):
    instance = create_instance(jobs_server.data_dir)
    write_folder(bucket_dir / "a", photos, {"OperationType": "DELETE", "ProductId": "x"})
    write_folder(bucket_dir / "b", photos, {"OperationType": "DELETE", "ProductId": "x"})
    ids = []
    for path in ("/a", "/b", "/a/increment.meta"):
        ids.append(increase(jobs_client, instance, "local", path))
        wait_increment(jobs_client, instance, ids[-1])
    newest_first = [int(i) for i in reversed(ids)]
    assert [i.id for i in increments(jobs_client, instance)] == newest_first
    assert [i.id for i in increments(jobs_client, instance, path="/a/")] == [newest_first[0], newest_first[2]]
    assert [i.id for i in increments(jobs_client, instance, id=int(ids[1]))] == [int(ids[1])]
    assert increments(jobs_client, instance, bucket_name="cloud") == []
    body = jobs_client.increase_list(
        models.IncreaseListRequest(instance_name=instance, page_size=2, page_number=2)
    )
    assert (body.body.data.total_count, [i.id for i in body.body.data.increments.instance]) == (
        3,
        [newest_first[2]],
    )


# -- errors ----------------------------------------------------------------------------------------------


def refused(call, code: str, status: int = 400) -> None:
    with pytest.raises(ClientException) as info:
        call()
    assert (info.value.code, info.value.status_code) == (code, status), info.value.message
    assert len(info.value.data["Message"]) > 20


@pytest.mark.parametrize(
    ("name", "code"),
    [(None, "Console.BadRequest"), ("bad name!", "InvalidInstance"), ("nosuch", "Console.InstanceNotFound")],
)
def test_every_job_action_names_an_instance_that_exists(jobs_client, name, code):
    refused(lambda: jobs_client.dump_meta(models.DumpMetaRequest(instance_name=name)), code)
    refused(lambda: jobs_client.dump_meta_list(models.DumpMetaListRequest(instance_name=name)), code)
    request = models.IncreaseInstanceRequest(instance_name=name, bucket_name="local", path="/a")
    refused(lambda: jobs_client.increase_instance(request), code)
    refused(lambda: jobs_client.increase_list(models.IncreaseListRequest(instance_name=name)), code)


@pytest.mark.parametrize(
    "fields",
    [
        {"bucket_name": None},
        {"path": None},
        {"bucket_name": "elsewhere"},
        {"path": "a/increment.meta"},
        {"path": "/no/such/folder"},
        {"path": "/a/../../outside"},
        {"callback_address": "ftp://127.0.0.1/x"},
        {"callback_address": "not a url"},
        {"callback_address": "http://[::1"},
        {"callback_address": "http://127.0.0.1:99999/"},
        {"callback_address": "http://h/" + "x" * 5000},
        {"path": "/" + "a" * 5000},
        {"path": "/" + "a" * 300},  # under the limit, but no file system holds such a name
        {"path": "/a\x00b"},
        {"path": "/a\nb"},
    ],
)
def test_an_import_needs_a_bucket_folder_with_increment_meta(
    jobs_client, idle_instance, fields, bucket_dir, photos
):
    write_folder(bucket_dir / "a", photos, {"OperationType": "DELETE", "ProductId": "x"})
    request = models.IncreaseInstanceRequest(
        **({"instance_name": idle_instance, "bucket_name": "local", "path": "/a"} | fields)
    )
    refused(lambda: jobs_client.increase_instance(request), "Console.BadRequest")


@pytest.mark.parametrize(
    ("page", "action"),
    [
        ({"page_size": 500}, "DumpMetaList"),
        ({"page_size": 0}, "DumpMetaList"),
        ({"page_number": 501}, "DumpMetaList"),
        ({"page_size": 501}, "IncreaseList"),
        ({"page_number": 500}, "IncreaseList"),
        ({"page_number": 0}, "IncreaseList"),
    ],
)
def test_pages_are_within_the_documented_limits(jobs_client, idle_instance, page, action):
    if action == "DumpMetaList":
        request = models.DumpMetaListRequest(instance_name=idle_instance, **page)
        refused(lambda: jobs_client.dump_meta_list(request), "Console.BadRequest")
    else:
        request = models.IncreaseListRequest(instance_name=idle_instance, **page)
        refused(lambda: jobs_client.increase_list(request), "Console.BadRequest")


# -- restart ---------------------------------------------------------------------------------------------


def test_an_import_cut_short_by_a_kill_resumes_and_applies_no_line_twice(tmp_path, photos):
    """kill -9 in the middle of a 40-line import, then restart: the job goes on after its last recorded line.

    The photo of line 1 is replaced while the server is down: had line 1 been read again, p0 would now look
    like the rocket. The counts and the error list say every line was applied exactly once."""
    bucket = tmp_path / "bucket"
    others = ["rocket", "chelsea", "astronaut", "motorcycle", "hubble", "ihc"]
    lines = [add_line("p0", "first.jpg")] + [add_line(f"p{i}", f"{others[i % 6]}.jpg") for i in range(1, 40)]
    lines[1] = add_line("p1", "missing.jpg")
    write_folder(bucket, photos, *lines)
    (bucket / "first.jpg").write_bytes(photos["coffee"])
    process = ServerProcess(tmp_path / "data", extra_args=("--bucket", f"local={bucket}"))
    process.start()
    try:
        instance = create_instance(process.data_dir)
        job_id = increase(make_client(process.endpoint), instance, "local", "/")
        raw = Client(f"http://{process.endpoint}", ACCESS_KEY_ID, ACCESS_KEY_SECRET)  # sees the Counts
        while True:
            answer = raw.call("IncreaseList", InstanceName=instance, Id=job_id)
            (item,) = answer["Data"]["Increments"]["Instance"]
            if item["Counts"]["Done"] >= 8:
                break
            time.sleep(0.02)
        process.kill()
        assert item["Status"] == "PROCESSING" and item["Counts"]["Done"] < 40

        (bucket / "first.jpg").write_bytes(photos["rocket"])
        process.start()
        client = make_client(process.endpoint)
        item = wait_increment(client, instance, job_id)
        assert item.msg == "success: 40 lines: 39 added, 0 deleted, 1 failed"
        assert [e["Line"] for e in json_lines(fetch(item.error_url)[1])] == [2]
        coffee = search_pic(client, instance, photos["coffee"], num=1).auctions[0]
        assert (coffee.product_id, coffee.score) == ("p0", pytest.approx(1.0, abs=1e-4))
    finally:
        process.stop()
