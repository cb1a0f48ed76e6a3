"""Real processes for tests and benchmarks: manage.py, gunicorn, moto_server, Postgres.

Shared by the production, load, S3 and Heroku tests and by bench/page.py,
bench/reconcile.py and bench/memory.py, which import it as tests.processes. It imports
neither Django nor the app: the processes it starts bring their own settings (s3_storages,
called where Django runs, borrows the settings' own S3 builder).
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
SECRET_KEY = "a-production-like-secret-key-for-tests-9f8e7d6c5b4a3928171605f4e3d2c1b0"
# Host settings that would otherwise leak into a production-like child and change what it
# runs against (a real database, a real bucket, a dyno's behaviour).
HOST_ONLY = (
    "DJANGO_", "DATABASE_", "AWS_", "SECRET_KEY", "DYNO", "PORT",
    "WEB_CONCURRENCY", "GUNICORN_CMD_ARGS",
)  # fmt: skip


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def die_with_parent() -> None:
    """For preexec_fn: on Linux the child gets SIGTERM when we die, even by SIGKILL."""
    if sys.platform == "linux":
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def stop(process: subprocess.Popen, timeout: float = 20) -> None:
    """SIGTERM, then SIGKILL if the process has not exited within timeout seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# --- Production settings, outside the test client ---------------------------


def production_env(directory: Path, **overrides: str) -> dict[str, str]:
    """config.settings.production as on Heroku, with SQLite, static and media in directory."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(HOST_ONLY)}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY=SECRET_KEY,
        DATABASE_URL=f"sqlite:///{directory / 'prod.sqlite3'}",
        DATABASE_SSL_REQUIRE="False",  # local servers have no TLS; Heroku Postgres does
        STATIC_ROOT=str(directory / "staticfiles"),
        MEDIA_ROOT=str(directory / "media"),
        ALLOWED_HOSTS="127.0.0.1,localhost",
    )
    env.update(overrides)
    return env


def manage(
    env: dict[str, str], *args: str, check: bool = False, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """manage.py in its own process; with check=True a failure raises, showing its stderr."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr}")
    return result


# --- The Procfile ------------------------------------------------------------

# `name: command`, as Heroku reads a Procfile line.
PROCESS_LINE = re.compile(r"(?P<name>[A-Za-z0-9_-]+):[ \t]*(?P<command>\S.*)")


class ProcfileError(ValueError):
    """The Procfile is not a list of `name: command` lines."""


def parse_procfile(text: str) -> dict[str, str]:
    """Process types and their commands; blank lines and # comments are skipped."""
    processes: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = PROCESS_LINE.fullmatch(line)
        if match is None:
            raise ProcfileError(f"Procfile line {number} is not 'name: command': {line!r}")
        if match["name"] in processes:
            raise ProcfileError(f"Procfile line {number} declares {match['name']!r} again")
        processes[match["name"]] = match["command"].strip()
    return processes


def web_command() -> str:
    """The Procfile's `web:` command: what a web dyno runs."""
    return parse_procfile((ROOT / "Procfile").read_text())["web"]


# --- gunicorn ---------------------------------------------------------------


