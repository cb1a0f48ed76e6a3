"""A real gunicorn whose database is unreachable: friendly 503s, never a traceback."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from tests.test_production import ROOT, fetch, free_port, manage, production_env


@pytest.fixture(scope="module")
def gunicorn_without_database(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("outage")
    env = production_env(tmp_path, DATABASE_URL=f"postgres://shelf@127.0.0.1:{free_port()}/gone")
    assert manage(env, "collectstatic", "--noinput").returncode == 0
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", "1", "--no-control-socket"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            fetch(base + "/healthz")
            break
        except OSError:
            time.sleep(0.2)
    yield base
    process.terminate()
    process.wait(timeout=10)


def test_the_page_answers_503_with_the_friendly_page(gunicorn_without_database):
    status, headers, body = fetch(gunicorn_without_database + "/")

    html = body.decode()
    assert status == 503
    assert "The shelf is resting for a moment" in html
    assert "Traceback" not in html and "psycopg2" not in html and "gone" not in html


def test_healthz_answers_503_naming_the_database(gunicorn_without_database):
    status, _, body = fetch(gunicorn_without_database + "/healthz")

    assert status == 503
    assert body == b'{"database": "unavailable", "storage": "ok"}'
