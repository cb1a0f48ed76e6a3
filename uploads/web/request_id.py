"""Request ids: the router's X-Request-ID on every log line of its request.

Heroku's router gives every request an id (X-Request-ID) and logs it as `request_id`.
RequestIdMiddleware keeps it (or makes one when there is none: off Heroku, or a value the
router would have refused), echoes it on the response, where gunicorn's access log reads
it, and holds it while the request is handled; RequestIdFilter, on the log handler, writes
it into every record: Django's, the audit trail's (uploads.audit), everyone's.
"""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar

# What Heroku's router passes on from a client; it replaces anything else with its own.
VALID = re.compile(r"[A-Za-z0-9+/=-]{20,200}")
NO_REQUEST = "-"

# Per thread (gthread) and per task: one request's id never shows on another's lines.
_current: ContextVar[str] = ContextVar("request_id", default=NO_REQUEST)


class RequestIdMiddleware:
    """First in MIDDLEWARE, so every response carries the id, redirects and errors too."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get("X-Request-ID", "")
        request.request_id = given if VALID.fullmatch(given) else uuid.uuid4().hex
        token = _current.set(request.request_id)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response["X-Request-ID"] = request.request_id
        return response


class RequestIdFilter(logging.Filter):
    """Sets `record.request_id`: the request being handled, or "-" outside one."""

    def filter(self, record: logging.LogRecord) -> bool:
        # Django logs a 4xx or 5xx response once the middleware has returned it; such
        # records carry their request.
        request = getattr(record, "request", None)
        record.request_id = getattr(request, "request_id", None) or _current.get()
        return True
