"""PUBLIC_UPLOADS=moderated in the browser: a visitor's upload waits, staff approve it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import PASSWORD
from .scenery import SCENES
from .support import admin_sign_in, axe_violations, shelf_titles
from .test_accessibility import split_ours

pytestmark = pytest.mark.e2e

APPROVE = "Approve: put on the shelf as the newest"


def test_a_visitor_upload_waits_until_staff_approve_it(
    open_page, settings, staff, three_on_the_shelf, scene_files, axe_source, record_finding
):
    settings.PUBLIC_UPLOADS = "moderated"
    newcomer = SCENES[3]
    on_the_shelf = [scene.title for scene in reversed(SCENES[:3])]
    visitor = open_page()
    visitor.goto("/")

    visitor.get_by_label("Title (optional)").fill(newcomer.title)
    visitor.get_by_label("Image", exact=True).set_input_files(scene_files[3])
    visitor.get_by_role("button", name="Upload").click()

    expect(visitor.get_by_role("status")).to_have_text(
        f"Thank you: “{newcomer.title}” will appear once staff approve it."
    )
    assert shelf_titles(visitor) == on_the_shelf

    curator = open_page()
    admin_sign_in(curator, staff.username, PASSWORD)
    curator.goto("/admin/uploads/image/")
    expect(curator.locator(".pending-note")).to_contain_text("1 upload waits for approval.")
    first_row = curator.locator("#result_list tbody tr").first
    expect(first_row.locator(".field-status")).to_have_text("Pending")
    mine, theirs = split_ours(
        curator, axe_violations(curator, axe_source), ".pending-note, .field-status"
    )
    for line in theirs:
        record_finding("axe: violations in Django's admin (not failed)", line)
    assert mine == []

    first_row.locator("input.action-select").check()
    curator.get_by_role("combobox", name=re.compile("^Action")).select_option(label=APPROVE)
    curator.get_by_role("button", name="Go").click()

    expect(curator.locator(".messagelist")).to_have_text(
        "Approved 1 image(s): they joined the shelf as its newest."
    )
    visitor.reload()
    assert shelf_titles(visitor) == [newcomer.title, *on_the_shelf[:2]]
