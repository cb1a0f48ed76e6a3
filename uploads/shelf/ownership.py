"""Which deployment owns the media storage: a marker file at the root of the media
location names the owner's identity (kept in this database, models.Deployment). Files are
written and deleted only in storage whose marker names this deployment, so two
deployments pointed at one directory or bucket (staging at production's, a laptop whose
.env names production's bucket) never delete each other's files.

New storage (no marker and no file under images/ or thumbs/) is marked by its first
upload, where no marker is yet (of two deployments marking it at once, one wins); anything
else is adopted only by `manage.py media_owner --claim`.
"""

from __future__ import annotations

import contextlib
import os
import tempfile

from botocore.exceptions import BotoCoreError, ClientError
from django.utils.translation import gettext as _

from uploads.media import storage
from uploads.media.storage import NotOurStorage
from uploads.models import Deployment

MARKER = ".imageshelf-owner"


def identity() -> str:
    return str(Deployment.objects.get_or_create(pk=1)[0].identity)


def marker() -> str | None:
    """The identity the storage's marker names; None when there is no marker."""
    try:
        data = next(storage.read_chunks(MARKER, 100), b"")
    except FileNotFoundError:
        return None
    return data.decode("ascii", "replace").strip()


def holds_files() -> bool:
    """Whether any file lies under images/ or thumbs/ (one listing request each on S3)."""
    media = storage.media_storage()
    if not storage.is_s3(media) and not os.path.isdir(media.location):
        return False
    return any(next(storage.list_files(prefix), None) for prefix in storage.PREFIXES)


def refusal(found: str | None) -> str | None:
    """Why this deployment may not write or delete files where the marker names `found`;
    None when it may (the marker is ours, or the storage is new)."""
    if found == identity() or (found is None and not holds_files()):
        return None
    whose = _("belongs to deployment %(found)s") % {"found": found}
    if found is None:
        whose = _("carries no owner marker")
    return _(
        "The media storage %(where)s %(whose)s, not this deployment (%(ours)s), so no file "
        "was written or deleted. Give this deployment storage of its own (MEDIA_ROOT, or a "
        "bucket or AWS_LOCATION prefix); if this storage really is this deployment's, adopt "
        "it with `manage.py media_owner --claim`."
    ) % {"where": storage.location(storage.media_storage()), "whose": whose, "ours": identity()}


def require_own(*, mark_new: bool = False) -> None:
    """Raise NotOurStorage unless the storage is this deployment's. With `mark_new` (the
    upload path), new storage is marked as ours first."""
    found = marker()
    if found is None and mark_new and not holds_files():
        write_marker(replace=False)
        found = marker()  # ours, or that of a deployment that marked it a moment before
    if (reason := refusal(found)) is not None:
        raise NotOurStorage(reason)


def write_marker(*, replace: bool = True) -> None:
    """Mark the storage as this deployment's. Without `replace` (new storage, marked by its
    first upload) only where no marker is yet, in one step, so that of two deployments
    marking new storage at once exactly one does: a conditional PUT on S3 (a store that does
    not implement the condition is written to as with `replace`), a hard link on disk."""
    media, content = storage.media_storage(), f"{identity()}\n".encode()
    if storage.is_s3(media):
        marker_object = media.bucket.Object(storage.s3_key(media, MARKER))
        try:
            marker_object.put(Body=content, **({} if replace else {"IfNoneMatch": "*"}))
        except (BotoCoreError, ClientError) as error:
            if storage.s3_code(error) == "NotImplemented":
                marker_object.put(Body=content)
            elif storage.s3_code(error) != "PreconditionFailed":  # else: another's came first
                raise storage.storage_error(error, f"could not write {MARKER}") from error
        return
    # Written aside, then named in one step, so that a reader never sees a half-written one.
    os.makedirs(media.location, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=media.location, delete=False) as file:
        file.write(content)
    if replace:
        os.replace(file.name, media.path(MARKER))
        return
    with contextlib.suppress(FileExistsError):  # another deployment's marker came first
        os.link(file.name, media.path(MARKER))
    os.unlink(file.name)
