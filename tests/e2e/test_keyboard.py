"""Keyboard only: Tab reaches every control a staff member needs, and focus is always visible."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import PASSWORD
from .scenery import SCENES
from .support import sign_in

pytestmark = pytest.mark.e2e

# What has focus, and whether a sighted keyboard user can see it.
FOCUSED = """() => {
    const el = document.activeElement;
    const style = getComputedStyle(el);
    const label = el.labels && el.labels.length ? el.labels[0].textContent : "";
    return {
        name: (label || el.getAttribute("aria-label") || el.textContent || el.value || "")
            .trim().replace(/\\s+/g, " "),
        tag: el.tagName.toLowerCase(),
        outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0,
        shadow: style.boxShadow !== "none",
    };
}"""


def tab_through(page, until: str, limit: int = 40) -> list[dict]:
    """Press Tab from the top of the page until the element named `until` has focus."""
    stops = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        stops.append(page.evaluate(FOCUSED))
        if stops[-1]["name"] == until:
            return stops
    raise AssertionError(f"Tab never reached {until!r}; it went through {stops}")


def test_tab_reaches_the_upload_form_and_delete_all_with_visible_focus(page, staff, shelve):
    shelve(SCENES[:1])
    page.goto("/")
    sign_in(page, staff.username, PASSWORD)
    page.reload()

    stops = tab_through(page, until="Delete all images…")

    names = [stop["name"] for stop in stops]
    wanted = ["Title (optional)", "Image", "Upload", "Delete all images…"]
    positions = [names.index(name) for name in wanted]
    assert positions == sorted(positions), names
    invisible = [stop for stop in stops if not (stop["outline"] or stop["shadow"])]
    assert invisible == []
    assert stops[0]["name"] == "Skip to content"


def test_enter_opens_delete_all_and_tab_reaches_the_confirm_button(page, staff, shelve):
    shelve(SCENES[:1])
    page.goto("/")
    sign_in(page, staff.username, PASSWORD)
    page.reload()
    tab_through(page, until="Delete all images…")

    page.keyboard.press("Enter")
    page.keyboard.press("Tab")

    confirm = page.get_by_role("button", name="Yes, delete all images")
    expect(confirm).to_be_focused()
    focused = page.evaluate(FOCUSED)
    assert focused["outline"] or focused["shadow"]
