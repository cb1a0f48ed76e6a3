"""Production settings, run for real: DEBUG off, WhiteNoise, check --deploy, a missing key.

These start real processes (manage.py, gunicorn) with config.settings.production, the way
Heroku does, because the failure they guard against only shows outside the test client.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from tests.processes import gunicorn as running_gunicorn
from tests.processes import manage, production_env


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory) -> Iterator[str]:
    """gunicorn on config.wsgi with production settings, after migrate and collectstatic."""
    tmp_path = tmp_path_factory.mktemp("production")
    env = production_env(tmp_path)
    for command in (["migrate", "--noinput"], ["collectstatic", "--noinput"]):
        result = manage(env, *command)
        assert result.returncode == 0, result.stderr
    with running_gunicorn(env, "--workers", "1", log=tmp_path / "gunicorn.log") as server:
        yield server.url


def fetch(url: str, **headers: str):
    """GET over HTTPS as Heroku's router forwards it; returns (status, headers, body)."""
    request = urllib.request.Request(url, headers={"X-Forwarded-Proto": "https", **headers})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def static_links(html: str) -> dict[str, str]:
    import re

    icon = re.search(r'href="(/static/favicon\.[0-9a-f]{12}\.svg)"', html)
    hero = re.search(r'src="(/static/img/hero\.[0-9a-f]{12}\.svg)"', html)
    assert icon and hero, "static files are not linked by their hashed names"
    return {"icon": icon.group(1), "hero": hero.group(1)}


def test_home_page_is_served_with_debug_off(gunicorn):
    status, headers, body = fetch(gunicorn + "/")

    assert status == 200
    assert b"The shelf is empty." in body
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")


@pytest.mark.parametrize("asset", ["icon", "hero"])
def test_static_files_are_served_by_whitenoise_with_immutable_caching(gunicorn, asset):
    path = static_links(fetch(gunicorn + "/")[2].decode())[asset]

    status, headers, body = fetch(gunicorn + path)

    assert status == 200
    assert len(body) > 100
    assert "immutable" in headers["Cache-Control"]


@pytest.mark.parametrize("encoding", ["gzip", "br"])
def test_static_files_are_compressed_when_the_client_accepts_it(gunicorn, encoding):
    path = static_links(fetch(gunicorn + "/")[2].decode())["hero"]

    status, headers, _ = fetch(gunicorn + path, **{"Accept-Encoding": encoding})

    assert status == 200
    assert headers["Content-Encoding"] == encoding


def test_the_page_is_gzipped_with_its_stylesheet_inline_and_allowed(gunicorn):
    import base64
    import gzip
    import hashlib
    import re

    status, headers, body = fetch(gunicorn + "/", **{"Accept-Encoding": "gzip, br"})

    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in headers["Vary"]
    html = gzip.decompress(body).decode()
    assert 'rel="stylesheet"' not in html
    css = re.search(r"<style>(.*?)</style>", html, re.DOTALL).group(1)
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in headers["Content-Security-Policy"]


def test_a_client_that_takes_only_brotli_gets_the_page_uncompressed(gunicorn):
    status, headers, body = fetch(gunicorn + "/", **{"Accept-Encoding": "br"})

    assert status == 200
    assert headers["Content-Encoding"] is None
    assert body.startswith(b"<!doctype html>")


def test_plain_http_is_redirected_to_https(gunicorn):
    request = urllib.request.Request(gunicorn + "/", headers={"X-Forwarded-Proto": "http"})

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    with pytest.raises(urllib.error.HTTPError) as answer:
        urllib.request.build_opener(NoRedirect).open(request, timeout=10)

    assert answer.value.code == 301
    assert answer.value.headers["Location"].startswith("https://")


def test_check_deploy_passes_with_warnings_as_failures(tmp_path):
    env = production_env(
        tmp_path, DATABASE_URL="postgres://user:password@db.example.com:5432/imageshelf"
    )
    assert manage(env, "collectstatic", "--noinput").returncode == 0

    result = manage(env, "check", "--deploy", "--fail-level", "WARNING")

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_missing_secret_key_stops_startup_and_names_it(tmp_path):
    env = production_env(tmp_path)
    del env["SECRET_KEY"]

    result = manage(env, "check")

    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
    assert "Set the SECRET_KEY environment variable" in result.stderr


def test_missing_database_url_stops_startup_and_names_it(tmp_path):
    env = production_env(tmp_path)
    del env["DATABASE_URL"]

    result = manage(env, "check")

    assert result.returncode != 0
    assert "DATABASE_URL" in result.stderr
