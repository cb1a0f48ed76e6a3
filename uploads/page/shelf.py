"""What the public page shows of the shelf: its newest images whose files exist.

Nothing here writes: an image whose file is missing is left off the page, and removing
its row is the job of reconcile_media, the admin and retention.
"""

from __future__ import annotations

import logging

from django.conf import settings

from uploads.ingest import variants
from uploads.media import storage
from uploads.models import Image

logger = logging.getLogger(__name__)
FIRST_ROW = 3  # the most cards a row holds (static/css/site.css, .shelf)


def shelf() -> tuple[list[Image], bool]:
    """The newest IMAGE_LIMIT images on the shelf whose file exists (one query, then one
    look at storage), each marked with what its card shows; and whether storage failed to
    answer (then no image is shown)."""
    rows = list(Image.objects.on_shelf()[: settings.IMAGE_LIMIT])
    try:
        present = storage.existing(name for row in rows for name in row.stored_names())
    except storage.StorageUnavailable:
        logger.warning("storage unavailable while checking the shelf's files", exc_info=True)
        return [], True
    shown = [row for row in rows if row.file.name in present]
    for index, image in enumerate(shown):
        _mark_sources(image, present)
        image.priority = index < FIRST_ROW  # in the first row on some screen
    return shown, False


def _mark_sources(image: Image, present: set[str]) -> None:
    """The card's <source>s, (MIME type, srcset) each, AVIF first, of thumbnails whose file
    exists; and the <img>'s own source: the full image when its thumbnail is missing."""
    url = storage.media_storage().url
    found = {key: name for key, name in image.thumbnails.items() if name in present}
    sizes = variants.sizes((image.width, image.height))
    image.sources = []
    for fmt in variants.FORMATS:
        srcset = ", ".join(
            f"{url(found[variants.key(fmt, width)])} {size[0]}w"
            for width, size in sizes.items()
            if variants.key(fmt, width) in found
        )
        if srcset:
            image.sources.append((f"image/{variants.EXTENSIONS[fmt]}", srcset))
    if image.preview_name in present:  # the smallest WebP thumbnail
        image.src, (image.src_width, image.src_height) = url(image.preview_name), image.preview_size
    else:
        image.src, image.src_width, image.src_height = image.file.url, image.width, image.height
