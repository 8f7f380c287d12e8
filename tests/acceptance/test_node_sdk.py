"""The official Node.js SDK, @alicloud/imagesearch20201214 4.4.0, against a real server: every action, in both
of its signature modes (ACS3-HMAC-SHA256 by default; `signatureAlgorithm: "v2"`, the RPC HMAC-SHA1 query
signature), and the file-stream *Advance methods over HTTPS, each answer checked field by field.

Node runs node/driver.js, which calls the SDK as a user's program would (see node_sdk.py for how it is
installed). The *Advance methods upload over HTTPS only, as a chunked multipart body without Content-Length,
and need `client._openPlatformEndpoint` and the server's CA in RuntimeOptions (docs/actions.md).
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.acceptance.conftest import create_instance
from tests.acceptance.jobs import add_line, fetch, json_lines, write_folder
from tests.acceptance.node_sdk import NodeSdkUnavailable, drive, installed, missing_tools
from tests.acceptance.raw import record
from tests.acceptance.server import ACCESS_KEY_ID, ACCESS_KEY_SECRET, ServerProcess
from tests.conftest import jpeg, photo_image

MODES = {"acs3": None, "rpc-v2": "v2"}
JOB_SECONDS = 120


@pytest.fixture(scope="session")
def node_modules() -> Path:
    if missing := missing_tools():
        pytest.skip(f"the Node.js SDK tests need node and npm; this machine has no {' or '.join(missing)}")
    try:
        return installed()
    except NodeSdkUnavailable as error:
        pytest.fail(str(error))


@pytest.fixture(scope="module")
def bucket_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("node-bucket")


@pytest.fixture(scope="module")
def node_server(tmp_path_factory: pytest.TempPathFactory, bucket_dir: Path) -> Iterator[ServerProcess]:
    """A server that imports from bucket `local` (a folder)."""
    data = tmp_path_factory.mktemp("node") / "data"
    process = ServerProcess(data, extra_args=("--bucket", f"local={bucket_dir}")).start()
    yield process
    process.stop()


@pytest.fixture(params=MODES)
def sdk(request: pytest.FixtureRequest, node_modules: Path, node_server: ServerProcess):
    """Calls made by one Node.js client over HTTP, in one signature mode: sdk(*calls) -> answers."""
    client = client_config(node_server.endpoint, "http", MODES[request.param])
    return lambda *calls: drive(node_modules, client, list(calls))


def client_config(endpoint: str, protocol: str, algorithm: str | None, ca: str | None = None) -> dict:
    config = {"endpoint": endpoint, "protocol": protocol, "accessKeyId": ACCESS_KEY_ID}
    config |= {"accessKeySecret": ACCESS_KEY_SECRET, "signatureAlgorithm": algorithm, "ca": ca}
    return {name: value for name, value in config.items() if value is not None}


def call(method: str, streams: dict[str, bytes] | None = None, **request) -> dict:
    encoded = {name: base64.b64encode(data).decode() for name, data in (streams or {}).items()}
    return {"method": method, "request": request, "streams": encoded}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def body(answer: dict) -> dict:
    assert "error" not in answer, answer["error"]
    assert answer["statusCode"] == 200
    return answer["body"]


def hits(answer: dict) -> list[tuple[str, str]]:
    return [(a["ProductId"], a["PicName"]) for a in body(answer)["Auctions"]]


@pytest.mark.parametrize(("mode", "scheme"), [("acs3", "ACS3-HMAC-SHA256"), ("rpc-v2", "HMAC-SHA1")])
def test_each_mode_signs_as_it_says(node_modules, mode, scheme):
    def search(endpoint: str) -> None:
        client = client_config(endpoint, "http", MODES[mode])
        drive(node_modules, client, [call("searchImageByName", instanceName="i", productId="p", picName="a")])

    sent = record(search)
    if scheme.startswith("ACS3"):
        assert sent.headers["Authorization"].startswith("ACS3-HMAC-SHA256 Credential=" + ACCESS_KEY_ID)
        assert sent.headers["x-acs-action"] == "SearchImageByName"
    else:
        assert "Authorization" not in sent.headers
        assert "SignatureMethod=HMAC-SHA1" in sent.query and "Action=SearchImageByName" in sent.query


def test_add_then_search_by_picture_and_by_name(sdk, node_server, photos):
    instance = create_instance(node_server.data_dir)
    coffee = b64(photos["coffee"])
    added, by_pic, by_name = sdk(
        call("addImage", instanceName=instance, productId="p1", picName="a.jpg", picContent=coffee,
             categoryId=4, intAttr=5, strAttr="red", intAttr3=-3, strAttr4="四", customContent="k:v"),
        call("searchImageByPic", instanceName=instance, picContent=coffee, num=5, crop=True),
        call("searchImageByName", instanceName=instance, productId="p1", picName="a.jpg"),
    )  # fmt: skip
    added = body(added)
    assert (added["Success"], added["Code"], added["Message"]) == (True, 0, "success")
    assert added["PicInfo"]["CategoryId"] == 4 and added["PicInfo"]["Region"]
    assert len(added["RequestId"]) == 36

    found = body(by_pic)
    assert (found["Success"], found["Code"], found["Msg"]) == (True, 0, "success")
    assert (found["Head"]["DocsFound"], found["Head"]["DocsReturn"]) == (1, 1)
    assert isinstance(found["Head"]["SearchTime"], int)
    (hit,) = found["Auctions"]
    assert hit == {
        "ProductId": "p1", "PicName": "a.jpg", "CategoryId": 4, "CustomContent": "k:v",
        "IntAttr": 5, "IntAttr2": 0, "IntAttr3": -3, "IntAttr4": 0,
        "StrAttr": "red", "StrAttr2": "", "StrAttr3": "", "StrAttr4": "四",
        "Score": pytest.approx(1.0, abs=1e-4), "SortExprValues": hit["SortExprValues"],
    }  # fmt: skip
    info = found["PicInfo"]
    assert info["CategoryId"] == 4 or info["CategoryId"] in {c["Id"] for c in info["AllCategories"]}
    assert {"Id": 88888888, "Name": "Other"} in info["AllCategories"]
    assert info["MultiRegion"][0]["Region"] == info["Region"]

    named = body(by_name)
    assert hits(by_name) == [("p1", "a.jpg")] and named["Head"]["DocsFound"] == 1
    assert named["PicInfo"]["Region"] == added["PicInfo"]["Region"]


def test_update_check_filter_compare_and_delete(sdk, node_server, photos):
    instance = create_instance(node_server.data_dir)
    coffee, rocket = b64(photos["coffee"]), b64(photos["rocket"])
    answers = sdk(
        call("addImage", instanceName=instance, productId="p1", picName="a.jpg", picContent=coffee,
             intAttr=1),
        call("addImage", instanceName=instance, productId="p2", picName="b.jpg", picContent=rocket,
             intAttr=2),
        call("updateImage", instanceName=instance, productId="p1", picName="a.jpg", intAttr=10,
             strAttr3="s3", customContent="new"),
        call("checkImageExists", instanceName=instance, productId="p1", picName="a.jpg"),
        call("checkImageExists", instanceName=instance, productId="p1", picName="zzz.jpg"),
        call("searchImageByFilter", instanceName=instance, filter="int_attr>=2", num=10),
        call("compareSimilarByImage", instanceName=instance, primaryPicContent=coffee,
             secondaryPicContent=coffee),
        call("compareSimilarByImage", instanceName=instance, primaryPicContent=coffee,
             secondaryPicContent=rocket),
        call("deleteImage", instanceName=instance, productId="p2"),
        call("searchImageByFilter", instanceName=instance, filter="int_attr>=0"),
    )  # fmt: skip
    updated, exists, missing, filtered, same, other, deleted, left = answers[2:]
    assert (body(updated)["Success"], body(updated)["Code"], body(updated)["Message"]) == (True, 0, "success")
    stored = body(exists)["Auctions"]  # one object, as the SDK's model says
    assert body(exists)["Exists"] is True
    assert (stored["ProductId"], stored["IntAttr"], stored["StrAttr3"]) == ("p1", 10, "s3")
    assert stored["CustomContent"] == "new"
    assert body(missing)["Exists"] is False and "Auctions" not in body(missing)
    assert sorted(hits(filtered)) == [("p1", "a.jpg"), ("p2", "b.jpg")]
    assert (body(filtered)["Success"], body(filtered)["Code"], body(filtered)["Msg"]) == (True, 0, "success")
    assert body(same)["Score"] == pytest.approx(1.0, abs=1e-4)
    assert 0.0 <= body(other)["Score"] < 0.9
    gone = body(deleted)
    assert (gone["Success"], gone["Code"], gone["Message"]) == (True, 0, "success")
    assert gone["Data"]["PicNames"] == ["b.jpg"]
    assert hits(left) == [("p1", "a.jpg")]


def test_detail_describes_the_instance(sdk, node_server, photos):
    instance = create_instance(node_server.data_dir, "--type", "generic", "--capacity", "25000")
    before = int(time.time() * 1000)
    added, detail = sdk(
        call("addImage", instanceName=instance, productId="p", picName="a", picContent=b64(photos["coffee"])),
        call("detail", instanceName=instance),
    )
    assert body(added)["Success"] is True
    described = body(detail)
    assert described["Success"] is True
    info = described["Instance"]
    assert (info["Name"], info["Region"], info["ServiceType"], info["TotalCount"]) == (
        instance,
        "cn-shanghai",
        1,
        1,
    )
    assert info["Capacity"] == 3  # in 10,000s of images, rounded up
    assert before - 600_000 <= int(info["UtcCreate"]) <= int(time.time() * 1000)
    assert int(info["UtcExpireTime"]) > int(info["UtcCreate"])


def test_errors_arrive_as_the_sdk_s_errors(sdk, node_server):
    instance = create_instance(node_server.data_dir)
    limited = create_instance(node_server.data_dir, "--search-qps", "1")
    unknown, bad_picture, by_text, *searches = sdk(
        call("searchImageByName", instanceName="no-such", productId="p", picName="a"),
        call("searchImageByPic", instanceName=instance, picContent=b64(b"not a picture at all")),
        call("searchImageByText", instanceName=instance, text="a red dress"),
        *[call("searchImageByName", instanceName=limited, productId="p", picName="a")] * 10,
    )
    assert unknown["error"]["name"] == "ClientError"
    assert (unknown["error"]["code"], unknown["error"]["statusCode"]) == ("InvalidInstance", 400)
    assert unknown["error"]["data"]["Code"] == "InvalidInstance" and unknown["error"]["data"]["RequestId"]
    assert (bad_picture["error"]["code"], bad_picture["error"]["statusCode"]) == ("UnsupportedPicFormat", 400)
    assert by_text["error"]["name"] == "ServerError"
    assert (by_text["error"]["code"], by_text["error"]["statusCode"]) == ("UnsupportedOperationType", 500)
    # Over the instance's rate: the SDK makes a ThrottlingError only of codes that say "Throttling".
    codes = [(e["name"], e["code"], e["statusCode"]) for e in (answer["error"] for answer in searches)]
    assert ("ClientError", "PicNotExist", 400) in codes  # nothing stored under that name
    assert ("ClientError", "DeniedRequest", 403) in codes
    assert set(codes) == {("ClientError", "PicNotExist", 400), ("ClientError", "DeniedRequest", 403)}


def wait_for(sdk, status_call: dict, items_of) -> dict:
    """The job's list item once it stopped PROCESSING."""
    deadline = time.monotonic() + JOB_SECONDS
    while (item := items_of(body(sdk(status_call)[0]))[0])["Status"] == "PROCESSING":
        assert time.monotonic() < deadline, item
        time.sleep(0.2)
    return item


