"""manage.py export_shelf: the shelf as one zip archive, for import_shelf."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from uploads.management.base import ShelfCommand
from uploads.shelf.archive import shelf_export


class Command(ShelfCommand):
    help = gettext_lazy(
        "Write every image, as stored, and a manifest to a zip archive for import_shelf. Exit "
        "status: 0 written; 1 bad arguments, or the file cannot be written; 2 refused: storage "
        "unavailable, or local media on a Heroku one-off dyno (use the admin's download)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "archive", help=_("The zip file to write: a new file, never an existing one.")
        )

    def handle(self, *args, archive: str, **options) -> None:
        report = shelf_export(archive, self.stdout.write)
        counts = {"images": report["images"], "missing": report["skipped"], "path": archive}
        message = _("Exported %(images)d image(s) to %(path)s; %(missing)d missing from storage.")
        self.stdout.write(message % counts)
