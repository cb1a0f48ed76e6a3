"""A request body that stalls or trickles is cut off: a thread is never held for long by a
client that sends nothing, or sends a byte now and then. Read through gunicorn's own body
reader, on a real socket, as config/wsgi.py serves it."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from gunicorn.http.body import Body, ChunkedReader, LengthReader
from gunicorn.http.unreader import SocketUnreader

from uploads.web.read_deadline import BodyTooSlow, body_seconds, with_read_deadline


@pytest.fixture
def connection(settings):
    """Our end of a connection and the client's, with a body allowed about one second."""
    settings.REQUEST_BODY_DEADLINE, settings.REQUEST_BODY_IDLE = 60, 1
    ours, client = socket.socketpair()
    yield ours, client
    ours.close()
    client.close()


def gunicorn_environ(sock: socket.socket, length: int) -> dict:
    """The environ gunicorn gives the app for a body of `length` bytes on sock."""
    body = Body(LengthReader(SocketUnreader(sock), length))
    return {"wsgi.input": body, "gunicorn.socket": sock, "CONTENT_LENGTH": str(length)}


class Response:
    """Stands for gunicorn's Response, whose start_response gunicorn gives the app."""

    must_close = False

    def start_response(self, status, headers, exc_info=None) -> None:
        pass

    def force_close(self) -> None:
        self.must_close = True


def reading_app(environ, start_response):
    """An app that reads the whole body in one read(), as Django reads a form."""
    return [environ["wsgi.input"].read()]


def trickle(client: socket.socket, data: bytes, every: float) -> threading.Thread:
    """Send data a byte at a time in the background, until it is sent or refused."""

    def send() -> None:
        for byte in data:
            try:
                client.send(bytes([byte]))
            except OSError:
                return
            time.sleep(every)

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return thread


def test_a_body_that_stops_is_cut_off(connection):
    ours, client = connection
    client.sendall(b"username=a")  # then nothing more
    app = with_read_deadline(reading_app)

    with pytest.raises(BodyTooSlow):
        app(gunicorn_environ(ours, 100), Response().start_response)


def test_a_body_that_trickles_is_cut_off_at_its_allowance(connection):
    """A byte every 0.1 s never stops for a second, but 40 bytes take 4 s: longer than the
    second the body is allowed."""
    ours, client = connection
    sender = trickle(client, b"x" * 40, every=0.1)
    app = with_read_deadline(reading_app)

    with pytest.raises(BodyTooSlow):
        app(gunicorn_environ(ours, 40), Response().start_response)

    client.close()
    sender.join()


def test_a_body_that_arrives_in_time_is_read_whole_and_the_connection_kept(connection):
    ours, client = connection
    client.sendall(b"username=a&password=b")
    environ = gunicorn_environ(ours, 21)

    response = Response()

    answer = with_read_deadline(reading_app)(environ, response.start_response)

    assert answer == [b"username=a&password=b"]
    assert environ["wsgi.input"].failed is False
    assert response.must_close is False


def test_a_body_left_unread_closes_the_connection_rather_than_being_drained(connection):
    """gunicorn would drain it, and a trickle holds a drain as long as it holds a read."""
    ours, client = connection
    client.sendall(b"x" * 10)
    environ = gunicorn_environ(ours, 10**6)

    response = Response()

    with_read_deadline(lambda environ, start_response: [b"refused"])(
        environ, response.start_response
    )

    assert environ["wsgi.input"].failed is True
    assert response.must_close is True  # its Connection header says close, not keep-alive


def test_a_start_response_that_is_not_gunicorns_still_gets_the_connection_closed(connection):
    """Something may wrap gunicorn's start_response (an APM agent): no 500 for that."""
    ours, client = connection
    client.sendall(b"x" * 10)
    environ = gunicorn_environ(ours, 10**6)

    answer = with_read_deadline(lambda environ, start_response: [b"refused"])(
        environ, lambda status, headers, exc_info=None: None
    )

    assert answer == [b"refused"]
    assert environ["wsgi.input"].failed is True


def test_a_chunked_body_which_django_never_reads_closes_the_connection(connection):
    ours, _ = connection
    body = Body(ChunkedReader(None, SocketUnreader(ours)))
    environ = {"wsgi.input": body, "gunicorn.socket": ours}

    response = Response()

    with_read_deadline(lambda environ, start_response: [b"page"])(environ, response.start_response)

    assert body.failed is True
    assert response.must_close is True


def test_a_body_gets_time_in_proportion_to_its_size(settings):
    settings.REQUEST_BODY_DEADLINE, settings.REQUEST_BODY_IDLE = 60, 10
    settings.MAX_UPLOAD_MB = 10

    seconds = [body_seconds({"CONTENT_LENGTH": str(size)}) for size in (100, 5 * 1024**2, 99**9)]

    assert seconds == [pytest.approx(10, abs=0.01), 40, 60]
