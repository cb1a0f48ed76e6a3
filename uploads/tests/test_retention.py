"""The image limit: after every kind of upload, and under a burst of concurrent uploads."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from uploads.models import Image
from uploads.shelf import deletion, services
from uploads.tests.factories import distinct_png, upload_file


def ingest(index: int, **kwargs) -> Image:
    return services.image_ingest(upload_file(distinct_png(index)), user=None, **kwargs)


def expected_files(images) -> list[str]:
    return sorted(name for image in images for name in image.stored_names())


@pytest.mark.django_db(transaction=True)
def test_single_uploads_keep_the_newest_three_and_only_their_files(files):
    images = [ingest(index, title=f"n{index}") for index in range(5)]

    kept = list(Image.objects.on_shelf())
    assert [image.title for image in kept] == ["n4", "n3", "n2"]
    assert files() == expected_files(images[2:])


@pytest.mark.django_db(transaction=True)
def test_page_uploads_keep_the_limit(staff_client, files):
    for index in range(4):
        response = staff_client.post("/images/", {"image": upload_file(distinct_png(index))})
        assert response.status_code == 303

    assert Image.objects.count() == 3
    assert files() == expected_files(Image.objects.all())


@pytest.mark.django_db(transaction=True)
def test_enforce_limit_deletes_the_oldest_and_returns_them(files, settings):
    settings.IMAGE_LIMIT = 10
    images = [ingest(index) for index in range(4)]

    deleted = deletion.images_enforce_limit(limit=2)

    assert sorted(image.pk for image in deleted) == [image.pk for image in images[:2]]
    assert list(Image.objects.order_by("pk")) == images[2:]
    assert files() == expected_files(images[2:])


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_concurrent_uploads_leaves_exactly_the_limit(staff_user, files):
    """8 clients upload 5 images each at once (threads; real transactions on Postgres)."""
    from django.test import Client

    errors: list[BaseException] = []
    statuses: list[int] = []
    start = threading.Barrier(8, timeout=30)

    def client_uploads(client_index: int) -> None:
        try:
            client = Client()
            client.force_login(staff_user)
            start.wait(timeout=30)
            for upload_index in range(5):
                data = distinct_png(client_index * 5 + upload_index + 1)
                response = client.post("/images/", {"image": upload_file(data)})
                statuses.append(response.status_code)
        except BaseException as error:  # reported below, not lost in the thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=client_uploads, args=(index,)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert statuses == [303] * 40
    kept = list(Image.objects.all())
    assert len(kept) == 3
    assert files() == expected_files(kept)


@pytest.mark.django_db(transaction=True)
def test_loading_fixtures_does_not_enforce_the_limit(tmp_path, settings):
    from django.core.management import call_command

    settings.IMAGE_LIMIT = 1
    fixture = tmp_path / "images.json"
    fixture.write_text(
        "["
        + ",".join(
            f'{{"model": "uploads.image", "pk": {pk}, "fields": {{"file": "images/{pk}.png",'
            f' "width": 1, "height": 1, "size_bytes": 1, "format": "PNG",'
            f' "sha256": "{pk:064d}", "uploaded_at": "2026-01-0{pk}T00:00:00Z"}}}}'
            for pk in (1, 2, 3)
        )
        + "]"
    )

    call_command("loaddata", str(fixture), verbosity=0)

    assert Image.objects.count() == 3
