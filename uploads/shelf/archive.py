"""The shelf as one zip archive: every image's stored file and a manifest, written as a
stream, and restored into any deployment through the checks of an upload."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tempfile
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from uploads.ingest import imaging, variants
from uploads.ingest.decode_lock import decode_turn
from uploads.media import storage
from uploads.models import Image
from uploads.shelf import deletion, ownership, services
from uploads.shelf.audit import audit

MANIFEST = "manifest.json"
MAX_ENTRIES = 1001  # the most members an archive may have: 1,000 images and the manifest
# Holds MAX_ENTRIES entries with the longest titles and descriptions.
MANIFEST_MAX_BYTES = 4 * 1024 * 1024
# An entry is flat: these values, each of its type, and uploaded_at (ISO 8601 with its time
# zone); format, width and height are for people. So a manifest (an object, a list of flat
# objects) is nested three deep at most.
FIELDS = {"name": str, "sha256": str, "title": str, "description": str, "pending": bool}
NAME = re.compile(r"images/[\w-]{1,64}\.(jpg|png)")  # as image_ingest names stored files
EXPORTED = ("sha256", "title", "description", "pending", "format", "width", "height")
Progress = Callable[[str], None]


ONE_OFF_DYNO = gettext_lazy(
    "This is a Heroku one-off dyno and media is on local disk: its disk is empty, not the "
    "web dyno's. Download the archive from the admin's image list, or use S3."
)


class MoveRefused(Exception):
    """The shelf cannot move, for the reason given (the archive, or where this runs):
    nothing was stored."""


# How many images an export wrote, or an import stored (in a dry run: would store); the
# progress lines name them. Counts: "images"; "skipped" (missing from storage, or already
# here); "not_stored" (beyond PENDING_LIMIT, or a race); "removed" (by the limit, once every
# image is in). Unset counts are 0: a Counter.


def refuse_one_off_dyno() -> None:
    """On a Heroku one-off dyno (`heroku run`, Scheduler) local media is a disk of its own,
    empty, not the web dyno's: there is no shelf to move from or to there."""
    if os.environ.get("DYNO", "").startswith("run.") and not storage.is_s3(storage.media_storage()):
        raise MoveRefused(ONE_OFF_DYNO)


class _Pipe(io.BytesIO):
    """What zipfile writes, taken as it comes. It cannot tell its position, so zipfile
    writes as to a stream it cannot seek back in (sizes after each member's data)."""

    def tell(self) -> int:
        raise OSError("a stream")

    def take(self) -> bytes:
        data = self.getvalue()
        self.seek(0)
        self.truncate()
        return data


def archive_chunks(report: Counter, progress: Progress) -> Iterator[bytes]:
    """The archive as it is written: each image's stored file, stored (not deflated) as
    storage hands it over, then the manifest. A file storage does not hold is left out."""
    pipe, entries, images = _Pipe(), [], list(Image.objects.order_by("uploaded_at", "id"))
    found = storage.existing(image.file.name for image in images)
    with zipfile.ZipFile(pipe, "w", zipfile.ZIP_STORED) as archive:
        for image in images:
            name = image.file.name
            if name not in found:
                report["skipped"] += 1
                progress(_("%s: not in storage, left out") % name)
                continue
            with archive.open(name, "w") as member:
                for chunk in storage.read_chunks(name):
                    member.write(chunk)
                    yield pipe.take()
            entries.append({key: getattr(image, key) for key in EXPORTED})
            entries[-1].update(name=name, uploaded_at=image.uploaded_at.isoformat())
            report["images"] += 1
            progress(_("%s: exported") % name)
        archive.writestr(MANIFEST, json.dumps({"images": entries}, ensure_ascii=False))
    yield pipe.take()


def shelf_export(path: str, progress: Progress) -> Counter:
    """Write the archive to `path`; a failed export leaves no partial file."""
    refuse_one_off_dyno()
    report = Counter()
    with open(path, "wb") as out:
        try:
            out.writelines(archive_chunks(report, progress))
        except BaseException:
            os.unlink(path)
            raise
    return report


