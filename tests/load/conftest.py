"""Fixtures for the load tests: a Postgres database each, collected static files, gunicorn."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.load.support import (
    STAFF,
    Server,
    manage,
    production_env,
    start_gunicorn,
    stop_gunicorn,
)

ADMIN_URL = os.environ.get("LOAD_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")

# Every row the shelf ever held (rows deleted since included), kept by the database itself,
# so a page can be checked against what was stored "at some point" without racing deletions.
_HISTORY = """
CREATE TABLE load_shelf_history (file varchar(255), thumbnail varchar(255));
CREATE FUNCTION load_remember_image() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO load_shelf_history VALUES (NEW.file, NEW.thumbnail);
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
    name = f"imageshelf_load_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = connect(ADMIN_URL)
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        yield ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="session")
def static_root(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("load-static")
    env = production_env(work, f"sqlite:///{work / 'unused.sqlite3'}", work / "staticfiles")
    manage(env, "collectstatic", "--noinput")
    return work / "staticfiles"


@pytest.fixture
def production(tmp_path, database_url, static_root) -> dict[str, str]:
    """A production dyno's environment: migrated, with one staff account and shelf history."""
    env = production_env(tmp_path, database_url, static_root)
    manage(env, "migrate", "--noinput")
    username, password = STAFF
    manage(
        {**env, "DJANGO_SUPERUSER_PASSWORD": password},
        "createsuperuser", "--noinput", "--username", username, "--email", "load@example.com",
    )  # fmt: skip
    database = connect(database_url)
    with database.cursor() as cursor:
        cursor.execute(_HISTORY)
    database.close()
    return env


@pytest.fixture
def gunicorn(production, tmp_path) -> Iterator[Callable[..., Server]]:
    """Call with gunicorn options to start config.wsgi; stopped after the test."""
    servers: list[Server] = []

    def start(*options: str) -> Server:
        server = start_gunicorn(production, tmp_path / f"gunicorn-{len(servers)}.log", *options)
        servers.append(server)
        return server

    yield start
    for server in servers:
        stop_gunicorn(server)


@pytest.fixture
def database(database_url):
    """Ask the test's database directly (autocommit)."""
    connection = connect(database_url)
    yield connection
    connection.close()
