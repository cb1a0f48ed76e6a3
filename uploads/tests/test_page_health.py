"""The public page never shows a broken image, and never mistakes an outage for a loss."""

from __future__ import annotations

import os

import pytest

from uploads import services
from uploads.models import Image
from uploads.storage import StorageUnavailable
from uploads.tests.factories import distinct_png, upload_file

pytestmark = pytest.mark.django_db(transaction=True)


def ingest(index: int, title: str = "") -> Image:
    return services.image_ingest(upload_file(distinct_png(index)), user=None, title=title)


def test_an_image_whose_file_was_deleted_by_hand_is_dropped_from_page_and_shelf(
    client, media_root, files
):
    kept, lost = ingest(1, "kept"), ingest(2, "lost")
    os.remove(media_root / lost.file.name)

    response = client.get("/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "lost" not in html
    assert lost.thumbnail.url not in html
    assert kept.thumbnail.url in html
    assert list(Image.objects.all()) == [kept]
    assert lost.thumbnail.name not in files()  # its leftover thumbnail went with the row


def test_a_missing_thumbnail_falls_back_to_the_full_image(client, media_root):
    image = ingest(1, "no preview")
    os.remove(media_root / image.thumbnail.name)

    html = client.get("/").content.decode()

    assert f'src="{image.file.url}"' in html
    assert image.thumbnail.url not in html
    assert Image.objects.count() == 1


def test_every_image_on_the_page_exists_after_the_media_directory_is_wiped(client, media_root):
    for index in range(3):
        ingest(index)
    for path in media_root.rglob("*.*"):
        path.unlink()

    response = client.get("/")

    assert response.status_code == 200
    assert "<img" in response.content.decode()  # the hero only
    assert '<ol class="shelf">' not in response.content.decode()
    assert "The shelf is empty." in response.content.decode()
    assert Image.objects.count() == 0


def test_a_storage_outage_deletes_nothing_and_the_page_still_renders(client, monkeypatch):
    for index in range(2):
        ingest(index)

    def unavailable(storage, names):
        raise StorageUnavailable("connection refused")

    monkeypatch.setattr("uploads.storage.files_present", unavailable)

    response = client.get("/")

    assert response.status_code == 200
    assert "Some images cannot be shown right now." in response.content.decode()
    assert Image.objects.count() == 2


def test_the_page_reflects_a_new_upload_at_once(client):
    ingest(1, "first")
    assert "first" in client.get("/").content.decode()

    ingest(2, "second")

    assert "second" in client.get("/").content.decode()