def test_an_import_and_an_export(sdk, node_server, bucket_dir, photos):
    instance = create_instance(node_server.data_dir)
    folder = f"node-{instance}"
    write_folder(
        bucket_dir / folder, photos, add_line("1000", "coffee.jpg", IntAttr=7), add_line("1001", "x.jpg")
    )
    (started,) = sdk(
        call("increaseInstance", instanceName=instance, bucketName="local", path=f"/{folder}/increment.meta")
    )
    job = body(started)["Data"]
    assert body(started)["Success"] is True and isinstance(job["Id"], str)
    assert job["IncrementStatus"] in ("PROCESSING", "SUCCESS")
    listed = call("increaseList", instanceName=instance, id=int(job["Id"]))
    item = wait_for(sdk, listed, lambda b: b["Data"]["Increments"]["Instance"])
    assert (item["Id"], item["Status"], item["Code"]) == (int(job["Id"]), "SUCCESS", "0")
    assert item["Msg"] == "success: 2 lines: 1 added, 0 deleted, 1 failed"
    assert (item["BucketName"], item["Path"]) == ("local", f"/{folder}/increment.meta")
    assert [e["Code"] for e in json_lines(fetch(item["ErrorUrl"])[1])] == ["PictureError"]

    (exporting,) = sdk(call("dumpMeta", instanceName=instance))
    export = body(exporting)["Data"]
    assert export["DumpMetaStatus"] in ("PROCESSING", "SUCCESS")
    listed = call("dumpMetaList", instanceName=instance, id=int(export["Id"]))
    item = wait_for(sdk, listed, lambda b: b["Data"]["DumpMetaList"])
    assert (item["Id"], item["Status"], item["Msg"]) == (int(export["Id"]), "SUCCESS", "success: 1 images")
    status, text = fetch(item["MetaUrl"])
    (line,) = json_lines(text)
    assert status == 200 and (line["ProductId"], line["PicName"], line["IntAttr"]) == (
        "1000",
        "coffee.jpg",
        7,
    )


