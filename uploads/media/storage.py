"""Storage operations in bulk: list a prefix once, delete in batches, tell missing from down.

Works with Django's FileSystemStorage and django-storages' S3Storage (any S3-compatible
service); other backends fall back to the generic Storage API.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import logging
import os
import posixpath
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from django.core.files.storage import FileSystemStorage, Storage, storages
from django.utils._os import safe_join

try:
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
    from storages.backends.s3 import S3Storage
except ImportError:  # pragma: no cover - django-storages is a production dependency
    S3Storage = None
    BotoCoreError = ClientError = NoCredentialsError = OSError

logger = logging.getLogger(__name__)

S3_DELETE_BATCH = 1000  # the most keys one DeleteObjects request takes


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
    code = error.response.get("Error", {}).get("Code") if isinstance(error, ClientError) else None
    if code in _CONFIGURATION_ERRORS or isinstance(error, NoCredentialsError):
        return StorageMisconfigured(f"{doing}: {error}")
    return StorageUnavailable(f"{doing}: {error}")


@dataclass(frozen=True)
class StoredFile:
    name: str
    modified: datetime


def media_storage() -> Storage:
    """Where images and thumbnails are stored: STORAGES["default"], as the model's fields
    use it, but the instance itself rather than Django's lazy wrapper, which adds a
    proxy to every attribute and isinstance() check."""
    return storages["default"]


def is_s3(storage: Storage) -> bool:
    return S3Storage is not None and isinstance(storage, S3Storage)


def location(storage: Storage) -> str:
    """Where the storage keeps our files, for messages: a directory, or bucket and prefix."""
    if is_s3(storage):
        return f"s3://{storage.bucket_name}/{storage.location}"
    if isinstance(storage, FileSystemStorage):
        return storage.location
    return type(storage).__name__


def signed_link_epoch(storage: Storage) -> int:
    """A number that changes every half lifetime of signed links (0 when links are not
    signed): a page built in one epoch links files for at least another half lifetime
    after the epoch ends, so a page whose validators carry it never outlives its links."""
    if not (is_s3(storage) and storage.querystring_auth):
        return 0
    return int(time.time() // max(1, storage.querystring_expire // 2))


def list_files(storage: Storage, prefix: str) -> Iterator[StoredFile]:
    """Every file directly under `prefix` ("images/"), from one (paginated) listing."""
    try:
        if is_s3(storage):
            yield from _list_s3(storage, prefix)
        elif isinstance(storage, FileSystemStorage):
            yield from _list_local(storage, prefix)
        else:
            _, names = storage.listdir(prefix)
            for name in names:
                path = posixpath.join(prefix, name)
                yield StoredFile(path, storage.get_modified_time(path))
    except (OSError, BotoCoreError, ClientError) as error:
        raise storage_error(error, f"could not list {prefix!r}") from error


def files_present(storage: Storage, names: Iterable[str]) -> dict[str, bool]:
    """Which of `names` exist: a stat each on local disk, one listing per prefix elsewhere."""
    names = [name for name in names if name]
    if isinstance(storage, FileSystemStorage):
        paths = _local_paths(storage.location, tuple(names))
        try:
            return {name: os.path.exists(path) for name, path in paths}
        except OSError as error:
            raise StorageUnavailable(str(error)) from error
    found: set[str] = set()
    for prefix in sorted({posixpath.dirname(name) + "/" for name in names}):
        found.update(stored.name for stored in list_files(storage, prefix))
    return {name: name in found for name in names}


@functools.lru_cache(maxsize=64)
def _local_paths(location: str, names: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """Stored names' paths under the media root, checked against traversal once: the
    public page asks about the same few files on every request."""
    return tuple((name, safe_join(location, name)) for name in names)


def delete_files(storage: Storage, names: Iterable[str]) -> list[str]:
    """Delete files, in batches on S3; returns the names that could not be deleted."""
    names = [name for name in names if name]
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


def check_reachable(storage: Storage) -> None:
    """Raise StorageUnavailable unless the storage answers (used by /healthz)."""
    try:
        if is_s3(storage):
            storage.bucket.meta.client.head_bucket(Bucket=storage.bucket_name)
        elif isinstance(storage, FileSystemStorage):
            root = storage.location
            if os.path.exists(root) and not os.access(root, os.W_OK):
                raise OSError(f"{root} is not writable")
        else:
            storage.listdir("")
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


def _s3_key(storage: Storage, name: str) -> str:
    return posixpath.join(storage.location, name) if storage.location else name


def _list_s3(storage: Storage, prefix: str) -> Iterator[StoredFile]:
    key_prefix = _s3_key(storage, prefix)
    strip = len(_s3_key(storage, ""))
    # One ListObjects request per 1000 keys (boto3 pages Bucket.objects with ListObjects,
    # not V2; the tests count them); "Delimiter" keeps it to this level.
    for summary in storage.bucket.objects.filter(Prefix=key_prefix, Delimiter="/"):
        yield StoredFile(summary.key[strip:], summary.last_modified)


def _delete_s3(storage: Storage, names: list[str]) -> list[str]:
    failed = []
    client = storage.bucket.meta.client
    # Once per client (the unique id makes registering again a no-op).
    client.meta.events.register(
        "before-sign.s3.DeleteObjects", _content_md5_not_crc32, unique_id="shelf-content-md5"
    )
    for start in range(0, len(names), S3_DELETE_BATCH):
        batch = names[start : start + S3_DELETE_BATCH]
        objects = [{"Key": _s3_key(storage, name)} for name in batch]
        try:
            response = client.delete_objects(
                Bucket=storage.bucket_name, Delete={"Objects": objects, "Quiet": True}
            )
        except (BotoCoreError, ClientError):
            logger.exception("could not delete %d objects", len(batch))
            failed.extend(batch)
            continue
        strip = len(_s3_key(storage, ""))
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
