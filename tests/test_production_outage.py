"""A real gunicorn whose database is unreachable: friendly 503s, never a traceback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.processes import free_port, gunicorn, manage, production_env
from tests.test_production import fetch


@pytest.fixture(scope="module")
def gunicorn_without_database(tmp_path_factory) -> Iterator[str]:
    tmp_path = tmp_path_factory.mktemp("outage")
    env = production_env(tmp_path, DATABASE_URL=f"postgres://shelf@127.0.0.1:{free_port()}/gone")
    assert manage(env, "collectstatic", "--noinput").returncode == 0
    with gunicorn(env, "--workers", "1", log=tmp_path / "gunicorn.log") as server:
        yield server.url


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
