"""The console in a real headless Chromium against a real server: sign in, create an instance, add pictures,
search, the boxes drawn where PicInfo says, a click on a box and a box drawn by hand searched as Region, then
delete it all; at desktop and at phone width. Screenshots are kept in pytest's output folder."""

from __future__ import annotations

import json

import pytest

from lookalike.client import Client
from tests.acceptance.sdk import add, make_client
from tests.acceptance.server import ACCESS_KEY_ID, ACCESS_KEY_SECRET
from tests.conftest import jpeg, photo_image, place

PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def pictures(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pictures")
    for name in ("coffee", "rocket", "chelsea", "astronaut"):
        (folder / f"{name}.jpg").write_bytes(jpeg(photo_image(name)))
    # A shopper's photo: a cup of coffee lying on gravel, where the subject finder has a box to draw.
    scene, _ = place(photo_image("gravel").resize((800, 600)), photo_image("coffee"), (250, 150), 360)
    (folder / "scene.jpg").write_bytes(jpeg(scene))
    return folder


@pytest.fixture(scope="module")
def page(browser, server):
    page = browser.new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # the confirmations of a delete
    page.goto(f"http://{server.endpoint}/")
    page.wait_for_url("**/console/")
    page.fill("input[name=id]", ACCESS_KEY_ID)
    page.fill("input[name=secret]", ACCESS_KEY_SECRET)
    page.click("button[type=submit]")
    page.wait_for_selector("h1:has-text('Instances')")
    yield page
    page.close()


def searched(page, action):
    """Do `action` and return the SearchImageByPic answer it caused."""
    with page.expect_response(lambda r: r.request.headers.get("x-acs-action") == "SearchImageByPic") as info:
        action()
    response = info.value
    assert response.ok, response.text()
    return response.json()


def box_on_screen(page, region: str) -> dict:
    """Where a box of the photo is drawn, in the photo's original pixels."""
    return page.evaluate(
        """(region) => {
            const photo = document.querySelector('.stage img');
            const box = document.querySelector(`.box[data-region="${region}"]`);
            const p = photo.getBoundingClientRect(), b = box.getBoundingClientRect();
            const s = photo.naturalWidth / p.width;
            return {x1: (b.left - p.left) * s, x2: (b.right - p.left) * s, y1: (b.top - p.top) * s,
                    y2: (b.bottom - p.top) * s};
        }""",
        region,
    )


def test_the_whole_life_of_an_instance_in_the_console(page, pictures, screenshots):
    page.fill("input[name=InstanceName]", "shop")
    page.click("form:has(h2:has-text('New instance')) button[type=submit]")
    page.wait_for_selector("h1:has-text('shop: images')")

    page.click("nav a:has-text('Add')")
    files = [pictures / f"{name}.jpg" for name in ("coffee", "rocket", "chelsea", "astronaut")]
    page.set_input_files("input[type=file]", files)
    page.click("button:has-text('Add')")
    page.wait_for_selector("#message:has-text('Added 4 of 4 pictures')")

    page.click("nav a:has-text('Images')")
    page.wait_for_selector("figure.image img")
    assert page.locator("figure.image").count() == 4
    assert page.locator("figure.image img").count() == 4  # every one with its thumbnail
    page.screenshot(path=screenshots / "images.png")

    page.click("nav a:has-text('Search')")
    answer = searched(page, lambda: page.set_input_files("input[name=picture]", pictures / "scene.jpg"))
    page.wait_for_selector("figure.image img")
    assert answer["Auctions"][0]["PicName"] == "coffee.jpg"
    info = answer["PicInfo"]
    regions = [info["Region"], *(m["Region"] for m in info["MultiRegion"] if m["Region"] != info["Region"])]
    assert page.locator(".box").count() == len(regions)
    for text in regions:  # each box sits where PicInfo says, within a pixel of the photo as shown
        x1, x2, y1, y2 = map(int, text.split(","))
        drawn = box_on_screen(page, text)
        for key, value in {"x1": x1, "x2": x2, "y1": y1, "y2": y2}.items():
            assert abs(drawn[key] - value) <= 2.5, (key, drawn, text)
    assert page.locator(".box.chosen").get_attribute("data-region") == info["Region"]
    page.screenshot(path=screenshots / "search.png")

    clicked = regions[-1]
    again = searched(page, lambda: page.click(f'.box[data-region="{clicked}"]'))
    assert again["PicInfo"]["Region"] == clicked

    photo = page.locator(".stage img").bounding_box()
    scale = photo["width"] / page.evaluate("document.querySelector('.stage img').naturalWidth")

    def draw() -> None:
        page.mouse.move(photo["x"] + 100 * scale, photo["y"] + 80 * scale)
        page.mouse.down()
        page.mouse.move(photo["x"] + 300 * scale, photo["y"] + 200 * scale, steps=5)
        page.mouse.move(photo["x"] + 500 * scale, photo["y"] + 400 * scale, steps=5)
        page.mouse.up()

    drawn = searched(page, draw)
    x1, x2, y1, y2 = map(int, drawn["PicInfo"]["Region"].split(","))
    assert max(abs(x1 - 100), abs(x2 - 500), abs(y1 - 80), abs(y2 - 400)) <= 3, drawn["PicInfo"]["Region"]

    # A box drawn from inside one already shown (the subjects cover much of a photo) is drawn, not a click.
    chosen = page.locator(".box.chosen").bounding_box()
    x, y = chosen["x"] + chosen["width"] / 2, chosen["y"] + chosen["height"] / 2

    def draw_from_a_box() -> None:
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x + 60, y + 40, steps=5)
        page.mouse.up()

    over = searched(page, draw_from_a_box)
    x1, x2, y1, y2 = map(int, over["PicInfo"]["Region"].split(","))
    assert abs((x2 - x1) * scale - 60) <= 3 and abs((y2 - y1) * scale - 40) <= 3, over["PicInfo"]["Region"]

    # A box is a button: Enter on it searches it too.
    page.locator(".box.chosen").focus()
    focused = page.evaluate("document.activeElement.dataset.region")
    assert focused == over["PicInfo"]["Region"]
    by_key = searched(page, lambda: page.keyboard.press("Enter"))
    assert by_key["PicInfo"]["Region"] == focused

    page.set_viewport_size(PHONE)
    page.screenshot(path=screenshots / "search-phone.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.set_viewport_size({"width": 1280, "height": 900})

    page.click("nav a:has-text('Instances')")
    row = page.locator("tr[data-instance=shop]")
    assert row.locator("td").nth(2).inner_text() == "4"
    row.locator("button:has-text('Delete')").click()
    page.wait_for_selector("#message:has-text('Deleted shop')")
    assert page.locator("tr[data-instance=shop]").count() == 0


def test_keys_are_made_and_revoked_in_the_console(page):
    page.click("nav a:has-text('Keys')")
    page.wait_for_selector("h1:has-text('Access keys')")
    page.click("button:has-text('Create')")
    secret = page.wait_for_selector(".secret")
    key_id = secret.query_selector("code").inner_text()
    row = page.locator(f"tr:has(code:text-is('{key_id}'))")
    row.locator("button:has-text('Revoke')").click()
    page.wait_for_selector(f"#message:has-text('Revoked {key_id}')")
    assert page.locator(f"tr:has(code:text-is('{key_id}'))").count() == 0


def test_an_export_of_the_metadata_is_started_and_its_link_given(page, server, photos):
    admin = Client(f"http://{server.endpoint}", ACCESS_KEY_ID, ACCESS_KEY_SECRET)
    admin.call("LookalikeCreateInstance", InstanceName="dumped")
    add(make_client(server.endpoint), "dumped", "p", "a.jpg", photos["coffee"])
    page.goto(f"http://{server.endpoint}/console/#/jobs/dumped")
    page.click("button:has-text('Export the metadata')")
    link = page.wait_for_selector("a:has-text('meta')")
    exported = page.request.get(link.get_attribute("href"))
    assert exported.ok and [json.loads(line)["PicName"] for line in exported.text().splitlines()] == ["a.jpg"]
    admin.call("LookalikeDeleteInstance", InstanceName="dumped")
