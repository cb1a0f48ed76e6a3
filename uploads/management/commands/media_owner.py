"""manage.py media_owner: whose the media storage is; adopting it; a new identity."""

from __future__ import annotations

import uuid

from django.core.management.base import CommandError

from uploads.management.base import ShelfCommand
from uploads.media import storage
from uploads.models import Deployment, Image
from uploads.shelf import ownership


class Command(ShelfCommand):
    help = (
        "Show this deployment's identity and whose the media storage is (its marker). "
        "--claim adopts the storage, after showing what it holds; it refuses files no row "
        "references unless --allow-unreferenced. --new-identity gives a database copied "
        "from another app an identity of its own."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--claim", action="store_true", help="Mark the storage as ours.")
        parser.add_argument("--dry-run", action="store_true", help="With --claim: only show.")
        parser.add_argument(
            "--allow-unreferenced",
            action="store_true",
            help="With --claim: adopt it even with files no row references.",
        )
        parser.add_argument(
            "--new-identity",
            action="store_true",
            help="Give this database a new identity (a copy of another app's).",
        )

    def handle(self, *args, **options) -> None:
        if (options["dry_run"] or options["allow_unreferenced"]) and not options["claim"]:
            raise CommandError("--dry-run and --allow-unreferenced go with --claim.")
        # Storage that does not answer exits 2 with the reason (ShelfCommand): nothing changed.
        found = ownership.marker()
        if options["new_identity"]:
            Deployment.objects.update_or_create(pk=1, defaults={"identity": uuid.uuid4()})
        ours = ownership.identity()
        where = storage.location(storage.media_storage())
        marked = f"is marked as {found}'s" if found else "carries no owner marker"
        self.stdout.write(f"This deployment is {ours}; {where} {marked}.")
        if options["claim"] and found != ours:
            self._claim(options)

    def _claim(self, options) -> None:
        listed = [file.name for prefix in storage.PREFIXES for file in storage.list_files(prefix)]
        rows = Image.objects.only("file", "thumbnails").iterator()
        referenced = {name for image in rows for name in image.stored_names()}
        strangers = [name for name in listed if name not in referenced]
        summary = f"It holds {len(listed)} files; {len(strangers)} of them no row references"
        self.stdout.write(summary + (f", e.g. {', '.join(strangers[:5])}." if strangers else "."))
        if strangers and not options["allow_unreferenced"]:
            # Not provably ours: ShelfCommand exits 2 with the reason.
            raise storage.NotOurStorage(
                "Refused: files no row of this database references may be another "
                "deployment's, and once claimed reconcile_media would delete them. Point this "
                "deployment at storage of its own, or add --allow-unreferenced."
            )
        if options["dry_run"]:
            self.stdout.write("Dry run: the storage was not claimed.")
        else:
            ownership.write_marker()
            self.stdout.write(self.style.SUCCESS("The storage is now this deployment's."))
