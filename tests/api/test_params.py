"""Parameters arrive as strings; each is parsed to its type, within its documented limit and code."""

from __future__ import annotations

import base64

import pytest

from lookalike.access_keys import AccessKey
from lookalike.api.codes import Denied, wire_error
from lookalike.api.errors import ApiError
from lookalike.api.params import Params, RequestContext, decode_base64
from lookalike.domain.errors import LookalikeError
from lookalike.domain.filters import Compare
from lookalike.domain.image import Box
from lookalike.service.uploads import FileUploadStore


def code_of(call) -> str:
    """The code the image actions answer with for what `call` refuses (a domain error, through the table)."""
    with pytest.raises((ApiError, LookalikeError)) as info:
        call()
    error = info.value
    return wire_error(error).code if isinstance(error, LookalikeError) else error.code


def test_rpc_housekeeping_is_not_a_parameter():
    params = Params({"Action": "AddImage", "Signature": "x", "InstanceName": "i"})
    assert params.values == {"InstanceName": "i"}


@pytest.mark.parametrize(
    ("raw", "value"), [("True", True), ("false", False), ("1", True), ("0", False), ("", True)]
)
def test_booleans_as_any_sdk_sends_them(raw, value):
    assert Params({"Crop": raw}).boolean("Crop", True) is value


def test_a_boolean_that_is_not_one():
    assert code_of(lambda: Params({"Crop": "yes please"}).boolean("Crop", True)) == "BadRequest"


def test_search_options_defaults():
    options = Params({}).search_options()
    assert (options.num, options.start, options.filter, options.distinct_product_id) == (10, 0, None, False)
    assert options.score_threshold is None and options.category_id is None


def test_search_options_parsed():
    options = Params({"Num": "5", "Start": "10", "Filter": "int_attr=1", "DistinctProductId": "True",
                      "ScoreThreshold": "0.5", "CategoryId": "3"}).search_options()  # fmt: skip
    assert (options.num, options.start, options.distinct_product_id) == (5, 10, True)
    assert options.filter == Compare("int_attr", "=", 1)
    assert (options.score_threshold, options.category_id) == (0.5, 3)


@pytest.mark.parametrize(
    ("values", "code"),
    [
        ({"Num": "101"}, "OverflowMaxReturnNum"),
        ({"Num": "0"}, "InvalidNumParameter"),
        ({"Num": "ten"}, "InvalidNumParameter"),
        ({"Start": "500"}, "OverflowMaxResultNum"),
        ({"Start": "-1"}, "InvalidStartParameter"),
        ({"Start": "1.5"}, "InvalidStartParameter"),
        ({"ScoreThreshold": "1.5"}, "BadRequest"),
        ({"ScoreThreshold": "nan"}, "BadRequest"),
        ({"CategoryId": "three"}, "InvalidCategory"),
    ],
)
def test_search_options_out_of_range(values, code):
    assert code_of(lambda: Params(values).search_options()) == code


def test_region_is_x1_x2_y1_y2():
    assert Params({"Region": "10, 200,20,300"}).region() == Box(10, 200, 20, 300)
    assert Params({}).region() is None


@pytest.mark.parametrize(
    "raw", ["10,200,20", "a,b,c,d", "200,10,20,300", "10,200,300,20", "-1,5,0,5", "1,1,0,5"]
)
def test_region_that_is_no_region(raw):
    assert code_of(lambda: Params({"Region": raw}).region()) == "InvalidRegion"


def test_attributes_default_to_zero_and_empty():
    attributes = Params({"IntAttr3": "-7", "StrAttr2": "中文"}).attributes()
    assert (attributes.int_attr, attributes.int_attr3, attributes.str_attr, attributes.str_attr2) == (
        0,
        -7,
        "",
        "中文",
    )


@pytest.mark.parametrize(
    ("values", "code"),
    [
        ({"IntAttr": "2147483648"}, "InvalidIntAttr"),
        ({"IntAttr4": "x"}, "InvalidIntAttr4"),
        ({"StrAttr2": "a" * 129}, "InvalidStrAttr2"),
        ({"StrAttr": "¥1"}, "InvalidStrAttr"),
        ({"StrAttr3": "back\\slash"}, "InvalidStrAttr3"),
        ({"CustomContent": "c" * 4097}, "InvalidCustomContent"),
    ],
)
def test_attributes_out_of_range(values, code):
    assert code_of(lambda: Params(values).attributes()) == code


