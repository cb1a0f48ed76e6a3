"""A request's deadline for its uploads: no decode turn in time, or storage too slow, is the
503 page with Retry-After and nothing stored; storage deletes never hold up the answer."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
import time

import pytest

from uploads.ingest import decode_lock
from uploads.media import storage
from uploads.models import Image
from uploads.shelf import services
from uploads.tests.factories import distinct_png, upload_file

pytestmark = pytest.mark.django_db(transaction=True)

CHANGELIST = "/admin/uploads/image/"
# Another process's decode turn: it takes the lock, says so, and keeps it until its stdin
# closes (at most a minute, so a test that never gives up fails instead of hanging).
HOLD_THE_TURN = """
import fcntl, select, sys
with open(sys.argv[1], "a") as lock:
    fcntl.flock(lock, fcntl.LOCK_EX)
    print("held", flush=True)
    select.select([sys.stdin], [], [], 60)
"""


def ingest(index: int) -> Image:
    return services.image_ingest(upload_file(distinct_png(index)), user=None)


@pytest.fixture
def private_lock(tmp_path, monkeypatch):
    """A lock file of this test's own: other checkouts' tests share the default one."""
    monkeypatch.setattr(decode_lock, "LOCK_FILE", tmp_path / "decode.lock")
    return decode_lock.LOCK_FILE


@contextlib.contextmanager
def turn_held_elsewhere(lock):
    """Another process holds the decode turn until the block ends."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_TURN, str(lock)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout.readline() == b"held\n"
        yield
    finally:
        holder.stdin.close()  # the turn comes free: a helper a request left hands it back
        holder.wait(timeout=10)


@pytest.fixture
def client(admin_client):
    admin_client.raise_request_exception = False  # the handler500 a visitor would get
    return admin_client


@pytest.fixture
def short_deadline(settings):
    settings.INGEST_DEADLINE = 0.5


UPLOADS = {
    "the page": ("/images/", lambda: {"image": upload_file(distinct_png(1))}),
    "the admin's add form": (f"{CHANGELIST}add/", lambda: {"image": upload_file(distinct_png(1))}),
    "bulk upload": (
        f"{CHANGELIST}bulk-upload/",
        lambda: {"images": [upload_file(distinct_png(i), f"{i}.png") for i in range(3)]},
    ),
}


@pytest.mark.parametrize("door", UPLOADS)
def test_an_upload_that_gets_no_turn_in_time_answers_503_and_stores_nothing(
    door, client, short_deadline, private_lock, files
):
    path, data = UPLOADS[door]

    with turn_held_elsewhere(private_lock):
        response = client.post(path, data())

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "ImageShelf is busy" in response.content.decode()
    assert Image.objects.count() == 0
    assert files() == []


def test_regenerating_thumbnails_without_a_turn_in_time_answers_503_and_changes_nothing(
    client, short_deadline, private_lock, files
):
    image = ingest(1)
    stored = files()
    action = {"action": "regenerate_thumbnails", "_selected_action": [image.pk]}

    with turn_held_elsewhere(private_lock):
        response = client.post(CHANGELIST, action)

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert Image.objects.get().thumbnails == image.thumbnails
    assert files() == stored


def test_an_upload_whose_files_take_past_the_deadline_answers_503_and_stores_nothing(
    client, settings, private_lock, files, monkeypatch
):
    settings.INGEST_DEADLINE = 1  # the image and its two thumbnails take 1.2 s to write
    save_file = storage.save_file

    def slow_save(name, content):
        time.sleep(0.4)
        return save_file(name, content)

    monkeypatch.setattr(storage, "save_file", slow_save)

    response = client.post("/images/", {"image": upload_file(distinct_png(1))})

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert Image.objects.count() == 0
    assert files() == []


@pytest.fixture
def held_deletes(monkeypatch):
    """storage.delete_files held until the test lets it go: post(client, data) answers
    (the response, whether it came before the deletion was done)."""
    may_finish, finished = threading.Event(), threading.Event()
    delete_files = storage.delete_files

    def slow_delete(names):
        may_finish.wait(timeout=10)
        failed = delete_files(names)
        finished.set()
        return failed

    monkeypatch.setattr(storage, "delete_files", slow_delete)

    def post(client, data):
        response = client.post("/images/", {"image": upload_file(data)})
        answered_first = not finished.is_set()
        may_finish.set()
        assert finished.wait(timeout=10)
        return response, answered_first

    return post


def test_an_upload_past_its_deadline_answers_before_its_files_are_removed(
    client, settings, private_lock, files, monkeypatch, held_deletes
):
    """Removing what it wrote is storage's work too: a slow storage must not push the 503
    past the router's 30 s."""
    settings.INGEST_DEADLINE = 1
    save_file = storage.save_file

    def slow_save(name, content):
        time.sleep(0.4)
        return save_file(name, content)

    monkeypatch.setattr(storage, "save_file", slow_save)

    response, answered_before_the_delete = held_deletes(client, distinct_png(1))

    assert response.status_code == 503
    assert answered_before_the_delete
    assert (Image.objects.count(), files()) == (0, [])


def test_an_upload_answers_before_the_files_the_limit_removes_are_deleted(
    client, private_lock, files, held_deletes
):
    oldest, *_ = [ingest(index) for index in range(3)]

    response, answered_before_the_delete = held_deletes(client, distinct_png(9))

    assert response.status_code == 303
    assert answered_before_the_delete
    assert not Image.objects.filter(pk=oldest.pk).exists()
    kept = sorted(name for image in Image.objects.all() for name in image.stored_names())
    assert files() == kept
