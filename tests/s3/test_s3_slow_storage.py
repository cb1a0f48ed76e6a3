"""Slow storage on a real web dyno: gunicorn as the Procfile runs it (gunicorn.conf.py, two
workers of four threads), its bucket on moto_server behind a proxy that holds every PUT.

Uploads write their files after their decode turn, so four at once each take about their
own writes, not everyone's before them; pages and /healthz answer meanwhile. When the
writes take past INGEST_DEADLINE, the upload answers 503 and stores nothing that survives
the next reconcile_media.
"""

from __future__ import annotations

import io
import json
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from PIL import Image

from tests.load.support import STAFF, Client
from tests.processes import (
    S3_ACCESS_KEY,
    S3_REGION,
    S3_SECRET_KEY,
    SlowPuts,
    gunicorn,
    manage,
    production_env,
)

from .conftest import Bucket

pytestmark = pytest.mark.s3

UPLOADS = 4
PUT_SECONDS = 1.5


def photo(index: int) -> bytes:
    """A 1200 x 900 PNG of its own (six thumbnails: seven PUTs in all)."""
    img = Image.linear_gradient("L").resize((1200, 900)).convert("RGB")
    img.paste((index * 40 % 256, 90, 200), (0, 0, 100, 100))
    buffer = io.BytesIO()
    img.save(buffer, "PNG")
    return buffer.getvalue()


def rows(env: dict[str, str]) -> list[list[str]]:
    """Each row's stored names (the image, then its thumbnails), from the dyno's database."""
    path = env["DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as database:
        found = database.execute("SELECT file, thumbnails FROM uploads_image").fetchall()
    return [[file, *json.loads(thumbnails).values()] for file, thumbnails in found]


@pytest.fixture
def dyno(s3_server, tmp_path):
    """A web dyno's variables, database and staff account, its bucket behind a proxy that
    holds PUTs; yields (env, proxy, bucket). Each test starts gunicorn with them."""
    if not s3_server.running:  # an earlier test simulated an outage
        s3_server.start()
    bucket = Bucket(s3_server)
    bucket.create()
    proxy = SlowPuts(s3_server.port, PUT_SECONDS)
    env = production_env(
        tmp_path,
        AWS_STORAGE_BUCKET_NAME=bucket.name,
        AWS_S3_ENDPOINT_URL=f"http://127.0.0.1:{proxy.port}",
        AWS_S3_REGION_NAME=S3_REGION,
        AWS_ACCESS_KEY_ID=S3_ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY=S3_SECRET_KEY,
        IMAGE_LIMIT="10",  # every upload stays: the limit is not what this is about
        DJANGO_SUPERUSER_USERNAME=STAFF[0],
        DJANGO_SUPERUSER_PASSWORD=STAFF[1],
    )
    manage(env, "collectstatic", "--noinput", check=True)
    manage(env, "migrate", "--noinput", check=True)
    manage(env, "ensure_superuser", check=True)
    yield env, proxy, bucket
    proxy.close()


def signed_in(port: int, count: int) -> list[Client]:
    """`count` staff clients, signed in; then every thread of the dyno has served a page
    and asked storage once (its first S3 client is not what is measured)."""
    clients = [Client(port) for _ in range(count)]
    for client in clients:
        client.log_in(*STAFF)
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda path: Client(port).get(path), ["/healthz", "/"] * 16))
    return clients


def upload_at_once(clients: list[Client]) -> list:
    """Each client uploads a photo of its own, all at the same moment."""
    start = threading.Barrier(len(clients))

    def send(index: int):
        start.wait(timeout=30)
        return clients[index].upload(photo(index), f"photo-{index}.png")

    with ThreadPoolExecutor(len(clients)) as pool:
        return list(pool.map(send, range(len(clients))))


def slowest_page_meanwhile(port: int, busy: threading.Event) -> list[float]:
    """/healthz and / asked in turn while `busy` is set; the seconds each answer took."""
    visitor, seconds = Client(port), []
    while busy.is_set():
        for path in ("/healthz", "/"):
            answer = visitor.get(path)
            assert answer.status == 200, (path, answer.status)
            seconds.append(answer.seconds)
        time.sleep(0.1)
    return seconds


def test_four_uploads_with_slow_puts_all_answer_in_time_with_their_rows_and_files(dyno, tmp_path):
    env, proxy, bucket = dyno
    # Five threads, not four: the kernel spreads connections over the two workers by hash,
    # so now and then all four uploads land on one worker, whose every thread then waits
    # on storage (a limitation the README names); a fifth keeps one free for pages there.
    with gunicorn(env, "--threads", "5", log=tmp_path / "gunicorn.log") as server:
        clients = signed_in(server.port, UPLOADS)
        busy = threading.Event()
        busy.set()
        with ThreadPoolExecutor(1) as reader:
            pages = reader.submit(slowest_page_meanwhile, server.port, busy)
            answers = upload_at_once(clients)
            busy.clear()
            page_seconds = pages.result()

    assert [answer.status for answer in answers] == [303] * UPLOADS, server.log_text()
    assert max(answer.seconds for answer in answers) < 20
    assert page_seconds and max(page_seconds) < 1
    stored = rows(env)
    assert len(stored) == UPLOADS
    assert all(len(names) == 7 for names in stored)  # the image and six thumbnails
    assert bucket.names() == sorted(name for names in stored for name in names)


def test_uploads_whose_puts_take_past_the_deadline_answer_503_and_leave_nothing(dyno, tmp_path):
    env, proxy, bucket = dyno
    proxy.delay = 2.5  # each PUT alone outlasts the deadline
    with gunicorn({**env, "INGEST_DEADLINE": "2"}, log=tmp_path / "gunicorn.log") as server:
        answers = upload_at_once(signed_in(server.port, UPLOADS))
    reconciled = manage(env, "reconcile_media", "--orphan-grace", "0")

    assert [answer.status for answer in answers] == [503] * UPLOADS
    assert all(answer.headers["Retry-After"] == "30" for answer in answers)
    assert rows(env) == []
    assert reconciled.returncode == 0, reconciled.stderr
    assert bucket.names() == []