def test_required_identifiers():
    assert code_of(lambda: Params({}).instance_name()) == "InvalidInstanceName"
    assert code_of(lambda: Params({"ProductId": ""}).product_id()) == "NoSpecifiedProductId"
    assert code_of(lambda: Params({"ProductId": "p" * 257}).product_id()) == "InvalidProductId"
    assert Params({"PicName": "n" * 256}).pic_name() == "n" * 256


def test_base64_in_the_forms_clients_send():
    data = bytes(range(256)) * 3
    text = base64.b64encode(data).decode()
    assert decode_base64(text) == data
    assert decode_base64(text.rstrip("=")) == data  # padding left off
    assert decode_base64("\n".join(text[i : i + 76] for i in range(0, len(text), 76))) == data  # MIME lines


@pytest.mark.parametrize("text", ["not base64!", "abcde", "ab==cd", "%%%%"])
def test_base64_that_is_not(text):
    assert code_of(lambda: decode_base64(text)) == "InvalidPicContent"


def test_a_picture_url_is_not_fetched():
    assert (
        code_of(lambda: Params({"PicContent": "http://example.com/a.jpg"}).picture_bytes()) == "InvalidPicUrl"
    )


def test_a_missing_picture():
    assert code_of(lambda: Params({"PicContent": ""}).picture_bytes()) == "NoSpecifiedPicContent"


def test_an_update_changes_only_the_attributes_it_gives():
    params = Params({"IntAttr3": "30", "StrAttr4": "", "CustomContent": "new", "IntAttr": ""})
    assert params.attribute_changes() == {"int_attr3": 30, "str_attr4": "", "custom_content": "new"}
    assert code_of(lambda: Params({"StrAttr2": "50%"}).attribute_changes()) == "InvalidStrAttr2"


@pytest.mark.parametrize(
    ("text", "code"), [("", "InvalidText"), ("   ", "InvalidText"), ("x" * 513, "InvalidTextLength")]
)
def test_text_of_a_text_search(text, code):
    assert code_of(lambda: Params({"Text": text}).text()) == code
    assert Params({"Text": "红色连衣裙 red dress"}).text() == "红色连衣裙 red dress"


def test_an_instance_outside_the_callers_access_key_is_refused_with_the_actions_code():
    caller = AccessKey("LTAIlimited", "secret", frozenset({"shop"}))
    assert Params({"InstanceName": "shop"}, RequestContext(caller)).instance_name() == "shop"
    with pytest.raises(Denied) as info:
        Params({"InstanceName": "other"}, RequestContext(caller)).instance_name()
    for family, code in (("rpc", "NoPermission"), ("console", "Console.NoPermission")):
        wire = wire_error(info.value, family)
        assert (wire.code, wire.status) == (code, 403)


def test_a_picture_url_names_an_upload_of_the_callers_key_and_nothing_else(tmp_path):
    uploads, caller = FileUploadStore(tmp_path), AccessKey("LTAIuploader", "secret")
    key = uploads.new_key()
    uploads.put(key, caller.access_key_id, b"picture bytes")
    context = RequestContext(caller, uploads=uploads)
    url = f"http://http://127.0.0.1:8080/uploads.oss/{key}"
    assert Params({"PicContent": url}, context).picture_bytes() == b"picture bytes"
    for other in (
        f"http://http://127.0.0.1:8080/uploads.oss/{uploads.new_key()}",  # never uploaded
        "http://example.com/shoe.jpg",  # never fetched
        f"https://example.com/{key}/more",
    ):
        assert code_of(lambda u=other: Params({"PicContent": u}, context).picture_bytes()) == "InvalidPicUrl"
    assert code_of(lambda: Params({"PicContent": url}).picture_bytes()) == "InvalidPicUrl"  # no store
    another = RequestContext(AccessKey("LTAIother", "secret"), uploads=uploads)
    assert code_of(lambda: Params({"PicContent": url}, another).picture_bytes()) == "InvalidPicUrl"
