"""The shelf's images in Chromium: nothing lazy in a first viewport, the largest one asked
for first, AVIF for a browser that takes it, a file close to what each screen shows, and
portraits whole, without layout shift."""

from __future__ import annotations

import pytest

from uploads.page import page_layout
from uploads.shelf import services
from uploads.tests.factories import upload_file

from .scenery import SCENES, landscape

pytestmark = pytest.mark.e2e

# page_layout.SCREENS at the pixel ratios of common devices: a phone at 3, a tablet at 2,
# a desktop at 1 and 2.
SCREENS = [
    pytest.param(390, 844, 3, id="390@3"),
    pytest.param(768, 1024, 2, id="768@2"),
    pytest.param(1440, 900, 1, id="1440@1"),
    pytest.param(1440, 900, 2, id="1440@2"),
]
# naturalWidth of an image chosen from a srcset is in CSS px: the file's own size is that
# of the same file loaded on its own.
IMAGES_JS = """async () => Promise.all([...document.querySelectorAll('.shelf img')].map(
  async (img) => {
    const box = img.getBoundingClientRect();
    const shown = Math.max(0, Math.min(box.bottom, innerHeight) - Math.max(box.top, 0));
    const file = new Image();
    file.src = img.currentSrc;
    await file.decode();
    return {
        top: box.top + scrollY, width: box.width, height: box.height, area: box.width * shown,
        loading: img.getAttribute('loading'), priority: img.getAttribute('fetchpriority'),
        src: img.currentSrc, naturalWidth: file.naturalWidth, naturalHeight: file.naturalHeight,
        fit: getComputedStyle(img).objectFit, alt: img.alt,
    };
}))"""
SHIFTS_JS = """() => new Promise((resolve) => {
    let total = 0;
    new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) total += entry.value;
    }).observe({type: 'layout-shift', buffered: true});
    setTimeout(() => resolve(total), 200);
})"""


@pytest.fixture
def mixed_shelf():
    """A landscape, a portrait and a landscape, as the page lists them (newest first)."""
    shapes = [(1600, 1067), (1000, 1500), (1600, 1067)]
    images = []
    for scene, size in zip(SCENES[:3], reversed(shapes), strict=True):
        data = landscape(scene, size=size)
        images.append(services.image_ingest(upload_file(data, scene.filename), title=scene.title))
    return images[::-1]


def shelf_images(page, width: int, height: int, ratio: int) -> list[dict]:
    page.goto("/")
    page.wait_for_function("() => [...document.images].every((img) => img.complete)")
    return page.evaluate(IMAGES_JS)


@pytest.mark.parametrize(("width", "height", "ratio"), SCREENS)
def test_nothing_in_the_first_viewport_is_lazy_and_the_largest_comes_first(
    open_page, mixed_shelf, width, height, ratio
):
    page = open_page(viewport={"width": width, "height": height}, device_scale_factor=ratio)

    images = shelf_images(page, width, height, ratio)

    in_view = [image for image in images if image["top"] < height]
    assert in_view, "no image in the first viewport"
    assert [image["loading"] for image in in_view] == [None] * len(in_view)
    largest = max(in_view, key=lambda image: image["area"])
    assert largest["priority"] == "high", f"{largest['alt']} is the largest in view"


@pytest.mark.parametrize(("width", "height", "ratio"), SCREENS)
def test_the_layout_model_is_never_lower_than_the_page(
    open_page, mixed_shelf, width, height, ratio
):
    page = open_page(viewport={"width": width, "height": height}, device_scale_factor=ratio)

    images = shelf_images(page, width, height, ratio)

    assert images[0]["top"] >= page_layout.SHELF_TOP[width]
    assert images[0]["width"] == pytest.approx(page_layout.image_width(width), abs=1)


@pytest.mark.parametrize(("width", "height", "ratio"), SCREENS)
def test_each_screen_gets_avif_close_to_what_it_shows(open_page, mixed_shelf, width, height, ratio):
    page = open_page(viewport={"width": width, "height": height}, device_scale_factor=ratio)
    types = []
    page.on(
        "response",
        lambda response: (
            "/media/thumbs/" in response.url and types.append(response.headers["content-type"])
        ),
    )

    images = shelf_images(page, width, height, ratio)

    assert types and set(types) == {"image/avif"}
    for image in images:
        assert image["src"].endswith(".avif")
        needed = image["width"] * ratio
        # Sharp (at least what is shown, unless it is the widest there is) and not wasteful:
        # the next width down (480, 720, 1,080) would be too small.
        widths = [480, 720, min(1080, 1600 if image["width"] > image["height"] else 1000)]
        assert image["naturalWidth"] >= min(needed, widths[-1]) - 1
        smaller = [w for w in widths if w < image["naturalWidth"]]
        assert not smaller or max(smaller) < needed


@pytest.mark.parametrize(("width", "height", "ratio"), SCREENS)
def test_a_portrait_is_shown_whole_and_nothing_shifts(open_page, mixed_shelf, width, height, ratio):
    page = open_page(viewport={"width": width, "height": height}, device_scale_factor=ratio)

    images = shelf_images(page, width, height, ratio)
    for _ in images:
        page.mouse.wheel(0, 600)  # bring the rest in, so any late shift is counted

    portrait = images[1]
    assert portrait["height"] > portrait["width"]
    shown = portrait["width"] / portrait["height"]
    assert shown == pytest.approx(portrait["naturalWidth"] / portrait["naturalHeight"], rel=0.01)
    assert {image["fit"] for image in images} == {"fill"}  # nothing cropped to a frame
    assert page.evaluate(SHIFTS_JS) == 0
