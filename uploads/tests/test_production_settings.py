"""Settings modules read the environment as documented (loaded in a clean subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from storages.backends.s3 import S3Storage

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {"SECRET_KEY": "x" * 50, "DATABASE_URL": "postgres://u:p@h/db"}


def import_settings(module: str, **environ: str) -> subprocess.CompletedProcess:
    """Import a settings module with exactly this environment; its values go to stdout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DJANGO_", "DATABASE"))}
    env.update(environ)
    code = (
        "import importlib, json, sys\n"
        f"m = importlib.import_module({module!r})\n"
        "values = {k: getattr(m, k) for k in dir(m) if k.isupper()}\n"
        "print(json.dumps(values, default=str))\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )


def load_settings(module: str, **environ: str) -> dict:
    """Import a settings module with exactly this environment and return its JSON-able values."""
    result = import_settings(module, **environ)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_development_defaults_need_no_environment():
    values = load_settings("config.settings.development")

    assert values["DEBUG"] is True
    assert values["ALLOWED_HOSTS"] == ["localhost", "127.0.0.1"]
    assert values["DATABASES"]["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert values["STORAGES"]["default"]["BACKEND"].endswith("FileSystemStorage")
    assert values["IMAGE_LIMIT"] == 3
    assert "whitenoise.middleware.WhiteNoiseMiddleware" not in values["MIDDLEWARE"]


def test_production_puts_whitenoise_right_after_the_security_middleware():
    values = load_settings(
        "config.settings.production", SECRET_KEY="x" * 50, DATABASE_URL="postgres://u:p@h/db"
    )

    assert values["MIDDLEWARE"][:3] == [
        "uploads.web.middleware.RequestIdMiddleware",
        "django.middleware.security.SecurityMiddleware",
        "whitenoise.middleware.WhiteNoiseMiddleware",
    ]
    assert values["STORAGES"]["staticfiles"]["BACKEND"] == (
        "whitenoise.storage.CompressedManifestStaticFilesStorage"
    )
    assert Path(values["STATIC_ROOT"]).is_absolute()
    assert values["DEBUG"] is False
    assert values["ALLOWED_HOSTS"] == [".herokuapp.com"]
    assert values["DATABASES"]["default"]["OPTIONS"]["sslmode"] == "require"
    assert values["DATABASES"]["default"]["CONN_HEALTH_CHECKS"] is True


def test_production_on_sqlite_passes_sqlite_no_sslmode_and_keeps_the_urls_options():
    url = "sqlite:////tmp/p.sqlite3?init_command=PRAGMA%20journal_mode%3DWAL"

    values = load_settings("config.settings.production", SECRET_KEY="x" * 50, DATABASE_URL=url)

    options = values["DATABASES"]["default"]["OPTIONS"]
    assert "sslmode" not in options
    assert options["transaction_mode"] == "IMMEDIATE"
    assert options["init_command"] == "PRAGMA journal_mode=WAL"


def test_a_bucket_name_switches_media_to_s3():
    values = load_settings(
        "config.settings.development",
        AWS_STORAGE_BUCKET_NAME="shelf",
        AWS_S3_CUSTOM_DOMAIN="media.example.com",
    )

    media = values["STORAGES"]["default"]
    assert media["BACKEND"] == "uploads.media.storage.S3MediaStorage"
    assert media["OPTIONS"]["bucket_name"] == "shelf"
    # The storage those options build (less the botocore objects, which arrive as text).
    options = {key: value for key, value in media["OPTIONS"].items() if "config" not in key}
    storage = S3Storage(**options)
    assert storage.file_overwrite is True  # names are fresh UUIDs
    assert storage.default_acl is None
    assert media["OPTIONS"]["querystring_auth"] is False  # a public custom domain
    assert values["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]["img-src"] == [
        "'self'",
        "https://media.example.com",
    ]


@pytest.mark.parametrize(
    ("variables", "origins"),
    [
        ({}, ["https://amazonaws.com", "https://*.amazonaws.com"]),
        (
            {"AWS_S3_ENDPOINT_URL": "http://127.0.0.1:9000", "AWS_S3_ADDRESSING_STYLE": "path"},
            ["http://127.0.0.1:9000"],
        ),
        (
            {"AWS_S3_ENDPOINT_URL": "https://s3.example.com:8443"},
            ["https://s3.example.com:8443", "https://*.s3.example.com:8443"],
        ),
        (
            {"AWS_S3_CUSTOM_DOMAIN": "media.local:8000", "AWS_S3_URL_PROTOCOL": "http:"},
            ["http://media.local:8000"],
        ),
    ],
)
def test_img_src_is_the_exact_origin_media_links_use(variables, origins):
    values = load_settings(
        "config.settings.development", AWS_STORAGE_BUCKET_NAME="shelf", **variables
    )

    assert values["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]["img-src"] == ["'self'", *origins]


def test_a_store_that_hangs_cannot_hold_a_page_past_the_routers_30_seconds(monkeypatch):
    import environ

    from config.settings.s3 import s3_media_storage

    monkeypatch.setenv("AWS_STORAGE_BUCKET_NAME", "shelf")
    config = s3_media_storage(environ.Env())["OPTIONS"]["client_config"]

    per_request = config.retries["max_attempts"] * (config.read_timeout + 1)  # 1 s: a pause
    assert 2 * per_request < 30  # the page lists images/ and thumbs/


def test_aws_location_puts_every_key_under_a_prefix():
    values = load_settings(
        "config.settings.development", AWS_STORAGE_BUCKET_NAME="shelf", AWS_LOCATION="/staging/"
    )

    assert values["STORAGES"]["default"]["OPTIONS"]["location"] == "staging"


@pytest.mark.parametrize(
    ("value", "mode"),
    [
        ("off", "off"),
        ("moderated", "moderated"),
        ("Moderated", "moderated"),
        ("open", "open"),
        ("Open ", "open"),
        ("true", "open"),  # what PUBLIC_UPLOADS=true always meant
        ("True", "open"),
        ("1", "open"),
        ("false", "off"),
        ("0", "off"),
        ("", "off"),
    ],
)
def test_public_uploads_takes_its_modes_and_the_old_booleans(value, mode):
    from config.settings.base import public_uploads_mode

    assert public_uploads_mode(value) == mode


def test_public_uploads_are_off_by_default():
    assert load_settings("config.settings.production", **PRODUCTION)["PUBLIC_UPLOADS"] == "off"


def test_a_public_uploads_value_it_does_not_take_stops_startup_with_a_clear_message():
    result = import_settings("config.settings.production", PUBLIC_UPLOADS="sometimes", **PRODUCTION)

    assert result.returncode == 1
    assert "ImproperlyConfigured: PUBLIC_UPLOADS='sometimes' is not a value it takes" in (
        result.stderr
    )


@pytest.mark.parametrize("name", ["IMAGE_LIMIT", "PENDING_LIMIT"])
def test_a_shelf_limit_below_one_stops_startup_with_its_name(name):
    result = import_settings("config.settings.production", **{name: "-1"}, **PRODUCTION)

    assert result.returncode != 0
    assert f"ImproperlyConfigured: {name}=-1 must be 1 or more." in result.stderr
