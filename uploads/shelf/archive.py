"""The shelf as one zip archive: every image's stored file and a manifest, written as a
stream, and restored into any deployment through the checks of an upload."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from uploads.ingest import imaging, variants
from uploads.ingest.decode_lock import decode_turn
from uploads.media import storage
from uploads.models import Image
from uploads.shelf import deletion, manifest, ownership, services
from uploads.shelf.audit import audit
from uploads.shelf.manifest import MoveRefused

Progress = Callable[[str], None]
NONE_FOUND = gettext_lazy(
    "None of the %(count)s image files is in %(where)s, so no archive was written: check the "
    "storage settings (MEDIA_ROOT, or the bucket and its prefix)."
)


# How many images an export wrote, or an import stored (in a dry run: would store); the
# progress lines name them. Counts: "images"; "skipped" (missing from storage, or already
# here); "not_stored" (beyond PENDING_LIMIT, or a race); "removed" (by the limit, once every
# image is in). Unset counts are 0: a Counter.


def refuse_one_off_dyno() -> None:
    """On a Heroku one-off dyno (`heroku run`, Scheduler) local media is a disk of its own,
    empty, not the web dyno's: there is no shelf to move from or to there."""
    if os.environ.get("DYNO", "").startswith("run.") and not storage.is_s3(storage.media_storage()):
        message = _(
            "This is a Heroku one-off dyno and media is on local disk: its disk is empty, not the "
            "web dyno's. Download the archive from the admin's image list, or use S3."
        )
        raise MoveRefused(message)


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
            entries.append({key: getattr(image, key) for key in manifest.EXPORTED})
            entries[-1].update(name=name, uploaded_at=image.uploaded_at.isoformat())
            report["images"] += 1
            progress(_("%s: exported") % name)
        archive.writestr(manifest.MANIFEST, json.dumps({"images": entries}, ensure_ascii=False))
    yield pipe.take()


def shelf_export(path: str, progress: Progress) -> Counter:
    """Write the archive to a new file at `path` (never over an existing one, which a failed
    export would then remove); a failed export leaves no partial file. Storage holding none
    of the images is the wrong place (a MEDIA_ROOT not there), not a shelf to back up."""
    refuse_one_off_dyno()
    report = Counter()
    with open(path, "xb") as out:
        try:
            out.writelines(archive_chunks(report, progress))
            if report["skipped"] and not report["images"]:
                where = storage.location(storage.media_storage())
                raise MoveRefused(NONE_FOUND % {"count": report["skipped"], "where": where})
        except BaseException:
            os.unlink(path)
            raise
    return report


def shelf_import(path: str, *, dry_run: bool, progress: Progress) -> Counter:
    """Restore an archive. Its structure and manifest are checked first, and a fault there
    refuses the whole archive; then every image is checked before any is stored, and one
    that fails is reported and left out ("refused"). Images already here (by digest) are
    skipped; the others are stored newest first, so that PENDING_LIMIT keeps the newest;
    then the limit applies."""
    refuse_one_off_dyno()
    with manifest.open_archive(path) as archive:
        entries = manifest.entries(archive)
        present = Image.objects.in_bulk([entry["sha256"] for entry in entries], field_name="sha256")
        fresh = [entry for entry in entries if entry["sha256"] not in present]
        checked = [entry for entry in fresh if _checked(archive, entry, progress)]
        report = Counter(skipped=len(entries) - len(fresh), refused=len(fresh) - len(checked))
        ownership.require_own(mark_new=not dry_run)  # a dry run says so too, and marks nothing
        if dry_run:
            report["images"] = len(checked)
            return report
        for entry in sorted(checked, key=lambda entry: entry["uploaded_at"], reverse=True):
            _restore(archive, entry, report, progress)
    report["removed"] = len(deletion.images_enforce_limit())
    return report


def _member(archive: zipfile.ZipFile, entry: dict) -> bytes:
    """An image's bytes, if they are the ones the manifest's digest names; never more than
    this deployment stores (IMAGE_MAX_EDGE squared x 5 bytes)."""
    data = manifest.read_member(archive, entry["name"], 5 * settings.IMAGE_MAX_EDGE**2)
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
            entry["checked"] = imaging.verify(data, services.ingest_limits())  # format, size
    except imaging.ImageRejected as rejection:
        progress(_("%(name)s: refused: ") % entry + str(rejection))
        return False
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
            content.write(_member(archive, entry))  # Pillow and storage read it from its start
            with decode_turn():
                thumbnails = variants.make_from_stored(content, fmt)
            processed = imaging.ProcessedImage(content, fmt, *size, entry["sha256"], thumbnails)
            image = services.image_store(processed, user=None, **row)
        except imaging.ImageRejected as rejection:
            report["not_stored"] += 1
            progress(_("%(name)s: not stored: ") % entry + str(rejection))
            return
    audit("image.restored", image=image.pk, file=image.file.name, sha256=image.sha256)
    report["images"] += 1
    progress(_("%(name)s: stored as %(file)s") % {"name": entry["name"], "file": image.file.name})
