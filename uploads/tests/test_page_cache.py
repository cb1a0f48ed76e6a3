"""The public page is cached per shelf version: one query when warm, stale never."""

from __future__ import annotations

import pytest
from django.core.cache.backends.locmem import LocMemCache
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from uploads import selectors, services
from uploads.models import Image, ShelfVersion
from uploads.tests.factories import distinct_png, upload_file

pytestmark = pytest.mark.django_db(transaction=True)


def ingest(index: int, title: str) -> Image:
    return services.image_ingest(upload_file(distinct_png(index)), user=None, title=title)


def warm_page(client) -> str:
    """Two visits: the first fills the cache, the second proves it is used."""
    client.get("/")
    return client.get("/").content.decode()


def test_a_warm_page_costs_at_most_one_query(client):
    for index in range(3):
        ingest(index, f"image {index}")
    client.get("/")

    with CaptureQueriesContext(connection) as queries:
        response = client.get("/")

    assert response.status_code == 200
    assert "image 2" in response.content.decode()
    assert len(queries) <= 1


def test_a_repeat_visit_with_the_etag_gets_304_without_a_body(client):
    ingest(1, "first")
    first = client.get("/")

    repeat = client.get("/", HTTP_IF_NONE_MATCH=first["ETag"])

    assert first.status_code == 200
    assert first["ETag"].startswith('"')
    assert "Last-Modified" in first
    assert repeat.status_code == 304
    assert repeat.content == b""


def test_a_stale_etag_gets_the_new_page(client):
    ingest(1, "first")
    old = client.get("/")["ETag"]
    ingest(2, "second")

    response = client.get("/", HTTP_IF_NONE_MATCH=old)

    assert response.status_code == 200
    assert "second" in response.content.decode()


def test_the_public_page_is_revalidated_on_every_visit(client):
    response = client.get("/")

    assert response["Cache-Control"] == "public, max-age=0, must-revalidate"


def test_pages_for_staff_are_never_cached(staff_client):
    response = staff_client.get("/")

    assert "ETag" not in response
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


def test_an_upload_invalidates_the_cached_page(client):
    ingest(1, "first")
    warm_page(client)

    ingest(2, "second")

    assert "second" in client.get("/").content.decode()


def test_a_deletion_invalidates_the_cached_page(client):
    ingest(1, "first")
    doomed = ingest(2, "doomed")
    assert "doomed" in warm_page(client)

    services.images_delete([doomed.pk], reason="test")

    assert "doomed" not in client.get("/").content.decode()


def test_delete_all_invalidates_the_cached_page(client, staff_client):
    ingest(1, "first")
    assert "first" in warm_page(client)

    staff_client.post("/images/delete-all/", {"confirm": "yes"})

    assert "The shelf is empty." in client.get("/").content.decode()


def test_the_limit_invalidates_the_cached_page(client, settings):
    settings.IMAGE_LIMIT = 10
    for index in range(3):
        ingest(index, f"image {index}")
    settings.IMAGE_LIMIT = 3
    assert "image 0" in warm_page(client)

    services.images_enforce_limit(limit=1)

    html = client.get("/").content.decode()
    assert "image 2" in html and "image 0" not in html


def test_reconcile_invalidates_the_cached_page(client):
    older = ingest(1, "older")
    ingest(2, "newest")
    assert "older" in warm_page(client)

    call_command("reconcile_media", "--limit", "1", verbosity=0)

    html = client.get("/").content.decode()
    assert "newest" in html and "older" not in html
    assert not Image.objects.filter(pk=older.pk).exists()


def test_a_regenerated_thumbnail_replaces_the_fallback_on_the_cached_page(client, media_root):
    image = ingest(1, "pictured")
    (media_root / image.thumbnail.name).unlink()
    assert f'src="{image.file.url}"' in warm_page(client)  # the fallback

    call_command("reconcile_media", verbosity=0)

    image.refresh_from_db()
    assert f'src="{image.thumbnail.url}"' in client.get("/").content.decode()


def test_an_admin_title_edit_invalidates_the_cached_page(client, admin_client):
    image = ingest(1, "old title")
    assert "old title" in warm_page(client)

    admin_client.post(f"/admin/uploads/image/{image.pk}/change/", {"title": "new title"})

    assert "new title" in client.get("/").content.decode()


