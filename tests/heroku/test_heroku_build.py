"""The Heroku deploy, rehearsed from a clean checkout: build, release, web, postdeploy.

Run with `pytest -m heroku`. It rehearses the committed HEAD, as `git push` would send it
(commit first). Every command comes from the checkout's own Procfile and app.json, so a
broken line there fails here. Needs PostgreSQL (HEROKU_REHEARSAL_POSTGRES, default
postgres://postgres@127.0.0.1:5432/postgres) to create and drop a database of its own.

app-json.schema.json is SchemaStore's JSON schema for Heroku's app.json (documented at
https://devcenter.heroku.com/articles/app-json-schema), copied unchanged from the repository
SchemaStore/schemastore, file src/schemas/json/app.json,
commit 814d07277a32e6a37cefe5db457c02a4a8397f6e.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlencode

import jsonschema
import pytest

from tests.heroku.rehearsal import RehearsalFailed, start_web
from tests.processes import ProcfileError, free_port, parse_procfile

pytestmark = pytest.mark.heroku

SCHEMA = Path(__file__).with_name("app-json.schema.json")
S3_VARS = (
    "AWS_STORAGE_BUCKET_NAME",
    "AWS_S3_ENDPOINT_URL",
    "AWS_S3_REGION_NAME",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_S3_CUSTOM_DOMAIN",
)


# --- The checkout and its manifests -----------------------------------------


def test_python_version_names_the_python_that_runs_and_there_is_no_runtime_txt(slug):
    version = slug.run("python -c 'import sys; print(sys.version_info[:2])'", slug.environ({}))

    assert (slug.app / ".python-version").read_text().strip() == "{}.{}".format(*sys.version_info)
    assert version.stdout.strip() == str(tuple(sys.version_info[:2]))
    assert not (slug.app / "runtime.txt").exists()


def test_the_slug_holds_production_requirements_only(slug):
    frozen = slug.run("python -m pip freeze", slug.environ({})).stdout.lower()

    assert "django==" in frozen and "gunicorn==" in frozen
    for dev_only in ("pytest", "jsonschema", "ruff", "moto", "playwright"):
        assert dev_only not in frozen


def test_app_json_is_valid_against_herokus_schema(manifest):
    schema = json.loads(SCHEMA.read_text())
    validator = jsonschema.Draft7Validator(
        schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )

    errors = [error.message for error in validator.iter_errors(manifest)]

    assert errors == []


def test_the_schema_refuses_a_broken_app_json(manifest):
    schema = json.loads(SCHEMA.read_text())
    broken = {
        **manifest,
        "name": "ImageShelf, a shelf of images for Heroku",  # over 30 characters
        "env": {**manifest["env"], "SECRET_KEY": {"generator": "random"}},
        "buildpacks": ["heroku/python"],  # must be {"url": ...}
    }

    errors = list(jsonschema.Draft7Validator(schema).iter_errors(broken))

    assert {error.path[0] for error in errors} == {"name", "env", "buildpacks"}


def test_app_json_sets_up_production_on_postgres_with_an_optional_bucket(manifest):
    env = manifest["env"]

    assert env["SECRET_KEY"]["generator"] == "secret"
    assert env["DJANGO_SETTINGS_MODULE"]["value"] == "config.settings.production"
    assert {"ALLOWED_HOSTS", "IMAGE_LIMIT", "DJANGO_SUPERUSER_USERNAME"} <= set(env)
    assert env["DJANGO_SUPERUSER_PASSWORD"].get("required", True) is True
    for name in S3_VARS:
        assert env[name]["required"] is False
        assert env[name]["description"]
    assert manifest["addons"] == ["heroku-postgresql"]
    assert manifest["buildpacks"] == [{"url": "heroku/python"}]
    assert manifest["formation"]["web"]["quantity"] == 1


def test_the_procfile_declares_a_release_and_a_web_process(procfile):
    assert set(procfile) == {"release", "web"}
    # gunicorn.conf.py binds $PORT; the web dyno's tests below show it answers there.
    assert procfile["web"] == "gunicorn config.wsgi --config gunicorn.conf.py"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("web gunicorn config.wsgi", "line 1 is not 'name: command'"),
        ("web:\n", "line 1 is not 'name: command'"),
        ("web: gunicorn a\n\nweb: gunicorn b", "line 3 declares 'web' again"),
    ],
)
def test_a_malformed_procfile_is_refused(text, message):
    with pytest.raises(ProcfileError, match=message):
        parse_procfile(text)


def test_comments_and_blank_lines_in_a_procfile_are_skipped():
    assert parse_procfile("# processes\n\nweb: gunicorn app\n") == {"web": "gunicorn app"}


# --- Build: collectstatic ---------------------------------------------------


def test_collectstatic_at_build_writes_the_manifest_with_no_database(slug, collected):
    manifest = json.loads((slug.app / "staticfiles" / "staticfiles.json").read_text())

    assert "static files copied" in collected.stdout
    assert re.fullmatch(r"css/site\.[0-9a-f]{12}\.css", manifest["paths"]["css/site.css"])


def test_a_broken_static_file_fails_the_build(slug, collectstatic, tmp_path):
    checkout = tmp_path / "app"
    shutil.copytree(slug.app, checkout, ignore=shutil.ignore_patterns("staticfiles"))
    (checkout / "static" / "css" / "broken.css").write_text('body { background: url("gone.png") }')

    with pytest.raises(RehearsalFailed, match="collectstatic failed") as failure:
        collectstatic(replace(slug, app=checkout))

    assert "gone.png" in str(failure.value)


# --- Release ----------------------------------------------------------------


def test_the_release_migrates_and_shows_the_deploy_warnings(released, runtime, tables):
    assert "imageshelf.W001" in released.stderr  # local media on a dyno: shown, not fatal
    assert "System check identified 1 issue" in released.stderr
    assert "Applying uploads.0001" in released.stdout
    assert {"uploads_image", "auth_user", "django_migrations"} <= tables(runtime["DATABASE_URL"])


def test_the_release_runs_again_on_the_next_deploy(slug, procfile, runtime, released):
    again = slug.check("release", procfile["release"], slug.environ(runtime, DYNO="release.2"))

    assert "No migrations to apply." in again.stdout


def test_a_release_without_collectstatic_fails_before_touching_the_database(
    slug, procfile, config, new_database, tables, collected, tmp_path
):
    database_url = new_database()
    env = slug.environ(
        config,
        DATABASE_URL=database_url,
        DATABASE_SSL_REQUIRE="False",
        STATIC_ROOT=str(tmp_path / "never-collected"),
        DYNO="release.3",
    )

    with pytest.raises(RehearsalFailed, match="release failed") as failure:
        slug.check("release", procfile["release"], env)

    assert "imageshelf.E001" in str(failure.value)
    assert tables(database_url) == set()


# --- Web --------------------------------------------------------------------


def test_the_home_page_answers_200_over_https(web):
    answer = web.get("/")

    assert answer.status == 200
    assert b"The shelf is empty." in answer.body
    assert answer.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_plain_http_is_redirected_to_https(web):
    answer = web.get("/", **{"X-Forwarded-Proto": "http"})

    assert answer.status == 301
    assert answer.headers["Location"] == f"https://{web.host}/"


def test_healthz_answers_200_with_database_and_storage_ok(web):
    answer = web.get("/healthz")

    assert answer.status == 200
    assert json.loads(answer.body) == {"database": "ok", "storage": "ok"}


def test_static_files_are_served_hashed_and_immutable(web):
    page = web.get("/").body.decode()
    path = re.search(r'src="(/static/img/hero\.[0-9a-f]{12}\.svg)"', page).group(1)

    answer = web.get(path)

    assert answer.status == 200
    assert b"<svg" in answer.body
    assert "immutable" in answer.headers["Cache-Control"]


def test_the_admin_login_page_answers_200(web):
    answer = web.get("/admin/login/")

    assert answer.status == 200
    assert b"ImageShelf administration" in answer.body


def test_media_paths_cannot_leave_the_media_directory(web):
    answers = [web.get(path).status for path in ("/media/../manage.py", "/media/..%2fmanage.py")]

    assert answers == [404, 404]


def test_workers_come_from_web_concurrency_and_requests_are_logged_to_stdout(web):
    answer = web.get("/healthz", **{"X-Request-ID": "rehearsal-request-0123456789"})

    stdout, stderr = web.stdout.read_text(), web.stderr.read_text()
    assert len(re.findall(r"Booting worker with pid", stderr)) == 2
    assert answer.headers["X-Request-ID"] == "rehearsal-request-0123456789"
    assert re.search(
        r'^gunicorn method=GET path="/healthz" status=200 .*'
        r"request_id=rehearsal-request-0123456789 ",
        stdout,
        re.MULTILINE,
    )


# --- Postdeploy: the first admin --------------------------------------------


def sign_in(web, username: str, password: str):
    """Log in through /admin/login/ as a browser would; returns the POST's answer."""
    form = web.get("/admin/login/")
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', form.body).group(1)
    body = urlencode(
        {
            "username": username,
            "password": password,
            "csrfmiddlewaretoken": token.decode(),
            "next": "/admin/",
        }
    ).encode()
    return web.post(
        "/admin/login/",
        body,
        Cookie=f"csrftoken={form.cookies()['csrftoken']}",
        Origin=f"https://{web.host}",
        Referer=f"https://{web.host}/admin/login/",
        **{"Content-Type": "application/x-www-form-urlencoded"},
    )


