"""The raw material of hostile requests, as hypothesis strategies: odd parameter values, broken pictures,
not-quite-base64, filters, caret bodies. `hostile.py` puts them into signed requests."""

from __future__ import annotations

import base64
import io
from functools import cache

from hypothesis import strategies as st
from PIL import Image

from tests.conftest import jpeg, photo_image

# Values at the edges of what each parameter takes: numbers past int32/int64 and str-to-int limits, the
# calendar's ends, digits int() refuses, URLs and paths that break parsers, control characters.
EDGE_VALUES = [
    "", " ", "0", "-0", "-1", "1", "2147483647", "2147483648", "-2147483649", "9223372036854775808",
    "9" * 5000, "1e309", "-1e309", "nan", "inf", "0x10", "1_000", "²", "١٢٣", "true", "false", "null",
    "[]", "{}", "\x00", "a\x00b", "\t", "%00", "%FF", "http://[::1", "http://127.0.0.1:99999/",
    "https://example.com/x.jpg", "/" + "a" * 5000, "/a/../../b", "../../etc/passwd",
    "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "1,2,3,4", "0,0,0,0", "-1,5,-1,5",
    "1,2", "4,3,2,1", "a,b,c,d", "99999999999,1,2,3", "😀" * 100, "x" * 257, "x" * 4097,
    "中文" * 100, "$&%\\¥",
]  # fmt: skip

values = st.one_of(
    st.sampled_from(EDGE_VALUES),
    st.text(max_size=60),
    st.integers(-(2**70), 2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)

# Parameters of the 2020-12-14 actions, and a few no action has.
PARAMS = [
    "ProductId", "PicName", "PicContent", "CategoryId", "Num", "Start", "Filter", "Crop", "Region",
    "IntAttr", "IntAttr2", "IntAttr3", "IntAttr4", "StrAttr", "StrAttr2", "StrAttr3", "StrAttr4",
    "CustomContent", "DistinctProductId", "ScoreThreshold", "Text", "PrimaryPicContent",
    "SecondaryPicContent", "BucketName", "Path", "CallbackAddress", "Id", "PageNumber", "PageSize",
    "Type", "Version", "Action", "Nope", "instancename",
]  # fmt: skip

params = st.dictionaries(st.sampled_from(PARAMS) | st.text(min_size=1, max_size=20), values, max_size=8)


# --- pictures -----------------------------------------------------------------------------------------

MODES = ["RGB", "L", "RGBA", "P", "1", "LA", "I;16", "I", "F", "CMYK"]
FORMATS = ["PNG", "JPEG", "GIF", "WEBP", "BMP", "TIFF", "PPM", "ICO"]
MAGIC = [b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF89a", b"RIFF\x00\x00\x00\x00WEBP", b"BM", b"II*\x00",
         b"MM\x00*", b"P6\n", b"\x00\x00\x01\x00", b"<svg", b"%PDF-1.4", b""]  # fmt: skip


@cache
def real_photo() -> bytes:
    return jpeg(photo_image("coffee").resize((320, 213)))


@st.composite
def drawn_picture(draw: st.DrawFn) -> bytes:
    """A small picture of any mode and size PIL writes, in any format that takes it."""
    sides = st.integers(100, 300) | st.integers(1, 120)  # within the documented 100 px and below it
    size = (draw(sides), draw(sides))
    mode, fmt = draw(st.sampled_from(MODES)), draw(st.sampled_from(FORMATS))
    image = Image.new(mode, size, color=draw(st.integers(0, 255)))
    # What this format cannot hold (a mode, or ICO past 256 px) falls back to RGB, then to PNG.
    for picture, as_format in ((image, fmt), (image.convert("RGB"), fmt), (image.convert("RGB"), "PNG")):
        out = io.BytesIO()
        try:
            picture.save(out, as_format)
            return out.getvalue()
        except (OSError, ValueError, KeyError):
            continue
    raise AssertionError("PIL writes RGB as PNG")


@st.composite
def damaged_photo(draw: st.DrawFn) -> bytes:
    """A real JPEG photograph cut short, or with bytes changed."""
    data = bytearray(real_photo())
    if draw(st.booleans()):
        return bytes(data[: draw(st.integers(0, len(data)))])
    for _ in range(draw(st.integers(1, 20))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data)


def giant_png_header(width: int, height: int) -> bytes:
    """The start of a PNG that claims a size it does not have."""
    import struct
    import zlib

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + chunk + struct.pack(">I", zlib.crc32(chunk))


pictures = st.one_of(
    drawn_picture(),
    damaged_photo(),
    st.builds(lambda magic, tail: magic + tail, st.sampled_from(MAGIC), st.binary(max_size=600)),
    st.builds(giant_png_header, st.integers(0, 2**31 - 1), st.integers(0, 2**31 - 1)),
)

pictures_base64 = pictures.map(lambda data: base64.b64encode(data).decode())

# Text that is almost, or not at all, base64.
not_quite_base64 = st.one_of(
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=", max_size=200),
    st.text(alphabet="AQgw+/=-_ \t\r\n.%", max_size=200),
    pictures_base64.map(lambda text: text.replace("+", "-").replace("/", "_")),  # the URL-safe alphabet
    pictures_base64.map(lambda text: "data:image/png;base64," + text),
    st.builds(lambda text, cut: text[:cut], pictures_base64, st.integers(0, 400)),
    st.text(max_size=100),
)


# --- filters --------------------------------------------------------------------------------------------

FIELDS = ["int_attr", "int_attr2", "int_attr3", "int_attr4", "str_attr", "str_attr2", "str_attr3",
          "str_attr4", "INT_ATTR", "category_id", "x", ""]  # fmt: skip
CONJUNCTIONS = ["AND", "OR", "and", "&&", ""]
OPERATORS = [">", ">=", "<", "<=", "=", "!=", "in", "not in", "==", "<>", "like", "", "=>"]
FILTER_VALUES = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.text(max_size=10).map(lambda text: f'"{text}"'),
    st.text(max_size=10).map(lambda text: f"'{text}'"),
    st.lists(st.integers(-5, 5).map(str) | st.just('"a"'), max_size=4).map(lambda xs: f"({', '.join(xs)})"),
    st.sampled_from(['"unclosed', "(1, 2", "()", "1.5", "-", '"\\"', "NULL"]),
)
comparisons = st.builds(
    lambda field, op, value: f"{field}{op}{value}" if op in "<>=!" else f"{field} {op} {value}",
    st.sampled_from(FIELDS),
    st.sampled_from(OPERATORS),
    FILTER_VALUES,
)
joined = st.recursive(
    comparisons,
    lambda inner: st.one_of(
        st.builds(
            lambda a, word, b: f"{a} {word} {b}",
            inner,
            st.sampled_from(["AND", "OR", "and", "&&", ""]),
            inner,
        ),
        inner.map(lambda text: f"({text})"),
    ),
    max_leaves=12,
)
filters = st.one_of(
    joined,
    st.builds(lambda depth, inner: "(" * depth + inner + ")" * depth, st.integers(1, 2100), comparisons),
    st.text(max_size=80),
    st.just("int_attr=1 AND " * 400 + "int_attr=1"),
)


