"""The admin's own pages in a real browser: the import preview and the image list on a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from uploads.shelf import services
from uploads.tests.factories import upload_file

from .conftest import PASSWORD
from .scenery import SCENES, landscape
from .support import admin_sign_in, broken_images, has_horizontal_scroll

pytestmark = pytest.mark.e2e

# A phone's width, drawn at its pixel density so the screenshot stays sharp.
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2}
BACKGROUND = "element => getComputedStyle(element).backgroundColor"
# Django's admin lets a wide table scroll inside its box, where the columns past the edge
# are cut off although the page itself does not scroll: measure the box, and each cell.
BOX_FITS = "selector => { const box = document.querySelector(selector); "
BOX_FITS += "return box.scrollWidth <= box.clientWidth; }"
COLUMNS = """() => [...document.querySelectorAll("#result_list thead th[class*=column-]")]
    .map((th) => th.className.match(/column-(\\S+)/)[1])"""
CELLS_INSIDE = """selector => [...document.querySelectorAll(selector)]
    .filter((cell) => cell.offsetParent !== null)
    .every((cell) => cell.getBoundingClientRect().right <= window.innerWidth)"""


def test_the_import_preview_shows_the_title_changes_without_console_errors_and_fits(
    page, staff, three_on_the_shelf, tmp_path, screenshots
):
    first, second, _ = three_on_the_shelf
    changes = tmp_path / "titles.csv"
    changes.write_text(
        "id,title,file,sha256\n"
        f"{first.pk},Dawn at the fjord,images/ignored.jpg,{'f' * 64}\n"
        f"{second.pk},{second.title},images/ignored.jpg,{'e' * 64}\n"
    )
    admin_sign_in(page, staff.username, PASSWORD)
    page.goto("/admin/uploads/image/import/")
    expect(page.get_by_text("Imports change titles only")).to_be_visible()

    page.get_by_label("File to import").set_input_files(changes)
    page.get_by_label("Format").select_option(label="csv")
    page.get_by_role("button", name="Submit").click()

    preview = page.locator("table.import-preview")
    expect(preview.locator("thead th")).to_have_text(["", "id", "title"])
    expect(preview.locator("tr.update")).to_have_count(1)
    expect(preview.locator("tr.update del")).to_have_text("over")
    expect(preview.locator("tr.update ins")).to_have_text("at")
    # The diff's colours come from our stylesheet, not from inline styles the CSP blocks
    # (which the browser would report as console errors: the page fixture fails on those).
    for change in ("del", "ins"):
        colour = preview.locator(f"tr.update {change}").evaluate(BACKGROUND)
        assert colour not in ("rgba(0, 0, 0, 0)", "transparent"), change
    assert not has_horizontal_scroll(page)
    screenshots.save(page, "admin-import-preview")


@pytest.fixture
def a_visitor_waits(three_on_the_shelf):
    """The widest list: three images and one waiting for approval (a status column)."""
    return services.image_ingest(
        upload_file(landscape(SCENES[3]), SCENES[3].filename), title=SCENES[3].title, pending=True
    )


def test_the_image_list_fits_a_desktop_window_with_every_column(
    page, staff, three_on_the_shelf, a_visitor_waits
):
    admin_sign_in(page, staff.username, PASSWORD)

    page.goto("/admin/uploads/image/")

    expect(page.locator("#result_list tbody tr")).to_have_count(4)
    assert page.evaluate(COLUMNS) == [
        "preview", "title", "dimensions", "size", "format", "uploaded_by", "uploaded_at",
        "file_status", "status",
    ]  # fmt: skip
    assert page.evaluate(BOX_FITS, "#changelist .results")
    assert page.evaluate(CELLS_INSIDE, "#result_list tr > *")
    title, tools = (page.locator(sel).bounding_box() for sel in ("#content h1", ".object-tools"))
    assert tools["y"] >= title["y"] + title["height"]  # the buttons do not cover the title


def test_the_image_list_on_a_phone_shows_what_matters_without_horizontal_scrolling(
    open_page, staff, three_on_the_shelf, a_visitor_waits, screenshots
):
    page = open_page(**PHONE)
    admin_sign_in(page, staff.username, PASSWORD)

    page.goto("/admin/uploads/image/")

    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(4)
    for image in three_on_the_shelf:
        expect(rows.locator(".field-title").get_by_role("link", name=image.title)).to_be_visible()
        expect(
            rows.locator(".field-preview").get_by_role("img", name="Not yet described").first
        ).to_be_visible()
    expect(rows.locator(".field-file_status img[alt=True]")).to_have_count(4)
    expect(rows.locator(".field-status").first).to_have_text("Pending")
    expect(page.get_by_role("link", name="Bulk upload")).to_be_visible()
    assert broken_images(page) == []
    assert not has_horizontal_scroll(page)
    assert page.evaluate(BOX_FITS, "#changelist .results")
    assert page.evaluate(CELLS_INSIDE, "#result_list tr > *")
    screenshots.save(page, "admin-changelist-mobile")
