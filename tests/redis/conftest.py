"""Redis for the tests: TEST_REDIS_URL (default redis://127.0.0.1:6379/15), a database
these tests may empty."""

from __future__ import annotations

import os

import pytest
import redis

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_client() -> redis.Redis:
    """A client of our own on an emptied database."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=5)
    try:
        client.flushdb()
    except (redis.RedisError, OSError) as error:
        pytest.fail(f"the Redis tests need a Redis server at {REDIS_URL}: {error}")
    return client
