"""Reads for pages: the shelf's newest images, its version, and whether files exist.

Nothing here writes: an image whose file is missing is left off the page, and removing
its row is the job of reconcile_media, the admin and retention.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection

from uploads.ingest import variants
from uploads.media import storage
from uploads.models import Image, ShelfVersion
from uploads.page import page_layout

logger = logging.getLogger(__name__)

NEVER = datetime.fromtimestamp(0, UTC)


@dataclass(frozen=True)
class ShelfImage:
    """What the public page shows of one image."""

    pk: int
    title: str
    alt: str
    width: int
    height: int
    thumbnail_width: int
    thumbnail_height: int
    uploaded_at: datetime
    file_url: str
    thumbnail_url: str  # the <img>'s own source: the full image when the thumbnail is missing
    # (MIME type, srcset) for each <source>, AVIF first; only thumbnails whose file exists.
    sources: tuple[tuple[str, str], ...] = ()
    thumbnails: tuple[tuple[str, int], ...] = ()  # the (format, width) of those found
    eager: bool = True  # may be in the first viewport of a common screen: never lazy
    priority: bool = False  # may be the largest image in one: fetchpriority="high"


@dataclass(frozen=True)
class Shelf:
    images: list[ShelfImage] = field(default_factory=list)
    unavailable: bool = False  # storage did not answer: images may be hidden


def shelf() -> Shelf:
    """The newest IMAGE_LIMIT images on the shelf (pending ones are not) whose file exists
    (one query, then a file check)."""
    shelved = Image.objects.filter(pending=False).order_by("-uploaded_at", "-id")
    rows = list(shelved[: settings.IMAGE_LIMIT])
    names = [name for row in rows for name in row.stored_names()]
    try:
        present = _files_present(names)
    except storage.StorageUnavailable:
        logger.warning("storage unavailable while checking the shelf's files", exc_info=True)
        return Shelf(unavailable=True)
    images = [_shelf_image(row, present) for row in rows if present.get(row.file.name)]
    return Shelf(_with_loading_hints(images))


def image_count() -> int:
    return Image.objects.count()


def pending_count() -> int:
    """How many visitors' uploads wait for approval."""
    return Image.objects.filter(pending=True).count()


def shelf_version() -> tuple[int, datetime]:
    """The shelf's change counter and time (the row its migration created; after a
    `flush`, 0 until the next change makes it again)."""
    row = ShelfVersion.objects.filter(pk=ShelfVersion.ROW).values_list("version", "changed_at")
    return row.first() or (0, NEVER)


def _shelf_image(image: Image, present: dict[str, bool]) -> ShelfImage:
    thumb_width, thumb_height = image.thumbnail_size
    file_url = image.file.url
    names = {key: name for key, name in image.thumbnail_names().items() if present.get(name)}
    sources = []
    for fmt in variants.FORMATS:
        srcset = ", ".join(
            f"{_url(names[fmt, width])} {size[0]}w"
            for width, size in variants.sizes((image.width, image.height)).items()
            if (fmt, width) in names
        )
        if srcset:
            sources.append((f"image/{variants.EXTENSIONS[fmt]}", srcset))
    fallback = names.get(("WEBP", variants.WIDTHS[0]))
    return ShelfImage(
        pk=image.pk,
        title=image.title,
        alt=image.alt_text,
        width=image.width,
        height=image.height,
        thumbnail_width=thumb_width,
        thumbnail_height=thumb_height,
        uploaded_at=image.uploaded_at,
        file_url=file_url,
        thumbnail_url=_url(fallback) if fallback else file_url,
        sources=tuple(sources),
        thumbnails=tuple(sorted(names)),
    )


def _url(name: str) -> str:
    return storage.media_storage().url(name)


def _with_loading_hints(images: list[ShelfImage]) -> list[ShelfImage]:
    hints = page_layout.loading_hints([(image.width, image.height) for image in images])
    return [
        replace(image, eager=eager, priority=priority)
        for image, (eager, priority) in zip(images, hints, strict=True)
    ]


def _files_present(names: list[str]) -> dict[str, bool]:
    """Local disk: a stat each. S3: one listing per prefix, kept briefly in the cache."""
    media = storage.media_storage()
    if not storage.is_s3(media):
        return storage.files_present(media, names)
    key = "files-present:" + hashlib.blake2b(",".join(names).encode(), digest_size=16).hexdigest()
    try:
        present = cache.get(key)
    except (redis.RedisError, OSError):
        logger.warning("cache unavailable: listing storage instead")
        present = None
    if present is None:
        present = storage.files_present(media, names)
        with contextlib.suppress(redis.RedisError, OSError):  # logged on the read
            cache.set(key, present, timeout=settings.MEDIA_CHECK_CACHE_SECONDS)
    return present


def present_image_names() -> set[str]:
    """Names under images/ that exist in storage: one listing, for filters and exports."""
    return {stored.name for stored in storage.list_files(storage.media_storage(), "images/")}


def media_present(images) -> dict[str, bool]:
    """Whether each image's file and thumbnail exist, by name (one stat each locally, one
    listing per prefix on S3)."""
    names = [name for image in images for name in (image.file.name, image.thumbnail.name)]
    return storage.files_present(storage.media_storage(), names)


def health() -> dict[str, str]:
    """ "ok" or "unavailable" for the database and the media storage."""
    result = {"database": "ok", "storage": "ok"}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        logger.exception("health check: database unavailable")
        result["database"] = "unavailable"
    try:
        storage.check_reachable(storage.media_storage())
    except storage.StorageUnavailable:
        logger.exception("health check: storage unavailable")
        result["storage"] = "unavailable"
    return result
