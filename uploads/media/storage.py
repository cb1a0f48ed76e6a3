"""Media storage, on local disk (FileSystemStorage) or S3 (django-storages): the one answer
to "which of these files exist", listings, writes and batched deletes, and storage errors
in one vocabulary."""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import posixpath
import threading
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import IO, NamedTuple

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
from django.core.exceptions import PermissionDenied
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.utils.translation import gettext_lazy
from storages.backends.s3 import S3Storage

logger = logging.getLogger(__name__)

# What every page, action and command says when storage does not answer.
UNAVAILABLE = gettext_lazy(
    "Storage is unavailable right now, so nothing was changed. Please try again."
)
S3_DELETE_BATCH = 1000  # the most keys one DeleteObjects request takes
# Where the shelf's files live: the images, and their thumbnails.
PREFIXES = ("images/", "thumbs/")

# S3 answers that mean the settings are wrong, not that the service is down.
_CONFIGURATION_ERRORS = {
    "AccessDenied",
    "AllAccessDisabled",
    "InvalidAccessKeyId",
    "InvalidBucketName",
    "NoSuchBucket",
    "SignatureDoesNotMatch",
}


class StorageUnavailable(Exception):
    """The storage could not be reached or refused us: nothing can be concluded about files."""


class StorageMisconfigured(StorageUnavailable):
    """The storage answered, but says our bucket, credentials or permissions are wrong."""


def storage_error(error: Exception, doing: str) -> StorageUnavailable:
    """Classify a storage exception: misconfigured (fix the settings) or unavailable."""
    wrong = s3_code(error) in _CONFIGURATION_ERRORS
    wrong |= isinstance(error, NoCredentialsError | NotADirectoryError)  # MEDIA_ROOT a file
    return (StorageMisconfigured if wrong else StorageUnavailable)(f"{doing}: {error}")


def s3_code(error: Exception) -> str | None:
    """S3's name for what went wrong ("NoSuchKey"), when S3 answered."""
    return error.response.get("Error", {}).get("Code") if isinstance(error, ClientError) else None


class NotOurStorage(PermissionDenied):
    """The storage is not provably this deployment's (uploads/shelf/ownership.py): nothing
    was written or deleted. Not a StorageUnavailable, which waiting may fix: a write this
    deployment may not make, which Django answers with the 403 page, saying why."""


class S3MediaStorage(S3Storage):
    """django-storages' S3Storage with one boto3 session per process and credentials, not
    one per thread: each session loads a copy of S3's service model of its own (about
    13 MB), so a worker's request threads held one each (8 sessions: 105 MB; 8 resources of
    one session: 15 MB). A session is not thread-safe: resources are made under a lock."""

    _sessions: dict = {}
    _lock = threading.Lock()

    @property
    def connection(self):
        with self._lock:
            return super().connection

    def _create_session(self):
        key = (self.session_profile, self.access_key, self.secret_key, self.security_token)
        if key not in self._sessions:
            self._sessions[key] = super()._create_session()
        return self._sessions[key]


class StoredFile(NamedTuple):
    name: str
    modified: datetime


def media_storage() -> Storage:
    """STORAGES["default"], as the model's fields use it (the instance, not the lazy proxy)."""
    return storages["default"]


def is_s3(storage: Storage) -> bool:
    return isinstance(storage, S3Storage)


def location(storage: Storage) -> str:
    """Where the storage keeps our files, for messages: a directory, or bucket and prefix."""
    return f"s3://{storage.bucket_name}/{storage.location}" if is_s3(storage) else storage.location


def list_files(prefix: str) -> Iterator[StoredFile]:
    """Every file directly under `prefix` ("images/"), from one (paginated) listing."""
    storage = media_storage()
    try:
        yield from (_list_s3 if is_s3(storage) else _list_local)(storage, prefix)
    except (OSError, BotoCoreError, ClientError) as error:
        raise storage_error(error, f"could not list {prefix!r}") from error


def existing(names: Iterable[str]) -> set[str]:
    """Which of `names` exist: a stat each on local disk, one listing per prefix elsewhere
    (never a request per file). Raises StorageUnavailable when storage cannot tell."""
    names = {name for name in names if name}
    storage = media_storage()
    if not is_s3(storage):  # a media root not made yet (no upload so far) holds no file
        return {name for name in names if os.path.exists(storage.path(name))}
    prefixes = sorted({posixpath.dirname(name) + "/" for name in names})
    return names & {stored.name for prefix in prefixes for stored in list_files(prefix)}


def save_file(name: str, content: IO[bytes]) -> str:
    """Write one file (read from its start) under `name`; returns the name stored."""
    try:
        return media_storage().save(name, content)
    except Exception as error:
        raise StorageUnavailable(f"could not write {name}: {error}") from error