@pytest.mark.parametrize("mode", MODES)
def test_file_streams_over_https(node_modules, tls_server, mode, photos):
    """addImageAdvance, searchImageByPicAdvance and compareSimilarByImageAdvance: each uploads its stream
    (chunked) to the TLS server that AuthorizeFileUpload names, then calls the action with its URL."""
    server, cert = tls_server
    client = client_config(server.endpoint, "https", MODES[mode], ca=cert.read_text())
    instance = create_instance(server.data_dir)
    rocket = photos["rocket"]
    smaller = jpeg(photo_image("rocket").resize((320, 213)), quality=70)
    added, searched, compared = drive(node_modules, client, [
        call("addImageAdvance", {"picContentObject": rocket}, instanceName=instance, productId="p1",
             picName="a.jpg", intAttr=3),
        call("searchImageByPicAdvance", {"picContentObject": smaller}, instanceName=instance),
        call("compareSimilarByImageAdvance",
             {"primaryPicContentObject": rocket, "secondaryPicContentObject": rocket}, instanceName=instance),
    ])  # fmt: skip
    assert body(added)["Success"] is True and body(added)["PicInfo"]["Region"]
    assert hits(searched) == [("p1", "a.jpg")]
    assert body(searched)["Auctions"][0]["IntAttr"] == 3 and body(searched)["Auctions"][0]["Score"] > 0.8
    assert body(compared)["Score"] == pytest.approx(1.0, abs=1e-4)
