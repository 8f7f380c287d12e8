"""Bad input gets the documented code, HTTP status and a clear message; the server stays up."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from alibabacloud_imagesearch20201214 import models
from alibabacloud_tea_openapi.exceptions import ClientException
from PIL import Image

from tests.acceptance.sdk import add, b64, search_pic
from tests.conftest import jpeg, photo_image


def refused(call, code: str, status: int = 400) -> ClientException:
    with pytest.raises(ClientException) as info:
        call()
    error = info.value
    assert (error.code, error.status_code) == (code, status), error.message
    assert len(error.data["Message"]) > 20
    return error


def test_unknown_instance(client, photos):
    refused(lambda: add(client, "nosuchinstance", "p", "n", photos["coffee"]), "InvalidInstance")
    refused(lambda: search_pic(client, "nosuchinstance", photos["coffee"]), "InvalidInstance")


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"instance_name": None}, "InvalidInstanceName"),
        ({"product_id": None}, "NoSpecifiedProductId"),
        ({"pic_name": ""}, "NoSpecifiedPicName"),
        ({"pic_content": None}, "NoSpecifiedPicContent"),
        ({"product_id": "p" * 257}, "InvalidProductId"),
        ({"pic_name": "n" * 257}, "InvalidPicName"),
        ({"category_id": 10}, "InvalidCategory"),
        ({"custom_content": "c" * 4097}, "InvalidCustomContent"),
        ({"int_attr": 2**31}, "InvalidIntAttr"),
        ({"int_attr_2": -(2**31) - 1}, "InvalidIntAttr2"),
        ({"str_attr_3": "s" * 129}, "InvalidStrAttr3"),
        ({"str_attr_4": "100$"}, "InvalidStrAttr4"),
        ({"str_attr": "a&b"}, "InvalidStrAttr"),
        ({"region": "1,2,3"}, "InvalidRegion"),
        ({"region": "5000,5100,0,100"}, "InvalidRegion"),
        ({"crop": "maybe"}, "BadRequest"),
    ],
)
def test_add_image_parameters(client, instance, photos, fields, code):
    request = {
        "instance_name": instance,
        "product_id": "p",
        "pic_name": "n",
        "pic_content": b64(photos["coffee"]),
    }
    request.update(fields)
    error = refused(lambda: client.add_image(models.AddImageRequest(**request)), code)
    assert "{" not in error.data["Message"]  # a sentence, not a dump


@pytest.mark.parametrize(
    ("options", "code"),
    [
        ({"num": 101}, "OverflowMaxReturnNum"),
        ({"num": 0}, "InvalidNumParameter"),
        ({"start": 500}, "OverflowMaxResultNum"),
        ({"start": -1}, "InvalidStartParameter"),
        ({"category_id": 7777}, "InvalidCategory"),
        ({"filter": "int_attr >= "}, "InvalidFilterClause"),
        ({"filter": 'str_attr > "a"'}, "InvalidFilterClause"),
        ({"filter": "price = 3"}, "InvalidFilterClause"),
        ({"score_threshold": "high"}, "BadRequest"),
    ],
)
def test_search_parameters(client, instance, photos, options, code):
    refused(lambda: search_pic(client, instance, photos["coffee"], **options), code)


def test_filter_errors_say_where_they_broke(client, instance, photos):
    error = refused(
        lambda: search_pic(client, instance, photos["coffee"], filter="int_attr>1 AND AND"),
        "InvalidFilterClause",
    )
    assert "position" in error.data["Message"] or "end" in error.data["Message"]


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares a huge size in a few bytes: a decompression bomb's opening."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    idat = zlib.compress(b"\0" * 1000)
    chunk += struct.pack(">I", len(idat)) + b"IDAT" + idat + struct.pack(">I", zlib.crc32(b"IDAT" + idat))
    return b"\x89PNG\r\n\x1a\n" + chunk


def rotated_jpeg() -> bytes:
    image = photo_image("coffee")
    exif = image.getexif()
    exif[0x0112] = 6  # orientation: rotate 90
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def saved(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


@pytest.mark.parametrize(
    ("make_picture", "code"),
    [
        (lambda: b"\xff\xd8" + b"\0" * (4 * 1024 * 1024), "InvalidPicContent"),
        (lambda: b"%PDF-1.4 not a picture at all", "UnsupportedPicFormat"),
        (lambda: saved(photo_image("coffee"), "ICO"), "UnsupportedPicFormat"),
        (lambda: jpeg(photo_image("coffee").resize((99, 300))), "UnsupportedPicPixels"),
        (lambda: jpeg(Image.new("RGB", (4097, 120), "white")), "UnsupportedPicPixels"),
        (lambda: png_header_only(100_000, 100_000), "UnsupportedPicPixels"),
        (rotated_jpeg, "IncorrectOrientation"),
        (lambda: jpeg(photo_image("coffee"))[:5000], "InvalidPicContent"),
    ],
)
def test_bad_pictures(client, instance, make_picture, code):
    picture = make_picture()
    refused(lambda: add(client, instance, "p", "n", picture), code)
    refused(lambda: search_pic(client, instance, picture), code)


def test_pic_content_that_is_not_base64(client, instance):
    request = models.SearchImageByPicRequest(instance_name=instance, pic_content="this is not base64!")
    refused(lambda: client.search_image_by_pic(request), "InvalidPicContent")


def test_every_supported_format_is_accepted(client, instance):
    image = photo_image("chelsea")
    for fmt in ("PNG", "JPEG", "BMP", "GIF", "WEBP", "TIFF", "PPM"):
        body = add(client, instance, "p", fmt, saved(image, fmt))
        assert body.pic_info.region


def test_nothing_stored_is_harmed_by_bad_input(client, instance, photos):
    add(client, instance, "p", "kept.jpg", photos["rocket"], int_attr=7)
    for bad in (b"junk", png_header_only(50_000, 50_000), jpeg(photo_image("rocket"))[:3000]):
        with pytest.raises(ClientException):
            add(client, instance, "p", "kept.jpg", bad, int_attr=8)
    (hit,) = search_pic(client, instance, photos["rocket"]).auctions
    assert (hit.pic_name, hit.int_attr) == ("kept.jpg", 7)
