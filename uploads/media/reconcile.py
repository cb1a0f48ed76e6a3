"""reconcile_media's service: make rows and stored files agree again, on disk or on S3.

One listing of storage, one streamed pass over the rows, then the shelf's own services:
missing rows and the limit go through the one deletion path (a dry run is the same work,
rolled back), and files are deleted in batches. When storage cannot be listed nothing is
concluded and nothing is deleted (StorageUnavailable propagates).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from uploads.ingest import variants
from uploads.media import storage
from uploads.models import Image
from uploads.shelf import deletion, ownership, services
from uploads.shelf.audit import audit

# django-import-export keeps each import preview's file here until it is confirmed; one
# neither confirmed nor retried within this time was abandoned (there is no "cancel").
IMPORT_PREVIEWS = "django-import-export/"
IMPORT_PREVIEW_AGE = timedelta(hours=1)
ROW_BATCH = 2000  # rows fetched per round trip
PROGRESS_EVERY = 10_000
# What a run changes (or, in a dry run, would change); the report also names what it spares.
CHANGES = (
    "missing_image",
    "thumbnails_regenerated",
    "orphans_deleted",
    "beyond_limit",
    "import_previews_deleted",
)


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
        """Nothing to change (what is spared is not a change) and nothing failed."""
        return not (self.errors or any(getattr(self, name) for name in CHANGES))

    def as_dict(self) -> dict:
        data = asdict(self)
        for name in (*CHANGES, "orphans_spared"):  # each list of names, with its count
            data[name] = {"count": len(data[name]), "names": data[name]}
        return data


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
    and abandoned import previews, and trim the shelf to the limit.

    Raises StorageUnavailable when storage cannot be listed, NotOurStorage when it is not
    this deployment's, and AllFilesMissing (unless allow_all_missing) when it holds none of
    the rows' files; in each case nothing changes.
    """
    ownership.require_own()
    limit = settings.IMAGE_LIMIT if limit is None else limit
    grace = timedelta(minutes=settings.ORPHAN_GRACE_MINUTES) if grace is None else grace
    progress = progress or (lambda message: None)
    started = timezone.now()
    # The newest row before the listing: every row up to it wrote its files before that row
    # was inserted, so before the listing. A row after it may have files the listing missed,
    # whatever its date (an archive's import keeps the archive's): it is spared.
    last_pk = Image.objects.aggregate(newest=Max("pk"))["newest"] or 0
    listed: dict[str, datetime] = {}
    for prefix in storage.PREFIXES:
        listed.update(storage.list_files(prefix))  # (name, modified) pairs
        progress(_("Listed %s files so far.") % len(listed))
    # Listed before anything changes: an outage after the deletions would misreport them.
    previews = [] if skip_orphans else list(storage.list_files(IMPORT_PREVIEWS))
    report = ReconcileReport(dry_run, limit, grace.total_seconds() / 60, files_listed=len(listed))
    referenced, regenerate = _check_rows(report, listed, last_pk, progress)

    with transaction.atomic():
        missing = deletion.images_remove_missing(
            Image.objects.filter(pk__lte=last_pk),
            present=set(listed),
            allow_all_missing=allow_all_missing,
        )
        beyond = deletion.images_enforce_limit(limit=limit)
        transaction.set_rollback(dry_run)  # a dry run reports the same work, undone
    report.missing_image = [image.file.name for image in missing]
    report.beyond_limit = [image.file.name for image in beyond]
    report.errors += [f"could not delete {name}" for name in missing.failed + beyond.failed]
    gone = set(report.missing_image) | set(report.beyond_limit)
    regenerate = [image for image in regenerate if image.file.name not in gone]

    if not skip_orphans:
        # A marker there is a deployment's whose AWS_LOCATION is images or thumbs: not ours.
        orphans = sorted(
            n for n in listed if n not in referenced and not n.endswith(ownership.MARKER)
        )
        report.orphans_deleted = [name for name in orphans if listed[name] <= started - grace]
        # The young are spared: maybe uploads in flight.
        report.orphans_spared = [name for name in orphans if listed[name] > started - grace]
        report.import_previews_deleted = [
            stored.name for stored in previews if stored.modified <= started - IMPORT_PREVIEW_AGE
        ]
    if dry_run:
        report.thumbnails_regenerated = [image.file.name for image in regenerate]
    else:
        _repair(report, regenerate, progress)
    counts = {name: len(getattr(report, name)) for name in CHANGES}
    audit("reconcile", dry_run=dry_run, **counts, errors=len(report.errors))
    return report


def _check_rows(report, listed, last_pk, progress) -> tuple[set[str], list[Image]]:
    """One streamed pass over the rows (values, not model instances): every name they
    reference, and the images whose thumbnails are missing (or were never made: images
    stored before a format or width was added get theirs this way)."""
    referenced: set[str] = set()
    regenerate = []
    rows = Image.objects.values_list("pk", "file", "thumbnails", "width", "height")
    for pk, file, thumbs, width, height in rows.iterator(chunk_size=ROW_BATCH):
        referenced.update([file, *thumbs.values()])
        report.rows_checked += 1
        if report.rows_checked % PROGRESS_EVERY == 0:
            progress(_("Checked %s rows.") % report.rows_checked)
        if pk <= last_pk and file in listed:
            widths = variants.sizes((width, height))
            expected = (variants.key(fmt, shown) for fmt in variants.FORMATS for shown in widths)
            if any(thumbs.get(key) not in listed for key in expected):
                regenerate.append(pk)
    return referenced, list(Image.objects.filter(pk__in=regenerate).order_by("pk"))


def _repair(report: ReconcileReport, regenerate: list[Image], progress) -> None:
    for names in (report.orphans_deleted, report.import_previews_deleted):
        report.errors.extend(f"could not delete {name}" for name in storage.delete_files(names))
    if report.orphans_deleted:
        progress(_("Deleted %s unreferenced files.") % len(report.orphans_deleted))
    for image in regenerate:
        try:
            services.image_regenerate_thumbnails(image)
            report.thumbnails_regenerated.append(image.file.name)
        except Exception as error:  # one unreadable image must not stop the repair
            report.errors.append(f"thumbnails for {image.file.name}: {error}")
