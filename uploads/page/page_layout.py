"""Where the shelf's cards fall on common screens: which images are in the first viewport
(never lazy) and which may be the largest there (fetchpriority="high").

A model of static/css/site.css (main, .shelf); tests/e2e/test_page_images.py checks it
against the real layout in Chromium at each of these screens.
"""

from __future__ import annotations

# (width, height) in CSS pixels: a phone, a tablet, a desktop.
SCREENS = ((390, 844), (768, 1024), (1440, 900))
# Where the shelf's first row begins (below the header, the hero and the heading),
# measured in Chromium and rounded down, so that a card is never taken for lower than it is.
SHELF_TOP = {390: 400, 768: 380, 1440: 500}
CAPTION = 60  # at least what a card adds below its image: the caption (two lines), borders
GAP = 20  # 1.25rem between cards
MAIN_MAX, MAIN_MARGIN = 1100, 32  # main: min(100% - 2rem, 1100px)
NEAR_TIE = 0.95  # what the model cannot tell apart: both may be the largest


def columns(screen_width: int) -> int:
    return 3 if screen_width >= 900 else 2 if screen_width >= 600 else 1


def image_width(screen_width: int) -> float:
    """The width of a card's image (inside its 1 px border), as `sizes` says."""
    main = min(screen_width - MAIN_MARGIN, MAIN_MAX)
    count = columns(screen_width)
    return (main - GAP * (count - 1)) / count - 2


def loading_hints(sizes: list[tuple[int, int]]) -> list[tuple[bool, bool]]:
    """(in the first viewport of some screen, may be the largest image there) for images
    of these (width, height), in page order."""
    eager = [False] * len(sizes)
    priority = [False] * len(sizes)
    for width, height in SCREENS:
        visible = _visible_areas(sizes, width, height)
        largest = max(visible, default=0)
        for index, area in enumerate(visible):
            eager[index] = eager[index] or area > 0
            priority[index] = priority[index] or (largest > 0 and area >= largest * NEAR_TIE)
    return list(zip(eager, priority, strict=True))


def _visible_areas(sizes: list[tuple[int, int]], width: int, height: int) -> list[float]:
    """How much of each image the screen shows before any scrolling, in CSS px²."""
    shown = image_width(width)
    count = columns(width)
    areas = []
    top = SHELF_TOP[width]
    for start in range(0, len(sizes), count):
        heights = [shown * h / w for w, h in sizes[start : start + count]]
        areas += [shown * max(0.0, min(top + h, height) - top) for h in heights]
        top += max(heights) + CAPTION + GAP
    return areas
