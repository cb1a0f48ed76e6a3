"""The public page with REDIS_URL set: the shelf's state comes from Redis, not the database.

Visitors' pages are keyed on the token announced to this process (no round trip); staff
pages read it from Redis. Every change through the app replaces and announces it; one made
in another process reaches this one through the announcement, or within CONFIRM_SECONDS
when the announcement is lost. Without Redis, pages fall back to the database.
"""

from __future__ import annotations

import threading
import time
import uuid

import pytest
import redis
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.processes import free_port
from tests.redis import use_redis
from uploads import shelf_state
from uploads.models import Image

# The page cache's own tests, run again here with Redis holding the cache and the state.
from uploads.tests.test_page_cache import (  # noqa: F401
    ingest,
    test_a_deletion_invalidates_the_cached_page,
    test_a_new_image_limit_shows_on_the_cached_page,
    test_a_new_release_changes_the_etag_and_the_cached_page,
    test_a_regenerated_thumbnail_replaces_the_fallback_on_the_cached_page,
    test_a_repeat_visit_with_the_etag_gets_304_without_a_body,
    test_a_stale_etag_gets_the_new_page,
    test_an_admin_action_invalidates_the_cached_page,
    test_an_admin_title_edit_invalidates_the_cached_page,
    test_an_upload_invalidates_the_cached_page,
    test_delete_all_invalidates_the_cached_page,
    test_reconcile_invalidates_the_cached_page,
    test_the_limit_invalidates_the_cached_page,
    warm_page,
)

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]

WAIT_SECONDS = 5  # well beyond CONFIRM_SECONDS: how long "within moments" may take here


def eventually(check, within: float = WAIT_SECONDS) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


def listening(settings) -> bool:
    """This process's listener follows the channel (started by the first visitor's page)."""
    return eventually(lambda: shelf_state._listener(settings.REDIS_URL).token() is not None)


def announce_elsewhere(redis_client) -> str:
    """What another worker's change does: replace the token and announce it (not via us)."""
    return redis_client.eval(
        shelf_state._PUBLISH,
        2,
        shelf_state.KEY,
        shelf_state.COUNT_KEY,
        uuid.uuid4().hex,
        60,
        shelf_state.CHANNEL,
    ).decode()


def rename_elsewhere(image: Image, title: str) -> None:
    Image.objects.filter(pk=image.pk).update(title=title)  # update() sends no signals


@pytest.fixture
def redis_commands(monkeypatch):
    """Redis commands sent from this (the request's) thread; not the listener's."""
    sent = []
    execute = redis.Redis.execute_command

    def counted(client, *args, **options):
        if threading.current_thread() is threading.main_thread():
            sent.append(args[0])
        return execute(client, *args, **options)

    monkeypatch.setattr(redis.Redis, "execute_command", counted)
    return sent


def test_a_warm_visitor_page_costs_no_query_and_no_redis_round_trip(
    client, settings, redis_commands
):
    for index in range(3):
        ingest(index, f"image {index}")
    client.get("/")
    assert listening(settings)
    client.get("/")
    redis_commands.clear()

    with CaptureQueriesContext(connection) as queries:
        response = client.get("/")

    assert response.status_code == 200
    assert "image 2" in response.content.decode()
    assert len(queries) == 0
    assert redis_commands == []


def test_every_change_replaces_and_announces_the_token(redis_client):
    before = redis_client.get(shelf_state.KEY).decode()
    pubsub = redis_client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(shelf_state.CHANNEL)
    pubsub.get_message(timeout=1)  # the subscription's confirmation

    ingest(1, "first")

    after = redis_client.get(shelf_state.KEY).decode()
    message = pubsub.get_message(timeout=2)
    pubsub.close()
    assert after != before
    assert int(after.split(":")[0]) > int(before.split(":")[0])
    assert message is not None and message["data"].decode() == after
    assert 0 < redis_client.ttl(shelf_state.KEY) <= 60


def test_a_visitor_sees_a_change_announced_by_another_process(client, settings, redis_client):
    image = ingest(1, "old title")
    assert "old title" in warm_page(client)
    assert listening(settings)

    rename_elsewhere(image, "renamed elsewhere")
    announce_elsewhere(redis_client)

    assert eventually(lambda: "renamed elsewhere" in client.get("/").content.decode())


def test_a_lost_announcement_is_caught_when_the_listener_reads_the_token_again(
    client, settings, redis_client
):
    image = ingest(1, "old title")
    assert "old title" in warm_page(client)
    assert listening(settings)
    count = int(redis_client.get(shelf_state.KEY).split(b":")[0])

    rename_elsewhere(image, "renamed elsewhere")
    redis_client.set(shelf_state.KEY, f"{count + 1}:{uuid.uuid4().hex}", ex=60)  # no PUBLISH

    assert eventually(lambda: "renamed elsewhere" in client.get("/").content.decode())


def test_staff_see_a_change_from_another_process_at_once(client, staff_client, redis_client):
    """Staff pages read the token from Redis: no waiting for the announcement."""
    image = ingest(1, "old title")
    assert "old title" in staff_client.get("/").content.decode()
    count = int(redis_client.get(shelf_state.KEY).split(b":")[0])

    rename_elsewhere(image, "renamed elsewhere")
    redis_client.set(shelf_state.KEY, f"{count + 1}:{uuid.uuid4().hex}", ex=60)  # no PUBLISH

    assert "renamed elsewhere" in staff_client.get("/").content.decode()


def test_an_expired_token_is_set_again(client, redis_client):
    ingest(1, "pictured")
    redis_client.delete(shelf_state.KEY)

    response = client.get("/")

    assert response.status_code == 200
    assert "pictured" in response.content.decode()
    assert eventually(lambda: redis_client.exists(shelf_state.KEY))  # the listener's next read
    assert 0 < redis_client.ttl(shelf_state.KEY) <= 60


def test_without_redis_pages_and_uploads_go_on_with_the_database(client, settings, caplog):
    ingest(1, "before the outage")
    use_redis(settings, f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there

    ingest(2, "during the outage")  # its announcement fails, after the commit
    response = client.get("/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "before the outage" in html and "during the outage" in html
    assert "Redis unavailable" in caplog.text


def test_an_outage_is_logged_once_not_on_every_page(client, settings, caplog):
    ingest(1, "pictured")
    use_redis(settings, f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there

    pages = [client.get("/") for _ in range(5)]

    assert [page.status_code for page in pages] == [200] * 5
    assert caplog.text.count("Redis unavailable") == 1