def test_an_admin_action_invalidates_the_cached_page(client, admin_client):
    image = ingest(1, "pictured")
    old_thumbnail = image.thumbnail.url
    assert old_thumbnail in warm_page(client)

    admin_client.post(
        "/admin/uploads/image/",
        {"action": "regenerate_thumbnails", "_selected_action": [image.pk]},
    )

    image.refresh_from_db()
    html = client.get("/").content.decode()
    assert old_thumbnail not in html
    assert image.thumbnail.url in html


def test_the_version_is_shared_through_the_database_not_process_memory(client):
    """Another worker's change is seen: the version comes from the database each time."""
    ingest(1, "first")
    warm_page(client)

    with connection.cursor() as cursor:  # as another process would, bypassing this one
        cursor.execute("UPDATE uploads_image SET title = 'renamed elsewhere'")
        cursor.execute("UPDATE uploads_shelfversion SET version = version + 1")

    assert "renamed elsewhere" in client.get("/").content.decode()


def test_a_warm_page_does_not_read_the_shared_cache(client, monkeypatch):
    """With Redis every cache read is a round trip: a warm page is served from the process."""
    for index in range(3):
        ingest(index, f"image {index}")
    client.get("/")
    reads = []
    read = LocMemCache.get

    def counted_read(cache, key, *args, **kwargs):
        reads.append(key)
        return read(cache, key, *args, **kwargs)

    monkeypatch.setattr(LocMemCache, "get", counted_read)

    response = client.get("/")

    assert response.status_code == 200
    assert "image 2" in response.content.decode()
    assert reads == []


def test_a_database_reset_that_reuses_a_version_number_shows_the_new_shelf(client):
    ingest(1, "before the reset")
    assert "before the reset" in warm_page(client)
    with connection.cursor() as cursor:  # a restore or a flush: no signals, versions start over
        cursor.execute("DELETE FROM uploads_image")
        cursor.execute("DELETE FROM uploads_shelfversion")

    ingest(2, "after the reset")

    html = client.get("/").content.decode()
    assert "after the reset" in html
    assert "before the reset" not in html


def test_a_new_image_limit_shows_on_the_cached_page(client, settings):
    ingest(1, "pictured")
    assert "keeps only the newest 3 images" in warm_page(client)

    settings.IMAGE_LIMIT = 5

    assert "keeps only the newest 5 images" in client.get("/").content.decode()


def test_the_shelf_version_read_in_plain_sql_matches_the_orm():
    ingest(1, "first")

    version, changed_at = selectors.shelf_version()

    stored = ShelfVersion.objects.get(pk=1)
    assert (version, changed_at) == (stored.version, stored.changed_at)
    assert changed_at.utcoffset() is not None  # aware, as the ORM gives it


def test_a_new_release_changes_the_etag_and_the_cached_page(client, monkeypatch):
    """After a deploy (new templates or static names) no browser keeps the old page."""
    from uploads import selectors

    ingest(1, "first")
    before = client.get("/")["ETag"]
    monkeypatch.setattr(selectors, "release_fingerprint", lambda: "next-release")

    response = client.get("/", HTTP_IF_NONE_MATCH=before)

    assert response.status_code == 200
    assert response["ETag"] != before


def test_the_release_fingerprint_follows_the_page_template(settings, tmp_path):
    from uploads import selectors

    first = selectors.release_fingerprint()
    selectors.release_fingerprint.cache_clear()
    template = tmp_path / "uploads" / "index.html"
    template.parent.mkdir()
    template.write_text("{% extends 'base.html' %}")
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}
    ]

    try:
        assert selectors.release_fingerprint() != first
    finally:
        selectors.release_fingerprint.cache_clear()


def test_a_visitor_with_a_message_waiting_gets_it_on_an_uncached_page(client):
    """The cookie-less shortcut for visitors must not swallow messages kept in a cookie."""
    from django.contrib.messages import constants
    from django.contrib.messages.storage.base import Message
    from django.contrib.messages.storage.cookie import CookieStorage
    from django.http import HttpRequest

    ingest(1, "pictured")
    warm_page(client)
    cookie = CookieStorage(HttpRequest())._encode([Message(constants.INFO, "Saved for you")])
    client.cookies[CookieStorage.cookie_name] = cookie

    response = client.get("/")

    assert "Saved for you" in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert "ETag" not in response
