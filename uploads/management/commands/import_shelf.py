"""manage.py import_shelf: restore a shelf archive (export_shelf's, or the admin's download)
into this deployment, on local disk or S3.

Every image is checked as an upload is, then stored as it is, with its title, description,
date and pending state; images already here (by SHA-256) are skipped, and the limits apply
after. An image that fails its checks is named and left out, the others are stored, and
the command exits 2. Exit status 2 also means refused, nothing stored (the archive's
structure or manifest, storage not this deployment's, local media on a Heroku one-off
dyno), or storage failed midway (run it again: what is stored is skipped).
docs/operations.md says the same for people."""

from __future__ import annotations

from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from uploads.management.base import EXIT_REFUSED, ShelfCommand
from uploads.shelf.archive import shelf_import


class Command(ShelfCommand):
    help = gettext_lazy(
        "Restore a shelf archive into this deployment: each image checked as an upload is, "
        "stored as it is; images already here are skipped. Exit status: 0 restored; 1 bad "
        "arguments or an unreadable file; 2 an image failed its checks (the others are "
        "stored), the archive was refused (nothing stored), or storage failed."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("archive", help=_("The zip file to restore."))
        parser.add_argument("--dry-run", action="store_true", help=_("Store nothing."))

    def handle(self, *args, archive: str, dry_run: bool, **options) -> None:
        report = shelf_import(archive, dry_run=dry_run, progress=self.stdout.write)
        if dry_run:
            message = _("Dry run: would store %(images)d image(s); %(skipped)d already here.")
        else:
            message = _(
                "Stored %(images)d image(s); %(skipped)d already here; %(not_stored)d not "
                "stored; %(removed)d removed by the limit."
            )
        self.stdout.write(message % report)
        if report["refused"]:  # named above, each with its reason
            failed = _("%d image(s) failed their checks.") % report["refused"]
            raise CommandError(failed, returncode=EXIT_REFUSED)
