"""The services that put images on the shelf: ingest, the one door for every upload, and
thumbnails remade from a stored image. Deletions live in uploads/shelf/deletion.py."""

from __future__ import annotations

import math
import os
import tempfile
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import IntegrityError, transaction
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

from uploads.ingest import imaging, variants
from uploads.ingest.decode_lock import DeadlinePassed, check_deadline, decode_turn
from uploads.media import storage
from uploads.media.storage import StorageUnavailable
from uploads.models import Image
from uploads.shelf import changes, ownership
from uploads.shelf.audit import audit, logger, username
from uploads.shelf.deletion import images_enforce_limit, lock_shelf, remove_files

DUPLICATE = _("This image is already on the shelf.")
AWAITING = _("This image is already waiting for approval.")
QUEUE_FULL = _(
    "Too many images are waiting for approval right now, so yours was not stored. "
    "Please try again later."
)
MB = 1024 * 1024  # MAX_UPLOAD_MB's megabyte, and that of every size shown
Encoded = imaging.ProcessedImage | variants.Thumbnail  # a file to store: extension, content


class UploadRejected(ValidationError):
    """An upload refused for a reason the person who sent it can act on."""


def max_upload_bytes() -> int:
    """The most bytes one uploaded file may have (MAX_UPLOAD_MB, read on every call)."""
    return settings.MAX_UPLOAD_MB * MB


def megabytes(size: int, *, over: int | None = None) -> str:
    """`size` bytes in MB to one decimal, as the language writes it. A size refused for being
    `over` a limit of that many MB is rounded up where rounding would show it within it."""
    exact = size / MB * 10
    tenths = math.ceil(exact) if over is not None and round(exact) <= over * 10 else round(exact)
    if size and not tenths:  # a few KB: never "0.0 MB", as if the file were empty
        return f"< {number_format(0.1, 1)} MB"
    return f"{number_format(tenths / 10, 1)} MB"


def too_large_message(size: int) -> str:
    """The one refusal every door shows for a file over MAX_UPLOAD_MB."""
    facts = {"size": megabytes(size, over=settings.MAX_UPLOAD_MB), "limit": settings.MAX_UPLOAD_MB}
    return _("This file is %(size)s; the limit is %(limit)s MB.") % facts


def image_ingest(
    file: File, *, user=None, title: str = "", description: str = "", pending: bool = False
) -> Image:
    """Validate, normalise and store one upload: the one door for every upload.

    A pending upload (a visitor's, with PUBLIC_UPLOADS=moderated) waits for approval, off
    the page and outside the limit; it is refused while PENDING_LIMIT of them wait."""
    who = username(user)
    filename = getattr(file, "name", "") or ""
    try:
        if pending and _queue_full():  # before any decoding: the answer is no anyway
            raise imaging.ImageRejected(QUEUE_FULL, "queue_full")
        if file.size is not None and file.size > max_upload_bytes():  # before waiting a turn
            raise imaging.ImageRejected(too_large_message(file.size), "too_large")
        ownership.require_own(mark_new=True)  # only storage that is ours gets our files
        # One ingest per dyno at a time, from reading the bytes to encoding what they make
        # (into temporary files): no other upload's pixels are in memory meanwhile. The
        # files are written to storage after the turn, so slow storage holds up only this.
        with decode_turn():
            processed = imaging.process(_read_upload(file), ingest_limits())
            if (duplicate := _duplicate_message(processed.sha256)) is not None:
                raise imaging.ImageRejected(duplicate, "duplicate")
        title = title.strip() or imaging.clean_title(filename)
        image = image_store(
            processed, user=user, title=title, description=description.strip(), pending=pending
        )
        if not pending:  # the oldest make way (their files go while the answer does)
            transaction.on_commit(images_enforce_limit, robust=True)
    except imaging.ImageRejected as rejection:
        audit("upload.refused", user=who, reason=rejection.code, filename=filename)
        raise UploadRejected(str(rejection), code=rejection.code) from None
    image.changes_note = changes.note(processed.changes, image)  # for the door's message
    # An animation keeps only its first frame: say so in the log line.
    flags = {"first_frame_of_animation": "first_frame" in processed.changes, "pending": pending}
    extra = {name: "yes" for name, flag in flags.items() if flag}
    audit(
        "upload.stored", user=who, image=image.pk, file=image.file.name, filename=filename, **extra
    )
    return image


@dataclass(frozen=True)
class IngestOutcome:
    """One file of a bulk upload: the image stored, or why it was refused."""

    filename: str
    image: Image | None = None
    error: str = ""


def images_ingest_many(uploads: Iterable[tuple[File, str]], *, user=None) -> list[IngestOutcome]:
    """Ingest (file, description) pairs one by one; a refusal does not stop the others."""
    return [_ingest_one(file, text, user) for file, text in uploads]


def _ingest_one(file: File, text: str, user) -> IngestOutcome:
    try:
        return IngestOutcome(file.name, image=image_ingest(file, user=user, description=text))
    except UploadRejected as rejection:
        return IngestOutcome(file.name, error=" ".join(rejection.messages))
    except StorageUnavailable:
        return IngestOutcome(file.name, error=storage.UNAVAILABLE)


