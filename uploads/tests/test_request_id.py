"""Request ids: the router's X-Request-ID, echoed, and on every log line of its request."""

from __future__ import annotations

import io
import logging
import re
import subprocess
import sys

import pytest

from uploads.tests.factories import distinct_png, upload_file

pytestmark = pytest.mark.django_db

ROUTER_ID = "f9ed4675f1c53513c61a3b3b4e25b4c0"  # as Heroku's router makes them


@pytest.fixture
def log_output():
    """What the configured console handler writes, as the dyno's log shows it."""
    [handler] = [h for h in logging.getLogger().handlers if h.get_name() == "console"]
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream.getvalue
    handler.setStream(previous)


def test_the_routers_request_id_is_echoed_on_the_response(client):
    response = client.get("/", HTTP_X_REQUEST_ID=ROUTER_ID)

    assert response["X-Request-ID"] == ROUTER_ID


@pytest.mark.parametrize(
    "given",
    [
        pytest.param(None, id="absent"),
        pytest.param("short", id="too-short"),
        pytest.param('has spaces and "quotes" that break logfmt', id="not-router-characters"),
    ],
)
def test_a_request_without_a_valid_id_gets_one_of_ours(client, given):
    headers = {} if given is None else {"HTTP_X_REQUEST_ID": given}

    response = client.get("/", **headers)

    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_an_uploads_audit_line_carries_its_request_id(staff_client, log_output):
    response = staff_client.post(
        "/images/", {"image": upload_file(distinct_png(1))}, HTTP_X_REQUEST_ID=ROUTER_ID
    )

    assert response.status_code == 303
    assert re.search(
        rf"^INFO uploads\.audit request_id={ROUTER_ID} event=upload\.stored ",
        log_output(),
        re.MULTILINE,
    )


def test_djangos_own_line_for_a_refused_upload_carries_its_request_id(staff_client, log_output):
    # Django writes this line once the response has left the middleware.
    response = staff_client.post(
        "/images/", {"image": upload_file(b"not an image")}, HTTP_X_REQUEST_ID=ROUTER_ID
    )

    assert response.status_code == 400
    assert f"WARNING django.request request_id={ROUTER_ID} Bad Request: /images/" in log_output()


def test_lines_outside_a_request_say_so(log_output):
    logging.getLogger("uploads.audit").info("event=probe")

    assert "INFO uploads.audit request_id=- event=probe" in log_output()


def test_a_request_for_a_host_not_allowed_logs_nothing():
    """Its line would print whatever host a client sends. A logger with no handler would
    still reach Python's last-resort handler (pytest gives every logger its own, so this
    runs as manage.py does)."""
    emit = (
        "import logging; logging.getLogger('django.security.DisallowedHost').error('evil.example')"
    )

    run = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", emit], capture_output=True, text=True
    )

    assert run.returncode == 0
    assert "evil.example" not in run.stderr + run.stdout
