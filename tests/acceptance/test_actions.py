"""The 2020-12-14 actions beyond add, search and delete, through the official SDK in both signature modes."""

from __future__ import annotations

import time

import pytest
from alibabacloud_imagesearch20201214 import models
from alibabacloud_tea_openapi.exceptions import ServerException

from tests.acceptance.conftest import create_instance
from tests.acceptance.sdk import add, b64, found, search_pic
from tests.conftest import jpeg, photo_image


def update(client, instance, product_id, pic_name, **fields):
    request = models.UpdateImageRequest(
        instance_name=instance, product_id=product_id, pic_name=pic_name, **fields
    )
    return client.update_image(request).body


def check(client, instance, product_id, pic_name):
    request = models.CheckImageExistsRequest(instance_name=instance, product_id=product_id, pic_name=pic_name)
    return client.check_image_exists(request).body


def by_filter(client, instance, filter, **options):
    request = models.SearchImageByFilterRequest(instance_name=instance, filter=filter, **options)
    return client.search_image_by_filter(request).body


def compare(client, instance, primary: bytes, secondary: bytes):
    request = models.CompareSimilarByImageRequest(
        instance_name=instance, primary_pic_content=b64(primary), secondary_pic_content=b64(secondary)
    )
    return client.compare_similar_by_image(request).body


def test_update_changes_attributes_and_keeps_the_picture(client, instance, photos):
    add(
        client,
        instance,
        "p1",
        "a.jpg",
        photos["coffee"],
        int_attr=1,
        int_attr_3=3,
        str_attr="old",
        custom_content="c",
    )
    body = update(
        client, instance, "p1", "a.jpg", int_attr=10, int_attr_3=30, str_attr_4="s4", custom_content="new"
    )
    assert (body.success, body.code, body.message) == (True, 0, "success")
    (hit,) = search_pic(client, instance, photos["coffee"]).auctions
    assert hit.score == pytest.approx(1.0, abs=1e-4)  # the stored vector is untouched
    assert (hit.int_attr, hit.int_attr_3, hit.str_attr, hit.str_attr_4) == (10, 30, "old", "s4")
    assert hit.custom_content == "new"
    # IntAttr3/4 and StrAttr3/4 travel in the query string; the filter sees the new values
    assert found(search_pic(client, instance, photos["coffee"], filter="int_attr3=30 AND int_attr=10")) == [
        ("p1", "a.jpg")
    ]
    update(client, instance, "p1", "a.jpg", str_attr="")  # an empty string is a value, not "unchanged"
    assert search_pic(client, instance, photos["coffee"]).auctions[0].str_attr == ""


def test_check_image_exists_answers_the_stored_attributes(client, instance, photos):
    add(
        client,
        instance,
        "p1",
        "a.jpg",
        photos["rocket"],
        category_id=22,
        int_attr_2=-5,
        str_attr_3="中文",
        custom_content="cc",
    )
    body = check(client, instance, "p1", "a.jpg")
    assert (body.success, body.exists) == (True, True)
    stored = body.auctions  # a single object, as the SDK model says
    assert (stored.product_id, stored.pic_name, stored.category_id) == ("p1", "a.jpg", 22)
    assert (stored.int_attr_2, stored.str_attr_3, stored.custom_content) == (-5, "中文", "cc")
    missing = check(client, instance, "p1", "b.jpg")
    assert (missing.success, missing.exists, missing.auctions) == (True, False, None)


def test_compare_gives_one_for_the_same_picture_and_less_for_another(client, instance, photos):
    same = compare(client, instance, photos["chelsea"], photos["chelsea"])
    assert (same.success, same.code) == (True, 0)
    assert same.score == pytest.approx(1.0, abs=1e-4)
    smaller = jpeg(photo_image("chelsea").resize((300, 200)), quality=60)
    near = compare(client, instance, photos["chelsea"], smaller).score
    far = compare(client, instance, photos["chelsea"], photos["rocket"]).score
    assert 0.0 <= far < near < 1.0


def test_search_by_filter_pages_through_the_matching_images(client, instance, photos):
    for i, name in enumerate(("coffee", "rocket", "chelsea", "astronaut")):
        add(
            client,
            instance,
            f"p{i}",
            f"{name}.jpg",
            photos[name],
            int_attr=i,
            str_attr="even" if i % 2 == 0 else "odd",
        )
    body = by_filter(client, instance, 'str_attr="even"')
    assert (body.success, body.code) == (True, 0)
    assert sorted(found(body)) == [("p0", "coffee.jpg"), ("p2", "chelsea.jpg")]
    assert {a.int_attr for a in body.auctions} == {0, 2}
    everything = found(by_filter(client, instance, "int_attr>=0", num=10))
    pages = [found(by_filter(client, instance, "int_attr>=0", num=3, start=s)) for s in (0, 3)]
    assert pages[0] + pages[1] == everything and len(everything) == 4


def test_search_by_text_says_which_models_can_serve_it(client, instance):
    request = models.SearchImageByTextRequest(instance_name=instance, text="a red dress")
    with pytest.raises(ServerException) as info:
        client.search_image_by_text(request)
    assert (info.value.code, info.value.status_code) == ("UnsupportedOperationType", 500)
    assert "--text-model" in info.value.data["Message"]


def test_detail_describes_the_instance(client, server, photos):
    before = int(time.time() * 1000)
    generic = create_instance(
        server.data_dir, "--type", "generic", "--capacity", "25000", "--search-qps", "7"
    )
    add(client, generic, "p1", "a.jpg", photos["coffee"])
    add(client, generic, "p2", "b.jpg", photos["rocket"])
    body = client.detail(models.DetailRequest(instance_name=generic)).body
    assert body.success is True
    info = body.instance
    assert (info.name, info.region, info.service_type, info.total_count) == (generic, "cn-shanghai", 1, 2)
    assert (info.capacity, info.qps) == (3, 7)  # Capacity counts 10,000s of images, rounded up
    assert before - 5000 <= int(info.utc_create) <= int(time.time() * 1000)
    assert int(info.utc_expire_time) > int(info.utc_create)
    product = create_instance(server.data_dir)
    assert client.detail(models.DetailRequest(instance_name=product)).body.instance.service_type == 0
