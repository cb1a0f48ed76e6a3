"""Compressed HTML.

Pages rendered for one visitor (staff, forms, messages: they carry a CSRF token) go
through Django's GZipMiddleware, with the BREACH mitigations Django provides: random bytes
in each gzip header, and CSRF tokens masked afresh on every request. The page every
visitor shares carries no secret, so it is compressed once per rendering, in Brotli and
gzip (uploads/public_page.py), never per request.
"""

from __future__ import annotations

import functools
import gzip
import re

import brotli
from django.middleware.gzip import GZipMiddleware

CODINGS = ("br", "gzip")  # in the order we prefer them
_QUALITY = re.compile(r";\s*q=([0-9.]+)")


class HtmlGZipMiddleware(GZipMiddleware):
    """Django's GZipMiddleware for HTML only: stored images are sent as they are, already
    compressed, with their own validators and length."""

    def process_response(self, request, response):
        if response.has_header("Content-Encoding") or not response.get(
            "Content-Type", ""
        ).startswith("text/html"):
            return response  # compressed already (the shared page), or not HTML
        return super().process_response(request, response)


def encode(content: bytes) -> dict[str, bytes]:
    """The content in every coding we send, made once: Brotli, gzip, and as it is."""
    return {
        # Quality 5: within a tenth of the best (11) on the page, in a thirtieth of the time
        # (about 0.5 ms against 14): a page is compressed again every PAGE_CACHE_SECONDS,
        # and on a quiet site, while its visitor waits.
        "br": brotli.compress(content, quality=5, mode=brotli.MODE_TEXT),
        "gzip": gzip.compress(content, mtime=0),
        "identity": content,
    }


@functools.lru_cache(maxsize=64)  # browsers send a handful of distinct values
def preferred(accept_encoding: str) -> str:
    """The coding to send for this Accept-Encoding header: br, gzip or identity."""
    accepted = {}
    for part in accept_encoding.lower().split(","):
        coding, _, parameters = part.partition(";")
        quality = _QUALITY.search(";" + parameters)
        try:
            accepted[coding.strip()] = float(quality.group(1)) if quality else 1.0
        except ValueError:
            accepted[coding.strip()] = 0.0
    for coding in CODINGS:
        if accepted.get(coding, accepted.get("*", 0.0)) > 0:
            return coding
    return "identity"
