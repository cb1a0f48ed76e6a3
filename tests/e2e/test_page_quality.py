"""The public page's craft, checked in the browser: structure, widths, dark mode, metadata."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import PASSWORD
from .support import has_horizontal_scroll, sign_in

pytestmark = pytest.mark.e2e

BACKGROUND = "() => getComputedStyle(document.body).backgroundColor"


def luminance(css_rgb: str) -> float:
    """Relative luminance of an "rgb(r, g, b)" colour (WCAG 2 formula)."""
    channels = [int(part) / 255 for part in css_rgb[css_rgb.index("(") + 1 : -1].split(",")[:3]]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_page_is_built_from_semantic_html(page, three_on_the_shelf):
    page.goto("/")

    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("banner")).to_have_count(1)
    expect(page.get_by_role("main")).to_have_count(1)
    expect(page.get_by_role("contentinfo")).to_have_count(1)
    expect(page.get_by_role("heading", level=1)).to_have_text("ImageShelf")
    expect(page.get_by_role("heading", level=2)).to_have_text(["On the shelf"])
    figures = page.locator("main ol > li > figure")
    expect(figures).to_have_count(3)
    for index in range(3):
        expect(figures.nth(index).locator("figcaption")).to_have_count(1)
        expect(figures.nth(index).get_by_role("link").get_by_role("img")).to_have_count(1)


def test_page_describes_itself_and_has_a_favicon(page):
    page.goto("/")

    description = page.locator('meta[name="description"]')
    expect(description).to_have_attribute(
        "content", "ImageShelf keeps a small shelf of images: the newest 3, nothing more."
    )
    expect(page).to_have_title("ImageShelf")
    icon = page.locator('link[rel="icon"]')
    expect(icon).to_have_attribute("type", "image/svg+xml")
    response = page.request.get(icon.get_attribute("href"))
    assert response.status == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in response.body()


@pytest.mark.parametrize("width", [320, 1440])
def test_page_reads_without_horizontal_scrolling(open_page, staff, three_on_the_shelf, width):
    page = open_page(viewport={"width": width, "height": 800})
    page.goto("/")
    assert not has_horizontal_scroll(page)

    sign_in(page, staff.username, PASSWORD)  # staff see the most: form and "Delete all"
    page.get_by_text("Delete all images…").click()

    expect(page.get_by_role("button", name="Yes, delete all images")).to_be_visible()
    assert not has_horizontal_scroll(page)


def test_page_follows_the_dark_colour_scheme(open_page):
    light = open_page(color_scheme="light")
    dark = open_page(color_scheme="dark")

    light.goto("/")
    dark.goto("/")

    light_background, dark_background = light.evaluate(BACKGROUND), dark.evaluate(BACKGROUND)
    assert light_background != dark_background
    assert luminance(light_background) > 0.8
    assert luminance(dark_background) < 0.05
    text = "() => getComputedStyle(document.body).color"
    assert luminance(dark.evaluate(text)) > 0.8
