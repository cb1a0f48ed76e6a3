"""Pages with REDIS_URL set: the Django cache and the shelf's state token in a real Redis.

TEST_REDIS_URL (default redis://127.0.0.1:6379/15) names a database these tests may
empty of cache entries; the shelf state's keys stay, as they would in production.
"""

from __future__ import annotations

import os

import pytest
import redis

from tests.redis import use_redis
from uploads import selectors, shelf_state

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture(scope="session")
def redis_client() -> redis.Redis:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=5)
    try:
        client.ping()
    except (redis.RedisError, OSError) as error:
        pytest.fail(f"the Redis tests need a Redis server at {REDIS_URL}: {error}")
    return client


@pytest.fixture(autouse=True)
def with_redis(settings, redis_client, monkeypatch):
    """REDIS_URL set, as on Heroku with Key-Value Store: a new shelf state, no cache entries."""
    use_redis(settings, REDIS_URL)
    cached = redis_client.keys(":1:*")  # Django's cache keys (no prefix, version 1)
    if cached:
        redis_client.delete(*cached)
    monkeypatch.setattr(shelf_state, "_retry_at", 0.0)
    shelf_state.publish()  # the test database is new: so is the shelf's state
    selectors._recent_shelf.clear()
    selectors._recent_html.clear()
    return redis_client
