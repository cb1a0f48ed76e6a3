"""Every write to the shelf: ingest, deletion, the image limit, the shelf version (thumbnails
are remade in uploads/thumbnails.py)."""

from __future__ import annotations

import logging
import math
import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.db.models import DateTimeField, ExpressionWrapper, F, QuerySet, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from uploads.ingest import imaging
from uploads.ingest.decode_lock import decode_turn
from uploads.media import storage as storage_ops
from uploads.media.storage import StorageUnavailable, media_storage
from uploads.models import THUMBNAIL_FIELDS, Image, ShelfVersion
from uploads.shelf.audit import audit, username

logger = logging.getLogger("uploads.audit")

DELETE_BATCH = 500
_SHELF_LOCK_KEY = 0x1A6E5E1F  # arbitrary, constant: names the shelf's advisory lock


class UploadRejected(ValidationError):
    """An upload refused for a reason the person who sent it can act on."""


# --- Ingest -----------------------------------------------------------------


def image_ingest(file: File, *, user=None, title: str = "", pending: bool = False) -> Image:
    """Validate, normalise and store one upload: the one door for every upload.

    A pending upload (a visitor's, with PUBLIC_UPLOADS=moderated) waits for approval, off
    the page and outside the limit; it is refused while PENDING_LIMIT of them wait.
    """
    who = username(user)
    filename = getattr(file, "name", "") or ""
    try:
        if pending and _queue_full():  # before any decoding: the answer is no anyway
            raise imaging.ImageRejected(QUEUE_FULL, "queue_full")
        limit = settings.MAX_UPLOAD_MB * 1024 * 1024
        if file.size is not None and file.size > limit:  # refused before waiting for a turn
            raise imaging.ImageRejected(too_large_message(file.size), "too_large")
        # One ingest per dyno at a time, from reading the bytes to storing what they made:
        # no other upload's pixels or encoded files are in memory meanwhile.
        with decode_turn():
            processed = imaging.process(_read_upload(file, limit), _limits())
            if (duplicate := _duplicate_message(processed.sha256)) is not None:
                raise imaging.ImageRejected(duplicate, "duplicate")
            title = title.strip() or imaging.clean_title(filename)
            image = _store(processed, user=user, title=title, pending=pending)
            animated = processed.animated
            del processed  # the encoded files go before the turn ends (decode_lock.py)
    except imaging.ImageRejected as rejection:
        audit("upload.refused", user=who, reason=rejection.code, filename=filename)
        raise UploadRejected(rejection.message, code=rejection.code) from None
    # An animation keeps only its first frame: say so in the log line.
    extra = {"first_frame_of_animation": "yes"} if animated else {}
    if pending:
        extra["pending"] = "yes"
    audit(
        "upload.stored", user=who, image=image.pk, file=image.file.name, filename=filename, **extra
    )
    return image


_DUPLICATE = "This image is already on the shelf."
_AWAITING = "This image is already waiting for approval."
QUEUE_FULL = (
    "Too many images are waiting for approval right now, so yours was not stored. "
    "Please try again later."
)


def _queue_full() -> bool:
    return Image.objects.filter(pending=True).count() >= settings.PENDING_LIMIT


@dataclass(frozen=True)
class IngestOutcome:
    """One file of a bulk upload: the image stored, or why it was refused."""

    filename: str
    image: Image | None = None
    error: str = ""


def images_ingest_many(files: Iterable[File], *, user=None) -> list[IngestOutcome]:
    """Ingest several uploads one by one; a refusal does not stop the others."""
    outcomes = []
    for file in files:
        try:
            image = image_ingest(file, user=user)
        except UploadRejected as rejection:
            outcomes.append(IngestOutcome(file.name, error=" ".join(rejection.messages)))
        except StorageUnavailable:
            outcomes.append(IngestOutcome(file.name, error="Storage is unavailable; try again."))
        else:
            outcomes.append(IngestOutcome(file.name, image=image))
    return outcomes


def _duplicate_message(sha256: str) -> str | None:
    """Why an image with these stored bytes is refused, if one is already kept."""
    pending = Image.objects.filter(sha256=sha256).values_list("pending", flat=True).first()
    if pending is None:
        return None
    return _AWAITING if pending else _DUPLICATE


def _read_upload(file: File, limit: int) -> bytes:
    file.seek(0)
    data = file.read(limit + 1)
    if len(data) > limit:  # the declared size was wrong: measure the file itself
        raise imaging.ImageRejected(too_large_message(file.seek(0, os.SEEK_END)), "too_large")
    return data


def too_large_message(size: int) -> str:
    """The one refusal every door shows for a file over MAX_UPLOAD_MB."""
    megabytes = round(size / 1024 / 1024, 1)
    if megabytes <= settings.MAX_UPLOAD_MB:  # just over: never shown as within the limit
        megabytes = math.ceil(size / 1024 / 1024 * 10) / 10
    return f"This file is {megabytes:.1f} MB; the limit is {settings.MAX_UPLOAD_MB} MB."


def _limits() -> imaging.Limits:
    """What an upload may be, from settings (see MAX_IMAGE_PIXELS and MAX_DECODE_MB)."""
    return imaging.Limits(
        max_pixels=settings.MAX_IMAGE_PIXELS,
        max_decode_bytes=settings.MAX_DECODE_MB * 1024 * 1024,
        max_edge=settings.IMAGE_MAX_EDGE,
    )