def _queue_full() -> bool:
    return Image.objects.filter(pending=True).count() >= settings.PENDING_LIMIT


def _duplicate_message(sha256: str) -> str | None:
    """Why an image with these stored bytes is refused, if one is already kept."""
    pending = Image.objects.filter(sha256=sha256).values_list("pending", flat=True).first()
    return None if pending is None else AWAITING if pending else DUPLICATE


def _read_upload(file: File) -> bytes:
    limit = max_upload_bytes()
    file.seek(0)
    data = file.read(limit + 1)
    if len(data) > limit:  # the declared size was wrong: measure the file itself
        raise imaging.ImageRejected(too_large_message(file.seek(0, os.SEEK_END)), "too_large")
    return data


def ingest_limits() -> imaging.Limits:
    """What an upload may be, from settings (see MAX_IMAGE_PIXELS and MAX_DECODE_MB)."""
    return imaging.Limits(
        settings.MAX_IMAGE_PIXELS, settings.MAX_DECODE_MB * MB, settings.IMAGE_MAX_EDGE
    )


def image_store(
    processed: imaging.ProcessedImage, *, user, title: str, pending: bool, **fields
) -> Image:
    """Write every file under a fresh name, then the row (if the request's deadline has not
    passed meanwhile: see _save); undo the files if the row fails. `fields`: the row's
    other values (uploads/shelf/archive.py restores a description and a date)."""
    written: list[str] = []
    try:
        file = _save("images", processed, written)
        thumbnails = _save_thumbnails(processed.thumbnails, written)
        with transaction.atomic():
            if pending:
                lock_shelf()  # so that visitors uploading at once cannot overfill the queue
                if _queue_full():
                    raise imaging.ImageRejected(QUEUE_FULL, "queue_full")
            return Image.objects.create(
                file=file,
                thumbnails=thumbnails,
                title=title[:200],
                width=processed.width,
                height=processed.height,
                size_bytes=processed.content.seek(0, os.SEEK_END),
                format=processed.format,
                sha256=processed.sha256,
                uploaded_by=user if getattr(user, "is_authenticated", False) else None,
                pending=pending,
                **fields,
            )
    except IntegrityError:
        # Another upload of the same image won the race to the unique sha256: refused as
        # any duplicate is (image_ingest audits it).
        _discard(written)
        raise imaging.ImageRejected(DUPLICATE, "duplicate") from None
    except BaseException:
        _discard(written)
        raise


def _save(folder: str, encoded: Encoded, written: list[str]) -> str:
    """Write an encoded file as "<folder>/<uuid4>.<extension>"; returns the name stored."""
    # Noted before saving: a failed write may leave a partial file.
    written.append(f"{folder}/{uuid.uuid4()}.{encoded.extension}")
    written[-1] = storage.save_file(written[-1], encoded.content)
    # After every write, and so before the row commits: an upload past its deadline stops
    # (its answer would come after the router has given up) and stores nothing.
    check_deadline()
    return written[-1]


def _save_thumbnails(thumbnails: list[variants.Thumbnail], written: list[str]) -> dict:
    """Write thumbnails under fresh names: the row's `thumbnails` value."""
    return {thumbnail.key: _save("thumbs", thumbnail, written) for thumbnail in thumbnails}


def _discard(names: list[str]) -> None:
    """Best effort, off a request's answer: what is not removed is an orphan for reconcile."""
    for name in remove_files(names):
        logger.warning("event=upload.cleanup_failed file=%s", name)


def images_regenerate_thumbnails(images: Iterable[Image]) -> tuple[list[str], list[str]]:
    """Regenerate each image's thumbnails; returns (done, failed) as image file names."""
    ownership.require_own()  # old thumbnails are deleted: storage must be ours
    done, failed = [], []
    for image in images:
        try:
            image_regenerate_thumbnails(image)
            done.append(image.file.name)
        except DeadlinePassed:
            raise  # the request's time is up: the 503 page, not one failure per image
        except Exception:  # one unreadable image must not stop the others
            logger.exception("event=thumbnail.failed image=%s", image.pk)
            failed.append(image.file.name)
    return done, failed


def image_regenerate_thumbnails(image: Image) -> None:
    """Make every thumbnail afresh from the stored image, in one decode; the old files are
    deleted after commit."""
    with tempfile.TemporaryFile() as copy:  # on disk while it waits for a turn
        # FileNotFoundError when the image itself is gone: a missing file, not an outage.
        copy.writelines(storage.read_chunks(image.file.name))
        with decode_turn():
            thumbnails = variants.make_from_stored(copy, image.format)
    written: list[str] = []
    try:
        new = _save_thumbnails(thumbnails, written)
        with transaction.atomic():
            old = list(Image.objects.filter(pk=image.pk).values_list("thumbnails", flat=True))
            Image.objects.filter(pk=image.pk).update(thumbnails=new)
            replaced = [name for names in old for name in names.values()]
            transaction.on_commit(lambda: _discard(replaced), robust=True)
    except BaseException:
        _discard(written)
        raise
    image.thumbnails = new
    audit("thumbnail.regenerated", image=image.pk, files=len(written))
