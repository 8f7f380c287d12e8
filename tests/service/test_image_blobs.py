"""Blobs beside each image, by kind, in a database per instance and birth."""

from __future__ import annotations

from lookalike.domain.image import ImageKey
from lookalike.service.image_blobs import THUMBNAIL, ImageBlobs
from lookalike.service.models import Instance

A, B, C = ImageKey("p", "a"), ImageKey("p", "b"), ImageKey("q", "a")


def test_blobs_by_kind_and_key_are_replaced_and_deleted_with_their_image(tmp_path):
    blobs, shop = ImageBlobs(tmp_path), Instance("shop", created_ms=1)
    assert blobs.get(shop, THUMBNAIL, [A]) == {}  # nothing yet, and no file made for asking
    assert list(tmp_path.iterdir()) == []
    blobs.put(shop, THUMBNAIL, [(A, b"a1"), (B, b"b1")])
    blobs.put(shop, "features", [(A, b"fa")])
    blobs.put(shop, THUMBNAIL, [(A, b"a2")])
    assert blobs.get(shop, THUMBNAIL, [A, B, C]) == {A: b"a2", B: b"b1"}
    assert blobs.get(shop, "features", [A, B]) == {A: b"fa"}
    blobs.delete(shop, [A])  # every kind of it
    assert blobs.get(shop, THUMBNAIL, [A, B]) == {B: b"b1"}
    assert blobs.get(shop, "features", [A]) == {}
    again = ImageBlobs(tmp_path)  # another process on the same directory
    assert again.get(shop, THUMBNAIL, [B]) == {B: b"b1"}
    again.close()
    blobs.close()


def test_an_instance_made_again_under_its_name_has_none_of_the_old_ones(tmp_path):
    blobs = ImageBlobs(tmp_path)
    old, other = Instance("shop", created_ms=1), Instance("shop2", created_ms=1)
    blobs.put(old, THUMBNAIL, [(A, b"old")])
    blobs.put(other, THUMBNAIL, [(A, b"other")])
    holder = ImageBlobs(tmp_path)  # a process that still has the old one open
    assert holder.get(old, THUMBNAIL, [A]) == {A: b"old"}
    blobs.drop("shop")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("shop.")) == []
    new = Instance("shop", created_ms=2)
    holder.put(new, THUMBNAIL, [(B, b"new")])
    assert blobs.get(new, THUMBNAIL, [A, B]) == {B: b"new"}
    assert blobs.get(other, THUMBNAIL, [A]) == {A: b"other"}  # a name that begins the same is another's
    holder.close()
    blobs.close()
