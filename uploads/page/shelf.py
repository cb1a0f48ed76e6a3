"""What the public page shows of the shelf: its newest images whose files exist.

Nothing here writes: an image whose file is missing is left off the page, and removing
its row is the job of reconcile_media, the admin and retention.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings

from uploads.ingest import variants
from uploads.media import storage
from uploads.models import Image

logger = logging.getLogger(__name__)
FIRST_ROW = 3  # the most cards a row holds (static/css/site.css, .shelf)


@dataclass(frozen=True)
class ShelfImage:
    """What the public page shows of one image."""

    title: str
    alt: str
    width: int
    height: int
    uploaded_at: datetime
    file_url: str
    src: str  # the <img>'s own source: the full image when its thumbnail is missing
    src_width: int
    src_height: int
    # (MIME type, srcset) for each <source>, AVIF first; only thumbnails whose file exists.
    sources: tuple[tuple[str, str], ...] = ()
    priority: bool = False  # in the first row on some screen: fetchpriority="high"


@dataclass(frozen=True)
class Shelf:
    images: list[ShelfImage] = field(default_factory=list)
    unavailable: bool = False  # storage did not answer: images may be hidden


def shelf() -> Shelf:
    """The newest IMAGE_LIMIT images on the shelf whose file exists (one query, then one
    look at storage)."""
    rows = list(Image.objects.on_shelf()[: settings.IMAGE_LIMIT])
    try:
        present = storage.existing(name for row in rows for name in row.stored_names())
    except storage.StorageUnavailable:
        logger.warning("storage unavailable while checking the shelf's files", exc_info=True)
        return Shelf(unavailable=True)
    shown = [row for row in rows if row.file.name in present]
    return Shelf([_shelf_image(row, present, index < FIRST_ROW) for index, row in enumerate(shown)])


def _shelf_image(image: Image, present: set[str], priority: bool) -> ShelfImage:
    url = storage.media_storage().url
    found = {key: name for key, name in image.thumbnails.items() if name in present}
    sizes = variants.sizes((image.width, image.height))
    sources = []
    for fmt in variants.FORMATS:
        srcset = ", ".join(
            f"{url(found[variants.key(fmt, width)])} {size[0]}w"
            for width, size in sizes.items()
            if variants.key(fmt, width) in found
        )
        if srcset:
            sources.append((f"image/{variants.EXTENSIONS[fmt]}", srcset))
    fallback = found.get(variants.key("WEBP", variants.WIDTHS[0]))
    src_width, src_height = image.preview_size if fallback else (image.width, image.height)
    return ShelfImage(
        title=image.title,
        alt=image.alt_text,
        width=image.width,
        height=image.height,
        uploaded_at=image.uploaded_at,
        file_url=image.file.url,
        src=url(fallback) if fallback else image.file.url,
        src_width=src_width,
        src_height=src_height,
        sources=tuple(sources),
        priority=priority,
    )
