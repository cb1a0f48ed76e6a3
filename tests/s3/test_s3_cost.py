"""What reconcile_media costs on S3: a few listing pages and batched deletes, never a
request per row. Requests are counted as the storage's own S3 client sends them."""

from __future__ import annotations

import json

import pytest

from uploads.models import Image

from .test_s3_reconcile import reconcile

pytestmark = [pytest.mark.s3, pytest.mark.django_db(transaction=True)]


def orphans(count: int) -> list[str]:
    # All zeros: they sort before every uuid4 name, so a listing returns them first.
    return [f"images/00000000-0000-4000-8000-{index:012d}.jpg" for index in range(count)]


def test_a_dry_run_over_60_rows_lists_each_prefix_once(
    bucket, shelf_rows, storage_requests, capsys
):
    rows = shelf_rows(60)
    for row in rows[10:16]:
        bucket.delete(row.file.name)
    bucket.put_many(orphans(10))
    storage_requests.clear()

    status, out, _ = reconcile("--dry-run", "--json", "--orphan-grace", "0", capsys=capsys)

    report = json.loads(out)
    assert status == 0
    assert storage_requests.operations == ["ListObjects", "ListObjects"]
    assert (report["rows_checked"], report["files_listed"]) == (60, 124)
    assert report["missing_image"]["count"] == 6
    assert report["orphans_deleted"]["count"] == 10
    assert report["beyond_limit"]["count"] == 54 - 3


def test_a_real_run_deletes_rows_files_and_orphans_in_two_batched_requests(
    bucket, shelf_rows, storage_requests, capsys
):
    rows = shelf_rows(60)
    missing, beyond = rows[10:16], rows[-4:]
    for row in missing:
        bucket.delete(row.file.name)
    bucket.put_many(orphans(10))
    storage_requests.clear()

    status, out, _ = reconcile("--json", "--orphan-grace", "0", "--limit", "50", capsys=capsys)

    report = json.loads(out)
    kept = [row for row in rows if row not in missing and row not in beyond]
    assert status == 0
    assert sorted(storage_requests.operations) == [
        "DeleteObjects",  # the files of the 6 + 4 deleted rows
        "DeleteObjects",  # the 10 orphans
        "ListObjects",
        "ListObjects",
    ]
    assert (report["missing_image"]["count"], report["beyond_limit"]["count"]) == (6, 4)
    assert report["orphans_deleted"]["count"] == 10
    assert list(Image.objects.all()) == kept
    assert bucket.names() == sorted(n for row in kept for n in (row.file.name, row.thumbnail.name))


def test_rows_listed_on_a_second_page_are_not_taken_for_missing(
    bucket, shelf_rows, storage_requests, capsys
):
    rows = shelf_rows(20)
    bucket.put_many(orphans(990))  # images/ now holds 1010 keys: S3 lists 1000 per page
    storage_requests.clear()

    status, out, _ = reconcile("--dry-run", "--json", "--orphan-grace", "0", capsys=capsys)

    report = json.loads(out)
    assert status == 0
    assert storage_requests.operations == ["ListObjects", "ListObjects", "ListObjects"]
    assert (report["rows_checked"], report["files_listed"]) == (20, 1030)
    assert report["missing_image"]["count"] == 0
    assert report["thumbnails_regenerated"]["count"] == 0
    assert report["orphans_deleted"]["count"] == 990
    assert Image.objects.count() == len(rows)
