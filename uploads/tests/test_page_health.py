"""The public page never shows a broken image, never mistakes an outage for a loss, and
never deletes anything: removing rows whose files are gone is reconcile_media's job."""

from __future__ import annotations

import os

import pytest
from django.core.files.storage import default_storage

from uploads.media.storage import StorageUnavailable
from uploads.models import Image
from uploads.shelf import services
from uploads.tests.factories import distinct_png, upload_file

pytestmark = pytest.mark.django_db(transaction=True)


def url(name: str) -> str:
    return default_storage.url(name)


def ingest(index: int, title: str = "") -> Image:
    return services.image_ingest(upload_file(distinct_png(index)), user=None, title=title)


def test_an_image_whose_file_was_deleted_by_hand_is_left_off_the_page_and_kept(
    client, media_root, files
):
    kept, lost = ingest(1, "kept"), ingest(2, "lost")
    os.remove(media_root / lost.file.name)

    response = client.get("/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "lost" not in html
    assert url(lost.preview_name) not in html
    assert url(kept.preview_name) in html
    assert Image.objects.count() == 2
    assert lost.preview_name in files()


def test_a_missing_thumbnail_falls_back_to_the_full_image(client, media_root):
    image = ingest(1, "no preview")
    os.remove(media_root / image.preview_name)

    html = client.get("/").content.decode()

    assert f'src="{image.file.url}"' in html
    assert url(image.preview_name) not in html
    assert Image.objects.count() == 1


def wipe(media_root, settings) -> None:
    """A restarted dyno's disk: the directory is there, the files are not."""
    for path in media_root.rglob("*.*"):
        path.unlink()


def point_elsewhere(media_root, settings) -> None:
    """A MEDIA_ROOT that does not exist: a wrong setting."""
    settings.MEDIA_ROOT = str(media_root / "not-there")


@pytest.mark.parametrize("lose_the_files", [wipe, point_elsewhere])
def test_fifty_visits_to_a_shelf_whose_files_are_all_gone_delete_nothing(
    client, media_root, settings, lose_the_files
):
    images = [ingest(index) for index in range(3)]
    lose_the_files(media_root, settings)

    responses = [client.get("/") for _ in range(50)]

    assert {response.status_code for response in responses} == {200}
    html = responses[-1].content.decode()
    assert '<ol class="shelf">' not in html
    assert "The shelf is empty." in html
    assert list(Image.objects.order_by("pk")) == images


def test_a_storage_outage_deletes_nothing_and_the_page_still_renders(client, monkeypatch):
    for index in range(2):
        ingest(index)

    def unavailable(names):
        raise StorageUnavailable("connection refused")

    monkeypatch.setattr("uploads.media.storage.existing", unavailable)

    response = client.get("/")

    assert response.status_code == 200
    assert "Some images cannot be shown right now." in response.content.decode()
    assert Image.objects.count() == 2


def test_the_page_reflects_a_new_upload_at_once(client):
    ingest(1, "first")
    assert "first" in client.get("/").content.decode()

    ingest(2, "second")

    assert "second" in client.get("/").content.decode()
