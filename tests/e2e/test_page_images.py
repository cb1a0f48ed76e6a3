"""The shelf's cards in Chromium: every photograph in the same box, shown whole (letterboxed,
never cropped), nothing shifting, nothing lazy in a first viewport, AVIF close to what each
screen shows, and the largest paint an image the page asked for first."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageChops

from uploads.ingest import variants
from uploads.shelf import services
from uploads.templatetags.page import CARD_RATIO
from uploads.tests.factories import upload_file

from .scenery import SCENES, landscape

pytestmark = pytest.mark.e2e

# A phone at 3, a tablet at 2, a desktop at 1 and 2: one, two and three columns.
SCREENS = [
    pytest.param(390, 844, 3, id="390@3"),
    pytest.param(768, 1024, 2, id="768@2"),
    pytest.param(1440, 900, 1, id="1440@1"),
    pytest.param(1440, 900, 2, id="1440@2"),
]
LANDSCAPE, PORTRAIT = (1600, 1067), (1000, 1500)  # 3:2 and 2:3: neither fills a 4:3 box
# Each shelf as the page lists it, newest first.
SHELVES = {
    "portrait-newest": [PORTRAIT, LANDSCAPE, LANDSCAPE],
    "landscape-newest": [LANDSCAPE, PORTRAIT, PORTRAIT],
}
# naturalWidth of an image chosen from a srcset is in CSS px: the file's own size is that
# of the same file loaded on its own.
CARDS_JS = """async () => Promise.all([...document.querySelectorAll('.shelf__link')].map(
  async (link) => {
    const img = link.querySelector('img');
    const box = link.getBoundingClientRect();
    const drawn = img.getBoundingClientRect();
    const file = new Image();
    file.src = img.currentSrc;
    await file.decode();
    return {
        alt: img.alt, width: box.width, height: box.height,
        imgWidth: drawn.width, imgHeight: drawn.height,
        src: img.currentSrc, naturalWidth: file.naturalWidth, naturalHeight: file.naturalHeight,
        fit: getComputedStyle(img).objectFit, background: getComputedStyle(link).backgroundColor,
    };
}))"""
IN_FIRST_VIEWPORT_JS = """() => [...document.images]
    .filter((img) => img.getBoundingClientRect().top < innerHeight)
    .map((img) => ({alt: img.alt, loading: img.getAttribute('loading')}))"""
SHIFTS_JS = """() => new Promise((resolve) => {
    let total = 0;
    new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) total += entry.value;
    }).observe({type: 'layout-shift', buffered: true});
    setTimeout(() => resolve(total), 200);
})"""
# The latest candidate is the page's LCP (no input has ended the observation). An image's
# entry comes when its frame is presented, which on a busy machine can trail the text's: the
# candidates are gathered until none has come for a second.
LCP_JS = """() => new Promise((resolve) => {
    let latest = null;
    let settle = setTimeout(() => resolve(latest), 1000);
    new PerformanceObserver((list) => {
        const entry = list.getEntries().at(-1);
        latest = {
            tag: entry.element && entry.element.tagName, url: entry.url,
            alt: entry.element && entry.element.alt,
            priority: entry.element && entry.element.getAttribute('fetchpriority'),
        };
        clearTimeout(settle);
        settle = setTimeout(() => resolve(latest), 1000);
    }).observe({type: 'largest-contentful-paint', buffered: true});
})"""
# Two frames: every loaded image has been painted, so its paint entries exist.
PAINTED_JS = "() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))"


@pytest.fixture(params=SHELVES.values(), ids=SHELVES.keys())
def shelf(request) -> list:
    """Three photographs of the shapes the shelf's id names, as the page lists them."""
    shapes = request.param
    images = []
    for scene, size in zip(SCENES[:3], reversed(shapes), strict=True):  # oldest first
        data = landscape(scene, size=size)
        file = upload_file(data, scene.filename)
        # Described as staff would describe them: the page's alt text, each card's name here.
        images.append(services.image_ingest(file, title=scene.title, description=scene.title))
    return images[::-1]


def open_shelf(open_page, width: int, height: int, ratio: int):
    page = open_page(viewport={"width": width, "height": height}, device_scale_factor=ratio)
    page.goto("/")
    page.wait_for_function("() => [...document.images].every((img) => img.complete)")
    return page


def shown_fraction(width: int, height: int) -> float:
    """How much of the box's width a photograph of this shape fills when shown whole."""
    return min(1.0, width / height / CARD_RATIO)


def rgb(css: str) -> tuple[int, int, int]:
    """ "rgb(214, 209, 200)" as a tuple."""
    return tuple(int(part) for part in css[css.index("(") + 1 : -1].split(",")[:3])