def read_chunks(name: str, size: int = 1024 * 1024) -> Iterator[bytes]:
    """A file's bytes, `size` at a time, from one GetObject on S3 (django-storages' S3File
    would hold the whole file in memory); FileNotFoundError when there is no such file."""
    storage = media_storage()
    try:
        if is_s3(storage):
            yield from storage.bucket.Object(s3_key(storage, name)).get()["Body"].iter_chunks(size)
            return
        with open(storage.path(name), "rb") as file:
            yield from iter(lambda: file.read(size), b"")
    except (OSError, BotoCoreError, ClientError) as error:
        if isinstance(error, FileNotFoundError) or s3_code(error) == "NoSuchKey":
            raise FileNotFoundError(name) from None
        raise storage_error(error, f"could not read {name}") from error


def delete_files(names: Iterable[str]) -> list[str]:
    """Delete files, in batches on S3; returns the names that could not be deleted (they
    are logged, and left for reconcile_media)."""
    names = [name for name in names if name]
    storage = media_storage()
    if is_s3(storage):
        return _delete_s3(storage, names)
    failed = []
    for name in names:
        try:
            storage.delete(name)
        except OSError:
            logger.exception("could not delete %s", name)
            failed.append(name)
    return failed


def check_reachable() -> None:
    """Raise StorageUnavailable unless the storage answers (used by /healthz)."""
    storage = media_storage()
    try:
        if is_s3(storage):
            storage.bucket.meta.client.head_bucket(Bucket=storage.bucket_name)
        elif os.path.exists(storage.location) and not os.access(storage.location, os.W_OK):
            raise OSError(f"{storage.location} is not writable")
    except (OSError, BotoCoreError, ClientError) as error:
        raise storage_error(error, "storage check failed") from error


def _list_local(storage: FileSystemStorage, prefix: str) -> Iterator[StoredFile]:
    if not os.path.isdir(storage.location):
        # A media root that is not there is a wrong setting, not a shelf whose files are gone.
        raise StorageMisconfigured(f"the media directory {storage.location} does not exist")
    try:
        entries = os.scandir(storage.path(prefix))
    except FileNotFoundError:
        return  # no images/ yet, or a wiped one: no files, not an outage
    with entries:
        for entry in entries:
            try:
                if not entry.is_file():
                    continue
                modified = datetime.fromtimestamp(entry.stat().st_mtime, tz=UTC)
            except FileNotFoundError:
                continue  # deleted while we listed (by the limit, say): not an outage
            yield StoredFile(posixpath.join(prefix, entry.name), modified)


def s3_key(storage: Storage, name: str) -> str:
    return posixpath.join(storage.location, name)  # just `name` when the location is ""


def _list_s3(storage: Storage, prefix: str) -> Iterator[StoredFile]:
    strip = len(s3_key(storage, ""))
    # One ListObjects request per 1000 keys; "Delimiter" keeps it to this level.
    pages = storage.bucket.objects.filter(Prefix=s3_key(storage, prefix), Delimiter="/")
    for summary in pages:
        yield StoredFile(summary.key[strip:], summary.last_modified)


def _delete_s3(storage: Storage, names: list[str]) -> list[str]:
    failed = []
    # Once per client (the unique id makes registering again a no-op).
    storage.bucket.meta.client.meta.events.register(
        "before-sign.s3.DeleteObjects", _content_md5_not_crc32, unique_id="shelf-content-md5"
    )
    strip = len(s3_key(storage, ""))
    for start in range(0, len(names), S3_DELETE_BATCH):
        batch = names[start : start + S3_DELETE_BATCH]
        objects = [{"Key": s3_key(storage, name)} for name in batch]
        try:
            response = storage.bucket.delete_objects(Delete={"Objects": objects, "Quiet": True})
        except (BotoCoreError, ClientError):
            logger.exception("could not delete %d objects", len(batch))
            failed.extend(batch)
            continue
        failed.extend(error["Key"][strip:] for error in response.get("Errors", []))
    return failed


def _content_md5_not_crc32(request, **kwargs) -> None:
    """DeleteObjects must carry a checksum of its body: botocore (1.36 and later) computes
    a CRC32 even when checksums are "when_required"; send Content-MD5 instead, which
    S3-compatible stores have always accepted there (B2 refuses the CRC headers, older
    MinIO and Ceph want MD5). Run before signing, so the signature covers what is sent."""
    for name in list(request.headers):
        if name.lower().startswith(("x-amz-checksum-", "x-amz-sdk-checksum-")):
            del request.headers[name]
    del request.headers["Content-MD5"]  # a no-op when absent; setting a header appends
    digest = hashlib.md5(request.body, usedforsecurity=False).digest()
    request.headers["Content-MD5"] = base64.b64encode(digest).decode()
