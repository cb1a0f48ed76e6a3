"""A request body that stalls or trickles is cut off: a thread is never held for long by a
client that sends nothing."""

from __future__ import annotations

import socket

import pytest

from uploads.web.read_deadline import BodyTooSlow, _DeadlineInput, body_seconds


@pytest.fixture
def body():
    """Our end of a connection (read through a deadline) and the client's."""
    ours, client = socket.socketpair()
    yield ours, client
    ours.close()
    client.close()


def test_a_body_that_stops_is_cut_off_after_the_idle_time(body):
    ours, client = body
    client.sendall(b"username=a")
    stream = _DeadlineInput(ours.makefile("rb"), ours, seconds=60, idle=0.2)

    first = stream.read(10)
    with pytest.raises(BodyTooSlow):
        stream.read(90)  # the client sends nothing more

    assert first == b"username=a"


def test_a_body_gets_time_in_proportion_to_its_size(settings):
    settings.REQUEST_BODY_DEADLINE, settings.REQUEST_BODY_IDLE = 60, 10
    settings.MAX_UPLOAD_MB = 10

    seconds = [body_seconds({"CONTENT_LENGTH": str(size)}) for size in (100, 5 * 1024**2, 99**9)]

    assert seconds == [pytest.approx(10, abs=0.01), 40, 60]
