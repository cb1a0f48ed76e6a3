"""A shelf archive's manifest: what it lists of each image, and the checks an archive's
structure and manifest pass before any image in it is read."""

from __future__ import annotations

import json
import re
import zipfile
import zlib
from datetime import UTC

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from uploads.models import Image

MANIFEST = "manifest.json"
MAX_ENTRIES = 1001  # the most members an archive may have: 1,000 images and the manifest
TOO_MANY_ENTRIES = gettext_lazy("The archive has more than %d entries.")
# Holds MAX_ENTRIES entries with the longest titles and descriptions.
MANIFEST_MAX_BYTES = 4 * 1024 * 1024
# An entry is flat: these values, each of its type, and uploaded_at (ISO 8601 with its time
# zone); format, width and height are for people. So a manifest (an object, a list of flat
# objects) is nested three deep at most.
FIELDS = {"name": str, "sha256": str, "title": str, "description": str, "pending": bool}
NAME = re.compile(r"images/[\w-]{1,64}\.(jpg|png)")  # as image_ingest names stored files
EXPORTED = ("sha256", "title", "description", "pending", "format", "width", "height")


class MoveRefused(Exception):
    """The shelf cannot move, for the reason given (the archive, or where this runs):
    nothing was stored."""


def open_archive(path: str) -> zipfile.ZipFile:
    """The zip at `path`, once its end record gives a directory that MAX_ENTRIES fit in."""
    try:
        with open(path, "rb") as file:
            # The end record, found as zipfile finds it (Zip64's size wins): zipfile reads that
            # many bytes, an object for every entry in them, before anyone can count them.
            # _EndRecData is zipfile's own private helper, unchanged for many Python releases
            # (.python-version pins 3.11); a test per record kind fails if it ever changes.
            end = zipfile._EndRecData(file)
        # What MAX_ENTRIES entries' records take at most: 46 bytes each, with the name and extras.
        if end and end[zipfile._ECD_SIZE] > MAX_ENTRIES * 1024:
            raise MoveRefused(TOO_MANY_ENTRIES % MAX_ENTRIES)
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, EOFError, ValueError) as error:
        raise MoveRefused(_("This file is not a zip archive, or it is truncated.")) from error


def entries(archive: zipfile.ZipFile) -> list[dict]:
    """The manifest's entries, once the archive's structure is sound (else MoveRefused):
    no member is read before the manifest names it, and none is extracted by its name."""
    infos = archive.infolist()
    names = {info.filename for info in infos}
    for refused, message in [
        (len(infos) > MAX_ENTRIES, TOO_MANY_ENTRIES % MAX_ENTRIES),
        (any(info.flag_bits & 0x1 for info in infos), _("The archive has encrypted entries.")),
        (len(names) < len(infos), _("The archive has two entries of the same name.")),
        (MANIFEST not in names, _("The archive has no manifest.json: not a shelf archive.")),
    ]:
        if refused:
            raise MoveRefused(message)
    try:
        manifest = json.loads(read_member(archive, MANIFEST, MANIFEST_MAX_BYTES))
    except (RecursionError, ValueError):
        raise MoveRefused(_("The manifest is not JSON, or it is nested too deep.")) from None
    entries = manifest.get("images") if isinstance(manifest, dict) else None
    if not isinstance(entries, list):
        raise MoveRefused(_("The manifest is not one this app writes."))
    for number, entry in enumerate(entries, 1):
        if fault := _fault(entry):
            facts = {"number": number, "fault": fault}
            raise MoveRefused(
                _("Image %(number)d of the manifest is not one this app writes: %(fault)s.") % facts
            )
    listed = [entry["name"] for entry in entries]
    if strangers := sorted(names.symmetric_difference(listed) - {MANIFEST}):
        raise MoveRefused(_("Entries the manifest does not list, or lacks: %s") % strangers[0])
    if len(set(listed)) + len({entry["sha256"] for entry in entries}) < 2 * len(entries):
        raise MoveRefused(_("The manifest lists one file or image twice."))
    return entries


def _fault(entry) -> str:
    """What keeps a manifest entry from being one this app writes; "" when nothing does (its
    date is parsed then). A date must have passed: one to come would keep every upload from
    now until then off the shelf, as older than the images the limit keeps."""
    try:
        entry["uploaded_at"] = when = parse_datetime(entry["uploaded_at"])
        if not all(isinstance(entry[key], kind) for key, kind in FIELDS.items()):
            return _("a field is missing or of the wrong type")
        if not NAME.fullmatch(entry["name"]):  # a wrong digest never matches
            return _("its name is not one this app gives")
        if not (when.tzinfo and when.astimezone(UTC) <= timezone.now()):
            return _("its date is still to come, or has no time zone")
        for key in ("title", "description"):  # their length, NUL, a description's visibility
            Image._meta.get_field(key).run_validators(entry[key].strip())
    except ValidationError as error:
        return f"{key}: {' '.join(error.messages)}"
    # Not a dict, a key missing, a date unreadable or out of range.
    except (AttributeError, KeyError, TypeError, ValueError, OverflowError):
        return _("a field is missing or of the wrong type")
    return ""


def read_member(archive: zipfile.ZipFile, name: str, most: int) -> bytes:
    """A member's bytes, never more than `most`, whatever size the archive declares."""
    try:
        with archive.open(name) as member:
            data = member.read(most + 1)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as error:
        raise MoveRefused(_("%s cannot be read from the archive: ") % name + str(error)) from None
    if len(data) > most:
        raise MoveRefused(_("%(name)s is over %(most)d bytes.") % {"name": name, "most": most})
    return data
