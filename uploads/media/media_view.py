"""Stored images served from local storage in production, inertly: nosniff, sandboxed,
cached for good. (On S3 the bucket or its CDN serves them.)"""

from __future__ import annotations

import hashlib
import os
import re

from django.core.files.storage import FileSystemStorage
from django.http import FileResponse, Http404
from django.utils.cache import get_conditional_response
from django.utils.http import http_date, quote_etag

from uploads.media.storage import media_storage
from uploads.web.error_views import allow_only

MEDIA_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp", "avif": "image/avif"}
# Stored names are ours (images/<uuid4>.<ext>, thumbs/<uuid4>.<avif|webp>): nothing else is
# served.
_UUID = r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}"
MEDIA_NAME = re.compile(rf"(images|thumbs)/{_UUID}\.({'|'.join(MEDIA_TYPES)})")
MEDIA_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"


@allow_only("GET", "HEAD")
def media(request, name: str):
    """One stored file, with validators of its own; 404 for any name that is not ours."""
    storage = media_storage()
    if not isinstance(storage, FileSystemStorage) or not MEDIA_NAME.fullmatch(name):
        raise Http404("No such image.")
    try:
        # Opened first: a file the limit deletes meanwhile is still sent whole (or is a 404).
        file = storage.open(name)
    except FileNotFoundError:
        raise Http404("No such image.") from None
    stat = os.fstat(file.fileno())
    etag = quote_etag(hashlib.blake2b(f"{name}:{stat.st_size}".encode(), digest_size=8).hexdigest())
    # Whole seconds, as HTTP dates carry: a fractional mtime would never match If-Modified-Since.
    last_modified = int(stat.st_mtime)
    response = get_conditional_response(request, etag=etag, last_modified=last_modified)
    if response is None:
        response = FileResponse(file, content_type=MEDIA_TYPES[name.rsplit(".")[-1]])
    else:
        file.close()
    response["ETag"] = etag
    response["Last-Modified"] = http_date(last_modified)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = MEDIA_CSP
    # Names are never reused, so a stored file can be cached forever.
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response
