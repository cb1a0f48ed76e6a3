"""Staff in the admin: bulk upload, previews, a file lost on disk, the verify action."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from uploads.models import Image

from .conftest import PASSWORD
from .scenery import SCENES
from .support import admin_sign_in, broken_images, has_horizontal_scroll

pytestmark = pytest.mark.e2e

VERIFY = "Verify files and remove entries whose file is missing"
PHONE_NAME = "PXL_20261207_080000123_PORTRAIT_ORIGINAL_HDR.jpg"
DESCRIBED = "Morning light on a still lake, pine trees along the far shore"


def test_bulk_upload_previews_and_verify_files_removes_the_entry_whose_file_is_gone(
    page, staff, scene_files, screenshots
):
    admin_sign_in(page, staff.username, PASSWORD)
    page.goto("/admin/uploads/image/")

    page.get_by_role("link", name="Bulk upload").click()
    page.get_by_label("Images").set_input_files(scene_files[:3])
    page.get_by_role("button", name="Upload").click()

    expect(page.locator("#bulk-results-area").get_by_role("status")).to_have_text(
        "Stored 3 of 3 files."
    )
    expect(page.locator("#bulk-results tbody tr")).to_have_count(3)
    page.locator(".breadcrumbs").get_by_role("link", name="Images").click()
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(3)
    previews = page.locator("#result_list .field-preview")
    expect(previews.get_by_role("img", name="Not yet described")).to_have_count(3)
    for scene in SCENES[:3]:
        expect(page.get_by_role("link", name=scene.title, exact=True)).to_be_visible()
    expect(page.locator("#result_list .field-file_status img[alt=True]")).to_have_count(3)
    assert broken_images(page) == []
    screenshots.save(page, "admin-changelist")

    lost = Image.objects.get(title=SCENES[1].title)
    Path(lost.file.path).unlink()
    page.reload()
    expect(page.locator("#result_list .field-file_status img[alt=False]")).to_have_count(1)
    expect(
        page.locator("#result_list .field-preview").get_by_role("img", name="File missing")
    ).to_be_visible()

    page.locator("#action-toggle").check()
    page.get_by_role("combobox", name=re.compile("^Action")).select_option(label=VERIFY)
    page.get_by_role("button", name="Go").click()

    expect(page.locator(".messagelist")).to_have_text(
        f"Removed 1 of 3 entries whose file was missing: {lost.file.name}"
    )
    expect(rows).to_have_count(2)
    expect(page.get_by_role("link", name=SCENES[1].title, exact=True)).to_have_count(0)
    assert broken_images(page) == []
    assert not Image.objects.filter(pk=lost.pk).exists()


def test_bulk_upload_of_five_files_shows_a_progress_bar_and_a_result_for_each(
    page, staff, scene_files
):
    admin_sign_in(page, staff.username, PASSWORD)
    page.goto("/admin/uploads/image/bulk-upload/")
    posts = []
    page.on("request", lambda request: request.method == "POST" and posts.append(request.url))

    page.get_by_label("Images").set_input_files(scene_files)
    page.get_by_role("button", name="Upload").click()

    area = page.locator("#bulk-results-area")
    expect(area.get_by_role("status")).to_have_text("Stored 5 of 5 files.")
    rows = page.locator("#bulk-results tbody tr")
    expect(rows).to_have_count(5)
    for index, scene in enumerate(SCENES):
        row = rows.nth(index)
        progress = row.get_by_role("progressbar", name=f"Upload of {scene.filename}")
        assert progress.evaluate("bar => bar.value > 0 && bar.value === bar.max")
        if index < 2:  # pushed off the shelf (IMAGE_LIMIT 3) by the later files: no link
            expect(row).to_contain_text(
                f"Stored as “{scene.title}”, then replaced by a newer image"
            )
            expect(row.get_by_role("link")).to_have_count(0)
        else:
            expect(row.get_by_role("link", name=scene.title)).to_be_visible()
    assert len(posts) == 5  # one request per file
    assert sorted(Image.objects.values_list("title", flat=True)) == sorted(
        scene.title for scene in SCENES[2:]
    )
    row = rows.nth(4)
    row.get_by_role("link", name=SCENES[4].title).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Change image")


def test_without_javascript_bulk_upload_sends_the_files_at_once(open_page, staff, scene_files):
    page = open_page(java_script_enabled=False)
    admin_sign_in(page, staff.username, PASSWORD)
    page.goto("/admin/uploads/image/bulk-upload/")

    page.get_by_label("Images").set_input_files(scene_files[:2])
    page.get_by_role("button", name="Upload").click()

    expect(page.locator(".messagelist")).to_have_text("Stored 2 of 2 files.")
    expect(page.locator("#bulk-results tbody tr")).to_have_count(2)
    expect(page.locator("#bulk-results progress")).to_have_count(0)


@pytest.mark.parametrize(
    ("path", "heading"),
    [
        pytest.param("/admin/uploads/image/add/", "Add image", id="add"),
        pytest.param("/admin/uploads/image/{pk}/change/", "Change image", id="change"),
        pytest.param("/admin/uploads/image/import/", "Import", id="import"),
        pytest.param("/admin/uploads/image/export/", "Export", id="export"),
    ],
)
def test_other_admin_pages_render_cleanly(page, staff, three_on_the_shelf, path, heading):
    admin_sign_in(page, staff.username, PASSWORD)

    page.goto(path.format(pk=three_on_the_shelf[0].pk))

    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    assert broken_images(page) == []


def test_bulk_upload_on_a_phone_takes_a_description_per_file_and_fits(
    open_page, staff, scene_files, screenshots
):
    # A phone camera's name: one long word, which must not widen the page.
    files = [*scene_files[:4], scene_files[4].rename(scene_files[4].with_name(PHONE_NAME))]
    page = open_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    admin_sign_in(page, staff.username, PASSWORD)
    page.goto("/admin/uploads/image/bulk-upload/")

    page.get_by_label("Images").set_input_files(files)
    page.get_by_label(f"Description of {PHONE_NAME}").fill(DESCRIBED)
    assert not has_horizontal_scroll(page)
    page.get_by_role("button", name="Upload").click()

    area = page.locator("#bulk-results-area")
    expect(area.get_by_role("status")).to_have_text("Stored 5 of 5 files.")
    expect(area.get_by_role("link", name=SCENES[3].title)).to_be_visible()
    assert not has_horizontal_scroll(page)
    screenshots.save(page, "admin-bulk-upload-mobile")
    assert sorted(Image.objects.values_list("description", flat=True)) == ["", "", DESCRIBED]
    page.goto("/")
    expect(page.locator(".shelf img")).to_have_count(3)
    alts = page.locator(".shelf img").evaluate_all("images => images.map((i) => i.alt)")
    assert alts == [DESCRIBED, "Photo 2 of 3, not yet described", "Photo 3 of 3, not yet described"]
