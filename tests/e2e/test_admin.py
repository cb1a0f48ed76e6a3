"""Staff in the admin: bulk upload, previews, a file lost on disk, the verify action."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from uploads.models import Image

from .conftest import PASSWORD
from .scenery import SCENES
from .support import admin_sign_in, broken_images

pytestmark = pytest.mark.e2e

VERIFY = "Verify files and remove entries whose file is missing"


def test_bulk_upload_previews_and_verify_files_removes_the_entry_whose_file_is_gone(
    page, staff, scene_files, screenshots
):
    admin_sign_in(page, staff.username, PASSWORD)
    page.goto("/admin/uploads/image/")

    page.get_by_role("link", name="Bulk upload").click()
    page.get_by_label("Images").set_input_files(scene_files[:3])
    page.get_by_role("button", name="Upload").click()

    expect(page.locator(".messagelist")).to_have_text("Stored 3 of 3 files.")
    expect(page.locator("#bulk-results tbody tr")).to_have_count(3)
    page.locator(".breadcrumbs").get_by_role("link", name="Images").click()
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(3)
    for scene in SCENES[:3]:
        expect(
            page.locator("#result_list .field-preview").get_by_role("img", name=scene.title)
        ).to_be_visible()
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
    expect(page.get_by_role("img", name=SCENES[1].title)).to_have_count(0)
    assert broken_images(page) == []
    assert not Image.objects.filter(pk=lost.pk).exists()


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