def shelf_import(path: str, *, dry_run: bool, progress: Progress) -> Counter:
    """Restore an archive. Every image is checked before any is stored, and one that fails
    refuses the archive: it is restored whole or not at all. Images already here (by
    digest) are skipped; the others are stored newest first, so that PENDING_LIMIT keeps
    the newest; then the limit applies."""
    refuse_one_off_dyno()
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, EOFError, ValueError) as error:
        raise MoveRefused(_("This file is not a zip archive, or it is truncated.")) from error
    with archive:
        entries = _entries(archive)
        digests = [entry["sha256"] for entry in entries]
        present = set(Image.objects.filter(sha256__in=digests).values_list("sha256", flat=True))
        fresh = [entry for entry in entries if entry["sha256"] not in present]
        report = Counter(skipped=len(entries) - len(fresh))
        if failed := [entry for entry in fresh if not _checked(archive, entry, progress)]:
            raise MoveRefused(_("%d image(s) failed their checks.") % len(failed))
        if dry_run:
            report["images"] = len(fresh)
            return report
        ownership.require_own(mark_new=True)
        for entry in sorted(fresh, key=lambda entry: entry["uploaded_at"], reverse=True):
            _restore(archive, entry, report, progress)
    report["removed"] = len(deletion.images_enforce_limit())
    return report


def _entries(archive: zipfile.ZipFile) -> list[dict]:
    """The manifest's entries, once the archive's structure is sound (else MoveRefused):
    no member is read before the manifest names it, and none is extracted by its name."""
    infos = archive.infolist()
    names = {info.filename for info in infos}
    for refused, message in [
        (len(infos) > MAX_ENTRIES, _("The archive has more than %d entries.") % MAX_ENTRIES),
        (any(info.flag_bits & 0x1 for info in infos), _("The archive has encrypted entries.")),
        (len(names) < len(infos), _("The archive has two entries of the same name.")),
        (MANIFEST not in names, _("The archive has no manifest.json: not a shelf archive.")),
    ]:
        if refused:
            raise MoveRefused(message)
    try:
        manifest = json.loads(_read(archive, MANIFEST, MANIFEST_MAX_BYTES))
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


def _read(archive: zipfile.ZipFile, name: str, most: int) -> bytes:
    """A member's bytes, never more than `most`, whatever size the archive declares."""
    try:
        with archive.open(name) as member:
            data = member.read(most + 1)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as error:
        raise MoveRefused(_("%s cannot be read from the archive: ") % name + str(error)) from None
    if len(data) > most:
        raise MoveRefused(_("%(name)s is over %(most)d bytes.") % {"name": name, "most": most})
    return data


def _member(archive: zipfile.ZipFile, entry: dict) -> bytes:
    """An image's bytes, if they are the ones the manifest's digest names; never more than
    this deployment stores (IMAGE_MAX_EDGE squared x 5 bytes)."""
    data = _read(archive, entry["name"], 5 * settings.IMAGE_MAX_EDGE**2)
    if hashlib.sha256(data).hexdigest() != entry["sha256"]:
        raise imaging.ImageRejected(_("not the SHA-256 digest the manifest gives"), "digest")
    return data


def _checked(archive: zipfile.ZipFile, entry: dict, progress: Progress) -> bool:
    """Whether an image passes the checks of an upload (by content, the limits, every pixel
    decoded) and is one this deployment stores (a JPEG or PNG within IMAGE_MAX_EDGE). The
    entry keeps the format and size it was checked to have, for _restore."""
    try:
        data = _member(archive, entry)
        with decode_turn():
            fmt, size = imaging.verify(data, services.ingest_limits())
    except imaging.ImageRejected as rejection:
        progress(_("%(name)s: refused: ") % entry + str(rejection))
        return False
    entry["checked"] = fmt, size
    progress(_("%(name)s: checked") % entry)
    return True


def _restore(archive: zipfile.ZipFile, entry: dict, report: Counter, progress: Progress) -> None:
    """Store one checked image as it is, with thumbnails made as an upload's; refused beyond
    PENDING_LIMIT, as any upload. Its bytes are read again, and are the bytes checked: the
    manifest's digest still names them."""
    row = {key: entry[key] for key in ("title", "pending", "uploaded_at")}
    row["description"] = entry["description"].strip()
    fmt, size = entry["checked"]
    with tempfile.TemporaryFile() as content:
        try:
            content.write(_member(archive, entry))
            content.seek(0)
            with decode_turn():
                thumbnails = variants.make_from_stored(content, fmt, size)
            processed = imaging.ProcessedImage(content, fmt, *size, entry["sha256"], thumbnails)
            image = services.image_store(processed, user=None, **row)
        except (imaging.ImageRejected, services.UploadRejected) as rejection:
            report["not_stored"] += 1
            progress(_("%(name)s: not stored: ") % entry + rejection.args[0])
            return
    audit("image.restored", image=image.pk, file=image.file.name, sha256=image.sha256)
    report["images"] += 1
    progress(_("%(name)s: stored as %(file)s") % {"name": entry["name"], "file": image.file.name})
