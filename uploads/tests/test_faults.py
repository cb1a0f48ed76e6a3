"""Faults lose nothing: failed writes, a lost database, rollbacks, a wiped media directory."""

from __future__ import annotations

import pytest
from django.core.files import File
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import OperationalError, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from uploads.media import storage
from uploads.models import Image
from uploads.shelf import deletion, services
from uploads.tests.factories import distinct_png, upload_file


def ingest(index: int) -> Image:
    return services.image_ingest(upload_file(distinct_png(index)), user=None)


@pytest.mark.django_db
def test_a_write_that_fails_half_way_leaves_no_partial_file(staff_client, files, monkeypatch):
    def chunks_then_fail(self, chunk_size=None):
        yield self.read(10)  # the file now exists on disk, ten bytes long
        raise OSError("No space left on device")

    monkeypatch.setattr(File, "chunks", chunks_then_fail)

    response = staff_client.post("/images/", {"image": upload_file(distinct_png(1))})

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert str(storage.UNAVAILABLE) in response.content.decode()
    assert Image.objects.count() == 0
    assert files() == []


@pytest.fixture
def lost_database(monkeypatch):
    """Every new use of a database connection fails, as when Postgres has gone away."""

    monkeypatch.setattr(BaseDatabaseWrapper, "ensure_connection", _refuse)


def _refuse(self):
    raise OperationalError("could not connect to server: Connection refused")


@pytest.mark.django_db
def test_a_lost_database_gives_the_friendly_503_page(client, lost_database):
    client.raise_request_exception = False  # as in production: handler500 answers

    response = client.get("/")

    html = response.content.decode()
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "The shelf is resting for a moment" in html
    assert "Traceback" not in html and "OperationalError" not in html
    assert "SECRET_KEY" not in html and "Connection refused" not in html


@pytest.mark.django_db
def test_a_database_lost_inside_a_middleware_also_gives_the_503_page(staff_client, monkeypatch):
    staff_client.raise_request_exception = False
    monkeypatch.setattr(BaseDatabaseWrapper, "ensure_connection", _refuse)

    # The upload gate (a middleware) reads the session's user before any view runs.
    response = staff_client.post("/images/", {"image": upload_file(distinct_png(1))})

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "The shelf is resting for a moment" in response.content.decode()


@pytest.mark.django_db
def test_a_bug_is_still_a_500_not_an_outage(client, monkeypatch):
    client.raise_request_exception = False
    monkeypatch.setattr("uploads.page.views.shelf", lambda: 1 / 0)

    response = client.get("/")

    assert response.status_code == 500
    assert "Retry-After" not in response


@pytest.mark.django_db
def _unreachable(*args, **kwargs):
    raise storage.StorageUnavailable("could not read .imageshelf-owner: connection refused")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "request_",
    [
        ("post", "/admin/uploads/image/delete-all/", {"confirm": "yes"}),
        ("post", "/admin/uploads/image/", {"action": "regenerate_thumbnails"}),
        ("post", "/admin/uploads/image/", {"action": "delete_selected", "post": "yes"}),
        ("get", "/admin/uploads/image/archive/", {}),
    ],
    ids=["delete all", "regenerate thumbnails", "delete selected", "archive"],
)
def test_unreachable_storage_is_the_503_page_in_the_admin_too(admin_client, monkeypatch, request_):
    image = ingest(1)
    monkeypatch.setattr(storage, "read_chunks", _unreachable)  # the owner marker, a file
    monkeypatch.setattr(storage, "list_files", _unreachable)
    admin_client.raise_request_exception = False
    method, path, data = request_

    response = getattr(admin_client, method)(path, {**data, "_selected_action": [image.pk]})

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert Image.objects.filter(pk=image.pk).exists()


def test_healthz_names_the_database_when_it_is_lost(client, lost_database):
    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"database": "unavailable", "storage": "ok"}


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_upload_is_never_shown_and_reconcile_sweeps_its_files(
    own_storage, client, media_root, files
):
    with pytest.raises(RuntimeError), transaction.atomic():
        ingest(1)
        raise RuntimeError("the request failed after the file was written")
    leftovers = files()

    html = client.get("/").content.decode()
    call_command("reconcile_media", "--orphan-grace", "0", verbosity=0)

    assert len(leftovers) == 3  # the image, its AVIF and its WebP thumbnail
    assert not any(name in html for name in leftovers)
    assert files() == []


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_deletion_keeps_the_row_and_its_files(files):
    image = ingest(1)
    stored = files()

    with pytest.raises(RuntimeError), transaction.atomic():
        deletion.images_delete(Image.objects.filter(pk=image.pk), reason="test")
        raise RuntimeError("the request failed after the deletion")

    assert Image.objects.filter(pk=image.pk).exists()
    assert files() == stored


@pytest.mark.django_db(transaction=True)
def test_after_the_media_directory_is_wiped_the_page_hides_and_reconcile_keeps_the_rows(
    client, media_root, files
):
    import shutil

    for index in range(3):
        ingest(index)
    shutil.rmtree(media_root)  # a dyno restart: the whole directory is gone

    page = client.get("/")
    with pytest.raises(CommandError) as refused:
        call_command("reconcile_media", verbosity=0)

    assert page.status_code == 200
    assert "The shelf is empty." in page.content.decode()
    assert refused.value.returncode == 1  # a media root that is not there: a wrong setting
    assert Image.objects.count() == 3
