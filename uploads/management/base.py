"""What the shelf's commands share: their exit statuses, whatever went wrong."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from uploads.media.storage import StorageUnavailable
from uploads.shelf.manifest import MoveRefused

EXIT_CONFIGURATION = 1  # bad arguments or configuration; a file that cannot be read or written
EXIT_REFUSED = 2  # refused, or storage or the database unavailable


class ShelfCommand(BaseCommand):
    """A command whose bad arguments exit 1, as its help says; argparse's own status would
    be 2, which here means "refused"."""

    def create_parser(self, prog_name, subcommand, **kwargs):
        self.help = str(self.help)  # argparse needs a str, not a lazy translation
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        exit_ = parser.exit
        parser.exit = lambda status=0, message=None: exit_(status and EXIT_CONFIGURATION, message)
        return parser

    def execute(self, *args, **options):
        """A refusal (a shelf archive, storage not ours or unavailable, an error from the
        database) exits 2, a file that cannot be read or written 1: with the reason, never a
        traceback."""
        try:
            return super().execute(*args, **options)
        except (MoveRefused, PermissionDenied, StorageUnavailable, DatabaseError) as error:
            raise CommandError(str(error), returncode=EXIT_REFUSED) from None
        except OSError as error:
            raise CommandError(str(error), returncode=EXIT_CONFIGURATION) from None
