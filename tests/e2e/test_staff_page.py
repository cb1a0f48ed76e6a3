"""Staff on the public page: sign in, upload, a refused file, delete all."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from uploads.models import Image
from uploads.tests.factories import TEXT

from .conftest import PASSWORD
from .scenery import SCENES
from .support import broken_images, shelf_titles, sign_in

pytestmark = pytest.mark.e2e

NOT_AN_IMAGE = "This file is not an image we accept"


def test_staff_upload_four_images_and_the_page_shows_the_newest_three(
    page, staff, scene_files, files
):
    page.goto("/")
    sign_in(page, staff.username, PASSWORD)
    expect(page).to_have_url(re.compile(r"/$"))

    for scene, path in zip(SCENES[:4], scene_files[:4], strict=True):
        page.get_by_label("Title (optional)").fill(scene.title)
        page.get_by_label("Image", exact=True).set_input_files(path)
        page.get_by_role("button", name="Upload").click()
        expect(page.get_by_role("status")).to_have_text(f"Added “{scene.title}” to the shelf.")

    newest_first = [scene.title for scene in reversed(SCENES[1:4])]
    expect(page.locator("main figure figcaption .shelf__title")).to_have_text(newest_first)
    assert broken_images(page) == []
    assert len(files()) == 3 * 7  # three images, each with six thumbnails


def test_each_thumbnail_opens_its_full_image(page, staff, three_on_the_shelf):
    page.goto("/")
    sign_in(page, staff.username, PASSWORD)

    for image in three_on_the_shelf:
        page.get_by_role("link", name=image.title).click()

        expect(page).to_have_url(re.compile(rf"/media/{re.escape(image.file.name)}$"))
        page.wait_for_function("() => document.images.length === 1 && document.images[0].complete")
        size = page.evaluate(
            "() => [document.images[0].naturalWidth, document.images[0].naturalHeight]"
        )
        assert size == [image.width, image.height]
        page.go_back()


@pytest.mark.parametrize(
    "viewport",
    [{"width": 390, "height": 844}, {"width": 1440, "height": 900}],
    ids=["phone", "desktop"],
)
def test_a_refused_file_is_announced_where_the_person_is_looking(
    open_page, staff, shelve, tmp_path, files, viewport
):
    shelve(SCENES[:3])  # a full shelf: on a phone the form is screens below the top
    notes = tmp_path / "holiday.jpg"
    notes.write_bytes(TEXT)
    page = open_page(viewport=viewport)
    page.goto("/")
    sign_in(page, staff.username, PASSWORD)
    shelf_before, files_before = shelf_titles(page), files()
    # The refusal is an HTTP 400, which Chromium also logs for the document.
    page.guard.expect_console_error(r"status of 400 \(Bad Request\) \[http://[^/]+/images/\]$")

    page.get_by_label("Image", exact=True).set_input_files(notes)
    page.get_by_role("button", name="Upload").click()

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text(NOT_AN_IMAGE)
    expect(alert).to_be_focused()
    box = alert.bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"]
    file_input = page.get_by_label("Image", exact=True)
    expect(file_input).to_have_attribute("aria-invalid", "true")
    expect(file_input).to_have_accessible_description(re.compile(re.escape(NOT_AN_IMAGE)))
    assert shelf_titles(page) == shelf_before
    assert broken_images(page) == []
    assert files() == files_before
    assert Image.objects.count() == 3


def test_delete_all_after_confirming_brings_back_the_empty_state(
    page, staff, three_on_the_shelf, files
):
    page.goto("/")
    sign_in(page, staff.username, PASSWORD)
    expect(page.locator("main figure")).to_have_count(3)
    confirm = page.get_by_role("button", name="Yes, delete all images")
    expect(confirm).to_be_hidden()

    page.get_by_text("Delete all images…").click()
    expect(confirm).to_be_visible()
    confirm.click()

    expect(page.get_by_role("status")).to_have_text("Deleted 3 images.")
    expect(page.get_by_text("The shelf is empty.")).to_be_visible()
    expect(page.locator("main figure")).to_have_count(0)
    expect(page.get_by_text("Delete all images…")).to_have_count(0)
    assert files() == []
