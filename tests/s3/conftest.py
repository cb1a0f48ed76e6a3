"""A real S3-compatible server for the S3 tests, and Django's default storage pointed at it.

moto_server runs in a child process for the whole session; each test gets its own bucket.
A test may stop the server to simulate an outage: moto keeps objects in memory, so a
stopped server has lost them, and the next test's fixture starts a fresh one.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from tests.processes import free_port, moto_server, s3_client, s3_storages, stop
from uploads.ingest import variants
from uploads.media.storage import media_storage
from uploads.models import Image
from uploads.shelf import ownership


class S3Server:
    """moto_server on a fixed port; stop() and start() simulate an outage and a recovery."""

    def __init__(self, port: int, log: Path) -> None:
        self.port = port
        self.log = log  # moto's output, shown when it fails to start
        self.endpoint = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen | None = None
        self.client = s3_client(self.endpoint)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        """Start an empty server and return once it answers HTTP."""
        self.process = moto_server(self.port, self.log)

    def stop(self) -> None:
        """Stop the server: requests are refused, and every object is gone for good."""
        if self.process is None:
            return
        stop(self.process, timeout=10)
        self.process = None


@dataclass
class Bucket:
    """One test's bucket, seen from outside the app (a separate boto3 client)."""

    server: S3Server
    name: str = field(default_factory=lambda: f"shelf-{uuid.uuid4().hex[:12]}")

    def create(self) -> None:
        self.server.client.create_bucket(Bucket=self.name)

    def names(self, prefix: str = "", *, marker: bool = False) -> list[str]:
        """Every key in the bucket, sorted; the owner marker (uploads/shelf/ownership.py)
        only when asked for."""
        paginator = self.server.client.get_paginator("list_objects_v2")
        return sorted(
            item["Key"]
            for page in paginator.paginate(Bucket=self.name, Prefix=prefix)
            for item in page.get("Contents", ())
            if marker or not item["Key"].endswith(ownership.MARKER)
        )

    def read(self, key: str) -> bytes:
        return self.server.client.get_object(Bucket=self.name, Key=key)["Body"].read()

    def put(self, key: str, data: bytes = b"placeholder") -> None:
        self.server.client.put_object(Bucket=self.name, Key=key, Body=data)

    def put_many(self, keys: list[str], data: bytes = b"placeholder") -> None:
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda key: self.put(key, data), keys))

    def delete(self, key: str) -> None:
        self.server.client.delete_object(Bucket=self.name, Key=key)


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    server = S3Server(free_port(), tmp_path_factory.mktemp("moto") / "moto.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def s3_variables() -> dict[str, str]:
    """AWS_* variables the media storage is built from, besides the server and bucket; a
    test overrides them by parametrizing this name."""
    return {}


@pytest.fixture
def s3_settings(s3_server, settings, s3_variables):
    """Point STORAGES at a bucket name on the server, without creating the bucket."""
    if not s3_server.running:  # an earlier test simulated an outage
        s3_server.start()
    bucket = Bucket(s3_server)
    # pytest-django sends setting_changed, which makes default_storage (the storage of
    # Image.file and of every thumbnail) build a fresh S3Storage; it is restored afterwards.
    settings.STORAGES = s3_storages(bucket.name, s3_server.endpoint, **s3_variables)
    return bucket


@pytest.fixture
def bare_bucket(s3_settings) -> Bucket:
    """An empty bucket that the app's media storage now writes to, as a new deployment
    finds it: no owner marker."""
    s3_settings.create()
    return s3_settings


@pytest.fixture
def bucket(bare_bucket, db) -> Bucket:
    """An empty bucket marked as this deployment's, as its first upload marks it: tests may
    put files there by hand."""
    ownership.write_marker()
    return bare_bucket


@dataclass(frozen=True)
class SentRequest:
    """One HTTP request as botocore sent it: signed, headers final."""

    operation: str
    headers: dict[str, str]  # names in lower case
    body: bytes | None  # None when it was a stream (an object's content)


class StorageRequests:
    """Every HTTP request the media storage's S3 client sends, in order."""

    def __init__(self, storage) -> None:
        self.sent: list[SentRequest] = []
        self._actions: dict[tuple[str, int], Callable[[], None]] = {}
        # S3Storage keeps one client per thread and caches the Bucket built on the first
        # one: watch both (they are the same client when everything runs in this thread).
        clients = {id(c): c for c in (storage.connection.meta.client, storage.bucket.meta.client)}
        self._clients = list(clients.values())
        for client in self._clients:
            client.meta.events.register("before-send.s3", self._record, unique_id="shelf-count")

    @property
    def operations(self) -> list[str]:
        return [request.operation for request in self.sent]

    def _record(self, event_name: str, request, **kwargs) -> None:
        operation = event_name.rsplit(".", 1)[-1]
        headers = {
            name.lower(): value.decode() if isinstance(value, bytes) else value
            for name, value in request.headers.items()
        }
        body = request.body if isinstance(request.body, bytes) else None
        self.sent.append(SentRequest(operation, headers, body))
        action = self._actions.pop((operation, self.operations.count(operation)), None)
        if action:
            action()
        # Returning None lets botocore send the request for real.

    def before(self, operation: str, occurrence: int, action: Callable[[], None]) -> None:
        """Run `action` just before the storage sends that request (e.g. stop the server)."""
        self._actions[(operation, occurrence)] = action

    def clear(self) -> None:
        self.sent.clear()

    def close(self) -> None:
        for client in self._clients:
            client.meta.events.unregister("before-send.s3", unique_id="shelf-count")


@pytest.fixture
def storage_requests(bucket):
    requests = StorageRequests(media_storage())
    yield requests
    requests.close()


@pytest.fixture
def shelf_rows(bucket):
    """Call it to add n rows of images of `size`, and their objects, fast: placeholder
    bytes, no ingest. A 64 x 48 image has two thumbnails (one width), a 1600 x 1200 six."""

    def create(count: int, size: tuple[int, int] = (64, 48)) -> list[Image]:
        uploaded = timezone.now() - timedelta(hours=1)
        rows = []
        for index in range(count):
            stem = uuid.uuid4()
            thumbnails = {
                variants.key(fmt, width): f"thumbs/{uuid.uuid4()}.{variants.EXTENSIONS[fmt]}"
                for width in variants.sizes(size)
                for fmt in variants.FORMATS
            }
            rows.append(
                Image(
                    file=f"images/{stem}.png",
                    thumbnails=thumbnails,
                    width=size[0],
                    height=size[1],
                    size_bytes=11,
                    format="PNG",
                    sha256=f"{stem.int:064x}",
                    uploaded_at=uploaded + timedelta(seconds=index),
                )
            )
        created = Image.objects.bulk_create(rows)
        bucket.put_many([name for row in rows for name in row.stored_names()])
        return sorted(created, key=lambda row: row.uploaded_at, reverse=True)

    return create
