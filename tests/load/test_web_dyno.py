"""The web dyno as Heroku runs it (the Procfile's gunicorn, production settings, Postgres):
request ids in its logs, limits that hold across workers, bodies refused before they are
read, and nothing half-stored when it is stopped or a worker is killed."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.load.support import STAFF, Client
from tests.load.test_load import photo, shelf_rows, stored_files, variant
from tests.processes import manage
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
    server = gunicorn("--workers", "2", PUBLIC_UPLOADS="open")
    visitors = [Client(server.port) for _ in range(13)]
    for visitor in visitors:
        visitor.get("/")  # the form, and its CSRF cookie
    start = threading.Barrier(12)

    def send(index: int) -> int:
        start.wait()
        # 503: every thread of that worker that reads visitors' bodies was busy; the page
        # says to try again, and nothing was counted.
        while (status := visitors[index].upload(distinct_png(index), f"{index}.png").status) == 503:
            time.sleep(0.2)
        return status

    with ThreadPoolExecutor(12) as pool:
        statuses = list(pool.map(send, range(12)))
    late = visitors[12].upload(distinct_png(12), "late.png").status

    assert sorted(statuses) == [303] * 10 + [429] * 2
    assert late == 429


# --- Bodies refused before they are read, and spooled files that leave nothing ---------

MB = 1024 * 1024


def open_upload(
    port: int, length: int, client: Client | None = None
) -> tuple[socket.socket, bytes]:
    """A socket that has sent an upload's headers (declaring `length` bytes of body) and the
    start of a multipart body; returns it and the rest of a body of that length."""
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="big.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    cookies = client.cookies if client else {}
    headers = (
        f"POST /images/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Forwarded-Proto: https\r\n"
        f"Origin: https://127.0.0.1:{port}\r\nReferer: https://127.0.0.1:{port}/\r\n"
        f"Cookie: {'; '.join(f'{name}={value}' for name, value in cookies.items())}\r\n"
        f"X-CSRFToken: {cookies.get('csrftoken', '')}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(headers + head)
    return sock, bytes(length - len(head) - len(tail)) + tail


def status_of(sock: socket.socket) -> int:
    """The status of the answer on sock, read as it arrives."""
    answer = b""
    while b"\r\n" not in answer:
        data = sock.recv(4096)
        if not data:
            raise ConnectionError(f"closed without an answer: {answer!r}")
        answer += data
    return int(answer.split(b" ", 2)[1])


def spooled_files(pid: int, directory: Path) -> list[str]:
    """The deleted (unnamed) files in directory that process pid holds open, besides
    gunicorn's own heartbeat file."""
    links = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(FileNotFoundError):
            links.append(os.readlink(fd))
    return [
        link
        for link in links
        if link.startswith(f"{directory}/")
        and link.endswith(" (deleted)")
        and not link.startswith(f"{directory}/wgunicorn-")
    ]


@pytest.mark.parametrize(
    ("public_uploads", "status"),
    [pytest.param("off", 403, id="may-not-upload"), pytest.param("open", 413, id="too-large")],
)
def test_a_50_mb_upload_is_refused_before_its_body_is_read(
    gunicorn, tmp_path, public_uploads, status
):
    spool = tmp_path / "tmp"
    spool.mkdir()
    server = gunicorn("--workers", "1", PUBLIC_UPLOADS=public_uploads, TMPDIR=str(spool))
    sock, body = open_upload(server.port, 50 * MB)

    answer = status_of(sock)  # nothing of the file has been sent yet
    with contextlib.suppress(OSError):  # the server may close before it has all
        sock.sendall(body)
    sock.close()

    assert answer == status
    assert list(spool.iterdir()) == []
    assert Client(server.port).get("/healthz").status == 200