@dataclass(frozen=True)
class Server:
    """A running gunicorn: its port, its master process and its log."""

    port: int
    process: subprocess.Popen
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def workers(self) -> list[int]:
        """The workers' pids: the master's children (Linux /proc)."""
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        return [int(child) for child in children]

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@contextlib.contextmanager
def gunicorn(env: dict[str, str], *options: str, log: Path) -> Iterator[Server]:
    """The Procfile's web command with env and a free PORT, as a dyno runs it; yielded once
    /healthz answers, stopped on exit.

    Options (`"--workers", "1"`) go in GUNICORN_CMD_ARGS, which gunicorn reads over its
    config file: the way Heroku's Python buildpack passes options too.
    """
    port = free_port()
    env = {
        **env,
        "PORT": str(port),
        # The Procfile says `gunicorn`: this Python's.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', os.defpath)}",
    }
    if options:
        env["GUNICORN_CMD_ARGS"] = shlex.join(options)
    # A file, not a pipe: nobody reads a pipe while the server runs, and a full one blocks it.
    with log.open("wb") as output:
        process = subprocess.Popen(
            ["bash", "-c", f"exec {web_command()}"],  # exec: the pid is gunicorn's master
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_answering(process, lambda: _ask_healthz(port), name="gunicorn", log=log)
        yield Server(port, process, log)
    finally:
        stop(process)


def _ask_healthz(port: int) -> None:
    """One GET /healthz; any HTTP answer will do (a 503 too: an outage may be the point)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        # As Heroku's router forwards it, so no HTTPS redirect stands in for an answer.
        connection.request("GET", "/healthz", headers={"X-Forwarded-Proto": "https"})
        connection.getresponse().read()
    finally:
        connection.close()


def _wait_until_answering(
    process: subprocess.Popen,
    ask: Callable[[], object],
    *,
    name: str,
    log: Path,
    timeout: float = 30,
    interval: float = 0.2,
) -> None:
    """Return once ask() succeeds; otherwise stop the process and raise, showing its log."""
    deadline = time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        try:
            ask()
            return
        except (OSError, http.client.HTTPException):
            time.sleep(interval)
    if process.poll() is None:
        stop(process)
        why = f"did not answer within {timeout:g} s"
    else:
        why = f"exited with status {process.returncode} before answering"
    raise RuntimeError(f"{name} {why}; its log ({log}):\n{log.read_text(errors='replace')}")


# --- moto_server: S3 on this machine ----------------------------------------

# moto accepts any credentials: the app's storage and our own clients only have to agree.
S3_ACCESS_KEY = "shelf-test-access-key"
S3_SECRET_KEY = "shelf-test-secret-key"
S3_REGION = "us-east-1"


def moto_server(port: int, log: Path) -> subprocess.Popen:
    """An empty moto_server on 127.0.0.1:port, once it answers; it dies when we die."""
    moto = Path(sys.executable).parent / "moto_server"
    # A file, not a pipe: moto logs every request, and a full pipe would block it.
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(moto), "-H", "127.0.0.1", "-p", str(port)],
            stdout=output,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )

    def ask() -> None:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/", timeout=1).close()

    _wait_until_answering(process, ask, name="moto_server", log=log, interval=0.05)
    return process


class SlowPuts:
    """An HTTP proxy in front of moto_server that holds every PUT for `delay` seconds before
    passing it on. One request per connection (it asks both sides to close after it)."""

    def __init__(self, upstream_port: int, delay: float) -> None:
        self.upstream_port = upstream_port
        self.delay = delay
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self.listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    def _relay(self, client: socket.socket) -> None:
        with client:
            data = b""
            while b"\r\n\r\n" not in data:
                if not (chunk := client.recv(65536)):
                    return
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            request_line, *lines = head.split(b"\r\n")
            headers = {}
            for line in lines:
                name, _, value = line.partition(b":")
                headers[name.strip().lower()] = value.strip()
            if headers.get(b"expect", b"").lower() == b"100-continue":
                client.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")  # botocore waits for it
            while len(body) < int(headers.get(b"content-length", 0)):
                if not (chunk := client.recv(65536)):
                    return
                body += chunk
            if request_line.startswith(b"PUT "):
                time.sleep(self.delay)
            kept = [line for line in lines if line.split(b":")[0].strip().lower()
                    not in (b"connection", b"expect", b"keep-alive")]  # fmt: skip
            request = b"\r\n".join([request_line, *kept, b"Connection: close", b"", body])
            with socket.create_connection(("127.0.0.1", self.upstream_port)) as upstream:
                upstream.sendall(request)
                while chunk := upstream.recv(65536):
                    client.sendall(chunk)


def s3_client(endpoint: str):
    """A boto3 S3 client of our own, to arrange and inspect buckets around the app."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=S3_ACCESS_KEY,
        aws_secret_access_key=S3_SECRET_KEY,
        region_name=S3_REGION,
    )


def s3_storages(bucket_name: str, endpoint: str, **variables: str) -> dict:
    """STORAGES for media in a bucket on moto_server, built from AWS_* variables as the
    settings build them (config.settings.s3)."""
    import environ

    from config.settings.s3 import s3_media_storage

    env = environ.Env()
    env.ENVIRON = {
        "AWS_S3_REGION_NAME": S3_REGION,
        **variables,
        # Whatever the variables name, requests go to moto_server, with its credentials.
        "AWS_STORAGE_BUCKET_NAME": bucket_name,
        "AWS_S3_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": S3_ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": S3_SECRET_KEY,
    }
    return {
        "default": s3_media_storage(env),
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


# --- PostgreSQL -------------------------------------------------------------


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server answers at the admin URL; the message is psycopg2's."""


@contextlib.contextmanager
def postgres_database(admin_url: str, *, prefix: str = "imageshelf_test") -> Iterator[str]:
    """A new, empty database on admin_url's server, dropped afterwards; yields its URL."""
    import psycopg2

    # The pid and a random part: parallel runs, and databases a killed run left, never clash.
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        admin = psycopg2.connect(admin_url, connect_timeout=5)
    except psycopg2.OperationalError as error:
        raise PostgresUnavailable(str(error)) from None
    admin.autocommit = True  # CREATE and DROP DATABASE cannot run in a transaction
    try:
        with admin.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        yield urlsplit(admin_url)._replace(path=f"/{name}").geturl()
    finally:
        with admin.cursor() as cursor:
            # FORCE: a server or connection the caller left open must not keep it alive.
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
