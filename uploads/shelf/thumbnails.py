"""Remaking an image's thumbnails from its stored file: the admin's action and reconcile_media."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from uploads.ingest import variants
from uploads.ingest.decode_lock import decode_turn
from uploads.media.storage import StorageUnavailable, media_storage
from uploads.models import Image
from uploads.shelf.services import audit, discard, save_thumbnails

logger = logging.getLogger("uploads.audit")


def images_regenerate_thumbnails(images: Iterable[Image]) -> tuple[list[str], list[str]]:
    """Regenerate each image's thumbnails; returns (done, failed) as image file names."""
    done, failed = [], []
    for image in images:
        try:
            image_regenerate_thumbnails(image)
        except Exception:  # one unreadable image must not stop the others
            logger.exception("event=thumbnail.failed image=%s", image.pk)
            failed.append(image.file.name)
        else:
            done.append(image.file.name)
    return done, failed


def image_regenerate_thumbnails(image: Image) -> None:
    """Make every thumbnail afresh from the stored image, in one decode; the old files go
    after commit (django-cleanup)."""
    storage = media_storage()
    try:
        with storage.open(image.file.name, "rb") as stored:
            data = stored.read()
    except FileNotFoundError:
        raise  # the image itself is gone: a missing file, not an outage
    except Exception as error:
        raise StorageUnavailable(f"could not read {image.file.name}: {error}") from error
    with decode_turn():
        thumbnails = variants.make_from_stored(data, image.format, (image.width, image.height))
    written: list[str] = []
    try:
        values = save_thumbnails(storage, thumbnails, written)
        for field, name in values.items():
            setattr(image, field, name)
        image.save(update_fields=list(values))
    except BaseException:
        discard(storage, written)
        raise
    audit("thumbnail.regenerated", image=image.pk, files=len(written))
