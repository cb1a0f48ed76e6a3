"""Turn a database outage into a friendly 503 instead of a 500."""

from __future__ import annotations

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)


class DatabaseUnavailableMiddleware:
    """A lost database connection is an outage to wait out (503), not a bug (500)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        # Connection-level errors only: an IntegrityError or a bad query is still a 500.
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logger.error("event=database.unavailable path=%s error=%r", request.path, str(exception))
        response = HttpResponse(render_to_string("503.html"), status=503)
        response["Retry-After"] = "30"
        response["Cache-Control"] = "no-store"
        return response