def photograph_extent(png: bytes, background, edge: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """The width and height, in device pixels, of what is not the box's background, and of
    the box: measured across the middle of the box (its rounded corners are the card's),
    `edge` pixels in from the screenshot's sides (which may hold a sliver of its border)."""
    shot = Image.open(io.BytesIO(png)).convert("RGB")
    w, h = shot.size
    shot = shot.crop((edge, edge, w - edge, h - edge))
    w, h = shot.size
    differs = ImageChops.difference(shot, Image.new("RGB", shot.size, background))
    mask = differs.convert("L").point(lambda value: 255 if value > 20 else 0)
    across = mask.crop((0, h * 2 // 5, w, h * 3 // 5)).getbbox()
    down = mask.crop((w * 2 // 5, 0, w * 3 // 5, h)).getbbox()
    assert across and down, "nothing but background in the box"
    return (across[2] - across[0], down[3] - down[1]), (w, h)


@pytest.mark.parametrize(("width", "height", "ratio"), SCREENS)
def test_every_card_has_the_same_box(open_page, shelf, width, height, ratio):
    page = open_shelf(open_page, width, height, ratio)

    cards = page.evaluate(CARDS_JS)

    assert len(cards) == len(shelf)
    first = cards[0]
    for card in cards:
        assert card["width"] == pytest.approx(first["width"], abs=1), card["alt"]
        assert card["height"] == pytest.approx(first["height"], abs=1), card["alt"]
        assert (card["imgWidth"], card["imgHeight"]) == pytest.approx(
            (card["width"], card["height"]), abs=1
        ), f"{card['alt']}: the image does not fill its box"
    # The ratio the thumbnails' `sizes` are computed with (uploads/templatetags/page.py).
    assert first["height"] == pytest.approx(first["width"] / CARD_RATIO, abs=1)


@pytest.mark.parametrize(("width", "height", "ratio"), SCREENS)
def test_every_photograph_is_shown_whole_never_cropped(open_page, shelf, width, height, ratio):
    page = open_shelf(open_page, width, height, ratio)

    cards = page.evaluate(CARDS_JS)
    links = page.locator(".shelf__link")
    shots = [links.nth(index).screenshot(animations="disabled") for index in range(len(cards))]

    by_title = {image.title: image for image in shelf}
    assert {card["fit"] for card in cards} == {"contain"}
    for card, png in zip(cards, shots, strict=True):
        image = by_title[card["alt"]]
        (shown_width, shown_height), box = photograph_extent(png, rgb(card["background"]), ratio)
        # The whole photograph, undistorted: the shape of the file, not of the box.
        assert shown_width / shown_height == pytest.approx(image.width / image.height, rel=0.02)
        assert card["naturalWidth"] / card["naturalHeight"] == pytest.approx(
            image.width / image.height, rel=0.01
        )
        # Scaled to fit: it reaches two opposite sides of the box.
        assert max(shown_width / box[0], shown_height / box[1]) == pytest.approx(1, abs=0.01)


@pytest.mark.parametrize(("width", "height", "ratio"), SCREENS)
def test_nothing_shifts_as_the_images_load(open_page, shelf, width, height, ratio):
    page = open_shelf(open_page, width, height, ratio)

    for _ in shelf:
        page.mouse.wheel(0, 600)  # bring the rest in, so any late shift is counted

    assert page.evaluate(SHIFTS_JS) == 0


@pytest.mark.parametrize(("width", "height", "ratio"), SCREENS)
def test_no_image_in_the_first_viewport_is_lazy(open_page, shelf, width, height, ratio):
    page = open_shelf(open_page, width, height, ratio)

    in_view = page.evaluate(IN_FIRST_VIEWPORT_JS)

    titles = {image.title for image in shelf}
    assert any(image["alt"] in titles for image in in_view), "no photograph in the first viewport"
    assert [image for image in in_view if image["loading"] not in (None, "eager")] == []


@pytest.mark.parametrize(("width", "height", "ratio"), SCREENS)
def test_each_screen_gets_avif_close_to_what_it_shows(open_page, shelf, width, height, ratio):
    page = open_page(viewport={"width": width, "height": height}, device_scale_factor=ratio)
    types = []
    page.on(
        "response",
        lambda response: (
            "/media/thumbs/" in response.url and types.append(response.headers["content-type"])
        ),
    )
    page.goto("/")
    page.wait_for_function("() => [...document.images].every((img) => img.complete)")

    cards = page.evaluate(CARDS_JS)

    by_title = {image.title: image for image in shelf}
    assert types and set(types) == {"image/avif"}
    for card in cards:
        image = by_title[card["alt"]]
        assert card["src"].endswith(".avif")
        # What the screen shows of it: the box's width, less for a photograph narrower than
        # the box, in device pixels.
        needed = card["width"] * shown_fraction(image.width, image.height) * ratio
        widths = [size[0] for size in variants.sizes((image.width, image.height)).values()]
        # Sharp (at least what is shown, unless it is the widest there is) and not wasteful:
        # the next width down would be too small.
        assert card["naturalWidth"] >= min(needed, widths[-1]) - 1, card["alt"]
        smaller = [w for w in widths if w < card["naturalWidth"]]
        assert not smaller or max(smaller) < needed, card["alt"]


@pytest.mark.parametrize(("width", "height", "ratio"), SCREENS)
def test_the_largest_paint_is_an_image_asked_for_first(open_page, shelf, width, height, ratio):
    page = open_shelf(open_page, width, height, ratio)
    page.evaluate(PAINTED_JS)

    largest = page.evaluate(LCP_JS)

    assert largest is not None, "the browser reported no largest contentful paint"
    assert largest["tag"] == "IMG", largest
    assert largest["priority"] == "high", largest
