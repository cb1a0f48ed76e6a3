"""Reads for pages: the shelf's version, its newest images and whether their files exist."""

from __future__ import annotations

import functools
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.utils.http import http_date

from . import services, shelf_state, storage
from .models import Image, ShelfVersion

logger = logging.getLogger(__name__)

# Rows whose files vanished are repaired on the way; a few rounds at most.
_MAX_REPAIR_ROUNDS = 3

# This process's copies of the newest images and of the public page, for the latest shelf
# state it has seen. The state is read on every request (the database, or Redis), so a
# copy is never stale; it spares each page view the shared cache and unpickling. One
# entry each.
_recent_shelf: dict[str, ShelfPage] = {}
_recent_html: dict[str, bytes] = {}


@dataclass(frozen=True)
class ShelfImage:
    """What the public page needs to show one image; plain data, safe to cache."""

    pk: int
    title: str
    alt: str
    file_name: str
    thumbnail_name: str
    width: int
    height: int
    thumbnail_width: int
    thumbnail_height: int
    uploaded_at: datetime
    file_url: str
    thumbnail_url: str  # the full image when the thumbnail is missing


@dataclass(frozen=True)
class ShelfPage:
    version: int
    changed_at: datetime | None
    images: list[ShelfImage] = field(default_factory=list)
    unavailable: bool = False  # storage did not answer: some images may be hidden

    @functools.cached_property
    def etag(self) -> str:
        """Changes whenever what the page shows changes, in every process: it digests all
        of it (the images' every field, the limit in the text, the release), however the
        shelf's state was read."""
        # The time tells a reset database's version 1 from the old one.
        state = (
            f"{release_fingerprint()}:{_timestamp(self.changed_at)}:{settings.IMAGE_LIMIT}:"
            f"{self.images!r}"
        )
        digest = hashlib.blake2b(state.encode(), digest_size=8).hexdigest()
        return f"{self.version}-{int(self.unavailable)}-{digest}"

    @functools.cached_property
    def file_names(self) -> list[str]:
        """The stored files the page links: every image and its thumbnail."""
        return [name for image in self.images for name in (image.file_name, image.thumbnail_name)]

    @functools.cached_property
    def last_modified(self) -> str | None:
        """The change time as an HTTP date, for Last-Modified."""
        return http_date(self.changed_at.timestamp()) if self.changed_at else None


def shelf_version() -> tuple[int, datetime | None]:
    """The shelf's change counter and time: the one query a cached page costs.

    Plain SQL, because every public page view runs it (without Redis): building it with
    the ORM each time cost more than the round trip to the database.
    """
    with connection.cursor() as cursor:
        cursor.execute(_shelf_version_sql())
        row = cursor.fetchone()
    if row is None:
        return 0, None
    version, changed_at = row
    if changed_at is not None and changed_at.tzinfo is None:  # SQLite: UTC, stored naive
        changed_at = changed_at.replace(tzinfo=UTC)
    return version, changed_at


@functools.cache
def _shelf_version_sql() -> str:
    quote = connection.ops.quote_name
    meta = ShelfVersion._meta
    columns = ", ".join(quote(meta.get_field(name).column) for name in ("version", "changed_at"))
    return f"SELECT {columns} FROM {quote(meta.db_table)} WHERE {quote(meta.pk.column)} = 1"


def _shelf_state(*, strict: bool) -> tuple[str, tuple[int, datetime | None] | None]:
    """What cached page data is keyed on, read on every request: the token in Redis, or
    the version row (then with the version and time it read)."""
    if shelf_state.enabled():
        try:
            token = shelf_state.read() if strict else shelf_state.latest()
            return f"token:{token}", None
        except shelf_state.RecentlyFailed:
            pass  # logged when it failed; until the retry, every page goes to the database
        except shelf_state.ERRORS:
            logger.warning("Redis unavailable: reading the shelf's state from the database")
    version, changed_at = shelf_version()
    return f"version:{version}:{_timestamp(changed_at)}", (version, changed_at)


def shelf_page(*, strict: bool = True) -> ShelfPage:
    """The newest images whose files exist; rows whose image file is gone are removed.

    strict=False (the public page for visitors): with Redis, the shelf's state as last
    announced to this process, without a round trip; a change made in another process
    shows within moments rather than at once. Without Redis it makes no difference.
    """
    page = _current_shelf(strict=strict)
    for _ in range(_MAX_REPAIR_ROUNDS):
        try:
            present = _files_present(page.file_names)
        except storage.StorageUnavailable:
            logger.warning("storage unavailable while checking the shelf's files", exc_info=True)
            return ShelfPage(page.version, page.changed_at, [], unavailable=True)
        missing = [image.pk for image in page.images if not present[image.file_name]]
        if not missing:
            if all(present.get(image.thumbnail_name) for image in page.images):
                return page  # the cached object, with its ETag worked out once
            shown = [
                image
                if present.get(image.thumbnail_name)
                else replace(image, thumbnail_url=image.file_url)
                for image in page.images
            ]
            return ShelfPage(page.version, page.changed_at, shown)
        services.images_delete(missing, reason="file missing")
        page = _current_shelf(strict=True, fresh=True)  # the caches may be stale
    return ShelfPage(page.version, page.changed_at, [], unavailable=True)


