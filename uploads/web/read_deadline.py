"""A deadline for a request's body, on its socket: gthread workers never kill a stalled
request (their timeout is a heartbeat), so a client that stops sending would hold a thread,
and its spooled file, for as long as it keeps the connection open.

A body gets time in proportion to its size, as if the largest upload took the whole
REQUEST_BODY_DEADLINE, plus REQUEST_BODY_IDLE, and never more than the deadline; and no
read waits longer than REQUEST_BODY_IDLE for the next bytes. So a sign-in form that stalls
holds its thread for seconds, not a minute, and a trickle is cut off as surely as a stall:
with 400, the connection closed, the spooled file gone with the request (upload_gate.py).

The limit is on every recv() of the connection's socket, not on every read() of the body:
gunicorn's body reader asks the socket again and again until a read() is filled (Django
reads a whole form, or 64 KB of a file, in one read()), so a timeout set before a read()
was reset by every byte of a trickle, and a deadline checked between reads was checked too
late. A body left unread (refused, or chunked, which Django never reads) closes the
connection instead of being drained by gunicorn, whose drain a trickle holds the same way.
Only under gunicorn; the test client has no socket to stall.
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


class _DeadlineSocket:
    """The connection's socket as gunicorn's body reader sees it: every recv() waits at most
    REQUEST_BODY_IDLE, and never past the body's deadline."""

    def __init__(self, sock, seconds: float) -> None:
        self._sock = sock
        self._idle = settings.REQUEST_BODY_IDLE
        self._deadline = time.monotonic() + seconds
        self._message = (
            f"The request body did not arrive within {seconds:g} s, or stopped for {self._idle:g} s"
        )

    def recv(self, size: int) -> bytes:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise BodyTooSlow(self._message)
        self._sock.settimeout(min(left, self._idle))
        try:
            return self._sock.recv(size)
        except TimeoutError:
            raise BodyTooSlow(self._message) from None


def body_seconds(environ) -> float:
    """How long this request's body may take to arrive, from its Content-Length."""
    from uploads.shelf.services import max_upload_bytes  # config/wsgi.py imports this early

    share = settings.REQUEST_BODY_DEADLINE * content_length(environ) / max_upload_bytes()
    return min(settings.REQUEST_BODY_DEADLINE, settings.REQUEST_BODY_IDLE + share)


def with_read_deadline(application):
    """Wrap a WSGI application: under gunicorn, bodies it reads get the deadline, and a body
    it leaves unread closes the connection."""

    def deadline_application(environ, start_response):
        body = environ["wsgi.input"]
        reader = getattr(body, "reader", None)  # gunicorn's: LengthReader, or ChunkedReader
        if reader is None or getattr(reader, "length", None) == 0:  # not gunicorn; no body
            return application(environ, start_response)
        if not hasattr(reader, "unreader"):  # chunked: Django reads none of it
            _close_connection(body, start_response)
            return application(environ, start_response)
        sock = reader.unreader.sock
        timeout = sock.gettimeout()
        reader.unreader.sock = _DeadlineSocket(sock, body_seconds(environ))
        try:
            return application(environ, start_response)
        finally:
            reader.unreader.sock = sock
            sock.settimeout(timeout)  # the response is written as gunicorn always does
            if reader.length > 0:  # left unread: closed, not drained
                _close_connection(body, start_response)

    return deadline_application


def _close_connection(body, start_response) -> None:
    """gunicorn's "read no more on this connection" (no drain), said in the response's
    Connection header too (start_response is a method of gunicorn's Response, whose headers
    go out with the first bytes of the body): the router must not send another request on
    a connection about to close."""
    body.failed = True
    response = getattr(start_response, "__self__", None)  # none if something wraps gunicorn's
    if hasattr(response, "force_close"):
        response.force_close()
