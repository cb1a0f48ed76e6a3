"""Tests of the app with REDIS_URL set, against a local Redis server."""


def use_redis(settings, url: str) -> None:
    """Settings as production makes them from REDIS_URL=url: the Redis cache, prefixed."""
    settings.REDIS_URL = url
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "OPTIONS": settings.REDIS_OPTIONS,
            "KEY_PREFIX": settings.CACHE_KEY_PREFIX,
        },
    }