def _store(processed: imaging.ProcessedImage, *, user, title: str, pending: bool) -> Image:
    """Write every file under a fresh name, then the row; undo the files if the row fails."""
    storage = media_storage()
    written: list[str] = []
    try:
        name = f"images/{uuid.uuid4()}.{processed.extension}"
        written.append(name)  # before saving: a failed write may leave a partial file
        written[-1] = save_file(storage, name, processed.content)
        thumbnails = save_thumbnails(storage, processed.thumbnails, written)
        with transaction.atomic():
            if pending:
                lock_shelf()  # so that visitors uploading at once cannot overfill the queue
                if _queue_full():
                    raise imaging.ImageRejected(QUEUE_FULL, "queue_full")
            return Image.objects.create(
                file=written[0],
                **thumbnails,
                title=title[:200],
                width=processed.width,
                height=processed.height,
                size_bytes=len(processed.content),
                format=processed.format,
                sha256=processed.sha256,
                uploaded_by=user if getattr(user, "is_authenticated", False) else None,
                pending=pending,
            )
    except IntegrityError:
        # Another upload of the same image won the race to the unique sha256.
        discard(storage, written)
        raise UploadRejected(_DUPLICATE, code="duplicate") from None
    except BaseException:
        discard(storage, written)
        raise


def save_thumbnails(storage, thumbnails, written: list[str]) -> dict[str, str]:
    """Write thumbnails under fresh names, each added to `written` (for the caller to undo);
    returns the row's field values: every thumbnail field, empty where there is none."""
    values = dict.fromkeys(THUMBNAIL_FIELDS.values(), "")
    for thumbnail in thumbnails:
        name = f"thumbs/{uuid.uuid4()}.{thumbnail.extension}"
        written.append(name)
        written[-1] = save_file(storage, name, thumbnail.content)
        values[THUMBNAIL_FIELDS[thumbnail.format, thumbnail.width]] = written[-1]
    return values


def save_file(storage, name: str, content: bytes) -> str:
    try:
        return storage.save(name, ContentFile(content))
    except Exception as error:
        raise StorageUnavailable(f"could not write {name}: {error}") from error


def discard(storage, names: Iterable[str]) -> None:
    """Best effort: what cannot be removed now is an orphan for reconcile_media."""
    for name in names:
        try:
            storage.delete(name)
        except Exception:
            logger.warning("event=upload.cleanup_failed file=%s", name, exc_info=True)


# --- Deletion and the limit -------------------------------------------------


def images_delete(pks: Iterable[int], *, reason: str, user=None) -> int:
    """Delete images by primary key; django-cleanup deletes their files after commit."""
    pks = list(pks)
    deleted = 0
    with transaction.atomic():
        for start in range(0, len(pks), DELETE_BATCH):
            batch = Image.objects.filter(pk__in=pks[start : start + DELETE_BATCH])
            for pk, name in batch.values_list("pk", "file"):
                audit("image.deleted", user=username(user), reason=reason, image=pk, file=name)
            deleted += batch.delete()[1].get(Image._meta.label, 0)
    return deleted


def images_remove_missing(pks: Iterable[int], *, user=None) -> list[str]:
    """Delete the images among `pks` whose file is gone; returns their file names.

    Raises StorageUnavailable when storage cannot answer: then nothing is deleted.
    """
    rows = list(Image.objects.filter(pk__in=list(pks)).values_list("pk", "file"))
    present = storage_ops.files_present(media_storage(), [name for _, name in rows])
    missing = [(pk, name) for pk, name in rows if not present.get(name)]
    images_delete([pk for pk, _ in missing], reason="file missing", user=user)
    return [name for _, name in missing]


def images_enforce_limit(*, limit: int | None = None, user=None) -> int:
    """Delete the oldest images beyond the limit; safe to run from many processes at once."""
    limit = settings.IMAGE_LIMIT if limit is None else limit
    with transaction.atomic():
        lock_shelf()
        # Chosen under the lock and deleted by primary key: a concurrent run cannot make
        # us delete an image that became one of the newest after we looked.
        beyond = list(images_beyond_limit(limit).values_list("pk", flat=True))
        deleted = images_delete(beyond, reason="limit", user=user)
    if deleted:
        audit("limit.enforced", user=username(user), limit=limit, deleted=deleted)
    return deleted


def images_beyond_limit(limit: int) -> QuerySet[Image]:
    """The images older than the newest `limit`: what enforcing the limit deletes.
    Pending images are not on the shelf: they never count."""
    return Image.objects.filter(pending=False)[limit:]


def images_delete_all(*, user=None) -> int:
    """Delete every image and, after commit, every file."""
    with transaction.atomic():
        lock_shelf()
        deleted = images_delete(
            Image.objects.values_list("pk", flat=True), reason="delete-all", user=user
        )
    audit("shelf.emptied", user=username(user), deleted=deleted)
    return deleted


def lock_shelf() -> None:
    """Serialise shelf-wide changes until the transaction ends."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_SHELF_LOCK_KEY])
    # SQLite: transactions begin IMMEDIATE (see settings), which already serialises writers.


# --- The shelf version ------------------------------------------------------


def shelf_changed() -> None:
    """Count a change to the shelf, in the same transaction as the change."""
    row = ShelfVersion.objects.filter(pk=ShelfVersion.ROW)
    a_second_later = ExpressionWrapper(
        F("changed_at") + timedelta(seconds=1), output_field=DateTimeField()
    )
    bump = {
        "version": F("version") + 1,
        "changed_at": Greatest(Value(timezone.now()), a_second_later),
    }
    if not row.update(**bump):
        # The row is gone (a `flush`): make it again, then count. get_or_create waits for a
        # concurrent creator and takes its row, so no change goes uncounted.
        ShelfVersion.objects.get_or_create(pk=ShelfVersion.ROW)
        row.update(**bump)
