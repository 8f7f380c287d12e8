"""The life of instances and keys on the real model and store: a deleted instance leaves nothing behind."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from PIL import Image
from pymilvus import MilvusClient

from lookalike.access_keys import load_access_keys
from lookalike.app import Components, build_components
from lookalike.config import Settings
from lookalike.domain.errors import (
    BadPicture,
    BadValue,
    InstanceBusy,
    InstanceNotFound,
    KeyNotFound,
    OverQuota,
)
from lookalike.domain.filters import Compare
from lookalike.domain.image import Box, ImageKey
from lookalike.service.admin import Admin
from lookalike.service.models import AddImage, Picture, SearchOptions
from lookalike.store.milvus import MilvusAddress, milvus_name
from tests.conftest import jpeg, photo_image
from tests.service.test_jobs import wait


@contextmanager
def opened(data: Path, store_uri: str | None = None) -> Iterator[tuple[Components, Admin]]:
    components = build_components(Settings(data_dir=data, store_uri=store_uri))
    try:
        yield components, Admin(components.service, components.jobs, data)
    finally:
        components.close()


def add(components: Components, instance: str, name: str, picture: bytes, **fields) -> None:
    components.service.add(AddImage(instance, "p", name, Picture(picture), **fields))


def files_of(data: Path, instance: str) -> list[str]:
    """Every path under the data directory that names the instance, but its lock: an empty file that other
    processes may hold open, and removing it would let a second writer in."""
    found = (p.relative_to(data) for p in data.rglob("*") if instance in p.name)
    return [str(p) for p in found if p != Path("locks", instance)]


def test_deleting_an_instance_leaves_nothing_of_it(tmp_path, photos):
    data = tmp_path / "data"
    with opened(data) as (components, admin):
        admin.create_instance("shop", qps={"search": 100})
        admin.create_instance("kept")
        for name in ("coffee", "rocket"):
            add(components, "shop", name, photos[name])
        add(components, "kept", "coffee", photos["coffee"])
        components.service.admit("shop", "search")
        dump = wait(components, components.jobs.dump("shop"))
        assert (data / "jobs" / str(dump.id)).exists()
        assert files_of(data, "shop") and admin.describe_instance("shop").images == 2

        admin.delete_instance("shop")

        assert files_of(data, "shop") == []
        assert components.jobs.table.select(instance="shop") == []
        assert not (data / "jobs" / str(dump.id)).exists()
        with components.service.limiter._db.connection() as db:  # type: ignore[attr-defined]
            assert db.execute("SELECT name FROM buckets").fetchall() == []
        with pytest.raises(InstanceNotFound):
            components.service.get("shop", "p", "coffee")
        assert [s.instance.name for s in admin.list_instances()] == ["kept"]
        assert admin.describe_instance("kept").images == 1

        admin.create_instance("shop")  # the name again: a new, empty instance
        assert admin.describe_instance("shop").images == 0
        add(components, "shop", "chelsea", photos["chelsea"])
        assert admin.describe_instance("shop").images == 1


def test_an_instance_on_milvus_is_dropped_there(tmp_path, photos, milvus_database):
    with opened(tmp_path / "data", milvus_database) as (components, admin):
        admin.create_instance("shop")
        add(components, "shop", "coffee", photos["coffee"])
        client = MilvusClient(**MilvusAddress.parse(milvus_database).client_options())
        assert milvus_name("shop") in client.list_collections()
        admin.delete_instance("shop")
        assert milvus_name("shop") not in client.list_collections()
        client.close()
        admin.create_instance("shop")
        assert admin.describe_instance("shop").images == 0


def test_an_instance_with_a_job_that_has_not_ended_is_not_deleted(tmp_path):
    with opened(tmp_path / "data") as (components, admin):
        admin.create_instance("shop")
        job = components.jobs.table.create("increment", "shop", bucket="b", path="/")
        with pytest.raises(InstanceBusy, match=str(job.id)):
            admin.delete_instance("shop")
        assert admin.describe_instance("shop").instance.name == "shop"


def test_capacity_and_limits_change_but_not_below_what_is_held(tmp_path, photos):
    with opened(tmp_path / "data") as (components, admin):
        admin.create_instance("shop", capacity=5)
        add(components, "shop", "coffee", photos["coffee"])
        add(components, "shop", "rocket", photos["rocket"])
        with pytest.raises(BadValue, match="holds 2 images"):
            admin.update_instance("shop", capacity=1)
        status = admin.update_instance("shop", capacity=2, qps={"add": 3})
        assert (status.instance.capacity, status.instance.add_qps, status.images) == (2, 3, 2)
        with pytest.raises(OverQuota):
            add(components, "shop", "chelsea", photos["chelsea"])


def test_a_key_revoked_is_refused_by_every_reader_of_the_keys_file(tmp_path):
    data = tmp_path / "data"
    with opened(data) as (_, admin):
        admin.create_instance("shop")
        server_keys, _ = load_access_keys(data, environ={}, create=False)
        key = admin.create_key(["shop"])
        assert server_keys.get(key.access_key_id) == key
        assert [k.access_key_id for k in admin.list_keys()] == [key.access_key_id]
        admin.revoke_key(key.access_key_id)
        assert server_keys.get(key.access_key_id) is None
        with pytest.raises(KeyNotFound):
            admin.revoke_key(key.access_key_id)
        with pytest.raises(InstanceNotFound):
            admin.create_key(["no-such-instance"])


# -- the instance types -------------------------------------------------------------------------------------


def test_every_type_but_product_files_images_under_other_whatever_is_sent(tmp_path, photos):
    with opened(tmp_path / "data") as (components, admin):
        for type in ("generic", "copyright", "furniture", "hardware"):
            admin.create_instance(type, type)
            add(components, type, "coffee", photos["coffee"], category_id=3)
            record = components.service.get(type, "p", "coffee")
            assert record is not None and record.category_id == 88888888
            options = SearchOptions(category_id=12345)  # not even a category: the type does not look
            result = components.service.search_by_pic(type, Picture(photos["coffee"]), options)
            assert result.pic_info.category_id == 88888888
            assert list(result.pic_info.categories) == [88888888]


def test_cloth_and_fabric_describe_the_whole_picture_whatever_crop_and_region_say(tmp_path):
    big = jpeg(photo_image("chelsea").resize((600, 460)))
    with opened(tmp_path / "data") as (components, admin):
        for type in ("cloth", "fabric"):
            admin.create_instance(type, type)
            asked = Picture(big, crop=True, region=Box(10, 200, 10, 200))
            result = components.service.search_by_pic(type, asked, SearchOptions())
            assert result.pic_info.region == Box(0, 600, 0, 460)


@pytest.mark.parametrize(("type", "side"), [("trademark", 200), ("fabric", 448)])
def test_the_smallest_picture_side_of_a_type(tmp_path, type, side):
    with opened(tmp_path / "data") as (components, admin):
        admin.create_instance(type, type)
        small = jpeg(photo_image("coffee").resize((side + 20, side - 1)))
        with pytest.raises(BadPicture, match=f"between {side} and") as info:
            add(components, type, "small", small)
        assert info.value.detail == "pixels"
        add(components, type, "fits", jpeg(photo_image("coffee").resize((side, side))))


# -- thumbnails --------------------------------------------------------------------------------------------


def test_each_picture_added_keeps_a_small_jpeg_that_goes_with_its_image(tmp_path, photos):
    with opened(tmp_path / "data") as (components, admin):
        admin.create_instance("shop")
        admin.create_instance("plain", thumbnails=False)
        service, keys = components.service, [ImageKey("p", name) for name in photos]
        for name, picture in photos.items():
            add(components, "shop", name, picture)
            add(components, "plain", name, picture)
        kept = service.thumbnails("shop", keys)
        assert set(kept) == set(keys)
        for key, data in kept.items():
            small = Image.open(io.BytesIO(data))
            original = Image.open(io.BytesIO(photos[key.pic_name]))
            assert small.format == "JPEG" and len(data) <= 16 * 1024
            assert max(small.size) == 256
            assert abs(small.width / small.height - original.width / original.height) < 0.02
        assert service.thumbnails("plain", keys) == {}

        service.delete("shop", "p", "coffee")
        assert ImageKey("p", "coffee") not in service.thumbnails("shop", keys)
        service.delete_by_filter("shop", Compare("product_id", "=", "p"))
        assert service.thumbnails("shop", keys) == {}

        add(components, "shop", "rocket", photos["rocket"])
        assert list(service.thumbnails("shop", keys)) == [ImageKey("p", "rocket")]
        admin.update_instance("shop", thumbnails=False)
        add(components, "shop", "rocket", photos["rocket"])  # a new picture: the old one's copy goes
        assert service.thumbnails("shop", keys) == {}
