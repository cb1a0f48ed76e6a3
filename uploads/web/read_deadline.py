"""A deadline for a request's body, on its socket: gthread workers never kill a stalled
request (their timeout is a heartbeat), so a client that stops sending would hold a thread,
and its spooled file, for as long as it keeps the connection open.

A body gets time in proportion to its size, as if the largest upload took the whole
REQUEST_BODY_DEADLINE, plus REQUEST_BODY_IDLE, and never more than the deadline; and no
read waits longer than REQUEST_BODY_IDLE for the next bytes. So a sign-in form that stalls
holds its thread for seconds, not a minute, and a trickle is cut off as surely as a stall:
with 400, the connection closed, the spooled file gone with the request (upload_gate.py).
Only under gunicorn, whose environ carries the socket; the test client has none to stall.
The body's declared size is read here once (content_length) for upload_gate.py too.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.exceptions import BadRequest


class BodyTooSlow(BadRequest):
    """The body did not arrive within REQUEST_BODY_DEADLINE; Django answers 400."""


def content_length(environ) -> int:
    """The body's declared size, from a WSGI environ or request.META: 0 when there is none
    or it is not a number, as Django then reads nothing of the body."""
    try:
        return max(int(environ.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


class _DeadlineInput:
    """wsgi.input, with the socket's timeout set to the time left before every read."""

    def __init__(self, stream, sock, seconds: float, idle: float) -> None:
        self._stream = stream
        self._sock = sock
        self._idle = idle
        self._deadline = time.monotonic() + seconds
        self._message = (
            f"The request body did not arrive within {seconds:g} s, or stopped for {idle:g} s"
        )

    def read(self, *size):
        return self._within_deadline(self._stream.read, *size)

    def readline(self, *size):
        return self._within_deadline(self._stream.readline, *size)

    def _within_deadline(self, read, *size):
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise BodyTooSlow(self._message)
        self._sock.settimeout(min(left, self._idle))
        try:
            return read(*size)
        except TimeoutError:
            raise BodyTooSlow(self._message) from None


def body_seconds(environ) -> float:
    """How long this request's body may take to arrive, from its Content-Length."""
    from uploads.shelf.services import max_upload_bytes  # config/wsgi.py imports this early

    share = settings.REQUEST_BODY_DEADLINE * content_length(environ) / max_upload_bytes()
    return min(settings.REQUEST_BODY_DEADLINE, settings.REQUEST_BODY_IDLE + share)


def with_read_deadline(application):
    """Wrap a WSGI application: bodies it reads under gunicorn get the deadline."""

    def deadline_application(environ, start_response):
        sock = environ.get("gunicorn.socket")
        if sock is None or not content_length(environ):  # Django reads no body at all
            return application(environ, start_response)
        timeout = sock.gettimeout()
        environ["wsgi.input"] = _DeadlineInput(
            environ["wsgi.input"], sock, body_seconds(environ), settings.REQUEST_BODY_IDLE
        )
        try:
            return application(environ, start_response)
        finally:
            sock.settimeout(timeout)  # the response is written as gunicorn always does

    return deadline_application
