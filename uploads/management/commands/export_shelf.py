"""manage.py export_shelf: the shelf as one zip archive, for import_shelf."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from uploads.management.base import ShelfCommand
from uploads.shelf.archive import shelf_export


class Command(ShelfCommand):
    help = gettext_lazy(
        "Write every image (pending ones too), as stored, and a manifest of their titles, "
        "descriptions, dates and SHA-256 digests to a zip archive that import_shelf restores. "
        "Exit status: 0 written; 1 bad arguments, or the file cannot be written; 2 refused: "
        "storage unavailable, or local media on a Heroku one-off dyno (download the archive "
        "from the admin instead). A failed export leaves no file."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("archive", help=_("The zip file to write."))

    def handle(self, *args, archive: str, **options) -> None:
        with self.exit_statuses():
            report = shelf_export(archive, self.stdout.write)
        counts = {"images": len(report.images), "missing": len(report.skipped), "path": archive}
        message = _("Exported %(images)d image(s) to %(path)s; %(missing)d missing from storage.")
        self.stdout.write(message % counts)
