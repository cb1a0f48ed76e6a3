"""Fixtures for the load tests: a Postgres database each, collected static files, gunicorn."""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.load.support import IMAGE_LIMIT, STAFF
from tests.processes import PostgresUnavailable, Server, manage, postgres_database, production_env
from tests.processes import gunicorn as running_gunicorn

ADMIN_URL = os.environ.get("LOAD_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")

# Every file a row of the shelf ever named (rows deleted since included), kept by the
# database itself, so a page can be checked against what was stored "at some point" without
# racing deletions.
_HISTORY = """
CREATE TABLE load_shelf_history (name varchar(255));
CREATE FUNCTION load_remember_image() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO load_shelf_history
    SELECT NEW.file UNION ALL SELECT value FROM jsonb_each_text(NEW.thumbnails);
  RETURN NEW;
END $$;
CREATE TRIGGER load_remember_image AFTER INSERT OR UPDATE ON uploads_image
  FOR EACH ROW EXECUTE FUNCTION load_remember_image();
"""


def connect(url: str):
    import psycopg2

    try:
        connection = psycopg2.connect(url, connect_timeout=5)
    except psycopg2.OperationalError as error:
        pytest.fail(f"The load tests need PostgreSQL ({url}): {error}")
    connection.autocommit = True
    return connection


@pytest.fixture
def database_url() -> Iterator[str]:
    """A fresh Postgres database for one test, dropped afterwards."""
    try:
        with postgres_database(ADMIN_URL, prefix="imageshelf_load") as url:
            yield url
    except PostgresUnavailable as error:
        pytest.fail(f"The load tests need PostgreSQL ({ADMIN_URL}): {error}")


@pytest.fixture(scope="session")
def static_root(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("load-static")
    manage(production_env(work), "collectstatic", "--noinput", check=True)
    return work / "staticfiles"


@pytest.fixture
def production(tmp_path, database_url, static_root) -> dict[str, str]:
    """A production dyno's environment: migrated, with one staff account and shelf history."""
    env = production_env(
        tmp_path,
        DATABASE_URL=database_url,
        STATIC_ROOT=str(static_root),
        IMAGE_LIMIT=str(IMAGE_LIMIT),
    )
    manage(env, "migrate", "--noinput", check=True)
    username, password = STAFF
    manage(
        {**env, "DJANGO_SUPERUSER_PASSWORD": password},
        "createsuperuser", "--noinput", "--username", username, "--email", "load@example.com",
        check=True,
    )  # fmt: skip
    database = connect(database_url)
    with database.cursor() as cursor:
        cursor.execute(_HISTORY)
    database.close()
    return env


@pytest.fixture
def gunicorn(production, tmp_path) -> Iterator[Callable[..., Server]]:
    """Call with gunicorn options (and environment overrides) to start config.wsgi; stopped
    after the test."""
    numbers = itertools.count()
    with contextlib.ExitStack() as servers:

        def start(*options: str, **env: str) -> Server:
            log = tmp_path / f"gunicorn-{next(numbers)}.log"
            return servers.enter_context(running_gunicorn({**production, **env}, *options, log=log))

        yield start


@pytest.fixture
def database(database_url):
    """Ask the test's database directly (autocommit)."""
    connection = connect(database_url)
    yield connection
    connection.close()
