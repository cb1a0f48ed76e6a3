"""The one way images leave the shelf, for every caller (admin, page, limit, reconcile,
moderation, "Verify files"): rows chosen under the shelf lock, deleted through the ORM,
their files removed in batches once the deletion has committed: by a thread of their own
in a request (it answers without waiting on storage), before returning in a command."""

from __future__ import annotations

import threading

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from uploads.ingest.decode_lock import deadline
from uploads.media import storage
from uploads.models import Image
from uploads.shelf import ownership
from uploads.shelf.audit import audit, username

BATCH = 500  # rows per DELETE: within every database's limit on query parameters
_SHELF_LOCK_KEY = 0x1A6E5E1F  # arbitrary, constant: names the shelf's advisory lock


class Deleted(list):
    """The images a deletion removed; `failed` names the files storage would not delete
    (known once the deletion has committed; left for reconcile_media)."""

    def __init__(self, images=()) -> None:
        super().__init__(images)
        self.failed: list[str] = []


class AllFilesMissing(Exception):
    """Storage holds none of the files the rows name: more likely the wrong place than a
    shelf that lost everything (a one-off dyno's empty disk, a wrong bucket or prefix)."""


def lock_shelf() -> None:
    """Serialise changes to the shelf until the transaction ends."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_SHELF_LOCK_KEY])
    # SQLite: transactions begin IMMEDIATE (see settings), which already serialises writers.


def images_delete(rows: QuerySet[Image], *, reason: str, user=None) -> Deleted:
    """Delete the images `rows` selects, as they are once the shelf lock is held; returns
    them. Their files are deleted after commit, and never on a rollback. Raises
    storage.NotOurStorage, changing nothing, unless the media storage is this
    deployment's (asked of storage only when there is something to delete: the limit runs
    after every upload)."""
    if not rows.exists():
        return Deleted()
    ownership.require_own()
    with transaction.atomic():
        lock_shelf()
        doomed = Deleted(rows.select_related(None).only("pk", "file", "thumbnails", "title"))
        pks = [image.pk for image in doomed]
        for start in range(0, len(pks), BATCH):
            Image.objects.filter(pk__in=pks[start : start + BATCH]).delete()
        transaction.on_commit(lambda: _deleted(doomed, reason, username(user)), robust=True)
    return doomed


def _deleted(doomed: Deleted, reason: str, who: str) -> None:
    for image in doomed:
        audit("image.deleted", user=who, reason=reason, image=image.pk, file=image.file.name)
    doomed.failed += remove_files([name for image in doomed for name in image.stored_names()])


def remove_files(names: list[str]) -> list[str]:
    """Delete stored files: at once in a command, which reports the names storage would not
    delete (returned); by a thread of their own in a request, which answers without waiting
    on storage (what a stopping process leaves undeleted, the thread being a daemon, is an
    orphan for reconcile_media)."""
    if deadline.get() is None:
        return storage.delete_files(names)
    threading.Thread(target=storage.delete_files, args=(names,), daemon=True).start()
    return []


def images_enforce_limit(*, limit: int | None = None, user=None) -> Deleted:
    """Delete the oldest images beyond the limit; safe to run from many processes at once."""
    limit = settings.IMAGE_LIMIT if limit is None else limit
    deleted = images_delete(Image.objects.beyond_limit(limit), reason="limit", user=user)
    if deleted:
        _audit_on_commit("limit.enforced", user=username(user), limit=limit, deleted=len(deleted))
    return deleted


def images_delete_all(*, user=None) -> Deleted:
    """Delete every image, pending ones too, and after commit every file."""
    deleted = images_delete(Image.objects.all(), reason="delete-all", user=user)
    _audit_on_commit("shelf.emptied", user=username(user), deleted=len(deleted))
    return deleted


def _audit_on_commit(event: str, **fields) -> None:
    """An audit line for what has committed (a dry run rolls back, and logs nothing)."""
    transaction.on_commit(lambda: audit(event, **fields), robust=True)


def images_remove_missing(
    rows: QuerySet[Image],
    *,
    present: set[str] | None = None,
    allow_all_missing: bool = False,
    user=None,
) -> Deleted:
    """Delete the images among `rows` whose file storage does not hold (`present`, or asked
    of storage); returns them.

    Raises StorageUnavailable when storage cannot answer, and AllFilesMissing (unless
    allow_all_missing) when it holds none of the rows' files: either way nothing changes.
    """
    files = dict(rows.values_list("pk", "file"))
    found = storage.existing(files.values()) if present is None else present
    missing = [pk for pk, name in files.items() if name not in found]
    if missing and len(missing) == len(files) and not allow_all_missing:
        raise AllFilesMissing(all_missing_message(len(files)))
    # None missing: images_delete finds no rows (an empty pk__in asks the database nothing).
    return images_delete(Image.objects.filter(pk__in=missing), reason="file missing", user=user)


def all_missing_message(count: int) -> str:
    """The one refusal of reconcile_media and "Verify files" when no file is found."""
    return _(
        "None of the %(count)s image files checked is in %(where)s, so nothing was deleted: "
        "check the storage settings (MEDIA_ROOT, or the bucket and its prefix). If that "
        "storage really lost every file, run `manage.py reconcile_media --allow-all-missing`."
    ) % {"count": count, "where": storage.location(storage.media_storage())}
