"""The web dyno's database connections stay within the README's bound: run as a role whose
CONNECTION LIMIT is that bound, under mixed load, it never meets a connection error."""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import pytest

from tests.load.support import STAFF, Client, Response
from tests.load.test_load import photo, variant

pytestmark = pytest.mark.load

# `dynos × WEB_CONCURRENCY × threads + 3` (README): one dyno with gunicorn.conf.py's
# defaults, 2 workers of 4 threads, holds at most 8; the 3 are for one-off dynos.
DYNO_BOUND = 2 * 4
LOAD_SECONDS = 12
# What Postgres and Django say when a connection is refused (the role's limit, the server's).
CONNECTION_ERRORS = re.compile(
    r"too many connections|connection limit exceeded|remaining connection slots"
    r"|database\.unavailable|OperationalError",
    re.IGNORECASE,
)

ERROR_LIST = re.compile(r'<ul class="errorlist[^>]*>(.*?)</ul>', re.DOTALL)  # why a form refused


@pytest.fixture
def limited_role(production, database_url, database) -> Iterator[str]:
    """A role that may log in at most DYNO_BOUND times, with every right on the migrated
    tables; yields DATABASE_URL as that role. Ask for it before `gunicorn`, so the server
    has stopped when the role is dropped."""
    role = f"imageshelf_load_{uuid.uuid4().hex[:12]}"
    with database.cursor() as cursor:
        cursor.execute(
            f"CREATE ROLE {role} LOGIN PASSWORD 'load' CONNECTION LIMIT {DYNO_BOUND};"
            f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {role};"
            f"GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {role};"
        )
    parts = urlsplit(database_url)
    try:
        yield parts._replace(netloc=f"{role}:load@{parts.hostname}:{parts.port or 5432}").geturl()
    finally:
        with database.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
                [role],
            )
            cursor.execute(f"DROP OWNED BY {role}; DROP ROLE {role}")


class ConnectionSampler(threading.Thread):
    """Counts the role's connections in pg_stat_activity every 20 ms; keeps the peak."""

    def __init__(self, database, role: str) -> None:
        super().__init__(daemon=True)
        self.database, self.role = database, role
        self.peak = 0
        self.samples = 0
        self.done = threading.Event()

    def run(self) -> None:
        with self.database.cursor() as cursor:
            while not self.done.is_set():
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE usename = %s", [self.role]
                )
                self.peak = max(self.peak, cursor.fetchone()[0])
                self.samples += 1
                time.sleep(0.02)


def test_the_web_dyno_under_load_stays_within_its_connection_bound(
    limited_role, gunicorn, database
):
    # Every page read renders, and so asks the database, instead of reusing a page for 2 s.
    server = gunicorn(DATABASE_URL=limited_role, PAGE_CACHE_SECONDS="0")  # the dyno's defaults
    role = urlsplit(limited_role).username
    uploaders = [Client(server.port) for _ in range(2)]
    admins = [Client(server.port) for _ in range(2)]
    for client in uploaders + admins:
        client.log_in(*STAFF)
    responses: list[tuple[str, Response]] = []
    failures: list[str] = []  # requests that got no HTTP answer at all
    lock = threading.Lock()
    deadline = time.monotonic() + LOAD_SECONDS

    def repeat(name: str, send: Callable[[int], Response]) -> None:
        count = 0
        while time.monotonic() < deadline:
            try:
                response = send(count)
            except OSError as error:
                with lock:
                    failures.append(f"{name}: {error!r}")
                continue
            with lock:
                responses.append((name, response))
            count += 1

    def upload(client: Client, first: int) -> Callable[[int], Response]:
        base = photo((640, 480))  # its own: variant() paints on it
        return lambda n: client.upload(variant(base, first + n), "limit.jpg", f"Limit {first + n}")

    senders = [("page", lambda n: Client(server.port).get("/")) for _ in range(16)]
    senders += [("healthz", lambda n: Client(server.port).get("/healthz")) for _ in range(8)]
    senders += [("admin", lambda n, c=c: c.get("/admin/uploads/image/")) for c in admins]
    senders += [("upload", upload(c, 1000 * i)) for i, c in enumerate(uploaders)]
    sampler = ConnectionSampler(database, role)
    sampler.start()
    threads = [threading.Thread(target=repeat, args=sender) for sender in senders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sampler.done.set()
    sampler.join()

    counts = {
        name: sum(1 for kind, _ in responses if kind == name)
        for name in ("page", "healthz", "admin", "upload")
    }
    errors = [
        f"{name} {response.status}: {response.body[:200]!r}"
        for name, response in responses
        if response.status >= 500
    ]
    expected = {"page": 200, "healthz": 200, "admin": 200, "upload": 303}
    unexpected = {
        f"{name} {response.status} {ERROR_LIST.findall(response.body.decode(errors='replace'))}"
        for name, response in responses
        if response.status != expected[name]
    }
    print(
        f"\nconnection limit {DYNO_BOUND}: {len(senders)} clients for {LOAD_SECONDS} s,"
        f" {counts}; peak {sampler.peak} connections of the role in {sampler.samples} samples"
    )
    assert failures == []
    assert errors == []
    assert unexpected == set()
    assert all(counts.values()), counts
    assert CONNECTION_ERRORS.findall(server.log_text()) == []
    # The dyno used its whole budget, and the role's limit held it there.
    assert sampler.peak == DYNO_BOUND
