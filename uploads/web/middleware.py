"""The small middlewares: request ids on every log line, and gzip for HTML only.

Request ids: Heroku's router gives every request an id (X-Request-ID) and logs it as
`request_id`. RequestIdMiddleware keeps it (or makes one when there is none: off Heroku, or
a value the router would have refused), echoes it on the response, where gunicorn's
access log reads it, and holds it while the request is handled; RequestIdFilter, on the
log handler, writes it into every record.
"""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar

from django.middleware.gzip import GZipMiddleware
from django.utils.deprecation import MiddlewareMixin

# What Heroku's router passes on from a client; it replaces anything else with its own.
VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9+/=-]{20,200}")
# Per thread (gthread) and per task: one request's id never shows on another's lines.
_request_id: ContextVar[str] = ContextVar("request_id", default="-")


class RequestIdMiddleware(MiddlewareMixin):
    """First in MIDDLEWARE, so every response carries the id, redirects and errors too."""

    def process_request(self, request) -> None:
        given = request.headers.get("X-Request-ID", "")
        request.request_id = given if VALID_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        _request_id.set(request.request_id)

    def process_response(self, request, response):
        # Always called, once Django has answered: every exception below becomes a response.
        _request_id.set("-")  # the thread's next lines are outside any request
        response["X-Request-ID"] = request.request_id
        return response


class RequestIdFilter(logging.Filter):
    """Sets `record.request_id`: the request being handled, or "-" outside one."""

    def filter(self, record: logging.LogRecord) -> bool:
        # Django logs a 4xx or 5xx response once the middleware has returned it; such
        # records carry their request.
        request = getattr(record, "request", None)
        record.request_id = getattr(request, "request_id", None) or _request_id.get()
        return True


class HtmlGZipMiddleware(GZipMiddleware):
    """Django's GZipMiddleware (with its BREACH mitigations) for HTML only: stored images
    are sent as they are, already compressed, with their own validators and length."""

    def process_response(self, request, response):
        if not response.get("Content-Type", "").startswith("text/html"):
            return response
        return super().process_response(request, response)
