"""The reconcile service: make rows and stored files agree again, on disk or on S3.

One listing of storage, a streamed pass over the rows, batched deletes: the cost grows
linearly with the shelf, never with one storage request per row. When storage cannot be
listed nothing is concluded and nothing is deleted (StorageUnavailable propagates).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from uploads.shelf import services

from uploads.media import storage

from uploads.shelf import thumbnails

from uploads.ingest import variants
from uploads.models import THUMBNAIL_FIELDS, Image

logger = logging.getLogger(__name__)

PREFIXES = ("images/", "thumbs/")
# django-import-export keeps each import preview's file here until it is confirmed; one
# neither confirmed nor retried within this time was abandoned (there is no "cancel").
IMPORT_PREVIEWS = "django-import-export/"
IMPORT_PREVIEW_AGE = timedelta(hours=1)
ROW_BATCH = 2000  # rows fetched per round trip; also the size of each DELETE
PROGRESS_EVERY = 10_000


class AllFilesMissing(Exception):
    """Storage holds none of the files the rows name: more likely the wrong place than a
    shelf that lost everything (a one-off dyno's empty disk, a wrong bucket or prefix)."""


@dataclass
class ReconcileReport:
    """What reconcile found and did (or, in a dry run, would do), by category."""

    dry_run: bool
    limit: int
    grace_minutes: float
    files_listed: int = 0
    rows_checked: int = 0
    missing_image: list[str] = field(default_factory=list)
    thumbnails_regenerated: list[str] = field(default_factory=list)
    orphans_deleted: list[str] = field(default_factory=list)
    orphans_spared: list[str] = field(default_factory=list)
    beyond_limit: list[str] = field(default_factory=list)
    import_previews_deleted: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (
            self.missing_image
            or self.thumbnails_regenerated
            or self.orphans_deleted
            or self.beyond_limit
            or self.import_previews_deleted
            or self.errors
        )

    def as_dict(self) -> dict:
        data = asdict(self)
        for name in (
            "missing_image",
            "thumbnails_regenerated",
            "orphans_deleted",
            "orphans_spared",
            "beyond_limit",
            "import_previews_deleted",
        ):
            data[name] = {"count": len(data[name]), "names": data[name]}
        return data


@dataclass
class _Plan:
    missing: list[tuple[int, str, list[str]]] = field(default_factory=list)  # (pk, file, thumbs)
    regenerate: list[int] = field(default_factory=list)
    beyond: list[tuple[int, str, list[str]]] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    import_previews: list[str] = field(default_factory=list)


def media_reconcile(
    *,
    dry_run: bool = False,
    limit: int | None = None,
    skip_orphans: bool = False,
    grace: timedelta | None = None,
    allow_all_missing: bool = False,
    progress: Callable[[str], None] | None = None,
) -> ReconcileReport:
    """Delete rows whose image is gone, regenerate missing thumbnails, delete orphan files
    and abandoned import previews, and trim the shelf to the limit (pending images are
    checked too, but never trimmed).

    Raises StorageUnavailable when storage cannot be listed, and AllFilesMissing (unless
    allow_all_missing) when it holds none of the rows' files; either way nothing changes.
    """
    limit = settings.IMAGE_LIMIT if limit is None else limit
    grace = timedelta(minutes=settings.ORPHAN_GRACE_MINUTES) if grace is None else grace
    progress = progress or (lambda message: None)
    media = storage.media_storage()
    started = timezone.now()

    listed = _list_media(media, progress)  # raises StorageUnavailable: then nothing changes
    report = ReconcileReport(dry_run, limit, grace.total_seconds() / 60, files_listed=len(listed))
    plan, referenced = _plan_rows(report, listed, started, progress)
    if plan.missing and referenced.isdisjoint(listed) and not allow_all_missing:
        raise AllFilesMissing(
            f"None of the {len(referenced)} files that the {report.rows_checked} rows name is "
            f"in {storage.location(media)}, so nothing was changed: check the storage settings. "
            "If that storage really lost every file, run again with --allow-all-missing."
        )
    if not skip_orphans:
        for name, modified in sorted(listed.items()):
            if name in referenced:
                continue
            if modified <= started - grace:
                plan.orphans.append(name)
            else:
                report.orphans_spared.append(name)  # maybe an upload in flight
        plan.import_previews = [
            stored.name
            for stored in storage.list_files(media, IMPORT_PREVIEWS)
            if stored.modified <= started - IMPORT_PREVIEW_AGE
        ]

    report.missing_image = [file for _, file, _ in plan.missing]
    report.beyond_limit = [file for _, file, _ in plan.beyond]
    report.orphans_deleted = list(plan.orphans)
    report.import_previews_deleted = list(plan.import_previews)
    if dry_run:
        report.thumbnails_regenerated = _names(plan.regenerate)
    else:
        _apply(plan, report, media, progress)
    services.audit(
        "reconcile",
        dry_run=dry_run,
        missing_rows=len(report.missing_image),
        thumbnails=len(report.thumbnails_regenerated),
        orphans=len(report.orphans_deleted),
        beyond_limit=len(report.beyond_limit),
        import_previews=len(report.import_previews_deleted),
        errors=len(report.errors),
    )
    return report


def _list_media(media, progress) -> dict[str, datetime]:
    listed: dict[str, datetime] = {}
    for prefix in PREFIXES:
        for stored in storage.list_files(media, prefix):
            listed[stored.name] = stored.modified
        progress(f"Listed {len(listed):,} files so far (through {prefix}).")
    return listed


def _plan_rows(report, listed, started, progress) -> tuple[_Plan, set[str]]:
    """One streamed pass over the rows, newest first; nothing is changed here."""
    plan = _Plan()
    referenced: set[str] = set()
    kept = 0
    rows = (
        Image.objects.order_by("-uploaded_at", "-id")
        .values_list(
            "pk", "file", "uploaded_at", "pending", "width", "height", *THUMBNAIL_FIELDS.values()
        )
        .iterator(chunk_size=ROW_BATCH)
    )
    for pk, file, uploaded_at, pending, width, height, *thumbs in rows:
        referenced.add(file)
        referenced.update(thumbs)
        report.rows_checked += 1
        if report.rows_checked % PROGRESS_EVERY == 0:
            progress(f"Checked {report.rows_checked:,} rows.")
        # A row newer than the listing may have files the listing could not see: keep it.
        if uploaded_at < started and file not in listed:
            plan.missing.append((pk, file, thumbs))
        elif not pending and kept >= report.limit:  # waiting images are not on the shelf
            plan.beyond.append((pk, file, thumbs))
        else:
            if not pending:
                kept += 1
            if uploaded_at < started and _thumbnail_missing(thumbs, (width, height), listed):
                plan.regenerate.append(pk)
    referenced.discard("")
    return plan, referenced


def _thumbnail_missing(thumbs: list[str], size: tuple[int, int], listed) -> bool:
    """Whether a thumbnail the image should have is not in storage (or not on the row:
    images stored before a format or width was added get theirs this way)."""
    expected = {
        THUMBNAIL_FIELDS[fmt, width] for fmt in variants.FORMATS for width in variants.sizes(size)
    }
    names = dict(zip(THUMBNAIL_FIELDS.values(), thumbs, strict=True))
    return any(names[field] not in listed for field in expected)


def _apply(plan: _Plan, report: ReconcileReport, media, progress) -> None:
    doomed = plan.missing + plan.beyond
    if doomed:
        with transaction.atomic():
            services.lock_shelf()
            _delete_rows([pk for pk, _, _ in doomed])
            services.shelf_changed()
            names = [name for _, file, thumbs in doomed for name in (file, *thumbs) if name]
            transaction.on_commit(lambda: _delete_files(media, names, report))
        for reason, rows in (("file missing", plan.missing), ("limit", plan.beyond)):
            for pk, file, _ in rows:
                services.audit(
                    "image.deleted", user="reconcile", reason=reason, image=pk, file=file
                )
        progress(f"Deleted {len(doomed):,} rows.")
    if plan.orphans:
        _delete_files(media, plan.orphans, report)
        progress(f"Deleted {len(plan.orphans):,} unreferenced files.")
    if plan.import_previews:
        _delete_files(media, plan.import_previews, report)
    for image in Image.objects.filter(pk__in=plan.regenerate):
        try:
            thumbnails.image_regenerate_thumbnails(image)
        except Exception as error:  # one unreadable image must not stop the repair
            logger.exception("could not regenerate the thumbnails of %s", image.file.name)
            report.errors.append(f"thumbnails for {image.file.name}: {error}")
        else:
            report.thumbnails_regenerated.append(image.file.name)


def _delete_rows(pks: list[int]) -> None:
    """Plain batched DELETEs. The ORM's collector would cost a query per 100 rows and, via
    django-cleanup, a storage request per file; reconcile deletes the files itself, in
    batches, after commit."""
    table = connection.ops.quote_name(Image._meta.db_table)
    column = connection.ops.quote_name(Image._meta.pk.column)
    with connection.cursor() as cursor:
        for start in range(0, len(pks), ROW_BATCH):
            batch = pks[start : start + ROW_BATCH]
            placeholders = ", ".join(["%s"] * len(batch))
            cursor.execute(f"DELETE FROM {table} WHERE {column} IN ({placeholders})", batch)


def _delete_files(media, names: list[str], report: ReconcileReport) -> None:
    failed = storage.delete_files(media, names)
    report.errors.extend(f"could not delete {name}" for name in failed)


def _names(pks: list[int]) -> list[str]:
    names = dict(Image.objects.filter(pk__in=pks).values_list("pk", "file"))
    return [names[pk] for pk in pks if pk in names]
