"""The page every visitor shares: rendered and gzipped once per language, reused by this
process for up to PAGE_CACHE_SECONDS, and validated by an ETag of its own bytes.

Only pages that carry nothing of one visitor's (no user, no message, no form and its CSRF
token) come here; the view renders the others afresh, and GZipMiddleware compresses them
with Django's BREACH mitigations.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpResponse
from django.middleware.gzip import re_accepts_gzip
from django.utils.cache import get_conditional_response
from django.utils.http import quote_etag
from django.utils.translation import get_language

HEADERS = {
    # Revalidated on every visit: a repeat visit costs a 304, and never shows a deleted image.
    "Cache-Control": "public, max-age=0, must-revalidate",
    # Cookie too: at the same address, staff (signed in by cookie) get their own page; and
    # the language, from Accept-Language or the language page's cookie.
    "Vary": "Accept-Encoding, Accept-Language, Cookie",
}


@dataclass(frozen=True)
class Rendering:
    html: bytes
    gzipped: bytes
    etag: str  # weak: the same for the page gzipped or not
    until: float  # time.monotonic() after which the page is rendered again


# This process's latest rendering in each language, and the lock its renderer holds.
_kept: dict[str, Rendering] = {}
_rendering = threading.Lock()


def response(request, render: Callable[[], bytes]) -> HttpResponse:
    """The page, or 304 when the browser's copy is current; render() makes its HTML."""
    rendering = _current(render)
    revalidating = "HTTP_IF_NONE_MATCH" in request.META or "HTTP_IF_MATCH" in request.META
    answer = revalidating and get_conditional_response(request, etag=rendering.etag)
    if not answer:
        if re_accepts_gzip.search(request.META.get("HTTP_ACCEPT_ENCODING", "")):
            answer = HttpResponse(rendering.gzipped, headers={"Content-Encoding": "gzip"})
        else:
            answer = HttpResponse(rendering.html)
    answer["ETag"] = rendering.etag
    for name, value in HEADERS.items():
        answer[name] = value
    return answer


def _current(render: Callable[[], bytes]) -> Rendering:
    """This language's rendering; once it has expired, one thread renders and gzips the
    next while the others wait for it."""
    language = get_language()
    rendering = _kept.get(language)
    if rendering is not None and time.monotonic() < rendering.until:
        return rendering  # most requests: no lock to take
    # With PAGE_CACHE_SECONDS 0 a rendering expires as it is made: every request renders.
    with _rendering:
        rendering = _kept.get(language)  # another thread may have rendered it meanwhile
        if rendering is None or time.monotonic() >= rendering.until:
            html = render()
            etag = "W/" + quote_etag(hashlib.blake2b(html, digest_size=12).hexdigest())
            until = time.monotonic() + settings.PAGE_CACHE_SECONDS
            rendering = _kept[language] = Rendering(html, gzip.compress(html, mtime=0), etag, until)
    return rendering
