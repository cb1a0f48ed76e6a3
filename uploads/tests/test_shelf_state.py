"""The listener's rules for the shelf state token (uploads.shelf_state), without Redis."""

from __future__ import annotations

from uploads import shelf_state


def listener() -> shelf_state.Listener:
    return shelf_state.Listener("redis://127.0.0.1:1/0")  # never started


def test_a_late_announcement_of_an_older_token_is_ignored():
    following = listener()

    following.heard("5:newer")
    following.heard("4:older")

    assert following.token() == "5:newer"


def test_a_token_read_from_redis_replaces_the_one_kept():
    """Even one with a lower count: Redis lost its count (a restart), the read is current."""
    following = listener()
    following.heard("57:before-the-restart")

    following.heard("1:after-the-restart", unless_after=following.heard_count)

    assert following.token() == "1:after-the-restart"


def test_a_token_read_from_redis_loses_to_an_announcement_heard_during_the_read():
    following = listener()
    following.heard("5:old")
    read_started = following.heard_count
    following.heard("6:announced-meanwhile")

    following.heard("5:old", unless_after=read_started)

    assert following.token() == "6:announced-meanwhile"


def test_a_listener_that_stopped_hearing_from_redis_is_not_trusted(monkeypatch):
    following = listener()
    following.heard("5:kept")
    now = shelf_state.time.monotonic()

    monkeypatch.setattr(
        shelf_state.time, "monotonic", lambda: now + 2 * shelf_state.CONFIRM_SECONDS + 0.1
    )

    assert following.token() is None


def test_a_lost_connection_forgets_the_token():
    following = listener()
    following.heard("5:kept")

    following.heard(None)

    assert following.token() is None
