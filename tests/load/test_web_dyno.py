"""The web dyno as Heroku runs it (the Procfile's gunicorn, production settings, Postgres):
request ids in its logs, limits that hold across workers, bodies refused before they are
read, and nothing half-stored when it is stopped or a worker is killed."""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.load.support import STAFF, Client
from tests.load.test_load import photo, variant
from uploads.tests.factories import distinct_png

pytestmark = pytest.mark.load


def test_an_uploads_audit_line_and_its_access_line_carry_the_same_request_id(gunicorn):
    server = gunicorn()
    staff = Client(server.port)
    staff.log_in(*STAFF)

    # No X-Request-ID, as off Heroku: the app makes one and says which on the response.
    response = staff.upload(variant(photo((640, 480)), 1), "traced.jpg")

    request_id = response.headers["X-Request-ID"]
    assert response.status == 303
    assert logged(server, rf"^INFO uploads\.audit request_id={request_id} event=upload\.stored ")
    assert logged(
        server, rf'^gunicorn method=POST path="/images/" status=303 .*request_id={request_id} '
    )


def logged(server, pattern: str, within: float = 5) -> bool:
    """Whether a line matching pattern is in the server's log, or gets there in time (the
    access line is written once the response has gone)."""
    deadline = time.monotonic() + within
    while not re.search(pattern, server.log_text(), re.MULTILINE):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_with_two_workers_and_no_redis_ten_anonymous_uploads_an_hour_hold(gunicorn):
    """Sent all at once to two workers (each connection goes to either): exactly ten pass."""
    server = gunicorn("--workers", "2", PUBLIC_UPLOADS="true")
    visitors = [Client(server.port) for _ in range(13)]
    for visitor in visitors:
        visitor.get("/")  # the form, and its CSRF cookie
    start = threading.Barrier(12)

    def send(index: int) -> int:
        start.wait()
        return visitors[index].upload(distinct_png(index), f"visitor-{index}.png").status

    with ThreadPoolExecutor(12) as pool:
        statuses = list(pool.map(send, range(12)))
    late = visitors[12].upload(distinct_png(12), "late.png").status

    assert sorted(statuses) == [303] * 10 + [429] * 2
    assert late == 429
