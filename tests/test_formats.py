"""The cloud's text form of an image: a line of increment.meta in (every AddImage field, checked by its rules,
refused with the code AddImage would give), a line of an export out, and the one read back as the other."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from lookalike.api.codes import code_of
from lookalike.domain.errors import LookalikeError
from lookalike.domain.image import Attributes, Box, Image
from lookalike.formats import export_line, parse_meta_line


def test_an_add_line_carries_every_field_of_add_image():
    line = parse_meta_line(
        '{"OperationType": "ADD", "ProductId": "1000", "PicName": "girlCloth/1.jpg", "CategoryId": 0,'
        ' "IntAttr": 7, "IntAttr4": -2, "StrAttr": "value1", "StrAttr3": "中文",'
        ' "CustomContent": "k1:v1,k2:v2", "Region": "20,40,60,80"}'
    )
    assert (line.operation, line.product_id, line.pic_name, line.category_id) == (
        "ADD",
        "1000",
        "girlCloth/1.jpg",
        0,
    )
    assert line.region == Box(20, 40, 60, 80)
    assert line.attributes == Attributes(
        custom_content="k1:v1,k2:v2", int_attr=7, int_attr4=-2, str_attr="value1", str_attr3="中文"
    )


def test_numbers_may_come_as_strings_and_the_operation_in_any_case():
    line = parse_meta_line('{"OperationType": "add", "ProductId": 12, "PicName": "a.jpg", "IntAttr": "5"}')
    assert (line.operation, line.product_id, line.attributes.int_attr) == ("ADD", "12", 5)


def test_a_delete_line_names_a_product_and_maybe_one_picture():
    one = parse_meta_line('{"OperationType": "DELETE", "ProductId": "p", "PicName": "a.jpg"}')
    every = parse_meta_line('{"OperationType": "DELETE", "ProductId": "p"}')
    assert (one.operation, one.product_id, one.pic_name) == ("DELETE", "p", "a.jpg")
    assert (every.operation, every.pic_name) == ("DELETE", None)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("not json", "InvalidMetaItem"),
        ('["ADD", "p", "a.jpg"]', "InvalidMetaItem"),
        ('{"OperationType": "UPDATE", "ProductId": "p", "PicName": "a.jpg"}', "InvalidMetaItem"),
        ('{"ProductId": "p", "PicName": "a.jpg"}', "InvalidMetaItem"),
        ('{"OperationType": "ADD", "ProductId": "p", "PicName": "a.jpg", "IntAttr": 1.5}', "InvalidMetaItem"),
        (
            '{"OperationType": "ADD", "ProductId": "p", "PicName": "a.jpg", "StrAttr": null}',
            "InvalidMetaItem",
        ),
        ('{"OperationType": "ADD", "ProductId": "p", "PicName": "a.jpg", "Crop": true}', "InvalidMetaItem"),
        ('{"OperationType": "ADD", "PicName": "a.jpg"}', "NoSpecifiedProductId"),
        ('{"OperationType": "ADD", "ProductId": "p"}', "NoSpecifiedPicName"),
        ('{"OperationType": "DELETE", "PicName": "a.jpg"}', "NoSpecifiedProductId"),
        (
            '{"OperationType": "ADD", "ProductId": "p", "PicName": "a.jpg", "IntAttr2": 2147483648}',
            "InvalidIntAttr2",
        ),
        ('{"OperationType": "ADD", "ProductId": "p", "PicName": "a.jpg", "StrAttr": "5$"}', "InvalidStrAttr"),
        ('{"OperationType": "ADD", "ProductId": "p", "PicName": "a.jpg", "Region": "1,2"}', "InvalidRegion"),
    ],
)
def test_a_bad_line_gets_the_code_add_image_would_give(text, code):
    with pytest.raises(LookalikeError) as error:
        parse_meta_line(text)
    assert code_of(error.value.kind).code == code


def test_an_exported_image_reads_back_as_the_same_add_line():
    attributes = Attributes("c:1", 5, 6, 7, 8, "a", "b", "c", "中")
    record = Image("p1", "shoes/red.jpg", 4, Box(1, 200, 3, 300), attributes)
    exported = json.loads(export_line(record))
    assert "vector" not in json.dumps(exported).lower()
    line = parse_meta_line(json.dumps({"OperationType": "ADD", **exported}))
    assert (line.product_id, line.pic_name, line.category_id, line.region) == (
        "p1", "shoes/red.jpg", 4, Box(1, 200, 3, 300),
    )  # fmt: skip
    assert line.attributes == Attributes("c:1", 5, 6, 7, 8, "a", "b", "c", "中")


def test_the_readme_example_of_increment_meta_is_valid():
    readme = (Path(__file__).resolve().parents[1] / "docs" / "bulk.md").read_text()
    (example,) = [b for b in re.findall(r"```json\n(.*?)```", readme, re.S) if "OperationType" in b]
    lines = [parse_meta_line(text) for text in example.splitlines()]
    assert [line.operation for line in lines] == ["ADD", "DELETE"]
