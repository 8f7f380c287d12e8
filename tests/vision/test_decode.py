"""Image intake: accepted formats round-trip, each refusal carries its code, hostile input stays cheap."""

from __future__ import annotations

import io
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image, ImageFile, PngImagePlugin

from lookalike.domain.errors import BadPicture
from lookalike.vision.decode import (
    MAX_PIC_BYTES,
    MAX_SIDE,
    MIN_SIDE,
    REDUCED_SIDE,
    decode_image,
    decode_reduced,
)
from tests.vision.conftest import encode, photo_bytes

ACCEPTED = ["PNG", "JPEG", "BMP", "GIF", "WEBP", "TIFF", "PPM"]


def refused(data: bytes, problem: str) -> BadPicture:
    with pytest.raises(BadPicture) as caught:
        decode_image(data)
    assert caught.value.detail == problem, caught.value.message
    return caught.value


def png_chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


def png_declaring(width: int, height: int) -> bytes:
    """A few dozen bytes claiming a width x height RGB picture."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + png_chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("fmt", ACCEPTED)
def test_every_accepted_format_round_trips(photo, fmt):
    original = photo("chelsea.png")
    decoded = decode_image(encode(original, fmt))
    assert decoded.mode == "RGB"
    assert decoded.size == original.size == (451, 300)
    # Lossy formats (JPEG, WebP, GIF's palette) stay close to the photo; the rest are exact.
    diff = np.abs(np.asarray(decoded, np.int16) - np.asarray(original, np.int16)).mean()
    assert diff < (12 if fmt in ("JPEG", "WEBP", "GIF") else 0.01)


def test_original_photo_files_decode(photo):
    for name, size in [("astronaut.png", (512, 512)), ("rocket.jpg", (640, 427)), ("horse.png", (400, 328))]:
        image = decode_image(photo_bytes(name))
        assert (image.mode, image.size) == ("RGB", size)


def test_transparency_is_composited_onto_white(photo):
    original = photo("chelsea.png")
    alpha = np.full((300, 451), 255, np.uint8)
    alpha[:, :150] = 0  # transparent left third
    alpha[:, 150:300] = 128  # half-transparent middle
    rgba = original.convert("RGBA")
    rgba.putalpha(Image.fromarray(alpha))
    rgb, pixels = np.asarray(original, np.float64), None
    for mode, fmt in [("RGBA", "PNG"), ("RGBA", "WEBP"), ("LA", "PNG")]:
        pixels = np.asarray(decode_image(encode(rgba.convert(mode), fmt, lossless=True)), np.float64)
        expected = rgb if mode == "RGBA" else np.asarray(original.convert("L").convert("RGB"), np.float64)
        assert (pixels[:, :150] == 255).all()
        assert np.abs(pixels[:, 150:300] - (expected[:, 150:300] + 255) / 2).max() <= 2
        assert np.abs(pixels[:, 300:] - expected[:, 300:]).max() <= 1


def test_gif_transparent_colour_becomes_white(photo):
    paletted = photo("chelsea.png").quantize(64)
    index = np.asarray(paletted)[0, 0]
    decoded = np.asarray(decode_image(encode(paletted, "GIF", transparency=int(index))))
    assert (decoded[np.asarray(paletted) == index] == 255).all()


def test_an_rgb_pngs_transparent_colour_becomes_white():
    """An RGB PNG may name one colour transparent (tRNS) without an alpha channel."""
    pixels = np.zeros((200, 300, 3), np.uint8)
    pixels[:, 150:] = (200, 30, 30)
    decoded = np.asarray(decode_image(encode(Image.fromarray(pixels), "PNG", transparency=(0, 0, 0))))
    assert (decoded[:, :150] == 255).all() and (decoded[:, 150:] == (200, 30, 30)).all()


def test_sixteen_bit_grey_is_scaled_not_clipped(photo):
    grey = np.asarray(photo("astronaut.png").convert("L"), np.uint16)
    decoded = decode_image(encode(Image.fromarray(grey * 257), "PNG"))  # 16-bit PNG, mode I;16
    assert np.abs(np.asarray(decoded, np.int16)[..., 0] - grey).max() <= 1


def test_multi_frame_gif_and_tiff_give_the_first_frame(photo):
    first, second = photo("chelsea.png"), photo("coffee.png").resize((451, 300))
    for fmt in ("GIF", "TIFF"):
        data = encode(first, fmt, save_all=True, append_images=[second])
        assert Image.open(io.BytesIO(data)).n_frames == 2
        decoded = np.asarray(decode_image(data), np.int16)
        assert np.abs(decoded - np.asarray(first, np.int16)).mean() < 12
        assert np.abs(decoded - np.asarray(second, np.int16)).mean() > 30


def test_more_than_4_mb_is_refused(photo):
    data = encode(photo("astronaut.png").resize((1200, 1200)), "BMP")  # 4.3 MB, otherwise valid
    assert len(data) > MAX_PIC_BYTES
    assert "4 MB" in refused(data, "content").message
    refused(b"", "content")


@pytest.mark.parametrize("fmt", ["ICO", "TGA", "PCX", "SGI", "PDF"])
def test_other_formats_pillow_can_read_are_refused(photo, fmt):
    data = encode(photo("chelsea.png"), fmt)
    assert "PNG, JPEG" in refused(data, "format").message


def test_unrecognisable_bytes_are_refused():
    refused(np.random.default_rng(7).integers(0, 256, 5000, dtype=np.uint8).tobytes(), "format")
    refused(b"<html><body>not a picture</body></html>", "format")
    refused(b"8BPS\x00\x01" + b"\x00" * 200, "format")  # a PSD header


@pytest.mark.parametrize(
    "size", [(MIN_SIDE - 1, 300), (300, MIN_SIDE - 1), (MAX_SIDE + 1, 120), (120, MAX_SIDE + 1)]
)
def test_sides_outside_the_limits_are_refused(photo, size):
    data = encode(photo("chelsea.png").resize(size), "PNG")
    message = refused(data, "pixels").message
    assert f"{size[0]}x{size[1]}" in message and "100" in message and "4096" in message


def test_sides_on_the_limits_are_accepted(photo):
    for size in [(MIN_SIDE, MIN_SIDE), (MAX_SIDE, MIN_SIDE)]:
        assert decode_image(encode(photo("chelsea.png").resize(size), "PNG")).size == size


@pytest.mark.parametrize("width,height", [(100_000, 100_000), (4097, 4097), (30_000, 2_000)])
def test_huge_declared_sizes_are_refused_without_decoding(width, height):
    data = png_declaring(width, height)
    assert len(data) < 200
    refused(data, "pixels")
    # The file holds 64 bytes of pixels, so a decode attempt would have failed as truncated (a problem
    # with its content): the problem proves the header alone decided.


def test_jpeg_declaring_huge_size_is_refused(photo):
    data = bytearray(encode(photo("chelsea.png"), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", 65000, 65000)  # height, width
    refused(bytes(data), "pixels")


def test_png_text_chunk_bomb_is_refused(photo):
    info = PngImagePlugin.PngInfo()
    info.add_text("comment", "A" * 8_000_000, zip=True)  # compresses to ~8 KB
    data = encode(photo("chelsea.png"), "PNG", pnginfo=info)
    assert len(data) < MAX_PIC_BYTES
    refused(data, "content")


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "TIFF"])
def test_exif_orientation(photo, fmt):
    def with_orientation(value: int) -> bytes:
        exif = Image.Exif()
        exif[0x0112] = value
        return encode(photo("chelsea.png"), fmt, exif=exif)

    assert "orientation 6" in refused(with_orientation(6), "orientation").message
    refused(with_orientation(3), "orientation")
    assert decode_image(with_orientation(1)).size == (451, 300)


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")  # Pillow, on a cut TIFF directory
@pytest.mark.parametrize("fmt", ACCEPTED)
def test_truncated_pictures_are_refused(photo, fmt):
    data = encode(photo("coffee.png"), fmt)
    for cut in (len(data) // 2, len(data) * 9 // 10):
        refused(data[:cut], "content")
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_corrupt_png_data_is_refused(photo):
    data = bytearray(encode(photo("coffee.png"), "PNG"))
    idat = data.index(b"IDAT")
    data[idat + 1000 : idat + 1100] = bytes(100)
    refused(bytes(data), "content")


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")  # Pillow, on a cut TIFF directory
def test_header_only_is_refused(photo):
    data = encode(photo("coffee.png"), "JPEG")
    refused(data[:400], "content")
    refused(png_declaring(400, 300), "content")  # valid header, 64 bytes of pixel data
    for magic in [b"GIF89a", b"\x89PNG\r\n\x1a\n", b"II*\x00", b"BM"]:  # an accepted signature, then junk
        refused(magic + bytes(range(256)) * 4, "content")


def test_pillow_limits_are_left_alone(photo):
    before = Image.MAX_IMAGE_PIXELS
    decode_image(photo_bytes("chelsea.png"))
    assert before == Image.MAX_IMAGE_PIXELS and ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_safe_from_many_threads(photo):
    good = [encode(photo("chelsea.png"), fmt) for fmt in ACCEPTED]
    truncated = encode(photo("coffee.png"), "JPEG")[:5000]
    cases = [(data, np.asarray(decode_image(data))) for data in good] * 4 + [(truncated, None)] * 4

    def attempt(data: bytes):
        try:
            return np.asarray(decode_image(data))
        except BadPicture as error:
            return error.detail

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(attempt, [data for data, _ in cases]))
    for got, (_, want) in zip(results, cases, strict=True):
        if want is None:
            assert got == "content"
        else:
            assert np.array_equal(got, want)


def test_a_big_jpeg_is_decoded_reduced_and_remembers_its_size(photo):
    big = photo("coffee.png").resize((4000, 2680))
    reduced = decode_reduced(encode(big, "JPEG", quality=90))
    assert (reduced.width, reduced.height) == (4000, 2680)
    assert reduced.image.size == (1000, 670)  # the decoder's 1/4: the longest reduction keeping 960 px
    assert reduced.image.mode == "RGB"
    small = np.asarray(big.resize(reduced.image.size, Image.Resampling.BOX), np.float32)
    assert np.abs(np.asarray(reduced.image, np.float32) - small).mean() < 6  # the same picture, smaller


def test_small_pictures_and_other_formats_decode_whole(photo):
    for data in (
        encode(photo("coffee.png").resize((1900, 1000)), "JPEG"),
        encode(photo("coffee.png"), "PNG"),
    ):
        reduced = decode_reduced(data)
        assert reduced.image.size == (reduced.width, reduced.height) == Image.open(io.BytesIO(data)).size
    assert 2 * REDUCED_SIDE > 1900


def test_a_reduced_decode_refuses_what_a_whole_one_refuses(photo):
    rotated = photo("coffee.png").resize((4000, 2680))
    exif = Image.Exif()
    exif[0x0112] = 6
    with pytest.raises(BadPicture) as refused_reduced:
        decode_reduced(encode(rotated, "JPEG", exif=exif))
    assert refused_reduced.value.detail == "orientation"
    with pytest.raises(BadPicture) as too_big:
        decode_reduced(encode(photo("coffee.png").resize((4200, 300)), "JPEG"))
    assert too_big.value.detail == "pixels"


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "TIFF", "GIF"])
def test_big_pictures_of_formats_without_a_reduced_decode_are_reduced_after_it(photo, fmt):
    big = photo("coffee.png").resize((300, 200)).resize((3000, 2000), Image.Resampling.NEAREST)  # < 4 MB
    params = {"lossless": True} if fmt == "WEBP" else {"compression": "tiff_deflate"} if fmt == "TIFF" else {}
    data = encode(big, fmt, **params)
    reduced = decode_reduced(data)
    assert (reduced.width, reduced.height) == (3000, 2000)
    assert reduced.image.size == (1000, 667)  # a third: the most that keeps 960 px
    expected = np.asarray(decode_image(data).reduce(3), np.float32)
    assert np.abs(np.asarray(reduced.image, np.float32) - expected).max() <= 1  # whole 3 x 3 blocks


def test_transparency_is_composited_before_the_reduction():
    """Alternate columns of transparent black and opaque red: on white, each pair averages to pink. Averaged
    before the compositing, the black under the transparent pixels would darken it."""
    rgba = np.zeros((2000, 2000, 4), np.uint8)
    rgba[:, 1::2] = (255, 0, 0, 255)
    reduced = decode_reduced(encode(Image.fromarray(rgba), "PNG"))
    assert reduced.image.size == (1000, 1000)
    assert np.abs(np.asarray(reduced.image, np.int16) - (255, 128, 128)).max() <= 1


def test_big_sixteen_bit_grey_is_scaled_and_reduced():
    ramp = np.tile(np.arange(0, 65536, 16, dtype=np.uint16)[:4000], (2000, 1))  # 2000 x 4000
    reduced = decode_reduced(encode(Image.fromarray(ramp), "PNG"))
    assert reduced.image.size == (1000, 500)
    expected = ramp.reshape(500, 4, 1000, 4).mean(axis=(1, 3)) / 257
    assert np.abs(np.asarray(reduced.image, np.float32)[..., 0] - expected).max() <= 1
