"""Slow clients cannot take the dyno: Heroku's router passes bodies on as slowly as clients
send them, so a body trickled a byte at a time is cut off at its allowance on every door,
and a crowd of anonymous tricklers leaves threads free for pages and /healthz.

The gunicorn of the Procfile with gunicorn.conf.py (2 workers of 4 threads) and the default
REQUEST_BODY_DEADLINE (60 s) and REQUEST_BODY_IDLE (10 s), clients on raw sockets.
"""

from __future__ import annotations

import select
import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.load.support import STAFF, Client

pytestmark = pytest.mark.load

KB = 1024
# The body the issue measured, and the time a body of that size has to arrive: the idle
# limit plus its share of the deadline (uploads/web/read_deadline.body_seconds).
BODY = 52 * KB
ALLOWANCE = 10 + 60 * BODY / (10 * KB * KB)  # 10.3 s
PACE = 0.5  # a byte every half second: 2 bytes/s, and never idle long enough to be cut off
DOORS = {
    "page": "/images/",
    "admin-add": "/admin/uploads/image/add/",
    "bulk": "/admin/uploads/image/bulk-upload/",
    "sign-in": "/admin/login/",
}


def request_head(port: int, path: str, length: int, content_type: str, cookies: dict) -> bytes:
    """A browser's POST headers, as the router forwards them; any client can make a CSRF
    cookie of its own, so the anonymous ones carry one too."""
    cookies = {"csrftoken": "t" * 32, **cookies}
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Forwarded-Proto: https\r\n"
        f"Origin: https://127.0.0.1:{port}\r\nReferer: https://127.0.0.1:{port}/\r\n"
        f"Cookie: {'; '.join(f'{name}={value}' for name, value in cookies.items())}\r\n"
        f"X-CSRFToken: {cookies['csrftoken']}\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


def multipart(field: str, size: int) -> tuple[str, bytes]:
    """A form with one file of about `size` bytes in `field`: its content type and body."""
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="a.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    return f"multipart/form-data; boundary={boundary}", head + bytes(size) + (
        f"\r\n--{boundary}--\r\n".encode()
    )


def trickle(port: int, head: bytes, body: bytes, within: float) -> tuple[int | None, float]:
    """Send head, then body a byte every PACE seconds until the server answers: the status
    and the seconds since the head was sent; None if there is no answer within `within`."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    started = time.monotonic()
    try:
        sock.sendall(head)
        for byte in body:
            if time.monotonic() - started > within:
                return None, time.monotonic() - started
            if select.select([sock], [], [], PACE)[0]:
                break  # an answer, or the connection closed
            try:
                sock.send(bytes([byte]))
            except OSError:
                break  # cut off: the answer is in the socket's buffer
        answer = sock.recv(64)
        status = int(answer.split(b" ", 2)[1]) if answer else None
        return status, time.monotonic() - started
    except OSError:  # reset before the answer could be read
        return None, time.monotonic() - started
    finally:
        sock.close()


def test_a_body_trickled_at_2_bytes_a_second_is_cut_off_at_its_allowance_on_every_door(
    gunicorn, database, tmp_path
):
    spool = tmp_path / "tmp"
    spool.mkdir()
    server = gunicorn(TMPDIR=str(spool))
    staff = Client(server.port)
    staff.log_in(*STAFF)
    requests = {}
    for door, path in DOORS.items():
        if door == "sign-in":  # anonymous, as anyone signing in is
            content_type, body = "application/x-www-form-urlencoded", b"u" * BODY
            cookies = {}
        else:
            content_type, body = multipart("images" if door == "bulk" else "image", BODY)
            cookies = staff.cookies
        requests[door] = (request_head(server.port, path, len(body), content_type, cookies), body)

    with ThreadPoolExecutor(len(requests)) as pool:
        answers = dict(
            zip(
                requests,
                pool.map(lambda sent: trickle(server.port, *sent, within=60), requests.values()),
                strict=True,
            )
        )

    print(f"\ntrickled at 2 bytes/s (allowance {ALLOWANCE:.1f} s): {answers}")
    for door, (status, seconds) in answers.items():
        assert status in (400, 408), door
        assert seconds < ALLOWANCE + 3, door
    with database.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM uploads_image")
        assert cursor.fetchone()[0] == 0
    assert list(spool.iterdir()) == []
    assert Client(server.port).get("/healthz").status == 200


def test_with_24_anonymous_clients_trickling_bodies_pages_and_healthz_answer_within_1_s(
    gunicorn,
):
    server = gunicorn()
    fields = b"csrfmiddlewaretoken=" + b"t" * 32 + b"&username=admin&password=" + b"p" * 60
    head = request_head(
        server.port, DOORS["sign-in"], len(fields), "application/x-www-form-urlencoded", {}
    )
    stop = threading.Event()
    answers: list[tuple[int | None, float]] = []

    def trickler() -> None:
        while not stop.is_set():  # cut off or refused: back at its pace with another
            answers.append(trickle(server.port, head, fields, within=40))
            time.sleep(PACE)

    visitor = Client(server.port)
    threads = [threading.Thread(target=trickler) for _ in range(24)]
    for thread in threads:
        thread.start()
    probes = []
    until = time.monotonic() + 2.5 * ALLOWANCE  # long enough for tricklers to be cut off
    while time.monotonic() < until:
        for path in ("/healthz", "/"):
            response = visitor.get(path)
            probes.append((path, response.status, response.seconds))
        time.sleep(0.25)
    stop.set()
    for thread in threads:
        thread.join()

    statuses = sorted({status for status, _ in answers}, key=str)
    print(
        f"\n24 tricklers: {len(answers)} answers {statuses}, "
        f"{sum(status == 400 for status, _ in answers)} cut off; "
        f"{len(probes)} probes, slowest {max(seconds for *_, seconds in probes):.2f} s"
    )
    assert [probe for probe in probes if probe[1] != 200 or probe[2] >= 1] == []
    assert any(status == 400 for status, _ in answers)  # read, and cut off at the allowance
    assert any(status == 503 for status, _ in answers)  # beyond the readers: refused at once
    assert all(status in (400, 503) for status, _ in answers)  # every one answered
