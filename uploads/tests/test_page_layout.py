"""The page layout model: which images are in a first viewport, and which may be its largest."""

from __future__ import annotations

from uploads.page import page_layout

LANDSCAPE, PORTRAIT = (3000, 2000), (2000, 3000)


def test_three_landscapes_are_all_eager_and_all_may_be_the_largest_on_a_desktop():
    assert page_layout.loading_hints([LANDSCAPE] * 3) == [(True, True)] * 3


def test_a_portrait_in_the_middle_is_the_largest_on_a_desktop():
    hints = page_layout.loading_hints([LANDSCAPE, PORTRAIT, LANDSCAPE])

    # The first is the largest on a phone, the portrait on a tablet and a desktop.
    assert hints == [(True, True), (True, True), (True, False)]


def test_images_below_the_fold_on_every_screen_are_lazy():
    hints = page_layout.loading_hints([PORTRAIT] * 9)

    # A row of three on a desktop; on a tablet the second row's top may just show.
    assert [eager for eager, _ in hints] == [True] * 4 + [False] * 5
    assert [priority for _, priority in hints] == [True] * 3 + [False] * 6


def test_the_card_width_follows_the_breakpoints():
    widths = {width: round(page_layout.image_width(width), 1) for width in (390, 768, 1440)}

    assert widths == {390: 356.0, 768: 356.0, 1440: 351.3}
