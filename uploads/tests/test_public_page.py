"""The public page for visitors: an ETag of the page itself, so it changes with every
change, and a rendering reused for at most PAGE_CACHE_SECONDS, never for a page with
someone's own content on it."""

from __future__ import annotations

import re
import threading
import time

import pytest
from django.core.management import call_command
from django.test import Client

from uploads.models import Image
from uploads.page import shared
from uploads.shelf import deletion, services
from uploads.tests.factories import distinct_png, upload_file

pytestmark = pytest.mark.django_db(transaction=True)


def ingest(index: int, title: str) -> Image:
    return services.image_ingest(upload_file(distinct_png(index)), user=None, title=title)


@pytest.fixture
def clock(monkeypatch):
    """The page's monotonic clock, moved by hand: clock.now += seconds."""

    class Clock:
        now = 1000.0

    monkeypatch.setattr(shared.time, "monotonic", lambda: Clock.now)
    return Clock


@pytest.fixture
def reuse(settings, clock, monkeypatch):
    """Visitors' pages reused for 2 s, as in production; this process has kept none yet."""
    settings.PAGE_CACHE_SECONDS = 2
    monkeypatch.setattr(shared, "_kept", {})
    return clock


def test_a_repeat_visit_with_the_etag_gets_304_without_a_body(client):
    ingest(1, "first")
    first = client.get("/")

    # Rendered afresh (PAGE_CACHE_SECONDS is 0), as another worker would: the same ETag.
    repeat = client.get("/", HTTP_IF_NONE_MATCH=first["ETag"])

    assert first.status_code == 200
    assert first["ETag"].startswith('W/"')  # one validator for every content coding
    assert repeat.status_code == 304
    assert repeat.content == b""


def delete_the_image(image):
    deletion.images_delete(Image.objects.filter(pk=image.pk), reason="test")


def upload_another(image):
    ingest(2, "second")


@pytest.mark.parametrize("change", [upload_another, delete_the_image])
def test_after_a_change_the_old_etag_gets_the_new_page(client, change):
    image = ingest(1, "first")
    before = client.get("/")

    change(image)
    response = client.get("/", HTTP_IF_NONE_MATCH=before["ETag"])

    assert response.status_code == 200
    assert response["ETag"] != before["ETag"]


def test_the_public_page_is_revalidated_on_every_visit(client):
    response = client.get("/")

    assert response["Cache-Control"] == "public, max-age=0, must-revalidate"


def test_pages_for_staff_are_never_cached(staff_client):
    response = staff_client.get("/")

    assert "ETag" not in response
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


def change_the_title(client, image):
    client.post(f"/admin/uploads/image/{image.pk}/change/", {"title": "changed"})


def regenerate_the_thumbnail(client, image):
    client.post(
        "/admin/uploads/image/",
        {"action": "regenerate_thumbnails", "_selected_action": [image.pk]},
    )


def delete_all(client, image):
    client.post("/images/delete-all/", {"confirm": "yes"})


def reconcile_to_nothing(client, image):
    call_command("reconcile_media", "--limit", "0", verbosity=0)


def enforce_a_smaller_limit(client, image):
    services.images_enforce_limit(limit=0)


@pytest.mark.parametrize(
    "change",
    [
        change_the_title,
        regenerate_the_thumbnail,
        delete_all,
        reconcile_to_nothing,
        enforce_a_smaller_limit,
    ],
)
def test_every_way_of_changing_the_shelf_changes_the_etag(client, admin_client, change):
    image = ingest(1, "pictured")
    before = client.get("/")

    change(admin_client, image)
    after = client.get("/", HTTP_IF_NONE_MATCH=before["ETag"])

    assert after.status_code == 200
    assert after.content != before.content


def test_a_new_image_limit_changes_the_etag_and_the_text(client, settings):
    ingest(1, "pictured")
    before = client.get("/")

    settings.IMAGE_LIMIT = 5
    after = client.get("/", HTTP_IF_NONE_MATCH=before["ETag"])

    assert after.status_code == 200
    assert "keeps only the newest 5 images" in after.content.decode()


# --- Reuse for at most PAGE_CACHE_SECONDS -------------------------------------


def rename_elsewhere(image: Image, title: str) -> None:
    """What another worker's change looks like from here: the rows change, not this process."""
    Image.objects.filter(pk=image.pk).update(title=title)


def test_a_visitor_gets_a_change_made_elsewhere_within_page_cache_seconds(client, reuse):
    image = ingest(1, "old title")
    assert "old title" in client.get("/").content.decode()

    rename_elsewhere(image, "new title")
    reuse.now += 1.9
    meanwhile = client.get("/").content.decode()
    reuse.now += 0.2
    after = client.get("/").content.decode()

    assert "old title" in meanwhile
    assert "new title" in after


def test_the_shared_page_sets_no_cookie_and_varies_on_cookie_rendered_or_reused(client, reuse):
    ingest(1, "first")
    rendered = client.get("/")
    reused = client.get("/")

    for response in (rendered, reused):
        assert response.cookies == {}  # a cache may keep it for everyone
        assert "Cookie" in response["Vary"]  # but never serve it to staff, whose page differs


def test_threads_that_find_the_page_expired_together_render_it_once(reuse):
    renderings = []

    def slow_render():
        renderings.append(1)
        time.sleep(0.05)  # long enough for every thread to find the page expired
        return b"page"

    start = threading.Barrier(5)
    got = []

    def visit():
        start.wait()
        got.append(shared._current(slow_render))

    threads = [threading.Thread(target=visit) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(renderings) == 1
    assert len(got) == 5 and len(set(map(id, got))) == 1  # all five answered from it


def test_staff_see_a_change_at_once_while_visitors_page_is_reused(client, staff_client, reuse):
    image = ingest(1, "old title")
    client.get("/")

    rename_elsewhere(image, "new title")

    assert "new title" in staff_client.get("/").content.decode()


def test_a_page_cache_of_0_renders_every_visit(client, settings, reuse):
    settings.PAGE_CACHE_SECONDS = 0
    image = ingest(1, "old title")
    client.get("/")

    rename_elsewhere(image, "new title")

    assert "new title" in client.get("/").content.decode()


def test_a_visitor_with_a_message_waiting_gets_it_on_a_page_of_their_own(client, reuse):
    """The shortcut for cookie-less visitors must not swallow messages kept in a cookie."""
    from django.contrib.messages import constants
    from django.contrib.messages.storage.base import Message
    from django.contrib.messages.storage.cookie import CookieStorage
    from django.http import HttpRequest

    ingest(1, "pictured")
    client.get("/")
    cookie = CookieStorage(HttpRequest())._encode([Message(constants.INFO, "Saved for you")])
    client.cookies[CookieStorage.cookie_name] = cookie

    response = client.get("/")

    assert "Saved for you" in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert "ETag" not in response


def csrf_token(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def test_with_public_uploads_each_visitor_gets_a_form_that_works_for_them(settings, reuse, files):
    settings.PUBLIC_UPLOADS = "open"
    visitors = [Client(enforce_csrf_checks=True) for _ in range(2)]
    pages = [visitor.get("/") for visitor in visitors]

    answers = [
        visitor.post(
            "/images/",
            {
                "image": upload_file(distinct_png(index)),
                "csrfmiddlewaretoken": csrf_token(page.content.decode()),
            },
        )
        for index, (visitor, page) in enumerate(zip(visitors, pages, strict=True))
    ]

    assert [answer.status_code for answer in answers] == [303, 303]
    assert Image.objects.count() == 2
    assert all("ETag" not in page for page in pages)