# --- caret bodies (the first protocol) ---------------------------------------------------------------------

CARET_KEYS = ["item_id", "cat_id", "cust_content", "crop", "region", "n", "s", "pic_list", "x"]


@st.composite
def caret_bodies(draw: st.DrawFn) -> bytes:
    """`meta^content` bodies: well-formed ones with odd values, and ones broken in each way it can be."""
    if draw(st.booleans()):
        return draw(st.binary(max_size=300) | st.text(max_size=200).map(str.encode))
    content = b""
    meta = []
    name = draw(st.text(min_size=0, max_size=10))
    encoded_name = base64.b64encode(name.encode()).decode()
    fields = {"item_id": draw(st.sampled_from([b"fuzz", b""]) | values.map(str.encode)),
              "pic_list": encoded_name.encode(), encoded_name: draw(pictures_base64).encode()}  # fmt: skip
    for key in draw(st.lists(st.sampled_from(CARET_KEYS), max_size=5)):
        fields[key] = draw(values).encode()
    for key, value in fields.items():
        start = len(content)
        content += value
        end = len(content)
        if draw(st.integers(0, 9)) == 0:  # an offset out of place
            start, end = draw(st.integers(-5, 2**40)), draw(st.integers(-5, 2**40))
        meta.append(f"{key},{start},{end}")
    separator = draw(st.sampled_from(["#", "#", "#", ",", "##", ""]))
    return separator.join(meta).encode() + draw(st.sampled_from([b"^", b"^", b"", b"^^"])) + content
