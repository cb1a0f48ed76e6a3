"""Checksum headers, as the app's S3 client sends them: only where an operation requires a
checksum, and then Content-MD5, which every S3-compatible store accepts. Backblaze B2
refuses botocore's CRC headers, and older MinIO and Ceph want Content-MD5 on
DeleteObjects; moto accepts both, so the tests look at the requests themselves."""

from __future__ import annotations

import base64
import hashlib

import pytest

from uploads.media import storage as storage_ops

from .test_s3 import ingest

pytestmark = [pytest.mark.s3, pytest.mark.django_db(transaction=True)]


def sdk_checksum_headers(headers: dict[str, str]) -> list[str]:
    return [
        name
        for name in headers
        if name.startswith("x-amz-checksum-") or name == "x-amz-sdk-checksum-algorithm"
    ]


def write_read_and_delete() -> None:
    """An upload, a read of what it stored, and both kinds of delete: one object (as
    django-import-export removes a confirmed import's file) and a batch (as the shelf does)."""
    storage = storage_ops.media_storage()
    image, other = ingest(1), ingest(2)
    with storage.open(image.file.name, "rb") as stored:
        stored.read()
    storage.delete(other.file.name)
    storage_ops.delete_files(image.stored_names())


def test_no_request_carries_an_sdk_checksum_header(bucket, storage_requests):
    write_read_and_delete()

    assert {"PutObject", "GetObject", "DeleteObject", "DeleteObjects"} <= set(
        storage_requests.operations
    )
    assert {
        request.operation: sdk_checksum_headers(request.headers)
        for request in storage_requests.sent
        if sdk_checksum_headers(request.headers)
    } == {}


def test_delete_objects_carries_the_content_md5_of_its_body(bucket, storage_requests):
    image = ingest(1)
    storage_requests.clear()

    failed = storage_ops.delete_files(image.stored_names())

    (request,) = storage_requests.sent
    digest = base64.b64encode(hashlib.md5(request.body).digest()).decode()
    assert request.operation == "DeleteObjects"
    assert request.headers["content-md5"] == digest
    assert sdk_checksum_headers(request.headers) == []
    assert (failed, bucket.names()) == ([], [])


@pytest.mark.parametrize(
    "s3_variables",
    [
        {
            "AWS_REQUEST_CHECKSUM_CALCULATION": "when_supported",
            "AWS_RESPONSE_CHECKSUM_VALIDATION": "when_supported",
        }
    ],
)
def test_the_environment_can_turn_botocores_default_checksums_back_on(bucket, storage_requests):
    write_read_and_delete()

    headers = {request.operation: request.headers for request in storage_requests.sent}
    assert headers["PutObject"]["x-amz-sdk-checksum-algorithm"] == "CRC32"
    assert "x-amz-checksum-crc32" in headers["PutObject"]
    assert headers["GetObject"]["x-amz-checksum-mode"] == "ENABLED"
    # Even then, DeleteObjects sends the checksum every store accepts.
    assert "content-md5" in headers["DeleteObjects"]
    assert sdk_checksum_headers(headers["DeleteObjects"]) == []