def test_postdeploy_creates_the_first_admin_once(slug, manifest, runtime, web):
    postdeploy = manifest["scripts"]["postdeploy"]
    password = runtime["DJANGO_SUPERUSER_PASSWORD"]  # typed into the Deploy button's form
    first = slug.check("postdeploy", postdeploy, slug.environ(runtime, DYNO="run.1"))
    changed = {**runtime, "DJANGO_SUPERUSER_PASSWORD": "Another-password-9-blue-kettles"}

    second = slug.check("postdeploy", postdeploy, slug.environ(changed, DYNO="run.2"))

    assert "Created superuser 'admin'" in first.stdout
    assert "User 'admin' already exists; nothing changed." in second.stdout
    for result in (first, second):
        assert password not in result.stdout + result.stderr
    signed_in = sign_in(web, "admin", password)
    assert signed_in.status == 302
    assert signed_in.headers["Location"] == "/admin/"
    assert "sessionid" in signed_in.cookies()
    refused = sign_in(web, "admin", "Another-password-9-blue-kettles")
    assert refused.status == 200
    assert b"Please enter the correct username and password" in refused.body


# --- A broken web command is caught ------------------------------------------


def test_a_web_command_that_cannot_load_the_app_fails(slug, procfile, runtime, released, tmp_path):
    broken = parse_procfile(
        "web: " + procfile["web"].replace("config.wsgi", "config.wsgi_renamed")
    )["web"]
    env = slug.environ(runtime, DYNO="web.2", PORT=str(free_port()))

    with pytest.raises(RehearsalFailed, match="web exited with status"):
        start_web(slug, broken, env, logs=tmp_path, host="broken.herokuapp.com")


def test_a_web_command_that_ignores_port_fails(slug, procfile, runtime, released, tmp_path):
    broken = f"{procfile['web']} --bind 127.0.0.1:{free_port()}"
    env = slug.environ(runtime, DYNO="web.3", PORT=str(free_port()))

    with pytest.raises(RehearsalFailed, match="did not answer on PORT"):
        start_web(slug, broken, env, logs=tmp_path, host="broken.herokuapp.com", boot_timeout=5)
