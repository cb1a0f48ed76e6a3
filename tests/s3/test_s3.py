"""Media on S3: uploads, the image limit, the public page and /healthz, up and down.

Against a real S3-compatible server (moto_server, see conftest.py): objects are listed
with a separate client to assert what is really stored.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.storage import default_storage, storages
from storages.backends.s3 import S3Storage

from uploads.media import storage
from uploads.media.storage import media_storage
from uploads.models import Image
from uploads.page import shared
from uploads.shelf import services
from uploads.tests.factories import distinct_png, upload_file

pytestmark = [pytest.mark.s3, pytest.mark.django_db(transaction=True)]

UUID = r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}"


def ingest(index: int, title: str = "") -> Image:
    return services.image_ingest(upload_file(distinct_png(index)), user=None, title=title)


def stored_names(images) -> list[str]:
    return sorted(name for image in images for name in image.stored_names())


def test_the_image_field_and_the_thumbnails_store_in_the_configured_bucket(bucket, s3_server):
    media = media_storage()

    assert media is storages["default"]  # what default_storage wraps, and thumbnails use
    assert Image._meta.get_field("file").storage is default_storage
    assert isinstance(media, S3Storage)
    assert (media.bucket_name, media.endpoint_url) == (bucket.name, s3_server.endpoint)


def test_ingest_stores_the_image_and_its_thumbnails_as_objects(bucket):
    image = ingest(1)

    assert re.fullmatch(rf"images/{UUID}\.png", image.file.name)
    assert sorted(image.thumbnails) == ["avif-480", "webp-480"]  # 64 px wide: one width
    assert re.fullmatch(rf"thumbs/{UUID}\.webp", image.thumbnails["webp-480"])
    assert re.fullmatch(rf"thumbs/{UUID}\.avif", image.thumbnails["avif-480"])
    assert bucket.names() == stored_names([image])
    assert hashlib.sha256(bucket.read(image.file.name)).hexdigest() == image.sha256
    assert bucket.read(image.thumbnails["webp-480"])[8:12] == b"WEBP"
    assert bucket.read(image.thumbnails["avif-480"])[4:12] == b"ftypavif"


def test_the_image_limit_deletes_the_objects_of_the_rows_it_trims(bucket):
    images = [ingest(index) for index in range(5)]

    assert list(Image.objects.order_by("pk")) == images[2:]
    assert bucket.names() == stored_names(images[2:])


def test_signed_links_use_sigv4_where_botocore_would_choose_sigv2(bucket, settings):
    assert settings.STORAGES["default"]["OPTIONS"]["region_name"] == "us-east-1"
    image = ingest(1)

    link = media_storage().url(image.preview_name)

    assert parse_qs(urlsplit(link).query)["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]


def test_an_object_deleted_behind_the_apps_back_is_left_off_the_page_and_kept(bucket, client):
    kept, lost = ingest(1, "kept"), ingest(2, "lost")
    bucket.delete(lost.file.name)

    response = client.get("/")

    html = response.content.decode()
    assert response.status_code == 200
    assert kept.preview_name in html
    assert lost.preview_name not in html
    assert "lost" not in html
    assert Image.objects.count() == 2  # removing the row is reconcile_media's job
    assert bucket.names() == sorted([*stored_names([kept]), *lost.thumbnails.values()])


def test_a_rendering_lists_each_prefix_once_and_a_reused_page_lists_nothing(
    bucket, client, settings, storage_requests, monkeypatch
):
    settings.PAGE_CACHE_SECONDS = 60
    monkeypatch.setattr(shared, "_kept", {})  # no rendering left by another test
    image = ingest(1, "reused")
    storage_requests.clear()

    first = client.get("/")
    listed = list(storage_requests.operations)
    storage_requests.clear()
    second = client.get("/")

    assert (first.status_code, second.status_code) == (200, 200)
    assert listed == ["ListObjects", "ListObjects"]  # images/ and thumbs/, one page each
    assert storage_requests.operations == []
    assert second.content == first.content
    assert image.preview_name in second.content.decode()


def test_healthz_reports_a_reachable_bucket(bucket, client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"database": "ok", "storage": "ok"}


def test_healthz_answers_503_when_s3_is_down(bucket, client, s3_server):
    s3_server.stop()

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"database": "ok", "storage": "unavailable"}


def test_the_page_still_answers_and_deletes_nothing_when_s3_is_down(bucket, client, s3_server):
    images = [ingest(index, f"image {index}") for index in range(3)]
    s3_server.stop()

    response = client.get("/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Some images cannot be shown right now." in html
    assert not any(image.preview_name in html for image in images)
    assert Image.objects.count() == 3


def test_the_page_shows_the_images_again_once_s3_is_back(bucket, client, s3_server):
    image = ingest(1, "back again")
    objects = {key: bucket.read(key) for key in bucket.names()}
    s3_server.stop()
    assert "Some images cannot be shown right now." in client.get("/").content.decode()
    s3_server.start()  # empty: put back what the outage took
    bucket.create()
    for key, data in objects.items():
        bucket.put(key, data)

    response = client.get("/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Some images cannot be shown right now." not in html
    assert image.preview_name in html
    assert list(Image.objects.all()) == [image]


def test_an_upload_while_s3_is_down_answers_503_and_stores_no_row(bucket, staff_client, s3_server):
    s3_server.stop()

    response = staff_client.post("/images/", {"image": upload_file(distinct_png(1))})

    assert response.status_code == 503
    assert str(storage.UNAVAILABLE) in response.content.decode()
    assert Image.objects.count() == 0