def test_an_upload_whose_body_stalls_is_cut_off_and_leaves_no_file(gunicorn, tmp_path):
    spool = tmp_path / "tmp"
    spool.mkdir()
    server = gunicorn(
        "--workers", "1", PUBLIC_UPLOADS="open", TMPDIR=str(spool), REQUEST_BODY_DEADLINE="3"
    )
    [worker] = server.workers()
    visitor = Client(server.port)
    visitor.get("/")  # the form's CSRF cookie
    sock, body = open_upload(server.port, 8 * MB, visitor)
    sock.sendall(body[: 4 * MB])  # past FILE_UPLOAD_MAX_MEMORY_SIZE: spooled to disk
    time.sleep(1)
    spooling = spooled_files(worker, spool)

    answer = status_of(sock)  # the client sends nothing more
    sock.close()

    assert len(spooling) == 1
    assert answer == 400
    assert spooled_files(worker, spool) == []
    assert list(spool.iterdir()) == []
    assert Client(server.port).get("/healthz").status == 200


def test_a_killed_workers_spooled_upload_leaves_no_file(gunicorn, tmp_path):
    spool = tmp_path / "tmp"
    spool.mkdir()
    server = gunicorn("--workers", "1", PUBLIC_UPLOADS="open", TMPDIR=str(spool))
    [worker] = server.workers()
    visitor = Client(server.port)
    visitor.get("/")
    sock, body = open_upload(server.port, 8 * MB, visitor)
    sock.sendall(body[: 4 * MB])
    time.sleep(1)
    spooling = spooled_files(worker, spool)

    os.kill(worker, signal.SIGKILL)
    sock.close()

    assert len(spooling) == 1
    assert list(spool.iterdir()) == []


# --- Nothing half-stored when a worker is killed or the dyno stopped ------------------


def test_a_killed_worker_and_a_stopped_dyno_leave_no_row_without_its_files(
    gunicorn, production, database
):
    server = gunicorn("--workers", "1")  # one worker: every upload in flight is in it
    uploaders = [Client(server.port) for _ in range(4)]
    for uploader in uploaders:
        uploader.log_in(*STAFF)
    base = photo((2400, 1800))
    photos = [variant(base, index) for index in range(40)]
    done, interrupted = [], []
    stop = threading.Event()

    def upload(client: Client, first: int) -> None:
        for data in photos[first::4]:
            if stop.is_set():
                return
            try:
                done.append(client.upload(data, "restart.jpg").status)
            except OSError:  # the worker was killed, or the dyno stopped, mid-request
                interrupted.append(1)

    threads = [threading.Thread(target=upload, args=(c, n)) for n, c in enumerate(uploaders)]
    for thread in threads:
        thread.start()
    time.sleep(2)
    [worker] = server.workers()
    os.kill(worker, signal.SIGKILL)  # gunicorn forks a new one
    time.sleep(2)
    server.process.send_signal(signal.SIGTERM)  # as Heroku stops a dyno
    server.process.wait(timeout=30)
    stop.set()
    for thread in threads:
        thread.join()
    media = Path(production["MEDIA_ROOT"])
    rows = shelf_rows(database)
    with database.cursor() as cursor:
        cursor.execute("SELECT file, size_bytes, thumbnails FROM uploads_image")
        sizes = cursor.fetchall()
    before = stored_files(media)

    result = manage(production, "reconcile_media", "--orphan-grace", "0")

    print(
        f"\nrestarts: {len(done)} uploads answered, {len(interrupted)} cut off;"
        f" {len(rows)} rows, {len(before)} files before reconcile_media"
    )
    assert interrupted and 303 in done  # uploads were cut off, and others went through
    assert [status for status in done if status >= 500] == []
    for file, size, thumbnails in sizes:  # every row has all of its files, whole
        assert (media / file).stat().st_size == size
        assert len(thumbnails) == 6
        assert all((media / name).stat().st_size > 0 for name in thumbnails.values())
    assert result.returncode == 0, result.stderr
    assert shelf_rows(database) == rows
    assert stored_files(media) == {name for row in rows for name in row}  # orphans swept
