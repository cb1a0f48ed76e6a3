"""The shelf's state token in Redis, when REDIS_URL is set: what every page is keyed on.

Each committed change to the shelf replaces the token and announces it on a channel, in
one step (a Lua script), so announcements arrive in the order the token changed. Pages
read it instead of the shelf's version row (a database round trip, plus Django's
connection health check):

- read(): the token from Redis itself (one round trip). Any change committed before is
  seen: for staff, who expect to see what they have just done, whichever worker did it.
- latest(): the token announced to this process, kept by a listener thread: no round
  trip. A change made in another process shows once its announcement arrives (within
  moments); the listener re-reads the token every CONFIRM_SECONDS in case one was lost,
  and without a live listener latest() is read().

The token lives SHELF_STATE_SECONDS in Redis: the most a change made behind the app's
back (a database restore), or made while Redis was unreachable, can stay unseen.

Plain redis-py clients kept per process, each with one connection: Django's cache builds
a client object on every call and takes a pooled connection for each command, which
together cost more than the round trip itself.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import time
import uuid

import redis
from django.conf import settings

logger = logging.getLogger(__name__)

KEY = "imageshelf:shelf-state"
COUNT_KEY = "imageshelf:shelf-state:count"
CHANNEL = "imageshelf:shelf-state"

# Tokens are "<count>:<random>". The count orders them, so a listener never goes back to
# an older one announced late; the random part keeps them unique if Redis loses the count.
# Publishing sets the token and announces it in one step, so announcements arrive in the
# order the token changed.
_PUBLISH = """
local token = redis.call('INCR', KEYS[2]) .. ':' .. ARGV[1]
redis.call('SET', KEYS[1], token, 'EX', ARGV[2])
redis.call('PUBLISH', ARGV[3], token)
return token
"""
# The current token; when there is none (it expired, or Redis restarted), a new one.
_READ = """
local token = redis.call('GET', KEYS[1])
if token then return token end
token = (redis.call('GET', KEYS[2]) or '0') .. ':' .. ARGV[1]
redis.call('SET', KEYS[1], token, 'EX', ARGV[2])
return token
"""

# What Redis raises when it cannot answer.
ERRORS = (redis.RedisError, OSError)
# After a failure, pages go straight to the database for a while rather than each
# waiting for Redis to time out again; the listener waits as long to reconnect.
RETRY_SECONDS = 5.0
# How often the listener re-reads the token, and how old its copy may get before pages
# stop trusting it (a listener that stopped hearing from Redis).
CONFIRM_SECONDS = 1.0
_retry_at = 0.0


class RecentlyFailed(redis.ConnectionError):
    """Redis failed less than RETRY_SECONDS ago: not asked again yet."""


def enabled() -> bool:
    return bool(settings.REDIS_URL)


def read() -> str:
    """The current token; the first to find none (expired, or Redis restarted) sets one."""
    global _retry_at
    if time.monotonic() < _retry_at:
        raise RecentlyFailed("Redis failed a moment ago")
    try:
        return _get_or_create(_client(settings.REDIS_URL))
    except ERRORS:
        _retry_at = time.monotonic() + RETRY_SECONDS
        raise


def latest() -> str:
    """The token as last announced to this process, or read() when that is not known."""
    token = _listener(settings.REDIS_URL).token()
    return token if token is not None else read()


def publish() -> None:
    """A new token, after a change commits, announced to every process: one that no page
    was ever cached under, whichever of two racing changes publishes last."""
    client = _client(settings.REDIS_URL)
    token = _script(client, _PUBLISH)(
        keys=[KEY, COUNT_KEY], args=[uuid.uuid4().hex, settings.SHELF_STATE_SECONDS, CHANNEL]
    ).decode()
    # This process sees its own change at once, before the announcement comes back.
    if listener := _listeners.get((settings.REDIS_URL, os.getpid())):
        listener.heard(token)


def _get_or_create(client: redis.Redis) -> str:
    token = _script(client, _READ)(
        keys=[KEY, COUNT_KEY], args=[uuid.uuid4().hex, settings.SHELF_STATE_SECONDS]
    )
    return token.decode()


@functools.lru_cache(maxsize=8)
def _script(client: redis.Redis, source: str):
    """A Lua script bound to the client: sent once, then called by its digest."""
    return client.register_script(source)


def _connect(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, single_connection_client=True, **settings.REDIS_OPTIONS)


@functools.lru_cache(maxsize=4)
def _clients(url: str, pid: int) -> redis.Redis:
    return _connect(url)


def _client(url: str) -> redis.Redis:
    """This process's client (a forked worker must not share its parent's socket)."""
    return _clients(url, os.getpid())


class Listener(threading.Thread):
    """Follows the channel and keeps the latest token; re-reads it every CONFIRM_SECONDS."""

    def __init__(self, url: str) -> None:
        super().__init__(name="shelf-state-listener", daemon=True)
        self.url = url
        self._lock = threading.Lock()
        self._token: str | None = None
        self._heard_at = 0.0
        self.heard_count = 0

    def token(self) -> str | None:
        """The token, if it was confirmed recently; None when the listener is not live."""
        with self._lock:
            if time.monotonic() - self._heard_at <= 2 * CONFIRM_SECONDS:
                return self._token
        return None

    def heard(self, token: str | None, *, unless_after: int | None = None) -> None:
        """Keep an announced `token` unless this one is newer. With unless_after (a token
        read from Redis, which is never older), only if nothing was heard since then."""
        with self._lock:
            if unless_after is not None:
                stale = unless_after != self.heard_count
            else:
                stale = None not in (token, self._token) and _count(token) < _count(self._token)
            if stale:
                return
            self._token = token
            self._heard_at = time.monotonic() if token is not None else 0.0
            self.heard_count += 1

    def run(self) -> None:
        while True:
            try:
                self._follow()
            except ERRORS:
                logger.warning("lost Redis: pages read the shelf state directly", exc_info=True)
            self.heard(None)
            time.sleep(RETRY_SECONDS)

    def _follow(self) -> None:
        # The pubsub connection is the listener's own; reads share the process's client.
        client = _client(self.url)
        with client.pubsub() as pubsub:
            pubsub.subscribe(CHANNEL)
            subscribed, confirmed_at = False, 0.0
            while True:
                message = pubsub.get_message(timeout=CONFIRM_SECONDS)
                if message and message["type"] == "message":
                    self.heard(message["data"].decode())
                elif message and message["type"] == "subscribe":
                    subscribed = True  # from now on, every change is announced to us
                if subscribed and time.monotonic() - confirmed_at >= CONFIRM_SECONDS:
                    # An announcement may have been lost, or the token expired and was reset.
                    count = self.heard_count
                    self.heard(_get_or_create(client), unless_after=count)
                    confirmed_at = time.monotonic()


def _count(token: str) -> int:
    return int(token.partition(":")[0])


_listeners: dict[tuple[str, int], Listener] = {}
_listeners_lock = threading.Lock()


def _listener(url: str) -> Listener:
    """This process's listener, started on first use (in a worker, after the fork)."""
    key = (url, os.getpid())
    listener = _listeners.get(key)
    if listener is None:
        with _listeners_lock:
            listener = _listeners.get(key)
            if listener is None:
                listener = _listeners[key] = Listener(url)
                listener.start()
    return listener
