"""manage.py reconcile_media against S3: each category, dry runs, JSON, and an outage."""

from __future__ import annotations

import json

import pytest
from django.db import transaction

from uploads.models import Image
from uploads.shelf import services
from uploads.tests.commands import reconcile
from uploads.tests.factories import distinct_png, upload_file

pytestmark = [pytest.mark.s3, pytest.mark.django_db(transaction=True)]

ORPHAN = "images/00000000-0000-4000-8000-000000000000.jpg"


def ingest(index: int) -> Image:
    return services.image_ingest(upload_file(distinct_png(index)), user=None)


def stored_names(images) -> list[str]:
    return sorted(name for image in images for name in image.stored_names())


def test_a_consistent_bucket_needs_nothing(bucket, capsys):
    ingest(1)

    status, out, _ = reconcile(capsys=capsys)

    assert status == 0
    assert "Listed 3 files under images/ and thumbs/; checked 1 rows." in out  # and 2 thumbnails
    assert "Nothing to repair: rows and files agree." in out


def test_dry_run_reports_a_missing_object_and_changes_nothing(bucket, capsys):
    kept, lost = ingest(1), ingest(2)
    bucket.delete(lost.file.name)

    status, out, _ = reconcile("--dry-run", capsys=capsys)

    assert status == 0
    assert f"Would delete 1 row(s) whose image file is missing: {lost.file.name}" in out
    assert "Dry run: nothing was changed." in out
    assert Image.objects.count() == 2
    assert bucket.names() == sorted([*stored_names([kept]), *lost.thumbnails.values()])


def test_a_row_whose_object_is_missing_is_deleted_with_its_thumbnails(bucket, capsys):
    kept, lost = ingest(1), ingest(2)
    bucket.delete(lost.file.name)

    status, out, _ = reconcile(capsys=capsys)

    assert status == 0
    assert f"Deleted 1 row(s) whose image file is missing: {lost.file.name}" in out
    assert list(Image.objects.all()) == [kept]
    assert bucket.names() == stored_names([kept])


def test_an_orphan_object_is_reported_by_a_dry_run_and_deleted_by_a_real_run(bucket, capsys):
    image = ingest(1)
    bucket.put(ORPHAN)

    dry_status, dry_out, _ = reconcile("--dry-run", "--orphan-grace", "0", capsys=capsys)
    assert ORPHAN in bucket.names()
    status, out, _ = reconcile("--orphan-grace", "0", capsys=capsys)

    assert (dry_status, status) == (0, 0)
    assert f"Would delete 1 unreferenced file(s): {ORPHAN}" in dry_out
    assert f"Deleted 1 unreferenced file(s): {ORPHAN}" in out
    assert bucket.names() == stored_names([image])


def test_a_young_orphan_object_is_spared_as_a_possible_upload_in_flight(bucket, capsys):
    bucket.put(ORPHAN)

    status, out, _ = reconcile(capsys=capsys)

    assert status == 0
    assert "Spared 1 unreferenced file(s) younger than 15 minutes" in out
    assert bucket.names() == [ORPHAN]


def test_a_missing_thumbnail_is_reported_then_regenerated(bucket, capsys):
    image = ingest(1)
    old_thumbnail = image.preview_name
    bucket.delete(old_thumbnail)

    dry_status, dry_out, _ = reconcile("--dry-run", capsys=capsys)
    status, out, _ = reconcile(capsys=capsys)

    assert (dry_status, status) == (0, 0)
    assert f"Would regenerate 1 missing thumbnail(s): {image.file.name}" in dry_out
    assert f"Regenerated 1 missing thumbnail(s): {image.file.name}" in out
    image.refresh_from_db()
    assert image.preview_name != old_thumbnail
    assert bucket.names() == stored_names([image])
    assert bucket.read(image.preview_name)[8:12] == b"WEBP"


def test_rows_beyond_the_limit_are_deleted_with_their_objects(bucket, capsys, settings):
    settings.IMAGE_LIMIT = 10  # upload five without the limit trimming them
    images = [ingest(index) for index in range(5)]
    settings.IMAGE_LIMIT = 3

    dry_status, dry_out, _ = reconcile("--dry-run", capsys=capsys)
    assert bucket.names() == stored_names(images)
    status, out, _ = reconcile(capsys=capsys)

    oldest = f"{images[1].file.name}, {images[0].file.name}"
    assert (dry_status, status) == (0, 0)
    assert f"Would delete 2 row(s) beyond the limit of 3: {oldest}" in dry_out
    assert f"Deleted 2 row(s) beyond the limit of 3: {oldest}" in out
    assert list(Image.objects.order_by("pk")) == images[2:]
    assert bucket.names() == stored_names(images[2:])


def test_json_output_counts_and_names_every_category(bucket, capsys):
    missing, no_thumb = ingest(1), ingest(2)
    bucket.delete(missing.file.name)
    bucket.delete(no_thumb.preview_name)
    bucket.put(ORPHAN)

    status, out, _ = reconcile("--dry-run", "--json", "--orphan-grace", "0", capsys=capsys)

    report = json.loads(out)
    assert status == 0
    assert (report["dry_run"], report["limit"], report["grace_minutes"]) == (True, 3, 0)
    # The lost image's two thumbnails, the other image and its AVIF, the orphan.
    assert (report["files_listed"], report["rows_checked"]) == (5, 2)
    assert report["missing_image"] == {"count": 1, "names": [missing.file.name]}
    assert report["thumbnails_regenerated"] == {"count": 1, "names": [no_thumb.file.name]}
    assert report["orphans_deleted"] == {"count": 1, "names": [ORPHAN]}
    assert report["beyond_limit"] == {"count": 0, "names": []}
    assert report["errors"] == []


def test_objects_of_a_rolled_back_upload_are_swept(bucket, capsys):
    with pytest.raises(RuntimeError), transaction.atomic():
        ingest(1)
        raise RuntimeError("the request failed after the upload")
    assert Image.objects.count() == 0
    assert len(bucket.names()) == 3  # the image, its AVIF and its WebP thumbnail

    status, out, _ = reconcile("--orphan-grace", "0", capsys=capsys)

    assert status == 0
    assert "Deleted 3 unreferenced file(s)" in out
    assert bucket.names() == []


def test_s3_down_exits_2_and_deletes_no_row(bucket, capsys, s3_server):
    images = [ingest(index) for index in range(3)]
    s3_server.stop()

    status, out, err = reconcile("--json", capsys=capsys)

    assert status == 2
    assert "Storage is unavailable; nothing was changed." in err
    assert json.loads(out)["error"].startswith("Storage is unavailable; nothing was changed.")
    assert list(Image.objects.order_by("pk")) == images


def test_a_bucket_that_does_not_exist_is_a_configuration_error(s3_settings, capsys):
    status, _, err = reconcile(capsys=capsys)

    assert status == 1
    assert "Storage is misconfigured; nothing was changed." in err
    assert "NoSuchBucket" in err
