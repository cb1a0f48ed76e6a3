"""axe-core on the public page (no violations allowed) and on the admin (ours must be clean)."""

from __future__ import annotations

import pytest

from .conftest import PASSWORD
from .support import admin_sign_in, axe_violations, sign_in

pytestmark = pytest.mark.e2e

# What our admin customisations put on Django's pages; everything else there is Django's.
OURS_IN_THE_CHANGELIST = ", ".join(
    [
        ".object-tools a[href$='/bulk-upload/']",  # templates/admin/uploads/image/change_list.html
        ".object-tools a[href$='/delete-all/']",
        ".object-tools a[href='/']",
        ".field-preview",  # uploads/admin/listing.py: image_preview()
        ".field-dimensions",
        ".field-size",
    ]
)
OURS_IN_BULK_UPLOAD = "#content-main"  # templates/admin/uploads/image/bulk_upload.html


def test_empty_public_page_has_no_violations(page, axe_source):
    page.goto("/")

    assert [str(v) for v in axe_violations(page, axe_source)] == []


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
def test_public_page_with_three_images_has_no_violations(
    open_page, three_on_the_shelf, axe_source, color_scheme
):
    page = open_page(color_scheme=color_scheme)

    page.goto("/")

    assert [str(v) for v in axe_violations(page, axe_source)] == []


def test_staff_view_with_the_form_and_delete_all_open_has_no_violations(
    page, staff, three_on_the_shelf, axe_source
):
    page.goto("/")
    sign_in(page, staff.username, PASSWORD)
    page.get_by_text("Delete all images…").click()

    assert [str(v) for v in axe_violations(page, axe_source)] == []


def split_ours(page, violations, ours: str):
    """Violations on elements our templates or admin code produce, and the rest (Django's)."""
    mine, theirs = [], []
    for violation in violations:
        for target, html in zip(violation.targets, violation.html, strict=True):
            inside_ours = page.evaluate(
                "([target, ours]) => !!document.querySelector(target)?.closest(ours)",
                [target, ours],
            )
            line = f"{violation.rule} ({violation.impact}): {violation.help} — {target}: {html}"
            (mine if inside_ours else theirs).append(line)
    return mine, theirs


@pytest.mark.parametrize(
    ("path", "ours"),
    [
        pytest.param("/admin/uploads/image/", OURS_IN_THE_CHANGELIST, id="changelist"),
        pytest.param("/admin/uploads/image/bulk-upload/", OURS_IN_BULK_UPLOAD, id="bulk-upload"),
    ],
)
def test_admin_pages_have_no_violations_of_our_making(
    page, staff, three_on_the_shelf, axe_source, record_finding, path, ours
):
    admin_sign_in(page, staff.username, PASSWORD)
    page.goto(path)

    mine, theirs = split_ours(page, axe_violations(page, axe_source), ours)

    for line in theirs:
        record_finding(f"axe: violations in Django's admin on {path} (not failed)", line)
    assert mine == []
