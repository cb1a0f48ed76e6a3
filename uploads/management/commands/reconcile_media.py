"""manage.py reconcile_media: make rows and stored files agree, on local disk or S3.

It deletes rows whose image file is missing, regenerates missing thumbnails, deletes
unreferenced files under images/ and thumbs/ (sparing young ones) and abandoned import
previews, and deletes rows beyond the limit."""

from __future__ import annotations

import json
from datetime import timedelta

from django.conf import settings
from django.core.management.base import CommandError
from django.db import DatabaseError
from django.utils.translation import gettext_lazy as _

from uploads.management.base import EXIT_CONFIGURATION, EXIT_REFUSED, ShelfCommand
from uploads.media.reconcile import ReconcileReport, media_reconcile
from uploads.media.storage import NotOurStorage, StorageMisconfigured, StorageUnavailable
from uploads.shelf.deletion import AllFilesMissing

SHOWN_NAMES = 10
MAX_GRACE_MINUTES = 10 * 365 * 24 * 60  # ten years: more would overflow the date arithmetic
# What the report says of each category it names files of (in LANGUAGE_CODE), as done...
DONE = {
    "missing_image": _("Deleted %(count)s row(s) whose image file is missing"),
    "thumbnails_regenerated": _("Regenerated %(count)s missing thumbnail(s)"),
    "orphans_deleted": _("Deleted %(count)s unreferenced file(s)"),
    "orphans_spared": _(
        "Spared %(count)s unreferenced file(s) younger than %(grace)s minutes "
        "(perhaps uploads in progress)"
    ),
    "beyond_limit": _("Deleted %(count)s row(s) beyond the limit of %(limit)s"),
    "import_previews_deleted": _("Deleted %(count)s abandoned import preview file(s)"),
}
# ... and as a dry run would do it.
WOULD = {
    **DONE,
    "missing_image": _("Would delete %(count)s row(s) whose image file is missing"),
    "thumbnails_regenerated": _("Would regenerate %(count)s missing thumbnail(s)"),
    "orphans_deleted": _("Would delete %(count)s unreferenced file(s)"),
    "beyond_limit": _("Would delete %(count)s row(s) beyond the limit of %(limit)s"),
    "import_previews_deleted": _("Would delete %(count)s abandoned import preview file(s)"),
}


class Command(ShelfCommand):
    help = (
        "Make rows and stored files agree (docs/operations.md). Exit status: 0 clean or "
        "repaired, 1 bad arguments or configuration, 2 refused: storage or the database "
        "unavailable, storage holding none of the rows' files, or another deployment's "
        "(nothing was deleted)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Report; change nothing.")
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")
        parser.add_argument("--limit", type=int, help="Images to keep (default: IMAGE_LIMIT).")
        parser.add_argument(
            "--skip-orphans",
            action="store_true",
            help="Leave unreferenced files and import previews alone.",
        )
        parser.add_argument(
            "--orphan-grace",
            type=float,
            default=settings.ORPHAN_GRACE_MINUTES,
            metavar="MINUTES",
            help="Spare unreferenced files younger than this (default: ORPHAN_GRACE_MINUTES).",
        )
        parser.add_argument(
            "--allow-all-missing",
            action="store_true",
            help="Repair even when storage holds none of the rows' files (by default that "
            "stops the run: it usually means the wrong directory or bucket).",
        )

    def handle(self, *args, **options) -> None:
        limit = settings.IMAGE_LIMIT if options["limit"] is None else options["limit"]
        grace = options["orphan_grace"]
        if limit < 0 or not 0 <= grace <= MAX_GRACE_MINUTES:  # NaN fails both comparisons
            message = _(
                "--limit (and IMAGE_LIMIT) must be >= 0, and --orphan-grace between 0 and "
                "%(most)s minutes."
            ) % {"most": MAX_GRACE_MINUTES}
            self._fail(message, options, EXIT_CONFIGURATION)
        show_progress = options["verbosity"] >= 1 and not options["json"]
        try:
            report = media_reconcile(
                dry_run=options["dry_run"],
                limit=limit,
                skip_orphans=options["skip_orphans"],
                grace=timedelta(minutes=grace),
                allow_all_missing=options["allow_all_missing"],
                progress=self.stderr.write if show_progress else None,
            )
        except StorageMisconfigured as error:
            self._fail(_("Storage is misconfigured; nothing was changed. %s") % error, options, 1)
        except StorageUnavailable as error:
            self._fail(_("Storage is unavailable; nothing was changed. %s") % error, options, 2)
        except (AllFilesMissing, NotOurStorage, DatabaseError) as error:
            self._fail(str(error), options, EXIT_REFUSED)
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), indent=2))
        else:
            self._print(report)
        if report.errors:
            failed = _("%(count)s operation(s) failed, as listed above; the rest was done.")
            raise CommandError(failed % {"count": len(report.errors)}, returncode=EXIT_REFUSED)

    def _fail(self, message: str, options, returncode: int) -> None:
        if options["json"]:
            self.stdout.write(json.dumps({"dry_run": options["dry_run"], "error": message}))
        raise CommandError(message, returncode=returncode)

    def _print(self, report: ReconcileReport) -> None:
        listed = _("Listed %(files)s files under images/ and thumbs/; checked %(rows)s rows.")
        self.stdout.write(listed % {"files": report.files_listed, "rows": report.rows_checked})
        facts = {"grace": f"{report.grace_minutes:g}", "limit": report.limit}
        for category, template in (WOULD if report.dry_run else DONE).items():
            if names := getattr(report, category):
                more = len(names) - SHOWN_NAMES
                more = _(" and %(count)s more") % {"count": more} if more > 0 else ""
                shown = ", ".join(names[:SHOWN_NAMES])
                self.stdout.write(f"{template % {**facts, 'count': len(names)}}: {shown}{more}")
        for error in report.errors:
            self.stderr.write(self.style.ERROR(error))
        if report.clean:
            self.stdout.write(self.style.SUCCESS(_("Nothing to repair: rows and files agree.")))
        elif report.dry_run:
            self.stdout.write(_("Dry run: nothing was changed."))
