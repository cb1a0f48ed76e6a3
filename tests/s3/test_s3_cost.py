"""What S3 requests cost: an upload is one PUT per stored file, nothing else; deleting images
is one DeleteObjects per 1,000 of their files, never a request per file; reconcile_media
over many rows is a few listing pages and batched deletes, never a request per row, and a
listing cut short is never taken for a complete one. Requests are counted (and
interrupted) as the storage's own S3 client sends them."""

from __future__ import annotations

import json

import pytest

from uploads.models import Image
from uploads.shelf import deletion
from uploads.tests.factories import (
    distinct_png,
    noisy_png,
    upload_file,
    wait_for_background_deletes,
)

from .test_s3_reconcile import reconcile

pytestmark = [pytest.mark.s3, pytest.mark.django_db(transaction=True)]


def test_an_upload_that_evicts_nothing_is_one_put_per_stored_file(
    bucket, staff_client, storage_requests
):
    # Random pixels: stored as a PNG of about 9 MB, above boto3's default 8 MB multipart
    # threshold and under MAX_UPLOAD_MB.
    data = noisy_png((2000, 1500))

    response = staff_client.post("/images/", {"image": upload_file(data)})

    image = Image.objects.get()
    assert response.status_code == 303
    assert image.size_bytes > 8 * 1024 * 1024
    # The owner marker (uploads/shelf/ownership.py), the image, then its six thumbnails
    # (AVIF and WebP at 480, 720 and 1,080 px).
    assert storage_requests.operations == ["GetObject"] + ["PutObject"] * 7
    assert bucket.names() == sorted(image.stored_names())


def test_an_upload_that_pushes_the_oldest_off_adds_one_batched_delete(
    bucket, shelf_rows, staff_client, storage_requests
):
    oldest, *others = reversed(shelf_rows(3, size=(1600, 1200)))  # a full shelf
    storage_requests.clear()

    response = staff_client.post("/images/", {"image": upload_file(distinct_png(1, (1600, 1200)))})
    wait_for_background_deletes()  # the oldest's files: the answer does not wait for them

    image = Image.objects.on_shelf().first()  # the newest: the upload
    assert response.status_code == 303
    # The owner marker, the image and its six thumbnails; then, for the limit, the marker
    # again and the oldest image's seven files in one request.
    assert storage_requests.operations == [
        "GetObject",
        *["PutObject"] * 7,
        "GetObject",
        "DeleteObjects",
    ]
    assert not Image.objects.filter(pk=oldest.pk).exists()
    assert bucket.names() == sorted(name for row in [image, *others] for name in row.stored_names())


@pytest.mark.parametrize(("images", "requests"), [(1, 1), (142, 1), (143, 2)])
def test_deleting_images_is_one_request_per_thousand_files(
    bucket, shelf_rows, storage_requests, images, requests
):
    shelf_rows(images, size=(1600, 1200))  # seven files each: 142 make 994, 143 make 1,001
    storage_requests.clear()

    deleted = deletion.images_delete_all()

    assert len(deleted) == images
    assert storage_requests.operations == ["GetObject"] + ["DeleteObjects"] * requests
    assert (Image.objects.count(), bucket.names()) == (0, [])


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
    # The owner marker; images/, thumbs/ and django-import-export/ (abandoned import
    # previews); the marker again before each deletion (rows whose file is missing, the limit)
    assert storage_requests.operations == ["GetObject"] + ["ListObjects"] * 3 + ["GetObject"] * 2
    assert (report["rows_checked"], report["files_listed"]) == (60, 60 * 3 - 6 + 10)
    assert report["missing_image"]["count"] == 6
    assert report["orphans_deleted"]["count"] == 10
    assert report["beyond_limit"]["count"] == 54 - 3


def test_a_real_run_deletes_rows_files_and_orphans_in_three_batched_requests(
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
    assert storage_requests.operations == [
        "GetObject",  # the owner marker: is this storage ours?
        "ListObjects",  # images/
        "ListObjects",  # thumbs/
        "ListObjects",  # django-import-export/ (abandoned import previews), before any change
        "GetObject",  # the marker, before the rows whose image is missing are deleted
        "GetObject",  # and before the rows beyond the limit
        "DeleteObjects",  # the files of the 6 rows whose image is missing
        "DeleteObjects",  # the files of the 4 rows beyond the limit
        "DeleteObjects",  # the 10 orphans
    ]
    assert (report["missing_image"]["count"], report["beyond_limit"]["count"]) == (6, 4)
    assert report["orphans_deleted"]["count"] == 10
    assert list(Image.objects.on_shelf()) == kept
    assert bucket.names() == sorted(n for row in kept for n in row.stored_names())


def test_rows_listed_on_a_second_page_are_not_taken_for_missing(
    bucket, shelf_rows, storage_requests, capsys
):
    rows = shelf_rows(20)
    bucket.put_many(orphans(990))  # images/ now holds 1010 keys: S3 lists 1000 per page
    storage_requests.clear()

    status, out, _ = reconcile("--dry-run", "--json", "--orphan-grace", "0", capsys=capsys)

    report = json.loads(out)
    assert status == 0
    # the owner marker, images/ in two pages, thumbs/, django-import-export/, the marker
    # again before the limit's deletion
    assert storage_requests.operations == ["GetObject"] + ["ListObjects"] * 4 + ["GetObject"]
    assert (report["rows_checked"], report["files_listed"]) == (20, 20 * 3 + 990)
    assert report["missing_image"]["count"] == 0
    assert report["thumbnails_regenerated"]["count"] == 0
    assert report["orphans_deleted"]["count"] == 990
    assert Image.objects.count() == len(rows)


def test_an_outage_between_listing_pages_deletes_nothing(
    bucket, shelf_rows, storage_requests, s3_server, capsys
):
    rows = shelf_rows(20)  # their images sort after the orphans: on the second page
    bucket.put_many(orphans(990))
    storage_requests.before("ListObjects", 2, s3_server.stop)

    status, _, err = reconcile("--orphan-grace", "0", capsys=capsys)

    assert status == 2
    assert "Storage is unavailable; nothing was changed." in err
    assert "could not list 'images/'" in err  # the first page had answered
    assert list(Image.objects.on_shelf()) == rows


def test_an_outage_after_the_listing_keeps_the_rows_whose_files_exist_and_exits_2(
    bucket, shelf_rows, storage_requests, s3_server, capsys
):
    rows = shelf_rows(5)
    lost = rows[2]
    bucket.delete(lost.file.name)
    bucket.put_many(orphans(3))
    storage_requests.before("DeleteObjects", 1, s3_server.stop)

    status, out, err = reconcile("--orphan-grace", "0", "--limit", "5", capsys=capsys)

    assert status == 2
    assert f"Deleted 1 row(s) whose image file is missing: {lost.file.name}" in out
    assert "nothing was changed" not in err
    assert f"could not delete {lost.preview_name}" in err
    # The lost row's three names (its image, its two thumbnails) and the three orphans.
    assert "6 operation(s) failed, as listed above; the rest was done." in err
    assert list(Image.objects.on_shelf()) == [row for row in rows if row != lost]
