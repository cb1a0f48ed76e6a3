"""A visitor's view of the public page: the hero, the shelf, nothing to change it with."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .scenery import SCENES
from .support import broken_images, has_horizontal_scroll, shelf_titles

pytestmark = pytest.mark.e2e

DESKTOP = {"viewport": {"width": 1440, "height": 900}}
# A phone's width, drawn at its pixel density so the screenshot stays sharp.
MOBILE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2}


def test_visitor_sees_the_hero_and_the_empty_state(page):
    page.goto("/")

    expect(page.get_by_role("img", name=re.compile("^Three framed pictures"))).to_be_visible()
    expect(page.get_by_text("The shelf is empty.")).to_be_visible()
    expect(page.get_by_role("button", name="Upload")).to_have_count(0)
    expect(page.locator("input[type=file]")).to_have_count(0)
    expect(page.get_by_text(re.compile("Delete all", re.IGNORECASE))).to_have_count(0)
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    assert broken_images(page) == []


@pytest.mark.parametrize(
    ("device", "name"),
    [
        pytest.param(DESKTOP, "public-page-desktop", id="desktop"),
        pytest.param(MOBILE, "public-page-mobile", id="mobile"),
    ],
)
def test_visitor_sees_the_newest_three_images_newest_first(
    open_page, three_on_the_shelf, screenshots, device, name
):
    page = open_page(**device)

    page.goto("/")

    assert shelf_titles(page) == [scene.title for scene in reversed(SCENES[:3])]
    assert broken_images(page) == []
    assert not has_horizontal_scroll(page)
    expect(page.get_by_role("button", name="Upload")).to_have_count(0)
    screenshots.save(page, name)
