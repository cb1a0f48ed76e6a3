"""The public page's template helpers: the inline stylesheet, and each card's `sizes`."""

from __future__ import annotations

from django import template
from django.conf import settings
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

# Every card's box is 4:3 (static/css/site.css, .shelf__link); its width at each of the
# stylesheet's breakpoints, as the `sizes` attribute says it.
CARD_RATIO = 4 / 3
CARD_WIDTHS = (
    ("(min-width: 1132px) ", "352px"),
    ("(min-width: 900px) ", "((100vw - 4.5rem - 6px) / 3)"),
    ("(min-width: 600px) ", "((100vw - 3.25rem - 4px) / 2)"),
    ("", "(100vw - 2rem - 2px)"),
)


@register.simple_tag
def site_css() -> SafeString:
    """The stylesheet's text (read once, by the settings), exactly as the
    Content-Security-Policy's hash of it expects."""
    # Our own file, with no "</style" in it.
    return mark_safe(settings.SITE_CSS)


@register.filter
def card_sizes(image) -> str:
    """The `sizes` of an image shown whole in a card: the card's width, or less for an
    image narrower than the box (a portrait fills its height)."""
    share = min(1.0, image.width / image.height / CARD_RATIO)
    return ", ".join(f"{media}calc({width} * {share:.3f})" for media, width in CARD_WIDTHS)