def _current_shelf(*, strict: bool, fresh: bool = False) -> ShelfPage:
    """The newest images for the shelf's state: kept in this process, then in the shared
    cache, else read from the database."""
    state, known = _shelf_state(strict=strict)
    key = f"shelf:{release_fingerprint()}:{state}:{settings.IMAGE_LIMIT}:{_url_epoch()}:images"
    page = None if fresh else (_recent_shelf.get(key) or _cache_get(key))
    if page is None:
        version, changed_at = known or shelf_version()
        rows = Image.objects.order_by("-uploaded_at", "-id")[: settings.IMAGE_LIMIT]
        page = ShelfPage(version, changed_at, [_shelf_image(row) for row in rows])
        _cache_set(key, page)
    if known is None or page.changed_at is not None:
        # Without a version row, a reset database could reuse the key.
        _remember(_recent_shelf, key, page)
    return page


def public_page_html(page: ShelfPage, render: Callable[[], bytes]) -> bytes:
    """The public page for this shelf state: this process's copy, the shared cache, or render()."""
    key = f"page:public:{page.etag}"
    html = _recent_html.get(key)
    if html is None:
        html = _cache_get(key)
        if html is None:
            html = render()
            _cache_set(key, html)
        _remember(_recent_html, key, html)
    return html


def _cache_get(key: str):
    """The shared cache is a speed-up: when it fails, the page is built from the database."""
    try:
        return cache.get(key)
    except shelf_state.ERRORS:
        logger.warning("shared cache unavailable: could not read %s", key)
        return None


def _cache_set(key: str, value, timeout: int = 3600) -> None:
    try:
        cache.set(key, value, timeout=timeout)
    except shelf_state.ERRORS:
        logger.warning("shared cache unavailable: could not store %s", key)


@functools.cache
def release_fingerprint() -> str:
    """Changes with each release that can change the page: its templates, the hashed static
    names it links, and the shape of what is cached (this module). Once per process."""
    from django.contrib.staticfiles.storage import staticfiles_storage
    from django.template.loader import get_template

    paths = [__file__]
    paths += [get_template(name).origin.name for name in ("base.html", "uploads/index.html")]
    manifest = getattr(staticfiles_storage, "manifest_name", None)
    if manifest and staticfiles_storage.manifest_storage.exists(manifest):
        paths.append(staticfiles_storage.manifest_storage.path(manifest))
    digest = hashlib.blake2b(digest_size=6)
    for path in paths:
        with open(path, "rb") as handle:
            digest.update(handle.read())
    return digest.hexdigest()


def _remember(memo: dict, key: str, value) -> None:
    """Keep only the latest shelf state: older versions are never asked for again."""
    memo.clear()
    memo[key] = value


def _timestamp(moment: datetime | None) -> str:
    return f"{moment.timestamp():.6f}" if moment else "none"


def _shelf_image(image: Image) -> ShelfImage:
    thumb_width, thumb_height = image.thumbnail_size
    return ShelfImage(
        pk=image.pk,
        title=image.title,
        alt=image.alt_text,
        file_name=image.file.name,
        thumbnail_name=image.thumbnail.name,
        width=image.width,
        height=image.height,
        thumbnail_width=thumb_width,
        thumbnail_height=thumb_height,
        uploaded_at=image.uploaded_at,
        file_url=image.file.url,
        thumbnail_url=image.thumbnail.url if image.thumbnail else image.file.url,
    )


def _files_present(names: list[str]) -> dict[str, bool]:
    """Local disk: checked on every request (a stat is cheap). S3: cached briefly."""
    media = services.media_storage()
    if not storage.is_s3(media):
        return storage.files_present(media, names)
    key = "shelf:files:" + hashlib.blake2b(",".join(names).encode(), digest_size=16).hexdigest()
    present = _cache_get(key)
    if present is None:
        present = storage.files_present(media, names)
        _cache_set(key, present, timeout=settings.MEDIA_CHECK_CACHE_SECONDS)
    return present


def _url_epoch() -> int:
    """Signed S3 URLs expire: rebuild them at half their lifetime."""
    media = services.media_storage()
    if storage.is_s3(media) and media.querystring_auth:
        return int(time.time() // max(60, media.querystring_expire // 2))
    return 0


def present_image_names() -> set[str]:
    """Names under images/ that exist in storage: one listing, for filters and exports."""
    return {stored.name for stored in storage.list_files(services.media_storage(), "images/")}


def files_status(images) -> dict[int, bool]:
    """Whether each image's file exists (one stat each locally, one listing on S3)."""
    images = list(images)
    present = storage.files_present(services.media_storage(), [i.file.name for i in images])
    return {image.pk: present.get(image.file.name, False) for image in images}


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
        storage.check_reachable(services.media_storage())
    except storage.StorageUnavailable:
        logger.exception("health check: storage unavailable")
        result["storage"] = "unavailable"
    return result
