"""The web dyno as Heroku runs it (the Procfile's gunicorn, production settings, Postgres):
request ids in its logs, limits that hold across workers, bodies refused before they are
read, and nothing half-stored when it is stopped or a worker is killed."""

from __future__ import annotations

import re

import pytest

from tests.load.support import STAFF, Client
from tests.load.test_load import photo, variant

pytestmark = pytest.mark.load


def test_an_uploads_audit_line_and_its_access_line_carry_the_same_request_id(gunicorn):
    server = gunicorn()
    staff = Client(server.port)
    staff.log_in(*STAFF)

    # No X-Request-ID, as off Heroku: the app makes one and says which on the response.
    response = staff.upload(variant(photo((640, 480)), 1), "traced.jpg")

    request_id = response.headers["X-Request-ID"]
    log = server.log_text()
    assert response.status == 303
    audit = rf"^INFO uploads\.audit request_id={request_id} event=upload\.stored "
    access = rf'^gunicorn method=POST path="/images/" status=303 .*request_id={request_id} '
    assert re.search(audit, log, re.MULTILINE)
    assert re.search(access, log, re.MULTILINE)
