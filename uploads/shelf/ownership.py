"""Which deployment owns the media storage: a marker file at the root of the media
location names the owner's identity (kept in this database, models.Deployment). Files are
written and deleted only in storage whose marker names this deployment, so two
deployments pointed at one directory or bucket (staging at production's, a laptop whose
.env names production's bucket) never delete each other's files.

New storage (no marker and no file under images/ or thumbs/) is marked by its first
upload; anything else is adopted only by `manage.py media_owner --claim`.
"""

from __future__ import annotations

import os
import tempfile

from django.core.files.base import ContentFile
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
        write_marker()
        found = marker()  # two deployments marking at once: the last write wins
    if (reason := refusal(found)) is not None:
        raise NotOurStorage(reason)


def write_marker() -> None:
    """Mark the storage as this deployment's, replacing any marker."""
    media = storage.media_storage()
    if storage.is_s3(media):  # the media storage overwrites (AWS_S3_FILE_OVERWRITE)
        storage.save_file(MARKER, ContentFile(f"{identity()}\n".encode()))
        return
    # Not storage.save, which would pick another name beside an existing marker; written
    # aside, then renamed, so that a reader never sees a half-written one.
    os.makedirs(media.location, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=media.location, delete=False) as file:
        file.write(f"{identity()}\n")
    os.replace(file.name, media.path(MARKER))
