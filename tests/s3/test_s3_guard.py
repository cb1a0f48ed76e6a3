"""reconcile_media on a bucket that holds none of the rows' files: the wrong bucket or
prefix far more often than a shelf that lost everything, so nothing is deleted."""

from __future__ import annotations

import pytest

from uploads.models import Image
from uploads.shelf import services
from uploads.tests.commands import reconcile
from uploads.tests.factories import distinct_png, upload_file

pytestmark = [pytest.mark.s3, pytest.mark.django_db(transaction=True)]

FOREIGN = "images/00000000-0000-4000-8000-000000000000.jpg"


def test_a_bucket_without_any_of_the_rows_files_stops_the_run(bucket, capsys, settings):
    images = [services.image_ingest(upload_file(distinct_png(i)), user=None) for i in range(2)]
    for name in bucket.names():
        bucket.delete(name)
    bucket.put(FOREIGN)  # another app's file, perhaps: it must survive too

    status, _, err = reconcile(capsys=capsys)

    bucket_name = settings.STORAGES["default"]["OPTIONS"]["bucket_name"]
    assert status == 2
    assert f"is in s3://{bucket_name}/" in err
    assert list(Image.objects.order_by("pk")) == images
    assert bucket.names() == [FOREIGN]


def test_allow_all_missing_repairs_a_bucket_that_really_lost_every_file(bucket, capsys):
    services.image_ingest(upload_file(distinct_png(1)), user=None)
    for name in bucket.names():
        bucket.delete(name)

    status, out, _ = reconcile("--allow-all-missing", "--orphan-grace", "0", capsys=capsys)

    assert status == 0
    assert "Deleted 1 row(s) whose image file is missing" in out
    assert Image.objects.count() == 0
