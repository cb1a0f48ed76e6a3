"""Several gunicorns on one Postgres, as several dynos and workers run: a page view never
deletes what another dyno stored, and a change reaches everyone in time."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.load.support import STAFF, Client
from tests.load.test_load import photo, shelf_rows, stored_files, variant

pytestmark = pytest.mark.load

PAGE_CACHE_SECONDS = 2  # production's default, which the servers here run with


def test_page_views_on_a_dyno_without_the_files_delete_nothing(
    gunicorn, production, database, tmp_path
):
    dyno_a = gunicorn("--workers", "2")
    dyno_b = gunicorn("--workers", "2", MEDIA_ROOT=str(tmp_path / "media-of-dyno-b"))
    staff = Client(dyno_a.port)
    staff.log_in(*STAFF)
    assert staff.upload(variant(photo((800, 600)), 1), "a.jpg", "Stored on A").status == 303
    [row] = shelf_rows(database)
    staff_on_b = Client(dyno_b.port)
    staff_on_b.log_in(*STAFF)

    pages = [Client(dyno_b.port).get("/") for _ in range(100)] + [staff_on_b.get("/")]

    assert {page.status for page in pages} == {200}
    assert not any(b"Stored on A" in page.body for page in pages)  # its file is not on B
    assert shelf_rows(database) == [row]
    assert stored_files(Path(production["MEDIA_ROOT"])) == {name for name in row if name}


def shows(client_for, text: bytes, visits: int = 12) -> bool:
    """Whether every one of several visits (new connections: every worker) shows text."""
    return all(text in client_for().get("/").body for _ in range(visits))


def test_a_change_reaches_staff_at_once_and_visitors_within_page_cache_seconds(gunicorn):
    server = gunicorn("--workers", "3")
    staff = Client(server.port)
    staff.log_in(*STAFF)
    visitor = lambda: Client(server.port)  # noqa: E731
    assert shows(visitor, b"The shelf is empty.")  # every worker has rendered its page

    assert staff.upload(variant(photo((800, 600)), 2), "new.jpg", "Just added").status == 303
    changed = time.monotonic()
    staff_sees = b"Just added" in staff.get("/").body
    time.sleep(max(0.0, changed + PAGE_CACHE_SECONDS + 0.2 - time.monotonic()))

    assert staff_sees
    assert shows(visitor, b"Just added")
