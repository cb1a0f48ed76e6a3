"""The public page as every visitor gets it: one rendering, compressed once and reused by
this process for up to PAGE_CACHE_SECONDS, with validators that change with the shelf, the
release and the epoch of signed media links.

Only pages that carry nothing of one visitor's (no user, no message, no form and its CSRF
token) come here; the view renders the others afresh.
"""

from __future__ import annotations

import functools
import hashlib
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpResponse
from django.utils.cache import get_conditional_response
from django.utils.http import http_date, quote_etag

from uploads.media import storage
from uploads.page import compression
from uploads.shelf import selectors

# When this process started: a deploy restarts every process, so Last-Modified moves on
# past what the release before it served (in whole seconds, never later than now).
STARTED = int(time.time())


@dataclass(frozen=True)
class Rendering:
    encoded: dict[str, bytes]  # the HTML by content coding: br, gzip and identity
    etag: str  # weak: the same for every coding
    last_modified: int  # whole seconds: what an HTTP date can carry
    until: float  # time.monotonic() after which the page is rendered again

    @functools.cached_property
    def headers(self) -> dict[str, str]:
        """What every answer carries, 200 or 304, made once per rendering."""
        return {
            "ETag": self.etag,
            "Last-Modified": http_date(self.last_modified),
            # Revalidated on every visit: a repeat visit costs a 304, and never shows a
            # deleted image.
            "Cache-Control": "public, max-age=0, must-revalidate",
            # Cookie too: at the same address, staff (signed in by cookie) get their own page.
            "Vary": "Accept-Encoding, Cookie",
        }


# This process's latest rendering, and the lock its renderer holds: when it expires, one
# thread renders the next while the others wait for it (a rendering costs ~10 ms of CPU;
# a busy worker's five threads all rendering it would cost five times that).
_kept: Rendering | None = None
_rendering = threading.Lock()


def response(request, render: Callable[[selectors.Shelf], bytes]) -> HttpResponse:
    """The page, or 304 when the browser's copy is current; render(shelf) makes its HTML."""
    rendering = _current(render)
    revalidating = "HTTP_IF_NONE_MATCH" in request.META or "HTTP_IF_MODIFIED_SINCE" in request.META
    answer = (
        revalidating
        and get_conditional_response(
            request, etag=rendering.etag, last_modified=rendering.last_modified
        )
    ) or _page(rendering, compression.preferred(request.META.get("HTTP_ACCEPT_ENCODING", "")))
    for name, value in rendering.headers.items():
        answer[name] = value
    return answer


def _current(render: Callable[[selectors.Shelf], bytes]) -> Rendering:
    global _kept
    rendering = _kept
    if rendering is not None and time.monotonic() < rendering.until:
        return rendering
    if settings.PAGE_CACHE_SECONDS <= 0:
        return _render(render)
    with _rendering:
        rendering = _kept  # another thread may have rendered it while this one waited
        if rendering is None or time.monotonic() >= rendering.until:
            rendering = _kept = _render(render)
    return rendering


def _page(rendering: Rendering, coding: str) -> HttpResponse:
    page = HttpResponse(rendering.encoded[coding])
    if coding != "identity":
        page["Content-Encoding"] = coding
    return page


def _render(render: Callable[[selectors.Shelf], bytes]) -> Rendering:
    # The version first: a change committed in between makes the page newer than its
    # validators say, never older, so a 304 never keeps a stale page.
    version, changed_at = selectors.shelf_version()
    shelf = selectors.shelf()
    # What the page shows besides the version: which rows' files were found, the limit in
    # its text, the release, and the epoch of its signed links. The change time tells a
    # reset database's version 1 from the old one.
    shown = [(image.pk, image.thumbnails) for image in shelf.images]
    epoch = storage.signed_link_epoch(storage.media_storage())
    state = (
        f"{changed_at.timestamp()}:{release_id()}:{settings.IMAGE_LIMIT}:{epoch}:"
        f"{shelf.unavailable}:{shown}"
    )
    digest = hashlib.blake2b(state.encode(), digest_size=8).hexdigest()
    return Rendering(
        encoded=compression.encode(render(shelf)),
        # Weak: the codings' bytes differ, and a strong validator would name one of them.
        etag="W/" + quote_etag(f"{version}-{digest}"),
        last_modified=max(int(changed_at.timestamp()), STARTED),
        until=time.monotonic() + settings.PAGE_CACHE_SECONDS,
    )


@functools.cache
def release_id() -> str:
    """Changes with every build, read once: when collectstatic wrote the static manifest
    (the same on every dyno of a release); without one (development, tests), when this
    process started."""
    from django.contrib.staticfiles.storage import staticfiles_storage

    manifest = getattr(staticfiles_storage, "manifest_name", None)
    if manifest:
        try:
            return str(os.stat(staticfiles_storage.manifest_storage.path(manifest)).st_mtime_ns)
        except FileNotFoundError:
            pass  # not collected: check --deploy says so (imageshelf.E001)
    return str(STARTED)
