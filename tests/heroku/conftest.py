"""Fixtures for the Heroku rehearsal: a slug, its config vars, a database, release, web dyno."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Callable, Iterator

import psycopg2
import pytest

from tests.heroku.rehearsal import build_slug, config_vars, start_web
from tests.processes import ROOT, free_port, parse_procfile, postgres_database

POSTGRES = os.environ.get(
    "HEROKU_REHEARSAL_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres"
)
# Heroku's build has the config vars but no reachable database: nothing listens on port 1.
UNREACHABLE_DATABASE = "postgres://build:build@127.0.0.1:1/not-there-at-build-time"
APP_HOST = "imageshelf-rehearsal.herokuapp.com"  # within app.json's ALLOWED_HOSTS
ADMIN_PASSWORD = "Rehearsal-admin-4-green-teapots"  # what the deployer types in the form
COLLECTSTATIC = "python manage.py collectstatic --noinput"  # what the Python buildpack runs


# --- The build --------------------------------------------------------------


@pytest.fixture(scope="module")
def slug(tmp_path_factory):
    into = tmp_path_factory.mktemp("heroku-build")
    yield build_slug(ROOT, into)
    shutil.rmtree(into, ignore_errors=True)  # a virtualenv per run: not worth keeping


@pytest.fixture(scope="module")
def manifest(slug) -> dict:
    return json.loads((slug.app / "app.json").read_text())


@pytest.fixture(scope="module")
def procfile(slug) -> dict[str, str]:
    return parse_procfile((slug.app / "Procfile").read_text())


@pytest.fixture(scope="module")
def config(manifest) -> dict[str, str]:
    """The Deploy button's config vars: app.json's values, a generated key, a typed password."""
    return config_vars(manifest, DJANGO_SUPERUSER_PASSWORD=ADMIN_PASSWORD)


@pytest.fixture(scope="module")
def collectstatic(config):
    """Call it with a slug for the buildpack's last step: config vars set, no database."""

    def run(slug):
        env = slug.environ(config, DATABASE_URL=UNREACHABLE_DATABASE)
        return slug.check("collectstatic", COLLECTSTATIC, env)

    return run


@pytest.fixture(scope="module")
def collected(slug, collectstatic):
    """The build's collectstatic; a failure fails the build."""
    return collectstatic(slug)


# --- Postgres, as the heroku-postgresql add-on provides it ------------------


@pytest.fixture(scope="module")
def new_database() -> Iterator[Callable[[], str]]:
    """Call it for a fresh, empty database URL; every one is dropped at the end."""
    with contextlib.ExitStack() as databases:
        yield lambda: databases.enter_context(
            postgres_database(POSTGRES, prefix="imageshelf_rehearsal")
        )


@pytest.fixture
def tables():
    """Call it with a database URL for the names of its tables."""
    return _tables


def _tables(database_url: str) -> set[str]:
    connection = psycopg2.connect(database_url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            )
            return {name for (name,) in cursor.fetchall()}
    finally:
        connection.close()


@pytest.fixture(scope="module")
def runtime(config, new_database) -> dict[str, str]:
    """Config vars on every dyno: the button's, plus the add-on's DATABASE_URL."""
    # Heroku Postgres requires TLS; the local server has none.
    return {**config, "DATABASE_URL": new_database(), "DATABASE_SSL_REQUIRE": "False"}


@pytest.fixture(scope="module")
def released(slug, procfile, runtime, collected):
    """The release phase: a one-off dyno runs the Procfile's release command."""
    return slug.check("release", procfile["release"], slug.environ(runtime, DYNO="release.1"))


@pytest.fixture(scope="module")
def web(slug, procfile, runtime, released, tmp_path_factory):
    """The web dyno, started only once the release succeeded, as Heroku does."""
    env = slug.environ(runtime, DYNO="web.1", PORT=str(free_port()), WEB_CONCURRENCY="2")
    dyno = start_web(
        slug, procfile["web"], env, logs=tmp_path_factory.mktemp("web-logs"), host=APP_HOST
    )
    yield dyno
    dyno.stop()
