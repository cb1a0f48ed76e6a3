"""A real S3-compatible server for the S3 tests, and Django's default storage pointed at it.

moto_server runs in a child process for the whole session; each test gets its own bucket.
A test may stop the server to simulate an outage: moto keeps objects in memory, so a
stopped server has lost them, and the next test's fixture starts a fresh one.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import boto3
import pytest
from django.utils import timezone

from uploads import services
from uploads.models import Image

ACCESS_KEY = "shelf-test-access-key"
SECRET_KEY = "shelf-test-secret-key"
REGION = "us-east-1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def die_with_parent() -> None:
    """Linux: the server goes when the test run goes, even when the run is killed."""
    if sys.platform == "linux":
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class S3Server:
    """moto_server on a fixed port; stop() and start() simulate an outage and a recovery."""

    def __init__(self, port: int, log) -> None:
        self.port = port
        self.log = log  # moto's output, shown when it fails to start
        self.endpoint = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen | None = None
        self.client = boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name=REGION,
        )

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        """Start an empty server and return once it answers HTTP."""
        moto_server = Path(sys.executable).parent / "moto_server"
        # A file, not a pipe: moto logs every request, and a full pipe would block it.
        self.log.seek(0)
        self.log.truncate()
        self.process = subprocess.Popen(
            [str(moto_server), "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.log.seek(0)
                raise RuntimeError(f"moto_server exited: {self.log.read().decode()}")
            try:
                with urllib.request.urlopen(self.endpoint + "/moto-api/", timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"moto_server did not answer on {self.endpoint} within 30 s")

    def stop(self) -> None:
        """Stop the server: requests are refused, and every object is gone for good."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


@dataclass
class Bucket:
    """One test's bucket, seen from outside the app (a separate boto3 client)."""

    server: S3Server
    name: str = field(default_factory=lambda: f"shelf-{uuid.uuid4().hex[:12]}")

    def create(self) -> None:
        self.server.client.create_bucket(Bucket=self.name)

    def names(self, prefix: str = "") -> list[str]:
        """Every key in the bucket, sorted."""
        paginator = self.server.client.get_paginator("list_objects_v2")
        return sorted(
            item["Key"]
            for page in paginator.paginate(Bucket=self.name, Prefix=prefix)
            for item in page.get("Contents", ())
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


def s3_storages(bucket_name: str, endpoint: str) -> dict:
    """STORAGES for media in an S3 bucket, with the options production sets."""
    return {
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": bucket_name,
                "endpoint_url": endpoint,
                "access_key": ACCESS_KEY,
                "secret_key": SECRET_KEY,
                "region_name": REGION,
                "addressing_style": "path",
                "file_overwrite": False,
                "default_acl": None,
                "querystring_auth": True,
            },
        },
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(scope="session")
def s3_server():
    with tempfile.TemporaryFile() as log:
        server = S3Server(free_port(), log)
        server.start()
        yield server
        server.stop()


@pytest.fixture
def s3_settings(s3_server, settings):
    """Point STORAGES at a bucket name on the server, without creating the bucket."""
    if not s3_server.running:  # an earlier test simulated an outage
        s3_server.start()
    bucket = Bucket(s3_server)
    # pytest-django sends setting_changed, which makes default_storage (the storage of
    # Image.file and Image.thumbnail) build a fresh S3Storage; it is restored afterwards.
    settings.STORAGES = s3_storages(bucket.name, s3_server.endpoint)
    return bucket


@pytest.fixture
def bucket(s3_settings) -> Bucket:
    """An empty bucket that the app's media storage now writes to."""
    s3_settings.create()
    return s3_settings


class StorageRequests:
    """Every HTTP request the media storage's S3 client sends, by operation name."""

    def __init__(self, storage) -> None:
        self.operations: list[str] = []
        self._actions: dict[tuple[str, int], Callable[[], None]] = {}
        # S3Storage keeps one client per thread and caches the Bucket built on the first
        # one: watch both (they are the same client when everything runs in this thread).
        clients = {id(c): c for c in (storage.connection.meta.client, storage.bucket.meta.client)}
        self._clients = list(clients.values())
        for client in self._clients:
            client.meta.events.register("before-send.s3", self._record, unique_id="shelf-count")

    def _record(self, event_name: str, **kwargs) -> None:
        operation = event_name.rsplit(".", 1)[-1]
        self.operations.append(operation)
        action = self._actions.pop((operation, self.operations.count(operation)), None)
        if action:
            action()
        # Returning None lets botocore send the request for real.

    def before(self, operation: str, occurrence: int, action: Callable[[], None]) -> None:
        """Run `action` just before the storage sends that request (e.g. stop the server)."""
        self._actions[(operation, occurrence)] = action

    def clear(self) -> None:
        self.operations.clear()

    def close(self) -> None:
        for client in self._clients:
            client.meta.events.unregister("before-send.s3", unique_id="shelf-count")


@pytest.fixture
def storage_requests(bucket):
    requests = StorageRequests(services.media_storage())
    yield requests
    requests.close()


@pytest.fixture
def shelf_rows(bucket):
    """Call it to add n rows, and their objects, fast: placeholder bytes, no ingest."""

    def create(count: int) -> list[Image]:
        uploaded = timezone.now() - timedelta(hours=1)
        rows = []
        for index in range(count):
            stem = uuid.uuid4()
            rows.append(
                Image(
                    file=f"images/{stem}.png",
                    thumbnail=f"thumbs/{uuid.uuid4()}.webp",
                    width=64,
                    height=48,
                    size_bytes=11,
                    format="PNG",
                    sha256=f"{stem.int:064x}",
                    uploaded_at=uploaded + timedelta(seconds=index),
                )
            )
        created = Image.objects.bulk_create(rows)
        bucket.put_many([name for row in rows for name in (row.file.name, row.thumbnail.name)])
        return sorted(created, key=lambda row: row.uploaded_at, reverse=True)

    return create
