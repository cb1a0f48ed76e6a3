"""{% site_css %}: the site's stylesheet, inlined into a page's <style> element."""

from __future__ import annotations

import functools

from django import template
from django.conf import settings
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.simple_tag
def site_css() -> SafeString:
    """The stylesheet's text, exactly as the Content-Security-Policy's hash of it expects."""
    return mark_safe(_text())  # our own file, with no "</style" in it


@functools.cache
def _text() -> str:
    return settings.SITE_CSS.read_text(encoding="utf-8")
