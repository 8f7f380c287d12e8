"""The caret body of the first protocol: `key,start,end#...^content`, decoded, encoded, and refused well."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lookalike.api.errors import ApiError
from lookalike.api.legacy import decode_body, encode_body

# What the legacy documentation's delete example sends: item 1000, pictures shoes1.jpg and shoes2.jpg.
DOCUMENTED = b"item_id,0,4#pic_list,4,37^1000c2hvZXMxLmpwZw==,c2hvZXMyLmpwZw=="
BODY_CODES = {"NoCaretSeperator", "EmptyMeta", "InvalidMetaItem"}

keys = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E, exclude_characters=",#^"), min_size=1)


def test_the_documented_example():
    fields = decode_body(DOCUMENTED)
    assert fields["item_id"] == b"1000"
    names = [base64.b64decode(n).decode() for n in fields["pic_list"].split(b",")]
    assert names == ["shoes1.jpg", "shoes2.jpg"]
    assert encode_body(fields) == DOCUMENTED


@given(st.dictionaries(keys, st.binary(max_size=64), min_size=1, max_size=8))
def test_what_is_encoded_decodes_to_the_same(fields):
    assert decode_body(encode_body(fields)) == fields


@given(st.binary(max_size=200))
def test_any_bytes_decode_or_get_a_documented_code(body):
    try:
        fields = decode_body(body)
    except ApiError as error:
        assert error.code in BODY_CODES and error.status == 400
    else:
        assert fields and all(isinstance(v, bytes) for v in fields.values())


@given(st.dictionaries(keys, st.binary(max_size=16), min_size=1, max_size=4), st.binary(max_size=8))
def test_content_after_the_values_and_carets_inside_them_change_nothing(fields, tail):
    assert decode_body(encode_body(fields) + tail) == fields


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"item_id,0,4 1000", "NoCaretSeperator"),
        (b"", "NoCaretSeperator"),
        (b"^1000", "EmptyMeta"),
        (b"  ^1000", "EmptyMeta"),
        (b"item_id,0^1000", "InvalidMetaItem"),
        (b"item_id,0,4,5^1000", "InvalidMetaItem"),
        (b",0,4^1000", "InvalidMetaItem"),
        (b"item_id,0,5^1000", "InvalidMetaItem"),
        (b"item_id,3,1^1000", "InvalidMetaItem"),
        (b"item_id,-1,2^1000", "InvalidMetaItem"),
        (b"item_id,0,x^1000", "InvalidMetaItem"),
        (b"item_id,0,4#item_id,0,4^1000", "InvalidMetaItem"),
        (b"item_id,0,4##cat_id,0,1^1000", "InvalidMetaItem"),
        ("ключ,0,4^1000".encode(), "InvalidMetaItem"),
    ],
)
def test_malformed_bodies(body, code):
    with pytest.raises(ApiError) as info:
        decode_body(body)
    assert info.value.code == code and ":" in info.value.message


@pytest.mark.parametrize("key", ["", "a,b", "a#b", "a^b", "ключ", "tab\t"])
def test_keys_the_body_cannot_carry_are_refused(key):
    with pytest.raises(ValueError):
        encode_body({key: b"x"})
